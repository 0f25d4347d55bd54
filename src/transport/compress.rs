//! zlib framing of instructions (spec §4.3): what goes between the protobuf
//! `Instruction` and the fragmenter.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use prost::Message;

use super::error::{CompressError, InstructionError};
use super::message::{Instruction, PROTOCOL_VERSION};

/// Mosh inflates into a fixed 2048·2048-byte buffer; anything larger is refused.
pub const INFLATE_LIMIT: usize = 2048 * 2048;

/// Compresses `data` as one zlib stream at the default level (header `78 9c`).
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut z = Compress::new(Compression::default(), true);
    // Deflate's worst case is a little over the input plus ~5 bytes per 16 KiB block.
    let mut out = Vec::with_capacity(data.len() + data.len() / 1000 + 64);
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(data.len());
        let rest = data.get(consumed..).unwrap_or_default();
        match z.compress_vec(rest, &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return out,
            // Out of room (or no progress): grow and go on; compression of
            // in-memory bytes cannot otherwise fail.
            Ok(_) | Err(_) => out.reserve(out.capacity().max(64)),
        }
    }
}

/// Inflates one zlib stream, refusing output beyond [`INFLATE_LIMIT`].
///
/// Like zlib's `uncompress()`, bytes after the end of the stream are ignored.
pub fn decompress(data: &[u8]) -> Result<Vec<u8>, CompressError> {
    let mut z = Decompress::new(true);
    let mut out: Vec<u8> = Vec::with_capacity(data.len().saturating_mul(4).clamp(64, 1 << 16));
    loop {
        if out.len() == out.capacity() {
            if out.len() > INFLATE_LIMIT {
                return Err(CompressError::TooLarge);
            }
            // One byte past the limit is enough to tell "too large" apart.
            let room = (INFLATE_LIMIT + 1 - out.len()).min(out.capacity().max(4096));
            out.reserve_exact(room);
        }
        let consumed = usize::try_from(z.total_in()).unwrap_or(data.len());
        let rest = data.get(consumed..).unwrap_or_default();
        let before = (z.total_in(), out.len());
        let status = z
            .decompress_vec(rest, &mut out, FlushDecompress::None)
            .map_err(|e| CompressError::Corrupt(e.to_string()))?;
        if out.len() > INFLATE_LIMIT {
            return Err(CompressError::TooLarge);
        }
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => {
                let stuck = before == (z.total_in(), out.len());
                if stuck && out.len() < out.capacity() {
                    return Err(CompressError::Truncated);
                }
            }
        }
    }
}

/// Serializes and compresses an instruction: the bytes the fragmenter cuts.
pub fn encode_instruction(instruction: &Instruction) -> Vec<u8> {
    compress(&instruction.encode_to_vec())
}

