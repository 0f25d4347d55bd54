//! The wire layer and the SSP core: pure code, no sockets, no clock.

pub mod message;
pub mod state;
pub mod connection;
pub mod echo_ack;
pub mod receiver;
pub mod rtt;
pub mod sender;
