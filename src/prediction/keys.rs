//! Turns the user's raw input bytes into the few keys prediction understands.
//!
//! A small UTF-8 decoder and VT input parser: `ESC O x` is read like `ESC [ x`
//! (application-mode arrows), and every control, escape or string sequence
//! that is not a plain arrow is reported as [`Key::Other`].

/// One decoded key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character (U+0020 and up, not DEL, not a C1 control).
    Print(char),
    /// DEL (0x7F), the backspace key.
    Backspace,
    /// Cursor right (`CSI C` / `SS3 C`); `plain` when it has no parameter but 1.
    Right {
        /// No parameters other than a single `1` (not ctrl/alt/shift-arrow).
        plain: bool,
    },
    /// Cursor left (`CSI D` / `SS3 D`); `plain` as for [`Key::Right`].
    Left {
        /// No parameters other than a single `1`.
        plain: bool,
    },
    /// Carriage return (Enter).
    CarriageReturn,
    /// Anything else: its effect on the screen cannot be predicted.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Ground,
    Escape,
    EscapeIntermediate,
    Csi,
    /// OSC, DCS, SOS, PM or APC: swallowed until BEL or ST.
    String,
}

/// Incremental UTF-8 decoding: invalid input becomes U+FFFD.
#[derive(Debug, Clone, Default)]
struct Utf8 {
    value: u32,
    needed: u8,
    min: u32,
}

impl Utf8 {
    /// Feeds one byte; returns up to two code points (a broken sequence
    /// yields U+FFFD and then the byte that broke it is decoded afresh).
    fn feed(&mut self, b: u8, out: &mut Vec<char>) {
        if self.needed > 0 {
            if b & 0xC0 == 0x80 {
                self.value = (self.value << 6) | u32::from(b & 0x3F);
                self.needed -= 1;
                if self.needed == 0 {
                    let ok = self.value >= self.min;
                    out.push(
                        char::from_u32(self.value)
                            .filter(|_| ok)
                            .unwrap_or(char::REPLACEMENT_CHARACTER),
                    );
                }
                return;
            }
            self.needed = 0;
            out.push(char::REPLACEMENT_CHARACTER);
        }
        match b {
            0x00..=0x7F => out.push(char::from(b)),
            0xC2..=0xDF => self.start(u32::from(b & 0x1F), 1, 0x80),
            0xE0..=0xEF => self.start(u32::from(b & 0x0F), 2, 0x800),
            0xF0..=0xF4 => self.start(u32::from(b & 0x07), 3, 0x10000),
            _ => out.push(char::REPLACEMENT_CHARACTER),
        }
    }

    fn start(&mut self, value: u32, needed: u8, min: u32) {
        self.value = value;
        self.needed = needed;
        self.min = min;
    }
}

/// The input parser; keeps its state between reads.
#[derive(Debug, Clone, Default)]
pub struct KeyParser {
    utf8: Utf8,
    state: State,
    /// Parameter bytes of the CSI being read (only their shape matters).
    params: Vec<u8>,
    has_intermediate: bool,
    chars: Vec<char>,
}

impl KeyParser {
    /// A parser in the ground state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether an escape sequence (possibly a lone ESC key) is still open.
    pub fn in_sequence(&self) -> bool {
        self.state != State::Ground
    }

    /// Forgets any partial sequence (after a paste, which is not parsed).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Feeds one byte, appending the keys it completes to `out`.
    pub fn feed(&mut self, byte: u8, out: &mut Vec<Key>) {
        let mut chars = std::mem::take(&mut self.chars);
        chars.clear();
        self.utf8.feed(byte, &mut chars);
        for &c in &chars {
            self.char(c, out);
        }
        self.chars = chars;
    }

    fn char(&mut self, c: char, out: &mut Vec<Key>) {
        let cp = u32::from(c);
        // Controls that act in every state, as in a DEC parser.
        match cp {
            0x1B => {
                self.state = State::Escape;
                return;
            }
            0x18 | 0x1A => {
                self.state = State::Ground;
                out.push(Key::Other);
                return;
            }
            0x9B => {
                self.enter_csi();
                return;
            }
            0x90 | 0x98 | 0x9D | 0x9E | 0x9F => {
                self.state = State::String;
                return;
            }
            0x9C => {
                if self.state == State::String {
                    self.state = State::Ground;
                }
                out.push(Key::Other);
                return;
            }
            0x80..=0x9F => {
                self.state = State::Ground;
                out.push(Key::Other);
                return;
            }
            _ => {}
        }
        match self.state {
            State::Ground => out.push(match cp {
                0x0D => Key::CarriageReturn,
                0x7F => Key::Backspace,
                0x00..=0x1F => Key::Other,
                _ if c == char::REPLACEMENT_CHARACTER => Key::Other,
                _ => Key::Print(c),
            }),
            State::String => {
                if cp == 0x07 {
                    self.state = State::Ground;
                    out.push(Key::Other);
                }
            }
            State::Escape | State::EscapeIntermediate | State::Csi if cp < 0x20 => {
                // A control inside a sequence is executed on its own.
                out.push(if cp == 0x0D {
                    Key::CarriageReturn
                } else {
                    Key::Other
                });
            }
            State::Escape => match cp {
                0x5B | 0x4F => self.enter_csi(), // '[' and 'O' (read as '[')
                0x5D | 0x50 | 0x58 | 0x5E | 0x5F => self.state = State::String,
                0x20..=0x2F => self.state = State::EscapeIntermediate,
                _ => {
                    self.state = State::Ground;
                    out.push(Key::Other);
                }
            },
            State::EscapeIntermediate => {
                if !(0x20..=0x2F).contains(&cp) {
                    self.state = State::Ground;
                    out.push(Key::Other);
                }
            }
            State::Csi => match cp {
                0x30..=0x3F => self.params.push(cp as u8),
                0x20..=0x2F => self.has_intermediate = true,
                _ => {
                    self.state = State::Ground;
                    let plain =
                        !self.has_intermediate && (self.params.is_empty() || self.params == b"1");
                    out.push(match cp {
                        0x43 => Key::Right { plain },
                        0x44 => Key::Left { plain },
                        _ => Key::Other,
                    });
                }
            },
        }
    }

