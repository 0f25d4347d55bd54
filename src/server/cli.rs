//! The server's command line: `rmosh server new …` and Mosh's `mosh-server new …`.
//!
//! Both spellings end in the same Mosh-syntax parser ([`parse_mosh_args`]), so
//! they accept the same words and fail with the same messages and exit codes.

use std::ffi::{OsStr, OsString};
use std::process::ExitCode;

use super::getopt::{Item, getopt};
use super::ports::{PortRange, parse_port_range};

/// Arguments of `rmosh server`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "With no subcommand the server starts with the defaults, as `mosh-server` does.\n\
                  Installed or symlinked as `mosh-server`, the binary takes Mosh's exact syntax."
)]
pub struct ServerArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
}

/// The subcommands of `rmosh server`.
#[derive(Debug, clap::Subcommand)]
pub enum ServerCommand {
    /// Start a session: print `MOSH CONNECT <port> <key>`, detach, and wait up
    /// to 60 s for a client (Mosh's `mosh-server new`).
    New(NewArgs),
    /// List your running sessions.
    List(super::manage::ListArgs),
    /// End sessions: their applications get SIGHUP.
    Kill(super::manage::KillArgs),
    /// Give a running session to a new client: print `MOSH CONNECT <port>
    /// <key>` with a fresh key (the old client's key stops working).
    Attach(super::manage::AttachArgs),
}

/// Options of `rmosh server new`, the same letters as `mosh-server new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Bind to the local address of the SSH connection (from SSH_CONNECTION).
    #[arg(short = 's', conflicts_with = "ip")]
    pub ssh_ip: bool,
    /// Keep stdin/stdout/stderr open after detaching and log to stderr (repeatable).
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Local IP address to bind to (tried first; the wildcard address is the fallback).
    #[arg(short = 'i', value_name = "LOCALADDR")]
    pub ip: Option<OsString>,
    /// UDP port, or inclusive range, to bind [default: first free in 60001:60999].
    #[arg(short = 'p', value_name = "PORT[:PORT2]", allow_hyphen_values = true)]
    pub port: Option<OsString>,
    /// Colours of the client terminal: 256 sets TERM=xterm-256color, anything else TERM=xterm.
    #[arg(short = 'c', value_name = "COLORS", allow_hyphen_values = true)]
    pub colors: Option<OsString>,
    /// Locale setting to use when the native locale is not UTF-8 (repeatable).
    #[arg(short = 'l', value_name = "NAME=VALUE")]
    pub locale: Vec<OsString>,
    /// Ignored with its argument (lets scripts neutralize a word, as in Mosh).
    #[arg(
        short = '@',
        value_name = "ARG",
        hide = true,
        allow_hyphen_values = true
    )]
    pub ignored: Vec<OsString>,
    /// The command to run instead of your login shell (after `--`).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

impl NewArgs {
    /// The same request in Mosh's syntax (the words after the program name).
    pub fn to_mosh_words(&self) -> Vec<OsString> {
        let mut w: Vec<OsString> = vec!["new".into()];
        if self.ssh_ip {
            w.push("-s".into());
        }
        for _ in 0..self.verbose {
            w.push("-v".into());
        }
        let mut pair = |flag: &str, v: &OsString| {
            w.push(flag.into());
            w.push(v.clone());
        };
        if let Some(ip) = &self.ip {
            pair("-i", ip);
        }
        if let Some(p) = &self.port {
            pair("-p", p);
        }
        if let Some(c) = &self.colors {
            pair("-c", c);
        }
        for l in &self.locale {
            pair("-l", l);
        }
        if !self.command.is_empty() {
            w.push("--".into());
            w.extend(self.command.iter().cloned());
        }
        w
    }
}

/// Everything the server needs from its command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerConfig {
    /// Preferred local address (`-i`, `-s`, or a legacy positional IP).
    pub desired_ip: Option<OsString>,
    /// Ports to try.
    pub ports: PortRange,
    /// The command after `--`; None means the login shell.
    pub command: Option<Vec<OsString>>,
    /// `-c` colours (256 selects xterm-256color).
    pub colors: i64,
    /// Number of `-v`.
    pub verbose: u32,
    /// `-l NAME=VALUE` words, in order.
    pub locale_vars: Vec<OsString>,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Print this on stdout and exit 0 (`--help`, `-h`, `--version`).
    Print(String),
    /// Exit 1 (the reason is already in `Parsed::stderr`).
    Fail,
    /// Start the server.
    Run(ServerConfig),
}

