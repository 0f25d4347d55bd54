//! Protobuf messages byte-identical to Mosh 1.4.0's (`TransportBuffers`,
//! `ClientBuffers`, `HostBuffers`).
//!
//! Mosh declares the per-element payloads as proto2 extensions; on the wire an
//! extension is an ordinary length-delimited field, so they are plain optional
//! fields here (prost has no extension support).

/// `TransportBuffers.Instruction`: one SSP transmission.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Instruction {
    /// Always 2 on the wire.
    #[prost(uint32, optional, tag = "1")]
    pub protocol_version: Option<u32>,
    /// State number the diff is relative to.
    #[prost(uint64, optional, tag = "2")]
    pub old_num: Option<u64>,
    /// State number the diff produces (`u64::MAX` = shutdown).
    #[prost(uint64, optional, tag = "3")]
    pub new_num: Option<u64>,
    /// Newest peer state received (`u64::MAX` = peer's shutdown received).
    #[prost(uint64, optional, tag = "4")]
    pub ack_num: Option<u64>,
    /// The receiver may discard stored states below this number.
    #[prost(uint64, optional, tag = "5")]
    pub throwaway_num: Option<u64>,
    /// Serialized `UserMessage` or `HostMessage`.
    #[prost(bytes = "vec", optional, tag = "6")]
    pub diff: Option<Vec<u8>>,
    /// 0–16 random bytes that disguise the length.
    #[prost(bytes = "vec", optional, tag = "7")]
    pub chaff: Option<Vec<u8>>,
}

/// The protocol version Mosh 1.4.0 speaks.
pub const PROTOCOL_VERSION: u32 = 2;

/// `ClientBuffers.UserMessage`: client → server diff.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UserMessage {
    /// Elements, each carrying exactly one payload.
    #[prost(message, repeated, tag = "1")]
    pub instruction: Vec<UserInstruction>,
}

/// `ClientBuffers.Instruction`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UserInstruction {
    /// Extension `keystroke = 2`.
    #[prost(message, optional, tag = "2")]
    pub keystroke: Option<Keystroke>,
    /// Extension `resize = 3`.
    #[prost(message, optional, tag = "3")]
    pub resize: Option<ResizeMessage>,
    /// rmosh's capability announcement `hello = 1001` (docs/extensions.md);
    /// a stock server ignores the unknown element.
    #[prost(message, optional, tag = "1001")]
    pub hello: Option<Hello>,
}

/// rmosh's `Hello` extension payload: the capability announcement, sent by
/// each side once in its synchronized object (docs/extensions.md).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Hello {
    /// Names of the extensions the sender understands.
    #[prost(string, repeated, tag = "1")]
    pub capability: Vec<String>,
    /// The sender's name and version, e.g. `rmosh 0.1.0`.
    #[prost(string, optional, tag = "2")]
    pub software: Option<String>,
}

/// `ClientBuffers.Keystroke`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Keystroke {
    /// The bytes typed.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub keys: Option<Vec<u8>>,
}

/// `ResizeMessage` (same shape in both packages).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResizeMessage {
    /// Columns.
    #[prost(int32, optional, tag = "5")]
    pub width: Option<i32>,
    /// Rows.
    #[prost(int32, optional, tag = "6")]
    pub height: Option<i32>,
}

/// `HostBuffers.HostMessage`: server → client diff.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HostMessage {
    /// Elements, each carrying exactly one payload.
    #[prost(message, repeated, tag = "1")]
    pub instruction: Vec<HostInstruction>,
}

/// `HostBuffers.Instruction`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HostInstruction {
    /// Extension `hostbytes = 2`.
    #[prost(message, optional, tag = "2")]
    pub hostbytes: Option<HostBytes>,
    /// Extension `resize = 3`.
    #[prost(message, optional, tag = "3")]
    pub resize: Option<ResizeMessage>,
    /// Extension `echoack = 7`.
    #[prost(message, optional, tag = "7")]
    pub echoack: Option<EchoAck>,
    /// rmosh's own extension `tty_mode = 1001` (the pty's echo state for
    /// local echo, docs/prediction.md), sent only to a client that announced
    /// `tty-mode`; a stock server never sends it.
    #[prost(message, optional, tag = "1001")]
    pub tty_mode: Option<TtyMode>,
    /// rmosh's capability announcement `hello = 1002`, sent only to a
    /// client that announced itself (docs/extensions.md).
    #[prost(message, optional, tag = "1002")]
    pub hello: Option<Hello>,
    /// rmosh's `history = 1003`: lines that scrolled off the server's
    /// screen, sent only to a client that announced `scrollback`
    /// (docs/scrollback.md).
    #[prost(message, optional, tag = "1003")]
    pub history: Option<History>,
}

