//! The `rmosh` command line (clap) and the choice of role from argv[0].

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

/// Which program the binary is acting as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Invoked as `mosh-server`: Mosh's server syntax.
    MoshServer,
    /// Invoked as `mosh-client`: Mosh's client syntax.
    MoshClient,
    /// Invoked as `mosh`: the options of Mosh's wrapper script.
    MoshWrapper,
    /// Anything else: rmosh's own subcommands.
    Rmosh,
}

impl Role {
    /// Decides the role from the file name the binary was started under.
    pub fn from_argv0(argv0: &OsStr) -> Role {
        let name = Path::new(argv0)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match name.as_str() {
            "mosh-server" => Role::MoshServer,
            "mosh-client" => Role::MoshClient,
            "mosh" => Role::MoshWrapper,
            _ => Role::Rmosh,
        }
    }
}

/// rmosh: the mobile shell. Client, server and SSH bootstrapper in one binary,
/// wire-compatible with Mosh 1.4.0.
#[derive(Debug, Parser)]
#[command(name = "rmosh", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `rmosh`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in with SSH, start a server on the host and attach to it.
    Connect(crate::bootstrap::cli::ConnectArgs),
    /// Run the server (as `mosh-server` does).
    Server(crate::server::cli::ServerArgs),
    /// Run only the client against a running server (key in MOSH_KEY).
    Client(crate::client::cli::ClientArgs),
    /// Relay framed datagrams on stdin/stdout to a server's UDP port (the
    /// host end of `--transport ssh`, run by `rmosh connect`).
    #[command(hide = true)]
    Forward(crate::net::forwarder::ForwardArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell to generate completions for.
        shell: Shell,
    },
}

/// Runs `rmosh` with its subcommands; `args` includes argv[0].
pub fn rmosh_main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Connect(a) => crate::bootstrap::cli::run_connect(a),
        Command::Server(a) => crate::server::cli::run_server(a),
        Command::Client(a) => crate::client::cli::run_client(a),
        Command::Forward(a) => crate::net::forwarder::run_forward(a),
        Command::Completions { shell } => {
            print!("{}", completion_script(shell));
            ExitCode::SUCCESS
        }
    }
}

/// The completion script for `shell`, as checked into `completions/`.
pub fn completion_script(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rmosh", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Prints the standard error for a role that is not built yet.
pub fn not_implemented(role: &str) -> ExitCode {
    eprintln!("rmosh: {role} is not implemented yet");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_from_argv0_uses_the_file_name() {
        assert_eq!(
            Role::from_argv0(OsStr::new("/usr/bin/mosh-server")),
            Role::MoshServer
        );
        assert_eq!(
            Role::from_argv0(OsStr::new("mosh-client")),
            Role::MoshClient
        );
        assert_eq!(Role::from_argv0(OsStr::new("./mosh")), Role::MoshWrapper);
        assert_eq!(Role::from_argv0(OsStr::new("/x/rmosh")), Role::Rmosh);
        assert_eq!(Role::from_argv0(OsStr::new("mosh-server-old")), Role::Rmosh);
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
