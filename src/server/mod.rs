//! The server role: pty, emulator and transport driven by tokio.
//!
//! Start-up (`launch`) runs single-threaded: parse, bind, announce, fork,
//! spawn the held session process; only then does `session` build a tokio
//! runtime and drive the transport core and the emulator.

pub mod cli;
pub mod cnum;
pub mod command;
pub mod getopt;
pub mod history_feed;
pub mod launch;
pub mod lifecycle;
pub mod locale;
pub mod login;
pub mod passwd;
pub mod ports;
pub mod process;
pub mod pty;
pub mod session;
pub mod utmp;
