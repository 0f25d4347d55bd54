//! The screen: rows of cells plus the drawing state, with Mosh 1.4.0's
//! semantics for every operation a display diff can trigger.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::cell::{Cell, Color, Renditions};

mod line_feeds;
mod scrollback;
pub(crate) use line_feeds::plain_lines;
pub use scrollback::Scrollback;

static ROW_GENERATION: AtomicU64 = AtomicU64::new(0);

fn next_gen() -> u64 {
    ROW_GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// One screen row. Rows are shared between framebuffer copies and copied on write.
#[derive(Debug, Clone)]
pub struct Row {
    /// The cells, exactly `width` of them (private so that every write
    /// keeps `clean_from` honest).
    cells: Vec<Cell>,
    /// Identity of the row's content lineage: new for every blank row made,
    /// kept by edits. Two rows are "the same row" for the scroll detection
    /// of the display diff only if their generations match.
    pub generation: u64,
    /// Every cell from this index on is `Cell::blank(clean_bg)`. A line
    /// feed recycles the row that scrolled off as the new bottom row, and
    /// `reset` then only has to erase the few cells a line of output
    /// actually wrote instead of the whole width: that erase was the
    /// largest single cost of bulk output.
    clean_from: usize,
    /// The background of the known-blank tail.
    clean_bg: Color,
    /// `Some(rend)` when every cell before `clean_from` is known to be a
    /// printable ASCII character in `rend` written by `write_ascii`
    /// (neither wide nor a fallback; only the last cell may be
    /// soft-wrapped): the scrollback then takes the row's characters
    /// without looking at each cell. `None` means unknown.
    ascii_rend: Option<Renditions>,
}

impl PartialEq for Row {
    fn eq(&self, other: &Self) -> bool {
        self.generation == other.generation && self.cells == other.cells
    }
}

impl Row {
    /// A blank row of `width` cells with background `bg`.
    pub fn new(width: usize, bg: Color) -> Self {
        Row {
            cells: vec![Cell::blank(bg); width],
            generation: next_gen(),
            clean_from: 0,
            clean_bg: bg,
            ascii_rend: Some(Renditions::default()),
        }
    }

    /// The cells, left to right.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The cells for writing (the whole row then counts as written).
    pub fn cells_mut(&mut self) -> &mut [Cell] {
        self.clean_from = self.cells.len();
        self.ascii_rend = None;
        &mut self.cells
    }

    /// Cell `col` for writing, if it exists.
    pub fn cell_mut(&mut self, col: usize) -> Option<&mut Cell> {
        let c = self.cells.get_mut(col)?;
        self.clean_from = self.clean_from.max(col + 1);
        self.ascii_rend = None;
        Some(c)
    }

    /// Changes the number of cells; new cells are blank with background `bg`.
    pub fn resize(&mut self, width: usize, bg: Color) {
        self.ascii_rend = None;
        let old = self.cells.len();
        self.cells.resize(width, Cell::blank(bg));
        if width > old && bg != self.clean_bg {
            // The old blank tail and the new cells differ: trust neither.
            self.clean_from = width;
        } else {
            self.clean_from = self.clean_from.min(width);
        }
    }

    /// Soft-wrap flag (kept on the last cell, as Mosh does).
    pub fn wrap(&self) -> bool {
        self.cells.last().is_some_and(|c| c.wrap)
    }

    /// Sets the soft-wrap flag.
    pub fn set_wrap(&mut self, w: bool) {
        let len = self.cells.len();
        if let Some(c) = self.cells.last_mut()
            && c.wrap != w
        {
            c.wrap = w;
            if self.clean_from != len {
                // Blank cells now lie before the wrapped last one.
                self.ascii_rend = None;
            }
            self.clean_from = len;
        }
    }

    /// Erases every cell and gives the row a new generation.
    pub fn reset(&mut self, bg: Color) {
        self.generation = next_gen();
        let dirty = if bg == self.clean_bg {
            self.clean_from.min(self.cells.len())
        } else {
            self.cells.len()
        };
        let blank = Cell::blank(bg);
        for c in self.cells.iter_mut().take(dirty) {
            *c = blank.clone();
        }
        self.clean_from = 0;
        self.clean_bg = bg;
        self.ascii_rend = Some(Renditions::default());
    }

    /// Writes printable ASCII (each byte one narrow cell with `rend`)
    /// from column `col`; bytes past the last column are dropped.
    pub(crate) fn write_ascii(&mut self, col: usize, text: &[u8], rend: Renditions) {
        let Some(dst) = self.cells.get_mut(col..) else {
            return;
        };
        let n = dst.len().min(text.len());
        // Still all ASCII in one rendition from the first column on, if
        // this run starts at or before the end of what was written.
        self.ascii_rend = match self.ascii_rend {
            _ if self.clean_from == 0 && col == 0 => Some(rend),
            Some(r) if r == rend && col <= self.clean_from => Some(rend),
            _ => None,
        };
        // One cell built once and only its character changed: each cell
        // is then a plain copy.
        let mut cell = Cell::from_char(' ', rend, false);
        for (dst, &b) in dst.iter_mut().zip(text) {
            cell.set_ascii(b);
            *dst = cell.clone();
        }
        self.clean_from = self.clean_from.max(col + n);
    }

    fn insert_cell(&mut self, col: usize, bg: Color) {
        self.ascii_rend = None;
        if col <= self.cells.len() {
            self.cells.insert(col, Cell::blank(bg));
            self.cells.pop();
            // The tail moved right by one and a blank of `bg` came in at `col`.
            self.clean_from = (self.clean_from.max(col) + 1).min(self.cells.len());
        }
    }

    fn delete_cell(&mut self, col: usize, bg: Color) {
        self.ascii_rend = None;
        if col < self.cells.len() {
            self.cells.push(Cell::blank(bg));
            self.cells.remove(col);
            if bg != self.clean_bg {
                self.clean_from = self.cells.len();
            }
        }
    }

    /// Checks the invariants behind the cheap `reset` and the scrollback's
    /// shortcut for ASCII rows (tests only).
    #[cfg(test)]
    pub(crate) fn clean_tail_is_blank(&self) -> bool {
        let blank = Cell::blank(self.clean_bg);
        let last = self.cells.len().saturating_sub(1);
        let ascii_honest = self.ascii_rend.is_none_or(|rend| {
            self.cells
                .iter()
                .take(self.clean_from)
                .enumerate()
                .all(|(i, c)| {
                    c.ascii().is_some()
                        && c.renditions == rend
                        && !c.wide
                        && !c.fallback
                        && (!c.wrap || i == last)
                })
        });
        ascii_honest && self.cells.iter().skip(self.clean_from).all(|c| *c == blank)
    }
}

/// What DECSC saves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCursor {
    /// Column.
    pub col: i32,
    /// Row.
    pub row: i32,
    /// Pen.
    pub renditions: Renditions,
    /// DECAWM.
    pub auto_wrap_mode: bool,
    /// DECOM.
    pub origin_mode: bool,
    /// Character sets (extended emulator): G0, G1 are DEC special graphics; GL is G1.
    pub charsets: [bool; 2],
    /// GL is G1 (after SO).
    pub shift_out: bool,
}

