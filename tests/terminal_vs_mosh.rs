//! The recorded programs (tests/corpus) played through Debian's real mosh —
//! `mosh-server` running `cat <recording>`, `mosh-client` in a private tmux
//! on loopback — and through rmosh's Mosh-exact emulator: the screens must
//! agree cell by cell (text and attributes) and on the cursor position.
//! Needs `mosh-server`, `mosh-client` and `tmux`; fails when they are missing.

mod terminal_support;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rmosh::terminal::Emulator;
use terminal_support::{corpus, output, summary, tmux_differences, tmux_screen};

/// A private temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("rmosh-vs-mosh-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills what we started: the tmux server on our socket and the mosh-server pid.
struct Session {
    sock: PathBuf,
    server_pid: Option<i32>,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.sock)
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
        if let Some(pid) = self.server_pid {
            // SAFETY: signalling the mosh-server this test started, by its pid.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
}

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

fn tmux(sock: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("tmux")
        .arg("-S")
        .arg(sock)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("tmux is required: {e}"));
    out.stdout
}

/// Plays `name` through a real mosh session; returns tmux's capture of the
/// mosh-client pane (cursor line first).
fn through_real_mosh(name: &str) -> Vec<u8> {
    let dir = TempDir::new(name);
    let file = corpus(&format!("{name}.out"));
    let port = free_udp_port();
    let server = Command::new("mosh-server")
        .args([
            "new",
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--",
            "sh",
            "-c",
        ])
        // No echo: the emulator's answers to the recording's queries would
        // otherwise come back as output.
        .arg(format!(
            "stty -echo; cat '{}'; exec sleep 60",
            file.display()
        ))
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("mosh-server is required (Debian package mosh): {e}"));
    let stdout = String::from_utf8_lossy(&server.stdout);
    let stderr = String::from_utf8_lossy(&server.stderr);
    let pid = stderr
        .split("pid = ")
        .nth(1)
        .and_then(|s| s.trim_start().split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse::<i32>().ok());
    let sock = dir.0.join("sock");
    let _session = Session {
        sock: sock.clone(),
        server_pid: pid,
    };
    let connect = stdout
        .lines()
        .find(|l| l.starts_with("MOSH CONNECT"))
        .unwrap_or_else(|| panic!("no MOSH CONNECT: {stdout} {stderr}"));
    let mut parts = connect.split_whitespace().skip(2);
    let (Some(port), Some(key)) = (parts.next(), parts.next()) else {
        panic!("bad MOSH CONNECT line")
    };

    let conf = dir.0.join("tmux.conf");
    std::fs::write(
        &conf,
        "set -g default-terminal xterm-256color\nset -g status off\n",
    )
    .expect("conf");
    let status = Command::new("tmux")
        .arg("-S")
        .arg(&sock)
        .arg("-f")
        .arg(&conf)
        .args(["new-session", "-d", "-x", "80", "-y", "24"])
        .arg(format!("mosh-client 127.0.0.1 {port}"))
        // The key travels in the environment only, inherited by the pane.
        .env("MOSH_KEY", key)
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8")
        .env_remove("TMUX")
        .status()
        .unwrap_or_else(|e| panic!("tmux is required: {e}"));
    assert!(status.success(), "tmux new-session failed");

    // Wait until the pane has settled: unchanged for a second.
    let start = Instant::now();
    let mut last = Vec::new();
    let mut stable_since = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(250));
        let now = tmux(&sock, &["capture-pane", "-p", "-e", "-N"]);
        if now != last {
            last = now;
            stable_since = Instant::now();
        } else if !last.iter().all(|b| b.is_ascii_whitespace())
            && stable_since.elapsed() > Duration::from_millis(1200)
        {
            break;
        }
    }
    let mut capture = b"cursor ".to_vec();
    capture.extend(tmux(&sock, &["display", "-p", "#{cursor_y} #{cursor_x}"]));
    capture.extend(tmux(&sock, &["capture-pane", "-p", "-e", "-N"]));
    capture
}

fn compare_with_mosh(name: &str) {
    let capture = through_real_mosh(name);
    let (mosh, cursor) = tmux_screen(&capture, 80, 24, true);
    let mut ours = Emulator::new(80, 24);
    // mosh-server releases the command with a newline on its terminal,
    // which the terminal echoes before the command starts.
    ours.feed(b"\r\n");
    ours.feed(&output(name));
    let fb = ours.framebuffer();
    let d = tmux_differences(fb, &mosh);
    assert!(
        d.is_empty(),
        "{name}: {}\nours:\n{}\nmosh:\n{}",
        summary(&d),
        fb.screen_text(),
        mosh.screen_text()
    );
    let cursor = cursor.map(|(y, x)| (y, x.min(79)));
    assert_eq!(cursor, Some(fb.cursor()), "{name}: cursor");
}

macro_rules! vs_mosh {
    ($($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                compare_with_mosh(stringify!($name));
            }
        )*
    };
}

vs_mosh!(vim, less, man, top, htop, ls, gitlog, python);
