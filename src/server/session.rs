//! The server's event loop (§6, §7.5): datagrams into the transport core,
//! user events into the pty, pty output into the emulator, and the
//! lifecycle rules — on a single-threaded tokio runtime.
//!
//! Frame pacing is Mosh's: the pty is read in large chunks, at most
//! [`PTY_READ_BUDGET`] bytes per turn, and the network is drained every
//! turn first, so bulk output never starves keystrokes. The emulator state
//! is updated in place; the SSP sender diffs whatever is newest when its
//! timer fires, so intermediate frames are skipped, never queued.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::UdpSocket;

use crate::net::recv::{RecvMeta, recvmsg_tos};
use crate::net::server::{ServerSocket, deliver};
use crate::net::socket::BoundServer;
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::history_feed::{self, HistoryFeed, Through};
use super::lifecycle::{self, Decision, IDLE_WAKE_MS, Timeouts, Turn};
use super::process::WindowSize;
use super::pty;
use super::utmp::UtmpState;
use crate::sync::capabilities::{Capabilities, PeerHello};
use crate::sync::complete_terminal::CompleteTerminal;
use crate::sync::user_stream::{UserEvent, UserStream};
use crate::terminal::keyboard::UserInputTranslator;
use crate::transport::connection::{Connection, Side};
use crate::transport::echo_ack::EchoAckTracker;
use crate::transport::key::Base64Key;
use crate::transport::sender::SERVER_SEND_MINDELAY;

/// Most pty bytes consumed per loop turn (Mosh reads 16 KiB per select).
pub const PTY_READ_BUDGET: usize = 64 * 1024;
/// Most datagrams handled per loop turn.
const DATAGRAM_BUDGET: usize = 256;
/// Largest window accepted from a client (larger requests are clamped).
pub const MAX_DIMENSION: i32 = 2000;
/// After this many network errors each further one costs a 100 ms pause (as Mosh).
const NETWORK_ERROR_SPIN: u32 = 10;

/// Everything the loop needs, prepared by the single-threaded start-up.
#[derive(Debug)]
pub struct SessionParams {
    /// The bound UDP socket.
    pub socket: BoundServer,
    /// The session key announced in `MOSH CONNECT`.
    pub key: Base64Key,
    /// The pty master.
    pub master: OwnedFd,
    /// The session process (held until the first client state).
    pub child: libc::pid_t,
    /// Initial window size (the server's state 0).
    pub size: WindowSize,
    /// Idle timeouts from the environment.
    pub timeouts: Timeouts,
    /// `-v` count (log to stderr).
    pub verbose: u32,
    /// Our pid (for utmp texts).
    pub pid: libc::pid_t,
}

/// Builds the runtime and serves until the session ends; returns the pty
/// master so the caller can remove the utmp record before closing it.
pub fn serve(p: SessionParams) -> Option<OwnedFd> {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            return Some(p.master);
        }
    };
    rt.block_on(run(p))
}

/// Clamps a client-supplied dimension to something a pty and an emulator can hold.
pub fn clamp_dimension(v: i32) -> u16 {
    u16::try_from(v.clamp(1, MAX_DIMENSION)).unwrap_or(1)
}

/// Splits user events into what goes to the pty and the window sizes to apply.
///
/// Every resize is returned in order (for the emulator); `pty_resize` marks
/// the last of each run of consecutive resizes (the only ones given to the pty).
pub fn plan_events(events: &[UserEvent]) -> Vec<(UserEvent, bool)> {
    events
        .iter()
        .enumerate()
        .map(|(i, ev)| {
            let last_of_run = !matches!(events.get(i + 1), Some(UserEvent::Resize { .. }));
            (*ev, matches!(ev, UserEvent::Resize { .. }) && last_of_run)
        })
        .collect()
}

struct Signals {
    term: Signal,
    int: Signal,
    usr1: Signal,
}

impl Signals {
    fn new() -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            usr1: signal(SignalKind::user_defined1())?,
        })
    }
}

