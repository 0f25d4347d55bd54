//! The escape key (spec §8.3): a pure filter between the bytes read from the
//! tty and the user stream. Ctrl-^ `.` quits, Ctrl-^ Ctrl-Z suspends,
//! Ctrl-^ `^` types a literal Ctrl-^.

/// Mosh's default escape key, Ctrl-^.
pub const DEFAULT_ESCAPE_KEY: u8 = 0x1E;

const CTRL_Z: u8 = 0x1A;
const CTRL_L: u8 = 0x0C;

/// How the escape key is configured (from `MOSH_ESCAPE_KEY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapeConfig {
    /// The escape byte, or `None` when the mechanism is disabled.
    key: Option<u8>,
    /// The byte that, after the escape key, sends the escape key itself.
    pass: u8,
    /// A second accepted pass byte (the lower-case form of a letter).
    pass_alt: u8,
}

impl Default for EscapeConfig {
    fn default() -> Self {
        EscapeConfig {
            key: Some(DEFAULT_ESCAPE_KEY),
            pass: b'^',
            pass_alt: b'^',
        }
    }
}

impl EscapeConfig {
    /// Reads the configuration the way mosh-client reads `MOSH_ESCAPE_KEY`:
    /// unset → Ctrl-^; empty → disabled; one byte 1–127 → that key (except
    /// Ctrl-C, Ctrl-D, LF, Ctrl-L, CR); anything else → Ctrl-^.
    pub fn from_env_value(value: Option<&[u8]>) -> EscapeConfig {
        let key = match value {
            None => return EscapeConfig::default(),
            Some([]) => {
                return EscapeConfig {
                    key: None,
                    pass: b'^',
                    pass_alt: b'^',
                };
            }
            Some([k]) if (1..128).contains(k) => *k,
            Some(_) => return EscapeConfig::default(),
        };
        // These keys are too useful to give up to the escape mechanism.
        if matches!(key, 0x03 | 0x04 | 0x0A | 0x0C | 0x0D) {
            return EscapeConfig::default();
        }
        let pass = if key < 32 { key + b'@' } else { key };
        let pass_alt = pass.to_ascii_lowercase();
        EscapeConfig {
            key: Some(key),
            pass,
            pass_alt,
        }
    }

    /// The escape byte, if enabled.
    pub fn key(&self) -> Option<u8> {
        self.key
    }

    /// A printable escape key only counts at the start of a line.
    fn requires_line_start(&self) -> bool {
        matches!(self.key, Some(k) if k >= 32)
    }

    /// How the key is named to the user: `Ctrl-^` or `"~"`; `None` if disabled.
    pub fn key_name(&self) -> Option<String> {
        let key = self.key?;
        Some(if key < 32 {
            format!("Ctrl-{}", self.pass as char)
        } else {
            format!("\"{}\"", key as char)
        })
    }

    /// The quit hint appended to notifications: ` [To quit: Ctrl-^ .]`,
    /// empty when the escape key is disabled.
    pub fn quit_hint(&self) -> String {
        match self.key_name() {
            Some(name) => format!(" [To quit: {name} .]"),
            None => String::new(),
        }
    }

    /// The help shown while the second byte of an escape sequence is awaited.
    pub fn help_text(&self) -> String {
        let name = self.key_name().unwrap_or_default();
        format!(
            "Commands: Ctrl-Z suspends, \".\" quits, \"{}\" gives literal {name}",
            self.pass as char
        )
    }
}

/// What the driver must do after feeding input through the filter, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputAction {
    /// Append these bytes to the user stream.
    Send(Vec<u8>),
    /// The user asked to quit (escape key, `.`); later input is dropped.
    Quit,
    /// The user asked to suspend the client (escape key, Ctrl-Z).
    Suspend,
    /// Show the escape-key help in the notification bar.
    ShowHelp,
    /// Take the escape-key help down again (if it is still shown).
    HideHelp,
    /// The user typed Ctrl-L: repaint the real terminal from scratch.
    Repaint,
    /// Show the connection info overlay (escape key, then [`INFO_KEY`]).
    ShowInfo,
    /// Take the connection info overlay down (the next key after it).
    HideInfo,
}

/// The command letter after the escape key that shows connection info (not
/// one of Mosh's: `.`, Ctrl-Z and the pass-through letter).
pub const INFO_KEY: u8 = b'i';

/// The escape-key state machine over the user's keystrokes.
#[derive(Debug, Clone)]
pub struct EscapeFilter {
    config: EscapeConfig,
    /// The escape key was seen; the next byte is a command.
    pending: bool,
    /// The previous byte ended a line (CR or LF).
    at_line_start: bool,
    /// The connection info overlay is up; the next byte takes it down.
    info_shown: bool,
}