/// The outcome of parsing plus what Mosh would have printed on stderr meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The decision.
    pub action: Action,
    /// Warnings and errors, newline-terminated, in order.
    pub stderr: String,
}

/// Mosh's version banner (five lines, as printed by `--version`).
pub const VERSION_TEXT: &str = "mosh-server (mosh 1.4.0) [build mosh 1.4.0]\n\
Copyright 2012 Keith Winstein <mosh-devel@mit.edu>\n\
License GPLv3+: GNU GPL version 3 or later <http://gnu.org/licenses/gpl.html>.\n\
This is free software: you are free to change and redistribute it.\n\
There is NO WARRANTY, to the extent permitted by law.\n";

/// Mosh's one-line usage for the program name `argv0`.
pub fn usage(argv0: &str) -> String {
    format!(
        "Usage: {argv0} new [-s] [-v] [-i LOCALADDR] [-p PORT[:PORT2]] [-c COLORS] [-l NAME=VALUE] [-- COMMAND...]\n"
    )
}

/// The local IP from `SSH_CONNECTION` for `-s` (third field, `::ffff:` stripped),
/// or a warning when it is missing or unparsable.
pub fn ssh_local_ip(ssh_connection: Option<&OsStr>) -> Result<OsString, &'static str> {
    let Some(conn) = ssh_connection else {
        return Err("Warning: SSH_CONNECTION not found; binding to any interface.\n");
    };
    let text = conn.to_string_lossy();
    let Some(ip) = text.split_ascii_whitespace().nth(2) else {
        return Err("Warning: Could not parse SSH_CONNECTION; binding to any interface.\n");
    };
    const PREFIX: &str = "::ffff:";
    if ip.len() > PREFIX.len()
        && ip
            .get(..PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
    {
        return Ok(ip.get(PREFIX.len()..).unwrap_or_default().into());
    }
    Ok(ip.into())
}

/// Parses Mosh's server syntax; `args` excludes argv[0], which is `argv0`.
pub fn parse_mosh_args(argv0: &str, args: &[OsString], ssh_connection: Option<&OsStr>) -> Parsed {
    let mut stderr = String::new();
    let mut cfg = ServerConfig::default();
    let mut words: &[OsString] = args;
    for (i, w) in args.iter().enumerate() {
        if w == "--help" || w == "-h" {
            return Parsed {
                action: Action::Print(usage(argv0)),
                stderr,
            };
        }
        if w == "--version" {
            return Parsed {
                action: Action::Print(VERSION_TEXT.to_owned()),
                stderr,
            };
        }
        if w == "--" {
            let rest = args.get(i + 1..).unwrap_or_default();
            if !rest.is_empty() {
                cfg.command = Some(rest.to_vec());
            }
            words = args.get(..i).unwrap_or_default();
            break;
        }
    }
    let mut desired_port: Option<OsString> = None;
    match words {
        [first, opts @ ..] if first == "new" => {
            for item in getopt("new", opts, "@:i:p:c:svl:") {
                match item {
                    Item::Opt(b'@', _) | Item::Operand(_) => {}
                    Item::Opt(b'i', arg) => cfg.desired_ip = arg,
                    Item::Opt(b'p', arg) => desired_port = arg,
                    Item::Opt(b's', _) => match ssh_local_ip(ssh_connection) {
                        Ok(ip) if !ip.is_empty() => cfg.desired_ip = Some(ip),
                        Ok(_) => cfg.desired_ip = None,
                        Err(warning) => {
                            cfg.desired_ip = None;
                            stderr.push_str(warning);
                        }
                    },
                    Item::Opt(b'c', arg) => {
                        let text = arg.unwrap_or_default();
                        match super::cnum::atoi_strict(text.as_encoded_bytes()) {
                            Some(n) => cfg.colors = n,
                            None => {
                                stderr.push_str(&format!(
                                    "{argv0}: Bad number of colors ({})\n",
                                    text.to_string_lossy()
                                ));
                                stderr.push_str(&usage(argv0));
                                return Parsed {
                                    action: Action::Fail,
                                    stderr,
                                };
                            }
                        }
                    }
                    Item::Opt(b'v', _) => cfg.verbose = cfg.verbose.saturating_add(1),
                    Item::Opt(b'l', arg) => cfg.locale_vars.extend(arg),
                    Item::Opt(..) => stderr.push_str(&usage(argv0)),
                    Item::Error(msg) => {
                        stderr.push_str(&msg);
                        stderr.push('\n');
                        stderr.push_str(&usage(argv0));
                    }
                }
            }
        }
        [] => {}
        [ip] => cfg.desired_ip = Some(ip.clone()),
        [ip, port] => {
            cfg.desired_ip = Some(ip.clone());
            desired_port = Some(port.clone());
        }
        _ => {
            stderr.push_str(&usage(argv0));
            return Parsed {
                action: Action::Fail,
                stderr,
            };
        }
    }
    if let Some(port) = desired_port {
        let text = port.to_string_lossy();
        match parse_port_range(&text) {
            Ok(range) => cfg.ports = range,
            Err(why) => {
                stderr.push_str(&format!("{why}\n{argv0}: Bad UDP port range ({text})\n"));
                stderr.push_str(&usage(argv0));
                return Parsed {
                    action: Action::Fail,
                    stderr,
                };
            }
        }
    }
    Parsed {
        action: Action::Run(cfg),
        stderr,
    }
}

