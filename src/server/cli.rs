//! The server's command line: `rmosh server new …` and Mosh's `mosh-server new …`.

use std::ffi::OsString;
use std::process::ExitCode;

/// Arguments of `rmosh server`.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Mosh server arguments (`new [-s] [-c COLORS] …`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

/// Entry point for `rmosh server`.
pub fn run_server(_args: ServerArgs) -> ExitCode {
    crate::cli::not_implemented("the server role")
}

/// Entry point when invoked as `mosh-server`; `args` excludes argv[0].
pub fn mosh_server_main(_args: Vec<OsString>) -> ExitCode {
    crate::cli::not_implemented("the server role")
}
