//! A client side of the wire built from rmosh's primitives only, for tests
//! that must see every instruction a real server sends.

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use rmosh::transport::compress::decode_instruction;
use rmosh::transport::crypto::{Direction, SeqCounter, Session};
use rmosh::transport::datagram::{MAX_DATAGRAM_LEN, Packet, TIMESTAMP_NONE, timestamp16};
use rmosh::transport::error::DatagramError;
use rmosh::transport::fragment::{Fragment, FragmentAssembly, Fragmenter, MTU_V4};
use rmosh::transport::key::Base64Key;
use rmosh::transport::message::{Instruction, PROTOCOL_VERSION};

/// One UDP socket toward a server, with its session key.
pub struct WireClient {
    socket: UdpSocket,
    session: Session,
    seq: SeqCounter,
    fragmenter: Fragmenter,
    assembly: FragmentAssembly,
    start: Instant,
}

impl WireClient {
    /// A client toward 127.0.0.1:`port` with `key`.
    pub fn connect(port: u16, key: &Base64Key) -> WireClient {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("client socket");
        socket.connect(("127.0.0.1", port)).expect("connect");
        WireClient {
            socket,
            session: Session::new(key),
            seq: SeqCounter::new(),
            fragmenter: Fragmenter::new(),
            assembly: FragmentAssembly::new(),
            start: Instant::now(),
        }
    }

    /// Sends one instruction (fragmented as needed).
    pub fn send(&mut self, instruction: &Instruction) {
        let fragments = self
            .fragmenter
            .fragment_instruction(instruction, MTU_V4)
            .expect("fragment");
        for f in fragments {
            let packet = Packet {
                direction: Direction::ToServer,
                seq: self.seq.next_seq().expect("sequence number"),
                timestamp: timestamp16(self.start.elapsed().as_millis() as u64),
                timestamp_reply: TIMESTAMP_NONE,
                payload: f.encode(),
            };
            let datagram = packet.encode(&mut self.session).expect("seal");
            self.socket.send(&datagram).expect("send datagram");
        }
    }

    /// The next complete instruction from the server, or None at the deadline.
    pub fn recv(&mut self, deadline: Instant) -> Option<Instruction> {
        let mut buf = [0u8; MAX_DATAGRAM_LEN + 1];
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            self.socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .expect("set timeout");
            let n = match self.socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return None;
                }
                Err(e) => panic!("recv: {e}"),
            };
            let datagram = buf.get(..n).expect("received length within buffer");
            let packet = match Packet::decode(&self.session, datagram, Direction::ToClient) {
                Ok(p) => p,
                Err(e @ DatagramError::Crypto(_)) => panic!("server datagram rejected: {e}"),
                Err(e) => panic!("server datagram invalid: {e}"),
            };
            assert_eq!(packet.direction, Direction::ToClient);
            let fragment = Fragment::decode(&packet.payload).expect("fragment header");
            if let Some(bytes) = self.assembly.add(fragment).expect("reassembly") {
                return Some(decode_instruction(&bytes).expect("server instruction decodes"));
            }
        }
    }
}

/// An instruction carrying `diff` from state `old` to `new`, acking `ack`.
pub fn instruction(old: u64, new: u64, ack: u64, diff: Vec<u8>) -> Instruction {
    Instruction {
        protocol_version: Some(PROTOCOL_VERSION),
        old_num: Some(old),
        new_num: Some(new),
        ack_num: Some(ack),
        throwaway_num: Some(old),
        diff: Some(diff),
        chaff: Some(Vec::new()),
    }
}