/// Entry point for `rmosh server`.
pub fn run_server(args: ServerArgs) -> ExitCode {
    let words = match &args.command {
        Some(ServerCommand::New(new)) => new.to_mosh_words(),
        Some(ServerCommand::List(a)) => return super::manage::list(a),
        Some(ServerCommand::Kill(a)) => return super::manage::kill(a),
        Some(ServerCommand::Attach(a)) => return super::manage::attach(a),
        None => Vec::new(),
    };
    run_parsed("rmosh server", &words)
}

/// Entry point when invoked as `mosh-server`; `args` excludes argv[0].
pub fn mosh_server_main(args: Vec<OsString>) -> ExitCode {
    let argv0 = std::env::args_os()
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mosh-server".to_owned());
    run_parsed(&argv0, &args)
}

fn run_parsed(argv0: &str, words: &[OsString]) -> ExitCode {
    use std::io::Write;
    crate::secrecy::keep_memory_private();
    let ssh = std::env::var_os("SSH_CONNECTION");
    let parsed = parse_mosh_args(argv0, words, ssh.as_deref());
    eprint!("{}", parsed.stderr);
    match parsed.action {
        Action::Print(text) => {
            print!("{text}");
            let _ = std::io::stdout().flush();
            ExitCode::SUCCESS
        }
        Action::Fail => ExitCode::from(1),
        Action::Run(cfg) => super::launch::launch(cfg),
    }
}

#[cfg(test)]
mod tests {
    use super::super::getopt::os_args;
    use super::*;

    fn parse(words: &[&str]) -> Parsed {
        parse_mosh_args("mosh-server", &os_args(words), None)
    }

    fn run_cfg(words: &[&str]) -> ServerConfig {
        match parse(words).action {
            Action::Run(cfg) => cfg,
            other => panic!("expected Run, got {other:?}"),
        }
    }

    #[test]
    fn help_and_version_win_anywhere_before_double_dash() {
        assert_eq!(
            parse(&["new", "-p", "-h"]).action,
            Action::Print(usage("mosh-server"))
        );
        assert_eq!(
            parse(&["--help"]).action,
            Action::Print(usage("mosh-server"))
        );
        assert_eq!(
            parse(&["new", "--version"]).action,
            Action::Print(VERSION_TEXT.into())
        );
        // After `--` they belong to the command.
        let cfg = run_cfg(&["new", "--", "prog", "--help"]);
        assert_eq!(cfg.command, Some(os_args(&["prog", "--help"])));
    }

    #[test]
    fn full_new_syntax() {
        let cfg = run_cfg(&[
            "new",
            "-s",
            "-v",
            "-v",
            "-i",
            "127.0.0.1",
            "-p",
            "60050",
            "-c",
            "256",
            "-l",
            "LANG=C.UTF-8",
            "-l",
            "LC_ALL=x",
            "-@",
            "new",
            "--",
            "/bin/sh",
            "-c",
            "echo",
        ]);
        assert_eq!(cfg.desired_ip, Some("127.0.0.1".into()));
        assert_eq!(
            cfg.ports,
            PortRange {
                low: 60050,
                high: 60050
            }
        );
        assert_eq!(cfg.colors, 256);
        assert_eq!(cfg.verbose, 2);
        assert_eq!(cfg.locale_vars, os_args(&["LANG=C.UTF-8", "LC_ALL=x"]));
        assert_eq!(cfg.command, Some(os_args(&["/bin/sh", "-c", "echo"])));
    }

    #[test]
    fn double_dash_last_means_default_shell() {
        assert_eq!(run_cfg(&["new", "--"]).command, None);
    }

