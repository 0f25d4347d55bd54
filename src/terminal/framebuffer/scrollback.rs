//! Lines that scrolled off the top of the main screen, kept compactly.
//!
//! Nearly every line that scrolls away is plain text: printable ASCII from
//! the first column in one rendition. Kept as cells, such a line costs 56
//! bytes a character, and during bulk output copying those cells (and
//! recycling the memory of the line that fell out at the other end) was
//! most of the work of a line feed. Plain lines keep only their bytes, in
//! one ring shared by all of them; other lines keep their cells.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use super::Row;
use crate::terminal::cell::{Cell, Color, Renditions};

/// The scrollback: at most `limit` lines, oldest first. Cells right of the
/// ones a line holds are default blanks.
#[derive(Debug, Clone, Default)]
pub struct Scrollback {
    lines: VecDeque<Entry>,
    /// The characters of the plain lines, in order.
    text: VecDeque<u8>,
    /// Room to collect a row's characters in (empty between calls).
    scratch: Vec<u8>,
    /// Lines that ever scrolled off, kept or not: the absolute number of
    /// the line after the newest (history sync addresses lines by it).
    pushed: u64,
}

#[derive(Debug, Clone)]
enum Entry {
    /// `len` characters at the front of `text` (after those of the plain
    /// lines before it), one cell each, all in `rend`, no wide cells; only
    /// the last cell may carry the soft-wrap flag (`wrapped`: a long line
    /// went on in the next row).
    Plain {
        len: usize,
        rend: Renditions,
        wrapped: bool,
    },
    /// Any other line: its cells up to the last one written (the whole
    /// width if it was erased with a background colour). Scrollback rows
    /// have no identity: the generation is 0.
    Cells(Arc<Row>),
}

impl Scrollback {
    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when no line scrolled off yet.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// How many lines ever scrolled off (kept or not).
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// The absolute number of the oldest line still kept.
    pub fn first_kept(&self) -> u64 {
        self.pushed.saturating_sub(self.lines.len() as u64)
    }

    /// Each line's cells, oldest first (made on the spot for plain lines).
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, [Cell]>> {
        self.iter_from(0)
    }

