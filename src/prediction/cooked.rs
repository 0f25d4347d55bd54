//! Evidence that Enter is harmless while the server's pty is in cooked-echo
//! mode (rmosh only; the server reports the mode in its `tty_mode`
//! extension, see docs/prediction.md).
//!
//! In cooked mode with echo the kernel echoes every printable byte the
//! moment it reaches the pty, and the application sees nothing until Enter.
//! So the only key whose effect the client cannot know is Enter itself: the
//! application reads the line and may print, or turn echo off (a password
//! prompt). An Enter is *proven harmless* when, once the server has had it
//! for the echo-ack delay, the screen shows nothing but the newline and the
//! characters typed after it, and the pty is still in cooked-echo mode.
//! After such an Enter, the next one in the same cooked-echo stretch is
//! trusted: the keys typed after it are shown at once instead of waiting a
//! round trip for a new epoch to be confirmed.

use super::screen::{PredictCell, PredictScreen};

/// Most Enters awaiting their verdict (older ones are dropped unproven).
const MAX_CHECKS: usize = 16;

/// One Enter typed in cooked-echo mode, waiting for the echo ack.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EnterCheck {
    /// Client state that carries the Enter.
    frame: u64,
    /// Row the cursor moves to (the bottom row stays the bottom row).
    row: usize,
    /// Printable characters typed after it (until the next Enter).
    typed: Vec<char>,
}

/// The harmless-Enter evidence for the current cooked-echo stretch.
#[derive(Debug, Clone, Default)]
pub struct CookedLines {
    /// The pty is in cooked-echo mode (newest server frame).
    cooked: bool,
    /// An Enter in this stretch was proven harmless.
    proven: bool,
    /// Client state of the newest Enter typed in cooked-echo mode.
    newest_enter: u64,
    /// Client state of the newest Enter proven harmless.
    harmless_enter: u64,
    checks: Vec<EnterCheck>,
}

impl CookedLines {
    /// The server's newest report of the pty mode; leaving cooked-echo
    /// mode ends the stretch and its evidence. True when it just left it.
    pub fn set_cooked(&mut self, on: bool) -> bool {
        let left = self.cooked && !on;
        self.cooked = on;
        if !on {
            self.forget();
        }
        left
    }

    /// Whether the newest server frame said the pty is in cooked-echo mode.
    pub fn cooked(&self) -> bool {
        self.cooked
    }

    /// Whether an Enter typed now may be shown at once, with the keys after it.
    pub fn enter_trusted(&self) -> bool {
        self.cooked && self.proven
    }

    /// Whether the newest Enter itself was proven harmless and the pty is
    /// still in cooked-echo mode: the line after it is the kernel's to echo.
    pub fn newest_enter_harmless(&self) -> bool {
        self.cooked && self.newest_enter > 0 && self.harmless_enter == self.newest_enter
    }

    /// Drops all evidence (a key other than a printable one or Enter, a
    /// reset, a misprediction).
    pub fn forget(&mut self) {
        self.proven = false;
        self.newest_enter = 0;
        self.harmless_enter = 0;
        self.checks.clear();
    }

    /// Enter was typed; it travels in client state `frame` and moves the
    /// cursor to `row`.
    pub fn enter(&mut self, frame: u64, row: usize) {
        if !self.cooked {
            self.forget();
            return;
        }
        if self.checks.len() >= MAX_CHECKS {
            self.checks.remove(0);
        }
        self.newest_enter = frame;
        self.checks.push(EnterCheck {
            frame,
            row,
            typed: Vec::new(),
        });
    }

    /// A printable character was typed.
    pub fn printable(&mut self, ch: char) {
        if let Some(c) = self.checks.last_mut() {
            c.typed.push(ch);
        }
    }

    /// Judges every Enter the echo ack now covers against the server's
    /// screen; true when one turned out not to be harmless.
    pub fn judge<S: PredictScreen>(&mut self, fb: &S, echo_ack: u64) -> bool {
        while let Some(c) = self.checks.first() {
            if echo_ack < c.frame {
                break;
            }
            let ok = self.cooked && only_typing_after_newline(fb, c.row, &c.typed);
            let frame = c.frame;
            self.checks.remove(0);
            if ok {
                self.proven = true;
                self.harmless_enter = frame;
            } else {
                self.forget();
                return true;
            }
        }
        false
    }
}

