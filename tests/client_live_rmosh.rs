//! Our client against our own server (`rmosh server new`), in tmux on loopback.

mod support;

use support::client_scenarios;
use support::mosh::Impl;

#[test]
fn type_vim_resize_literal_escape_and_exit_against_rmosh_server() {
    client_scenarios::interactive_session(Impl::Rmosh);
}

#[test]
fn escape_key_quits_against_rmosh_server() {
    client_scenarios::escape_quit(Impl::Rmosh);
}

#[test]
fn outage_shows_notification_bar_against_rmosh_server() {
    client_scenarios::outage_shows_bar_then_recovers(Impl::Rmosh);
}

#[test]
fn title_prefix_and_sigterm_against_rmosh_server() {
    client_scenarios::title_prefix_then_sigterm(Impl::Rmosh);
}

#[test]
fn secrets_are_never_drawn_against_rmosh_server() {
    client_scenarios::secrets_never_drawn(Impl::Rmosh);
}