    /// The kept lines whose absolute number is `from` or more, oldest first.
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = Cow<'_, [Cell]>> {
        let skip = usize::try_from(from.saturating_sub(self.first_kept())).unwrap_or(usize::MAX);
        let skip = skip.min(self.lines.len());
        // Plain lines before the first wanted one only advance the text offset.
        let mut at: usize = self
            .lines
            .range(..skip)
            .map(|e| match e {
                Entry::Plain { len, .. } => *len,
                Entry::Cells(_) => 0,
            })
            .sum();
        self.lines.range(skip..).map(move |e| match e {
            Entry::Plain { len, rend, wrapped } => {
                let mut cells: Vec<Cell> = self
                    .text
                    .range(at..at + len)
                    .map(|&b| Cell::from_char(char::from(b), *rend, false))
                    .collect();
                if let Some(last) = cells.last_mut() {
                    last.wrap = *wrapped;
                }
                at += len;
                Cow::Owned(cells)
            }
            Entry::Cells(row) => Cow::Borrowed(row.cells()),
        })
    }

    /// The number of cells of each kept line numbered `from` or more
    /// (without making the cells).
    pub fn lengths_from(&self, from: u64) -> impl Iterator<Item = usize> {
        let skip = usize::try_from(from.saturating_sub(self.first_kept())).unwrap_or(usize::MAX);
        self.lines.iter().skip(skip).map(|e| match e {
            Entry::Plain { len, .. } => *len,
            Entry::Cells(row) => row.cells().len(),
        })
    }

    /// Which lines are kept as plain text (tests only).
    #[cfg(test)]
    pub(crate) fn plain_lines(&self) -> Vec<bool> {
        let plain = |e: &Entry| matches!(e, Entry::Plain { .. });
        self.lines.iter().map(plain).collect()
    }

    /// Checks the invariant behind the cheap `Row::reset` (tests only).
    #[cfg(test)]
    pub(crate) fn clean_tails_are_blank(&self) -> bool {
        self.lines.iter().all(|e| match e {
            Entry::Plain { .. } => true,
            Entry::Cells(row) => row.clean_tail_is_blank(),
        })
    }

    /// Adds screen row `row`, keeping at most `limit` lines.
    pub(crate) fn push_row(&mut self, row: &Row, limit: usize) {
        let keep = if row.clean_bg == Color::default() {
            row.clean_from.min(row.cells.len())
        } else {
            row.cells.len()
        };
        let cells = row.cells.get(..keep).unwrap_or_default();
        let rend = cells.first().map(|c| c.renditions).unwrap_or_default();
        let wrapped = cells.last().is_some_and(|c| c.wrap);
        let last = keep.saturating_sub(1);
        // One pass both checks the cells and collects their characters.
        let mut bytes = std::mem::take(&mut self.scratch);
        let known = row.ascii_rend == Some(rend);
        let plain = row.clean_bg == Color::default()
            && if known {
                // Written as ASCII in one rendition: only the characters
                // need collecting.
                bytes.extend(cells.iter().filter_map(Cell::ascii));
                bytes.len() == cells.len()
            } else {
                cells.iter().enumerate().all(|(i, c)| match c.ascii() {
                    Some(b)
                        if !c.wide
                            && !c.fallback
                            && (!c.wrap || i == last)
                            && c.renditions == rend =>
                    {
                        bytes.push(b);
                        true
                    }
                    _ => false,
                })
            };
        if plain {
            self.text.extend(&bytes);
        }
        bytes.clear();
        self.scratch = bytes;
        if plain {
            let entry = Entry::Plain {
                len: keep,
                rend,
                wrapped,
            };
            self.push(entry, limit);
        } else {
            let copy = Row {
                cells: cells.to_vec(),
                generation: 0,
                clean_from: row.clean_from.min(keep),
                clean_bg: row.clean_bg,
                ascii_rend: None,
            };
            self.push(Entry::Cells(Arc::new(copy)), limit);
        }
    }

    /// Adds a plain line of `text` in `rend`, keeping at most `limit` lines.
    pub(crate) fn push_plain(&mut self, text: &[u8], rend: Renditions, limit: usize) {
        self.text.extend(text);
        let len = text.len();
        let wrapped = false;
        self.push(Entry::Plain { len, rend, wrapped }, limit);
    }

    /// Adds a line of cells, keeping at most `limit` lines.
    pub(crate) fn push_cells(&mut self, row: Row, limit: usize) {
        self.push(Entry::Cells(Arc::new(row)), limit);
    }

    /// Counts `n` lines that scrolled off without being kept (output that
    /// pushed them out again before they were stored).
    pub(crate) fn skip(&mut self, n: usize) {
        self.pushed = self.pushed.saturating_add(n as u64);
    }

    fn push(&mut self, entry: Entry, limit: usize) {
        self.pushed = self.pushed.saturating_add(1);
        self.lines.push_back(entry);
        while self.lines.len() > limit {
            if let Some(Entry::Plain { len, .. }) = self.lines.pop_front() {
                self.text.drain(..len.min(self.text.len()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Row, Scrollback};
    use crate::terminal::cell::{Cell, Color, Renditions};
    use crate::terminal::emulator::Emulator;

    proptest::proptest! {
        /// Whatever form a line is kept in, it gives back the row's cells up
        /// to its last written one (all of them after a coloured erase),
        /// wrap flag included; and the oldest lines go first.
        #[test]
        fn lines_come_back_as_the_cells_that_went_in(
            rows in proptest::collection::vec(
                (
                    proptest::collection::vec((0u8..6, proptest::bool::ANY), 0..8),
                    0usize..4,
                    proptest::bool::ANY,
                    proptest::bool::ANY,
                ),
                1..12,
            ),
            limit in 1usize..5,
        ) {
            let mut sb = Scrollback::default();
            let mut want = Vec::new();
            for (written, blank_tail, wrap, coloured) in rows {
                let bg = if coloured { Color::Indexed(4) } else { Color::Default };
                let red = Renditions { fg: Color::Indexed(1), ..Renditions::default() };
                let mut cells: Vec<Cell> = written
                    .iter()
                    .map(|&(kind, pen)| {
                        let rend = if pen { red } else { Renditions::default() };
                        match kind {
                            0 => Cell::blank(Color::Default),
                            1 => Cell::from_char('中', rend, true),
                            2 => Cell::with_text("e\u{301}", rend),
                            _ => Cell::from_char(char::from(b'a' + kind), rend, false),
                        }
                    })
                    .collect();
                let clean_from = cells.len();
                cells.extend(std::iter::repeat_n(Cell::blank(bg), blank_tail));
                let mut row = Row { cells, generation: 7, clean_from, clean_bg: bg, ascii_rend: None };
                if wrap {
                    row.set_wrap(true);
                }
                proptest::prop_assert!(row.clean_tail_is_blank());
                let keep = if bg == Color::Default { row.clean_from } else { row.cells.len() };
                want.push(row.cells[..keep].to_vec());
                sb.push_row(&row, limit);
            }
            let got: Vec<Vec<Cell>> = sb.iter().map(|c| c.into_owned()).collect();
            let start = want.len().saturating_sub(limit);
            proptest::prop_assert_eq!(got, want[start..].to_vec());
        }
    }

    /// Which lines are kept as bytes, for output fed line by line and all at once.
    #[test]
    fn plain_text_lines_are_kept_as_bytes() {
        let lines: [&[u8]; 7] = [
            b"plain text\r\n",
            b"a line of 25 characters..\r\n",
            b"\x1b[31mall red\x1b[m\r\n",
            b"gap\x1b[3Cafter\r\n",
            b"two \x1b[1mpens\x1b[m\r\n",
            "wide \u{4e2d}\r\n".as_bytes(),
            b"\r\n",
        ];
        // The 25 characters take two rows of 20, the first soft-wrapped.
        let want = [true, true, true, true, false, false, false, true, true];
        for all_at_once in [false, true] {
            let mut e = Emulator::new_extended(20, 3);
            if all_at_once {
                e.feed(&lines.concat());
            } else {
                lines.iter().for_each(|l| e.feed(l));
            }
            e.feed(b"\r\n\r\n\r\n");
            let sb = e.framebuffer().scrollback();
            assert_eq!(sb.plain_lines(), want, "all at once: {all_at_once}");
            let text: Vec<String> = sb
                .iter()
                .map(|cells| cells.iter().map(|c| c.contents().to_string()).collect())
                .collect();
            assert_eq!(text[0], "plain text");
            assert_eq!(text[1], "a line of 25 charact");
            assert_eq!(text[2], "ers..");
            assert_eq!(text[3], "all red");
            assert_eq!(text[5], "two pens");
            let wraps: Vec<bool> = sb
                .iter()
                .map(|cells| cells.last().is_some_and(|c| c.wrap))
                .collect();
            assert_eq!(wraps.iter().filter(|w| **w).count(), 1);
            assert!(wraps[1]);
        }
    }
}
