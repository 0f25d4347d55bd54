//! The sans-IO SSP connection: one object per session side that turns
//! received datagrams and the passage of time into datagrams to send.
//!
//! In the manner of quinn-proto, nothing here touches a socket or a clock:
//! the driver passes every `now` in, hands over every datagram it receives,
//! and sends whatever the connection gives it. A virtual clock therefore
//! drives it exactly like the real one (see `tests/ssp_simulator.rs`).
//!
//! # Types
//!
//! `Connection<L, R>` synchronizes a local object `L` to the peer and
//! receives the peer's object `R`:
//!
//! | side   | `L` (sent)            | `R` (received)        |
//! |--------|-----------------------|-----------------------|
//! | client | `UserStream`          | the complete terminal |
//! | server | the complete terminal | `UserStream`          |
//!
//! # Driving it
//!
//! ```text
//! let mut conn = Connection::new(Side::Client { server_addr }, &key, local0, remote0, now);
//! loop {
//!     // 1. feed input
//!     conn.handle_datagram(now, from, &bytes)   // for each datagram received (errors: log/ignore)
//!     conn.handle_timeout(now)                  // when the poll_timeout deadline passed
//!     // 2. let the application look and change its object
//!     conn.remote_state(); conn.take_remote_diff();          // what the peer sent
//!     conn.current_state_mut().push_bytes(b"ls\r");          // what we send
//!     // 3. drain output, then sleep
//!     while let Some(t) = conn.poll_transmit(now) { socket.send_to(&t.contents, t.destination) }
//!     let deadline = conn.poll_timeout();       // None: nothing scheduled (no peer address yet)
//! }
//! ```
//!
//! Always drain `poll_transmit` after changing the local object or feeding
//! input: sending decisions (frame pacing, SEND_MINDELAY, delayed acks,
//! heartbeats, retransmissions, prospective resends) are taken there.
//! All fragments of one instruction are returned back-to-back.
//!
//! # Rules implemented here (spec references)
//!
//! * §1.5: crypto, direction and the in-order rule: only datagrams with
//!   `seq ≥ expected` update timestamps, RTT, [`Connection::last_heard`] and
//!   (server) the remote address; older ones still feed SSP unless their
//!   instruction is older than the newest one seen (see below).
//! * §2.1/§2.2: timestamps, one-shot corrected timestamp replies, RTT.
//! * §2.4: MTU by the destination's address family (IPv4 1252, IPv6 1216),
//!   [`Connection::set_mtu_fallback`] after `EMSGSIZE` (500).
//! * §2.6: the server roams to the source of the newest in-order datagram and
//!   forgets the client 40 s after last hearing from it.
//! * §3: a fresh fragment id per instruction; one reassembly buffer, which a
//!   fragment of an older instruction (a replay, or a late datagram) never
//!   resets.
//! * §5: sender and receiver (see [`super::sender`], [`super::receiver`]),
//!   shutdown from either side (§5.6).
//!
//! Client port hopping (§2.7) is the UDP driver's job: it asks
//! [`Connection::last_roundtrip_success`] after sending. The echo ack (§6.3)
//! lives in [`super::echo_ack`], kept by the server application.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::compress::decode_instruction;
use super::crypto::{Direction, SeqCounter, Session};
use super::datagram::Packet;
use super::error::{CryptoError, DatagramError, FragmentError, InstructionError};
use super::fragment::{Fragment, FragmentAssembly, Fragmenter, MTU_FALLBACK, MTU_V4, MTU_V6};
use super::key::Base64Key;
use super::message::{Instruction, PROTOCOL_VERSION};
use super::receiver::{Received, ReceivedState, Receiver};
use super::rtt::{MsClock, RttEstimator, TimestampEcho, timestamp_diff};
use super::sender::{CLIENT_SEND_MINDELAY, Outgoing, SERVER_SEND_MINDELAY, SHUTDOWN_NUM, Sender};
use super::state::{ApplyError, State};

/// The server forgets a client not heard from for this long (spec §2.6).
pub const SERVER_ASSOCIATION_TIMEOUT: Duration = Duration::from_millis(40_000);
/// Maximum chaff length.
pub const CHAFF_MAX: usize = 16;

