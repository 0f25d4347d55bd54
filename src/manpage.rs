//! Man pages rmosh(1), rmosh-connect(1), rmosh-server(1) and rmosh-client(1),
//! generated from the clap definitions plus ENVIRONMENT, FILES and EXAMPLES
//! (checked in under man/; tests/cli.rs keeps them current).

use clap::CommandFactory;
use clap_mangen::roff::{Roff, bold, roman};

/// The pages, by name.
pub const PAGES: &[&str] = &["rmosh", "rmosh-connect", "rmosh-server", "rmosh-client"];

/// Every environment variable rmosh reads or sets, with what it does.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "MOSH_KEY",
        "The session key, handed from the server's MOSH CONNECT line to the client; never on a command line.",
    ),
    (
        "MOSH_PREDICTION_DISPLAY",
        "Local echo mode when --predict is not given: adaptive, always, never or experimental.",
    ),
    (
        "MOSH_PREDICTION_OVERWRITE",
        "When set to yes, predictions overwrite instead of insert.",
    ),
    (
        "MOSH_ESCAPE_KEY",
        "The escape key (one character; empty disables it). Default Ctrl-^.",
    ),
    (
        "MOSH_NO_TERM_INIT",
        "When set, the client does not switch to the alternate screen.",
    ),
    (
        "MOSH_TITLE_NOPREFIX",
        "When set, the window title is not prefixed with [mosh].",
    ),
    (
        "MOSH_SERVER_NETWORK_TMOUT",
        "Seconds the server waits without hearing from a client before it exits.",
    ),
    (
        "MOSH_SERVER_SIGNAL_TMOUT",
        "Seconds after which SIGUSR1 makes a server without a client exit.",
    ),
    (
        "RMOSH_TIMING",
        "When set (not 0), connect prints the time of each bootstrap phase on stderr.",
    ),
    (
        "XDG_CONFIG_HOME",
        "Where the rmosh settings file is looked for (Linux).",
    ),
    (
        "SSH_AUTH_SOCK",
        "The SSH agent the built-in SSH client asks for keys.",
    ),
    (
        "SSH_ASKPASS, SSH_ASKPASS_REQUIRE",
        "Password and passphrase prompts without a terminal, as for ssh.",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "~/.config/rmosh/config",
        "Per-host rmosh settings (Host blocks; Predict, PredictOverwrite, UdpPort, EscapeKey, Server, Deploy). On other platforms, the platform's configuration directory.",
    ),
    (
        "~/.ssh/config, /etc/ssh/ssh_config",
        "SSH client configuration, read as OpenSSH reads it (see rmosh connect -G).",
    ),
    (
        "~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts",
        "Known host keys.",
    ),
    (
        "~/.local/share/rmosh/",
        "Where connect --deploy copies rmosh on the remote host.",
    ),
];

const EXAMPLES: &[(&str, &str)] = &[
    (
        "rmosh example.org",
        "Log in with SSH, start a server there and attach to it (same as rmosh connect example.org).",
    ),
    (
        "rmosh alice@example.org -- tmux attach",
        "Run a command instead of the login shell.",
    ),
    (
        "rmosh -J bastion -p 60001 db1",
        "Reach db1 through a jump host and use UDP port 60001.",
    ),
    (
        "rmosh connect -G example.org",
        "Print the SSH settings that apply to the host, as ssh -G does.",
    ),
    (
        "rmosh connect -vv example.org",
        "Show configuration, connection, host key and authentication steps.",
    ),
    (
        "rmosh connect list",
        "Reach a host named like a subcommand.",
    ),
    (
        "rmosh server new -p 60001",
        "Start a server by hand, as mosh-server does.",
    ),
    (
        "MOSH_KEY=... rmosh client 192.0.2.1 60001",
        "Attach a client to a running server.",
    ),
];

fn section(roff: &mut Roff, title: &str, items: &[(&str, &str)]) {
    roff.control("SH", [title]);
    for (term, text) in items {
        roff.control("TP", []);
        roff.text([bold(*term)]);
        roff.text([roman(*text)]);
    }
}

/// The text of the man page `name` (one of [`PAGES`]).
pub fn page(name: &str) -> Option<String> {
    let root = crate::cli::Cli::command();
    let name: &'static str = PAGES.iter().find(|p| **p == name)?;
    let cmd = match name {
        "rmosh" => root,
        _ => {
            let sub = name.strip_prefix("rmosh-")?;
            root.find_subcommand(sub)?.clone().name(name)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).date("").render(&mut out).ok()?;
    let mut text = String::from_utf8_lossy(&out).into_owned();
    let mut extra = Roff::new();
    section(&mut extra, "ENVIRONMENT", ENVIRONMENT);
    section(&mut extra, "FILES", FILES);
    let examples: Vec<(&str, &str)> = EXAMPLES
        .iter()
        .filter(|(cmd, _)| name == "rmosh" || cmd.contains(name.trim_start_matches("rmosh-")))
        .copied()
        .collect();
    if !examples.is_empty() {
        section(&mut extra, "EXAMPLES", &examples);
    }
    section(
        &mut extra,
        "ESCAPE KEY",
        &[
            ("Ctrl-^ .", "Quit."),
            ("Ctrl-^ Ctrl-Z", "Suspend the client."),
            ("Ctrl-^ ^", "Type a literal Ctrl-^."),
            (
                "Ctrl-^ i",
                "Show connection info (RTT and its variation, recent loss, last contact, transport, server); the next key closes it and is typed as usual.",
            ),
        ],
    );
    let rendered = extra.render();
    let extra_text = rendered.find(".SH").map_or("", |i| &rendered[i..]);
    // ENVIRONMENT and the rest go before VERSION, as man-pages(7) orders them.
    match text.find(".SH VERSION") {
        Some(i) => text.insert_str(i, extra_text),
        None => text.push_str(extra_text),
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_the_extra_sections() {
        for name in PAGES {
            let p = page(name).unwrap_or_else(|| panic!("no page {name}"));
            for s in [".SH NAME", ".SH SYNOPSIS", ".SH ENVIRONMENT", ".SH FILES"] {
                assert!(p.contains(s), "{name} lacks {s}");
            }
            assert!(
                p.contains("MOSH_KEY") && p.contains("RMOSH_TIMING"),
                "{name}"
            );
        }
        assert!(page("rmosh-connect").is_some_and(|p| p.contains(".SH EXAMPLES")));
        assert!(page("rmosh-nothing").is_none());
    }
}
