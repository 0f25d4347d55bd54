//! Whole sessions through `rmosh connect`: against Debian's mosh-server, and
//! with rmosh deploying itself to a host that has no server.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::process::{describe, require, run_with_timeout};
use support::sshd::*;

/// Options that log in to `s` with the generated user key, trusting the
/// host key recorded by `trust_host_key`.
fn key_login_args(s: &Sshd) -> Vec<String> {
    vec![
        "--ssh-port".into(),
        s.port.to_string(),
        "-F".into(),
        s.path("empty_config").display().to_string(),
        "-i".into(),
        s.path("user_key").display().to_string(),
        "-o".into(),
        format!("UserKnownHostsFile={}", s.path("known_hosts").display()),
    ]
}

fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `words` (an `rmosh connect` command line) in an 80×24
/// pseudo-terminal via script(1), with HOME in the sshd's folder and no agent.
fn connect_in_pty(s: &Sshd, words: &[String]) -> Command {
    let cmd = format!("stty rows 24 cols 80; exec {}", shell_words(words));
    let mut c = Command::new(require("script"));
    c.args(["-qfec", &cmd, "/dev/null"])
        .env("HOME", s.path("home"))
        .env("LANG", "C.UTF-8")
        .env("TERM", "xterm-256color")
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("LC_ALL");
    c
}

/// The remote command of the session tests: a marker computed remotely, and
/// the executable serving the session (the command's parent is the server).
const MARKER_AND_SERVER: &str =
    "echo bootstrap-marker-$((6*7)); echo server=$(readlink /proc/$PPID/exe)";

/// Like [`MARKER_AND_SERVER`], for a server run as another user than root:
/// rmosh's server is not dumpable, so its `/proc/PID/exe` is closed to the
/// user; its command line (the path it was started by) is not. The file
/// name is cut short to fit on one line of the terminal.
const MARKER_AND_SERVER_ARGV0: &str = "echo bootstrap-marker-$((6*7)); \
     p=$(tr '\\0' '\\n' < /proc/$PPID/cmdline | head -n 1); \
     echo server=${p%/*} $(echo \"${p##*/}\" | cut -c1-26)";

fn debian_session(client: Option<&str>) {
    require("mosh-server");
    require("mosh-client");
    // No --server, and a remote PATH with Debian's mosh-server but no rmosh.
    let s = Sshd::start("e2e-debian", "SetEnv PATH=/usr/bin:/bin");
    let deployed_for_root = Path::new("/root").join(deployed_relative());
    assert!(
        !deployed_for_root.exists(),
        "{} would be chosen before mosh-server: remove it",
        deployed_for_root.display()
    );
    s.trust_host_key();
    let mut words = vec![env!("CARGO_BIN_EXE_rmosh").to_string(), "connect".into()];
    words.extend(key_login_args(&s));
    words.extend(["127.0.0.1", "--", "sh", "-c", MARKER_AND_SERVER].map(String::from));
    if let Some(client) = client {
        words.insert(2, format!("--client={client}"));
    }
    let c = connect_in_pty(&s, &words);
    let out = run_with_timeout(c, Duration::from_secs(30));
    let all = describe(&out);
    assert!(out.status.success(), "{all}");
    // The remote shell did the arithmetic: the command really ran there,
    // under Debian's server.
    assert!(all.contains("bootstrap-marker-42"), "{all}");
    assert!(all.contains("server=/usr/bin/mosh-server"), "{all}");
}

/// Invoked as `mosh`, with the wrapper's options: once through an external
/// `--ssh` command (the escape hatch), once through the built-in SSH with a
/// Host alias from ~/.ssh/config; both run whole sessions on Debian's server.
#[test]
fn mosh_wrapper_runs_sessions_with_external_and_builtin_ssh() {
    require("mosh-server");
    require("ssh");
    let s = Sshd::start("e2e-wrapper", "SetEnv PATH=/usr/bin:/bin");
    s.trust_host_key();
    let mosh = s.path("mosh");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rmosh"), &mosh).expect("symlink");
    let mosh = mosh.display().to_string();
    let ssh = s.external_ssh();
    let udp = support::ports::free_udp_port().to_string();
    let tail = ["--", "sh", "-c", MARKER_AND_SERVER].map(String::from);
    let mut external = vec![
        mosh.clone(),
        format!("--ssh={ssh}"),
        "--predict=never".into(),
        "--family=inet".into(),
        "--bind-server=ssh".into(),
        "--no-init".into(),
        "-p".into(),
        udp,
        "127.0.0.1".into(),
    ];
    external.extend(tail.iter().cloned());
    let mut c = connect_in_pty(&s, &external);
    c.env("RMOSH_TIMING", "1");
    let out = run_with_timeout(c, Duration::from_secs(30));
    let all = describe(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("bootstrap-marker-42"), "{all}");
    assert!(all.contains("server=/usr/bin/mosh-server"), "{all}");
    // The external ssh logged in, not the built-in one (whose phases would show).
    assert!(all.contains("rmosh-timing: "), "{all}");
    assert!(!all.contains("authenticated"), "{all}");

    std::fs::write(s.path("home/.ssh/config"), s.host_block("wrapped"))
        .expect("write ~/.ssh/config");
    let mut builtin = vec![mosh, "-a".into(), "-4".into(), "wrapped".into()];
    builtin.extend(tail.iter().cloned());
    let mut c = connect_in_pty(&s, &builtin);
    c.env("RMOSH_TIMING", "1");
    let out = run_with_timeout(c, Duration::from_secs(30));
    let all = describe(&out);
    assert!(
        all.contains("rmosh-timing: ") && all.contains(" authenticated"),
        "{all}"
    );
    assert!(out.status.success(), "{all}");
    assert!(all.contains("bootstrap-marker-42"), "{all}");
    assert!(all.contains("server=/usr/bin/mosh-server"), "{all}");
    assert_eq!(
        s.log().matches("Accepted publickey").count(),
        2,
        "{}",
        s.log()
    );
}

