//! The client end of the SSH path: framed datagrams over an SSH channel to
//! `rmosh forward` on the host. A task owns the channel; the session talks to
//! it through two bounded queues and never waits on SSH: a datagram that
//! finds the queue full is dropped, as the network would, and SSP resends.
//! Opening the channel (and logging in again when the connection died) is
//! the job of a [`ChannelOpener`], run in the background.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::ChannelMsg;
use russh::client::Msg;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use super::stream_frame::{self, Decoder};

/// Datagrams waiting in each direction; beyond this they are dropped.
pub const QUEUE: usize = 64;
/// Stderr kept from the forwarder, for the error message.
const STDERR_KEPT: usize = 512;
/// Wait between attempts to open the path again.
pub const RETRY_EVERY: Duration = Duration::from_secs(2);

/// An open SSH channel running the forwarder.
pub type SshChannel = russh::Channel<Msg>;

/// Opens a channel to the forwarder, logging in again first if the SSH
/// connection is gone. Never prompts: it runs while the session owns the
/// terminal.
pub trait ChannelOpener: Send + 'static {
    /// Opens the channel; the error says what failed and what to try.
    fn open(&mut self) -> Pin<Box<dyn Future<Output = Result<SshChannel, String>> + Send + '_>>;
}

/// What the path reports.
#[derive(Debug)]
pub enum PathEvent {
    /// A datagram from the server.
    Datagram(Vec<u8>),
    /// The path ended; why.
    Closed(String),
}

/// A running path.
#[derive(Debug)]
pub struct SshPath {
    out: mpsc::Sender<Vec<u8>>,
    events: mpsc::Receiver<PathEvent>,
}

impl SshPath {
    /// Starts the task that owns `channel` (needs a tokio runtime). Dropping
    /// the path ends the task, which closes the channel: the forwarder's
    /// stdin ends and it exits.
    pub fn spawn(channel: SshChannel) -> SshPath {
        let (out, out_rx) = mpsc::channel(QUEUE);
        let (events_tx, events) = mpsc::channel(QUEUE);
        tokio::spawn(pump(channel, out_rx, events_tx));
        SshPath { out, events }
    }

    /// Queues one datagram; false when it was dropped (queue full, path gone, too big).
    pub fn send(&self, datagram: &[u8]) -> bool {
        match stream_frame::encode(datagram) {
            Ok(frame) => self.out.try_send(frame).is_ok(),
            Err(_) => false,
        }
    }

    /// The next datagram or the end of the path.
    pub async fn recv(&mut self) -> PathEvent {
        self.events
            .recv()
            .await
            .unwrap_or_else(|| PathEvent::Closed("the SSH path's task ended".into()))
    }
}

async fn pump(
    mut channel: SshChannel,
    mut out: mpsc::Receiver<Vec<u8>>,
    events: mpsc::Sender<PathEvent>,
) {
    let mut decoder = Decoder::after_greeting();
    let mut stderr = Vec::new();
    let reason = loop {
        tokio::select! {
            frame = out.recv() => {
                let Some(frame) = frame else { break None };
                if let Err(e) = channel.data(frame.as_slice()).await {
                    break Some(format!("sending on the SSH channel failed: {e}"));
                }
            }
            msg = channel.wait() => match msg {
                Some(ChannelMsg::Data { data }) => {
                    let mut got = Vec::new();
                    if let Err(e) = decoder.decode(&data, &mut |d| got.push(d.to_vec())) {
                        break Some(format!("the forwarder on the host sent {e}"));
                    }
                    for d in got {
                        // Full: the session is behind; a lost datagram is resent.
                        let _ = events.try_send(PathEvent::Datagram(d));
                    }
                }
                Some(ChannelMsg::ExtendedData { data, .. }) => {
                    let room = STDERR_KEPT.saturating_sub(stderr.len());
                    stderr.extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
                }
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                    break Some(closed_reason(decoder.greeted(), &stderr));
                }
                Some(_) => {}
            }
        }
    };
    let _ = channel.close().await;
    if let Some(r) = reason {
        let _ = events.send(PathEvent::Closed(r)).await;
    }
}

