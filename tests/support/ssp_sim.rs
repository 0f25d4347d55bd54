//! A deterministic network simulator for the SSP core: a virtual clock, two
//! `Connection`s (a client sending a `UserStream`, a server sending a small
//! test object) and seeded links with loss, delay, jitter, reordering,
//! duplication, a bandwidth limit and client address changes.
//!
//! Everything random comes from the seed, so a failing seed replays exactly.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rmosh::sync::user_stream::{UserEvent, UserStream};
use rmosh::transport::connection::{Connection, Side, Transmit};
use rmosh::transport::crypto::{Direction, Session};
use rmosh::transport::datagram::Packet;
use rmosh::transport::echo_ack::EchoAckTracker;
use rmosh::transport::fragment::Fragment;
use rmosh::transport::key::Base64Key;
use rmosh::transport::state::{ApplyError, State};

/// SplitMix64: small, fast, fully determined by the seed.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Uniform in [lo, hi] (inclusive).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.next_u64() % (hi - lo + 1)
        }
    }
    /// Random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

fn fnv(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// The server's synchronized test object. Its diffs name the exact base they
/// were made from (a fingerprint), so applying one to any other base fails:
/// a wrong `old_num` anywhere in the core shows up as an apply error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestObj {
    /// Bumped on every server-side change.
    pub counter: u64,
    /// Echo ack as in the terminal object (must never decrease at the client).
    pub echo_ack: u64,
    /// Arbitrary content; large random blobs need several fragments.
    pub blob: Vec<u8>,
}

impl TestObj {
    fn fingerprint(&self) -> u64 {
        let mut v = self.counter.to_le_bytes().to_vec();
        v.extend_from_slice(&self.echo_ack.to_le_bytes());
        v.extend_from_slice(&self.blob);
        fnv(&v)
    }
}

impl State for TestObj {
    fn diff_from(&self, base: &Self) -> Vec<u8> {
        if self == base {
            return Vec::new();
        }
        let common = self
            .blob
            .iter()
            .zip(&base.blob)
            .take_while(|(a, b)| a == b)
            .count();
        let mut d = base.fingerprint().to_le_bytes().to_vec();
        d.extend_from_slice(&self.counter.to_le_bytes());
        d.extend_from_slice(&self.echo_ack.to_le_bytes());
        d.extend_from_slice(&(common as u32).to_le_bytes());
        d.extend_from_slice(&self.blob[common..]);
        d
    }

    fn apply(&mut self, diff: &[u8]) -> Result<(), ApplyError> {
        let word = |r: std::ops::Range<usize>| -> Result<u64, ApplyError> {
            let b = diff.get(r).ok_or_else(|| ApplyError("short".into()))?;
            let mut a = [0u8; 8];
            a[..b.len()].copy_from_slice(b);
            Ok(u64::from_le_bytes(a))
        };
        if word(0..8)? != self.fingerprint() {
            return Err(ApplyError("diff made from another base".into()));
        }
        let counter = word(8..16)?;
        let echo_ack = word(16..24)?;
        let common = word(24..28)? as usize;
        if common > self.blob.len() {
            return Err(ApplyError("prefix longer than base".into()));
        }
        self.counter = counter;
        self.echo_ack = echo_ack;
        self.blob.truncate(common);
        self.blob
            .extend_from_slice(diff.get(28..).unwrap_or_default());
        Ok(())
    }
}

/// One direction of the simulated network.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Probability a datagram is lost.
    pub loss: f64,
    /// Base one-way delay.
    pub delay_ms: u64,
    /// Uniform extra delay 0..=jitter.
    pub jitter_ms: u64,
    /// Probability of extra delay that reorders the datagram.
    pub reorder: f64,
    /// Upper bound of that extra delay.
    pub reorder_extra_ms: u64,
    /// Probability a datagram is delivered twice.
    pub dup: f64,
    /// Link rate in bytes per millisecond (`None`: unlimited).
    pub bytes_per_ms: Option<f64>,
}

impl LinkConfig {
    /// A loss-free, fixed-delay link.
    pub fn perfect(delay_ms: u64) -> Self {
        Self {
            loss: 0.0,
            delay_ms,
            jitter_ms: 0,
            reorder: 0.0,
            reorder_extra_ms: 0,
            dup: 0.0,
            bytes_per_ms: None,
        }
    }

