//! The server's command line as a process: `mosh-server` (a symlink to the
//! rmosh binary) and `rmosh server` print Mosh's texts and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const USAGE_TAIL: &str =
    " new [-s] [-v] [-i LOCALADDR] [-p PORT[:PORT2]] [-c COLORS] [-l NAME=VALUE] [-- COMMAND...]\n";

const VERSION: &str = "mosh-server (mosh 1.4.0) [build mosh 1.4.0]\n\
Copyright 2012 Keith Winstein <mosh-devel@mit.edu>\n\
License GPLv3+: GNU GPL version 3 or later <http://gnu.org/licenses/gpl.html>.\n\
This is free software: you are free to change and redistribute it.\n\
There is NO WARRANTY, to the extent permitted by law.\n";

/// A temp dir holding a `mosh-server` symlink to the binary under test.
struct Link {
    dir: PathBuf,
}

impl Link {
    fn new(tag: &str) -> Link {
        let dir = std::env::temp_dir().join(format!("rmosh-srvcli-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let link = dir.join("mosh-server");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rmosh"), &link).expect("symlink");
        Link { dir }
    }
    fn path(&self) -> PathBuf {
        self.dir.join("mosh-server")
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(prog: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(prog);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn symlink_help_prints_mosh_usage_on_stdout() {
    let l = Link::new("help");
    let p = l.path();
    for flag in ["--help", "-h"] {
        let out = run(&p, &["new", "-p", "1", flag], &[]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            text(&out.stdout),
            format!("Usage: {}{USAGE_TAIL}", p.display())
        );
        assert_eq!(text(&out.stderr), "");
    }
}

#[test]
fn symlink_version_prints_mosh_banner() {
    let l = Link::new("version");
    let out = run(&l.path(), &["--version"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), VERSION);
}

#[test]
fn bad_port_range_exits_1() {
    let l = Link::new("port");
    let p = l.path();
    let out = run(&p, &["new", "-p", "5:3"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "Low port 5 greater than high port 3\n{0}: Bad UDP port range (5:3)\nUsage: {0}{USAGE_TAIL}",
            p.display()
        )
    );
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn bad_colors_exits_1() {
    let l = Link::new("colors");
    let p = l.path();
    let out = run(&p, &["new", "-c", "lots"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{0}: Bad number of colors (lots)\nUsage: {0}{USAGE_TAIL}",
            p.display()
        )
    );
}

#[test]
fn too_many_legacy_words_exit_1() {
    let l = Link::new("legacy");
    let p = l.path();
    let out = run(&p, &["a", "b", "c"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("Usage: {}{USAGE_TAIL}", p.display())
    );
}

#[test]
fn non_utf8_locale_is_refused_with_mosh_text() {
    let l = Link::new("locale");
    let out = Command::new(l.path())
        .args([
            "new",
            "-p",
            "0",
            "-i",
            "127.0.0.1",
            "-l",
            "LANG=C",
            "--",
            "true",
        ])
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .env("LANG", "C")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(
            "mosh-server needs a UTF-8 native locale to run.\n\n\
Unfortunately, the local environment (LANG=C) specifies\n\
the character set \"US-ASCII\",\n\n\
The client-supplied environment (LANG=C) specifies\n\
the character set \"US-ASCII\".\n\n"
        ),
        "{err}"
    );
    assert!(!text(&out.stdout).contains("MOSH CONNECT"));
}

#[test]
fn rmosh_server_help_describes_new_and_its_options() {
    let bin = Path::new(env!("CARGO_BIN_EXE_rmosh"));
    let out = run(bin, &["server", "--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    assert!(t.contains("new"), "{t}");
    let out = run(bin, &["server", "new", "--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    for needle in [
        "-p <PORT[:PORT2]>",
        "-c <COLORS>",
        "-l <NAME=VALUE>",
        "-i <LOCALADDR>",
        "-s",
        "-v",
    ] {
        assert!(t.contains(needle), "missing {needle} in:\n{t}");
    }
}

#[test]
fn rmosh_server_new_reports_bad_port_like_mosh() {
    let bin = Path::new(env!("CARGO_BIN_EXE_rmosh"));
    let out = run(bin, &["server", "new", "-p", "70000"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "(Low) port number 70000 outside valid range [0..65535]\n\
rmosh server: Bad UDP port range (70000)\nUsage: rmosh server{USAGE_TAIL}"
        )
    );
}
