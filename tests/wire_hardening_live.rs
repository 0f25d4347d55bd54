//! Live proofs of the wire and server security claims (issue #17): the
//! server holds keystrokes back instead of queueing them without bound, no
//! server descriptor or key reaches the session, the server never answers
//! a stranger, and two clients with one key never reuse a nonce at Debian's
//! mosh-server. FAILS if mosh-server or perl is missing.

mod support;

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rmosh::transport::crypto::{Direction, Session};
use rmosh::transport::datagram::Packet;
use rmosh::transport::key::Base64Key;
use support::client_scenarios::start_client;
use support::mosh::{Impl, Server, ServerSpec};
use support::process::{alive, require, rmosh_bin, signal, wait_until};
use support::ssp_client::{client_core, host_text, pump};
use support::tempdir::TempDir;
use support::typing_app::{assert_exactly_once_in_order, keystrokes, wait_log};

/// Resident memory of `pid` in KiB.
fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// An application that, in raw mode, reads nothing until `go` exists, then
/// logs exactly `n` bytes it reads and says DONE.
const STALLED_APP: &str = r#"
use strict;
my ($log_path, $go, $n) = @ARGV;
system("stty raw -echo") == 0 or die "stty failed";
open(my $log, ">", $log_path) or die "log: $!";
binmode($log); binmode(STDIN); $| = 1;
select($log); $| = 1; select(STDOUT);
print "READY\r\n";
select(undef, undef, undef, 0.1) until -e $go;
my $got = 0;
while ($got < $n) {
    my $r = sysread(STDIN, my $buf, 65536);
    last unless $r;
    print $log $buf;
    $got += $r;
}
print "DONE\r\n";
sleep 60;
"#;

#[tokio::test]
async fn keystrokes_wait_at_the_client_while_the_application_does_not_read() {
    const FLOOD: usize = 256 * 1024;
    let dir = TempDir::new("stall");
    let script = dir.join("app.pl");
    std::fs::write(&script, STALLED_APP).expect("write the application");
    let (log, go) = (dir.join("typed.log"), dir.join("go"));
    let server = ServerSpec::new(Impl::Rmosh)
        .command(&[
            require("perl").display().to_string(),
            script.display().to_string(),
            log.display().to_string(),
            go.display().to_string(),
            FLOOD.to_string(),
        ])
        .start();
    let (mut conn, mut socks) = client_core(server.port, &server.key, 80, 24);
    let ready = pump(&mut conn, &mut socks, Duration::from_secs(20), |c| {
        host_text(c).contains("READY")
    })
    .await;
    assert!(ready, "application never ready: {:?}", host_text(&conn));
    let baseline = rss_kib(server.pid);
    assert!(baseline > 0, "no RSS for server pid {}", server.pid);

    // 256 KiB of typing (four times the queue limit) while the application
    // reads nothing.
    let typed = keystrokes(FLOOD, 17);
    let mut peak = baseline;
    for chunk in typed.chunks(8 * 1024) {
        conn.current_state_mut().push_bytes(chunk);
        pump(&mut conn, &mut socks, Duration::from_millis(30), |_| false).await;
        peak = peak.max(rss_kib(server.pid));
    }
    let acked_during_flood = conn.acked_state_num();
    for _ in 0..30 {
        pump(&mut conn, &mut socks, Duration::from_millis(100), |_| false).await;
        peak = peak.max(rss_kib(server.pid));
    }
    // The server stopped taking input: the newest states stay unacknowledged
    // (before back-pressure it acknowledged, and queued, everything).
    assert!(
        conn.acked_state_num() < conn.last_sent_state_num(),
        "the server kept acknowledging input nobody reads"
    );
    assert_eq!(conn.acked_state_num(), acked_during_flood);
    // Memory: the pty queue limit plus one instruction being received (its
    // fragments, their inflated bytes and the decoded diff, each at most
    // 4 MiB), never the sum of everything typed.
    assert!(
        peak - baseline < 16 * 1024,
        "server RSS grew by {} KiB (from {baseline} KiB) for {} KiB of unread input",
        peak - baseline,
        FLOOD / 1024
    );

    // The application reads again: every byte arrives once, in order.
    std::fs::write(&go, b"").expect("go");
    let done = pump(&mut conn, &mut socks, Duration::from_secs(90), |c| {
        host_text(c).contains("DONE")
    })
    .await;
    let got = wait_log(&log, FLOOD, Duration::from_secs(5));
    assert!(
        done,
        "application did not finish; it logged {} bytes",
        got.len()
    );
    assert_exactly_once_in_order(&got, &typed);
}