    /// A random bad link with loss up to `max_loss`.
    pub fn random(rng: &mut SimRng, max_loss: f64) -> Self {
        Self {
            loss: rng.unit() * max_loss,
            delay_ms: rng.range(1, 250),
            jitter_ms: rng.range(0, 60),
            reorder: rng.unit() * 0.2,
            reorder_extra_ms: rng.range(1, 150),
            dup: rng.unit() * 0.1,
            bytes_per_ms: if rng.chance(0.3) {
                Some(2.0 + rng.unit() * 200.0) // 2 kB/s .. 200 kB/s
            } else {
                None
            },
        }
    }
}

struct InFlight {
    at: Duration,
    order: u64,
    to_server: bool,
    from: SocketAddr,
    to: SocketAddr,
    bytes: Vec<u8>,
    /// Sent by the shutdown responder after it saw the peer's shutdown.
    shutdown_ack: bool,
}

impl PartialEq for InFlight {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.order) == (o.at, o.order)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for InFlight {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(o.at, o.order))
    }
}

/// Which side starts the shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    /// The client quits (escape "." or EOF).
    Client,
    /// The server's application exited.
    Server,
}

/// A scenario for one seed.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Client → server link.
    pub up: LinkConfig,
    /// Server → client link.
    pub down: LinkConfig,
    /// How long the applications are active.
    pub active: Duration,
    /// Mean gap between keystroke bursts.
    pub typing_gap_ms: u64,
    /// Mean gap between server output changes.
    pub output_gap_ms: u64,
    /// Probability per keystroke burst that the client's address changes.
    pub addr_change: f64,
    /// Who shuts down.
    pub initiator: Initiator,
}

impl Scenario {
    /// A random scenario for `seed` with loss up to `max_loss`.
    pub fn random(seed: u64, max_loss: f64) -> Self {
        let mut rng = SimRng::new(seed.wrapping_mul(31).wrapping_add(7));
        Self {
            up: LinkConfig::random(&mut rng, max_loss),
            down: LinkConfig::random(&mut rng, max_loss),
            active: Duration::from_millis(rng.range(1000, 6000)),
            typing_gap_ms: rng.range(5, 400),
            output_gap_ms: rng.range(20, 1500),
            addr_change: rng.unit() * 0.1,
            initiator: if seed.is_multiple_of(2) {
                Initiator::Client
            } else {
                Initiator::Server
            },
        }
    }
}

/// What a finished run observed.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Bytes the client typed, in order.
    pub typed: Vec<u8>,
    /// Bytes the server application got, in order.
    pub received: Vec<u8>,
    /// Resizes typed / received.
    pub resizes_typed: Vec<(i32, i32)>,
    /// Resizes the server got.
    pub resizes_received: Vec<(i32, i32)>,
    /// Virtual time when both directions had converged.
    pub converged_at: Option<Duration>,
    /// The client's final copy equals the server's object.
    pub converged: bool,
    /// The initiator saw its shutdown acknowledged.
    pub shutdown_clean: bool,
    /// The initiator gave up (16 tries or 10 s).
    pub shutdown_gave_up: bool,
    /// Shutdown transmissions the initiator made.
    pub shutdown_tries: u32,
    /// The responder received the shutdown request and acknowledged it.
    pub responder_acked: bool,
    /// The responder got the shutdown request but is still running without acking.
    pub responder_stuck: bool,
    /// A responder ack (a whole instruction) reached the live initiator.
    pub ack_delivered: bool,
    /// Apply errors (a diff applied to the wrong base): must stay 0.
    pub apply_errors: u64,
    /// Other receive errors (none expected on this honest network).
    pub recv_errors: u64,
    /// Datagrams sent / delivered.
    pub sent: u64,
    /// Datagrams delivered to an endpoint.
    pub delivered: u64,
    /// The echo ack the client saw decreased.
    pub echo_ack_decreased: bool,
    /// Client address changes.
    pub addr_changes: u32,
    /// The server's view of the client address at the end was the newest.
    pub server_followed_client: bool,
}

