//! Both directions of the link plus the queue of datagrams in flight:
//! the relay's sans-IO core.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Duration;

use super::config::{Direction, LinkConfig};
use super::link::{Fate, Link};
use super::stats::Stats;

/// A datagram due for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<T> {
    /// Which way it travels.
    pub direction: Direction,
    /// The payload, unchanged.
    pub payload: Vec<u8>,
    /// Whatever the driver attached when it submitted the datagram
    /// (typically where it came from).
    pub tag: T,
}

#[derive(Debug)]
struct InFlight<T> {
    at: Duration,
    seq: u64,
    delivery: Delivery<T>,
}

// Earliest delivery first; equal times keep submission order.
impl<T> Ord for InFlight<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .at
            .cmp(&self.at)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}
impl<T> PartialOrd for InFlight<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> PartialEq for InFlight<T> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}
impl<T> Eq for InFlight<T> {}

/// The emulated network: submit datagrams, poll them out when due.
///
/// Time is a `Duration` since the relay started; the caller supplies it.
#[derive(Debug)]
pub struct Impairer<T> {
    up: Link,
    down: Link,
    in_flight: BinaryHeap<InFlight<T>>,
    seq: u64,
    stats: Stats,
}

impl<T: Clone> Impairer<T> {
    /// A network with the given per-direction settings; each direction
    /// draws from its own stream derived from `seed`, so traffic one way
    /// never changes what happens the other way.
    pub fn new(up: LinkConfig, down: LinkConfig, seed: u64) -> Impairer<T> {
        Impairer {
            up: Link::new(up, seed ^ 0x5550_5550_5550_5550),
            down: Link::new(down, seed ^ 0x444F_574E_444F_574E),
            in_flight: BinaryHeap::new(),
            seq: 0,
            stats: Stats::default(),
        }
    }

    /// The link of one direction (to change its settings at run time).
    pub fn link_mut(&mut self, d: Direction) -> &mut Link {
        match d {
            Direction::Up => &mut self.up,
            Direction::Down => &mut self.down,
        }
    }

    /// The link of one direction.
    pub fn link(&self, d: Direction) -> &Link {
        match d {
            Direction::Up => &self.up,
            Direction::Down => &self.down,
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The counters, mutable (the driver counts rebinds).
    pub fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }

    /// Offers a datagram sent at `now`.
    pub fn submit(&mut self, now: Duration, direction: Direction, payload: Vec<u8>, tag: T) {
        let len = payload.len();
        let fate = self.link_mut(direction).offer(now, len);
        let s = self.stats.dir_mut(direction);
        s.packets += 1;
        s.bytes += len as u64;
        match fate {
            Fate::Dropped(reason) => s.count_drop(reason),
            Fate::Deliver { at, reordered } => {
                if reordered {
                    s.reordered += 1;
                }
                s.duplicated += at.len().saturating_sub(1) as u64;
                let delivery = Delivery {
                    direction,
                    payload,
                    tag,
                };
                for t in at {
                    self.seq += 1;
                    self.in_flight.push(InFlight {
                        at: t,
                        seq: self.seq,
                        delivery: delivery.clone(),
                    });
                }
            }
        }
    }

    /// The next datagram due at or before `now`, if any.
    pub fn poll_deliver(&mut self, now: Duration) -> Option<Delivery<T>> {
        if self.in_flight.peek()?.at > now {
            return None;
        }
        let d = self.in_flight.pop()?.delivery;
        let s = self.stats.dir_mut(d.direction);
        s.delivered += 1;
        s.delivered_bytes += d.payload.len() as u64;
        Some(d)
    }

    /// When the next datagram is due.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.in_flight.peek().map(|f| f.at)
    }

    /// How many datagrams are in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// Runs `n` numbered datagrams each way, one per ms, and returns the
    /// (direction, number) sequence in delivery order.
    fn drive(up: LinkConfig, down: LinkConfig, seed: u64, n: u32) -> Vec<(Direction, u32)> {
        let mut net = Impairer::new(up, down, seed);
        let mut out = Vec::new();
        for i in 0..n {
            let now = ms(u64::from(i));
            net.submit(now, Direction::Up, i.to_be_bytes().to_vec(), ());
            net.submit(now, Direction::Down, i.to_be_bytes().to_vec(), ());
            while let Some(d) = net.poll_deliver(now) {
                out.push((d.direction, decode(&d.payload)));
            }
        }
        while let Some(t) = net.poll_timeout() {
            while let Some(d) = net.poll_deliver(t) {
                out.push((d.direction, decode(&d.payload)));
            }
        }
        out
    }

