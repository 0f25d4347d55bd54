//! Structure-aware datagrams that pass authentication: the input chooses
//! the header fields (direction, sequence number near 0, near the top or
//! past the 63-bit limit, timestamps), the fragment header and what the
//! fragments carry (a well-formed instruction with hostile numbers and a
//! host or user diff built from the input, compressed garbage, raw bytes),
//! possibly cut at a small MTU and delivered out of order or replayed. Each
//! datagram is sealed with the session key, so it reaches the fragment,
//! zlib, protobuf and state decoders of the real client
//! (`UserStream` → `CompleteTerminal`) and server cores. Nothing may panic,
//! a sealed datagram must open to what was sealed, a receive error must not
//! be fatal, and the client's screen stays within 2000 × 2000.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use prost::Message;
use rmosh::sync::complete_terminal::{CompleteTerminal, MAX_DIMENSION};
use rmosh::sync::user_stream::UserStream;
use rmosh::transport::compress::{compress, encode_instruction};
use rmosh::transport::connection::{Connection, Side};
use rmosh::transport::crypto::{Direction, MAX_SEQ, Session};
use rmosh::transport::datagram::Packet;
use rmosh::transport::fragment::{Fragment, Fragmenter};
use rmosh::transport::key::Base64Key;
use rmosh::transport::message::{
    EchoAck, HostBytes, HostInstruction, HostMessage, Instruction, Keystroke, PROTOCOL_VERSION,
    ResizeMessage, UserInstruction, UserMessage,
};

type Client = Connection<UserStream, CompleteTerminal>;
type Server = Connection<CompleteTerminal, UserStream>;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a.to_vec()
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
    /// A number near 0, near `u64::MAX` (the shutdown state) or the 63-bit edge.
    fn num(&mut self) -> u64 {
        match self.byte() {
            b @ 0..=199 => u64::from(b % 40),
            200..=229 => u64::MAX - u64::from(self.byte() % 4),
            230..=249 => MAX_SEQ - u64::from(self.byte() % 4),
            b => u64::from(b) << 40,
        }
    }
    fn dimension(&mut self) -> i32 {
        match self.byte() {
            b @ 0..=199 => i32::from(b % 60) + 1,
            200..=219 => 2000,
            220..=239 => 2001,
            240..=247 => 4 * 1024 * 1024,
            b => -i32::from(b),
        }
    }
}

fn host_diff(input: &mut Input) -> Vec<u8> {
    let mut msg = HostMessage::default();
    for _ in 0..input.byte() % 4 {
        let mut inst = HostInstruction::default();
        match input.byte() % 3 {
            0 => {
                let n = usize::from(input.byte());
                inst.hostbytes = Some(HostBytes {
                    hoststring: Some(input.bytes(n)),
                });
            }
            1 => {
                inst.resize = Some(ResizeMessage {
                    width: Some(input.dimension()),
                    height: Some(input.dimension()),
                })
            }
            _ => {
                inst.echoack = Some(EchoAck {
                    echo_ack_num: Some(input.num()),
                })
            }
        }
        msg.instruction.push(inst);
    }
    msg.encode_to_vec()
}

fn user_diff(input: &mut Input) -> Vec<u8> {
    let mut msg = UserMessage::default();
    for _ in 0..input.byte() % 4 {
        let mut inst = UserInstruction::default();
        if input.byte() & 1 == 0 {
            let n = usize::from(input.byte() % 32);
            inst.keystroke = Some(Keystroke {
                keys: Some(input.bytes(n)),
            });
        } else {
            inst.resize = Some(ResizeMessage {
                width: Some(input.dimension()),
                height: Some(input.dimension()),
            });
        }
        msg.instruction.push(inst);
    }
    msg.encode_to_vec()
}

