//! The wire layer and the SSP core: pure code, no sockets, no clock.

pub mod message;
pub mod state;