    fn decode(p: &[u8]) -> u32 {
        u32::from_be_bytes(p.try_into().unwrap())
    }

    #[test]
    fn perfect_network_delivers_in_order_when_due_and_not_before() {
        let mut net = Impairer::new(
            LinkConfig {
                delay: ms(30),
                ..LinkConfig::default()
            },
            LinkConfig::default(),
            1,
        );
        net.submit(ms(0), Direction::Up, vec![1], "a");
        net.submit(ms(5), Direction::Up, vec![2], "b");
        net.submit(ms(5), Direction::Down, vec![3], "c");
        assert_eq!(net.poll_deliver(ms(5)).map(|d| d.tag), Some("c"));
        assert_eq!(net.poll_deliver(ms(29)), None);
        assert_eq!(net.poll_timeout(), Some(ms(30)));
        assert_eq!(net.poll_deliver(ms(30)).map(|d| d.payload), Some(vec![1]));
        assert_eq!(net.poll_deliver(ms(34)), None);
        assert_eq!(net.poll_deliver(ms(35)).map(|d| d.tag), Some("b"));
        assert_eq!(net.poll_timeout(), None);
        let s = net.stats();
        assert_eq!((s.up.packets, s.up.delivered, s.down.delivered), (2, 2, 1));
    }

    #[test]
    fn reordering_makes_later_datagrams_overtake_and_keeps_all() {
        let cfg = LinkConfig {
            reorder: 0.2,
            reorder_gap: ms(5),
            ..LinkConfig::default()
        };
        let out = drive(cfg.clone(), cfg, 11, 2000);
        let up: Vec<u32> = out
            .iter()
            .filter(|(d, _)| *d == Direction::Up)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(up.len(), 2000);
        let inversions = up.windows(2).filter(|w| w[0] > w[1]).count();
        assert!(inversions > 200, "only {inversions} inversions");
        let mut sorted = up.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..2000).collect::<Vec<_>>());
    }

    #[test]
    fn duplicates_and_losses_are_counted_exactly() {
        let cfg = LinkConfig {
            loss: 0.2,
            duplicate: 0.2,
            ..LinkConfig::default()
        };
        let mut net: Impairer<()> = Impairer::new(cfg.clone(), cfg, 77);
        for i in 0..10_000u64 {
            net.submit(ms(i), Direction::Up, vec![0; 100], ());
            while net.poll_deliver(ms(i)).is_some() {}
        }
        let s = net.stats().up;
        assert_eq!(s.packets, 10_000);
        assert_eq!(s.delivered, s.packets - s.dropped() + s.duplicated);
        assert_eq!(s.delivered_bytes, 100 * s.delivered);
        let loss = s.lost as f64 / 10_000.0;
        // Duplication is drawn only for datagrams that survived loss.
        let dup = s.duplicated as f64 / (10_000 - s.lost) as f64;
        assert!((loss - 0.2).abs() < 0.02, "loss {loss}");
        assert!((dup - 0.2).abs() < 0.02, "dup {dup}");
    }

    #[test]
    fn directions_are_independent_and_runs_are_reproducible() {
        let lossy = LinkConfig {
            loss: 0.3,
            jitter: ms(3),
            delay: ms(5),
            ..LinkConfig::default()
        };
        let a = drive(lossy.clone(), lossy.clone(), 9, 3000);
        let b = drive(lossy.clone(), lossy.clone(), 9, 3000);
        assert_eq!(a, b);
        // Changing only the down link leaves the up direction's fate alone.
        let c = drive(lossy.clone(), LinkConfig::default(), 9, 3000);
        let up = |v: &[(Direction, u32)]| {
            let mut x: Vec<u32> = v
                .iter()
                .filter(|(d, _)| *d == Direction::Up)
                .map(|(_, n)| *n)
                .collect();
            x.sort_unstable();
            x
        };
        assert_eq!(up(&a), up(&c));
        assert_ne!(a, drive(lossy.clone(), lossy, 10, 3000));
    }
}
