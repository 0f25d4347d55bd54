//! `rmosh connect -G`: the resolved settings printed as `ssh -G` prints them,
//! for the keywords rmosh acts on (lower-case keyword, space, value).

use std::fmt::Write;
use std::path::PathBuf;

use super::ssh_config::{
    AddressFamily, HostConfig, IdentityAgent, JumpHost, Proxy, StrictHostKeyChecking,
};

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A file list as ssh writes it; an empty one was set to `none`.
fn paths(v: &[PathBuf]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One hop as `ssh -G` writes it: `[user@]host[:port]`, IPv6 in brackets.
fn hop(h: &JumpHost) -> String {
    let mut s = String::new();
    if let Some(u) = &h.user {
        s.push_str(u);
        s.push('@');
    }
    match h.port {
        Some(p) if h.host.contains(':') => {
            let _ = write!(s, "[{}]:{p}", h.host);
        }
        Some(p) => {
            let _ = write!(s, "{}:{p}", h.host);
        }
        None => s.push_str(&h.host),
    }
    s
}

/// The `ssh -G` lines for `cfg`.
pub fn ssh_g(cfg: &HostConfig) -> String {
    let mut lines: Vec<(&str, String)> = vec![
        ("host", cfg.original_host.clone()),
        ("user", cfg.user.clone()),
        ("hostname", cfg.hostname.clone()),
        ("port", cfg.port.to_string()),
        (
            "addressfamily",
            match cfg.address_family {
                AddressFamily::Any => "any",
                AddressFamily::Inet => "inet",
                AddressFamily::Inet6 => "inet6",
            }
            .into(),
        ),
        ("batchmode", yes_no(cfg.batch_mode).into()),
        ("hashknownhosts", yes_no(cfg.hash_known_hosts).into()),
        ("identitiesonly", yes_no(cfg.identities_only).into()),
        (
            "kbdinteractiveauthentication",
            yes_no(cfg.kbd_interactive_authentication).into(),
        ),
        (
            "passwordauthentication",
            yes_no(cfg.password_authentication).into(),
        ),
        (
            "pubkeyauthentication",
            if cfg.pubkey_authentication {
                "true"
            } else {
                "false"
            }
            .into(),
        ),
        (
            "stricthostkeychecking",
            match cfg.strict_host_key_checking {
                StrictHostKeyChecking::Yes => "true",
                StrictHostKeyChecking::Ask => "ask",
                StrictHostKeyChecking::AcceptNew => "accept-new",
                StrictHostKeyChecking::No => "false",
            }
            .into(),
        ),
        (
            "serveralivecountmax",
            cfg.server_alive_count_max.to_string(),
        ),
        (
            "serveraliveinterval",
            cfg.server_alive_interval
                .map_or(0, |d| d.as_secs())
                .to_string(),
        ),
    ];
    if let Some(a) = &cfg.host_key_alias {
        lines.push(("hostkeyalias", a.clone()));
    }
    match &cfg.identity_agent {
        IdentityAgent::Environment => {}
        IdentityAgent::None => lines.push(("identityagent", "none".into())),
        IdentityAgent::Socket(p) => lines.push(("identityagent", p.display().to_string())),
    }
    for f in &cfg.identity_files {
        lines.push(("identityfile", f.display().to_string()));
    }
    lines.push(("globalknownhostsfile", paths(&cfg.global_known_hosts_files)));
    lines.push(("userknownhostsfile", paths(&cfg.user_known_hosts_files)));
    lines.push((
        "connecttimeout",
        cfg.connect_timeout
            .map_or("none".to_string(), |d| d.as_secs().to_string()),
    ));
    match &cfg.proxy {
        Proxy::Direct => {}
        Proxy::Jump(hops) => lines.push((
            "proxyjump",
            hops.iter().map(hop).collect::<Vec<_>>().join(","),
        )),
        Proxy::Command(c) => lines.push(("proxycommand", c.clone())),
    }
    let mut out = String::new();
    for (k, v) in lines {
        let _ = writeln!(out, "{k} {v}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_are_written_back_as_typed() {
        let h = |user: Option<&str>, host: &str, port| JumpHost {
            user: user.map(str::to_string),
            host: host.into(),
            port,
        };
        assert_eq!(hop(&h(Some("bob"), "j1", Some(2222))), "bob@j1:2222");
        assert_eq!(hop(&h(None, "::1", Some(22))), "[::1]:22");
        assert_eq!(hop(&h(None, "j2", None)), "j2");
    }
}
