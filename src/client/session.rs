//! The client session (spec §8.2): the tokio loop that drives the SSP
//! connection, the real terminal and the renderer, and the messages
//! printed on the way out. The rules live in the pure modules; this file
//! only moves bytes and time between them.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::cli::ClientConfig;
use super::escape::{EscapeFilter, InputAction};
use super::notification::NotificationEngine;
use super::predictor::Predictor;
use super::renderer::{Renderer, compose, display_caps};
use super::tty::{self, RawTerminal};
use crate::net::client::ClientSockets;
use crate::net::path_policy::{Change, Path, Transport};
use crate::net::paths::{Incoming, Paths};
use crate::net::ssh_path::SshPathDriver;
use crate::prediction::PASTE_BYTES;
use crate::sync::complete_terminal::CompleteTerminal;
use crate::sync::user_stream::UserStream;
use crate::terminal::display::{close_sequence, open_sequence};
use crate::transport::connection::{Connection, Side};

/// While no server state has arrived, wake at least this often.
const CONNECTING_POLL: Duration = Duration::from_millis(250);
/// Show "Nothing received from server" after this long.
const CONNECTING_NOTICE_MS: u64 = 250;
/// Give up after this long without any server state.
const CONNECT_TIMEOUT_MS: u64 = 15_000;
/// Mosh's pause after a network error.
const NETWORK_ERROR_PAUSE: Duration = Duration::from_millis(200);
/// Keystrokes closer together than this share a datagram (Mosh's minimum send interval).
const KEYSTROKE_INTERVAL: Duration = Duration::from_millis(20);
/// Mosh reads the tty in chunks of this size.
const READ_BUFFER: usize = 16384;
/// The window title's prefix while the session goes over SSH.
const SSH_TITLE: &str = "[mosh via ssh] ";
/// How the bar's message starts while the SSH path is down.
const SSH_DOWN_PREFIX: &str = "SSH path down";
/// Mosh's receive buffer; anything longer is not one of its datagrams.
const DATAGRAM_BUFFER: usize = 2048;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The network was set up (so the farewell paragraphs apply).
    pub started: bool,
    /// The shutdown handshake completed (either side started it).
    pub clean: bool,
    /// At least one server state arrived.
    pub connected: bool,
    /// A fatal error to report, already formatted (e.g. `Crypto exception: …`).
    pub error: Option<String>,
    /// Exit at once with this code, printing nothing more (Mosh's `exit(1)`
    /// paths such as `tcgetattr` failing).
    pub exit_now: Option<u8>,
    /// Why the SSH path failed too, when the session never connected.
    pub ssh_failure: Option<String>,
    /// The session could have used the SSH path (`rmosh connect`).
    pub ssh_possible: bool,
}

/// The stderr text printed after the terminal is restored (spec §8.1).
pub fn farewell_text(outcome: &Outcome, ip: &str, port: &str) -> String {
    let mut s = String::new();
    if outcome.started && !outcome.connected {
        s.push_str(&format!(
            "\nmosh did not make a successful connection to {ip}:{port}.\n\
             Please verify that UDP port {port} is not firewalled and can reach the server.\n\n\
             (By default, mosh uses a UDP port between 60000 and 61000. The -p option\n\
             selects a specific UDP port number.)\n"
        ));
        match (&outcome.ssh_failure, outcome.ssh_possible) {
            (Some(why), _) => s.push_str(&format!(
                "\nThe SSH path failed as well: {why}\n\
                 Try a -p range your firewall lets through, or open UDP port {port}.\n"
            )),
            (None, true) => s.push_str(&format!(
                "\nNo reply over the SSH connection either: the server may have died.\n\
                 Try a -p range your firewall lets through, or open UDP port {port}.\n"
            )),
            (None, false) => {}
        }
    } else if outcome.started && !outcome.clean {
        s.push_str(
            "\n\nmosh did not shut down cleanly. Please note that the\n\
             mosh-server process may still be running on the server.\n",
        );
    }
    if let Some(e) = &outcome.error {
        s.push_str(e);
        s.push_str("\r\n");
    }
    s
}

