//! AES-128-OCB3 sealing of datagrams (spec §1.2–§1.4).
//!
//! A datagram is the 8-byte big-endian nonce tail `(direction << 63) | seq`
//! in clear, then the ciphertext, then the 16-byte tag. The 12-byte OCB nonce
//! is four zero bytes followed by that tail. No associated data.

use aes::Aes128;
use ocb3::aead::{AeadInOut, KeyInit};
use ocb3::consts::{U12, U16};
use ocb3::{Nonce, Ocb3, Tag};

use super::error::CryptoError;
use super::key::Base64Key;

/// Bytes of the nonce carried in clear at the start of each datagram.
pub const NONCE_TAIL_LEN: usize = 8;
/// Bytes of the OCB authentication tag at the end of each datagram.
pub const TAG_LEN: usize = 16;
/// Smallest datagram that can be authentic: nonce tail plus tag.
pub const MIN_DATAGRAM_LEN: usize = NONCE_TAIL_LEN + TAG_LEN;
/// Largest sequence number: the top bit of the nonce tail is the direction.
pub const MAX_SEQ: u64 = (1 << 63) - 1;
/// A key may encrypt fewer than this many 16-byte blocks (both sides share it).
pub const KEY_BLOCK_LIMIT: u64 = 1 << 47;

const DIRECTION_BIT: u64 = 1 << 63;

/// Highest first sequence number [`first_seq_at`] gives: 2^62 leaves 2^62
/// datagrams of headroom below [`MAX_SEQ`] (nanosecond clocks reach it in
/// 2116).
pub const FIRST_SEQ_CEILING: u64 = 1 << 62;

/// The first sequence number for a client started `since_epoch` after
/// 1970: the wall clock in nanoseconds.
///
/// Every client process shares the session key, so two clients started with
/// the same `MOSH_KEY` that both counted from 0 would seal different
/// datagrams under the same nonces. A process sends far fewer than one
/// datagram per nanosecond, so a later client starts above every number an
/// earlier one used. A receiver, stock Mosh included, only compares a
/// number with the one it expects next (spec §1.5), so starting high is
/// invisible to it.
pub fn first_seq_at(since_epoch: std::time::Duration) -> u64 {
    u64::try_from(since_epoch.as_nanos())
        .unwrap_or(FIRST_SEQ_CEILING)
        .min(FIRST_SEQ_CEILING)
}

type Cipher = Ocb3<Aes128, U12, U16>;

/// Which way a datagram travels; part of every nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client → server (nonce bit 63 clear).
    ToServer,
    /// Server → client (nonce bit 63 set).
    ToClient,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// The 8 clear nonce bytes: big-endian `(direction << 63) | seq`.
///
/// `seq` must be at most [`MAX_SEQ`]; [`Session::seal`] checks that.
pub fn nonce_tail(direction: Direction, seq: u64) -> [u8; 8] {
    let bit = match direction {
        Direction::ToServer => 0,
        Direction::ToClient => DIRECTION_BIT,
    };
    (bit | (seq & MAX_SEQ)).to_be_bytes()
}

/// The full 12-byte OCB nonce: four zero bytes, then [`nonce_tail`].
pub fn nonce(direction: Direction, seq: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&nonce_tail(direction, seq));
    n
}

/// Hands out the per-process datagram sequence numbers 0, 1, 2, …
///
/// It never repeats a number and never wraps: after [`MAX_SEQ`] it fails,
/// because a repeated nonce would break OCB. One counter serves every
/// datagram a process sends, on every socket.
#[derive(Debug, Clone, Default)]
pub struct SeqCounter {
    next: u64,
}

impl SeqCounter {
    /// A counter whose first number is 0.
    pub fn new() -> SeqCounter {
        SeqCounter { next: 0 }
    }

    /// A counter that continues at `next` (for tests of exhaustion).
    pub fn starting_at(next: u64) -> SeqCounter {
        SeqCounter { next }
    }

    /// The next unused sequence number, or a fatal error when none is left.
    pub fn next_seq(&mut self) -> Result<u64, CryptoError> {
        if self.next > MAX_SEQ {
            return Err(CryptoError::SequenceExhausted);
        }
        let seq = self.next;
        self.next += 1;
        Ok(seq)
    }
}

/// An AES-128-OCB3 context for one session key, counting its usage.
pub struct Session {
    cipher: Cipher,
    blocks_encrypted: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("blocks_encrypted", &self.blocks_encrypted)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Prepares the cipher for `key`.
    pub fn new(key: &Base64Key) -> Session {
        Session {
            cipher: Cipher::new(key.as_bytes().into()),
            blocks_encrypted: 0,
        }
    }

