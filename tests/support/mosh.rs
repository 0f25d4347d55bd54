//! Mosh servers and clients, Debian's or ours: starting `mosh-server new`
//! (or `rmosh server new`), reading its `MOSH CONNECT <port> <key>` line and
//! detached pid, and the command line that starts a client.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::ports::free_udp_port;
use super::process::{alive, output_within, require, rmosh_bin, signal, wait_until};

/// Which implementation plays a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// Debian's mosh 1.4.0.
    Mosh,
    /// This crate's binary.
    Rmosh,
}

impl Impl {
    /// The argv prefix of this implementation's server.
    pub fn server_argv(self) -> Vec<String> {
        match self {
            Impl::Mosh => vec![require("mosh-server").display().to_string()],
            Impl::Rmosh => vec![rmosh_bin().to_string(), "server".to_string()],
        }
    }

    /// The start of a shell command line that runs this implementation's
    /// client (the caller appends `IP PORT`; the key goes in MOSH_KEY).
    pub fn client_command(self) -> String {
        match self {
            Impl::Mosh => require("mosh-client").display().to_string(),
            Impl::Rmosh => format!("{} client", rmosh_bin()),
        }
    }
}

/// A `mosh-server` symlink to the binary under test inside `dir`, for
/// tests where rmosh must be found under the stock server's name.
pub fn rmosh_as_mosh_server(dir: &Path) -> PathBuf {
    let link = dir.join("mosh-server");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(rmosh_bin(), &link).expect("symlink mosh-server to rmosh");
    link
}

/// `(port, key)` from the `MOSH CONNECT <port> <key>` line of a server's
/// start-up output, if there is one.
pub fn parse_connect(output: &str) -> Option<(u16, String)> {
    output.lines().find_map(|l| {
        let mut w = l.trim().strip_prefix("MOSH CONNECT ")?.split_whitespace();
        Some((w.next()?.parse().ok()?, w.next()?.to_owned()))
    })
}

/// The pid from the `[mosh-server detached, pid = N]` line.
pub fn parse_detached_pid(stderr: &str) -> Option<i32> {
    stderr.lines().find_map(|l| {
        l.trim()
            .strip_prefix("[mosh-server detached, pid = ")?
            .strip_suffix(']')?
            .trim()
            .parse()
            .ok()
    })
}

/// How to start a server: `[wrapper…] SERVER new -i IP -p PORT [args…]`.
pub struct ServerSpec {
    argv: Vec<String>,
    ip: String,
    port: Option<u16>,
    args: Vec<String>,
    env: Vec<(String, Option<String>)>,
}

impl ServerSpec {
    /// `which` on 127.0.0.1, a free port, LANG=C.UTF-8, the user's shell.
    pub fn new(which: Impl) -> ServerSpec {
        ServerSpec::with_argv(which.server_argv())
    }

    /// A server program given by path (e.g. [`rmosh_as_mosh_server`]).
    pub fn program(path: &Path) -> ServerSpec {
        ServerSpec::with_argv(vec![path.display().to_string()])
    }

    fn with_argv(argv: Vec<String>) -> ServerSpec {
        ServerSpec {
            argv,
            ip: "127.0.0.1".into(),
            port: None,
            args: Vec::new(),
            env: vec![("LANG".into(), Some("C.UTF-8".into()))],
        }
    }

    /// Runs the server under `wrapper` (e.g. `ip netns exec NS`).
    pub fn wrapper(mut self, wrapper: &[String]) -> ServerSpec {
        let mut argv = wrapper.to_vec();
        argv.append(&mut self.argv);
        self.argv = argv;
        self
    }

    /// The address to bind (`-i`).
    pub fn ip(mut self, ip: &str) -> ServerSpec {
        self.ip = ip.into();
        self
    }

    /// The port to ask for (`-p`; 0 lets the server choose).
    pub fn port(mut self, port: u16) -> ServerSpec {
        self.port = Some(port);
        self
    }

    /// Options after `new -i IP -p PORT` (may include `--` and a command).
    pub fn args<S: AsRef<str>>(mut self, args: &[S]) -> ServerSpec {
        self.args.extend(args.iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// The command the server runs: `-- command…`.
    pub fn command<S: AsRef<str>>(self, command: &[S]) -> ServerSpec {
        self.args(&["--"]).args(command)
    }

    /// Sets a variable in the server's environment.
    pub fn env(mut self, key: &str, value: &str) -> ServerSpec {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    /// Removes a variable from the server's environment.
    pub fn env_remove(mut self, key: &str) -> ServerSpec {
        self.env.push((key.into(), None));
        self
    }

    /// Starts the server and waits for it to detach; panics with its output
    /// unless it succeeded and printed `MOSH CONNECT` and its pid.
    pub fn start(self) -> Server {
        let port = self.port.unwrap_or_else(free_udp_port);
        let (program, rest) = self.argv.split_first().expect("a server program");
        let mut cmd = Command::new(program);
        cmd.args(rest)
            .args(["new", "-i", &self.ip, "-p", &port.to_string()])
            .args(&self.args);
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let out = output_within(cmd, Duration::from_secs(20), program);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let pid = parse_detached_pid(&stderr);
        // Whatever else fails below, a daemon that did start is killed.
        let guard = pid.map(|pid| Server {
            port: 0,
            key: String::new(),
            pid,
            stdout: String::new(),
            stderr: String::new(),
        });
        assert!(
            out.status.success(),
            "{program} failed ({}): {stdout}\n{stderr}",
            out.status
        );
        let (got_port, key) = parse_connect(&stdout)
            .unwrap_or_else(|| panic!("no MOSH CONNECT line from {program}: {stdout}\n{stderr}"));
        let Some(mut server) = guard else {
            panic!("no detached pid from {program}: {stderr}");
        };
        if port != 0 {
            assert_eq!(got_port, port, "{program} bound another port than asked");
        }
        assert_eq!(key.len(), 22, "session key of 22 characters: {key:?}");
        server.port = got_port;
        server.key = key;
        server.stdout = stdout;
        server.stderr = stderr;
        server
    }
}

/// A detached server daemon; killed (by the pid it printed) on drop.
pub struct Server {
    /// Its UDP port from `MOSH CONNECT`.
    pub port: u16,
    /// The session key from `MOSH CONNECT` (only ever passed on in MOSH_KEY).
    pub key: String,
    /// The daemon's pid.
    pub pid: i32,
    /// Everything the start-up printed on stdout.
    pub stdout: String,
    /// Everything the start-up printed on stderr.
    pub stderr: String,
}

impl Server {
    /// Whether the daemon still runs.
    pub fn alive(&self) -> bool {
        alive(self.pid)
    }

    /// Sends `sig` to the daemon.
    pub fn signal(&self, sig: i32) {
        signal(self.pid, sig);
    }

    /// Waits up to `limit` for the daemon to exit; whether it did.
    pub fn wait_exit(&self, limit: Duration) -> bool {
        wait_until(limit, || !self.alive())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.alive() {
            signal(self.pid, libc::SIGKILL);
        }
    }
}
