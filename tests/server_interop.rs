//! rmosh as the server, Debian's real `mosh-client` as the client, in a
//! private tmux on loopback (spec §12 A). Each test starts its own server on
//! a free port and kills only the pid that server printed.

mod support;

use std::time::Duration;

use support::process::{alive, require, signal, wait_until};
use support::server_session::{PROMPT, prompt_home, session, start_server, stock_client};
use support::tempdir::TempDir;
use support::tmux::{Tmux, View};

const SEC: Duration = Duration::from_secs(1);

#[test]
fn startup_output_is_byte_exact() {
    let s = session(&[], &[], 80, 24);
    assert_eq!(
        s.server.stdout,
        format!("MOSH CONNECT {} {}\n", s.server.port, s.server.key)
    );
    assert_eq!(s.server.key.len(), 22);
    assert_eq!(
        s.server.stderr,
        format!(
            "\nmosh-server (mosh 1.4.0) [build mosh 1.4.0]\n\
Copyright 2012 Keith Winstein <mosh-devel@mit.edu>\n\
License GPLv3+: GNU GPL version 3 or later <http://gnu.org/licenses/gpl.html>.\n\
This is free software: you are free to change and redistribute it.\n\
There is NO WARRANTY, to the extent permitted by law.\n\n\
[mosh-server detached, pid = {}]\n",
            s.server.pid
        )
    );
    assert!(alive(s.server.pid));
}

#[test]
fn login_type_command_then_exit_ends_cleanly() {
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    s.tmux.type_text("echo hel''lo-from-rmosh");
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_text_joined("hello-from-rmosh", 10 * SEC);
    s.tmux.type_text("exit");
    s.tmux.keys(&["Enter"]);
    let screen = s.tmux.wait_text_joined("RC=", 15 * SEC);
    assert!(screen.contains("[mosh is exiting.]"), "{screen}");
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(s.server.wait_exit(5 * SEC), "server still running");
}

#[test]
fn command_is_held_until_the_client_arrives_and_is_a_direct_child() {
    let dir = TempDir::new("held");
    let marker = dir.join("started");
    let script = format!(
        "echo $PPID > {}; echo RUNNING; exec sleep 60",
        marker.display()
    );
    let server = start_server(&dir, &["--", "/bin/sh", "-c", &script], &[]);
    std::thread::sleep(Duration::from_millis(800));
    assert!(!marker.exists(), "command ran before any client connected");
    let tmux = stock_client(server.port, &server.key, 80, 24);
    tmux.wait_text_joined("RUNNING", 10 * SEC);
    let ppid: i32 = std::fs::read_to_string(&marker)
        .expect("marker")
        .trim()
        .parse()
        .expect("pid");
    assert_eq!(ppid, server.pid, "the command's parent must be the server");
}

