//! A user-space UDP impairment relay for tests and benchmarks.
//!
//! This file only moves bytes: every decision about a datagram is made by
//! the pure core in `rmosh::relay`. Toward the server the relay behaves like
//! a NAT: each client address gets its own source socket, and a rebind
//! replaces those sockets, so the server sees the client change address.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use rmosh::relay::cli::RelayArgs;
use rmosh::relay::command::{self, Command};
use rmosh::relay::{Direction, Impairer};
use tokio::io::AsyncBufReadExt;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Larger than any UDP datagram, so nothing is ever truncated.
const MAX_DATAGRAM: usize = 65_536;
/// How many client addresses keep a socket toward the server.
const MAX_MAPPINGS: usize = 16;

/// Something the main loop must react to.
enum Event {
    FromServer { mapping: u64, payload: Vec<u8> },
    Stdin(String),
    StdinClosed,
}

/// One client address and the socket that stands for it toward the server.
struct Mapping {
    id: u64,
    client: SocketAddr,
    socket: Arc<UdpSocket>,
    reader: JoinHandle<()>,
    last_used: Instant,
}

impl Drop for Mapping {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

struct Relay {
    listen: Arc<UdpSocket>,
    server: SocketAddr,
    bind_ip: IpAddr,
    mappings: Vec<Mapping>,
    next_id: u64,
    events: mpsc::Sender<Event>,
    net: Impairer<SocketAddr>,
    start: Instant,
}

impl Relay {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Opens a new source socket toward the server for `client`.
    fn open_mapping(&mut self, client: SocketAddr) -> std::io::Result<usize> {
        let std_sock = std::net::UdpSocket::bind(SocketAddr::new(self.bind_ip, 0))?;
        std_sock.set_nonblocking(true)?;
        let socket = Arc::new(UdpSocket::from_std(std_sock)?);
        self.next_id += 1;
        let id = self.next_id;
        let reader = tokio::spawn(read_server(
            Arc::clone(&socket),
            self.server,
            id,
            self.events.clone(),
        ));
        if self.mappings.len() >= MAX_MAPPINGS
            && let Some(oldest) = self
                .mappings
                .iter()
                .enumerate()
                .min_by_key(|(_, m)| m.last_used)
                .map(|(i, _)| i)
        {
            self.mappings.remove(oldest);
        }
        self.mappings.push(Mapping {
            id,
            client,
            socket,
            reader,
            last_used: Instant::now(),
        });
        Ok(self.mappings.len() - 1)
    }

    fn mapping_for(&mut self, client: SocketAddr) -> std::io::Result<usize> {
        match self.mappings.iter().position(|m| m.client == client) {
            Some(i) => Ok(i),
            None => self.open_mapping(client),
        }
    }

    /// Replaces every source socket toward the server with a fresh one.
    fn rebind(&mut self) -> std::io::Result<Vec<u16>> {
        let clients: Vec<SocketAddr> = self.mappings.drain(..).map(|m| m.client).collect();
        let mut ports = Vec::new();
        for c in clients {
            let i = self.open_mapping(c)?;
            if let Some(m) = self.mappings.get(i) {
                ports.push(m.socket.local_addr()?.port());
            }
        }
        self.net.stats_mut().rebinds += 1;
        Ok(ports)
    }

    /// Sends every datagram that is due.
    async fn deliver_due(&mut self) {
        let now = self.now();
        while let Some(d) = self.net.poll_deliver(now) {
            let result = match d.direction {
                Direction::Up => match self.mapping_for(d.tag) {
                    Ok(i) => match self.mappings.get_mut(i) {
                        Some(m) => {
                            m.last_used = Instant::now();
                            m.socket.send_to(&d.payload, self.server).await
                        }
                        None => Ok(0),
                    },
                    Err(e) => Err(e),
                },
                Direction::Down => self.listen.send_to(&d.payload, d.tag).await,
            };
            // A lost datagram is what this tool is for; only say why.
            if let Err(e) = result {
                eprintln!("rmosh-relay: send {}: {e}", d.direction.name());
            }
        }
    }

