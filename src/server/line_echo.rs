//! Evidence that a raw-mode line editor echoes what is typed (bash and
//! zsh's line editors, Python's REPL): the server writes every key to the
//! pty and reads what the application prints back. When the output that
//! follows a printable key begins with that key, the application echoed it
//! at the cursor. The terminal state it did so in (foreground process
//! group, raw mode without kernel echo) is remembered; the report is true
//! while the pty is back in exactly that state, output has settled, and no
//! printable key since went without its echo. A password prompt changes
//! the state (`read -s`, getpass, sudo and ssh turn the kernel's echo off
//! in canonical mode, or run in another process group), and an application
//! that stops echoing (vim's normal mode) loses the evidence with the first
//! key it does not echo. See docs/prediction.md.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A printable key not echoed within this long went without its echo.
pub const ECHO_WAIT: Duration = Duration::from_millis(50);
/// Most printable keys awaiting their echo.
const EXPECT_MAX: usize = 64;

/// The pty's state as far as echo is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtyState {
    /// Foreground process group of the pty.
    pub pgrp: i32,
    /// Canonical mode and the kernel's echo both off (the application
    /// reads key by key and echoes, or not, itself).
    pub raw_no_echo: bool,
}

/// The line-echo evidence of one session.
#[derive(Debug, Default)]
pub struct LineEcho {
    /// Printable bytes written and not yet seen echoed.
    expect: VecDeque<(u8, Instant)>,
    /// Output began with the echo of a key since the last report, with no
    /// other key written in between.
    echoed: bool,
    /// A printable key went without its echo since the last report.
    lost: bool,
    /// The state in which the application was last seen echoing.
    proven: Option<TtyState>,
}

impl LineEcho {
    /// A key byte was written to the pty at `now`.
    pub fn key_written(&mut self, b: u8, now: Instant) {
        if (0x20..0x7f).contains(&b) {
            if self.expect.len() >= EXPECT_MAX {
                self.expect.pop_front();
                self.lost = true;
            }
            self.expect.push_back((b, now));
        } else {
            // What follows Enter, a control key or an escape sequence is
            // not an echo, and may come from another state: an echo seen
            // before it is not credited to the state sampled after it.
            self.echoed = false;
        }
    }

    /// The application printed `bytes` at `now`.
    pub fn output(&mut self, bytes: &[u8], now: Instant) {
        self.expire(now);
        let Some(&(first, _)) = self.expect.front() else {
            return;
        };
        if bytes.first() != Some(&first) {
            self.lost = true;
            self.expect.clear();
            return;
        }
        let n = bytes
            .iter()
            .zip(self.expect.iter())
            .take_while(|(b, (e, _))| *b == e)
            .count();
        self.expect.drain(..n);
        self.echoed = true;
    }

    fn expire(&mut self, now: Instant) {
        if self
            .expect
            .front()
            .is_some_and(|&(_, t)| now.saturating_duration_since(t) > ECHO_WAIT)
        {
            self.lost = true;
            self.expect.clear();
        }
    }

    /// The report for a frame sent at `now`: `state` is the pty's state,
    /// sampled only once output has settled (`None` before that).
    pub fn report(&mut self, state: Option<TtyState>, now: Instant) -> bool {
        self.expire(now);
        if std::mem::take(&mut self.lost) {
            self.proven = None;
            self.echoed = false;
        }
        let Some(state) = state.filter(|s| s.raw_no_echo) else {
            return false;
        };
        if std::mem::take(&mut self.echoed) {
            self.proven = Some(state);
        }
        self.expect.is_empty() && self.proven == Some(state)
    }

    /// Whether a state sample is needed for the next report.
    pub fn wants_sample(&self) -> bool {
        self.echoed || self.proven.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASH: TtyState = TtyState {
        pgrp: 10,
        raw_no_echo: true,
    };

    fn echoing(t: Instant) -> LineEcho {
        let mut e = LineEcho::default();
        e.key_written(b'l', t);
        e.output(b"l", t);
        assert!(e.report(Some(BASH), t));
        e
    }

    #[test]
    fn an_echoed_key_proves_the_state_and_a_new_prompt_in_it_keeps_the_proof() {
        let t = Instant::now();
        let mut e = LineEcho::default();
        assert!(!e.report(Some(BASH), t), "nothing typed yet");
        e.key_written(b'l', t);
        assert!(!e.report(Some(BASH), t), "echo still awaited");
        e.output(b"l", t);
        assert!(e.report(Some(BASH), t));
        e.key_written(b'\r', t);
        e.output(b"\r\nfile\r\n$ ", t);
        assert!(!e.report(None, t), "not settled");
        assert!(e.report(Some(BASH), t), "back at the line editor");
        // Inserting mid-line: the key, then the redrawn tail.
        e.key_written(b'x', t);
        e.output(b"xyz\x08\x08", t);
        assert!(e.report(Some(BASH), t));
    }

    #[test]
    fn a_password_prompt_in_canonical_mode_or_another_process_is_no_evidence() {
        let t = Instant::now();
        let mut e = echoing(t);
        e.key_written(b'\r', t);
        e.output(b"\r\nPassword: ", t);
        let read_s = TtyState {
            pgrp: 10,
            raw_no_echo: false,
        };
        assert!(!e.report(Some(read_s), t), "read -s / getpass");
        let sudo = TtyState {
            pgrp: 11,
            raw_no_echo: true,
        };
        assert!(!e.report(Some(sudo), t), "another program");
    }

    #[test]
    fn a_key_without_its_echo_loses_the_evidence_at_once() {
        let t = Instant::now();
        let mut e = echoing(t);
        // vim's normal mode: `h` moves the cursor.
        e.key_written(b'h', t);
        e.output(b"\x1b[1;3H", t);
        assert!(!e.report(Some(BASH), t));
        assert!(!e.report(Some(BASH), t), "stays lost");
        let mut e = echoing(t);
        // No output at all (a raw-mode program reading a secret).
        e.key_written(b's', t);
        assert!(!e.report(Some(BASH), t), "awaiting the echo");
        assert!(!e.report(Some(BASH), t + ECHO_WAIT + Duration::from_millis(1)));
        e.output(b"late", t + Duration::from_millis(60));
        assert!(!e.report(Some(BASH), t + Duration::from_millis(60)));
    }

    #[test]
    fn an_echo_is_not_credited_to_the_state_after_enter() {
        let t = Instant::now();
        let mut e = LineEcho::default();
        e.key_written(b'a', t);
        e.output(b"a", t);
        e.key_written(b'\r', t);
        let other = TtyState {
            pgrp: 12,
            raw_no_echo: true,
        };
        assert!(!e.report(Some(other), t));
        assert!(!e.wants_sample());
    }
}
