//! The `rmosh-relay` binary itself: port on stdout, delay, loss statistics,
//! rebinding to a new source port, outages and the command protocol.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use support::relay::{Relay, stat};

/// A UDP server that answers every datagram with the sender's port.
fn port_echo_server() -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let mut reply = buf[..n].to_vec();
            reply.extend_from_slice(format!("|{}", from.port()).as_bytes());
            let _ = sock.send_to(&reply, from);
        }
    });
    addr
}

fn client() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s
}

/// Sends `msg` and returns the reply and the round-trip time.
fn ping(c: &UdpSocket, relay: SocketAddr, msg: &str) -> Option<(String, Duration)> {
    let t = Instant::now();
    c.send_to(msg.as_bytes(), relay).unwrap();
    let mut buf = [0u8; 2048];
    let n = c.recv(&mut buf).ok()?;
    Some((String::from_utf8_lossy(&buf[..n]).into_owned(), t.elapsed()))
}

#[test]
fn delays_both_ways_and_reports_counts() {
    let server = port_echo_server();
    let mut r = Relay::start_to(server, &["--up-delay", "40", "--down-delay", "60"]);
    let c = client();
    let (reply, rtt) = ping(&c, r.addr(), "hello").unwrap();
    assert!(reply.starts_with("hello|"));
    assert!(rtt >= Duration::from_millis(100), "rtt {rtt:?}");
    assert!(rtt < Duration::from_millis(300), "rtt {rtt:?}");
    let s = r.cmd("stats");
    assert!(s.starts_with("stats "));
    assert_eq!(stat(&s, "up.packets"), 1);
    assert_eq!(stat(&s, "up.bytes"), 5);
    assert_eq!(stat(&s, "down.delivered"), 1);
}

/// Keeps a burst from overflowing the kernel's receive buffers on a busy
/// machine, which would be loss the relay did not decide.
fn pace(i: usize) {
    if i % 10 == 9 {
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn loss_is_seeded_and_counted_exactly() {
    let server = port_echo_server();
    let mut r = Relay::start_to(server, &["--up-loss", "30", "--seed", "4"]);
    let c = client();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // Count replies as they come, so the client's buffer never overflows.
    let rx = c.try_clone().unwrap();
    let counter = thread::spawn(move || {
        let mut got = 0u64;
        let mut buf = [0u8; 2048];
        while rx.recv(&mut buf).is_ok() {
            got += 1;
        }
        got
    });
    for i in 0..400 {
        c.send_to(format!("{i}").as_bytes(), r.addr()).unwrap();
        pace(i);
    }
    let got = counter.join().unwrap();
    let s = r.cmd("stats");
    assert_eq!(stat(&s, "up.packets"), 400);
    assert_eq!(stat(&s, "up.lost") + stat(&s, "up.delivered"), 400);
    assert_eq!(stat(&s, "down.delivered"), got);
    assert_eq!(stat(&s, "up.delivered"), got);
    let lost = stat(&s, "up.lost");
    assert!((80..=160).contains(&lost), "lost {lost} of 400 at 30%");

    // The same seed loses the same datagrams.
    let mut r2 = Relay::start_to(server, &["--up-loss", "30", "--seed", "4"]);
    for i in 0..400 {
        c.send_to(format!("{i}").as_bytes(), r2.addr()).unwrap();
        pace(i);
    }
    thread::sleep(Duration::from_millis(300));
    let s2 = r2.cmd("stats");
    assert_eq!(stat(&s2, "up.packets"), 400);
    assert_eq!(stat(&s2, "up.lost"), lost);
}

#[test]
fn rebind_changes_the_source_port_the_server_sees() {
    let server = port_echo_server();
    let mut r = Relay::start_to(server, &[]);
    let c = client();
    let port_of = |reply: String| reply.rsplit('|').next().unwrap().to_string();
    let p1 = port_of(ping(&c, r.addr(), "a").unwrap().0);
    assert_eq!(p1, port_of(ping(&c, r.addr(), "b").unwrap().0));
    let ack = r.cmd("rebind");
    assert!(ack.starts_with("ok rebind "), "{ack}");
    let p2 = port_of(ping(&c, r.addr(), "c").unwrap().0);
    assert_ne!(p1, p2);
    assert_eq!(ack, format!("ok rebind {p2}"));
    assert_eq!(stat(&r.cmd("stats"), "rebinds"), 1);
}

#[test]
fn rebind_every_changes_port_on_a_schedule() {
    let server = port_echo_server();
    let _r = Relay::start_to(server, &["--rebind-every", "200"]);
    let r_addr = _r.addr();
    let c = client();
    let mut ports = std::collections::BTreeSet::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(700) {
        if let Some((reply, _)) = ping(&c, r_addr, "x") {
            ports.insert(reply.rsplit('|').next().unwrap().to_string());
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert!(ports.len() >= 3, "ports seen: {ports:?}");
}

#[test]
fn outage_command_drops_everything_then_recovers() {
    let server = port_echo_server();
    let mut r = Relay::start_to(server, &[]);
    let c = client();
    assert!(ping(&c, r.addr(), "before").is_some());
    assert_eq!(r.cmd("outage 400"), "ok");
    assert!(ping(&c, r.addr(), "during").is_none());
    thread::sleep(Duration::from_millis(100));
    assert!(ping(&c, r.addr(), "after").is_some());
    let s = r.cmd("stats");
    assert_eq!(stat(&s, "up.outage_dropped"), 1);
}

#[test]
fn scripted_outage_window_from_the_command_line() {
    let server = port_echo_server();
    let r = Relay::start_to(server, &["--outage", "0:300"]);
    let c = client();
    c.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    assert!(ping(&c, r.addr(), "early").is_none());
    thread::sleep(Duration::from_millis(250));
    assert!(ping(&c, r.addr(), "late").is_some());
}

#[test]
fn bad_commands_get_an_error_line_and_quit_prints_stats() {
    let server = port_echo_server();
    let mut r = Relay::start_to(server, &[]);
    assert!(r.cmd("loss 250").starts_with("error: "));
    assert!(r.cmd("frobnicate").starts_with("error: "));
    assert_eq!(r.cmd("up-delay 10"), "ok");
    let last = r.cmd("quit");
    assert!(last.starts_with("stats up.packets=0 "), "{last}");
    let status = r.wait();
    assert!(status.success());
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let out = Command::new(support::process::relay_bin())
        .args(["--listen", "127.0.0.1:0", "--server", "nowhere"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server"));
}