/// The loop's mutable state apart from the IO handles.
struct Logic {
    conn: Connection<CompleteTerminal, UserStream>,
    master_fd: i32,
    to_pty: Vec<u8>,
    translator: UserInputTranslator,
    echo: EchoAckTracker,
    timeouts: Timeouts,
    verbose: u32,
    pid: libc::pid_t,
    child_released: bool,
    last_remote_num: u64,
    attached_to: Option<SocketAddr>,
    utmp: UtmpState,
    network_errors: u32,
    pacing: EchoPacing,
    /// The extensions the client announced and this build supports
    /// (docs/extensions.md); none for a stock client.
    client_caps: Capabilities,
    /// Lines of history kept for the client (`RMOSH_SCROLLBACK_LINES`).
    history_lines: usize,
    history: HistoryFeed,
}

/// Printable keystrokes written to the pty more than this long ago are no
/// longer expected to come back as their echo.
const ECHO_EXPECT_WINDOW: Duration = Duration::from_millis(50);
/// Echo frames are at most this close together (Mosh's minimum send interval).
const ECHO_FRAME_INTERVAL: Duration = Duration::from_millis(20);
/// Most keystrokes remembered as expected echo.
const ECHO_EXPECT_MAX: usize = 256;
/// After application output (anything but the echo of a keystroke), the
/// pty's echo mode is reported only once it has been quiet this long: a
/// program that prints a prompt and then turns echo off (`read -s -p`)
/// does so within microseconds, so the mode sampled right after the prompt
/// could still say "echo".
pub const ECHO_MODE_SETTLE: Duration = Duration::from_millis(5);

/// Frame timing for keystroke echoes, and the settled tty echo mode.
///
/// Mosh waits SEND_MINDELAY (8 ms) after any change before sending, to
/// batch output; that wait is most of its keystroke-to-screen time on a fast
/// link. Output that is exactly the echo of printable keys just written to
/// the pty (the kernel's echo in cooked mode, or a line editor appending the
/// character) is complete as it is, so it is sent at once. Anything else
/// keeps Mosh's batching, so application output is framed as Mosh frames it.
#[derive(Debug, Default)]
struct EchoPacing {
    /// Printable bytes written to the pty and not yet seen echoed.
    expect: VecDeque<(u8, Instant)>,
    /// An unsent change is the echo of keystrokes.
    pending_echo: bool,
    /// An unsent change is something else (application output).
    pending_other: bool,
    /// When application output (not an echo) last arrived.
    last_app_output: Option<Instant>,
    /// Application output came less than ECHO_MODE_SETTLE before the last
    /// look at the echo mode.
    unsettled: bool,
    /// The newest state number sent (to notice that a send flushed everything).
    last_sent_num: u64,
}

impl EchoPacing {
    /// A keystroke byte was written to the pty at `now`.
    fn key_written(&mut self, b: u8, now: Instant) {
        if (0x20..0x7f).contains(&b) {
            if self.expect.len() >= ECHO_EXPECT_MAX {
                self.expect.pop_front();
            }
            self.expect.push_back((b, now));
        } else {
            // Enter, control keys, escape sequences: the reply is not a plain echo.
            self.expect.clear();
        }
    }

    /// Classifies pty output read at `now`: the echo of expected keys, or
    /// application output.
    fn output(&mut self, bytes: &[u8], now: Instant) {
        while self
            .expect
            .front()
            .is_some_and(|&(_, t)| now.saturating_duration_since(t) > ECHO_EXPECT_WINDOW)
        {
            self.expect.pop_front();
        }
        let is_echo = !bytes.is_empty()
            && bytes.len() <= self.expect.len()
            && bytes
                .iter()
                .zip(self.expect.iter())
                .all(|(b, (e, _))| b == e);
        if is_echo {
            self.expect.drain(..bytes.len());
            self.pending_echo = true;
        } else {
            self.expect.clear();
            self.pending_other = true;
            self.last_app_output = Some(now);
        }
    }

    /// Whether everything unsent is the echo of keystrokes.
    fn echo_only(&self) -> bool {
        self.pending_echo && !self.pending_other
    }

    /// SEND_MINDELAY for the next frame.
    fn send_delay(&self) -> Duration {
        if self.echo_only() {
            Duration::ZERO
        } else {
            SERVER_SEND_MINDELAY
        }
    }

