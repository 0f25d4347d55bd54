//! Untrusted message bytes: zlib + `Instruction`, and the raw protobufs
//! `Instruction`, `UserMessage`, `HostMessage` (also as an instruction's diff).
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use rmosh::transport::compress::{decode_instruction, decompress, encode_instruction};
use rmosh::transport::message::{HostMessage, Instruction, UserMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(instruction) = decode_instruction(data) {
        assert_eq!(instruction.protocol_version, Some(2));
        assert_eq!(
            decode_instruction(&encode_instruction(&instruction)),
            Ok(instruction)
        );
    }
    if let Ok(raw) = decompress(data) {
        assert!(raw.len() <= 4 * 1024 * 1024);
    }

    if let Ok(instruction) = Instruction::decode(data) {
        let again = Instruction::decode(instruction.encode_to_vec().as_slice());
        assert_eq!(again.as_ref(), Ok(&instruction));
        let diff = instruction.diff.unwrap_or_default();
        let _ = UserMessage::decode(diff.as_slice());
        let _ = HostMessage::decode(diff.as_slice());
    }
    if let Ok(user) = UserMessage::decode(data) {
        assert_eq!(
            UserMessage::decode(user.encode_to_vec().as_slice()),
            Ok(user)
        );
    }
    if let Ok(host) = HostMessage::decode(data) {
        assert_eq!(
            HostMessage::decode(host.encode_to_vec().as_slice()),
            Ok(host)
        );
    }
});
