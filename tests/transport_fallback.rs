//! `rmosh connect` when UDP is blocked (issue #16): the session goes over the
//! SSH connection, moves back to UDP when UDP gets through, survives the SSH
//! connection being killed, and works with Debian's mosh-server on the host.
//! UDP is blocked with an nftables rule that drops the client's datagrams to
//! the server port (the client runs as root, the session logs in as the test
//! user, so the forwarder's datagrams on the host still pass). Needs root,
//! nft (package nftables) and the test user of `.ci/setup.d/bootstrap.sh`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use support::ports::free_udp_port;
use support::process::{require, rmosh_bin, wait_until};
use support::sshd::*;
use support::tempdir::TempDir;
use support::tmux::Tmux;
use support::typing_app::*;

/// An nftables table dropping root's UDP to one port; deleted on drop.
struct UdpBlock {
    table: String,
    port: u16,
}

fn nft(args: &str) -> String {
    let out = Command::new(require("nft"))
        .args(args.split(' '))
        .output()
        .expect("run nft");
    assert!(
        out.status.success(),
        "nft {args} failed (needs root and the nftables package): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl UdpBlock {
    fn new(port: u16) -> UdpBlock {
        static N: AtomicU32 = AtomicU32::new(0);
        let table = format!(
            "rmosh_fb_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let b = UdpBlock { table, port };
        nft(&format!("add table inet {}", b.table));
        let t = &b.table;
        let out = Command::new(require("nft"))
            .args([
                "add",
                "chain",
                "inet",
                t,
                "out",
                "{ type filter hook output priority 0 ; }",
            ])
            .output()
            .expect("run nft");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        nft(&format!(
            "add rule inet {t} out meta skuid 0 udp dport {port} counter drop"
        ));
        b
    }

    /// Replaces the drop with a counter of root's datagrams to the port.
    fn unblock(&self) {
        nft(&format!("flush chain inet {} out", self.table));
        nft(&format!(
            "add rule inet {} out meta skuid 0 udp dport {} counter accept",
            self.table, self.port
        ));
    }

    /// Root's datagrams to the port so far (dropped, or passed after unblock).
    fn packets(&self) -> u64 {
        let text = nft(&format!("list chain inet {} out", self.table));
        text.split("packets ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for UdpBlock {
    fn drop(&mut self) {
        let _ = Command::new("nft")
            .args(["delete", "table", "inet", &self.table])
            .status();
    }
}

/// An sshd, a folder the test user can write to (the typing application's
/// log), and the `rmosh connect` words logging in as the test user.
struct Host {
    sshd: Sshd,
    dir: TempDir,
    bin: std::path::PathBuf,
}

impl Host {
    fn start(name: &str) -> Host {
        require("nft");
        require("mosh-server");
        require_test_user();
        let dir = TempDir::new(name);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        // The host's PATH: this rmosh (for the forwarder), then the system.
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::os::unix::fs::symlink(rmosh_bin(), bin.join("rmosh")).expect("symlink");
        let sshd = Sshd::start(
            name,
            &format!("SetEnv PATH={}:/usr/bin:/bin", bin.display()),
        );
        sshd.trust_host_key();
        Host { sshd, dir, bin }
    }

    fn words(&self, udp_port: u16, server: &str, extra: &[&str], app: &[String]) -> String {
        let s = &self.sshd;
        let mut w = vec![
            rmosh_bin().to_string(),
            "connect".into(),
            "--ssh-port".into(),
            s.port.to_string(),
            "-F".into(),
            s.path("empty_config").display().to_string(),
            "-i".into(),
            s.path("user_key").display().to_string(),
            "-o".into(),
            format!("UserKnownHostsFile={}", s.path("known_hosts").display()),
            "-l".into(),
            TEST_USER.into(),
            "-p".into(),
            udp_port.to_string(),
            "--server".into(),
            server.into(),
        ];
        w.extend(extra.iter().map(|e| e.to_string()));
        w.push("127.0.0.1".into());
        w.push("--".into());
        w.extend(app.iter().cloned());
        w.iter()
            .map(|x| format!("'{}'", x.replace('\'', r"'\''")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs `rmosh connect` in tmux (80×24) with HOME in the sshd's folder.
    fn connect(&self, words: &str) -> Tmux {
        Tmux::spec(80, 24)
            .term("xterm-256color")
            .env("LC_ALL", "C.UTF-8")
            .env("HOME", &self.sshd.path("home").display().to_string())
            .env("SSH_AUTH_SOCK", "")
            .run(&format!("{words}; echo CLIENT-EXIT rc=$?; sleep 600"))
    }

    fn rmosh_server(&self) -> String {
        format!("{} server", self.bin.join("rmosh").display())
    }
}

/// Processes running `rmosh forward PORT` (not the shells that started them).
fn forwarders(port: u16) -> Vec<i32> {
    let needle = format!("\0forward\0{port}\0");
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmd).contains(&needle) {
            pids.push(pid);
        }
    }
    pids
}

fn quit(client: &Tmux) {
    client.bytes(&[0x1e]);
    client.type_text(".");
    assert!(
        wait_until(Duration::from_secs(10), || client_exited(client)),
        "{}",
        client.text()
    );
}

#[test]
fn udp_blocked_session_goes_over_ssh_then_back_to_udp() {
    let h = Host::start("fb-rmosh");
    let (app, log) = app_command(&h.dir);
    let port = free_udp_port();
    let block = UdpBlock::new(port);
    let t0 = Instant::now();
    let client = h.connect(&h.words(port, &h.rmosh_server(), &[], &app));
    wait_ready(&client);
    let ready_after = t0.elapsed();
    assert!(block.packets() > 0, "the client did try UDP first");
    let title = client.pane_title();
    assert!(
        title.contains("via ssh"),
        "marked as on the SSH path: {title:?}"
    );
    assert_eq!(forwarders(port).len(), 1, "one forwarder runs");

    let first = keystrokes(150, 16);
    type_paced(&client, &first, 5, Duration::from_millis(30));
    let got = wait_log(&log, first.len(), Duration::from_secs(20));
    assert_exactly_once_in_order(&got, &first);

    // UDP gets through again: within a few probe periods the session is
    // back on UDP, its forwarder gone, and the keys go straight to the port.
    block.unblock();
    assert!(
        wait_until(Duration::from_secs(30), || !client
            .pane_title()
            .contains("via ssh")),
        "still on the SSH path: {}",
        client.pane_title()
    );
    assert!(
        wait_until(Duration::from_secs(10), || forwarders(port).is_empty()),
        "the forwarder still runs"
    );
    let direct_before = block.packets();
    let second = keystrokes(100, 17);
    type_paced(&client, &second, 5, Duration::from_millis(30));
    let mut all = first.clone();
    all.extend_from_slice(&second);
    let got = wait_log(&log, all.len(), Duration::from_secs(20));
    assert_exactly_once_in_order(&got, &all);
    assert!(
        block.packets() >= direct_before + 10,
        "typing went over UDP: {} -> {}",
        direct_before,
        block.packets()
    );
    assert_screens_agree(&client, &all, Duration::from_secs(10));
    quit(&client);
    eprintln!("ready over SSH after {ready_after:?}");
}

fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The parent pid is the second field after the command in parentheses.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Kills the sshd processes serving connections (everything under the
/// listener: the privileged monitor, the network child, the forwarder).
fn kill_sshd_connections(s: &Sshd) -> usize {
    let config = s.path("sshd_config").display().to_string();
    let pids: Vec<i32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .collect();
    let mut tree: Vec<i32> = pids
        .iter()
        .copied()
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmd).contains(&config)
        })
        .collect();
    let listeners = tree.len();
    let mut grew = true;
    while grew {
        grew = false;
        for &pid in &pids {
            if !tree.contains(&pid) && parent_of(pid).is_some_and(|p| tree.contains(&p)) {
                tree.push(pid);
                grew = true;
            }
        }
    }
    for &pid in &tree[listeners..] {
        // SAFETY: kill(2) on a pid read just now from /proc.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    tree.len() - listeners
}

/// Debian's mosh-server on the host (rmosh there only as the forwarder),
/// UDP blocked, and the sshd process serving the connection killed in the
/// middle of typing: rmosh logs in again by itself and every key typed
/// during the outage arrives exactly once.
#[test]
fn debian_server_over_ssh_survives_the_ssh_connection_being_killed() {
    let h = Host::start("fb-debian");
    let (app, log) = app_command(&h.dir);
    let port = free_udp_port();
    let _block = UdpBlock::new(port);
    let client = h.connect(&h.words(port, "mosh-server", &[], &app));
    wait_ready(&client);
    assert!(
        client.pane_title().contains("via ssh"),
        "{}",
        client.pane_title()
    );
    let before = keystrokes(60, 21);
    type_paced(&client, &before, 5, Duration::from_millis(30));
    let got = wait_log(&log, before.len(), Duration::from_secs(20));
    assert_exactly_once_in_order(&got, &before);

    assert!(kill_sshd_connections(&h.sshd) > 0, "no sshd child to kill");
    let during = keystrokes(120, 22);
    type_paced(&client, &during, 4, Duration::from_millis(40));
    let mut all = before.clone();
    all.extend_from_slice(&during);
    let got = wait_log(&log, all.len(), Duration::from_secs(40));
    assert_exactly_once_in_order(&got, &all);
    assert_screens_agree(&client, &all, Duration::from_secs(10));
    assert_eq!(
        h.sshd.log().matches("Accepted publickey").count(),
        2,
        "one new login: {}",
        h.sshd.log()
    );
    assert!(client.pane_title().contains("via ssh"));
    quit(&client);
}

/// A forwarder that answers with garbage: the SSH path ends with a clear
/// error (shown when the session gives up), nothing crashes.
#[test]
fn garbage_from_the_forwarder_is_a_clear_error() {
    let h = Host::start("fb-garbage");
    // `X server ...` runs rmosh's server; `X forward PORT` prints a greeting
    // and then a frame header announcing 65535 bytes.
    let fake = h.dir.join("bin/fake");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nif [ \"$1\" = forward ]; then printf 'RMOSH-FORWARD 1\\n\\377\\377junk'; sleep 30; exit 0; fi\n\
             shift; exec {} server \"$@\"\n",
            rmosh_bin()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let port = free_udp_port();
    let server = format!("{} server", fake.display());
    let app = vec!["cat".to_string()];
    let client = h.connect(&h.words(port, &server, &["--transport", "ssh"], &app));
    let text = client.wait_for("the client's verdict", Duration::from_secs(40), |t| {
        t.contains("CLIENT-EXIT")
    });
    let joined = client.capture(support::tmux::View::Joined);
    assert!(
        joined.contains("malformed framing: a frame of 65535 bytes"),
        "{text}\n{joined}"
    );
    assert!(joined.contains("CLIENT-EXIT rc=1"), "{joined}");
    assert!(!joined.contains("panicked"), "{joined}");
}
