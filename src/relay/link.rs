//! One direction of the emulated link: decides each datagram's fate.

use std::time::Duration;

use super::config::{LinkConfig, Outage};
use super::rng::SplitMix64;

/// Why a datagram was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Random loss.
    Loss,
    /// Sent during an outage.
    Outage,
    /// The bandwidth-capped send queue was full.
    Queue,
}

/// What happens to one datagram offered to a [`Link`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Lost.
    Dropped(DropReason),
    /// Delivered at each of these times (two entries for a duplicate).
    Deliver {
        /// Delivery times, measured from the relay's start.
        at: Vec<Duration>,
        /// Whether the first copy was held back to reorder it.
        reordered: bool,
    },
}

/// One direction of the link with its own random stream.
#[derive(Debug, Clone)]
pub struct Link {
    config: LinkConfig,
    rng: SplitMix64,
    /// When the bandwidth-capped sender finishes the datagrams already queued.
    busy_until: Duration,
    /// Outages added at run time (absolute windows).
    extra_outages: Vec<Outage>,
}

impl Link {
    /// A link with `config` whose random decisions are fixed by `seed`.
    pub fn new(config: LinkConfig, seed: u64) -> Link {
        Link {
            config,
            rng: SplitMix64::new(seed),
            busy_until: Duration::ZERO,
            extra_outages: Vec::new(),
        }
    }

    /// The current configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Changes the configuration; the random stream and queue carry on.
    pub fn config_mut(&mut self) -> &mut LinkConfig {
        &mut self.config
    }

    /// Drops everything sent in `[now, now + duration)`.
    pub fn add_outage(&mut self, now: Duration, duration: Duration) {
        // Forget finished run-time outages so a long script stays cheap.
        self.extra_outages
            .retain(|o| o.start.saturating_add(o.duration) > now);
        self.extra_outages.push(Outage {
            start: now,
            duration,
        });
    }

    /// Whether the link is in an outage at `now`.
    pub fn in_outage(&self, now: Duration) -> bool {
        self.config
            .outages
            .iter()
            .chain(self.extra_outages.iter())
            .any(|o| o.covers(now))
    }

    /// Decides the fate of a datagram of `len` bytes sent at `now`.
    pub fn offer(&mut self, now: Duration, len: usize) -> Fate {
        // Draw the same number of values for every datagram, so one
        // datagram's fate depends only on the seed and its position in the
        // stream, never on the settings that applied to earlier ones.
        let u_loss = self.rng.next_f64();
        let u_dup = self.rng.next_f64();
        let u_reorder = self.rng.next_f64();
        let u_jitter = [self.rng.next_f64(), self.rng.next_f64()];

        if self.in_outage(now) {
            return Fate::Dropped(DropReason::Outage);
        }
        if u_loss < self.config.loss {
            return Fate::Dropped(DropReason::Loss);
        }
        let copies = if u_dup < self.config.duplicate { 2 } else { 1 };
        let reordered = u_reorder < self.config.reorder;
        let mut at = Vec::with_capacity(copies);
        for (copy, u) in u_jitter.iter().take(copies).enumerate() {
            let Some(departure) = self.serialize(now, len) else {
                if copy == 0 {
                    return Fate::Dropped(DropReason::Queue);
                }
                break;
            };
            let mut t = departure.saturating_add(self.jittered_delay(*u));
            if reordered && copy == 0 {
                t = t.saturating_add(self.config.reorder_gap);
            }
            at.push(t);
        }
        Fate::Deliver { at, reordered }
    }

    /// When the last bit of the datagram leaves the sender, or `None` when
    /// the queue is over its limit.
    fn serialize(&mut self, now: Duration, len: usize) -> Option<Duration> {
        let Some(bps) = self.config.rate_bps.filter(|&b| b > 0) else {
            return Some(now);
        };
        let start = self.busy_until.max(now);
        if start - now > self.config.queue_limit {
            return None;
        }
        let bits = (len as u128).saturating_mul(8);
        let nanos = bits.saturating_mul(1_000_000_000) / u128::from(bps);
        let tx = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.busy_until = start.saturating_add(tx);
        Some(self.busy_until)
    }

