//! C `strtol` semantics, so argument checks accept and reject exactly what
//! Mosh's do (leading blanks and a sign are fine, trailing junk is not).

/// The result of parsing a leading decimal integer the way `strtol(s, &end, 10)` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strtol {
    /// The value (saturated like `strtol` on overflow).
    pub value: i64,
    /// True when the value did not fit (`errno == ERANGE`).
    pub overflow: bool,
    /// Byte offset of the first unparsed byte (`end - s`); 0 when no digits.
    pub end: usize,
}

/// Parses the longest decimal prefix of `s` like C's `strtol(s, &end, 10)`.
pub fn strtol(s: &[u8]) -> Strtol {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if let Some(&c) = s.get(i)
        && (c == b'+' || c == b'-')
    {
        negative = c == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut value: i64 = 0;
    let mut overflow = false;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        let d = i64::from(c - b'0');
        let next = value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        });
        match next {
            Some(v) if !overflow => value = v,
            _ => {
                overflow = true;
                value = if negative { i64::MIN } else { i64::MAX };
            }
        }
        i += 1;
    }
    if i == digits_start {
        return Strtol {
            value: 0,
            overflow: false,
            end: 0,
        };
    }
    Strtol {
        value,
        overflow,
        end: i,
    }
}

/// Parses a whole string as an integer like Mosh's `myatoi` (no trailing junk).
pub fn atoi_strict(s: &[u8]) -> Option<i64> {
    let r = strtol(s);
    if r.overflow || r.end != s.len() {
        None
    } else {
        Some(r.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_c() {
        assert_eq!(strtol(b"42").value, 42);
        assert_eq!(strtol(b"  -7x").value, -7);
        assert_eq!(strtol(b"  -7x").end, 4);
        assert_eq!(strtol(b"+5").value, 5);
        assert_eq!(strtol(b"abc").end, 0);
        assert_eq!(strtol(b"-").end, 0);
        assert_eq!(strtol(b"").end, 0);
        assert!(strtol(b"99999999999999999999").overflow);
        assert_eq!(strtol(b"99999999999999999999").value, i64::MAX);
        assert_eq!(strtol(b"-99999999999999999999").value, i64::MIN);
    }

    #[test]
    fn strict_rejects_trailing_junk_but_accepts_empty_as_zero() {
        assert_eq!(atoi_strict(b"256"), Some(256));
        assert_eq!(atoi_strict(b" 12"), Some(12));
        assert_eq!(atoi_strict(b"256x"), None);
        // strtol on "" consumes nothing and end == str + strlen(str): Mosh accepts it as 0.
        assert_eq!(atoi_strict(b""), Some(0));
        assert_eq!(atoi_strict(b"x"), None);
        assert_eq!(atoi_strict(b"99999999999999999999"), None);
    }
}
