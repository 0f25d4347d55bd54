//! The client's command line as a process: Mosh's messages and exit codes
//! for `mosh-client` (argv[0]) and `rmosh client`.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn rmosh() -> &'static str {
    env!("CARGO_BIN_EXE_rmosh")
}

/// A private directory holding a `mosh-client` symlink to the binary.
struct LinkDir(PathBuf);

impl LinkDir {
    fn new(tag: &str) -> LinkDir {
        let dir =
            std::env::temp_dir().join(format!("rmosh-client-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::os::unix::fs::symlink(rmosh(), dir.join("mosh-client")).expect("symlink");
        LinkDir(dir)
    }

    fn mosh_client(&self) -> Command {
        let mut c = Command::new(self.0.join("mosh-client"));
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LANG", "C.UTF-8")
            .env("TERM", "xterm-256color")
            .stdin(Stdio::null());
        c
    }
}

impl Drop for LinkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(mut c: Command) -> (Output, String, String) {
    let out = c.output().expect("run mosh-client");
    let so = String::from_utf8_lossy(&out.stdout).into_owned();
    let se = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, so, se)
}

#[test]
fn symlink_named_mosh_client_prints_client_usage() {
    let d = LinkDir::new("help");
    let mut c = d.mosh_client();
    c.arg("--help");
    let (out, so, _) = run(c);
    assert!(out.status.success());
    assert!(so.starts_with("mosh-client (rmosh "), "{so}");
    assert!(so.contains("[-# 'ARGS'] IP PORT\n"), "{so}");
    assert!(so.contains("mosh-client -c\n"), "{so}");
}

#[test]
fn version_goes_to_stdout() {
    let d = LinkDir::new("version");
    let mut c = d.mosh_client();
    c.args(["127.0.0.1", "--version"]);
    let (out, so, se) = run(c);
    assert!(out.status.success());
    assert!(so.starts_with("mosh-client (rmosh "), "{so}");
    assert!(se.is_empty(), "{se}");
}

#[test]
fn bad_port_is_refused_with_usage() {
    let d = LinkDir::new("port");
    let mut c = d.mosh_client();
    c.env("MOSH_KEY", "AAAAAAAAAAAAAAAAAAAAAA")
        .args(["127.0.0.1", "6000x"]);
    let (out, _, se) = run(c);
    assert_eq!(out.status.code(), Some(1));
    assert!(se.contains("mosh-client: Bad UDP port (6000x)\n\n"), "{se}");
    assert!(se.contains("Usage: "), "{se}");
}

#[test]
fn missing_key_is_mosh_message() {
    let d = LinkDir::new("nokey");
    let mut c = d.mosh_client();
    c.args(["127.0.0.1", "60001"]);
    let (out, so, se) = run(c);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(se, "MOSH_KEY environment variable not found.\n");
    assert_eq!(so, "");
}

#[test]
fn unknown_prediction_mode_is_refused() {
    let d = LinkDir::new("predict");
    let mut c = d.mosh_client();
    c.env("MOSH_KEY", "AAAAAAAAAAAAAAAAAAAAAA")
        .env("MOSH_PREDICTION_DISPLAY", "sometimes")
        .args(["127.0.0.1", "60001"]);
    let (out, _, se) = run(c);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(se, "Unknown prediction mode sometimes.\n");
}

#[test]
fn non_utf8_locale_is_refused() {
    let d = LinkDir::new("locale");
    let mut c = d.mosh_client();
    c.env("MOSH_KEY", "AAAAAAAAAAAAAAAAAAAAAA")
        .env("LANG", "C")
        .env("LC_ALL", "")
        .args(["127.0.0.1", "60001"]);
    let (out, _, se) = run(c);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        se.starts_with(
            "mosh-client needs a UTF-8 native locale to run.\n\nUnfortunately, the client's environment (LC_ALL=) specifies\nthe character set \"US-ASCII\".\n\n"
        ),
        "{se}"
    );
}

#[test]
fn unknown_terminal_is_an_error() {
    let d = LinkDir::new("term");
    let mut c = d.mosh_client();
    c.env("MOSH_KEY", "AAAAAAAAAAAAAAAAAAAAAA")
        .env("TERM", "no-such-terminal-xyz")
        .args(["127.0.0.1", "60001"]);
    let (out, so, se) = run(c);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(se, "Error: Unknown terminal type.\r\n");
    assert_eq!(so, "[mosh is exiting.]\n");
}

#[test]
fn colors_follow_terminfo() {
    let d = LinkDir::new("colors");
    for (term, want) in [
        ("xterm-256color", "256\n"),
        ("xterm", "8\n"),
        ("dumb", "-1\n"),
    ] {
        let mut c = d.mosh_client();
        c.env("TERM", term).arg("-c");
        let (out, so, _) = run(c);
        assert!(out.status.success(), "{term}");
        assert_eq!(so, want, "{term}");
    }
    let mut c = d.mosh_client();
    c.env("TERM", "no-such-terminal-xyz").arg("-c");
    let (out, _, se) = run(c);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(se, "'no-such-terminal-xyz': unknown terminal type.\n");
    let mut c = d.mosh_client();
    c.env_remove("TERM").arg("-c");
    let (out, _, se) = run(c);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(se, "TERM environment variable not set.\n");
}

#[test]
fn colors_agree_with_tput() {
    // `tput colors` is the reference the wrapper's users know.
    let d = LinkDir::new("tput");
    for term in ["xterm-256color", "xterm", "screen", "vt100", "linux"] {
        let tput = Command::new("tput")
            .env("TERM", term)
            .arg("colors")
            .output()
            .expect("tput (ncurses-bin) is required");
        let mut c = d.mosh_client();
        c.env("TERM", term).arg("-c");
        let (_, so, _) = run(c);
        assert_eq!(so, String::from_utf8_lossy(&tput.stdout), "{term}");
    }
}

#[test]
fn rmosh_client_subcommand_checks_port_and_key() {
    let out = Command::new(rmosh())
        .env_remove("MOSH_KEY")
        .args(["client", "127.0.0.1", "60001"])
        .stdin(Stdio::null())
        .output()
        .expect("run rmosh client");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "MOSH_KEY environment variable not found.\n"
    );
    let out = Command::new(rmosh())
        .args(["client", "127.0.0.1", "70000"])
        .output()
        .expect("run rmosh client");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Bad UDP port (70000)"));
}

#[test]
fn malformed_key_is_mosh_crypto_error() {
    let d = LinkDir::new("badkey");
    for (key, text) in [
        ("abc", "Key must be 22 letters long."),
        ("AAAAAAAAAAAAAAAAAAAA~A", "Key must be well-formed base64."),
        (
            "AAAAAAAAAAAAAAAAAAAAAB",
            "Base64 key was not encoded 128-bit key.",
        ),
    ] {
        let mut c = d.mosh_client();
        c.env("MOSH_KEY", key).args(["127.0.0.1", "60001"]);
        let (out, so, se) = run(c);
        assert_eq!(out.status.code(), Some(1), "{key}");
        assert_eq!(se, format!("Crypto exception: {text}\r\n"), "{key}");
        assert_eq!(so, "[mosh is exiting.]\n", "{key}");
    }
}
