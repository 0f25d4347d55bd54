//! The packet inside the encryption (spec §2.1): two 16-bit timestamps, then
//! the fragment bytes; plus the receiver's first checks (spec §1.5 steps 1–3).
//!
//! The replay/ordering bookkeeping of steps 4–5 (`expected_receiver_seq`)
//! belongs to the connection, which sees `Packet::seq`.

use super::crypto::{Direction, Session};
use super::error::DatagramError;

/// `timestamp_reply` (or `timestamp`) value meaning "none".
pub const TIMESTAMP_NONE: u16 = 0xFFFF;
/// Bytes of the two timestamps at the start of the plaintext.
pub const TIMESTAMPS_LEN: usize = 4;
/// Mosh's receive buffer: a longer datagram is an error, never sent.
pub const MAX_DATAGRAM_LEN: usize = 2048;

/// The low 16 bits of a millisecond clock, with 0xFFFF (reserved for
/// "none") mapped to 0.
pub fn timestamp16(ms: u64) -> u16 {
    match (ms & 0xFFFF) as u16 {
        TIMESTAMP_NONE => 0,
        ts => ts,
    }
}

/// One datagram's contents after decryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Which way it travels (the nonce's top bit).
    pub direction: Direction,
    /// The sender's per-process sequence number.
    pub seq: u64,
    /// The sender's clock, ms mod 65536 (never 0xFFFF when sent by Mosh).
    pub timestamp: u16,
    /// The echoed peer timestamp, held-time corrected; [`TIMESTAMP_NONE`] if none.
    pub timestamp_reply: u16,
    /// The fragment bytes (§3).
    pub payload: Vec<u8>,
}

impl Packet {
    /// The plaintext: big-endian timestamps, then the payload.
    pub fn to_plaintext(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(TIMESTAMPS_LEN + self.payload.len());
        p.extend_from_slice(&self.timestamp.to_be_bytes());
        p.extend_from_slice(&self.timestamp_reply.to_be_bytes());
        p.extend_from_slice(&self.payload);
        p
    }

    /// Splits an authentic plaintext (needs at least the 4 timestamp bytes).
    pub fn from_plaintext(
        direction: Direction,
        seq: u64,
        plaintext: &[u8],
    ) -> Result<Packet, DatagramError> {
        match plaintext {
            [t0, t1, r0, r1, payload @ ..] => Ok(Packet {
                direction,
                seq,
                timestamp: u16::from_be_bytes([*t0, *t1]),
                timestamp_reply: u16::from_be_bytes([*r0, *r1]),
                payload: payload.to_vec(),
            }),
            _ => Err(DatagramError::ShortPlaintext(plaintext.len())),
        }
    }

    /// Encrypts the packet into a datagram ready for the socket.
    ///
    /// Refuses to produce more than [`MAX_DATAGRAM_LEN`] bytes, which no Mosh
    /// peer could receive.
    pub fn encode(&self, session: &mut Session) -> Result<Vec<u8>, DatagramError> {
        let len = super::crypto::MIN_DATAGRAM_LEN + TIMESTAMPS_LEN + self.payload.len();
        if len > MAX_DATAGRAM_LEN {
            return Err(DatagramError::Oversize(len));
        }
        Ok(session.seal(self.direction, self.seq, &self.to_plaintext())?)
    }

    /// Decrypts and checks a received datagram: size, authenticity, the
    /// 4-byte minimum plaintext, and that it travels in `incoming` direction
    /// (a server accepts only `ToServer`, a client only `ToClient`).
    pub fn decode(
        session: &Session,
        datagram: &[u8],
        incoming: Direction,
    ) -> Result<Packet, DatagramError> {
        if datagram.len() > MAX_DATAGRAM_LEN {
            return Err(DatagramError::Oversize(datagram.len()));
        }
        let (direction, seq, plaintext) = session.open(datagram)?;
        let packet = Packet::from_plaintext(direction, seq, &plaintext)?;
        if direction != incoming {
            return Err(DatagramError::WrongDirection);
        }
        Ok(packet)
    }

