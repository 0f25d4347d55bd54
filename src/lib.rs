//! rmosh: Mosh, the mobile shell, as one binary that is client, server and
//! SSH bootstrapper, wire-compatible with Mosh 1.4.0.
//!
//! Layers (lower never import higher): `transport` (wire + SSP core, pure),
//! `terminal` (emulator + display diff, pure), `prediction` (pure), `sync`
//! (the two synchronized objects), then the IO drivers `net`, `server`,
//! `client`, and `bootstrap` (SSH).

pub mod bootstrap;
pub mod cli;
pub mod client;
pub mod manpage;
pub mod net;
pub mod prediction;
pub mod relay;
pub mod secrecy;
pub mod server;
pub mod stderr_log;
pub mod sync;
pub mod terminal;
pub mod transport;