    #[test]
    fn defaults_and_legacy_forms() {
        assert_eq!(run_cfg(&[]), ServerConfig::default());
        assert_eq!(run_cfg(&["10.0.0.1"]).desired_ip, Some("10.0.0.1".into()));
        let cfg = run_cfg(&["10.0.0.1", "6000:6010"]);
        assert_eq!(
            cfg.ports,
            PortRange {
                low: 6000,
                high: 6010
            }
        );
        let p = parse(&["a", "b", "c"]);
        assert_eq!(p.action, Action::Fail);
        assert_eq!(p.stderr, usage("mosh-server"));
    }

    #[test]
    fn bad_port_range_exits_1_with_mosh_text() {
        let p = parse(&["new", "-p", "5:3"]);
        assert_eq!(p.action, Action::Fail);
        assert_eq!(
            p.stderr,
            format!(
                "Low port 5 greater than high port 3\nmosh-server: Bad UDP port range (5:3)\n{}",
                usage("mosh-server")
            )
        );
    }

    #[test]
    fn bad_colors_exits_1_with_mosh_text() {
        let p = parse(&["new", "-c", "256x"]);
        assert_eq!(p.action, Action::Fail);
        assert_eq!(
            p.stderr,
            format!(
                "mosh-server: Bad number of colors (256x)\n{}",
                usage("mosh-server")
            )
        );
    }

    #[test]
    fn unknown_options_warn_but_continue() {
        let p = parse(&["new", "-x", "-p", "60010"]);
        assert_eq!(
            p.stderr,
            format!("new: invalid option -- 'x'\n{}", usage("mosh-server"))
        );
        match p.action {
            Action::Run(cfg) => assert_eq!(cfg.ports.low, 60010),
            other => panic!("expected Run, got {other:?}"),
        }
        let p = parse(&["new", "-p"]);
        assert!(
            p.stderr
                .starts_with("new: option requires an argument -- 'p'\n")
        );
        assert!(matches!(p.action, Action::Run(_)));
    }

    #[test]
    fn later_i_and_s_override_earlier() {
        let ssh = OsString::from("10.1.1.1 5555 ::FFFF:10.2.2.2 22");
        let p = parse_mosh_args("m", &os_args(&["new", "-i", "1.2.3.4", "-s"]), Some(&ssh));
        match p.action {
            Action::Run(cfg) => assert_eq!(cfg.desired_ip, Some("10.2.2.2".into())),
            other => panic!("{other:?}"),
        }
        let p = parse_mosh_args("m", &os_args(&["new", "-s", "-i", "1.2.3.4"]), Some(&ssh));
        match p.action {
            Action::Run(cfg) => assert_eq!(cfg.desired_ip, Some("1.2.3.4".into())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ssh_connection_parsing() {
        assert_eq!(
            ssh_local_ip(Some(OsStr::new("1.1.1.1 22 2.2.2.2 22"))),
            Ok("2.2.2.2".into())
        );
        assert_eq!(
            ssh_local_ip(Some(OsStr::new("::1 22 ::1 22"))),
            Ok("::1".into())
        );
        assert!(ssh_local_ip(Some(OsStr::new("1.1.1.1 22"))).is_err());
        let p = parse(&["new", "-s"]);
        assert_eq!(
            p.stderr,
            "Warning: SSH_CONNECTION not found; binding to any interface.\n"
        );
    }

    #[test]
    fn rmosh_new_args_translate_to_mosh_words() {
        use clap::Parser;
        #[derive(Debug, clap::Parser)]
        struct T {
            #[command(subcommand)]
            cmd: ServerCommand,
        }
        let t = T::try_parse_from([
            "t",
            "new",
            "-vv",
            "-p",
            "60050",
            "-c",
            "256",
            "-l",
            "LANG=C.UTF-8",
            "-@",
            "new",
            "--",
            "sh",
            "-c",
            "x",
        ])
        .expect("clap parse");
        let ServerCommand::New(n) = t.cmd else {
            panic!("not new");
        };
        let words = n.to_mosh_words();
        let p = parse_mosh_args("rmosh server", &words, None);
        match p.action {
            Action::Run(cfg) => {
                assert_eq!(cfg.verbose, 2);
                assert_eq!(
                    cfg.ports,
                    PortRange {
                        low: 60050,
                        high: 60050
                    }
                );
                assert_eq!(cfg.colors, 256);
                assert_eq!(cfg.locale_vars, os_args(&["LANG=C.UTF-8"]));
                assert_eq!(cfg.command, Some(os_args(&["sh", "-c", "x"])));
            }
            other => panic!("{other:?}"),
        }
    }
}
