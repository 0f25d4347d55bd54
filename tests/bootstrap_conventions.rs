//! ssh habits on `rmosh` against a real OpenSSH sshd on 127.0.0.1:
//! `rmosh HOST`, `-J`, `-4`, and `-v` debug output.

mod support;

use std::time::Duration;

use support::process::{describe, run_with_timeout};
use support::sshd::*;

const LIMIT: Duration = Duration::from_secs(30);

fn assert_handed_off(s: &Sshd, out: &std::process::Output) {
    assert!(out.status.success(), "{}", describe(out));
    let (_, key) = s
        .client_got()
        .unwrap_or_else(|| panic!("client not started\n{}", describe(out)));
    assert_eq!(key, FAKE_KEY);
}

fn write_config(s: &Sshd, text: &str) -> std::path::PathBuf {
    let cfg = s.path("conv_config");
    std::fs::write(&cfg, text).expect("write config");
    cfg
}

fn fake_programs(s: &Sshd) -> Vec<String> {
    vec![
        "--server".into(),
        s.path("server.sh").display().to_string(),
        "--client".into(),
        s.path("client.sh").display().to_string(),
    ]
}

#[test]
fn bare_host_means_connect() {
    let s = Sshd::start("bare", "");
    s.trust_host_key();
    let cfg = write_config(&s, &s.host_block("myhost"));
    let mut c = s.rmosh_bare();
    c.arg("-F")
        .arg(&cfg)
        .args(fake_programs(&s))
        .args(["myhost", "--", "echo", "marker"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    assert!(s.log().contains("Accepted publickey"), "{}", s.log());
}

#[test]
fn jump_option_and_ipv4_only() {
    let s = Sshd::start("dashj", "");
    s.trust_host_key();
    let cfg = write_config(
        &s,
        &format!(
            "Host target hop\n  HostName 127.0.0.1\n  Port {}\n  IdentityFile {}\n  \
             UserKnownHostsFile {}\n  GlobalKnownHostsFile none\n",
            s.port,
            s.path("user_key").display(),
            s.path("known_hosts").display()
        ),
    );
    let mut c = s.rmosh();
    c.arg("-F")
        .arg(&cfg)
        .args(["-J", "hop", "-4", "-v"])
        .args(fake_programs(&s))
        .args(["target", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    // Two logins: the hop given by -J and the target through it.
    let log = s.log();
    assert_eq!(log.matches("Accepted publickey").count(), 2, "{log}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("debug1: Connecting to 127.0.0.1:"),
        "no jump in the debug output:\n{err}"
    );
    assert!(err.contains("through jump host hop"), "{err}");
    assert!(err.contains("command line: proxyjump hop"), "{err}");
    assert!(err.contains("command line: addressfamily inet"), "{err}");
}

#[test]
fn verbose_shows_each_auth_method_tried_on_failure() {
    let s = Sshd::start("vfail", "");
    s.trust_host_key();
    keygen(&s.path("wrong_key"), "ed25519", "");
    // The -F file the usual arguments name.
    let cfg = s.path("empty_config");
    std::fs::write(
        &cfg,
        format!("Host *\n  IdentityFile {}\n", s.path("wrong_key").display()),
    )
    .expect("write config");
    let mut c = s.rmosh();
    c.args(s.std_args())
        .arg("-vv")
        .args(["127.0.0.1", "--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let wrong = s.path("wrong_key").display().to_string();
    for want in [
        // Configuration: which file and line set the value.
        format!("{}:2: identityfile {wrong}", cfg.display()),
        format!("command line: port {}", s.port),
        // The connection and the host key.
        format!(
            "debug1: Connecting to 127.0.0.1 [127.0.0.1] port {}",
            s.port
        ),
        "debug1: Server host key: ssh-ed25519 SHA256:".to_string(),
        "debug1: Host key for '[127.0.0.1]:".to_string(),
        // Each method and its result.
        format!("debug1: Authentication: trying {wrong}"),
        "debug1: Authentication refused; methods that can continue: publickey".to_string(),
        "debug1: Authentication: trying none".to_string(),
        // -vv adds russh's own messages.
        "debug2: ".to_string(),
    ] {
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    }
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
fn verbose_shows_the_remote_command_and_output_but_never_the_key() {
    let s = Sshd::start("vok", "");
    s.trust_host_key();
    let mut c = s.rmosh();
    c.args(s.std_args())
        .arg("-v")
        .arg("-i")
        .arg(s.path("user_key"))
        .args(["127.0.0.1", "--", "echo", "marker"]);
    let out = run_with_timeout(c, LIMIT);
    assert_handed_off(&s, &out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("debug1: Authentication succeeded"), "{err}");
    assert!(err.contains("debug1: Sending command: "), "{err}");
    assert!(err.contains("marker"), "{err}");
    assert!(err.contains("MOSH CONNECT 60001 [key hidden]"), "{err}");
    assert!(!err.contains(FAKE_KEY), "the key leaked into -v:\n{err}");
    // One -v: russh's messages stay hidden.
    assert!(!err.contains("debug2:"), "{err}");
}

#[test]
fn settings_file_applies_per_host_below_the_environment() {
    let s = Sshd::start("settings", "");
    s.trust_host_key();
    let cfg = write_config(&s, &s.host_block("myhost"));
    let xdg = s.path("xdg");
    std::fs::create_dir_all(xdg.join("rmosh")).expect("mkdir");
    std::fs::write(
        xdg.join("rmosh/config"),
        "Host other\n  Predict always\nHost my*\n  Predict never\n  Deploy never\n",
    )
    .expect("write settings");
    let run = |env_predict: Option<&str>| {
        let _ = std::fs::remove_file(s.path("client.predict"));
        let mut c = s.rmosh_bare();
        c.env("XDG_CONFIG_HOME", &xdg)
            .env_remove("MOSH_PREDICTION_DISPLAY")
            .arg("-F")
            .arg(&cfg)
            .args(fake_programs(&s))
            .args(["myhost", "--", "true"]);
        if let Some(p) = env_predict {
            c.env("MOSH_PREDICTION_DISPLAY", p);
        }
        let out = run_with_timeout(c, LIMIT);
        assert_handed_off(&s, &out);
        std::fs::read_to_string(s.path("client.predict")).unwrap_or_default()
    };
    assert_eq!(run(None), "never", "the file's Host my* block");
    assert_eq!(
        run(Some("experimental")),
        "experimental",
        "environment wins"
    );

    std::fs::write(xdg.join("rmosh/config"), "Host *\n  Predict sometimes\n").expect("write");
    let mut c = s.rmosh_bare();
    c.env("XDG_CONFIG_HOME", &xdg).args(["myhost"]);
    let out = run_with_timeout(c, LIMIT);
    assert_eq!(out.status.code(), Some(255), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:2: unknown Predict mode 'sometimes'",
            xdg.join("rmosh/config").display()
        )),
        "{err}"
    );
}