impl Default for SavedCursor {
    fn default() -> Self {
        SavedCursor {
            col: 0,
            row: 0,
            renditions: Renditions::default(),
            auto_wrap_mode: true,
            origin_mode: false,
            charsets: [false; 2],
            shift_out: false,
        }
    }
}

/// Cursor position, pen, modes, tab stops and scrolling region.
#[derive(Debug, Clone)]
pub struct DrawState {
    width: i32,
    height: i32,
    cursor_col: i32,
    cursor_row: i32,
    combining_col: i32,
    combining_row: i32,
    default_tabs: bool,
    tabs: Vec<bool>,
    scroll_top: i32,
    scroll_bottom: i32,
    /// The pen: renditions applied to printed characters.
    pub renditions: Renditions,
    /// DECSC state.
    pub save: SavedCursor,
    /// The last column was printed: the next printable character wraps first.
    pub next_print_will_wrap: bool,
    /// DECOM.
    pub origin_mode: bool,
    /// DECAWM.
    pub auto_wrap_mode: bool,
    /// IRM (SM 4).
    pub insert_mode: bool,
    /// DECTCEM.
    pub cursor_visible: bool,
    /// DECSCNM.
    pub reverse_video: bool,
    /// Mode 2004.
    pub bracketed_paste: bool,
    /// 0 (none), 9, 1000, 1001, 1002 or 1003.
    pub mouse_reporting_mode: u16,
    /// Mode 1004.
    pub mouse_focus_event: bool,
    /// Mode 1007 (compared, never sent).
    pub mouse_alternate_scroll: bool,
    /// 0 (default), 1005, 1006 or 1015.
    pub mouse_encoding_mode: u16,
    /// DECCKM.
    pub application_mode_cursor_keys: bool,
    /// DECKPAM (extended; not synchronized).
    pub application_keypad: bool,
    /// DECSCUSR shape 0–6 (extended; not synchronized).
    pub cursor_style: u8,
    /// G0 and G1 designate DEC special graphics (extended emulator).
    pub charsets: [bool; 2],
    /// GL is G1 (after SO; extended emulator).
    pub shift_out: bool,
}

impl DrawState {
    fn new(width: i32, height: i32) -> Self {
        let mut ds = DrawState {
            width,
            height,
            cursor_col: 0,
            cursor_row: 0,
            combining_col: 0,
            combining_row: 0,
            default_tabs: true,
            tabs: vec![false; width.max(0) as usize],
            scroll_top: 0,
            scroll_bottom: height - 1,
            renditions: Renditions::default(),
            save: SavedCursor::default(),
            next_print_will_wrap: false,
            origin_mode: false,
            auto_wrap_mode: true,
            insert_mode: false,
            cursor_visible: true,
            reverse_video: false,
            bracketed_paste: false,
            mouse_reporting_mode: 0,
            mouse_focus_event: false,
            mouse_alternate_scroll: false,
            mouse_encoding_mode: 0,
            application_mode_cursor_keys: false,
            application_keypad: false,
            cursor_style: 0,
            charsets: [false; 2],
            shift_out: false,
        };
        ds.reinitialize_tabs(0);
        ds
    }

    fn reinitialize_tabs(&mut self, start: usize) {
        for (i, t) in self.tabs.iter_mut().enumerate().skip(start) {
            *t = i % 8 == 0;
        }
    }

