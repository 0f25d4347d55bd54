//! The multi-call entry point: picks the role from argv[0], then from the subcommand.

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything holds a secret: every role handles keys or passwords.
    rmosh::secrecy::keep_memory_private();
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args.first().cloned().unwrap_or_default();
    let rest = if args.is_empty() {
        Vec::new()
    } else {
        args.split_off(1)
    };
    match rmosh::cli::Role::from_argv0(&argv0) {
        rmosh::cli::Role::MoshServer => rmosh::server::cli::mosh_server_main(rest),
        rmosh::cli::Role::MoshClient => rmosh::client::cli::mosh_client_main(rest),
        rmosh::cli::Role::MoshWrapper => rmosh::bootstrap::cli::mosh_wrapper_main(rest),
        rmosh::cli::Role::Rmosh => rmosh::cli::rmosh_main(args.into_iter().chain(rest)),
    }
}
