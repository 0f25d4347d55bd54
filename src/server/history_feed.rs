//! How fast the server hands history to a client (docs/scrollback.md):
//! the screen always goes first, history fills in behind it in bounded
//! steps, and a client that fell behind by more than the scrollback keeps
//! gets one gap, not many.
//!
//! Pure: the session passes the scrollback, what the newest states hold
//! and the time, and gets the number of lines the state should hold next.

use std::time::{Duration, Instant};

use crate::sync::history::{DEFAULT_LINES, MAX_LINES};
use crate::terminal::framebuffer::Scrollback;

/// Cells of history added to the state per frame (a few datagrams).
pub const FRAME_BUDGET: usize = 8 * 1024;
/// Most cells of history sent but not yet acknowledged: what a resend
/// from the acknowledged state can grow to.
pub const IN_FLIGHT: usize = 4 * FRAME_BUDGET;
/// Output is still flowing if a line scrolled off this recently.
const QUIET: Duration = Duration::from_millis(100);
/// A client that fell behind waits at most this long for the output to
/// pause before it gets the lines kept since (then it may fall behind again).
const MAX_HOLD: Duration = Duration::from_secs(5);

/// The number of lines the server keeps for its client: the value of
/// `RMOSH_SCROLLBACK_LINES` if it is a number from 1 to [`MAX_LINES`],
/// otherwise [`DEFAULT_LINES`].
pub fn lines_from_env(value: Option<&str>) -> usize {
    value
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=MAX_LINES).contains(n))
        .unwrap_or(DEFAULT_LINES)
}

/// The pacing state of one client's history.
#[derive(Debug, Default)]
pub struct HistoryFeed {
    last_pushed: u64,
    last_growth: Option<Instant>,
    held_since: Option<Instant>,
}

/// What the newest states hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Through {
    /// The live state (what the next frame will carry).
    pub current: u64,
    /// The last state sent.
    pub sent: u64,
    /// The state the client acknowledged.
    pub acked: u64,
}

impl HistoryFeed {
    /// The number of lines the live state should hold at `now`. `echo` says
    /// the next frame is the echo of keystrokes (it must stay small).
    pub fn next(&mut self, now: Instant, sb: &Scrollback, t: Through, echo: bool) -> u64 {
        let pushed = sb.pushed();
        if pushed != self.last_pushed {
            self.last_pushed = pushed;
            self.last_growth = Some(now);
        }
        // One step per frame: wait until the last one went out.
        if echo || t.current > t.sent || t.current >= pushed {
            return t.current;
        }
        let mut start = t.current;
        if sb.first_kept() > t.current {
            // Lines the client lacks are gone already. While the output
            // goes on, sending what is kept would only open another gap
            // later: wait for a pause, then send the newest lines once.
            let flowing = self
                .last_growth
                .is_some_and(|g| now.saturating_duration_since(g) < QUIET);
            let held = *self.held_since.get_or_insert(now);
            if flowing && now.saturating_duration_since(held) < MAX_HOLD {
                return t.current;
            }
            start = sb.first_kept();
        }
        self.held_since = None;
        // Lines the scrollback no longer keeps cannot be resent: they do
        // not count.
        let from = t.acked.max(sb.first_kept());
        let unacked: usize = sb
            .lengths_from(from)
            .take(usize::try_from(start.saturating_sub(from)).unwrap_or(usize::MAX))
            .sum();
        let room = IN_FLIGHT.saturating_sub(unacked).min(FRAME_BUDGET);
        if room == 0 {
            return t.current;
        }
        let mut cells = 0usize;
        let mut lines = 0u64;
        for len in sb.lengths_from(start) {
            if lines > 0 && cells + len > room {
                break;
            }
            cells += len;
            lines += 1;
        }
        (start + lines).min(pushed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::Emulator;

    /// An emulator after `lines` lines of `width` digits.
    fn emulator(lines: usize, limit: usize) -> Emulator {
        wide(lines, limit, 1)
    }

    fn wide(lines: usize, limit: usize, width: usize) -> Emulator {
        let mut e = Emulator::new_extended(80, 4);
        e.framebuffer_mut().scrollback_limit = limit;
        for i in 0..lines {
            e.feed(format!("{i:0>width$}\r\n").as_bytes());
        }
        e
    }

    #[test]
    fn the_environment_sets_the_bound() {
        assert_eq!(lines_from_env(None), DEFAULT_LINES);
        assert_eq!(lines_from_env(Some("50000")), 50_000);
        assert_eq!(lines_from_env(Some("0")), DEFAULT_LINES);
        assert_eq!(lines_from_env(Some("lots")), DEFAULT_LINES);
        const { assert!(DEFAULT_LINES >= 10_000) };
    }

    #[test]
    fn one_bounded_step_per_frame_and_none_for_an_echo() {
        let e = emulator(10_000, 20_000);
        let sb = e.framebuffer().scrollback();
        let now = Instant::now();
        let mut f = HistoryFeed::default();
        let t = Through {
            current: 0,
            sent: 0,
            acked: 0,
        };
        assert_eq!(f.next(now, sb, t, true), 0);
        let n = f.next(now, sb, t, false);
        assert!(n > 100 && n < 10_000, "{n}");
        let cells: usize = sb.lengths_from(0).take(n as usize).sum();
        assert!(cells <= FRAME_BUDGET);
        // Not sent yet: no second step.
        let t2 = Through { current: n, ..t };
        assert_eq!(f.next(now, sb, t2, false), n);
        // Sent but not acknowledged: steps go on until IN_FLIGHT.
        let mut cur = n;
        for _ in 0..10 {
            let t = Through {
                current: cur,
                sent: cur,
                acked: 0,
            };
            cur = f.next(now, sb, t, false);
        }
        let in_flight: usize = sb.lengths_from(0).take(cur as usize).sum();
        // Each step takes at least one line, so the bound may be passed by one.
        assert!(in_flight.abs_diff(IN_FLIGHT) < 10, "{in_flight}");
    }

    #[test]
    fn a_client_that_fell_behind_waits_for_a_pause_then_gets_the_newest_lines() {
        let e = wide(5_000, 1_000, 70);
        let sb = e.framebuffer().scrollback();
        assert_eq!(sb.pushed(), 5_000 - 3);
        let t = Through {
            current: 10,
            sent: 10,
            acked: 10,
        };
        let now = Instant::now();
        let mut f = HistoryFeed::default();
        assert_eq!(f.next(now, sb, t, false), 10, "output is flowing");
        let later = now + QUIET;
        let n = f.next(later, sb, t, false);
        assert!(n > sb.first_kept(), "{n}");
        // The next step follows although the client acknowledged nothing new.
        let t2 = Through {
            current: n,
            sent: n,
            acked: 10,
        };
        assert!(f.next(later, sb, t2, false) > n);
        // A flood that never pauses still gets its lines now and then.
        let mut f = HistoryFeed::default();
        assert_eq!(f.next(now, sb, t, false), 10);
        let e2 = emulator(5_001, 1_000);
        let sb2 = e2.framebuffer().scrollback();
        assert_eq!(f.next(now + MAX_HOLD / 2, sb2, t, false), 10);
        let e3 = emulator(5_002, 1_000);
        let sb3 = e3.framebuffer().scrollback();
        assert!(f.next(now + MAX_HOLD, sb3, t, false) > sb3.first_kept());
    }
}
