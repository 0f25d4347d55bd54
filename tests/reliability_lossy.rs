//! 2,000 scripted keystrokes through a link with 20% loss, reordering and
//! duplication both ways: every keystroke reaches the application exactly
//! once and in order, and the client's final screen equals the server's.

mod support;

use std::time::Duration;

use support::mosh::Impl;
use support::relay::Relay;
use support::typing_app::*;

fn lossy_typing(server: Impl, client: Impl, seed: u64) {
    let s = Session::start(server, "lossy");
    let seed_arg = seed.to_string();
    let mut relay = Relay::start(
        s.server.port,
        &[
            "--loss",
            "20",
            "--reorder",
            "10",
            "--dup",
            "10",
            "--delay",
            "5",
            "--jitter",
            "3",
            "--seed",
            &seed_arg,
        ],
    );
    let c = s.client(client, relay.port);
    let typed = keystrokes(2000, seed);
    type_paced(&c, &typed, 10, Duration::from_millis(15));
    let log = wait_log(&s.log, typed.len(), Duration::from_secs(60));
    assert_exactly_once_in_order(&log, &typed);
    assert_screens_agree(&c, &typed, Duration::from_secs(30));
    // The link really was impaired both ways.
    for dir in ["up", "down"] {
        assert!(relay.stat(&format!("{dir}.lost")) > 0, "no {dir} loss");
        assert!(
            relay.stat(&format!("{dir}.duplicated")) > 0,
            "no {dir} duplicates"
        );
        assert!(
            relay.stat(&format!("{dir}.reordered")) > 0,
            "no {dir} reordering"
        );
    }
    assert!(s.server.alive(), "server died");
    assert!(!client_exited(&c), "client exited");
}

#[test]
fn stock_client_stock_server_through_a_lossy_link() {
    lossy_typing(Impl::Mosh, Impl::Mosh, 11);
}

#[test]
fn rmosh_pair_through_a_lossy_link() {
    lossy_typing(Impl::Rmosh, Impl::Rmosh, 13);
}

#[test]
fn stock_client_rmosh_server_through_a_lossy_link() {
    lossy_typing(Impl::Rmosh, Impl::Mosh, 14);
}

#[test]
fn rmosh_client_stock_server_through_a_lossy_link() {
    lossy_typing(Impl::Mosh, Impl::Rmosh, 15);
}
