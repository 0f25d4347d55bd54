//! Round-trip time estimation (spec §2.1, §2.2) and the derived timers.
//!
//! The peers measure RTT by echoing each other's 16-bit millisecond
//! timestamps. [`TimestampEcho`] holds the peer's last timestamp until our
//! next datagram carries it back; [`RttEstimator`] turns the echoes we get
//! back into SRTT/RTTVAR (RFC 6298 smoothing) and from those the RTO and the
//! SSP send interval.

use std::time::{Duration, Instant};

/// The 16-bit timestamp value that means "absent".
pub const TIMESTAMP_NONE: u16 = 0xFFFF;
/// RTO lower bound.
pub const MIN_RTO: Duration = Duration::from_millis(50);
/// RTO upper bound.
pub const MAX_RTO: Duration = Duration::from_millis(1000);
/// Lower bound of the SSP send interval.
pub const SEND_INTERVAL_MIN: Duration = Duration::from_millis(20);
/// Upper bound of the SSP send interval.
pub const SEND_INTERVAL_MAX: Duration = Duration::from_millis(250);
/// Samples at or above this many milliseconds are ignored (e.g. a stopped peer).
pub const RTT_SAMPLE_CAP_MS: u16 = 5000;
/// A held timestamp is echoed only if our next send is within this time.
pub const TIMESTAMP_REPLY_WINDOW: Duration = Duration::from_millis(1000);
/// Amount subtracted from an echoed timestamp after an ECN "congestion experienced" mark.
pub const CONGESTION_TIMESTAMP_PENALTY_MS: u16 = 500;

/// A millisecond clock anchored at an arbitrary `Instant` (the peer only
/// echoes our values, so any origin works, including a virtual clock).
#[derive(Debug, Clone, Copy)]
pub struct MsClock {
    epoch: Instant,
}

impl MsClock {
    /// A clock whose zero is `epoch`.
    pub fn new(epoch: Instant) -> Self {
        Self { epoch }
    }

    /// Milliseconds since the epoch (0 for times before it).
    pub fn ms(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// The wire timestamp for `now`: low 16 bits, with 0xFFFF replaced by 0.
    pub fn timestamp16(&self, now: Instant) -> u16 {
        let ts = (self.ms(now) & 0xFFFF) as u16;
        if ts == TIMESTAMP_NONE { 0 } else { ts }
    }
}

/// Difference of two 16-bit timestamps modulo 2^16.
pub fn timestamp_diff(newer: u16, older: u16) -> u16 {
    newer.wrapping_sub(older)
}

/// The peer's most recent timestamp, kept until it can be echoed (§2.1).
#[derive(Debug, Clone, Default)]
pub struct TimestampEcho {
    saved: Option<(u16, Instant)>,
}

impl TimestampEcho {
    /// Records the timestamp of an in-order datagram received at `now`.
    /// With `congestion` (ECN CE) the echo is made 500 ms older.
    pub fn on_receive(&mut self, timestamp: u16, congestion: bool, now: Instant) {
        if timestamp == TIMESTAMP_NONE {
            return;
        }
        let ts = if congestion {
            timestamp.wrapping_sub(CONGESTION_TIMESTAMP_PENALTY_MS)
        } else {
            timestamp
        };
        self.saved = Some((ts, now));
    }

    /// The `timestamp_reply` for a datagram sent at `now`: the saved value
    /// advanced by how long we held it, at most once and only within 1 s.
    pub fn take_reply(&mut self, now: Instant) -> u16 {
        match self.saved {
            Some((ts, at)) => {
                let held = now.saturating_duration_since(at);
                if held < TIMESTAMP_REPLY_WINDOW {
                    self.saved = None;
                    // held < 1000 ms, so the cast cannot truncate.
                    ts.wrapping_add(held.as_millis() as u16)
                } else {
                    TIMESTAMP_NONE
                }
            }
            None => TIMESTAMP_NONE,
        }
    }
}

/// SRTT/RTTVAR with Mosh's initial values and bounds.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: f64,
    rttvar: f64,
    hit: bool,
}

impl Default for RttEstimator {
    fn default() -> Self {
        Self::new()
    }
}

impl RttEstimator {
    /// SRTT 1000 ms, RTTVAR 500 ms, no sample yet.
    pub fn new() -> Self {
        Self {
            srtt: 1000.0,
            rttvar: 500.0,
            hit: false,
        }
    }

    /// Feeds a sample of `r_ms` milliseconds; samples ≥ 5000 ms are ignored.
    /// Returns whether the sample was used.
    pub fn on_sample(&mut self, r_ms: u16) -> bool {
        if r_ms >= RTT_SAMPLE_CAP_MS {
            return false;
        }
        let r = f64::from(r_ms);
        if !self.hit {
            self.srtt = r;
            self.rttvar = r / 2.0;
            self.hit = true;
        } else {
            self.rttvar = 0.75 * self.rttvar + 0.25 * (self.srtt - r).abs();
            self.srtt = 0.875 * self.srtt + 0.125 * r;
        }
        true
    }