    /// The echoed timestamp, or `None` when the reply field says "none".
    pub fn reply(&self) -> Option<u16> {
        (self.timestamp_reply != TIMESTAMP_NONE).then_some(self.timestamp_reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::compress::encode_instruction;
    use crate::transport::crypto::MAX_SEQ;
    use crate::transport::error::CryptoError;
    use crate::transport::fragment::Fragmenter;
    use crate::transport::key::Base64Key;
    use crate::transport::message::{Instruction, ResizeMessage, UserInstruction, UserMessage};
    use proptest::prelude::*;
    use prost::Message;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn session() -> Session {
        Session::new(&Base64Key::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap())
    }

    /// Spec §4.4, byte for byte: instruction → zlib → fragment → plaintext → datagram.
    #[test]
    fn worked_example_first_client_datagram() {
        let diff = UserMessage {
            instruction: vec![UserInstruction {
                keystroke: None,
                resize: Some(ResizeMessage {
                    width: Some(80),
                    height: Some(24),
                }),
                ..Default::default()
            }],
        }
        .encode_to_vec();
        let instruction = Instruction {
            protocol_version: Some(2),
            old_num: Some(0),
            new_num: Some(1),
            ack_num: Some(0),
            throwaway_num: Some(0),
            diff: Some(diff),
            chaff: Some(Vec::new()),
        };
        let zlib = encode_instruction(&instruction);
        let fragments = Fragmenter::new()
            .make_fragments(&zlib, crate::transport::fragment::MTU_V4)
            .unwrap();
        assert_eq!(fragments.len(), 1);
        let packet = Packet {
            direction: Direction::ToServer,
            seq: 0,
            timestamp: timestamp16(1000),
            timestamp_reply: TIMESTAMP_NONE,
            payload: fragments[0].encode(),
        };
        let zlib_hex = "78 9c e3 60 12 60 90 60 54 60 d0 60 30 e2 e0 62 93 62 d1 08 30 90 b0 62 00 00 10 53 01 de";
        assert_eq!(
            packet.to_plaintext(),
            unhex(&format!(
                "03 e8 ff ff 00 00 00 00 00 00 00 01 80 00 {zlib_hex}"
            ))
        );
        let datagram = packet.encode(&mut session()).unwrap();
        assert_eq!(datagram.len(), 68);
        assert_eq!(
            datagram,
            unhex(
                "0000000000000000 d96aae60c39b8ce94fc6a247a8ce3841ee8b4b2e6ce82657ade4e72266ab53bd\
                 36fd5e43daab18dc2284639a13999a18875279f1d87cd85adf3cd4db"
            )
        );
        let back = Packet::decode(&session(), &datagram, Direction::ToServer).unwrap();
        assert_eq!(back, packet);
        assert_eq!(back.reply(), None);
    }

    #[test]
    fn timestamp16_reserves_ffff() {
        assert_eq!(timestamp16(0), 0);
        assert_eq!(timestamp16(1000), 1000);
        assert_eq!(timestamp16(0xFFFE), 0xFFFE);
        assert_eq!(timestamp16(0xFFFF), 0);
        assert_eq!(timestamp16(0x1_0000), 0);
        assert_eq!(timestamp16(0x1_0001), 1);
        assert_eq!(timestamp16(0x7_FFFF), 0);
        assert_eq!(timestamp16(u64::MAX), 0);
    }

    #[test]
    fn reflected_packet_is_rejected() {
        let mut s = session();
        let p = Packet {
            direction: Direction::ToServer,
            seq: 3,
            timestamp: 1,
            timestamp_reply: 2,
            payload: vec![0; 10],
        };
        let d = p.encode(&mut s).unwrap();
        assert_eq!(
            Packet::decode(&s, &d, Direction::ToClient),
            Err(DatagramError::WrongDirection)
        );
        assert_eq!(Packet::decode(&s, &d, Direction::ToServer), Ok(p));
    }

    #[test]
    fn authentic_plaintext_below_four_bytes_is_rejected() {
        let mut s = session();
        for len in 0..4 {
            let d = s
                .seal(Direction::ToClient, len as u64, &vec![0; len])
                .unwrap();
            assert_eq!(
                Packet::decode(&s, &d, Direction::ToClient),
                Err(DatagramError::ShortPlaintext(len))
            );
        }
        let d = s.seal(Direction::ToClient, 9, &[0, 1, 0xff, 0xff]).unwrap();
        let p = Packet::decode(&s, &d, Direction::ToClient).unwrap();
        assert_eq!(
            (p.timestamp, p.timestamp_reply, p.payload.len()),
            (1, 0xFFFF, 0)
        );
    }

    #[test]
    fn oversize_is_refused_both_ways() {
        let mut s = session();
        let mut p = Packet {
            direction: Direction::ToServer,
            seq: 0,
            timestamp: 0,
            timestamp_reply: TIMESTAMP_NONE,
            payload: vec![0; MAX_DATAGRAM_LEN - 28],
        };
        assert_eq!(p.encode(&mut s).unwrap().len(), MAX_DATAGRAM_LEN);
        p.payload.push(0);
        assert_eq!(
            p.encode(&mut s),
            Err(DatagramError::Oversize(MAX_DATAGRAM_LEN + 1))
        );
        let big = s.seal(Direction::ToServer, 1, &vec![0; 2030]).unwrap();
        assert_eq!(
            Packet::decode(&s, &big, Direction::ToServer),
            Err(DatagramError::Oversize(2054))
        );
    }

    #[test]
    fn forged_and_truncated_datagrams_are_non_fatal_errors() {
        let mut s = session();
        let p = Packet {
            direction: Direction::ToClient,
            seq: MAX_SEQ,
            timestamp: 7,
            timestamp_reply: 8,
            payload: b"0123456789abc".to_vec(),
        };
        let d = p.encode(&mut s).unwrap();
        for cut in 0..d.len() {
            let e = Packet::decode(&s, &d[..cut], Direction::ToClient).unwrap_err();
            assert!(!e.is_fatal());
            let want = if cut < 24 {
                CryptoError::TooShort
            } else {
                CryptoError::IntegrityCheck
            };
            assert_eq!(e, DatagramError::Crypto(want));
        }
        let mut forged = d.clone();
        forged[0] ^= 0x80; // flip the direction bit in the clear nonce
        assert_eq!(
            Packet::decode(&s, &forged, Direction::ToServer),
            Err(DatagramError::Crypto(CryptoError::IntegrityCheck))
        );
    }

    proptest! {
        #[test]
        fn packet_round_trips(
            to_client in any::<bool>(), seq in 0..=MAX_SEQ, ts in any::<u16>(), reply in any::<u16>(),
            payload in proptest::collection::vec(any::<u8>(), 0..2020),
        ) {
            let direction = if to_client { Direction::ToClient } else { Direction::ToServer };
            let p = Packet { direction, seq, timestamp: ts, timestamp_reply: reply, payload };
            let mut s = session();
            let d = p.encode(&mut s).unwrap();
            prop_assert_eq!(Packet::decode(&s, &d, direction), Ok(p));
        }

        #[test]
        fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let s = session();
            prop_assert!(Packet::decode(&s, &data, Direction::ToServer).is_err());
        }
    }
}
