//! Security properties of the bootstrap and of every role's process, each
//! checked live: names from the command line never reach a shell, hashed
//! known_hosts entries match whatever the case of the name, secrets stay out
//! of core files and out of other processes' reach, the remote cannot draw on
//! the local terminal during login, and a deployed binary is checked before it runs.

mod support;

use std::process::Command;
use std::time::Duration;

use support::process::{describe, run_with_timeout};
use support::sshd::*;

const LIMIT: Duration = Duration::from_secs(30);

/// A config whose `ProxyCommand` logs `%h` and `%r`, then tunnels to `s`
/// through OpenSSH (`ssh -W`), so a valid name makes a whole login.
fn proxy_config(s: &Sshd) -> std::path::PathBuf {
    let config = s.path("proxy_config");
    std::fs::write(
        &config,
        format!(
            "Host *\n  ProxyCommand echo %h %r >> {log}; exec ssh -F none -i {key} -p {port} \
             -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
             -W 127.0.0.1:{port} 127.0.0.1\n  IdentityFile {key}\n  Port {port}\n",
            log = s.path("proxy.log").display(),
            key = s.path("user_key").display(),
            port = s.port
        ),
    )
    .expect("write config");
    config
}

#[test]
fn proxy_command_tokens_cannot_inject_commands() {
    let s = Sshd::start("inject", "");
    let config = proxy_config(&s);
    let known = format!("UserKnownHostsFile={}", s.path("known_hosts").display());
    s.trust_host_key();
    let run = |dest: &str, extra: &[&str]| {
        let mut c = s.rmosh();
        c.arg("-F")
            .arg(&config)
            .args(["-o", &known, "-o", "GlobalKnownHostsFile=none"])
            .args(["--server", &s.path("server.sh").display().to_string()])
            .args(["--client", &s.path("client.sh").display().to_string()])
            .args(extra)
            .args([dest, "--", "true"]);
        run_with_timeout(c, LIMIT)
    };
    let pwned = s.path("pwned");
    let cases: [(&str, &[&str], &str); 5] = [
        ("$(touch PWNED)", &[], "host name"),
        ("`touch PWNED`", &[], "host name"),
        ("x;touch PWNED;@127.0.0.1", &[], "remote user name"),
        ("127.0.0.1", &["-l", "$(touch PWNED)"], "remote user name"),
        (
            "127.0.0.1",
            &["-o", "User=a|touch PWNED"],
            "remote user name",
        ),
    ];
    for (dest, extra, part) in cases {
        let dest = dest.replace("PWNED", &pwned.display().to_string());
        let extra: Vec<String> = extra
            .iter()
            .map(|a| a.replace("PWNED", &pwned.display().to_string()))
            .collect();
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let out = run(&dest, &extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{dest}: {}", describe(&out));
        assert!(
            err.contains(&format!("the {part}")) && err.contains("invalid characters"),
            "{dest}: {err}"
        );
        assert!(!pwned.exists(), "{dest} ran a command: {}", describe(&out));
        assert!(
            !s.path("proxy.log").exists(),
            "the ProxyCommand ran for {dest}"
        );
        assert!(s.client_got().is_none());
    }
    // The same ProxyCommand carries a valid name all the way to the hand-off.
    let out = run("127.0.0.1", &[]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        s.client_got().map(|(_, key)| key).as_deref(),
        Some(FAKE_KEY)
    );
    let log = std::fs::read_to_string(s.path("proxy.log")).expect("ProxyCommand ran");
    assert_eq!(log.trim(), "127.0.0.1 root");
}

#[test]
fn external_ssh_destination_starting_with_dash_is_refused() {
    let s = Sshd::start("dash", "");
    let link = s.path("mosh");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rmosh"), &link).expect("symlink");
    let pwned = s.path("pwned");
    let mut c = Command::new(&link);
    c.env("HOME", s.path("home"))
        .stdin(std::process::Stdio::null())
        .arg(format!("--ssh={}", s.external_ssh()))
        .arg(format!("--client={}", s.path("client.sh").display()))
        .arg("--")
        .arg(format!("-oProxyCommand=touch {}", pwned.display()))
        .args(["--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("begins with '-'"),
        "{}",
        describe(&out)
    );
    assert!(!pwned.exists(), "ssh took the destination for an option");
    assert!(s.client_got().is_none());
}
