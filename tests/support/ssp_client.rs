//! A client core in the test process: the server's object collected as
//! raw host bytes, and a loop that drives the core over real UDP sockets.

use std::time::{Duration, Instant};

use prost::Message;
use rmosh::net::client::ClientSockets;
use rmosh::net::server::deliver;
use rmosh::sync::user_stream::UserStream;
use std::net::SocketAddr;

use rmosh::transport::connection::{Connection, Side};
use rmosh::transport::key::Base64Key;
use rmosh::transport::message::HostMessage;
use rmosh::transport::state::{ApplyError, State};

/// The server's object as raw host bytes: every `hostbytes` payload along
/// the state chain, concatenated (no emulator needed to spot a marker).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostCollector {
    /// Every host byte so far.
    pub bytes: Vec<u8>,
    /// The newest echo ack.
    pub echo_ack: u64,
    /// The newest size.
    pub size: Option<(i32, i32)>,
    /// Whether an echo ack ever went back.
    pub echo_ack_decreased: bool,
}

impl State for HostCollector {
    fn diff_from(&self, base: &Self) -> Vec<u8> {
        let msg = HostMessage {
            instruction: vec![rmosh::transport::message::HostInstruction {
                hostbytes: Some(rmosh::transport::message::HostBytes {
                    hoststring: Some(
                        self.bytes
                            .get(base.bytes.len()..)
                            .unwrap_or_default()
                            .to_vec(),
                    ),
                }),
                ..Default::default()
            }],
        };
        if self == base {
            Vec::new()
        } else {
            msg.encode_to_vec()
        }
    }

    fn apply(&mut self, diff: &[u8]) -> Result<(), ApplyError> {
        let msg = HostMessage::decode(diff).map_err(|e| ApplyError(e.to_string()))?;
        for i in msg.instruction {
            if let Some(h) = i.hostbytes {
                self.bytes.extend(h.hoststring.unwrap_or_default());
            } else if let Some(r) = i.resize {
                self.size = Some((r.width.unwrap_or(0), r.height.unwrap_or(0)));
            } else if let Some(e) = i.echoack {
                let n = e.echo_ack_num.unwrap_or(0);
                if n < self.echo_ack {
                    self.echo_ack_decreased = true;
                }
                self.echo_ack = n;
            }
        }
        Ok(())
    }
}

/// A client core that collects host bytes.
pub type Client = Connection<UserStream, HostCollector>;

/// Runs the client until `done` holds or `limit` passes; true if it held.
pub async fn pump(
    conn: &mut Client,
    socks: &mut ClientSockets,
    limit: Duration,
    done: impl Fn(&Client) -> bool,
) -> bool {
    let end = Instant::now() + limit;
    let mut buf = vec![0u8; 65536];
    loop {
        let now = Instant::now();
        // Send errors are transient for UDP; the SSP retransmits.
        let _ = socks.flush(conn, now).await;
        if done(conn) {
            return true;
        }
        if now >= end {
            return false;
        }
        let wake = conn.poll_timeout().unwrap_or(end).min(end).max(now);
        tokio::select! {
            r = socks.recv(&mut buf, Instant::now) => {
                if let Ok(meta) = r {
                    let _ = deliver(conn, Instant::now(), meta, &buf);
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {
                conn.handle_timeout(Instant::now());
            }
        }
    }
}

/// The host bytes so far, as text.
pub fn host_text(c: &Client) -> String {
    String::from_utf8_lossy(&c.remote_state().bytes).into_owned()
}

/// A client core for 127.0.0.1:`port` with `key`, its window `cols`×`rows`.
pub fn client_core(port: u16, key: &str, cols: i32, rows: i32) -> (Client, ClientSockets) {
    let key = Base64Key::parse(key).expect("server key parses");
    let server = SocketAddr::from(([127, 0, 0, 1], port));
    let now = Instant::now();
    let mut conn: Client = Connection::new(
        Side::Client {
            server_addr: server,
        },
        &key,
        UserStream::new(),
        HostCollector::default(),
        now,
    );
    conn.current_state_mut().push_resize(cols, rows);
    let socks = ClientSockets::open(server, now).expect("client socket");
    (conn, socks)
}
