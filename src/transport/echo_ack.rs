//! The server's echo-ack bookkeeping (spec §6.3).
//!
//! The server records `(client state number, arrival time)` for every batch
//! of user events it hands to the application. The echo ack it publishes in
//! the terminal state is the newest such number whose events were handed
//! over at least 50 ms ago: by then any echo they caused is on the screen,
//! so the client's prediction engine may judge its guesses against it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long after hand-over a keystroke counts as echoed.
pub const ECHO_TIMEOUT: Duration = Duration::from_millis(50);

/// Tracks input batches and derives the echo ack from them.
#[derive(Debug, Clone, Default)]
pub struct EchoAckTracker {
    history: VecDeque<(u64, Instant)>,
    echo_ack: u64,
}

impl EchoAckTracker {
    /// An empty tracker (echo ack 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the events of client state `num` reached the application at `now`.
    pub fn register_input_frame(&mut self, num: u64, now: Instant) {
        self.history.push_back((num, now));
    }

    /// Recomputes the echo ack at `now`. Returns `Some(new)` when it changed
    /// (the server then publishes a new terminal state), else `None`.
    /// The value never decreases: stock clients abort on a decreasing echo ack.
    pub fn update(&mut self, now: Instant) -> Option<u64> {
        let newest = self
            .history
            .iter()
            .filter(|(_, at)| *at + ECHO_TIMEOUT <= now)
            .map(|(num, _)| *num)
            .next_back()?;
        self.history.retain(|(num, _)| *num >= newest);
        if newest > self.echo_ack {
            self.echo_ack = newest;
            Some(newest)
        } else {
            None
        }
    }

    /// The current echo ack.
    pub fn echo_ack(&self) -> u64 {
        self.echo_ack
    }

    /// When [`EchoAckTracker::update`] next has something to do: 50 ms after
    /// the oldest batch that is not yet covered by the echo ack.
    pub fn next_wakeup(&self) -> Option<Instant> {
        self.history
            .iter()
            .find(|(num, _)| *num > self.echo_ack)
            .map(|(_, at)| *at + ECHO_TIMEOUT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn ack_waits_fifty_milliseconds() {
        let t0 = Instant::now();
        let mut e = EchoAckTracker::new();
        assert_eq!(e.next_wakeup(), None);
        e.register_input_frame(3, t0);
        assert_eq!(e.next_wakeup(), Some(t0 + ms(50)));
        assert_eq!(e.update(t0 + ms(49)), None);
        assert_eq!(e.echo_ack(), 0);
        assert_eq!(e.update(t0 + ms(50)), Some(3));
        assert_eq!(e.echo_ack(), 3);
        assert_eq!(e.next_wakeup(), None);
        assert_eq!(e.update(t0 + ms(500)), None);
    }

    #[test]
    fn newest_old_enough_entry_wins_and_older_are_dropped() {
        let t0 = Instant::now();
        let mut e = EchoAckTracker::new();
        e.register_input_frame(1, t0);
        e.register_input_frame(2, t0 + ms(10));
        e.register_input_frame(5, t0 + ms(40));
        assert_eq!(e.update(t0 + ms(60)), Some(2));
        assert_eq!(e.next_wakeup(), Some(t0 + ms(90)));
        assert_eq!(e.update(t0 + ms(90)), Some(5));
    }

    #[test]
    fn never_decreases() {
        let t0 = Instant::now();
        let mut e = EchoAckTracker::new();
        e.register_input_frame(9, t0);
        assert_eq!(e.update(t0 + ms(50)), Some(9));
        e.register_input_frame(4, t0 + ms(60));
        assert_eq!(e.update(t0 + ms(200)), None);
        assert_eq!(e.echo_ack(), 9);
    }
}
