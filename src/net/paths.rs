//! The client's two datagram paths behind one face: the UDP sockets and,
//! when `--transport` allows, the SSH path. [`PathPolicy`] decides where
//! each datagram goes; this file only moves bytes and reports changes.

use std::future::pending;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::client::ClientSockets;
use super::path_policy::{self, Change, Path, PathPolicy, Transport};
use super::ssh_path::{DriverEvent, SshPathDriver};
use crate::transport::connection::{Connection, Transmit};
use crate::transport::state::State;

/// What arrived.
#[derive(Debug)]
pub enum Incoming {
    /// A UDP receive (length and sender), into the caller's buffer.
    Udp(io::Result<(usize, SocketAddr)>),
    /// A datagram over the SSH path.
    SshDatagram(Vec<u8>),
    /// The SSH path came up.
    SshUp,
    /// The SSH path (or an attempt to open it) failed; it is retried.
    SshDown(String),
}

/// The client's paths to one server.
pub struct Paths {
    /// The UDP sockets (always open: UDP is probed even on the SSH path).
    pub udp: ClientSockets,
    ssh: Option<SshPathDriver>,
    policy: PathPolicy,
    /// The newest datagram sent on either path.
    last_sent: Option<Vec<u8>>,
}

impl Paths {
    /// UDP only (no SSH connection to carry anything).
    pub fn udp_only(udp: ClientSockets, now: Instant) -> Paths {
        Paths {
            udp,
            ssh: None,
            policy: PathPolicy::new(Transport::Udp, now, Duration::ZERO),
            last_sent: None,
        }
    }

    /// Both paths; the SSH path starts opening at once (its opening time
    /// measures the SSH round trip that sets the first wait).
    pub fn with_ssh(
        udp: ClientSockets,
        mut ssh: SshPathDriver,
        transport: Transport,
        now: Instant,
    ) -> Paths {
        if transport != Transport::Udp {
            ssh.ensure_opening(now);
        }
        Paths {
            udp,
            ssh: Some(ssh),
            policy: PathPolicy::new(transport, now, path_policy::MAX_FIRST_WAIT),
            last_sent: None,
        }
    }

    /// The path datagrams take now.
    pub fn current(&self) -> Path {
        self.policy.current()
    }

    /// Whether an SSH path exists at all (the session was given one).
    pub fn has_ssh(&self) -> bool {
        self.ssh.is_some()
    }

    /// Why the SSH path last failed, if it did.
    pub fn ssh_error(&self) -> Option<&str> {
        self.ssh.as_ref().and_then(|s| s.last_error.as_deref())
    }

    /// The server's address (what SSH-path datagrams are said to come from).
    pub fn server(&self) -> SocketAddr {
        self.udp.server()
    }

    /// Sends what the connection has to send, on the current path. On the
    /// SSH path one datagram now and then tries UDP first (a probe).
    pub async fn flush<L: State, R: State>(
        &mut self,
        conn: &mut Connection<L, R>,
        now: Instant,
    ) -> io::Result<usize> {
        let Some(ssh) = self
            .ssh
            .as_ref()
            .filter(|_| self.policy.current() == Path::Ssh)
        else {
            let r = self.udp.flush(conn, now).await;
            self.last_sent = self.udp.last_sent().map(<[u8]>::to_vec);
            return r;
        };
        let mut sent = 0;
        while let Some(Transmit { contents, .. }) = conn.poll_transmit(now) {
            if self.policy.take_probe(now) {
                // UDP first: if it gets through it arrives first, and the
                // server answers the newest sender (spec §2.6).
                let _ = self.udp.send(&contents).await;
            }
            if ssh.send(&contents) {
                sent += 1;
            }
            self.last_sent = Some(contents);
        }
        Ok(sent)
    }

    /// Waits for a datagram on either path or news from the SSH path.
    pub async fn recv(&mut self, buf: &mut [u8]) -> Incoming {
        let Paths { udp, ssh, .. } = self;
        let ssh_event = async {
            match ssh {
                Some(d) => d.poll().await,
                None => pending().await,
            }
        };
        tokio::select! {
            r = udp.recv_from(buf, Instant::now) => Incoming::Udp(r),
            e = ssh_event => match e {
                DriverEvent::Datagram(d) => Incoming::SshDatagram(d),
                DriverEvent::Up => {
                    if let Some(t) = self.ssh.as_ref().and_then(|s| s.last_open_time) {
                        // Opening is two round trips (channel, then exec).
                        self.policy.set_first_wait(path_policy::first_wait(t / 2));
                    }
                    self.replay_on_ssh();
                    Incoming::SshUp
                }
                DriverEvent::Down(why) => Incoming::SshDown(why),
            },
        }
    }

    /// An authenticated datagram came over `via`. Back on UDP, the SSH path
    /// closes (its forwarder exits); it reopens when needed.
    pub fn authenticated(&mut self, now: Instant, via: Path) -> Option<Change> {
        let change = self.policy.received(now, via);
        if via == Path::Udp
            && self.policy.current() == Path::Udp
            && let Some(ssh) = &mut self.ssh
        {
            ssh.close();
        }
        change
    }

    /// Time passed: may move to the SSH path, and (re)opens it when it is
    /// needed and down.
    pub fn tick(&mut self, now: Instant) -> Option<Change> {
        let change = self.policy.tick(now);
        if self.policy.current() == Path::Ssh
            && let Some(ssh) = &mut self.ssh
        {
            ssh.ensure_opening(now);
        }
        if change.is_some() {
            self.replay_on_ssh();
        }
        change
    }

    /// Sends the newest datagram again over the SSH path when the session
    /// has just moved there (or the path just came up): the copies sent
    /// before were lost, and waiting for SSP's retransmission would cost up
    /// to a second. The server takes a repeated datagram as it takes any.
    fn replay_on_ssh(&mut self) {
        if self.policy.current() != Path::Ssh {
            return;
        }
        if let (Some(ssh), Some(d)) = (&self.ssh, &self.last_sent) {
            ssh.send(d);
        }
    }

    /// When [`Paths::tick`] next has something to do.
    pub fn deadline(&self) -> Option<Instant> {
        let retry = self
            .ssh
            .as_ref()
            .filter(|_| self.policy.current() == Path::Ssh)
            .and_then(|s| s.deadline());
        match (self.policy.deadline(), retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
