//! The `-p PORT[:PORT2]` argument (§2.5), parsed with C `strtol` rules so
//! that exactly Mosh's inputs are accepted (an empty string is port 0, `1:`
//! is the range 1..0) and its messages printed.

use super::cnum::strtol;
pub use crate::net::ports::PortRange;

/// Parses `PORT` or `LOW:HIGH`; the error is Mosh's explanation line.
pub fn parse_port_range(text: &str) -> Result<PortRange, String> {
    let bytes = text.as_bytes();
    let low = strtol(bytes);
    let rest = bytes.get(low.end..).unwrap_or_default();
    if low.overflow || !(rest.is_empty() || rest.first() == Some(&b':')) {
        return Err(format!("Invalid (low) port number ({text})"));
    }
    let low_port = to_port(low.value).ok_or_else(|| {
        format!(
            "(Low) port number {} outside valid range [0..65535]",
            low.value
        )
    })?;
    if rest.is_empty() {
        return Ok(PortRange {
            low: low_port,
            high: low_port,
        });
    }
    let high_text = rest.get(1..).unwrap_or_default();
    let high = strtol(high_text);
    if high.overflow || high.end != high_text.len() {
        return Err(format!(
            "Invalid high port number ({})",
            String::from_utf8_lossy(high_text)
        ));
    }
    let high_port = to_port(high.value).ok_or_else(|| {
        format!(
            "High port number {} outside valid range [0..65535]",
            high.value
        )
    })?;
    if low_port > high_port {
        return Err(format!(
            "Low port {low_port} greater than high port {high_port}"
        ));
    }
    if low_port == 0 {
        return Err("Low port 0 incompatible with port ranges".to_owned());
    }
    Ok(PortRange {
        low: low_port,
        high: high_port,
    })
}

fn to_port(v: i64) -> Option<u16> {
    u16::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_port_and_range() {
        assert_eq!(
            parse_port_range("60050"),
            Ok(PortRange {
                low: 60050,
                high: 60050
            })
        );
        assert_eq!(
            parse_port_range("60000:60010"),
            Ok(PortRange {
                low: 60000,
                high: 60010
            })
        );
        assert_eq!(parse_port_range("0"), Ok(PortRange { low: 0, high: 0 }));
        // strtol accepts an empty string as 0, and so does Mosh.
        assert_eq!(parse_port_range(""), Ok(PortRange { low: 0, high: 0 }));
    }

    #[test]
    fn errors_match_mosh() {
        assert_eq!(
            parse_port_range("abc"),
            Err("Invalid (low) port number (abc)".into())
        );
        assert_eq!(
            parse_port_range("70000"),
            Err("(Low) port number 70000 outside valid range [0..65535]".into())
        );
        assert_eq!(
            parse_port_range("5:3"),
            Err("Low port 5 greater than high port 3".into())
        );
        assert_eq!(
            parse_port_range("1:"),
            Err("Low port 1 greater than high port 0".into())
        );
        assert_eq!(
            parse_port_range("1:x"),
            Err("Invalid high port number (x)".into())
        );
        assert_eq!(
            parse_port_range("1:99999"),
            Err("High port number 99999 outside valid range [0..65535]".into())
        );
        assert_eq!(
            parse_port_range("0:5"),
            Err("Low port 0 incompatible with port ranges".into())
        );
        assert_eq!(
            parse_port_range("-1"),
            Err("(Low) port number -1 outside valid range [0..65535]".into())
        );
    }

    #[test]
    fn default_is_mosh_search_range() {
        assert_eq!(
            PortRange::default(),
            PortRange {
                low: 60001,
                high: 60999
            }
        );
    }
}
