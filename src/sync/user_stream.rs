//! The user stream (spec §6.1): the client's keystrokes and window sizes,
//! synchronized to the server as an append-only list of events.
//!
//! A diff is a `UserMessage` holding the events the base lacks: runs of
//! bytes merged into one `keystroke` element, each resize its own `resize`
//! element. `subtract` drops the prefix the server acknowledged, so the
//! stream only holds unacknowledged input.

use std::collections::VecDeque;

use prost::Message;

use crate::sync::capabilities::{Capabilities, PeerHello};
use crate::transport::message::{Keystroke, ResizeMessage, UserInstruction, UserMessage};
use crate::transport::state::{ApplyError, State};

/// One user event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserEvent {
    /// A byte read from the user's terminal.
    UserByte(u8),
    /// The user's window size changed.
    Resize {
        /// Columns.
        width: i32,
        /// Rows.
        height: i32,
    },
    /// The client's capability announcement (an rmosh extension; first in
    /// the stream, before any keystroke).
    Hello(Capabilities),
}

/// The client → server synchronized object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserStream {
    events: VecDeque<UserEvent>,
}

impl UserStream {
    /// An empty stream (state 0 on both sides).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one typed byte.
    pub fn push_byte(&mut self, b: u8) {
        self.events.push_back(UserEvent::UserByte(b));
    }

    /// Appends typed bytes.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        self.events
            .extend(bytes.iter().map(|&b| UserEvent::UserByte(b)));
    }

    /// Appends a window size change.
    pub fn push_resize(&mut self, width: i32, height: i32) {
        self.events.push_back(UserEvent::Resize { width, height });
    }

    /// Appends this build's capability announcement.
    pub fn push_hello(&mut self, capabilities: Capabilities) {
        self.events.push_back(UserEvent::Hello(capabilities));
    }

    /// Appends any event.
    pub fn push(&mut self, event: UserEvent) {
        self.events.push_back(event);
    }

    /// The events, oldest first.
    pub fn events(&self) -> impl ExactSizeIterator<Item = &UserEvent> {
        self.events.iter()
    }

    /// Number of events held.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is held.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Length of the longest common prefix with `other`.
    fn common_prefix(&self, other: &Self) -> usize {
        self.events
            .iter()
            .zip(other.events.iter())
            .take_while(|(a, b)| a == b)
            .count()
    }

    /// Decodes a `UserMessage` diff into its events.
    pub fn decode_diff(diff: &[u8]) -> Result<Vec<UserEvent>, ApplyError> {
        let msg =
            UserMessage::decode(diff).map_err(|e| ApplyError(format!("bad UserMessage: {e}")))?;
        let mut out = Vec::new();
        for inst in msg.instruction {
            // Like Mosh: the first payload present wins, keystroke before resize.
            if let Some(k) = inst.keystroke {
                out.extend(
                    k.keys
                        .unwrap_or_default()
                        .into_iter()
                        .map(UserEvent::UserByte),
                );
            } else if let Some(r) = inst.resize {
                out.push(UserEvent::Resize {
                    width: r.width.unwrap_or(0),
                    height: r.height.unwrap_or(0),
                });
            } else if let Some(h) = inst.hello {
                out.push(UserEvent::Hello(PeerHello::from_wire(&h).capabilities));
            }
        }
        Ok(out)
    }

    /// Encodes events as a `UserMessage` (empty bytes for no events).
    pub fn encode_events<'a>(events: impl IntoIterator<Item = &'a UserEvent>) -> Vec<u8> {
        let mut msg = UserMessage::default();
        for ev in events {
            match *ev {
                UserEvent::UserByte(b) => {
                    if let Some(keys) = msg
                        .instruction
                        .last_mut()
                        .and_then(|i| i.keystroke.as_mut())
                        .map(|k| k.keys.get_or_insert_with(Vec::new))
                    {
                        keys.push(b);
                    } else {
                        msg.instruction.push(UserInstruction {
                            keystroke: Some(Keystroke {
                                keys: Some(vec![b]),
                            }),
                            resize: None,
                            ..Default::default()
                        });
                    }
                }
                UserEvent::Resize { width, height } => msg.instruction.push(UserInstruction {
                    keystroke: None,
                    resize: Some(ResizeMessage {
                        width: Some(width),
                        height: Some(height),
                    }),
                    ..Default::default()
                }),
                UserEvent::Hello(capabilities) => msg.instruction.push(UserInstruction {
                    hello: Some(PeerHello::ours(capabilities).to_wire()),
                    ..Default::default()
                }),
            }
        }
        msg.encode_to_vec()
    }
}

impl State for UserStream {
    fn held_bytes(&self) -> usize {
        self.events.len() * size_of::<UserEvent>()
    }

    /// `base` is normally a prefix of `self`; if it is not (a caller bug or a
    /// hostile peer), the events after the common prefix are encoded.
    fn diff_from(&self, base: &Self) -> Vec<u8> {
        let skip = self.common_prefix(base);
        Self::encode_events(self.events.iter().skip(skip))
    }

    fn apply(&mut self, diff: &[u8]) -> Result<(), ApplyError> {
        let events = Self::decode_diff(diff)?;
        self.events.extend(events);
        Ok(())
    }

