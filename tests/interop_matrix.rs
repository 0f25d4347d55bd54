//! Screen fidelity across the four pairings of server and client.
//!
//! The same deterministic scenes (colours, attributes, erase with background,
//! cursor motion, scrolling, the 80th column, wide and combining characters,
//! titles) run through (mosh-server, mosh-client), (rmosh, mosh-client),
//! (mosh-server, rmosh) and (rmosh, rmosh), each client inside tmux. The stock
//! pair is the oracle: every other pair must leave tmux with the same cells,
//! attributes, cursor and title after every scene — except the scenes that
//! show what rmosh's server does better than Mosh (the alternate screen,
//! DEC special graphics): with an rmosh server those must show exactly the
//! xterm result given in the scene, and the stock pair Mosh's own.

mod support;

use std::sync::OnceLock;
use std::time::Duration;

use support::mosh::{Impl, ServerSpec};
use support::tempdir::TempDir;
use support::tmux::{Tmux, View};

/// One scene: shell code that draws, then the harness captures the screen.
struct Scene {
    name: &'static str,
    script: &'static str,
    /// For a scene beyond Mosh: the screen lines an rmosh server gives
    /// (trailing blanks trimmed), and a line the stock pair shows instead.
    beyond_mosh: Option<(&'static [&'static str], &'static str)>,
}

const SCENES: &[Scene] = &[
    Scene {
        name: "sgr-16",
        script: r#"for a in 0 1 3 4 5 7 8; do for c in 30 31 32 33 34 35 36 37 90 91 92 93 94 95 96 97; do printf '\033[%s;%sm%s\033[0m' $a $c x; done; printf '\n'; done
for b in 40 41 42 43 44 45 46 47 100 101 102 103 104 105 106 107; do printf '\033[%sm %s \033[0m' $b $b; done; printf '\n'
printf '\033[1mB\033[22mb \033[3mI\033[23mi \033[4mU\033[24mu \033[5mK\033[25mk \033[7mR\033[27mr \033[8mH\033[28mh\033[39;49m\n'"#,
        beyond_mosh: None,
    },
    Scene {
        name: "sgr-256-truecolor",
        script: r#"i=0; while [ $i -lt 256 ]; do printf '\033[38;5;%dm#\033[48;5;%dm \033[0m' $i $(( (i + 7) % 256 )); i=$((i+1)); if [ $((i % 40)) = 0 ]; then printf '\n'; fi; done; printf '\n'
r=0; while [ $r -lt 256 ]; do printf '\033[38;2;%d;%d;%dm*\033[48;2;%d;0;%dm.' $r $((255-r)) $((r/2)) $((r/3)) $((255-r)); r=$((r+9)); done; printf '\033[0m\n'"#,
        beyond_mosh: None,
    },
    Scene {
        name: "erase-with-background",
        script: r#"printf 'abcdefghijklmnopqrstuvwxyz0123456789\n%.0s' 1 2 3 4 5 6
printf '\033[44m\033[3;5H\033[K\033[4;10H\033[1K\033[5;3H\033[7X\033[6;1H\033[2K\033[0m\033[8;1H'
printf '\033[41mred-bg-rest\033[K\033[0m\n\033[42m\033[J\033[0m\033[10;1Hend'"#,
        beyond_mosh: None,
    },
    Scene {
        name: "cursor-motion-and-tabs",
        script: r#"printf '\033[2J\033[H'; printf '\033[5;10HA\033[2AB\033[3BC\033[4CD\033[6DE\033[20GF\033[12dG'
printf '\033[14;1H\tT1\tT2\033[3ZZ\033[2IY\033[15;1H\033[3g\033[15;5H\033HX\r\tW\033[0;0Hh\033[16;70H\033[99CR\033[99BZ'"#,
        beyond_mosh: None,
    },
    Scene {
        name: "scrolling",
        script: r#"i=1; while [ $i -le 30 ]; do printf 'line %02d\n' $i; i=$((i+1)); done
printf '\033[5;15r\033[15;1H\nscrolled-in-region\033[5;1H\033Mreverse-index\033[r'
printf '\033[8;1H\033[2Linserted\033[12;1H\033[1Mdeleted-one\033[3S\033[1T\033[20;1H'"#,
        beyond_mosh: None,
    },
    Scene {
        name: "eightieth-column",
        script: r#"printf '\033[2J\033[H'
i=0; while [ $i -lt 80 ]; do printf '%d' $((i % 10)); i=$((i+1)); done; printf 'W'
printf '\n'; i=0; while [ $i -lt 80 ]; do printf 'x'; i=$((i+1)); done; printf '\r\n'
i=0; while [ $i -lt 79 ]; do printf 'y'; i=$((i+1)); done; sleep 0.3; printf 'Zwrapped-across-frames\n'
printf '\033[?7l'; i=0; while [ $i -lt 90 ]; do printf 'n'; i=$((i+1)); done; printf '\033[?7h\n'
printf 'ins: abcdef\033[4D\033[4h++\033[4l\033[2P\033[3@<\n'"#,
        beyond_mosh: None,
    },
    Scene {
        name: "unicode-wide-combining",
        script: r#"printf '\033[2J\033[H'
printf 'wide: \344\270\255\346\226\207 \360\237\230\200 end\n'
printf 'combining: e\314\201 a\314\210\314\201 n\314\203\n'
printf '\314\201fallback\n'
printf '\033[1;79H\344\270\255'
printf '\033[6;1Hlatin1: \303\251\303\274\303\237 \302\240nbsp\n'
printf '\033[8;1Hab\344\270\255cd\033[8;3Hx\033[9;1H'"#,
        beyond_mosh: None,
    },
    Scene {
        name: "alternate-screen",
        script: r#"printf 'main-1\nmain-2\n'; printf '\033[?1049h\033[2J\033[Halt-text\033[5;5Hmore'; sleep 0.3
printf '\033[?1049lafter\n'"#,
        beyond_mosh: Some((&["main-1", "main-2", "after"], "    moreafter")),
    },
    Scene {
        name: "dec-special-graphics",
        script: r#"printf '\033(0lqqk\nx  x\nmqqj\033(B q\n\033)0\016lqk\017 SO/SI\n'"#,
        beyond_mosh: Some((&["┌──┐", "│  │", "└──┘ q", "┌─┐ SO/SI"], "mqqj q")),
    },
    Scene {
        name: "title-and-modes",
        script: r#"printf '\033]0;matrix title\007\033[?2004h\033[?25l'; printf 'modes set\n'"#,
        beyond_mosh: None,
    },
];