    /// Columns.
    pub fn width(&self) -> i32 {
        self.width
    }
    /// Rows.
    pub fn height(&self) -> i32 {
        self.height
    }
    /// Cursor column (0-based).
    pub fn cursor_col(&self) -> i32 {
        self.cursor_col
    }
    /// Cursor row (0-based).
    pub fn cursor_row(&self) -> i32 {
        self.cursor_row
    }
    /// Top row of the scrolling region.
    pub fn scroll_top(&self) -> i32 {
        self.scroll_top
    }
    /// Bottom row of the scrolling region.
    pub fn scroll_bottom(&self) -> i32 {
        self.scroll_bottom
    }
    /// Where the next combining character goes.
    pub fn combining_cell(&self) -> (i32, i32) {
        (self.combining_row, self.combining_col)
    }

    fn new_grapheme(&mut self) {
        self.combining_col = self.cursor_col;
        self.combining_row = self.cursor_row;
    }

    fn limit_top(&self) -> i32 {
        if self.origin_mode { self.scroll_top } else { 0 }
    }

    fn limit_bottom(&self) -> i32 {
        if self.origin_mode {
            self.scroll_bottom
        } else {
            self.height - 1
        }
    }

    fn snap_cursor_to_border(&mut self) {
        self.cursor_row = self
            .cursor_row
            .min(self.limit_bottom())
            .max(self.limit_top());
        self.cursor_col = self.cursor_col.min(self.width - 1).max(0);
    }

    /// Moves the cursor to row `n` (relative to the origin) or by `n`.
    pub fn move_row(&mut self, n: i32, relative: bool) {
        if relative {
            self.cursor_row = self.cursor_row.saturating_add(n);
        } else {
            self.cursor_row = n.saturating_add(self.limit_top());
        }
        self.snap_cursor_to_border();
        self.new_grapheme();
        self.next_print_will_wrap = false;
    }

    /// Moves the cursor to column `n` or by `n`; `implicit` is a move made
    /// by printing, which may set the pending-wrap state.
    pub fn move_col(&mut self, n: i32, relative: bool, implicit: bool) {
        if implicit {
            self.new_grapheme();
        }
        if relative {
            self.cursor_col = self.cursor_col.saturating_add(n);
        } else {
            self.cursor_col = n;
        }
        if implicit {
            self.next_print_will_wrap = self.cursor_col >= self.width;
        }
        self.snap_cursor_to_border();
        if !implicit {
            self.new_grapheme();
            self.next_print_will_wrap = false;
        }
    }

    /// True when the cursor's row is within the rows it may occupy (the
    /// margins in origin mode), i.e. printing will not move it.
    pub(crate) fn cursor_within_limits(&self) -> bool {
        (self.limit_top()..=self.limit_bottom()).contains(&self.cursor_row)
    }

    /// The cursor moves of printing `n` narrow characters from the cursor
    /// along its row (`move_col(1, true, true)` repeated `n` times), for a
    /// run that ends at or before the last column and starts without a
    /// pending wrap, with the cursor's row within its limits.
    pub(crate) fn advance_after_print(&mut self, n: i32) {
        if n < 1 {
            return;
        }
        self.combining_row = self.cursor_row;
        self.combining_col = self.cursor_col.saturating_add(n - 1);
        self.cursor_col = self.cursor_col.saturating_add(n);
        self.next_print_will_wrap = self.cursor_col >= self.width;
        self.snap_cursor_to_border();
    }

    /// HTS at the cursor.
    pub fn set_tab(&mut self) {
        if let Some(t) = self.tabs.get_mut(self.cursor_col as usize) {
            *t = true;
        }
    }

    /// Clears the tab stop at `col`.
    pub fn clear_tab(&mut self, col: i32) {
        if let Some(t) = self.tabs.get_mut(col as usize) {
            *t = false;
        }
    }

    /// Forgets that tab stops are the defaults (after TBC 3).
    pub fn clear_default_tabs(&mut self) {
        self.default_tabs = false;
    }

    /// Column of the `count`-th tab stop forward (count > 0: −1 if none)
    /// or backward (count < 0: 0 if none).
    pub fn next_tab(&self, mut count: i32) -> i32 {
        if count >= 0 {
            for i in (self.cursor_col + 1)..self.width {
                if self.tabs.get(i as usize) == Some(&true) {
                    count -= 1;
                    if count == 0 {
                        return i;
                    }
                }
            }
            return -1;
        }
        let mut i = self.cursor_col - 1;
        while i > 0 {
            if self.tabs.get(i as usize) == Some(&true) {
                count += 1;
                if count == 0 {
                    return i;
                }
            }
            i -= 1;
        }
        0
    }

    /// DECSTBM (0-based, already validated by the caller).
    pub fn set_scrolling_region(&mut self, top: i32, bottom: i32) {
        if self.height < 1 {
            return;
        }
        self.scroll_top = top.max(0);
        self.scroll_bottom = bottom.min(self.height - 1);
        if self.scroll_bottom < self.scroll_top {
            self.scroll_bottom = self.scroll_top;
        }
        if self.origin_mode {
            self.snap_cursor_to_border();
            self.new_grapheme();
        }
    }

