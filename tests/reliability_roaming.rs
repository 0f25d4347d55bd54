//! The client's address changes every 5 s while the user types, and a
//! 60 s outage in the middle of a session: nothing typed is lost or
//! repeated, and the session recovers.

mod support;

use std::thread;
use std::time::{Duration, Instant};

use support::mosh::Impl;
use support::relay::Relay;
use support::typing_app::*;

fn address_change_every_5s(server: Impl, client: Impl) {
    let s = Session::start(server, "roam");
    let mut relay = Relay::start(s.server.port, &["--rebind-every", "5000", "--delay", "10"]);
    let c = s.client(client, relay.port);
    let typed = keystrokes(1200, 21);
    // 40 keys/s for 15 s, so typing spans at least two address changes.
    let t = Instant::now();
    type_paced(&c, &typed, 4, Duration::from_millis(100));
    assert!(t.elapsed() >= Duration::from_secs(11));
    let log = wait_log(&s.log, typed.len(), Duration::from_secs(30));
    assert_exactly_once_in_order(&log, &typed);
    assert_screens_agree(&c, &typed, Duration::from_secs(20));
    let rebinds = relay.stat("rebinds");
    assert!(
        rebinds >= 2,
        "only {rebinds} address changes during the test"
    );
    assert!(s.server.alive() && !client_exited(&c));
}

fn outage_60s_then_recovery(server: Impl, client: Impl) {
    let s = Session::start(server, "outage");
    let mut relay = Relay::start(s.server.port, &[]);
    let c = s.client(client, relay.port);
    let typed = keystrokes(300, 31);
    let (before, rest) = typed.split_at(100);
    let (during, after) = rest.split_at(100);

    type_paced(&c, before, 10, Duration::from_millis(20));
    assert_exactly_once_in_order(&wait_log(&s.log, 100, Duration::from_secs(20)), before);

    assert_eq!(relay.cmd("outage 60000"), "ok");
    let start = Instant::now();
    type_paced(&c, during, 10, Duration::from_millis(20));
    thread::sleep(Duration::from_secs(5));
    // Nothing gets through while the link is down.
    assert_eq!(read_log(&s.log).len(), 100, "keys crossed a dead link");
    let wait = Duration::from_secs(60).saturating_sub(start.elapsed());
    thread::sleep(wait);
    type_paced(&c, after, 10, Duration::from_millis(20));

    let log = wait_log(&s.log, typed.len(), Duration::from_secs(30));
    assert_exactly_once_in_order(&log, &typed);
    assert_screens_agree(&c, &typed, Duration::from_secs(20));
    assert!(relay.stat("up.outage_dropped") > 0);
    assert!(s.server.alive() && !client_exited(&c));
}

#[test]
fn stock_pair_survives_an_address_change_every_5s() {
    address_change_every_5s(Impl::Mosh, Impl::Mosh);
}

#[test]
fn rmosh_pair_survives_an_address_change_every_5s() {
    address_change_every_5s(Impl::Rmosh, Impl::Rmosh);
}

#[test]
fn stock_client_rmosh_server_survive_an_address_change_every_5s() {
    address_change_every_5s(Impl::Rmosh, Impl::Mosh);
}

#[test]
fn rmosh_client_stock_server_survive_an_address_change_every_5s() {
    address_change_every_5s(Impl::Mosh, Impl::Rmosh);
}

/// Both pairs wait out their outage at the same time, so the suite pays
/// for one minute, not two.
#[test]
fn stock_pair_and_rmosh_pair_recover_from_a_60s_outage() {
    let stock = thread::spawn(|| outage_60s_then_recovery(Impl::Mosh, Impl::Mosh));
    let rmosh = thread::spawn(|| outage_60s_then_recovery(Impl::Rmosh, Impl::Rmosh));
    let (a, b) = (stock.join(), rmosh.join());
    assert!(a.is_ok(), "stock pair failed the outage test");
    assert!(b.is_ok(), "rmosh pair failed the outage test");
}