    /// 16-byte blocks encrypted with this key so far (partial blocks count).
    pub fn blocks_encrypted(&self) -> u64 {
        self.blocks_encrypted
    }

    /// Encrypts `plaintext` into a complete datagram.
    ///
    /// Fails (fatally) when `seq` exceeds [`MAX_SEQ`] or the key-usage limit
    /// would be reached; nothing is produced then.
    pub fn seal(
        &mut self,
        direction: Direction,
        seq: u64,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if seq > MAX_SEQ {
            return Err(CryptoError::SequenceExhausted);
        }
        let blocks =
            u64::try_from(plaintext.len().div_ceil(16)).map_err(|_| CryptoError::Cipher)?;
        let total = self
            .blocks_encrypted
            .checked_add(blocks)
            .ok_or(CryptoError::KeyUsageLimit)?;
        if total >= KEY_BLOCK_LIMIT {
            return Err(CryptoError::KeyUsageLimit);
        }
        let tail = nonce_tail(direction, seq);
        let mut out = Vec::with_capacity(MIN_DATAGRAM_LEN + plaintext.len());
        out.extend_from_slice(&tail);
        out.extend_from_slice(plaintext);
        let n = Nonce::<U12>::from(nonce(direction, seq));
        let body = out.get_mut(NONCE_TAIL_LEN..).ok_or(CryptoError::Cipher)?;
        let tag = self
            .cipher
            .encrypt_inout_detached(&n, &[], body.into())
            .map_err(|_| CryptoError::Cipher)?;
        out.extend_from_slice(&tag);
        self.blocks_encrypted = total;
        Ok(out)
    }