    /// Pacing of the next frame: an echo waits at most ECHO_FRAME_INTERVAL
    /// after the last frame with data (not the send interval, up to 125 ms
    /// at 250 ms RTT, after any frame); anything else is paced as Mosh paces it.
    fn new_data_interval(&self) -> Option<Duration> {
        self.echo_only().then_some(ECHO_FRAME_INTERVAL)
    }

    /// The echo mode to report at `now`; `sample` reads the pty's mode,
    /// and is called only once output has settled (before that the answer
    /// is "no" whatever the mode, and during bulk output that spares a
    /// syscall per read).
    fn settled_cooked_echo(&mut self, sample: impl FnOnce() -> bool, now: Instant) -> bool {
        let settled = self
            .last_app_output
            .is_none_or(|t| now.saturating_duration_since(t) >= ECHO_MODE_SETTLE);
        self.unsettled = !settled;
        settled && sample()
    }

    /// When the echo mode should be sampled again (output has not settled).
    fn wakeup(&self) -> Option<Instant> {
        self.unsettled
            .then_some(self.last_app_output?)
            .map(|t| t + ECHO_MODE_SETTLE)
    }

    /// The sender's newest state number after a transmit: a new number
    /// means every change so far went out.
    fn sent(&mut self, num: u64) {
        if num != self.last_sent_num {
            self.last_sent_num = num;
            self.pending_echo = false;
            self.pending_other = false;
        }
    }
}

/// Whether the pty is in cooked mode with echo, so that the kernel echoes
/// every printable byte written to it as that byte, and Enter as CR LF.
fn tty_cooked_echo(fd: i32) -> bool {
    // SAFETY: termios is plain data, filled by tcgetattr before it is read.
    let t = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            return false;
        }
        t
    };
    cooked_echo_flags(t.c_iflag, t.c_oflag, t.c_lflag)
}

/// The termios flags of [`tty_cooked_echo`].
fn cooked_echo_flags(iflag: libc::tcflag_t, oflag: libc::tcflag_t, lflag: libc::tcflag_t) -> bool {
    let on = |f: libc::tcflag_t, bits: libc::tcflag_t| f & bits == bits;
    on(lflag, libc::ECHO | libc::ICANON)
        && on(iflag, libc::ICRNL)
        && iflag & (libc::IGNCR | libc::INLCR | libc::IUCLC) == 0
        && on(oflag, libc::OPOST | libc::ONLCR)
        && oflag & (libc::OLCUC | libc::OCRNL) == 0
}