    /// DECSC.
    pub fn save_cursor(&mut self) {
        self.save.col = self.cursor_col;
        self.save.row = self.cursor_row;
        self.save.renditions = self.renditions;
        self.save.auto_wrap_mode = self.auto_wrap_mode;
        self.save.origin_mode = self.origin_mode;
        self.save.charsets = self.charsets;
        self.save.shift_out = self.shift_out;
    }

    /// DECRC.
    pub fn restore_cursor(&mut self) {
        self.cursor_col = self.save.col;
        self.cursor_row = self.save.row;
        self.renditions = self.save.renditions;
        self.auto_wrap_mode = self.save.auto_wrap_mode;
        self.origin_mode = self.save.origin_mode;
        self.charsets = self.save.charsets;
        self.shift_out = self.save.shift_out;
        self.snap_cursor_to_border();
        self.new_grapheme();
    }

    fn resize(&mut self, width: i32, height: i32) {
        if self.width != width || self.height != height {
            self.scroll_top = 0;
            self.scroll_bottom = height - 1;
        }
        self.tabs.resize(width as usize, false);
        if self.default_tabs {
            self.reinitialize_tabs(self.width.max(0) as usize);
        }
        self.width = width;
        self.height = height;
        self.snap_cursor_to_border();
        if self.combining_col >= width || self.combining_row >= height {
            self.combining_col = -1;
            self.combining_row = -1;
        }
    }

    /// Equality of the fields that affect the display (Mosh's notion).
    pub fn display_eq(&self, o: &DrawState) -> bool {
        self.width == o.width
            && self.height == o.height
            && self.cursor_col == o.cursor_col
            && self.cursor_row == o.cursor_row
            && self.cursor_visible == o.cursor_visible
            && self.reverse_video == o.reverse_video
            && self.renditions == o.renditions
            && self.bracketed_paste == o.bracketed_paste
            && self.mouse_reporting_mode == o.mouse_reporting_mode
            && self.mouse_focus_event == o.mouse_focus_event
            && self.mouse_alternate_scroll == o.mouse_alternate_scroll
            && self.mouse_encoding_mode == o.mouse_encoding_mode
    }

    /// The background colour erased cells get (BCE).
    pub fn background(&self) -> Color {
        self.renditions.bg
    }
}

/// The main screen while the alternate screen is shown (extended emulator).
#[derive(Debug, Clone)]
struct SavedScreen {
    rows: Vec<Arc<Row>>,
    /// Cursor saved by mode 1049 (restored on leaving).
    cursor: Option<SavedCursor>,
}

/// The whole terminal state a display diff synchronizes.
#[derive(Clone)]
pub struct Framebuffer {
    rows: Vec<Arc<Row>>,
    /// Icon name (OSC 0/1).
    pub icon_name: String,
    /// Window title (OSC 0/2).
    pub window_title: String,
    /// OSC 52 clipboard contents as received (normally base64).
    pub clipboard: String,
    /// Number of BELs received (wrapping).
    pub bell_count: u32,
    /// An OSC title was ever set (enables title output in diffs).
    pub title_initialized: bool,
    /// Cursor, pen and modes.
    pub ds: DrawState,
    alternate: Option<Box<SavedScreen>>,
    scrollback: Arc<Scrollback>,
    /// Maximum lines kept in the scrollback (0 = none, Mosh's behaviour).
    pub scrollback_limit: usize,
    /// Extended emulator: keep a row's soft-wrap flag on its last cell when
    /// cells are inserted or deleted (Mosh lets it drift into the row).
    pub(crate) keep_wrap_at_end: bool,
}

impl PartialEq for Framebuffer {
    /// Mosh's framebuffer equality: rows, title, clipboard, bell count and
    /// the display-relevant draw state (not the modes that are never
    /// sent). Unlike Mosh it includes the icon name, so that an icon-only
    /// change is sent at all.
    fn eq(&self, o: &Self) -> bool {
        self.rows.len() == o.rows.len()
            && self
                .rows
                .iter()
                .zip(&o.rows)
                .all(|(a, b)| Arc::ptr_eq(a, b) || **a == **b)
            && self.window_title == o.window_title
            && self.icon_name == o.icon_name
            && self.title_initialized == o.title_initialized
            && self.clipboard == o.clipboard
            && self.bell_count == o.bell_count
            && self.ds.display_eq(&o.ds)
    }
}

impl std::fmt::Debug for Framebuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Framebuffer {}x{} cursor {:?}{} title {:?}\n{}",
            self.width(),
            self.height(),
            self.cursor(),
            if self.ds.cursor_visible {
                ""
            } else {
                " (hidden)"
            },
            self.window_title,
            self.screen_text()
        )
    }
}

