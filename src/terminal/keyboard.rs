//! The server's keyboard translation (spec §10.6): the client's terminal is
//! always in application cursor mode, so `ESC O A`–`ESC O D` become
//! `ESC [ A`–`ESC [ D` unless the application asked for DECCKM.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Ground,
    Esc,
    Ss3,
}

/// Rewrites the user's cursor keys for the application, byte by byte.
#[derive(Debug, Clone, Default)]
pub struct UserInputTranslator {
    state: State,
}

impl UserInputTranslator {
    /// A translator in the ground state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Translates one byte, appending what the pty should receive to `out`.
    /// `application_cursor_keys` is the emulator's DECCKM.
    pub fn input(&mut self, byte: u8, application_cursor_keys: bool, out: &mut Vec<u8>) {
        match self.state {
            State::Ground => {
                if byte == 0x1b {
                    self.state = State::Esc;
                }
                out.push(byte);
            }
            State::Esc => {
                if byte == b'O' {
                    self.state = State::Ss3;
                    return;
                }
                self.state = State::Ground;
                out.push(byte);
            }
            State::Ss3 => {
                self.state = State::Ground;
                if !application_cursor_keys && (b'A'..=b'D').contains(&byte) {
                    out.extend_from_slice(&[b'[', byte]);
                } else {
                    out.extend_from_slice(&[b'O', byte]);
                }
            }
        }
    }

    /// Translates a run of bytes.
    pub fn translate(&mut self, bytes: &[u8], application_cursor_keys: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for &b in bytes {
            self.input(b, application_cursor_keys, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_keys_become_ansi_unless_decckm() {
        let mut t = UserInputTranslator::new();
        assert_eq!(t.translate(b"a\x1bOA\x1bOD", false), b"a\x1b[A\x1b[D");
        assert_eq!(t.translate(b"\x1bOA\x1bOP", true), b"\x1bOA\x1bOP");
        assert_eq!(t.translate(b"\x1bOP", false), b"\x1bOP");
    }

    #[test]
    fn split_sequences_and_double_escape() {
        let mut t = UserInputTranslator::new();
        assert_eq!(t.translate(b"\x1b", false), b"\x1b");
        assert_eq!(t.translate(b"O", false), b"");
        assert_eq!(t.translate(b"B", false), b"[B");
        // A second ESC returns to ground, as in Mosh: no translation follows.
        assert_eq!(t.translate(b"\x1b\x1bOA", false), b"\x1b\x1bOA");
    }
}
