//! Shared pieces of the client's live tests: a private tmux, a server
//! (Debian's `mosh-server` or `rmosh server new`), the impairment relay,
//! free loopback ports. Included by the `client_*` tests with `#[path]`;
//! as a test target of its own it holds no tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn rmosh() -> &'static str {
    env!("CARGO_BIN_EXE_rmosh")
}

/// The relay binary.
pub fn relay_bin() -> &'static str {
    env!("CARGO_BIN_EXE_rmosh-relay")
}

/// Fails (never skips) when a program the live tests need is missing.
pub fn require(program: &str) -> PathBuf {
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(program);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{program} is required for the client's live tests (install it: apt-get install tmux mosh)"
    );
}

/// A free UDP port on 127.0.0.1 (bound, read, released).
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port");
    s.local_addr().expect("local addr").port()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(tag: &str) -> String {
    format!(
        "rmosh-ct-{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Which server a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// Debian's `/usr/bin/mosh-server` 1.4.0.
    Mosh,
    /// `rmosh server new`.
    Rmosh,
}

/// A detached server process (killed by pid on drop).
pub struct Server {
    /// UDP port.
    pub port: u16,
    /// Session key (only ever passed on in MOSH_KEY).
    pub key: String,
    /// The detached server's pid.
    pub pid: i32,
}

impl Server {
    /// Starts a server on a free loopback port running `/bin/sh` with prompt `$ `.
    pub fn start(kind: ServerKind) -> Server {
        let port = free_udp_port();
        let mut cmd = match kind {
            ServerKind::Mosh => Command::new(require("mosh-server")),
            ServerKind::Rmosh => {
                let mut c = Command::new(rmosh());
                c.arg("server");
                c
            }
        };
        cmd.args([
            "new",
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--",
            "/bin/sh",
        ])
        .env("LANG", "C.UTF-8")
        .env("PS1", "$ ")
        .env("SHELL", "/bin/sh")
        .env("ENV", "/dev/null")
        .stdin(Stdio::null());
        let out = cmd.output().expect("start the server");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let connect = stdout
            .lines()
            .find_map(|l| l.strip_prefix("MOSH CONNECT "))
            .unwrap_or_else(|| panic!("no MOSH CONNECT line from {kind:?}: {stdout} {stderr}"));
        let mut words = connect.split_whitespace();
        let got_port: u16 = words
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in MOSH CONNECT");
        let key = words.next().expect("key in MOSH CONNECT").to_owned();
        let pid = stderr
            .lines()
            .find_map(|l| l.strip_prefix("[mosh-server detached, pid = "))
            .and_then(|r| r.trim_end_matches(']').trim().parse().ok())
            .unwrap_or_else(|| panic!("no pid line from {kind:?}: {stderr}"));
        assert_eq!(got_port, port);
        Server { port, key, pid }
    }

    /// Whether the server process still exists.
    pub fn alive(&self) -> bool {
        // SAFETY: signal 0 only checks for existence.
        unsafe { libc::kill(self.pid, 0) == 0 }
    }

    /// Waits up to `timeout` for the server to exit.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if !self.alive() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        !self.alive()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.alive() {
            // SAFETY: we kill only the pid this test started.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
            }
        }
    }
}

/// A tmux server on a private socket with one window of a given size.
pub struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Starts `shell_command` in a detached session of `cols`×`rows`; `env`
    /// is given to tmux's environment (so keys never appear in argv).
    pub fn start(shell_command: &str, cols: u16, rows: u16, env: &[(&str, &str)]) -> Tmux {
        let tmux = require("tmux");
        let socket = std::env::temp_dir().join(unique("tmux"));
        let mut c = Command::new(tmux);
        c.arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .arg(shell_command)
            .env("TERM", "xterm-256color")
            .env("LANG", "C.UTF-8");
        for (k, v) in env {
            c.env(k, v);
        }
        let st = c.status().expect("run tmux");
        assert!(st.success(), "tmux new-session failed");
        let t = Tmux { socket };
        // Keep the pane after its command exits so the end can be inspected.
        t.cmd(&["set-option", "-g", "remain-on-exit", "on"]);
        t
    }

    /// Runs a tmux command on this server; returns stdout.
    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types literal text.
    pub fn type_text(&self, text: &str) {
        self.cmd(&["send-keys", "-l", text]);
    }

    /// Sends keys by tmux name (e.g. `Enter`, `Escape`).
    pub fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys"];
        a.extend_from_slice(keys);
        self.cmd(&a);
    }

    /// Sends raw bytes.
    pub fn bytes(&self, bytes: &[u8]) {
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut a = vec!["send-keys", "-H"];
        a.extend(hex.iter().map(String::as_str));
        self.cmd(&a);
    }

    /// The pane's text.
    pub fn capture(&self) -> String {
        self.cmd(&["capture-pane", "-p"])
    }

    /// The pane's text with attributes as escape sequences.
    pub fn capture_escapes(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-e"])
    }

    /// Waits until `pred` holds for the captured text; panics with the screen otherwise.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + timeout;
        loop {
            let s = self.capture();
            if pred(&s) {
                return s;
            }
            if Instant::now() > end {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen contains `needle`.
    pub fn wait_text(&self, needle: &str, timeout: Duration) -> String {
        self.wait_for(needle, timeout, |s| s.contains(needle))
    }

    /// Waits for a line ending in the shell prompt `$` (capture-pane trims the trailing space).
    pub fn wait_prompt(&self, timeout: Duration) -> String {
        self.wait_for("a prompt", timeout, |s| {
            s.lines().any(|l| l.trim_end().ends_with('$'))
        })
    }

    /// Resizes the window.
    pub fn resize(&self, cols: u16, rows: u16) {
        self.cmd(&[
            "resize-window",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
        ]);
    }

    /// Whether the pane's command has exited.
    pub fn pane_dead(&self) -> bool {
        self.cmd(&["display-message", "-p", "#{pane_dead}"]).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// The pane command that runs a client and then shows how it ended: its
/// exit code and the terminal modes left behind.
pub fn client_pane_command(client: &str, port: u16) -> String {
    format!(
        "{client} 127.0.0.1 {port}; echo CLIENT-RC=$?; stty -a | tr ' ' '\\n' | grep -x -e -icanon -e icanon -e -echo -e echo | tr '\\n' ' '; echo; sleep 120"
    )
}

/// The impairment relay between client and server (killed on drop).
pub struct Relay {
    /// The port the client sends to.
    pub port: u16,
    child: Child,
    stdin: ChildStdin,
}

impl Relay {
    /// Starts `rmosh-relay` in front of the server's port.
    pub fn start(server_port: u16) -> Relay {
        let mut child = Command::new(relay_bin())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--server",
                &format!("127.0.0.1:{server_port}"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rmosh-relay");
        let stdout = child.stdout.take().expect("relay stdout");
        let stdin = child.stdin.take().expect("relay stdin");
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        reader.read_line(&mut line).expect("relay port line");
        let port = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .last()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("relay did not print its port: {line:?}"));
        // Drain the rest of its output so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Relay { port, child, stdin }
    }

    /// Sends one run-time command (e.g. `outage 5000`).
    pub fn command(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("relay command");
        let _ = self.stdin.flush();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
