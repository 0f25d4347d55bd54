//! rmosh server ↔ Debian's stock `mosh-client` through the `rmosh-relay`
//! impairment relay: delay, jitter, loss, duplication, reordering and a
//! client address change mid-session. The stock client (built with
//! assertions) must never abort, the screen must converge, and the session
//! must still end with a clean shutdown (exit status 0).

mod server_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use server_support::{PROMPT, Server, TempDir, Tmux, client_script, mosh_server_link};

const SEC: Duration = Duration::from_secs(1);

/// The relay process; killed on drop.
struct Relay {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    port: u16,
}

impl Relay {
    fn start(server_port: u16, extra: &[&str]) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rmosh-relay"))
            .args(["--listen", "127.0.0.1:0", "--server"])
            .arg(format!("127.0.0.1:{server_port}"))
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("rmosh-relay");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("port line");
        let port = line.trim().parse().expect("relay port");
        Relay {
            child,
            stdin,
            stdout,
            port,
        }
    }

    fn cmd(&mut self, c: &str) -> String {
        writeln!(self.stdin, "{c}").expect("relay command");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("relay reply");
        line.trim().to_owned()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn assert_no_abort(screen: &str) {
    for bad in ["Aborted", "assertion", "Assertion", "core dumped"] {
        assert!(!screen.contains(bad), "client aborted:\n{screen}");
    }
}

#[test]
fn stock_client_survives_loss_delay_reordering_and_roaming() {
    let dir = TempDir::new("impair");
    let link = mosh_server_link(&dir.path);
    let home = dir.path.join("home");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(home.join(".hushlogin"), "").expect("hushlogin");
    std::fs::write(home.join(".profile"), format!("PS1='{PROMPT} '\n")).expect("profile");
    let home_s = home.to_string_lossy().into_owned();
    let server = Server::start(&link, &[], &[("HOME", &home_s), ("SHELL", "/bin/sh")]);
    let mut relay = Relay::start(
        server.port,
        &[
            "--seed",
            "7",
            "--delay",
            "40",
            "--jitter",
            "15",
            "--loss",
            "10",
            "--dup",
            "3",
            "--reorder",
            "5",
        ],
    );
    let script = client_script(&dir.path, relay.port);
    let tmux = Tmux::start(&script, 80, 24, &[("MOSH_KEY", &server.key)]);
    tmux.expect(PROMPT, 20 * SEC);

    tmux.type_text("echo first-''$((6*7))");
    tmux.keys(&["Enter"]);
    assert_no_abort(&tmux.expect("first-42", 20 * SEC));

    // The client's address changes, as after a network switch.
    relay.cmd("rebind");
    tmux.type_text("echo after-roam-''$((40+2))");
    tmux.keys(&["Enter"]);
    assert_no_abort(&tmux.expect("after-roam-42", 20 * SEC));

    // Several screens of output, fragmented instructions under loss.
    tmux.type_text("seq 1 30000 | tail -n 400; echo end-of-''seq");
    tmux.keys(&["Enter"]);
    let screen = tmux.expect("end-of-seq", 30 * SEC);
    assert!(screen.contains("30000"), "{screen}");
    assert_no_abort(&screen);

    relay.cmd("rebind");
    tmux.type_text("exit");
    tmux.keys(&["Enter"]);
    let screen = tmux.expect("RC=", 30 * SEC);
    assert_no_abort(&screen);
    assert!(screen.contains("[mosh is exiting.]"), "{screen}");
    assert!(screen.contains("RC=0"), "{screen}");
    assert!(server.wait_exit(15 * SEC), "server still running");
}
