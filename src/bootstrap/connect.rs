//! The whole bootstrap: log in (built-in SSH, an external `--ssh` command, or
//! `--local`), start the server, read `MOSH CONNECT`, close SSH, and exec the
//! client with the key in `MOSH_KEY` (never in argv).

use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use super::deploy::{self, DeployError, DeployMode, Image};
use super::destination;
use super::launch::{self, Bind, Scan, ServerChoice, ServerOptions, ServerVerb};
use super::remote;
use super::session::{self, Context};
use super::ssh_config::{self, FsSource, LocalContext, Request, Resolver};
use super::timing;

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
    fn as_str(self) -> &'static str {
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
    /// `--family`, `-4`, `-6`.
    pub family: Family,
    /// `-J`: ProxyJump given on the command line.
    pub jump: Option<String>,
    /// `-v` count.
    pub verbose: u8,
    /// `-G`: print the resolved configuration instead of connecting.
    pub print_config: bool,
    /// `--deploy`.
    pub deploy: DeployMode,
    /// `--deploy-binary`: the binary to copy instead of this one.
    pub deploy_binary: Option<PathBuf>,
    /// Escape key for the client (`MOSH_ESCAPE_KEY`; empty = none), from the settings file.
    pub escape_key: Option<Vec<u8>>,
    /// `--ssh=CMD`.
    pub ssh_command: Option<String>,
    /// `--no-ssh-pty` (wrapper only): no `-tt` for the external ssh.
    pub no_ssh_pty: bool,
    /// The original command line, shown by `ps` through the client's `-#`.
    pub original_args: String,
    /// A new session, or one of the session verbs (docs/sessions.md).
    pub verb: ServerVerb,
}

/// Where the client should go.
struct Target {
    ip: IpAddr,
    port: u16,
    key: String,
}

/// Runs the bootstrap and execs the client; returns only on failure.
pub fn run(opts: ConnectOptions) -> ExitCode {
    timing::mark("start");
    crate::stderr_log::init(opts.verbose);
    if opts.print_config {
        return match resolve_config(&opts) {
            Ok((cfg, _)) => {
                print!("{}", super::dump_config::ssh_g(&cfg));
                ExitCode::SUCCESS
            }
            Err(msg) => {
                eprintln!("rmosh: {msg}");
                ExitCode::from(255)
            }
        };
    }
    match bootstrap(&opts) {
        Ok(t) => {
            timing::mark("bootstrap done (runtime dropped)");
            exec_client(&opts, t)
        }
        Err(msg) if msg.is_empty() => ExitCode::SUCCESS,
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
        verb: opts.verb.clone(),
    })
}

/// The binaries that may be deployed, read and hashed on a thread while SSH
/// connects (the launch snippet needs their sums).
struct PendingImages(Option<std::thread::JoinHandle<Result<Vec<Image>, DeployError>>>);

impl PendingImages {
    fn start(opts: &ConnectOptions) -> PendingImages {
        if opts.server.is_some() {
            return PendingImages(None);
        }
        let explicit = opts.deploy_binary.clone();
        PendingImages(Some(std::thread::spawn(move || {
            let exe = std::env::current_exe().map_err(|e| DeployError::Binary {
                path: PathBuf::from("/proc/self/exe"),
                reason: e.to_string(),
            })?;
            deploy::load_images(explicit.as_deref(), &exe)
        })))
    }

    fn wait(self) -> Result<Vec<Image>, DeployError> {
        match self.0 {
            None => Ok(Vec::new()),
            Some(t) => t.join().unwrap_or_else(|_| {
                Err(DeployError::Binary {
                    path: PathBuf::from("/proc/self/exe"),
                    reason: "reading it failed".into(),
                })
            }),
        }
    }
}

fn choice(opts: &ConnectOptions, images: &Result<Vec<Image>, DeployError>) -> ServerChoice {
    match &opts.server {
        Some(s) => ServerChoice::Explicit(s.clone()),
        None => ServerChoice::Auto {
            deployed: images
                .as_ref()
                .map(|v| v.iter().map(|i| i.sum.clone()).collect())
                .unwrap_or_default(),
        },
    }
}

/// Deploys the image that fits `remote`; the choice that then runs it.
async fn deploy_to<H: russh::client::Handler>(
    handle: &russh::client::Handle<H>,
    images: &Result<Vec<Image>, DeployError>,
    remote: &launch::RemoteSystem,
) -> Result<ServerChoice, String> {
    let images = images.as_ref().map_err(|e| e.to_string())?;
    let image = deploy::choose(images, remote).map_err(|e| e.to_string())?;
    deploy::deploy(handle, image)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ServerChoice::Deployed {
        sum: image.sum.clone(),
    })
}

