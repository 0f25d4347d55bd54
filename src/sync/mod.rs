//! The two SSP objects: the user stream (client → server) and the complete terminal.

pub mod capabilities;
pub mod complete_terminal;
pub mod history;
pub mod user_stream;