/// The simulator: two cores, a virtual clock, a network.
pub struct Sim {
    key: Base64Key,
    t0: Instant,
    now: Duration,
    rng: SimRng,
    sc: Scenario,
    /// The client core (None once it exited).
    pub client: Option<Connection<UserStream, TestObj>>,
    /// The server core (None once it exited).
    pub server: Option<Connection<TestObj, UserStream>>,
    server_addr: SocketAddr,
    client_addr: SocketAddr,
    old_client_addrs: Vec<SocketAddr>,
    net: BinaryHeap<Reverse<InFlight>>,
    order: u64,
    link_free: [Duration; 2],
    echo: EchoAckTracker,
    server_seen_num: u64,
    client_last_echo: u64,
    next_typing: Duration,
    next_output: Duration,
    /// What happened.
    pub out: Outcome,
}

impl Sim {
    /// Sets up both cores connected over the scenario's network.
    pub fn new(seed: u64, sc: Scenario) -> Self {
        let t0 = Instant::now();
        let key = Base64Key::from_bytes([seed as u8; 16]);
        let server_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 60001);
        let client_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 40000);
        let mut client = Connection::new(
            Side::Client { server_addr },
            &key,
            UserStream::new(),
            TestObj::default(),
            t0,
        );
        client.set_rng_seed(seed ^ 1);
        let mut server = Connection::new(
            Side::Server,
            &key,
            TestObj::default(),
            UserStream::new(),
            t0,
        );
        server.set_rng_seed(seed ^ 2);
        let mut rng = SimRng::new(seed);
        let mut sim = Self {
            key,
            t0,
            now: Duration::ZERO,
            next_typing: Duration::from_millis(rng.range(0, 50)),
            next_output: Duration::from_millis(rng.range(0, 50)),
            rng,
            sc,
            client: Some(client),
            server: Some(server),
            server_addr,
            client_addr,
            old_client_addrs: Vec::new(),
            net: BinaryHeap::new(),
            order: 0,
            link_free: [Duration::ZERO; 2],
            echo: EchoAckTracker::new(),
            server_seen_num: 0,
            client_last_echo: 0,
            out: Outcome::default(),
        };
        // Like the real client: the first event is the window size.
        sim.type_resize(80, 24);
        sim
    }

    fn instant(&self) -> Instant {
        self.t0 + self.now
    }

    fn type_resize(&mut self, w: i32, h: i32) {
        if let Some(c) = self.client.as_mut() {
            c.current_state_mut().push_resize(w, h);
            self.out.resizes_typed.push((w, h));
        }
    }

    fn send(&mut self, to_server: bool, t: Transmit, shutdown_ack: bool) {
        self.out.sent += 1;
        let link = if to_server {
            self.sc.up.clone()
        } else {
            self.sc.down.clone()
        };
        let idx = usize::from(to_server);
        let mut depart = self.now;
        if let Some(rate) = link.bytes_per_ms {
            let start = self.link_free[idx].max(self.now);
            // Tail drop when more than a second is queued.
            if start > self.now + Duration::from_secs(1) {
                return;
            }
            let tx = Duration::from_secs_f64(t.contents.len() as f64 / rate / 1000.0);
            self.link_free[idx] = start + tx;
            depart = start + tx;
        }
        if self.rng.chance(link.loss) {
            return;
        }
        let copies = if self.rng.chance(link.dup) { 2 } else { 1 };
        let from = if to_server {
            self.client_addr
        } else {
            self.server_addr
        };
        for _ in 0..copies {
            let mut d = link.delay_ms + self.rng.range(0, link.jitter_ms);
            if self.rng.chance(link.reorder) {
                d += self.rng.range(1, link.reorder_extra_ms);
            }
            self.order += 1;
            self.net.push(Reverse(InFlight {
                at: depart + Duration::from_millis(d),
                order: self.order,
                to_server,
                from,
                to: t.destination,
                bytes: t.contents.clone(),
                shutdown_ack,
            }));
        }
    }

    /// Drains both cores' transmit queues into the network.
    fn flush(&mut self) {
        let now = self.instant();
        let mut out = Vec::new();
        if let Some(s) = self.server.as_mut() {
            let ack = s.remote_state_num() == u64::MAX;
            while let Some(t) = s.poll_transmit(now) {
                out.push((false, t, ack));
            }
        }
        if let Some(c) = self.client.as_mut() {
            let ack = c.remote_state_num() == u64::MAX;
            while let Some(t) = c.poll_transmit(now) {
                out.push((true, t, ack));
            }
        }
        for (to_server, t, ack) in out {
            self.send(to_server, t, ack);
        }
        // A responder that acknowledged the peer's shutdown exits (like Mosh).
        if self
            .server
            .as_ref()
            .is_some_and(|s| s.counterparty_shutdown_ack_sent())
        {
            self.out.responder_acked = true;
            self.server = None;
        }
        if self
            .client
            .as_ref()
            .is_some_and(|c| c.counterparty_shutdown_ack_sent())
        {
            self.out.responder_acked = true;
            self.client = None;
        }
    }

    fn deliver(&mut self, p: InFlight) {
        let now = self.instant();
        let whole = p.shutdown_ack && self.is_whole_instruction(&p.bytes, p.to_server);
        if p.to_server {
            let Some(s) = self.server.as_mut() else {
                return;
            };
            if p.to != self.server_addr {
                return;
            }
            self.out.delivered += 1;
            let res = s.handle_datagram(now, p.from, &p.bytes);
            if whole {
                self.out.ack_delivered = true;
                assert!(
                    s.shutdown_acknowledged(),
                    "the client's shutdown ack reached the server but was not taken"
                );
            }
            self.count(res);
        } else {
            let Some(c) = self.client.as_mut() else {
                return;
            };
            if p.to != self.client_addr && !self.old_client_addrs.contains(&p.to) {
                return;
            }
            self.out.delivered += 1;
            let res = c.handle_datagram(now, p.from, &p.bytes);
            let echo = c.remote_state().echo_ack;
            if echo < self.client_last_echo {
                self.out.echo_ack_decreased = true;
            }
            self.client_last_echo = echo;
            if whole {
                self.out.ack_delivered = true;
                assert!(
                    c.shutdown_acknowledged(),
                    "the server's shutdown ack reached the client but was not taken"
                );
            }
            self.count(res);
        }
        self.server_app();
    }

    /// Whether a datagram holds a complete instruction (one fragment).
    fn is_whole_instruction(&self, bytes: &[u8], to_server: bool) -> bool {
        let dir = if to_server {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        Packet::decode(&Session::new(&self.key), bytes, dir)
            .ok()
            .and_then(|p| Fragment::decode(&p.payload).ok())
            .is_some_and(|f| f.num == 0 && f.is_final)
    }

    fn count(&mut self, res: Result<(), rmosh::transport::connection::RecvError>) {
        match res {
            Ok(()) => {}
            Err(rmosh::transport::connection::RecvError::Apply(_)) => self.out.apply_errors += 1,
            Err(_) => self.out.recv_errors += 1,
        }
    }

    /// What mosh-server does after receiving: hand new user events to the
    /// application, record them for the echo ack, react.
    fn server_app(&mut self) {
        let now = self.instant();
        let Some(s) = self.server.as_mut() else {
            return;
        };
        let num = s.remote_state_num();
        if num != self.server_seen_num && !s.shutdown_in_progress() {
            self.server_seen_num = num;
            let diff = s.take_remote_diff();
            let events = UserStream::decode_diff(&diff).unwrap_or_default();
            let mut got_bytes = 0;
            for e in &events {
                match *e {
                    UserEvent::UserByte(b) => {
                        self.out.received.push(b);
                        got_bytes += 1;
                    }
                    UserEvent::Resize { width, height } => {
                        self.out.resizes_received.push((width, height))
                    }
                    UserEvent::Hello(_) => {}
                }
            }
            if !events.is_empty() && num != u64::MAX {
                self.echo.register_input_frame(num, now);
            }
            if got_bytes > 0 {
                let tail: Vec<u8> =
                    self.out.received[self.out.received.len().saturating_sub(200)..].to_vec();
                let obj = s.current_state_mut();
                obj.counter += 1;
                obj.blob = tail;
            }
        }
        if !s.shutdown_in_progress()
            && let Some(e) = self.echo.update(now)
        {
            s.current_state_mut().echo_ack = e;
        }
    }

    fn app_step(&mut self) {
        // Keystrokes (with occasional resizes and address changes).
        if self.now >= self.next_typing {
            let n = self.rng.range(1, 20) as usize;
            let bytes = self.rng.bytes(n);
            if let Some(c) = self.client.as_mut() {
                c.current_state_mut().push_bytes(&bytes);
                self.out.typed.extend_from_slice(&bytes);
            }
            if self.rng.chance(0.05) {
                let (w, h) = (
                    self.rng.range(10, 300) as i32,
                    self.rng.range(5, 100) as i32,
                );
                self.type_resize(w, h);
            }
            if self.rng.chance(self.sc.addr_change) {
                self.change_client_addr();
            }
            self.next_typing =
                self.now + Duration::from_millis(self.rng.range(1, 2 * self.sc.typing_gap_ms));
        }
        // Server output: sometimes a big random blob that needs fragments.
        if self.now >= self.next_output {
            if let Some(s) = self.server.as_mut() {
                let size = if self.rng.chance(0.1) {
                    self.rng.range(1000, 4000)
                } else {
                    self.rng.range(0, 100)
                } as usize;
                let blob = self.rng.bytes(size);
                let obj = s.current_state_mut();
                obj.counter += 1;
                obj.blob = blob;
            }
            self.next_output =
                self.now + Duration::from_millis(self.rng.range(1, 2 * self.sc.output_gap_ms));
        }
    }

    /// The client's address changes (NAT rebinding or a port hop). On a hop
    /// the old socket still receives; after a NAT change it does not.
    pub fn change_client_addr(&mut self) {
        let old = self.client_addr;
        let hop = self.rng.chance(0.5);
        if hop {
            self.old_client_addrs.push(old);
            self.client_addr = SocketAddr::new(old.ip(), old.port().wrapping_add(1));
        } else {
            let ip = match old.ip() {
                IpAddr::V4(v4) => {
                    let o = v4.octets();
                    IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3].wrapping_add(1)))
                }
                other => other,
            };
            self.client_addr = SocketAddr::new(ip, old.port());
        }
        self.out.addr_changes += 1;
    }

    fn next_deadline(&mut self, apps: bool) -> Option<Duration> {
        let mut next: Option<Duration> = self.net.peek().map(|Reverse(p)| p.at);
        let mut consider = |d: Option<Duration>| {
            if let Some(d) = d {
                next = Some(next.map_or(d, |n| n.min(d)));
            }
        };
        let t0 = self.t0;
        let to_rel = |i: Instant| i.saturating_duration_since(t0);
        consider(
            self.server
                .as_mut()
                .and_then(|s| s.poll_timeout())
                .map(to_rel),
        );
        consider(
            self.client
                .as_mut()
                .and_then(|c| c.poll_timeout())
                .map(to_rel),
        );
        consider(self.echo.next_wakeup().map(to_rel));
        if apps {
            consider(Some(self.next_typing));
            consider(Some(self.next_output));
        }
        next
    }

    /// Advances the simulation to the next event; `false` when nothing is left before `end`.
    fn step(&mut self, end: Duration, apps: bool) -> bool {
        self.flush();
        let Some(next) = self.next_deadline(apps) else {
            return false;
        };
        if next > end {
            return false;
        }
        self.now = self.now.max(next);
        let now = self.instant();
        while self.net.peek().is_some_and(|Reverse(p)| p.at <= self.now) {
            if let Some(Reverse(p)) = self.net.pop() {
                self.deliver(p);
                self.flush();
            }
        }
        if let Some(s) = self.server.as_mut() {
            s.handle_timeout(now);
        }
        if let Some(c) = self.client.as_mut() {
            c.handle_timeout(now);
        }
        self.server_app();
        if apps {
            self.app_step();
        }
        true
    }

    fn converged(&self) -> bool {
        match (&self.client, &self.server) {
            (Some(c), Some(s)) => {
                self.out.received == self.out.typed
                    && self.out.resizes_received == self.out.resizes_typed
                    && c.remote_state() == s.current_state()
            }
            _ => false,
        }
    }

    /// Runs the whole scenario: activity, convergence, shutdown.
    pub fn run(mut self) -> Outcome {
        let active = self.sc.active;
        let mut guard = 0u64;
        while self.now < active {
            if !self.step(active, true) {
                break;
            }
            guard += 1;
            assert!(guard < 5_000_000, "simulation does not advance");
        }
        // Let everything settle (echo acks included).
        let limit = self.now + Duration::from_secs(600);
        while !self.converged() || self.echo.next_wakeup().is_some() {
            if !self.step(limit, false) {
                break;
            }
            guard += 1;
            assert!(guard < 5_000_000, "simulation does not advance");
        }
        self.out.converged = self.converged();
        if self.out.converged {
            self.out.converged_at = Some(self.now);
        }
        self.out.server_followed_client =
            self.server.as_ref().and_then(|s| s.remote_addr()) == Some(self.client_addr);

        // Shutdown.
        let now = self.instant();
        match self.sc.initiator {
            Initiator::Client => {
                if let Some(c) = self.client.as_mut() {
                    c.start_shutdown(now)
                }
            }
            Initiator::Server => {
                if let Some(s) = self.server.as_mut() {
                    s.start_shutdown(now)
                }
            }
        }
        let limit = self.now + Duration::from_secs(30);
        loop {
            let now = self.instant();
            let initiator_done = match self.sc.initiator {
                Initiator::Client => self
                    .client
                    .as_ref()
                    .is_none_or(|c| c.shutdown_acknowledged() || c.shutdown_ack_timed_out(now)),
                Initiator::Server => self
                    .server
                    .as_ref()
                    .is_none_or(|s| s.shutdown_acknowledged() || s.shutdown_ack_timed_out(now)),
            };
            if initiator_done {
                let (clean, gave_up, tries) = match self.sc.initiator {
                    Initiator::Client => self.client.as_ref().map(|c| {
                        (
                            c.shutdown_acknowledged(),
                            c.shutdown_ack_timed_out(now),
                            c.sender().shutdown_tries(),
                        )
                    }),
                    Initiator::Server => self.server.as_ref().map(|s| {
                        (
                            s.shutdown_acknowledged(),
                            s.shutdown_ack_timed_out(now),
                            s.sender().shutdown_tries(),
                        )
                    }),
                }
                .unwrap_or_default();
                self.out.shutdown_clean = clean;
                self.out.shutdown_gave_up = gave_up && !clean;
                self.out.shutdown_tries = tries;
                // The initiator's program exits here.
                match self.sc.initiator {
                    Initiator::Client => self.client = None,
                    Initiator::Server => self.server = None,
                }
                break;
            }
            if !self.step(limit, false) {
                break;
            }
        }
        // Let a responder that got the request send its ack.
        let until = self.now + Duration::from_secs(1);
        while self.step(until, false) {}
        let stuck = |n: u64| n == u64::MAX;
        self.out.responder_stuck = match self.sc.initiator {
            Initiator::Client => self
                .server
                .as_ref()
                .is_some_and(|s| stuck(s.remote_state_num())),
            Initiator::Server => self
                .client
                .as_ref()
                .is_some_and(|c| stuck(c.remote_state_num())),
        };
        self.out
    }
}

