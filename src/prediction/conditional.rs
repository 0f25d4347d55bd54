//! Single predictions and how each is judged and drawn: a predicted cell
//! and a predicted cursor position, each valid only if the server agrees.

use std::time::Instant;

use super::screen::{PredictCell, PredictScreen};

/// Never (as an expiration frame or epoch): a reset prediction.
pub const NEVER: u64 = u64::MAX;

/// The verdict on one prediction against a server frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// The server has not yet had time to echo it.
    Pending,
    /// The server shows exactly what was predicted, and it is new.
    Correct,
    /// Right, but proves nothing (blank, unknown or unchanged).
    CorrectNoCredit,
    /// The server shows something else (or it is off-screen).
    IncorrectOrExpired,
    /// Not a prediction at all.
    Inactive,
}

/// What every prediction carries: when it can be judged and when shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Judged once the echo ack reaches this client state number.
    pub expiration_frame: u64,
    /// Hidden while this epoch is above the confirmed epoch.
    pub tentative_until_epoch: u64,
    /// When the prediction was made (for the glitch trigger).
    pub prediction_time: Option<Instant>,
    /// Whether this is a prediction at all.
    pub active: bool,
    /// Made on a screen that reflected every unpredicted key (may confirm).
    pub fresh: bool,
}

impl Timing {
    fn new(expiration_frame: u64, tentative_until_epoch: u64) -> Self {
        Self {
            expiration_frame,
            tentative_until_epoch,
            prediction_time: None,
            active: false,
            fresh: true,
        }
    }

    /// Still hidden: its epoch has not been confirmed.
    pub fn tentative(&self, confirmed_epoch: u64) -> bool {
        self.tentative_until_epoch > confirmed_epoch
    }

    /// Judge it when the echo ack reaches `frame`; made `now`.
    pub fn expire(&mut self, frame: u64, now: Instant) {
        self.expiration_frame = frame;
        self.prediction_time = Some(now);
    }

    fn clear(&mut self) {
        self.expiration_frame = NEVER;
        self.tentative_until_epoch = NEVER;
        self.active = false;
    }
}

/// A predicted cursor position.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorMove {
    /// Timing and epoch.
    pub timing: Timing,
    /// Predicted row.
    pub row: usize,
    /// Predicted column.
    pub col: usize,
}

impl CursorMove {
    /// An active cursor prediction at (row, col).
    pub fn new(expiration_frame: u64, row: usize, col: usize, epoch: u64) -> Self {
        let mut timing = Timing::new(expiration_frame, epoch);
        timing.active = true;
        Self { timing, row, col }
    }

    /// Judges the prediction: the real cursor must be there once echoed.
    pub fn validity<S: PredictScreen>(&self, fb: &S, late_acked: u64) -> Validity {
        if !self.timing.active {
            return Validity::Inactive;
        }
        if self.row >= fb.height() || self.col >= fb.width() {
            return Validity::IncorrectOrExpired;
        }
        if late_acked < self.timing.expiration_frame {
            return Validity::Pending;
        }
        if fb.cursor() == (self.row, self.col) {
            Validity::Correct
        } else {
            Validity::IncorrectOrExpired
        }
    }

    /// Moves the displayed cursor if the prediction is shown.
    pub fn apply<S: PredictScreen>(&self, fb: &mut S, confirmed_epoch: u64) {
        if !self.timing.active || self.timing.tentative(confirmed_epoch) {
            return;
        }
        if self.row < fb.height() && self.col < fb.width() {
            fb.set_cursor(self.row, self.col);
        }
    }
}

/// A predicted cell.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlayCell<C> {
    /// Timing and epoch.
    pub timing: Timing,
    /// Column.
    pub col: usize,
    /// What the cell is predicted to show.
    pub replacement: C,
    /// Predicted to change, but to what is not known (shifted off the row).
    pub unknown: bool,
    /// Contents the cell had before; a match with these earns no credit.
    pub original_contents: Vec<C>,
}

impl<C: PredictCell> OverlayCell<C> {
    /// An inactive cell prediction for column `col`.
    pub fn new(col: usize, epoch: u64) -> Self {
        Self {
            timing: Timing::new(0, epoch),
            col,
            replacement: C::blank(),
            unknown: false,
            original_contents: Vec::new(),
        }
    }

    /// Forgets the prediction entirely.
    pub fn reset(&mut self) {
        self.unknown = false;
        self.original_contents.clear();
        self.timing.clear();
    }

    /// Forgets the prediction but remembers what it predicted as one more
    /// "original" content, so re-predicting the same thing earns no credit.
    pub fn reset_with_orig(&mut self) {
        if !self.timing.active || self.unknown {
            self.reset();
            return;
        }
        self.original_contents.push(self.replacement.clone());
        self.timing.clear();
    }

    /// Makes it an active prediction of `epoch`, judged at `frame`;
    /// `fresh` when made on an up-to-date screen.
    pub fn activate(&mut self, epoch: u64, frame: u64, now: Instant, fresh: bool) {
        self.timing.active = true;
        self.timing.fresh = fresh;
        self.timing.tentative_until_epoch = epoch;
        self.timing.expire(frame, now);
    }

    /// Judges the prediction against the server's cell at (row, col).
    pub fn validity<S: PredictScreen<Cell = C>>(
        &self,
        fb: &S,
        row: usize,
        late_acked: u64,
    ) -> Validity {
        if !self.timing.active {
            return Validity::Inactive;
        }
        let Some(current) = fb.cell(row, self.col) else {
            return Validity::IncorrectOrExpired;
        };
        if late_acked < self.timing.expiration_frame {
            return Validity::Pending;
        }
        if self.unknown || self.replacement.is_blank() {
            // A blank is too easy to match by accident to prove anything.
            return Validity::CorrectNoCredit;
        }
        if !current.contents_match(&self.replacement) {
            return Validity::IncorrectOrExpired;
        }
        if self
            .original_contents
            .iter()
            .any(|c| c.contents_match(&self.replacement))
        {
            Validity::CorrectNoCredit
        } else {
            Validity::Correct
        }
    }

