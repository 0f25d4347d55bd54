//! Receiving with the IP TOS byte (spec §2.3): a datagram whose ECN bits are
//! `11` ("congestion experienced") makes the core echo an older timestamp,
//! so the peer measures a longer RTT and slows down. tokio's `recv_from`
//! cannot return control messages, so this uses `recvmsg(2)` through
//! `try_io`.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll};

use socket2::SockAddr;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// One received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes written into the buffer.
    pub len: usize,
    /// Source address.
    pub from: SocketAddr,
    /// The ECN field said "congestion experienced".
    pub congestion_experienced: bool,
}

/// Whether a TOS/traffic-class byte carries the CE codepoint.
pub fn is_congestion_experienced(tos: u8) -> bool {
    tos & 0x03 == 0x03
}

/// Asks the kernel to report the TOS byte (IPv4) / traffic class (IPv6).
pub fn enable_tos_reporting(sock: &impl AsRawFd, ipv6: bool) {
    // Failures only cost the ECN signal; Mosh ignores them too.
    let _ = set_int(sock.as_raw_fd(), libc::IPPROTO_IP, libc::IP_RECVTOS, 1);
    if ipv6 {
        let _ = set_int(
            sock.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVTCLASS,
            1,
        );
    }
}

fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: valid fd, pointer to a live c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
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

/// Non-blocking `recvmsg` with the TOS control message. A datagram larger
/// than `buf` is an error ("Received oversize datagram"), as in Mosh.
pub fn recvmsg_tos(fd: RawFd, buf: &mut [u8]) -> io::Result<RecvMeta> {
    // u64 elements keep the control buffer aligned for cmsghdr.
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut tos: Option<u8> = None;
    let mut flags = 0;
    // SAFETY: every pointer in `msg` refers to a live local buffer with its
    // true length; cmsg traversal uses the libc macros on that buffer only.
    let (len, addr) = unsafe {
        SockAddr::try_init(|storage, storage_len| {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_name = storage.cast();
            msg.msg_namelen = *storage_len;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = std::mem::size_of_val(&control) as _;
            let n = libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT);
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            *storage_len = msg.msg_namelen;
            flags = msg.msg_flags;
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let h = &*c;
                let v4 = h.cmsg_level == libc::IPPROTO_IP
                    && (h.cmsg_type == libc::IP_TOS || h.cmsg_type == libc::IP_RECVTOS);
                let v6 = h.cmsg_level == libc::IPPROTO_IPV6 && h.cmsg_type == libc::IPV6_TCLASS;
                if v4 {
                    tos = Some(*libc::CMSG_DATA(c));
                } else if v6 {
                    let mut v: libc::c_int = 0;
                    std::ptr::copy_nonoverlapping(
                        libc::CMSG_DATA(c),
                        (&mut v as *mut libc::c_int).cast::<u8>(),
                        std::mem::size_of::<libc::c_int>(),
                    );
                    tos = Some((v & 0xFF) as u8);
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
            Ok(n as usize)
        })?
    };
    if flags & libc::MSG_TRUNC != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "Received oversize datagram",
        ));
    }
    let from = addr
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "non-IP source address"))?;
    Ok(RecvMeta {
        len,
        from,
        congestion_experienced: tos.is_some_and(is_congestion_experienced),
    })
}

/// Receives one datagram with its ECN mark.
pub async fn recv_with_ecn(sock: &UdpSocket, buf: &mut [u8]) -> io::Result<RecvMeta> {
    let fd = sock.as_raw_fd();
    sock.async_io(Interest::READABLE, || recvmsg_tos(fd, buf))
        .await
}

/// Poll form of [`recv_with_ecn`], for reading several sockets at once.
pub fn poll_recv_with_ecn(
    sock: &UdpSocket,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<RecvMeta>> {
    let fd = sock.as_raw_fd();
    loop {
        match sock.poll_recv_ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        match sock.try_io(Interest::READABLE, || recvmsg_tos(fd, buf)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return Poll::Ready(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ce_codepoint() {
        assert!(is_congestion_experienced(0x03));
        assert!(is_congestion_experienced(0xFF));
        assert!(!is_congestion_experienced(0x02));
        assert!(!is_congestion_experienced(0x01));
    }

    async fn exchange(tos: u32) -> RecvMeta {
        let rx = UdpSocket::bind("127.0.0.1:0").await.expect("bind rx");
        enable_tos_reporting(&rx, false);
        let tx = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
            .expect("tx socket");
        tx.set_tos_v4(tos).expect("set tos");
        let to = rx.local_addr().expect("rx addr");
        tx.send_to(b"hello", &to.into()).expect("send");
        let mut buf = [0u8; 64];
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            recv_with_ecn(&rx, &mut buf),
        )
        .await
        .expect("in time")
        .expect("received")
    }

    #[tokio::test]
    async fn tos_byte_is_read_on_loopback() {
        let m = exchange(0x03).await;
        assert_eq!(m.len, 5);
        assert!(m.from.ip().is_loopback());
        assert!(m.congestion_experienced);
        let m = exchange(0x02).await;
        assert!(!m.congestion_experienced);
    }

    #[tokio::test]
    async fn oversize_datagram_is_an_error() {
        let rx = UdpSocket::bind("127.0.0.1:0").await.expect("bind rx");
        let tx = UdpSocket::bind("127.0.0.1:0").await.expect("bind tx");
        tx.send_to(&[0u8; 100], rx.local_addr().expect("addr"))
            .await
            .expect("send");
        let mut buf = [0u8; 10];
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            recv_with_ecn(&rx, &mut buf),
        )
        .await
        .expect("in time");
        assert!(r.is_err_and(|e| e.to_string() == "Received oversize datagram"));
    }
}
