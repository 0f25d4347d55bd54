//! The bootstrapper's command line: `rmosh connect` and the `mosh` wrapper's options.

use std::ffi::OsString;
use std::process::ExitCode;

/// Arguments of `rmosh connect`.
#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// `[user@]host` to log in to.
    pub destination: String,
    /// Command to run instead of the login shell.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// Entry point for `rmosh connect`.
pub fn run_connect(_args: ConnectArgs) -> ExitCode {
    crate::cli::not_implemented("rmosh connect")
}

/// Entry point when invoked as `mosh`; `args` excludes argv[0].
pub fn mosh_wrapper_main(_args: Vec<OsString>) -> ExitCode {
    crate::cli::not_implemented("the mosh wrapper")
}