async fn run(p: SessionParams) -> Option<OwnedFd> {
    let now = Instant::now();
    let cols = usize::from(p.size.cols);
    let rows = usize::from(p.size.rows);
    let conn = Connection::new(
        Side::Server,
        &p.key,
        // The extended emulator: alternate screen, DEC graphics … on the
        // server; its diffs stay in the vocabulary a stock client replays.
        CompleteTerminal::new_server(cols, rows),
        UserStream::new(),
        now,
    );
    let server_socket = match ServerSocket::from_bound(p.socket) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Network exception: {e}");
            return Some(p.master);
        }
    };
    let socket = server_socket.socket();
    let master_fd = p.master.as_raw_fd();
    // SAFETY: the OwnedFd is a valid open pty master, and nothing replaces
    // or closes it while the AsyncFd owns it.
    let pty_io = match unsafe { AsyncFd::register(p.master) } {
        Ok(a) => a,
        Err(e) => {
            let (fd, err) = e.into_parts();
            eprintln!("pty: {err}");
            return Some(fd);
        }
    };
    let mut signals = match Signals::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("signals: {e}");
            return Some(pty_io.into_inner());
        }
    };
    let mut logic = Logic {
        conn,
        master_fd,
        to_pty: Vec::new(),
        translator: UserInputTranslator::new(),
        echo: EchoAckTracker::new(),
        timeouts: p.timeouts,
        verbose: p.verbose,
        pid: p.pid,
        child_released: false,
        last_remote_num: 0,
        attached_to: None,
        utmp: UtmpState::default(),
        network_errors: 0,
        pacing: EchoPacing::default(),
        client_caps: Capabilities::NONE,
        history_lines: history_feed::lines_from_env(
            std::env::var("RMOSH_SCROLLBACK_LINES").ok().as_deref(),
        ),
        history: HistoryFeed::default(),
    };
    let mut dgram = ServerSocket::recv_buffer();
    let mut pty_buf = vec![0u8; PTY_READ_BUDGET];
    loop {
        let deadline = logic.deadline(Instant::now());
        let shutting_down = logic.conn.shutdown_in_progress();
        let want_write = !logic.to_pty.is_empty();
        let mut term_signal = false;
        let mut usr1_signal = false;
        let mut pty_bytes = 0usize;
        let mut pty_closed = false;
        let mut first_dgram: Option<RecvMeta> = None;
        tokio::select! {
            biased;
            _ = signals.term.recv() => term_signal = true,
            _ = signals.int.recv() => term_signal = true,
            _ = signals.usr1.recv() => usr1_signal = true,
            r = server_socket.recv(&mut dgram) => match r {
                Ok(got) => first_dgram = Some(got),
                Err(e) => logic.network_error(&e).await,
            },
            r = pty_io.readable(), if !shutting_down => {
                if let Ok(mut guard) = r {
                    match read_pty(&mut guard, &mut pty_buf) {
                        ReadOutcome::Data(n) => pty_bytes = n,
                        ReadOutcome::Closed => pty_closed = true,
                        ReadOutcome::WouldBlock => {}
                    }
                }
            },
            r = pty_io.writable(), if want_write => {
                if let Ok(mut guard) = r
                    && write_pty(&mut guard, &mut logic.to_pty).is_err()
                {
                    pty_closed = true;
                }
            },
            _ = tokio::time::sleep_until(deadline.into()) => {},
        }
        let now = Instant::now();
        if let Some(meta) = first_dgram {
            logic.datagram(now, meta, &dgram);
        }
        // Keystrokes first, whatever woke us: drain what the socket holds.
        let fd = socket.as_raw_fd();
        for _ in 0..DATAGRAM_BUDGET {
            match socket.try_io(Interest::READABLE, || recvmsg_tos(fd, &mut dgram)) {
                Ok(meta) => logic.datagram(now, meta, &dgram),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    logic.network_error(&e).await;
                    break;
                }
            }
        }
        logic.user_input(now);
        if pty_bytes > 0 && !logic.conn.shutdown_in_progress() {
            logic
                .pacing
                .output(pty_buf.get(..pty_bytes).unwrap_or_default(), now);
            let replies = logic
                .conn
                .current_state_mut()
                .feed(pty_buf.get(..pty_bytes).unwrap_or_default());
            logic.to_pty.extend_from_slice(&replies);
        }
        if !logic.to_pty.is_empty() {
            // Most writes complete at once; the writable branch finishes the rest.
            if write_now(master_fd, &mut logic.to_pty).is_err() {
                pty_closed = true;
            }
        }
        if pty_closed {
            logic.to_pty.clear();
            if !logic.conn.shutdown_in_progress() {
                logic.conn.start_shutdown(now);
            }
        }
        let since = now
            .saturating_duration_since(logic.conn.last_new_remote_state_time())
            .as_millis();
        let since_ms = u64::try_from(since).unwrap_or(u64::MAX);
        let turn = Turn {
            since_remote_state_ms: since_ms,
            ever_connected: logic.conn.remote_state_num() != 0,
            term_signal,
            usr1_signal,
            has_remote_addr: logic.conn.remote_addr().is_some(),
            shutting_down: logic.conn.shutdown_in_progress(),
        };
        match lifecycle::decide(&turn, &logic.timeouts, |line| eprint!("{line}")) {
            Decision::Continue => {}
            Decision::StartShutdown => logic.conn.start_shutdown(now),
            Decision::Exit => break,
        }
        if logic.conn.shutdown_in_progress()
            && (logic.conn.shutdown_acknowledged() || logic.conn.shutdown_ack_timed_out(now))
        {
            break;
        }
        if logic.conn.counterparty_shutdown_ack_sent() {
            break;
        }
        if let Some(e) = logic.conn.fatal_error() {
            eprintln!("Crypto exception: {e}");
            break;
        }
        logic.utmp.on_silence(pty_io.get_ref(), since_ms, logic.pid);
        if let Some(n) = logic.echo.update(now)
            && !logic.conn.shutdown_in_progress()
        {
            logic.conn.current_state_mut().set_echo_ack(n);
        }
        logic.transmit(socket, now).await;
    }
    Some(pty_io.into_inner())
}

