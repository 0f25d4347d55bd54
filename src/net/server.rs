//! The server's UDP socket under tokio. Binding happens before the runtime
//! exists (Mosh binds, prints `MOSH CONNECT <port> <key>`, then forks), so
//! [`super::socket::bind_server`] returns a std socket that
//! [`ServerSocket::from_bound`] adopts later.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::UdpSocket;

use super::recv::{RecvMeta, recv_with_ecn};
use super::socket::{BoundServer, RECV_BUFFER_LEN, flush_to};
use crate::transport::connection::Connection;
use crate::transport::connection::RecvError;
use crate::transport::state::State;

/// The server's one socket.
#[derive(Debug)]
pub struct ServerSocket {
    sock: UdpSocket,
}

impl ServerSocket {
    /// Adopts a socket bound by `bind_server` (needs a tokio runtime).
    pub fn from_bound(bound: BoundServer) -> io::Result<Self> {
        bound.socket.set_nonblocking(true)?;
        Ok(Self {
            sock: UdpSocket::from_std(bound.socket)?,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// The tokio socket.
    pub fn socket(&self) -> &UdpSocket {
        &self.sock
    }

    /// Receives one datagram into `buf` (use [`RECV_BUFFER_LEN`] bytes so an
    /// oversize datagram reaches the core whole and is rejected there),
    /// with its ECN mark; feed it to [`deliver`].
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        recv_with_ecn(&self.sock, buf).await
    }

    /// A receive buffer of the right size.
    pub fn recv_buffer() -> Vec<u8> {
        vec![0u8; RECV_BUFFER_LEN]
    }

    /// Sends everything the connection has to send now (see `flush_to`).
    pub async fn flush<L: State, R: State>(
        &self,
        conn: &mut Connection<L, R>,
        now: Instant,
    ) -> io::Result<usize> {
        flush_to(conn, &self.sock, now).await
    }
}

/// Hands a received datagram (from [`ServerSocket::recv`] or
/// `ClientSockets::recv`) to the connection, ECN mark included.
pub fn deliver<L: State, R: State>(
    conn: &mut Connection<L, R>,
    now: Instant,
    meta: RecvMeta,
    buf: &[u8],
) -> Result<(), RecvError> {
    let bytes = buf.get(..meta.len).unwrap_or(buf);
    conn.handle_datagram_ecn(now, meta.from, bytes, meta.congestion_experienced)
}