/// Whether the cursor is on `row` and the row holds nothing but a prefix of
/// `typed` before it and blanks after it (what the kernel's echo of the
/// newline and of those keys leaves, and nothing the application printed).
fn only_typing_after_newline<S: PredictScreen>(fb: &S, row: usize, typed: &[char]) -> bool {
    let (cr, cc) = fb.cursor();
    if cr != row || cc > typed.len() {
        return false;
    }
    let mut buf = [0u8; 4];
    let prefix_ok = typed.iter().take(cc).enumerate().all(|(col, ch)| {
        fb.cell(row, col)
            .is_some_and(|cell| cell.contents() == ch.encode_utf8(&mut buf))
    });
    prefix_ok && (cc..fb.width()).all(|col| fb.cell(row, col).is_some_and(|c| c.is_blank()))
}

#[cfg(test)]
mod tests {
    use super::super::test_grid::Grid;
    use super::*;

    fn grid(lines: &[&str], cursor: (usize, usize)) -> Grid {
        let mut g = Grid::new(4, 10);
        for (i, l) in lines.iter().enumerate() {
            g.cursor = (i, 0);
            g.type_str(l);
        }
        g.cursor = cursor;
        g
    }

    #[test]
    fn a_bare_newline_proves_enter_harmless() {
        let mut c = CookedLines::default();
        c.set_cooked(true);
        c.enter(3, 1);
        assert!(!c.enter_trusted(), "not before the verdict");
        c.printable('a');
        c.printable('b');
        c.judge(&grid(&["xyz"], (1, 0)), 2);
        assert!(!c.enter_trusted(), "echo ack has not reached the Enter");
        // The server already echoed "a" typed after the Enter.
        c.judge(&grid(&["xyz", "a"], (1, 1)), 3);
        assert!(c.enter_trusted());
    }

    #[test]
    fn the_newest_enter_proven_harmless_vouches_for_its_own_line() {
        let mut c = CookedLines::default();
        c.set_cooked(true);
        c.enter(3, 1);
        assert!(!c.newest_enter_harmless());
        c.judge(&grid(&["xyz"], (1, 0)), 3);
        assert!(c.newest_enter_harmless());
        c.enter(5, 2);
        assert!(
            !c.newest_enter_harmless(),
            "a newer Enter awaits its verdict"
        );
        c.judge(&grid(&["xyz", "", "Pass: "], (2, 6)), 5);
        assert!(!c.newest_enter_harmless());
    }

    #[test]
    fn output_after_enter_is_not_harmless() {
        let mut c = CookedLines::default();
        c.set_cooked(true);
        c.enter(3, 1);
        assert!(c.judge(&grid(&["bob", "Pass: "], (1, 6)), 3));
        assert!(!c.enter_trusted(), "a prompt appeared");
        c.enter(4, 2);
        c.printable('x');
        c.judge(&grid(&["bob", "x", "y"], (2, 1)), 4);
        assert!(!c.enter_trusted(), "the row shows something not typed");
        c.enter(5, 1);
        c.judge(&grid(&["bob", ""], (2, 0)), 5);
        assert!(
            !c.enter_trusted(),
            "the cursor is not where the newline put it"
        );
    }

    #[test]
    fn leaving_cooked_echo_mode_forgets_the_proof() {
        let mut c = CookedLines::default();
        c.set_cooked(true);
        c.enter(1, 1);
        c.judge(&grid(&["a"], (1, 0)), 1);
        assert!(c.enter_trusted());
        assert!(c.set_cooked(false), "left cooked-echo mode");
        assert!(!c.enter_trusted());
        assert!(!c.set_cooked(false));
        c.set_cooked(true);
        assert!(!c.enter_trusted(), "a new stretch needs its own proof");
    }

    #[test]
    fn echo_off_at_the_verdict_is_not_harmless() {
        let mut c = CookedLines::default();
        c.set_cooked(true);
        c.enter(1, 1);
        c.cooked = false;
        c.judge(&grid(&["a"], (1, 0)), 1);
        assert!(!c.enter_trusted());
    }

    #[test]
    fn enter_outside_cooked_mode_proves_nothing() {
        let mut c = CookedLines::default();
        c.enter(1, 1);
        c.set_cooked(true);
        c.judge(&grid(&["a"], (1, 0)), 1);
        assert!(!c.enter_trusted());
    }
}
