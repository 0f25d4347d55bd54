//! Support for end-to-end tests: servers (Debian's mosh or rmosh) on loopback
//! and clients driven inside a private tmux server.
//!
//! A missing program (mosh-server, mosh-client, tmux) makes the test fail
//! with a message saying what to install; nothing is skipped.

#![allow(dead_code)]

use std::io::Read;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Which implementation plays a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Debian's mosh 1.4.0.
    Mosh,
    /// This crate's binary.
    Rmosh,
}

/// The rmosh binary under test.
pub fn rmosh_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rmosh"))
}

/// Path of a required system program, or a failure naming the package.
pub fn require(program: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin"] {
        let p = Path::new(dir).join(program);
        if p.exists() {
            return p;
        }
    }
    panic!("{program} is required for this test: apt-get install {package}");
}

/// A fresh private directory for one test run.
pub fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("rmosh-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A UDP port that was free a moment ago on 127.0.0.1.
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp 0");
    s.local_addr().expect("local addr").port()
}

/// A detached server process, killed on drop.
pub struct MoshServer {
    /// UDP port it listens on.
    pub port: u16,
    /// Session key (22 characters).
    pub key: String,
    /// Pid of the detached daemon.
    pub pid: i32,
}

impl MoshServer {
    /// Starts `which` as `mosh-server new -i 127.0.0.1 -p PORT -- command…`.
    pub fn start(which: Which, port: u16, command: &[&str]) -> MoshServer {
        let mut cmd = match which {
            Which::Mosh => Command::new(require("mosh-server", "mosh")),
            Which::Rmosh => {
                let mut c = Command::new(rmosh_bin());
                c.arg("server");
                c
            }
        };
        cmd.args(["new", "-i", "127.0.0.1", "-p", &port.to_string(), "--"])
            .args(command)
            .env("LANG", "C.UTF-8")
            .env("PS1", "$ ")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = cmd.output().expect("run mosh-server");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{which:?} server failed: {stdout}\n{stderr}"
        );
        let connect = stdout
            .lines()
            .find_map(|l| l.strip_prefix("MOSH CONNECT "))
            .unwrap_or_else(|| panic!("no MOSH CONNECT line from {which:?}: {stdout}\n{stderr}"));
        let mut words = connect.split_whitespace();
        let got_port: u16 = words.next().and_then(|p| p.parse().ok()).expect("port");
        let key = words.next().expect("key").to_string();
        let pid: i32 = stderr
            .split("detached, pid = ")
            .nth(1)
            .and_then(|r| r.split(']').next())
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no detached pid from {which:?}: {stderr}"));
        assert_eq!(got_port, port);
        assert_eq!(key.len(), 22);
        MoshServer { port, key, pid }
    }

    /// Whether the daemon still runs.
    pub fn alive(&self) -> bool {
        // SAFETY: kill with signal 0 only checks for existence.
        unsafe { libc_kill(self.pid, 0) == 0 }
    }
}

impl Drop for MoshServer {
    fn drop(&mut self) {
        // SAFETY: the pid is the daemon this test started.
        unsafe {
            libc_kill(self.pid, 15);
        }
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// A private tmux server with one window running a client.
pub struct Tmux {
    socket: PathBuf,
    tmux: PathBuf,
}

impl Tmux {
    /// Starts the `which` client against 127.0.0.1:`port` in a `cols`×`rows` window.
    /// The key goes through a 0600 file into MOSH_KEY, never through argv.
    pub fn start_client(
        dir: &Path,
        which: Which,
        port: u16,
        key: &str,
        cols: u16,
        rows: u16,
    ) -> Tmux {
        let client = match which {
            Which::Mosh => format!("{} ", require("mosh-client", "mosh").display()),
            Which::Rmosh => format!("{} client ", rmosh_bin().display()),
        };
        let keyfile = dir.join("key");
        std::fs::write(&keyfile, key).expect("write key file");
        set_mode_600(&keyfile);
        let command = format!(
            "MOSH_KEY=$(cat {k}) MOSH_PREDICTION_DISPLAY=never LANG=C.UTF-8 {client}127.0.0.1 {port}; echo RC=$?; sleep 120",
            k = keyfile.display()
        );
        Self::start(dir, &command, cols, rows)
    }

    /// Starts a tmux server running `command` (through sh) in a `cols`×`rows` window.
    pub fn start(dir: &Path, command: &str, cols: u16, rows: u16) -> Tmux {
        let tmux = require("tmux", "tmux");
        let socket = dir.join("tmux.sock");
        let status = Command::new(&tmux)
            .args(["-f", "/dev/null", "-S"])
            .arg(&socket)
            .args([
                "new-session",
                "-d",
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
            ])
            .arg(command)
            .env_remove("TMUX")
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        let t = Tmux { socket, tmux };
        t.cmd(&["set-option", "-g", "status", "off"]);
        t
    }

    fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new(&self.tmux)
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane's text with attributes (`capture-pane -p -e`).
    pub fn capture(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-e"])
    }

    /// The pane's plain text.
    pub fn text(&self) -> String {
        self.cmd(&["capture-pane", "-p"])
    }

    /// The cursor as `x,y`.
    pub fn cursor(&self) -> String {
        self.cmd(&[
            "display-message",
            "-p",
            "#{cursor_x},#{cursor_y},#{cursor_flag}",
        ])
        .trim()
        .to_string()
    }

    /// The pane title the client set.
    pub fn pane_title(&self) -> String {
        self.cmd(&["display-message", "-p", "#{pane_title}"])
            .trim()
            .to_string()
    }

    /// Sends tmux key names (e.g. `Enter`, `C-c`) or literal text.
    pub fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }

    /// Sends literal text (no key-name lookup).
    pub fn send_text(&self, text: &str) {
        self.cmd(&["send-keys", "-l", text]);
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

    /// Polls the attributed capture until `pred` holds, then returns it once the
    /// screen has been stable for a moment (late frames settle).
    pub fn wait_for(&self, pred: impl Fn(&str) -> bool, seconds: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let text = self.text();
            if pred(&text) {
                let mut last = self.capture();
                loop {
                    std::thread::sleep(Duration::from_millis(150));
                    let now = self.capture();
                    if now == last {
                        return now;
                    }
                    last = now;
                }
            }
            if Instant::now() > deadline {
                panic!("timed out waiting; screen:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new(&self.tmux)
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
    }
}

fn set_mode_600(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

/// Reads a whole file, empty if missing.
pub fn read_to_string(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}
