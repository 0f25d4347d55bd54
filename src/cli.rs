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
#[command(
    name = "rmosh",
    version,
    about,
    long_about = None,
    override_usage = "rmosh [OPTIONS] [USER@]HOST [-- COMMAND...]\n       rmosh <SUBCOMMAND> [ARGS]",
    after_help = "`rmosh HOST` means `rmosh connect HOST`. A host named like a subcommand \
                  is reached with `rmosh connect NAME`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `rmosh`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in with SSH, start a server on the host and attach to it.
    Connect(Box<crate::bootstrap::cli::ConnectArgs>),
    /// List the rmosh sessions running on a host (over SSH).
    Sessions(crate::bootstrap::cli::SessionsArgs),
    /// Run the server (as `mosh-server` does).
    Server(crate::server::cli::ServerArgs),
    /// Run only the client against a running server (key in MOSH_KEY).
    Client(crate::client::cli::ClientArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell to generate completions for.
        shell: Shell,
    },
    /// Print a man page (rmosh, rmosh-connect, rmosh-server, rmosh-client).
    #[command(hide = true)]
    Man {
        /// The page's name.
        page: String,
    },
    /// Print the destinations the completion scripts offer.
    #[command(hide = true, name = "complete-hosts")]
    CompleteHosts,
}

/// Inserts `connect` when the first argument is neither a subcommand nor
/// `--help`/`--version`, so `rmosh HOST` works as `ssh HOST` does.
pub fn with_implicit_connect(mut args: Vec<OsString>) -> Vec<OsString> {
    let Some(first) = args.get(1).and_then(|a| a.to_str()) else {
        return args;
    };
    let cmd = Cli::command();
    let is_subcommand = cmd
        .get_subcommands()
        .any(|s| s.get_name() == first || s.get_all_aliases().any(|a| a == first))
        || first == "help";
    let is_top_flag = matches!(first, "-h" | "--help" | "-V" | "--version");
    if !is_subcommand && !is_top_flag {
        args.insert(1, OsString::from("connect"));
    }
    args
}

/// Runs `rmosh` with its subcommands; `args` includes argv[0].
pub fn rmosh_main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = with_implicit_connect(args.into_iter().collect());
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
        Command::Connect(a) => crate::bootstrap::cli::run_connect(*a),
        Command::Sessions(a) => crate::bootstrap::cli::run_sessions(a),
        Command::Server(a) => crate::server::cli::run_server(a),
        Command::Client(a) => crate::client::cli::run_client(a),
        Command::Completions { shell } => {
            print!("{}", completion_script(shell));
            ExitCode::SUCCESS
        }
        Command::Man { page } => match crate::manpage::page(&page) {
            Some(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!(
                    "rmosh: no man page '{page}' (there are {})",
                    crate::manpage::PAGES.join(", ")
                );
                ExitCode::from(2)
            }
        },
        Command::CompleteHosts => {
            print!("{}", crate::bootstrap::host_names::all());
            ExitCode::SUCCESS
        }
    }
}

/// The completion script for `shell`, as checked into `completions/`.
pub fn completion_script(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rmosh", &mut out);
    let mut script = String::from_utf8_lossy(&out).into_owned();
    // The destination is completed from the SSH configuration and known_hosts.
    script.push_str(match shell {
        Shell::Bash => include_str!("../completions/extra/hosts.bash"),
        Shell::Zsh => include_str!("../completions/extra/hosts.zsh"),
        Shell::Fish => include_str!("../completions/extra/hosts.fish"),
        _ => "",
    });
    script
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

    fn implicit(v: &[&str]) -> Vec<String> {
        with_implicit_connect(v.iter().map(OsString::from).collect())
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_host_first_means_connect_and_subcommands_win() {
        assert_eq!(
            implicit(&["rmosh", "myhost"]),
            ["rmosh", "connect", "myhost"]
        );
        assert_eq!(
            implicit(&["rmosh", "-J", "jump", "h", "--", "ls"]),
            ["rmosh", "connect", "-J", "jump", "h", "--", "ls"]
        );
        for sub in [
            "connect",
            "server",
            "client",
            "completions",
            "help",
            "--help",
            "-V",
        ] {
            assert_eq!(implicit(&["rmosh", sub, "x"]), ["rmosh", sub, "x"]);
        }
        assert_eq!(implicit(&["rmosh"]), ["rmosh"]);
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
