//! History as synchronized state (docs/scrollback.md): the lines that
//! scrolled off the top of the server's main screen, addressed by absolute
//! line number.
//!
//! The server's object holds `through`, how many of those lines it has put
//! into the state; the lines themselves stay in its emulator's bounded
//! scrollback, and a diff carries the lines between the base's `through`
//! and its own. A client that lacks lines the scrollback no longer keeps
//! gets the oldest kept ones with a higher first number: the gap is
//! explicit, and loss, reordering and roaming need no special case because
//! the counter is acknowledged like any other state.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::terminal::Cell;
use crate::terminal::Renditions;
use crate::terminal::width::char_width;
use crate::transport::message::HistoryLine;

/// Lines the server keeps for a client that has not received them yet.
pub const DEFAULT_LINES: usize = 50_000;
/// Most lines a server may be told to keep.
pub const MAX_LINES: usize = 1_000_000;
/// Most lines a client keeps received but not yet written out.
pub const CLIENT_TAIL: usize = DEFAULT_LINES;
/// Longest line text accepted from a server (bytes).
const MAX_LINE_BYTES: usize = 64 * 1024;

/// The wire form of a scrollback line: its cells as printable UTF-8 with an
/// SGR sequence wherever the rendition changes.
pub fn encode_line(cells: &[Cell], wrapped: bool) -> HistoryLine {
    let mut text = Vec::with_capacity(cells.len() + 8);
    let mut pen = Renditions::default();
    let mut x = 0;
    while let Some(cell) = cells.get(x) {
        if cell.renditions != pen {
            pen = cell.renditions;
            pen.write_sgr(&mut text, true);
        }
        cell.write_grapheme(&mut text);
        x += cell.width();
    }
    HistoryLine {
        text: Some(text),
        wrapped: wrapped.then_some(true),
    }
}

/// A received line, safe to write to a real terminal as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Printable UTF-8 and SGR sequences only, starting from the default
    /// rendition.
    pub text: Vec<u8>,
    /// Columns the text covers.
    pub columns: usize,
    /// The line went on in the next one (soft wrap at `columns`).
    pub wrapped: bool,
}

impl Line {
    /// Reads a wire line, keeping only printable text and SGR sequences
    /// (anything else a hostile server sends is dropped: the bytes go to
    /// the user's real terminal).
    pub fn from_wire(l: &HistoryLine) -> Line {
        let raw = l.text.as_deref().unwrap_or_default();
        let raw = raw.get(..MAX_LINE_BYTES).unwrap_or(raw);
        let mut text = Vec::with_capacity(raw.len());
        let mut columns = 0;
        let mut rest = raw;
        while !rest.is_empty() {
            if rest.starts_with(b"\x1b[") {
                let params = rest
                    .get(2..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|b| b.is_ascii_digit() || **b == b';' || **b == b':')
                    .count();
                let end = 2 + params;
                if rest.get(end) == Some(&b'm') {
                    text.extend_from_slice(rest.get(..=end).unwrap_or_default());
                    rest = rest.get(end + 1..).unwrap_or_default();
                } else {
                    // Any other control sequence is dropped whole.
                    let fin = rest.get(end).is_some_and(|b| (0x40..=0x7e).contains(b));
                    rest = rest.get(end + usize::from(fin)..).unwrap_or_default();
                }
                continue;
            }
            let (ch, len) = match utf8_char(rest) {
                Some(c) => c,
                None => {
                    rest = rest.get(1..).unwrap_or_default();
                    continue;
                }
            };
            let w = char_width(ch);
            if w >= 0 && !ch.is_control() {
                text.extend_from_slice(rest.get(..len).unwrap_or_default());
                columns += w as usize;
            }
            rest = rest.get(len..).unwrap_or_default();
        }
        Line {
            text,
            columns,
            wrapped: l.wrapped.unwrap_or(false),
        }
    }
}

