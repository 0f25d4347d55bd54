//! The SSH bootstrapper: `rmosh connect` and Mosh's `mosh` wrapper.

pub mod auth;
pub mod cli;
pub mod connect;
pub mod deploy;
pub mod destination;
pub mod dump_config;
pub mod elf;
pub mod host_names;
pub mod hostkey;
pub mod known_hosts;
pub mod launch;
pub mod pattern;
pub mod prompt;
pub mod remote;
pub mod session;
pub mod settings;
pub mod ssh_config;
pub mod timing;
pub mod untrusted;
