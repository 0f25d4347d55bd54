//! The client's UDP sockets (spec §2.7): it always sends from the newest
//! socket, opens a new one (a new source port) after 10 s without a round
//! trip, keeps reading from the old ones, and closes them by the rules of
//! [`HopPolicy`].

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::Poll;
use std::time::Instant;

use tokio::net::UdpSocket;

use super::hop::HopPolicy;
use super::recv::{RecvMeta, poll_recv_with_ecn};
use super::socket::{is_emsgsize, new_udp_socket};
use crate::transport::connection::{Connection, Transmit};
use crate::transport::state::State;

/// The client's sockets towards one server address.
#[derive(Debug)]
pub struct ClientSockets {
    server: SocketAddr,
    /// Oldest first; the last one sends.
    socks: VecDeque<UdpSocket>,
    policy: HopPolicy,
    hops: u64,
    last_sent: Option<Vec<u8>>,
}

impl ClientSockets {
    /// Opens the first socket (needs a tokio runtime).
    pub fn open(server: SocketAddr, now: Instant) -> io::Result<Self> {
        let mut s = Self {
            server,
            socks: VecDeque::new(),
            policy: HopPolicy::new(now),
            hops: 0,
            last_sent: None,
        };
        let first = s.new_socket()?;
        s.socks.push_back(first);
        Ok(s)
    }

    fn new_socket(&self) -> io::Result<UdpSocket> {
        let v6 = self.server.is_ipv6();
        let sock = new_udp_socket(v6)?;
        let any = if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        sock.bind(&SocketAddr::new(any, 0).into())?;
        UdpSocket::from_std(sock.into())
    }

