//! The client's UDP sockets with Mosh's port hopping (spec §2.7): when
//! neither a new port was chosen nor a round trip succeeded for 10 s, later
//! sends go out of a fresh socket; old sockets keep receiving until the new
//! one has worked for 60 s, and at most 10 stay open.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Hop when neither a port was chosen nor a round trip succeeded for this long.
pub const PORT_HOP_INTERVAL: Duration = Duration::from_millis(10_000);
/// Old sockets are closed once the newest has been in use this long.
pub const MAX_OLD_SOCKET_AGE: Duration = Duration::from_millis(60_000);
/// At most this many sockets stay open for receiving.
pub const MAX_PORTS_OPEN: usize = 10;
/// Mosh's receive buffer size; anything longer is not a Mosh datagram.
const RECV_BUFFER: usize = 2048;

/// The pure hopping rules over socket counts and times.
#[derive(Debug, Clone)]
pub struct HopPolicy {
    last_port_choice: Instant,
}

impl HopPolicy {
    /// The first socket was opened at `now`.
    pub fn new(now: Instant) -> HopPolicy {
        HopPolicy {
            last_port_choice: now,
        }
    }

    /// After a send: whether to open a new socket (and remember the choice).
    pub fn should_hop(&mut self, now: Instant, last_roundtrip_success: Option<Instant>) -> bool {
        let stale = |t: Instant| now.saturating_duration_since(t) > PORT_HOP_INTERVAL;
        let hop = stale(self.last_port_choice) && last_roundtrip_success.is_none_or(stale);
        if hop {
            self.last_port_choice = now;
        }
        hop
    }

    /// How many of the oldest sockets to close, out of `open`.
    pub fn sockets_to_close(&self, now: Instant, open: usize) -> usize {
        if open <= 1 {
            return 0;
        }
        if now.saturating_duration_since(self.last_port_choice) > MAX_OLD_SOCKET_AGE {
            return open - 1;
        }
        open.saturating_sub(MAX_PORTS_OPEN)
    }
}

/// One datagram received on any of the sockets.
#[derive(Debug)]
pub struct Received {
    /// The datagram.
    pub bytes: Vec<u8>,
    /// Its source.
    pub from: SocketAddr,
}

struct Open {
    /// Sends go through the plain socket: a tokio socket refuses `try_send`
    /// until its reactor has reported it writable once.
    sender: std::net::UdpSocket,
    socket: Arc<UdpSocket>,
    reader: JoinHandle<()>,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The client's sockets toward one server.
pub struct ClientSockets {
    server: SocketAddr,
    open: VecDeque<Open>,
    policy: HopPolicy,
    tx: mpsc::Sender<io::Result<Received>>,
    rx: mpsc::Receiver<io::Result<Received>>,
}

/// Mosh marks its datagrams ECT(0) and lets routers fragment them.
fn set_ip_options(socket: &UdpSocket, v4: bool) {
    if !v4 {
        return;
    }
    let fd = socket.as_raw_fd();
    let tos: libc::c_int = 0x02;
    let pmtu: libc::c_int = libc::IP_PMTUDISC_DONT;
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: fd is an open socket; the option values are valid c_ints.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IP,
            libc::IP_TOS,
            (&tos as *const libc::c_int).cast(),
            len,
        );
        libc::setsockopt(
            fd,
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            (&pmtu as *const libc::c_int).cast(),
            len,
        );
    }
}

impl ClientSockets {
    /// Opens the first socket (an ephemeral port of the server's family).
    pub fn open(server: SocketAddr, now: Instant) -> io::Result<ClientSockets> {
        let (tx, rx) = mpsc::channel(256);
        let mut s = ClientSockets {
            server,
            open: VecDeque::new(),
            policy: HopPolicy::new(now),
            tx,
            rx,
        };
        s.add_socket()?;
        Ok(s)
    }

