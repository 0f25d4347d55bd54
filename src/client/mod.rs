//! The client role: the real terminal, the renderer and the transport driven by tokio.

pub mod cli;
