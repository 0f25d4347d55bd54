//! Shared harness for the server interop tests: a `mosh-server` symlink to
//! the rmosh binary, a started server (port, key, daemon pid), and Debian's
//! `mosh-client` running in a private tmux server on loopback.
//!
//! Missing programs (tmux, mosh-client) make the tests FAIL, never skip.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Panics (failing the test) if `prog` is not installed.
pub fn require(prog: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(prog))
        .find(|p| p.is_file());
    match found {
        Some(p) => p,
        None => panic!("{prog} is required for this test but is not installed"),
    }
}

/// A private temp directory, removed on drop.
pub struct TempDir {
    /// Its path.
    pub path: PathBuf,
}

impl TempDir {
    /// Creates `/tmp/rmosh-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = PathBuf::from("/tmp").join(format!("rmosh-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A `mosh-server` symlink to the binary under test inside `dir`.
pub fn mosh_server_link(dir: &Path) -> PathBuf {
    let link = dir.join("mosh-server");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rmosh"), &link).expect("symlink");
    link
}

/// A UDP port that was free a moment ago on 127.0.0.1.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Whether process `pid` still exists (and is not a zombie we could reap).
pub fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    if !exists {
        return false;
    }
    // A zombie still answers kill(0); look at its state.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(") ")
                .map(|(_, rest)| !rest.starts_with('Z'))
                .unwrap_or(true)
        })
        .unwrap_or(false)
}

/// Polls `f` every 50 ms until it is true or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

/// A started server daemon; killed on drop if still running.
pub struct Server {
    /// UDP port from `MOSH CONNECT`.
    pub port: u16,
    /// The 22-character key from `MOSH CONNECT`.
    pub key: String,
    /// The daemon's pid from `[mosh-server detached, pid = N]`.
    pub pid: i32,
    /// Everything the start-up printed on stdout.
    pub stdout: String,
    /// Everything the start-up printed on stderr.
    pub stderr: String,
}

impl Server {
    /// Runs `program new -i 127.0.0.1 -p <free port> <extra…>` with `env`, and parses its output.
    pub fn start(program: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_udp_port().to_string();
        let mut c = Command::new(program);
        c.args(["new", "-i", "127.0.0.1", "-p", &port])
            .args(extra)
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("start server");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "server start failed: {stderr}");
        let connect = stdout
            .lines()
            .find_map(|l| l.strip_prefix("MOSH CONNECT "))
            .unwrap_or_else(|| panic!("no MOSH CONNECT in {stdout:?}"));
        let mut words = connect.split_whitespace();
        let port: u16 = words.next().and_then(|p| p.parse().ok()).expect("port");
        let key = words.next().expect("key").to_owned();
        let pid: i32 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("[mosh-server detached, pid = "))
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no detached line in {stderr:?}"));
        Server {
            port,
            key,
            pid,
            stdout,
            stderr,
        }
    }

    /// Sends `sig` to the daemon.
    pub fn signal(&self, sig: i32) {
        // SAFETY: signalling the daemon this test started.
        unsafe { libc::kill(self.pid, sig) };
    }

    /// Waits up to `limit` for the daemon to exit.
    pub fn wait_exit(&self, limit: Duration) -> bool {
        wait_until(limit, || !alive(self.pid))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if alive(self.pid) {
            // SAFETY: killing the daemon this test started.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
    }
}

/// A tmux server on a private socket, killed on drop.
pub struct Tmux {
    socket: PathBuf,
    _dir: TempDir,
}

impl Tmux {
    /// Starts a detached session of `cols`×`rows` running `script` (a file path)
    /// with `env` in its environment (so secrets never appear in argv).
    pub fn start(script: &Path, cols: u16, rows: u16, env: &[(&str, &str)]) -> Tmux {
        require("tmux");
        let dir = TempDir::new("tmux");
        let socket = dir.path.join("sock");
        let mut c = Command::new("tmux");
        c.arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .arg(script)
            .env("LANG", "C.UTF-8")
            .env_remove("TMUX");
        for (k, v) in env {
            c.env(k, v);
        }
        let st = c.status().expect("tmux");
        assert!(st.success(), "tmux new-session failed");
        let t = Tmux { socket, _dir: dir };
        t.cmd(&["set-option", "-g", "remain-on-exit", "on"]);
        t
    }

    /// Runs a tmux command against this server; returns stdout.
    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types text (literally) into the pane.
    pub fn type_text(&self, text: &str) {
        self.cmd(&["send-keys", "-l", text]);
    }

    /// Sends named keys (e.g. "Enter", "Escape").
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }

    /// The pane's visible text.
    pub fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-J"])
    }

    /// Waits until the screen contains `needle`; panics with the screen if not.
    pub fn expect(&self, needle: &str, limit: Duration) -> String {
        let mut last = String::new();
        let ok = wait_until(limit, || {
            last = self.screen();
            last.contains(needle)
        });
        assert!(ok, "screen never showed {needle:?}; screen was:\n{last}");
        last
    }

    /// The pid of the pane's process (the client script).
    pub fn pane_pid(&self) -> i32 {
        self.cmd(&["list-panes", "-F", "#{pane_pid}"])
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// The pid of the `mosh-client` the pane's script started (0 if none).
    pub fn client_pid(&self) -> i32 {
        let parent = self.pane_pid();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return 0;
        };
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let Some((head, rest)) = stat.rsplit_once(") ") else {
                continue;
            };
            let ppid = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<i32>().ok());
            if ppid == Some(parent) && head.ends_with("(mosh-client") {
                return pid;
            }
        }
        0
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
    }
}

/// Writes an executable script running the stock `mosh-client` against
/// 127.0.0.1:`port`, then printing its exit status. MOSH_KEY comes from the
/// environment.
pub fn client_script(dir: &Path, port: u16) -> PathBuf {
    let client = require("mosh-client");
    let path = dir.join("client.sh");
    let text = format!(
        "#!/bin/sh\nexport LANG=C.UTF-8\n{} 127.0.0.1 {port}\necho \"RC=$?\"\nsleep 60\n",
        client.display()
    );
    std::fs::write(&path, text).expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    path
}

/// The shell prompt of sessions made by [`session`] (set in the temp home's
/// `.profile`; tmux trims the trailing blank, so tests look for this).
pub const PROMPT: &str = "rmosh>";

/// A started server plus the stock client attached to it in tmux.
pub struct Session {
    /// The tmux running the client (dropped first).
    pub tmux: Tmux,
    /// The server daemon.
    pub server: Server,
    /// Scratch directory (home of the session).
    pub dir: TempDir,
}

/// Starts the rmosh server (`extra` options, `env`) and attaches the stock client at `cols`×`rows`.
pub fn session(extra: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Session {
    let dir = TempDir::new("srv");
    let link = mosh_server_link(&dir.path);
    let home = dir.path.join("home");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(home.join(".hushlogin"), "").expect("hushlogin");
    std::fs::write(home.join(".profile"), format!("PS1='{PROMPT} '\n")).expect("profile");
    let home_s = home.to_string_lossy().into_owned();
    let mut all_env: Vec<(&str, &str)> = vec![("HOME", &home_s), ("SHELL", "/bin/sh")];
    all_env.extend_from_slice(env);
    let server = Server::start(&link, extra, &all_env);
    let script = client_script(&dir.path, server.port);
    let tmux = Tmux::start(&script, cols, rows, &[("MOSH_KEY", &server.key)]);
    Session { tmux, server, dir }
}