/// The first character of `b` and its length in bytes, if `b` starts with
/// valid UTF-8.
fn utf8_char(b: &[u8]) -> Option<(char, usize)> {
    let len = match b.first()? {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let s = std::str::from_utf8(b.get(..len)?).ok()?;
    Some((s.chars().next()?, len))
}

/// Consecutive received lines.
#[derive(Debug)]
struct Batch {
    first: u64,
    lines: Vec<Line>,
}

/// The history part of the terminal object.
///
/// On the server only `through` is used (the lines live in the emulator's
/// scrollback). On the client it also keeps the newest received lines, in
/// batches shared between the stored states (cloning a state copies a few
/// pointers), for the session to write out.
#[derive(Debug, Clone, Default)]
pub struct History {
    through: u64,
    batches: VecDeque<Arc<Batch>>,
    kept: usize,
}

impl PartialEq for History {
    /// Two states are the same history when they hold the same number of
    /// lines (the lines themselves never change once numbered).
    fn eq(&self, o: &Self) -> bool {
        self.through == o.through
    }
}

impl Eq for History {}

impl History {
    /// How many lines (by absolute number) this state holds.
    pub fn through(&self) -> u64 {
        self.through
    }

    /// Server side: the state holds lines up to `n` (never fewer than it did).
    pub fn set_through(&mut self, n: u64) {
        self.through = self.through.max(n);
    }

    /// Client side: adds received lines numbered from `first`; lines this
    /// state already holds are skipped, and a `first` past `through` leaves
    /// a gap (lines the server dropped).
    pub fn receive(&mut self, first: u64, lines: Vec<Line>) {
        let end = first.saturating_add(lines.len() as u64);
        if end <= self.through {
            return;
        }
        let skip = usize::try_from(self.through.saturating_sub(first)).unwrap_or(usize::MAX);
        let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
        let first = end - lines.len() as u64;
        self.through = end;
        self.kept += lines.len();
        self.batches.push_back(Arc::new(Batch { first, lines }));
        while self.kept > CLIENT_TAIL && self.batches.len() > 1 {
            if let Some(front) = self.batches.pop_front() {
                self.kept -= front.lines.len();
            }
        }
    }

    /// Client side: the kept lines numbered `from` or more, with their numbers.
    pub fn lines_from(&self, from: u64) -> impl Iterator<Item = (u64, &Line)> {
        self.batches
            .iter()
            .filter(move |b| b.first + b.lines.len() as u64 > from)
            .flat_map(|b| (b.first..).zip(b.lines.iter()))
            .filter(move |(n, _)| *n >= from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::{Color, Underline};

    fn cells(text: &str, r: Renditions) -> Vec<Cell> {
        text.chars()
            .map(|c| Cell::from_char(c, r, char_width(c) == 2))
            .flat_map(|c| {
                let wide = c.wide;
                std::iter::once(c).chain(wide.then(|| Cell::blank(Color::Default)))
            })
            .collect()
    }

    #[test]
    fn lines_keep_text_and_renditions_and_width() {
        let red = Renditions {
            fg: Color::Rgb(255, 0, 0),
            bold: true,
            underline: Underline::Single,
            ..Renditions::default()
        };
        let mut c = cells("ab", Renditions::default());
        c.extend(cells("中x", red));
        let wire = encode_line(&c, true);
        let line = Line::from_wire(&wire);
        assert_eq!(
            String::from_utf8_lossy(&line.text),
            "ab\x1b[0;1;4;38;2;255;0;0m中x"
        );
        assert_eq!(line.columns, 5);
        assert!(line.wrapped);
    }

    #[test]
    fn hostile_bytes_never_reach_the_terminal() {
        let wire = HistoryLine {
            text: Some(b"a\x1b]0;pwn\x07b\x1b[6n\x1b[31mc\x9b2Jd\xff\r\n\x08".to_vec()),
            wrapped: None,
        };
        let line = Line::from_wire(&wire);
        assert_eq!(String::from_utf8_lossy(&line.text), "a]0;pwnb\x1b[31mc2Jd");
        assert_eq!(line.columns, 12);
    }

    fn plain(n: u64) -> Line {
        Line {
            text: n.to_string().into_bytes(),
            columns: n.to_string().len(),
            wrapped: false,
        }
    }

    #[test]
    fn received_lines_are_numbered_deduplicated_and_bounded() {
        let mut h = History::default();
        h.receive(0, (0..3).map(plain).collect());
        h.receive(2, (2..5).map(plain).collect());
        let got: Vec<u64> = h.lines_from(1).map(|(n, _)| n).collect();
        assert_eq!(got, vec![1, 2, 3, 4]);
        assert_eq!(h.through(), 5);
        // A gap: lines 5..9 were dropped by the server.
        h.receive(9, vec![plain(9)]);
        let got: Vec<u64> = h.lines_from(4).map(|(n, _)| n).collect();
        assert_eq!(got, vec![4, 9]);
        for i in 0..3 {
            let first = 10 + i * CLIENT_TAIL as u64;
            h.receive(
                first,
                (first..first + CLIENT_TAIL as u64).map(plain).collect(),
            );
        }
        assert!(h.kept <= CLIENT_TAIL * 2);
        assert_eq!(h.lines_from(0).count(), h.kept);
        assert_eq!(h.through(), 10 + 3 * CLIENT_TAIL as u64);
    }
}
