//! The whole bootstrap: log in (built-in SSH, an external `--ssh` command, or
//! `--local`), start the server, read `MOSH CONNECT`, close SSH, and exec the
//! client with the key in `MOSH_KEY` (never in argv).

use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use super::deploy::{self, DeployMode};
use super::forward_channel::{self, ForwardOpener};
use super::kept_session::{self, Kept};
use super::launch::{self, Bind, Scan, ServerChoice, ServerOptions};
use super::remote;
use super::session::{self, Context};
use super::ssh_config::{self, FsSource, LocalContext, Request, Resolver};
use super::timing;
use crate::net::path_policy::Transport;

/// Address family preference (`--family`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Family {
    /// IPv4 only.
    Inet,
    /// IPv6 only.
    Inet6,
    /// Whatever the connection used.
    #[default]
    Auto,
    /// Like auto.
    All,
    /// Like auto (the wrapper's fake proxy preference).
    PreferInet,
    /// Like auto.
    PreferInet6,
}

/// Local echo mode (`--predict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Predict {
    /// Echo when the link is slow (the default).
    Adaptive,
    /// Always echo locally.
    Always,
    /// Never echo locally.
    Never,
    /// Echo aggressively.
    Experimental,
}

impl Predict {
    /// The value `MOSH_PREDICTION_DISPLAY` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Predict::Adaptive => "adaptive",
            Predict::Always => "always",
            Predict::Never => "never",
            Predict::Experimental => "experimental",
        }
    }
}

/// Everything `rmosh connect` and the `mosh` wrapper can ask for.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `[user@]host`.
    pub destination: String,
    /// Remote command (empty = login shell).
    pub command: Vec<String>,
    /// Remote UDP port or range.
    pub udp_port: Option<String>,
    /// SSH port.
    pub ssh_port: Option<u16>,
    /// `-F`.
    pub config_file: Option<PathBuf>,
    /// `-l`.
    pub login: Option<String>,
    /// `-i`.
    pub identities: Vec<PathBuf>,
    /// `-o Key=Value`.
    pub ssh_options: Vec<String>,
    /// `--server`.
    pub server: Option<String>,
    /// `--client` (wrapper only): the client program to exec.
    pub client: Option<String>,
    /// `--predict`.
    pub predict: Option<Predict>,
    /// `--predict-overwrite`.
    pub predict_overwrite: bool,
    /// `--no-init`.
    pub no_init: bool,
    /// `--local`.
    pub local: bool,
    /// `--bind-server`.
    pub bind_server: Option<String>,
    /// `--family`.
    pub family: Family,
    /// `--deploy`.
    pub deploy: DeployMode,
    /// `--ssh=CMD`.
    pub ssh_command: Option<String>,
    /// `--no-ssh-pty` (wrapper only): no `-tt` for the external ssh.
    pub no_ssh_pty: bool,
    /// The original command line, shown by `ps` through the client's `-#`.
    pub original_args: String,
    /// `--transport`: UDP, the SSH connection, or UDP falling back to SSH.
    pub transport: Transport,
}

/// Where the client should go.
struct Target {
    ip: IpAddr,
    port: u16,
    key: String,
}

/// Runs the bootstrap and execs the client (or, when the session may use
/// the SSH path, runs it here on the SSH connection); returns only on failure.
pub fn run(opts: ConnectOptions) -> ExitCode {
    timing::mark("start");
    match bootstrap(&opts) {
        Ok((t, None)) => {
            timing::mark("bootstrap done (runtime dropped)");
            exec_client(&opts, t)
        }
        Ok((t, Some(kept))) => {
            timing::mark("bootstrap done (SSH connection kept)");
            kept_session::run(kept, &t.ip.to_string(), t.port, t.key, &opts)
        }
        Err(msg) => {
            eprintln!("rmosh: {msg}");
            ExitCode::from(255)
        }
    }
}

