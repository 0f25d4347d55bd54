//! Establishing an authenticated SSH session: direct TCP, `ProxyCommand`, or
//! `ProxyJump` hops (each hop resolved through the configuration again, the way
//! `ssh -J` does), with the host key checked against known_hosts.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{Algorithm, PublicKeyOrCertificate};

use super::auth;
use super::hostkey::{self, HostKeyCheck};
use super::known_hosts;
use super::ssh_config::{
    AddressFamily, ConfigSource, HostConfig, JumpHost, LocalContext, Proxy, Request, Resolver,
};

/// The russh event handler: checks the server's host key.
pub struct SshHandler {
    check: HostKeyCheck,
    refusal: Arc<Mutex<Option<String>>>,
}

impl client::Handler for SshHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match server_public_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(_) => {
                self.refuse("the server offered a host certificate; rmosh only checks plain host keys (use --ssh=ssh)".into());
                return Ok(false);
            }
        };
        log::debug!(
            "Server host key: {} {}",
            key.algorithm().as_str(),
            super::known_hosts::fingerprint(&key)
        );
        let check = self.check.clone();
        // Verification may prompt on the terminal, which blocks.
        let verdict = tokio::task::spawn_blocking(move || hostkey::verify(&check, &key)).await;
        match verdict {
            Ok(Ok(())) => {
                log::debug!("Host key for '{}' accepted", self.check.name);
                Ok(true)
            }
            Ok(Err(e)) => {
                log::debug!("Host key for '{}' refused", self.check.name);
                self.refuse(e.to_string());
                Ok(false)
            }
            Err(e) => {
                self.refuse(format!("host key check failed: {e}"));
                Ok(false)
            }
        }
    }
}

impl SshHandler {
    fn refuse(&self, msg: String) {
        if let Ok(mut r) = self.refusal.lock() {
            *r = Some(msg);
        }
    }
}

/// An authenticated session and what keeps it alive.
pub struct Session {
    /// The SSH connection.
    pub handle: Handle<SshHandler>,
    /// The TCP peer, for a direct connection.
    pub peer: Option<SocketAddr>,
    /// Hops and proxy processes that carry this connection.
    _carriers: Vec<Carrier>,
}

/// Held only so that dropping the session also ends what carries it.
#[expect(dead_code, reason = "kept alive, never read")]
enum Carrier {
    Hop(Box<Session>),
    Process(tokio::process::Child),
}

/// What `connect` needs besides the destination's own settings.
pub struct Context<'a> {
    /// Configuration files.
    pub source: &'a (dyn ConfigSource + Sync),
    /// Local user facts.
    pub local: &'a LocalContext,
    /// `-F file`, passed on to hops as `ssh -J` does.
    pub config_file: Option<PathBuf>,
}

/// The key-exchange host key preference: algorithms already known for the host
/// first (so we do not trip over a key type we have never recorded), then the
/// default order.
fn preferred_keys(known: &[Algorithm]) -> Vec<Algorithm> {
    let default = russh::Preferred::DEFAULT.key.to_vec();
    let same = |a: &Algorithm, b: &Algorithm| {
        matches!((a, b), (Algorithm::Rsa { .. }, Algorithm::Rsa { .. })) || a == b
    };
    let mut out: Vec<Algorithm> = default
        .iter()
        .filter(|a| known.iter().any(|k| same(k, a)))
        .cloned()
        .collect();
    out.extend(
        default
            .iter()
            .filter(|a| !known.iter().any(|k| same(k, a)))
            .cloned(),
    );
    out
}

fn russh_config(cfg: &HostConfig, check: &HostKeyCheck) -> client::Config {
    let entries = known_hosts::load_files(
        &check
            .user_files
            .iter()
            .chain(check.global_files.iter())
            .cloned()
            .collect::<Vec<_>>(),
    );
    let known = known_hosts::known_algorithms(&entries, &check.name);
    let preferred = russh::Preferred {
        key: preferred_keys(&known).into(),
        ..russh::Preferred::DEFAULT
    };
    client::Config {
        preferred,
        inactivity_timeout: None,
        keepalive_interval: cfg.server_alive_interval,
        keepalive_max: cfg.server_alive_count_max as usize,
        nodelay: true,
        ..Default::default()
    }
}

