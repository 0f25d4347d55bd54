//! Evidence that the application echoes what is typed: the prompts after
//! which typed characters were seen echoed by the server.
//!
//! A new epoch (after Enter, a control key, …) is hidden in Mosh until the
//! server echoes its first character, one round trip later. If the server's
//! screen, settled (every earlier keystroke already echo-acked), shows the
//! cursor right after a prompt at which typing was echoed before, and the
//! rest of the row is empty, the same application is almost certainly
//! waiting at the same prompt, so its echo can be shown at once. A password
//! prompt (`Password: `, `read -s`) never had an echo confirmed, so typing
//! there stays hidden.

use std::collections::VecDeque;

use super::screen::{PredictCell, PredictScreen};

/// How many proven prompts are remembered (most recent first).
pub const PROVEN_PROMPTS: usize = 16;

/// The text left of the cursor on a settled screen, if it looks like a
/// prompt: at least one visible character before the cursor and nothing
/// after it on the row.
pub fn prompt_at<S: PredictScreen>(fb: &S) -> Option<String> {
    let (row, col) = fb.cursor();
    if row >= fb.height() || col >= fb.width() {
        return None;
    }
    let text = row_prefix(fb, row, col)?;
    let rest_blank = (col..fb.width()).all(|c| fb.cell(row, c).is_some_and(|cell| cell.is_blank()));
    // Prompts end in a space or a sign ("$ ", "Password: ", ":", ">>> "),
    // not in the middle of a word someone is typing into an editor.
    let ends_like_prompt = text
        .chars()
        .next_back()
        .is_some_and(|c| c == ' ' || c.is_ascii_punctuation());
    (rest_blank && ends_like_prompt && !text.trim().is_empty()).then_some(text)
}

/// Whether `row` of the screen shows exactly `prompt` in its first `col` cells.
pub fn row_shows_prompt<S: PredictScreen>(fb: &S, row: usize, col: usize, prompt: &str) -> bool {
    row_prefix(fb, row, col).is_some_and(|t| t == prompt)
}

/// The text of the first `col` cells of `row` (blanks as spaces).
fn row_prefix<S: PredictScreen>(fb: &S, row: usize, col: usize) -> Option<String> {
    let mut text = String::new();
    for c in 0..col {
        let cell = fb.cell(row, c)?;
        if cell.is_blank() {
            text.push(' ');
        } else {
            text.push_str(cell.contents());
        }
    }
    Some(text)
}

/// The prompt a hidden epoch's first key was typed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The epoch.
    pub epoch: u64,
    /// Whether typing after this prompt was echoed before.
    pub proven: bool,
    /// The prompt text.
    pub prompt: String,
    /// The row the prompt is on.
    pub row: usize,
    /// The column typing starts at (the prompt's length in cells).
    pub col: usize,
    /// The echo ack that covers every key typed before the epoch.
    pub required_ack: u64,
}

/// Prompts at which typing has been seen echoed.
#[derive(Debug, Clone, Default)]
pub struct EchoEvidence {
    proven: VecDeque<String>,
}

impl EchoEvidence {
    /// Whether typing after `prompt` was echoed before.
    pub fn proven(&self, prompt: &str) -> bool {
        self.proven.iter().any(|p| p == prompt)
    }

    /// Records that typing after `prompt` was echoed.
    pub fn prove(&mut self, prompt: String) {
        self.proven.retain(|p| *p != prompt);
        self.proven.push_front(prompt);
        self.proven.truncate(PROVEN_PROMPTS);
    }

    /// Forgets a prompt (typing after it was not echoed after all).
    pub fn disprove(&mut self, prompt: &str) {
        self.proven.retain(|p| p != prompt);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_grid::Grid;
    use super::*;

    #[test]
    fn prompt_needs_visible_text_before_and_nothing_after_the_cursor() {
        let mut fb = Grid::new(3, 10);
        fb.cursor = (1, 0);
        assert_eq!(prompt_at(&fb), None, "empty line");
        fb.cursor = (1, 2);
        assert_eq!(prompt_at(&fb), None, "only blanks");
        fb.cursor = (1, 0);
        fb.type_str("$ ");
        assert_eq!(prompt_at(&fb), Some("$ ".to_owned()));
        fb.put(1, 5, 'x');
        assert_eq!(prompt_at(&fb), None, "text after the cursor");
        let mut fb = Grid::new(3, 10);
        fb.type_str("hel");
        assert_eq!(prompt_at(&fb), None, "in the middle of a word");
        fb.type_str(":");
        assert_eq!(prompt_at(&fb), Some("hel:".to_owned()));
    }

    #[test]
    fn proven_prompts_are_remembered_and_bounded() {
        let mut e = EchoEvidence::default();
        assert!(!e.proven("$ "));
        e.prove("$ ".into());
        assert!(e.proven("$ "));
        for i in 0..PROVEN_PROMPTS {
            e.prove(format!("p{i}> "));
        }
        assert!(!e.proven("$ "), "oldest forgotten");
        e.disprove("p3> ");
        assert!(!e.proven("p3> "));
        assert!(e.proven("p4> "));
    }
}
