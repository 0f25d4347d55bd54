//! The display diff: escape bytes that turn one framebuffer into another
//! (spec §6.5). The server sends them as `hostbytes`; the client uses the same
//! routine, with the real terminal's capabilities, to draw its screen.
//!
//! Only sequences that Mosh 1.4.0's emulator interprets exactly like ours
//! are emitted: CR, LF, BS, BEL, CUP, ECH, EL, ED, DECSTBM, SGR (Mosh's
//! subset unless `extended_sgr`), DECSET/DECRST of modes 5, 25, 1000–1006,
//! 1015, 2004, and OSC 0/1/2/52. Never a query.

use std::io::Write;
use std::sync::Arc;

use super::cell::{Color, Renditions};
use super::framebuffer::{Framebuffer, Row};

/// What the terminal receiving the bytes can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisplayCaps {
    /// ECH (`CSI n X`) is available.
    pub ech: bool,
    /// Erase uses the current background colour (back-colour erase).
    pub bce: bool,
    /// Window titles may be set (OSC 0/1/2).
    pub title: bool,
    /// SGR may carry faint, strike-through, overline and underline styles.
    /// Never for a stock Mosh peer.
    pub extended_sgr: bool,
    /// Drawing on the main screen of a terminal whose own history gets
    /// rmosh's history (docs/scrollback.md): the screen is never scrolled
    /// and never erased from the home position, which some terminals
    /// (tmux's `scroll-on-clear`, VTE) copy into their history.
    pub main_screen: bool,
}

impl DisplayCaps {
    /// What the server assumes of a (stock) client's emulator: ECH, BCE and
    /// titles, Mosh's SGR subset only.
    pub const MOSH_WIRE: DisplayCaps = DisplayCaps {
        ech: true,
        bce: true,
        title: true,
        extended_sgr: false,
        main_screen: false,
    };
}

impl Default for DisplayCaps {
    fn default() -> Self {
        DisplayCaps::MOSH_WIRE
    }
}

/// Bytes the client writes to the real terminal on start-up: the optional
/// `smcup` then application cursor keys (`ESC [ ? 1 h`).
pub fn open_sequence(smcup: Option<&[u8]>) -> Vec<u8> {
    let mut v = smcup.unwrap_or_default().to_vec();
    v.extend_from_slice(b"\x1b[?1h");
    v
}

/// Bytes the client writes to the real terminal on exit: modes back to
/// normal, then the optional `rmcup`.
pub fn close_sequence(rmcup: Option<&[u8]>) -> Vec<u8> {
    let mut v = b"\x1b[?1l\x1b[0m\x1b[?25h\x1b[?1003l\x1b[?1002l\x1b[?1001l\x1b[?1000l\x1b[?1015l\x1b[?1006l\x1b[?1005l".to_vec();
    v.extend_from_slice(rmcup.unwrap_or_default());
    v
}

struct Frame {
    out: Vec<u8>,
    width: i32,
    cursor_x: i32,
    cursor_y: i32,
    current: Renditions,
    cursor_visible: bool,
    caps: DisplayCaps,
}

impl Frame {
    fn project(&self, r: &Renditions) -> Renditions {
        if self.caps.extended_sgr {
            *r
        } else {
            r.mosh_subset()
        }
    }

    fn update_rendition(&mut self, r: &Renditions, force: bool) {
        let r = self.project(r);
        if force || self.current != r {
            r.write_sgr(&mut self.out, self.caps.extended_sgr);
            self.current = r;
        }
    }

    fn append_move(&mut self, y: i32, x: i32) {
        let (last_x, last_y) = (self.cursor_x, self.cursor_y);
        self.cursor_x = x;
        self.cursor_y = y;
        if last_x != -1 && last_y != -1 {
            if x == 0 && y - last_y >= 0 && y - last_y < 5 {
                if last_x != 0 {
                    self.out.push(b'\r');
                }
                self.out
                    .extend(std::iter::repeat_n(b'\n', (y - last_y) as usize));
                return;
            }
            // After the last column the real cursor sits on it with a wrap
            // pending, one cell left of where we count: no backspacing
            // from there (Mosh does, and lands one column short).
            if y == last_y && x - last_x < 0 && x - last_x > -5 && last_x < self.width {
                self.out
                    .extend(std::iter::repeat_n(b'\x08', (last_x - x) as usize));
                return;
            }
        }
        let _ = write!(self.out, "\x1b[{};{}H", y + 1, x + 1);
    }

    fn append_silent_move(&mut self, y: i32, x: i32) {
        if self.cursor_x == x && self.cursor_y == y {
            return;
        }
        if self.cursor_visible {
            self.out.extend_from_slice(b"\x1b[?25l");
            self.cursor_visible = false;
        }
        self.append_move(y, x);
    }

