//! Sessions that outlive their client (docs/sessions.md), against the real
//! programs: `rmosh server list | kill | attach` with rmosh's and Debian's
//! clients, an old client that is still running, racing attaches, lossy
//! paths and a second user.

mod support;

use std::process::{Command, Output};
use std::time::Duration;

use support::mosh::{Impl, Server, ServerSpec, parse_connect};
use support::process::{alive, describe, require, rmosh_bin, run_with_timeout, signal, wait_until};
use support::relay::Relay;
use support::server_session::{PROMPT, prompt_home};
use support::tempdir::TempDir;
use support::tmux::Tmux;

const LIMIT: Duration = Duration::from_secs(20);

/// A scratch home with a known prompt and a private registry.
struct Host {
    dir: TempDir,
}

impl Host {
    fn new(tag: &str) -> Host {
        let dir = TempDir::new(tag);
        prompt_home(&dir);
        Host { dir }
    }

    fn tmpdir(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// `rmosh server new` running `command` (default: /bin/sh as login shell).
    fn start(&self, command: &[&str]) -> Server {
        let home = self.dir.join("home").display().to_string();
        let mut spec = ServerSpec::new(Impl::Rmosh)
            .env("HOME", &home)
            .env("SHELL", "/bin/sh")
            .env("LANG", "C.UTF-8")
            .env("RMOSH_TMPDIR", &self.tmpdir())
            .env_remove("LC_ALL");
        if !command.is_empty() {
            spec = spec.command(command);
        }
        spec.start()
    }

    /// `rmosh server ARGS` against this host's registry.
    fn server_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(rmosh_bin());
        c.arg("server")
            .args(args)
            .env("RMOSH_TMPDIR", self.tmpdir());
        c
    }

    fn server(&self, args: &[&str]) -> Output {
        run_with_timeout(self.server_cmd(args), LIMIT)
    }

    /// `rmosh server attach ARGS`: the new port and key.
    fn attach(&self, args: &[&str]) -> (u16, String) {
        let mut all = vec!["attach"];
        all.extend_from_slice(args);
        let out = self.server(&all);
        assert!(out.status.success(), "{}", describe(&out));
        parse_connect(&String::from_utf8_lossy(&out.stdout))
            .unwrap_or_else(|| panic!("no MOSH CONNECT: {}", describe(&out)))
    }

    /// `rmosh server list --json`, one object per session (as text).
    fn list(&self) -> Vec<String> {
        let out = self.server(&["list", "--json"]);
        assert!(out.status.success(), "{}", describe(&out));
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let inner = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or_else(|| panic!("not a JSON array: {text}"));
        if inner.is_empty() {
            return Vec::new();
        }
        inner.split("},{").map(str::to_owned).collect()
    }
}