    /// Draws the prediction over the server's cell if it is shown.
    pub fn apply<S: PredictScreen<Cell = C>>(
        &self,
        fb: &mut S,
        row: usize,
        confirmed_epoch: u64,
        flag: bool,
    ) {
        if !self.timing.active || self.timing.tentative(confirmed_epoch) {
            return;
        }
        let last_col = self.col + 1 == fb.width();
        let Some(cell) = fb.cell_mut(row, self.col) else {
            return;
        };
        let flag = flag && !(self.replacement.is_blank() && cell.is_blank());
        if self.unknown {
            if flag && !last_col {
                cell.set_underlined();
            }
            return;
        }
        if *cell != self.replacement {
            *cell = self.replacement.clone();
            if flag {
                cell.set_underlined();
            }
        }
    }
}

/// The cell predictions of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlayRow<C> {
    /// Row number on the screen.
    pub row: usize,
    /// One entry per column.
    pub cells: Vec<OverlayCell<C>>,
}

impl<C: PredictCell> OverlayRow<C> {
    /// A row of inactive predictions, `width` columns wide.
    pub fn new(row: usize, width: usize, epoch: u64) -> Self {
        Self {
            row,
            cells: (0..width).map(|c| OverlayCell::new(c, epoch)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_grid::{Grid, GridCell};
    use super::*;

    fn cell(ch: char) -> GridCell {
        let mut c = GridCell::blank();
        c.set_char(ch);
        c
    }

    #[test]
    fn cell_is_pending_until_the_echo_ack_reaches_its_frame() {
        let now = Instant::now();
        let mut fb = Grid::new(2, 5);
        let mut p = OverlayCell::<GridCell>::new(1, 1);
        p.activate(1, 3, now, true);
        p.replacement = cell('x');
        assert_eq!(p.validity(&fb, 0, 2), Validity::Pending);
        assert_eq!(p.validity(&fb, 0, 3), Validity::IncorrectOrExpired);
        fb.put(0, 1, 'x');
        assert_eq!(p.validity(&fb, 0, 3), Validity::Correct);
        assert_eq!(p.validity(&fb, 5, 3), Validity::IncorrectOrExpired);
    }

    #[test]
    fn blank_unknown_and_unchanged_earn_no_credit() {
        let now = Instant::now();
        let mut fb = Grid::new(1, 5);
        let mut p = OverlayCell::<GridCell>::new(0, 1);
        p.activate(1, 1, now, true);
        assert_eq!(p.validity(&fb, 0, 1), Validity::CorrectNoCredit, "blank");
        p.replacement = cell('x');
        p.unknown = true;
        assert_eq!(p.validity(&fb, 0, 1), Validity::CorrectNoCredit, "unknown");
        p.unknown = false;
        p.original_contents.push(cell('x'));
        fb.put(0, 0, 'x');
        assert_eq!(
            p.validity(&fb, 0, 1),
            Validity::CorrectNoCredit,
            "unchanged"
        );
    }

    #[test]
    fn reset_with_orig_remembers_the_old_prediction() {
        let now = Instant::now();
        let mut p = OverlayCell::<GridCell>::new(0, 1);
        p.activate(1, 1, now, true);
        p.replacement = cell('a');
        p.reset_with_orig();
        assert!(!p.timing.active);
        assert_eq!(p.original_contents, vec![cell('a')]);
        p.unknown = true;
        p.timing.active = true;
        p.reset_with_orig();
        assert!(p.original_contents.is_empty() && !p.unknown);
    }

    #[test]
    fn tentative_cells_are_not_drawn_and_shown_ones_are_underlined_when_flagging() {
        let now = Instant::now();
        let mut fb = Grid::new(1, 5);
        let mut p = OverlayCell::<GridCell>::new(2, 2);
        p.activate(2, 1, now, true);
        p.replacement = cell('q');
        p.apply(&mut fb, 0, 1, true);
        assert_eq!(fb.text(0), "");
        p.apply(&mut fb, 0, 2, true);
        assert_eq!(fb.text(0), "  q");
        assert!(fb.underlined(0, 2));
    }

    #[test]
    fn blank_over_blank_is_not_underlined() {
        let now = Instant::now();
        let mut fb = Grid::new(1, 5);
        let mut p = OverlayCell::<GridCell>::new(2, 1);
        p.activate(1, 1, now, true);
        p.apply(&mut fb, 0, 1, true);
        assert!(!fb.underlined(0, 2));
    }

    #[test]
    fn cursor_prediction_is_judged_by_position() {
        let mut fb = Grid::new(3, 5);
        let c = CursorMove::new(2, 1, 3, 1);
        assert_eq!(c.validity(&fb, 1), Validity::Pending);
        assert_eq!(c.validity(&fb, 2), Validity::IncorrectOrExpired);
        fb.cursor = (1, 3);
        assert_eq!(c.validity(&fb, 2), Validity::Correct);
        let off = CursorMove::new(2, 3, 0, 1);
        assert_eq!(off.validity(&fb, 0), Validity::IncorrectOrExpired);
        let mut shown = Grid::new(3, 5);
        c.apply(&mut shown, 0);
        assert_eq!(shown.cursor, (0, 0), "tentative: not moved");
        c.apply(&mut shown, 1);
        assert_eq!(shown.cursor, (1, 3));
    }
}
