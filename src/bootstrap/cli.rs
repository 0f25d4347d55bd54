//! The bootstrapper's command line: `rmosh connect` and the `mosh` wrapper's options.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use super::connect::{self, ConnectOptions, Family, Predict};
use super::deploy::DeployMode;
use crate::net::path_policy::Transport;

/// Arguments of `rmosh connect`.
#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// `[user@]host` to log in to.
    pub destination: String,
    /// Command to run instead of the login shell.
    #[arg(last = true)]
    pub command: Vec<String>,
    /// Remote UDP port or range (PORT or PORT:PORT2).
    #[arg(short = 'p', long = "port", value_name = "PORT[:PORT2]")]
    pub port: Option<String>,
    /// SSH port (like `ssh -p`).
    #[arg(long = "ssh-port", value_name = "PORT")]
    pub ssh_port: Option<u16>,
    /// SSH configuration file instead of ~/.ssh/config and /etc/ssh/ssh_config.
    #[arg(short = 'F', value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Remote user name (like `ssh -l`).
    #[arg(short = 'l', value_name = "USER")]
    pub login: Option<String>,
    /// Identity (private key) file; repeatable.
    #[arg(short = 'i', value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// SSH option in ssh_config syntax (`Key=Value`); repeatable.
    #[arg(short = 'o', long = "ssh-option", value_name = "KEY=VALUE")]
    pub ssh_option: Vec<String>,
    /// Remote server command (default: rmosh, a deployed rmosh, or mosh-server).
    #[arg(long = "server", value_name = "COMMAND")]
    pub server: Option<String>,
    /// Client program to exec instead of this rmosh as mosh-client.
    #[arg(long = "client", value_name = "PATH")]
    pub client: Option<String>,
    /// Local echo mode.
    #[arg(long = "predict", value_enum)]
    pub predict: Option<Predict>,
    /// Predictions overwrite instead of insert.
    #[arg(long = "predict-overwrite")]
    pub predict_overwrite: bool,
    /// Do not switch the terminal to the alternate screen.
    #[arg(long = "no-init")]
    pub no_init: bool,
    /// Run the server on this machine, without SSH.
    #[arg(long = "local")]
    pub local: bool,
    /// Where the server binds: ssh (default), any, or an IP address.
    #[arg(long = "bind-server", value_name = "ssh|any|IP")]
    pub bind_server: Option<String>,
    /// Address family for SSH and UDP.
    #[arg(long = "family", value_enum, default_value_t = Family::Auto)]
    pub family: Family,
    /// Copy rmosh to the remote when it has no server (auto), always, or never.
    #[arg(long = "deploy", value_enum, default_value_t = DeployMode::Auto)]
    pub deploy: DeployMode,
    /// Use this external ssh command instead of the built-in SSH client.
    #[arg(long = "ssh", value_name = "COMMAND")]
    pub ssh: Option<String>,
    /// How datagrams travel: UDP, falling back to the SSH connection when
    /// UDP gets no reply (auto); UDP only; or the SSH connection only.
    #[arg(long = "transport", value_enum, default_value_t = Transport::Auto)]
    pub transport: Transport,
}

/// Entry point for `rmosh connect`.
pub fn run_connect(args: ConnectArgs) -> ExitCode {
    let mut original = vec!["rmosh connect".to_string(), args.destination.clone()];
    if !args.command.is_empty() {
        original.push("--".into());
        original.extend(args.command.iter().cloned());
    }
    connect::run(ConnectOptions {
        destination: args.destination,
        command: args.command,
        udp_port: args.port,
        ssh_port: args.ssh_port,
        config_file: args.config_file,
        login: args.login,
        identities: args.identity,
        ssh_options: args.ssh_option,
        server: args.server,
        client: args.client,
        predict: args.predict,
        predict_overwrite: args.predict_overwrite,
        no_init: args.no_init,
        local: args.local,
        bind_server: args.bind_server,
        family: args.family,
        deploy: args.deploy,
        ssh_command: args.ssh,
        no_ssh_pty: false,
        original_args: original.join(" "),
        transport: args.transport,
    })
}