    fn add_socket(&mut self) -> io::Result<()> {
        let any = match self.server.ip() {
            IpAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            IpAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        };
        let std_socket = std::net::UdpSocket::bind(any)?;
        std_socket.set_nonblocking(true)?;
        let sender = std_socket.try_clone()?;
        let socket = Arc::new(UdpSocket::from_std(std_socket)?);
        set_ip_options(&socket, self.server.is_ipv4());
        let reader_socket = Arc::clone(&socket);
        let tx = self.tx.clone();
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; RECV_BUFFER];
            loop {
                let r = reader_socket.recv_from(&mut buf).await;
                let item = r.map(|(n, from)| Received {
                    bytes: buf.get(..n).unwrap_or_default().to_vec(),
                    from,
                });
                if tx.send(item).await.is_err() {
                    return;
                }
            }
        });
        self.open.push_back(Open {
            sender,
            socket,
            reader,
        });
        Ok(())
    }

    fn prune(&mut self, now: Instant) {
        let n = self.policy.sockets_to_close(now, self.open.len());
        for _ in 0..n {
            self.open.pop_front();
        }
    }

    /// Local port of the newest socket (where sends go out).
    pub fn local_port(&self) -> Option<u16> {
        self.open
            .back()
            .and_then(|o| o.socket.local_addr().ok())
            .map(|a| a.port())
    }

    /// Number of sockets open.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether no socket is open (never, after `open` succeeded).
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Sends one datagram from the newest socket, then hops if due.
    pub fn send(
        &mut self,
        bytes: &[u8],
        now: Instant,
        last_roundtrip_success: Option<Instant>,
    ) -> io::Result<()> {
        let result = match self.open.back() {
            Some(o) => o.sender.send_to(bytes, self.server).map(|_| ()),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        };
        if self.policy.should_hop(now, last_roundtrip_success) {
            // A failed hop keeps the old socket: better than none.
            if self.add_socket().is_ok() {
                self.prune(now);
            }
        }
        result
    }

    /// The next datagram from any socket (cancel-safe).
    pub async fn recv(&mut self, now_fn: impl Fn() -> Instant) -> io::Result<Received> {
        match self.rx.recv().await {
            Some(r) => {
                if r.is_ok() {
                    self.prune(now_fn());
                }
                r
            }
            None => Err(io::Error::from(io::ErrorKind::BrokenPipe)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn no_hop_while_round_trips_succeed() {
        let t0 = Instant::now();
        let mut p = HopPolicy::new(t0);
        assert!(!p.should_hop(t0 + ms(20_000), Some(t0 + ms(15_000))));
    }

    #[test]
    fn hop_after_ten_seconds_without_reply_then_wait_again() {
        let t0 = Instant::now();
        let mut p = HopPolicy::new(t0);
        assert!(!p.should_hop(t0 + ms(10_000), None));
        assert!(p.should_hop(t0 + ms(10_001), None));
        // The choice was just made: no new hop for another 10 s.
        assert!(!p.should_hop(t0 + ms(15_000), None));
        assert!(p.should_hop(t0 + ms(20_002), Some(t0 + ms(5_000))));
    }

    #[test]
    fn pruning_keeps_at_most_ten_and_drops_old_after_a_minute() {
        let t0 = Instant::now();
        let p = HopPolicy::new(t0);
        assert_eq!(p.sockets_to_close(t0 + ms(1000), 1), 0);
        assert_eq!(p.sockets_to_close(t0 + ms(1000), 5), 0);
        assert_eq!(p.sockets_to_close(t0 + ms(1000), 12), 2);
        assert_eq!(p.sockets_to_close(t0 + ms(60_001), 5), 4);
    }

    #[tokio::test]
    async fn sockets_hop_and_still_receive_on_old_ones() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = server.local_addr().expect("addr");
        let t0 = Instant::now();
        let mut s = ClientSockets::open(addr, t0).expect("open");
        s.send(b"one", t0, None).expect("send");
        let mut buf = [0u8; 16];
        let (n, first) = server.recv_from(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"one");
        // Eleven seconds later with no round trip: the send hops.
        s.send(b"two", t0 + ms(11_000), None).expect("send");
        assert_eq!(s.len(), 2);
        s.send(b"three", t0 + ms(11_001), None).expect("send");
        let (_, _) = server.recv_from(&mut buf).expect("recv two");
        let (n, second) = server.recv_from(&mut buf).expect("recv three");
        assert_eq!(&buf[..n], b"three");
        assert_ne!(first.port(), second.port());
        // The server answers the old port: the client still hears it.
        server.send_to(b"late", first).expect("send back");
        let got = s.recv(|| t0 + ms(11_002)).await.expect("recv");
        assert_eq!(got.bytes, b"late");
        assert_eq!(s.len(), 2);
    }
}