/// The SSH path a session started by `rmosh connect` may use.
pub struct SshSetup {
    /// Opens the path (and logs in again when needed).
    pub driver: SshPathDriver,
    /// `--transport`.
    pub transport: Transport,
}

/// Runs the session, prints the farewell and `[mosh is exiting.]`, and
/// returns 0 only after a clean shutdown.
pub fn run_and_report(config: ClientConfig) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => run_and_report_on(&rt, config, None),
        Err(e) => report(
            Outcome {
                error: Some(format!("Error: {e}")),
                ..Outcome::default()
            },
            "",
            "",
        ),
    }
}

/// [`run_and_report`] on a runtime that already holds the SSH connection
/// the SSH path uses (`rmosh connect`).
pub fn run_and_report_on(
    rt: &tokio::runtime::Runtime,
    config: ClientConfig,
    ssh: Option<SshSetup>,
) -> ExitCode {
    let ip = config.ip.to_string();
    let port = config.port_text.clone();
    let outcome = rt.block_on(run(config, ssh));
    report(outcome, &ip, &port)
}

fn report(outcome: Outcome, ip: &str, port: &str) -> ExitCode {
    if let Some(code) = outcome.exit_now {
        return ExitCode::from(code);
    }
    eprint!("{}", farewell_text(&outcome, ip, port));
    println!("[mosh is exiting.]");
    if outcome.clean && outcome.error.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Standard input as a non-blocking-safe readiness source (the fd stays
/// blocking; a zero-timeout `poll` guards each read).
struct Stdin {
    fd: AsyncFd<RawFd>,
}

impl Stdin {
    fn new(fd: RawFd) -> io::Result<Stdin> {
        // SAFETY: standard input stays open for the whole process, so the
        // descriptor outlives this registration.
        let fd = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Stdin { fd })
    }

    /// Waits for input and reads it; `Ok(0)` is end of file.
    async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            let fd = *self.fd.get_ref();
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, zero timeout.
            let ready = unsafe { libc::poll(&mut pfd, 1, 0) };
            if ready <= 0 {
                guard.clear_ready();
                continue;
            }
            // SAFETY: buf is valid for buf.len() bytes; poll said a read will not block.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if (n as usize) < buf.len() {
                guard.clear_ready();
            }
            return Ok(n as usize);
        }
    }
}

struct Signals {
    winch: Signal,
    cont: Signal,
    term: Signal,
    int: Signal,
    hup: Signal,
    pipe: Signal,
}

impl Signals {
    fn new() -> io::Result<Signals> {
        Ok(Signals {
            winch: signal(SignalKind::window_change())?,
            cont: signal(SignalKind::from_raw(libc::SIGCONT))?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            pipe: signal(SignalKind::pipe())?,
        })
    }
}

/// What woke the loop.
enum Event {
    Net(Incoming),
    Input(io::Result<usize>),
    Resize,
    Continue,
    Terminate,
    Timer,
}

type ClientConnection = Connection<UserStream, CompleteTerminal>;

struct Session {
    config: ClientConfig,
    start: Instant,
    tty: RawTerminal,
    renderer: Renderer,
    conn: ClientConnection,
    paths: Paths,
    /// The title prefix on UDP (Mosh's `[mosh] `).
    udp_title: String,
    /// The title is written even before the application sets one.
    title_forced: bool,
    notifications: NotificationEngine,
    escape: EscapeFilter,
    prediction: Predictor,
    connecting_text: String,
    help_text: String,
    clean: bool,
}

fn window_size_or_default(fd: RawFd) -> io::Result<(u16, u16)> {
    let (c, r) = tty::window_size(fd)?;
    // A pty nobody sized reports 0×0; Mosh would abort, we draw 80×24.
    Ok((if c == 0 { 80 } else { c }, if r == 0 { 24 } else { r }))
}