fn server_options(opts: &ConnectOptions, host: &str) -> Result<ServerOptions, String> {
    let colors = crate::client::terminfo::lookup_env_term()
        .map(|c| c.colors.max(0) as u32)
        .unwrap_or(0);
    let bind = match opts.bind_server.as_deref() {
        None if opts.local => Bind::Ip(host.to_string()),
        None | Some("ssh") => Bind::Ssh,
        Some("any") => Bind::Any,
        Some(ip) => {
            ip.parse::<IpAddr>()
                .map_err(|_| format!("--bind-server: '{ip}' is not ssh, any or an IP address"))?;
            Bind::Ip(ip.to_string())
        }
    };
    Ok(ServerOptions {
        colors,
        bind,
        port: opts.udp_port.clone(),
        locale: ServerOptions::locale_from_env(),
        command: opts.command.clone(),
    })
}

fn choice(opts: &ConnectOptions) -> ServerChoice {
    match &opts.server {
        Some(s) => ServerChoice::Explicit(s.clone()),
        None => ServerChoice::Auto {
            deployed: deploy::deployed_path(),
        },
    }
}

/// Turns a scan into a target, or explains what the remote said instead.
fn target_from(
    scan: &Scan,
    fallback_ip: Option<IpAddr>,
    opts: &ConnectOptions,
) -> Result<Target, String> {
    for l in &scan.other_lines {
        eprintln!("{l}");
    }
    let Some((port, key)) = scan.connect.clone() else {
        let mut msg = String::from("the remote did not start a server (no \"MOSH CONNECT\" line).");
        if scan.no_server_arch.is_some() {
            msg.push_str(
                "\nNeither rmosh nor mosh-server is installed there (and --deploy=never was given).",
            );
        }
        if opts.udp_port.as_deref().is_some_and(|p| p.contains(':'))
            && scan.other_lines.iter().any(|l| l.contains("Bad UDP port"))
        {
            msg.push_str("\nThe remote server does not support port ranges.");
        }
        if !scan.other_lines.is_empty() {
            msg.push_str("\nThe remote said:\n");
            msg.push_str(&scan.other_lines.join("\n"));
        }
        return Err(msg);
    };
    let ip = match fallback_ip.or(scan.remote_ip) {
        Some(ip) => ip,
        None => return Err("cannot tell which IP address the server is on".into()),
    };
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    Ok(Target { ip, port, key })
}

fn bootstrap(opts: &ConnectOptions) -> Result<(Target, Option<Kept>), String> {
    let (dest_user, host) = ssh_config::split_destination(&opts.destination);
    if host.is_empty() {
        return Err("no host given".into());
    }
    let sopts = server_options(opts, &host)?;
    kept_session::check_transport(opts)?;
    if opts.local {
        return run_local(opts, &host, &sopts).map(|t| (t, None));
    }
    if let Some(ssh) = &opts.ssh_command {
        return run_external_ssh(opts, ssh, &host, &sopts).map(|t| (t, None));
    }
    let mut options: Vec<(String, String)> = Vec::new();
    for o in &opts.ssh_options {
        let (k, v) = o
            .split_once('=')
            .or_else(|| o.trim().split_once(char::is_whitespace))
            .ok_or_else(|| format!("bad -o option '{o}' (expected Key=Value)"))?;
        options.push((k.trim().to_string(), v.trim().to_string()));
    }
    if let Some(l) = &opts.login {
        options.push(("User".into(), l.clone()));
    }
    if let Some(u) = dest_user {
        options.push(("User".into(), u));
    }
    if let Some(p) = opts.ssh_port {
        options.push(("Port".into(), p.to_string()));
    }
    for i in &opts.identities {
        options.push(("IdentityFile".into(), i.display().to_string()));
    }
    match opts.family {
        Family::Inet => options.push(("AddressFamily".into(), "inet".into())),
        Family::Inet6 => options.push(("AddressFamily".into(), "inet6".into())),
        _ => {}
    }
    let local = LocalContext::from_env();
    let req = Request {
        host: host.clone(),
        config_file: opts.config_file.clone(),
        options,
    };
    let cfg = Resolver::new(&FsSource, &local)
        .resolve(&req)
        .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    timing::mark("configuration read");
    let ctx = Context {
        source: &FsSource,
        local: &local,
        config_file: opts.config_file.clone(),
    };
    let (target, opener) = rt.block_on(async {
        let session = session::connect(&cfg, &ctx, 0).await?;
        let mut server = choice(opts);
        if opts.deploy == DeployMode::Always && opts.server.is_none() {
            let path = deploy::deploy(&session.handle, None).await?;
            server = ServerChoice::Explicit(format!("\"$HOME\"/{path} server"));
        }
        let mut scan =
            remote::launch_server(&session.handle, &launch::remote_command(&server, &sopts))
                .await?;
        if scan.connect.is_none()
            && let Some(arch) = scan.no_server_arch.clone()
            && opts.deploy != DeployMode::Never
        {
            let path = deploy::deploy(&session.handle, Some(&arch)).await?;
            server = ServerChoice::Explicit(format!("\"$HOME\"/{path} server"));
            scan = remote::launch_server(&session.handle, &launch::remote_command(&server, &sopts))
                .await?;
        }
        // Direct connections use the address we reached; through proxies only
        // the remote knows its address (`SSH_CONNECTION`).
        let direct_ip = session.peer.map(|a| a.ip());
        let target = target_from(&scan, direct_ip, opts)?;
        if kept_session::keeps_ssh(opts) {
            // The SSH path rides on this connection: it stays open.
            let command = forward_channel::forwarder_command(&server, target.port);
            let config_file = opts.config_file.clone();
            let opener = ForwardOpener::new(session, &cfg, &local, config_file, command);
            return Ok::<_, String>((target, Some(opener)));
        }
        let _ = session
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        timing::mark("ssh disconnected");
        Ok((target, None))
    })?;
    Ok((target, opener.map(|opener| Kept { rt, opener })))
}

