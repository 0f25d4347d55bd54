//! Shared plumbing of the reliability suite: servers, clients in tmux, the
//! impairment relay, a recording forwarder, and the logging application.
//!
//! A program the suite needs (mosh-server, mosh-client, tmux, perl) that is
//! missing makes the test fail with a message saying what to install.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Which implementation plays a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Debian's mosh 1.4.0.
    Stock,
    /// This crate's binary.
    Rmosh,
}

/// The full path of `prog` in PATH; panics (fails the test) if missing.
pub fn require(prog: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(prog);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "{prog} is not installed but this test needs it \
         (Debian: apt-get install mosh tmux perl)"
    );
}

/// A private temporary folder, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `/tmp/rmosh-rel-<pid>-<n>-<tag>`.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "rmosh-rel-{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
        TempDir(p)
    }

    /// A path inside the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The application under test: puts the tty in raw mode, appends every
/// byte it reads to a log, echoes it, and starts a new line every 64 bytes.
const APP: &str = r#"
use strict;
system("stty raw -echo") == 0 or die "stty failed";
open(my $log, ">>", $ARGV[0]) or die "log: $!";
binmode($log); binmode(STDIN); binmode(STDOUT);
select($log); $| = 1; select(STDOUT); $| = 1;
print "READY\r\n";
my $n = 0;
my $c;
while (sysread(STDIN, $c, 1) == 1) {
    print $log $c;
    print $c;
    $n++;
    print "\r\n" if $n % 64 == 0;
}
"#;

/// Columns per line of the application's echo.
pub const APP_LINE: usize = 64;

/// Terminal rows of every client.
pub const ROWS: usize = 24;

/// Writes the application into `dir` and returns the server command line.
pub fn app_command(dir: &TempDir) -> (Vec<String>, PathBuf) {
    let perl = require("perl");
    let script = dir.path("app.pl");
    std::fs::write(&script, APP).unwrap();
    let log = dir.path("typed.log");
    (
        vec![
            perl.display().to_string(),
            script.display().to_string(),
            log.display().to_string(),
        ],
        log,
    )
}

/// The screen the application's output produces on a 24-row terminal:
/// what the server's terminal holds after `typed` was echoed. The first
/// row is the pty's echo of the newline with which the server releases the
/// command when the first client arrives (spec §7.2 step 10).
pub fn expected_screen(typed: &[u8]) -> Vec<String> {
    let mut lines = vec![String::new(), "READY".to_string()];
    for chunk in typed.chunks(APP_LINE) {
        lines.push(String::from_utf8_lossy(chunk).into_owned());
    }
    if typed.len().is_multiple_of(APP_LINE) && !typed.is_empty() {
        lines.push(String::new());
    }
    let skip = lines.len().saturating_sub(ROWS);
    normalize(lines.into_iter().skip(skip).collect())
}

/// Trailing blanks and trailing empty lines removed.
pub fn normalize(lines: Vec<String>) -> Vec<String> {
    let mut v: Vec<String> = lines.iter().map(|l| l.trim_end().to_string()).collect();
    while v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

/// `n` printable keystrokes from a seeded generator.
pub fn keystrokes(n: usize, seed: u64) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,-+=";
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ALPHABET[((s >> 33) as usize) % ALPHABET.len()]
        })
        .collect()
}

/// A detached server; killed (by the pid it printed) on drop.
pub struct Server {
    /// The daemon's pid.
    pub pid: i32,
    /// Its UDP port.
    pub port: u16,
    /// The session key (kept out of argv: clients get it through a file).
    pub key: String,
}

impl Server {
    /// Starts `new -i 127.0.0.1 -p 0 -- command…`.
    pub fn start(side: Side, command: &[String]) -> Server {
        Server::start_in(side, command, "127.0.0.1", &[])
    }

