//! Binding the server's UDP socket before the process forks (§2.5): the
//! socket must exist, and its port be known, before `MOSH CONNECT` is printed
//! and before any async runtime starts.

use std::ffi::OsStr;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::ports::PortRange;

/// Binds the server socket: `desired_ip` first (failure is reported and
/// ignored), then the wildcard address. Every message is Mosh's.
pub fn bind_server_socket(
    desired_ip: Option<&OsStr>,
    ports: PortRange,
) -> Result<UdpSocket, String> {
    if let Some(ip) = desired_ip {
        let text = ip.to_string_lossy();
        match parse_numeric_ip(&text).and_then(|addr| try_bind(addr, ports)) {
            Ok(sock) => return Ok(sock),
            Err(e) => eprintln!("Error binding to IP {text}: {e}"),
        }
    }
    match try_bind(IpAddr::V4(Ipv4Addr::UNSPECIFIED), ports) {
        Ok(sock) => Ok(sock),
        Err(e) => {
            eprintln!("Error binding to any interface: {e}");
            Err(format!("Network exception: {e}"))
        }
    }
}

fn parse_numeric_ip(text: &str) -> Result<IpAddr, String> {
    text.parse::<IpAddr>()
        .map_err(|_| format!("Bad IP address ({text}): Name or service not known"))
}

/// Tries every port of the range on `addr`, lowest first.
fn try_bind(addr: IpAddr, ports: PortRange) -> Result<UdpSocket, String> {
    let fd = new_socket(addr).map_err(|e| format!("socket: {e}"))?;
    let mut last_err = io::Error::from_raw_os_error(libc::EADDRINUSE);
    let mut last_port = ports.low;
    for port in ports.low..=ports.high {
        last_port = port;
        match bind_fd(&fd, SocketAddr::new(addr, port)) {
            Ok(()) => {
                tune(&fd, addr);
                return Ok(UdpSocket::from(fd));
            }
            Err(e) => last_err = e,
        }
    }
    let shown = match addr {
        IpAddr::V4(a) => format!("{a}:{last_port}"),
        IpAddr::V6(a) => format!("{a}:{last_port}"),
    };
    eprintln!("Failed binding to {shown}");
    Err(format!("bind: {last_err}"))
}

fn new_socket(addr: IpAddr) -> io::Result<OwnedFd> {
    let family = match addr {
        IpAddr::V4(_) => libc::AF_INET,
        IpAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a freshly created descriptor that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    if let IpAddr::V6(a) = addr
        && a.is_unspecified()
    {
        // A wildcard IPv6 socket also serves IPv4 clients, as in Mosh.
        set_int(fd_of(&owned), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 0);
    }
    Ok(owned)
}

fn fd_of(fd: &OwnedFd) -> RawFd {
    use std::os::fd::AsRawFd;
    fd.as_raw_fd()
}

fn bind_fd(fd: &OwnedFd, addr: SocketAddr) -> io::Result<()> {
    // SAFETY: the sockaddr structs are zero-initialized plain data, filled in
    // completely for their family, and passed with their exact length.
    let rc = unsafe {
        match addr {
            SocketAddr::V4(a) => {
                let mut sin: libc::sockaddr_in = zeroed();
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                libc::bind(
                    fd_of(fd),
                    (&raw const sin).cast(),
                    size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
            SocketAddr::V6(a) => {
                let mut sin6: libc::sockaddr_in6 = zeroed();
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_scope_id = a.scope_id();
                libc::bind(
                    fd_of(fd),
                    (&raw const sin6).cast(),
                    size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// ECT(0) in the TOS byte and no DF bit, as Mosh's sockets (§2.3); best effort.
fn tune(fd: &OwnedFd, addr: IpAddr) {
    let raw = fd_of(fd);
    match addr {
        IpAddr::V4(_) => {
            set_int(
                raw,
                libc::IPPROTO_IP,
                libc::IP_MTU_DISCOVER,
                libc::IP_PMTUDISC_DONT,
            );
            set_int(raw, libc::IPPROTO_IP, libc::IP_TOS, 0x02);
            set_int(raw, libc::IPPROTO_IP, libc::IP_RECVTOS, 1);
        }
        IpAddr::V6(_) => {
            set_int(
                raw,
                libc::IPPROTO_IPV6,
                libc::IPV6_MTU_DISCOVER,
                libc::IPV6_PMTUDISC_DONT,
            );
            set_int(raw, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, 0x02);
            // Dual-stack wildcard sockets carry IPv4 too.
            set_int(
                raw,
                libc::IPPROTO_IP,
                libc::IP_MTU_DISCOVER,
                libc::IP_PMTUDISC_DONT,
            );
            set_int(raw, libc::IPPROTO_IP, libc::IP_TOS, 0x02);
        }
    }
}

fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) {
    // SAFETY: value lives across the call and its size is passed exactly.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_udp_port() -> u16 {
        UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("free port")
    }

    #[test]
    fn binds_the_requested_ip_and_port() {
        let port = free_udp_port();
        let sock = bind_server_socket(
            Some(OsStr::new("127.0.0.1")),
            PortRange {
                low: port,
                high: port,
            },
        )
        .expect("bind");
        assert_eq!(
            sock.local_addr().expect("addr"),
            SocketAddr::from(([127, 0, 0, 1], port))
        );
    }

    #[test]
    fn port_zero_lets_the_kernel_choose() {
        let sock = bind_server_socket(Some(OsStr::new("127.0.0.1")), PortRange { low: 0, high: 0 })
            .expect("bind");
        assert_ne!(sock.local_addr().expect("addr").port(), 0);
    }

    #[test]
    fn range_skips_busy_ports() {
        let busy = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = busy.local_addr().expect("addr").port();
        if port == u16::MAX {
            return;
        }
        match try_bind(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            PortRange {
                low: port,
                high: port + 1,
            },
        ) {
            Ok(sock) => assert_eq!(sock.local_addr().expect("addr").port(), port + 1),
            // port+1 may be taken by another test run; then the error names bind.
            Err(e) => assert!(e.starts_with("bind: "), "{e}"),
        }
        let err = try_bind(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            PortRange {
                low: port,
                high: port,
            },
        )
        .expect_err("busy");
        assert!(err.starts_with("bind: "), "{err}");
    }

    #[test]
    fn bad_ip_falls_back_to_wildcard() {
        let sock = bind_server_socket(Some(OsStr::new("not-an-ip")), PortRange { low: 0, high: 0 })
            .expect("wildcard bind");
        assert!(sock.local_addr().expect("addr").ip().is_unspecified());
        assert!(parse_numeric_ip("nope").is_err());
    }

    #[test]
    fn ipv6_loopback_binds() {
        let sock = bind_server_socket(Some(OsStr::new("::1")), PortRange { low: 0, high: 0 })
            .expect("bind");
        let addr = sock.local_addr().expect("addr");
        assert_eq!(addr.ip(), "::1".parse::<IpAddr>().expect("ip"));
    }
}
