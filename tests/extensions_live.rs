//! The capability announcement (docs/extensions.md) against real servers:
//! rmosh's server answers an announcing client and sends nothing beyond
//! Mosh 1.4.0 to one that did not announce; Debian's mosh-server 1.4.0
//! ignores the announcement and serves the session as usual.
//!
//! Needs `/usr/bin/mosh-server`; without it these tests FAIL.

mod support;

use std::time::{Duration, Instant};

use prost::Message;
use rmosh::sync::capabilities::Capabilities;
use rmosh::sync::user_stream::UserStream;
use rmosh::transport::key::Base64Key;
use rmosh::transport::message::HostMessage;
use rmosh::transport::state::State;
use support::mosh::{Impl, ServerSpec};
use support::wire_client::{WireClient, instruction};

/// What a server sent in the first `window` after our first state.
struct Heard {
    messages: Vec<HostMessage>,
    /// The state each message's diff starts from.
    bases: Vec<u64>,
    /// Each diff re-encoded differs from what arrived: an element or field
    /// that Mosh 1.4.0's schema does not have.
    unknown_fields: bool,
    screen: Vec<u8>,
    newest: u64,
}

/// Starts `which` running /bin/sh, sends our state 1 (`first`), and listens,
/// sending state 2 (`then`) once a screen arrived.
fn converse(which: Impl, first: &UserStream, then: &UserStream, until: &[u8]) -> Heard {
    let server = ServerSpec::new(which)
        .command(&["/bin/sh"])
        .env("PS1", "ext> ")
        .env_remove("LC_ALL")
        .start();
    let key = Base64Key::parse(&server.key).expect("server key parses");
    let mut client = WireClient::connect(server.port, &key);
    let empty = UserStream::new();
    client.send(&instruction(0, 1, 0, first.diff_from(&empty)));
    let mut heard = Heard {
        messages: Vec::new(),
        bases: Vec::new(),
        unknown_fields: false,
        screen: Vec::new(),
        newest: 0,
    };
    let mut sent_second = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(reply) = client.recv(deadline) {
        heard.newest = heard.newest.max(reply.new_num.unwrap_or(0));
        let diff = reply.diff.unwrap_or_default();
        if !diff.is_empty() {
            let msg = HostMessage::decode(diff.as_slice()).expect("HostMessage");
            heard.unknown_fields |= msg.encode_to_vec() != diff;
            for e in &msg.instruction {
                if let Some(h) = e.hostbytes.as_ref().and_then(|h| h.hoststring.as_ref()) {
                    heard.screen.extend_from_slice(h);
                }
            }
            heard.messages.push(msg);
            heard.bases.push(reply.old_num.unwrap_or(0));
        }
        let newest = heard.newest;
        if !sent_second && !heard.screen.is_empty() {
            client.send(&instruction(1, 2, newest, then.diff_from(first)));
            sent_second = true;
        } else if sent_second {
            // Keep acknowledging, so the server goes on with new diffs.
            client.send(&instruction(2, 2, newest, Vec::new()));
        }
        if heard.screen.windows(until.len()).any(|w| w == until) {
            break;
        }
    }
    heard
}

fn stream(hello: bool, keys: &[u8]) -> (UserStream, UserStream) {
    let mut first = UserStream::new();
    if hello {
        first.push_hello(Capabilities::SUPPORTED);
    }
    first.push_resize(80, 24);
    let mut then = first.clone();
    then.push_bytes(keys);
    (first, then)
}

#[test]
fn rmosh_server_sends_nothing_beyond_mosh_to_a_client_that_did_not_announce() {
    let (first, then) = stream(false, b"echo o''k\r");
    let heard = converse(Impl::Rmosh, &first, &then, b"ok");
    assert!(
        heard.screen.windows(2).any(|w| w == b"ok"),
        "the session works: {:?}",
        String::from_utf8_lossy(&heard.screen)
    );
    for m in &heard.messages {
        for e in &m.instruction {
            assert!(e.hello.is_none() && e.tty_mode.is_none(), "{e:?}");
        }
    }
    assert!(!heard.unknown_fields, "a field Mosh 1.4.0 does not know");
}

#[test]
fn rmosh_server_answers_an_announcing_client_first_and_reports_tty_mode() {
    let (first, then) = stream(true, b"echo o''k\r");
    let heard = converse(Impl::Rmosh, &first, &then, b"ok");
    let first_msg = heard.messages.first().expect("a diff");
    let hello = first_msg
        .instruction
        .first()
        .and_then(|e| e.hello.as_ref())
        .expect("the server's hello leads its first diff");
    assert!(
        hello.capability.iter().any(|c| c == "tty-mode"),
        "{hello:?}"
    );
    assert!(
        hello
            .software
            .as_deref()
            .is_some_and(|s| s.starts_with("rmosh ")),
        "{hello:?}"
    );
    // Part of the state: repeated in diffs from the initial state until we
    // acknowledge one that holds it, never after.
    for (m, base) in heard.messages.iter().zip(&heard.bases) {
        let has = m.instruction.iter().any(|e| e.hello.is_some());
        assert_eq!(has, *base == 0, "diff from state {base}: {m:?}");
    }
    assert!(
        heard.bases.iter().any(|&b| b > 0),
        "we acknowledged a state"
    );
    assert!(
        heard
            .messages
            .iter()
            .flat_map(|m| &m.instruction)
            .any(|e| e.tty_mode.is_some()),
        "the sh prompt is cooked echo, reported to an announcing client"
    );
}

#[test]
fn stock_mosh_server_ignores_the_announcement_and_serves_the_session() {
    let (first, then) = stream(true, b"echo o''k\r");
    let heard = converse(Impl::Mosh, &first, &then, b"ok");
    assert!(
        heard.screen.windows(2).any(|w| w == b"ok"),
        "keys after the hello reach the shell: {:?}",
        String::from_utf8_lossy(&heard.screen)
    );
    for m in &heard.messages {
        for e in &m.instruction {
            assert!(e.hello.is_none() && e.tty_mode.is_none(), "{e:?}");
        }
    }
}