const WRAPPER_USAGE: &str = "Usage: mosh [options] [--] [user@]host [command...]
        --client=PATH        mosh client on local machine
                                (default: this rmosh)
        --server=COMMAND     mosh server on remote machine
                                (default: rmosh, a deployed rmosh, or mosh-server)

        --predict=adaptive      local echo for slower links [default]
-a      --predict=always        use local echo even on fast links
-n      --predict=never         never use local echo
        --predict=experimental  aggressively echo even when incorrect

-4      --family=inet        use IPv4 only
-6      --family=inet6       use IPv6 only
        --family=auto        autodetect network type for single-family hosts only
        --family=all         try all network types
        --family=prefer-inet use all network types, but try IPv4 first [default]
        --family=prefer-inet6 use all network types, but try IPv6 first
-p PORT[:PORT2]
        --port=PORT[:PORT2]  server-side UDP port or range
        --bind-server={ssh|any|IP}  ask the server to reply from an IP address
                                       (default: \"ssh\")

        --ssh=COMMAND        ssh command to run when setting up session
                                (default: rmosh's built-in SSH client)
        --no-ssh-pty         do not allocate a pseudo tty on ssh connection
        --no-init            do not send terminal initialization string

        --local              run mosh-server locally without using ssh
        --deploy={auto|always|never}  copy rmosh to hosts without a server

-o      --predict-overwrite  prediction overwrites instead of inserting
        --help               this message
        --version            version and copyright information
";

/// What the wrapper's command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum WrapperRequest {
    /// `--help`.
    Help,
    /// `--version`.
    Version,
    /// Connect with these options.
    Connect(Box<WrapperOptions>),
}

/// The wrapper's options, parsed (a comparable subset of [`ConnectOptions`]).
#[derive(Debug, PartialEq, Eq, Default)]
pub struct WrapperOptions {
    /// `[user@]host`.
    pub destination: String,
    /// Remote command.
    pub command: Vec<String>,
    /// `--client`.
    pub client: Option<String>,
    /// `--server`.
    pub server: Option<String>,
    /// `--predict`, `-a`, `-n`.
    pub predict: Option<String>,
    /// `-p`/`--port`.
    pub port: Option<String>,
    /// `--family`, `-4`, `-6`.
    pub family: Option<String>,
    /// `--bind-server`.
    pub bind_server: Option<String>,
    /// `--ssh`.
    pub ssh: Option<String>,
    /// `--no-init`.
    pub no_init: bool,
    /// `--local`.
    pub local: bool,
    /// `-o`/`--predict-overwrite`.
    pub predict_overwrite: bool,
    /// `--deploy`.
    pub deploy: Option<String>,
    /// `--no-ssh-pty` (the last of `--ssh-pty`/`--no-ssh-pty` wins).
    pub no_ssh_pty: bool,
}

/// Parses the wrapper's options (Getopt::Long style, options before the host).
pub fn parse_wrapper_args(args: &[String]) -> Result<WrapperRequest, String> {
    let mut o = WrapperOptions::default();
    let mut i = 0;
    let takes_value = [
        "client",
        "server",
        "predict",
        "port",
        "family",
        "bind-server",
        "ssh",
        "deploy",
        "experimental-remote-ip",
    ];
    let flags = [
        "no-init",
        "local",
        "predict-overwrite",
        "help",
        "version",
        "ssh-pty",
        "no-ssh-pty",
    ];
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            // Getopt::Long accepts unique prefixes; exact names are enough here.
            if takes_value.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => {
                        let v = args
                            .get(i)
                            .cloned()
                            .ok_or_else(|| format!("Option {name} requires an argument"))?;
                        i += 1;
                        v
                    }
                };
                match name {
                    "client" => o.client = Some(value),
                    "server" => o.server = Some(value),
                    "predict" => o.predict = Some(value),
                    "port" => o.port = Some(value),
                    "family" => o.family = Some(value),
                    "bind-server" => o.bind_server = Some(value),
                    "ssh" => o.ssh = Some(value),
                    "deploy" => o.deploy = Some(value),
                    _ => {}
                }
            } else if flags.contains(&name) {
                if inline.is_some() {
                    return Err(format!("Option {name} does not take an argument"));
                }
                match name {
                    "help" => return Ok(WrapperRequest::Help),
                    "version" => return Ok(WrapperRequest::Version),
                    "no-init" => o.no_init = true,
                    "local" => o.local = true,
                    "predict-overwrite" => o.predict_overwrite = true,
                    "ssh-pty" => o.no_ssh_pty = false,
                    "no-ssh-pty" => o.no_ssh_pty = true,
                    _ => {}
                }
            } else {
                return Err(format!("Unknown option: {name}"));
            }
            continue;
        }
        if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (pos, c) in shorts.char_indices() {
                match c {
                    'a' => o.predict = Some("always".into()),
                    'n' => o.predict = Some("never".into()),
                    'o' => o.predict_overwrite = true,
                    '4' => o.family = Some("inet".into()),
                    '6' => o.family = Some("inet6".into()),
                    'p' => {
                        let rest = shorts.get(pos + 1..).unwrap_or("");
                        let v = if rest.is_empty() {
                            let v = args
                                .get(i)
                                .cloned()
                                .ok_or_else(|| "Option p requires an argument".to_string())?;
                            i += 1;
                            v
                        } else {
                            rest.to_string()
                        };
                        o.port = Some(v);
                        break;
                    }
                    other => return Err(format!("Unknown option: {other}")),
                }
            }
            continue;
        }
        // require_order: the host ends the options.
        i -= 1;
        break;
    }
    let rest = args.get(i..).unwrap_or(&[]);
    let (dest, cmd) = rest
        .split_first()
        .ok_or_else(|| "no host given".to_string())?;
    o.destination = dest.clone();
    let cmd: &[String] = match cmd.first() {
        Some(first) if first == "--" => cmd.get(1..).unwrap_or(&[]),
        _ => cmd,
    };
    o.command = cmd.to_vec();
    Ok(WrapperRequest::Connect(Box::new(o)))
}

