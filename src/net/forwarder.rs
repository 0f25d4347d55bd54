//! `rmosh forward PORT`: the host end of the SSH path. It runs on the SSH
//! connection the client already holds, takes framed datagrams on stdin,
//! sends them to the server's UDP port, and frames the server's replies on
//! stdout after a greeting line. The server sees an ordinary UDP peer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UdpSocket;

use super::stream_frame::{self, Decoder, GREETING, MAX_FRAME};

/// Arguments of `rmosh forward`.
#[derive(Debug, clap::Args)]
pub struct ForwardArgs {
    /// The server's UDP port.
    pub port: u16,
    /// The server's address (default: this host's end of `$SSH_CONNECTION`,
    /// where a server started with `--bind-server=ssh` listens; else 127.0.0.1).
    #[arg(long = "to", value_name = "IP")]
    pub to: Option<IpAddr>,
}

/// Where the server listens: the address given, else the local address of
/// `SSH_CONNECTION` (client-ip client-port server-ip server-port).
pub fn target(to: Option<IpAddr>, ssh_connection: Option<&str>, port: u16) -> SocketAddr {
    let from_ssh = ssh_connection
        .and_then(|v| v.split_whitespace().nth(2))
        .and_then(|ip| ip.parse::<IpAddr>().ok());
    let ip = to.or(from_ssh).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    SocketAddr::new(ip, port)
}

/// Entry point for `rmosh forward`.
pub fn run_forward(args: ForwardArgs) -> ExitCode {
    let ssh = std::env::var("SSH_CONNECTION").ok();
    let to = target(args.to, ssh.as_deref(), args.port);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rmosh forward: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(relay(to)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rmosh forward: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Relays until stdin ends (the client closed the channel) or breaks.
async fn relay(to: SocketAddr) -> Result<(), String> {
    let any: SocketAddr = if to.is_ipv6() {
        "[::]:0".parse().map_err(|_| "bad address")?
    } else {
        "0.0.0.0:0".parse().map_err(|_| "bad address")?
    };
    let sock = UdpSocket::bind(any)
        .await
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    sock.connect(to)
        .await
        .map_err(|e| format!("cannot reach {to}: {e}"))?;
    let mut stdin = tokio::io::stdin();
    let mut stdout = tokio::io::stdout();
    stdout
        .write_all(GREETING)
        .await
        .map_err(|e| format!("stdout: {e}"))?;
    stdout.flush().await.map_err(|e| format!("stdout: {e}"))?;
    let mut decoder = Decoder::frames();
    let mut inbuf = vec![0u8; 16384];
    let mut udpbuf = vec![0u8; MAX_FRAME + 1];
    loop {
        tokio::select! {
            r = stdin.read(&mut inbuf) => {
                let n = r.map_err(|e| format!("stdin: {e}"))?;
                if n == 0 {
                    return Ok(());
                }
                let mut out = Vec::new();
                decoder
                    .decode(inbuf.get(..n).unwrap_or_default(), &mut |d| out.push(d.to_vec()))
                    .map_err(|e| format!("from the client: {e}"))?;
                for d in out {
                    // A server not (yet) listening refuses; SSP retransmits.
                    let _ = sock.send(&d).await;
                }
            }
            r = sock.recv(&mut udpbuf) => {
                // ICMP errors from a server that went away are not fatal.
                let Ok(n) = r else { continue };
                // Larger than any SSP datagram: not the server's, dropped.
                let Ok(frame) = stream_frame::encode(udpbuf.get(..n).unwrap_or_default()) else {
                    continue;
                };
                stdout.write_all(&frame).await.map_err(|e| format!("stdout: {e}"))?;
                stdout.flush().await.map_err(|e| format!("stdout: {e}"))?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_defaults_to_the_ssh_server_address() {
        let ssh = Some("10.0.0.2 50000 10.0.0.9 22");
        assert_eq!(target(None, ssh, 60001), "10.0.0.9:60001".parse().unwrap());
        assert_eq!(
            target(Some("::1".parse().unwrap()), ssh, 1),
            "[::1]:1".parse().unwrap()
        );
        assert_eq!(target(None, None, 2), "127.0.0.1:2".parse().unwrap());
        assert_eq!(
            target(None, Some("::ffff:127.0.0.1 1 ::ffff:127.0.0.1 22"), 3),
            "127.0.0.1:3".parse().unwrap()
        );
        assert_eq!(
            target(None, Some("garbage"), 4),
            "127.0.0.1:4".parse().unwrap()
        );
    }
}