/// Writes what the session's shell sees into `dir` and says CHECKED.
fn inspecting_shell(dir: &TempDir) -> Vec<String> {
    let d = dir.path().display();
    // `exec >` moves stdout without the saved copy a redirected command gets.
    let script = format!(
        "exec 1>{d}/fds; ls -l /proc/$$/fd; exec 1>&2; \
         tr '\\0' '\\n' < /proc/$$/environ > {d}/env; \
         tr '\\0' ' ' < /proc/$$/cmdline > {d}/argv; \
         echo CHECKED; sleep 60"
    );
    vec!["/bin/sh".into(), "-c".into(), script]
}

/// The verbose server's stderr log file, parent's pid line included.
struct LoggedServer {
    port: u16,
    key: String,
    pid: i32,
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        if alive(self.pid) {
            signal(self.pid, libc::SIGKILL);
        }
    }
}

/// `rmosh server new -v` with stdout and stderr in files of `dir` (a
/// verbose daemon keeps them open, so no pipe).
fn start_logged_server(dir: &TempDir, command: &[String]) -> LoggedServer {
    let out = std::fs::File::create(dir.join("server.out")).expect("out");
    let err = std::fs::File::create(dir.join("server.log")).expect("log");
    let status = Command::new(rmosh_bin())
        .args(["server", "new", "-v", "-i", "127.0.0.1", "-p", "0", "--"])
        .args(command)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .expect("start the server");
    assert!(status.success(), "server start failed: {status}");
    let stdout = std::fs::read_to_string(dir.join("server.out")).expect("read out");
    let log = std::fs::read_to_string(dir.join("server.log")).expect("read log");
    let (port, key) = support::mosh::parse_connect(&stdout).expect("MOSH CONNECT");
    let pid = support::mosh::parse_detached_pid(&log).expect("detached pid");
    LoggedServer { port, key, pid }
}

#[tokio::test]
async fn the_shell_inherits_no_server_descriptor_and_never_sees_the_key() {
    let dir = TempDir::new("inherit");
    let server = start_logged_server(&dir, &inspecting_shell(&dir));
    let (mut conn, mut socks) = client_core(server.port, &server.key, 80, 24);
    let checked = pump(&mut conn, &mut socks, Duration::from_secs(20), |c| {
        host_text(c).contains("CHECKED")
    })
    .await;
    assert!(checked, "shell never ran: {:?}", host_text(&conn));

    // Descriptors: 0 and 2 the session's pty, 1 the listing; nothing of the
    // server (its UDP socket, the pty master, a pipe or /dev/null).
    let fds = std::fs::read_to_string(dir.join("fds")).expect("fds");
    let links: Vec<(&str, &str)> = fds
        .lines()
        .filter_map(|l| l.split_once(" -> "))
        .map(|(left, target)| (left.rsplit(' ').next().unwrap_or(""), target))
        .collect();
    let numbers: Vec<&str> = links.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, ["0", "1", "2"], "{fds}");
    assert!(
        links
            .iter()
            .all(|(n, t)| t.starts_with("/dev/pts/") || (*n == "1" && t.ends_with("/fds"))),
        "{fds}"
    );

    // The key: not in the shell's environment nor argv.
    let env = std::fs::read_to_string(dir.join("env")).expect("env");
    let argv = std::fs::read_to_string(dir.join("argv")).expect("argv");
    assert!(!env.contains(&server.key), "key in the shell's environment");
    assert!(!env.lines().any(|l| l.starts_with("MOSH_KEY=")), "{env}");
    assert!(
        !argv.contains(&server.key),
        "key in the shell's argv: {argv}"
    );
    assert!(env.contains("TERM="), "env was read: {env}");

    // Nor in the server's own argv or in its verbose log.
    let server_argv =
        std::fs::read(format!("/proc/{}/cmdline", server.pid)).expect("server cmdline");
    assert!(!String::from_utf8_lossy(&server_argv).contains(&server.key));
    conn.current_state_mut().push_bytes(b"x");
    pump(&mut conn, &mut socks, Duration::from_secs(1), |_| false).await;
    let log = std::fs::read_to_string(dir.join("server.log")).expect("log");
    assert!(log.contains("attached to client"), "verbose log: {log}");
    assert!(!log.contains(&server.key), "key in the server's log: {log}");
}

