//! Writes the server's history into the real terminal's own history
//! (docs/scrollback.md), so the mouse wheel, Shift-PgUp and tmux's
//! `capture-pane -S -` show it.
//!
//! A terminal keeps a row in its history when the row scrolls off the top
//! of its main screen. So the lines are written over the top rows of the
//! screen, downward from the first, and then scrolled off by line feeds on
//! the bottom row: only rows just written with history ever leave the
//! screen, never the notification bar, a prediction or the drawn screen.
//! Afterwards the screen shows its old rows moved up (or nothing), and the
//! renderer redraws from there. Each line keeps the width it had: a line
//! wider than the terminal wraps; a soft-wrapped line is continued without
//! a line break only if it wrapped at the terminal's width (then the
//! terminal sees one long line, as a local program would have printed it).

use std::io::Write;

use crate::sync::history::Line;
use crate::terminal::width::char_width;

/// Bytes for the real terminal and what they did to its screen.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// The bytes (the cursor ends on the bottom row, first column, default
    /// rendition, hidden).
    pub bytes: Vec<u8>,
    /// Rows the screen scrolled up (at least the screen height means that
    /// nothing of the old screen is left).
    pub scrolled: usize,
}

/// Where the history written so far ends.
#[derive(Debug, Default)]
pub struct HistoryWriter {
    /// Absolute number of the next line to write.
    next: u64,
}

/// The text of the line that stands for `n` lines the server dropped.
pub fn marker_text(n: u64) -> Vec<u8> {
    let plural = if n == 1 { "" } else { "s" };
    format!("\x1b[0;7m[rmosh: {n} line{plural} of history dropped here]\x1b[0m").into_bytes()
}

/// One logical line as the terminal will see it: texts printed one after
/// the other without a line break.
struct Group {
    texts: Vec<Vec<u8>>,
}

impl HistoryWriter {
    /// A writer that has written nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The absolute number of the next line to write.
    pub fn next_line(&self) -> u64 {
        self.next
    }

    /// Writes the lines numbered from the next one on (a line numbered past
    /// it means the lines in between were dropped: one marker line says
    /// how many) into a terminal of `cols` × `rows`. None if there is
    /// nothing to write.
    pub fn write<'a>(
        &mut self,
        lines: impl Iterator<Item = (u64, &'a Line)>,
        cols: usize,
        rows: usize,
    ) -> Option<Written> {
        let (cols, rows) = (cols.max(1), rows.max(1));
        let mut groups: Vec<Group> = Vec::new();
        let mut joining = false;
        for (n, line) in lines {
            if n < self.next {
                continue;
            }
            if n > self.next {
                groups.push(Group {
                    texts: vec![marker_text(n - self.next)],
                });
                joining = false;
            }
            match groups.last_mut() {
                Some(g) if joining => g.texts.push(line.text.clone()),
                _ => groups.push(Group {
                    texts: vec![line.text.clone()],
                }),
            }
            joining = line.wrapped && line.columns == cols;
            self.next = n + 1;
        }
        if groups.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(groups.iter().map(|g| g.texts.len() * 16).sum());
        out.extend_from_slice(b"\x1b[?25l\x1b[r\x1b[0m");
        // Rows at the top of the screen that hold history not yet scrolled off.
        let mut held = 0usize;
        let mut scrolled = 0usize;
        for g in &groups {
            let need = rows_needed(&g.texts, cols);
            let fits = need.min(rows);
            if held + fits > rows {
                let k = held + fits - rows;
                scroll(&mut out, rows, k);
                held -= k;
                scrolled += k;
            }
            for r in held..held + fits {
                let _ = write!(out, "\x1b[{}H\x1b[K", r + 1);
            }
            let _ = write!(out, "\x1b[{}H", held + 1);
            for t in &g.texts {
                out.extend_from_slice(t);
            }
            out.extend_from_slice(b"\x1b[0m");
            if need > rows {
                // The line itself scrolled the screen while it was printed.
                scrolled += need - rows;
                held = rows;
            } else {
                held += need;
            }
        }
        scroll(&mut out, rows, held);
        scrolled += held;
        let _ = write!(out, "\x1b[{rows}H");
        Some(Written {
            bytes: out,
            scrolled,
        })
    }
}

/// Line feeds on the bottom row: the top `k` rows go into the history.
fn scroll(out: &mut Vec<u8>, rows: usize, k: usize) {
    if k == 0 {
        return;
    }
    let _ = write!(out, "\x1b[{rows}H");
    out.extend(std::iter::repeat_n(b'\n', k));
}

