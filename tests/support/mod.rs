//! Shared support for the tests that run real programs: rmosh, Debian's
//! mosh 1.4.0, tmux, sshd and the impairment relay, on loopback.
//!
//! Every cross-process test file says `mod support;` and takes what it needs.
//! A program a test needs that is missing makes the test FAIL with a message
//! naming the package ([`process::require`]); nothing is ever skipped.

// Each test binary compiles this whole module but uses only its own part of
// it, so items unused by one binary are expected and not dead code.
#![allow(dead_code)]

pub mod client_scenarios;
pub mod mosh;
pub mod ports;
pub mod process;
pub mod relay;
pub mod screens;
pub mod server_session;
pub mod sshd;
pub mod ssp_sim;
pub mod tempdir;
pub mod tmux;
pub mod typing_app;
