//! The `rmosh-relay` impairment relay in front of a server, driven through
//! its stdin command protocol.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::process::relay_bin;

/// A running relay; killed on drop.
pub struct Relay {
    /// The port clients send to (on 127.0.0.1).
    pub port: u16,
    child: Child,
    stdin: ChildStdin,
    replies: mpsc::Receiver<String>,
}

impl Relay {
    /// Starts the relay toward 127.0.0.1:`server_port` with extra `args`.
    pub fn start(server_port: u16, args: &[&str]) -> Relay {
        Relay::start_to(SocketAddr::from(([127, 0, 0, 1], server_port)), args)
    }

    /// Starts the relay toward `server` with extra `args`; it prints its port first.
    pub fn start_to(server: SocketAddr, args: &[&str]) -> Relay {
        let mut child = Command::new(relay_bin())
            .args(["--listen", "127.0.0.1:0", "--server", &server.to_string()])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start rmosh-relay");
        let stdin = child.stdin.take().expect("relay stdin");
        let mut reader = BufReader::new(child.stdout.take().expect("relay stdout"));
        let mut line = String::new();
        reader.read_line(&mut line).expect("relay port line");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("relay did not print its port: {line:?}"));
        // Replies go through a channel, so a lost reply fails the test in
        // time instead of blocking it.
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            let mut l = String::new();
            while reader.read_line(&mut l).is_ok_and(|n| n > 0) {
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

    /// The address clients send to.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Sends one command (e.g. `outage 5000`); returns its reply line.
    pub fn cmd(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").expect("send a relay command");
        let _ = self.stdin.flush();
        self.replies
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("no reply from the relay to {line:?}"))
    }

    /// One counter from `stats` (e.g. `down.delivered`).
    pub fn stat(&mut self, name: &str) -> u64 {
        stat(&self.cmd("stats"), name)
    }

    /// Waits for the next server → client datagram to be delivered; returns when it was seen.
    pub fn wait_server_datagram(&mut self, timeout: Duration) -> Instant {
        let start = self.stat("down.delivered");
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.stat("down.delivered") > start {
                return Instant::now();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no server datagram through the relay within {timeout:?}");
    }

    /// Waits for the relay to exit (after `quit`).
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("wait for the relay")
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One counter from a `stats` reply line (`stats key=value …`).
pub fn stat(line: &str, name: &str) -> u64 {
    let prefix = format!("{name}=");
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(prefix.as_str()))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
}