/// True if `sock` receives anything within `wait`.
fn hears_anything(sock: &UdpSocket, wait: Duration) -> bool {
    sock.set_read_timeout(Some(wait)).expect("timeout");
    let mut buf = [0u8; 2048];
    sock.recv_from(&mut buf).is_ok()
}

#[tokio::test]
async fn the_server_never_answers_a_stranger() {
    let server = ServerSpec::new(Impl::Rmosh)
        .command(&["/bin/sh"])
        .env("PS1", "$ ")
        .start();
    let to = SocketAddr::from(([127, 0, 0, 1], server.port));
    let stranger = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let wrong_key = Base64Key::from_bytes([0x42; 16]);
    let forged = Packet {
        direction: Direction::ToServer,
        seq: u64::MAX >> 2,
        timestamp: 1,
        timestamp_reply: 0xFFFF,
        payload: vec![0; 40],
    }
    .encode(&mut Session::new(&wrong_key))
    .expect("seal");
    let garbage: [&[u8]; 4] = [b"hello", &[0u8; 24], &[0xFF; 1500], &forged];
    for g in garbage {
        stranger.send_to(g, to).expect("send");
    }
    assert!(
        !hears_anything(&stranger, Duration::from_secs(2)),
        "the server answered garbage before any client"
    );

    // A real client attaches; the stranger sends an authentic datagram with
    // an old sequence number (as a replay would) and the garbage again:
    // still nothing, and the session stays with the client.
    let (mut conn, mut socks) = client_core(server.port, &server.key, 80, 24);
    conn.current_state_mut()
        .push_bytes(b"echo here-$((40+2))\r");
    let ok = pump(&mut conn, &mut socks, Duration::from_secs(20), |c| {
        host_text(c).contains("here-42")
    })
    .await;
    assert!(ok, "session never worked: {:?}", host_text(&conn));
    let key = Base64Key::parse(&server.key).expect("key");
    let mut session = Session::new(&key);
    let replay = Packet {
        direction: Direction::ToServer,
        seq: 0,
        timestamp: 5,
        timestamp_reply: 0xFFFF,
        payload: vec![0; 10],
    }
    .encode(&mut session)
    .expect("seal");
    for g in garbage.iter().copied().chain([replay.as_slice()]) {
        stranger.send_to(g, to).expect("send");
    }
    assert!(
        !hears_anything(&stranger, Duration::from_secs(2)),
        "the server answered a stranger"
    );
    conn.current_state_mut()
        .push_bytes(b"echo still-$((40+3))\r");
    let ok = pump(&mut conn, &mut socks, Duration::from_secs(20), |c| {
        host_text(c).contains("still-43")
    })
    .await;
    assert!(ok, "the client lost its session: {:?}", host_text(&conn));
}

/// One datagram seen by the recording proxy.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// Index of the client (by source address) it came from or went to.
    client: usize,
    /// Client → server.
    upstream: bool,
    /// The clear nonce tail (direction bit and sequence number).
    nonce: u64,
}

