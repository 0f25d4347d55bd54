//! The 128-bit session key and its 22-character printable form (spec §1.1).

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use super::error::KeyError;

/// Length of the printable key: 16 bytes in base64 without the `==` padding.
pub const PRINTABLE_KEY_LEN: usize = 22;

/// A session key: 16 bytes shared by client and server.
///
/// `Debug` never shows the key; only [`Base64Key::printable`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Base64Key([u8; 16]);

impl Base64Key {
    /// Parses the printable form with Mosh's checks and error texts.
    pub fn parse(printable: &str) -> Result<Base64Key, KeyError> {
        // Mosh counts bytes, not characters, so a multi-byte character cannot
        // sneak a 22-byte string past as fewer letters.
        if printable.len() != PRINTABLE_KEY_LEN {
            return Err(KeyError::WrongLength);
        }
        let mut key = [0u8; 16];
        match STANDARD_NO_PAD.decode_slice(printable, &mut key) {
            Ok(16) => Ok(Base64Key(key)),
            Ok(_) => Err(KeyError::NotBase64),
            Err(base64::DecodeSliceError::DecodeError(base64::DecodeError::InvalidLastSymbol(
                _,
                _,
            ))) => Err(KeyError::NotCanonical),
            Err(_) => Err(KeyError::NotBase64),
        }
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Base64Key, getrandom::Error> {
        let mut key = [0u8; 16];
        getrandom::fill(&mut key)?;
        Ok(Base64Key(key))
    }

    /// Wraps 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Base64Key {
        Base64Key(bytes)
    }

    /// The raw 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The 22-character form that goes into `MOSH CONNECT` and `MOSH_KEY`.
    pub fn printable(&self) -> String {
        STANDARD_NO_PAD.encode(self.0)
    }
}

impl FromStr for Base64Key {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Base64Key::parse(s)
    }
}

impl fmt::Debug for Base64Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Base64Key(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_key_is_twenty_two_as() {
        let k = Base64Key::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert_eq!(k.as_bytes(), &[0u8; 16]);
        assert_eq!(k.printable(), "AAAAAAAAAAAAAAAAAAAAAA");
    }

    #[test]
    fn known_vectors_round_trip() {
        // (bytes, printable) pairs checked with a standard base64 encoder.
        let vectors: [([u8; 16], &str); 3] = [
            (
                [
                    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
                    0x0d, 0x0e, 0x0f,
                ],
                "AAECAwQFBgcICQoLDA0ODw",
            ),
            ([0xff; 16], "/////////////////////w"),
            (
                [
                    0xfb, 0xef, 0xbe, 0xfb, 0xef, 0xbe, 0xfb, 0xef, 0xbe, 0xfb, 0xef, 0xbe, 0xfb,
                    0xef, 0xbe, 0xf0,
                ],
                "++++++++++++++++++++8A",
            ),
        ];
        for (bytes, text) in vectors {
            let k = Base64Key::from_bytes(bytes);
            assert_eq!(k.printable(), text);
            assert_eq!(Base64Key::parse(text).unwrap().as_bytes(), &bytes);
        }
    }

    #[test]
    fn every_last_byte_value_round_trips() {
        let mut bytes = [0u8; 16];
        for b in 0..=255u8 {
            bytes[15] = b;
            let k = Base64Key::from_bytes(bytes);
            let p = k.printable();
            assert_eq!(p.len(), 22);
            assert_eq!(Base64Key::parse(&p).unwrap(), k);
        }
    }

    #[test]
    fn random_keys_round_trip() {
        for _ in 0..1000 {
            let k = Base64Key::generate().unwrap();
            assert_eq!(Base64Key::parse(&k.printable()).unwrap(), k);
        }
    }

    #[test]
    fn generated_keys_differ() {
        let a = Base64Key::generate().unwrap();
        let b = Base64Key::generate().unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn bad_keys_give_mosh_texts() {
        let cases: &[(&str, &str)] = &[
            ("", "Key must be 22 letters long."),
            ("AAAAAAAAAAAAAAAAAAAAA", "Key must be 22 letters long."),
            ("AAAAAAAAAAAAAAAAAAAAAAA", "Key must be 22 letters long."),
            ("AAAAAAAAAAAAAAAAAAAAAA==", "Key must be 22 letters long."),
            ("AAAAAAAAAAAAAAAAAAAAA=", "Key must be well-formed base64."),
            ("AAAAAAAAAAAAAAAAAAAA~A", "Key must be well-formed base64."),
            ("~AAAAAAAAAAAAAAAAAAAAA", "Key must be well-formed base64."),
            ("AAAAAAAAAA~AAAAAAAAAAA", "Key must be well-formed base64."),
            ("AAAAAAAAAAAAAAAAAAAA-_", "Key must be well-formed base64."),
            ("AAAAAAAAAA AAAAAAAAAAA", "Key must be well-formed base64."),
            // 21 ASCII bytes + one 2-byte character = 23 bytes.
            ("AAAAAAAAAAAAAAAAAAAAAé", "Key must be 22 letters long."),
            // 20 ASCII bytes + one 2-byte character = 22 bytes, not base64.
            ("AAAAAAAAAAAAAAAAAAAAé", "Key must be well-formed base64."),
            // Low bits of the last character must be zero.
            (
                "AAAAAAAAAAAAAAAAAAAAAB",
                "Base64 key was not encoded 128-bit key.",
            ),
            (
                "AAAAAAAAAAAAAAAAAAAAA/",
                "Base64 key was not encoded 128-bit key.",
            ),
        ];
        for (key, text) in cases {
            let err = Base64Key::parse(key).expect_err(key);
            assert_eq!(err.to_string(), *text, "key {key:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = Base64Key::parse("AAECAwQFBgcICQoLDA0ODw").unwrap();
        let shown = format!("{k:?}");
        assert!(!shown.contains("AAECAw"));
        assert!(!shown.contains('1'));
        assert_eq!(shown, "Base64Key(<redacted>)");
    }

    #[test]
    fn from_str_is_parse() {
        let k: Base64Key = "AAAAAAAAAAAAAAAAAAAAAA".parse().unwrap();
        assert_eq!(k.as_bytes(), &[0; 16]);
        assert!("short".parse::<Base64Key>().is_err());
    }
}
