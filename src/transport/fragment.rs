//! Cutting compressed instructions into datagram-sized fragments and putting
//! them back together (spec §2.4, §3).
//!
//! Fragment header, big-endian: `u64 instruction_id`, then
//! `u16 (final << 15) | fragment_num`; the chunk follows.

use std::collections::BTreeMap;

use super::compress::{INFLATE_LIMIT, encode_instruction};
use super::error::FragmentError;
use super::message::Instruction;

/// Largest UDP payload assumed on IPv4 (1280 path MTU − 28 header bytes).
pub const MTU_V4: usize = 1252;
/// Largest UDP payload assumed on IPv6 (1280 − 64).
pub const MTU_V6: usize = 1216;
/// UDP payload used after `sendto` reported `EMSGSIZE`, and before binding.
pub const MTU_FALLBACK: usize = 500;
/// Nonce tail and timestamps inside each datagram.
pub const NETWORK_OVERHEAD: usize = 12;
/// The OCB tag.
pub const CRYPTO_OVERHEAD: usize = 16;
/// The fragment header.
pub const FRAGMENT_HEADER_LEN: usize = 10;
/// Highest fragment number (15 bits); at most 32768 fragments per instruction.
pub const MAX_FRAGMENT_NUM: u16 = 0x7FFF;
/// Most compressed bytes one instruction may occupy in the assembly buffer:
/// the inflate limit plus deflate's worst-case growth, with room to spare.
pub const MAX_ASSEMBLY_BYTES: usize = INFLATE_LIMIT + 64 * 1024;

const FINAL_BIT: u16 = 0x8000;

/// Chunk bytes per fragment for a UDP payload size of `mtu` (0 if none fit).
pub const fn max_chunk_len(mtu: usize) -> usize {
    mtu.saturating_sub(NETWORK_OVERHEAD + CRYPTO_OVERHEAD + FRAGMENT_HEADER_LEN)
}

/// One piece of a compressed instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// The instruction it belongs to.
    pub id: u64,
    /// Its position, 0-based, at most [`MAX_FRAGMENT_NUM`].
    pub num: u16,
    /// Set on the last fragment of the instruction.
    pub is_final: bool,
    /// The compressed bytes it carries.
    pub chunk: Vec<u8>,
}

impl Fragment {
    /// The bytes that follow the timestamps in a datagram.
    ///
    /// Only the low 15 bits of `num` fit; [`Fragmenter`] never makes more.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRAGMENT_HEADER_LEN + self.chunk.len());
        out.extend_from_slice(&self.id.to_be_bytes());
        let flag = if self.is_final { FINAL_BIT } else { 0 };
        out.extend_from_slice(&(flag | (self.num & MAX_FRAGMENT_NUM)).to_be_bytes());
        out.extend_from_slice(&self.chunk);
        out
    }

    /// Parses a packet payload; fewer than 10 bytes is an error.
    pub fn decode(payload: &[u8]) -> Result<Fragment, FragmentError> {
        match payload {
            [i0, i1, i2, i3, i4, i5, i6, i7, n0, n1, chunk @ ..] => {
                let combined = u16::from_be_bytes([*n0, *n1]);
                Ok(Fragment {
                    id: u64::from_be_bytes([*i0, *i1, *i2, *i3, *i4, *i5, *i6, *i7]),
                    num: combined & MAX_FRAGMENT_NUM,
                    is_final: combined & FINAL_BIT != 0,
                    chunk: chunk.to_vec(),
                })
            }
            _ => Err(FragmentError::TooShort(payload.len())),
        }
    }
}

/// Cuts instructions into fragments, giving every instruction a fresh id.
///
/// Mosh sometimes reuses an id for a retransmission; reusing one with
/// different bytes makes a real Mosh receiver abort, so ids here are never
/// reused. The first id is 1, like Mosh's.
#[derive(Debug, Clone, Default)]
pub struct Fragmenter {
    last_id: u64,
}

impl Fragmenter {
    /// A fragmenter whose first instruction gets id 1.
    pub fn new() -> Fragmenter {
        Fragmenter { last_id: 0 }
    }

    /// A fragmenter whose first instruction gets id `last_id + 1`.
    pub fn continuing_after(last_id: u64) -> Fragmenter {
        Fragmenter { last_id }
    }