/// A UDP proxy in front of `server` that gives every client address its own
/// upstream socket (so the server sees each client apart) and records the
/// nonce of every datagram.
struct RecordingProxy {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl RecordingProxy {
    fn start(server: SocketAddr) -> RecordingProxy {
        let front = UdpSocket::bind("127.0.0.1:0").expect("bind");
        front
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let port = front.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        thread::spawn(move || {
            let mut clients: HashMap<SocketAddr, (usize, UdpSocket)> = HashMap::new();
            let mut buf = [0u8; 4096];
            while !stop2.load(Ordering::Relaxed) {
                let Ok((n, from)) = front.recv_from(&mut buf) else {
                    continue;
                };
                let count = clients.len();
                let (index, up) = clients.entry(from).or_insert_with(|| {
                    let up = UdpSocket::bind("127.0.0.1:0").expect("bind");
                    up.connect(server).expect("connect");
                    let back = up.try_clone().expect("clone");
                    back.set_read_timeout(Some(Duration::from_millis(100)))
                        .expect("timeout");
                    let (front, seen, stop) = (
                        front.try_clone().expect("clone"),
                        seen2.clone(),
                        stop2.clone(),
                    );
                    thread::spawn(move || {
                        let mut buf = [0u8; 4096];
                        while !stop.load(Ordering::Relaxed) {
                            if let Ok(n) = back.recv(&mut buf) {
                                record(&seen, count, false, &buf[..n]);
                                let _ = front.send_to(&buf[..n], from);
                            }
                        }
                    });
                    (count, up)
                });
                record(&seen2, *index, true, &buf[..n]);
                let _ = up.send(&buf[..n]);
            }
        });
        RecordingProxy { port, seen, stop }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn record(seen: &Mutex<Vec<Seen>>, client: usize, upstream: bool, datagram: &[u8]) {
    if let Some(head) = datagram.first_chunk::<8>() {
        seen.lock().expect("lock").push(Seen {
            client,
            upstream,
            nonce: u64::from_be_bytes(*head),
        });
    }
}

fn wall_ns() -> u64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    u64::try_from(d.as_nanos()).expect("ns fit")
}

#[test]
fn a_second_client_with_the_same_key_never_reuses_a_nonce_at_stock_mosh_server() {
    let server: Server = ServerSpec::new(Impl::Mosh)
        .command(&["/bin/sh"])
        .env("PS1", "$ ")
        .env("ENV", "/dev/null")
        .start();
    let proxy = RecordingProxy::start(SocketAddr::from(([127, 0, 0, 1], server.port)));

    let before_first = wall_ns();
    let first = start_client(proxy.port, &server.key, 80, 24);
    first.wait_prompt(Duration::from_secs(15));
    first.type_text("echo one-$((1+1))\n");
    first.wait_text("one-2", Duration::from_secs(10));
    // SIGKILL: a client told to hang up would shut the session down.
    let pane: i32 = first
        .cmd(&["display", "-p", "#{pane_pid}"])
        .trim()
        .parse()
        .expect("pane pid");
    let children =
        std::fs::read_to_string(format!("/proc/{pane}/task/{pane}/children")).unwrap_or_default();
    for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
        signal(child, libc::SIGKILL);
    }
    drop(first);
    let after_first = wall_ns();
    thread::sleep(Duration::from_millis(300));
    // Client addresses the first client used (it may have hopped ports).
    let first_addresses = proxy.seen().iter().map(|s| s.client + 1).max().unwrap_or(0);

    let second = start_client(proxy.port, &server.key, 80, 24);
    // The stock server moves to the second client only for a sequence
    // number above every one it has seen: it must answer it.
    let answered = wait_until(Duration::from_secs(15), || {
        proxy
            .seen()
            .iter()
            .any(|s| s.client >= first_addresses && !s.upstream)
    });
    drop(second);
    let seen = proxy.seen();
    assert!(
        answered,
        "mosh-server never answered the second client: {seen:?}"
    );

    let seqs = |second: bool| -> Vec<u64> {
        seen.iter()
            .filter(|s| s.upstream && (s.client >= first_addresses) == second)
            .map(|s| s.nonce)
            .collect()
    };
    let (one, two) = (seqs(false), seqs(true));
    assert!(!one.is_empty() && !two.is_empty(), "{seen:?}");
    // Direction bit clear (to server); numbers from the wall clock in ns.
    assert!(one.iter().chain(&two).all(|n| n >> 63 == 0));
    assert!(
        (before_first..after_first).contains(&one[0]),
        "first seq {}",
        one[0]
    );
    let max_one = one.iter().max().copied().unwrap_or(0);
    let min_two = two.iter().min().copied().unwrap_or(0);
    assert!(
        min_two > max_one,
        "nonce reuse: second client from {min_two}, first up to {max_one}"
    );
    assert!(server.alive());
}