impl Framebuffer {
    /// What a peer's screen shows differently from this one, as Mosh's
    /// `compare` judges it (printed grapheme, width, renditions and wrap
    /// flag of every cell, cursor position) plus everything else a display
    /// diff synchronizes: cursor visibility, pen, title, clipboard, bell
    /// count and modes. Row generations are ignored. Empty when equal.
    pub fn differences(&self, o: &Framebuffer) -> Vec<String> {
        let mut d = Vec::new();
        if self.width() != o.width() || self.height() != o.height() {
            d.push(format!(
                "size {}x{} vs {}x{}",
                self.width(),
                self.height(),
                o.width(),
                o.height()
            ));
            return d;
        }
        for (y, (a, b)) in self.rows.iter().zip(&o.rows).enumerate() {
            if Arc::ptr_eq(a, b) {
                continue;
            }
            for (x, (ca, cb)) in a.cells.iter().zip(&b.cells).enumerate() {
                if ca.grapheme() != cb.grapheme()
                    || ca.wide != cb.wide
                    || ca.renditions != cb.renditions
                    || ca.wrap != cb.wrap
                {
                    d.push(format!("cell ({y},{x}): {ca:?} vs {cb:?}"));
                }
            }
        }
        if self.cursor() != o.cursor() {
            d.push(format!("cursor {:?} vs {:?}", self.cursor(), o.cursor()));
        }
        let (a, b) = (&self.ds, &o.ds);
        if a.cursor_visible != b.cursor_visible {
            d.push("cursor visibility".into());
        }
        if a.renditions != b.renditions {
            d.push(format!("pen {:?} vs {:?}", a.renditions, b.renditions));
        }
        if self.window_title != o.window_title || self.icon_name != o.icon_name {
            d.push(format!(
                "title {:?}/{:?} vs {:?}/{:?}",
                self.window_title, self.icon_name, o.window_title, o.icon_name
            ));
        }
        if self.clipboard != o.clipboard {
            d.push("clipboard".into());
        }
        if self.bell_count != o.bell_count {
            d.push(format!("bells {} vs {}", self.bell_count, o.bell_count));
        }
        if (
            a.reverse_video,
            a.bracketed_paste,
            a.mouse_reporting_mode,
            a.mouse_focus_event,
            a.mouse_encoding_mode,
        ) != (
            b.reverse_video,
            b.bracketed_paste,
            b.mouse_reporting_mode,
            b.mouse_focus_event,
            b.mouse_encoding_mode,
        ) {
            d.push("modes".into());
        }
        d
    }

    /// A blank screen; sizes below 1 are raised to 1.
    pub fn new(width: usize, height: usize) -> Self {
        let w = width.clamp(1, 65535);
        let h = height.clamp(1, 65535);
        let blank = Arc::new(Row::new(w, Color::Default));
        Framebuffer {
            rows: vec![blank; h],
            icon_name: String::new(),
            window_title: String::new(),
            clipboard: String::new(),
            bell_count: 0,
            title_initialized: false,
            ds: DrawState::new(w as i32, h as i32),
            alternate: None,
            scrollback: Arc::new(Scrollback::default()),
            scrollback_limit: 0,
            keep_wrap_at_end: false,
        }
    }

    /// Columns.
    pub fn width(&self) -> usize {
        self.ds.width as usize
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.ds.height as usize
    }

    /// Cursor position as (row, column), 0-based.
    pub fn cursor(&self) -> (usize, usize) {
        (self.ds.cursor_row as usize, self.ds.cursor_col as usize)
    }

    /// Moves the cursor (clamped to the screen), as CUP would.
    pub fn set_cursor(&mut self, row: usize, col: usize) {
        let origin = self.ds.origin_mode;
        self.ds.origin_mode = false;
        self.ds.move_row(row.min(i32::MAX as usize) as i32, false);
        self.ds
            .move_col(col.min(i32::MAX as usize) as i32, false, false);
        self.ds.origin_mode = origin;
    }

    /// Cursor visibility (DECTCEM).
    pub fn cursor_visible(&self) -> bool {
        self.ds.cursor_visible
    }

    /// All rows, top to bottom.
    pub fn rows(&self) -> &[Arc<Row>] {
        &self.rows
    }

    /// Row `row`, if on screen.
    pub fn row(&self, row: usize) -> Option<&Row> {
        self.rows.get(row).map(|r| &**r)
    }

    /// Row `row` for writing (copied first if shared).
    pub fn row_mut(&mut self, row: usize) -> Option<&mut Row> {
        self.rows.get_mut(row).map(Arc::make_mut)
    }

    /// Replaces a whole row (e.g. for overlays), if on screen.
    pub fn set_row(&mut self, row: usize, r: Arc<Row>) {
        if let Some(slot) = self.rows.get_mut(row) {
            *slot = r;
        }
    }

    /// Cell at (row, col), if on screen.
    pub fn cell(&self, row: usize, col: usize) -> Option<&Cell> {
        self.rows.get(row).and_then(|r| r.cells.get(col))
    }

    /// Cell at (row, col) for writing, if on screen.
    pub fn cell_mut(&mut self, row: usize, col: usize) -> Option<&mut Cell> {
        self.row_mut(row).and_then(|r| r.cell_mut(col))
    }

    /// Sets the cell at (row, col); ignored off screen.
    pub fn set_cell(&mut self, row: usize, col: usize, cell: Cell) {
        if let Some(c) = self.cell_mut(row, col) {
            *c = cell;
        }
    }

    /// Text of row `row` (printed graphemes, wide continuation cells skipped,
    /// trailing blanks trimmed).
    pub fn row_text(&self, row: usize) -> String {
        let Some(r) = self.row(row) else {
            return String::new();
        };
        let mut s = String::new();
        let mut col = 0;
        while let Some(c) = r.cells.get(col) {
            s.push_str(&c.grapheme());
            col += c.width();
        }
        s.trim_end().to_string()
    }