/// The host key check settings for a destination. The host name is looked up
/// and recorded lower-cased, as OpenSSH does (hashed entries hash the
/// lower-cased name); a `HostKeyAlias` is used as given.
pub fn host_key_check(cfg: &HostConfig) -> HostKeyCheck {
    let host = match cfg.host_key_alias.as_deref() {
        Some(alias) => alias.to_string(),
        None => cfg.hostname.to_ascii_lowercase(),
    };
    HostKeyCheck {
        name: known_hosts::host_key_name(&host, cfg.port),
        user_files: cfg.user_known_hosts_files.clone(),
        global_files: cfg.global_known_hosts_files.clone(),
        strict: cfg.strict_host_key_checking,
        hash: cfg.hash_known_hosts,
        batch: cfg.batch_mode,
    }
}

async fn with_timeout<T>(
    limit: Option<Duration>,
    what: &str,
    fut: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match limit {
        Some(d) => tokio::time::timeout(d, fut)
            .await
            .map_err(|_| format!("{what}: timed out after {} s", d.as_secs()))?,
        None => fut.await,
    }
}

/// Connects and authenticates to the destination described by `cfg`.
pub fn connect<'a>(
    cfg: &'a HostConfig,
    ctx: &'a Context<'a>,
    depth: usize,
) -> Pin<Box<dyn Future<Output = Result<Session, String>> + Send + 'a>> {
    Box::pin(async move {
        if depth > 8 {
            return Err("too many ProxyJump hops (loop in the configuration?)".into());
        }
        for w in &cfg.warnings {
            super::prompt::notify(&format!("rmosh: {w}\n"));
        }
        let check = host_key_check(cfg);
        let refusal = Arc::new(Mutex::new(None));
        let handler = SshHandler {
            check: check.clone(),
            refusal: refusal.clone(),
        };
        let config = Arc::new(russh_config(cfg, &check));
        let target = format!("{}:{}", cfg.hostname, cfg.port);
        let explain = |e: russh::Error| -> String {
            if let Ok(mut r) = refusal.lock()
                && let Some(msg) = r.take()
            {
                return msg;
            }
            format!("ssh: connect to {target}: {e}")
        };
        let mut carriers = Vec::new();
        let mut peer = None;
        let handle = match &cfg.proxy {
            Proxy::Direct => {
                log::debug!("Connecting to {} port {}", cfg.hostname, cfg.port);
                let (stream, addr) = with_timeout(
                    cfg.connect_timeout,
                    &format!("ssh: connect to {target}"),
                    async { tcp_connect(&cfg.hostname, cfg.port, cfg.address_family).await },
                )
                .await?;
                peer = Some(addr);
                super::timing::mark("tcp connected");
                with_timeout(
                    cfg.connect_timeout,
                    &format!("ssh: handshake with {target}"),
                    async {
                        client::connect_stream(config, stream, handler)
                            .await
                            .map_err(explain)
                    },
                )
                .await?
            }
            Proxy::Command(cmd) => {
                log::debug!("Executing proxy command: {cmd}");
                let mut child = tokio::process::Command::new("/bin/sh")
                    .arg("-c")
                    .arg(cmd)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::inherit())
                    .kill_on_drop(true)
                    .spawn()
                    .map_err(|e| format!("ssh: cannot run ProxyCommand '{cmd}': {e}"))?;
                let (Some(out), Some(inp)) = (child.stdout.take(), child.stdin.take()) else {
                    return Err("ssh: ProxyCommand has no pipes".into());
                };
                carriers.push(Carrier::Process(child));
                let stream = tokio::io::join(out, inp);
                with_timeout(
                    cfg.connect_timeout,
                    &format!("ssh: handshake with {target}"),
                    async {
                        client::connect_stream(config, stream, handler)
                            .await
                            .map_err(explain)
                    },
                )
                .await?
            }
            Proxy::Jump(hops) => {
                let Some((last, before)) = hops.split_last() else {
                    return Err("ssh: empty ProxyJump".into());
                };
                let hop_cfg = resolve_hop(last, before, ctx)?;
                log::debug!(
                    "Connecting to {target} through jump host {}",
                    hop_cfg.original_host
                );
                let hop = connect(&hop_cfg, ctx, depth + 1).await?;
                let channel = hop
                    .handle
                    .channel_open_direct_tcpip(
                        cfg.hostname.clone(),
                        u32::from(cfg.port),
                        "127.0.0.1",
                        0,
                    )
                    .await
                    .map_err(|e| {
                        format!(
                            "ssh: jump host {} could not open a connection to {target}: {e}",
                            hop_cfg.original_host
                        )
                    })?;
                carriers.push(Carrier::Hop(Box::new(hop)));
                with_timeout(
                    cfg.connect_timeout,
                    &format!("ssh: handshake with {target}"),
                    async {
                        client::connect_stream(config, channel.into_stream(), handler)
                            .await
                            .map_err(explain)
                    },
                )
                .await?
            }
        };
        super::timing::mark("key exchange and host key check done");
        log::debug!("Key exchange with {target} done");
        let mut session = Session {
            handle,
            peer,
            _carriers: carriers,
        };
        auth::authenticate(&mut session.handle, cfg).await?;
        super::timing::mark("authenticated");
        Ok(session)
    })
}

