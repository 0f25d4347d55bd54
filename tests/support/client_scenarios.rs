//! The client's live scenarios, run against either server: a private tmux
//! runs `rmosh client`, the server runs `/bin/sh` with prompt `$ `.

use std::time::{Duration, Instant};

use super::mosh::{Impl, Server, ServerSpec};
use super::process::signal;
use super::relay::Relay;
use super::tempdir::unique;
use super::tmux::Tmux;

/// Starts `kind` on a free loopback port running `/bin/sh` with prompt `$ `.
pub fn start_server(kind: Impl) -> Server {
    ServerSpec::new(kind)
        .command(&["/bin/sh"])
        .env("PS1", "$ ")
        .env("SHELL", "/bin/sh")
        .env("ENV", "/dev/null")
        .start()
}

/// The pane command that runs a client and then shows how it ended: its
/// exit code and the terminal modes left behind.
pub fn client_pane_command(client: &str, port: u16) -> String {
    format!(
        "{client} 127.0.0.1 {port}; echo CLIENT-RC=$?; stty -a | tr ' ' '\\n' | grep -x -e -icanon -e icanon -e -echo -e echo | tr '\\n' ' '; echo; sleep 120"
    )
}

/// Asserts the pane shows the client's clean exit and a cooked terminal.
pub fn assert_clean_exit(t: &Tmux) {
    let s = t.wait_for("the client's exit and stty", Duration::from_secs(15), |s| {
        s.contains("CLIENT-RC=") && s.lines().any(|l| l.contains("icanon"))
    });
    assert!(s.contains("[mosh is exiting.]"), "{s}");
    assert!(s.contains("CLIENT-RC=0"), "{s}");
    let modes = s.lines().find(|l| l.contains("icanon")).unwrap_or_default();
    // Raw mode is gone: canonical input and echo are back on.
    assert!(modes.split_whitespace().any(|w| w == "icanon"), "{s}");
    assert!(modes.split_whitespace().any(|w| w == "echo"), "{s}");
    assert!(
        !modes.contains("-icanon") && !modes.contains("-echo"),
        "{s}"
    );
}

/// Starts our client in tmux against `port` with the server's key.
pub fn start_client(port: u16, key: &str, cols: u16, rows: u16) -> Tmux {
    Tmux::spec(cols, rows)
        .env("TERM", "xterm-256color")
        .env("MOSH_KEY", key)
        .run(&client_pane_command(&Impl::Rmosh.client_command(), port))
}

