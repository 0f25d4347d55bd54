//! The SSH bootstrapper: `rmosh connect` and Mosh's `mosh` wrapper.

pub mod auth;
pub mod cli;
pub mod hostkey;
pub mod known_hosts;
pub mod launch;
pub mod pattern;
pub mod prompt;
pub mod session;
pub mod ssh_config;