/// The value of `"key":` in one listed session.
fn field(obj: &str, key: &str) -> String {
    let pat = format!("\"{key}\":");
    let rest = &obj[obj
        .find(&pat)
        .unwrap_or_else(|| panic!("no {key} in {obj}"))
        + pat.len()..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim_matches('"').to_owned()
}

/// `which` client toward 127.0.0.1:`port` in a `cols`×`rows` tmux, printing
/// `RC=<status>` when it ends.
fn client(which: Impl, port: u16, key: &str, cols: u16, rows: u16) -> Tmux {
    Tmux::spec(cols, rows)
        .env("MOSH_KEY", key)
        .env("LANG", "C.UTF-8")
        .run(&format!(
            "{} 127.0.0.1 {port}; echo \"RC=$?\"; sleep 60",
            which.client_command()
        ))
}

const WAIT: Duration = Duration::from_secs(15);

/// Types a command whose output is computed by the shell, and waits for it.
fn run_marker(t: &Tmux, name: &str) {
    t.type_text(&format!("echo {name}-$((6*7))\n"));
    t.wait_text(&format!("{name}-42"), WAIT);
}

fn reattach_after_sigkill(first: Impl, second: Impl) {
    let host = Host::new("reattach");
    let server = host.start(&[]);
    let a = client(first, server.port, &server.key, 80, 24);
    a.wait_text(PROMPT, WAIT);
    run_marker(&a, "before");
    signal(a.client_pid(), libc::SIGKILL);
    // The only session: `attach` without an id takes it.
    let (port, key) = host.attach(&[]);
    assert_eq!(port, server.port, "the UDP port is kept");
    assert_ne!(key, server.key, "a fresh key");
    let b = client(second, port, &key, 100, 30);
    // The current screen at once, before anything is typed.
    b.wait_text("before-42", WAIT);
    // The application sees the new window size.
    b.type_text("stty size\n");
    b.wait_text("30 100", WAIT);
    run_marker(&b, "after");
    assert_eq!(
        b.text().matches("before-42").count(),
        1,
        "nothing replayed or typed twice: {}",
        b.text()
    );
}

#[test]
fn rmosh_client_killed_then_stock_client_reattaches() {
    reattach_after_sigkill(Impl::Rmosh, Impl::Mosh);
}

#[test]
fn stock_client_killed_then_rmosh_client_reattaches() {
    reattach_after_sigkill(Impl::Mosh, Impl::Rmosh);
}

fn old_client_still_running(old: Impl, says: &str, rc: &str) {
    let host = Host::new("moved");
    let server = host.start(&[]);
    let a = client(old, server.port, &server.key, 80, 24);
    a.wait_text(PROMPT, WAIT);
    run_marker(&a, "first");
    let list = host.list();
    assert_eq!(list.len(), 1, "{list:?}");
    let id = field(&list[0], "id");
    assert_eq!(field(&list[0], "attached"), "true", "{list:?}");
    let (port, key) = host.attach(&[&id]);
    let b = client(Impl::Rmosh, port, &key, 80, 24);
    b.wait_text("first-42", WAIT);
    // The old client is told to go and goes.
    let text = a.wait_text(rc, WAIT);
    assert!(text.contains(says), "{text}");
    run_marker(&b, "second");
    assert!(
        !a.text().contains("second-42"),
        "the old key no longer reaches the session: {}",
        a.text()
    );
}

#[test]
fn an_old_rmosh_client_exits_with_its_message() {
    old_client_still_running(
        Impl::Rmosh,
        "this session was attached from another client",
        "RC=1",
    );
}

#[test]
fn an_old_stock_client_is_shut_down_cleanly() {
    old_client_still_running(Impl::Mosh, "[mosh is exiting.]", "RC=0");
}

#[test]
fn two_detached_sessions_are_listed_and_one_is_killed_with_sighup() {
    let host = Host::new("kill");
    let hup = host.dir.join("hup");
    let script = format!(
        "trap 'echo hup > {}; exit 0' HUP; echo ready; while :; do sleep 0.1; done",
        hup.display()
    );
    let one = host.start(&["sh", "-c", &script]);
    let two = host.start(&["sleep", "600"]);
    // A client comes and dies, so the first session's command is running.
    let a = client(Impl::Mosh, one.port, &one.key, 90, 20);
    a.wait_text("ready", WAIT);
    signal(a.client_pid(), libc::SIGKILL);
    let mut list = Vec::new();
    assert!(
        wait_until(Duration::from_secs(20), || {
            list = host.list();
            list.len() == 2 && list.iter().all(|s| field(s, "attached") == "false")
        }),
        "{list:?}"
    );
    let by_pid = |pid: i32| {
        list.iter()
            .find(|s| field(s, "pid") == pid.to_string())
            .unwrap_or_else(|| panic!("pid {pid} not in {list:?}"))
            .clone()
    };
    let s1 = by_pid(one.pid);
    let s2 = by_pid(two.pid);
    assert!(field(&s1, "command").starts_with("sh -c trap"), "{s1}");
    assert_eq!(field(&s2, "command"), "sleep 600", "{s2}");
    assert_eq!(
        (field(&s1, "cols"), field(&s1, "rows")),
        ("90".into(), "20".into())
    );
    assert!(field(&s1, "client").starts_with("127.0.0.1:"), "{s1}");
    assert_eq!(field(&s2, "client"), "null", "never had a client: {s2}");
    assert_ne!(field(&s1, "last_contact"), "null", "{s1}");
    assert_ne!(field(&s1, "detached_since"), "null", "{s1}");
    assert_ne!(field(&s2, "detached_since"), "null", "{s2}");
    let table = String::from_utf8_lossy(&host.server(&["list"]).stdout).into_owned();
    assert!(
        table.contains(&field(&s1, "id")) && table.contains("detached"),
        "{table}"
    );

    let out = host.server(&["kill", &field(&s1, "id")]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        wait_until(WAIT, || std::fs::read_to_string(&hup)
            .is_ok_and(|t| t == "hup\n")),
        "the shell got no SIGHUP"
    );
    assert!(
        one.wait_exit(WAIT),
        "the killed session's server still runs"
    );
    let left = host.list();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(field(&left[0], "pid"), two.pid.to_string());
    assert!(two.alive());
    // An unknown id: a clear error, the other session unharmed.
    let out = host.server(&["kill", "zzzz"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session zzzz"));
    let out = host.server(&["attach", "zzzz"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session zzzz"));
    assert!(two.alive());
}

#[test]
fn of_two_racing_attaches_exactly_one_wins_and_a_dead_session_is_reported() {
    let host = Host::new("race");
    let server = host.start(&["sleep", "600"]);
    let id = field(&host.list()[0], "id");
    let mut a = host.server_cmd(&["attach", &id]);
    let mut b = host.server_cmd(&["attach", &id]);
    let (ca, cb) = (a.output(), b.output());
    let (oa, ob) = (ca.expect("attach a"), cb.expect("attach b"));
    let won: Vec<&Output> = [&oa, &ob]
        .into_iter()
        .filter(|o| o.status.success())
        .collect();
    assert_eq!(won.len(), 1, "{}\n{}", describe(&oa), describe(&ob));
    let lost = if oa.status.success() { &ob } else { &oa };
    assert!(
        String::from_utf8_lossy(&lost.stderr).contains("another client is attaching"),
        "{}",
        describe(lost)
    );
    assert!(server.alive());
    // A session killed hard leaves its socket behind: reported and removed.
    signal(server.pid, libc::SIGKILL);
    assert!(wait_until(WAIT, || !alive(server.pid)));
    let out = host.server(&["list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("session {id} had died")),
        "{}",
        describe(&out)
    );
    assert!(host.list().is_empty());
}

#[test]
fn reattach_through_a_lossy_reordering_relay() {
    let host = Host::new("lossy");
    let server = host.start(&[]);
    let a = client(Impl::Rmosh, server.port, &server.key, 80, 24);
    a.wait_text(PROMPT, WAIT);
    run_marker(&a, "kept");
    signal(a.client_pid(), libc::SIGKILL);
    let (port, key) = host.attach(&[]);
    let relay = Relay::start(port, &["--loss", "20", "--reorder", "20", "--seed", "7"]);
    let b = client(Impl::Rmosh, relay.port, &key, 80, 24);
    b.wait_text("kept-42", Duration::from_secs(30));
    b.type_text("echo lossy-$((6*7))\n");
    b.wait_text("lossy-42", Duration::from_secs(30));
}

#[test]
fn a_second_user_can_neither_list_nor_attach() {
    use std::os::unix::fs::PermissionsExt;
    support::sshd::require_test_user();
    let host = Host::new("otheruser");
    std::fs::set_permissions(host.dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let _server = host.start(&["sleep", "600"]);
    let id = field(&host.list()[0], "id");
    let uid_out = Command::new("id")
        .args(["-u", support::sshd::TEST_USER])
        .output()
        .expect("id -u");
    let other_uid = String::from_utf8_lossy(&uid_out.stdout).trim().to_owned();
    let as_other = |args: &[&str]| {
        let mut c = Command::new(require("runuser"));
        c.args(["-u", support::sshd::TEST_USER, "--", "env"])
            .arg(format!("RMOSH_TMPDIR={}", host.tmpdir()))
            .args(args);
        run_with_timeout(c, LIMIT)
    };
    let rmosh = rmosh_bin();
    // Their own registry does not show it, and they cannot attach to it.
    let out = as_other(&[rmosh, "server", "list"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&id),
        "{}",
        describe(&out)
    );
    let out = as_other(&[rmosh, "server", "attach", &id]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("no session {id}")),
        "{}",
        describe(&out)
    );
    // Going for the socket itself fails: the directory is closed to them.
    let sock = host
        .dir
        .join(&format!("rmosh-{}/{id}.sock", unsafe { libc::getuid() }));
    // (connect(2) needs search permission on the directory.)
    let out = as_other(&["ls", "-l", &sock.display().to_string()]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{}",
        describe(&out)
    );
    // A registry planted for them by someone else is refused.
    let planted = host.dir.join(&format!("rmosh-{other_uid}"));
    std::fs::create_dir(&planted).expect("mkdir");
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let out = as_other(&[rmosh, "server", "list"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("belongs to uid 0, not to you"),
        "{}",
        describe(&out)
    );
    // A symlink in place of the registry is refused as well.
    let linked = host.dir.join("linked");
    std::fs::create_dir(&linked).expect("mkdir");
    std::os::unix::fs::symlink(
        host.dir
            .join(&format!("rmosh-{}", unsafe { libc::getuid() })),
        linked.join(format!("rmosh-{}", unsafe { libc::getuid() })),
    )
    .expect("symlink");
    let mut c = Command::new(rmosh_bin());
    c.args(["server", "list"]).env("RMOSH_TMPDIR", &linked);
    let out = run_with_timeout(c, LIMIT);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("symbolic link"),
        "{}",
        describe(&out)
    );
    assert_eq!(host.list().len(), 1, "the session is unharmed");
}
