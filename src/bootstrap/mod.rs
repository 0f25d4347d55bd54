//! The SSH bootstrapper: `rmosh connect` and Mosh's `mosh` wrapper.

pub mod cli;
