//! zlib inflate of untrusted bytes (`transport::compress`): never more than
//! Mosh's 4 MiB, and whatever inflates, or any input, survives a
//! compress/inflate round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmosh::transport::compress::{INFLATE_LIMIT, compress, decompress};

fuzz_target!(|data: &[u8]| {
    if let Ok(raw) = decompress(data) {
        assert!(raw.len() <= INFLATE_LIMIT, "inflated {} bytes", raw.len());
        assert_eq!(decompress(&compress(&raw)).ok(), Some(raw));
    }
    assert_eq!(decompress(&compress(data)).ok().as_deref(), Some(data));
});
