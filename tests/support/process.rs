//! Programs and processes: where the binaries are, failing when a needed
//! program is missing, and watching or signalling only processes we started.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The rmosh binary under test.
pub fn rmosh_bin() -> &'static str {
    env!("CARGO_BIN_EXE_rmosh")
}

/// The impairment relay binary; FAILS the test when it was not built (it
/// needs `--features relay`, as `scripts/test.sh` passes).
pub fn relay_bin() -> &'static str {
    match option_env!("CARGO_BIN_EXE_rmosh-relay") {
        Some(path) => path,
        None => panic!("rmosh-relay was not built: run the tests with `--features relay`"),
    }
}

/// The Debian package that provides `program`, for the failure message.
fn package_of(program: &str) -> &str {
    match program {
        "mosh" | "mosh-server" | "mosh-client" => "mosh",
        "sshd" => "openssh-server",
        "ssh-keygen" | "ssh-agent" | "ssh-add" => "openssh-client",
        "script" => "bsdutils",
        "ip" => "iproute2",
        other => other,
    }
}

/// The full path of `program`, from PATH or the sbin folders; FAILS the test
/// (never skips it) when the program is not installed.
pub fn require(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let sbin = [PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")];
    std::env::split_paths(&path)
        .chain(sbin)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{program} is required by this test but is not installed (apt-get install {})",
                package_of(program)
            )
        })
}

/// Whether `pid` still runs: it exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    // Field 3 of /proc/PID/stat, after the parenthesised name, is the state.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            rest.split_whitespace().next().map(|s| s != "Z" && s != "X")
        })
        .unwrap_or(false)
}

/// Sends `sig` to `pid`, a process this test started; true if it was delivered.
pub fn signal(pid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) has no memory effects; callers pass only pids they started.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Polls `f` every 50 ms until it holds or `limit` passes; whether it held.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

/// Runs `cmd` to completion with its output captured; kills it after `limit`.
pub fn run_with_timeout(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn the command");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait for the command").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
        .wait_with_output()
        .expect("collect the command's output")
}

/// Collects the output of a command that must finish within `limit`
/// (a daemon's parent exits once it detached); panics naming `what` if not.
pub fn output_within(mut cmd: Command, limit: Duration, what: &str) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}"))
        .unwrap_or_else(|e| panic!("collect the output of {what}: {e}"))
}

/// Status, stdout and stderr of a finished command, for failure messages.
pub fn describe(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