    /// The whole screen as text, one line per row.
    pub fn screen_text(&self) -> String {
        (0..self.height())
            .map(|r| self.row_text(r))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Lines that scrolled off the top of the main screen, oldest first.
    /// A line keeps its cells up to the last one written (or all of them if
    /// it was erased with a background colour); the cells missing on the
    /// right are default blanks.
    pub fn scrollback(&self) -> &Scrollback {
        &self.scrollback
    }

    /// The alternate screen is shown (extended emulator only).
    pub fn alternate_screen_active(&self) -> bool {
        self.alternate.is_some()
    }

    fn new_row(&self) -> Arc<Row> {
        Arc::new(Row::new(self.width(), self.ds.background()))
    }

    pub(crate) fn cursor_row_mut(&mut self) -> Option<&mut Row> {
        let r = self.ds.cursor_row as usize;
        self.row_mut(r)
    }

    pub(crate) fn reset_cell(&mut self, row: usize, col: usize) {
        let bg = self.ds.background();
        if let Some(c) = self.cell_mut(row, col) {
            c.reset(bg);
        }
    }

    pub(crate) fn reset_row(&mut self, row: usize) {
        let bg = self.ds.background();
        if let Some(r) = self.row_mut(row) {
            r.reset(bg);
        }
    }

    /// SU / SD: positive scrolls the region up.
    pub(crate) fn scroll(&mut self, n: i32) {
        if n >= 0 {
            self.delete_lines(self.ds.scroll_top, n, true);
        } else {
            self.insert_line(self.ds.scroll_top, n.saturating_neg());
        }
    }

    /// Index/reverse index by `rows`, scrolling the region when the cursor
    /// leaves it.
    pub(crate) fn move_rows_autoscroll(&mut self, rows: i32) {
        let row = self.ds.cursor_row;
        if row < self.ds.scroll_top || row > self.ds.scroll_bottom {
            self.ds.move_row(rows, true);
            return;
        }
        if row + rows > self.ds.scroll_bottom {
            let n = row + rows - self.ds.scroll_bottom;
            self.scroll(n);
            self.ds.move_row(-n, true);
        } else if row + rows < self.ds.scroll_top {
            let n = row + rows - self.ds.scroll_top;
            self.scroll(n);
            self.ds.move_row(-n, true);
        }
        self.ds.move_row(rows, true);
    }

    /// IL (and reverse scrolling).
    pub(crate) fn insert_line(&mut self, before_row: i32, count: i32) {
        let (top, bottom) = (self.ds.scroll_top, self.ds.scroll_bottom);
        if before_row < top || before_row > bottom + 1 {
            return;
        }
        let n = (bottom + 1 - before_row).min(count);
        if n <= 0 {
            return;
        }
        let (n, before, bottom) = (n as usize, before_row as usize, bottom as usize);
        let bg = self.ds.background();
        let width = self.width();
        let Some(region) = self.rows.get_mut(before..bottom + 1) else {
            return;
        };
        // The rows pushed off the bottom come round to the top as the blank
        // lines: a rotation of pointers, no allocation.
        region.rotate_right(n);
        let mut generation = None;
        for line in region.iter_mut().take(n) {
            recycle_blank(line, width, bg);
            // The inserted blank lines are one row repeated (one
            // generation), as they always were: the diff's scroll
            // detection sees the same rows as before.
            let g = *generation.get_or_insert(line.generation);
            if line.generation != g
                && let Some(row) = Arc::get_mut(line)
            {
                row.generation = g;
            }
        }
    }

    /// DL (and forward scrolling; `may_save` lets lines leaving the top of
    /// the main screen enter the scrollback).
    pub(crate) fn delete_lines(&mut self, row: i32, count: i32, may_save: bool) {
        let (top, bottom) = (self.ds.scroll_top, self.ds.scroll_bottom);
        if row < top || row > bottom {
            return;
        }
        let n = (bottom + 1 - row).min(count);
        if n <= 0 {
            return;
        }
        let (n, r, bottom) = (n as usize, row as usize, bottom as usize);
        let bg = self.ds.background();
        let width = self.width();
        let save = may_save && r == 0 && self.scrollback_limit > 0 && self.alternate.is_none();
        let limit = self.scrollback_limit;
        let Some(region) = self.rows.get_mut(r..bottom + 1) else {
            return;
        };
        // The deleted rows go round to the bottom of the region, where they
        // become the new blank lines: a rotation of pointers (one line feed
        // moves 24 pointers, not 24 rows of cells) and no allocation.
        region.rotate_left(n);
        let at = region.len() - n;
        let fresh = region.get_mut(at..).unwrap_or_default();
        if save {
            let sb = Arc::make_mut(&mut self.scrollback);
            for line in fresh.iter() {
                sb.push_row(line, limit);
            }
        }
        // The screen rows themselves stay on screen as the new blank lines:
        // the same few rows are rewritten again and again and stay in the
        // cache, where handing them to the scrollback and taking back one
        // that left the screen 1000 lines ago would touch cold memory on
        // every line feed.
        for line in fresh.iter_mut() {
            recycle_blank(line, width, bg);
        }
    }

    /// ICH one cell at (row, col).
    pub(crate) fn insert_cell(&mut self, row: usize, col: usize) {
        let bg = self.ds.background();
        let keep = self.keep_wrap_at_end;
        if let Some(r) = self.row_mut(row) {
            let wrap = r.wrap();
            r.insert_cell(col, bg);
            if keep {
                r.set_wrap(wrap);
            }
        }
    }

    /// DCH one cell at (row, col).
    pub(crate) fn delete_cell(&mut self, row: usize, col: usize) {
        let bg = self.ds.background();
        let keep = self.keep_wrap_at_end;
        if let Some(r) = self.row_mut(row) {
            let wrap = r.wrap();
            if keep {
                r.set_wrap(false);
            }
            r.delete_cell(col, bg);
            if keep {
                r.set_wrap(wrap);
            }
        }
    }

    /// RIS: everything but the bell count, the icon name and the
    /// title-initialized flag goes back to the initial state.
    pub(crate) fn reset(&mut self) {
        let (w, h) = (self.ds.width, self.ds.height);
        self.ds = DrawState::new(w, h);
        let blank = self.new_row();
        self.rows = vec![blank; h as usize];
        self.window_title.clear();
        self.clipboard.clear();
        self.alternate = None;
    }

    /// DECSTR.
    pub(crate) fn soft_reset(&mut self) {
        self.ds.insert_mode = false;
        self.ds.origin_mode = false;
        self.ds.cursor_visible = true;
        self.ds.application_mode_cursor_keys = false;
        let h = self.ds.height;
        self.ds.set_scrolling_region(0, h - 1);
        self.ds.renditions = Renditions::default();
        self.ds.save = SavedCursor::default();
    }

    /// Changes the size: rows are cut or added at the bottom, columns at the
    /// right; soft-wrap flags are cleared when the width changes.
    pub fn resize(&mut self, width: usize, height: usize) {
        let w = width.clamp(1, 65535);
        let h = height.clamp(1, 65535);
        let old_w = self.width();
        let old_h = self.height();
        self.ds.resize(w as i32, h as i32);
        let bg = self.ds.background();
        resize_rows(&mut self.rows, old_w, old_h, w, h, bg);
        if let Some(alt) = self.alternate.as_mut() {
            resize_rows(&mut alt.rows, old_w, old_h, w, h, bg);
        }
    }

    /// Erases wide characters left in the last column (by ICH or a narrowing
    /// resize): a peer would wrap them to the next line. Extended emulator only.
    pub(crate) fn clear_wide_in_last_column(&mut self) {
        let bg = self.ds.background();
        let last = self.width() - 1;
        for r in &mut self.rows {
            if r.cells.get(last).is_some_and(|c| c.wide)
                && let Some(c) = Arc::make_mut(r).cell_mut(last)
            {
                c.reset(bg);
            }
        }
    }

    /// Switches to the alternate screen (extended emulator), saving the main one.
    pub(crate) fn enter_alternate(&mut self, save_cursor: bool, clear: bool) {
        if self.alternate.is_none() {
            let blank = self.new_row();
            let h = self.height();
            let main = std::mem::replace(&mut self.rows, vec![blank; h]);
            let cursor = save_cursor.then(|| {
                self.ds.save_cursor();
                self.ds.save.clone()
            });
            self.alternate = Some(Box::new(SavedScreen { rows: main, cursor }));
        } else if clear {
            for r in 0..self.height() {
                self.reset_row(r);
            }
        }
    }

    /// Leaves the alternate screen, restoring the main one.
    pub(crate) fn leave_alternate(&mut self, restore_cursor: bool) {
        if let Some(alt) = self.alternate.take() {
            self.rows = alt.rows;
            if restore_cursor && let Some(c) = alt.cursor {
                self.ds.save = c;
                self.ds.restore_cursor();
            }
        }
    }
}

/// Makes `line` a blank row of `width` cells with background `bg`, in
/// place when nobody else holds it (then only its written cells are erased).
fn recycle_blank(line: &mut Arc<Row>, width: usize, bg: Color) {
    match Arc::get_mut(line) {
        Some(row) if row.cells.len() == width => row.reset(bg),
        _ => *line = Arc::new(Row::new(width, bg)),
    }
}

fn resize_rows(
    rows: &mut Vec<Arc<Row>>,
    old_w: usize,
    old_h: usize,
    w: usize,
    h: usize,
    bg: Color,
) {
    let kept = old_h.min(h);
    if old_h != h {
        rows.resize(h, Arc::new(Row::new(w, bg)));
    }
    if old_w == w {
        return;
    }
    for r in rows.iter_mut().take(kept) {
        let row = Arc::make_mut(r);
        row.set_wrap(false);
        row.resize(w, bg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_default_every_eight_and_extend_on_resize() {
        let mut fb = Framebuffer::new(20, 2);
        assert_eq!(fb.ds.next_tab(1), 8);
        assert_eq!(fb.ds.next_tab(2), 16);
        assert_eq!(fb.ds.next_tab(3), -1);
        fb.resize(30, 2);
        assert_eq!(fb.ds.next_tab(3), 24);
    }

    #[test]
    fn resize_clears_wrap_and_keeps_cells() {
        let mut fb = Framebuffer::new(4, 2);
        fb.set_cell(0, 1, Cell::with_text("x", Renditions::default()));
        if let Some(r) = fb.row_mut(0) {
            r.set_wrap(true);
        }
        fb.resize(6, 3);
        assert_eq!(fb.row_text(0), " x");
        assert!(!fb.row(0).is_some_and(Row::wrap));
        assert_eq!(fb.height(), 3);
        assert_eq!(fb.row(2).map(|r| r.cells.len()), Some(6));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Region(i32, i32),
        Delete(i32, i32, bool),
        Insert(i32, i32),
        Pen(u8),
        Write(usize, usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0i32..6, 0i32..8).prop_map(|(a, b)| Op::Region(a, b)),
            (-1i32..8, -1i32..5, proptest::bool::ANY).prop_map(|(r, n, s)| Op::Delete(r, n, s)),
            (-1i32..9, -1i32..5).prop_map(|(r, n)| Op::Insert(r, n)),
            (0u8..3).prop_map(Op::Pen),
            (0usize..6, 0usize..5).prop_map(|(r, c)| Op::Write(r, c)),
        ]
    }

    /// Text (`.` for an empty cell) and first cell's background of a row.
    fn look(r: &Row) -> (String, Color) {
        let text: String = r
            .cells()
            .iter()
            .map(|c| {
                if c.is_empty() {
                    ".".to_string()
                } else {
                    c.contents().to_string()
                }
            })
            .collect();
        (text, r.cells()[0].renditions.bg)
    }

    proptest::proptest! {
        /// Scrolling by rotating rows (and recycling them, erasing only
        /// what was written) gives the lines, blank backgrounds and
        /// scrollback of the plain remove-and-insert model of DL/IL.
        #[test]
        fn line_insert_and_delete_match_a_plain_model(
            ops in proptest::collection::vec(op(), 0..80),
            limit in 0usize..4,
        ) {
            let (w, h) = (5usize, 6usize);
            let blank = ".".repeat(w);
            let mut fb = Framebuffer::new(w, h);
            fb.scrollback_limit = limit;
            let mut model: Vec<(String, Color)> = vec![(blank.clone(), Color::Default); h];
            let mut sb: Vec<(String, Color)> = Vec::new();
            let mut label = 0u8;
            for op in ops {
                let (top, bottom) = (fb.ds.scroll_top, fb.ds.scroll_bottom);
                let bg = fb.ds.background();
                match op {
                    Op::Region(a, b) => fb.ds.set_scrolling_region(a, b),
                    Op::Pen(k) => {
                        fb.ds.renditions.bg = if k == 0 { Color::Default } else { Color::Indexed(k) };
                    }
                    Op::Write(r, c) => {
                        label = (label + 1) % 26;
                        let ch = char::from(b'a' + label);
                        fb.set_cell(r, c, Cell::with_text(&ch.to_string(), Renditions::default()));
                        let m = &mut model[r];
                        m.0.replace_range(c..c + 1, &ch.to_string());
                        if c == 0 {
                            m.1 = Color::Default;
                        }
                    }
                    Op::Delete(row, count, save) => {
                        fb.delete_lines(row, count, save);
                        let n = (bottom + 1 - row).min(count);
                        if row >= top && row <= bottom && n > 0 {
                            let (r, n, b) = (row as usize, n as usize, bottom as usize);
                            let gone: Vec<_> = model.drain(r..r + n).collect();
                            if save && r == 0 && limit > 0 {
                                for g in gone {
                                    sb.push(g);
                                    if sb.len() > limit {
                                        sb.remove(0);
                                    }
                                }
                            }
                            for _ in 0..n {
                                model.insert(b + 1 - n, (blank.clone(), bg));
                            }
                        }
                    }
                    Op::Insert(before, count) => {
                        fb.insert_line(before, count);
                        let n = (bottom + 1 - before).min(count);
                        if before >= top && before <= bottom + 1 && n > 0 {
                            let (r, n, b) = (before as usize, n as usize, bottom as usize);
                            model.drain(b + 1 - n..b + 1);
                            for _ in 0..n {
                                model.insert(r, (blank.clone(), bg));
                            }
                        }
                    }
                }
                let got: Vec<_> = fb.rows().iter().map(|r| look(r)).collect();
                proptest::prop_assert_eq!(&got, &model);
                // Scrollback lines may leave off a default-blank tail.
                let got_sb: Vec<_> = fb
                    .scrollback()
                    .iter()
                    .map(|cells| format!("{:.<w$}", cells.iter().map(|c| if c.is_empty() { "." } else { c.contents() }).collect::<String>()))
                    .collect();
                let want_sb: Vec<_> = sb.iter().map(|m| m.0.clone()).collect();
                proptest::prop_assert_eq!(got_sb, want_sb);
                for r in fb.rows() {
                    proptest::prop_assert!(r.clean_tail_is_blank());
                    proptest::prop_assert_eq!(r.cells().len(), w);
                }
                proptest::prop_assert!(fb.scrollback().clean_tails_are_blank());
                for cells in fb.scrollback().iter() {
                    proptest::prop_assert!(cells.len() <= w);
                }
            }
        }
    }
}