/// rmosh's `HostBuffers.History` extension payload: consecutive lines of
/// the server's history, by absolute line number.
#[derive(Clone, PartialEq, prost::Message)]
pub struct History {
    /// Absolute number of the first line below (lines that ever scrolled
    /// off before it); a number above the receiver's count means the lines
    /// in between were dropped.
    #[prost(uint64, optional, tag = "1")]
    pub first: Option<u64>,
    /// The lines, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub line: Vec<HistoryLine>,
}

/// One line of [`History`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct HistoryLine {
    /// The cells as printable UTF-8 and SGR sequences (`ESC [ … m`),
    /// starting from the default rendition; nothing else.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub text: Option<Vec<u8>>,
    /// The line went on in the next one (a soft wrap at the width it had).
    #[prost(bool, optional, tag = "2")]
    pub wrapped: Option<bool>,
}

/// rmosh's `HostBuffers.TtyMode` extension payload.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TtyMode {
    /// The pty was in settled cooked-echo mode when the frame was sent
    /// (ICANON, ECHO, ICRNL, OPOST+ONLCR; no application output in the
    /// last few ms that was not the echo of a keystroke).
    #[prost(bool, optional, tag = "1")]
    pub cooked_echo: Option<bool>,
}

/// `HostBuffers.HostBytes`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HostBytes {
    /// Display-diff bytes for the client's emulator.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub hoststring: Option<Vec<u8>>,
}

/// `HostBuffers.EchoAck`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoAck {
    /// Newest client state whose keystrokes reached the application ≥ 50 ms ago.
    #[prost(uint64, optional, tag = "8")]
    pub echo_ack_num: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn hex(b: &[u8]) -> String {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn user_resize_matches_mosh() {
        let m = UserMessage {
            instruction: vec![UserInstruction {
                keystroke: None,
                resize: Some(ResizeMessage {
                    width: Some(80),
                    height: Some(24),
                }),
                ..Default::default()
            }],
        };
        assert_eq!(hex(&m.encode_to_vec()), "0a 06 1a 04 28 50 30 18");
    }

    #[test]
    fn user_keystrokes_match_mosh() {
        let m = UserMessage {
            instruction: vec![UserInstruction {
                keystroke: Some(Keystroke {
                    keys: Some(b"ab".to_vec()),
                }),
                resize: None,
                ..Default::default()
            }],
        };
        assert_eq!(hex(&m.encode_to_vec()), "0a 06 12 04 22 02 61 62");
    }

    #[test]
    fn host_echoack_then_bytes_match_mosh() {
        let m = HostMessage {
            instruction: vec![
                HostInstruction {
                    echoack: Some(EchoAck {
                        echo_ack_num: Some(3),
                    }),
                    ..Default::default()
                },
                HostInstruction {
                    hostbytes: Some(HostBytes {
                        hoststring: Some(b"hi".to_vec()),
                    }),
                    ..Default::default()
                },
            ],
        };
        assert_eq!(
            hex(&m.encode_to_vec()),
            "0a 04 3a 02 40 03 0a 06 12 04 22 02 68 69"
        );
        assert_eq!(HostMessage::decode(&m.encode_to_vec()[..]).ok(), Some(m));
    }

    #[test]
    fn instruction_emits_all_seven_fields_like_mosh() {
        let resize = UserMessage {
            instruction: vec![UserInstruction {
                keystroke: None,
                resize: Some(ResizeMessage {
                    width: Some(80),
                    height: Some(24),
                }),
                ..Default::default()
            }],
        };
        let i = Instruction {
            protocol_version: Some(PROTOCOL_VERSION),
            old_num: Some(0),
            new_num: Some(1),
            ack_num: Some(0),
            throwaway_num: Some(0),
            diff: Some(resize.encode_to_vec()),
            chaff: Some(Vec::new()),
        };
        assert_eq!(
            hex(&i.encode_to_vec()),
            "08 02 10 00 18 01 20 00 28 00 32 08 0a 06 1a 04 28 50 30 18 3a 00"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Instruction::decode(&[0xff, 0xff, 0xff][..]).is_err());
        assert!(HostMessage::decode(&[0x0a, 0x10, 0x12][..]).is_err());
    }
}
