//! The engine's view of a framebuffer: the few things prediction reads and
//! writes, so the engine does not depend on the emulator's internals.

/// One character cell as prediction sees it.
pub trait PredictCell: Clone + PartialEq {
    /// The cell's display attributes.
    type Renditions: Clone + PartialEq;

    /// An empty cell with default renditions.
    fn blank() -> Self;
    /// The grapheme shown (empty for an erased cell).
    fn contents(&self) -> &str;
    /// Make the cell show exactly `ch` (a width-1 character), renditions kept.
    fn set_char(&mut self, ch: char);
    /// Empty the cell's contents, renditions kept.
    fn clear_contents(&mut self);
    /// The cell's renditions.
    fn renditions(&self) -> &Self::Renditions;
    /// Replace the cell's renditions.
    fn set_renditions(&mut self, r: Self::Renditions);
    /// Turn the underline attribute on (how unconfirmed predictions are flagged).
    fn set_underlined(&mut self);

    /// Blank as Mosh counts it: empty, a space or a no-break space.
    fn is_blank(&self) -> bool {
        matches!(self.contents(), "" | " " | "\u{a0}")
    }

    /// Same visible contents (any two blanks match), renditions ignored.
    fn contents_match(&self, other: &Self) -> bool {
        (self.is_blank() && other.is_blank()) || self.contents() == other.contents()
    }
}

/// A framebuffer as prediction sees it: size, cursor and cells.
pub trait PredictScreen {
    /// The cell type.
    type Cell: PredictCell;

    /// Number of rows.
    fn height(&self) -> usize;
    /// Number of columns.
    fn width(&self) -> usize;
    /// Cursor position as (row, col).
    fn cursor(&self) -> (usize, usize);
    /// The cell at (row, col), `None` off-screen.
    fn cell(&self, row: usize, col: usize) -> Option<&Self::Cell>;
    /// The cell at (row, col) for writing, `None` off-screen.
    fn cell_mut(&mut self, row: usize, col: usize) -> Option<&mut Self::Cell>;
    /// Move the displayed cursor (ignored when off-screen).
    fn set_cursor(&mut self, row: usize, col: usize);
    /// The renditions the emulator would give a newly printed character.
    fn current_renditions(&self) -> <Self::Cell as PredictCell>::Renditions;
}
