//! Counters the relay reports on `stats` and at exit.

use std::fmt;

use super::config::Direction;
use super::link::DropReason;

/// Counters for one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionStats {
    /// Datagrams offered to the link (what the sender put on the wire).
    pub packets: u64,
    /// Bytes offered to the link (UDP payload).
    pub bytes: u64,
    /// Datagrams handed to the receiver (duplicates count twice).
    pub delivered: u64,
    /// Bytes handed to the receiver.
    pub delivered_bytes: u64,
    /// Datagrams lost at random.
    pub lost: u64,
    /// Datagrams lost to an outage.
    pub outage_dropped: u64,
    /// Datagrams lost to a full bandwidth-capped queue.
    pub queue_dropped: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Datagrams held back to be overtaken.
    pub reordered: u64,
}

impl DirectionStats {
    /// All datagrams that were not delivered.
    pub fn dropped(&self) -> u64 {
        self.lost + self.outage_dropped + self.queue_dropped
    }

    /// Counts a dropped datagram.
    pub fn count_drop(&mut self, reason: DropReason) {
        match reason {
            DropReason::Loss => self.lost += 1,
            DropReason::Outage => self.outage_dropped += 1,
            DropReason::Queue => self.queue_dropped += 1,
        }
    }
}

/// Counters for both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Client to server.
    pub up: DirectionStats,
    /// Server to client.
    pub down: DirectionStats,
    /// How many times the relay moved to a new source socket.
    pub rebinds: u64,
}

impl Stats {
    /// The counters of one direction.
    pub fn dir(&self, d: Direction) -> &DirectionStats {
        match d {
            Direction::Up => &self.up,
            Direction::Down => &self.down,
        }
    }

    /// The counters of one direction, mutable.
    pub fn dir_mut(&mut self, d: Direction) -> &mut DirectionStats {
        match d {
            Direction::Up => &mut self.up,
            Direction::Down => &mut self.down,
        }
    }
}

/// One line of `key=value` pairs, e.g. `up.packets=12 up.bytes=900 …`.
impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in Direction::BOTH {
            let s = self.dir(d);
            let n = d.name();
            write!(
                f,
                "{n}.packets={} {n}.bytes={} {n}.delivered={} {n}.delivered_bytes={} \
                 {n}.dropped={} {n}.lost={} {n}.outage_dropped={} {n}.queue_dropped={} \
                 {n}.duplicated={} {n}.reordered={} ",
                s.packets,
                s.bytes,
                s.delivered,
                s.delivered_bytes,
                s.dropped(),
                s.lost,
                s.outage_dropped,
                s.queue_dropped,
                s.duplicated,
                s.reordered
            )?;
        }
        write!(f, "rebinds={}", self.rebinds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_of_key_values() {
        let mut s = Stats::default();
        s.up.packets = 3;
        s.down.count_drop(DropReason::Queue);
        s.rebinds = 2;
        let text = s.to_string();
        assert!(!text.contains('\n'));
        assert!(text.starts_with("up.packets=3 up.bytes=0 "));
        assert!(text.contains(" down.dropped=1 "));
        assert!(text.contains(" down.queue_dropped=1 "));
        assert!(text.ends_with(" rebinds=2"));
        for pair in text.split(' ') {
            let (k, v) = pair.split_once('=').unwrap();
            assert!(!k.is_empty());
            v.parse::<u64>().unwrap();
        }
    }
}