    /// Smoothed RTT in milliseconds.
    pub fn srtt_ms(&self) -> f64 {
        self.srtt
    }

    /// RTT variation in milliseconds.
    pub fn rttvar_ms(&self) -> f64 {
        self.rttvar
    }

    /// Whether at least one sample was taken.
    pub fn has_sample(&self) -> bool {
        self.hit
    }

    /// Retransmission timeout: `ceil(SRTT + 4·RTTVAR)` within [50, 1000] ms.
    pub fn rto(&self) -> Duration {
        clamp_ms((self.srtt + 4.0 * self.rttvar).ceil(), MIN_RTO, MAX_RTO)
    }

    /// SSP frame interval: `ceil(SRTT / 2)` within [20, 250] ms.
    pub fn send_interval(&self) -> Duration {
        clamp_ms(
            (self.srtt / 2.0).ceil(),
            SEND_INTERVAL_MIN,
            SEND_INTERVAL_MAX,
        )
    }
}

fn clamp_ms(ms: f64, lo: Duration, hi: Duration) -> Duration {
    let lo_ms = lo.as_millis() as f64;
    let hi_ms = hi.as_millis() as f64;
    // NaN cannot occur (inputs are finite), but `clamp` would keep it; map it to `hi`.
    let v = if ms.is_nan() {
        hi_ms
    } else {
        ms.clamp(lo_ms, hi_ms)
    };
    Duration::from_millis(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_values_give_max_timers() {
        let r = RttEstimator::new();
        assert_eq!(r.srtt_ms(), 1000.0);
        assert_eq!(r.rttvar_ms(), 500.0);
        // 1000 + 4*500 = 3000 → clamped to 1000.
        assert_eq!(r.rto(), Duration::from_millis(1000));
        // 1000/2 = 500 → clamped to 250.
        assert_eq!(r.send_interval(), Duration::from_millis(250));
    }

    #[test]
    fn first_sample_sets_srtt_and_half_var() {
        let mut r = RttEstimator::new();
        assert!(r.on_sample(100));
        assert_eq!(r.srtt_ms(), 100.0);
        assert_eq!(r.rttvar_ms(), 50.0);
        assert_eq!(r.rto(), Duration::from_millis(300));
        assert_eq!(r.send_interval(), Duration::from_millis(50));
    }

    #[test]
    fn later_samples_smooth_like_rfc6298() {
        let mut r = RttEstimator::new();
        r.on_sample(100);
        r.on_sample(200);
        // rttvar = .75*50 + .25*100 = 62.5 ; srtt = .875*100 + .125*200 = 112.5
        assert_eq!(r.rttvar_ms(), 62.5);
        assert_eq!(r.srtt_ms(), 112.5);
        assert_eq!(r.rto(), Duration::from_millis(363)); // ceil(112.5+250)
        assert_eq!(r.send_interval(), Duration::from_millis(57)); // ceil(56.25)
    }

    #[test]
    fn samples_of_five_seconds_are_ignored() {
        let mut r = RttEstimator::new();
        assert!(!r.on_sample(5000));
        assert!(!r.has_sample());
        assert!(r.on_sample(4999));
    }

    #[test]
    fn bounds_clamp_small_rtts() {
        let mut r = RttEstimator::new();
        r.on_sample(0);
        assert_eq!(r.rto(), MIN_RTO);
        assert_eq!(r.send_interval(), SEND_INTERVAL_MIN);
    }

    #[test]
    fn timestamp16_avoids_reserved_value() {
        let t0 = Instant::now();
        let c = MsClock::new(t0);
        assert_eq!(c.timestamp16(t0 + Duration::from_millis(65535)), 0);
        assert_eq!(c.timestamp16(t0 + Duration::from_millis(65536 + 7)), 7);
        assert_eq!(timestamp_diff(3, 65533), 6);
    }

    #[test]
    fn reply_is_corrected_sent_once_and_expires() {
        let t0 = Instant::now();
        let mut e = TimestampEcho::default();
        assert_eq!(e.take_reply(t0), TIMESTAMP_NONE);
        e.on_receive(65530, false, t0);
        assert_eq!(e.take_reply(t0 + Duration::from_millis(10)), 4);
        assert_eq!(e.take_reply(t0 + Duration::from_millis(11)), TIMESTAMP_NONE);
        e.on_receive(100, false, t0);
        assert_eq!(
            e.take_reply(t0 + Duration::from_millis(1000)),
            TIMESTAMP_NONE
        );
        let mut fresh = TimestampEcho::default();
        fresh.on_receive(TIMESTAMP_NONE, false, t0);
        assert_eq!(fresh.take_reply(t0), TIMESTAMP_NONE);
    }

    #[test]
    fn congestion_makes_echo_older() {
        let t0 = Instant::now();
        let mut e = TimestampEcho::default();
        e.on_receive(1000, true, t0);
        assert_eq!(e.take_reply(t0), 500);
    }
}
