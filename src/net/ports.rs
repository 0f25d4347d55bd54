//! The server's port choice (spec §2.5): `-p PORT`, `-p LOW:HIGH`, `-p 0`,
//! or the default range 60001–60999. Error texts are Mosh's.

use std::fmt;

/// First port of the default search range.
pub const DEFAULT_PORT_LOW: u16 = 60001;
/// Last port of the default search range.
pub const DEFAULT_PORT_HIGH: u16 = 60999;

/// An inclusive range of UDP ports to try in order (`0..=0`: the OS picks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// First port tried.
    pub low: u16,
    /// Last port tried.
    pub high: u16,
}

impl Default for PortRange {
    fn default() -> Self {
        Self {
            low: DEFAULT_PORT_LOW,
            high: DEFAULT_PORT_HIGH,
        }
    }
}

impl PortRange {
    /// The ports in search order.
    pub fn iter(&self) -> impl Iterator<Item = u16> {
        self.low..=self.high
    }
}

/// A `-p` argument Mosh would reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortError {
    /// The (low) port is not a number.
    InvalidLow(String),
    /// The high port is not a number.
    InvalidHigh(String),
    /// The (low) port is above 65535.
    LowOutOfRange(String),
    /// The high port is above 65535.
    HighOutOfRange(String),
    /// LOW > HIGH.
    LowAboveHigh(u16, u16),
    /// `0:HIGH` is meaningless.
    ZeroLowInRange,
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortError::InvalidLow(s) => write!(f, "Invalid (low) port number ({s})"),
            PortError::InvalidHigh(s) => write!(f, "Invalid high port number ({s})"),
            PortError::LowOutOfRange(s) => {
                write!(f, "(Low) port number {s} outside valid range [0..65535]")
            }
            PortError::HighOutOfRange(s) => {
                write!(f, "High port number {s} outside valid range [0..65535]")
            }
            PortError::LowAboveHigh(l, h) => {
                write!(f, "Low port {l} greater than high port {h}")
            }
            PortError::ZeroLowInRange => f.write_str("Low port 0 incompatible with port ranges"),
        }
    }
}

impl std::error::Error for PortError {}

/// Parses a decimal port like `strtol` would accept it (optional sign, digits).
fn parse_port(
    s: &str,
    invalid: fn(String) -> PortError,
    range: fn(String) -> PortError,
) -> Result<u16, PortError> {
    let t = s.trim_start();
    let digits = t.strip_prefix('+').unwrap_or(t);
    let (neg, digits) = match digits.strip_prefix('-') {
        Some(d) if !t.starts_with('+') => (true, d),
        _ => (false, digits),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(s.to_string()));
    }
    let value: u128 = digits.parse().map_err(|_| range(s.to_string()))?;
    if neg && value != 0 {
        return Err(range(format!("-{value}")));
    }
    u16::try_from(value).map_err(|_| range(value.to_string()))
}

/// Parses `PORT` or `LOW:HIGH` (spec §2.5).
pub fn parse_port_range(arg: &str) -> Result<PortRange, PortError> {
    match arg.split_once(':') {
        None => {
            let p = parse_port(arg, PortError::InvalidLow, PortError::LowOutOfRange)?;
            Ok(PortRange { low: p, high: p })
        }
        Some((lo, hi)) => {
            let low = parse_port(lo, PortError::InvalidLow, PortError::LowOutOfRange)?;
            let high = parse_port(hi, PortError::InvalidHigh, PortError::HighOutOfRange)?;
            if low > high {
                return Err(PortError::LowAboveHigh(low, high));
            }
            if low == 0 {
                return Err(PortError::ZeroLowInRange);
            }
            Ok(PortRange { low, high })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ports_and_ranges() {
        assert_eq!(
            parse_port_range("60100"),
            Ok(PortRange {
                low: 60100,
                high: 60100
            })
        );
        assert_eq!(parse_port_range("0"), Ok(PortRange { low: 0, high: 0 }));
        assert_eq!(
            parse_port_range("5000:5010"),
            Ok(PortRange {
                low: 5000,
                high: 5010
            })
        );
        assert_eq!(PortRange::default().iter().count(), 999);
        assert_eq!(PortRange::default().iter().next(), Some(60001));
    }

    #[test]
    fn errors_use_mosh_wording() {
        let e = |s: &str| parse_port_range(s).err().map(|e| e.to_string());
        assert_eq!(e("abc").as_deref(), Some("Invalid (low) port number (abc)"));
        assert_eq!(e("1:x").as_deref(), Some("Invalid high port number (x)"));
        assert_eq!(
            e("70000").as_deref(),
            Some("(Low) port number 70000 outside valid range [0..65535]")
        );
        assert_eq!(
            e("1:70000").as_deref(),
            Some("High port number 70000 outside valid range [0..65535]")
        );
        assert_eq!(
            e("10:5").as_deref(),
            Some("Low port 10 greater than high port 5")
        );
        assert_eq!(
            e("0:5").as_deref(),
            Some("Low port 0 incompatible with port ranges")
        );
        assert!(e("").is_some());
        assert!(e(":").is_some());
        assert!(e("1:2:3").is_some());
        assert!(e("99999999999999999999999999999999999999999").is_some());
    }
}
