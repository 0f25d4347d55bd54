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

/// A name no other test of this process uses.
pub fn unique(tag: &str) -> String {
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

    /// The pane's title (set by OSC 0/2).
    pub fn pane_title(&self) -> String {
        self.cmd(&["display-message", "-p", "#{pane_title}"])
            .trim_end()
            .to_owned()
    }

    /// The pid of the pane's first child process (the client under `sh -c`).
    pub fn client_pid(&self) -> i32 {
        let shell = self.cmd(&["display-message", "-p", "#{pane_pid}"]);
        let shell = shell.trim();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default();
        children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no client process under pane pid {shell}"))
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
    replies: std::sync::mpsc::Receiver<String>,
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
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("relay did not print its port: {line:?}"));
        // Replies go to a channel so the pipe never fills up.
        let (tx, replies) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut l = String::new();
            while reader.read_line(&mut l).map(|n| n > 0).unwrap_or(false) {
                if tx.send(l.trim().to_owned()).is_err() {
                    return;
                }
                l.clear();
            }
        });
        Relay {
            port,
            child,
            stdin,
            replies,
        }
    }

    /// Sends one run-time command (e.g. `outage 5000`); returns its reply line.
    pub fn command(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").expect("relay command");
        let _ = self.stdin.flush();
        self.replies
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("no reply from the relay to {line:?}"))
    }

    /// One counter from `stats` (e.g. `down.delivered`).
    pub fn counter(&mut self, name: &str) -> u64 {
        let stats = self.command("stats");
        let prefix = format!("{name}=");
        stats
            .split_whitespace()
            .find_map(|w| w.strip_prefix(prefix.as_str()))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {stats:?}"))
    }

    /// Waits for the next server → client datagram to be delivered; returns when it was seen.
    pub fn wait_server_datagram(&mut self, timeout: Duration) -> Instant {
        let start = self.counter("down.delivered");
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.counter("down.delivered") > start {
                return Instant::now();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no server datagram through the relay within {timeout:?}");
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the client under test is started in a pane.
pub fn rmosh_client() -> String {
    format!("{} client", rmosh())
}

/// Asserts the pane shows the client's clean exit and a cooked terminal.
pub fn assert_clean_exit(t: &Tmux) {
    let s = t.wait_for("the client's exit and stty", Duration::from_secs(15), |s| {
        s.contains("CLIENT-RC=") && s.lines().any(|l| l.contains("icanon"))
    });
    assert!(s.contains("[mosh is exiting.]"), "{s}");
    assert!(s.contains("CLIENT-RC=0"), "{s}");
    let modes = s.lines().find(|l| l.contains("icanon")).unwrap_or_default();
    // Raw mode is gone: canonical input and echo are back on.
    assert!(modes.split_whitespace().any(|w| w == "icanon"), "{s}");
    assert!(modes.split_whitespace().any(|w| w == "echo"), "{s}");
    assert!(
        !modes.contains("-icanon") && !modes.contains("-echo"),
        "{s}"
    );
}

/// Starts our client in tmux against `port` with the server's key.
pub fn start_client(port: u16, key: &str, cols: u16, rows: u16) -> Tmux {
    Tmux::start(
        &client_pane_command(&rmosh_client(), port),
        cols,
        rows,
        &[("MOSH_KEY", key)],
    )
}

/// Type, see output, vim, resize, a literal Ctrl-^, then the application
/// exits: the client exits 0 and the terminal is cooked again.
pub fn interactive_session(kind: ServerKind) {
    let server = Server::start(kind);
    let t = start_client(server.port, &server.key, 80, 24);
    t.wait_prompt(Duration::from_secs(10));

    t.type_text("echo hello-$((6*7))");
    t.keys(&["Enter"]);
    t.wait_text("hello-42", Duration::from_secs(10));

    // vim: insert text, write, quit; the file proves every key arrived.
    let file = std::env::temp_dir().join(format!("{}.txt", unique("vim")));
    let path = file.to_string_lossy().into_owned();
    t.type_text(&format!("vim -u NONE -N -n {path}"));
    t.keys(&["Enter"]);
    t.wait_for("vim's empty buffer", Duration::from_secs(10), |s| {
        s.lines().filter(|l| l.starts_with('~')).count() >= 10
    });
    t.type_text("irmosh in vim");
    t.keys(&["Escape"]);
    t.wait_text("rmosh in vim", Duration::from_secs(10));
    t.type_text(":wq");
    t.keys(&["Enter"]);
    let end = Instant::now() + Duration::from_secs(10);
    let mut written = String::new();
    while Instant::now() < end {
        written = std::fs::read_to_string(&file).unwrap_or_default();
        if !written.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(&file);
    assert_eq!(written, "rmosh in vim\n");
    t.wait_for("the shell after vim", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim_end() == "$")
    });

    // Resize: the server's pty follows the window.
    t.type_text("clear");
    t.keys(&["Enter"]);
    t.wait_for("a cleared screen", Duration::from_secs(10), |s| {
        !s.contains("rmosh in vim")
    });
    t.resize(100, 30);
    t.type_text("stty size");
    t.keys(&["Enter"]);
    t.wait_text("30 100", Duration::from_secs(10));
    let wide = format!("w{}", "x".repeat(95));
    t.type_text(&format!("echo {wide}"));
    t.keys(&["Enter"]);
    // The 97-column line fits on one row of the wider screen.
    t.wait_for("a 97-column line", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim_end() == wide)
    });

    // Ctrl-^ ^ types a literal Ctrl-^ (0x1e).
    t.type_text("od -An -tx1");
    t.keys(&["Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    t.bytes(&[0x1e, b'^']);
    t.keys(&["Enter"]);
    t.bytes(&[0x04]);
    t.wait_text("1e 0a", Duration::from_secs(10));

    t.type_text("exit");
    t.keys(&["Enter"]);
    assert_clean_exit(&t);
    assert!(
        server.wait_exit(Duration::from_secs(10)),
        "server still running"
    );
}

/// Ctrl-^ shows the escape help; Ctrl-^ . quits with a clean shutdown.
pub fn escape_quit(kind: ServerKind) {
    let server = Server::start(kind);
    let t = start_client(server.port, &server.key, 80, 24);
    t.wait_prompt(Duration::from_secs(10));
    t.bytes(&[0x1e]);
    let s = t.wait_text(
        "mosh: Commands: Ctrl-Z suspends, \".\" quits, \"^\" gives literal Ctrl-^",
        Duration::from_secs(10),
    );
    assert!(
        s.lines()
            .next()
            .unwrap_or_default()
            .starts_with("mosh: Commands:"),
        "{s}"
    );
    t.bytes(b".");
    assert_clean_exit(&t);
    assert!(
        server.wait_exit(Duration::from_secs(10)),
        "server still running"
    );
}

/// Through the relay, a 5 s outage brings up "mosh: Last contact" on row 0,
/// and the session carries on afterwards.
pub fn outage_shows_bar_then_recovers(kind: ServerKind) {
    let server = Server::start(kind);
    let mut relay = Relay::start(server.port);
    let t = start_client(relay.port, &server.key, 80, 24);
    t.wait_prompt(Duration::from_secs(10));
    t.type_text("echo before-outage");
    t.keys(&["Enter"]);
    t.wait_text("before-outage", Duration::from_secs(10));
    // Idle, the server speaks every 3 s. Cut the link 2 s after it spoke:
    // the next two heartbeats are lost, so contact is 9 s old when the
    // third arrives and the bar (shown after 6.5 s) must appear.
    std::thread::sleep(Duration::from_millis(500));
    let spoke = relay.wait_server_datagram(Duration::from_secs(10));
    std::thread::sleep(
        (spoke + Duration::from_millis(2000)).saturating_duration_since(Instant::now()),
    );
    assert_eq!(relay.command("outage 5000"), "ok");
    let s = t.wait_for("the notification bar", Duration::from_secs(12), |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.starts_with("mosh: Last contact "))
    });
    assert!(
        s.lines()
            .next()
            .unwrap_or_default()
            .ends_with("ago. [To quit: Ctrl-^ .]"),
        "{s}"
    );
    t.wait_for("the bar to go away", Duration::from_secs(15), |s| {
        !s.contains("mosh: Last contact")
    });
    t.type_text("echo after-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_text("after-42", Duration::from_secs(10));
    t.type_text("exit");
    t.keys(&["Enter"]);
    assert_clean_exit(&t);
}

/// The application's title gets the `[mosh] ` prefix; SIGTERM makes the
/// client shut down cleanly and restore the terminal.
pub fn title_prefix_then_sigterm(kind: ServerKind) {
    let server = Server::start(kind);
    let t = start_client(server.port, &server.key, 80, 24);
    t.wait_prompt(Duration::from_secs(10));
    t.type_text("printf '\\033]0;rmosh-title\\007'; echo title-set");
    t.keys(&["Enter"]);
    t.wait_text("title-set", Duration::from_secs(10));
    let end = Instant::now() + Duration::from_secs(10);
    while t.pane_title() != "[mosh] rmosh-title" && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(t.pane_title(), "[mosh] rmosh-title");
    let pid = t.client_pid();
    // SAFETY: signalling the client process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert_clean_exit(&t);
    assert!(
        server.wait_exit(Duration::from_secs(10)),
        "server still running"
    );
}