/// One datagram a [`Pair`] endpoint sent, decoded.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Virtual send time.
    pub at: Duration,
    /// Sent by the client.
    pub to_server: bool,
    /// The instruction (for single-fragment instructions; `None` otherwise).
    pub inst: Option<rmosh::transport::message::Instruction>,
    /// The datagram's `timestamp_reply` field.
    pub timestamp_reply: u16,
}

/// Two cores on a simple link with fixed delays that can be cut, for
/// checking timing rules; every transmission is decoded into `log`.
pub struct Pair {
    key: Base64Key,
    t0: Instant,
    now: Duration,
    /// Client core.
    pub client: Connection<UserStream, TestObj>,
    /// Server core.
    pub server: Connection<TestObj, UserStream>,
    /// One-way delay client → server.
    pub up_delay: Duration,
    /// One-way delay server → client.
    pub down_delay: Duration,
    /// Drop everything client → server.
    pub up_dead: bool,
    /// Drop everything server → client.
    pub down_dead: bool,
    /// The client's current source address.
    pub client_addr: SocketAddr,
    /// The server's address.
    pub server_addr: SocketAddr,
    net: BinaryHeap<Reverse<InFlight>>,
    order: u64,
    /// Everything sent, in order.
    pub log: Vec<Logged>,
}

