//! Security properties of the bootstrap and of every role's process, each
//! checked live: names from the command line never reach a shell, hashed
//! known_hosts entries match whatever the case of the name, secrets stay out
//! of core files and out of other processes' reach, the remote cannot draw on
//! the local terminal during login, and a deployed binary is checked before it runs.

mod support;

use std::process::Command;
use std::time::Duration;

use support::process::{describe, run_with_timeout};
use support::sshd::*;

const LIMIT: Duration = Duration::from_secs(30);

/// A config whose `ProxyCommand` logs `%h` and `%r`, then tunnels to `s`
/// through OpenSSH (`ssh -W`), so a valid name makes a whole login.
fn proxy_config(s: &Sshd) -> std::path::PathBuf {
    let config = s.path("proxy_config");
    std::fs::write(
        &config,
        format!(
            "Host *\n  ProxyCommand echo %h %r >> {log}; exec ssh -F none -i {key} -p {port} \
             -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
             -W 127.0.0.1:{port} 127.0.0.1\n  IdentityFile {key}\n  Port {port}\n",
            log = s.path("proxy.log").display(),
            key = s.path("user_key").display(),
            port = s.port
        ),
    )
    .expect("write config");
    config
}

#[test]
fn proxy_command_tokens_cannot_inject_commands() {
    let s = Sshd::start("inject", "");
    let config = proxy_config(&s);
    let known = format!("UserKnownHostsFile={}", s.path("known_hosts").display());
    s.trust_host_key();
    let run = |dest: &str, extra: &[&str]| {
        let mut c = s.rmosh();
        c.arg("-F")
            .arg(&config)
            .args(["-o", &known, "-o", "GlobalKnownHostsFile=none"])
            .args(["--server", &s.path("server.sh").display().to_string()])
            .args(["--client", &s.path("client.sh").display().to_string()])
            .args(extra)
            .args([dest, "--", "true"]);
        run_with_timeout(c, LIMIT)
    };
    let pwned = s.path("pwned");
    let cases: [(&str, &[&str], &str); 5] = [
        ("$(touch PWNED)", &[], "host name"),
        ("`touch PWNED`", &[], "host name"),
        ("x;touch PWNED;@127.0.0.1", &[], "remote user name"),
        ("127.0.0.1", &["-l", "$(touch PWNED)"], "remote user name"),
        (
            "127.0.0.1",
            &["-o", "User=a|touch PWNED"],
            "remote user name",
        ),
    ];
    for (dest, extra, part) in cases {
        let dest = dest.replace("PWNED", &pwned.display().to_string());
        let extra: Vec<String> = extra
            .iter()
            .map(|a| a.replace("PWNED", &pwned.display().to_string()))
            .collect();
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let out = run(&dest, &extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{dest}: {}", describe(&out));
        assert!(
            err.contains(&format!("the {part}")) && err.contains("invalid characters"),
            "{dest}: {err}"
        );
        assert!(!pwned.exists(), "{dest} ran a command: {}", describe(&out));
        assert!(
            !s.path("proxy.log").exists(),
            "the ProxyCommand ran for {dest}"
        );
        assert!(s.client_got().is_none());
    }
    // The same ProxyCommand carries a valid name all the way to the hand-off.
    let out = run("127.0.0.1", &[]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        s.client_got().map(|(_, key)| key).as_deref(),
        Some(FAKE_KEY)
    );
    let log = std::fs::read_to_string(s.path("proxy.log")).expect("ProxyCommand ran");
    assert_eq!(log.trim(), "127.0.0.1 root");
}

#[test]
fn external_ssh_destination_starting_with_dash_is_refused() {
    let s = Sshd::start("dash", "");
    let link = s.path("mosh");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rmosh"), &link).expect("symlink");
    let pwned = s.path("pwned");
    let mut c = Command::new(&link);
    c.env("HOME", s.path("home"))
        .stdin(std::process::Stdio::null())
        .arg(format!("--ssh={}", s.external_ssh()))
        .arg(format!("--client={}", s.path("client.sh").display()))
        .arg("--")
        .arg(format!("-oProxyCommand=touch {}", pwned.display()))
        .args(["--", "true"]);
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("begins with '-'"),
        "{}",
        describe(&out)
    );
    assert!(!pwned.exists(), "ssh took the destination for an option");
    assert!(s.client_got().is_none());
}

