//! Scrollback sync (docs/scrollback.md), rmosh client against rmosh
//! server in a tmux with a large history: what scrolls off the server's
//! screen lands in tmux's own history, in order, exactly once.

mod support;

use std::time::{Duration, Instant};

use support::client_scenarios::{client_pane_command, start_server};
use support::mosh::{Impl, Server};
use support::relay::Relay;
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
    assert!(
        got == want,
        "numbers: {} lines, first differences at {:?}",
        got.len(),
        got.iter().zip(&want).position(|(a, b)| a != b)
    );
    let after: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.starts_with(&end_mark))
        .collect();
    assert!(
        after.get(1).is_some_and(|l| l.trim_end() == "$"),
        "{after:?}"
    );
    assert!(!s.contains("lines of history dropped"), "no gap expected");
}

#[test]
fn seq_20000_lands_in_the_terminal_history_once_in_order() {
    let server = start_server(Impl::Rmosh);
    let t = client(&server, server.port, &[]);
    seq_lands_once_in_order(&t, 20_000, Duration::from_secs(60));
}

#[test]
fn through_a_lossy_reordering_duplicating_relay_with_a_new_client_address() {
    let server = start_server(Impl::Rmosh);
    let mut relay = Relay::start(
        server.port,
        &[
            "--loss",
            "20",
            "--dup",
            "10",
            "--reorder",
            "10",
            "--seed",
            "15",
        ],
    );
    let t = client(&server, relay.addr().port(), &[]);
    t.wait_prompt(Duration::from_secs(30));
    let ack = relay.cmd("rebind");
    assert!(ack.starts_with("ok rebind"), "{ack}");
    seq_lands_once_in_order(&t, 20_000, Duration::from_secs(120));
}

#[test]
fn a_30_second_outage_in_the_middle_of_the_output() {
    let server = start_server(Impl::Rmosh);
    let mut relay = Relay::start(server.port, &[]);
    let t = client(&server, relay.addr().port(), &[]);
    t.wait_prompt(Duration::from_secs(10));
    // 20000 lines over about 10 s; the outage starts after about 2 s.
    t.type_text("seq 1 20000 | while read n; do echo $n; case $n in *000) sleep 0.5;; esac; done; echo END-40000");
    t.keys(&["Enter"]);
    std::thread::sleep(Duration::from_secs(2));
    let ack = relay.cmd("outage 30000");
    assert!(ack.starts_with("ok"), "{ack}");
    let s = wait_all(
        &t,
        "every number after the outage",
        Duration::from_secs(90),
        |s| numbers(s).len() >= 20_000 && s.contains("END-40000"),
    );
    assert_eq!(numbers(&s), (1..=20_000).collect::<Vec<u64>>());
}

#[test]
fn vim_and_less_add_nothing_to_the_history() {
    let server = start_server(Impl::Rmosh);
    let t = client(&server, server.port, &[]);
    seq_lands_once_in_order(&t, 100, Duration::from_secs(30));
    let before = everything(&t, false);
    let lines_before = before.lines().count();
    t.type_text("vim -u NONE -N -n");
    t.keys(&["Enter"]);
    t.wait_for("vim", Duration::from_secs(10), |s| {
        s.lines().filter(|l| l.starts_with('~')).count() >= 10
    });
    t.type_text(":q");
    t.keys(&["Enter"]);
    t.wait_for("the shell after vim", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim_end() == "$")
    });
    t.type_text("echo VIM-$((1+1))");
    t.keys(&["Enter"]);
    t.wait_text("VIM-2", Duration::from_secs(10));
    t.type_text("seq 1000 1100 | less");
    t.keys(&["Enter"]);
    t.wait_text("1020", Duration::from_secs(10));
    t.keys(&["Space"]);
    t.wait_text("1040", Duration::from_secs(10));
    t.type_text("q");
    t.type_text("echo AFTER-$((1+1))");
    t.keys(&["Enter"]);
    t.wait_text("AFTER-2", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    let after = everything(&t, false);
    // The screen's own rows may have scrolled; the history gained none of
    // what vim or less showed.
    assert!(
        !after.contains("1040") && !after.lines().any(|l| l.starts_with('~')),
        "{after}"
    );
    assert!(after.lines().count() <= lines_before + 24, "{after}");
}

#[test]
fn colours_and_attributes_arrive_as_a_plain_run_shows_them() {
    let script = "printf '\\033[1mBOLD\\033[0m \\033[4mUNDER\\033[0m \\033[7mINV\\033[0m \\033[38;5;208mC256\\033[0m \\033[38;2;10;200;30mTRUE\\033[0m\\n'; seq 1 40";
    // The same output in a plain tmux pane.
    let plain = Tmux::spec(80, 24)
        .history_limit(HISTORY)
        .env("TERM", "xterm-256color")
        .run(&format!("{script}; sleep 60"));
    plain.wait_for("the plain run", Duration::from_secs(10), |s| {
        s.contains("40")
    });
    let want = everything(&plain, true);
    let coloured = |l: &&str| l.contains("BOLD") && !l.contains("printf");
    let want = want.lines().find(coloured).unwrap_or_default().to_owned();
    assert!(want.contains("\x1b["), "{want:?}");

    let server = start_server(Impl::Rmosh);
    let t = client(&server, server.port, &[]);
    t.wait_prompt(Duration::from_secs(10));
    t.type_text(script);
    t.keys(&["Enter"]);
    let s = wait_all(
        &t,
        "the coloured line in the history",
        Duration::from_secs(20),
        |s| {
            s.lines()
                .any(|l| l.contains("BOLD") && !l.contains("printf"))
                && numbers(s).len() >= 40
        },
    );
    let _ = s;
    let got = everything(&t, true);
    let got = got.lines().find(coloured).unwrap_or_default().to_owned();
    assert_eq!(got, want);
}

#[test]
fn without_sync_the_client_behaves_as_before() {
    let server = start_server(Impl::Rmosh);
    let t = client(&server, server.port, &[("RMOSH_SCROLLBACK", "0")]);
    t.wait_prompt(Duration::from_secs(10));
    t.type_text("seq 1 500");
    t.keys(&["Enter"]);
    t.wait_text("500", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    // On the alternate screen: tmux keeps no history of it.
    assert!(numbers(&everything(&t, false)).len() < 30);
}
