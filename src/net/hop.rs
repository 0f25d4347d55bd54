//! The client's port-hopping policy (spec §2.7), pure: when to open a new
//! socket and how many old ones to close. The socket juggling itself is in
//! [`super::client::ClientSockets`].

use std::time::{Duration, Instant};

/// Hop when neither a hop nor a round trip happened for this long.
pub const PORT_HOP_INTERVAL: Duration = Duration::from_millis(10_000);
/// At most this many sockets stay open.
pub const MAX_PORTS_OPEN: usize = 10;
/// Once the newest socket is this old, the older ones are closed.
pub const MAX_OLD_SOCKET_AGE: Duration = Duration::from_millis(60_000);

/// When to hop, and what to prune.
#[derive(Debug, Clone)]
pub struct HopPolicy {
    last_port_choice: Instant,
}

impl HopPolicy {
    /// The first socket was opened at `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            last_port_choice: now,
        }
    }

    /// When the current socket was chosen.
    pub fn last_port_choice(&self) -> Instant {
        self.last_port_choice
    }

    /// After a send: hop if the socket is older than 10 s and no round trip
    /// succeeded for 10 s (`None`: never).
    pub fn should_hop(&self, now: Instant, last_roundtrip_success: Option<Instant>) -> bool {
        let since = |t: Instant| now.saturating_duration_since(t);
        since(self.last_port_choice) > PORT_HOP_INTERVAL
            && last_roundtrip_success.is_none_or(|t| since(t) > PORT_HOP_INTERVAL)
    }

    /// A new socket was opened at `now`.
    pub fn hopped(&mut self, now: Instant) {
        self.last_port_choice = now;
    }

    /// How many of the oldest sockets to close, with `open` sockets open
    /// (after a hop or a successful receive): all but the newest once it
    /// has worked for 60 s, and never more than 10 open.
    pub fn sockets_to_close(&self, now: Instant, open: usize) -> usize {
        if open <= 1 {
            return 0;
        }
        let mut remaining = open;
        if now.saturating_duration_since(self.last_port_choice) > MAX_OLD_SOCKET_AGE {
            remaining = 1;
        }
        remaining = remaining.min(MAX_PORTS_OPEN);
        open - remaining
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn hops_only_after_ten_quiet_seconds() {
        let t0 = Instant::now();
        let p = HopPolicy::new(t0);
        assert!(!p.should_hop(t0 + s(10), None));
        assert!(p.should_hop(t0 + s(10) + Duration::from_millis(1), None));
        // A recent round trip prevents it.
        assert!(!p.should_hop(t0 + s(15), Some(t0 + s(6))));
        assert!(p.should_hop(t0 + s(17), Some(t0 + s(6))));
    }

    #[test]
    fn a_hop_resets_the_clock() {
        let t0 = Instant::now();
        let mut p = HopPolicy::new(t0);
        p.hopped(t0 + s(11));
        assert!(!p.should_hop(t0 + s(20), None));
        assert!(p.should_hop(t0 + s(22), None));
    }

    #[test]
    fn pruning_rules() {
        let t0 = Instant::now();
        let mut p = HopPolicy::new(t0);
        assert_eq!(p.sockets_to_close(t0, 1), 0);
        assert_eq!(p.sockets_to_close(t0 + s(5), 3), 0);
        assert_eq!(p.sockets_to_close(t0 + s(5), 11), 1);
        assert_eq!(p.sockets_to_close(t0 + s(61), 4), 3);
        p.hopped(t0 + s(61));
        assert_eq!(p.sockets_to_close(t0 + s(62), 4), 0);
    }
}
