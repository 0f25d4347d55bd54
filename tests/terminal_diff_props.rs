//! Property: for random screens A and B, feeding the display diff A→B to a
//! Mosh-exact emulator that shows A yields exactly B (in Mosh's vocabulary),
//! through the complete-terminal SSP object, including resizes; and the
//! extended diff (docs/extensions.md) replayed by an rmosh client yields B
//! with every rendition, the keypad mode and the cursor shape.

mod support;

use proptest::prelude::*;
use rmosh::sync::capabilities::{Capabilities, PeerHello};
use rmosh::sync::complete_terminal::CompleteTerminal;
use rmosh::terminal::{DisplayCaps, Framebuffer};
use rmosh::transport::state::State;

/// One piece of application output; `wide` adds double-width characters.
fn op(wide: bool) -> impl Strategy<Value = Vec<u8>> {
    let chars = if wide {
        vec!["中", "😀", "é", "ｱ", "ß", "\u{a0}"]
    } else {
        vec!["é", "ｱ", "ß", "\u{a0}"]
    };
    let text = prop::collection::vec(
        prop_oneof![
            8 => (0x20u8..0x7f).prop_map(|b| vec![b]),
            2 => prop::sample::select(chars).prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::sample::select(vec!["\u{301}", "\u{20d7}", "\u{200b}"]).prop_map(|s| s.as_bytes().to_vec()),
        ],
        1..12,
    )
    .prop_map(|v| v.concat());
    let sgr = prop::collection::vec(
        prop_oneof![
            Just("0".to_string()),
            prop::sample::select(vec![
                "1",
                "2",
                "3",
                "4",
                "5",
                "7",
                "8",
                "9",
                "22",
                "24",
                "27",
                "53",
                "4:3",
                "21",
                "4:2",
                "4:4",
                "4:5",
                "4:0",
                "29",
                "55",
                "58:5:196",
                "58;2;1;2;3",
                "58:2::9:8:7",
                "59"
            ])
            .prop_map(String::from),
            (30u8..=37).prop_map(|n| n.to_string()),
            (40u8..=47).prop_map(|n| n.to_string()),
            (90u8..=97).prop_map(|n| n.to_string()),
            (100u8..=107).prop_map(|n| n.to_string()),
            Just("39".to_string()),
            Just("49".to_string()),
            (any::<bool>(), any::<u8>()).prop_map(|(f, n)| format!(
                "{};5;{}",
                if f { 38 } else { 48 },
                n
            )),
            (any::<bool>(), any::<u8>(), any::<u8>(), any::<u8>())
                .prop_map(|(f, r, g, b)| format!("{};2;{r};{g};{b}", if f { 38 } else { 48 })),
        ],
        1..4,
    )
    .prop_map(|v| format!("\x1b[{}m", v.join(";")).into_bytes());
    let control = prop::sample::select(vec![
        "\r",
        "\n",
        "\r\n",
        "\x08",
        "\t",
        "\x07",
        "\x1bM",
        "\x1bD",
        "\x1bE",
        "\x1b7",
        "\x1b8",
        "\x1b[K",
        "\x1b[1K",
        "\x1b[2K",
        "\x1b[J",
        "\x1b[1J",
        "\x1b[2J",
        "\x1b[3X",
        "\x1b[7X",
        "\x1b[2L",
        "\x1b[M",
        "\x1b[3@",
        "\x1b[2P",
        "\x1b[S",
        "\x1b[2T",
        "\x1b[4h",
        "\x1b[4l",
        "\x1b[?25l",
        "\x1b[?25h",
        "\x1b[?5h",
        "\x1b[?5l",
        "\x1b[?2004h",
        "\x1b[?2004l",
        "\x1b[?1000h",
        "\x1b[?1002h",
        "\x1b[?1003l",
        "\x1b[?1006h",
        "\x1b[?1015h",
        "\x1b[?1005l",
        "\x1b[?1004h",
        "\x1b[?1004l",
        "\x1b[?7l",
        "\x1b[?7h",
        "\x1b[?6h",
        "\x1b[?6l",
        "\x1b[r",
        "\x1b]0;title\x07",
        "\x1b]2;other\x07",
        "\x1b]1;icon\x07",
        "\x1b]52;c;aGVsbG8=\x07",
        "\x1b[?1049h",
        "\x1b[?1049l",
        "\x1b[?47h",
        "\x1b[?47l",
        "\x1b[?1047h",
        "\x1b[?1047l",
        "\x1b[?1048h",
        "\x1b[?1048l",
        "\x1b)0\x0e",
        "\x0f",
        "\x1b(0",
        "\x1b(B",
        "\x1bc",
        "\x1b[!p",
        "\x1b#8",
        "\x1b[3g",
        "\x1bH",
        "\x1b[2Z",
        "\x1b[3I",
        "\x1b[5b",
        "\x1b[s",
        "\x1b[u",
        "\x1b=",
        "\x1b>",
        "\x1b[?66h",
        "\x1b[?66l",
        "\x1b[5 q",
        "\x1b[2 q",
        "\x1b[ q",
    ])
    .prop_map(|s| s.as_bytes().to_vec());
    let moves = prop_oneof![
        (1u8..30, 1u8..90).prop_map(|(r, c)| format!("\x1b[{r};{c}H").into_bytes()),
        (0u8..5).prop_map(|n| format!("\x1b[{n}A").into_bytes()),
        (0u8..5).prop_map(|n| format!("\x1b[{n}B").into_bytes()),
        (0u8..9).prop_map(|n| format!("\x1b[{n}C").into_bytes()),
        (0u8..9).prop_map(|n| format!("\x1b[{n}D").into_bytes()),
        (1u8..30).prop_map(|n| format!("\x1b[{n}d").into_bytes()),
        (1u8..90).prop_map(|n| format!("\x1b[{n}G").into_bytes()),
        (1u8..12, 1u8..12).prop_map(|(t, b)| format!("\x1b[{t};{b}r").into_bytes()),
    ];
    prop_oneof![5 => text, 2 => sgr, 3 => control, 3 => moves]
}

