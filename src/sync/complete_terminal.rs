//! The server → client SSP object (spec §6.2): the emulator's screen plus the
//! echo ack, diffed as a `HostMessage` of echoack / resize / hostbytes.

use prost::Message;

use crate::sync::capabilities::PeerHello;
use crate::sync::history::{self, History};
use crate::terminal::display::{DisplayCaps, new_frame};
use crate::terminal::{Emulator, Framebuffer};
use crate::transport::message::History as WireHistory;
use crate::transport::message::{
    EchoAck, HostBytes, HostInstruction, HostMessage, ResizeMessage, TtyMode,
};
use crate::transport::state::{ApplyError, State};

/// Largest screen a peer may ask for (cells), so a hostile resize cannot
/// exhaust memory.
pub const MAX_CELLS: usize = 4 * 1024 * 1024;

/// The complete terminal: emulator plus echo ack and rmosh's extensions.
#[derive(Debug, Clone)]
pub struct CompleteTerminal {
    emulator: Emulator,
    fields: Fields,
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
    /// The lines of history this state holds (rmosh extension; only ever
    /// advanced for a client that announced `scrollback`).
    history: History,
}

impl PartialEq for CompleteTerminal {
    /// Mosh's equality: framebuffers (rows, title, clipboard, bell count,
    /// display-relevant draw state) and the synchronized fields; never the
    /// parser state.
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields && self.framebuffer() == other.framebuffer()
    }
}

impl CompleteTerminal {
    /// A terminal with Mosh 1.4.0's exact emulator (what a client replays
    /// hostbytes through).
    pub fn new(cols: usize, rows: usize) -> Self {
        CompleteTerminal {
            emulator: Emulator::new(cols, rows),
            fields: Fields::default(),
        }
    }

    /// A terminal with the server's extended emulator (alternate screen,
    /// DEC graphics, scrollback …); its diffs stay in Mosh's vocabulary.
    pub fn new_server(cols: usize, rows: usize) -> Self {
        CompleteTerminal {
            emulator: Emulator::new_extended(cols, rows),
            fields: Fields::default(),
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

    /// The history this state holds: on the client the received lines.
    pub fn history(&self) -> &History {
        &self.fields.history
    }

    /// Server side: the state holds the scrollback's lines up to absolute
    /// number `n` (capped at what ever scrolled off; call only for a client
    /// that announced `scrollback`).
    pub fn set_history_through(&mut self, n: u64) {
        let pushed = self.framebuffer().scrollback().pushed();
        self.fields.history.set_through(n.min(pushed));
    }

    /// The history lines between `base` and this state, from the emulator's
    /// scrollback: those it no longer keeps are skipped, which the receiver
    /// sees as a gap.
    fn history_diff(&self, base: &Self) -> Option<WireHistory> {
        let (from, to) = (base.fields.history.through(), self.fields.history.through());
        if to <= from {
            return None;
        }
        let sb = self.framebuffer().scrollback();
        let first = from.max(sb.first_kept()).min(to);
        let count = usize::try_from(to - first).unwrap_or(usize::MAX);
        let line = sb
            .iter_from(first)
            .take(count)
            .map(|cells| history::encode_line(&cells, cells.last().is_some_and(|c| c.wrap)))
            .collect();
        Some(WireHistory {
            first: Some(first),
            line,
        })
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
        if f.echo_ack > b.echo_ack {
            msg.instruction.push(HostInstruction {
                echoack: Some(EchoAck {
                    echo_ack_num: Some(f.echo_ack),
                }),
                ..Default::default()
            });
        }
        if f.cooked_echo != b.cooked_echo {
            msg.instruction.push(HostInstruction {
                tty_mode: Some(TtyMode {
                    cooked_echo: Some(f.cooked_echo),
                }),
                ..Default::default()
            });
        }
        // The screen goes before the history, so a client that draws as it
        // applies shows the newest screen first.
        let history = self.history_diff(base);
        let (old, new) = (base.framebuffer(), self.framebuffer());
        if old != new {
            if old.width() != new.width() || old.height() != new.height() {
                msg.instruction.push(HostInstruction {
                    resize: Some(ResizeMessage {
                        width: i32::try_from(new.width()).ok(),
                        height: i32::try_from(new.height()).ok(),
                    }),
                    ..Default::default()
                });
            }
            let bytes = new_frame(true, old, new, &DisplayCaps::MOSH_WIRE);
            if !bytes.is_empty() {
                msg.instruction.push(HostInstruction {
                    hostbytes: Some(HostBytes {
                        hoststring: Some(bytes),
                    }),
                    ..Default::default()
                });
            }
        }
        if let Some(h) = history {
            msg.instruction.push(HostInstruction {
                history: Some(h),
                ..Default::default()
            });
        }
        msg.encode_to_vec()
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
                if w == 0 || h == 0 || w.saturating_mul(h) > MAX_CELLS {
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
            } else if let Some(h) = inst.hello {
                self.fields.hello = Some(PeerHello::from_wire(&h));
            } else if let Some(h) = inst.history {
                let lines = h.line.iter().map(history::Line::from_wire).collect();
                self.fields
                    .history
                    .receive(h.first.unwrap_or_default(), lines);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::capabilities::Capabilities;

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

    proptest::proptest! {
        /// History diffs from any older state, applied in any order the
        /// receiver may see them, give each kept line once, in order, with
        /// a gap exactly where the server's bounded scrollback dropped lines.
        #[test]
        fn history_round_trip_is_bounded_and_marks_gaps(
            steps in proptest::collection::vec((0usize..30, 0u64..40, proptest::bool::ANY), 1..20),
            limit in 5usize..50,
        ) {
            let mut server = CompleteTerminal::new_server(20, 4);
            server.emulator_mut().framebuffer_mut().scrollback_limit = limit;
            let mut states = vec![server.clone()];
            // The client's copy of each server state, as the receiver keeps them.
            let mut clients = vec![CompleteTerminal::new(20, 4)];
            let mut printed = 0u64;
            let mut seen: Vec<(u64, String)> = Vec::new();
            let mut line_no = 0u64;
            for (lines, advance, from_acked) in steps {
                for _ in 0..lines {
                    server.feed(format!("L{line_no}\r\n").as_bytes());
                    line_no += 1;
                }
                let want = server.history().through() + advance;
                server.set_history_through(want);
                let pushed = server.framebuffer().scrollback().pushed();
                proptest::prop_assert!(server.history().through() <= pushed);
                // A diff from the first state (a resend after loss) or the newest.
                let base = if from_acked { 0 } else { states.len() - 1 };
                let mut client = clients[base].clone();
                client.apply(&server.diff_from(&states[base])).expect("apply");
                proptest::prop_assert_eq!(client.history().through(), server.history().through());
                for (n, l) in client.history().lines_from(printed) {
                    seen.push((n, String::from_utf8_lossy(&l.text).into_owned()));
                    printed = n + 1;
                }
                states.push(server.clone());
                clients.push(client);
            }
            // Everything the state holds and the scrollback still keeps
            // was seen (a gap with no line after it yet is marked later).
            let kept = server.framebuffer().scrollback().first_kept();
            let through = server.history().through();
            proptest::prop_assert!(printed <= through);
            if through > kept {
                proptest::prop_assert_eq!(printed, through);
            }
            // In order, each once; every line a kept one said it was.
            for w in seen.windows(2) {
                proptest::prop_assert!(w[0].0 < w[1].0);
            }
            for (n, text) in &seen {
                let want = format!("L{n}");
                proptest::prop_assert_eq!(text, &want);
            }
        }
    }
}
