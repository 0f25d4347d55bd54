//! Live interop: our client core and UDP driver against Debian's stock
//! `mosh-server` 1.4.0 on 127.0.0.1. It types a command, finds its output in
//! the host bytes, changes its own source port, types again, and shuts down
//! cleanly; the stock server must then exit. FAILS if mosh-server is missing.

mod support;

use std::time::{Duration, Instant};

use support::mosh::{Impl, Server, ServerSpec};
use support::ssp_client::{client_core, host_text, pump};

/// Starts Debian's `mosh-server new` running `/bin/sh`.
fn start_mosh_server() -> Server {
    ServerSpec::new(Impl::Mosh)
        .command(&["/bin/sh"])
        .env("PS1", "$ ")
        .env("ENV", "/dev/null")
        .start()
}

#[tokio::test]
async fn client_core_against_stock_mosh_server() {
    let mosh_server = start_mosh_server();
    let (mut conn, mut socks) = client_core(mosh_server.port, &mosh_server.key, 100, 30);

    // 1. Type a command; its output (not its echo) must come back.
    let r1 = rand::random::<u32>();
    conn.current_state_mut()
        .push_bytes(format!("echo rmosh-''{r1}\r").as_bytes());
    let marker1 = format!("rmosh-{r1}");
    let ok = pump(&mut conn, &mut socks, Duration::from_secs(20), |c| {
        host_text(c).contains(&marker1)
    })
    .await;
    assert!(ok, "marker 1 not seen; host bytes: {:?}", host_text(&conn));
    assert!(mosh_server.alive());
    let first_port = socks.local_addrs().last().map(|a| a.port());

    // 2. Change source port, drop the old socket: the server must roam.
    socks.hop(Instant::now()).expect("new socket");
    socks.retain_newest();
    let second_port = socks.local_addrs().last().map(|a| a.port());
    assert_ne!(first_port, second_port);
    let r2 = rand::random::<u32>();
    conn.current_state_mut()
        .push_bytes(format!("echo rmosh-''{r2}\r").as_bytes());
    let marker2 = format!("rmosh-{r2}");
    let ok = pump(&mut conn, &mut socks, Duration::from_secs(20), |c| {
        host_text(c).contains(&marker2)
    })
    .await;
    assert!(
        ok,
        "marker 2 not seen after the port change; host bytes: {:?}",
        host_text(&conn)
    );
    assert_eq!(
        conn.remote_state().size,
        Some((100, 30)),
        "resize to our window"
    );
    assert!(!conn.remote_state().echo_ack_decreased);
    assert!(conn.remote_state().echo_ack > 0, "echo acks arrive");

    // 3. Clean shutdown; the stock server exits.
    conn.start_shutdown(Instant::now());
    let ok = pump(&mut conn, &mut socks, Duration::from_secs(15), |c| {
        c.shutdown_acknowledged() || c.shutdown_ack_timed_out(Instant::now())
    })
    .await;
    assert!(
        ok && conn.shutdown_acknowledged(),
        "server did not acknowledge the shutdown"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while mosh_server.alive() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !mosh_server.alive(),
        "mosh-server (pid {}) still running after shutdown",
        mosh_server.pid
    );
}