fn output(wide: bool) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(op(wide), 0..60).prop_map(|v| v.concat())
}

/// Which pairing a check runs.
#[derive(Clone, Copy, PartialEq)]
enum Pairing {
    /// Mosh's emulator at both ends.
    Mosh,
    /// rmosh's server, a stock client.
    ServerToStock,
    /// rmosh's server, an rmosh client with the extended diff.
    ServerToRmosh,
}

fn check(
    size_a: (usize, usize),
    a: &[u8],
    b: &[u8],
    size_b: (usize, usize),
    pairing: Pairing,
) -> Result<(), TestCaseError> {
    let extended = pairing != Pairing::Mosh;
    let mut base = if extended {
        CompleteTerminal::new_server(size_a.0, size_a.1)
    } else {
        CompleteTerminal::new(size_a.0, size_a.1)
    };
    let mut client = CompleteTerminal::new(size_a.0, size_a.1);
    let caps = if pairing == Pairing::ServerToRmosh {
        // What the two sessions do on the hello: the server speaks the
        // extended diff, the client replays it.
        base.set_hello(PeerHello::ours(Capabilities::SUPPORTED));
        base.set_vocabulary(DisplayCaps::EXTENDED_WIRE);
        client.set_announced(Capabilities::SUPPORTED);
        DisplayCaps::EXTENDED_WIRE
    } else {
        DisplayCaps::MOSH_WIRE
    };
    // The first diff goes from the blank initial state (hello included).
    let base_for_diff = if pairing == Pairing::ServerToRmosh {
        CompleteTerminal::new_server(size_a.0, size_a.1)
    } else {
        base.clone()
    };
    let mut sa = base.clone();
    sa.feed(a);
    let mut sb = sa.clone();
    sb.resize(size_b.0, size_b.1);
    sb.feed(b);
    let rang = |old: &Framebuffer, new: &Framebuffer| old.bell_count != new.bell_count;
    let before = client.framebuffer().clone();
    client
        .apply(&sa.diff_from(&base_for_diff))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let differences = |c: &CompleteTerminal, s: &CompleteTerminal| {
        support::screens::client_differences_in(c.framebuffer(), s.framebuffer(), extended, &caps)
    };
    let d = differences(&client, &sa);
    prop_assert_eq!(
        rang(&before, client.framebuffer()),
        rang(base.framebuffer(), sa.framebuffer())
    );
    prop_assert!(
        d.is_empty(),
        "after A {:?}: {:?}\nserver {:?}\nclient {:?}",
        String::from_utf8_lossy(a),
        d,
        sa.framebuffer(),
        client.framebuffer()
    );
    let before_b = client.framebuffer().clone();
    client
        .apply(&sb.diff_from(&sa))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let d = differences(&client, &sb);
    prop_assert_eq!(
        rang(&before_b, client.framebuffer()),
        rang(sa.framebuffer(), sb.framebuffer())
    );
    prop_assert!(
        d.is_empty(),
        "after A {:?} B {:?} diff {:?}: {:?}\nserver {:?}\nclient {:?}",
        String::from_utf8_lossy(a),
        String::from_utf8_lossy(b),
        String::from_utf8_lossy(&sb.diff_from(&sa)),
        d,
        sb.framebuffer(),
        client.framebuffer()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Mosh's own emulator leaves wide characters in states its diff cannot
    /// reproduce (one hanging off the last column after DECAWM off or ICH, a
    /// right half overwritten); rmosh's server uses the extended emulator,
    /// which avoids them, so only narrow text is generated here.
    #[test]
    fn diff_reproduces_screen_mosh_emulator(a in output(false), b in output(false), w in 5usize..40, h in 2usize..12) {
        check((w, h), &a, &b, (w, h), Pairing::Mosh)?;
    }

    #[test]
    fn diff_reproduces_screen_extended_emulator(a in output(true), b in output(true), w in 5usize..40, h in 2usize..12) {
        check((w, h), &a, &b, (w, h), Pairing::ServerToStock)?;
    }

    #[test]
    fn extended_diff_reproduces_every_rendition_and_mirrored_mode(a in output(true), b in output(true), w in 5usize..40, h in 2usize..12) {
        check((w, h), &a, &b, (w, h), Pairing::ServerToRmosh)?;
    }

    #[test]
    fn diff_reproduces_screen_across_resize(a in output(true), b in output(true), w in 5usize..40, h in 2usize..12, w2 in 5usize..40, h2 in 2usize..12) {
        check((w, h), &a, &b, (w2, h2), Pairing::ServerToStock)?;
        check((w, h), &a, &b, (w2, h2), Pairing::ServerToRmosh)?;
    }
}