    fn enter_csi(&mut self) {
        self.state = State::Csi;
        self.params.clear();
        self.has_intermediate = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut p = KeyParser::new();
        let mut out = Vec::new();
        for &b in bytes {
            p.feed(b, &mut out);
        }
        out
    }

    #[test]
    fn printable_ascii_and_utf8_are_print_keys() {
        assert_eq!(
            keys("aé€".as_bytes()),
            vec![Key::Print('a'), Key::Print('é'), Key::Print('€')]
        );
    }

    #[test]
    fn utf8_split_across_reads_still_decodes() {
        let mut p = KeyParser::new();
        let mut out = Vec::new();
        let bytes = "é".as_bytes();
        p.feed(bytes[0], &mut out);
        assert!(out.is_empty());
        p.feed(bytes[1], &mut out);
        assert_eq!(out, vec![Key::Print('é')]);
    }

    #[test]
    fn invalid_utf8_is_not_predicted() {
        assert_eq!(keys(&[0xFF, b'a']), vec![Key::Other, Key::Print('a')]);
        assert_eq!(keys(&[0xC3, b'a']), vec![Key::Other, Key::Print('a')]);
        // Overlong encoding of '/'.
        assert_eq!(keys(&[0xC0, 0xAF]), vec![Key::Other, Key::Other]);
        assert_eq!(keys(&[0xE0, 0x80, 0xAF]), vec![Key::Other]);
    }

    #[test]
    fn del_cr_and_other_controls() {
        assert_eq!(
            keys(b"\x7f\r\n\t\x08"),
            vec![
                Key::Backspace,
                Key::CarriageReturn,
                Key::Other,
                Key::Other,
                Key::Other
            ]
        );
    }

    #[test]
    fn arrows_in_both_cursor_key_modes() {
        assert_eq!(
            keys(b"\x1b[C\x1b[D\x1bOC\x1bOD"),
            vec![
                Key::Right { plain: true },
                Key::Left { plain: true },
                Key::Right { plain: true },
                Key::Left { plain: true }
            ]
        );
        assert_eq!(keys(b"\x1b[1C"), vec![Key::Right { plain: true }]);
    }

    #[test]
    fn modified_arrows_are_not_plain() {
        assert_eq!(keys(b"\x1b[1;5C"), vec![Key::Right { plain: false }]);
        assert_eq!(keys(b"\x1b[3D"), vec![Key::Left { plain: false }]);
    }

    #[test]
    fn other_sequences_are_other_and_swallow_their_bytes() {
        assert_eq!(keys(b"\x1b[A"), vec![Key::Other]);
        assert_eq!(keys(b"\x1bOP"), vec![Key::Other]);
        assert_eq!(keys(b"\x1bx"), vec![Key::Other]);
        assert_eq!(keys(b"\x1b(B"), vec![Key::Other]);
        assert_eq!(
            keys(b"\x1b]0;title\x07a"),
            vec![Key::Other, Key::Print('a')]
        );
        assert_eq!(keys(b"\x1b[200~"), vec![Key::Other]);
    }

    #[test]
    fn lone_escape_waits_for_the_next_byte() {
        assert_eq!(keys(b"\x1b"), vec![]);
        let mut p = KeyParser::new();
        let mut out = Vec::new();
        p.feed(0x1b, &mut out);
        assert!(p.in_sequence());
        p.feed(b'[', &mut out);
        p.feed(b'C', &mut out);
        assert!(!p.in_sequence());
        // ESC ESC restarts; the second ESC plus 'i' is one sequence (vim: leave insert, 'i').
        assert_eq!(keys(b"\x1b\x1bi"), vec![Key::Other]);
    }

    #[test]
    fn reset_returns_to_ground() {
        let mut p = KeyParser::new();
        let mut out = Vec::new();
        p.feed(0x1b, &mut out);
        p.reset();
        p.feed(b'a', &mut out);
        assert_eq!(out, vec![Key::Print('a')]);
    }
}