fn closed_reason(greeted: bool, stderr: &[u8]) -> String {
    let said = String::from_utf8_lossy(stderr);
    let said = said.trim();
    let mut msg = if greeted {
        "the SSH path closed".to_string()
    } else {
        "the forwarder did not start on the host (rmosh must be installed there, or deployed)"
            .to_string()
    };
    if !said.is_empty() {
        msg.push_str(": ");
        msg.push_str(said);
    }
    msg
}

/// The path's life cycle in the session: opening in the background, up,
/// or waiting to retry.
pub struct SshPathDriver {
    opener: Arc<Mutex<Box<dyn ChannelOpener>>>,
    state: DriverState,
    /// Why the last attempt or path failed, for the notification bar.
    pub last_error: Option<String>,
    /// How long the last successful open took.
    pub last_open_time: Option<Duration>,
}

enum DriverState {
    Idle,
    Opening(Instant, JoinHandle<Result<SshChannel, String>>),
    Up(SshPath),
    RetryAt(Instant),
}

/// What [`SshPathDriver::poll`] saw.
#[derive(Debug)]
pub enum DriverEvent {
    /// A datagram from the server.
    Datagram(Vec<u8>),
    /// The path came up.
    Up,
    /// The path or an attempt to open it failed; the driver retries.
    Down(String),
}

impl SshPathDriver {
    /// A driver that has not started opening yet.
    pub fn new(opener: Box<dyn ChannelOpener>) -> SshPathDriver {
        SshPathDriver {
            opener: Arc::new(Mutex::new(opener)),
            state: DriverState::Idle,
            last_error: None,
            last_open_time: None,
        }
    }

    /// A driver around a path already open.
    pub fn with_path(opener: Box<dyn ChannelOpener>, path: SshPath) -> SshPathDriver {
        SshPathDriver {
            state: DriverState::Up(path),
            ..SshPathDriver::new(opener)
        }
    }

    /// Whether the path is up.
    pub fn is_up(&self) -> bool {
        matches!(self.state, DriverState::Up(_))
    }

    /// Starts opening unless open, opening, or waiting before a retry.
    pub fn ensure_opening(&mut self, now: Instant) {
        let start = match &self.state {
            DriverState::Idle => true,
            DriverState::RetryAt(t) => now >= *t,
            _ => false,
        };
        if start {
            let opener = self.opener.clone();
            let task = tokio::spawn(async move { opener.lock().await.open().await });
            self.state = DriverState::Opening(now, task);
        }
    }

    /// Closes the path (the forwarder exits); it is opened again on demand.
    pub fn close(&mut self) {
        if let DriverState::Opening(_, task) = &self.state {
            task.abort();
        }
        self.state = DriverState::Idle;
    }

    /// Queues a datagram; false when the path is not up or dropped it.
    pub fn send(&self, datagram: &[u8]) -> bool {
        match &self.state {
            DriverState::Up(p) => p.send(datagram),
            _ => false,
        }
    }

    /// When a retry is due (for the session's timer).
    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            DriverState::RetryAt(t) => Some(t),
            _ => None,
        }
    }

    /// Waits for the next thing the path does. Pending forever when idle.
    pub async fn poll(&mut self) -> DriverEvent {
        match &mut self.state {
            DriverState::Up(p) => match p.recv().await {
                PathEvent::Datagram(d) => DriverEvent::Datagram(d),
                PathEvent::Closed(why) => self.failed(why),
            },
            DriverState::Opening(started, task) => {
                let started = *started;
                let result = match task.await {
                    Ok(r) => r,
                    Err(e) => Err(format!("opening the SSH path failed: {e}")),
                };
                match result {
                    Ok(ch) => {
                        self.last_open_time = Some(started.elapsed());
                        self.last_error = None;
                        self.state = DriverState::Up(SshPath::spawn(ch));
                        DriverEvent::Up
                    }
                    Err(why) => self.failed(why),
                }
            }
            DriverState::Idle | DriverState::RetryAt(_) => std::future::pending().await,
        }
    }

    fn failed(&mut self, why: String) -> DriverEvent {
        self.state = DriverState::RetryAt(Instant::now() + RETRY_EVERY);
        self.last_error = Some(why.clone());
        DriverEvent::Down(why)
    }
}