    /// Starts `wrapper… SERVER new -i ip -p 0 -- command…` (the wrapper
    /// is e.g. `ip netns exec NS`).
    pub fn start_in(side: Side, command: &[String], ip: &str, wrapper: &[String]) -> Server {
        let server: Vec<String> = match side {
            Side::Stock => vec![require("mosh-server").display().to_string()],
            Side::Rmosh => vec![
                env!("CARGO_BIN_EXE_rmosh").to_string(),
                "server".to_string(),
            ],
        };
        let mut argv = wrapper.iter().chain(server.iter());
        let mut cmd = Command::new(argv.next().unwrap());
        cmd.args(argv)
            .args(["new", "-i", ip, "-p", "0", "--"])
            .args(command)
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .env_remove("MOSH_KEY")
            .stdin(Stdio::null());
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let connect = stdout
            .lines()
            .find_map(|l| l.strip_prefix("MOSH CONNECT "))
            .unwrap_or_else(|| panic!("{side:?} server did not start: {stdout} {stderr}"));
        let mut parts = connect.split_whitespace();
        let port = parts.next().unwrap().parse().unwrap();
        let key = parts.next().unwrap().to_string();
        let pid = stderr
            .split("detached, pid = ")
            .nth(1)
            .and_then(|s| s.split(']').next())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("{side:?} server printed no pid: {stderr}"));
        Server { pid, port, key }
    }

    /// Whether the daemon is still running (not gone, not a zombie).
    pub fn alive(&self) -> bool {
        match std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) {
            Ok(s) => s
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z"),
            Err(_) => false,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the pid this test's server printed.
        unsafe {
            libc::kill(self.pid, libc::SIGTERM);
        }
        let t = Instant::now();
        while self.alive() && t.elapsed() < Duration::from_secs(3) {
            thread::sleep(Duration::from_millis(20));
        }
        if self.alive() {
            // SAFETY: as above.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
            }
        }
    }
}

/// A client running inside a private tmux server (80×24).
pub struct TmuxClient {
    sock: PathBuf,
}

impl TmuxClient {
    /// Starts a client of `side` toward 127.0.0.1:`port` with the key in MOSH_KEY.
    pub fn start(side: Side, dir: &TempDir, port: u16, key: &str) -> TmuxClient {
        TmuxClient::start_in(side, dir, "127.0.0.1", port, key, "")
    }

