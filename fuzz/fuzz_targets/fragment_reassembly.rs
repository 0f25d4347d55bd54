//! A stream of fragments (few ids, small numbers, arbitrary flags and
//! chunks) into one reassembly buffer; plus a fragment/reassemble round trip
//! of the input in reverse order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmosh::transport::fragment::{
    Fragment, FragmentAssembly, Fragmenter, MAX_ASSEMBLY_BYTES, MAX_FRAGMENT_NUM,
};

fuzz_target!(|data: &[u8]| {
    let mut assembly = FragmentAssembly::new();
    let mut rest = data;
    // Each record: flags byte (id in bits 0-1, final in bit 2, high number
    // bits in 3-7), number byte, chunk length byte, chunk.
    while let [flags, num, len, tail @ ..] = rest {
        let take = usize::from(*len % 16).min(tail.len());
        let (chunk, after) = tail.split_at(take);
        rest = after;
        let fragment = Fragment {
            id: u64::from(flags & 3),
            num: (u16::from(flags >> 3) << 8 | u16::from(*num)) & 0x1FFF,
            is_final: flags & 4 != 0,
            chunk: chunk.to_vec(),
        };
        // Through the wire format too.
        let fragment = Fragment::decode(&fragment.encode()).expect("own encoding decodes");
        if let Ok(Some(bytes)) = assembly.add(fragment) {
            assert!(bytes.len() <= MAX_ASSEMBLY_BYTES);
        }
        assert!(assembly.held() <= usize::from(MAX_FRAGMENT_NUM) + 1);
    }

    // Round trip: cut the input (as if compressed bytes) at a small MTU and
    // reassemble it back to front.
    let mtu = 39 + usize::from(data.first().copied().unwrap_or(0) % 64);
    let fragments = Fragmenter::new()
        .make_fragments(data, mtu)
        .expect("fragments");
    let mut assembly = FragmentAssembly::new();
    let mut out = None;
    for (k, f) in fragments.iter().rev().enumerate() {
        let r = assembly.add(f.clone()).expect("own fragments fit");
        assert_eq!(r.is_some(), k + 1 == fragments.len());
        out = out.or(r);
    }
    assert_eq!(out.as_deref(), Some(data));
});
