//! The renderer (spec §10.7): composes the frame the user sees — newest
//! server screen, prediction overlay, notification bar, title prefix — and
//! writes only its difference from what the real terminal already shows.

use crate::terminal::display::{DisplayCaps, new_frame};
use crate::terminal::width::char_width;
use crate::terminal::{Cell, Color, Framebuffer, Renditions, Row};

use super::terminfo::TermCaps;

/// The display capabilities of the real terminal.
pub fn display_caps(caps: &TermCaps, has_title: bool) -> DisplayCaps {
    DisplayCaps {
        ech: caps.ech,
        bce: caps.bce,
        title: has_title,
        extended_sgr: false,
        main_screen: false,
    }
}

/// Prefixes the window title (and the icon name, when they are the same,
/// so they stay the same) as Mosh's title overlay does.
pub fn prefix_title(fb: &mut Framebuffer, prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    if fb.icon_name == fb.window_title {
        fb.icon_name.insert_str(0, prefix);
    }
    fb.window_title.insert_str(0, prefix);
}

fn bar_renditions(bold: bool) -> Renditions {
    Renditions {
        fg: Color::Indexed(7),
        bg: Color::Indexed(4),
        bold,
        ..Renditions::default()
    }
}

/// Draws the notification bar over row 0: white on blue, text in bold.
/// Hides the cursor if it sits on row 0.
pub fn draw_notification_bar(fb: &mut Framebuffer, text: &str) {
    let width = fb.width();
    if fb.cursor().0 == 0 {
        fb.ds.cursor_visible = false;
    }
    let blank = Cell::with_text(" ", bar_renditions(false));
    for col in 0..width {
        fb.set_cell(0, col, blank.clone());
    }
    if let Some(row) = fb.row_mut(0) {
        row.set_wrap(false);
    }
    let mut col = 0usize;
    // The cell combining characters attach to.
    let mut last: Option<usize> = None;
    for ch in text.chars() {
        if col >= width {
            break;
        }
        match char_width(ch) {
            w @ (1 | 2) => {
                let mut cell = Cell::with_text("", bar_renditions(true));
                cell.append(ch);
                cell.wide = w == 2;
                fb.set_cell(0, col, cell);
                last = Some(col);
                col += w as usize;
            }
            0 => {
                if let Some(c) = last.and_then(|at| fb.cell_mut(0, at))
                    && !c.is_full()
                {
                    c.append(ch);
                }
            }
            _ => {}
        }
    }
}

/// What the real terminal shows, and how to move it to a new frame.
pub struct Renderer {
    caps: DisplayCaps,
    shown: Framebuffer,
    repaint: bool,
}

impl Renderer {
    /// A renderer for a `cols`×`rows` terminal that has not been drawn on yet.
    pub fn new(cols: usize, rows: usize, caps: DisplayCaps) -> Renderer {
        Renderer {
            caps,
            shown: Framebuffer::new(cols, rows),
            repaint: false,
        }
    }

    /// The bytes of the initial full clear (Mosh draws its blank screen first).
    pub fn initial_clear(&self) -> Vec<u8> {
        new_frame(false, &self.shown, &self.shown, &self.caps)
    }

    /// The next frame is drawn from scratch (Ctrl-L, resume, local resize).
    pub fn request_repaint(&mut self) {
        self.repaint = true;
    }

    /// Whether a full redraw is pending.
    pub fn repaint_pending(&self) -> bool {
        self.repaint
    }

    /// What the real terminal shows now (as far as we know).
    pub fn shown(&self) -> &Framebuffer {
        &self.shown
    }

    /// Draws on the main screen, whose history receives the server's
    /// history: never scrolls it, never clears it from home (the next frame
    /// is drawn from scratch).
    pub fn set_main_screen(&mut self, on: bool) {
        self.caps.main_screen = on;
        self.repaint = true;
    }

    /// The real terminal's screen scrolled up by `rows` (history was written
    /// through it): its old rows moved up, blank rows came in below, the
    /// cursor is hidden on the bottom row's first column, the pen is reset.
    pub fn scrolled(&mut self, rows: usize) {
        let fb = &mut self.shown;
        let (w, h) = (fb.width(), fb.height());
        let old: Vec<Row> = fb.rows().iter().map(|r| (**r).clone()).collect();
        for y in 0..h {
            let row = old
                .get(y + rows)
                .cloned()
                .unwrap_or_else(|| Row::new(w, Color::Default));
            if let Some(r) = fb.row_mut(y) {
                *r = row;
            }
        }
        fb.set_cursor(h - 1, 0);
        fb.ds.renditions = Renditions::default();
        fb.ds.cursor_visible = false;
        fb.ds.next_print_will_wrap = false;
    }

