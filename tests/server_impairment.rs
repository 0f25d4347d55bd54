//! rmosh server ↔ Debian's stock `mosh-client` through the `rmosh-relay`
//! impairment relay: delay, jitter, loss, duplication, reordering and a
//! client address change mid-session. The stock client (built with
//! assertions) must never abort, the screen must converge, and the session
//! must still end with a clean shutdown (exit status 0).

mod support;

use std::time::Duration;

use support::relay::Relay;
use support::server_session::{PROMPT, prompt_home, start_server, stock_client};
use support::tempdir::TempDir;

const SEC: Duration = Duration::from_secs(1);

fn assert_no_abort(screen: &str) {
    for bad in ["Aborted", "assertion", "Assertion", "core dumped"] {
        assert!(!screen.contains(bad), "client aborted:\n{screen}");
    }
}

#[test]
fn stock_client_survives_loss_delay_reordering_and_roaming() {
    let dir = TempDir::new("impair");
    let home = prompt_home(&dir);
    let home_s = home.to_string_lossy().into_owned();
    let server = start_server(&dir, &[], &[("HOME", &home_s), ("SHELL", "/bin/sh")]);
    let mut relay = Relay::start(
        server.port,
        &[
            "--seed",
            "7",
            "--delay",
            "40",
            "--jitter",
            "15",
            "--loss",
            "10",
            "--dup",
            "3",
            "--reorder",
            "5",
        ],
    );
    let tmux = stock_client(relay.port, &server.key, 80, 24);
    tmux.wait_text_joined(PROMPT, 20 * SEC);

    tmux.type_text("echo first-''$((6*7))");
    tmux.keys(&["Enter"]);
    assert_no_abort(&tmux.wait_text_joined("first-42", 20 * SEC));

    // The client's address changes, as after a network switch.
    relay.cmd("rebind");
    tmux.type_text("echo after-roam-''$((40+2))");
    tmux.keys(&["Enter"]);
    assert_no_abort(&tmux.wait_text_joined("after-roam-42", 20 * SEC));

    // Several screens of output, fragmented instructions under loss.
    tmux.type_text("seq 1 30000 | tail -n 400; echo end-of-''seq");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_text_joined("end-of-seq", 30 * SEC);
    assert!(screen.contains("30000"), "{screen}");
    assert_no_abort(&screen);

    relay.cmd("rebind");
    tmux.type_text("exit");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_text_joined("RC=", 30 * SEC);
    assert_no_abort(&screen);
    assert!(screen.contains("[mosh is exiting.]"), "{screen}");
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(server.wait_exit(15 * SEC), "server still running");
}
