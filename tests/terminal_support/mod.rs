//! Shared by the terminal corpus tests: loading recordings and comparing
//! screens with what tmux showed.
#![allow(dead_code)]

use std::path::PathBuf;

use rmosh::terminal::{Emulator, Framebuffer, Renditions};

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
    let mut e = Emulator::new_extended(cols, rows);
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
