//! A private tmux server (its own socket in its own temp dir) with one
//! detached window: start a command in it, type, capture, wait for text.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::process::require;
use super::tempdir::TempDir;

/// What a capture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The visible text (`capture-pane -p`).
    Plain,
    /// The text with wrapped lines joined (`-p -J`).
    Joined,
    /// The text with attributes as escape sequences (`-p -e`).
    Attributed,
    /// As `Attributed`, keeping trailing blanks (`-p -e -N`).
    AttributedFull,
}

/// How to start the tmux server: size, environment, pane TERM.
pub struct TmuxSpec {
    cols: u16,
    rows: u16,
    env: Vec<(String, String)>,
    term: Option<String>,
    history_limit: Option<usize>,
}

impl TmuxSpec {
    /// Sets a variable in the pane's environment (secrets go here, not in argv).
    pub fn env(mut self, key: &str, value: &str) -> TmuxSpec {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The pane's TERM (tmux's `default-terminal`) instead of tmux's own.
    pub fn term(mut self, term: &str) -> TmuxSpec {
        self.term = Some(term.into());
        self
    }

    /// Lines the pane keeps in its history (tmux's `history-limit`).
    pub fn history_limit(mut self, lines: usize) -> TmuxSpec {
        self.history_limit = Some(lines);
        self
    }

    /// Starts `command` (run by the shell) in a detached window. The pane
    /// stays after the command exits, so its end can be inspected.
    pub fn run(self, command: &str) -> Tmux {
        let tmux = require("tmux");
        let dir = TempDir::new("tmux");
        let socket = dir.join("sock");
        let conf = dir.join("tmux.conf");
        let mut text = String::from("set -g status off\n");
        if let Some(n) = self.history_limit {
            text.push_str(&format!("set -g history-limit {n}\n"));
        }
        if let Some(term) = &self.term {
            text.push_str(&format!("set -g default-terminal {term}\n"));
        }
        std::fs::write(&conf, text).expect("write tmux.conf");
        let mut c = Command::new(&tmux);
        c.arg("-S")
            .arg(&socket)
            .arg("-f")
            .arg(&conf)
            .args(["new-session", "-d", "-x"])
            .arg(self.cols.to_string())
            .arg("-y")
            .arg(self.rows.to_string())
            .arg(command)
            .env("LANG", "C.UTF-8")
            .env_remove("TMUX");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let st = c.status().expect("run tmux");
        assert!(st.success(), "tmux new-session failed");
        let t = Tmux {
            tmux,
            socket,
            _dir: dir,
        };
        t.cmd(&["set-option", "-g", "remain-on-exit", "on"]);
        t
    }
}

/// A tmux server on a private socket; killed (and its folder removed) on drop.
pub struct Tmux {
    tmux: std::path::PathBuf,
    socket: std::path::PathBuf,
    _dir: TempDir,
}

impl Tmux {
    /// A window of `cols`×`rows` to be started with [`TmuxSpec::run`].
    pub fn spec(cols: u16, rows: u16) -> TmuxSpec {
        TmuxSpec {
            cols,
            rows,
            env: Vec::new(),
            term: None,
            history_limit: None,
        }
    }

    /// Runs a tmux command on this server; returns its stdout.
    pub fn cmd(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.cmd_bytes(args)).into_owned()
    }

    /// Runs a tmux command on this server; returns its stdout as bytes.
    pub fn cmd_bytes(&self, args: &[&str]) -> Vec<u8> {
        Command::new(&self.tmux)
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
            .stdout
    }

    /// Types literal text (no key names; text may start with `-`).
    pub fn type_text(&self, text: &str) {
        self.cmd(&["send-keys", "-l", "--", text]);
    }

    /// Sends keys by tmux name (e.g. `Enter`, `Escape`, `C-c`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }

    /// Sends raw bytes.
    pub fn bytes(&self, bytes: &[u8]) {
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut args = vec!["send-keys", "-H"];
        args.extend(hex.iter().map(String::as_str));
        self.cmd(&args);
    }

    /// The pane as `view` shows it.
    pub fn capture(&self, view: View) -> String {
        let flags: &[&str] = match view {
            View::Plain => &["capture-pane", "-p"],
            View::Joined => &["capture-pane", "-p", "-J"],
            View::Attributed => &["capture-pane", "-p", "-e"],
            View::AttributedFull => &["capture-pane", "-p", "-e", "-N"],
        };
        self.cmd(flags)
    }

    /// The pane's visible text.
    pub fn text(&self) -> String {
        self.capture(View::Plain)
    }

    /// The visible screen, one string per row.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// Waits until `pred` holds for the capture in `view`; returns that
    /// capture, or panics with the screen naming `what`.
    pub fn wait_for_in(
        &self,
        view: View,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let end = Instant::now() + timeout;
        loop {
            let s = self.capture(view);
            if pred(&s) {
                return s;
            }
            if Instant::now() > end {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `pred` holds for the visible text.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        self.wait_for_in(View::Plain, what, timeout, pred)
    }

    /// Waits until the visible text contains `needle`.
    pub fn wait_text(&self, needle: &str, timeout: Duration) -> String {
        self.wait_for(needle, timeout, |s| s.contains(needle))
    }

    /// Waits until the text with wrapped lines joined contains `needle`.
    pub fn wait_text_joined(&self, needle: &str, timeout: Duration) -> String {
        self.wait_for_in(View::Joined, needle, timeout, |s| s.contains(needle))
    }

    /// Waits for a line ending in the shell prompt `$` (capture trims the blank after it).
    pub fn wait_prompt(&self, timeout: Duration) -> String {
        self.wait_for("a prompt", timeout, |s| {
            s.lines().any(|l| l.trim_end().ends_with('$'))
        })
    }

    /// The capture in `view` once `ready` holds for it and it stopped
    /// changing for `quiet` (late frames settle), polling every `every`; the
    /// last capture when `limit` passes first.
    pub fn settled(
        &self,
        view: View,
        every: Duration,
        quiet: Duration,
        limit: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        let mut last = self.capture(view);
        let mut stable_since = Instant::now();
        while start.elapsed() < limit {
            std::thread::sleep(every);
            let now = self.capture(view);
            if now != last {
                last = now;
                stable_since = Instant::now();
            } else if ready(&last) && stable_since.elapsed() >= quiet {
                break;
            }
        }
        last
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

    /// The cursor as `x,y,visible`.
    pub fn cursor(&self) -> String {
        self.cmd(&[
            "display-message",
            "-p",
            "#{cursor_x},#{cursor_y},#{cursor_flag}",
        ])
        .trim()
        .to_owned()
    }

    /// The pane's title (set by OSC 0/2).
    pub fn pane_title(&self) -> String {
        self.cmd(&["display-message", "-p", "#{pane_title}"])
            .trim()
            .to_owned()
    }

    /// Whether the pane's command has exited.
    pub fn pane_dead(&self) -> bool {
        self.cmd(&["display-message", "-p", "#{pane_dead}"]).trim() == "1"
    }

    /// The pid of the pane's first child process (the client the pane's
    /// shell command started); panics if there is none.
    pub fn client_pid(&self) -> i32 {
        let shell = self.cmd(&["display-message", "-p", "#{pane_pid}"]);
        let shell = shell.trim();
        std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no client process under pane pid {shell}"))
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
