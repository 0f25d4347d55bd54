//! tokio UDP drivers around the sans-IO transport core.
//!
//! Policy lives in pure code with unit tests ([`ports`], [`hop`]); the
//! socket code only creates sockets with Mosh's options and moves bytes.

pub mod client;
pub mod forwarder;
pub mod hop;
pub mod path_policy;
pub mod paths;
pub mod ports;
pub mod recv;
pub mod server;
pub mod socket;
pub mod ssh_path;
pub mod stream_frame;