/// `--ssh=CMD`: an external ssh runs the same launch script.
fn run_external_ssh(
    opts: &ConnectOptions,
    ssh: &str,
    host: &str,
    sopts: &ServerOptions,
) -> Result<Target, String> {
    let remote = launch::remote_command(&choice(opts), sopts);
    let mut cmd = Command::new("/bin/sh");
    // The shell splits CMD into words, as the wrapper's shellwords does.
    cmd.arg("-c")
        .arg(format!("exec {ssh} \"$@\" 2>&1"))
        .arg("sh")
        .arg("-n");
    if !opts.no_ssh_pty {
        cmd.arg("-tt");
    }
    if let Some(p) = opts.ssh_port {
        cmd.arg("-p").arg(p.to_string());
    }
    if let Some(l) = &opts.login {
        cmd.arg("-l").arg(l);
    }
    if let Some(f) = &opts.config_file {
        cmd.arg("-F").arg(f);
    }
    for i in &opts.identities {
        cmd.arg("-i").arg(i);
    }
    for o in &opts.ssh_options {
        cmd.arg("-o").arg(o);
    }
    cmd.arg(&opts.destination).arg("--").arg(&remote);
    let scan = run_and_scan(cmd)?;
    let fallback = if scan.remote_ip.is_none() {
        resolve(host)
    } else {
        None
    };
    target_from(&scan, fallback, opts)
}