/// Waits until the pane shows `needle`; returns the attributed screen once
/// it has stopped changing (late frames settle).
fn settled_screen_with(tmux: &Tmux, needle: &str) -> String {
    tmux.wait_text(needle, Duration::from_secs(20));
    let tick = Duration::from_millis(150);
    tmux.settled(
        View::Attributed,
        tick,
        tick,
        Duration::from_secs(20),
        |_| true,
    )
}

/// What tmux showed after one scene.
#[derive(PartialEq)]
struct Shot {
    screen: String,
    cursor: String,
    title: String,
}

impl std::fmt::Display for Shot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Shot {
            screen,
            cursor,
            title,
        } = self;
        write!(f, "{screen}\n-- cursor {cursor}\n-- title {title}")
    }
}

impl Shot {
    /// The screen's lines, trailing blanks and blank last lines removed.
    fn lines(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.screen.lines().map(str::trim_end).collect();
        while v.last().is_some_and(|l| l.is_empty()) {
            v.pop();
        }
        v
    }
}

fn run_pair(server: Impl, client: Impl) -> Vec<(String, Shot)> {
    let dir = TempDir::new("matrix");
    let mut script = String::from("printf '\\n'\n");
    for (i, scene) in SCENES.iter().enumerate() {
        // The pause lets every client draw the cleared screen first: if a
        // frame went straight from the last scene to this one, the erase of
        // the old scene's longer lines (EL) would make tmux's attributed
        // capture differ between runs though the cells are the same.
        script.push_str(&format!(
            "printf '\\033[0m\\033[H\\033[2J'; sleep 0.3\n{}\nprintf '\\033[24;1H@@scene-{}-done@@'\nread -r _\n",
            scene.script, i
        ));
    }
    script.push_str("exit 0\n");
    let script_path = dir.join("scenes.sh");
    std::fs::write(&script_path, script).expect("write scene script");

    let server = ServerSpec::new(server)
        .command(&["/bin/sh", script_path.to_str().expect("utf-8 path")])
        .env("PS1", "$ ")
        .start();
    let tmux = Tmux::spec(80, 24)
        .env("MOSH_KEY", &server.key)
        .env("MOSH_PREDICTION_DISPLAY", "never")
        .run(&format!(
            "{} 127.0.0.1 {}; echo RC=$?; sleep 120",
            client.client_command(),
            server.port
        ));

    let mut shots = Vec::new();
    for (i, scene) in SCENES.iter().enumerate() {
        let screen = settled_screen_with(&tmux, &format!("@@scene-{i}-done@@"));
        let title = tmux.pane_title();
        let cursor = tmux.cursor();
        shots.push((
            scene.name.to_string(),
            Shot {
                screen,
                cursor,
                title,
            },
        ));
        tmux.keys(&["Enter"]);
    }
    let end = settled_screen_with(&tmux, "RC=");
    assert!(end.contains("RC=0"), "client did not exit cleanly:\n{end}");
    assert!(
        end.contains("[mosh is exiting.]"),
        "no exit message:\n{end}"
    );
    shots
}

