//! Text the remote host chose (keyboard-interactive prompts, output before
//! `MOSH CONNECT`) made safe to print on the local terminal: a hostile host
//! must not move the cursor, retitle the window, remap keys or answer-back
//! through escape sequences while the user is logging in.

/// `text` without C0 and C1 control characters and DEL, except newline and tab.
pub fn display_safe(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_lose_their_controls() {
        assert_eq!(
            display_safe("\x1b]0;owned\x07Password:\x1b[2J\r\n"),
            "]0;ownedPassword:[2J\n"
        );
        // C1 controls (CSI, OSC, DCS as single code points) and DEL.
        assert_eq!(display_safe("a\u{9b}31mb\u{9d}x\u{90}y\u{7f}z"), "a31mbxyz");
        assert_eq!(
            display_safe("tab\there\nnext ünïcode"),
            "tab\there\nnext ünïcode"
        );
    }
}
