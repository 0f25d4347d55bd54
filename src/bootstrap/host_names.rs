//! Destination names for shell completion, as ssh's completions offer them:
//! the literal `Host` names of the SSH configuration (and the files it
//! includes) and the unhashed names in the known_hosts files.

use std::collections::BTreeSet;
use std::path::Path;

use super::ssh_config::split_keyword;

/// `Host` names without wildcards or negation from one configuration text;
/// `include` is called for each `Include` argument.
pub fn config_hosts(text: &str, out: &mut BTreeSet<String>, include: &mut dyn FnMut(&str)) {
    for line in text.lines() {
        let Ok(Some((key, args))) = split_keyword(line) else {
            continue;
        };
        match key.as_str() {
            "host" => out.extend(args.into_iter().filter(|a| !a.contains(['*', '?', '!']))),
            "include" => args.iter().for_each(|a| include(a)),
            _ => {}
        }
    }
}

/// Unhashed host names from one known_hosts text (`[host]:port` gives `host`).
pub fn known_hosts_names(text: &str, out: &mut BTreeSet<String>) {
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let mut names = fields.next().unwrap_or("");
        if names.starts_with('@') {
            names = fields.next().unwrap_or("");
        }
        if names.is_empty() || names.starts_with('#') || names.starts_with('|') {
            continue;
        }
        for n in names.split(',') {
            let n = n
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .map_or(n, |(h, _)| h);
            if !n.is_empty() && !n.contains(['*', '?', '!']) {
                out.insert(n.to_string());
            }
        }
    }
}

fn read_config(path: &Path, dir: &Path, out: &mut BTreeSet<String>, depth: usize) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let mut includes = Vec::new();
    config_hosts(&text, out, &mut |p| includes.push(p.to_string()));
    if depth >= 8 {
        return;
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    for pat in includes {
        let p = match pat.strip_prefix("~/") {
            Some(rest) => Path::new(&home).join(rest),
            None => dir.join(&pat),
        };
        for file in super::ssh_config::ConfigSource::glob(&super::ssh_config::FsSource, &p) {
            read_config(&file, dir, out, depth + 1);
        }
    }
}

/// All names for the current user, sorted, one per line.
pub fn all() -> String {
    let home = std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let ssh = home.join(".ssh");
    let mut out = BTreeSet::new();
    read_config(&ssh.join("config"), &ssh, &mut out, 0);
    read_config(
        Path::new("/etc/ssh/ssh_config"),
        Path::new("/etc/ssh"),
        &mut out,
        0,
    );
    for kh in [
        ssh.join("known_hosts"),
        ssh.join("known_hosts2"),
        "/etc/ssh/ssh_known_hosts".into(),
    ] {
        if let Ok(text) = std::fs::read_to_string(kh) {
            known_hosts_names(&text, &mut out);
        }
    }
    out.into_iter().map(|h| h + "\n").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_host_names_and_includes() {
        let mut out = BTreeSet::new();
        let mut inc = Vec::new();
        config_hosts(
            "Host web1 web? !bad *.lab\n  HostName x\nHost=db\nInclude conf.d/*\n",
            &mut out,
            &mut |p| inc.push(p.to_string()),
        );
        assert_eq!(out.into_iter().collect::<Vec<_>>(), ["db", "web1"]);
        assert_eq!(inc, ["conf.d/*"]);
    }

    #[test]
    fn known_hosts_unhashed_names_only() {
        let mut out = BTreeSet::new();
        known_hosts_names(
            "a.example,192.0.2.1 ssh-ed25519 AAAA\n|1|salt|hash ssh-rsa AAAA\n\
             [b.example]:2222 ssh-ed25519 AAAA\n@cert-authority *.lab ssh-rsa AAAA\n# c\n",
            &mut out,
        );
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            ["192.0.2.1", "a.example", "b.example"]
        );
    }
}
