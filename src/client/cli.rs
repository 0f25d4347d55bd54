//! The client's command line: `rmosh client IP PORT` and Mosh's `mosh-client`.

use std::ffi::OsString;
use std::process::ExitCode;

/// Arguments of `rmosh client`.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// Server IP address (numeric).
    pub ip: String,
    /// Server UDP port.
    pub port: u16,
}

/// Entry point for `rmosh client`.
pub fn run_client(_args: ClientArgs) -> ExitCode {
    crate::cli::not_implemented("the client role")
}

/// Entry point when invoked as `mosh-client`; `args` excludes argv[0].
pub fn mosh_client_main(_args: Vec<OsString>) -> ExitCode {
    crate::cli::not_implemented("the client role")
}
