//! The terminal emulator: parser actions applied to a framebuffer.
//!
//! [`Emulator::new`] is Mosh 1.4.0 exactly (what a client must run to replay
//! a stock server's diffs). [`Emulator::new_server`] is the server's
//! emulator: everything Mosh does, plus the alternate screen, DEC special
//! graphics, faint/strike/overline and underline styles and colour, colon
//! SGR forms, `CSI s`/`CSI u`, DECSCUSR, REP, every OSC 52 selector, the
//! application keypad, DECRQM replies and a bounded scrollback. Each extra
//! is a named capability of its [`Dialect`].

use super::cell::{Cell, Color, Renditions, Underline};
use super::framebuffer::{Framebuffer, plain_lines};
use super::parser::{Params, Parser, Perform};
use super::width::char_width;

pub use super::dialect::{DEFAULT_SCROLLBACK, Dialect};

/// A terminal emulator: feed it application output, read its screen.
#[derive(Clone)]
pub struct Emulator {
    parser: Parser,
    term: Term,
}

#[derive(Debug, Clone)]
struct Term {
    fb: Framebuffer,
    replies: Vec<u8>,
    dialect: Dialect,
    last_graphic: Option<char>,
    values: Vec<i32>,
    /// A wide character was ever printed: until then no cell can be the
    /// right half of one, and printing skips that check (the hot path).
    wide_printed: bool,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Emulator({:?}) {:?}", self.term.dialect, self.term.fb)
    }
}

impl Emulator {
    /// A Mosh-1.4.0-exact emulator (client side).
    pub fn new(cols: usize, rows: usize) -> Self {
        Emulator {
            parser: Parser::new(),
            term: Term {
                fb: Framebuffer::new(cols, rows),
                replies: Vec::new(),
                dialect: Dialect::MOSH_1_4,
                last_graphic: None,
                values: Vec::new(),
                wide_printed: false,
            },
        }
    }

    /// The server's emulator: Mosh's semantics plus the extensions above.
    pub fn new_server(cols: usize, rows: usize) -> Self {
        Emulator::with_dialect(cols, rows, Dialect::SERVER)
    }

    /// An emulator that speaks `dialect`.
    pub fn with_dialect(cols: usize, rows: usize, dialect: Dialect) -> Self {
        let mut e = Emulator::new(cols, rows);
        e.set_dialect(dialect);
        e
    }

    /// Switches to `dialect` from here on (a client does when the server
    /// announced the extended diff); the screen is kept.
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.term.dialect = dialect;
        self.parser.colon_params = dialect.colon_sgr;
        self.term.fb.scrollback_limit = dialect.scrollback;
        self.term.fb.keep_wrap_at_end = dialect.wrap_flag_at_end;
    }

    /// What this emulator understands.
    pub fn dialect(&self) -> Dialect {
        self.term.dialect
    }

    /// Interprets application output.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.parser.advance(&mut self.term, bytes);
    }

    /// Answers to queries (DA, DSR, DECRQM) destined for the application.
    pub fn take_replies(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.term.replies)
    }

    /// True when replies are waiting.
    pub fn has_replies(&self) -> bool {
        !self.term.replies.is_empty()
    }

    /// Changes the screen size.
    pub fn resize(&mut self, cols: usize, rows: usize) {
        self.term.fb.resize(cols, rows);
        if self.term.dialect.whole_wide_chars {
            self.term.fb.clear_wide_in_last_column();
        }
    }

    /// The screen.
    pub fn framebuffer(&self) -> &Framebuffer {
        &self.term.fb
    }

    /// The screen, for writing (e.g. to reset it).
    pub fn framebuffer_mut(&mut self) -> &mut Framebuffer {
        &mut self.term.fb
    }

    /// DECCKM, which the server's key translation needs.
    pub fn application_cursor_keys(&self) -> bool {
        self.term.fb.ds.application_mode_cursor_keys
    }
}

/// `getparam`: the N-th value, or `default` when missing or < 1.
fn param(values: &[i32], n: usize, default: i32) -> i32 {
    match values.get(n) {
        Some(&v) if v >= 1 => v,
        _ => default,
    }
}

/// DEC special graphics (`ESC ( 0`) for 0x5F–0x7E, as Unicode.
fn dec_graphic(c: char) -> char {
    const MAP: [char; 32] = [
        '\u{A0}', '◆', '▒', '␉', '␌', '␍', '␊', '°', '±', '␤', '␋', '┘', '┐', '┌', '└', '┼', '⎺',
        '⎻', '─', '⎼', '⎽', '├', '┤', '┴', '┬', '│', '≤', '≥', 'π', '≠', '£', '·',
    ];
    match (c as u32).checked_sub(0x5F) {
        Some(i) if i < 32 => MAP[i as usize],
        _ => c,
    }
}