/// Which end of the session this connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Sends to the fixed server address given on the command line.
    Client {
        /// The server's address (never changes; the client hops source ports instead).
        server_addr: SocketAddr,
    },
    /// Answers whichever client address sent the newest in-order datagram.
    Server,
}

/// One datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub destination: SocketAddr,
    /// The encrypted datagram.
    pub contents: Vec<u8>,
}

/// Why a received datagram was not (fully) used. None of these is fatal:
/// drop the datagram and carry on (log it at most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecvError {
    /// Decryption, size, plaintext length or direction check failed.
    Datagram(DatagramError),
    /// The fragment did not parse or did not fit the reassembly.
    Fragment(FragmentError),
    /// The reassembled instruction did not inflate/parse, or has the wrong version.
    Instruction(InstructionError),
    /// The diff did not apply to its base state.
    Apply(ApplyError),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Datagram(e) => e.fmt(f),
            RecvError::Fragment(e) => e.fmt(f),
            RecvError::Instruction(e) => e.fmt(f),
            RecvError::Apply(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why the connection can no longer send (the session must end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FatalError {
    /// Sequence numbers or the key's usage budget are exhausted.
    Crypto(CryptoError),
    /// A datagram could not be built.
    Datagram(DatagramError),
    /// An instruction could not be fragmented (e.g. more than 32768 fragments).
    Fragment(FragmentError),
}

impl fmt::Display for FatalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FatalError::Crypto(e) => e.fmt(f),
            FatalError::Datagram(e) => e.fmt(f),
            FatalError::Fragment(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for FatalError {}

/// One side of an SSP session, generic over the object it sends (`L`) and
/// the object it receives (`R`).
pub struct Connection<L: State, R: State> {
    server: bool,
    outgoing: Direction,
    incoming: Direction,
    session: Session,
    seq: SeqCounter,
    remote: Option<SocketAddr>,
    mtu_fallback: bool,
    expected_seq: u64,
    clock: MsClock,
    echo: TimestampEcho,
    rtt: RttEstimator,
    loss: super::loss::LossWindow,
    last_heard: Option<Instant>,
    last_roundtrip_success: Option<Instant>,
    sender: Sender<L>,
    receiver: Receiver<R>,
    fragmenter: Fragmenter,
    assembly: FragmentAssembly,
    queue: VecDeque<Transmit>,
    now: Instant,
    rng: StdRng,
    fatal: Option<FatalError>,
    datagrams_sent: u64,
    remote_states_held: bool,
}

impl<L: State, R: State> fmt::Debug for Connection<L, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("server", &self.server)
            .field("remote", &self.remote)
            .field("srtt_ms", &self.rtt.srtt_ms())
            .field("acked", &self.sender.acked_num())
            .field("last_sent", &self.sender.last_sent_num())
            .field("remote_num", &self.receiver.newest_num())
            .finish_non_exhaustive()
    }
}

impl<L: State, R: State> Connection<L, R> {
    /// A connection whose state 0 is `local_initial` (ours) and
    /// `remote_initial` (our copy of the peer's), started at `now`.
    /// SEND_MINDELAY defaults to 1 ms on the client and 8 ms on the server.
    pub fn new(
        side: Side,
        key: &Base64Key,
        local_initial: L,
        remote_initial: R,
        now: Instant,
    ) -> Self {
        let (server, remote, outgoing) = match side {
            Side::Client { server_addr } => (false, Some(server_addr), Direction::ToServer),
            Side::Server => (true, None, Direction::ToClient),
        };
        let mut sender = Sender::new(local_initial, now);
        sender.set_send_delay(if server {
            SERVER_SEND_MINDELAY
        } else {
            CLIENT_SEND_MINDELAY
        });
        Self {
            server,
            outgoing,
            incoming: outgoing.reverse(),
            session: Session::new(key),
            seq: SeqCounter::new(),
            remote,
            mtu_fallback: false,
            expected_seq: 0,
            clock: MsClock::new(now),
            echo: TimestampEcho::default(),
            rtt: RttEstimator::new(),
            loss: super::loss::LossWindow::default(),
            last_heard: None,
            last_roundtrip_success: None,
            sender,
            receiver: Receiver::new(remote_initial, now),
            fragmenter: Fragmenter::new(),
            assembly: FragmentAssembly::new(),
            queue: VecDeque::new(),
            now,
            rng: rand::make_rng(),
            fatal: None,
            datagrams_sent: 0,
            remote_states_held: false,
        }
    }

    /// Numbers this side's datagrams from `first` (and its instructions from
    /// `first + 1`) instead of from 0; call before anything is sent. A
    /// client passes [`super::crypto::first_seq_at`] of the wall clock, so
    /// a second client with the same key never reuses a nonce, and a server
    /// (ours) sees its instructions as newer than the first client's.
    pub fn start_numbering_at(&mut self, first: u64) {
        self.seq = SeqCounter::starting_at(first);
        self.fragmenter = Fragmenter::continuing_after(first);
    }

    /// Makes chaff deterministic (simulations, reproducible tests).
    pub fn set_rng_seed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// Handles one received datagram from `from`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Result<(), RecvError> {
        self.handle_datagram_ecn(now, from, bytes, false)
    }

    /// Like [`Connection::handle_datagram`], for a datagram whose IP header
    /// carried the ECN "congestion experienced" mark (spec §2.3).
    pub fn handle_datagram_ecn(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &[u8],
        congestion_experienced: bool,
    ) -> Result<(), RecvError> {
        self.advance(now);
        let packet =
            Packet::decode(&self.session, bytes, self.incoming).map_err(RecvError::Datagram)?;
        if packet.seq >= self.expected_seq {
            self.loss.on_datagram(packet.seq, self.expected_seq);
            self.expected_seq = packet.seq.saturating_add(1);
            self.echo
                .on_receive(packet.timestamp, congestion_experienced, now);
            if let Some(reply) = packet.reply() {
                let r = timestamp_diff(self.clock.timestamp16(now), reply);
                self.rtt.on_sample(r);
            }
            self.last_heard = Some(now);
            if self.server {
                self.remote = Some(from);
            }
        }
        let fragment = Fragment::decode(&packet.payload).map_err(RecvError::Fragment)?;
        let data = match self.assembly.add(fragment) {
            Ok(Some(data)) => data,
            // Reordering makes stale fragments on honest networks too; like
            // a duplicate, one is no error.
            Ok(None) | Err(FragmentError::Stale { .. }) => return Ok(()),
            Err(e) => return Err(RecvError::Fragment(e)),
        };
        let inst = decode_instruction(&data).map_err(RecvError::Instruction)?;
        self.process_instruction(now, &inst)
    }

    fn process_instruction(&mut self, now: Instant, inst: &Instruction) -> Result<(), RecvError> {
        self.sender
            .process_acknowledgment_through(inst.ack_num.unwrap_or(0));
        self.last_roundtrip_success = Some(self.sender.acked_timestamp());
        let new_num = inst.new_num.unwrap_or(0);
        if self.remote_states_held && new_num != SHUTDOWN_NUM {
            return Ok(());
        }
        let received = self
            .receiver
            .receive(
                now,
                inst.old_num.unwrap_or(0),
                new_num,
                inst.throwaway_num.unwrap_or(0),
                inst.diff.as_deref().unwrap_or_default(),
            )
            .map_err(RecvError::Apply)?;
        if let Received::Newest { data } = received {
            self.sender.set_ack_num(new_num);
            self.sender.remote_heard(now);
            if data {
                self.sender.set_data_ack();
            }
        }
        Ok(())
    }

    /// The next datagram to send at `now`, if any. Call until `None`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        self.advance(now);
        if self.queue.is_empty() {
            self.tick(now);
        }
        self.queue.pop_front()
    }

    /// Tells the connection that time has passed (its deadline, or any
    /// wake-up); due transmissions are then ready in `poll_transmit`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        self.tick(now);
    }

    /// When the connection next needs `handle_timeout`/`poll_transmit`
    /// (possibly in the past: then at once). `None`: nothing scheduled
    /// (no peer address yet, or a fatal error).
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        if self.fatal.is_some() {
            return None;
        }
        if !self.queue.is_empty() {
            return Some(self.now);
        }
        self.sender.calculate_timers(self.now, &self.rtt);
        self.remote.map(|_| self.sender.next_wakeup())
    }

    fn advance(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    fn tick(&mut self, now: Instant) {
        if self.fatal.is_some() {
            return;
        }
        let Some(dest) = self.remote else {
            // Keep the timers current even without a peer (as Mosh does).
            self.sender.calculate_timers(now, &self.rtt);
            return;
        };
        if let Some(out) = self.sender.tick(now, &self.rtt)
            && let Err(e) = self.send_instruction(now, dest, out)
        {
            self.fatal = Some(e);
        }
    }

    fn send_instruction(
        &mut self,
        now: Instant,
        dest: SocketAddr,
        out: Outgoing,
    ) -> Result<(), FatalError> {
        let chaff_len = self.rng.random_range(0..=CHAFF_MAX);
        let mut chaff = vec![0u8; chaff_len];
        self.rng.fill(chaff.as_mut_slice());
        let inst = Instruction {
            protocol_version: Some(PROTOCOL_VERSION),
            old_num: Some(out.old_num),
            new_num: Some(out.new_num),
            ack_num: Some(out.ack_num),
            throwaway_num: Some(out.throwaway_num),
            diff: Some(out.diff),
            chaff: Some(chaff),
        };
        let mtu = self.mtu_for(dest);
        let fragments = self
            .fragmenter
            .fragment_instruction(&inst, mtu)
            .map_err(FatalError::Fragment)?;
        for fragment in fragments {
            let seq = self.seq.next_seq().map_err(FatalError::Crypto)?;
            let packet = Packet {
                direction: self.outgoing,
                seq,
                timestamp: self.clock.timestamp16(now),
                timestamp_reply: self.echo.take_reply(now),
                payload: fragment.encode(),
            };
            let contents = packet
                .encode(&mut self.session)
                .map_err(FatalError::Datagram)?;
            self.datagrams_sent += 1;
            self.queue.push_back(Transmit {
                destination: dest,
                contents,
            });
        }
        if self.server
            && self
                .last_heard
                .is_none_or(|h| now.saturating_duration_since(h) > SERVER_ASSOCIATION_TIMEOUT)
        {
            // "Server now detached from client": wait to be found again.
            self.remote = None;
        }
        Ok(())
    }

    fn mtu_for(&self, dest: SocketAddr) -> usize {
        if self.mtu_fallback {
            MTU_FALLBACK
        } else if dest.is_ipv4() {
            MTU_V4
        } else {
            MTU_V6
        }
    }

    /// The UDP payload size in use towards the current peer.
    pub fn mtu(&self) -> usize {
        self.remote.map_or(MTU_FALLBACK, |d| self.mtu_for(d))
    }

    /// `sendto` failed with `EMSGSIZE`: use the 500-byte MTU of last resort from now on.
    pub fn set_mtu_fallback(&mut self) {
        self.mtu_fallback = true;
    }

    /// Whether this is the server side.
    pub fn is_server(&self) -> bool {
        self.server
    }

    /// Why the connection stopped sending, if it did (the session must end).
    pub fn fatal_error(&self) -> Option<&FatalError> {
        self.fatal.as_ref()
    }

    /// Datagrams produced so far.
    pub fn datagrams_sent(&self) -> u64 {
        self.datagrams_sent
    }

    // ---- the local object -------------------------------------------------

    /// Our object as it is now.
    pub fn current_state(&self) -> &L {
        self.sender.current_state()
    }

    /// Our object, to change in place. Changes after `start_shutdown` are
    /// sent as part of the shutdown state at most.
    pub fn current_state_mut(&mut self) -> &mut L {
        self.sender.current_state_mut()
    }

    /// Replaces our object.
    pub fn set_current_state(&mut self, state: L) {
        self.sender.set_current_state(state);
    }

    /// Sets SEND_MINDELAY (server 8 ms, client 1 ms; set by `new`).
    pub fn set_send_delay(&mut self, delay: Duration) {
        self.sender.set_send_delay(delay);
    }

    /// Paces new local data at most `interval` apart, from the last diff
    /// sent (see [`super::sender::Sender::set_new_data_interval`]); `None`
    /// is Mosh's pacing.
    pub fn set_new_data_interval(&mut self, interval: Option<Duration>) {
        self.sender.set_new_data_interval(interval);
    }

    /// Number of our newest state the peer acknowledged.
    pub fn acked_state_num(&self) -> u64 {
        self.sender.acked_num()
    }

    /// Number of the last state we sent.
    pub fn last_sent_state_num(&self) -> u64 {
        self.sender.last_sent_num()
    }

    /// The sender, for inspection.
    pub fn sender(&self) -> &Sender<L> {
        &self.sender
    }

    // ---- the remote object ------------------------------------------------

    /// The newest state of the peer's object.
    pub fn remote_state(&self) -> &R {
        &self.receiver.newest().state
    }

    /// The newest state of the peer's object with its number and arrival time.
    pub fn latest_remote_state(&self) -> &ReceivedState<R> {
        self.receiver.newest()
    }

    /// Back-pressure: while `held`, new peer states are neither stored nor
    /// acknowledged (the peer keeps them and resends), except its shutdown;
    /// acks of our own states still count. The server holds the user's
    /// keystrokes this way while the application does not read them.
    pub fn hold_remote_states(&mut self, held: bool) {
        self.remote_states_held = held;
    }

    /// Number of the newest peer state.
    pub fn remote_state_num(&self) -> u64 {
        self.receiver.newest_num()
    }

    /// When the newest peer state arrived (state 0: creation time).
    pub fn last_new_remote_state_time(&self) -> Instant {
        self.receiver.newest().timestamp
    }

    /// The diff from what was taken last time to the newest peer state
    /// (the server uses it to get new user events; see
    /// `Receiver::take_remote_diff`).
    pub fn take_remote_diff(&mut self) -> Vec<u8> {
        self.receiver.take_remote_diff()
    }

    /// The receiver, for inspection.
    pub fn receiver(&self) -> &Receiver<R> {
        &self.receiver
    }

    // ---- network facts ----------------------------------------------------

    /// Where we send: the server address (client), or the client's newest
    /// address (server; `None` before the first datagram and after 40 s of silence).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// When the last authentic in-order datagram arrived.
    pub fn last_heard(&self) -> Option<Instant> {
        self.last_heard
    }

    /// Send time of our newest state the peer acknowledged, updated on every
    /// received instruction; `None` before the first. Drives port hopping
    /// and the "Last reply" notice.
    pub fn last_roundtrip_success(&self) -> Option<Instant> {
        self.last_roundtrip_success
    }

    /// Smoothed RTT in milliseconds (1000 before the first sample).
    pub fn srtt_ms(&self) -> f64 {
        self.rtt.srtt_ms()
    }

    /// Fraction of the peer's recent datagrams that never arrived in order.
    pub fn recent_loss(&self) -> Option<f64> {
        self.loss.fraction()
    }

    /// The round-trip estimator.
    pub fn rtt(&self) -> &RttEstimator {
        &self.rtt
    }

    /// The frame interval: `ceil(SRTT/2)` within [20, 250] ms.
    pub fn send_interval(&self) -> Duration {
        self.rtt.send_interval()
    }

    /// The retransmission timeout: within [50, 1000] ms.
    pub fn rto(&self) -> Duration {
        self.rtt.rto()
    }

    // ---- shutdown (spec §5.6) ---------------------------------------------

    /// Starts the shutdown handshake: from now on every transmission
    /// carries state −1, sent every send interval.
    pub fn start_shutdown(&mut self, now: Instant) {
        self.advance(now);
        self.sender.start_shutdown(now);
    }

    /// Whether we started the shutdown.
    pub fn shutdown_in_progress(&self) -> bool {
        self.sender.shutdown_in_progress()
    }

    /// The peer acknowledged our shutdown: exit cleanly.
    pub fn shutdown_acknowledged(&self) -> bool {
        self.sender.shutdown_acknowledged()
    }

    /// We acknowledged the peer's shutdown: the session is over.
    pub fn counterparty_shutdown_ack_sent(&self) -> bool {
        self.sender.counterparty_shutdown_ack_sent()
    }

    /// The peer asked to shut down (its newest state is −1).
    pub fn counterparty_shutdown_requested(&self) -> bool {
        self.receiver.newest_num() == super::sender::SHUTDOWN_NUM
    }

    /// Give up on our shutdown: 16 transmissions or 10 s without an ack.
    pub fn shutdown_ack_timed_out(&self, now: Instant) -> bool {
        self.sender.shutdown_ack_timed_out(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte string; the diff is the whole new value.
    #[derive(Debug, Clone, PartialEq, Default)]
    struct Blob(Vec<u8>);

    impl State for Blob {
        fn diff_from(&self, base: &Self) -> Vec<u8> {
            if self == base {
                Vec::new()
            } else {
                let mut d = vec![b'='];
                d.extend_from_slice(&self.0);
                d
            }
        }
        fn apply(&mut self, diff: &[u8]) -> Result<(), ApplyError> {
            match diff.split_first() {
                Some((b'=', rest)) => {
                    self.0 = rest.to_vec();
                    Ok(())
                }
                _ => Err(ApplyError("not a blob diff".into())),
            }
        }
    }

    type Conn = Connection<Blob, Blob>;

    fn addr(s: &str) -> SocketAddr {
        s.parse()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    fn pair(now: Instant) -> (Conn, Conn) {
        let key = Base64Key::from_bytes([3; 16]);
        let server_addr = addr("10.0.0.1:60001");
        let c = Conn::new(
            Side::Client { server_addr },
            &key,
            Blob::default(),
            Blob::default(),
            now,
        );
        let s = Conn::new(Side::Server, &key, Blob::default(), Blob::default(), now);
        (c, s)
    }

    fn drain(c: &mut Conn, now: Instant) -> Vec<Transmit> {
        std::iter::from_fn(|| c.poll_transmit(now)).collect()
    }

    /// Drains at `now` and again after SEND_MINDELAY has passed.
    fn drain_after_change(c: &mut Conn, now: Instant) -> Vec<Transmit> {
        let mut v = drain(c, now);
        v.extend(drain(c, now + Duration::from_millis(10)));
        v
    }

    #[test]
    fn server_is_silent_until_it_hears_a_client() {
        let t0 = Instant::now();
        let (mut c, mut s) = pair(t0);
        assert!(drain(&mut s, t0).is_empty());
        assert_eq!(s.poll_timeout(), None);
        let first = drain(&mut c, t0);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].destination, addr("10.0.0.1:60001"));
        let from = addr("10.0.0.2:4000");
        assert_eq!(s.handle_datagram(t0, from, &first[0].contents), Ok(()));
        assert_eq!(s.remote_addr(), Some(from));
        let reply = drain(&mut s, t0);
        assert_eq!(reply.len(), 1);
        assert_eq!(reply[0].destination, from);
    }

    #[test]
    fn garbage_wrong_direction_and_reflection_are_errors() {
        let t0 = Instant::now();
        let (mut c, mut s) = pair(t0);
        let from = addr("10.0.0.2:4000");
        assert!(matches!(
            s.handle_datagram(t0, from, &[0u8; 40]),
            Err(RecvError::Datagram(_))
        ));
        assert!(matches!(
            s.handle_datagram(t0, from, &[1, 2, 3]),
            Err(RecvError::Datagram(_))
        ));
        // The client's own datagram reflected back at it.
        let d = drain(&mut c, t0);
        assert!(matches!(
            c.handle_datagram(t0, addr("10.0.0.1:60001"), &d[0].contents),
            Err(RecvError::Datagram(DatagramError::WrongDirection))
        ));
        assert_eq!(s.remote_addr(), None);
    }

    #[test]
    fn only_in_order_datagrams_move_the_server() {
        let t0 = Instant::now();
        let (mut c, mut s) = pair(t0);
        let old = drain(&mut c, t0);
        c.current_state_mut().0 = b"x".to_vec();
        let t1 = t0 + Duration::from_millis(300);
        let new = drain_after_change(&mut c, t1);
        assert!(!new.is_empty());
        let a = addr("10.0.0.2:4000");
        let b = addr("10.0.0.3:5000");
        assert!(s.handle_datagram(t1, a, &new[0].contents).is_ok());
        assert_eq!(s.remote_addr(), Some(a));
        // An older datagram (replayed from elsewhere) must not steal the
        // session; its instruction is older than the newest one, so it is
        // quietly dropped rather than fed to SSP.
        assert!(s.handle_datagram(t1, b, &old[0].contents).is_ok());
        assert_eq!(s.remote_addr(), Some(a));
        assert_eq!(s.remote_state().0, b"x");
    }

    #[test]
    fn fresh_fragment_ids_and_mtu_by_family() {
        let t0 = Instant::now();
        let key = Base64Key::from_bytes([3; 16]);
        let mut c = Conn::new(
            Side::Client {
                server_addr: addr("[::1]:60001"),
            },
            &key,
            Blob::default(),
            Blob::default(),
            t0,
        );
        assert_eq!(c.mtu(), MTU_V6);
        // Incompressible data that needs several fragments.
        let mut x: u32 = 1;
        c.current_state_mut().0 = (0..5000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let d = drain(&mut c, t0);
        assert!(d.len() >= 5);
        assert!(d.iter().all(|t| t.contents.len() <= MTU_V6));
        assert!(
            d.iter()
                .take(d.len() - 1)
                .all(|t| t.contents.len() == MTU_V6)
        );
        c.set_mtu_fallback();
        assert_eq!(c.mtu(), MTU_FALLBACK);
        let v4 = Conn::new(
            Side::Client {
                server_addr: addr("127.0.0.1:60001"),
            },
            &key,
            Blob::default(),
            Blob::default(),
            t0,
        );
        assert_eq!(v4.mtu(), MTU_V4);
        // Fragment ids: read them back from two instructions.
        let session = Session::new(&key);
        let ids: Vec<u64> = d
            .iter()
            .filter_map(|t| Packet::decode(&session, &t.contents, Direction::ToServer).ok())
            .filter_map(|p| Fragment::decode(&p.payload).ok())
            .map(|f| f.id)
            .collect();
        assert!(ids.iter().all(|&i| i == ids[0]));
        c.current_state_mut().0 = b"y".to_vec();
        let later = drain_after_change(&mut c, t0 + Duration::from_millis(300));
        let id2 = later
            .iter()
            .filter_map(|t| Packet::decode(&session, &t.contents, Direction::ToServer).ok())
            .filter_map(|p| Fragment::decode(&p.payload).ok())
            .map(|f| f.id)
            .next();
        assert_eq!(id2, Some(ids[0] + 1));
    }

    fn seq_and_fragment_id(key: &Base64Key, t: &Transmit) -> Option<(u64, u64)> {
        let p = Packet::decode(&Session::new(key), &t.contents, Direction::ToServer).ok()?;
        Some((p.seq, Fragment::decode(&p.payload).ok()?.id))
    }

    #[test]
    fn numbering_can_start_anywhere_and_the_server_follows() {
        let t0 = Instant::now();
        let key = Base64Key::from_bytes([3; 16]);
        let (mut c, mut s) = pair(t0);
        c.start_numbering_at(1_000_000);
        c.current_state_mut().0 = b"x".to_vec();
        let d = drain(&mut c, t0);
        assert_eq!(
            seq_and_fragment_id(&key, &d[0]),
            Some((1_000_000, 1_000_001))
        );
        assert!(
            s.handle_datagram(t0, addr("10.0.0.2:4000"), &d[0].contents)
                .is_ok()
        );
        assert_eq!(s.remote_state().0, b"x");
        assert_eq!(s.remote_addr(), Some(addr("10.0.0.2:4000")));
    }

    #[test]
    fn a_replayed_datagram_does_not_reset_the_fragment_assembly() {
        let t0 = Instant::now();
        let (mut c, mut s) = pair(t0);
        let from = addr("10.0.0.2:4000");
        c.current_state_mut().0 = b"small".to_vec();
        let old = drain(&mut c, t0);
        assert_eq!(old.len(), 1);
        assert!(s.handle_datagram(t0, from, &old[0].contents).is_ok());
        // Incompressible data that needs several fragments.
        let mut x: u32 = 7;
        let big: Vec<u8> = (0..4000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        c.current_state_mut().0 = big.clone();
        let t1 = t0 + Duration::from_millis(300);
        let new = drain_after_change(&mut c, t1);
        assert!(new.len() >= 3);
        for (i, t) in new.iter().enumerate() {
            if i == 1 {
                // An attacker replays the old, authentic datagram mid-way.
                assert!(s.handle_datagram(t1, from, &old[0].contents).is_ok());
            }
            assert!(s.handle_datagram(t1, from, &t.contents).is_ok());
        }
        assert_eq!(s.remote_state().0, big);
    }

    #[test]
    fn held_remote_states_are_not_acknowledged_until_released() {
        let t0 = Instant::now();
        let (mut c, mut s) = pair(t0);
        let from = addr("10.0.0.2:4000");
        let mut now = t0;
        let exchange = |c: &mut Conn, s: &mut Conn, now: Instant| {
            for t in drain_after_change(c, now) {
                let _ = s.handle_datagram(now, from, &t.contents);
            }
            for t in drain_after_change(s, now) {
                let _ = c.handle_datagram(now, t.destination, &t.contents);
            }
        };
        s.hold_remote_states(true);
        c.current_state_mut().0 = b"typed".to_vec();
        for _ in 0..20 {
            now += Duration::from_millis(250);
            exchange(&mut c, &mut s, now);
        }
        assert_eq!(s.remote_state_num(), 0, "nothing stored while held");
        assert_eq!(c.acked_state_num(), 0, "nothing acknowledged while held");
        assert!(c.last_sent_state_num() > 0, "the client kept offering it");
        s.hold_remote_states(false);
        for _ in 0..20 {
            now += Duration::from_millis(250);
            exchange(&mut c, &mut s, now);
        }
        assert_eq!(s.remote_state().0, b"typed");
        assert_eq!(c.acked_state_num(), c.last_sent_state_num());
    }

    #[test]
    fn bad_diff_is_reported_not_applied() {
        let t0 = Instant::now();
        let key = Base64Key::from_bytes([3; 16]);
        let mut s = Conn::new(Side::Server, &key, Blob::default(), Blob::default(), t0);
        let mut session = Session::new(&key);
        let inst = Instruction {
            protocol_version: Some(PROTOCOL_VERSION),
            old_num: Some(0),
            new_num: Some(1),
            ack_num: Some(0),
            throwaway_num: Some(0),
            diff: Some(b"nonsense".to_vec()),
            chaff: Some(Vec::new()),
        };
        let frags = Fragmenter::new()
            .fragment_instruction(&inst, MTU_V4)
            .unwrap_or_default();
        let p = Packet {
            direction: Direction::ToServer,
            seq: 0,
            timestamp: 5,
            timestamp_reply: 0xFFFF,
            payload: frags.first().map(Fragment::encode).unwrap_or_default(),
        };
        let bytes = p.encode(&mut session).unwrap_or_default();
        assert!(matches!(
            s.handle_datagram(t0, addr("10.0.0.2:1"), &bytes),
            Err(RecvError::Apply(_))
        ));
        assert_eq!(s.remote_state_num(), 0);
        assert!(!s.counterparty_shutdown_requested());
        assert_ne!(s.remote_state_num(), SHUTDOWN_NUM);
    }

    #[test]
    fn congestion_mark_makes_the_echoed_timestamp_older() {
        let t0 = Instant::now();
        let key = Base64Key::from_bytes([3; 16]);
        let session = Session::new(&key);
        let reply_of = |ce: bool| {
            let (mut c, mut s) = pair(t0);
            let d = drain(&mut c, t0 + Duration::from_millis(700));
            let from = addr("10.0.0.2:4000");
            let at = t0 + Duration::from_millis(800);
            let _ = s.handle_datagram_ecn(at, from, &d[0].contents, ce);
            let r = drain(&mut s, at);
            Packet::decode(&session, &r[0].contents, Direction::ToClient)
                .map(|p| p.timestamp_reply)
                .ok()
        };
        // The client's clock started at t0: its timestamp is 700.
        assert_eq!(reply_of(false), Some(700));
        assert_eq!(reply_of(true), Some(200));
    }
}