    /// The bytes that turn the real terminal into `frame`; remembers it.
    /// Nothing when the frame is unchanged and no repaint is pending.
    pub fn draw(&mut self, frame: Framebuffer) -> Vec<u8> {
        let out = new_frame(!self.repaint, &self.shown, &frame, &self.caps);
        self.repaint = false;
        self.shown = frame;
        out
    }
}

/// Builds the frame to show: a copy of the server's screen, then the
/// prediction overlay, the notification bar and the title prefix.
pub fn compose(
    server: &Framebuffer,
    predict: impl FnOnce(&mut Framebuffer),
    bar: Option<&str>,
    title_prefix: &str,
) -> Framebuffer {
    let mut fb = server.clone();
    predict(&mut fb);
    if let Some(text) = bar {
        draw_notification_bar(&mut fb, text);
    }
    prefix_title(&mut fb, title_prefix);
    fb
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::Emulator;

    const CAPS: DisplayCaps = DisplayCaps {
        ech: true,
        bce: true,
        title: true,
        extended_sgr: false,
        main_screen: false,
    };

    fn screen(bytes: &[u8]) -> Framebuffer {
        let mut e = Emulator::new(20, 5);
        e.feed(bytes);
        e.framebuffer().clone()
    }

    /// Replays renderer output through an emulator that shows `before`.
    fn replay(before: &[u8], out: &[u8]) -> Framebuffer {
        let mut e = Emulator::new(20, 5);
        e.feed(before);
        e.feed(out);
        e.framebuffer().clone()
    }

    #[test]
    fn first_frame_is_a_full_clear() {
        let r = Renderer::new(20, 5, CAPS);
        let out = String::from_utf8_lossy(&r.initial_clear()).into_owned();
        assert!(out.contains("\x1b[H\x1b[2J"), "{out:?}");
    }

    #[test]
    fn small_change_is_small_and_exact() {
        let mut r = Renderer::new(20, 5, CAPS);
        let a = screen(b"hello\r\nworld");
        let _ = r.draw(a.clone());
        let b = screen(b"hello\r\nworlds");
        let out = r.draw(b.clone());
        assert!(!out.windows(4).any(|w| w == b"\x1b[2J"), "{out:?}");
        assert!(
            out.len() < 20,
            "{} bytes: {:?}",
            out.len(),
            String::from_utf8_lossy(&out)
        );
        let mut e = Emulator::new(20, 5);
        e.feed(&new_frame(false, &Framebuffer::new(20, 5), &a, &CAPS));
        e.feed(&out);
        assert_eq!(e.framebuffer().screen_text(), b.screen_text());
    }

    #[test]
    fn unchanged_frame_writes_nothing() {
        let mut r = Renderer::new(20, 5, CAPS);
        let a = screen(b"x");
        let _ = r.draw(a.clone());
        assert!(r.draw(a).is_empty());
    }

    #[test]
    fn repaint_request_redraws_everything() {
        let mut r = Renderer::new(20, 5, CAPS);
        let a = screen(b"abc");
        let _ = r.draw(a.clone());
        r.request_repaint();
        assert!(r.repaint_pending());
        let out = r.draw(a.clone());
        assert!(out.windows(4).any(|w| w == b"\x1b[2J"));
        assert!(!r.repaint_pending());
        assert_eq!(
            replay(b"garbage everywhere", &out).screen_text(),
            a.screen_text()
        );
    }

    #[test]
    fn size_change_redraws_everything() {
        let mut r = Renderer::new(20, 5, CAPS);
        let _ = r.draw(screen(b"abc"));
        let mut e = Emulator::new(30, 6);
        e.feed(b"abc");
        let out = r.draw(e.framebuffer().clone());
        assert!(out.windows(4).any(|w| w == b"\x1b[2J"));
    }

    #[test]
    fn notification_bar_is_bold_white_on_blue_over_row_zero() {
        let mut fb = screen(b"top line\r\nsecond");
        fb.set_cursor(0, 3);
        draw_notification_bar(&mut fb, "mosh: Last contact 11 seconds ago.");
        assert_eq!(fb.row_text(0), "mosh: Last contact 1");
        assert_eq!(fb.row_text(1), "second");
        assert!(!fb.cursor_visible());
        let c = fb.cell(0, 0).expect("cell");
        assert!(c.renditions.bold);
        assert_eq!(c.renditions.fg, Color::Indexed(7));
        assert_eq!(c.renditions.bg, Color::Indexed(4));
        // Past the text the bar is blank, not bold.
        let mut fb = screen(b"");
        fb.set_cursor(2, 0);
        draw_notification_bar(&mut fb, "mosh: x");
        let c = fb.cell(0, 10).expect("cell");
        assert!(!c.renditions.bold);
        assert_eq!(c.renditions.bg, Color::Indexed(4));
        assert!(fb.cursor_visible());
        // Drawn for real, the SGR is Mosh's (bold, 37, 44).
        let out = new_frame(true, &screen(b""), &fb, &CAPS);
        assert!(
            String::from_utf8_lossy(&out).contains("\x1b[0;1;37;44mmosh: x"),
            "{:?}",
            String::from_utf8_lossy(&out)
        );
    }

    #[test]
    fn notification_bar_handles_wide_combining_and_control_chars() {
        let mut fb = screen(b"");
        draw_notification_bar(&mut fb, "a\u{301}\u{7}界b");
        let c = fb.cell(0, 0).expect("cell");
        assert_eq!(c.contents(), "a\u{301}");
        let w = fb.cell(0, 1).expect("cell");
        assert!(w.wide);
        assert_eq!(fb.cell(0, 3).expect("cell").contents(), "b");
        // Text longer than the row is cut, never a panic.
        draw_notification_bar(&mut fb, &"界".repeat(50));
    }

    #[test]
    fn title_prefix_rules() {
        let mut fb = screen(b"\x1b]0;abc\x07");
        prefix_title(&mut fb, "[mosh] ");
        assert_eq!(fb.window_title, "[mosh] abc");
        assert_eq!(fb.icon_name, "[mosh] abc");
        let mut fb = screen(b"\x1b]1;icon\x07\x1b]2;title\x07");
        prefix_title(&mut fb, "[mosh] ");
        assert_eq!(fb.window_title, "[mosh] title");
        assert_eq!(fb.icon_name, "icon");
        let mut fb = screen(b"\x1b]0;abc\x07");
        prefix_title(&mut fb, "");
        assert_eq!(fb.window_title, "abc");
    }

    #[test]
    fn title_only_written_when_the_app_set_one_and_term_allows() {
        let mut r = Renderer::new(20, 5, CAPS);
        let blank = compose(&screen(b""), |_| {}, None, "[mosh] ");
        let out = r.draw(blank);
        assert!(!String::from_utf8_lossy(&out).contains("\x1b]"));
        let titled = compose(&screen(b"\x1b]0;abc\x07"), |_| {}, None, "[mosh] ");
        let out = r.draw(titled.clone());
        assert!(String::from_utf8_lossy(&out).contains("\x1b]0;[mosh] abc\x07"));
        let mut no_title = Renderer::new(
            20,
            5,
            DisplayCaps {
                title: false,
                ..CAPS
            },
        );
        let out = no_title.draw(titled);
        assert!(!String::from_utf8_lossy(&out).contains("\x1b]"));
    }

    #[test]
    fn compose_applies_prediction_before_the_bar() {
        let server = screen(b"abc");
        let fb = compose(
            &server,
            |fb| fb.set_cell(0, 5, Cell::with_text("P", Renditions::default())),
            Some("mosh: hi"),
            "",
        );
        // The bar covers the prediction on row 0.
        assert_eq!(fb.row_text(0), "mosh: hi");
        let fb = compose(
            &server,
            |fb| fb.set_cell(1, 0, Cell::with_text("P", Renditions::default())),
            Some("mosh: hi"),
            "",
        );
        assert_eq!(fb.row_text(1), "P");
    }

    #[test]
    fn caps_from_terminfo() {
        let t = TermCaps {
            colors: 8,
            bce: false,
            ech: true,
            smcup: None,
            rmcup: None,
        };
        let d = display_caps(&t, true);
        assert!(d.ech && !d.bce && d.title && !d.extended_sgr);
    }
}
