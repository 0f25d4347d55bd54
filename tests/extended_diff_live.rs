//! The extended display diff between an rmosh server and an rmosh client
//! (docs/extensions.md), live in tmux: styled text shows the same attributes
//! through rmosh as directly in tmux, the application keypad reaches the
//! real terminal, and so does the cursor shape, which is put back on exit.
//!
//! Needs tmux and tic (ncurses-bin); without them these tests FAIL.

mod support;

use std::process::Command;
use std::time::Duration;

use support::client_scenarios::{client_pane_command, start_server};
use support::mosh::Impl;
use support::process::require;
use support::tempdir::TempDir;
use support::tmux::{Tmux, View};

const STYLED: &str = r"printf '\033[2mdim \033[9mstrike \033[53mover \033[4:3mcurly\033[58:5:196m red-curly\033[0m \033[1;4;7mbui\033[0m \033[38;5;208mc256\033[0m \033[38;2;10;20;30;48;2;200;100;50mtrue\033[0m\n'";

/// A terminfo folder whose `tmux-256color` also lists `Setulc`, as tmux
/// itself handles SGR 58 (Debian's entry lists only `Smulx`).
fn terminfo_with_setulc(dir: &TempDir) -> String {
    let src = Command::new(require("infocmp"))
        .args(["-x", "tmux-256color"])
        .output()
        .expect("infocmp");
    assert!(src.status.success(), "infocmp tmux-256color");
    let mut text = String::from_utf8_lossy(&src.stdout).into_owned();
    text.push_str(
        "\tSetulc=\\E[58\\:2\\:\\:%p1%{65536}%/%d\\:%p1%{256}%/%{255}%&%d\\:%p1%{255}%&%d%;m,\n",
    );
    let file = dir.join("tmux.ti");
    std::fs::write(&file, text).expect("write terminfo source");
    let out = dir.join("terminfo");
    let st = Command::new(require("tic"))
        .args(["-x", "-o"])
        .arg(&out)
        .arg(&file)
        .status()
        .expect("tic");
    assert!(st.success(), "tic");
    out.to_string_lossy().into_owned()
}

/// The styled line as tmux records it, with attributes (`capture-pane -e`).
fn styled_line(t: &Tmux) -> String {
    let output = |s: &str| {
        s.lines()
            .find(|l| l.contains("strike") && !l.contains("033"))
            .map(|l| l.trim_end().to_owned())
    };
    let s = t.wait_for_in(
        View::Attributed,
        "the styled line",
        Duration::from_secs(15),
        |s| output(s).is_some_and(|l| l.contains("true")),
    );
    output(&s).unwrap_or_default()
}

/// An rmosh client against an rmosh server in a tmux pane with TERM
/// tmux-256color and the terminfo from `terminfo`.
fn rmosh_session(terminfo: &str) -> (support::mosh::Server, Tmux) {
    let server = start_server(Impl::Rmosh);
    let t = Tmux::spec(100, 10)
        .term("tmux-256color")
        .env("TERMINFO", terminfo)
        .env("MOSH_KEY", &server.key)
        .run(&client_pane_command(
            &Impl::Rmosh.client_command(),
            server.port,
        ));
    t.wait_prompt(Duration::from_secs(15));
    (server, t)
}

#[test]
fn styled_text_shows_the_same_attributes_through_rmosh_as_in_tmux() {
    let dir = TempDir::new("xdiff");
    let terminfo = terminfo_with_setulc(&dir);
    let direct = Tmux::spec(100, 10)
        .term("tmux-256color")
        .run(&format!("{STYLED}; sleep 60"));
    let want = styled_line(&direct);
    assert!(
        want.contains("\u{1b}[2m") || want.contains(";2m") || want.contains("[2;"),
        "tmux keeps faint: {want:?}"
    );

    let (_server, t) = rmosh_session(&terminfo);
    t.type_text(STYLED);
    t.keys(&["Enter"]);
    let got = styled_line(&t);
    assert_eq!(got, want, "through rmosh vs directly in tmux");
}

#[test]
fn stock_client_still_gets_plain_text_from_an_rmosh_server() {
    let dir = TempDir::new("xdiff");
    let terminfo = terminfo_with_setulc(&dir);
    let server = start_server(Impl::Rmosh);
    let t = Tmux::spec(100, 10)
        .term("tmux-256color")
        .env("TERMINFO", &terminfo)
        .env("MOSH_KEY", &server.key)
        .run(&client_pane_command(
            &Impl::Mosh.client_command(),
            server.port,
        ));
    t.wait_prompt(Duration::from_secs(15));
    t.type_text(STYLED);
    t.keys(&["Enter"]);
    let got = styled_line(&t);
    for extended in ["[2m", "[9m", "5:3", "4:3", "58"] {
        assert!(
            !got.contains(extended),
            "{extended} reached a stock client: {got:?}"
        );
    }
    assert!(got.starts_with("dim strike over \u{1b}[4mcurly"), "{got:?}");
}

#[test]
fn keypad_mode_and_cursor_shape_reach_the_real_terminal_and_are_put_back() {
    let dir = TempDir::new("xdiff");
    let terminfo = terminfo_with_setulc(&dir);
    let (server, t) = rmosh_session(&terminfo);
    let log = dir.join("client-output");
    t.cmd(&[
        "pipe-pane",
        "-O",
        &format!("cat > {}", log.to_string_lossy()),
    ]);
    // The application asks for the keypad and a blinking bar, then shows
    // what the keypad's 1 sends.
    t.type_text(r"printf '\033=\033[5 q'; od -An -c");
    t.keys(&["Enter"]);
    std::thread::sleep(Duration::from_millis(800));
    t.keys(&["KP1"]);
    t.keys(&["Enter"]);
    t.bytes(&[0x04]);
    t.wait_text("033   O   q", Duration::from_secs(15));
    // Leave through the escape key: the close sequence puts both back.
    t.bytes(&[0x1e, b'.']);
    t.wait_text("CLIENT-RC=0", Duration::from_secs(15));
    let out = std::fs::read(&log).expect("client output");
    let find = |needle: &[u8]| out.windows(needle.len()).position(|w| w == needle);
    let shape = find(b"\x1b[5 q").expect("the cursor shape reached the terminal");
    let reset_bytes = b"\x1b>\x1b[0 q";
    let reset = out
        .windows(reset_bytes.len())
        .rposition(|w| w == reset_bytes)
        .unwrap_or_else(|| {
            panic!(
                "keypad and cursor shape put back on exit: {:?}",
                String::from_utf8_lossy(&out[out.len().saturating_sub(300)..])
            )
        });
    assert!(shape < reset);
    drop(server);
}
