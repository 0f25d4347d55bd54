//! `rmosh connect -G` against OpenSSH's `ssh -G` on a corpus of ssh_config
//! files (tests/corpus/ssh_config): for every keyword rmosh acts on, both must
//! resolve the same values.
//!
//! A corpus file may carry directives in comments: `#@hosts H...` (resolve each
//! host), `#@args H ARGS...` (resolve H with extra command-line options) and
//! `#@file PATH` (the lines after it form another file, e.g. an Include target).
//! `@DIR@` stands for the directory the files are written to.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::tempdir::TempDir;

/// The keywords rmosh reads, as `ssh -G` names them.
const KEYS: &[&str] = &[
    "host",
    "user",
    "hostname",
    "port",
    "addressfamily",
    "batchmode",
    "hashknownhosts",
    "identitiesonly",
    "kbdinteractiveauthentication",
    "passwordauthentication",
    "pubkeyauthentication",
    "stricthostkeychecking",
    "serveralivecountmax",
    "serveraliveinterval",
    "hostkeyalias",
    "identityagent",
    "identityfile",
    "globalknownhostsfile",
    "userknownhostsfile",
    "connecttimeout",
    "proxyjump",
    "proxycommand",
];

/// ssh's default identities that rmosh does not load (documented in docs/bootstrap.md).
const UNSUPPORTED_DEFAULT_IDS: &[&str] = &[
    "~/.ssh/id_ecdsa_sk",
    "~/.ssh/id_ed25519_sk",
    "~/.ssh/id_xmss",
    "~/.ssh/id_dsa",
];

fn rmosh() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rmosh"))
}

/// `key -> values` from `-G` output, only for [`KEYS`].
fn parse(out: &str) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines() {
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        if KEYS.contains(&k) {
            m.entry(k.to_string()).or_default().push(v.to_string());
        }
    }
    m
}

/// Expands what `ssh -G` leaves for later (`~` and `%` tokens in identity
/// files and the proxy command), with the values ssh itself resolved.
fn expand_ssh(m: &mut BTreeMap<String, Vec<String>>, home: &str, local_user: &str) {
    let one = |m: &BTreeMap<String, Vec<String>>, k: &str| {
        m.get(k)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let (host, port, user) = (one(m, "hostname"), one(m, "port"), one(m, "user"));
    let original = one(m, "host");
    let expand = |s: &str| -> String {
        let s = match s.strip_prefix("~/") {
            Some(rest) => format!("{home}/{rest}"),
            None => s.to_string(),
        };
        let mut out = String::new();
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match it.next() {
                Some('h') => out.push_str(&host),
                Some('p') => out.push_str(&port),
                Some('r') => out.push_str(&user),
                Some('u') => out.push_str(local_user),
                Some('n') => out.push_str(&original),
                Some('d') => out.push_str(home),
                Some('%') => out.push('%'),
                Some(t) => {
                    out.push('%');
                    out.push(t);
                }
                None => out.push('%'),
            }
        }
        out
    };
    if let Some(ids) = m.get_mut("identityfile") {
        ids.retain(|f| !UNSUPPORTED_DEFAULT_IDS.contains(&f.as_str()));
        for f in ids.iter_mut() {
            *f = expand(f);
        }
    }
    if let Some(cmds) = m.get_mut("proxycommand") {
        for c in cmds.iter_mut() {
            *c = expand(c);
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes a corpus file (and its `#@file` parts) into `dir`; returns the
/// main file and the runs: (host, extra args).
fn lay_out(text: &str, dir: &Path) -> (PathBuf, Vec<Vec<String>>) {
    let text = text.replace("@DIR@", &dir.display().to_string());
    let main = dir.join("config");
    let mut files: Vec<(PathBuf, String)> = vec![(main.clone(), String::new())];
    let mut runs = Vec::new();
    for line in text.lines() {
        if let Some(hosts) = line.strip_prefix("#@hosts ") {
            runs.extend(hosts.split_whitespace().map(|h| vec![h.to_string()]));
        } else if let Some(args) = line.strip_prefix("#@args ") {
            runs.push(args.split_whitespace().map(str::to_string).collect());
        } else if let Some(path) = line.strip_prefix("#@file ") {
            files.push((dir.join(path.trim()), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    for (path, body) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, body).expect("write corpus file");
    }
    (main, runs)
}

#[test]
fn resolved_settings_match_openssh() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/ssh_config");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "corpus missing: {names:?}");
    let home = std::env::var("HOME").expect("HOME");
    // ssh takes the local user from the password database; tell rmosh the same.
    let local_user = run(Command::new("id").arg("-un")).trim().to_string();
    let mut compared = 0;
    let mut failures = Vec::new();
    for name in &names {
        let tmp = TempDir::new("sshg");
        let text = std::fs::read_to_string(name).expect("read corpus");
        let (cfg, runs) = lay_out(&text, tmp.path());
        assert!(!runs.is_empty(), "{}: no #@hosts", name.display());
        for run_args in runs {
            let (host, extra) = run_args.split_first().expect("a host");
            let mut ssh = Command::new("ssh");
            ssh.arg("-G").arg("-F").arg(&cfg).args(extra).arg(host);
            let mut want = parse(&run(&mut ssh));
            expand_ssh(&mut want, &home, &local_user);
            let mut ours = Command::new(rmosh());
            ours.args(["connect", "-G", "-F"])
                .arg(&cfg)
                .args(extra)
                .arg(host)
                .env("USER", &local_user)
                .env("HOME", &home);
            let got = parse(&run(&mut ours));
            compared += 1;
            if got != want {
                failures.push(format!(
                    "{} {run_args:?}:\n  ssh -G:   {want:?}\n  rmosh -G: {got:?}",
                    name.file_name().unwrap_or_default().to_string_lossy()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 15, "only {compared} runs compared");
}