async fn run(config: ClientConfig, ssh: Option<SshSetup>) -> Outcome {
    let stdin_fd = io::stdin().as_raw_fd();
    let smcup = config.caps.smcup.clone().filter(|_| config.term_init);
    let rmcup = config.caps.rmcup.clone().filter(|_| config.term_init);
    let tty = match RawTerminal::enter(
        stdin_fd,
        open_sequence(smcup.as_deref()),
        close_sequence(rmcup.as_deref()),
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tcgetattr: {}", strip_os_error(&e));
            return Outcome {
                exit_now: Some(1),
                ..Outcome::default()
            };
        }
    };
    let (cols, rows) = match window_size_or_default(stdin_fd) {
        Ok(s) => s,
        Err(e) => {
            drop(tty);
            return Outcome {
                error: Some(format!("ioctl TIOCGWINSZ: {}", strip_os_error(&e))),
                ..Outcome::default()
            };
        }
    };
    let now = Instant::now();
    let caps = display_caps(&config.caps, config.has_title);
    let renderer = Renderer::new(usize::from(cols), usize::from(rows), caps);
    if let Err(e) = tty::write_stdout(&renderer.initial_clear()) {
        return Outcome {
            error: Some(format!("write: {e}")),
            ..Outcome::default()
        };
    }
    let server = SocketAddr::new(config.ip, config.port);
    let paths = match ClientSockets::open(server, now) {
        Ok(s) => match ssh {
            Some(setup) => Paths::with_ssh(s, setup.driver, setup.transport, now),
            None => Paths::udp_only(s, now),
        },
        Err(e) => {
            return Outcome {
                error: Some(format!("Network exception: socket: {}", strip_os_error(&e))),
                ..Outcome::default()
            };
        }
    };
    let mut conn = Connection::new(
        Side::Client {
            server_addr: server,
        },
        &config.key,
        UserStream::new(),
        CompleteTerminal::new(usize::from(cols), usize::from(rows)),
        now,
    );
    // A keystroke goes out in the same loop turn that read it: Mosh's
    // client waits 1 ms to batch, but a read from the tty already holds
    // everything typed so far, and the send interval still paces bursts.
    conn.set_send_delay(Duration::ZERO);
    // Nor does a keystroke wait for the send interval after an empty ack or
    // at human typing speed; only bursts faster than 20 ms are paced.
    conn.set_new_data_interval(Some(KEYSTROKE_INTERVAL));
    if !config.extensions.is_empty() {
        // First in the stream, so the server knows before the first frame.
        conn.current_state_mut().push_hello(config.extensions);
    }
    conn.current_state_mut()
        .push_resize(i32::from(cols), i32::from(rows));
    let escape = EscapeFilter::new(config.escape.clone());
    let help_text = config.escape.help_text();
    let notifications = NotificationEngine::new(0, config.escape.quit_hint());
    let connecting_text = format!(
        "Nothing received from server on UDP port {}.",
        config.port_text
    );
    let prediction = Predictor::new(config.prediction);
    let mut session = Session {
        udp_title: config.title_prefix.clone(),
        title_forced: false,
        config,
        start: now,
        tty,
        renderer,
        conn,
        paths,
        notifications,
        escape,
        prediction,
        connecting_text,
        help_text,
        clean: false,
    };
    let result = session.main_loop(stdin_fd).await;
    session.finish(result)
}