enum ReadOutcome {
    Data(usize),
    Closed,
    WouldBlock,
}

/// Bytes the pty's line discipline holds ready for reading (`FIONREAD`),
/// or None if the ioctl fails.
fn pty_pending(fd: i32) -> Option<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the given valid pointer.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if r == 0 {
        usize::try_from(n).ok()
    } else {
        None
    }
}

/// Reads up to the whole buffer from the pty, in as many reads as it takes.
///
/// Each read asks for no more than the line discipline already holds:
/// a pty read that finds the discipline's 4 KiB buffer empty first waits
/// for the kernel worker that refills it (`n_tty_read` → `flush_work`),
/// and during bulk output that wait, once per read, was 40 % of the
/// server's CPU time. The worker's wake-up brings us back instead. The
/// first read of a wake-up asks for the whole buffer: the wake-up says
/// there is data, and if there is none after all (a stale wake-up) the
/// read tells "no data yet" (EAGAIN) from "the application is gone"
/// (EIO/EOF).
fn read_pty(
    guard: &mut tokio::io::unix::AsyncFdReadyGuard<'_, OwnedFd>,
    buf: &mut [u8],
) -> ReadOutcome {
    let fd = guard.get_inner().as_raw_fd();
    let mut filled = 0usize;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        let want = if filled == 0 {
            // The wake-up means the discipline holds data, and a read of
            // a non-empty discipline returns at once with what it holds.
            rest.len()
        } else {
            match pty_pending(fd) {
                Some(0) => {
                    // Everything ready was read; the next wake-up brings more.
                    guard.clear_ready();
                    break;
                }
                Some(n) => n.min(rest.len()),
                None => rest.len(),
            }
        };
        let Some(rest) = rest.get_mut(..want) else {
            break;
        };
        // SAFETY: `rest` is a live, writable slice of the given length.
        let n = unsafe { libc::read(fd, rest.as_mut_ptr().cast(), rest.len()) };
        if n > 0 {
            filled += usize::try_from(n).unwrap_or(0);
            continue;
        }
        if n == 0 {
            return if filled > 0 {
                ReadOutcome::Data(filled)
            } else {
                ReadOutcome::Closed
            };
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => {
                guard.clear_ready();
                break;
            }
            // EIO once the slave side is gone: the application exited.
            _ => {
                return if filled > 0 {
                    ReadOutcome::Data(filled)
                } else {
                    ReadOutcome::Closed
                };
            }
        }
    }
    if filled > 0 {
        ReadOutcome::Data(filled)
    } else {
        ReadOutcome::WouldBlock
    }
}

/// Writes as much of `pending` as the pty takes now; Err on a real failure.
fn write_now(fd: i32, pending: &mut Vec<u8>) -> Result<(), io::Error> {
    let mut done = 0usize;
    while let Some(rest) = pending.get(done..) {
        if rest.is_empty() {
            break;
        }
        // SAFETY: `rest` is a live slice of the given length.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n >= 0 {
            done += usize::try_from(n).unwrap_or(0);
            continue;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => break,
            _ => {
                pending.drain(..done);
                return Err(e);
            }
        }
    }
    pending.drain(..done);
    Ok(())
}

fn write_pty(
    guard: &mut tokio::io::unix::AsyncFdReadyGuard<'_, OwnedFd>,
    pending: &mut Vec<u8>,
) -> Result<(), io::Error> {
    let fd = guard.get_inner().as_raw_fd();
    write_now(fd, pending)?;
    if !pending.is_empty() {
        guard.clear_ready();
    }
    Ok(())
}

