//! The server → client SSP object (spec §6.2): the emulator's screen plus the
//! echo ack, diffed as a `HostMessage` of echoack / resize / hostbytes.

use prost::Message;

use crate::sync::capabilities::{Capabilities, PeerHello};
use crate::terminal::cell::Cell;
use crate::terminal::display::{DisplayCaps, new_frame};
use crate::terminal::framebuffer::Row;
use crate::terminal::{Dialect, Emulator, Framebuffer};
use crate::transport::message::{
    EchoAck, HostBytes, HostInstruction, HostMessage, ResizeMessage, SessionMoved, TtyMode,
};
use crate::transport::state::{ApplyError, State};

/// Largest width or height of a screen, on both sides: the server clamps a
/// client's window to it, and a client refuses a resize beyond it (a
/// hostile server could otherwise ask for 4 M cells in one row).
pub const MAX_DIMENSION: u16 = 2000;

/// Clamps a window dimension to `1..=MAX_DIMENSION`.
pub fn clamp_dimension(v: i32) -> u16 {
    u16::try_from(v.clamp(1, i32::from(MAX_DIMENSION))).unwrap_or(1)
}

/// The complete terminal: emulator plus echo ack and rmosh's extensions.
#[derive(Debug, Clone)]
pub struct CompleteTerminal {
    emulator: Emulator,
    fields: Fields,
    /// What diffs from this state may say (server side): Mosh's vocabulary,
    /// or the extended diff for a client that negotiated it. Not state.
    vocabulary: DisplayCaps,
    /// What this client announced (client side), to intersect with the
    /// server's announcement. Not state.
    announced: Capabilities,
}

/// Everything synchronized besides the screen. Its equality is derived, so
/// a new field takes part in `CompleteTerminal`'s equality (and so in "is
/// there anything to send") without anyone remembering to add it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Fields {
    echo_ack: u64,
    /// The pty's settled cooked-echo state (rmosh extension; a stock server
    /// never sends it, so it stays false).
    cooked_echo: bool,
    /// The server's capability announcement (rmosh extension; only ever set
    /// once the client announced itself).
    hello: Option<PeerHello>,
    /// The server saw a raw-mode line editor echo typed keys (rmosh
    /// extension; settled, see docs/prediction.md).
    line_echo: bool,
    /// Another client attached to the session (rmosh extension; only ever
    /// set for a client that announced `session-moved`).
    moved: bool,
}

impl PartialEq for CompleteTerminal {
    /// Mosh's equality: framebuffers (rows, title, clipboard, bell count,
    /// display-relevant draw state) and the synchronized fields; never the
    /// parser state.
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
            && self.mirrored_modes() == other.mirrored_modes()
            && self.framebuffer() == other.framebuffer()
    }
}

impl CompleteTerminal {
    /// A terminal with Mosh 1.4.0's exact emulator (what a client replays
    /// hostbytes through).
    pub fn new(cols: usize, rows: usize) -> Self {
        CompleteTerminal {
            emulator: Emulator::new(cols, rows),
            fields: Fields::default(),
            vocabulary: DisplayCaps::MOSH_WIRE,
            announced: Capabilities::NONE,
        }
    }

    /// A terminal with the server's extended emulator (alternate screen,
    /// DEC graphics, scrollback …); its diffs stay in Mosh's vocabulary.
    pub fn new_server(cols: usize, rows: usize) -> Self {
        CompleteTerminal {
            emulator: Emulator::new_server(cols, rows),
            fields: Fields::default(),
            vocabulary: DisplayCaps::MOSH_WIRE,
            announced: Capabilities::NONE,
        }
    }

    /// The emulator.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// The emulator, for feeding output or resizing.
    pub fn emulator_mut(&mut self) -> &mut Emulator {
        &mut self.emulator
    }

    /// The screen.
    pub fn framebuffer(&self) -> &Framebuffer {
        self.emulator.framebuffer()
    }

