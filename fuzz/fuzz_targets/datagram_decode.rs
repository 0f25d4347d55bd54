//! Untrusted datagrams: decryption with a fixed key, and (to get past the
//! tag) the same bytes taken as an already-authentic plaintext, through the
//! timestamp header, the fragment header, reassembly and instruction decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmosh::transport::compress::decode_instruction;
use rmosh::transport::crypto::{Direction, Session};
use rmosh::transport::datagram::Packet;
use rmosh::transport::fragment::{Fragment, FragmentAssembly};
use rmosh::transport::key::Base64Key;

fuzz_target!(|data: &[u8]| {
    let mut session = Session::new(&Base64Key::from_bytes([0; 16]));

    // As a datagram off the wire: any failure must be a non-fatal error.
    for incoming in [Direction::ToServer, Direction::ToClient] {
        if let Err(e) = Packet::decode(&session, data, incoming) {
            assert!(!e.is_fatal(), "fatal error on input: {e}");
        }
    }

    // As a plaintext that passed the tag.
    let Ok(packet) = Packet::from_plaintext(Direction::ToClient, 7, data) else {
        assert!(data.len() < 4);
        return;
    };
    assert_eq!(packet.to_plaintext(), data);
    if let Ok(fragment) = Fragment::decode(&packet.payload) {
        assert_eq!(fragment.encode(), packet.payload);
        let mut assembly = FragmentAssembly::new();
        if let Ok(Some(bytes)) = assembly.add(fragment) {
            let _ = decode_instruction(&bytes);
        }
    } else {
        assert!(packet.payload.len() < 10);
    }

    // Sealing that plaintext and opening it again gives it back.
    if data.len() <= 2020 {
        let sealed = packet.encode(&mut session).expect("seal");
        assert_eq!(
            Packet::decode(&session, &sealed, Direction::ToClient),
            Ok(packet)
        );
    }
});
