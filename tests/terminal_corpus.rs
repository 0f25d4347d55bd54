//! Real programs recorded in an 80x24 tmux pane (tests/corpus/record.py):
//! the server's extended emulator must end on the screen tmux showed, text
//! and attributes, cell by cell; plus specific expectations per program.

mod support;

use rmosh::terminal::{Color, Emulator};
use support::screens::{RECORDINGS, corpus, output, summary, tmux_differences, tmux_screen};

fn play(name: &str) -> Emulator {
    let mut e = Emulator::new_server(80, 24);
    // Feed in uneven chunks: the result must not depend on read boundaries.
    for chunk in output(name).chunks(97) {
        e.feed(chunk);
    }
    e
}

#[test]
fn extended_emulator_matches_tmux_on_every_recording() {
    let mut failures = Vec::new();
    for name in RECORDINGS {
        let e = play(name);
        let capture = std::fs::read(corpus(&format!("{name}.tmux"))).expect("tmux capture");
        let (reference, cursor) = tmux_screen(&capture, 80, 24, true);
        let d = tmux_differences(e.framebuffer(), &reference);
        if !d.is_empty() {
            failures.push(format!(
                "{name}: {}\nours:\n{}\ntmux:\n{}",
                summary(&d),
                e.framebuffer().screen_text(),
                reference.screen_text()
            ));
        }
        // tmux reports a pending wrap as the column past the last one.
        let cursor = cursor.map(|(y, x)| (y, x.min(79)));
        if cursor != Some(e.framebuffer().cursor()) {
            failures.push(format!(
                "{name}: cursor {:?} vs tmux {cursor:?}",
                e.framebuffer().cursor()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn vim_split_windows_and_edit_are_on_screen() {
    let e = play("vim");
    let fb = e.framebuffer();
    let text = fb.screen_text();
    assert!(
        text.contains("# edited in vim: é, 中文, emoji 😀"),
        "{text}"
    );
    assert!(text.contains("demo.py"), "{text}");
    // Line numbers are drawn in colour 130 by the default colour scheme.
    assert_eq!(
        fb.cell(0, 2).map(|c| c.renditions.fg),
        Some(Color::Indexed(130))
    );
    // The vertical split separator is inverse.
    assert!((0..80).any(|x| {
        fb.cell(0, x)
            .is_some_and(|c| c.renditions.inverse && c.contents() == "|")
    }));
}

#[test]
fn less_search_highlights_matches() {
    let e = play("less");
    let fb = e.framebuffer();
    let hit = (0..fb.height()).find_map(|y| fb.row_text(y).find("freedom").map(|x| (y, x)));
    let (y, x) = hit.expect("a match on screen");
    assert!(
        fb.cell(y, x).is_some_and(|c| c.renditions.inverse),
        "match not highlighted"
    );
}

#[test]
fn man_page_shows_bold_headings() {
    let e = play("man");
    let fb = e.framebuffer();
    let text = fb.screen_text();
    assert!(text.contains("sort"), "{text}");
    assert!((0..fb.height()).any(|y| fb.cell(y, 7).is_some_and(
        |c| c.renditions.bold || c.renditions.underline != rmosh::terminal::Underline::None
    )));
}

#[test]
fn top_and_htop_process_lists() {
    for name in ["top", "htop"] {
        let e = play(name);
        assert!(e.framebuffer().screen_text().contains("PID"), "{name}");
    }
    // htop runs on the alternate screen (top does not ask for it).
    assert!(play("htop").framebuffer().alternate_screen_active());
}

#[test]
fn colored_ls_and_git_graph() {
    let e = play("ls");
    let fb = e.framebuffer();
    assert!(
        (0..fb.height()).any(|y| (0..80).any(|x| fb
            .cell(y, x)
            .is_some_and(|c| c.renditions.fg == Color::Indexed(4) && c.renditions.bold))),
        "no bold blue directory"
    );
    let e = play("gitlog");
    let text = e.framebuffer().screen_text();
    assert!(text.contains("* "), "{text}");
}

#[test]
fn python_repl_output() {
    let e = play("python");
    let text = e.framebuffer().screen_text();
    assert!(text.contains("2 éé"), "{text}");
    assert!(text.contains("'ABC'"), "{text}");
    assert!(text.contains("9223372036854775807"), "{text}");
}

#[test]
fn diffs_of_recordings_reproduce_the_server_screen_on_a_mosh_client() {
    use rmosh::sync::complete_terminal::CompleteTerminal;
    use rmosh::transport::state::State;
    for name in RECORDINGS {
        let mut server = CompleteTerminal::new_server(80, 24);
        let mut client = CompleteTerminal::new(80, 24);
        let mut sent = server.clone();
        for chunk in output(name).chunks(301) {
            server.feed(chunk);
            client.apply(&server.diff_from(&sent)).expect("apply");
            sent = server.clone();
        }
        let d =
            support::screens::client_differences(client.framebuffer(), server.framebuffer(), true);
        assert!(d.is_empty(), "{name}: {}", summary(&d));
    }
}
