//! Our client against Debian's real `mosh-server` 1.4.0, in tmux on loopback.

mod support;

use support::client_scenarios;
use support::mosh::Impl;

#[test]
fn type_vim_resize_literal_escape_and_exit_against_mosh_server() {
    client_scenarios::interactive_session(Impl::Mosh);
}

#[test]
fn escape_key_quits_against_mosh_server() {
    client_scenarios::escape_quit(Impl::Mosh);
}

#[test]
fn outage_shows_notification_bar_against_mosh_server() {
    client_scenarios::outage_shows_bar_then_recovers(Impl::Mosh);
}

#[test]
fn title_prefix_and_sigterm_against_mosh_server() {
    client_scenarios::title_prefix_then_sigterm(Impl::Mosh);
}

#[test]
fn secrets_are_never_drawn_against_mosh_server() {
    client_scenarios::secrets_never_drawn(Impl::Mosh);
}
