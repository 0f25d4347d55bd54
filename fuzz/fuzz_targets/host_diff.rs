//! Hostile server diffs applied to the client: `HostMessage`s built from the
//! input (host bytes, resizes at and past the 2000 × 2000 cap, echo acks
//! that go back, tty modes, or raw bytes as a diff), through the client's
//! receiver into its terminal, then drawn by the client's renderer. The
//! client must never hold a screen beyond the cap, never let the echo ack
//! go back, never store states beyond its count or byte limit, and never
//! panic.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use prost::Message;
use rmosh::client::renderer::Renderer;
use rmosh::sync::complete_terminal::{CompleteTerminal, MAX_DIMENSION};
use rmosh::terminal::display::DisplayCaps;
use rmosh::transport::message::{
    EchoAck, HostBytes, HostInstruction, HostMessage, ResizeMessage, TtyMode,
};
use rmosh::transport::receiver::{
    RECEIVED_BYTES_LIMIT, RECEIVED_STATES_LIMIT, RECEIVER_QUENCH, Received, Receiver,
};
use rmosh::transport::state::State;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a.to_vec()
    }
    /// A dimension: small, at the cap, past it, huge, zero or negative.
    fn dimension(&mut self) -> i32 {
        match self.byte().unwrap_or(0) {
            b @ 0..=99 => i32::from(b % 50) + 1,
            100..=139 => 2000,
            140..=159 => 2001,
            160..=179 => 4 * 1024 * 1024,
            180..=199 => 0,
            200..=219 => -1,
            b => i32::MAX - i32::from(b),
        }
    }
    fn u64(&mut self) -> u64 {
        let b = self.bytes(8);
        let mut a = [0u8; 8];
        a[..b.len()].copy_from_slice(&b);
        u64::from_le_bytes(a)
    }
}

fn host_message(input: &mut Input) -> Vec<u8> {
    let count = input.byte().unwrap_or(0) % 6;
    let mut msg = HostMessage::default();
    for _ in 0..count {
        let kind = input.byte().unwrap_or(0);
        let mut inst = HostInstruction::default();
        match kind % 5 {
            0 | 1 => {
                let len = usize::from(input.byte().unwrap_or(0));
                inst.hostbytes = Some(HostBytes {
                    hoststring: Some(input.bytes(len)),
                });
            }
            2 => {
                inst.resize = Some(ResizeMessage {
                    width: Some(input.dimension()),
                    height: Some(input.dimension()),
                });
            }
            3 => {
                inst.echoack = Some(EchoAck {
                    echo_ack_num: Some(input.u64() % 64),
                });
            }
            _ => {
                inst.tty_mode = Some(TtyMode {
                    cooked_echo: Some(kind & 8 != 0),
                });
            }
        }
        msg.instruction.push(inst);
    }
    msg.encode_to_vec()
}

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let mut input = Input(data);
    let mut receiver = Receiver::new(CompleteTerminal::new(80, 24), t0);
    let mut renderer = Renderer::new(80, 24, DisplayCaps::MOSH_WIRE);
    let mut now = t0;
    let mut new_num = 0u64;
    while let Some(op) = input.byte() {
        now += Duration::from_millis(u64::from(op >> 4) * 100);
        new_num += 1 + u64::from(op & 3);
        let old_num = receiver.states()[usize::from(op >> 2) % receiver.states().len()].num;
        let throwaway = if op & 0x80 != 0 { old_num } else { 0 };
        let diff = if op & 0x40 != 0 {
            let len = usize::from(input.byte().unwrap_or(0));
            input.bytes(len)
        } else {
            host_message(&mut input)
        };
        let base_echo_ack = receiver
            .states()
            .iter()
            .find(|s| s.num == old_num)
            .map(|s| s.state.echo_ack());
        let stored = matches!(
            receiver.receive(now, old_num, new_num, throwaway, &diff),
            Ok(Received::Newest { .. } | Received::OutOfOrder)
        );
        if stored {
            let new = receiver
                .states()
                .iter()
                .find(|s| s.num == new_num)
                .expect("stored");
            // A stock client aborts when the echo ack goes back; ours refuses such a diff.
            assert!(Some(new.state.echo_ack()) >= base_echo_ack);
        }

        let held: usize = receiver.states().iter().map(|s| s.state.held_bytes()).sum();
        assert!(held <= RECEIVED_BYTES_LIMIT);
        // The count limit lets one state per quench period past a full queue.
        let periods = (now - t0).as_millis() / RECEIVER_QUENCH.as_millis() + 1;
        assert!(receiver.states().len() as u128 <= RECEIVED_STATES_LIMIT as u128 + 1 + periods);
        let fb = receiver.newest().state.framebuffer();
        let max = usize::from(MAX_DIMENSION);
        assert!((1..=max).contains(&fb.width()) && (1..=max).contains(&fb.height()));
        let _ = renderer.draw(fb.clone());
    }
    // The client's own diff between its two newest states stays within the cap.
    if let [.., a, b] = receiver.states() {
        let mut copy = a.state.clone();
        let _ = copy.apply(&b.state.diff_from(&a.state));
        assert!(copy.framebuffer().width() <= usize::from(MAX_DIMENSION));
    }
});
