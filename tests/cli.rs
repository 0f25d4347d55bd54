//! The multi-call binary: roles by argv[0], subcommands, completions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rmosh() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rmosh"))
}

fn run(cmd: &mut Command) -> Output {
    match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run {cmd:?}: {e}"),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn checked_in_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for shell in ["bash", "zsh", "fish"] {
        let out = run(Command::new(rmosh()).args(["completions", shell]));
        assert!(out.status.success(), "completions {shell} failed");
        let file = root.join("completions").join(format!("rmosh.{shell}"));
        let saved = std::fs::read(&file).unwrap_or_default();
        assert!(
            saved == out.stdout,
            "{} is stale: run scripts/gen-completions.sh",
            file.display()
        );
    }
}

#[test]
fn checked_in_man_pages_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for page in ["rmosh", "rmosh-connect", "rmosh-server", "rmosh-client"] {
        let out = run(Command::new(rmosh()).args(["man", page]));
        assert!(out.status.success(), "man {page} failed");
        let file = root.join("man").join(format!("{page}.1"));
        let saved = std::fs::read(&file).unwrap_or_default();
        assert!(
            saved == out.stdout,
            "{} is stale: run scripts/gen-completions.sh",
            file.display()
        );
    }
}

#[test]
fn completion_offers_hosts_from_ssh_config_and_known_hosts() {
    let home = std::env::temp_dir().join(format!("rmosh-hosts-{}", std::process::id()));
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).expect("mkdir");
    std::fs::write(ssh.join("config"), "Host alpha *.wild\nInclude conf.d/*\n").expect("w");
    std::fs::write(ssh.join("conf.d/x"), "Host beta\n").expect("w");
    std::fs::write(
        ssh.join("known_hosts"),
        "gamma,192.0.2.7 ssh-ed25519 AAAA\n|1|aGFzaA==|aGFzaA== ssh-ed25519 AAAA\n",
    )
    .expect("w");
    let out = run(Command::new(rmosh())
        .arg("complete-hosts")
        .env("HOME", &home));
    let _ = std::fs::remove_dir_all(&home);
    let hosts = text(&out.stdout);
    for h in ["alpha\n", "beta\n", "gamma\n", "192.0.2.7\n"] {
        assert!(hosts.contains(h), "{h:?} missing from {hosts:?}");
    }
    assert!(!hosts.contains("wild") && !hosts.contains("|1|"), "{hosts}");
    let bash = run(Command::new(rmosh()).args(["completions", "bash"]));
    assert!(text(&bash.stdout).contains("rmosh complete-hosts"));
}

#[test]
fn version_is_printed() {
    let out = run(Command::new(rmosh()).arg("--version"));
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("rmosh {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_option_is_a_usage_error() {
    let out = run(Command::new(rmosh()).arg("--frobnicate"));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("frobnicate"));
}

#[test]
fn a_bare_host_is_connect_and_a_host_named_like_a_subcommand_needs_connect() {
    // -G stops after resolving, so no network is involved.
    // The subcommand wins when it comes first.
    let out = run(Command::new(rmosh()).args(["server", "--help"]));
    assert!(out.status.success());
    assert!(
        !text(&out.stdout).contains("DESTINATION"),
        "{}",
        text(&out.stdout)
    );
    let out = run(Command::new(rmosh()).args(["-G", "-F", "none", "-l", "u", "somehost"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("hostname somehost\n"));
    let out = run(Command::new(rmosh()).args(["connect", "-G", "-F", "none", "server"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("hostname server\n"));
}

/// Runs the binary through a symlink named `name` with `args`.
fn via_symlink(name: &str, args: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!("rmosh-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let link = dir.join(name);
    std::os::unix::fs::symlink(rmosh(), &link).expect("symlink");
    let out = run(Command::new(&link).args(args));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn symlink_mosh_server_prints_the_server_usage() {
    let out = via_symlink("mosh-server", &["--help"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "mosh-server new [-s] [-v] [-i LOCALADDR] [-p PORT[:PORT2]] [-c COLORS] [-l NAME=VALUE] [-- COMMAND...]"
        ),
        "{stdout}"
    );
}

#[test]
fn symlink_mosh_client_prints_the_client_usage() {
    let out = via_symlink("mosh-client", &["--help"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("mosh-client [-# 'ARGS'] IP PORT"),
        "{stdout}"
    );
    assert!(stdout.contains("mosh-client -c"), "{stdout}");
}

#[test]
fn symlink_mosh_prints_the_wrapper_usage() {
    let out = via_symlink("mosh", &["--help"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("[options] [--] [user@]host [command...]"),
        "{stdout}"
    );
    for option in [
        "--predict=",
        "--ssh=",
        "--server=",
        "--family=",
        "--bind-server=",
        "--no-init",
        "--local",
    ] {
        assert!(
            stdout.contains(option),
            "wrapper usage lacks {option}:\n{stdout}"
        );
    }
}

#[test]
fn subcommands_and_symlinks_reach_the_same_roles() {
    let server = run(Command::new(rmosh()).args(["server", "new", "-p", "notaport"]));
    assert_eq!(server.status.code(), Some(1));
    assert!(
        text(&server.stderr).contains("Bad UDP port range"),
        "{}",
        text(&server.stderr)
    );
    let linked = via_symlink("mosh-server", &["new", "-p", "notaport"]);
    assert_eq!(linked.status.code(), Some(1));
    assert!(text(&linked.stderr).contains("Bad UDP port range"));
}