    /// Drops `acked` from the front if it is a prefix; otherwise only the
    /// common prefix (never panics on inconsistent input).
    fn subtract(&mut self, acked: &Self) {
        let n = self.common_prefix(acked);
        self.events.drain(..n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn bytes_merge_into_one_keystroke_and_resizes_stand_alone() {
        let mut s = UserStream::new();
        s.push_resize(80, 24);
        s.push_bytes(b"ab");
        s.push_resize(100, 30);
        s.push_byte(b'c');
        let d = s.diff_from(&UserStream::new());
        let msg = UserMessage::decode(&d[..]).ok();
        let kinds: Vec<String> = msg
            .map(|m| m.instruction)
            .unwrap_or_default()
            .iter()
            .map(|i| match (&i.keystroke, &i.resize) {
                (Some(k), None) => format!(
                    "k:{}",
                    String::from_utf8_lossy(k.keys.as_deref().unwrap_or_default())
                ),
                (None, Some(r)) => {
                    format!("r:{}x{}", r.width.unwrap_or(-1), r.height.unwrap_or(-1))
                }
                _ => "bad".to_string(),
            })
            .collect();
        assert_eq!(kinds, vec!["r:80x24", "k:ab", "r:100x30", "k:c"]);
    }

    #[test]
    fn encoding_matches_mosh_vectors() {
        let mut s = UserStream::new();
        s.push_resize(80, 24);
        assert_eq!(
            hex(&s.diff_from(&UserStream::new())),
            "0a 06 1a 04 28 50 30 18"
        );
        let mut t = UserStream::new();
        t.push_bytes(b"ab");
        assert_eq!(
            hex(&t.diff_from(&UserStream::new())),
            "0a 06 12 04 22 02 61 62"
        );
    }

    #[test]
    fn diff_from_prefix_holds_only_new_events_and_applies_back() {
        let mut old = UserStream::new();
        old.push_bytes(b"xy");
        let mut new = old.clone();
        new.push_bytes(b"z");
        new.push_resize(1, 2);
        let d = new.diff_from(&old);
        let mut rebuilt = old.clone();
        assert!(rebuilt.apply(&d).is_ok());
        assert_eq!(rebuilt, new);
        assert!(new.diff_from(&new).is_empty());
    }

    #[test]
    fn subtract_drops_acked_prefix() {
        let mut s = UserStream::new();
        s.push_bytes(b"hello");
        let mut acked = UserStream::new();
        acked.push_bytes(b"he");
        s.subtract(&acked);
        let bytes: Vec<UserEvent> = s.events().copied().collect();
        assert_eq!(
            bytes,
            b"llo"
                .iter()
                .map(|&b| UserEvent::UserByte(b))
                .collect::<Vec<_>>()
        );
        let me = s.clone();
        s.subtract(&me);
        assert!(s.is_empty());
    }

    #[test]
    fn inconsistent_inputs_do_not_panic() {
        let mut a = UserStream::new();
        a.push_bytes(b"abc");
        let mut b = UserStream::new();
        b.push_bytes(b"axyz");
        // Not a prefix: encode after the common prefix, subtract only it.
        let d = a.diff_from(&b);
        assert_eq!(UserStream::decode_diff(&d).ok().map(|v| v.len()), Some(2));
        a.subtract(&b);
        assert_eq!(a.len(), 2);
        assert!(a.apply(&[0xff, 0xff]).is_err());
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn empty_elements_and_missing_fields_are_tolerated() {
        // One element with neither payload, one resize without fields.
        let msg = UserMessage {
            instruction: vec![
                UserInstruction::default(),
                UserInstruction {
                    keystroke: None,
                    resize: Some(ResizeMessage::default()),
                    ..Default::default()
                },
            ],
        };
        let ev = UserStream::decode_diff(&msg.encode_to_vec()).ok();
        assert_eq!(
            ev,
            Some(vec![UserEvent::Resize {
                width: 0,
                height: 0
            }])
        );
    }

    #[test]
    fn hello_travels_as_its_own_element_and_round_trips() {
        let mut s = UserStream::new();
        s.push_hello(Capabilities::SUPPORTED);
        s.push_resize(80, 24);
        let d = s.diff_from(&UserStream::new());
        let msg = UserMessage::decode(&d[..]).expect("decode");
        assert_eq!(msg.instruction.len(), 2);
        let first = &msg.instruction[0];
        assert!(first.keystroke.is_none() && first.resize.is_none());
        let hello = first.hello.as_ref().expect("hello");
        assert_eq!(
            hello.software.as_deref(),
            Some(&*crate::sync::capabilities::software())
        );
        // Field 1001, length-delimited: an unknown extension to a stock server.
        assert_eq!(&d[2..5], &[0xca, 0x3e, d[4]]);
        let mut out = UserStream::new();
        assert!(out.apply(&d).is_ok());
        assert_eq!(out, s);
    }

    proptest::proptest! {
        #[test]
        fn round_trip(prefix in proptest::collection::vec(0u8..=255, 0..50),
                      tail in proptest::collection::vec((0u8..=255, proptest::bool::weighted(0.1)), 0..50)) {
            let mut base = UserStream::new();
            base.push_bytes(&prefix);
            let mut new = base.clone();
            for (b, r) in tail {
                if r { new.push_resize(i32::from(b), 7) } else { new.push_byte(b) }
            }
            let mut out = base.clone();
            proptest::prop_assert!(out.apply(&new.diff_from(&base)).is_ok());
            proptest::prop_assert_eq!(out, new);
        }
    }
}
