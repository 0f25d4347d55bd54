//! The wire layer and the SSP core: pure code, no sockets, no clock.

pub mod compress;
pub mod connection;
pub mod crypto;
pub mod datagram;
pub mod echo_ack;
pub mod error;
pub mod fragment;
pub mod key;
pub mod loss;
pub mod message;
pub mod receiver;
pub mod rtt;
pub mod sender;
pub mod state;
