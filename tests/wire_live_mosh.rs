//! Live interop of the wire layer with Debian's `mosh-server` 1.4.0 on loopback.
//!
//! Our code builds the client's first datagram (a resize to 80x24, state
//! 0 → 1), the real server answers, and our code decrypts, reassembles,
//! inflates and parses the answer. Then a shutdown request (state −1) must be
//! acknowledged with ack −1 and the server must exit.
//!
//! Needs `/usr/bin/mosh-server`; without it this test FAILS (it never skips).

mod support;

use std::time::{Duration, Instant};

use prost::Message;
use rmosh::transport::key::Base64Key;
use rmosh::transport::message::{
    HostMessage, Instruction, PROTOCOL_VERSION, ResizeMessage, UserInstruction, UserMessage,
};
use support::mosh::{Impl, Server, ServerSpec};
use support::wire_client::WireClient;

/// Starts Debian's `mosh-server new` running `/bin/sh`; returns it and its key.
fn start_server() -> (Server, Base64Key) {
    let server = ServerSpec::new(Impl::Mosh)
        .command(&["/bin/sh"])
        .env_remove("LC_ALL")
        .start();
    let key = Base64Key::parse(&server.key).expect("server key parses");
    (server, key)
}

fn resize_80x24() -> Vec<u8> {
    UserMessage {
        instruction: vec![UserInstruction {
            keystroke: None,
            resize: Some(ResizeMessage {
                width: Some(80),
                height: Some(24),
            }),
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[test]
fn real_mosh_server_answers_our_first_datagram_and_shuts_down() {
    let (server, key) = start_server();
    let mut client = WireClient::connect(server.port, &key);

    let first = Instruction {
        protocol_version: Some(PROTOCOL_VERSION),
        old_num: Some(0),
        new_num: Some(1),
        ack_num: Some(0),
        throwaway_num: Some(0),
        diff: Some(resize_80x24()),
        chaff: Some(Vec::new()),
    };
    client.send(&first);

    // The server acks our state 1 at once and then sends its screen (the
    // released shell's output); collect until a non-empty diff has arrived.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut newest_server_state = 0u64;
    let mut acked = false;
    let mut host_message = None;
    while host_message.is_none() {
        let Some(reply) = client.recv(deadline) else {
            panic!("no screen (hostbytes/resize) within 10 s (acked: {acked})");
        };
        eprintln!(
            "server instruction: old {:?} new {:?} ack {:?} throwaway {:?} diff {} bytes",
            reply.old_num,
            reply.new_num,
            reply.ack_num,
            reply.throwaway_num,
            reply.diff.as_ref().map_or(0, Vec::len)
        );
        assert_eq!(reply.protocol_version, Some(2));
        let (old, new) = (reply.old_num.unwrap_or(0), reply.new_num.unwrap_or(0));
        assert!(new > old, "new_num {new} must exceed old_num {old}");
        assert_eq!(reply.ack_num, Some(1), "server must ack our state 1");
        acked = true;
        newest_server_state = newest_server_state.max(new);
        let diff = reply.diff.unwrap_or_default();
        if diff.is_empty() {
            continue;
        }
        let host = HostMessage::decode(diff.as_slice()).expect("diff is a HostMessage");
        assert!(!host.instruction.is_empty(), "HostMessage has no elements");
        for element in &host.instruction {
            assert!(
                element.hostbytes.is_some()
                    || element.resize.is_some()
                    || element.echoack.is_some(),
                "element without a known payload: {element:?}"
            );
        }
        // An echo ack alone may come first; wait for the screen itself.
        if host
            .instruction
            .iter()
            .any(|e| e.hostbytes.is_some() || e.resize.is_some())
        {
            eprintln!("host message: {host:?}");
            host_message = Some(host);
        }
    }
    let screen: Vec<u8> = host_message
        .iter()
        .flat_map(|h| &h.instruction)
        .filter_map(|e| e.hostbytes.as_ref()?.hoststring.clone())
        .flatten()
        .collect();
    // The server releases the shell by writing a newline into the pty, whose
    // echo is on the first screen (spec §7.2 step 10).
    assert!(
        screen.contains(&b'\n'),
        "first screen lacks the release newline: {screen:?}"
    );

    // Shutdown: our state −1 on top of state 1.
    let shutdown = Instruction {
        protocol_version: Some(PROTOCOL_VERSION),
        old_num: Some(1),
        new_num: Some(u64::MAX),
        ack_num: Some(newest_server_state),
        throwaway_num: Some(1),
        diff: Some(Vec::new()),
        chaff: Some(Vec::new()),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut shutdown_acked = false;
    while !shutdown_acked && Instant::now() < deadline {
        client.send(&shutdown);
        let round = (Instant::now() + Duration::from_millis(300)).min(deadline);
        while let Some(reply) = client.recv(round) {
            if reply.ack_num == Some(u64::MAX) {
                shutdown_acked = true;
                break;
            }
        }
    }
    assert!(
        shutdown_acked,
        "server never acknowledged the shutdown with ack -1"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while server.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !server.alive(),
        "mosh-server {} still runs after the shutdown ack",
        server.pid
    );
}