impl Pair {
    /// Both cores, with the given one-way delays in ms.
    pub fn new(up_ms: u64, down_ms: u64) -> Self {
        let t0 = Instant::now();
        let key = Base64Key::from_bytes([7; 16]);
        let server_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 60001);
        let client_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 40000);
        let client = Connection::new(
            Side::Client { server_addr },
            &key,
            UserStream::new(),
            TestObj::default(),
            t0,
        );
        let server = Connection::new(
            Side::Server,
            &key,
            TestObj::default(),
            UserStream::new(),
            t0,
        );
        Self {
            key,
            t0,
            now: Duration::ZERO,
            client,
            server,
            up_delay: Duration::from_millis(up_ms),
            down_delay: Duration::from_millis(down_ms),
            up_dead: false,
            down_dead: false,
            client_addr,
            server_addr,
            net: BinaryHeap::new(),
            order: 0,
            log: Vec::new(),
        }
    }

    /// Virtual time now.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// The `Instant` of virtual time `d`.
    pub fn at(&self, d: Duration) -> Instant {
        self.t0 + d
    }

    /// Virtual time of an `Instant`.
    pub fn rel(&self, i: Instant) -> Duration {
        i.saturating_duration_since(self.t0)
    }

    fn decode(
        &self,
        bytes: &[u8],
        to_server: bool,
    ) -> (Option<rmosh::transport::message::Instruction>, u16) {
        let dir = if to_server {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let Ok(p) = Packet::decode(&Session::new(&self.key), bytes, dir) else {
            return (None, 0);
        };
        let inst = Fragment::decode(&p.payload)
            .ok()
            .filter(|f| f.num == 0 && f.is_final)
            .and_then(|f| rmosh::transport::compress::decode_instruction(&f.chunk).ok());
        (inst, p.timestamp_reply)
    }

    fn flush(&mut self) {
        let now = self.at(self.now);
        let mut out = Vec::new();
        while let Some(t) = self.server.poll_transmit(now) {
            out.push((false, t));
        }
        while let Some(t) = self.client.poll_transmit(now) {
            out.push((true, t));
        }
        for (to_server, t) in out {
            let (inst, timestamp_reply) = self.decode(&t.contents, to_server);
            self.log.push(Logged {
                at: self.now,
                to_server,
                inst,
                timestamp_reply,
            });
            let (dead, delay, from) = if to_server {
                (self.up_dead, self.up_delay, self.client_addr)
            } else {
                (self.down_dead, self.down_delay, self.server_addr)
            };
            if dead {
                continue;
            }
            self.order += 1;
            self.net.push(Reverse(InFlight {
                at: self.now + delay,
                order: self.order,
                to_server,
                from,
                to: t.destination,
                bytes: t.contents,
                shutdown_ack: false,
            }));
        }
    }

    /// Runs until virtual time `end`.
    pub fn run_until(&mut self, end: Duration) {
        let mut guard = 0u32;
        loop {
            self.flush();
            let t0 = self.t0;
            let rel = |i: Instant| i.saturating_duration_since(t0);
            let mut next = self.net.peek().map(|Reverse(p)| p.at);
            for d in [
                self.server.poll_timeout().map(rel),
                self.client.poll_timeout().map(rel),
            ]
            .into_iter()
            .flatten()
            {
                next = Some(next.map_or(d, |n: Duration| n.min(d)));
            }
            match next {
                Some(n) if n <= end => self.now = self.now.max(n),
                _ => {
                    self.now = end;
                    return;
                }
            }
            let now = self.at(self.now);
            while self.net.peek().is_some_and(|Reverse(p)| p.at <= self.now) {
                if let Some(Reverse(p)) = self.net.pop() {
                    if p.to_server {
                        // Delivered whatever the current address (the client keeps old sockets).
                        let _ = self.server.handle_datagram(now, p.from, &p.bytes);
                    } else {
                        let _ = self.client.handle_datagram(now, p.from, &p.bytes);
                    }
                    self.flush();
                }
            }
            self.server.handle_timeout(now);
            self.client.handle_timeout(now);
            guard += 1;
            assert!(guard < 1_000_000, "pair does not advance");
        }
    }

    /// Datagrams sent by one side at or after `from`.
    pub fn sent_by(&self, client: bool, from: Duration) -> Vec<&Logged> {
        self.log
            .iter()
            .filter(|l| l.to_server == client && l.at >= from)
            .collect()
    }
}
