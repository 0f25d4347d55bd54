//! When predictions are shown and underlined: the SRTT trigger, the
//! flagging trigger and the glitch trigger, with Mosh 1.4.0's thresholds.

use std::time::{Duration, Instant};

/// `send_interval` above this (ms) starts the SRTT trigger.
pub const SRTT_TRIGGER_HIGH: u64 = 30;
/// `send_interval` at or below this (ms) can end the SRTT trigger.
pub const SRTT_TRIGGER_LOW: u64 = 20;
/// `send_interval` above this (ms) starts underlining.
pub const FLAG_TRIGGER_HIGH: u64 = 80;
/// `send_interval` at or below this (ms) stops underlining.
pub const FLAG_TRIGGER_LOW: u64 = 50;
/// A prediction pending this long is a glitch: show predictions.
pub const GLITCH_THRESHOLD: Duration = Duration::from_millis(250);
/// Quick confirmations needed to cure the glitch trigger.
pub const GLITCH_REPAIR_COUNT: u32 = 10;
/// Minimum time between two quick confirmations that count.
pub const GLITCH_REPAIR_MININTERVAL: Duration = Duration::from_millis(150);
/// A prediction pending this long also turns underlining on.
pub const GLITCH_FLAG_THRESHOLD: Duration = Duration::from_millis(5000);

/// The three triggers and their hysteresis.
#[derive(Debug, Clone, Default)]
pub struct Triggers {
    /// Show predictions because the round trip is slow.
    pub srtt: bool,
    /// Underline predictions that are not confirmed yet.
    pub flagging: bool,
    /// Show predictions because one took long (0 = off, 10 show, 20 also underline).
    pub glitch: u32,
    last_quick_confirmation: Option<Instant>,
}

impl Triggers {
    /// Re-evaluates the SRTT and flagging triggers from the sender's
    /// `send_interval` (ms); `predictions_active` keeps the SRTT trigger on
    /// while anything is predicted, so shown predictions do not vanish.
    pub fn update(&mut self, send_interval_ms: u64, predictions_active: bool) {
        if send_interval_ms > SRTT_TRIGGER_HIGH {
            self.srtt = true;
        } else if self.srtt && send_interval_ms <= SRTT_TRIGGER_LOW && !predictions_active {
            self.srtt = false;
        }
        if send_interval_ms > FLAG_TRIGGER_HIGH {
            self.flagging = true;
        } else if send_interval_ms <= FLAG_TRIGGER_LOW {
            self.flagging = false;
        }
        if self.glitch > GLITCH_REPAIR_COUNT {
            self.flagging = true;
        }
    }

    /// A prediction made at `made` is still pending at `now`.
    pub fn pending(&mut self, made: Instant, now: Instant) {
        let age = now.saturating_duration_since(made);
        if age >= GLITCH_FLAG_THRESHOLD {
            self.glitch = GLITCH_REPAIR_COUNT * 2;
        } else if age >= GLITCH_THRESHOLD && self.glitch < GLITCH_REPAIR_COUNT {
            self.glitch = GLITCH_REPAIR_COUNT;
        }
    }

    /// A prediction made at `made` was confirmed correct at `now`: a quick
    /// one slowly cures the glitch trigger.
    pub fn confirmed(&mut self, made: Instant, now: Instant) {
        let quick = now.saturating_duration_since(made) < GLITCH_THRESHOLD;
        let spaced = self
            .last_quick_confirmation
            .is_none_or(|t| now.saturating_duration_since(t) >= GLITCH_REPAIR_MININTERVAL);
        if quick && self.glitch > 0 && spaced {
            self.glitch -= 1;
            self.last_quick_confirmation = Some(now);
        }
    }

    /// Whether a timing trigger can still fire (the engine must be woken).
    pub fn timing_tests_necessary(&self) -> bool {
        !(self.glitch > 0 && self.flagging)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srtt_trigger_has_hysteresis_and_waits_for_idle() {
        let mut t = Triggers::default();
        t.update(30, false);
        assert!(!t.srtt, "30 ms is not above the high mark");
        t.update(31, false);
        assert!(t.srtt);
        t.update(25, false);
        assert!(t.srtt, "between the marks nothing changes");
        t.update(20, true);
        assert!(t.srtt, "stays on while predictions are active");
        t.update(20, false);
        assert!(!t.srtt);
    }

    #[test]
    fn flagging_has_hysteresis() {
        let mut t = Triggers::default();
        t.update(80, false);
        assert!(!t.flagging);
        t.update(81, false);
        assert!(t.flagging);
        t.update(51, false);
        assert!(t.flagging);
        t.update(50, false);
        assert!(!t.flagging);
    }

    #[test]
    fn glitch_thresholds_and_flagging_by_big_glitch() {
        let t0 = Instant::now();
        let mut t = Triggers::default();
        t.pending(t0, t0 + Duration::from_millis(249));
        assert_eq!(t.glitch, 0);
        t.pending(t0, t0 + Duration::from_millis(250));
        assert_eq!(t.glitch, 10);
        t.update(20, true);
        assert!(!t.flagging, "a glitch of 10 shows but does not underline");
        t.pending(t0, t0 + Duration::from_millis(5000));
        assert_eq!(t.glitch, 20);
        t.update(20, true);
        assert!(t.flagging);
        assert!(!t.timing_tests_necessary());
    }

    #[test]
    fn quick_confirmations_cure_the_glitch_at_most_every_150_ms() {
        let t0 = Instant::now();
        let mut t = Triggers {
            glitch: 10,
            ..Triggers::default()
        };
        let ms = Duration::from_millis;
        t.confirmed(t0, t0 + ms(100));
        assert_eq!(t.glitch, 9);
        t.confirmed(t0 + ms(100), t0 + ms(200));
        assert_eq!(t.glitch, 9, "only 100 ms since the last one");
        t.confirmed(t0 + ms(200), t0 + ms(250));
        assert_eq!(t.glitch, 8);
        t.confirmed(t0, t0 + ms(900));
        assert_eq!(t.glitch, 8, "a slow confirmation does not count");
    }
}