    /// Authenticates and decrypts a datagram: its direction, sequence number
    /// and plaintext. Any failure is non-fatal (drop the datagram).
    pub fn open(&self, datagram: &[u8]) -> Result<(Direction, u64, Vec<u8>), CryptoError> {
        if datagram.len() < MIN_DATAGRAM_LEN {
            return Err(CryptoError::TooShort);
        }
        let (tail, rest) = datagram.split_at(NONCE_TAIL_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut tail_bytes = [0u8; 8];
        tail_bytes.copy_from_slice(tail);
        let n = u64::from_be_bytes(tail_bytes);
        let direction = if n & DIRECTION_BIT != 0 {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        let seq = n & MAX_SEQ;
        let mut full = [0u8; 12];
        full[4..].copy_from_slice(tail);
        let mut tag_arr = Tag::<U16>::default();
        tag_arr.copy_from_slice(tag);
        let mut plaintext = body.to_vec();
        self.cipher
            .decrypt_inout_detached(
                &Nonce::<U12>::from(full),
                &[],
                plaintext.as_mut_slice().into(),
                &tag_arr,
            )
            .map_err(|_| CryptoError::IntegrityCheck)?;
        Ok((direction, seq, plaintext))
    }

    #[cfg(test)]
    fn set_blocks_encrypted(&mut self, n: u64) {
        self.blocks_encrypted = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn raw_cipher(key: &[u8]) -> Cipher {
        let k: [u8; 16] = key.try_into().unwrap();
        Cipher::new(&k.into())
    }

    /// OCB-ENCRYPT(K, N, A, P) as ciphertext || tag.
    fn ocb_encrypt(c: &Cipher, nonce: &[u8], ad: &[u8], pt: &[u8]) -> Vec<u8> {
        let n: [u8; 12] = nonce.try_into().unwrap();
        let mut buf = pt.to_vec();
        let tag = c
            .encrypt_inout_detached(&n.into(), ad, buf.as_mut_slice().into())
            .unwrap();
        buf.extend_from_slice(&tag);
        buf
    }

    fn ocb_decrypt(c: &Cipher, nonce: &[u8], ad: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
        let n: [u8; 12] = nonce.try_into().unwrap();
        let (body, tag) = ct.split_at(ct.len() - 16);
        let mut buf = body.to_vec();
        let t: [u8; 16] = tag.try_into().unwrap();
        c.decrypt_inout_detached(&n.into(), ad, buf.as_mut_slice().into(), &t.into())
            .ok()
            .map(|_| buf)
    }

    /// RFC 7253 Appendix A, AES-128, 96-bit nonce, 128-bit tag:
    /// (nonce, associated data, plaintext, ciphertext || tag).
    const RFC7253: &[(&str, &str, &str, &str)] = &[
        (
            "BBAA99887766554433221100",
            "",
            "",
            "785407BFFFC8AD9EDCC5520AC9111EE6",
        ),
        (
            "BBAA99887766554433221101",
            "0001020304050607",
            "0001020304050607",
            "6820B3657B6F615A5725BDA0D3B4EB3A257C9AF1F8F03009",
        ),
        (
            "BBAA99887766554433221102",
            "0001020304050607",
            "",
            "81017F8203F081277152FADE694A0A00",
        ),
        (
            "BBAA99887766554433221103",
            "",
            "0001020304050607",
            "45DD69F8F5AAE72414054CD1F35D82760B2CD00D2F99BFA9",
        ),
        (
            "BBAA99887766554433221104",
            "000102030405060708090A0B0C0D0E0F",
            "000102030405060708090A0B0C0D0E0F",
            "571D535B60B277188BE5147170A9A22C3AD7A4FF3835B8C5701C1CCEC8FC3358",
        ),
        (
            "BBAA99887766554433221105",
            "000102030405060708090A0B0C0D0E0F",
            "",
            "8CF761B6902EF764462AD86498CA6B97",
        ),
        (
            "BBAA99887766554433221106",
            "",
            "000102030405060708090A0B0C0D0E0F",
            "5CE88EC2E0692706A915C00AEB8B2396F40E1C743F52436BDF06D8FA1ECA343D",
        ),
        (
            "BBAA99887766554433221107",
            "000102030405060708090A0B0C0D0E0F1011121314151617",
            "000102030405060708090A0B0C0D0E0F1011121314151617",
            "1CA2207308C87C010756104D8840CE1952F09673A448A122C92C62241051F57356D7F3C90BB0E07F",
        ),
        (
            "BBAA99887766554433221108",
            "000102030405060708090A0B0C0D0E0F1011121314151617",
            "",
            "6DC225A071FC1B9F7C69F93B0F1E10DE",
        ),
        (
            "BBAA99887766554433221109",
            "",
            "000102030405060708090A0B0C0D0E0F1011121314151617",
            "221BD0DE7FA6FE993ECCD769460A0AF2D6CDED0C395B1C3CE725F32494B9F914D85C0B1EB38357FF",
        ),
        (
            "BBAA9988776655443322110A",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "BD6F6C496201C69296C11EFD138A467ABD3C707924B964DEAFFC40319AF5A48540FBBA186C5553C68AD9F592A79A4240",
        ),
        (
            "BBAA9988776655443322110B",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "",
            "FE80690BEE8A485D11F32965BC9D2A32",
        ),
        (
            "BBAA9988776655443322110C",
            "",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "2942BFC773BDA23CABC6ACFD9BFD5835BD300F0973792EF46040C53F1432BCDFB5E1DDE3BC18A5F840B52E653444D5DF",
        ),
        (
            "BBAA9988776655443322110D",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021222324252627",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021222324252627",
            "D5CA91748410C1751FF8A2F618255B68A0A12E093FF454606E59F9C1D0DDC54B65E8628E568BAD7AED07BA06A4A69483A7035490C5769E60",
        ),
        (
            "BBAA9988776655443322110E",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021222324252627",
            "",
            "C5CD9D1850C141E358649994EE701B68",
        ),
        (
            "BBAA9988776655443322110F",
            "",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021222324252627",
            "4412923493C57D5DE0D700F753CCE0D1D2D95060122E9F15A5DDBFC5787E50B5CC55EE507BCB084E479AD363AC366B95A98CA5F3000B1479",
        ),
    ];

    #[test]
    fn rfc7253_appendix_a_vectors() {
        let c = raw_cipher(&unhex("000102030405060708090A0B0C0D0E0F"));
        for (n, a, p, ct) in RFC7253 {
            let (n, a, p, ct) = (unhex(n), unhex(a), unhex(p), unhex(ct));
            assert_eq!(ocb_encrypt(&c, &n, &a, &p), ct, "encrypt, nonce {n:02x?}");
            assert_eq!(ocb_decrypt(&c, &n, &a, &ct), Some(p.clone()), "decrypt");
            // Every single-bit flip must fail authentication.
            for i in 0..ct.len() {
                let mut bad = ct.clone();
                bad[i] ^= 1 << (i % 8);
                assert_eq!(ocb_decrypt(&c, &n, &a, &bad), None, "flip at {i}");
            }
        }
    }

    #[test]
    fn rfc7253_wider_variety_taglen_128() {
        // RFC 7253 Appendix A: K = zeros(120) || num2str(128, 8); the final
        // tag over all outputs must be 67E944D23256C5E0B6C61FA22FDF1EA2.
        let mut key = [0u8; 16];
        key[15] = 128;
        let c = raw_cipher(&key);
        let num2str96 = |x: usize| {
            let mut n = [0u8; 12];
            n[8..].copy_from_slice(&(x as u32).to_be_bytes());
            n
        };
        let mut acc = Vec::new();
        for i in 0..128 {
            let s = vec![0u8; i];
            acc.extend(ocb_encrypt(&c, &num2str96(3 * i + 1), &s, &s));
            acc.extend(ocb_encrypt(&c, &num2str96(3 * i + 2), &[], &s));
            acc.extend(ocb_encrypt(&c, &num2str96(3 * i + 3), &s, &[]));
        }
        let out = ocb_encrypt(&c, &num2str96(385), &acc, &[]);
        assert_eq!(out, unhex("67E944D23256C5E0B6C61FA22FDF1EA2"));
    }

    #[test]
    fn draft_krovetz_iterative_vector_used_by_mosh() {
        // Zero key; for i in 0..128 with nonce 00…00 || i:
        // C ||= E(P=S, A=S) || E(P=S, A=∅) || E(P=∅, A=S); then the tag of
        // E(P=∅, A=C) under the zero nonce is B2B41CBF….
        let c = raw_cipher(&[0u8; 16]);
        let mut acc = Vec::new();
        for i in 0..128u8 {
            let s = vec![0u8; usize::from(i)];
            let mut n = [0u8; 12];
            n[11] = i;
            acc.extend(ocb_encrypt(&c, &n, &s, &s));
            acc.extend(ocb_encrypt(&c, &n, &[], &s));
            acc.extend(ocb_encrypt(&c, &n, &s, &[]));
        }
        assert_eq!(acc.len(), 22400);
        let out = ocb_encrypt(&c, &[0u8; 12], &acc, &[]);
        assert_eq!(out, unhex("B2B41CBF9B05037DA7F16C24A35C1C94"));
    }

    #[test]
    fn mosh_draft_vector_empty_message() {
        // Mosh's first vector: key 00…0F, nonce 00…0B, empty/empty.
        let c = raw_cipher(&unhex("000102030405060708090A0B0C0D0E0F"));
        let out = ocb_encrypt(&c, &unhex("000102030405060708090A0B"), &[], &[]);
        assert_eq!(out, unhex("197b9c3c441d3c83eafb2bef633b9182"));
    }

    #[test]
    fn nonce_layout_matches_spec() {
        assert_eq!(
            nonce(Direction::ToClient, 5),
            [0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 5]
        );
        assert_eq!(nonce(Direction::ToServer, 0), [0u8; 12]);
        assert_eq!(
            nonce_tail(Direction::ToServer, 0x0102_0304_0506_0708),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(nonce_tail(Direction::ToClient, MAX_SEQ), [0xff; 8]);
    }

    #[test]
    fn server_datagram_seq_5_starts_with_its_nonce_tail() {
        let mut s = Session::new(&Base64Key::from_bytes([7; 16]));
        let d = s.seal(Direction::ToClient, 5, b"abcd").unwrap();
        assert_eq!(&d[..8], &[0x80, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(d.len(), 8 + 4 + 16);
    }

    #[test]
    fn seal_open_round_trip_both_directions() {
        let key = Base64Key::generate().unwrap();
        let mut a = Session::new(&key);
        let b = Session::new(&key);
        for (dir, seq, len) in [
            (Direction::ToServer, 0, 0),
            (Direction::ToClient, 1, 1),
            (Direction::ToServer, 77, 15),
            (Direction::ToClient, 78, 16),
            (Direction::ToServer, MAX_SEQ, 17),
            (Direction::ToClient, 3, 2000),
        ] {
            let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let d = a.seal(dir, seq, &pt).unwrap();
            assert_eq!(d.len(), pt.len() + 24);
            assert_eq!(b.open(&d), Ok((dir, seq, pt)));
        }
    }

    #[test]
    fn every_bit_flip_and_wrong_key_fail_the_integrity_check() {
        let mut s = Session::new(&Base64Key::from_bytes([1; 16]));
        let d = s.seal(Direction::ToServer, 9, b"hello, world").unwrap();
        for i in 0..d.len() {
            for bit in 0..8 {
                let mut bad = d.clone();
                bad[i] ^= 1 << bit;
                assert_eq!(s.open(&bad), Err(CryptoError::IntegrityCheck), "byte {i}");
            }
        }
        let other = Session::new(&Base64Key::from_bytes([2; 16]));
        assert_eq!(other.open(&d), Err(CryptoError::IntegrityCheck));
    }

    #[test]
    fn truncated_datagrams_are_rejected_with_mosh_texts() {
        let mut s = Session::new(&Base64Key::from_bytes([1; 16]));
        let d = s.seal(Direction::ToServer, 0, b"abcdef").unwrap();
        for cut in 0..d.len() {
            let err = s.open(&d[..cut]).unwrap_err();
            if cut < 24 {
                assert_eq!(err.to_string(), "Ciphertext must contain nonce and tag.");
            } else {
                assert_eq!(err.to_string(), "Packet failed integrity check.");
            }
            assert!(!err.is_fatal());
        }
    }

    #[test]
    fn bare_nonce_and_tag_is_an_authentic_empty_plaintext() {
        let mut s = Session::new(&Base64Key::from_bytes([3; 16]));
        let d = s.seal(Direction::ToClient, 4, b"").unwrap();
        assert_eq!(d.len(), 24);
        assert_eq!(s.open(&d), Ok((Direction::ToClient, 4, Vec::new())));
    }

    #[test]
    fn seq_beyond_63_bits_is_refused() {
        let mut s = Session::new(&Base64Key::from_bytes([0; 16]));
        assert_eq!(
            s.seal(Direction::ToServer, MAX_SEQ + 1, b"x"),
            Err(CryptoError::SequenceExhausted)
        );
        assert!(CryptoError::SequenceExhausted.is_fatal());
    }

    #[test]
    fn key_usage_limit_is_fatal_and_counts_partial_blocks() {
        let mut s = Session::new(&Base64Key::from_bytes([0; 16]));
        s.seal(Direction::ToServer, 0, &[0; 17]).unwrap();
        assert_eq!(s.blocks_encrypted(), 2);
        s.seal(Direction::ToServer, 1, &[0; 16]).unwrap();
        assert_eq!(s.blocks_encrypted(), 3);
        s.seal(Direction::ToServer, 2, &[]).unwrap();
        assert_eq!(s.blocks_encrypted(), 3);

        s.set_blocks_encrypted(KEY_BLOCK_LIMIT - 2);
        s.seal(Direction::ToServer, 3, &[0; 16]).unwrap();
        let err = s.seal(Direction::ToServer, 4, &[0; 1]).unwrap_err();
        assert_eq!(err, CryptoError::KeyUsageLimit);
        assert_eq!(err.to_string(), "Encrypted 2^47 blocks.");
        assert!(err.is_fatal());
        assert_eq!(s.blocks_encrypted(), KEY_BLOCK_LIMIT - 1);
    }

    #[test]
    fn seq_counter_counts_from_zero_and_fails_instead_of_wrapping() {
        let mut c = SeqCounter::new();
        assert_eq!(c.next_seq(), Ok(0));
        assert_eq!(c.next_seq(), Ok(1));
        let mut c = SeqCounter::starting_at(MAX_SEQ - 1);
        assert_eq!(c.next_seq(), Ok(MAX_SEQ - 1));
        assert_eq!(c.next_seq(), Ok(MAX_SEQ));
        assert_eq!(c.next_seq(), Err(CryptoError::SequenceExhausted));
        assert_eq!(c.next_seq(), Err(CryptoError::SequenceExhausted));
    }

    #[test]
    fn first_seq_follows_the_wall_clock_and_leaves_headroom() {
        use std::time::Duration;
        let a = first_seq_at(Duration::new(1_780_000_000, 5));
        assert_eq!(a, 1_780_000_000_000_000_005);
        assert!(first_seq_at(Duration::new(1_780_000_000, 6)) > a);
        assert_eq!(first_seq_at(Duration::ZERO), 0);
        assert_eq!(first_seq_at(Duration::MAX), FIRST_SEQ_CEILING);
        assert_eq!(MAX_SEQ - FIRST_SEQ_CEILING, (1 << 62) - 1);
    }

    #[test]
    fn a_million_nonces_in_both_directions_never_repeat() {
        let mut c = SeqCounter::new();
        let mut seen = HashSet::with_capacity(2_000_000);
        for _ in 0..1_000_000 {
            let seq = c.next_seq().unwrap();
            assert!(seen.insert(nonce(Direction::ToServer, seq)));
            assert!(seen.insert(nonce(Direction::ToClient, seq)));
        }
    }

    #[test]
    fn debug_does_not_leak_the_key() {
        let s = Session::new(&Base64Key::from_bytes([0xab; 16]));
        let shown = format!("{s:?}");
        assert!(!shown.to_lowercase().contains("ab, ab") && !shown.contains("171"));
    }
}
