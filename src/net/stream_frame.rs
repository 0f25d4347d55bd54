//! Datagrams over a byte stream (the SSH path, docs/transport-fallback.md):
//! each datagram is a 2-byte big-endian length and that many bytes. The
//! forwarder on the host starts its output with a greeting line, so shell
//! start-up noise before it is skipped and a stream that is not a forwarder
//! is recognised. Pure: bytes in, datagrams or an error out.

use std::fmt;

/// The largest datagram carried; SSP datagrams stay far below it.
pub const MAX_FRAME: usize = 4096;
/// The forwarder's first line.
pub const GREETING: &[u8] = b"RMOSH-FORWARD 1\n";
/// Bytes of noise tolerated before the greeting.
pub const MAX_NOISE: usize = 8192;

/// Why a stream cannot carry datagrams any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A frame announced more than [`MAX_FRAME`] bytes.
    Oversized(usize),
    /// A frame of length zero (no SSP datagram is empty).
    Empty,
    /// No greeting within [`MAX_NOISE`] bytes: not an rmosh forwarder.
    NoGreeting,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Oversized(n) => write!(
                f,
                "malformed framing: a frame of {n} bytes (at most {MAX_FRAME})"
            ),
            FrameError::Empty => write!(f, "malformed framing: an empty frame"),
            FrameError::NoGreeting => write!(
                f,
                "the host did not answer as an rmosh forwarder (no greeting in {MAX_NOISE} bytes)"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// One datagram as a frame.
pub fn encode(datagram: &[u8]) -> Result<Vec<u8>, FrameError> {
    if datagram.is_empty() {
        return Err(FrameError::Empty);
    }
    let len = u16::try_from(datagram.len())
        .ok()
        .filter(|&n| usize::from(n) <= MAX_FRAME)
        .ok_or(FrameError::Oversized(datagram.len()))?;
    let mut out = Vec::with_capacity(datagram.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(datagram);
    Ok(out)
}

/// Splits a byte stream back into datagrams. It holds at most one partial
/// frame (or the noise before the greeting), so memory stays bounded however
/// the stream is cut. After an error it refuses everything.
#[derive(Debug, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
    greeted: bool,
    failed: Option<FrameError>,
}

impl Decoder {
    /// A decoder for a stream of frames only (the forwarder's stdin).
    pub fn frames() -> Decoder {
        Decoder {
            buf: Vec::new(),
            greeted: true,
            failed: None,
        }
    }

    /// A decoder that first waits for [`GREETING`] (the forwarder's output).
    pub fn after_greeting() -> Decoder {
        Decoder {
            greeted: false,
            ..Decoder::frames()
        }
    }

    /// Whether the greeting has been seen.
    pub fn greeted(&self) -> bool {
        self.greeted
    }

    /// Feeds bytes; calls `out` with each complete datagram, in order.
    pub fn decode(
        &mut self,
        mut bytes: &[u8],
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.decode_inner(&mut bytes, out);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
            self.buf = Vec::new();
        }
        result
    }

    fn decode_inner(
        &mut self,
        bytes: &mut &[u8],
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), FrameError> {
        if !self.greeted {
            self.buf.extend_from_slice(bytes);
            *bytes = &[];
            let Some(at) = find(&self.buf, GREETING) else {
                if self.buf.len() > MAX_NOISE + GREETING.len() {
                    return Err(FrameError::NoGreeting);
                }
                return Ok(());
            };
            if at > MAX_NOISE {
                return Err(FrameError::NoGreeting);
            }
            self.greeted = true;
            let rest = self.buf.split_off(at + GREETING.len());
            self.buf = Vec::new();
            return self.decode_inner(&mut rest.as_slice(), out);
        }
        while !bytes.is_empty() {
            // Complete the header, then the body, of the frame in progress
            // (the header was checked as soon as it was complete).
            let need = if self.buf.len() < 2 {
                2 - self.buf.len()
            } else {
                2 + self.header_len() - self.buf.len()
            };
            let take = need.min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            *bytes = &bytes[take..];
            self.check_header()?;
            if self.buf.len() >= 2 && self.buf.len() == 2 + self.header_len() {
                out(&self.buf[2..]);
                self.buf.clear();
            }
        }
        self.check_header()
    }

    fn header_len(&self) -> usize {
        match self.buf.as_slice() {
            [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
            _ => 0,
        }
    }

    /// A bad length is an error as soon as its two bytes are in.
    fn check_header(&self) -> Result<(), FrameError> {
        if self.buf.len() < 2 {
            return Ok(());
        }
        match self.header_len() {
            0 => Err(FrameError::Empty),
            n if n > MAX_FRAME => Err(FrameError::Oversized(n)),
            _ => Ok(()),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(d: &mut Decoder, bytes: &[u8]) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut got = Vec::new();
        d.decode(bytes, &mut |f| got.push(f.to_vec()))?;
        Ok(got)
    }

    #[test]
    fn round_trip_cut_at_every_byte() {
        let datagrams: Vec<Vec<u8>> = vec![vec![1], vec![2; 300], vec![3; MAX_FRAME]];
        let mut stream = b"Welcome from .bashrc\n".to_vec();
        stream.extend_from_slice(GREETING);
        for d in &datagrams {
            stream.extend(encode(d).unwrap());
        }
        for cut in 0..stream.len() {
            let mut d = Decoder::after_greeting();
            let mut got = decode_all(&mut d, &stream[..cut]).unwrap();
            got.extend(decode_all(&mut d, &stream[cut..]).unwrap());
            assert_eq!(got, datagrams, "cut at {cut}");
        }
    }

    #[test]
    fn oversized_and_empty_are_refused_both_ways() {
        assert_eq!(
            encode(&vec![0; MAX_FRAME + 1]),
            Err(FrameError::Oversized(MAX_FRAME + 1))
        );
        assert_eq!(encode(&[]), Err(FrameError::Empty));
        let mut d = Decoder::frames();
        // The error comes from the header alone, before any body arrives.
        assert_eq!(
            decode_all(&mut d, &[0xff, 0xff]),
            Err(FrameError::Oversized(0xffff))
        );
        // And sticks: nothing after a bad frame is believed.
        assert_eq!(
            decode_all(&mut d, &encode(b"x").unwrap()),
            Err(FrameError::Oversized(0xffff))
        );
        let mut d = Decoder::frames();
        assert_eq!(decode_all(&mut d, &[0, 0, 5]), Err(FrameError::Empty));
    }

    #[test]
    fn frames_before_an_error_are_delivered_once() {
        let mut stream = encode(b"ok").unwrap();
        stream.extend_from_slice(&[0x7f, 0xff]);
        let mut d = Decoder::frames();
        let mut got = Vec::new();
        let r = d.decode(&stream, &mut |f| got.push(f.to_vec()));
        assert_eq!(got, vec![b"ok".to_vec()]);
        assert_eq!(r, Err(FrameError::Oversized(0x7fff)));
    }

    #[test]
    fn garbage_instead_of_a_greeting_is_an_error_in_bounded_memory() {
        let mut d = Decoder::after_greeting();
        let noise = vec![b'x'; 1000];
        let mut result = Ok(Vec::new());
        for _ in 0..20 {
            result = decode_all(&mut d, &noise);
            if result.is_err() {
                break;
            }
            assert!(d.buf.len() <= MAX_NOISE + GREETING.len());
        }
        assert_eq!(result, Err(FrameError::NoGreeting));
        assert!(!d.greeted());
    }

    #[test]
    fn partial_frame_memory_is_bounded() {
        let mut d = Decoder::frames();
        let frame = encode(&[7; MAX_FRAME]).unwrap();
        decode_all(&mut d, &frame[..MAX_FRAME]).unwrap();
        assert!(d.buf.len() <= MAX_FRAME + 2);
    }
}