    fn spaces(&mut self, n: usize) {
        self.out.extend(std::iter::repeat_n(b' ', n));
    }
}

fn default_renditions() -> Renditions {
    Renditions::default()
}

/// The bytes that turn a terminal showing `last` into one showing `f`.
/// With `initialized == false` the screen is cleared and fully redrawn (as
/// after a resize or on the client's first frame).
pub fn new_frame(
    initialized: bool,
    last: &Framebuffer,
    f: &Framebuffer,
    caps: &DisplayCaps,
) -> Vec<u8> {
    let mut initialized = initialized;
    let mut frame = Frame {
        out: Vec::with_capacity(256),
        width: f.ds.width(),
        cursor_x: 0,
        cursor_y: 0,
        current: Renditions::default(),
        cursor_visible: last.ds.cursor_visible,
        caps: *caps,
    };

    if f.bell_count != last.bell_count {
        frame.out.push(0x07);
    }

    if caps.title
        && f.title_initialized
        && (!initialized || f.icon_name != last.icon_name || f.window_title != last.window_title)
    {
        if f.icon_name == f.window_title {
            let _ = write!(frame.out, "\x1b]0;{}\x07", f.window_title);
        } else {
            let _ = write!(
                frame.out,
                "\x1b]1;{}\x07\x1b]2;{}\x07",
                f.icon_name, f.window_title
            );
        }
    }

    if f.clipboard != last.clipboard {
        let _ = write!(frame.out, "\x1b]52;c;{}\x07", f.clipboard);
    }

    if !initialized || f.ds.reverse_video != last.ds.reverse_video {
        frame.out.extend_from_slice(if f.ds.reverse_video {
            b"\x1b[?5h"
        } else {
            b"\x1b[?5l"
        });
    }

    let (width, height) = (f.ds.width(), f.ds.height());
    if !initialized || width != last.ds.width() || height != last.ds.height() {
        if caps.main_screen {
            frame.out.extend_from_slice(b"\x1b[r\x1b[0m\x1b[H\x1b[K");
            if height > 1 {
                frame.out.extend_from_slice(b"\x1b[2H\x1b[J\x1b[H");
            }
        } else {
            frame.out.extend_from_slice(b"\x1b[r\x1b[0m\x1b[H\x1b[2J");
        }
        initialized = false;
        frame.cursor_x = 0;
        frame.cursor_y = 0;
        frame.current = default_renditions();
    } else {
        frame.cursor_x = last.ds.cursor_col();
        frame.cursor_y = last.ds.cursor_row();
        frame.current = frame.project(&last.ds.renditions);
    }

    if !initialized {
        frame.cursor_visible = false;
        frame.out.extend_from_slice(b"\x1b[?25l");
    }

    let mut rows: Vec<Arc<Row>> = last.rows().to_vec();
    if last.ds.width() < width {
        let bg = f.ds.background();
        for r in &mut rows {
            let mut row = (**r).clone();
            row.resize(width as usize, bg);
            *r = Arc::new(row);
        }
    }
    let mut blank_row: Option<Arc<Row>> = None;
    if (rows.len() as i32) < height {
        let b = Arc::new(Row::new(width as usize, Color::Default));
        rows.resize(height as usize, b.clone());
        blank_row = Some(b);
    }

    let mut frame_y = 0;
    if initialized && !caps.main_screen {
        let new_rows = f.rows();
        let mut lines_scrolled = 0;
        let mut scroll_height = 0;
        if let Some(new0) = new_rows.first() {
            for row in 0..height as usize {
                let Some(old) = rows.get(row) else { break };
                if !(Arc::ptr_eq(new0, old) || **new0 == **old) {
                    continue;
                }
                if row == 0 {
                    break;
                }
                lines_scrolled = row;
                scroll_height = 1;
                let mut region_height = 1;
                while lines_scrolled + region_height < height as usize {
                    match (
                        new_rows.get(region_height),
                        rows.get(lines_scrolled + region_height),
                    ) {
                        (Some(a), Some(b)) if **a == **b => scroll_height = region_height + 1,
                        _ => break,
                    }
                    region_height += 1;
                }
                break;
            }
        }
        if scroll_height > 0 {
            frame_y = scroll_height;
            let blank = blank_row
                .get_or_insert_with(|| Arc::new(Row::new(width as usize, Color::Default)))
                .clone();
            frame.update_rendition(&default_renditions(), true);
            let top_margin = 0;
            let bottom_margin = top_margin + lines_scrolled + scroll_height - 1;
            if scroll_height + lines_scrolled == height as usize && frame.cursor_y + 1 == height {
                frame.out.push(b'\r');
                frame.out.extend(std::iter::repeat_n(b'\n', lines_scrolled));
                frame.cursor_x = 0;
            } else {
                let _ = write!(frame.out, "\x1b[{};{}r", top_margin + 1, bottom_margin + 1);
                frame.cursor_x = -1;
                frame.cursor_y = -1;
                frame.append_silent_move(bottom_margin as i32, 0);
                frame.out.extend(std::iter::repeat_n(b'\n', lines_scrolled));
                frame.out.extend_from_slice(b"\x1b[r");
                frame.cursor_x = -1;
                frame.cursor_y = -1;
            }
            for i in top_margin..=bottom_margin {
                let src = if i + lines_scrolled <= bottom_margin {
                    rows.get(i + lines_scrolled).cloned()
                } else {
                    None
                };
                if let Some(slot) = rows.get_mut(i) {
                    *slot = src.unwrap_or_else(|| blank.clone());
                }
            }
        }
    }

    let mut wrap = false;
    while frame_y < height as usize {
        let (Some(new_row), Some(old_row)) = (f.rows().get(frame_y), rows.get(frame_y)) else {
            break;
        };
        wrap = put_row(
            initialized,
            &mut frame,
            f,
            frame_y as i32,
            new_row,
            old_row,
            wrap,
        );
        frame_y += 1;
    }

    let (cy, cx) = (f.ds.cursor_row(), f.ds.cursor_col());
    if !initialized || cy != frame.cursor_y || cx != frame.cursor_x {
        frame.append_move(cy, cx);
    }

    if !initialized || f.ds.cursor_visible != frame.cursor_visible {
        frame.out.extend_from_slice(if f.ds.cursor_visible {
            b"\x1b[?25h"
        } else {
            b"\x1b[?25l"
        });
    }

    frame.update_rendition(&f.ds.renditions, !initialized);

    if !initialized || f.ds.bracketed_paste != last.ds.bracketed_paste {
        frame.out.extend_from_slice(if f.ds.bracketed_paste {
            b"\x1b[?2004h"
        } else {
            b"\x1b[?2004l"
        });
    }

    if !initialized || f.ds.mouse_reporting_mode != last.ds.mouse_reporting_mode {
        if f.ds.mouse_reporting_mode == 0 {
            frame
                .out
                .extend_from_slice(b"\x1b[?1003l\x1b[?1002l\x1b[?1001l\x1b[?1000l");
        } else {
            if last.ds.mouse_reporting_mode != 0 {
                let _ = write!(frame.out, "\x1b[?{}l", last.ds.mouse_reporting_mode);
            }
            let _ = write!(frame.out, "\x1b[?{}h", f.ds.mouse_reporting_mode);
        }
    }

    if !initialized || f.ds.mouse_focus_event != last.ds.mouse_focus_event {
        frame.out.extend_from_slice(if f.ds.mouse_focus_event {
            b"\x1b[?1004h"
        } else {
            b"\x1b[?1004l"
        });
    }

    if !initialized || f.ds.mouse_encoding_mode != last.ds.mouse_encoding_mode {
        if f.ds.mouse_encoding_mode == 0 {
            frame
                .out
                .extend_from_slice(b"\x1b[?1015l\x1b[?1006l\x1b[?1005l");
        } else {
            if last.ds.mouse_encoding_mode != 0 {
                let _ = write!(frame.out, "\x1b[?{}l", last.ds.mouse_encoding_mode);
            }
            let _ = write!(frame.out, "\x1b[?{}h", f.ds.mouse_encoding_mode);
        }
    }

    frame.out
}