/// The screen's lines with trailing blanks removed, and no blank lines at the end.
fn screen_lines(screen: &str) -> Vec<String> {
    let mut lines: Vec<String> = screen.lines().map(|l| l.trim_end().to_owned()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Waits until the screen's lines are exactly `want`; panics with the screen if not.
fn expect_screen_lines(tmux: &Tmux, want: &[&str]) {
    tmux.wait_for(&format!("the lines {want:#?}"), 10 * SEC, |s| {
        screen_lines(s) == want
    });
}

#[test]
fn vim_insert_and_quit() {
    require("vim");
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    let file = s.dir.join("home").join("note.txt");
    s.tmux.type_text("vim -u NONE -N note.txt");
    s.tmux.keys(&["Enter"]);
    // vim's own message, not the echo of the command line.
    s.tmux.wait_text_joined("\"note.txt\" [New]", 10 * SEC);
    s.tmux.type_text("ihello from vim");
    s.tmux.wait_text_joined("-- INSERT --", 10 * SEC);
    s.tmux.keys(&["Escape"]);
    s.tmux.type_text(":wq");
    s.tmux.keys(&["Enter"]);
    assert!(
        wait_until(10 * SEC, || std::fs::read_to_string(&file)
            .map(|t| t == "hello from vim\n")
            .unwrap_or(false)),
        "vim did not write the file; screen:\n{}",
        s.tmux.capture(View::Joined)
    );
    // vim writes the file before it exits, and on exit it discards unread
    // input (tcflush TCIFLUSH while leaving termcap mode): keys typed before
    // the shell's prompt is back are lost with any server. The extended
    // emulator gives back the screen from before vim (alternate screen).
    expect_screen_lines(&s.tmux, &["rmosh> vim -u NONE -N note.txt", "rmosh>"]);
    s.tmux.type_text("echo after-vim");
    s.tmux.keys(&["Enter"]);
    expect_screen_lines(
        &s.tmux,
        &[
            "rmosh> vim -u NONE -N note.txt",
            "rmosh> echo after-vim",
            "after-vim",
            "rmosh>",
        ],
    );
}

#[test]
fn alternate_screen_is_left_as_xterm_does_on_a_stock_client() {
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    s.tmux.type_text("echo before-alt");
    s.tmux.keys(&["Enter"]);
    expect_screen_lines(&s.tmux, &["rmosh> echo before-alt", "before-alt", "rmosh>"]);
    s.tmux
        .type_text(r"printf '\033[?1049h\033[Hon-alt'; read x; printf '\033[?1049l'");
    s.tmux.keys(&["Enter"]);
    // The alternate screen reaches the client first (blank but for its text)…
    expect_screen_lines(&s.tmux, &["on-alt"]);
    s.tmux.keys(&["Enter"]);
    // …then the main screen and its cursor come back, as in xterm or tmux
    // (Debian's mosh-server would leave "on-alt" on the screen).
    expect_screen_lines(
        &s.tmux,
        &[
            "rmosh> echo before-alt",
            "before-alt",
            r"rmosh> printf '\033[?1049h\033[Hon-alt'; read x; printf '\033[?1049l'",
            "rmosh>",
        ],
    );
}

#[test]
fn dec_special_graphics_reach_a_stock_client_as_box_drawing() {
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    s.tmux
        .type_text(r"printf '\033(0lqqk\nx  x\nmqqj\033(Bq\n'");
    s.tmux.keys(&["Enter"]);
    expect_screen_lines(
        &s.tmux,
        &[
            r"rmosh> printf '\033(0lqqk\nx  x\nmqqj\033(Bq\n'",
            "┌──┐",
            "│  │",
            "└──┘q",
            "rmosh>",
        ],
    );
}

#[test]
fn terminal_replies_go_to_the_application_not_to_the_client() {
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    // DA1, DA2, DSR 5, DSR 6 (at row 5, column 7) and DECRQM 25: the answers
    // (35 bytes) are read back by the shell and shown with cat -v. A stock
    // mosh-client asserts that no diff makes its emulator answer anything,
    // so it staying alive and drawing the next command proves the queries
    // stayed on the server.
    s.tmux.type_text(
        r"clear; stty raw -echo; printf '\033[5;7H\033[c\033[>c\033[5n\033[6n\033[?25$p'; head -c 35 | cat -v; stty sane; echo",
    );
    s.tmux.keys(&["Enter"]);
    s.tmux
        .wait_text(r"^[[?62c^[[>1;10;0c^[[0n^[[5;7R^[[?25;1$y", 10 * SEC);
    s.tmux.type_text("echo still-alive");
    s.tmux.keys(&["Enter"]);
    let screen = s.tmux.wait_text("\nstill-alive", 10 * SEC);
    assert!(!screen.contains("RC="), "the client exited:\n{screen}");
}

#[test]
fn window_resize_reaches_the_application() {
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    s.tmux.type_text("stty size");
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_text_joined("24 80", 10 * SEC);
    s.tmux.resize(100, 30);
    std::thread::sleep(Duration::from_millis(500));
    s.tmux.type_text("clear; stty size");
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_text_joined("30 100", 10 * SEC);
}

#[test]
fn twenty_megabytes_of_output_then_prompt() {
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    s.tmux.type_text(
        "yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz | head -c 20000000 | wc -c > /dev/null; \
yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz | head -c 20000000; echo; echo BULK-DO''NE",
    );
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_text_joined("BULK-DONE", 90 * SEC);
    // Keystrokes still work after the flood.
    s.tmux.type_text("echo still-resp''onsive");
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_text_joined("still-responsive", 10 * SEC);
}

#[test]
fn application_exit_shuts_down_client_with_status_0() {
    let dir = TempDir::new("appexit");
    let server = start_server(&dir, &["--", "/bin/sh", "-c", "echo bye-now; sleep 1"], &[]);
    let tmux = stock_client(server.port, &server.key, 80, 24);
    let screen = tmux.wait_text_joined("RC=", 15 * SEC);
    assert!(screen.contains("[mosh is exiting.]"), "{screen}");
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(server.wait_exit(5 * SEC), "server still running");
}

#[test]
fn network_timeout_without_client_exits() {
    let dir = TempDir::new("tmout0");
    let server = start_server(
        &dir,
        &["--", "/bin/true"],
        &[("MOSH_SERVER_NETWORK_TMOUT", "1")],
    );
    assert!(alive(server.pid));
    assert!(
        server.wait_exit(5 * SEC),
        "server ignored MOSH_SERVER_NETWORK_TMOUT"
    );
}

#[test]
fn network_timeout_after_client_goes_silent() {
    let s = session(&[], &[("MOSH_SERVER_NETWORK_TMOUT", "4")], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    // Still alive while the client talks (it sends at least every 3 s).
    std::thread::sleep(6 * SEC);
    assert!(alive(s.server.pid), "server timed out a live client");
    let client = s.tmux.client_pid();
    assert!(signal(client, libc::SIGSTOP), "stop mosh-client");
    let gone = s.server.wait_exit(20 * SEC);
    signal(client, libc::SIGCONT);
    assert!(gone, "server did not exit after the network timeout");
}

#[test]
fn sigusr1_shuts_down_and_client_exits_0() {
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    s.server.signal(libc::SIGUSR1);
    let screen = s.tmux.wait_text_joined("RC=", 15 * SEC);
    assert!(screen.contains("[mosh is exiting.]"), "{screen}");
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(s.server.wait_exit(5 * SEC));
}

#[test]
fn sigusr1_is_ignored_before_the_signal_timeout() {
    let s = session(&[], &[("MOSH_SERVER_SIGNAL_TMOUT", "600")], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    s.server.signal(libc::SIGUSR1);
    std::thread::sleep(SEC);
    assert!(
        alive(s.server.pid),
        "SIGUSR1 before the timeout must be ignored"
    );
    s.tmux.type_text("echo still-''here");
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_text_joined("still-here", 10 * SEC);
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    s.server.signal(libc::SIGTERM);
    let screen = s.tmux.wait_text_joined("RC=", 15 * SEC);
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(s.server.wait_exit(5 * SEC));
}

#[test]
fn stock_mosh_wrapper_with_local_rmosh_server() {
    let mosh = require("mosh");
    require("mosh-client");
    let dir = TempDir::new("wrapper");
    let home = prompt_home(&dir);
    let link = support::mosh::rmosh_as_mosh_server(dir.path());
    let home_s = home.to_string_lossy().into_owned();
    let tmux = Tmux::spec(80, 24)
        .env("HOME", &home_s)
        .env("SHELL", "/bin/sh")
        .run(&format!(
            "{} --local --bind-server=127.0.0.1 --server={} 127.0.0.1; echo \"RC=$?\"; sleep 60",
            mosh.display(),
            link.display()
        ));
    tmux.wait_text_joined(PROMPT, 15 * SEC);
    tmux.type_text("echo via-wrap''per; readlink /proc/$PPID/exe");
    tmux.keys(&["Enter"]);
    tmux.wait_text_joined("via-wrapper", 10 * SEC);
    // The shell's parent is our binary, not Debian's mosh-server.
    tmux.wait_text_joined(env!("CARGO_BIN_EXE_rmosh"), 10 * SEC);
    tmux.type_text("exit");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_text_joined("RC=", 15 * SEC);
    assert!(screen.contains("RC=0"), "{screen}");
}

#[test]
fn sigusr1_after_the_signal_timeout_shuts_down() {
    let s = session(&[], &[("MOSH_SERVER_SIGNAL_TMOUT", "2")], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    let client = s.tmux.client_pid();
    assert!(signal(client, libc::SIGSTOP), "stop mosh-client");
    std::thread::sleep(Duration::from_millis(3500));
    assert!(alive(s.server.pid), "server exited without a signal");
    s.server.signal(libc::SIGUSR1);
    let gone = s.server.wait_exit(15 * SEC);
    signal(client, libc::SIGCONT);
    assert!(
        gone,
        "SIGUSR1 after MOSH_SERVER_SIGNAL_TMOUT did not end the server"
    );
}

#[test]
fn ctrl_c_interrupts_an_endless_flood_promptly() {
    let s = session(&[], &[], 80, 24);
    s.tmux.wait_text_joined(PROMPT, 10 * SEC);
    s.tmux.type_text("yes flood-line-for-the-test");
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_text_joined(
        "flood-line-for-the-test\nflood-line-for-the-test\nflood-line-for-the-test",
        10 * SEC,
    );
    std::thread::sleep(SEC);
    let start = std::time::Instant::now();
    s.tmux.keys(&["C-c"]);
    s.tmux.type_text("echo interrupted-''ok");
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_text_joined("interrupted-ok", 15 * SEC);
    assert!(
        start.elapsed() < 10 * SEC,
        "keystrokes took {:?} to get through the flood",
        start.elapsed()
    );
}