    /// The id the most recent instruction got (0 before the first).
    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    /// Cuts already-compressed bytes for a UDP payload size of `mtu`
    /// ([`MTU_V4`], [`MTU_V6`] or [`MTU_FALLBACK`]). Empty input gives one
    /// empty final fragment.
    pub fn make_fragments(
        &mut self,
        compressed: &[u8],
        mtu: usize,
    ) -> Result<Vec<Fragment>, FragmentError> {
        let chunk_len = max_chunk_len(mtu);
        if chunk_len == 0 {
            return Err(FragmentError::MtuTooSmall(mtu));
        }
        let count = compressed.len().div_ceil(chunk_len).max(1);
        if count > usize::from(MAX_FRAGMENT_NUM) + 1 {
            return Err(FragmentError::TooManyFragments(count));
        }
        let id = self
            .last_id
            .checked_add(1)
            .ok_or(FragmentError::IdsExhausted)?;
        self.last_id = id;
        if compressed.is_empty() {
            return Ok(vec![Fragment {
                id,
                num: 0,
                is_final: true,
                chunk: Vec::new(),
            }]);
        }
        Ok(compressed
            .chunks(chunk_len)
            .zip(0u16..)
            .map(|(chunk, num)| Fragment {
                id,
                num,
                is_final: usize::from(num) + 1 == count,
                chunk: chunk.to_vec(),
            })
            .collect())
    }

    /// Serializes, compresses and cuts an instruction.
    pub fn fragment_instruction(
        &mut self,
        instruction: &Instruction,
        mtu: usize,
    ) -> Result<Vec<Fragment>, FragmentError> {
        self.make_fragments(&encode_instruction(instruction), mtu)
    }
}

/// The receiver's single reassembly buffer.
///
/// A fragment of a newer id throws away what was collected for the old one;
/// a fragment of an older id than the newest seen is refused, so a replayed
/// or late datagram cannot wipe the instruction being collected. Senders
/// (Mosh's and ours) number instructions in increasing order and reuse an id
/// only to resend the same instruction, so nothing they send is refused.
/// Memory is bounded by the fragments actually received and by
/// [`MAX_ASSEMBLY_BYTES`], never by the numbers a peer claims.
#[derive(Debug, Clone, Default)]
pub struct FragmentAssembly {
    current_id: Option<u64>,
    newest_id: Option<u64>,
    fragments: BTreeMap<u16, Vec<u8>>,
    total: Option<u16>,
    bytes: usize,
}

impl FragmentAssembly {
    /// An empty assembly.
    pub fn new() -> FragmentAssembly {
        FragmentAssembly::default()
    }

    /// The id being collected, if any fragment has arrived.
    pub fn current_id(&self) -> Option<u64> {
        self.current_id
    }

    /// Distinct fragments held for the current id.
    pub fn held(&self) -> usize {
        self.fragments.len()
    }

    fn restart(&mut self, id: u64) {
        self.current_id = Some(id);
        self.fragments.clear();
        self.total = None;
        self.bytes = 0;
    }

    /// Adds a fragment; returns the concatenated chunks when the instruction
    /// is complete (then the buffer is emptied).
    ///
    /// Errors leave the datagram unused: a stale fragment or a conflicting
    /// duplicate is dropped and the assembly kept; an inconsistent final flag or an oversized
    /// instruction discards the assembly.
    pub fn add(&mut self, fragment: Fragment) -> Result<Option<Vec<u8>>, FragmentError> {
        let Fragment {
            id,
            num,
            is_final,
            chunk,
        } = fragment;
        if num > MAX_FRAGMENT_NUM {
            return Err(FragmentError::NumberOutOfRange(num));
        }
        if let Some(newest) = self.newest_id.filter(|n| id < *n) {
            return Err(FragmentError::Stale { id, newest });
        }
        self.newest_id = Some(id);
        if self.current_id != Some(id) {
            self.restart(id);
        }
        if let Some(old) = self.fragments.get(&num) {
            // The stored fragment was final exactly when it set the total.
            let same_final = is_final == (self.total == Some(num + 1));
            if *old == chunk && same_final {
                return self.complete();
            }
            return Err(FragmentError::ConflictingDuplicate { id, num });
        }
        let beyond_final = self.total.is_some_and(|t| num >= t);
        let final_too_early = is_final
            && (self.total.is_some()
                || self
                    .fragments
                    .last_key_value()
                    .is_some_and(|(k, _)| *k > num));
        if beyond_final || final_too_early {
            self.restart(id);
            self.current_id = None;
            return Err(FragmentError::InconsistentFinal { id, num });
        }
        let bytes = self.bytes + chunk.len();
        if bytes > MAX_ASSEMBLY_BYTES {
            self.restart(id);
            self.current_id = None;
            return Err(FragmentError::AssemblyTooLarge(MAX_ASSEMBLY_BYTES));
        }
        self.bytes = bytes;
        self.fragments.insert(num, chunk);
        if is_final {
            self.total = Some(num + 1);
        }
        self.complete()
    }

