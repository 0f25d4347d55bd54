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
fn version_is_printed() {
    let out = run(Command::new(rmosh()).arg("--version"));
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("rmosh {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = run(Command::new(rmosh()).arg("frobnicate"));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("frobnicate"));
}