/// Resolves one hop the way `ssh -J a,b c` does: `b` is reached through `a`.
fn resolve_hop(
    hop: &JumpHost,
    before: &[JumpHost],
    ctx: &Context<'_>,
) -> Result<HostConfig, String> {
    let mut options = Vec::new();
    if let Some(u) = &hop.user {
        options.push(("User".to_string(), u.clone()));
    }
    if let Some(p) = hop.port {
        options.push(("Port".to_string(), p.to_string()));
    }
    let jump = if before.is_empty() {
        "none".to_string()
    } else {
        before
            .iter()
            .map(|h| {
                let mut s = String::new();
                if let Some(u) = &h.user {
                    s.push_str(u);
                    s.push('@');
                }
                if h.host.contains(':') {
                    s.push_str(&format!("[{}]", h.host));
                } else {
                    s.push_str(&h.host);
                }
                if let Some(p) = h.port {
                    s.push_str(&format!(":{p}"));
                }
                s
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    options.push(("ProxyJump".to_string(), jump));
    let req = Request {
        host: hop.host.clone(),
        config_file: ctx.config_file.clone(),
        options,
    };
    Resolver::new(ctx.source, ctx.local)
        .resolve(&req)
        .map_err(|e| e.to_string())
}

async fn tcp_connect(
    host: &str,
    port: u16,
    family: AddressFamily,
) -> Result<(tokio::net::TcpStream, SocketAddr), String> {
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("ssh: Could not resolve hostname {host}: {e}"))?
            .collect(),
    };
    let addrs: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| match family {
            AddressFamily::Any => true,
            AddressFamily::Inet => a.is_ipv4(),
            AddressFamily::Inet6 => a.is_ipv6(),
        })
        .collect();
    let mut last = format!("ssh: Could not resolve hostname {host}");
    for a in addrs {
        log::debug!("Connecting to {host} [{}] port {port}", a.ip());
        match tokio::net::TcpStream::connect(a).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                log::debug!("Connection established");
                return Ok((s, a));
            }
            Err(e) => {
                log::debug!("connect to address {} port {port}: {e}", a.ip());
                last = format!("ssh: connect to host {host} port {port}: {e}")
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_checked_lower_cased_but_aliases_as_given() {
        struct NoFiles;
        impl ConfigSource for NoFiles {
            fn read(&self, _: &std::path::Path) -> Option<String> {
                None
            }
            fn glob(&self, _: &std::path::Path) -> Vec<PathBuf> {
                Vec::new()
            }
        }
        let local = LocalContext {
            home: PathBuf::from("/nonexistent-home"),
            user: "me".into(),
            system_config: PathBuf::from("/nonexistent-etc/ssh_config"),
        };
        let req = Request {
            host: "MyHost.Example".into(),
            config_file: None,
            options: vec![],
        };
        let mut cfg = Resolver::new(&NoFiles, &local).resolve(&req).unwrap();
        assert_eq!(host_key_check(&cfg).name, "myhost.example");
        cfg.port = 2222;
        assert_eq!(host_key_check(&cfg).name, "[myhost.example]:2222");
        cfg.host_key_alias = Some("MixedAlias".into());
        assert_eq!(host_key_check(&cfg).name, "[MixedAlias]:2222");
    }

    #[test]
    fn known_algorithms_come_first() {
        let p = preferred_keys(&[Algorithm::Rsa { hash: None }]);
        assert!(matches!(p.first(), Some(Algorithm::Rsa { .. })));
        assert_eq!(p.len(), russh::Preferred::DEFAULT.key.len());
        let p = preferred_keys(&[]);
        assert_eq!(p, russh::Preferred::DEFAULT.key.to_vec());
    }
}