/// `std::io::Error`'s text without Rust's " (os error N)" suffix, like `perror`.
fn strip_os_error(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

impl Session {
    fn ms(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.start).as_millis()).unwrap_or(u64::MAX)
    }

    fn now_ms(&self) -> u64 {
        self.ms(Instant::now())
    }

    fn still_connecting(&self) -> bool {
        self.conn.remote_state_num() == 0
    }

    /// Composes and writes the frame the user should see now.
    fn output_frame(&mut self) -> io::Result<()> {
        let now = Instant::now();
        let now_ms = self.ms(now);
        self.notifications.adjust(now_ms);
        let bar = self.notifications.bar_text(now_ms);
        let server_fb = self.conn.remote_state().framebuffer();
        self.prediction.cull(server_fb, now);
        let prediction = &self.prediction;
        let mut frame = compose(
            server_fb,
            |fb| prediction.apply(fb),
            bar.as_deref(),
            &self.config.title_prefix,
        );
        // Once the session has been on the SSH path, the title shows the
        // path even if the application never set one.
        frame.title_initialized |= self.title_forced;
        let bytes = self.renderer.draw(frame);
        if bytes.is_empty() {
            return Ok(());
        }
        tty::write_stdout(&bytes)
    }

    /// Sends whatever the connection wants to send now (hopping ports
    /// when replies stop, spec §2.7).
    async fn flush_transmits(&mut self) {
        let now = Instant::now();
        let result = self.paths.flush(&mut self.conn, now).await;
        let now_ms = self.ms(now);
        match result {
            Err(e) => self
                .notifications
                .set_network_error(now_ms, &format!("sendto: {}", strip_os_error(&e))),
            Ok(_) => self.notifications.clear_network_error(now_ms),
        }
    }

    fn next_deadline(&mut self) -> Instant {
        let now = Instant::now();
        let mut deadline = now + Duration::from_secs(3600);
        if let Some(t) = self.conn.poll_timeout() {
            deadline = deadline.min(t);
        }
        if let Some(ms) = self.notifications.wait_time(self.ms(now)) {
            deadline = deadline.min(now + Duration::from_millis(ms));
        }
        if let Some(t) = self.prediction.wake_deadline(now) {
            deadline = deadline.min(t);
        }
        if let Some(t) = self.paths.deadline() {
            deadline = deadline.min(t);
        }
        if self.still_connecting() {
            deadline = deadline.min(now + CONNECTING_POLL);
        }
        deadline
    }

    async fn main_loop(&mut self, stdin_fd: RawFd) -> Result<(), String> {
        let stdin = Stdin::new(stdin_fd).map_err(|e| format!("Error: stdin: {e}"))?;
        let mut signals = Signals::new().map_err(|e| format!("Error: signals: {e}"))?;
        let mut buf = vec![0u8; READ_BUFFER];
        let mut netbuf = vec![0u8; DATAGRAM_BUFFER];
        let mut stdin_open = true;
        self.flush_transmits().await;
        loop {
            self.output_frame()
                .map_err(|e| format!("Error: write: {}", strip_os_error(&e)))?;
            let deadline = self.next_deadline();
            let event = tokio::select! {
                r = self.paths.recv(&mut netbuf) => Event::Net(r),
                r = stdin.read(&mut buf), if stdin_open => Event::Input(r),
                _ = signals.winch.recv() => Event::Resize,
                _ = signals.cont.recv() => Event::Continue,
                _ = signals.term.recv() => Event::Terminate,
                _ = signals.int.recv() => Event::Terminate,
                _ = signals.hup.recv() => Event::Terminate,
                _ = signals.pipe.recv() => Event::Terminate,
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => Event::Timer,
            };
            match event {
                Event::Net(Incoming::Udp(Ok((n, from)))) => {
                    let datagram = netbuf.get(..n).unwrap_or_default().to_vec();
                    self.network_input(&datagram, from, Path::Udp);
                }
                Event::Net(Incoming::SshDatagram(d)) => {
                    let from = self.paths.server();
                    self.network_input(&d, from, Path::Ssh);
                }
                Event::Net(Incoming::SshUp) => self.ssh_up(),
                Event::Net(Incoming::SshDown(why)) => self.ssh_down(&why),
                Event::Net(Incoming::Udp(Err(e))) => {
                    if !self.conn.shutdown_in_progress() {
                        let now_ms = self.now_ms();
                        self.notifications
                            .set_network_error(now_ms, &format!("recvmsg: {}", strip_os_error(&e)));
                    }
                    tokio::time::sleep(NETWORK_ERROR_PAUSE).await;
                }
                Event::Input(Ok(0)) | Event::Input(Err(_)) => {
                    // End of input: leave as Mosh does ("Exiting...").
                    stdin_open = false;
                    if self.start_shutdown("Exiting...") {
                        return Ok(());
                    }
                }
                Event::Input(Ok(n)) => {
                    let bytes = buf.get(..n).unwrap_or_default().to_vec();
                    if self.user_input(&bytes)? {
                        return Ok(());
                    }
                    // Predictions go on screen before the keys go out:
                    // encrypting and sending is work the eye need not wait for.
                    self.output_frame()
                        .map_err(|e| format!("Error: write: {}", strip_os_error(&e)))?;
                }
                Event::Resize => self.resize(),
                Event::Continue => self.resume(),
                Event::Terminate => {
                    if self.start_shutdown("Signal received, shutting down...") {
                        return Ok(());
                    }
                }
                Event::Timer => {}
            }

            if self.conn.shutdown_in_progress() && self.conn.shutdown_acknowledged() {
                self.clean = true;
                return Ok(());
            }
            if self.conn.shutdown_in_progress() && self.conn.shutdown_ack_timed_out(Instant::now())
            {
                return Ok(());
            }
            if self.conn.counterparty_shutdown_ack_sent() {
                self.clean = true;
                return Ok(());
            }
            self.connecting_notice();
            if let Some(change) = self.paths.tick(Instant::now()) {
                self.path_changed(change);
            }
            self.conn.handle_timeout(Instant::now());
            self.flush_transmits().await;
            if let Some(e) = self.conn.fatal_error() {
                return Err(format!("Crypto exception: {e}"));
            }
        }
    }

    /// Starts the shutdown handshake with `message` in the bar; true when
    /// the client should leave at once (nothing to shut down).
    fn start_shutdown(&mut self, message: &str) -> bool {
        if self.conn.shutdown_in_progress() {
            return false;
        }
        let now = Instant::now();
        let now_ms = self.ms(now);
        self.notifications.set_message(now_ms, message, true, true);
        self.conn.start_shutdown(now);
        false
    }

    fn connecting_notice(&mut self) {
        let now_ms = self.now_ms();
        let heard = self.ms(self.conn.last_new_remote_state_time());
        if self.still_connecting()
            && !self.conn.shutdown_in_progress()
            && now_ms.saturating_sub(heard) > CONNECTING_NOTICE_MS
        {
            if now_ms.saturating_sub(heard) > CONNECT_TIMEOUT_MS {
                self.notifications.set_message(
                    now_ms,
                    "Timed out waiting for server...",
                    true,
                    true,
                );
                self.conn.start_shutdown(Instant::now());
            } else {
                let text = self.connecting_text.clone();
                self.notifications.set_message(now_ms, &text, false, true);
            }
        } else if !self.still_connecting() && self.notifications.message() == self.connecting_text {
            self.notifications.clear_message(now_ms);
            if self.paths.current() == Path::Ssh {
                let text = format!(
                    "No reply on UDP port {}; the session goes over the SSH connection.",
                    self.config.port_text
                );
                self.notifications.set_message(now_ms, &text, false, false);
            }
        }
    }

    fn network_input(&mut self, bytes: &[u8], from: SocketAddr, via: Path) {
        let now = Instant::now();
        // Bad datagrams are dropped, as Mosh does; a verbose run says why.
        if let Err(e) = self.conn.handle_datagram(now, from, bytes)
            && self.config.verbose > 0
        {
            eprint!("Dropped datagram: {e}\r\n");
        }
        // Only a datagram that decrypted (and was new) moves the clock.
        if self.conn.last_heard() == Some(now)
            && let Some(change) = self.paths.authenticated(now, via)
        {
            self.path_changed(change);
        }
        let heard = self.ms(self.conn.last_new_remote_state_time());
        self.notifications.server_heard(heard);
        let acked = self.conn.last_roundtrip_success().map_or(0, |t| self.ms(t));
        self.notifications.server_acked(acked);
        self.prediction.set_frame_acked(self.conn.acked_state_num());
        self.prediction
            .set_send_interval(u64::try_from(self.conn.send_interval().as_millis()).unwrap_or(250));
        self.prediction
            .set_echo_ack(self.conn.remote_state().echo_ack());
        self.prediction
            .set_cooked_echo(self.conn.remote_state().cooked_echo());
    }

    /// Handles one read from the tty; `Ok(true)` means leave now.
    fn user_input(&mut self, bytes: &[u8]) -> Result<bool, String> {
        if self.conn.shutdown_in_progress() {
            return Ok(false);
        }
        let now = Instant::now();
        self.prediction
            .set_frame_sent(self.conn.last_sent_state_num());
        let actions = self.escape.feed(bytes);
        let mut sent = Vec::new();
        for action in actions {
            match action {
                InputAction::Send(b) => {
                    self.conn.current_state_mut().push_bytes(&b);
                    sent.extend_from_slice(&b);
                }
                InputAction::Repaint => self.renderer.request_repaint(),
                InputAction::ShowHelp => {
                    let now_ms = self.ms(now);
                    let help = self.help_text.clone();
                    self.notifications.set_message(now_ms, &help, true, false);
                }
                InputAction::HideHelp => {
                    if self.notifications.message() == self.help_text {
                        let now_ms = self.ms(now);
                        self.notifications.clear_message(now_ms);
                    }
                }
                InputAction::Suspend => self.suspend()?,
                InputAction::Quit => {
                    self.feed_prediction(bytes, &sent, now);
                    return Ok(self.start_shutdown("Exiting on user request..."));
                }
            }
        }
        self.feed_prediction(bytes, &sent, now);
        Ok(false)
    }

    fn feed_prediction(&mut self, read: &[u8], sent: &[u8], now: Instant) {
        // A big read is a paste: the engine resets instead of predicting.
        let input = if read.len() > PASTE_BYTES { read } else { sent };
        if input.is_empty() {
            return;
        }
        let fb = self.conn.remote_state().framebuffer();
        self.prediction.new_user_input(input, fb, now);
    }

    fn suspend(&mut self) -> Result<(), String> {
        self.tty
            .suspend()
            .map_err(|e| format!("tcsetattr: {}", strip_os_error(&e)))?;
        tty::stop_process_group();
        self.resume();
        Ok(())
    }

    fn resume(&mut self) {
        // Failing to re-enter raw mode leaves nothing sensible to do but go on.
        let _ = self.tty.resume();
        self.renderer.request_repaint();
    }

    fn resize(&mut self) {
        let fd = io::stdin().as_raw_fd();
        let Ok((cols, rows)) = window_size_or_default(fd) else {
            return;
        };
        if !self.conn.shutdown_in_progress() {
            self.conn
                .current_state_mut()
                .push_resize(i32::from(cols), i32::from(rows));
        }
        // The real terminal may have reflowed what it showed.
        self.renderer.request_repaint();
        self.prediction.reset();
    }

    /// Says in the bar where the session's datagrams go now, and marks the
    /// title while they go over SSH.
    fn path_changed(&mut self, change: Change) {
        let now_ms = self.now_ms();
        let port = &self.config.port_text;
        let text = match change {
            Change::NoUdpAtStart => {
                // Shown until the first screen arrives, then replaced (connecting_notice).
                self.connecting_text =
                    format!("No reply on UDP port {port}; trying the SSH connection...");
                self.connecting_text.clone()
            }
            Change::UdpSilent => {
                format!("UDP port {port} went silent; the session goes over the SSH connection.")
            }
            Change::UdpWorks => "UDP gets through again; the session is back on UDP.".to_string(),
        };
        self.notifications.set_message(now_ms, &text, false, false);
        self.set_title_for_path();
    }

    fn set_title_for_path(&mut self) {
        if self.config.title_prefix.is_empty() && self.udp_title.is_empty() {
            return;
        }
        self.config.title_prefix = match self.paths.current() {
            Path::Udp => self.udp_title.clone(),
            Path::Ssh => SSH_TITLE.to_string(),
        };
        self.title_forced = true;
    }

    fn ssh_up(&mut self) {
        if self.paths.current() == Path::Ssh {
            let now_ms = self.now_ms();
            if self.notifications.message().starts_with(SSH_DOWN_PREFIX) {
                self.notifications
                    .set_message(now_ms, "Reconnected over SSH.", false, false);
            }
        }
    }

    fn ssh_down(&mut self, why: &str) {
        if self.paths.current() == Path::Ssh && !self.conn.shutdown_in_progress() {
            let now_ms = self.now_ms();
            let text = format!("{SSH_DOWN_PREFIX} ({why}); reconnecting...");
            self.notifications.set_message(now_ms, &text, true, true);
        }
    }

    /// Restores the screen and the terminal; turns the loop's result into an outcome.
    fn finish(mut self, result: Result<(), String>) -> Outcome {
        let now_ms = self.now_ms();
        self.notifications.clear_message(now_ms);
        self.notifications.server_heard(now_ms);
        self.notifications.server_acked(now_ms);
        self.config.title_prefix.clear();
        let _ = self.output_frame();
        let restore = self.tty.restore();
        let mut error = result.err();
        if let (Err(e), None) = (restore, &error) {
            error = Some(format!("tcsetattr: {}", strip_os_error(&e)));
        }
        let connected = !self.still_connecting();
        Outcome {
            started: true,
            clean: self.clean,
            connected,
            error,
            exit_now: None,
            ssh_failure: self
                .paths
                .ssh_error()
                .filter(|_| !connected)
                .map(str::to_string),
            ssh_possible: self.paths.has_ssh(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn farewell_when_never_connected() {
        let o = Outcome {
            started: true,
            ..Outcome::default()
        };
        assert_eq!(
            farewell_text(&o, "127.0.0.1", "60001"),
            "\nmosh did not make a successful connection to 127.0.0.1:60001.\n\
             Please verify that UDP port 60001 is not firewalled and can reach the server.\n\n\
             (By default, mosh uses a UDP port between 60000 and 61000. The -p option\n\
             selects a specific UDP port number.)\n"
        );
    }

    #[test]
    fn farewell_after_unclean_shutdown() {
        let o = Outcome {
            started: true,
            connected: true,
            ..Outcome::default()
        };
        assert_eq!(
            farewell_text(&o, "x", "1"),
            "\n\nmosh did not shut down cleanly. Please note that the\nmosh-server process may still be running on the server.\n"
        );
    }

    #[test]
    fn nothing_after_clean_shutdown_and_errors_last() {
        let o = Outcome {
            started: true,
            connected: true,
            clean: true,
            ..Outcome::default()
        };
        assert_eq!(farewell_text(&o, "x", "1"), "");
        let o = Outcome {
            error: Some("Crypto exception: Key must be 22 letters long.".into()),
            ..Outcome::default()
        };
        assert_eq!(
            farewell_text(&o, "x", "1"),
            "Crypto exception: Key must be 22 letters long.\r\n"
        );
    }

    #[test]
    fn os_error_suffix_is_dropped() {
        let e = io::Error::from_raw_os_error(libc::ENOTTY);
        assert_eq!(strip_os_error(&e), "Inappropriate ioctl for device");
    }
}
