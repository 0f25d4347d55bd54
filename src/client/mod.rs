//! The client role: the real terminal, the renderer and the transport driven by tokio.
//!
//! Pure rules live in their own modules (`escape`, `notification`, `cli`'s
//! parsers, `terminfo`); `tty` and `session` are the IO edges.

pub mod cli;
pub mod escape;
pub mod history_writer;
pub mod locale;
pub mod notification;
pub mod predictor;
pub mod renderer;
pub mod session;
pub mod terminfo;
pub mod tty;