/// `ssh-keyscan -H` of `s` under `name`: hashed `[name]:port` entries.
fn keyscan_hashed(s: &Sshd, name: &str) -> String {
    let out = Command::new(support::process::require("ssh-keyscan"))
        .args(["-H", "-t", "ed25519", "-p", &s.port.to_string(), name])
        .output()
        .expect("run ssh-keyscan");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("|1|"), "ssh-keyscan -H: {out:?}");
    text
}

#[test]
fn hashed_known_hosts_match_whatever_the_case_of_the_name() {
    let s = Sshd::start("hashcase", "");
    let kh = s.path("known_hosts");
    std::fs::write(&kh, keyscan_hashed(&s, "localhost")).expect("write");
    let connect = |host: &str, options: &[&str]| {
        let mut c = s.rmosh();
        c.args(s.std_args())
            .arg("-i")
            .arg(s.path("user_key"))
            .args(["--family", "inet"])
            .args(options.iter().flat_map(|o| ["-o", o]))
            .args([host, "--", "true"]);
        run_with_timeout(c, LIMIT)
    };
    // Known: the hashed entry for "localhost" is found for "LocalHost".
    let out = connect("LocalHost", &["StrictHostKeyChecking=yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(s.client_got().map(|(_, k)| k).as_deref(), Some(FAKE_KEY));
    // Changed: another key under the same hashed name is refused, not "unknown".
    keygen(&s.path("other_host"), "ed25519", "");
    let other = std::fs::read_to_string(s.path("other_host.pub")).expect("read");
    let scanned = keyscan_hashed(&s, "localhost");
    let hashed_name = scanned.split_whitespace().next().expect("host field");
    std::fs::write(&kh, format!("{hashed_name} {}", other.trim())).expect("write");
    let out = connect("LOCALHOST", &["StrictHostKeyChecking=no"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{err}"
    );
    // Recorded: a hashed entry written for "LocalHost" is one OpenSSH finds
    // for "localhost".
    std::fs::remove_file(&kh).expect("remove");
    let out = connect(
        "LocalHost",
        &["StrictHostKeyChecking=accept-new", "HashKnownHosts=yes"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let found = Command::new(support::process::require("ssh-keygen"))
        .arg("-F")
        .arg(format!("[localhost]:{}", s.port))
        .arg("-f")
        .arg(&kh)
        .output()
        .expect("run ssh-keygen -F");
    assert!(
        found.status.success(),
        "ssh-keygen -F did not find the recorded entry: {}",
        std::fs::read_to_string(&kh).unwrap_or_default()
    );
    // A HostKeyAlias is used as given.
    std::fs::write(&kh, keyscan_hashed(&s, "localhost")).expect("write");
    let out = connect(
        "localhost",
        &["StrictHostKeyChecking=yes", "HostKeyAlias=LOCALHOST"],
    );
    assert!(!out.status.success(), "{}", describe(&out));
}

#[test]
fn remote_output_before_connect_cannot_draw_on_the_terminal() {
    let s = Sshd::start("escapes", "");
    s.trust_host_key();
    let hostile = "printf '\\033]0;retitled\\007motd\\033[2J\\r\\n\\302\\2336n\\r\\n'";
    support::tempdir::write_executable(
        &s.path("hostile.sh"),
        &format!("#!/bin/sh\n{hostile}\necho \"MOSH CONNECT 60001 {FAKE_KEY}\"\n"),
    );
    support::tempdir::write_executable(
        &s.path("hostile_broken.sh"),
        &format!("#!/bin/sh\n{hostile}\nexit 1\n"),
    );
    for (server, ok) in [("hostile.sh", true), ("hostile_broken.sh", false)] {
        let mut c = s.rmosh();
        c.args(s.args_with_server(server))
            .arg("-i")
            .arg(s.path("user_key"))
            .args(["127.0.0.1", "--", "true"]);
        let out = run_with_timeout(c, LIMIT);
        assert_eq!(out.status.success(), ok, "{}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("]0;retitledmotd[2J"), "{err:?}");
        assert!(
            !err.contains(['\x1b', '\x07', '\u{9b}', '\r']),
            "control characters reached the terminal: {err:?}"
        );
    }
}

#[test]
fn endless_remote_output_is_cut_off_with_a_clear_error() {
    let s = Sshd::start("flood", "");
    s.trust_host_key();
    // 8 MiB of one line, then 8 MiB of short lines, never a MOSH CONNECT.
    support::tempdir::write_executable(
        &s.path("flood.sh"),
        "#!/bin/sh\nhead -c 8388608 /dev/zero | tr '\\0' x\nyes | head -c 8388608\n",
    );
    let mut c = s.rmosh();
    c.args(s.args_with_server("flood.sh"))
        .arg("-i")
        .arg(s.path("user_key"))
        .args(["127.0.0.1", "--", "true"]);
    let started = std::time::Instant::now();
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("more than 1024 KiB without a \"MOSH CONNECT\" line"),
        "{}",
        describe(&out)
    );
    assert!(
        err.len() < 4096,
        "the error quotes too much: {} bytes",
        err.len()
    );
    assert!(started.elapsed() < LIMIT);
}

/// The uid and gid of the test user.
fn test_user_ids() -> (u32, u32) {
    require_test_user();
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, TEST_USER])
            .output()
            .expect("id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("numeric id")
    };
    (id("-u"), id("-g"))
}

/// The pids below `pid` (children first, breadth first).
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{p}/task"))
            .into_iter()
            .flatten();
        for t in tasks.flatten() {
            let children = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                out.push(c);
                todo.push(c);
            }
        }
    }
    out
}

