//! Differential check of the terminal path: any bytes from an application
//! go through the server's extended emulator, the display diff from an empty
//! screen is replayed into Mosh's exact emulator (what every client runs),
//! and the client must then show the server's screen in Mosh's vocabulary;
//! the same again for a second burst of bytes diffed from the first screen.
//! Mosh's exact emulator and the diff of its own screen must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmosh::terminal::{DisplayCaps, Emulator, new_frame};

// The comparison the property tests use, so both judge screens alike.
#[allow(dead_code)]
#[path = "../../tests/support/screens.rs"]
mod screens;

/// Caps the work per input: a few screens of output reach every state.
const MAX_BYTES: usize = 4096;

fn assert_reproduced(client: &Emulator, server: &Emulator, what: &str, bytes: &[u8]) {
    let d = screens::client_differences(client.framebuffer(), server.framebuffer(), true);
    assert!(
        d.is_empty(),
        "{what}: client differs after {:?}: {d:?}\nserver {:?}\nclient {:?}",
        String::from_utf8_lossy(bytes),
        server.framebuffer(),
        client.framebuffer()
    );
}

fuzz_target!(|data: &[u8]| {
    let [w, h, split, rest @ ..] = data else {
        return;
    };
    let rest = &rest[..rest.len().min(MAX_BYTES)];
    // Small screens reach the edges, wrapping and scrolling quickly.
    let cols = 2 + usize::from(*w % 40);
    let rows = 1 + usize::from(*h % 12);
    let (a, b) = rest.split_at(rest.len() * usize::from(*split) / 256);

    let mut server = Emulator::new_server(cols, rows);
    let empty = server.framebuffer().clone();
    server.feed(a);
    server.take_replies();
    let mut client = Emulator::new(cols, rows);
    client.feed(&new_frame(
        true,
        &empty,
        server.framebuffer(),
        &DisplayCaps::MOSH_WIRE,
    ));
    client.take_replies();
    assert_reproduced(&client, &server, "first burst", a);

    let before = server.framebuffer().clone();
    server.feed(b);
    server.take_replies();
    client.feed(&new_frame(
        true,
        &before,
        server.framebuffer(),
        &DisplayCaps::MOSH_WIRE,
    ));
    client.take_replies();
    assert_reproduced(&client, &server, "second burst", rest);

    let mut mosh = Emulator::new(cols, rows);
    let blank = mosh.framebuffer().clone();
    mosh.feed(rest);
    mosh.take_replies();
    let _ = new_frame(true, &blank, mosh.framebuffer(), &DisplayCaps::MOSH_WIRE);
});