    /// Feeds application output; returns the emulator's replies for the pty.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.emulator.feed(bytes);
        self.emulator.take_replies()
    }

    /// Resizes the emulator.
    pub fn resize(&mut self, cols: usize, rows: usize) {
        self.emulator.resize(cols, rows);
    }

    /// Newest client state whose keystrokes the application has had ≥ 50 ms.
    pub fn echo_ack(&self) -> u64 {
        self.fields.echo_ack
    }

    /// Sets the echo ack; it never decreases (a stock client aborts on that).
    pub fn set_echo_ack(&mut self, n: u64) {
        self.fields.echo_ack = self.fields.echo_ack.max(n);
    }

    /// Whether the server said its pty was in settled cooked-echo mode
    /// (every printable key typed now will be echoed by the kernel).
    pub fn cooked_echo(&self) -> bool {
        self.fields.cooked_echo
    }

    /// Whether the server said a raw-mode line editor echoes typed keys.
    pub fn line_echo(&self) -> bool {
        self.fields.line_echo
    }

    /// Records the settled line-echo evidence (server side).
    pub fn set_line_echo(&mut self, on: bool) {
        self.fields.line_echo = on;
    }

    /// Records the pty's settled cooked-echo state (server side).
    pub fn set_cooked_echo(&mut self, on: bool) {
        self.fields.cooked_echo = on;
    }

    /// The server's capability announcement, once one arrived (client
    /// side) or was made (server side).
    pub fn hello(&self) -> Option<&PeerHello> {
        self.fields.hello.as_ref()
    }

    /// Makes the server's announcement part of the state (server side; call
    /// only for a client that announced itself).
    pub fn set_hello(&mut self, hello: PeerHello) {
        self.fields.hello = Some(hello);
    }

    /// Diffs from this state on speak `vocabulary` (server side).
    pub fn set_vocabulary(&mut self, vocabulary: DisplayCaps) {
        self.vocabulary = vocabulary;
    }

    /// Records what the client announced (client side): a server `hello`
    /// that names `extended-diff` too switches the emulator to replay the
    /// extended diff.
    pub fn set_announced(&mut self, announced: Capabilities) {
        self.announced = announced;
    }

    /// The extensions both sides announced, as far as this state knows.
    pub fn negotiated(&self) -> Capabilities {
        self.fields.hello.as_ref().map_or(Capabilities::NONE, |h| {
            h.capabilities.intersection(self.announced)
        })
    }

    /// The modes the diff mirrors into the client's terminal, as far as
    /// this state's vocabulary carries them: a mode a diff cannot express
    /// is no reason to send a new state.
    fn mirrored_modes(&self) -> (bool, u8) {
        let ds = &self.framebuffer().ds;
        (
            self.vocabulary.keypad && ds.application_keypad,
            if self.vocabulary.cursor_shape {
                ds.cursor_style
            } else {
                0
            },
        )
    }

    /// Whether the server said that another client took over the session.
    pub fn moved(&self) -> bool {
        self.fields.moved
    }

    /// Tells the client that another client took over the session (server
    /// side; only for a client that announced `session-moved`).
    pub fn set_moved(&mut self) {
        self.fields.moved = true;
    }

    /// The same screen for a client that starts from scratch (attach): the
    /// emulator is kept, the synchronized extras start over (a new client
    /// counts its states from 0 and announces itself anew).
    pub fn for_new_client(&self) -> Self {
        CompleteTerminal {
            emulator: self.emulator.clone(),
            fields: Fields::default(),
            vocabulary: DisplayCaps::MOSH_WIRE,
            announced: Capabilities::NONE,
        }
    }
}