/// The first process at or below `root` whose argv[0] ends with `name`.
fn find_process(root: u32, name: &str) -> Option<u32> {
    std::iter::once(root).chain(descendants(root)).find(|p| {
        std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| {
            c.split(|&b| b == 0)
                .next()
                .is_some_and(|a0| String::from_utf8_lossy(a0).ends_with(name))
        })
    })
}

/// What another process of the same (non-root) user can learn about `pid`.
struct Exposure {
    core_limit_zero: bool,
    environ_owner: u32,
    environ_readable_by_user: bool,
    environ_as_root: Vec<u8>,
}

fn exposure(pid: u32, uid: u32, gid: u32) -> Exposure {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("core line")
        .to_string();
    let fields: Vec<&str> = core.split_whitespace().collect();
    let environ = format!("/proc/{pid}/environ");
    let reader = Command::new("cat")
        .arg(&environ)
        .uid(uid)
        .gid(gid)
        .output()
        .expect("cat as the test user");
    Exposure {
        core_limit_zero: fields.get(4) == Some(&"0"),
        environ_owner: std::fs::metadata(&environ).expect("stat").uid(),
        environ_readable_by_user: reader.status.success(),
        environ_as_root: std::fs::read(&environ).unwrap_or_default(),
    }
}

/// Runs `cmd` as the test user, finds the process called `name` at or below
/// it, checks what the user's other processes can see of it, and stops it.
fn check_role(mut cmd: Command, name: &str, secret: Option<&str>) {
    use std::os::unix::process::CommandExt;
    let (uid, gid) = test_user_ids();
    cmd.uid(uid)
        .gid(gid)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("start the role");
    let mut found = None;
    assert!(
        support::process::wait_until(Duration::from_secs(10), || {
            found = find_process(child.id(), name);
            // Past its first instructions: the secrecy setup has run, and
            // the key has been taken out of the environment.
            found.is_some_and(|p| {
                let environ = format!("/proc/{p}/environ");
                std::fs::metadata(&environ)
                    .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
                    && secret.is_none_or(|k| {
                        std::fs::read(&environ)
                            .is_ok_and(|e| !String::from_utf8_lossy(&e).contains(k))
                    })
            })
        }),
        "{name}: no such process became non-dumpable with the key wiped (found {found:?})"
    );
    let pid = found.expect("found");
    let e = exposure(pid, uid, gid);
    let _ = child.kill();
    let _ = child.wait();
    assert!(e.core_limit_zero, "{name}: core dumps are on");
    assert_eq!(e.environ_owner, 0, "{name}: /proc/PID is owned by the user");
    assert!(
        !e.environ_readable_by_user,
        "{name}: another process of the user read /proc/{pid}/environ"
    );
    if let Some(secret) = secret {
        let env = String::from_utf8_lossy(&e.environ_as_root).into_owned();
        assert!(
            env.contains("MOSH_KEY="),
            "{name}: environ not read: {env:?}"
        );
        assert!(
            !env.contains(secret),
            "{name}: the key is still in environ: {env:?}"
        );
    }
}

