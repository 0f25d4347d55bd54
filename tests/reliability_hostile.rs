//! Random garbage, corrupted copies and replays of authentic datagrams sent
//! at the server's port, both from a stranger's address and from the
//! client's own: nothing crashes, and nothing is typed twice.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use support::mosh::Impl;
use support::typing_app::*;

/// A plain UDP forwarder that records every client → server datagram, so
/// a test can replay them or send garbage from the client's own address.
pub struct Recorder {
    /// The port clients send to.
    pub port: u16,
    /// The socket toward the server (the client's address as the server sees it).
    pub upstream: UdpSocket,
    /// The server's address.
    pub server: SocketAddr,
    /// Everything the client sent, in order.
    pub recorded: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
}

impl Recorder {
    /// Starts forwarding between a client and 127.0.0.1:`server_port`.
    pub fn start(server_port: u16) -> Recorder {
        let server = SocketAddr::from(([127, 0, 0, 1], server_port));
        let down = UdpSocket::bind("127.0.0.1:0").unwrap();
        let up = UdpSocket::bind("127.0.0.1:0").unwrap();
        for s in [&down, &up] {
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
        }
        let port = down.local_addr().unwrap().port();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
        {
            let (down, up) = (down.try_clone().unwrap(), up.try_clone().unwrap());
            let (recorded, stop, client) = (recorded.clone(), stop.clone(), client.clone());
            thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while !stop.load(Ordering::SeqCst) {
                    if let Ok((n, from)) = down.recv_from(&mut buf) {
                        *client.lock().unwrap() = Some(from);
                        recorded.lock().unwrap().push(buf[..n].to_vec());
                        let _ = up.send_to(&buf[..n], server);
                    }
                }
            });
        }
        {
            let (down, up) = (down, up.try_clone().unwrap());
            let (stop, client) = (stop.clone(), client);
            thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while !stop.load(Ordering::SeqCst) {
                    if let Ok((n, from)) = up.recv_from(&mut buf) {
                        let to = *client.lock().unwrap();
                        if let (true, Some(to)) = (from == server, to) {
                            let _ = down.send_to(&buf[..n], to);
                        }
                    }
                }
            });
        }
        Recorder {
            port,
            upstream: up,
            server,
            recorded,
            stop,
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A small seeded generator for garbage.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn garbage_and_replays(server: Impl, client: Impl) {
    let s = Session::start(server, "hostile");
    let rec = Recorder::start(s.server.port);
    let c = s.client(client, rec.port);
    let typed = keystrokes(400, 41);
    let (first, second) = typed.split_at(200);
    type_paced(&c, first, 10, Duration::from_millis(20));
    assert_exactly_once_in_order(&wait_log(&s.log, 200, Duration::from_secs(20)), first);
    assert_screens_agree(&c, first, Duration::from_secs(20));

    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let recorded = rec.recorded.lock().unwrap().clone();
    assert!(recorded.len() > 10, "too few datagrams recorded");
    let mut rng = Lcg(5);
    for round in 0..3 {
        // Replays of every authentic datagram, from both addresses.
        for d in &recorded {
            let _ = stranger.send_to(d, rec.server);
            let _ = rec.upstream.send_to(d, rec.server);
        }
        // Corrupted copies: one flipped bit, truncations, extensions.
        for d in &recorded {
            let mut x = d.clone();
            let i = rng.next() as usize % x.len().max(1);
            if let Some(b) = x.get_mut(i) {
                *b ^= 1 << (rng.next() % 8);
            }
            let _ = rec.upstream.send_to(&x, rec.server);
            let cut = rng.next() as usize % d.len().max(1);
            let _ = stranger.send_to(&d[..cut], rec.server);
            let mut longer = d.clone();
            longer.extend_from_slice(&[0u8; 17]);
            let _ = stranger.send_to(&longer, rec.server);
        }
        // Random datagrams of every size up to a full MTU.
        for _ in 0..500 {
            let len = rng.next() as usize % 1500;
            let g: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let _ = stranger.send_to(&g, rec.server);
            let _ = rec.upstream.send_to(&g, rec.server);
        }
        thread::sleep(Duration::from_millis(100 + 100 * round));
    }
    thread::sleep(Duration::from_millis(500));
    assert!(s.server.alive(), "server died from hostile datagrams");
    assert_eq!(
        read_log(&s.log),
        first,
        "replays made the application read keys again"
    );

    // The session still works and still talks to the real client.
    type_paced(&c, second, 10, Duration::from_millis(20));
    let log = wait_log(&s.log, typed.len(), Duration::from_secs(20));
    assert_exactly_once_in_order(&log, &typed);
    assert_screens_agree(&c, &typed, Duration::from_secs(20));
    assert!(s.server.alive() && !client_exited(&c));
}

#[test]
fn stock_server_survives_garbage_and_replays() {
    garbage_and_replays(Impl::Mosh, Impl::Mosh);
}

#[test]
fn rmosh_server_survives_garbage_and_replays() {
    garbage_and_replays(Impl::Rmosh, Impl::Rmosh);
}

#[test]
fn rmosh_server_with_stock_client_survives_garbage_and_replays() {
    garbage_and_replays(Impl::Rmosh, Impl::Mosh);
}