/// `--local`: run the server here, no SSH.
fn run_local(opts: &ConnectOptions, host: &str, sopts: &ServerOptions) -> Result<Target, String> {
    let server = match &opts.server {
        Some(s) => ServerChoice::Explicit(s.clone()),
        None => {
            let exe =
                std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
            ServerChoice::Explicit(format!(
                "{} server",
                launch::shell_quote(&exe.to_string_lossy())
            ))
        }
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(format!("{} 2>&1", launch::remote_command(&server, sopts)))
        .env_remove("SSH_CONNECTION");
    if let Some(home) = std::env::var_os("HOME") {
        cmd.current_dir(home);
    }
    let scan = run_and_scan(cmd)?;
    let ip = host
        .parse::<IpAddr>()
        .ok()
        .or_else(|| resolve(host))
        .ok_or_else(|| format!("cannot resolve {host}"))?;
    target_from(&scan, Some(ip), opts)
}

/// Runs a local process, reads its merged output until `MOSH CONNECT`, then
/// gives it a moment to finish.
fn run_and_scan(mut cmd: Command) -> Result<Scan, String> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run ssh: {e}"))?;
    let mut buf = Vec::new();
    if let Some(out) = child.stdout.take() {
        let mut reader = BufReader::new(out);
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => buf.extend_from_slice(&line),
            }
            if launch::scan(&buf, false).connect.is_some() {
                break;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => break,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    Ok(launch::scan(&buf, true))
}

fn resolve(host: &str) -> Option<IpAddr> {
    use std::net::ToSocketAddrs;
    (host, 22).to_socket_addrs().ok()?.next().map(|a| a.ip())
}

/// Replaces this process with the client, as the wrapper does.
fn exec_client(opts: &ConnectOptions, t: Target) -> ExitCode {
    let program = match &opts.client {
        Some(c) => PathBuf::from(c),
        None => match std::env::current_exe() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("rmosh: cannot find this executable: {e}");
                return ExitCode::from(255);
            }
        },
    };
    let mut cmd = Command::new(&program);
    if opts.client.is_none() {
        cmd.arg0("mosh-client");
    }
    let predict = opts
        .predict
        .map(Predict::as_str)
        .map(str::to_string)
        .or_else(|| std::env::var("MOSH_PREDICTION_DISPLAY").ok());
    cmd.arg("-#")
        .arg(format!("{} |", opts.original_args))
        .arg(t.ip.to_string())
        .arg(t.port.to_string())
        .env("MOSH_KEY", &t.key)
        .env(
            "MOSH_PREDICTION_DISPLAY",
            predict.unwrap_or_else(|| "adaptive".into()),
        );
    if opts.predict_overwrite {
        cmd.env("MOSH_PREDICTION_OVERWRITE", "yes");
    }
    if opts.no_init {
        cmd.env("MOSH_NO_TERM_INIT", "1");
    }
    let _ = std::io::stdout().flush();
    timing::mark("exec client");
    let err = cmd.exec();
    eprintln!("rmosh: cannot run the client {}: {err}", program.display());
    ExitCode::from(255)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_option_like_the_wrapper() {
        let mut o = ConnectOptions::default();
        assert_eq!(server_options(&o, "h").unwrap().bind, Bind::Ssh);
        o.local = true;
        assert_eq!(
            server_options(&o, "127.0.0.1").unwrap().bind,
            Bind::Ip("127.0.0.1".into())
        );
        o.bind_server = Some("any".into());
        assert_eq!(server_options(&o, "h").unwrap().bind, Bind::Any);
        o.bind_server = Some("::1".into());
        assert_eq!(
            server_options(&o, "h").unwrap().bind,
            Bind::Ip("::1".into())
        );
        o.bind_server = Some("nonsense".into());
        assert!(server_options(&o, "h").is_err());
    }

    #[test]
    fn missing_connect_shows_remote_output() {
        let scan = launch::scan(b"zsh: command not found: mosh-server\r\n", true);
        let err = target_from(&scan, None, &ConnectOptions::default())
            .err()
            .unwrap_or_default();
        assert!(err.contains("MOSH CONNECT"), "{err}");
        assert!(err.contains("zsh: command not found: mosh-server"), "{err}");
    }

    #[test]
    fn target_prefers_the_direct_peer_and_unmaps_v4() {
        let scan = launch::scan(
            b"MOSH SSH_CONNECTION 1.1.1.1 2 10.0.0.9 22\nMOSH CONNECT 60001 VzSpsdwU3gLB52wEoNjlzg\n",
            true,
        );
        let opts = ConnectOptions::default();
        let t = target_from(&scan, Some("::ffff:127.0.0.1".parse().unwrap()), &opts).unwrap();
        assert_eq!(t.ip, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(t.port, 60001);
        let t = target_from(&scan, None, &opts).unwrap();
        assert_eq!(t.ip, "10.0.0.9".parse::<IpAddr>().unwrap());
    }
}