impl Logic {
    /// When the loop must wake up even if nothing arrives.
    fn deadline(&mut self, now: Instant) -> Instant {
        let mut wake = now + Duration::from_secs(3600);
        if let Some(t) = self.conn.poll_timeout() {
            wake = wake.min(t);
        }
        if let Some(t) = self.echo.next_wakeup() {
            wake = wake.min(t);
        }
        if let Some(t) = self.pacing.wakeup() {
            wake = wake.min(t.max(now));
        }
        if self.conn.remote_state_num() == 0 || self.conn.shutdown_in_progress() {
            wake = wake.min(now + Duration::from_millis(IDLE_WAKE_MS));
        }
        let state = self.conn.current_state();
        if self.client_caps.contains(Capabilities::SCROLLBACK)
            && state.history().through() < state.framebuffer().scrollback().pushed()
        {
            // History still to send: the next step waits for no event.
            wake = wake.min(now + ECHO_FRAME_INTERVAL);
        }
        if self.timeouts.network_ms != 0 {
            let t = self.conn.last_new_remote_state_time()
                + Duration::from_millis(self.timeouts.network_ms);
            wake = wake.min(t.max(now));
        }
        if self.attached_to.is_some() {
            let t = self.conn.last_new_remote_state_time() + Duration::from_millis(30_001);
            wake = wake.min(t.max(now));
        }
        wake
    }

    fn datagram(&mut self, now: Instant, meta: RecvMeta, buf: &[u8]) {
        if let Err(e) = deliver(&mut self.conn, now, meta, buf)
            && self.verbose > 0
        {
            eprintln!("{e}");
        }
    }

    /// Hands newly arrived user events to the emulator and the pty.
    fn user_input(&mut self, now: Instant) {
        let num = self.conn.remote_state_num();
        if num == self.last_remote_num {
            return;
        }
        self.last_remote_num = num;
        let diff = self.conn.take_remote_diff();
        let events = match UserStream::decode_diff(&diff) {
            Ok(ev) => ev,
            Err(e) => {
                eprintln!("{e}");
                Vec::new()
            }
        };
        let frozen = self.conn.shutdown_in_progress();
        for (event, to_pty) in plan_events(&events) {
            match event {
                UserEvent::Resize { width, height } => {
                    let size = WindowSize {
                        cols: clamp_dimension(width),
                        rows: clamp_dimension(height),
                    };
                    if to_pty && let Err(e) = pty::set_window_size(self.master_fd, size) {
                        eprintln!("ioctl TIOCSWINSZ: {e}");
                        self.conn.start_shutdown(now);
                    }
                    if !frozen {
                        self.conn
                            .current_state_mut()
                            .resize(usize::from(size.cols), usize::from(size.rows));
                    }
                }
                UserEvent::Hello(caps) => {
                    self.client_caps = caps.intersection(Capabilities::SUPPORTED);
                    if !frozen {
                        let state = self.conn.current_state_mut();
                        state.set_hello(PeerHello::ours(Capabilities::SUPPORTED));
                        if self.client_caps.contains(Capabilities::SCROLLBACK) {
                            let fb = state.emulator_mut().framebuffer_mut();
                            fb.scrollback_limit = fb.scrollback_limit.max(self.history_lines);
                        }
                    }
                }
                UserEvent::UserByte(b) => {
                    let app_keys = self
                        .conn
                        .current_state()
                        .emulator()
                        .application_cursor_keys();
                    self.translator.input(b, app_keys, &mut self.to_pty);
                    self.pacing.key_written(b, now);
                }
            }
        }
        if !events.is_empty() {
            self.echo.register_input_frame(num, now);
        }
        self.note_client_address();
        if !self.child_released {
            // The held session process execs once it reads this line; it
            // must precede any keystrokes.
            self.to_pty.insert(0, b'\n');
            self.child_released = true;
        }
    }

    fn note_client_address(&mut self) {
        let addr = self.conn.remote_addr();
        let changed = addr != self.attached_to;
        if let Some(a) = addr {
            if changed && self.verbose > 0 {
                eprintln!("Server now attached to client at {}:{}", a.ip(), a.port());
            }
            if let Some(master) = borrowed(self.master_fd) {
                self.utmp
                    .on_client(&master, &a.ip().to_string(), changed, self.pid);
            }
        }
        self.attached_to = addr;
    }

