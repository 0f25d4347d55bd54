//! Reattaching through the system's sshd (docs/sessions.md): `rmosh connect
//! --attach` and Debian's `mosh` wrapper with `--server='rmosh server
//! attach'`, each taking over a session the other's client started and
//! lost (SIGKILL).

mod support;

use std::time::Duration;

use support::process::{require, rmosh_bin, signal};
use support::sshd::Sshd;
use support::tempdir::TempDir;
use support::tmux::Tmux;

const WAIT: Duration = Duration::from_secs(30);

/// An sshd whose sessions keep their registry in a private folder.
fn sshd(tag: &str) -> (Sshd, TempDir) {
    let reg = TempDir::new(tag);
    let s = Sshd::start(
        tag,
        &format!("SetEnv RMOSH_TMPDIR={} LANG=C.UTF-8", reg.path().display()),
    );
    s.trust_host_key();
    (s, reg)
}

fn quote(w: &str) -> String {
    format!("'{}'", w.replace('\'', r"'\''"))
}

/// `rmosh connect` to `s` with `extra` words, in a tmux of `cols`×`rows`.
fn rmosh_connect(s: &Sshd, extra: &[&str], cols: u16, rows: u16) -> Tmux {
    let mut words: Vec<String> = vec![rmosh_bin().into(), "connect".into()];
    words.extend(
        [
            "--ssh-port",
            &s.port.to_string(),
            "-F",
            &s.path("empty_config").display().to_string(),
            "-i",
            &s.path("user_key").display().to_string(),
            "-o",
            &format!("UserKnownHostsFile={}", s.path("known_hosts").display()),
            "--server",
            &format!("{} server", rmosh_bin()),
        ]
        .map(String::from),
    );
    words.extend(extra.iter().map(|w| w.to_string()));
    in_tmux(s, &words, cols, rows)
}

/// Debian's `mosh` wrapper to `s` through OpenSSH with `server` as its
/// `--server`, then `extra` words.
fn mosh_wrapper(s: &Sshd, server: &str, extra: &[&str], cols: u16, rows: u16) -> Tmux {
    let mut words: Vec<String> = vec![
        require("mosh").display().to_string(),
        format!("--ssh={}", s.external_ssh()),
        format!("--server={server}"),
        "--predict=never".into(),
    ];
    words.extend(extra.iter().map(|w| w.to_string()));
    in_tmux(s, &words, cols, rows)
}

fn in_tmux(s: &Sshd, words: &[String], cols: u16, rows: u16) -> Tmux {
    let line: Vec<String> = words.iter().map(|w| quote(w)).collect();
    Tmux::spec(cols, rows)
        .env("HOME", &s.path("home").display().to_string())
        .env("LANG", "C.UTF-8")
        .run(&format!("{}; echo \"RC=$?\"; sleep 60", line.join(" ")))
}

/// Types a command whose output only the remote shell can compute.
fn marker(t: &Tmux, name: &str) {
    t.type_text(&format!("echo {name}-$((6*7))\n"));
    t.wait_text(&format!("{name}-42"), WAIT);
}

/// The client process under the pane (`mosh` execs `mosh-client`, `rmosh
/// connect` execs itself as the client), once it is the client.
fn kill_client(t: &Tmux) {
    signal(t.client_pid(), libc::SIGKILL);
}

#[test]
fn rmosh_client_killed_then_rmosh_connect_attach_over_ssh() {
    let (s, _reg) = sshd("sess-rr");
    let a = rmosh_connect(&s, &["127.0.0.1", "--", "/bin/sh"], 80, 24);
    marker(&a, "first");
    kill_client(&a);
    // Without an id: the host's only session.
    let b = rmosh_connect(&s, &["--attach", "127.0.0.1"], 100, 30);
    b.wait_text("first-42", WAIT);
    b.type_text("stty size\n");
    b.wait_text("30 100", WAIT);
    marker(&b, "second");
}

#[test]
fn debian_mosh_reattaches_to_a_session_rmosh_started() {
    require("mosh-client");
    let (s, _reg) = sshd("sess-rm");
    let a = rmosh_connect(&s, &["127.0.0.1", "--", "/bin/sh"], 80, 24);
    marker(&a, "rmosh");
    kill_client(&a);
    let attach = format!("{} server attach", rmosh_bin());
    let b = mosh_wrapper(&s, &attach, &["127.0.0.1"], 80, 24);
    b.wait_text("rmosh-42", WAIT);
    marker(&b, "debian");
}

#[test]
fn rmosh_connect_reattaches_to_a_session_debian_mosh_started() {
    require("mosh-client");
    let (s, _reg) = sshd("sess-mr");
    let server = format!("{} server", rmosh_bin());
    let a = mosh_wrapper(&s, &server, &["127.0.0.1", "/bin/sh"], 80, 24);
    marker(&a, "debian");
    kill_client(&a);
    let b = rmosh_connect(&s, &["--attach", "127.0.0.1"], 80, 24);
    b.wait_text("debian-42", WAIT);
    marker(&b, "rmosh");
    // And `rmosh sessions HOST` sees it, attached, from the new client.
    std::fs::write(s.path("home/.ssh/config"), s.host_block("sesshost")).expect("config");
    let out = std::process::Command::new(rmosh_bin())
        .env("HOME", s.path("home"))
        .env_remove("SSH_AUTH_SOCK")
        .args(["sessions", "--server", &server, "sesshost"])
        .output()
        .expect("rmosh sessions");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("attached") && text.contains("/bin/sh"),
        "{text}"
    );
}
