//! Many lines of plain text at the bottom of the screen, scrolled in one go.
//!
//! Bulk output (`seq`, `cat`, build logs) is mostly short lines of
//! printable ASCII ending in CR LF, arriving hundreds per pty read, and
//! nearly all of them scroll off before a frame is ever sent. Done one line
//! feed at a time, each such line is written into a screen row, the rows
//! rotate, the line is copied into the scrollback, and the row is erased
//! again. Here the whole stretch is laid out at once: lines that will have
//! scrolled off by its end are written straight into their scrollback
//! entries (or skipped when no scrollback keeps them), and only the lines
//! that end up on screen touch screen rows. The result — cells, cursor,
//! scrollback, row identities — is exactly that of the line-by-line path,
//! which a property test in the emulator checks.

use std::sync::Arc;

use super::scrollback::Scrollback;
use super::{Framebuffer, Row, recycle_blank};
use crate::terminal::cell::{Cell, Color, Renditions};

/// The longest prefix of `bytes` made only of printable ASCII, CR and LF,
/// ending in a line feed, in which no stretch of text reaches past the
/// last column when written from `col` on a `width`-column screen (so that
/// nothing wraps). Returns its length and its number of line feeds.
pub(crate) fn plain_lines(bytes: &[u8], mut col: usize, width: usize) -> (usize, usize) {
    let (mut end, mut line_feeds, mut i) = (0, 0, 0);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => {
                i += 1;
                end = i;
                line_feeds += 1;
            }
            b'\r' => {
                i += 1;
                col = 0;
            }
            0x20..=0x7e => {
                let run = bytes
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|b| (0x20..0x7f).contains(*b))
                    .count();
                if col + run > width {
                    break;
                }
                i += run;
                col = (col + run).min(width.saturating_sub(1));
            }
            _ => break,
        }
    }
    (end, line_feeds)
}

/// Calls `write(col, text)` for each stretch of text of one line (the
/// bytes between two line feeds), tracking the cursor column across
/// carriage returns as printing would.
fn replay(line: &[u8], col: &mut usize, width: usize, mut write: impl FnMut(usize, &[u8])) {
    for (i, text) in line.split(|&b| b == b'\r').enumerate() {
        if i > 0 {
            *col = 0;
        }
        if !text.is_empty() {
            write(*col, text);
            *col = (*col + text.len()).min(width.saturating_sub(1));
        }
    }
}

impl Framebuffer {
    /// Applies `bytes`, a prefix found by [`plain_lines`] (it starts and
    /// ends with a line feed and holds `line_feeds` of them), with the
    /// cursor on the bottom row of a scrolling region that is the whole
    /// screen and no pending wrap, insert mode or DEC graphics. Returns
    /// the cursor column afterwards.
    pub(crate) fn plain_line_feeds(&mut self, bytes: &[u8], line_feeds: usize) -> usize {
        let (height, width) = (self.height(), self.width());
        let bg = self.ds.background();
        let rend = self.ds.renditions;
        let mut col = self.ds.cursor_col().max(0) as usize;
        // The text after each line feed; the last (after the final line
        // feed) is empty. Line `j` (1-based) becomes the bottom row at the
        // j-th line feed, so the first `line_feeds` of the old rows followed
        // by these lines scroll off, and the last `height` stay.
        let mut lines = bytes.get(1..).unwrap_or_default().split(|&b| b == b'\n');
        let old_leaving = line_feeds.min(height);
        let new_leaving = line_feeds - old_leaving;

        if self.scrollback_limit > 0 && self.alternate.is_none() {
            let limit = self.scrollback_limit;
            let sb = Arc::make_mut(&mut self.scrollback);
            // Of all the lines entering the scrollback only the last
            // `limit` stay (and they push out every older one).
            let skip = line_feeds.saturating_sub(limit);
            sb.skip(skip);
            let mut text = Vec::new();
            for (i, row) in self.rows.iter().take(old_leaving).enumerate() {
                if i >= skip {
                    sb.push_row(row, limit);
                }
            }
            let new = NewLine { width, bg, rend };
            for (i, line) in lines.by_ref().take(new_leaving).enumerate() {
                if old_leaving + i >= skip {
                    new.enter(line, &mut col, &mut text, sb, limit);
                } else {
                    replay(line, &mut col, width, |_, _| {});
                }
            }
        } else {
            for line in lines.by_ref().take(new_leaving) {
                replay(line, &mut col, width, |_, _| {});
            }
        }

        // The rows that scrolled off come round to the bottom as the new
        // lines, as in `delete_lines`.
        self.rows.rotate_left(old_leaving);
        let first_new = height - old_leaving;
        for row in self.rows.iter_mut().skip(first_new) {
            recycle_blank(row, width, bg);
            let line = lines.next().unwrap_or_default();
            let row = Arc::make_mut(row);
            replay(line, &mut col, width, |c, text| {
                row.write_ascii(c, text, rend)
            });
        }
        col
    }
}

/// A line written into a fresh row: its geometry and pen.
struct NewLine {
    width: usize,
    bg: Color,
    rend: Renditions,
}

impl NewLine {
    /// Adds `line`, which scrolls off without ever being on screen, to the
    /// scrollback as `Scrollback::push_row` would add a blank row with the
    /// line written into it. `text` is scratch space.
    fn enter(
        &self,
        line: &[u8],
        col: &mut usize,
        text: &mut Vec<u8>,
        sb: &mut Scrollback,
        limit: usize,
    ) {
        let Self { width, bg, rend } = *self;
        let start = *col;
        if bg == Color::default() {
            // The usual line: text from the first column, then CR.
            let body = line.strip_suffix(b"\r").unwrap_or(line);
            if start == 0 && !body.contains(&b'\r') {
                sb.push_plain(body, rend, limit);
                *col = if body.len() < line.len() {
                    0
                } else {
                    body.len().min(width.saturating_sub(1))
                };
                return;
            }
            text.clear();
            let mut plain = true;
            replay(line, col, width, |c, run| {
                if c > text.len() {
                    // Blank cells before the text: not a plain line.
                    plain = false;
                    return;
                }
                // Overwrite what a carriage return went back over, append the rest.
                let (over, new) = run.split_at(run.len().min(text.len() - c));
                if let Some(dst) = text.get_mut(c..c + over.len()) {
                    dst.copy_from_slice(over);
                }
                text.extend_from_slice(new);
            });
            if plain {
                sb.push_plain(text, rend, limit);
                return;
            }
            *col = start;
        }
        let mut row = Row {
            cells: Vec::new(),
            generation: 0,
            clean_from: 0,
            clean_bg: bg,
            ascii_rend: None,
        };
        let blank = Cell::blank(bg);
        replay(line, col, width, |c, run| {
            if row.cells.len() < c + run.len() {
                row.cells.resize(c + run.len(), blank.clone());
            }
            row.write_ascii(c, run, rend);
        });
        if bg != Color::default() {
            // Erased with a colour, the whole width is kept (see `push_row`).
            row.cells.resize(width, blank);
        }
        sb.push_cells(row, limit);
    }
}