    /// Handles one stdin line; returns false to quit.
    fn command(&mut self, line: &str, out: &mut impl Write) -> bool {
        let now = self.now();
        let reply = match Command::parse(line) {
            Ok(None) => return true,
            Err(e) => format!("error: {e}"),
            Ok(Some(cmd)) => match command::apply(&mut self.net, cmd, now) {
                None => "ok".to_string(),
                Some(Command::Rebind) => match self.rebind() {
                    Ok(ports) => format!(
                        "ok rebind {}",
                        ports
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    Err(e) => format!("error: rebind: {e}"),
                },
                Some(Command::Stats) => format!("stats {}", self.net.stats()),
                Some(Command::Quit) => {
                    let _ = writeln!(out, "stats {}", self.net.stats());
                    let _ = out.flush();
                    return false;
                }
                Some(_) => "ok".to_string(),
            },
        };
        let _ = writeln!(out, "{reply}");
        let _ = out.flush();
        true
    }
}

async fn read_server(
    socket: Arc<UdpSocket>,
    server: SocketAddr,
    mapping: u64,
    events: mpsc::Sender<Event>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match socket.recv_from(&mut buf).await {
            // Only the server may answer through a mapping, as with a NAT.
            Ok((n, from)) if from == server => {
                let payload = buf.get(..n).unwrap_or_default().to_vec();
                if events
                    .send(Event::FromServer { mapping, payload })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Ok(_) => {}
            // ICMP errors (e.g. the server not up yet) are transient.
            Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
}

async fn read_stdin(events: mpsc::Sender<Event>) {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        let ev = match lines.next_line().await {
            Ok(Some(l)) => Event::Stdin(l),
            Ok(None) | Err(_) => Event::StdinClosed,
        };
        let closed = matches!(ev, Event::StdinClosed);
        if events.send(ev).await.is_err() || closed {
            return;
        }
    }
}

async fn run(args: RelayArgs) -> Result<(), String> {
    let listen = UdpSocket::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listen
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let bind_ip = args.bind.unwrap_or(match args.server {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    let (up, down) = args.link_configs();
    let (tx, mut rx) = mpsc::channel(1024);
    let mut relay = Relay {
        listen: Arc::new(listen),
        server: args.server,
        bind_ip,
        mappings: Vec::new(),
        next_id: 0,
        events: tx.clone(),
        net: Impairer::new(up, down, args.seed),
        start: Instant::now(),
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", local.port());
    let _ = stdout.flush();

    tokio::spawn(read_stdin(tx));
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    let mut rebind_at = args.rebind_every.map(|p| relay.start + p);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let listen = Arc::clone(&relay.listen);
    loop {
        let due = relay.net.poll_timeout().map(|t| relay.start + t);
        tokio::select! {
            r = listen.recv_from(&mut buf) => {
                if let Ok((n, from)) = r {
                    let payload = buf.get(..n).unwrap_or_default().to_vec();
                    // Open the mapping now so the source port is stable from
                    // the first datagram on.
                    match relay.mapping_for(from) {
                        Ok(i) => {
                            if let Some(m) = relay.mappings.get_mut(i) {
                                m.last_used = Instant::now();
                            }
                        }
                        Err(e) => eprintln!("rmosh-relay: cannot open a socket toward the server: {e}"),
                    }
                    let now = relay.now();
                    relay.net.submit(now, Direction::Up, payload, from);
                }
            }
            Some(ev) = rx.recv() => match ev {
                Event::FromServer { mapping, payload } => {
                    if let Some(client) = relay.mappings.iter().find(|m| m.id == mapping).map(|m| m.client) {
                        let now = relay.now();
                        relay.net.submit(now, Direction::Down, payload, client);
                    }
                }
                Event::Stdin(line) => {
                    if !relay.command(&line, &mut stdout) {
                        return Ok(());
                    }
                }
                // Without stdin the relay keeps running; it stops on a signal.
                Event::StdinClosed => {}
            },
            _ = sleep_until_opt(due) => {}
            _ = sleep_until_opt(rebind_at) => {
                if let Err(e) = relay.rebind() {
                    eprintln!("rmosh-relay: rebind: {e}");
                }
                rebind_at = args.rebind_every.map(|p| Instant::now() + p);
            }
            _ = sigterm.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
        relay.deliver_due().await;
    }
    let _ = writeln!(stdout, "stats {}", relay.net.stats());
    let _ = stdout.flush();
    Ok(())
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

fn main() -> ExitCode {
    let args = RelayArgs::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rmosh-relay: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(run(args));
    // The stdin reader sits in a blocking read that would hold up an
    // orderly shutdown until the next line arrives.
    rt.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rmosh-relay: {e}");
            ExitCode::from(1)
        }
    }
}
