//! Shared support for the tests that run real programs: rmosh, Debian's
//! mosh 1.4.0, tmux, sshd and the impairment relay, on loopback.
//!
//! Every cross-process test file says `mod support;` and takes what it needs.
//! A program a test needs that is missing makes the test FAIL with a message
//! naming the package ([`process::require`]); nothing is ever skipped.
//!
//! General pieces, one job each:
//! * [`process`]: the binaries, `require`, liveness and signals of our own
//!   pids, waiting with a deadline, running with a time limit;
//! * [`ports`]: free loopback ports; [`tempdir`]: private scratch folders;
//! * [`mosh`]: starting `mosh-server`/`rmosh server` and reading
//!   `MOSH CONNECT`, and the command that starts either client;
//! * [`tmux`]: a private tmux server: type, capture, wait for text;
//! * [`relay`]: the `rmosh-relay` impairment relay and its commands;
//! * [`sshd`]: a private OpenSSH sshd with generated keys and fake scripts;
//! * [`wire_client`]: a bare client side of the wire, to see every
//!   instruction a real server sends.
//!
//! Pieces shared by one area's test files:
//! * [`client_scenarios`]: the client's live sessions, run per server;
//! * [`server_session`]: rmosh as `mosh-server` with Debian's client;
//! * [`typing_app`]: the reliability tests' logging application and checks;
//! * [`screens`]: terminal recordings and screen comparisons;
//! * [`ssp_sim`]: the deterministic network simulator of the SSP cores;
//! * [`ssp_client`]: a client core in the test process, over real UDP.

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
pub mod ssp_client;
pub mod ssp_sim;
pub mod tempdir;
pub mod tmux;
pub mod typing_app;
pub mod wire_client;