    /// The one-way delay plus a uniform offset in ±jitter, never negative.
    fn jittered_delay(&self, u: f64) -> Duration {
        let base = self.config.delay.as_secs_f64();
        let j = self.config.jitter.as_secs_f64();
        let d = base + (2.0 * u - 1.0) * j;
        if d <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn run(link: &mut Link, n: usize) -> Vec<Fate> {
        (0..n).map(|i| link.offer(ms(i as u64), 100)).collect()
    }

    #[test]
    fn perfect_link_delivers_everything_once_after_the_delay() {
        let mut l = Link::new(
            LinkConfig {
                delay: ms(50),
                ..LinkConfig::default()
            },
            1,
        );
        for i in 0..1000u64 {
            assert_eq!(
                l.offer(ms(i), 1200),
                Fate::Deliver {
                    at: vec![ms(i + 50)],
                    reordered: false
                }
            );
        }
    }

    #[test]
    fn loss_rate_matches_the_setting() {
        let mut l = Link::new(
            LinkConfig {
                loss: 0.2,
                ..LinkConfig::default()
            },
            99,
        );
        let n = 50_000;
        let lost = run(&mut l, n)
            .iter()
            .filter(|f| **f == Fate::Dropped(DropReason::Loss))
            .count();
        let rate = lost as f64 / n as f64;
        // 5 standard deviations of a binomial(50000, 0.2) is about 0.009.
        assert!((rate - 0.2).abs() < 0.009, "loss rate {rate}");
    }

    #[test]
    fn duplicate_and_reorder_rates_match_the_settings() {
        let mut l = Link::new(
            LinkConfig {
                duplicate: 0.1,
                reorder: 0.3,
                reorder_gap: ms(20),
                ..LinkConfig::default()
            },
            5,
        );
        let n = 50_000;
        let fates = run(&mut l, n);
        let dups = fates
            .iter()
            .filter(|f| matches!(f, Fate::Deliver { at, .. } if at.len() == 2))
            .count();
        let reorders = fates
            .iter()
            .filter(|f| {
                matches!(
                    f,
                    Fate::Deliver {
                        reordered: true,
                        ..
                    }
                )
            })
            .count();
        let d = dups as f64 / n as f64;
        let r = reorders as f64 / n as f64;
        assert!((d - 0.1).abs() < 0.007, "dup rate {d}");
        assert!((r - 0.3).abs() < 0.011, "reorder rate {r}");
        // A reordered datagram is delivered reorder_gap late, so the ones
        // sent within the next 20 ms overtake it.
        for (i, f) in fates.iter().enumerate() {
            if let Fate::Deliver {
                at,
                reordered: true,
            } = f
            {
                assert_eq!(at.first().copied(), Some(ms(i as u64 + 20)));
            }
        }
    }

    #[test]
    fn jitter_stays_within_bounds_and_averages_to_the_delay() {
        let mut l = Link::new(
            LinkConfig {
                delay: ms(100),
                jitter: ms(30),
                ..LinkConfig::default()
            },
            3,
        );
        let n = 20_000;
        let mut sum = 0.0;
        let mut lo = f64::MAX;
        let mut hi = 0.0f64;
        for i in 0..n {
            let now = ms(i);
            let Fate::Deliver { at, .. } = l.offer(now, 10) else {
                panic!("perfect link dropped a datagram");
            };
            let d = (at[0] - now).as_secs_f64() * 1000.0;
            sum += d;
            lo = lo.min(d);
            hi = hi.max(d);
        }
        let mean = sum / n as f64;
        assert!((mean - 100.0).abs() < 0.5, "mean delay {mean}");
        assert!((70.0..71.0).contains(&lo), "min delay {lo}");
        assert!(hi > 129.0 && hi <= 130.0, "max delay {hi}");
    }

    #[test]
    fn jitter_larger_than_delay_never_goes_negative() {
        let mut l = Link::new(
            LinkConfig {
                delay: ms(5),
                jitter: ms(50),
                ..LinkConfig::default()
            },
            3,
        );
        for i in 0..1000 {
            let now = ms(1000 + i);
            if let Fate::Deliver { at, .. } = l.offer(now, 10) {
                assert!(at[0] >= now);
            }
        }
    }

    #[test]
    fn rate_cap_spaces_datagrams_by_serialization_time_and_tail_drops() {
        // 1 Mbit/s: a 1250-byte datagram takes 10 ms on the wire.
        let mut l = Link::new(
            LinkConfig {
                rate_bps: Some(1_000_000),
                queue_limit: ms(50),
                ..LinkConfig::default()
            },
            1,
        );
        let mut delivered = Vec::new();
        let mut queue_drops = 0;
        for _ in 0..10 {
            match l.offer(ms(0), 1250) {
                Fate::Deliver { at, .. } => delivered.push(at[0]),
                Fate::Dropped(DropReason::Queue) => queue_drops += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        // Datagrams wait at most 50 ms, so 6 fit (waits 0, 10, ..., 50 ms).
        assert_eq!(delivered, (1..=6).map(|k| ms(10 * k)).collect::<Vec<_>>());
        assert_eq!(queue_drops, 4);
        // After the queue drains, the link is free again.
        assert_eq!(
            l.offer(ms(1000), 1250),
            Fate::Deliver {
                at: vec![ms(1010)],
                reordered: false
            }
        );
    }

    #[test]
    fn scripted_and_runtime_outages_drop_everything_inside_the_window() {
        let mut l = Link::new(
            LinkConfig {
                outages: vec![Outage {
                    start: ms(100),
                    duration: ms(50),
                }],
                ..LinkConfig::default()
            },
            1,
        );
        for t in 0..300 {
            let f = l.offer(ms(t), 10);
            let expect_drop = (100..150).contains(&t);
            assert_eq!(f == Fate::Dropped(DropReason::Outage), expect_drop, "t={t}");
        }
        l.add_outage(ms(500), ms(10));
        assert!(l.in_outage(ms(505)));
        assert!(!l.in_outage(ms(510)));
    }

    #[test]
    fn same_seed_gives_identical_fates_and_another_seed_does_not() {
        let cfg = LinkConfig {
            delay: ms(40),
            jitter: ms(10),
            loss: 0.2,
            duplicate: 0.05,
            reorder: 0.1,
            rate_bps: Some(2_000_000),
            ..LinkConfig::default()
        };
        let a = run(&mut Link::new(cfg.clone(), 1234), 5000);
        let b = run(&mut Link::new(cfg.clone(), 1234), 5000);
        let c = run(&mut Link::new(cfg, 1235), 5000);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
