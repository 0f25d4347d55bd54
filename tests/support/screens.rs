//! Shared by the terminal corpus tests: loading recordings and comparing
//! screens with what tmux showed.

use std::path::PathBuf;

use rmosh::terminal::{DisplayCaps, Emulator, Framebuffer, Renditions};

/// Names of the recorded programs in tests/corpus/.
pub const RECORDINGS: [&str; 8] = [
    "vim", "less", "man", "top", "htop", "ls", "gitlog", "python",
];

/// Path of a corpus file.
pub fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
}

/// The raw program output of a recording.
pub fn output(name: &str) -> Vec<u8> {
    std::fs::read(corpus(&format!("{name}.out"))).unwrap_or_else(|e| panic!("{name}.out: {e}"))
}

/// A screen captured by `tmux capture-pane -p -e` (cursor position on the
/// first line when `with_cursor`) turned back into a framebuffer by feeding
/// the lines to an emulator; attributes carry over between lines as tmux
/// assumes.
pub fn tmux_screen(
    capture: &[u8],
    cols: usize,
    rows: usize,
    with_cursor: bool,
) -> (Framebuffer, Option<(usize, usize)>) {
    let text = String::from_utf8_lossy(capture);
    let mut lines: Vec<&str> = text.split('\n').collect();
    let mut cursor = None;
    if with_cursor {
        let first = lines.remove(0);
        let mut it = first
            .trim_start_matches("cursor ")
            .split(' ')
            .filter_map(|n| n.trim().parse::<usize>().ok());
        if let (Some(y), Some(x)) = (it.next(), it.next()) {
            cursor = Some((y, x));
        }
    }
    let mut e = Emulator::new_server(cols, rows);
    for (i, line) in lines.iter().take(rows).enumerate() {
        if i > 0 {
            e.feed(b"\r\n");
        }
        e.feed(line.as_bytes());
    }
    (e.framebuffer().clone(), cursor)
}

/// The attributes tmux's capture shows (it has no blink and no overline
/// in `capture-pane -e`'s output for our purposes).
fn visible(
    r: &Renditions,
) -> (
    rmosh::terminal::Color,
    rmosh::terminal::Color,
    bool,
    bool,
    bool,
    bool,
    bool,
) {
    (
        r.fg,
        r.bg,
        r.bold,
        r.italic,
        r.underline != rmosh::terminal::Underline::None,
        r.inverse,
        r.faint,
    )
}

/// Cells where `ours` differs from `reference` (a tmux capture) in text or
/// visible attributes. Two known tmux differences are allowed:
/// * tmux's capture leaves out cells cleared by an erase (EL, ED, ECH), so a
///   blank cell of ours where the capture ended early is not compared;
/// * EL with a wrap pending in the last column erases that column in Mosh
///   (and xterm); tmux keeps it, so a last-column cell we erased is not compared.
pub fn tmux_differences(ours: &Framebuffer, reference: &Framebuffer) -> Vec<String> {
    let mut filtered = ours.clone();
    let last = ours.width().saturating_sub(1);
    for y in 0..ours.height() {
        for x in 0..ours.width() {
            let (Some(a), Some(b)) = (ours.cell(y, x), reference.cell(y, x)) else {
                continue;
            };
            let not_captured = b.is_empty() && a.is_blank();
            let erased_last = x == last && a.is_empty() && b.is_blank();
            if not_captured || erased_last {
                let b = b.clone();
                filtered.set_cell(y, x, b);
            }
        }
    }
    screen_differences(&filtered, reference)
}

