//! Our client against our own server (`rmosh server new`), in tmux on loopback.

#[path = "client_harness.rs"]
mod harness;

use harness::ServerKind;

#[test]
fn type_vim_resize_literal_escape_and_exit_against_rmosh_server() {
    harness::interactive_session(ServerKind::Rmosh);
}

#[test]
fn escape_key_quits_against_rmosh_server() {
    harness::escape_quit(ServerKind::Rmosh);
}

#[test]
fn outage_shows_notification_bar_against_rmosh_server() {
    harness::outage_shows_bar_then_recovers(ServerKind::Rmosh);
}

#[test]
fn title_prefix_and_sigterm_against_rmosh_server() {
    harness::title_prefix_then_sigterm(ServerKind::Rmosh);
}