    async fn transmit(&mut self, socket: &UdpSocket, now: Instant) {
        if !self.conn.shutdown_in_progress() && self.client_caps.contains(Capabilities::TTY_MODE) {
            let fd = self.master_fd;
            let cooked = self.pacing.settled_cooked_echo(|| tty_cooked_echo(fd), now);
            self.conn.current_state_mut().set_cooked_echo(cooked);
        }
        if !self.conn.shutdown_in_progress() && self.client_caps.contains(Capabilities::SCROLLBACK)
        {
            self.feed_history(now);
        }
        self.conn.set_send_delay(self.pacing.send_delay());
        self.conn
            .set_new_data_interval(self.pacing.new_data_interval());
        self.conn.handle_timeout(now);
        while let Some(t) = self.conn.poll_transmit(now) {
            match socket.try_send_to(&t.contents, t.destination) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => self.conn.set_mtu_fallback(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => self.network_error(&e).await,
            }
        }
        self.pacing.sent(self.conn.last_sent_state_num());
    }

    /// Lets the next frame carry the next step of history (docs/scrollback.md).
    fn feed_history(&mut self, now: Instant) {
        let states = self.conn.sender().sent_states();
        let through = |i: usize| states.get(i).map_or(0, |s| s.state.history().through());
        let t = Through {
            current: self.conn.current_state().history().through(),
            sent: through(states.len().saturating_sub(1)),
            acked: through(0),
        };
        let sb = self.conn.current_state().framebuffer().scrollback();
        let n = self.history.next(now, sb, t, self.pacing.echo_only());
        self.conn.current_state_mut().set_history_through(n);
    }