/// Cells where `ours` differs from `reference` in text or visible attributes.
/// A blank cell with the default background equals a missing one (tmux
/// trims trailing blanks).
pub fn screen_differences(ours: &Framebuffer, reference: &Framebuffer) -> Vec<String> {
    let mut d = Vec::new();
    for y in 0..ours.height().min(reference.height()) {
        let mut x = 0;
        while x < ours.width().min(reference.width()) {
            let (Some(a), Some(b)) = (ours.cell(y, x), reference.cell(y, x)) else {
                break;
            };
            let text_a = if a.is_empty() {
                " ".to_string()
            } else {
                a.grapheme()
            };
            let text_b = if b.is_empty() {
                " ".to_string()
            } else {
                b.grapheme()
            };
            let blank_a = a.is_blank();
            let blank_b = b.is_blank();
            let same_text = text_a == text_b || (blank_a && blank_b);
            let (ra, rb) = (visible(&a.renditions), visible(&b.renditions));
            // Attributes of blank cells only matter for the background.
            let same_attrs = if blank_a && blank_b {
                (ra.1, ra.5) == (rb.1, rb.5)
            } else {
                ra == rb
            };
            if !same_text || !same_attrs {
                d.push(format!(
                    "({y},{x}): ours {text_a:?} {ra:?} vs {text_b:?} {rb:?}"
                ));
            }
            x += a.width().max(1);
        }
    }
    d
}

/// One-line summary of how many cells differ, with the first few.
pub fn summary(d: &[String]) -> String {
    format!(
        "{} cells differ; first: {:#?}",
        d.len(),
        &d[..d.len().min(8)]
    )
}

/// Differences between what the client shows and the server's screen as a
/// stock Mosh peer can represent it (Mosh's SGR subset).
pub fn client_differences(
    client: &Framebuffer,
    server: &Framebuffer,
    extended: bool,
) -> Vec<String> {
    client_differences_in(client, server, extended, &DisplayCaps::MOSH_WIRE)
}

/// Differences between what the client shows and the server's screen as a
/// diff in vocabulary `caps` can represent it (renditions, and the mirrored
/// keypad mode and cursor shape where `caps` carries them).
pub fn client_differences_in(
    client: &Framebuffer,
    server: &Framebuffer,
    extended: bool,
    caps: &DisplayCaps,
) -> Vec<String> {
    let mut mirrored = Vec::new();
    if caps.keypad && client.ds.application_keypad != server.ds.application_keypad {
        mirrored.push(format!(
            "keypad {} vs {}",
            client.ds.application_keypad, server.ds.application_keypad
        ));
    }
    if caps.cursor_shape && client.ds.cursor_style != server.ds.cursor_style {
        mirrored.push(format!(
            "cursor shape {} vs {}",
            client.ds.cursor_style, server.ds.cursor_style
        ));
    }
    let mut projected = server.clone();
    let mut client = client.clone();
    if !extended {
        // Mosh's DCH/ICH move a row's wrap flag (kept on its last cell) into
        // the row, where nothing reads it; only the last cell's counts.
        for fb in [&mut projected, &mut client] {
            let w = fb.width();
            for y in 0..fb.height() {
                for x in 0..w - 1 {
                    if let Some(c) = fb.cell_mut(y, x) {
                        c.wrap = false;
                    }
                }
            }
        }
    }
    for y in 0..projected.height() {
        for x in 0..projected.width() {
            if let Some(c) = projected.cell_mut(y, x) {
                c.renditions = c.renditions.project(caps.sgr);
            }
        }
    }
    projected.ds.renditions = projected.ds.renditions.project(caps.sgr);
    // A soft wrap on the bottom row cannot be reproduced without scrolling
    // (the real terminal wraps only when the next character arrives), so
    // Mosh leaves it unset on the client, also once that row scrolls up.
    // A wrap flag the client has and the server lacks is still an error.
    for y in 0..projected.height() {
        for x in 0..projected.width() {
            let client_wrap = client.cell(y, x).is_some_and(|c| c.wrap);
            if let Some(c) = projected.cell_mut(y, x)
                && c.wrap
                && !client_wrap
            {
                c.wrap = false;
            }
        }
    }
    // One BEL is sent however often the bell rang; whether it rang is
    // checked by the caller.
    projected.bell_count = client.bell_count;
    mirrored.extend(client.differences(&projected));
    mirrored
}
