//! UDP sockets set up the way Mosh sets them up (spec §2.3–§2.5): ECT(0) in
//! the TOS byte, path-MTU discovery off (DF clear), IPv6 wildcard sockets
//! accepting IPv4 too, and the server's port search.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

use super::ports::PortRange;
use crate::transport::connection::{Connection, Transmit};
use crate::transport::state::State;

/// TOS byte Mosh sets: ECN-capable transport, ECT(0).
pub const IP_TOS_ECT0: u32 = 0x02;
/// Receive buffer: larger than any datagram a peer may send, so an
/// oversize one reaches the core and is rejected there instead of truncated.
pub const RECV_BUFFER_LEN: usize = 65536;

/// A new non-blocking UDP socket for `family` with Mosh's options.
pub fn new_udp_socket(ipv6: bool) -> io::Result<Socket> {
    let domain = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
    let sock = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    disable_pmtu_discovery(&sock, ipv6)?;
    // Mosh ignores a failure here, and so do we.
    let _ = sock.set_tos_v4(IP_TOS_ECT0);
    // Ask for the TOS byte of received datagrams (ECN).
    super::recv::enable_tos_reporting(&sock, ipv6);
    sock.set_nonblocking(true)?;
    Ok(sock)
}

fn set_int_opt(
    sock: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid fd, a pointer to a live c_int and its exact size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads an integer socket option (for tests and diagnostics).
pub fn get_int_opt(
    sock: &impl std::os::fd::AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid fd, a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

fn disable_pmtu_discovery(sock: &Socket, ipv6: bool) -> io::Result<()> {
    // DF clear, so routers fragment instead of dropping our 1252-byte datagrams.
    set_int_opt(
        sock,
        libc::IPPROTO_IP,
        libc::IP_MTU_DISCOVER,
        libc::IP_PMTUDISC_DONT,
    )?;
    if ipv6 {
        let _ = set_int_opt(
            sock,
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            libc::IPV6_PMTUDISC_DONT,
        );
    }
    Ok(())
}

/// Whether a send error means "datagram too big" (then use the fallback MTU).
pub fn is_emsgsize(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EMSGSIZE)
}

/// The server's socket could not be bound anywhere.
#[derive(Debug)]
pub struct BindError {
    /// What was tried last, e.g. `0.0.0.0:60001..60999`.
    pub what: String,
    /// The last OS error.
    pub source: io::Error,
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Failed binding to {}: {}", self.what, self.source)
    }
}

impl std::error::Error for BindError {}

/// A bound server socket plus the warnings Mosh would print on the way.
#[derive(Debug)]
pub struct BoundServer {
    /// The socket (non-blocking, options set).
    pub socket: std::net::UdpSocket,
    /// e.g. "Error binding to IP 10.9.9.9: …" when the preferred IP failed.
    pub warnings: Vec<String>,
}