    /// Starts a client toward `ip`:`port`, its command prefixed by `wrapper`
    /// (e.g. `ip netns exec NS`).
    pub fn start_in(
        side: Side,
        dir: &TempDir,
        ip: &str,
        port: u16,
        key: &str,
        wrapper: &str,
    ) -> TmuxClient {
        let tmux = require("tmux");
        let client = match side {
            Side::Stock => require("mosh-client").display().to_string(),
            Side::Rmosh => format!("{} client", env!("CARGO_BIN_EXE_rmosh")),
        };
        let key_file = dir.path("key");
        std::fs::write(&key_file, key).unwrap();
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let script = dir.path("client.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nMOSH_KEY=$(cat '{}'); export MOSH_KEY\n\
                 export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color\n\
                 {wrapper} {client} {ip} {port}\necho CLIENT-EXIT rc=$?\nsleep 600\n",
                key_file.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
        let sock = dir.path("tmux.sock");
        let st = Command::new(tmux)
            .arg("-S")
            .arg(&sock)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "80",
                "-y",
                "24",
            ])
            .arg(&script)
            .status()
            .unwrap();
        assert!(st.success(), "tmux new-session failed");
        TmuxClient { sock }
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new(require("tmux"));
        c.arg("-S").arg(&self.sock);
        c
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &[u8]) {
        let s = String::from_utf8_lossy(text).into_owned();
        let st = self
            .tmux()
            .args(["send-keys", "-t", "0", "-l", "--"])
            .arg(s)
            .status()
            .unwrap();
        assert!(st.success(), "tmux send-keys failed");
    }

    /// The visible screen, one string per row.
    pub fn screen(&self) -> Vec<String> {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Whether the client process has exited (the wrapper printed its code).
    pub fn exited(&self) -> bool {
        self.screen().iter().any(|l| l.contains("CLIENT-EXIT"))
    }

    /// Waits until the screen shows `needle`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let t = Instant::now();
        while t.elapsed() < timeout {
            if self.screen().iter().any(|l| l.contains(needle)) {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for TmuxClient {
    fn drop(&mut self) {
        let _ = self
            .tmux()
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
    }
}

/// `rmosh-relay` in front of a server, driven through its stdin.
pub struct Relay {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The port clients send to.
    pub port: u16,
}

impl Relay {
    /// Starts the relay toward 127.0.0.1:`server_port` with `args`.
    pub fn start(server_port: u16, args: &[&str]) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rmosh-relay"))
            .args(["--listen", "127.0.0.1:0", "--server"])
            .arg(format!("127.0.0.1:{server_port}"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line.trim().parse().unwrap();
        Relay {
            child,
            stdin,
            stdout,
            port,
        }
    }

    /// Sends a command and returns its reply line.
    pub fn cmd(&mut self, c: &str) -> String {
        writeln!(self.stdin, "{c}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().to_string()
    }

    /// One counter from `stats`.
    pub fn stat(&mut self, key: &str) -> u64 {
        let line = self.cmd("stats");
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{key} missing in {line}"))
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain UDP forwarder that records every client → server datagram, so
/// a test can replay them or send garbage from the client's own address.
pub struct Recorder {
    /// The port clients send to.
    pub port: u16,
    /// The socket toward the server (the client's address as the server sees it).
    pub upstream: UdpSocket,
    /// The server's address.
    pub server: SocketAddr,
    /// Everything the client sent, in order.
    pub recorded: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
}

impl Recorder {
    /// Starts forwarding between a client and 127.0.0.1:`server_port`.
    pub fn start(server_port: u16) -> Recorder {
        let server = SocketAddr::from(([127, 0, 0, 1], server_port));
        let down = UdpSocket::bind("127.0.0.1:0").unwrap();
        let up = UdpSocket::bind("127.0.0.1:0").unwrap();
        for s in [&down, &up] {
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
        }
        let port = down.local_addr().unwrap().port();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
        {
            let (down, up) = (down.try_clone().unwrap(), up.try_clone().unwrap());
            let (recorded, stop, client) = (recorded.clone(), stop.clone(), client.clone());
            thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while !stop.load(Ordering::SeqCst) {
                    if let Ok((n, from)) = down.recv_from(&mut buf) {
                        *client.lock().unwrap() = Some(from);
                        recorded.lock().unwrap().push(buf[..n].to_vec());
                        let _ = up.send_to(&buf[..n], server);
                    }
                }
            });
        }
        {
            let (down, up) = (down, up.try_clone().unwrap());
            let (stop, client) = (stop.clone(), client);
            thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while !stop.load(Ordering::SeqCst) {
                    if let Ok((n, from)) = up.recv_from(&mut buf) {
                        let to = *client.lock().unwrap();
                        if let (true, Some(to)) = (from == server, to) {
                            let _ = down.send_to(&buf[..n], to);
                        }
                    }
                }
            });
        }
        Recorder {
            port,
            upstream: up,
            server,
            recorded,
            stop,
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Reads the application's log.
pub fn read_log(log: &Path) -> Vec<u8> {
    std::fs::read(log).unwrap_or_default()
}

/// Waits until the log holds at least `n` bytes; returns what it holds.
pub fn wait_log(log: &Path, n: usize, timeout: Duration) -> Vec<u8> {
    let t = Instant::now();
    loop {
        let v = read_log(log);
        if v.len() >= n || t.elapsed() > timeout {
            return v;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Asserts the log is exactly `typed`, naming the first difference.
pub fn assert_exactly_once_in_order(log: &[u8], typed: &[u8]) {
    if log == typed {
        return;
    }
    let first = log
        .iter()
        .zip(typed)
        .position(|(a, b)| a != b)
        .unwrap_or(log.len().min(typed.len()));
    panic!(
        "application received {} bytes, {} typed; first difference at byte {first}: \
         got {:?}, want {:?}",
        log.len(),
        typed.len(),
        String::from_utf8_lossy(&log[first.saturating_sub(8)..(first + 8).min(log.len())]),
        String::from_utf8_lossy(&typed[first.saturating_sub(8)..(first + 8).min(typed.len())]),
    );
}

/// Waits until the client's screen equals the server-side screen for
/// `typed`; panics with both screens if it never does.
pub fn assert_screens_agree(client: &TmuxClient, typed: &[u8], timeout: Duration) {
    let want = expected_screen(typed);
    let t = Instant::now();
    loop {
        let got = normalize(client.screen());
        if got == want {
            return;
        }
        if t.elapsed() > timeout {
            panic!(
                "client screen differs from the server's\n--- client ---\n{}\n--- server ---\n{}",
                got.join("\n"),
                want.join("\n")
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// A session: server running the logging application, and a client that
/// reaches it through `port_for(server_port)`.
pub struct Session {
    /// The temporary folder (app, log, key file, tmux socket).
    pub dir: TempDir,
    /// The server.
    pub server: Server,
    /// The application's log of received bytes.
    pub log: PathBuf,
}

impl Session {
    /// Starts the server with the logging application.
    pub fn start(server: Side, tag: &str) -> Session {
        let dir = TempDir::new(tag);
        let (cmd, log) = app_command(&dir);
        let server = Server::start(server, &cmd);
        Session { dir, server, log }
    }

    /// Starts a client toward `port` and waits for the application.
    pub fn client(&self, side: Side, port: u16) -> TmuxClient {
        let c = TmuxClient::start(side, &self.dir, port, &self.server.key);
        assert!(
            c.wait_for("READY", Duration::from_secs(20)),
            "the application never showed on the client: {:?}",
            c.screen()
        );
        c
    }
}

/// Types `keys` in chunks of `chunk` with `pause` between chunks.
pub fn type_paced(client: &TmuxClient, keys: &[u8], chunk: usize, pause: Duration) {
    for c in keys.chunks(chunk) {
        client.type_text(c);
        thread::sleep(pause);
    }
}