impl State for CompleteTerminal {
    fn diff_from(&self, base: &Self) -> Vec<u8> {
        let mut msg = HostMessage::default();
        let (f, b) = (&self.fields, &base.fields);
        if let Some(hello) = f.hello.as_ref().filter(|_| f.hello != b.hello) {
            msg.instruction.push(HostInstruction {
                hello: Some(hello.to_wire()),
                ..Default::default()
            });
        }
        if f.moved && !b.moved {
            msg.instruction.push(HostInstruction {
                session_moved: Some(SessionMoved {}),
                ..Default::default()
            });
        }
        if f.echo_ack > b.echo_ack {
            msg.instruction.push(HostInstruction {
                echoack: Some(EchoAck {
                    echo_ack_num: Some(f.echo_ack),
                }),
                ..Default::default()
            });
        }
        if f.cooked_echo != b.cooked_echo || f.line_echo != b.line_echo {
            msg.instruction.push(HostInstruction {
                tty_mode: Some(TtyMode {
                    cooked_echo: Some(f.cooked_echo),
                    line_echo: f.line_echo.then_some(true),
                }),
                ..Default::default()
            });
        }
        let (old, new) = (base.framebuffer(), self.framebuffer());
        if old != new || self.mirrored_modes() != base.mirrored_modes() {
            if old.width() != new.width() || old.height() != new.height() {
                msg.instruction.push(HostInstruction {
                    resize: Some(ResizeMessage {
                        width: i32::try_from(new.width()).ok(),
                        height: i32::try_from(new.height()).ok(),
                    }),
                    ..Default::default()
                });
            }
            let bytes = new_frame(true, old, new, &self.vocabulary);
            if !bytes.is_empty() {
                msg.instruction.push(HostInstruction {
                    hostbytes: Some(HostBytes {
                        hoststring: Some(bytes),
                    }),
                    ..Default::default()
                });
            }
        }
        msg.encode_to_vec()
    }

    fn held_bytes(&self) -> usize {
        // As if no row were shared with another state: an upper bound.
        let fb = self.framebuffer();
        fb.height() * (size_of::<Row>() + fb.width() * size_of::<Cell>())
    }