fn family_from(s: &str) -> Result<Family, String> {
    match s {
        "inet" => Ok(Family::Inet),
        "inet6" => Ok(Family::Inet6),
        "auto" => Ok(Family::Auto),
        "all" => Ok(Family::All),
        "prefer-inet" => Ok(Family::PreferInet),
        "prefer-inet6" => Ok(Family::PreferInet6),
        _ => Err(format!("Unknown address family '{s}'")),
    }
}

fn predict_from(s: &str) -> Result<Predict, String> {
    match s {
        "adaptive" => Ok(Predict::Adaptive),
        "always" => Ok(Predict::Always),
        "never" => Ok(Predict::Never),
        "experimental" => Ok(Predict::Experimental),
        _ => Err(format!("Unknown mode for --predict: {s}")),
    }
}

fn deploy_from(s: &str) -> Result<DeployMode, String> {
    match s {
        "auto" => Ok(DeployMode::Auto),
        "always" => Ok(DeployMode::Always),
        "never" => Ok(DeployMode::Never),
        _ => Err(format!("Unknown mode for --deploy: {s}")),
    }
}

/// Converts the wrapper's options into the common connect options.
pub fn wrapper_to_connect(o: WrapperOptions, original: String) -> Result<ConnectOptions, String> {
    Ok(ConnectOptions {
        destination: o.destination,
        command: o.command,
        udp_port: o.port,
        server: o.server,
        client: o.client,
        predict: o.predict.as_deref().map(predict_from).transpose()?,
        predict_overwrite: o.predict_overwrite,
        no_init: o.no_init,
        local: o.local,
        bind_server: o.bind_server,
        family: o
            .family
            .as_deref()
            .map(family_from)
            .transpose()?
            .unwrap_or_default(),
        deploy: o
            .deploy
            .as_deref()
            .map(deploy_from)
            .transpose()?
            .unwrap_or_default(),
        ssh_command: o.ssh,
        no_ssh_pty: o.no_ssh_pty,
        original_args: original,
        ..ConnectOptions::default()
    })
}