/// Rows a terminal `cols` wide takes to print `texts` one after another
/// (a wide character that does not fit in the last column wraps early).
fn rows_needed(texts: &[Vec<u8>], cols: usize) -> usize {
    let mut rows = 1;
    let mut col = 0;
    for t in texts {
        let Ok(s) = std::str::from_utf8(t) else {
            continue;
        };
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                // An SGR sequence (the only escape a received line holds).
                for f in chars.by_ref() {
                    if f == 'm' {
                        break;
                    }
                }
                continue;
            }
            let w = usize::try_from(char_width(c)).unwrap_or(0);
            if w == 0 {
                continue;
            }
            if col + w > cols {
                rows += 1;
                col = 0;
            }
            col += w;
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::Emulator;

    fn line(text: &str, wrapped: bool) -> Line {
        Line {
            text: text.as_bytes().to_vec(),
            columns: text.chars().map(|c| char_width(c).max(0) as usize).sum(),
            wrapped,
        }
    }

    /// Replays the bytes in an emulator that keeps a scrollback and shows
    /// `screen` first; returns the scrollback's text and the screen's.
    fn replay(screen: &[u8], out: &[u8], cols: usize, rows: usize) -> (Vec<String>, String) {
        let mut e = Emulator::new_extended(cols, rows);
        e.feed(screen);
        let before = e.framebuffer().scrollback().len();
        e.feed(out);
        let sb: Vec<String> = e
            .framebuffer()
            .scrollback()
            .iter()
            .skip(before)
            .map(|cells| cells.iter().map(|c| c.contents().to_string()).collect())
            .collect();
        (sb, e.framebuffer().screen_text())
    }

    #[test]
    fn lines_go_into_history_in_order_and_the_screen_moves_up() {
        let lines: Vec<Line> = (1..=3).map(|i| line(&format!("h{i}"), false)).collect();
        let mut w = HistoryWriter::new();
        let got = w
            .write((0..).zip(lines.iter()), 10, 4)
            .expect("something to write");
        assert_eq!(got.scrolled, 3);
        let (sb, screen) = replay(b"BAR\r\nr1\r\nr2\r\nr3", &got.bytes, 10, 4);
        assert_eq!(sb, ["h1", "h2", "h3"]);
        // The old bottom row moved up by 3; the bar never reached history.
        assert_eq!(screen, "r3\n\n\n");
        assert_eq!(w.next_line(), 3);
        // Written once: nothing more to write for the same lines.
        assert!(w.write((0..).zip(lines.iter()), 10, 4).is_none());
    }

    #[test]
    fn many_lines_long_lines_soft_wraps_and_a_gap() {
        let mut lines = vec![line("0123456789", true), line("abc", false)];
        lines.push(line("x".repeat(25).as_str(), false));
        lines.extend((0..9).map(|i| line(&format!("n{i}"), false)));
        let mut numbered: Vec<(u64, &Line)> = (0..).zip(lines.iter()).collect();
        // Line 3 onward arrive as 7.. : four lines dropped.
        for (n, _) in numbered.iter_mut().skip(3) {
            *n += 4;
        }
        let mut w = HistoryWriter::new();
        let got = w.write(numbered.into_iter(), 10, 4).expect("written");
        let (sb, screen) = replay(b"SCREEN", &got.bytes, 10, 4);
        let joined: String = sb.concat();
        assert!(
            joined.starts_with("0123456789abcxxxxxxxxxxxxxxxxxxxxxxxxx[rmosh: 4 lin"),
            "{sb:?}"
        );
        assert!(joined.ends_with("n0n1n2n3n4n5n6n7n8"), "{sb:?}");
        assert!(!joined.contains("SCREEN"));
        assert_eq!(screen, "\n\n\n");
        assert!(got.scrolled >= 4);
        assert_eq!(w.next_line(), 16);
    }

    #[test]
    fn a_soft_wrap_at_another_width_is_a_line_break() {
        let lines = [line("0123", true), line("45", false)];
        let mut w = HistoryWriter::new();
        let got = w.write((0..).zip(lines.iter()), 10, 4).expect("written");
        let (sb, _) = replay(b"", &got.bytes, 10, 4);
        assert_eq!(sb, ["0123", "45"]);
    }

    #[test]
    fn rows_follow_the_terminal_s_wrapping() {
        let t = |s: &str| vec![s.as_bytes().to_vec()];
        assert_eq!(rows_needed(&t(""), 4), 1);
        assert_eq!(rows_needed(&t("abcd"), 4), 1);
        assert_eq!(rows_needed(&t("abcde"), 4), 2);
        assert_eq!(rows_needed(&t("abc中"), 4), 2);
        assert_eq!(rows_needed(&t("\x1b[0;31mabcd\x1b[0m"), 4), 1);
    }
}