/// Mosh's `make_true_color` stored in a 25-bit field, split into channels.
fn true_color(r: i32, g: i32, b: i32) -> Color {
    let (r, g, b) = (r.max(0) as u32, g.max(0) as u32, b.max(0) as u32);
    let v = (0x100_0000u32 | (r << 16) | (g << 8) | b) & 0x1FF_FFFF;
    Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

impl Term {
    fn ds(&mut self) -> &mut super::framebuffer::DrawState {
        &mut self.fb.ds
    }

    fn print_char(&mut self, mut ch: char) {
        if self.dialect.dec_graphics {
            let g = usize::from(self.fb.ds.shift_out);
            if self.fb.ds.charsets.get(g) == Some(&true) {
                ch = dec_graphic(ch);
            }
        }
        let w = char_width(ch);
        match w {
            1 | 2 => {
                let wi = i32::from(w);
                let fb = &mut self.fb;
                if fb.ds.auto_wrap_mode && fb.ds.next_print_will_wrap {
                    if let Some(r) = fb.cursor_row_mut() {
                        r.set_wrap(true);
                    }
                    fb.ds.move_col(0, false, false);
                    fb.move_rows_autoscroll(1);
                } else if fb.ds.auto_wrap_mode && w == 2 && fb.ds.cursor_col() == fb.ds.width() - 1
                {
                    let (r, c) = fb.cursor();
                    // Mosh erases the last column and the row's wrap flag;
                    // with whole wide characters the right half of a wide
                    // character alone (a diff could not change it).
                    if !(self.dialect.whole_wide_chars
                        && c > 0
                        && fb.cell(r, c - 1).is_some_and(|x| x.wide))
                    {
                        fb.reset_cell(r, c);
                        if let Some(row) = fb.cursor_row_mut() {
                            row.set_wrap(false);
                        }
                    }
                    fb.ds.move_col(0, false, false);
                    fb.move_rows_autoscroll(1);
                }
                let (row, col) = fb.cursor();
                if self.dialect.whole_wide_chars {
                    // Keep wide characters whole, so that a peer's emulator
                    // draws exactly this screen: no wide character hanging
                    // off the last column, none cut in half.
                    if w == 2 && !fb.ds.auto_wrap_mode && col as i32 == fb.ds.width() - 1 {
                        return;
                    }
                    if self.wide_printed && col > 0 && fb.cell(row, col - 1).is_some_and(|c| c.wide)
                    {
                        fb.reset_cell(row, col - 1);
                    }
                }
                if fb.ds.insert_mode {
                    for _ in 0..w {
                        fb.insert_cell(row, col);
                    }
                    if self.dialect.whole_wide_chars {
                        fb.clear_wide_in_last_column();
                    }
                }
                let rend = fb.ds.renditions;
                if let Some(cell) = fb.cell_mut(row, col) {
                    *cell = Cell::from_char(ch, rend, w == 2);
                }
                if w == 2 {
                    self.wide_printed = true;
                    if (col as i32) + 1 < fb.ds.width() {
                        fb.reset_cell(row, col + 1);
                    }
                }
                fb.ds.move_col(wi, true, true);
                self.last_graphic = Some(ch);
            }
            0 => {
                let fb = &mut self.fb;
                let (r, c) = fb.ds.combining_cell();
                if r < 0 || c < 0 || c >= fb.ds.width() || r >= fb.ds.height() {
                    return;
                }
                let (r, mut c) = (r as usize, c as usize);
                if self.dialect.whole_wide_chars
                    && c > 0
                    && fb.cell(r, c).is_some_and(|x| x.is_empty())
                    && fb.cell(r, c - 1).is_some_and(|x| x.wide)
                {
                    // The right half of a wide character: the mark belongs
                    // to the character (Mosh would start a hidden cell).
                    c -= 1;
                }
                let empty = fb.cell(r, c).is_some_and(|x| x.is_empty());
                if empty {
                    if let Some(cell) = fb.cell_mut(r, c) {
                        cell.fallback = true;
                    }
                    fb.ds.move_col(1, true, true);
                }
                if let Some(cell) = fb.cell_mut(r, c)
                    && !cell.is_full()
                {
                    cell.append(ch);
                }
            }
            _ => {}
        }
    }

    /// `print_char` for each byte of a run of printable ASCII, with the
    /// same result, but a stretch of the run that fits on the cursor's row
    /// is written in one go (one copy-on-write check, no per-character
    /// width lookup or cursor bookkeeping). Whatever the plain case does
    /// not cover — a pending wrap, insert mode, DEC graphics, a cursor
    /// outside the origin-mode margins, the right half of a wide character
    /// under the cursor — goes through `print_char`, one character at a time.
    fn print_ascii_run(&mut self, run: &[u8]) {
        let mut rest = run;
        while let Some((&first, tail)) = rest.split_first() {
            let fb = &mut self.fb;
            let ds = &fb.ds;
            let (row, col) = fb.cursor();
            let graphics = self.dialect.dec_graphics
                && ds.charsets.get(usize::from(ds.shift_out)) == Some(&true);
            let split_wide = self.dialect.whole_wide_chars
                && col > 0
                && fb.cell(row, col - 1).is_some_and(|c| c.wide);
            if ds.next_print_will_wrap
                || ds.insert_mode
                || graphics
                || split_wide
                || !ds.cursor_within_limits()
            {
                self.print_char(char::from(first));
                rest = tail;
                continue;
            }
            let n = rest.len().min(fb.width().saturating_sub(col)).max(1);
            let (now, later) = rest.split_at(n.min(rest.len()));
            let rend = fb.ds.renditions;
            if let Some(r) = fb.row_mut(row) {
                r.write_ascii(col, now, rend);
            }
            fb.ds.advance_after_print(now.len() as i32);
            self.last_graphic = now.last().map(|&b| char::from(b));
            rest = later;
        }
    }

    fn tab(&mut self, count: i32) {
        let ds = self.ds();
        let mut col = ds.next_tab(count);
        if col == -1 {
            col = ds.width() - 1;
        }
        let saved = ds.next_print_will_wrap;
        ds.move_col(col, false, false);
        ds.next_print_will_wrap = saved;
    }

    fn control(&mut self, c: u32) {
        // Every control but HT (known or not) clears the pending wrap.
        if c != 0x09 {
            self.fb.ds.next_print_will_wrap = false;
        }
        match c {
            0x07 => self.fb.bell_count = self.fb.bell_count.wrapping_add(1),
            0x08 => self.fb.ds.move_col(-1, true, false),
            0x09 => self.tab(1),
            0x0A | 0x0B | 0x0C | 0x84 => self.fb.move_rows_autoscroll(1),
            0x0D => self.fb.ds.move_col(0, false, false),
            0x85 => {
                self.fb.ds.move_col(0, false, false);
                self.fb.move_rows_autoscroll(1);
            }
            0x88 => self.fb.ds.set_tab(),
            0x8D => self.fb.move_rows_autoscroll(-1),
            0x0E if self.dialect.dec_graphics => self.fb.ds.shift_out = true,
            0x0F if self.dialect.dec_graphics => self.fb.ds.shift_out = false,
            _ => {}
        }
    }

    /// Extended emulator: before editing at `col`, erase a wide character
    /// whose right half is there, so no cell hides under a wide character.
    fn split_wide(&mut self, row: usize, col: usize) {
        if self.dialect.whole_wide_chars
            && col > 0
            && self.fb.cell(row, col - 1).is_some_and(|c| c.wide)
        {
            self.fb.reset_cell(row, col - 1);
        }
    }

    fn clear_line(&mut self, row: usize, start: i32, end: i32) {
        if start > 0 {
            self.split_wide(row, start as usize);
        }
        for col in start.max(0)..=end {
            self.fb.reset_cell(row, col as usize);
        }
    }

    fn csi(&mut self, params: &Params, inter: &[u8], fin: char) {
        let mut values = std::mem::take(&mut self.values);
        params.values(&mut values);
        let v = &values[..];
        let d = self.dialect;
        let key_final = if (fin as u32) <= 255 && inter.len() < 8 {
            Some(fin)
        } else {
            None
        };
        // Functions that keep the pending-wrap state.
        let keeps_wrap = inter.is_empty() && matches!(key_final, Some('I' | 'Z' | 'g' | 'm'))
            || (inter == b"?" && matches!(key_final, Some('h' | 'l')));
        if !keeps_wrap {
            self.fb.ds.next_print_will_wrap = false;
        }
        let Some(fin) = key_final else {
            self.values = values;
            return;
        };
        let (row, col) = self.fb.cursor();
        let width = self.fb.ds.width();
        let height = self.fb.ds.height();
        match (inter, fin) {
            (b"", 'K') => match param(v, 0, 0) {
                0 => self.clear_line(row, col as i32, width - 1),
                1 => self.clear_line(row, 0, col as i32),
                2 => self.fb.reset_row(row),
                _ => {}
            },
            (b"", 'J') => match param(v, 0, 0) {
                0 => {
                    self.clear_line(row, col as i32, width - 1);
                    for y in row + 1..height as usize {
                        self.fb.reset_row(y);
                    }
                }
                1 => {
                    for y in 0..row {
                        self.fb.reset_row(y);
                    }
                    self.clear_line(row, 0, col as i32);
                }
                2 => {
                    for y in 0..height as usize {
                        self.fb.reset_row(y);
                    }
                }
                _ => {}
            },
            (b"", 'A') => self.fb.ds.move_row(-param(v, 0, 1), true),
            (b"", 'B') => self.fb.ds.move_row(param(v, 0, 1), true),
            (b"", 'C') => self.fb.ds.move_col(param(v, 0, 1), true, false),
            (b"", 'D') => self.fb.ds.move_col(-param(v, 0, 1), true, false),
            (b"", 'H' | 'f') => {
                self.fb.ds.move_row(param(v, 0, 1) - 1, false);
                self.fb.ds.move_col(param(v, 1, 1) - 1, false, false);
            }
            (b"", 'c') => self.replies.extend_from_slice(b"\x1b[?62c"),
            (b">", 'c') => self.replies.extend_from_slice(b"\x1b[>1;10;0c"),
            (b"", 'I') => self.tab(param(v, 0, 1)),
            (b"", 'Z') => self.tab(-param(v, 0, 1)),
            (b"", 'g') => match param(v, 0, 0) {
                0 => self.fb.ds.clear_tab(col as i32),
                3 => {
                    self.fb.ds.clear_default_tabs();
                    for x in 0..width {
                        self.fb.ds.clear_tab(x);
                    }
                }
                _ => {}
            },
            (b"?", 'h') => self.dec_modes(v, true),
            (b"?", 'l') => self.dec_modes(v, false),
            (b"", 'h' | 'l') => {
                for i in 0..v.len() {
                    if param(v, i, 0) == 4 {
                        self.fb.ds.insert_mode = fin == 'h';
                    }
                }
            }
            (b"", 'r') => {
                let top = param(v, 0, 1);
                let bottom = param(v, 1, height);
                if bottom <= top || top > height || (top == 0 && bottom == 1) {
                    self.values = values;
                    return;
                }
                self.fb.ds.set_scrolling_region(top - 1, bottom - 1);
                self.fb.ds.move_row(0, false);
                self.fb.ds.move_col(0, false, false);
            }
            (b"", 'm') => {
                if d.colon_sgr && params.has_colon() {
                    self.sgr_extended(params);
                } else {
                    self.sgr(v);
                }
            }
            (b"", 'n') => match param(v, 0, 0) {
                5 => self.replies.extend_from_slice(b"\x1b[0n"),
                6 => {
                    let s = format!("\x1b[{};{}R", row + 1, col + 1);
                    self.replies.extend_from_slice(s.as_bytes());
                }
                _ => {}
            },
            (b"", 'L') => {
                self.fb.insert_line(row as i32, param(v, 0, 1));
                self.fb.ds.move_col(0, false, false);
            }
            (b"", 'M') => {
                self.fb.delete_lines(row as i32, param(v, 0, 1), false);
                self.fb.ds.move_col(0, false, false);
            }
            (b"", '@') => {
                self.split_wide(row, col);
                for _ in 0..param(v, 0, 1).min(width) {
                    self.fb.insert_cell(row, col);
                }
                if d.whole_wide_chars {
                    self.fb.clear_wide_in_last_column();
                }
            }
            (b"", 'P') => {
                self.split_wide(row, col);
                for _ in 0..param(v, 0, 1).min(width) {
                    self.fb.delete_cell(row, col);
                }
            }
            (b"", 'd') => self.fb.ds.move_row(param(v, 0, 1) - 1, false),
            (b"", 'G' | '`') => self.fb.ds.move_col(param(v, 0, 1) - 1, false, false),
            (b"", 'X') => {
                let limit = (col as i32 + param(v, 0, 1) - 1).min(width - 1);
                self.clear_line(row, col as i32, limit);
            }
            (b"!", 'p') => self.fb.soft_reset(),
            (b"", 'S') => self.fb.scroll(param(v, 0, 1)),
            (b"", 'T') => self.fb.scroll(-param(v, 0, 1)),
            // Extensions (the server's emulator only).
            (b"", 's') if d.csi_save_cursor => self.fb.ds.save_cursor(),
            (b"", 'u') if d.csi_save_cursor => self.fb.ds.restore_cursor(),
            (b" ", 'q') if d.cursor_shape => {
                self.fb.ds.cursor_style = param(v, 0, 0).clamp(0, 6) as u8;
            }
            (b"", 'b') if d.rep => {
                if let Some(c) = self.last_graphic {
                    let n = param(v, 0, 1).min(width * height);
                    for _ in 0..n {
                        self.print_char(c);
                    }
                }
            }
            (b"?$", 'p') if d.mode_queries => {
                let mode = param(v, 0, 0);
                let state = self.dec_mode_state(mode);
                let s = format!("\x1b[?{mode};{state}$y");
                self.replies.extend_from_slice(s.as_bytes());
            }
            (b"$", 'p') if d.mode_queries => {
                let mode = param(v, 0, 0);
                let state = match mode {
                    4 if self.fb.ds.insert_mode => 1,
                    4 => 2,
                    _ => 0,
                };
                let s = format!("\x1b[{mode};{state}$y");
                self.replies.extend_from_slice(s.as_bytes());
            }
            _ => {}
        }
        self.values = values;
    }

    fn dec_mode_state(&self, mode: i32) -> u8 {
        let ds = &self.fb.ds;
        let flag = |b: bool| if b { 1 } else { 2 };
        match mode {
            1 => flag(ds.application_mode_cursor_keys),
            5 => flag(ds.reverse_video),
            6 => flag(ds.origin_mode),
            7 => flag(ds.auto_wrap_mode),
            25 => flag(ds.cursor_visible),
            9 | 1000..=1003 => flag(i32::from(ds.mouse_reporting_mode) == mode),
            1004 => flag(ds.mouse_focus_event),
            1005 | 1006 | 1015 => flag(i32::from(ds.mouse_encoding_mode) == mode),
            1007 => flag(ds.mouse_alternate_scroll),
            47 | 1047 | 1049 => flag(self.fb.alternate_screen_active()),
            2004 => flag(ds.bracketed_paste),
            _ => 0,
        }
    }

    fn dec_modes(&mut self, v: &[i32], set: bool) {
        for i in 0..v.len() {
            let p = param(v, i, 0);
            let ds = &mut self.fb.ds;
            match p {
                9 | 1000..=1003 => ds.mouse_reporting_mode = if set { p as u16 } else { 0 },
                1005 | 1006 | 1015 => ds.mouse_encoding_mode = if set { p as u16 } else { 0 },
                1 => ds.application_mode_cursor_keys = set,
                3 => {
                    ds.move_row(0, false);
                    ds.move_col(0, false, false);
                    for y in 0..self.fb.height() {
                        self.fb.reset_row(y);
                    }
                }
                5 => ds.reverse_video = set,
                6 => {
                    ds.move_row(0, false);
                    ds.move_col(0, false, false);
                    ds.origin_mode = set;
                }
                7 => ds.auto_wrap_mode = set,
                25 => ds.cursor_visible = set,
                1004 => ds.mouse_focus_event = set,
                1007 => ds.mouse_alternate_scroll = set,
                2004 => ds.bracketed_paste = set,
                47 | 1047 if self.dialect.alt_screen => {
                    if set {
                        self.fb.enter_alternate(false, p == 1047);
                    } else {
                        self.fb.leave_alternate(false);
                        self.fb.clear_wide_in_last_column();
                    }
                }
                1048 if self.dialect.alt_screen => {
                    if set {
                        ds.save_cursor();
                    } else {
                        ds.restore_cursor();
                    }
                }
                1049 if self.dialect.alt_screen => {
                    if set {
                        self.fb.enter_alternate(true, true);
                    } else {
                        self.fb.leave_alternate(true);
                        self.fb.clear_wide_in_last_column();
                    }
                }
                66 if self.dialect.keypad => ds.application_keypad = set,
                _ => {}
            }
        }
    }

    /// Mosh's `set_rendition` for one plain SGR value.
    fn add_rendition(&mut self, n: i32) {
        let extended = self.dialect.extended_sgr;
        let r = &mut self.fb.ds.renditions;
        match n {
            0 => *r = Renditions::default(),
            39 => r.fg = Color::Default,
            49 => r.bg = Color::Default,
            30..=37 => r.fg = Color::Indexed((n - 30) as u8),
            40..=47 => r.bg = Color::Indexed((n - 40) as u8),
            90..=97 => r.fg = Color::Indexed((n - 90 + 8) as u8),
            100..=107 => r.bg = Color::Indexed((n - 100 + 8) as u8),
            1 => r.bold = true,
            22 => {
                r.bold = false;
                if extended {
                    r.faint = false;
                }
            }
            3 | 23 => r.italic = n == 3,
            4 => r.underline = Underline::Single,
            24 => r.underline = Underline::None,
            5 | 25 => r.blink = n == 5,
            7 | 27 => r.inverse = n == 7,
            8 | 28 => r.invisible = n == 8,
            2 if extended => r.faint = true,
            9 | 29 if extended => r.strike = n == 9,
            21 if extended => r.underline = Underline::Double,
            53 | 55 if extended => r.overline = n == 53,
            59 if extended => r.underline_color = Color::Default,
            _ => {}
        }
    }

    fn sgr(&mut self, v: &[i32]) {
        let count = v.len();
        let mut i = 0;
        while i < count {
            let r = param(v, i, 0);
            // SGR 58 (underline colour) takes the colour forms of 38 and
            // 48; Mosh knows no 58 and skips only the 58 itself.
            let colour = r == 38 || r == 48 || (r == 58 && self.dialect.extended_sgr);
            if colour && count - i >= 3 && param(v, i + 1, -1) == 5 {
                let n = param(v, i + 2, 0);
                if (0..=255).contains(&n) {
                    let c = Color::Indexed(n as u8);
                    self.set_color(r, c);
                }
                i += 3;
                continue;
            }
            if colour && count - i >= 5 && param(v, i + 1, -1) == 2 {
                let c = true_color(param(v, i + 2, 0), param(v, i + 3, 0), param(v, i + 4, 0));
                self.set_color(r, c);
                i += 5;
                continue;
            }
            self.add_rendition(r);
            i += 1;
        }
    }

    /// Sets the colour that SGR `which` (38, 48 or 58) selects.
    fn set_color(&mut self, which: i32, c: Color) {
        let r = &mut self.fb.ds.renditions;
        match which {
            38 => r.fg = c,
            48 => r.bg = c,
            _ => r.underline_color = c,
        }
    }

    /// SGR with `:` sub-parameters (extended emulator): `4:n` underline
    /// styles and `38:5:n`, `38:2:r:g:b`, `38:2:cs:r:g:b` colours; plain
    /// groups behave as in Mosh.
    fn sgr_extended(&mut self, params: &Params) {
        let groups = params.groups();
        let mut plain: Vec<i32> = Vec::new();
        for g in groups {
            if g.len() == 1 {
                plain.push(g[0]);
                continue;
            }
            self.sgr(&plain);
            plain.clear();
            let head = param(&g, 0, 0);
            match head {
                4 => {
                    self.fb.ds.renditions.underline = match g.get(1).copied().unwrap_or(-1) {
                        0 => Underline::None,
                        2 => Underline::Double,
                        3 => Underline::Curly,
                        4 => Underline::Dotted,
                        5 => Underline::Dashed,
                        _ => Underline::Single,
                    }
                }
                38 | 48 | 58 => match param(&g, 1, 0) {
                    5 => {
                        let n = g.get(2).copied().unwrap_or(-1).max(0);
                        if n <= 255 {
                            self.set_color(head, Color::Indexed(n as u8));
                        }
                    }
                    2 => {
                        let rgb = if g.len() >= 6 { &g[3..6] } else { &g[2..] };
                        let ch = |i: usize| rgb.get(i).copied().unwrap_or(0).clamp(0, 255);
                        self.set_color(head, Color::Rgb(ch(0) as u8, ch(1) as u8, ch(2) as u8));
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        self.sgr(&plain);
    }

    fn esc(&mut self, inter: &[u8], fin: char) {
        let cp = fin as u32;
        if inter.is_empty() && (0x40..=0x5F).contains(&cp) {
            self.control(cp + 0x40);
            return;
        }
        self.fb.ds.next_print_will_wrap = false;
        if cp > 255 || inter.len() >= 8 {
            return;
        }
        match (inter, fin) {
            (b"#", '8') => {
                let bg = self.fb.ds.background();
                for y in 0..self.fb.height() {
                    for x in 0..self.fb.width() {
                        if let Some(c) = self.fb.cell_mut(y, x) {
                            c.reset(bg);
                            c.append('E');
                        }
                    }
                }
            }
            (b"", '7') => self.fb.ds.save_cursor(),
            (b"", '8') => self.fb.ds.restore_cursor(),
            (b"", 'c') => {
                self.fb.reset();
                self.last_graphic = None;
            }
            (b"(" | b")", f) if self.dialect.dec_graphics => {
                let g = usize::from(inter == b")");
                self.fb.ds.charsets[g] = f == '0';
            }
            (b"", '=') if self.dialect.keypad => self.fb.ds.application_keypad = true,
            (b"", '>') if self.dialect.keypad => self.fb.ds.application_keypad = false,
            _ => {}
        }
    }

    fn osc(&mut self, s: &[char]) {
        if self.dialect.osc52_selectors && s.len() >= 3 && s[..3] == ['5', '2', ';'] {
            // Every selector form: 52;<selectors>;<data>; queries are ignored.
            if let Some(semi) = s[3..].iter().position(|&c| c == ';') {
                let sel = &s[3..3 + semi];
                let data = &s[3 + semi + 1..];
                if sel.iter().all(|c| "cpqs01234567".contains(*c)) && data != ['?'] {
                    self.fb.clipboard = data.iter().collect();
                }
            }
            return;
        }
        if s.len() >= 5 && s[..5] == ['5', '2', ';', 'c', ';'] {
            self.fb.clipboard = s[5..].iter().collect();
            return;
        }
        let Some(&first) = s.first() else {
            return;
        };
        let (cmd, offset) = if first == ';' {
            (0i64, 1usize)
        } else if s.get(1) == Some(&';') {
            (i64::from(first as u32) - i64::from(b'0'), 2)
        } else {
            (-1, 0)
        };
        let set_icon = cmd == 0 || cmd == 1;
        let set_title = cmd == 0 || cmd == 2;
        if set_icon || set_title {
            self.fb.title_initialized = true;
            // Mosh keeps at most 256 characters of the OSC string, prefix
            // included. A diff always sends `0;`, `1;` or `2;` before a
            // title, so a diff-sized emulator (the server's) keeps only what a
            // client can get back: 254 characters, even after a bare `;`.
            let limit = if self.dialect.diff_sized_titles {
                254 + offset
            } else {
                256
            };
            let end = s.len().min(limit);
            let title: String = s.get(offset..end).unwrap_or(&[]).iter().collect();
            if set_icon {
                self.fb.icon_name = title.clone();
            }
            if set_title {
                self.fb.window_title = title;
            }
        }
    }
}

impl Perform for Term {
    fn print(&mut self, c: char) {
        self.print_char(c);
    }

    fn print_ascii(&mut self, run: &[u8]) {
        self.print_ascii_run(run);
    }

    fn line_feeds(&mut self, bytes: &[u8]) -> usize {
        let ds = &self.fb.ds;
        let bottom = ds.height() - 1;
        let graphics =
            self.dialect.dec_graphics && ds.charsets.get(usize::from(ds.shift_out)) == Some(&true);
        if ds.insert_mode
            || graphics
            || ds.scroll_top() != 0
            || ds.scroll_bottom() != bottom
            || ds.cursor_row() != bottom
        {
            return 0;
        }
        let (len, count) = plain_lines(bytes, ds.cursor_col().max(0) as usize, self.fb.width());
        let Some(lines) = bytes.get(..len).filter(|_| count > 0) else {
            return 0;
        };
        let col = self.fb.plain_line_feeds(lines, count);
        self.fb.ds.move_col(col as i32, false, false);
        if let Some(&b) = lines.iter().rev().find(|b| (0x20..0x7f).contains(*b)) {
            self.last_graphic = Some(char::from(b));
        }
        len
    }

    fn execute(&mut self, c: char) {
        self.control(c as u32);
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], fin: char) {
        if params.has_colon() && !(intermediates.is_empty() && fin == 'm') {
            // Mosh ignores any sequence with ':'; only SGR gets the extension.
            return;
        }
        self.csi(params, intermediates, fin);
    }

    fn esc_dispatch(&mut self, intermediates: &[u8], fin: char) {
        self.esc(intermediates, fin);
    }

    fn osc_dispatch(&mut self, data: &[char]) {
        self.osc(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::cell::Color;

    fn emu(bytes: &[u8]) -> Emulator {
        let mut e = Emulator::new(10, 4);
        e.feed(bytes);
        e
    }

    #[test]
    fn prints_wraps_and_sets_wrap_flag() {
        let e = emu(b"0123456789ab");
        let fb = e.framebuffer();
        assert_eq!(fb.row_text(0), "0123456789");
        assert_eq!(fb.row_text(1), "ab");
        assert!(fb.row(0).is_some_and(|r| r.wrap()));
        assert_eq!(fb.cursor(), (1, 2));
    }

    #[test]
    fn pending_wrap_survives_sgr_and_tab_but_not_cr() {
        let e = emu(b"0123456789\x1b[1m\tX");
        assert_eq!(e.framebuffer().row_text(1), "X");
        let e = emu(b"0123456789\x1b[CX");
        assert_eq!(e.framebuffer().row_text(0), "012345678X");
        // Unknown sequences clear the pending wrap too (Mosh).
        let e = emu(b"0123456789\x1b[5xX");
        assert_eq!(e.framebuffer().row_text(0), "012345678X");
    }

    #[test]
    fn wide_char_at_last_column_wraps_early() {
        let e = emu("012345678中".as_bytes());
        let fb = e.framebuffer();
        assert_eq!(fb.row_text(1), "中");
        assert!(!fb.row(0).is_some_and(|r| r.wrap()));
        assert!(fb.cell(1, 0).is_some_and(|c| c.wide));
    }

    #[test]
    fn combining_characters_attach_or_fall_back() {
        let e = emu("e\u{301}\r\n\u{301}x".as_bytes());
        let fb = e.framebuffer();
        assert_eq!(
            fb.cell(0, 0).map(|c| c.contents().to_string()),
            Some("e\u{301}".into())
        );
        assert!(fb.cell(1, 0).is_some_and(|c| c.fallback));
        assert_eq!(fb.row_text(1), "\u{A0}\u{301}x");
    }

    #[test]
    fn sgr_colors_and_quirks_match_mosh() {
        let e = emu(b"\x1b[1;31;48;5;200mA\x1b[38;2;1;2;3mB\x1b[0;92mC\x1b[38;5mD");
        let fb = e.framebuffer();
        let a = fb.cell(0, 0).map(|c| c.renditions).unwrap_or_default();
        assert!(a.bold);
        assert_eq!(a.fg, Color::Indexed(1));
        assert_eq!(a.bg, Color::Indexed(200));
        let b = fb.cell(0, 1).map(|c| c.renditions).unwrap_or_default();
        assert_eq!(b.fg, Color::Rgb(1, 2, 3));
        let c = fb.cell(0, 2).map(|c| c.renditions).unwrap_or_default();
        assert_eq!(c.fg, Color::Indexed(10));
        // "38;5" without an index: 38 is ignored and 5 means blink.
        let d = fb.cell(0, 3).map(|c| c.renditions).unwrap_or_default();
        assert!(d.blink);
        let e = emu(b"\x1b[2;9;53m");
        let r = e.framebuffer().ds.renditions;
        assert!(!r.faint && !r.strike && !r.overline);
    }

    #[test]
    fn true_color_out_of_range_wraps_like_mosh() {
        let e = emu(b"\x1b[38;2;300;0;0m");
        assert_eq!(e.framebuffer().ds.renditions.fg, Color::Rgb(44, 0, 0));
    }

    #[test]
    fn replies_are_collected_not_drawn() {
        let mut e = emu(b"ab\x1b[6n\x1b[c\x1b[>c\x1b[5n");
        assert_eq!(
            e.take_replies(),
            b"\x1b[1;3R\x1b[?62c\x1b[>1;10;0c\x1b[0n".to_vec()
        );
        assert!(e.take_replies().is_empty());
        assert_eq!(e.framebuffer().row_text(0), "ab");
    }

    #[test]
    fn titles_and_clipboard() {
        let e = emu(b"\x1b]0;hello\x07\x1b]52;c;aGk=\x1b\\");
        let fb = e.framebuffer();
        assert_eq!(fb.window_title, "hello");
        assert_eq!(fb.icon_name, "hello");
        assert_eq!(fb.clipboard, "aGk=");
        let e = emu(b"\x1b]2;t\x07\x1b]1;i\x07\x1b]52;p;x\x07");
        let fb = e.framebuffer();
        assert_eq!(
            (fb.window_title.as_str(), fb.icon_name.as_str()),
            ("t", "i")
        );
        assert_eq!(fb.clipboard, "");
    }

    #[test]
    fn extended_titles_fit_the_diff_that_carries_them() {
        let long = format!("\x1b];{}\x07", "t".repeat(300));
        // Mosh's own emulator: 256 characters of `;ttt…`, less the `;`.
        assert_eq!(emu(long.as_bytes()).framebuffer().window_title.len(), 255);
        let mut server = Emulator::new_server(20, 4);
        let empty = server.framebuffer().clone();
        server.feed(long.as_bytes());
        assert_eq!(server.framebuffer().window_title.len(), 254);
        // The diff sends `ESC ] 0 ; title BEL`: a Mosh client keeps it whole.
        let diff = crate::terminal::new_frame(
            true,
            &empty,
            server.framebuffer(),
            &crate::terminal::DisplayCaps::MOSH_WIRE,
        );
        let client = emu(&diff);
        assert_eq!(
            client.framebuffer().window_title,
            server.framebuffer().window_title
        );
    }

    #[test]
    fn scrolling_region_and_index() {
        let e = emu(b"a\r\nb\r\nc\r\nd\x1b[2;3r\x1b[3;1H\nX");
        let fb = e.framebuffer();
        assert_eq!(fb.screen_text(), "a\nc\nX\nd");
    }

    #[test]
    fn mosh_ignores_alternate_screen_and_dec_graphics() {
        let e = emu(b"abc\x1b[?1049h\x1b(0q");
        assert_eq!(e.framebuffer().row_text(0), "abcq");
    }

    #[test]
    fn extended_alternate_screen_and_dec_graphics() {
        let mut e = Emulator::new_server(10, 3);
        e.feed(b"abc\x1b[?1049h\x1b(0qx\x1b(B");
        assert_eq!(e.framebuffer().row_text(0), "   ─│");
        e.feed(b"\x1b[?1049l");
        assert_eq!(e.framebuffer().row_text(0), "abc");
        assert_eq!(e.framebuffer().cursor(), (0, 3));
    }

    #[test]
    fn extended_printing_into_a_wide_characters_right_half_erases_it() {
        let mut e = Emulator::new_server(10, 2);
        e.feed("ab\r\n中d\x1b[2;2Hx".as_bytes());
        let fb = e.framebuffer();
        assert_eq!(fb.row_text(0), "ab");
        assert_eq!(fb.row_text(1), " xd");
        assert!(!fb.cell(1, 0).is_some_and(|c| c.wide));
        // Mosh keeps the wide character and hides the cell under it.
        let mut m = Emulator::new(10, 2);
        m.feed("中d\x1b[1;2Hx".as_bytes());
        assert!(m.framebuffer().cell(0, 0).is_some_and(|c| c.wide));
    }

    #[test]
    fn extended_colon_sgr_and_rep_and_scrollback() {
        let mut e = Emulator::new_server(10, 2);
        e.feed(b"\x1b[4:3;38:2::1:2:3;2mA\x1b[3b");
        let r = e.framebuffer().ds.renditions;
        assert_eq!(r.underline, Underline::Curly);
        assert_eq!(r.fg, Color::Rgb(1, 2, 3));
        assert!(r.faint);
        assert_eq!(e.framebuffer().row_text(0), "AAAA");
        e.feed(b"\r\nl2\r\nl3\r\nl4");
        assert_eq!(e.framebuffer().scrollback().len(), 2);
        e.feed(b"\x1b[?25$p");
        assert_eq!(e.take_replies(), b"\x1b[?25;1$y".to_vec());
    }

    #[test]
    fn origin_mode_margins_and_cursor_up_like_mosh() {
        // CUU ignores the top margin unless origin mode is on.
        let e = emu(b"\x1b[2;3r\x1b[3;1H\x1b[5AX");
        assert_eq!(e.framebuffer().cursor(), (0, 1));
        let e = emu(b"\x1b[2;3r\x1b[?6h\x1b[5AX");
        assert_eq!(e.framebuffer().row_text(1), "X");
        // Invalid margins are ignored; valid ones home the cursor.
        let e = emu(b"\x1b[2;2H\x1b[3;2r");
        assert_eq!(e.framebuffer().cursor(), (1, 1));
    }

    #[test]
    fn insert_delete_erase_and_tabs() {
        let e = emu(b"abcdef\x1b[1;2H\x1b[2@\x1b[1;6H\x1b[P\x1b[1;1H\x1b[2X");
        assert_eq!(e.framebuffer().row_text(0), "   bcef");
        // With every tab stop cleared, HT goes to the last column.
        let e = emu(b"\tX\x1b[3g\r\tY");
        assert_eq!(e.framebuffer().row_text(0), "        XY");
        assert_eq!(e.framebuffer().cursor(), (0, 9));
        let e = emu(b"\x1b[4hab\rX");
        assert_eq!(e.framebuffer().row_text(0), "Xab");
    }

    #[test]
    fn reset_keeps_bell_and_icon_and_decaln_fills() {
        let mut e = emu(b"\x07\x1b]1;icon\x07\x1b]2;title\x07text\x1bc");
        let fb = e.framebuffer();
        assert_eq!(fb.bell_count, 1);
        assert_eq!(fb.icon_name, "icon");
        assert_eq!(fb.window_title, "");
        assert_eq!(fb.screen_text(), "\n\n\n");
        e.feed(b"\x1b[41m\x1b#8");
        let fb = e.framebuffer();
        assert_eq!(fb.row_text(3), "EEEEEEEEEE");
        assert_eq!(
            fb.cell(0, 0).map(|c| c.renditions.bg),
            Some(Color::Indexed(1))
        );
    }

    #[test]
    fn erase_uses_the_current_background() {
        let e = emu(b"\x1b[44m\x1b[2J");
        let fb = e.framebuffer();
        assert_eq!(
            fb.cell(3, 9).map(|c| c.renditions.bg),
            Some(Color::Indexed(4))
        );
        assert!(fb.cell(3, 9).is_some_and(|c| c.is_empty()));
    }

    #[test]
    fn mouse_modes_are_single_values() {
        let e = emu(b"\x1b[?1000h\x1b[?1002h\x1b[?1006h\x1b[?1015h");
        let ds = &e.framebuffer().ds;
        assert_eq!(
            (ds.mouse_reporting_mode, ds.mouse_encoding_mode),
            (1002, 1015)
        );
        let e = emu(b"\x1b[?1002h\x1b[?9l\x1b[?1006h\x1b[?1005l");
        let ds = &e.framebuffer().ds;
        assert_eq!((ds.mouse_reporting_mode, ds.mouse_encoding_mode), (0, 0));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let mut e = Emulator::new_server(3, 2);
        let mut junk = Vec::new();
        let mut x: u32 = 12345;
        for _ in 0..20000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            junk.push((x % 256) as u8);
            if x.is_multiple_of(7) {
                junk.extend_from_slice(b"\x1b[");
            }
        }
        e.feed(&junk);
        e.feed(
            b"\x1b[65535;65535H\x1b[65535@\x1b[65535P\x1b[65535L\x1b[65535M\x1b[99999b\x1b[65535S",
        );
        e.resize(1, 1);
        e.feed("中\u{301}\x1b[?1049h中".as_bytes());
        let mut m = Emulator::new(1, 1);
        m.feed(&junk);
        assert_eq!(m.framebuffer().width(), 1);
    }

    /// Forwards everything to the emulator except runs of ASCII, which go
    /// through `print` one character at a time (the trait's default): the
    /// slow path the run writer must agree with.
    struct OneByOne<'a>(&'a mut Term);

    impl Perform for OneByOne<'_> {
        fn print(&mut self, c: char) {
            self.0.print(c);
        }
        fn execute(&mut self, c: char) {
            self.0.execute(c);
        }
        fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], fin: char) {
            self.0.csi_dispatch(params, intermediates, fin);
        }
        fn esc_dispatch(&mut self, intermediates: &[u8], fin: char) {
            self.0.esc_dispatch(intermediates, fin);
        }
        fn osc_dispatch(&mut self, data: &[char]) {
            self.0.osc_dispatch(data);
        }
    }

    /// Everything a screen holds apart from row generations (which come
    /// from a global counter and so differ between two emulators).
    fn snapshot(e: &Emulator) -> String {
        let fb = e.framebuffer();
        let mut out = format!(
            "{:?}\n{:?} {:?} {:?} {} {:?}\n",
            fb.ds, fb.window_title, fb.icon_name, fb.clipboard, fb.bell_count, e.term.last_graphic
        );
        assert!(
            fb.scrollback().clean_tails_are_blank(),
            "a line's blank-tail hint is wrong"
        );
        for cells in fb.scrollback().iter() {
            out.push_str(&format!("{cells:?}\n"));
        }
        for r in fb.rows() {
            assert!(r.clean_tail_is_blank(), "row's blank-tail hint is wrong");
            out.push_str(&format!("{:?}\n", r.cells()));
        }
        out
    }

    /// Pieces of application output that exercise every branch the ASCII
    /// run writer hands back to `print_char`.
    fn piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let fixed: Vec<&'static [u8]> = vec![
            b"\r",
            b"\n",
            b"\r\n",
            b"\x08",
            b"\t",
            "中".as_bytes(),
            "\u{301}".as_bytes(),
            "é".as_bytes(),
            b"\x1b[4h",
            b"\x1b[4l",
            b"\x1b[?7l",
            b"\x1b[?7h",
            b"\x1b[?6h",
            b"\x1b[?6l",
            b"\x1b[2;4r",
            b"\x1b[r",
            b"\x1b[31;42m",
            b"\x1b[0m",
            b"\x1b[44m",
            b"\x1b[K",
            b"\x1b[1K",
            b"\x1b[2J",
            b"\x1b[L",
            b"\x1b[2M",
            b"\x1b[P",
            b"\x1b[@",
            b"\x1b[S",
            b"\x1b[2T",
            b"\x1bM",
            b"\x1bD",
            b"\x1bE",
            b"\x1b(0",
            b"\x1b(B",
            b"\x1b)0",
            b"\x0e",
            b"\x0f",
            b"\x1b[?1049h",
            b"\x1b[?1049l",
            b"\x1b[?47h",
            b"\x1b[?47l",
            b"\x1b[3b",
            b"\x1b7",
            b"\x1b8",
            b"\x1b[?3h",
            b"\x1bc",
            b"\x1b[X",
            b"\x1b[2X",
            b"\x7f",
            b"\x1b#8",
        ];
        // Several lines in one piece, so that many line feeds meet in one feed.
        let line_end = proptest::sample::select(vec![&b"\r\n"[..], b"\n", b"\r"]);
        let lines = proptest::collection::vec(
            (proptest::collection::vec(0x20u8..0x7f, 0..14), line_end),
            1..30,
        )
        .prop_map(|lines| {
            lines
                .into_iter()
                .flat_map(|(text, end)| text.into_iter().chain(end.iter().copied()))
                .collect()
        });
        prop_oneof![
            3 => proptest::collection::vec(0x20u8..0x7f, 0..40),
            2 => lines,
            1 => (1u8..8, 1u8..14).prop_map(|(r, c)| format!("\x1b[{r};{c}H").into_bytes()),
            2 => proptest::sample::select(fixed).prop_map(|b| b.to_vec()),
        ]
    }

    /// Where each screen row came from, as the display diff's scroll
    /// detection sees it: `Ok(i)` for a row that was row `i` of `before`
    /// (same generation), `Err(j)` for a new row first seen at row `j`.
    fn lineage(before: &[u64], e: &Emulator) -> Vec<Result<usize, usize>> {
        let now = generations(e);
        now.iter()
            .map(|g| match before.iter().position(|b| b == g) {
                Some(i) => Ok(i),
                None => Err(now.iter().position(|n| n == g).unwrap_or(usize::MAX)),
            })
            .collect()
    }

    fn generations(e: &Emulator) -> Vec<u64> {
        e.framebuffer()
            .rows()
            .iter()
            .map(|r| r.generation)
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        /// Writing runs of ASCII, and stretches of plain lines, in one go
        /// leaves exactly the screen (cells, cursor, pen, modes, scrollback,
        /// which rows moved where) that printing them one character and
        /// one line feed at a time does.
        #[test]
        fn ascii_runs_match_printing_one_by_one(
            extended in proptest::bool::ANY,
            scrollback in proptest::sample::select(vec![0usize, 1, 2, 5, DEFAULT_SCROLLBACK]),
            cols in 1usize..13,
            rows in 1usize..7,
            pieces in proptest::collection::vec(piece(), 0..60),
            resize_at in 0usize..60,
            new_size in (1usize..13, 1usize..7),
        ) {
            let make = |c, r| if extended { Emulator::new_server(c, r) } else { Emulator::new(c, r) };
            let (mut fast, mut slow) = (make(cols, rows), make(cols, rows));
            if extended {
                fast.term.fb.scrollback_limit = scrollback;
                slow.term.fb.scrollback_limit = scrollback;
            }
            for (i, p) in pieces.iter().enumerate() {
                if i == resize_at {
                    fast.resize(new_size.0, new_size.1);
                    slow.resize(new_size.0, new_size.1);
                }
                let (fast_before, slow_before) = (generations(&fast), generations(&slow));
                fast.feed(p);
                slow.parser.advance(&mut OneByOne(&mut slow.term), p);
                proptest::prop_assert_eq!(snapshot(&fast), snapshot(&slow));
                proptest::prop_assert_eq!(lineage(&fast_before, &fast), lineage(&slow_before, &slow));
            }
        }
    }
}
