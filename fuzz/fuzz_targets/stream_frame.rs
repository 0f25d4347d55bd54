//! The SSH path's framing: the input, cut at the first byte's value, fed to
//! both decoders in two pieces. Every datagram delivered is within bounds,
//! and re-encoding what came out, cut anywhere, decodes to the same list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmosh::net::stream_frame::{Decoder, FrameError, MAX_FRAME, encode};

fn run(d: &mut Decoder, parts: [&[u8]; 2]) -> (Vec<Vec<u8>>, Option<FrameError>) {
    let mut got = Vec::new();
    for p in parts {
        if let Err(e) = d.decode(p, &mut |f| got.push(f.to_vec())) {
            return (got, Some(e));
        }
    }
    (got, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(rest.len());
    let parts = [&rest[..cut], &rest[cut..]];
    for mut d in [Decoder::frames(), Decoder::after_greeting()] {
        let (got, err) = run(&mut d, parts);
        let whole = run(&mut d.clone(), [&[], &[]]);
        if err.is_some() {
            // A failed decoder stays failed.
            assert!(whole.1.is_some());
        }
        let mut again = Vec::new();
        for g in &got {
            assert!(!g.is_empty() && g.len() <= MAX_FRAME);
            again.extend(encode(g).expect("a decoded datagram re-encodes"));
        }
        let mut fresh = Decoder::frames();
        let split = cut.min(again.len());
        let (back, e) = run(&mut fresh, [&again[..split], &again[split..]]);
        assert!(e.is_none());
        assert_eq!(back, got);
    }
});