/// The stock pair's screens, computed once per test binary.
fn oracle() -> &'static [(String, Shot)] {
    static ORACLE: OnceLock<Vec<(String, Shot)>> = OnceLock::new();
    ORACLE.get_or_init(|| run_pair(Impl::Mosh, Impl::Mosh))
}

fn assert_same_as_stock(server: Impl, client: Impl) {
    let oracle = oracle();
    let ours = run_pair(server, client);
    assert_eq!(oracle.len(), ours.len());
    let shots = oracle.iter().zip(ours.iter());
    for (i, (scene, ((name, want), (_, got)))) in SCENES.iter().zip(shots).enumerate() {
        let Some((better, mosh_line)) = scene.beyond_mosh else {
            assert!(
                want == got,
                "scene {name} differs for server={server:?} client={client:?}\n--- mosh/mosh\n{want}\n--- ours\n{got}"
            );
            continue;
        };
        // The stock pair really shows Mosh's result for this scene…
        assert!(
            want.lines().contains(&mosh_line),
            "scene {name}: the stock pair no longer shows {mosh_line:?}:\n{want}"
        );
        if server == Impl::Mosh {
            assert!(
                want == got,
                "scene {name} differs for server={server:?} client={client:?}\n--- mosh/mosh\n{want}\n--- ours\n{got}"
            );
            continue;
        }
        // …and an rmosh server gives xterm's, to any client; cursor and
        // title are not affected by the extension and still match Mosh.
        let marker = format!("@@scene-{i}-done@@");
        let mut expected: Vec<&str> = better.to_vec();
        expected.resize(23, "");
        expected.push(&marker);
        assert!(
            got.lines() == expected && got.cursor == want.cursor && got.title == want.title,
            "scene {name} for server={server:?} client={client:?}: want {expected:#?}, cursor {}, title {}\n--- ours\n{got}",
            want.cursor,
            want.title
        );
    }
}

#[test]
fn rmosh_server_with_stock_client_matches_stock_pair() {
    assert_same_as_stock(Impl::Rmosh, Impl::Mosh);
}

#[test]
fn stock_server_with_rmosh_client_matches_stock_pair() {
    assert_same_as_stock(Impl::Mosh, Impl::Rmosh);
}

#[test]
fn rmosh_pair_matches_stock_pair() {
    assert_same_as_stock(Impl::Rmosh, Impl::Rmosh);
}