/// Entry point when invoked as `mosh`; `args` excludes argv[0].
pub fn mosh_wrapper_main(args: Vec<OsString>) -> ExitCode {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let original = args.join(" ");
    match parse_wrapper_args(&args) {
        Ok(WrapperRequest::Help) => {
            print!("{WRAPPER_USAGE}");
            ExitCode::SUCCESS
        }
        Ok(WrapperRequest::Version) => {
            println!(
                "mosh (rmosh {}), compatible with mosh 1.4.0\n\
                 License: MIT OR Apache-2.0.",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::SUCCESS
        }
        Ok(WrapperRequest::Connect(o)) => match wrapper_to_connect(*o, original) {
            Ok(opts) => connect::run(opts),
            Err(e) => {
                eprintln!("{e}\n{WRAPPER_USAGE}");
                ExitCode::from(255)
            }
        },
        Err(e) => {
            eprintln!("{e}\n{WRAPPER_USAGE}");
            ExitCode::from(255)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<WrapperRequest, String> {
        parse_wrapper_args(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn opts(v: &[&str]) -> WrapperOptions {
        match parse(v) {
            Ok(WrapperRequest::Connect(o)) => *o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrapper_options() {
        let o = opts(&[
            "--ssh=ssh -p 2222",
            "--server",
            "/opt/mosh-server",
            "-a",
            "-p",
            "60000:60010",
            "--family=inet6",
            "--bind-server=any",
            "--no-init",
            "-o",
            "user@host",
            "--",
            "echo",
            "-n",
        ]);
        assert_eq!(o.ssh.as_deref(), Some("ssh -p 2222"));
        assert_eq!(o.server.as_deref(), Some("/opt/mosh-server"));
        assert_eq!(o.predict.as_deref(), Some("always"));
        assert_eq!(o.port.as_deref(), Some("60000:60010"));
        assert_eq!(o.family.as_deref(), Some("inet6"));
        assert_eq!(o.bind_server.as_deref(), Some("any"));
        assert!(o.no_init && o.predict_overwrite && !o.local && !o.no_ssh_pty);
        assert!(opts(&["--no-ssh-pty", "h"]).no_ssh_pty);
        assert!(!opts(&["--no-ssh-pty", "--ssh-pty", "h"]).no_ssh_pty);
        assert_eq!(o.destination, "user@host");
        assert_eq!(o.command, vec!["echo", "-n"]);
    }

    #[test]
    fn wrapper_short_clusters_and_order() {
        let o = opts(&["-np6000", "h", "ls", "-l"]);
        assert_eq!(o.predict.as_deref(), Some("never"));
        assert_eq!(o.port.as_deref(), Some("6000"));
        assert_eq!(o.command, vec!["ls", "-l"]);
        let o = opts(&["--", "-weird-host"]);
        assert_eq!(o.destination, "-weird-host");
        assert_eq!(parse(&["--help", "h"]), Ok(WrapperRequest::Help));
        assert_eq!(parse(&["--version"]), Ok(WrapperRequest::Version));
        assert!(parse(&["--bogus", "h"]).is_err());
        assert!(parse(&["-x", "h"]).is_err());
        assert!(parse(&["-p"]).is_err());
        assert!(parse(&[]).is_err());
        assert!(parse(&["--local=yes", "h"]).is_err());
    }

    #[test]
    fn wrapper_values_are_checked() {
        let o = opts(&["--predict=sometimes", "h"]);
        assert!(wrapper_to_connect(o, String::new()).is_err());
        let o = opts(&["--family=prefer-inet", "--deploy=never", "h"]);
        let c = wrapper_to_connect(o, String::new()).unwrap();
        assert_eq!(c.family, Family::PreferInet);
        assert_eq!(c.deploy, DeployMode::Never);
    }
}
