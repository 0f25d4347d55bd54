//! The server role: pty, emulator and transport driven by tokio.

pub mod cli;
