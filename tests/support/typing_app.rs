//! The typing application of the reliability tests: a raw-mode program
//! that logs and echoes every byte it reads, the server and client that
//! reach it, and the checks that every keystroke arrived exactly once, in
//! order, and that the client's screen equals the server's.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::mosh::{Impl, Server, ServerSpec};
use super::process::require;
use super::tempdir::TempDir;
use super::tmux::Tmux;

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
    let script = dir.join("app.pl");
    std::fs::write(&script, APP).expect("write the application");
    let log = dir.join("typed.log");
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
    expected_screen_from(typed, true)
}

/// The server-side screen for `typed`; `release_row`: the blank first row
/// Mosh's server leaves (the echo of the newline that releases the
/// command). rmosh's server releases it through a pipe and leaves none.
pub fn expected_screen_from(typed: &[u8], release_row: bool) -> Vec<String> {
    let mut lines = vec!["READY".to_string()];
    if release_row {
        lines.insert(0, String::new());
    }
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

/// Starts `side`'s server with the application `command` on `ip`,
/// optionally under `wrapper` (e.g. `ip netns exec NS`).
pub fn start_server(side: Impl, command: &[String], ip: &str, wrapper: &[String]) -> Server {
    ServerSpec::new(side)
        .wrapper(wrapper)
        .ip(ip)
        .port(0)
        .command(command)
        .env("LC_ALL", "C.UTF-8")
        .env_remove("MOSH_KEY")
        .start()
}

/// Starts `side`'s client (80×24, in tmux) toward `ip`:`port` with the key
/// in MOSH_KEY; `wrapper` prefixes its command (e.g. `ip netns exec NS`).
pub fn start_client(side: Impl, ip: &str, port: u16, key: &str, wrapper: &str) -> Tmux {
    Tmux::spec(80, 24)
        .term("xterm-256color")
        .env("LC_ALL", "C.UTF-8")
        .env("MOSH_KEY", key)
        .run(&format!(
            "{wrapper} {} {ip} {port}; echo CLIENT-EXIT rc=$?; sleep 600",
            side.client_command()
        ))
}

/// Whether the client process has exited (the pane printed its code).
pub fn client_exited(client: &Tmux) -> bool {
    client.text().contains("CLIENT-EXIT")
}

/// Waits until the application shows on the client.
pub fn wait_ready(client: &Tmux) {
    client.wait_text("READY", Duration::from_secs(20));
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
pub fn assert_screens_agree(client: &Tmux, typed: &[u8], timeout: Duration) {
    // Either server's layout: Mosh's (a blank release row) or rmosh's (none);
    // tests/server_interop.rs pins rmosh's to row 0.
    let want = expected_screen(typed);
    let want_rmosh = expected_screen_from(typed, false);
    let t = Instant::now();
    loop {
        let got = normalize(client.lines());
        if got == want || got == want_rmosh {
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
    pub fn start(server: Impl, tag: &str) -> Session {
        let dir = TempDir::new(tag);
        let (cmd, log) = app_command(&dir);
        let server = start_server(server, &cmd, "127.0.0.1", &[]);
        Session { dir, server, log }
    }

    /// Starts a client toward `port` and waits for the application.
    pub fn client(&self, side: Impl, port: u16) -> Tmux {
        let c = start_client(side, "127.0.0.1", port, &self.server.key, "");
        wait_ready(&c);
        c
    }
}

/// Types `keys` in chunks of `chunk` with `pause` between chunks.
pub fn type_paced(client: &Tmux, keys: &[u8], chunk: usize, pause: Duration) {
    for c in keys.chunks(chunk) {
        client.type_text(&String::from_utf8_lossy(c));
        thread::sleep(pause);
    }
}
