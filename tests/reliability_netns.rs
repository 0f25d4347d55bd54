//! A client whose IP address changes keeps its session. Server and client
//! live in two network namespaces created for the test and joined by a veth
//! pair (10.213.x.0/24 exists only inside them); the client's address is
//! removed and a new one added mid-session. Needs root (`ip netns`).

mod support;

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use support::mosh::Impl;
use support::process::require;
use support::tempdir::TempDir;
use support::typing_app::*;

/// Two namespaces and a veth pair, deleted on drop.
struct Net {
    server_ns: String,
    client_ns: String,
    client_dev: String,
    subnet: String,
}

fn ip(args: &[&str]) {
    let out = Command::new(require("ip")).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {} failed (the test needs root for network namespaces): {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Net {
    fn new() -> Net {
        // Unique per process and per test; interface names stay under 16 bytes.
        static N: AtomicU32 = AtomicU32::new(0);
        let id = (std::process::id() % 10_000) * 10 + N.fetch_add(1, Ordering::SeqCst) % 10;
        let (vs, vc) = (format!("rvs{id}"), format!("rvc{id}"));
        let net = Net {
            server_ns: format!("rmrel-s-{id}"),
            client_ns: format!("rmrel-c-{id}"),
            client_dev: vc.clone(),
            subnet: format!("10.213.{}", id % 250),
        };
        ip(&["netns", "add", &net.server_ns]);
        ip(&["netns", "add", &net.client_ns]);
        ip(&["link", "add", &vs, "type", "veth", "peer", "name", &vc]);
        ip(&["link", "set", &vs, "netns", &net.server_ns]);
        ip(&["link", "set", &vc, "netns", &net.client_ns]);
        for (ns, dev, host) in [(&net.server_ns, &vs, 1), (&net.client_ns, &vc, 2)] {
            let addr = format!("{}.{host}/24", net.subnet);
            ip(&["-n", ns, "addr", "add", &addr, "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        net
    }

    fn exec(ns: &str) -> Vec<String> {
        vec![
            require("ip").display().to_string(),
            "netns".into(),
            "exec".into(),
            ns.to_string(),
        ]
    }

    /// Moves the client from .2 to .3: the old address disappears.
    fn change_client_ip(&self) {
        let dev = &self.client_dev;
        let old = format!("{}.2/24", self.subnet);
        let new = format!("{}.3/24", self.subnet);
        ip(&["-n", &self.client_ns, "addr", "del", &old, "dev", dev]);
        ip(&["-n", &self.client_ns, "addr", "add", &new, "dev", dev]);
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in [&self.server_ns, &self.client_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn client_ip_change(server: Impl, client: Impl) {
    let net = Net::new();
    let dir = TempDir::new("netns");
    let (cmd, log) = app_command(&dir);
    let server_ip = format!("{}.1", net.subnet);
    let srv = start_server(server, &cmd, &server_ip, &Net::exec(&net.server_ns));
    let c = start_client(
        client,
        &server_ip,
        srv.port,
        &srv.key,
        &Net::exec(&net.client_ns).join(" "),
    );
    wait_ready(&c);
    let typed = keystrokes(300, 51);
    let (before, after) = typed.split_at(150);
    type_paced(&c, before, 10, Duration::from_millis(20));
    assert_exactly_once_in_order(&wait_log(&log, 150, Duration::from_secs(20)), before);

    net.change_client_ip();
    // Replies to the old address now go nowhere: echoes on the client's
    // screen prove the server follows the client to its new address.
    type_paced(&c, after, 10, Duration::from_millis(20));
    let got = wait_log(&log, typed.len(), Duration::from_secs(30));
    assert_exactly_once_in_order(&got, &typed);
    assert_screens_agree(&c, &typed, Duration::from_secs(30));
    assert!(srv.alive() && !client_exited(&c));
    drop(c);
    drop(srv);
}

#[test]
fn stock_pair_keeps_the_session_when_the_client_ip_changes() {
    client_ip_change(Impl::Mosh, Impl::Mosh);
}

#[test]
fn rmosh_pair_keeps_the_session_when_the_client_ip_changes() {
    client_ip_change(Impl::Rmosh, Impl::Rmosh);
}