/// The fragment payloads of one instruction, garbage, or raw bytes.
fn payloads(input: &mut Input, to_server: bool, ids: &mut Fragmenter) -> Vec<Vec<u8>> {
    match input.byte() % 4 {
        0 | 1 => {
            let inst = Instruction {
                protocol_version: Some(if input.byte() == 0 {
                    1
                } else {
                    PROTOCOL_VERSION
                }),
                old_num: Some(input.num()),
                new_num: Some(input.num()),
                ack_num: Some(input.num()),
                throwaway_num: Some(input.num()),
                diff: Some(if to_server {
                    user_diff(input)
                } else {
                    host_diff(input)
                }),
                chaff: None,
            };
            let mtu = 39 + usize::from(input.byte()) * 5;
            let fragments = ids
                .make_fragments(&encode_instruction(&inst), mtu)
                .expect("fits");
            fragments.iter().map(Fragment::encode).collect()
        }
        2 => {
            let n = usize::from(input.byte());
            let fragment = Fragment {
                id: input.num(),
                num: input.u16() & 0x7FFF,
                is_final: input.byte() & 1 == 0,
                chunk: compress(&input.bytes(n)),
            };
            vec![fragment.encode()]
        }
        _ => {
            let n = usize::from(input.byte());
            vec![input.bytes(n)]
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let key = Base64Key::from_bytes([5; 16]);
    let t0 = Instant::now();
    let server_addr: SocketAddr = ([127, 0, 0, 1], 60001).into();
    let mut client = Client::new(
        Side::Client { server_addr },
        &key,
        UserStream::new(),
        CompleteTerminal::new(80, 24),
        t0,
    );
    let mut server = Server::new(
        Side::Server,
        &key,
        CompleteTerminal::new_server(80, 24),
        UserStream::new(),
        t0,
    );
    client.set_rng_seed(1);
    server.set_rng_seed(2);
    let mut session = Session::new(&key);
    let mut ids = [Fragmenter::new(), Fragmenter::new()];
    let mut sent: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut now = t0;
    let mut input = Input(data);

    while !input.0.is_empty() {
        let op = input.byte();
        now += Duration::from_millis(u64::from(op >> 5) * 40);
        let to_server = op & 1 == 0;
        let seq = match op & 6 {
            0 => input.num(),
            2 => u64::from(input.u16()),
            4 => MAX_SEQ - u64::from(input.byte()),
            _ => MAX_SEQ + 1 + u64::from(input.byte()),
        };
        let direction = if to_server ^ (op & 8 != 0) {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let replay = op & 16 != 0 && !sent.is_empty();
        let datagrams: Vec<(bool, Vec<u8>)> = if replay {
            let pick = usize::from(input.byte()) % sent.len();
            vec![sent[pick].clone()]
        } else {
            let mut out = Vec::new();
            let mut parts = payloads(&mut input, to_server, &mut ids[usize::from(to_server)]);
            if input.byte() & 1 == 1 {
                parts.reverse();
            }
            for (k, payload) in parts.into_iter().enumerate() {
                let packet = Packet {
                    direction,
                    seq: seq.saturating_add(k as u64),
                    timestamp: input.u16(),
                    timestamp_reply: input.u16(),
                    payload,
                };
                let Ok(sealed) = packet.encode(&mut session) else {
                    // Only a sequence number past the 63-bit limit or an
                    // oversized payload may refuse to seal.
                    continue;
                };
                let opened =
                    Packet::decode(&session, &sealed, direction).expect("own datagram opens");
                assert_eq!(opened, packet);
                out.push((to_server, sealed));
            }
            out
        };
        let from: SocketAddr = ([127, 0, 0, 1], 40000 + u16::from(op >> 6)).into();
        for (to_server, datagram) in datagrams {
            let result = if to_server {
                server.handle_datagram(now, from, &datagram)
            } else {
                client.handle_datagram(now, server_addr, &datagram)
            };
            // Receive errors are never fatal: the cores keep sending.
            let _ = result;
            sent.push((to_server, datagram));
        }
        sent.truncate(64);
        for c in [client.fatal_error(), server.fatal_error()] {
            assert!(c.is_none(), "fatal error from received input: {c:?}");
        }
        client.handle_timeout(now);
        server.handle_timeout(now);
        while client.poll_transmit(now).is_some() {}
        while server.poll_transmit(now).is_some() {}
        let _ = server.take_remote_diff();
        let fb = client.remote_state().framebuffer();
        let max = usize::from(MAX_DIMENSION);
        assert!((1..=max).contains(&fb.width()) && (1..=max).contains(&fb.height()));
    }
});
