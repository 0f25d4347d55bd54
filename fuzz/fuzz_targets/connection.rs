//! `Connection::handle_datagram` with a valid key: the fuzzer's bytes are
//! turned into a script of authentic datagrams (raw plaintexts, compressed
//! garbage behind a valid fragment header, or well-formed instructions with
//! hostile numbers and diffs), interleaved with time steps, sends and
//! shutdowns, fed to a server and a client core. Nothing may panic, and a
//! receive error must leave the core usable.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use prost::Message;
use rmosh::sync::user_stream::UserStream;
use rmosh::transport::compress::compress;
use rmosh::transport::connection::{Connection, Side};
use rmosh::transport::crypto::{Direction, Session};
use rmosh::transport::datagram::Packet;
use rmosh::transport::fragment::Fragment;
use rmosh::transport::key::Base64Key;
use rmosh::transport::message::Instruction;

type Conn = Connection<UserStream, UserStream>;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    /// A state number: small, near the top, or the shutdown value.
    fn num(&mut self) -> u64 {
        match self.byte().unwrap_or(0) {
            b @ 0..=199 => u64::from(b % 40),
            200..=249 => u64::MAX,
            b => u64::MAX - u64::from(b - 249),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let key = Base64Key::from_bytes([9; 16]);
    let t0 = Instant::now();
    let server_addr: SocketAddr = ([127, 0, 0, 1], 60001).into();
    let mut client: Conn = Connection::new(
        Side::Client { server_addr },
        &key,
        UserStream::new(),
        UserStream::new(),
        t0,
    );
    let mut server: Conn =
        Connection::new(Side::Server, &key, UserStream::new(), UserStream::new(), t0);
    client.set_rng_seed(1);
    server.set_rng_seed(2);
    let mut session = Session::new(&key);
    let mut seq = [0u64; 2];
    let mut now = t0;
    let mut input = Input(data);

    while let Some(op) = input.byte() {
        let to_server = op & 1 == 0;
        let from: SocketAddr = ([127, 0, 0, 1], 40000 + u16::from(op >> 5)).into();
        let payload: Vec<u8> = match (op >> 1) % 8 {
            // Time passes; both sides tick and send.
            0 => {
                now += Duration::from_millis(u64::from(input.byte().unwrap_or(0)) * 13);
                for c in [&mut client, &mut server] {
                    c.handle_timeout(now);
                    while c.poll_transmit(now).is_some() {}
                    let _ = c.poll_timeout();
                }
                continue;
            }
            // Local activity.
            1 => {
                let n = usize::from(input.byte().unwrap_or(0) % 8);
                let b = input.bytes(n).to_vec();
                client.current_state_mut().push_bytes(&b);
                server.current_state_mut().push_resize(i32::from(op), 3);
                continue;
            }
            2 => {
                if op & 0x40 != 0 {
                    client.start_shutdown(now);
                } else {
                    server.start_shutdown(now);
                }
                continue;
            }
            // A raw authentic plaintext payload.
            3 => {
                let n = usize::from(input.byte().unwrap_or(0));
                input.bytes(n).to_vec()
            }
            // Valid fragment header, garbage compressed.
            4 => {
                let n = usize::from(input.byte().unwrap_or(0));
                let body = compress(input.bytes(n));
                Fragment {
                    id: u64::from(op),
                    num: 0,
                    is_final: true,
                    chunk: body,
                }
                .encode()
            }
            // A well-formed instruction with hostile fields, maybe split.
            _ => {
                let n = usize::from(input.byte().unwrap_or(0));
                let inst = Instruction {
                    protocol_version: Some(if op & 0x80 != 0 { 2 } else { u32::from(op & 3) }),
                    old_num: Some(input.num()),
                    new_num: Some(input.num()),
                    ack_num: Some(input.num()),
                    throwaway_num: Some(input.num()),
                    diff: Some(input.bytes(n).to_vec()),
                    chaff: None,
                };
                let z = compress(&inst.encode_to_vec());
                let cut = usize::from(input.byte().unwrap_or(255)).min(z.len());
                let id = u64::from(input.byte().unwrap_or(0));
                let (a, b) = z.split_at(cut);
                let first = Fragment {
                    id,
                    num: 0,
                    is_final: b.is_empty(),
                    chunk: a.to_vec(),
                };
                if !b.is_empty() {
                    // Deliver the first part now, the rest below.
                    let p = Packet {
                        direction: dir(to_server),
                        seq: next(&mut seq, to_server),
                        timestamp: 1,
                        timestamp_reply: 0xFFFF,
                        payload: first.encode(),
                    };
                    if let Ok(d) = p.encode(&mut session) {
                        let _ = target(&mut client, &mut server, to_server)
                            .handle_datagram(now, from, &d);
                    }
                    Fragment {
                        id,
                        num: 1,
                        is_final: true,
                        chunk: b.to_vec(),
                    }
                    .encode()
                } else {
                    first.encode()
                }
            }
        };
        let ts = u16::from(input.byte().unwrap_or(0)) * 257;
        let reply = if op & 0x10 != 0 {
            0xFFFF
        } else {
            ts.wrapping_sub(3)
        };
        // Sometimes replay an old sequence number (out-of-order path).
        let s = if op & 0x20 != 0 {
            0
        } else {
            next(&mut seq, to_server)
        };
        let p = Packet {
            direction: dir(to_server),
            seq: s,
            timestamp: ts,
            timestamp_reply: reply,
            payload,
        };
        if let Ok(d) = p.encode(&mut session) {
            let c = target(&mut client, &mut server, to_server);
            let _ = c.handle_datagram(now, from, &d);
            // Whatever happened, the core keeps working.
            while c.poll_transmit(now).is_some() {}
            let _ = c.poll_timeout();
            let _ = c.take_remote_diff();
        }
    }
});

fn dir(to_server: bool) -> Direction {
    if to_server {
        Direction::ToServer
    } else {
        Direction::ToClient
    }
}

fn next(seq: &mut [u64; 2], to_server: bool) -> u64 {
    let i = usize::from(to_server);
    seq[i] += 1;
    seq[i]
}

fn target<'a>(client: &'a mut Conn, server: &'a mut Conn, to_server: bool) -> &'a mut Conn {
    if to_server { server } else { client }
}