    fn complete(&mut self) -> Result<Option<Vec<u8>>, FragmentError> {
        match self.total {
            Some(total) if self.fragments.len() == usize::from(total) => {
                let mut out = Vec::with_capacity(self.bytes);
                for chunk in std::mem::take(&mut self.fragments).into_values() {
                    out.extend_from_slice(&chunk);
                }
                self.total = None;
                self.bytes = 0;
                Ok(Some(out))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frag(id: u64, num: u16, is_final: bool, chunk: &[u8]) -> Fragment {
        Fragment {
            id,
            num,
            is_final,
            chunk: chunk.to_vec(),
        }
    }

    #[test]
    fn header_layout_is_big_endian_with_final_bit() {
        let f = frag(0x0102_0304_0506_0708, 0x1234, true, b"xy");
        assert_eq!(f.encode(), [1, 2, 3, 4, 5, 6, 7, 8, 0x92, 0x34, b'x', b'y']);
        assert_eq!(Fragment::decode(&f.encode()), Ok(f));
        let g = frag(1, 0, false, b"");
        assert_eq!(g.encode(), [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(Fragment::decode(&g.encode()), Ok(g));
    }

    #[test]
    fn decode_rejects_short_payloads() {
        for len in 0..10 {
            assert_eq!(
                Fragment::decode(&vec![0; len]),
                Err(FragmentError::TooShort(len))
            );
        }
        let max = Fragment::decode(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]).unwrap();
        assert_eq!((max.num, max.is_final), (MAX_FRAGMENT_NUM, true));
    }

    #[test]
    fn spec_sizes_per_mtu() {
        assert_eq!(max_chunk_len(MTU_V4), 1214);
        assert_eq!(max_chunk_len(MTU_V6), 1178);
        assert_eq!(max_chunk_len(MTU_FALLBACK), 462);
        assert_eq!(max_chunk_len(38), 0);
        assert_eq!(max_chunk_len(0), 0);
    }

    #[test]
    fn ids_start_at_one_and_are_fresh_every_time() {
        let mut f = Fragmenter::new();
        let a = f.make_fragments(b"same", MTU_V4).unwrap();
        let b = f.make_fragments(b"same", MTU_V4).unwrap();
        let c = f.make_fragments(b"other", MTU_V4).unwrap();
        assert_eq!((a[0].id, b[0].id, c[0].id), (1, 2, 3));
        assert_eq!(f.last_id(), 3);
    }

    #[test]
    fn cuts_at_the_mtu_and_fills_datagrams_exactly() {
        let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let frags = Fragmenter::new().make_fragments(&data, MTU_V4).unwrap();
        let sizes: Vec<usize> = frags.iter().map(|f| f.chunk.len()).collect();
        assert_eq!(sizes, [1214, 1214, 572]);
        let nums: Vec<(u16, bool)> = frags.iter().map(|f| (f.num, f.is_final)).collect();
        assert_eq!(nums, [(0, false), (1, false), (2, true)]);
        // Full fragment + header + timestamps + nonce + tag = the IPv4 MTU.
        assert_eq!(frags[0].encode().len() + 4 + 8 + 16, MTU_V4);
        let exact = Fragmenter::new()
            .make_fragments(&data[..1214], MTU_V4)
            .unwrap();
        assert_eq!(exact.len(), 1);
        assert!(exact[0].is_final);
    }

    #[test]
    fn empty_input_is_one_empty_final_fragment() {
        let frags = Fragmenter::new().make_fragments(b"", MTU_V4).unwrap();
        assert_eq!(frags, [frag(1, 0, true, b"")]);
    }

    #[test]
    fn too_small_mtu_and_too_many_fragments_are_errors() {
        let mut f = Fragmenter::new();
        assert_eq!(
            f.make_fragments(b"x", 38),
            Err(FragmentError::MtuTooSmall(38))
        );
        // 39 bytes of MTU leave 1 byte per chunk: 32768 fragments fit, 32769 do not.
        let ok = f.make_fragments(&[0; 32768], 39).unwrap();
        assert_eq!(ok.len(), 32768);
        assert_eq!(ok.last().map(|x| (x.num, x.is_final)), Some((0x7FFF, true)));
        assert_eq!(
            f.make_fragments(&[0; 32769], 39),
            Err(FragmentError::TooManyFragments(32769))
        );
        // Failures do not consume ids.
        assert_eq!(f.make_fragments(b"x", MTU_V4).unwrap()[0].id, 2);
    }

    #[test]
    fn reassembles_in_any_order() {
        let data: Vec<u8> = (0..2500u32).map(|i| (i * 7) as u8).collect();
        let frags = Fragmenter::new().make_fragments(&data, MTU_V4).unwrap();
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
            let mut a = FragmentAssembly::new();
            let mut done = None;
            for (k, i) in order.iter().enumerate() {
                let r = a.add(frags[*i].clone()).unwrap();
                assert_eq!(r.is_some(), k == 2, "order {order:?}");
                done = done.or(r);
            }
            assert_eq!(done.as_deref(), Some(&data[..]));
            assert_eq!(a.held(), 0);
        }
    }

    #[test]
    fn duplicates_are_ignored() {
        let mut a = FragmentAssembly::new();
        assert_eq!(a.add(frag(5, 0, false, b"ab")), Ok(None));
        assert_eq!(a.add(frag(5, 0, false, b"ab")), Ok(None));
        assert_eq!(a.held(), 1);
        assert_eq!(a.add(frag(5, 1, true, b"cd")), Ok(Some(b"abcd".to_vec())));
    }

    #[test]
    fn conflicting_duplicate_is_an_error_and_keeps_the_first() {
        let mut a = FragmentAssembly::new();
        a.add(frag(5, 0, false, b"ab")).unwrap();
        assert_eq!(
            a.add(frag(5, 0, false, b"XX")),
            Err(FragmentError::ConflictingDuplicate { id: 5, num: 0 })
        );
        assert_eq!(
            a.add(frag(5, 0, true, b"ab")),
            Err(FragmentError::ConflictingDuplicate { id: 5, num: 0 })
        );
        assert_eq!(a.add(frag(5, 2, true, b"ef")), Ok(None));
        assert_eq!(
            a.add(frag(5, 2, false, b"ef")),
            Err(FragmentError::ConflictingDuplicate { id: 5, num: 2 })
        );
        assert_eq!(
            a.add(frag(5, 1, false, b"cd")),
            Ok(Some(b"abcdef".to_vec()))
        );
    }

    #[test]
    fn a_new_id_discards_the_partial_assembly() {
        let mut a = FragmentAssembly::new();
        a.add(frag(1, 0, false, b"old0")).unwrap();
        a.add(frag(2, 1, true, b"new1")).unwrap();
        assert_eq!(a.current_id(), Some(2));
        assert_eq!(a.held(), 1);
        assert_eq!(
            a.add(frag(2, 0, false, b"new0")),
            Ok(Some(b"new0new1".to_vec()))
        );
    }

    #[test]
    fn an_old_fragment_never_resets_the_assembly_in_progress() {
        // A replayed (authentic) datagram of an earlier instruction, or a
        // late one, arrives while instruction 5 is half collected.
        let mut a = FragmentAssembly::new();
        a.add(frag(4, 0, true, b"four")).unwrap();
        a.add(frag(5, 0, false, b"fi")).unwrap();
        for old in [
            frag(4, 0, true, b"four"),
            frag(3, 1, false, b"x"),
            frag(0, 0, true, b""),
        ] {
            let id = old.id;
            assert_eq!(a.add(old), Err(FragmentError::Stale { id, newest: 5 }));
            assert_eq!((a.current_id(), a.held()), (Some(5), 1));
        }
        assert_eq!(a.add(frag(5, 1, true, b"ve")), Ok(Some(b"five".to_vec())));
        // Nor after an assembly was discarded for a bad final flag.
        a.add(frag(6, 1, true, b"b")).unwrap();
        assert!(a.add(frag(6, 2, false, b"c")).is_err());
        assert_eq!(
            a.add(frag(5, 0, true, b"x")),
            Err(FragmentError::Stale { id: 5, newest: 6 })
        );
    }

    #[test]
    fn final_flag_sets_the_total() {
        let mut a = FragmentAssembly::new();
        assert_eq!(a.add(frag(9, 2, true, b"c")), Ok(None));
        assert_eq!(a.add(frag(9, 0, false, b"a")), Ok(None));
        assert_eq!(a.add(frag(9, 1, false, b"b")), Ok(Some(b"abc".to_vec())));
        // A lone final fragment 0 is a whole instruction.
        assert_eq!(a.add(frag(10, 0, true, b"z")), Ok(Some(b"z".to_vec())));
    }

    #[test]
    fn fragments_beyond_the_final_one_discard_the_assembly() {
        let mut a = FragmentAssembly::new();
        a.add(frag(3, 1, true, b"b")).unwrap();
        assert_eq!(
            a.add(frag(3, 2, false, b"c")),
            Err(FragmentError::InconsistentFinal { id: 3, num: 2 })
        );
        assert_eq!(a.held(), 0);
        let mut a = FragmentAssembly::new();
        a.add(frag(3, 4, false, b"e")).unwrap();
        assert_eq!(
            a.add(frag(3, 2, true, b"c")),
            Err(FragmentError::InconsistentFinal { id: 3, num: 2 })
        );
        let mut a = FragmentAssembly::new();
        a.add(frag(3, 2, true, b"c")).unwrap();
        assert_eq!(
            a.add(frag(3, 1, true, b"b")),
            Err(FragmentError::InconsistentFinal { id: 3, num: 1 })
        );
        // After a discard the same id can be collected afresh.
        assert_eq!(a.add(frag(3, 0, true, b"a")), Ok(Some(b"a".to_vec())));
    }

    #[test]
    fn a_redelivered_single_fragment_completes_again() {
        let mut a = FragmentAssembly::new();
        assert_eq!(a.add(frag(4, 0, true, b"x")), Ok(Some(b"x".to_vec())));
        assert_eq!(a.add(frag(4, 0, true, b"x")), Ok(Some(b"x".to_vec())));
    }

    #[test]
    fn absurd_numbers_do_not_allocate_and_size_is_bounded() {
        let mut a = FragmentAssembly::new();
        assert_eq!(a.add(frag(1, MAX_FRAGMENT_NUM, false, b"")), Ok(None));
        assert_eq!(a.held(), 1);
        assert_eq!(
            a.add(frag(1, 0x8000, false, b"")),
            Err(FragmentError::NumberOutOfRange(0x8000))
        );
        let mut a = FragmentAssembly::new();
        let big = vec![0u8; 2048];
        let mut err = None;
        for num in 0..MAX_FRAGMENT_NUM {
            if let Err(e) = a.add(frag(2, num, false, &big)) {
                err = Some((num, e));
                break;
            }
        }
        let (num, e) = err.unwrap();
        assert_eq!(e, FragmentError::AssemblyTooLarge(MAX_ASSEMBLY_BYTES));
        assert_eq!(usize::from(num), MAX_ASSEMBLY_BYTES / 2048);
        assert_eq!(a.held(), 0);
    }

    proptest! {
        #[test]
        fn fragment_round_trip_shuffled_with_duplicates(
            data in proptest::collection::vec(any::<u8>(), 0..6000),
            mtu in 39usize..1300,
            seed in any::<u64>(),
        ) {
            let frags = Fragmenter::new().make_fragments(&data, mtu).unwrap();
            prop_assert!(frags.iter().all(|f| f.chunk.len() <= max_chunk_len(mtu)));
            prop_assert_eq!(frags.iter().filter(|f| f.is_final).count(), 1);
            // Deterministic shuffle plus a duplicate of every third fragment.
            let mut order: Vec<usize> = (0..frags.len()).collect();
            let mut x = seed | 1;
            for i in (1..order.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                order.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut a = FragmentAssembly::new();
            let mut out = None;
            for (k, i) in order.iter().enumerate() {
                let f = Fragment::decode(&frags[*i].encode()).unwrap();
                if k % 3 == 0 && k + 1 < order.len() {
                    prop_assert_eq!(a.add(f.clone()).unwrap(), None);
                }
                let r = a.add(f).unwrap();
                prop_assert_eq!(r.is_some(), k + 1 == order.len());
                out = out.or(r);
            }
            prop_assert_eq!(out, Some(data));
        }

        #[test]
        fn arbitrary_fragments_never_panic(
            seq in proptest::collection::vec(
                (0u64..3, any::<u16>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40)),
                0..200),
        ) {
            let mut a = FragmentAssembly::new();
            for (id, num, is_final, chunk) in seq {
                let _ = a.add(Fragment { id, num, is_final, chunk });
            }
        }
    }
}