/// Turns a scan into a target, or explains what the remote said instead.
fn target_from(
    scan: &Scan,
    fallback_ip: Option<IpAddr>,
    opts: &ConnectOptions,
) -> Result<Target, String> {
    if opts.verb.reports_only() {
        // `sessions` and `--kill`: the remote's report is the result.
        for l in &scan.other_lines {
            println!("{l}");
        }
        let failed = scan.other_lines.iter().any(|l| l.starts_with("rmosh: "));
        return Err(if failed {
            "the remote rmosh reported an error".into()
        } else {
            String::new()
        });
    }
    for l in &scan.other_lines {
        eprintln!("{l}");
    }
    let Some((port, key)) = scan.connect.clone() else {
        let mut msg = String::from("the remote did not start a server (no \"MOSH CONNECT\" line).");
        if let Some(sys) = &scan.no_server {
            msg.push_str(
                "\nNeither rmosh nor mosh-server is installed there (and --deploy=never was given).",
            );
            if sys.corrupt {
                msg.push_str(
                    "\nA deployed rmosh there does not match its checksum, so it was not run.",
                );
            }
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

/// Resolves the SSH configuration for the destination, command line first.
fn resolve_config(opts: &ConnectOptions) -> Result<(ssh_config::HostConfig, LocalContext), String> {
    let (dest_user, host) = ssh_config::split_destination(&opts.destination);
    if host.is_empty() {
        return Err("no host given".into());
    }
    destination::check_host(&host).map_err(|e| e.to_string())?;
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
    for (_, user) in options
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("user"))
    {
        destination::check_user(user).map_err(|e| e.to_string())?;
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
    if let Some(j) = &opts.jump {
        options.push(("ProxyJump".into(), j.clone()));
    }
    let local = LocalContext::from_env();
    let req = Request {
        host,
        config_file: opts.config_file.clone(),
        options,
    };
    let cfg = Resolver::new(&FsSource, &local)
        .resolve(&req)
        .map_err(|e| e.to_string())?;
    for (location, setting) in &cfg.origins {
        log::debug!("{location}: {setting}");
    }
    Ok((cfg, local))
}

fn bootstrap(opts: &ConnectOptions) -> Result<Target, String> {
    let (_, host) = ssh_config::split_destination(&opts.destination);
    if host.is_empty() {
        return Err("no host given".into());
    }
    let sopts = server_options(opts, &host)?;
    if opts.local {
        return run_local(opts, &host, &sopts);
    }
    if let Some(ssh) = &opts.ssh_command {
        destination::check_external(&opts.destination).map_err(|e| e.to_string())?;
        let server = choice(opts, &PendingImages::start(opts).wait());
        return run_external_ssh(opts, ssh, &host, &sopts, &server);
    }
    let pending = PendingImages::start(opts);
    let (cfg, local) = resolve_config(opts)?;
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
    rt.block_on(async {
        let session = session::connect(&cfg, &ctx, 0).await?;
        let images = pending.wait();
        let mut server = choice(opts, &images);
        if opts.deploy == DeployMode::Always && opts.server.is_none() {
            let remote = deploy::probe(&session.handle)
                .await
                .map_err(|e| e.to_string())?;
            server = deploy_to(&session.handle, &images, &remote).await?;
        }
        let mut scan =
            remote::launch_server(&session.handle, &launch::remote_command(&server, &sopts))
                .await?;
        if scan.connect.is_none()
            && let Some(remote) = scan.no_server.clone()
            && opts.deploy != DeployMode::Never
            && opts.server.is_none()
        {
            if remote.corrupt {
                super::prompt::notify(
                    "rmosh: the rmosh deployed on the remote does not match its checksum; \
                     deploying it again\n",
                );
            }
            server = deploy_to(&session.handle, &images, &remote).await?;
            scan = remote::launch_server(&session.handle, &launch::remote_command(&server, &sopts))
                .await?;
        }
        let _ = session
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        timing::mark("ssh disconnected");
        // Direct connections use the address we reached; through proxies only
        // the remote knows its address (`SSH_CONNECTION`).
        let direct_ip = session.peer.map(|a| a.ip());
        target_from(&scan, direct_ip, opts)
    })
}

/// `--ssh=CMD`: an external ssh runs the same launch script.
fn run_external_ssh(
    opts: &ConnectOptions,
    ssh: &str,
    host: &str,
    sopts: &ServerOptions,
    server: &ServerChoice,
) -> Result<Target, String> {
    let remote = launch::remote_command(server, sopts);
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
    if let Some(j) = &opts.jump {
        cmd.arg("-J").arg(j);
    }
    match opts.family {
        Family::Inet => {
            cmd.arg("-4");
        }
        Family::Inet6 => {
            cmd.arg("-6");
        }
        _ => {}
    }
    for _ in 0..opts.verbose {
        cmd.arg("-v");
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
    let mut scanner = launch::Scanner::new();
    let mut too_much = None;
    if let Some(mut out) = child.stdout.take() {
        let mut chunk = [0u8; 8192];
        loop {
            match out.read(&mut chunk) {
                Ok(0) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
                Ok(n) => {
                    if let Err(e) = scanner.feed(chunk.get(..n).unwrap_or(&[])) {
                        too_much = Some(e);
                        break;
                    }
                }
            }
            if scanner.connected() {
                break;
            }
        }
    }
    if let Some(e) = too_much {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e.to_string());
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
    Ok(scanner.finish())
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
    if let Some(k) = &opts.escape_key {
        cmd.env(
            "MOSH_ESCAPE_KEY",
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(k),
        );
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
