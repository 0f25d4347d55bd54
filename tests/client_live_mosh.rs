//! Our client against Debian's real `mosh-server` 1.4.0, in tmux on loopback.

#[path = "client_harness.rs"]
mod harness;

use harness::ServerKind;

#[test]
fn type_vim_resize_literal_escape_and_exit_against_mosh_server() {
    harness::interactive_session(ServerKind::Mosh);
}

#[test]
fn escape_key_quits_against_mosh_server() {
    harness::escape_quit(ServerKind::Mosh);
}

#[test]
fn outage_shows_notification_bar_against_mosh_server() {
    harness::outage_shows_bar_then_recovers(ServerKind::Mosh);
}

#[test]
fn title_prefix_and_sigterm_against_mosh_server() {
    harness::title_prefix_then_sigterm(ServerKind::Mosh);
}
