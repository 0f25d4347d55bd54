//! Errors of the wire layer, one enum per job, each with Mosh's wording where
//! Mosh has one.
//!
//! A fatal error ends the session (Mosh kills it too); every other error means
//! "drop this datagram/instruction and carry on".

use std::fmt;

/// A printable session key that Mosh would refuse (spec §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// Not exactly 22 characters.
    WrongLength,
    /// A character outside `A–Z a–z 0–9 + /`.
    NotBase64,
    /// The last character carries bits beyond the 128-bit key.
    NotCanonical,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyError::WrongLength => "Key must be 22 letters long.",
            KeyError::NotBase64 => "Key must be well-formed base64.",
            KeyError::NotCanonical => "Base64 key was not encoded 128-bit key.",
        })
    }
}

impl std::error::Error for KeyError {}

/// Sealing or opening a datagram failed (spec §1.2–§1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// Fewer than 24 bytes: no room for the nonce and the tag (non-fatal).
    TooShort,
    /// The tag did not verify: corrupted, forged or wrong key (non-fatal).
    IntegrityCheck,
    /// This key has encrypted 2^47 blocks; OCB's bounds forbid more (fatal).
    KeyUsageLimit,
    /// The 63-bit sequence space is used up; a nonce would repeat (fatal).
    SequenceExhausted,
    /// The cipher refused the input (only for absurd lengths, ≥ 1 GiB).
    Cipher,
}

impl CryptoError {
    /// True when the session must end rather than drop one datagram.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            CryptoError::KeyUsageLimit | CryptoError::SequenceExhausted | CryptoError::Cipher
        )
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CryptoError::TooShort => "Ciphertext must contain nonce and tag.",
            CryptoError::IntegrityCheck => "Packet failed integrity check.",
            CryptoError::KeyUsageLimit => "Encrypted 2^47 blocks.",
            CryptoError::SequenceExhausted => "Counter wrapped",
            CryptoError::Cipher => "AES-OCB refused the input length.",
        })
    }
}

impl std::error::Error for CryptoError {}

/// A datagram that is not an acceptable packet (spec §1.4, §1.5, §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatagramError {
    /// Decryption or encryption failed.
    Crypto(CryptoError),
    /// More than the 2048-byte receive buffer (or an attempt to send that much).
    Oversize(usize),
    /// Authentic, but the plaintext has no room for the two timestamps.
    ShortPlaintext(usize),
    /// Authentic, but it travels in our own sending direction (a reflection).
    WrongDirection,
}

impl DatagramError {
    /// True when the session must end rather than drop one datagram.
    pub fn is_fatal(&self) -> bool {
        matches!(self, DatagramError::Crypto(e) if e.is_fatal())
    }
}

impl fmt::Display for DatagramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatagramError::Crypto(e) => e.fmt(f),
            DatagramError::Oversize(n) => {
                write!(f, "Received oversize datagram ({n} bytes, limit 2048)")
            }
            DatagramError::ShortPlaintext(n) => write!(
                f,
                "Illegal counterparty input (possible denial of service): \
                 plaintext of {n} bytes has no room for the timestamps"
            ),
            DatagramError::WrongDirection => f.write_str(
                "Illegal counterparty input (possible denial of service): \
                 packet travels in our own direction",
            ),
        }
    }
}

impl std::error::Error for DatagramError {}

impl From<CryptoError> for DatagramError {
    fn from(e: CryptoError) -> Self {
        DatagramError::Crypto(e)
    }
}

