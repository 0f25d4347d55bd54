//! The recorded programs (tests/corpus) played through Debian's real mosh —
//! `mosh-server` running `cat <recording>`, `mosh-client` in a private tmux
//! on loopback — and through rmosh's Mosh-exact emulator: the screens must
//! agree cell by cell (text and attributes) and on the cursor position.
//! Needs `mosh-server`, `mosh-client` and `tmux`; fails when they are missing.

mod support;

use std::time::Duration;

use rmosh::terminal::Emulator;
use support::mosh::{Impl, ServerSpec};
use support::screens::{corpus, output, summary, tmux_differences, tmux_screen};
use support::tmux::{Tmux, View};

/// Plays `name` through a real mosh session; returns tmux's capture of the
/// mosh-client pane (cursor line first).
fn through_real_mosh(name: &str) -> Vec<u8> {
    let file = corpus(&format!("{name}.out"));
    let server = ServerSpec::new(Impl::Mosh)
        // No echo: the emulator's answers to the recording's queries would
        // otherwise come back as output.
        .command(&[
            "sh",
            "-c",
            &format!("stty -echo; cat '{}'; exec sleep 60", file.display()),
        ])
        .env("LC_ALL", "C.UTF-8")
        .start();
    let tmux = Tmux::spec(80, 24)
        .term("xterm-256color")
        .env("MOSH_KEY", &server.key)
        .env("LC_ALL", "C.UTF-8")
        .run(&format!(
            "{} 127.0.0.1 {}",
            Impl::Mosh.client_command(),
            server.port
        ));

    // Wait until the pane has settled: unchanged for over a second.
    tmux.settled(
        View::AttributedFull,
        Duration::from_millis(250),
        Duration::from_millis(1200),
        Duration::from_secs(20),
        |s| !s.bytes().all(|b| b.is_ascii_whitespace()),
    );
    let mut capture = b"cursor ".to_vec();
    capture.extend(tmux.cmd_bytes(&["display", "-p", "#{cursor_y} #{cursor_x}"]));
    capture.extend(tmux.cmd_bytes(&["capture-pane", "-p", "-e", "-N"]));
    capture
}

fn compare_with_mosh(name: &str) {
    let capture = through_real_mosh(name);
    let (mosh, cursor) = tmux_screen(&capture, 80, 24, true);
    let mut ours = Emulator::new(80, 24);
    // mosh-server releases the command with a newline on its terminal,
    // which the terminal echoes before the command starts.
    ours.feed(b"\r\n");
    ours.feed(&output(name));
    let fb = ours.framebuffer();
    let d = tmux_differences(fb, &mosh);
    assert!(
        d.is_empty(),
        "{name}: {}\nours:\n{}\nmosh:\n{}",
        summary(&d),
        fb.screen_text(),
        mosh.screen_text()
    );
    let cursor = cursor.map(|(y, x)| (y, x.min(79)));
    assert_eq!(cursor, Some(fb.cursor()), "{name}: cursor");
}

macro_rules! vs_mosh {
    ($($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                compare_with_mosh(stringify!($name));
            }
        )*
    };
}

vs_mosh!(vim, less, man, top, htop, ls, gitlog, python);
