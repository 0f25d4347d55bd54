//! `rmosh connect` sessions that may use the SSH path: the client runs in
//! this process, on the runtime that holds the bootstrap's SSH connection,
//! instead of being exec'd (docs/transport-fallback.md).

use std::ffi::OsString;
use std::process::ExitCode;

use super::connect::ConnectOptions;
use super::forward_channel::ForwardOpener;
use crate::client::session::{self, SshSetup};
use crate::net::path_policy::Transport;
use crate::net::ssh_path::SshPathDriver;

/// The SSH connection kept for the SSH path, and the runtime it lives on.
pub struct Kept {
    /// The bootstrap's runtime (the connection's tasks run on it).
    pub rt: tokio::runtime::Runtime,
    /// Opens forwarder channels on the connection, or on a new login.
    pub opener: ForwardOpener,
}

/// Whether the session keeps the SSH connection for the SSH path: not for
/// `--transport udp`, nor when another client program was asked for.
pub fn keeps_ssh(opts: &ConnectOptions) -> bool {
    opts.transport != Transport::Udp && opts.client.is_none()
}

/// Refuses `--transport ssh` where there is no SSH connection to carry it.
pub fn check_transport(opts: &ConnectOptions) -> Result<(), String> {
    if opts.transport != Transport::Ssh {
        return Ok(());
    }
    if opts.local {
        return Err("--transport ssh needs an SSH connection; --local has none".into());
    }
    if opts.ssh_command.is_some() {
        return Err("--transport ssh needs rmosh's built-in SSH client, not --ssh".into());
    }
    if opts.client.is_some() {
        return Err("--transport ssh runs rmosh's own client; drop --client".into());
    }
    Ok(())
}

/// Runs the client here with the SSH path available; the key never
/// leaves this process.
pub fn run(kept: Kept, ip: &str, port: u16, key: String, opts: &ConnectOptions) -> ExitCode {
    let predict = opts.predict.map(|p| OsString::from(p.as_str()));
    let overwrite = opts.predict_overwrite;
    let no_init = opts.no_init;
    // What exec'ing the client would have put in its environment.
    let env = move |k: &str| -> Option<OsString> {
        match k {
            "MOSH_PREDICTION_DISPLAY" => predict
                .clone()
                .or_else(|| std::env::var_os(k))
                .or_else(|| Some("adaptive".into())),
            "MOSH_PREDICTION_OVERWRITE" if overwrite => Some("yes".into()),
            "MOSH_NO_TERM_INIT" if no_init => Some("1".into()),
            _ => std::env::var_os(k),
        }
    };
    let port = port.to_string();
    let config = match crate::client::cli::prepare(ip, &port, 0, Some(key), "rmosh", &env) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let setup = SshSetup {
        driver: SshPathDriver::new(Box::new(kept.opener)),
        transport: opts.transport,
    };
    super::timing::mark("client starts in process");
    session::run_and_report_on(&kept.rt, config, Some(setup))
}
