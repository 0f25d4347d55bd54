//! rmosh as the server, Debian's real `mosh-client` as the client, in a
//! private tmux on loopback (spec §12 A). Each test starts its own server on
//! a free port and kills only the pid that server printed.

mod server_support;

use std::time::Duration;

use server_support::{PROMPT, alive, session, wait_until};

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
    s.tmux.expect(PROMPT, 10 * SEC);
    s.tmux.type_text("echo hel''lo-from-rmosh");
    s.tmux.keys(&["Enter"]);
    s.tmux.expect("hello-from-rmosh", 10 * SEC);
    s.tmux.type_text("exit");
    s.tmux.keys(&["Enter"]);
    let screen = s.tmux.expect("RC=", 15 * SEC);
    assert!(screen.contains("[mosh is exiting.]"), "{screen}");
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(s.server.wait_exit(5 * SEC), "server still running");
}

#[test]
fn command_is_held_until_the_client_arrives_and_is_a_direct_child() {
    let dir = server_support::TempDir::new("held");
    let marker = dir.path.join("started");
    let script = format!(
        "echo $PPID > {}; echo RUNNING; exec sleep 60",
        marker.display()
    );
    let link = server_support::mosh_server_link(&dir.path);
    let server = server_support::Server::start(&link, &["--", "/bin/sh", "-c", &script], &[]);
    std::thread::sleep(Duration::from_millis(800));
    assert!(!marker.exists(), "command ran before any client connected");
    let client = server_support::client_script(&dir.path, server.port);
    let tmux = server_support::Tmux::start(&client, 80, 24, &[("MOSH_KEY", &server.key)]);
    tmux.expect("RUNNING", 10 * SEC);
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

/// Waits until the screen's lines are exactly `want` (after the blank first
/// line: the echo of the newline that releases the command).
fn expect_lines(s: &server_support::Session, want: &[&str]) {
    let want: Vec<&str> = std::iter::once("").chain(want.iter().copied()).collect();
    expect_screen_lines(s, &want);
}

/// Waits until the screen's lines are exactly `want`; panics with the screen if not.
fn expect_screen_lines(s: &server_support::Session, want: &[&str]) {
    let mut last = String::new();
    let ok = wait_until(10 * SEC, || {
        last = s.tmux.screen();
        screen_lines(&last) == want
    });
    assert!(ok, "screen never became {want:#?}; screen was:\n{last}");
}

#[test]
fn vim_insert_and_quit() {
    server_support::require("vim");
    let s = session(&[], &[], 80, 24);
    s.tmux.expect(PROMPT, 10 * SEC);
    let file = s.dir.path.join("home").join("note.txt");
    s.tmux.type_text("vim -u NONE -N note.txt");
    s.tmux.keys(&["Enter"]);
    // vim's own message, not the echo of the command line.
    s.tmux.expect("\"note.txt\" [New]", 10 * SEC);
    s.tmux.type_text("ihello from vim");
    s.tmux.expect("-- INSERT --", 10 * SEC);
    s.tmux.keys(&["Escape"]);
    s.tmux.type_text(":wq");
    s.tmux.keys(&["Enter"]);
    assert!(
        wait_until(10 * SEC, || std::fs::read_to_string(&file)
            .map(|t| t == "hello from vim\n")
            .unwrap_or(false)),
        "vim did not write the file; screen:\n{}",
        s.tmux.screen()
    );
    // vim writes the file before it exits, and on exit it discards unread
    // input (tcflush TCIFLUSH while leaving termcap mode): keys typed before
    // the shell's prompt is back are lost with any server. The extended
    // emulator gives back the screen from before vim (alternate screen).
    expect_lines(&s, &["rmosh> vim -u NONE -N note.txt", "rmosh>"]);
    s.tmux.type_text("echo after-vim");
    s.tmux.keys(&["Enter"]);
    expect_lines(
        &s,
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
    s.tmux.expect(PROMPT, 10 * SEC);
    s.tmux.type_text("echo before-alt");
    s.tmux.keys(&["Enter"]);
    expect_lines(&s, &["rmosh> echo before-alt", "before-alt", "rmosh>"]);
    s.tmux
        .type_text(r"printf '\033[?1049h\033[Hon-alt'; read x; printf '\033[?1049l'");
    s.tmux.keys(&["Enter"]);
    // The alternate screen reaches the client first (blank but for its text)…
    expect_screen_lines(&s, &["on-alt"]);
    s.tmux.keys(&["Enter"]);
    // …then the main screen and its cursor come back, as in xterm or tmux
    // (Debian's mosh-server would leave "on-alt" on the screen).
    expect_lines(
        &s,
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
    s.tmux.expect(PROMPT, 10 * SEC);
    s.tmux
        .type_text(r"printf '\033(0lqqk\nx  x\nmqqj\033(Bq\n'");
    s.tmux.keys(&["Enter"]);
    expect_lines(
        &s,
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
    s.tmux.expect(PROMPT, 10 * SEC);
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
        .expect(r"^[[?62c^[[>1;10;0c^[[0n^[[5;7R^[[?25;1$y", 10 * SEC);
    s.tmux.type_text("echo still-alive");
    s.tmux.keys(&["Enter"]);
    let screen = s.tmux.expect("\nstill-alive", 10 * SEC);
    assert!(!screen.contains("RC="), "the client exited:\n{screen}");
}

#[test]
fn window_resize_reaches_the_application() {
    let s = session(&[], &[], 80, 24);
    s.tmux.expect(PROMPT, 10 * SEC);
    s.tmux.type_text("stty size");
    s.tmux.keys(&["Enter"]);
    s.tmux.expect("24 80", 10 * SEC);
    s.tmux.cmd(&["resize-window", "-x", "100", "-y", "30"]);
    std::thread::sleep(Duration::from_millis(500));
    s.tmux.type_text("clear; stty size");
    s.tmux.keys(&["Enter"]);
    s.tmux.expect("30 100", 10 * SEC);
}

#[test]
fn twenty_megabytes_of_output_then_prompt() {
    let s = session(&[], &[], 80, 24);
    s.tmux.expect(PROMPT, 10 * SEC);
    s.tmux.type_text(
        "yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz | head -c 20000000 | wc -c > /dev/null; \
yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz | head -c 20000000; echo; echo BULK-DO''NE",
    );
    s.tmux.keys(&["Enter"]);
    s.tmux.expect("BULK-DONE", 90 * SEC);
    // Keystrokes still work after the flood.
    s.tmux.type_text("echo still-resp''onsive");
    s.tmux.keys(&["Enter"]);
    s.tmux.expect("still-responsive", 10 * SEC);
}

#[test]
fn application_exit_shuts_down_client_with_status_0() {
    let dir = server_support::TempDir::new("appexit");
    let link = server_support::mosh_server_link(&dir.path);
    let server = server_support::Server::start(
        &link,
        &["--", "/bin/sh", "-c", "echo bye-now; sleep 1"],
        &[],
    );
    let client = server_support::client_script(&dir.path, server.port);
    let tmux = server_support::Tmux::start(&client, 80, 24, &[("MOSH_KEY", &server.key)]);
    let screen = tmux.expect("RC=", 15 * SEC);
    assert!(screen.contains("[mosh is exiting.]"), "{screen}");
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(server.wait_exit(5 * SEC), "server still running");
}

#[test]
fn network_timeout_without_client_exits() {
    let dir = server_support::TempDir::new("tmout0");
    let link = server_support::mosh_server_link(&dir.path);
    let server = server_support::Server::start(
        &link,
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
    s.tmux.expect(PROMPT, 10 * SEC);
    // Still alive while the client talks (it sends at least every 3 s).
    std::thread::sleep(6 * SEC);
    assert!(alive(s.server.pid), "server timed out a live client");
    let client = s.tmux.client_pid();
    assert!(client > 0, "mosh-client not found");
    // SAFETY: stopping the mosh-client this test started.
    unsafe { libc::kill(client, libc::SIGSTOP) };
    let gone = s.server.wait_exit(20 * SEC);
    // SAFETY: resuming the client stopped above.
    unsafe { libc::kill(client, libc::SIGCONT) };
    assert!(gone, "server did not exit after the network timeout");
}

#[test]
fn sigusr1_shuts_down_and_client_exits_0() {
    let s = session(&[], &[], 80, 24);
    s.tmux.expect(PROMPT, 10 * SEC);
    s.server.signal(libc::SIGUSR1);
    let screen = s.tmux.expect("RC=", 15 * SEC);
    assert!(screen.contains("[mosh is exiting.]"), "{screen}");
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(s.server.wait_exit(5 * SEC));
}

#[test]
fn sigusr1_is_ignored_before_the_signal_timeout() {
    let s = session(&[], &[("MOSH_SERVER_SIGNAL_TMOUT", "600")], 80, 24);
    s.tmux.expect(PROMPT, 10 * SEC);
    s.server.signal(libc::SIGUSR1);
    std::thread::sleep(SEC);
    assert!(
        alive(s.server.pid),
        "SIGUSR1 before the timeout must be ignored"
    );
    s.tmux.type_text("echo still-''here");
    s.tmux.keys(&["Enter"]);
    s.tmux.expect("still-here", 10 * SEC);
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let s = session(&[], &[], 80, 24);
    s.tmux.expect(PROMPT, 10 * SEC);
    s.server.signal(libc::SIGTERM);
    let screen = s.tmux.expect("RC=", 15 * SEC);
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(s.server.wait_exit(5 * SEC));
}

#[test]
fn stock_mosh_wrapper_with_local_rmosh_server() {
    let mosh = server_support::require("mosh");
    server_support::require("mosh-client");
    let dir = server_support::TempDir::new("wrapper");
    let link = server_support::mosh_server_link(&dir.path);
    let home = dir.path.join("home");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(home.join(".hushlogin"), "").expect("hushlogin");
    std::fs::write(home.join(".profile"), format!("PS1='{PROMPT} '\n")).expect("profile");
    let script = dir.path.join("wrapper.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{} --local --bind-server=127.0.0.1 --server={} 127.0.0.1\necho \"RC=$?\"\nsleep 60\n",
            mosh.display(),
            link.display()
        ),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let home_s = home.to_string_lossy().into_owned();
    let tmux =
        server_support::Tmux::start(&script, 80, 24, &[("HOME", &home_s), ("SHELL", "/bin/sh")]);
    tmux.expect(PROMPT, 15 * SEC);
    tmux.type_text("echo via-wrap''per; readlink /proc/$PPID/exe");
    tmux.keys(&["Enter"]);
    tmux.expect("via-wrapper", 10 * SEC);
    // The shell's parent is our binary, not Debian's mosh-server.
    tmux.expect(env!("CARGO_BIN_EXE_rmosh"), 10 * SEC);
    tmux.type_text("exit");
    tmux.keys(&["Enter"]);
    let screen = tmux.expect("RC=", 15 * SEC);
    assert!(screen.contains("RC=0"), "{screen}");
}

#[test]
fn sigusr1_after_the_signal_timeout_shuts_down() {
    let s = session(&[], &[("MOSH_SERVER_SIGNAL_TMOUT", "2")], 80, 24);
    s.tmux.expect(PROMPT, 10 * SEC);
    let client = s.tmux.client_pid();
    assert!(client > 0, "mosh-client not found");
    // SAFETY: stopping the mosh-client this test started.
    unsafe { libc::kill(client, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_millis(3500));
    assert!(alive(s.server.pid), "server exited without a signal");
    s.server.signal(libc::SIGUSR1);
    let gone = s.server.wait_exit(15 * SEC);
    // SAFETY: resuming the client stopped above.
    unsafe { libc::kill(client, libc::SIGCONT) };
    assert!(
        gone,
        "SIGUSR1 after MOSH_SERVER_SIGNAL_TMOUT did not end the server"
    );
}

#[test]
fn ctrl_c_interrupts_an_endless_flood_promptly() {
    let s = session(&[], &[], 80, 24);
    s.tmux.expect(PROMPT, 10 * SEC);
    s.tmux.type_text("yes flood-line-for-the-test");
    s.tmux.keys(&["Enter"]);
    s.tmux.expect(
        "flood-line-for-the-test\nflood-line-for-the-test\nflood-line-for-the-test",
        10 * SEC,
    );
    std::thread::sleep(SEC);
    let start = std::time::Instant::now();
    s.tmux.keys(&["C-c"]);
    s.tmux.type_text("echo interrupted-''ok");
    s.tmux.keys(&["Enter"]);
    s.tmux.expect("interrupted-ok", 15 * SEC);
    assert!(
        start.elapsed() < 10 * SEC,
        "keystrokes took {:?} to get through the flood",
        start.elapsed()
    );
}