/// Where self-deploy puts this binary, relative to the remote home: named
/// by its SHA-256.
fn deployed_relative() -> String {
    let ours = std::fs::read(env!("CARGO_BIN_EXE_rmosh")).expect("read rmosh");
    rmosh::bootstrap::deploy::deployed_path(&rmosh::bootstrap::deploy::sha256_hex(&ours))
}

#[test]
fn debian_mosh_server_and_client_session_prints_the_marker() {
    debian_session(Some("/usr/bin/mosh-client"));
}

#[test]
fn rmosh_connect_with_its_own_client_prints_the_marker() {
    debian_session(None);
}

#[test]
fn self_deploy_when_the_remote_has_no_server() {
    // The remote PATH holds only the tools deploying needs: no rmosh, no mosh-server.
    let rbin = std::env::temp_dir().join(format!("rmosh-bt-rbin-{}", std::process::id()));
    std::fs::create_dir_all(&rbin).expect("mkdir");
    for tool in [
        "sh",
        "uname",
        "cat",
        "mkdir",
        "chmod",
        "mv",
        "rm",
        "cut",
        "sha256sum",
        "readlink",
        "tr",
        "head",
        "getconf",
    ] {
        let _ = std::os::unix::fs::symlink(format!("/usr/bin/{tool}"), rbin.join(tool));
    }
    let s = Sshd::start("deploy", &format!("SetEnv PATH={}", rbin.display()));
    require_test_user();
    s.trust_host_key();
    let home = Path::new("/home").join(TEST_USER);
    let deployed = home.join(deployed_relative());
    let _ = std::fs::remove_file(&deployed);
    let mut base = key_login_args(&s);
    base.extend([
        "-l".into(),
        TEST_USER.into(),
        "--client".into(),
        s.path("client.sh").display().to_string(),
    ]);
    // --deploy=never: a clear refusal saying `why`, nothing copied.
    let refused_without_deploying = |why: &str| {
        let mut c = s.rmosh();
        c.args(&base)
            .args(["--deploy=never", "127.0.0.1", "--", "true"]);
        let out = run_with_timeout(c, Duration::from_secs(30));
        assert!(!out.status.success(), "{}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("Neither rmosh nor mosh-server"),
            "{}",
            describe(&out)
        );
        assert!(err.contains(why), "{}", describe(&out));
    };
    refused_without_deploying("--deploy=never was given");
    assert!(!deployed.exists());
    // Default (auto): deploy, then run the copy as the server of a real session.
    let session = |deploy: &str| {
        let mut words = vec![env!("CARGO_BIN_EXE_rmosh").to_string(), "connect".into()];
        words.extend(base.iter().take(base.len() - 2).cloned());
        words.push(format!("--deploy={deploy}"));
        words.extend(
            ["127.0.0.1", "--", "sh", "-c", MARKER_AND_SERVER_ARGV0]
                .iter()
                .map(|w| w.to_string()),
        );
        let out = run_with_timeout(connect_in_pty(&s, &words), Duration::from_secs(60));
        let all = describe(&out);
        let ours = std::fs::read(env!("CARGO_BIN_EXE_rmosh")).expect("read rmosh");
        let theirs = std::fs::read(&deployed).unwrap_or_else(|_| panic!("not deployed\n{all}"));
        assert!(ours == theirs, "deployed copy differs\n{all}");
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(&deployed).expect("stat");
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        // No temporary upload is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(deployed.parent().expect("dir"))
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".rmosh-upload"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        // The session ran, served by the deployed copy itself.
        assert!(out.status.success(), "{all}");
        assert!(all.contains("bootstrap-marker-42"), "{all}");
        let name = deployed.file_name().expect("name").to_string_lossy();
        let shown = format!(
            "server={} {}",
            deployed.parent().expect("dir").display(),
            name.get(..26).expect("a hash-named file")
        );
        assert!(all.contains(&shown), "{shown} not in {all}");
    };
    session("auto");
    // A deployed copy that no longer has its checksum is never run: with
    // --deploy=never a clear refusal, by default it is deployed again.
    let mut altered = std::fs::read(&deployed).expect("read the copy");
    altered.push(0);
    std::fs::write(&deployed, &altered).expect("alter the copy");
    refused_without_deploying("does not match its checksum");
    assert_eq!(std::fs::read(&deployed).expect("read"), altered);
    session("auto");
    // --deploy=always copies even when the remote has a server of its own.
    std::os::unix::fs::symlink("/usr/bin/mosh-server", rbin.join("mosh-server")).expect("symlink");
    std::fs::remove_file(&deployed).expect("remove the copy");
    session("always");
    let _ = std::fs::remove_file(&deployed);
    let _ = std::fs::remove_dir_all(&rbin);
}