impl EscapeFilter {
    /// A filter in its initial state (not at a line start, like Mosh).
    pub fn new(config: EscapeConfig) -> EscapeFilter {
        EscapeFilter {
            config,
            pending: false,
            at_line_start: false,
            info_shown: false,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &EscapeConfig {
        &self.config
    }

    /// Feeds one read's worth of bytes; returns the actions in order. Bytes to
    /// send are merged into as few `Send` actions as possible. After `Quit`
    /// the rest of the input is dropped, as Mosh does.
    pub fn feed(&mut self, input: &[u8]) -> Vec<InputAction> {
        let mut out = Vec::new();
        let mut pending_bytes: Vec<u8> = Vec::new();
        let flush = |out: &mut Vec<InputAction>, bytes: &mut Vec<u8>| {
            if !bytes.is_empty() {
                out.push(InputAction::Send(std::mem::take(bytes)));
            }
        };
        for &byte in input {
            if self.info_shown {
                // The key that dismisses the overlay is typed as usual.
                self.info_shown = false;
                flush(&mut out, &mut pending_bytes);
                out.push(InputAction::HideInfo);
            }
            if self.pending {
                self.pending = false;
                let key = self.config.key.unwrap_or(DEFAULT_ESCAPE_KEY);
                if byte == b'.' {
                    flush(&mut out, &mut pending_bytes);
                    out.push(InputAction::HideHelp);
                    out.push(InputAction::Quit);
                    return out;
                } else if byte == CTRL_Z {
                    flush(&mut out, &mut pending_bytes);
                    out.push(InputAction::Suspend);
                } else if byte == INFO_KEY
                    && self.config.pass != INFO_KEY
                    && self.config.pass_alt != INFO_KEY
                {
                    flush(&mut out, &mut pending_bytes);
                    out.push(InputAction::HideHelp);
                    out.push(InputAction::ShowInfo);
                    self.info_shown = true;
                    continue;
                } else if byte == self.config.pass || byte == self.config.pass_alt {
                    pending_bytes.push(key);
                } else {
                    pending_bytes.push(key);
                    pending_bytes.push(byte);
                }
                flush(&mut out, &mut pending_bytes);
                out.push(InputAction::HideHelp);
                continue;
            }
            let is_escape = match self.config.key {
                Some(k) => byte == k && (self.at_line_start || !self.config.requires_line_start()),
                None => false,
            };
            if is_escape {
                self.pending = true;
                self.at_line_start = false;
                flush(&mut out, &mut pending_bytes);
                out.push(InputAction::ShowHelp);
                continue;
            }
            self.at_line_start = byte == b'\n' || byte == b'\r';
            if byte == CTRL_L {
                flush(&mut out, &mut pending_bytes);
                out.push(InputAction::Repaint);
            }
            pending_bytes.push(byte);
        }
        flush(&mut out, &mut pending_bytes);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InputAction::*;

    fn cfg(v: &[u8]) -> EscapeConfig {
        EscapeConfig::from_env_value(Some(v))
    }

    #[test]
    fn plain_bytes_pass_through_in_one_send() {
        let mut f = EscapeFilter::new(EscapeConfig::default());
        assert_eq!(f.feed(b"ls -l\r"), vec![Send(b"ls -l\r".to_vec())]);
    }

    #[test]
    fn ctrl_caret_dot_quits_and_drops_the_rest() {
        let mut f = EscapeFilter::new(EscapeConfig::default());
        assert_eq!(
            f.feed(b"ab\x1e.cd"),
            vec![Send(b"ab".to_vec()), ShowHelp, HideHelp, Quit]
        );
    }

    #[test]
    fn ctrl_caret_i_shows_info_until_the_next_key_which_is_typed() {
        let mut f = EscapeFilter::new(EscapeConfig::default());
        assert_eq!(
            f.feed(b"a\x1ei"),
            vec![Send(b"a".to_vec()), ShowHelp, HideHelp, ShowInfo]
        );
        assert_eq!(f.feed(b"xy"), vec![HideInfo, Send(b"xy".to_vec())]);
        assert_eq!(f.feed(b"z"), vec![Send(b"z".to_vec())]);
        // Dismissed by the escape key itself: that starts a new command.
        assert_eq!(f.feed(b"\x1ei"), vec![ShowHelp, HideHelp, ShowInfo]);
        assert_eq!(f.feed(b"\x1e."), vec![HideInfo, ShowHelp, HideHelp, Quit]);
        // With Ctrl-I as the escape key, "i" keeps its Mosh meaning.
        let mut f = EscapeFilter::new(cfg(b"\x09"));
        assert_eq!(
            f.feed(b"\x09i"),
            vec![ShowHelp, Send(b"\x09".to_vec()), HideHelp]
        );
    }

    #[test]
    fn escape_split_across_reads_still_quits() {
        let mut f = EscapeFilter::new(EscapeConfig::default());
        assert_eq!(f.feed(b"\x1e"), vec![ShowHelp]);
        assert_eq!(f.feed(b"."), vec![HideHelp, Quit]);
    }

    #[test]
    fn ctrl_caret_ctrl_z_suspends_then_continues() {
        let mut f = EscapeFilter::new(EscapeConfig::default());
        assert_eq!(
            f.feed(b"\x1e\x1ax"),
            vec![ShowHelp, Suspend, HideHelp, Send(b"x".to_vec())]
        );
    }

    #[test]
    fn ctrl_caret_caret_sends_a_literal_ctrl_caret() {
        let mut f = EscapeFilter::new(EscapeConfig::default());
        assert_eq!(f.feed(b"\x1e^"), vec![ShowHelp, Send(vec![0x1e]), HideHelp]);
    }

    #[test]
    fn escape_then_other_byte_sends_both() {
        let mut f = EscapeFilter::new(EscapeConfig::default());
        assert_eq!(
            f.feed(b"\x1ez"),
            vec![ShowHelp, Send(vec![0x1e, b'z']), HideHelp]
        );
        // A second escape key right after the first is also "other".
        assert_eq!(
            f.feed(b"\x1e\x1e"),
            vec![ShowHelp, Send(vec![0x1e, 0x1e]), HideHelp]
        );
    }

    #[test]
    fn control_escape_works_mid_line() {
        let mut f = EscapeFilter::new(EscapeConfig::default());
        assert_eq!(f.feed(b"abc"), vec![Send(b"abc".to_vec())]);
        assert_eq!(f.feed(b"\x1e."), vec![ShowHelp, HideHelp, Quit]);
    }

    #[test]
    fn ctrl_l_requests_a_repaint_and_is_still_sent() {
        let mut f = EscapeFilter::new(EscapeConfig::default());
        assert_eq!(
            f.feed(b"a\x0cb"),
            vec![Send(b"a".to_vec()), Repaint, Send(b"\x0cb".to_vec())]
        );
    }

    #[test]
    fn printable_escape_only_at_line_start() {
        let mut f = EscapeFilter::new(cfg(b"~"));
        // Not at line start initially (Mosh starts with lf_entered = false).
        assert_eq!(f.feed(b"~."), vec![Send(b"~.".to_vec())]);
        assert_eq!(f.feed(b"\r"), vec![Send(b"\r".to_vec())]);
        assert_eq!(f.feed(b"~."), vec![ShowHelp, HideHelp, Quit]);
        let mut f = EscapeFilter::new(cfg(b"~"));
        assert_eq!(
            f.feed(b"\n~~"),
            vec![
                Send(b"\n".to_vec()),
                ShowHelp,
                Send(b"~".to_vec()),
                HideHelp
            ]
        );
        // After a literal the line start is gone.
        assert_eq!(f.feed(b"~"), vec![Send(b"~".to_vec())]);
    }

    #[test]
    fn env_value_rules() {
        assert_eq!(EscapeConfig::from_env_value(None), EscapeConfig::default());
        assert_eq!(cfg(b"").key(), None);
        assert_eq!(cfg(b"\x02").key(), Some(0x02));
        assert_eq!(cfg(b"~").key(), Some(b'~'));
        // Refused keys fall back to Ctrl-^.
        for bad in [0x03u8, 0x04, 0x0a, 0x0c, 0x0d] {
            assert_eq!(cfg(&[bad]), EscapeConfig::default(), "key {bad:#x}");
        }
        // Too long, NUL, or non-ASCII fall back to Ctrl-^.
        assert_eq!(cfg(b"ab"), EscapeConfig::default());
        assert_eq!(cfg(&[0]), EscapeConfig::default());
        assert_eq!(cfg(&[0xc3, 0xa9]), EscapeConfig::default());
        assert_eq!(cfg(&[0x80]), EscapeConfig::default());
    }

    #[test]
    fn ctrl_letter_escape_passes_with_either_case() {
        let c = cfg(b"\x02");
        assert_eq!(c.key_name().as_deref(), Some("Ctrl-B"));
        let mut f = EscapeFilter::new(c);
        assert_eq!(f.feed(b"\x02B"), vec![ShowHelp, Send(vec![2]), HideHelp]);
        assert_eq!(f.feed(b"\x02b"), vec![ShowHelp, Send(vec![2]), HideHelp]);
    }

    #[test]
    fn disabled_escape_sends_everything() {
        let mut f = EscapeFilter::new(cfg(b""));
        assert_eq!(f.feed(b"\x1e."), vec![Send(b"\x1e.".to_vec())]);
        assert_eq!(f.config().quit_hint(), "");
    }

    #[test]
    fn help_and_hint_texts_match_mosh() {
        let d = EscapeConfig::default();
        assert_eq!(
            d.help_text(),
            "Commands: Ctrl-Z suspends, \".\" quits, \"^\" gives literal Ctrl-^"
        );
        assert_eq!(d.quit_hint(), " [To quit: Ctrl-^ .]");
        let t = cfg(b"~");
        assert_eq!(
            t.help_text(),
            "Commands: Ctrl-Z suspends, \".\" quits, \"~\" gives literal \"~\""
        );
        assert_eq!(t.quit_hint(), " [To quit: \"~\" .]");
        let b = cfg(b"\x02");
        assert_eq!(
            b.help_text(),
            "Commands: Ctrl-Z suspends, \".\" quits, \"B\" gives literal Ctrl-B"
        );
    }
}