/// Type, see output, vim, resize, a literal Ctrl-^, then the application
/// exits: the client exits 0 and the terminal is cooked again.
pub fn interactive_session(kind: Impl) {
    let server = start_server(kind);
    let t = start_client(server.port, &server.key, 80, 24);
    t.wait_prompt(Duration::from_secs(10));

    t.type_text("echo hello-$((6*7))");
    t.keys(&["Enter"]);
    t.wait_text("hello-42", Duration::from_secs(10));

    // vim: insert text, write, quit; the file proves every key arrived.
    let file = std::env::temp_dir().join(format!("{}.txt", unique("vim")));
    let path = file.to_string_lossy().into_owned();
    t.type_text(&format!("vim -u NONE -N -n {path}"));
    t.keys(&["Enter"]);
    t.wait_for("vim's empty buffer", Duration::from_secs(10), |s| {
        s.lines().filter(|l| l.starts_with('~')).count() >= 10
    });
    t.type_text("irmosh in vim");
    t.keys(&["Escape"]);
    t.wait_text("rmosh in vim", Duration::from_secs(10));
    t.type_text(":wq");
    t.keys(&["Enter"]);
    let end = Instant::now() + Duration::from_secs(10);
    let mut written = String::new();
    while Instant::now() < end {
        written = std::fs::read_to_string(&file).unwrap_or_default();
        if !written.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(&file);
    assert_eq!(written, "rmosh in vim\n");
    t.wait_for("the shell after vim", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim_end() == "$")
    });

    // Resize: the server's pty follows the window.
    t.type_text("clear");
    t.keys(&["Enter"]);
    t.wait_for("a cleared screen", Duration::from_secs(10), |s| {
        !s.contains("rmosh in vim")
    });
    t.resize(100, 30);
    t.type_text("stty size");
    t.keys(&["Enter"]);
    t.wait_text("30 100", Duration::from_secs(10));
    let wide = format!("w{}", "x".repeat(95));
    t.type_text(&format!("echo {wide}"));
    t.keys(&["Enter"]);
    // The 97-column line fits on one row of the wider screen.
    t.wait_for("a 97-column line", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim_end() == wide)
    });

    // Ctrl-^ ^ types a literal Ctrl-^ (0x1e).
    t.type_text("od -An -tx1");
    t.keys(&["Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    t.bytes(&[0x1e, b'^']);
    t.keys(&["Enter"]);
    t.bytes(&[0x04]);
    t.wait_text("1e 0a", Duration::from_secs(10));

    t.type_text("exit");
    t.keys(&["Enter"]);
    assert_clean_exit(&t);
    assert!(
        server.wait_exit(Duration::from_secs(10)),
        "server still running"
    );
}

/// Ctrl-^ shows the escape help; Ctrl-^ . quits with a clean shutdown.
pub fn escape_quit(kind: Impl) {
    let server = start_server(kind);
    let t = start_client(server.port, &server.key, 80, 24);
    t.wait_prompt(Duration::from_secs(10));
    t.bytes(&[0x1e]);
    let s = t.wait_text(
        "mosh: Commands: Ctrl-Z suspends, \".\" quits, \"^\" gives literal Ctrl-^",
        Duration::from_secs(10),
    );
    assert!(
        s.lines()
            .next()
            .unwrap_or_default()
            .starts_with("mosh: Commands:"),
        "{s}"
    );
    t.bytes(b".");
    assert_clean_exit(&t);
    assert!(
        server.wait_exit(Duration::from_secs(10)),
        "server still running"
    );
}

/// Through the relay, a 5 s outage brings up "mosh: Last contact" on row 0,
/// and the session carries on afterwards.
pub fn outage_shows_bar_then_recovers(kind: Impl) {
    let server = start_server(kind);
    let mut relay = Relay::start(server.port, &[]);
    let t = start_client(relay.port, &server.key, 80, 24);
    t.wait_prompt(Duration::from_secs(10));
    t.type_text("echo before-outage");
    t.keys(&["Enter"]);
    t.wait_text("before-outage", Duration::from_secs(10));
    // Idle, the server speaks every 3 s. Cut the link 2 s after it spoke:
    // the next two heartbeats are lost, so contact is 9 s old when the
    // third arrives and the bar (shown after 6.5 s) must appear.
    std::thread::sleep(Duration::from_millis(500));
    let spoke = relay.wait_server_datagram(Duration::from_secs(10));
    std::thread::sleep(
        (spoke + Duration::from_millis(2000)).saturating_duration_since(Instant::now()),
    );
    assert_eq!(relay.cmd("outage 5000"), "ok");
    let s = t.wait_for("the notification bar", Duration::from_secs(12), |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.starts_with("mosh: Last contact "))
    });
    assert!(
        s.lines()
            .next()
            .unwrap_or_default()
            .ends_with("ago. [To quit: Ctrl-^ .]"),
        "{s}"
    );
    t.wait_for("the bar to go away", Duration::from_secs(15), |s| {
        !s.contains("mosh: Last contact")
    });
    t.type_text("echo after-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_text("after-42", Duration::from_secs(10));
    t.type_text("exit");
    t.keys(&["Enter"]);
    assert_clean_exit(&t);
}

/// The application's title gets the `[mosh] ` prefix; SIGTERM makes the
/// client shut down cleanly and restore the terminal.
pub fn title_prefix_then_sigterm(kind: Impl) {
    let server = start_server(kind);
    let t = start_client(server.port, &server.key, 80, 24);
    t.wait_prompt(Duration::from_secs(10));
    t.type_text("printf '\\033]0;rmosh-title\\007'; echo title-set");
    t.keys(&["Enter"]);
    t.wait_text("title-set", Duration::from_secs(10));
    let end = Instant::now() + Duration::from_secs(10);
    while t.pane_title() != "[mosh] rmosh-title" && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(t.pane_title(), "[mosh] rmosh-title");
    let pid = t.client_pid();
    assert!(signal(pid, libc::SIGTERM), "signal the client");
    assert_clean_exit(&t);
    assert!(
        server.wait_exit(Duration::from_secs(10)),
        "server still running"
    );
}