    /// The server address every datagram goes to.
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// Local addresses of the open sockets, oldest first (the last one sends).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.socks
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .collect()
    }

    /// How many hops happened.
    pub fn hops(&self) -> u64 {
        self.hops
    }

    /// The hop policy (for its clock).
    pub fn policy(&self) -> &HopPolicy {
        &self.policy
    }

    /// Opens a new socket for sending now; old ones keep receiving.
    pub fn hop(&mut self, now: Instant) -> io::Result<()> {
        let sock = self.new_socket()?;
        self.policy.hopped(now);
        self.socks.push_back(sock);
        self.hops += 1;
        self.prune(now);
        Ok(())
    }

    /// The last datagram [`ClientSockets::flush`] sent (replayed on another
    /// path when UDP turns out to be blocked).
    pub fn last_sent(&self) -> Option<&[u8]> {
        self.last_sent.as_deref()
    }

    /// Closes every socket but the newest (e.g. when the old network is gone for sure).
    pub fn retain_newest(&mut self) {
        while self.socks.len() > 1 {
            self.socks.pop_front();
        }
    }

    fn prune(&mut self, now: Instant) {
        let close = self.policy.sockets_to_close(now, self.socks.len());
        for _ in 0..close {
            self.socks.pop_front();
        }
    }

    /// Sends one datagram from the newest socket.
    pub async fn send(&self, contents: &[u8]) -> io::Result<usize> {
        match self.socks.back() {
            Some(s) => s.send_to(contents, self.server).await,
            None => Err(io::Error::new(io::ErrorKind::NotConnected, "no socket")),
        }
    }

    /// Sends everything the connection has to send now; after each datagram
    /// applies the hop rule. `EMSGSIZE` switches the connection to the
    /// fallback MTU. Returns the number sent, or the last send error.
    pub async fn flush<L: State, R: State>(
        &mut self,
        conn: &mut Connection<L, R>,
        now: Instant,
    ) -> io::Result<usize> {
        let mut sent = 0;
        let mut result = Ok(());
        while let Some(Transmit { contents, .. }) = conn.poll_transmit(now) {
            let r = self.send(&contents).await;
            self.last_sent = Some(contents);
            match r {
                Ok(_) => sent += 1,
                Err(e) => {
                    if is_emsgsize(&e) {
                        conn.set_mtu_fallback();
                    }
                    result = Err(e);
                }
            }
            if self.policy.should_hop(now, conn.last_roundtrip_success()) {
                self.hop(now)?;
            }
        }
        result.map(|()| sent)
    }

    /// Like [`ClientSockets::recv`], without the ECN mark.
    pub async fn recv_from(
        &mut self,
        buf: &mut [u8],
        now_after: impl FnOnce() -> Instant,
    ) -> io::Result<(usize, SocketAddr)> {
        self.recv(buf, now_after).await.map(|m| (m.len, m.from))
    }

    /// Receives one datagram from any open socket (with its ECN mark; hand
    /// it to `net::server::deliver`), then prunes old sockets if the newest
    /// one has been in use long enough. `now_after` gives the time after the wait.
    pub async fn recv(
        &mut self,
        buf: &mut [u8],
        now_after: impl FnOnce() -> Instant,
    ) -> io::Result<RecvMeta> {
        let socks = &self.socks;
        let got = poll_fn(|cx| {
            for s in socks.iter() {
                if let Poll::Ready(r) = poll_recv_with_ecn(s, cx, buf) {
                    return Poll::Ready(r);
                }
            }
            Poll::Pending
        })
        .await?;
        self.prune(now_after());
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn hop_changes_source_port_and_old_socket_still_receives() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0");
        let Ok(server) = server else { panic!("bind") };
        let _ = server.set_read_timeout(Some(Duration::from_secs(5)));
        let server_addr = server
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)));
        let t0 = Instant::now();
        let mut c = match ClientSockets::open(server_addr, t0) {
            Ok(c) => c,
            Err(e) => panic!("open: {e}"),
        };
        assert!(c.send(b"one").await.is_ok());
        let mut buf = [0u8; 64];
        let first_from = server.recv_from(&mut buf).map(|(_, f)| f).ok();
        c.hop(t0 + Duration::from_secs(11)).ok();
        assert_eq!(c.local_addrs().len(), 2);
        assert!(c.send(b"two").await.is_ok());
        let second_from = server.recv_from(&mut buf).map(|(_, f)| f).ok();
        assert!(first_from.is_some() && second_from.is_some());
        assert_ne!(first_from, second_from, "new source port after a hop");
        // A reply to the old port is still read.
        if let Some(old) = first_from {
            assert!(server.send_to(b"late", old).is_ok());
        }
        let got = tokio::time::timeout(
            Duration::from_secs(5),
            c.recv(&mut buf, || t0 + Duration::from_secs(12)),
        )
        .await;
        assert!(matches!(got, Ok(Ok(RecvMeta { len: 4, .. }))));
        assert_eq!(
            c.local_addrs().len(),
            2,
            "young new socket: keep the old one"
        );
        // 60 s after the hop a receive closes all but the newest.
        if let Some(new) = second_from {
            assert!(server.send_to(b"fine", new).is_ok());
        }
        let got = tokio::time::timeout(
            Duration::from_secs(5),
            c.recv(&mut buf, || t0 + Duration::from_secs(72)),
        )
        .await;
        assert!(matches!(got, Ok(Ok(RecvMeta { len: 4, .. }))));
        assert_eq!(c.local_addrs().len(), 1);
    }

    #[tokio::test]
    async fn never_more_than_ten_sockets() {
        let t0 = Instant::now();
        let server_addr = SocketAddr::from(([127, 0, 0, 1], 9));
        let mut c = match ClientSockets::open(server_addr, t0) {
            Ok(c) => c,
            Err(e) => panic!("open: {e}"),
        };
        for i in 1..=15u64 {
            assert!(c.hop(t0 + Duration::from_secs(11 * i)).is_ok());
            assert!(c.local_addrs().len() <= 10);
        }
        assert_eq!(c.local_addrs().len(), 10);
        assert_eq!(c.hops(), 15);
    }
}
