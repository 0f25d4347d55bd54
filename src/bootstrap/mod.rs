//! The SSH bootstrapper: `rmosh connect` and Mosh's `mosh` wrapper.

pub mod auth;
pub mod cli;
pub mod connect;
pub mod deploy;
pub mod forward_channel;
pub mod hostkey;
pub mod kept_session;
pub mod known_hosts;
pub mod launch;
pub mod pattern;
pub mod prompt;
pub mod remote;
pub mod session;
pub mod ssh_config;
pub mod timing;
