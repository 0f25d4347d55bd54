//! A minimal screen for the engine's unit tests.

use super::screen::{PredictCell, PredictScreen};

/// A test cell: contents plus an underline flag as its only rendition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GridCell {
    pub contents: String,
    pub underline: bool,
}

impl PredictCell for GridCell {
    type Renditions = bool;

    fn blank() -> Self {
        Self::default()
    }
    fn contents(&self) -> &str {
        &self.contents
    }
    fn set_char(&mut self, ch: char) {
        self.contents.clear();
        self.contents.push(ch);
    }
    fn clear_contents(&mut self) {
        self.contents.clear();
    }
    fn renditions(&self) -> &bool {
        &self.underline
    }
    fn set_renditions(&mut self, r: bool) {
        self.underline = r;
    }
    fn set_underlined(&mut self) {
        self.underline = true;
    }
}

/// A test screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub rows: Vec<Vec<GridCell>>,
    pub cursor: (usize, usize),
    pub width: usize,
}

impl Grid {
    pub fn new(height: usize, width: usize) -> Self {
        Self {
            rows: vec![vec![GridCell::default(); width]; height],
            cursor: (0, 0),
            width,
        }
    }

    pub fn put(&mut self, row: usize, col: usize, ch: char) {
        if let Some(c) = self.cell_mut(row, col) {
            c.set_char(ch);
        }
    }

    /// Writes `s` at the cursor and advances it (no wrapping).
    pub fn type_str(&mut self, s: &str) {
        for ch in s.chars() {
            let (r, c) = self.cursor;
            self.put(r, c, ch);
            self.cursor.1 = (c + 1).min(self.width.saturating_sub(1));
        }
    }

    /// The row's text, blanks as spaces, trailing blanks trimmed.
    pub fn text(&self, row: usize) -> String {
        let s: String = self.rows[row]
            .iter()
            .map(|c| c.contents.chars().next().unwrap_or(' '))
            .collect();
        s.trim_end().to_owned()
    }

    pub fn underlined(&self, row: usize, col: usize) -> bool {
        self.rows[row][col].underline
    }
}

impl PredictScreen for Grid {
    type Cell = GridCell;

    fn height(&self) -> usize {
        self.rows.len()
    }
    fn width(&self) -> usize {
        self.width
    }
    fn cursor(&self) -> (usize, usize) {
        self.cursor
    }
    fn cell(&self, row: usize, col: usize) -> Option<&GridCell> {
        self.rows.get(row)?.get(col)
    }
    fn cell_mut(&mut self, row: usize, col: usize) -> Option<&mut GridCell> {
        self.rows.get_mut(row)?.get_mut(col)
    }
    fn set_cursor(&mut self, row: usize, col: usize) {
        self.cursor = (row, col);
    }
    fn current_renditions(&self) -> bool {
        false
    }
}
