//! Lines that scrolled off the top of the main screen, kept compactly.
//!
//! Nearly every line that scrolls away is plain text: printable ASCII from
//! the first column in one rendition. Kept as cells, such a line costs 56
//! bytes a character, and during bulk output copying those cells was most
//! of the work of a line feed; kept as its bytes it costs one. Other lines
//! keep their cells.

use std::borrow::Cow;
use std::sync::Arc;

use super::Row;
use crate::terminal::cell::{Cell, Color, Renditions};

/// One scrollback line. Cells right of the ones it holds are default blanks.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// Printable ASCII, one character a cell from the first column on, all
    /// in `rend`, no wide or wrapped cells.
    Plain {
        /// The characters.
        text: Vec<u8>,
        /// Their renditions.
        rend: Renditions,
    },
    /// Any other line: its cells up to the last one written (the whole
    /// width if it was erased with a background colour). Scrollback lines
    /// have no identity: the generation is 0.
    Cells(Row),
}

impl Line {
    /// The line's cells (made on the spot for a plain line).
    pub fn cells(&self) -> Cow<'_, [Cell]> {
        match self {
            Line::Plain { text, rend, .. } => Cow::Owned(
                text.iter()
                    .map(|&b| Cell::from_char(char::from(b), *rend, false))
                    .collect(),
            ),
            Line::Cells(row) => Cow::Borrowed(row.cells()),
        }
    }

    /// Checks the invariant behind the cheap `Row::reset` (tests only).
    #[cfg(test)]
    pub(crate) fn clean_tail_is_blank(&self) -> bool {
        match self {
            Line::Plain { .. } => true,
            Line::Cells(row) => row.clean_tail_is_blank(),
        }
    }

    /// The scrollback line for screen row `row`, made in `spare`'s memory
    /// when nobody else holds it.
    pub(crate) fn from_row(row: &Row, spare: Option<Arc<Line>>) -> Arc<Line> {
        let keep = if row.clean_bg == Color::default() {
            row.clean_from.min(row.cells.len())
        } else {
            row.cells.len()
        };
        let cells = row.cells.get(..keep).unwrap_or_default();
        let mut buffers = Buffers::take(spare);
        let rend = cells.first().map(|c| c.renditions).unwrap_or_default();
        let plain = cells
            .iter()
            .all(|c| c.renditions == rend && !c.wide && !c.fallback && !c.wrap)
            && row.clean_bg == Color::default();
        if plain {
            buffers.text.clear();
            for c in cells {
                match c.ascii() {
                    Some(b) => buffers.text.push(b),
                    None => break,
                }
            }
            if buffers.text.len() == cells.len() {
                return buffers.plain(rend);
            }
        }
        let mut copy = buffers.row(row.clean_bg);
        copy.cells.extend_from_slice(cells);
        copy.clean_from = row.clean_from.min(keep);
        buffers.cells(copy)
    }
}

/// The memory of a scrollback line that is leaving, for the next one.
pub(crate) struct Buffers {
    arc: Option<Arc<Line>>,
    /// A byte buffer, empty.
    pub(crate) text: Vec<u8>,
    cells: Vec<Cell>,
}

impl Buffers {
    /// Takes `spare` apart if nobody else holds it.
    pub(crate) fn take(spare: Option<Arc<Line>>) -> Buffers {
        let (mut text, mut cells) = (Vec::new(), Vec::new());
        let arc = spare.and_then(|mut arc| {
            match Arc::get_mut(&mut arc)? {
                Line::Plain { text: t, .. } => text = std::mem::take(t),
                Line::Cells(row) => cells = std::mem::take(&mut row.cells),
            }
            Some(arc)
        });
        text.clear();
        cells.clear();
        Buffers { arc, text, cells }
    }

    /// A blank row of no cells with a known-blank tail of `bg`, in the
    /// spare's cell memory.
    pub(crate) fn row(&mut self, bg: Color) -> Row {
        Row {
            cells: std::mem::take(&mut self.cells),
            generation: 0,
            clean_from: 0,
            clean_bg: bg,
        }
    }

    /// A plain line of `self.text`.
    pub(crate) fn plain(self, rend: Renditions) -> Arc<Line> {
        let Buffers { arc, text, .. } = self;
        finish(arc, Line::Plain { text, rend })
    }

    /// A line of cells.
    pub(crate) fn cells(self, row: Row) -> Arc<Line> {
        finish(self.arc, Line::Cells(row))
    }
}

/// `line` in `arc`'s allocation if there is one.
fn finish(arc: Option<Arc<Line>>, line: Line) -> Arc<Line> {
    match arc {
        Some(mut arc) => match Arc::get_mut(&mut arc) {
            Some(slot) => {
                *slot = line;
                arc
            }
            None => Arc::new(line),
        },
        None => Arc::new(line),
    }
}

#[cfg(test)]
mod tests {
    use super::Line;
    use crate::terminal::emulator::Emulator;

    /// Which lines are kept as bytes, for output fed line by line and all at once.
    #[test]
    fn plain_text_lines_are_kept_as_bytes() {
        let lines: [&[u8]; 6] = [
            b"plain text\r\n",
            b"\x1b[31mall red\x1b[m\r\n",
            b"gap\x1b[3Cafter\r\n",
            b"two \x1b[1mpens\x1b[m\r\n",
            "wide \u{4e2d}\r\n".as_bytes(),
            b"\r\n",
        ];
        let want = [
            "plain", "plain", "cells", "cells", "cells", "plain", "plain",
        ];
        for all_at_once in [false, true] {
            let mut e = Emulator::new_extended(20, 3);
            if all_at_once {
                e.feed(&lines.concat());
            } else {
                lines.iter().for_each(|l| e.feed(l));
            }
            e.feed(b"\r\n\r\n\r\n");
            let got: Vec<_> = e
                .framebuffer()
                .scrollback()
                .iter()
                .map(|l| match **l {
                    Line::Plain { .. } => "plain",
                    Line::Cells(_) => "cells",
                })
                .collect();
            assert_eq!(got, want, "all at once: {all_at_once}");
            let first = e.framebuffer().scrollback().front().map(|l| l.cells());
            let text: String = first
                .iter()
                .flat_map(|c| c.iter().map(|c| c.contents().to_string()))
                .collect();
            assert_eq!(text, "plain text");
        }
    }
}