/// Letters that only ever appear in the secrets typed below.
const SECRET_LETTERS: &[char] = &['Z', 'Q', 'X', 'J'];

/// Types `secret` key by key, 70 ms apart, looking at the client's screen
/// after every key: no secret letter may ever be drawn.
fn type_secret_watching(t: &Tmux, secret: &str, what: &str) {
    for ch in secret.chars() {
        t.type_text(&ch.to_string());
        let until = Instant::now() + Duration::from_millis(70);
        while Instant::now() < until {
            let s = t.text();
            assert!(
                !s.chars().any(|c| SECRET_LETTERS.contains(&c)),
                "{what}: a secret character was drawn\n{s}"
            );
        }
    }
}

/// A bash session over 250 ms RTT with predictions always shown: a
/// readline `read -s`, Python's getpass and a raw-mode program that turns
/// its echo off between two keys each read a secret, typed at once after
/// Enter and again after the prompt shows. No secret character is drawn.
pub fn secrets_never_drawn(kind: Impl) {
    let dir = std::env::temp_dir().join(unique("secrets"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Echoes what is typed until Tab, then reads silently until Enter.
    let script = dir.join("login.pl");
    std::fs::write(
        &script,
        "system('stty raw -echo');$|=1;print 'login: ';my($c,$n,$on)=('',0,1);\
         while(sysread(STDIN,$c,1)){last if $c eq \"\\r\";if($c eq \"\\t\"){$on=0;next}\
         if($on){print $c}else{$n++}}system('stty sane');print \"\\r\\nsilent-$n\\r\\n\";",
    )
    .expect("write the login program");
    let server = ServerSpec::new(kind)
        .command(&["bash", "--norc", "--noprofile", "-i"])
        .env("PS1", "$ ")
        .env("INPUTRC", "/dev/null")
        .start();
    let relay = Relay::start(server.port, &["--delay", "125"]);
    let t = Tmux::spec(80, 24)
        .env("TERM", "xterm-256color")
        .env("MOSH_KEY", &server.key)
        .env("MOSH_PREDICTION_DISPLAY", "always")
        .run(&client_pane_command(
            &Impl::Rmosh.client_command(),
            relay.port,
        ));
    t.wait_prompt(Duration::from_secs(15));
    t.type_text("echo warm-up");
    t.keys(&["Enter"]);
    t.wait_text("warm-up", Duration::from_secs(10));

    // Typed at once after Enter, before the prompt can show: only where
    // echo goes off before the first key arrives (bash's builtin); Python
    // starts slowly and the pty's own echo would show early keys anywhere.
    let rounds = [
        (
            "read -s -p 'pw: ' v; echo got-${#v}",
            "pw: ",
            "got-6",
            "read -s",
            true,
        ),
        (
            "python3 -c 'import getpass; getpass.getpass(); print(\"py-ok\")'",
            "Password:",
            "py-ok",
            "getpass",
            false,
        ),
    ];
    for (cmd, prompt, done, what, at_once) in rounds {
        if at_once {
            t.type_text(cmd);
            t.keys(&["Enter"]);
            type_secret_watching(&t, "ZQXJZQ", what);
            t.keys(&["Enter"]);
            t.wait_text(done, Duration::from_secs(15));
        }
        // Typed once the prompt shows.
        t.type_text(cmd);
        t.keys(&["Enter"]);
        t.wait_text(prompt, Duration::from_secs(15));
        type_secret_watching(&t, "QXJZQX", what);
        t.keys(&["Enter"]);
        let want = if at_once { 2 } else { 1 };
        t.wait_for(what, Duration::from_secs(15), |s| {
            s.matches(done).count() >= want
        });
    }
    t.type_text(&format!("perl {}", script.display()));
    t.keys(&["Enter"]);
    t.wait_text("login:", Duration::from_secs(15));
    type_secret_watching(&t, "alice", "login name");
    t.keys(&["Tab"]);
    type_secret_watching(&t, "JXQZ", "raw-mode program");
    t.keys(&["Enter"]);
    t.wait_text("silent-4", Duration::from_secs(15));
    t.type_text("exit");
    t.keys(&["Enter"]);
    assert_clean_exit(&t);
    let _ = std::fs::remove_dir_all(&dir);
}