    fn apply(&mut self, diff: &[u8]) -> Result<(), ApplyError> {
        let msg =
            HostMessage::decode(diff).map_err(|e| ApplyError(format!("bad HostMessage: {e}")))?;
        for inst in msg.instruction {
            if let Some(hb) = inst.hostbytes {
                self.emulator
                    .feed(hb.hoststring.as_deref().unwrap_or_default());
                // A server never interrogates the client's emulator; answers
                // to a (hostile) query are dropped rather than sent anywhere.
                self.emulator.take_replies();
            } else if let Some(r) = inst.resize {
                let w = r.width.unwrap_or(0);
                let h = r.height.unwrap_or(0);
                let (Ok(w), Ok(h)) = (usize::try_from(w), usize::try_from(h)) else {
                    return Err(ApplyError(format!("bad resize {w}x{h}")));
                };
                let max = usize::from(MAX_DIMENSION);
                if !(1..=max).contains(&w) || !(1..=max).contains(&h) {
                    return Err(ApplyError(format!("bad resize {w}x{h}")));
                }
                self.emulator.resize(w, h);
            } else if let Some(e) = inst.echoack {
                let n = e.echo_ack_num.unwrap_or(0);
                if n < self.fields.echo_ack {
                    return Err(ApplyError(format!(
                        "echo ack went backwards ({} → {n})",
                        self.fields.echo_ack
                    )));
                }
                self.fields.echo_ack = n;
            } else if let Some(m) = inst.tty_mode {
                self.fields.cooked_echo = m.cooked_echo.unwrap_or(false);
                self.fields.line_echo = m.line_echo.unwrap_or(false);
            } else if let Some(h) = inst.hello {
                self.fields.hello = Some(PeerHello::from_wire(&h));
                // The hello leads its diff, so the screen bytes after it are
                // already replayed in the new dialect.
                if self.negotiated().contains(Capabilities::EXTENDED_DIFF) {
                    self.emulator.set_dialect(Dialect::EXTENDED_DIFF);
                }
            } else if inst.session_moved.is_some() {
                self.fields.moved = true;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::capabilities::Capabilities;

    fn resize_diff(width: i32, height: i32) -> Vec<u8> {
        HostMessage {
            instruction: vec![HostInstruction {
                resize: Some(ResizeMessage {
                    width: Some(width),
                    height: Some(height),
                }),
                ..Default::default()
            }],
        }
        .encode_to_vec()
    }

    #[test]
    fn a_server_cannot_resize_the_client_beyond_2000_by_2000() {
        let mut t = CompleteTerminal::new(80, 24);
        // 4 M cells in one row was within the old cell cap.
        for (w, h) in [
            (4 * 1024 * 1024, 1),
            (1, 4 * 1024 * 1024),
            (2001, 1),
            (1, 2001),
            (2048, 2048),
            (0, 5),
            (5, -1),
        ] {
            assert!(t.apply(&resize_diff(w, h)).is_err(), "{w}x{h}");
            assert_eq!(
                (t.framebuffer().width(), t.framebuffer().height()),
                (80, 24)
            );
        }
        for (w, h) in [(2000, 1), (1, 2000), (2000, 2000), (3, 4)] {
            t.apply(&resize_diff(w, h)).expect("within the cap");
            assert_eq!(
                (t.framebuffer().width(), t.framebuffer().height()),
                (w as usize, h as usize)
            );
        }
        assert_eq!(clamp_dimension(4 * 1024 * 1024), MAX_DIMENSION);
        assert_eq!(clamp_dimension(-7), 1);
    }

    #[test]
    fn held_bytes_grow_with_the_screen() {
        let small = CompleteTerminal::new(80, 24).held_bytes();
        let big = CompleteTerminal::new(2000, 2000).held_bytes();
        assert!(small >= 80 * 24 * size_of::<Cell>());
        assert!(big >= 2000 * 2000 * size_of::<Cell>() && big > 1000 * small);
    }

    #[test]
    fn line_echo_travels_in_the_same_extension_and_is_left_out_when_false() {
        let base = CompleteTerminal::new_server(80, 24);
        let mut server = base.clone();
        server.set_line_echo(true);
        assert!(server != base, "a change of the evidence is a new state");
        let d = server.diff_from(&base);
        let mut client = CompleteTerminal::new(80, 24);
        client.apply(&d).expect("apply");
        assert!(client.line_echo() && !client.cooked_echo());
        client.apply(&base.diff_from(&server)).expect("apply");
        assert!(!client.line_echo());
        // Only cooked_echo: the bytes are what they were before line_echo.
        let mut cooked = base.clone();
        cooked.set_cooked_echo(true);
        assert_eq!(
            cooked.diff_from(&base),
            [0x0a, 0x05, 0xca, 0x3e, 0x02, 0x08, 0x01]
        );
    }

    #[test]
    fn cooked_echo_travels_as_its_own_extension_instruction() {
        let base = CompleteTerminal::new_server(80, 24);
        let mut server = base.clone();
        server.set_cooked_echo(true);
        assert!(server != base, "a mode change is a new state");
        let d = server.diff_from(&base);
        let msg = HostMessage::decode(d.as_slice()).expect("decode");
        assert_eq!(msg.instruction.len(), 1);
        let only = &msg.instruction[0];
        assert!(only.hostbytes.is_none() && only.resize.is_none() && only.echoack.is_none());
        // Field 1001, length-delimited: what a stock client keeps as an
        // unknown extension.
        assert_eq!(d, [0x0a, 0x05, 0xca, 0x3e, 0x02, 0x08, 0x01]);
        let mut client = CompleteTerminal::new(80, 24);
        client.apply(&d).expect("apply");
        assert!(client.cooked_echo());
        let d = base.diff_from(&server);
        client.apply(&d).expect("apply");
        assert!(!client.cooked_echo());
    }

    #[test]
    fn the_server_hello_travels_once_and_first() {
        let base = CompleteTerminal::new_server(80, 24);
        let mut server = base.clone();
        server.set_hello(PeerHello::ours(Capabilities::SUPPORTED));
        server.set_echo_ack(2);
        assert!(server != base, "an announcement is a new state");
        let d = server.diff_from(&base);
        let msg = HostMessage::decode(d.as_slice()).expect("decode");
        assert!(msg.instruction[0].hello.is_some());
        let mut client = CompleteTerminal::new(80, 24);
        client.apply(&d).expect("apply");
        assert_eq!(
            client.hello().map(|h| h.capabilities),
            Some(Capabilities::SUPPORTED)
        );
        // Once the client has it, later diffs do not repeat it.
        let mut later = server.clone();
        later.set_echo_ack(3);
        let msg = HostMessage::decode(later.diff_from(&server).as_slice()).expect("decode");
        assert!(msg.instruction.iter().all(|i| i.hello.is_none()));
    }

    #[test]
    fn diff_then_apply_reproduces_the_screen() {
        let base = CompleteTerminal::new_server(80, 24);
        let mut server = base.clone();
        server.feed(b"\x1b]0;t\x07hello \x1b[31mworld\x1b[?2004h");
        server.set_echo_ack(3);
        let d = server.diff_from(&base);
        let mut client = CompleteTerminal::new(80, 24);
        client.apply(&d).expect("apply");
        assert_eq!(
            client.framebuffer().differences(server.framebuffer()),
            Vec::<String>::new()
        );
        assert_eq!(client.echo_ack(), 3);
    }

    #[test]
    fn equal_states_give_an_empty_diff() {
        let a = CompleteTerminal::new(80, 24);
        assert!(a.diff_from(&a.clone()).is_empty());
    }

    #[test]
    fn resize_is_sent_before_the_redraw() {
        let base = CompleteTerminal::new_server(80, 24);
        let mut s = base.clone();
        s.resize(100, 30);
        let msg = HostMessage::decode(&s.diff_from(&base)[..]).expect("decode");
        assert!(msg.instruction[0].resize.is_some());
        assert!(msg.instruction[1].hostbytes.is_some());
        let mut c = CompleteTerminal::new(80, 24);
        c.apply(&s.diff_from(&base)).expect("apply");
        assert_eq!(c.framebuffer().width(), 100);
        assert!(c.framebuffer().differences(s.framebuffer()).is_empty());
    }

    #[test]
    fn queries_in_hostbytes_do_not_reach_anyone_and_garbage_is_an_error() {
        let mut c = CompleteTerminal::new(80, 24);
        let msg = HostMessage {
            instruction: vec![HostInstruction {
                hostbytes: Some(HostBytes {
                    hoststring: Some(b"\x1b[6n\x1b[c\xff\xfe".to_vec()),
                }),
                ..Default::default()
            }],
        };
        assert!(c.apply(&msg.encode_to_vec()).is_ok());
        assert!(!c.emulator().has_replies());
        assert!(c.apply(&[0xff, 0xff]).is_err());
        let huge = HostMessage {
            instruction: vec![HostInstruction {
                resize: Some(ResizeMessage {
                    width: Some(100_000),
                    height: Some(100_000),
                }),
                ..Default::default()
            }],
        };
        assert!(c.apply(&huge.encode_to_vec()).is_err());
    }

    fn hostbytes(diff: &[u8]) -> String {
        let msg = HostMessage::decode(diff).expect("decode");
        let bytes: Vec<u8> = msg
            .instruction
            .iter()
            .filter_map(|i| i.hostbytes.as_ref().and_then(|h| h.hoststring.clone()))
            .flatten()
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn extended_attributes_are_not_sent_to_stock_clients() {
        let base = CompleteTerminal::new_server(20, 2);
        let mut s = base.clone();
        s.feed(b"\x1b[2;9;53;4:3mX");
        let text = hostbytes(&s.diff_from(&base));
        assert_eq!(text, "\x1b[0;4mX");
        let mut alt = s.clone();
        alt.feed(b"\x1b[?1049h");
        let text = hostbytes(&alt.diff_from(&s));
        assert!(
            !text.contains("1049") && text.contains("\x1b[K"),
            "{text:?}"
        );
        let mut client = CompleteTerminal::new(20, 2);
        client.apply(&s.diff_from(&base)).expect("apply");
        client.apply(&alt.diff_from(&s)).expect("apply");
        assert_eq!(client.framebuffer().screen_text(), "\n");
    }

    /// Applies `server`'s diff from `base` to a Mosh-exact `client` showing
    /// `base`; the client must end on the server's screen without answering.
    fn replay(client: &mut CompleteTerminal, server: &CompleteTerminal, base: &CompleteTerminal) {
        client.apply(&server.diff_from(base)).expect("apply");
        assert!(!client.emulator().has_replies());
        assert_eq!(
            client.framebuffer().differences(server.framebuffer()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn replies_go_to_the_pty_and_never_into_a_diff() {
        let base = CompleteTerminal::new_server(20, 3);
        let mut s = base.clone();
        let replies = s.feed(b"ab\x1b[c\x1b[>c\x1b[5n\x1b[6n\x1b[?25$p\x1b[?1049$p");
        assert_eq!(
            replies,
            b"\x1b[?62c\x1b[>1;10;0c\x1b[0n\x1b[1;3R\x1b[?25;1$y\x1b[?1049;2$y".to_vec()
        );
        let text = hostbytes(&s.diff_from(&base));
        assert_eq!(text, "ab");
        let mut client = CompleteTerminal::new(20, 3);
        replay(&mut client, &s, &base);
    }

    #[test]
    fn leaving_the_alternate_screen_gives_the_shell_screen_back_to_a_stock_client() {
        // A shell prompt, then what vim does around its session: 1049h,
        // a scrolling region, a drawn screen with the cursor elsewhere, a
        // pending wrap on the last column, then 1049l and the next prompt.
        let base = CompleteTerminal::new_server(20, 4);
        let mut client = CompleteTerminal::new(20, 4);
        let mut s = base.clone();
        s.feed(b"$ vim x\r\n");
        replay(&mut client, &s, &base);
        let mut steps: Vec<&[u8]> = vec![
            b"\x1b[?1049h\x1b[1;4r\x1b[H\x1b[2J~\r\n~\r\n~\x1b[4;1H\"x\" [New]",
            b"\x1b[1;1Hhello\x1b[4;1H-- INSERT --\x1b[4;20H.",
            b"\x1b[4;1H\x1b[K\"x\" 1L written\x1b[?1049l",
            b"$ ",
        ];
        for step in steps.drain(..) {
            let before = s.clone();
            s.feed(step);
            replay(&mut client, &s, &before);
        }
        assert_eq!(client.framebuffer().screen_text(), "$ vim x\n$\n\n");
        assert_eq!(client.framebuffer().cursor(), (1, 2));
    }

    #[test]
    fn a_new_client_gets_the_screen_but_none_of_the_old_extras() {
        let mut old = CompleteTerminal::new_server(80, 24);
        old.feed(b"kept on screen");
        old.set_echo_ack(41);
        old.set_cooked_echo(true);
        old.set_hello(PeerHello::ours(Capabilities::SUPPORTED));
        let fresh = old.for_new_client();
        assert_eq!(fresh.framebuffer(), old.framebuffer());
        assert_eq!(
            (fresh.echo_ack(), fresh.cooked_echo(), fresh.hello()),
            (0, false, None)
        );
        // Diffed from a blank screen at another size, a stock client's
        // emulator ends up with the same screen.
        let d = fresh.diff_from(&CompleteTerminal::new_server(100, 30));
        let mut client = CompleteTerminal::new(100, 30);
        client.apply(&d).expect("apply");
        assert_eq!(client.framebuffer().width(), 80);
        assert!(
            client
                .framebuffer()
                .row_text(0)
                .starts_with("kept on screen")
        );
    }

    #[test]
    fn session_moved_travels_once_and_is_applied() {
        let base = CompleteTerminal::new_server(80, 24);
        let mut moved = base.clone();
        moved.set_moved();
        assert!(moved != base);
        let d = moved.diff_from(&base);
        let msg = HostMessage::decode(d.as_slice()).expect("decode");
        assert_eq!(msg.instruction.len(), 1);
        assert!(msg.instruction[0].session_moved.is_some());
        assert!(
            moved.diff_from(&moved).len() < d.len(),
            "not repeated once acked"
        );
        let mut client = CompleteTerminal::new(80, 24);
        assert!(!client.moved());
        client.apply(&d).expect("apply");
        assert!(client.moved());
    }
}