/// A fragment that cannot be parsed, made, or fitted into the assembly (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentError {
    /// Fewer than the 10 header bytes.
    TooShort(usize),
    /// A fragment number above 0x7FFF (only possible for a hand-built `Fragment`).
    NumberOutOfRange(u16),
    /// The MTU leaves no room for a chunk.
    MtuTooSmall(usize),
    /// The payload would need more than 32768 fragments.
    TooManyFragments(usize),
    /// The instruction id counter is used up.
    IdsExhausted,
    /// Same id and number as a stored fragment, but different bytes.
    ConflictingDuplicate {
        /// Instruction id.
        id: u64,
        /// Fragment number.
        num: u16,
    },
    /// The final flag contradicts what was received (a second, different
    /// final fragment, or fragments beyond the final one).
    InconsistentFinal {
        /// Instruction id.
        id: u64,
        /// Fragment number.
        num: u16,
    },
    /// The fragments of one instruction exceed the memory bound.
    AssemblyTooLarge(usize),
    /// A fragment of an instruction older than the newest one seen (replayed
    /// or late); ignored.
    Stale {
        /// Its instruction id.
        id: u64,
        /// The newest instruction id seen.
        newest: u64,
    },
}

impl fmt::Display for FragmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FragmentError::TooShort(n) => {
                write!(
                    f,
                    "fragment of {n} bytes is shorter than its 10-byte header"
                )
            }
            FragmentError::NumberOutOfRange(n) => {
                write!(f, "fragment number {n} is above the 15-bit limit 32767")
            }
            FragmentError::MtuTooSmall(mtu) => {
                write!(f, "an MTU of {mtu} bytes leaves no room for fragment data")
            }
            FragmentError::TooManyFragments(n) => {
                write!(
                    f,
                    "instruction needs {n} fragments; at most 32768 are allowed"
                )
            }
            FragmentError::IdsExhausted => f.write_str("fragment instruction ids are used up"),
            FragmentError::ConflictingDuplicate { id, num } => write!(
                f,
                "fragment {num} of instruction {id} arrived twice with different bytes"
            ),
            FragmentError::InconsistentFinal { id, num } => write!(
                f,
                "fragment {num} of instruction {id} contradicts the final fragment"
            ),
            FragmentError::AssemblyTooLarge(n) => write!(
                f,
                "fragments of one instruction exceed {n} bytes; assembly discarded"
            ),
            FragmentError::Stale { id, newest } => write!(
                f,
                "fragment of instruction {id} is older than instruction {newest}; ignored"
            ),
        }
    }
}

impl std::error::Error for FragmentError {}

/// zlib data that cannot be inflated within Mosh's limit (spec §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompressError {
    /// Not a valid zlib stream.
    Corrupt(String),
    /// The stream ends before its end marker.
    Truncated,
    /// It inflates to more than 4 MiB.
    TooLarge,
}

impl fmt::Display for CompressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompressError::Corrupt(why) => write!(f, "invalid zlib data: {why}"),
            CompressError::Truncated => f.write_str("zlib data ends before the stream does"),
            CompressError::TooLarge => {
                f.write_str("zlib data inflates beyond the 4 MiB limit (4194304 bytes)")
            }
        }
    }
}

impl std::error::Error for CompressError {}

/// A reassembled payload that is not a usable `Instruction` (spec §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstructionError {
    /// The zlib layer failed.
    Decompress(CompressError),
    /// The inflated bytes are not a protobuf `Instruction`.
    Protobuf(String),
    /// `protocol_version` is absent or not 2.
    VersionMismatch(Option<u32>),
}

impl fmt::Display for InstructionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstructionError::Decompress(e) => e.fmt(f),
            InstructionError::Protobuf(why) => write!(f, "malformed Instruction: {why}"),
            InstructionError::VersionMismatch(Some(v)) => {
                write!(
                    f,
                    "mosh protocol version mismatch (peer speaks {v}, we speak 2)"
                )
            }
            InstructionError::VersionMismatch(None) => {
                f.write_str("mosh protocol version mismatch (peer sent no version)")
            }
        }
    }
}

impl std::error::Error for InstructionError {}

impl From<CompressError> for InstructionError {
    fn from(e: CompressError) -> Self {
        InstructionError::Decompress(e)
    }
}