    async fn network_error(&mut self, e: &io::Error) {
        if self.verbose > 0 {
            eprintln!("Network exception: {e}");
        }
        self.network_errors = self.network_errors.saturating_add(1);
        if self.network_errors > NETWORK_ERROR_SPIN {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn borrowed(fd: i32) -> Option<std::os::fd::BorrowedFd<'static>> {
    if fd < 0 {
        return None;
    }
    // SAFETY: the master descriptor stays open for the whole loop (it is
    // owned by the AsyncFd that outlives every use of this borrow).
    Some(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_resize_of_a_run_reaches_the_pty() {
        let r = |w, h| UserEvent::Resize {
            width: w,
            height: h,
        };
        let b = UserEvent::UserByte;
        let plan = plan_events(&[r(80, 24), r(100, 30), b(b'x'), r(90, 20), b(b'y'), r(1, 1)]);
        let flags: Vec<bool> = plan.iter().map(|(_, f)| *f).collect();
        assert_eq!(flags, vec![false, true, false, true, false, true]);
        assert_eq!(plan.len(), 6);
    }

    #[test]
    fn the_echo_of_printable_keys_goes_out_at_once_other_output_is_batched() {
        let t = Instant::now();
        let mut p = EchoPacing::default();
        assert_eq!(p.send_delay(), SERVER_SEND_MINDELAY);
        p.key_written(b'a', t);
        p.key_written(b'b', t);
        p.output(b"a", t);
        assert_eq!(p.send_delay(), Duration::ZERO, "the echo of a key");
        assert_eq!(p.new_data_interval(), Some(ECHO_FRAME_INTERVAL));
        p.output(b"b", t);
        assert_eq!(p.send_delay(), Duration::ZERO);
        p.sent(1);
        p.key_written(b'c', t);
        p.output(b"c\r\nout", t);
        assert_eq!(p.send_delay(), SERVER_SEND_MINDELAY, "more than the echo");
        assert_eq!(p.new_data_interval(), None, "paced as Mosh paces it");
        p.sent(2);
        p.key_written(b'\r', t);
        p.output(b"\r\n", t);
        assert_eq!(
            p.send_delay(),
            SERVER_SEND_MINDELAY,
            "Enter's reply is batched"
        );
        p.sent(3);
        p.key_written(b'x', t);
        p.output(b"x", t + Duration::from_millis(51));
        assert_eq!(
            p.send_delay(),
            SERVER_SEND_MINDELAY,
            "too late to be the echo"
        );
        p.sent(3);
        assert_eq!(p.send_delay(), SERVER_SEND_MINDELAY, "nothing was sent yet");
    }

    #[test]
    fn echo_mode_is_reported_only_once_output_has_settled() {
        let t = Instant::now();
        let mut p = EchoPacing::default();
        assert!(p.settled_cooked_echo(|| true, t));
        // A prompt, then (microseconds later) echo off: right after the
        // prompt the sampled mode may still say "echo", so it is not read.
        p.output(b"Password: ", t);
        assert!(!p.settled_cooked_echo(|| panic!("sampled before output settled"), t));
        assert_eq!(p.wakeup(), Some(t + ECHO_MODE_SETTLE));
        assert!(!p.settled_cooked_echo(|| false, t + ECHO_MODE_SETTLE));
        assert_eq!(p.wakeup(), None);
        assert!(p.settled_cooked_echo(|| true, t + ECHO_MODE_SETTLE));
        // The echo of a key does not unsettle it.
        p.key_written(b'q', t);
        p.output(b"q", t + ECHO_MODE_SETTLE);
        assert!(p.settled_cooked_echo(|| true, t + ECHO_MODE_SETTLE));
    }

    /// A fresh 80x24 pty pair (master, slave).
    fn open_test_pty() -> (OwnedFd, OwnedFd) {
        pty::open_pair(WindowSize::DEFAULT).expect("openpty")
    }

    #[test]
    fn cooked_echo_mode_is_read_from_a_real_pty() {
        let (master_fd, slave_fd) = open_test_pty();
        let (master, slave) = (master_fd.as_raw_fd(), slave_fd.as_raw_fd());
        assert!(tty_cooked_echo(master), "a new pty is cooked with echo");
        // SAFETY: termios is plain data filled by tcgetattr; fds are ours.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(slave, &mut t), 0);
            t.c_lflag &= !libc::ECHO;
            assert_eq!(libc::tcsetattr(slave, libc::TCSANOW, &t), 0);
        }
        assert!(!tty_cooked_echo(master), "echo off on the slave side");
        // SAFETY: as above.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(slave, &mut t), 0);
            t.c_lflag |= libc::ECHO;
            t.c_lflag &= !libc::ICANON;
            assert_eq!(libc::tcsetattr(slave, libc::TCSANOW, &t), 0);
            assert!(!tty_cooked_echo(master), "raw mode");
        }
        drop((master_fd, slave_fd));
        assert!(!tty_cooked_echo(-1));
    }

    /// `read_pty` on a real pty: everything written arrives (in pieces
    /// no larger than what was pending), and once the other side is closed
    /// the end is reported rather than "nothing yet".
    #[test]
    fn pty_reads_get_all_output_then_the_end() {
        let (master, slave) = open_test_pty();
        // SAFETY: setting O_NONBLOCK on our own descriptor.
        unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
        let text: Vec<u8> = (0..20_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let writer = {
            let slave = slave.try_clone().expect("dup");
            let text = text.clone();
            std::thread::spawn(move || {
                let mut f = std::fs::File::from(slave);
                std::io::Write::write_all(&mut f, &text).expect("write");
            })
        };
        drop(slave);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let got = rt.block_on(async {
            // SAFETY: the master is a valid open descriptor that nothing
            // else closes while the AsyncFd owns it.
            let io = unsafe { AsyncFd::register(master) }.expect("register");
            let mut buf = vec![0u8; PTY_READ_BUDGET];
            let mut got = Vec::new();
            loop {
                let mut guard = tokio::time::timeout(Duration::from_secs(10), io.readable())
                    .await
                    .expect("the pty never became readable")
                    .expect("readable");
                match read_pty(&mut guard, &mut buf) {
                    ReadOutcome::Data(n) => got.extend_from_slice(&buf[..n]),
                    ReadOutcome::Closed => break got,
                    ReadOutcome::WouldBlock => {}
                }
            }
        });
        writer.join().expect("writer");
        assert_eq!(got, text);
    }

    #[test]
    fn dimensions_are_clamped() {
        assert_eq!(clamp_dimension(80), 80);
        assert_eq!(clamp_dimension(0), 1);
        assert_eq!(clamp_dimension(-5), 1);
        assert_eq!(clamp_dimension(1_000_000), 2000);
    }

    #[test]
    fn write_now_keeps_what_the_pipe_refuses() {
        let mut fds = [0; 2];
        // SAFETY: fds is a valid out-array of two ints.
        assert_eq!(
            unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) },
            0
        );
        let mut pending = vec![7u8; 1 << 20];
        write_now(fds[1], &mut pending).expect("write");
        assert!(!pending.is_empty() && pending.len() < 1 << 20);
        // SAFETY: closing the pipe we created.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }
}
