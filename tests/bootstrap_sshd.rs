//! `rmosh connect` against a real OpenSSH sshd on 127.0.0.1: authentication,
//! configuration, host keys, and the MOSH CONNECT hand-off to the client.

mod support;

use std::time::Duration;

use support::process::{describe, run_with_timeout};
use support::sshd::*;

const LIMIT: Duration = Duration::from_secs(30);

fn assert_handed_off(s: &Sshd, out: &std::process::Output) {
    assert!(out.status.success(), "{}", describe(out));
    let (args, key) = s
        .client_got()
        .unwrap_or_else(|| panic!("client not started\n{}", describe(out)));
    assert_eq!(key, FAKE_KEY);
    // `-# <original args> |` then IP and port; the key is never in argv.
    assert_eq!(args.first().map(String::as_str), Some("-#"));
    assert_eq!(&args[args.len() - 2..], ["127.0.0.1", "60001"]);
    assert!(!args.iter().any(|a| a.contains(FAKE_KEY)));
}

#[test]
fn key_auth_accept_new_records_the_host() {
    let s = Sshd::start("key", "");
    let mut c = s.rmosh();
    c.args(s.std_args())
        .arg("-i")
        .arg(s.path("user_key"))
        .args(["-o", "StrictHostKeyChecking=accept-new"])
        .env("RMOSH_TIMING", "1")
        .args(["127.0.0.1", "--", "echo", "marker"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    let kh = std::fs::read_to_string(s.path("known_hosts")).expect("known_hosts written");
    assert!(
        kh.starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", s.port)),
        "{kh}"
    );
    assert!(s.asked().is_empty(), "accept-new must not ask");
    assert_eq!(
        std::fs::read_to_string(s.path("client.predict")).unwrap_or_default(),
        "adaptive"
    );
    // A key to offer: no "none" round trip before it.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("auth publickey answered"), "{err}");
    assert!(!err.contains("auth none answered"), "{err}");
}

#[test]
fn agent_auth() {
    let s = Sshd::start("agent", "");
    s.trust_host_key();
    let sock = s.path("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent must be installed");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !sock.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "ssh-agent did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(s.path("user_key"))
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .expect("ssh-add");
    assert!(added.status.success(), "{added:?}");
    // No -i and an empty ~/.ssh: only the agent holds the key.
    let mut c = s.rmosh();
    c.args(s.std_args())
        .env("SSH_AUTH_SOCK", &sock)
        .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    let _ = agent.kill();
    let _ = agent.wait();
    assert_handed_off(&s, &out);
    // Without the agent the same login fails and says what was tried.
    let _ = std::fs::remove_file(s.path("client.args"));
    let mut c = s.rmosh();
    c.args(s.std_args()).args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(s.client_got().is_none());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Permission denied"), "{err}");
    assert!(err.contains("Tried:"), "{err}");
}

#[test]
fn encrypted_key_with_passphrase_prompt() {
    let s = Sshd::start("enc", "");
    s.trust_host_key();
    keygen(&s.path("enc_key"), "ed25519", "correct horse");
    std::fs::copy(s.path("enc_key.pub"), s.path("authorized_keys")).expect("copy");
    let mut c = s.rmosh();
    c.args(s.std_args())
        .arg("-i")
        .arg(s.path("enc_key"))
        .env("ANSWER_PASSPHRASE", "correct horse")
        .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    assert!(
        s.asked().contains("Enter passphrase for key"),
        "asked: {}",
        s.asked()
    );
}

#[test]
fn password_auth() {
    let s = Sshd::start("pw", "");
    require_test_user();
    s.trust_host_key();
    let mut c = s.rmosh();
    c.args(s.std_args())
        .args(["-l", TEST_USER])
        .env("ANSWER_PASSWORD", TEST_PASSWORD)
        .env("RMOSH_TIMING", "1")
        .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    assert!(
        s.asked()
            .contains(&format!("{TEST_USER}@127.0.0.1's password")),
        "{}",
        s.asked()
    );
    assert!(
        s.log()
            .contains(&format!("Accepted password for {TEST_USER}")),
        "{}",
        s.log()
    );
    // With no key to offer, "none" comes first to learn the methods (as in
    // OpenSSH); the phase log shows it, which makes the key test's check meaningful.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("auth none answered"),
        "{}",
        describe(&out)
    );
}

#[test]
fn host_alias_through_config_with_include() {
    let s = Sshd::start("alias", "");
    s.trust_host_key();
    let ssh = s.path("home/.ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).expect("mkdir");
    std::fs::write(
        ssh.join("config"),
        "Include conf.d/*.conf\nHost unrelated\n  Port 1\n  Include never/*.conf\nHost *\n  GlobalKnownHostsFile none\n",
    )
    .expect("write");
    std::fs::write(ssh.join("conf.d/test.conf"), s.host_block("myalias")).expect("write");
    let mut c = s.rmosh();
    c.args(["--server", &s.path("server.sh").display().to_string()])
        .args(["--client", &s.path("client.sh").display().to_string()])
        .args(["myalias", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
}

#[test]
fn proxy_jump_through_the_same_sshd() {
    let s = Sshd::start("jump", "");
    s.trust_host_key();
    let cfg = s.path("jump_config");
    std::fs::write(
        &cfg,
        format!(
            "Host target\n  HostName 127.0.0.1\n  ProxyJump hop\nHost hop\n  HostName 127.0.0.1\n\
             Host *\n  Port {}\n  IdentityFile {}\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile none\n",
            s.port,
            s.path("user_key").display(),
            s.path("known_hosts").display()
        ),
    )
    .expect("write");
    let mut c = s.rmosh();
    c.arg("-F")
        .arg(&cfg)
        .args(["--server", &s.path("server.sh").display().to_string()])
        .args(["--client", &s.path("client.sh").display().to_string()])
        .args(["target", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    // Two logins: the hop and the target through it.
    let log = s.log();
    assert_eq!(log.matches("Accepted publickey").count(), 2, "{log}");
}

#[test]
fn unknown_host_asked_and_accepted() {
    let s = Sshd::start("ask-yes", "");
    let mut c = s.rmosh();
    c.args(s.std_args())
        .arg("-i")
        .arg(s.path("user_key"))
        .env("ANSWER_HOSTKEY", "yes")
        .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    let asked = s.asked();
    assert!(asked.contains("The authenticity of host"), "{asked}");
    assert!(asked.contains("SHA256:"), "{asked}");
    let kh = std::fs::read_to_string(s.path("known_hosts")).expect("recorded");
    assert!(kh.contains("ssh-ed25519"), "{kh}");
}

#[test]
fn unknown_host_refused() {
    let s = Sshd::start("ask-no", "");
    let mut c = s.rmosh();
    c.args(s.std_args())
        .arg("-i")
        .arg(s.path("user_key"))
        .env("ANSWER_HOSTKEY", "no")
        .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Host key verification failed"),
        "{}",
        describe(&out)
    );
    assert!(s.asked().contains("The authenticity of host"));
    assert!(!s.path("known_hosts").exists());
    assert!(s.client_got().is_none());
    // StrictHostKeyChecking=yes refuses without asking.
    let _ = std::fs::remove_file(s.path("asked.log"));
    let mut c = s.rmosh();
    c.args(s.std_args())
        .arg("-i")
        .arg(s.path("user_key"))
        .args(["-o", "StrictHostKeyChecking=yes"])
        .env("ANSWER_HOSTKEY", "yes")
        .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(s.asked().is_empty());
}

#[test]
fn changed_host_key_refused_naming_the_line() {
    let s = Sshd::start("changed", "");
    keygen(&s.path("other_host"), "ed25519", "");
    let other = std::fs::read_to_string(s.path("other_host.pub")).expect("read");
    std::fs::write(
        s.path("known_hosts"),
        format!("# comment\n[127.0.0.1]:{} {}\n", s.port, other.trim()),
    )
    .expect("write");
    let mut c = s.rmosh();
    c.args(s.std_args())
        .arg("-i")
        .arg(s.path("user_key"))
        .args(["-o", "StrictHostKeyChecking=no"])
        .env("ANSWER_HOSTKEY", "yes")
        .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "Offending ED25519 key in {}:2",
            s.path("known_hosts").display()
        )),
        "{err}"
    );
    assert!(s.client_got().is_none());
    assert!(s.asked().is_empty());
}

#[test]
fn missing_mosh_connect_shows_remote_output() {
    let s = Sshd::start("broken", "");
    s.trust_host_key();
    let mut c = s.rmosh();
    c.args(s.args_with_server("broken.sh"))
        .arg("-i")
        .arg(s.path("user_key"))
        .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MOSH CONNECT"), "{err}");
    assert!(err.contains("oops: server library missing"), "{err}");
    assert!(s.client_got().is_none());
}

#[test]
fn server_gets_the_wrappers_arguments() {
    let s = Sshd::start("args", "");
    s.trust_host_key();
    support::tempdir::write_executable(
        &s.path("echo_server.sh"),
        &format!("#!/bin/sh\nprintf '[%s]' \"$@\"; echo\necho \"MOSH CONNECT 60001 {FAKE_KEY}\"\n"),
    );
    let mut c = s.rmosh();
    c.args(s.args_with_server("echo_server.sh"))
        .arg("-i")
        .arg(s.path("user_key"))
        .args(["-p", "60001"])
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "")
        .env("TERM", "xterm-256color")
        .args(["127.0.0.1", "--", "echo", "it's"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "[new][-c][256][-s][-p][60001][-l][LANG=C.UTF-8][-l][LC_ALL=][--][echo][it's]"
        ),
        "{err}"
    );
}

#[test]
fn mosh_wrapper_syntax_with_external_ssh() {
    let s = Sshd::start("wrapper", "");
    s.trust_host_key();
    let link = s.path("mosh");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rmosh"), &link).expect("symlink");
    let ssh = s.external_ssh();
    let mut c = std::process::Command::new(&link);
    c.env("HOME", s.path("home"))
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::null())
        .arg(format!("--ssh={ssh}"))
        .arg(format!("--server={}", s.path("server.sh").display()))
        .arg(format!("--client={}", s.path("client.sh").display()))
        .args(["-n", "-p", "60001", "127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    assert_eq!(
        std::fs::read_to_string(s.path("client.predict")).unwrap_or_default(),
        "never"
    );
    // The UDP target came from the remote's SSH_CONNECTION.
    assert!(s.log().contains("Accepted publickey"), "{}", s.log());
}

#[test]
fn local_mode_runs_the_server_without_ssh() {
    let s = Sshd::start("local", "");
    let mut c = s.rmosh();
    c.args([
        "--local",
        "--server",
        &s.path("server.sh").display().to_string(),
    ])
    .args(["--client", &s.path("client.sh").display().to_string()])
    .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    assert!(!s.log().contains("Accepted"), "no SSH login expected");
}
