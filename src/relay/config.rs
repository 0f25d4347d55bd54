//! What one direction of the emulated link does to datagrams.

use std::time::Duration;

/// Which way a datagram travels through the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

impl Direction {
    /// Both directions, up first.
    pub const BOTH: [Direction; 2] = [Direction::Up, Direction::Down];

    /// The lower-case name used in commands and statistics.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// A window of time (from the relay's start) in which every datagram is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// When the outage begins, measured from the relay's start.
    pub start: Duration,
    /// How long it lasts.
    pub duration: Duration,
}

impl Outage {
    /// Whether `t` (from the relay's start) falls inside this outage.
    pub fn covers(&self, t: Duration) -> bool {
        t >= self.start && t < self.start.saturating_add(self.duration)
    }

    /// Parses `START_MS:DUR_MS`.
    pub fn parse(text: &str) -> Result<Outage, String> {
        let (start, dur) = text
            .split_once(':')
            .ok_or_else(|| format!("outage {text:?}: expected START_MS:DUR_MS"))?;
        let ms = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("outage {text:?}: {s:?} is not a number of milliseconds"))
        };
        Ok(Outage {
            start: Duration::from_millis(ms(start)?),
            duration: Duration::from_millis(ms(dur)?),
        })
    }
}

/// The impairments of one direction. The default is a perfect link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Each datagram's delay varies uniformly within ±`jitter` (never below 0).
    pub jitter: Duration,
    /// Probability in `[0, 1]` that a datagram is lost.
    pub loss: f64,
    /// Probability in `[0, 1]` that a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability in `[0, 1]` that a datagram is held back by `reorder_gap`,
    /// so that the datagrams sent just after it overtake it.
    pub reorder: f64,
    /// Extra delay of a reordered datagram.
    pub reorder_gap: Duration,
    /// Bandwidth cap in bits per second; `None` is unlimited.
    pub rate_bps: Option<u64>,
    /// With a bandwidth cap, a datagram that would wait longer than this in
    /// the send queue is dropped (tail drop), as a full router buffer would.
    pub queue_limit: Duration,
    /// Scripted outages.
    pub outages: Vec<Outage>,
}

impl Default for LinkConfig {
    fn default() -> LinkConfig {
        LinkConfig {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_gap: Duration::from_millis(20),
            rate_bps: None,
            queue_limit: Duration::from_millis(1000),
            outages: Vec::new(),
        }
    }
}

/// Converts a percentage (0–100, an optional trailing `%`) to a probability.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let t = text.trim().trim_end_matches('%');
    let v: f64 = t
        .parse()
        .map_err(|_| format!("{text:?} is not a percentage"))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("{text:?} is not between 0 and 100"));
    }
    Ok(v / 100.0)
}

/// Parses a whole number of milliseconds.
pub fn parse_millis(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("{text:?} is not a number of milliseconds"))
}

/// Parses a rate in kbit/s (1 kbit = 1000 bits); 0 means unlimited.
pub fn parse_kbps(text: &str) -> Result<Option<u64>, String> {
    let v: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a rate in kbit/s"))?;
    Ok(if v == 0 {
        None
    } else {
        Some(v.saturating_mul(1000))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_parses_and_covers_half_open_window() {
        let o = Outage::parse("1500:250").unwrap();
        assert_eq!(o.start, Duration::from_millis(1500));
        assert_eq!(o.duration, Duration::from_millis(250));
        assert!(!o.covers(Duration::from_millis(1499)));
        assert!(o.covers(Duration::from_millis(1500)));
        assert!(o.covers(Duration::from_millis(1749)));
        assert!(!o.covers(Duration::from_millis(1750)));
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        assert!(Outage::parse("15").is_err());
        assert!(Outage::parse("a:1").is_err());
        assert!(Outage::parse("1:-1").is_err());
        assert!(parse_percent("101").is_err());
        assert!(parse_percent("-1").is_err());
        assert!(parse_percent("NaN").is_err());
        assert!(parse_millis("1.5").is_err());
        assert!(parse_kbps("x").is_err());
    }

    #[test]
    fn percent_and_rate_units() {
        assert_eq!(parse_percent("20").unwrap(), 0.2);
        assert_eq!(parse_percent("5%").unwrap(), 0.05);
        assert_eq!(parse_kbps("64").unwrap(), Some(64_000));
        assert_eq!(parse_kbps("0").unwrap(), None);
    }
}
