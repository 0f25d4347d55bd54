//! Scrollback sync (docs/scrollback.md), rmosh client against rmosh
//! server in a tmux with a large history: what scrolls off the server's
//! screen lands in tmux's own history, in order, exactly once.

mod support;

use std::time::{Duration, Instant};

use support::client_scenarios::{client_pane_command, start_server};
use support::mosh::{Impl, Server};
use support::tmux::Tmux;

const HISTORY: usize = 200_000;

/// Our client in a tmux of 80×24 that keeps `HISTORY` lines, toward `port`.
fn client(server: &Server, port: u16, env: &[(&str, &str)]) -> Tmux {
    let mut spec = Tmux::spec(80, 24)
        .history_limit(HISTORY)
        .env("TERM", "xterm-256color")
        .env("MOSH_KEY", &server.key);
    for (k, v) in env {
        spec = spec.env(k, v);
    }
    spec.run(&client_pane_command(&Impl::Rmosh.client_command(), port))
}

/// Everything tmux holds for the pane, history first (`capture-pane -S -`).
fn everything(t: &Tmux, attributes: bool) -> String {
    let mut args = vec!["capture-pane", "-p", "-S", "-"];
    if attributes {
        args.push("-e");
    }
    t.cmd(&args)
}

/// Waits until the pane's whole text satisfies `pred`; returns it.
fn wait_all(t: &Tmux, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + timeout;
    loop {
        let s = everything(t, false);
        if pred(&s) {
            return s;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}:\n{s}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The pane's lines that are numbers, in order.
fn numbers(s: &str) -> Vec<u64> {
    s.lines()
        .filter_map(|l| l.trim_end().parse::<u64>().ok())
        .collect()
}

/// Runs `seq 1 n` then `echo END-n`, waits until the history holds all of
/// it, and checks: each number exactly once, in order, then the prompt.
fn seq_lands_once_in_order(t: &Tmux, n: u64, timeout: Duration) {
    t.wait_prompt(Duration::from_secs(10));
    t.type_text(&format!("seq 1 {n}; echo END-$((2*{n}))"));
    t.keys(&["Enter"]);
    let end_mark = format!("END-{}", 2 * n);
    let s = wait_all(t, "every number in the history", timeout, |s| {
        numbers(s).len() as u64 >= n && s.contains(&end_mark)
    });
    let got = numbers(&s);
    let want: Vec<u64> = (1..=n).collect();
    assert!(got == want, "numbers: {} lines, first differences at {:?}", got.len(),
        got.iter().zip(&want).position(|(a, b)| a != b));
    let after: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.starts_with(&end_mark))
        .collect();
    assert!(after.get(1).is_some_and(|l| l.trim_end() == "$"), "{after:?}");
    assert!(!s.contains("lines of history dropped"), "no gap expected");
}

#[test]
fn seq_20000_lands_in_the_terminal_history_once_in_order() {
    let server = start_server(Impl::Rmosh);
    let t = client(&server, server.port, &[]);
    seq_lands_once_in_order(&t, 20_000, Duration::from_secs(60));
}