/// Draws one row; returns true when the next row's first cell must be
/// printed without positioning (to reproduce a soft wrap).
fn put_row(
    initialized: bool,
    frame: &mut Frame,
    f: &Framebuffer,
    frame_y: i32,
    row: &Arc<Row>,
    old_row: &Arc<Row>,
    wrap: bool,
) -> bool {
    let mut frame_x: i32 = 0;
    let cells = row.cells();
    let old_cells = old_row.cells();

    if wrap && let Some(cell) = cells.first() {
        frame.update_rendition(&cell.renditions, false);
        cell.write_grapheme(&mut frame.out);
        frame_x += cell.width() as i32;
        frame.cursor_x += cell.width() as i32;
    }

    if initialized && Arc::ptr_eq(row, old_row) {
        return false;
    }

    let wrap_this = row.wrap();
    let row_width = f.ds.width();
    let mut clear_count: i32 = 0;
    let mut wrote_last_cell = false;
    let mut blank_renditions = default_renditions();

    while frame_x < row_width {
        let Some(cell) = cells.get(frame_x as usize) else {
            break;
        };
        // A wide character is unchanged only if the cell under its right
        // half is too: reprinting it is the only way to reset that cell.
        if initialized
            && clear_count == 0
            && old_cells.get(frame_x as usize) == Some(cell)
            && (!cell.wide
                || old_cells.get(frame_x as usize + 1) == cells.get(frame_x as usize + 1))
        {
            frame_x += cell.width() as i32;
            continue;
        }

        if cell.is_empty() {
            if clear_count == 0 {
                blank_renditions = cell.renditions;
            }
            if cell.renditions == blank_renditions {
                clear_count += 1;
                frame_x += 1;
                continue;
            }
        }

        if clear_count > 0 {
            frame.append_silent_move(frame_y, frame_x - clear_count);
            frame.update_rendition(&blank_renditions, false);
            let can_use_erase = frame.caps.bce || frame.current == default_renditions();
            if can_use_erase && frame.caps.ech && clear_count > 4 {
                let _ = write!(frame.out, "\x1b[{clear_count}X");
            } else {
                frame.spaces(clear_count as usize);
                frame.cursor_x = frame_x;
            }
            clear_count = 0;
            if cell.is_empty() {
                blank_renditions = cell.renditions;
                clear_count = 1;
                frame_x += 1;
                continue;
            }
        }

        let cell_width = cell.width() as i32;
        if wrap_this && frame_x + cell_width >= row_width {
            frame.cursor_x = -1;
            frame.cursor_y = -1;
        }
        frame.append_silent_move(frame_y, frame_x);
        frame.update_rendition(&cell.renditions, false);
        cell.write_grapheme(&mut frame.out);
        frame_x += cell_width;
        frame.cursor_x += cell_width;
        if frame_x >= row_width {
            wrote_last_cell = true;
        }
    }

    if clear_count > 0 {
        frame.append_silent_move(frame_y, frame_x - clear_count);
        frame.update_rendition(&blank_renditions, false);
        let can_use_erase = frame.caps.bce || frame.current == default_renditions();
        if can_use_erase && !wrap_this {
            frame.out.extend_from_slice(b"\x1b[K");
        } else {
            frame.spaces(clear_count as usize);
            frame.cursor_x = frame_x;
            wrote_last_cell = true;
        }
    }

    if !(wrote_last_cell && frame_y < f.ds.height() - 1) {
        return false;
    }
    if wrap_this {
        frame.cursor_x = 0;
        frame.cursor_y += 1;
        return true;
    }
    frame.out.extend_from_slice(b"\r\n");
    frame.cursor_x = 0;
    frame.cursor_y += 1;
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::Emulator;

    fn diff(old: &Emulator, new: &Emulator) -> Vec<u8> {
        new_frame(
            true,
            old.framebuffer(),
            new.framebuffer(),
            &DisplayCaps::MOSH_WIRE,
        )
    }

    #[test]
    fn fresh_resized_screen_matches_observed_mosh_bytes() {
        let old = Emulator::new(80, 24);
        let new = Emulator::new(20, 3);
        let got = diff(&old, &new);
        let want = b"\x1b[r\x1b[0m\x1b[H\x1b[2J\x1b[?25l\x1b[K\n\x1b[K\n\x1b[K\x1b[1;1H\x1b[?25h\x1b[0m\x1b[?2004l\x1b[?1003l\x1b[?1002l\x1b[?1001l\x1b[?1000l\x1b[?1004l\x1b[?1015l\x1b[?1006l\x1b[?1005l";
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
    }

    #[test]
    fn title_and_red_text_matches_observed_mosh_bytes() {
        let mut old = Emulator::new(80, 24);
        old.feed(b"$ ");
        let mut new = old.clone();
        new.feed(b"\x1b]0;mytitle\x07\r\n\x1b[1;31mred\x1b[0m plain\r\n");
        let got = diff(&old, &new);
        assert_eq!(
            String::from_utf8_lossy(&got),
            "\x1b]0;mytitle\x07\x1b[?25l\r\n\x1b[0;1;31mred\x1b[0m plain\r\n\x1b[?25h"
        );
    }

    #[test]
    fn one_changed_cell_is_a_small_diff() {
        let mut old = Emulator::new(80, 24);
        old.feed(b"hello world\r\nsecond line");
        let mut new = old.clone();
        new.feed(b"\x1b[1;7HW");
        let d = diff(&old, &new);
        assert!(d.len() < 24, "{:?}", String::from_utf8_lossy(&d));
        let mut client = old.clone();
        client.feed(&d);
        assert_eq!(
            client.framebuffer().screen_text(),
            new.framebuffer().screen_text()
        );
    }

    #[test]
    fn scrolling_uses_the_shortcut() {
        let mut old = Emulator::new(10, 4);
        old.feed(b"a\r\nb\r\nc\r\nd");
        let mut new = old.clone();
        new.feed(b"\r\ne");
        let d = diff(&old, &new);
        assert_eq!(String::from_utf8_lossy(&d), "\x1b[0m\r\ne");
    }
}