/// A folder the test user can use as HOME, with an ssh config whose
/// ProxyCommand never answers (so a bootstrap waits in its handshake).
fn stalled_home(tag: &str) -> support::tempdir::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = support::tempdir::TempDir::new(tag);
    std::fs::create_dir_all(dir.join(".ssh")).expect("mkdir");
    std::fs::write(dir.join(".ssh/config"), "Host *\n  ProxyCommand sleep 60\n").expect("config");
    for p in [dir.path().to_path_buf(), dir.join(".ssh")] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

#[test]
fn every_role_is_non_dumpable_without_core_dumps() {
    let rmosh = env!("CARGO_BIN_EXE_rmosh");
    // connect: waits for the SSH handshake through a silent ProxyCommand.
    let home = stalled_home("role-connect");
    let mut c = Command::new(rmosh);
    c.env("HOME", home.path())
        .args(["connect", "-F"])
        .arg(home.join(".ssh/config"));
    c.args(["somehost", "--", "true"]);
    check_role(c, "rmosh", None);
    // wrapper: the same, invoked as `mosh`.
    let link = home.join("mosh");
    std::os::unix::fs::symlink(rmosh, &link).expect("symlink");
    let mut c = Command::new(&link);
    c.env("HOME", home.path()).args(["somehost", "--", "true"]);
    check_role(c, "mosh", None);
    // client: started with the key in its environment, in a terminal, with
    // no server answering.
    let key = "QUJDREVGR0hJSktMTU5PUA";
    let mut c = Command::new(support::process::require("script"));
    c.args([
        "-qfec",
        &format!("exec {rmosh} client 127.0.0.1 9"),
        "/dev/null",
    ])
    .env("HOME", home.path())
    .env("TERM", "xterm-256color")
    .env("MOSH_KEY", key);
    check_role(c, "rmosh", Some(key));
    // server: the detached server, which holds the key.
    let mut c = Command::new(rmosh);
    c.env("HOME", home.path())
        .args(["server", "new", "-i", "127.0.0.1", "--", "sleep", "60"]);
    check_role_detached(c);
}

/// `rmosh server new` forks a detached server and exits; checks that one.
fn check_role_detached(mut cmd: Command) {
    use std::os::unix::process::CommandExt;
    let (uid, gid) = test_user_ids();
    let out = cmd
        .uid(uid)
        .gid(gid)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the server");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let pid: u32 = text
        .split("detached, pid = ")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no detached server: {text}"));
    let e = exposure(pid, uid, gid);
    // Started by this test: stop it.
    support::process::signal(pid as i32, libc::SIGTERM);
    assert!(e.core_limit_zero, "server: core dumps are on");
    assert_eq!(e.environ_owner, 0, "server: /proc/PID is owned by the user");
    assert!(
        !e.environ_readable_by_user,
        "server: environ readable by the user"
    );
}