impl BoundServer {
    /// The local address actually bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

/// Binds the server socket (spec §2.5): the requested IP first (if any),
/// then the wildcard address `0.0.0.0`; inside each, the first free port of
/// `ports`. An IPv6 wildcard (`-i ::`) also accepts IPv4 (V6ONLY off).
pub fn bind_server(ip: Option<&str>, ports: PortRange) -> Result<BoundServer, BindError> {
    let mut warnings = Vec::new();
    if let Some(ip) = ip {
        match ip.parse::<IpAddr>() {
            Ok(addr) => match try_bind(addr, ports) {
                Ok(socket) => return Ok(BoundServer { socket, warnings }),
                Err(e) => warnings.push(format!("Error binding to IP {ip}: {e}")),
            },
            Err(_) => warnings.push(format!(
                "Error binding to IP {ip}: Bad IP address ({ip}): Name or service not known"
            )),
        }
    }
    match try_bind(IpAddr::V4(Ipv4Addr::UNSPECIFIED), ports) {
        Ok(socket) => Ok(BoundServer { socket, warnings }),
        Err(e) => Err(e),
    }
}

fn try_bind(ip: IpAddr, ports: PortRange) -> Result<std::net::UdpSocket, BindError> {
    let what = || {
        if ports.low == ports.high {
            SocketAddr::new(ip, ports.low).to_string()
        } else {
            format!("{}:{}..{}", ip_for_display(ip), ports.low, ports.high)
        }
    };
    let err = |source| BindError {
        what: what(),
        source,
    };
    let sock = new_udp_socket(ip.is_ipv6()).map_err(err)?;
    if ip.is_ipv6() && ip.is_unspecified() {
        sock.set_only_v6(false).map_err(err)?;
    }
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no port in range");
    for port in ports.iter() {
        match sock.bind(&SocketAddr::new(ip, port).into()) {
            Ok(()) => return Ok(sock.into()),
            Err(e) => last = e,
        }
    }
    Err(err(last))
}

fn ip_for_display(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

/// Sends everything the connection has to send now through `socket`.
/// On `EMSGSIZE` the connection switches to the 500-byte fallback MTU
/// (that datagram is lost, as in Mosh; the SSP retransmits). Other send
/// errors are returned after the queue was drained (the last one wins).
pub async fn flush_to<L: State, R: State>(
    conn: &mut Connection<L, R>,
    socket: &tokio::net::UdpSocket,
    now: std::time::Instant,
) -> io::Result<usize> {
    let mut sent = 0;
    let mut result = Ok(());
    while let Some(Transmit {
        destination,
        contents,
    }) = conn.poll_transmit(now)
    {
        match socket.send_to(&contents, destination).await {
            Ok(_) => sent += 1,
            Err(e) => {
                if is_emsgsize(&e) {
                    conn.set_mtu_fallback();
                }
                result = Err(e);
            }
        }
    }
    result.map(|()| sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    /// A port that was free a moment ago (bind 0, read, close).
    fn free_port() -> u16 {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .unwrap_or(0)
    }

    #[test]
    fn socket_options_match_mosh() {
        let b = bind_server(Some("127.0.0.1"), PortRange { low: 0, high: 0 });
        let b = b.map_err(|e| e.to_string());
        assert!(b.is_ok(), "{b:?}");
        let Ok(b) = b else { return };
        assert_eq!(
            get_int_opt(&b.socket, libc::IPPROTO_IP, libc::IP_TOS).ok(),
            Some(0x02)
        );
        assert_eq!(
            get_int_opt(&b.socket, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER).ok(),
            Some(libc::IP_PMTUDISC_DONT)
        );
        assert!(b.warnings.is_empty());
        let a = b.local_addr().ok();
        assert!(a.is_some_and(|a| a.ip() == IpAddr::V4(Ipv4Addr::LOCALHOST) && a.port() != 0));
    }

    #[test]
    fn explicit_port_is_used_and_busy_port_fails() {
        let port = free_port();
        let b = bind_server(
            Some("127.0.0.1"),
            PortRange {
                low: port,
                high: port,
            },
        );
        let addr = b.as_ref().ok().and_then(|b| b.local_addr().ok());
        assert_eq!(addr.map(|a| a.port()), Some(port));
        // Same port again: the IP fails (warning), the wildcard fails too (fatal).
        let again = bind_server(
            Some("127.0.0.1"),
            PortRange {
                low: port,
                high: port,
            },
        );
        let msg = again.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("Failed binding to 0.0.0.0:"), "{msg}");
    }

    #[test]
    fn range_search_skips_busy_ports() {
        let first = std::net::UdpSocket::bind("127.0.0.1:0");
        let Ok(first) = first else { return };
        let port = first.local_addr().map(|a| a.port()).unwrap_or(0);
        if port == u16::MAX {
            return;
        }
        let b = bind_server(
            Some("127.0.0.1"),
            PortRange {
                low: port,
                high: port + 1,
            },
        );
        let got = b.ok().and_then(|b| b.local_addr().ok()).map(|a| a.port());
        // `port` is busy, so the search moves on (unless another process
        // grabbed port+1 meanwhile: then nothing in the range is free).
        assert!(got == Some(port + 1) || got.is_none(), "{got:?}");
    }

    #[test]
    fn bad_ip_warns_and_falls_back_to_wildcard() {
        let b = bind_server(Some("not-an-ip"), PortRange { low: 0, high: 0 });
        let Ok(b) = b else {
            panic!("wildcard fallback failed")
        };
        assert_eq!(b.warnings.len(), 1);
        assert!(b.warnings[0].starts_with("Error binding to IP not-an-ip:"));
        assert_eq!(
            b.local_addr().ok().map(|a| a.ip()),
            Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        );
    }

    #[test]
    fn ipv6_wildcard_is_dual_stack_and_loopback_v6_works() {
        let b = bind_server(Some("::"), PortRange { low: 0, high: 0 });
        let Ok(b) = b else { panic!("cannot bind ::") };
        assert_eq!(
            b.local_addr().ok().map(|a| a.ip()),
            Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
        );
        assert_eq!(
            get_int_opt(&b.socket, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY).ok(),
            Some(0)
        );
        // An IPv4 client reaches the IPv6 wildcard socket.
        let port = b.local_addr().map(|a| a.port()).unwrap_or(0);
        let c = std::net::UdpSocket::bind("127.0.0.1:0");
        let sent = c.and_then(|c| c.send_to(b"hi", ("127.0.0.1", port)));
        assert_eq!(sent.ok(), Some(2));
        let _ = b.socket.set_nonblocking(false);
        let _ = b
            .socket
            .set_read_timeout(Some(std::time::Duration::from_secs(5)));
        let mut buf = [0u8; 16];
        let got = b.socket.recv_from(&mut buf).ok();
        assert!(got.is_some_and(|(n, from)| n == 2 && from.ip().to_canonical().is_loopback()));

        let l = bind_server(Some("::1"), PortRange { low: 0, high: 0 });
        let ip = l.ok().and_then(|b| b.local_addr().ok()).map(|a| a.ip());
        assert_eq!(ip, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }

    #[test]
    fn emsgsize_is_recognized() {
        assert!(is_emsgsize(&io::Error::from_raw_os_error(libc::EMSGSIZE)));
        assert!(!is_emsgsize(&io::Error::from_raw_os_error(libc::EAGAIN)));
    }
}