/// Inflates and parses a reassembled instruction; `protocol_version` must be 2.
pub fn decode_instruction(data: &[u8]) -> Result<Instruction, InstructionError> {
    let raw = decompress(data)?;
    let instruction = Instruction::decode(raw.as_slice())
        .map_err(|e| InstructionError::Protobuf(e.to_string()))?;
    match instruction.protocol_version {
        Some(PROTOCOL_VERSION) => Ok(instruction),
        other => Err(InstructionError::VersionMismatch(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::message::{ResizeMessage, UserInstruction, UserMessage};
    use proptest::prelude::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn first_client_instruction() -> Instruction {
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
        Instruction {
            protocol_version: Some(2),
            old_num: Some(0),
            new_num: Some(1),
            ack_num: Some(0),
            throwaway_num: Some(0),
            diff: Some(resize.encode_to_vec()),
            chaff: Some(Vec::new()),
        }
    }

    #[test]
    fn worked_example_zlib_bytes_match_spec() {
        let z = encode_instruction(&first_client_instruction());
        assert_eq!(
            z,
            unhex(
                "78 9c e3 60 12 60 90 60 54 60 d0 60 30 e2 e0 62 93 62 d1 08 30 90 b0 62 00 00 10 53 01 de"
            )
        );
        assert_eq!(decode_instruction(&z), Ok(first_client_instruction()));
    }

    #[test]
    fn default_level_header_is_78_9c() {
        let z = compress(b"hello hello hello hello");
        assert_eq!(&z[..2], &[0x78, 0x9c]);
        assert_eq!(decompress(&z).unwrap(), b"hello hello hello hello");
    }

    #[test]
    fn empty_input_round_trips() {
        let z = compress(b"");
        assert_eq!(decompress(&z).unwrap(), b"");
    }

    #[test]
    fn exactly_four_mib_is_accepted_one_more_byte_is_not() {
        let at_limit = vec![b'x'; INFLATE_LIMIT];
        assert_eq!(
            decompress(&compress(&at_limit)).unwrap().len(),
            INFLATE_LIMIT
        );
        let over = vec![b'x'; INFLATE_LIMIT + 1];
        assert_eq!(decompress(&compress(&over)), Err(CompressError::TooLarge));
    }

    #[test]
    fn zip_bomb_is_refused_without_inflating_it_all() {
        let bomb = compress(&vec![0u8; 64 * 1024 * 1024]);
        assert!(bomb.len() < 100_000);
        assert_eq!(decompress(&bomb), Err(CompressError::TooLarge));
    }

    #[test]
    fn truncated_and_corrupt_streams_are_errors() {
        let z = compress(b"some text that is long enough to matter, some text");
        for cut in 0..z.len() {
            assert!(
                decompress(&z[..cut]).is_err(),
                "prefix of {cut} bytes accepted"
            );
        }
        assert!(matches!(
            decompress(b"not zlib at all"),
            Err(CompressError::Corrupt(_))
        ));
        let mut bad_checksum = z.clone();
        let last = bad_checksum.len() - 1;
        bad_checksum[last] ^= 1;
        assert!(decompress(&bad_checksum).is_err());
    }

    #[test]
    fn trailing_bytes_after_the_stream_are_ignored_like_uncompress() {
        let mut z = compress(b"abc");
        z.extend_from_slice(b"junk");
        assert_eq!(decompress(&z).unwrap(), b"abc");
    }

    #[test]
    fn wrong_or_missing_protocol_version_is_rejected() {
        let mut i = first_client_instruction();
        i.protocol_version = Some(1);
        assert_eq!(
            decode_instruction(&encode_instruction(&i)),
            Err(InstructionError::VersionMismatch(Some(1)))
        );
        i.protocol_version = None;
        assert_eq!(
            decode_instruction(&encode_instruction(&i)),
            Err(InstructionError::VersionMismatch(None))
        );
    }

    #[test]
    fn valid_zlib_with_bad_protobuf_is_a_protobuf_error() {
        let z = compress(&[0xff, 0xff, 0xff]);
        assert!(matches!(
            decode_instruction(&z),
            Err(InstructionError::Protobuf(_))
        ));
    }

    proptest! {
        #[test]
        fn compress_round_trips(data in proptest::collection::vec(any::<u8>(), 0..20_000)) {
            prop_assert_eq!(decompress(&compress(&data)).unwrap(), data);
        }

        #[test]
        fn decompress_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2_000)) {
            let _ = decompress(&data);
        }

        #[test]
        fn instruction_round_trips(
            old in any::<u64>(), new in any::<u64>(), ack in any::<u64>(), throw in any::<u64>(),
            diff in proptest::collection::vec(any::<u8>(), 0..3_000),
            chaff in proptest::collection::vec(any::<u8>(), 0..17),
        ) {
            let i = Instruction {
                protocol_version: Some(2), old_num: Some(old), new_num: Some(new),
                ack_num: Some(ack), throwaway_num: Some(throw), diff: Some(diff), chaff: Some(chaff),
            };
            prop_assert_eq!(decode_instruction(&encode_instruction(&i)), Ok(i));
        }
    }
}
