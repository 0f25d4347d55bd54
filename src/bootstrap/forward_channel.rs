//! Opening the SSH path: a channel on the session's SSH connection running
//! `rmosh forward PORT` on the host, and logging in again in the background
//! when that connection has died (agent or keys only: the terminal belongs
//! to the session, so nothing is asked).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use super::launch::{self, ServerChoice};
use super::session::{self, Context, Session};
use super::ssh_config::{FsSource, HostConfig, LocalContext};
use crate::net::ssh_path::{ChannelOpener, SshChannel};

/// Longest wait for a new login before the attempt counts as failed.
const RELOGIN_LIMIT: Duration = Duration::from_secs(20);
/// Keepalives on a new login, so a dead network is noticed (unless configured).
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The remote command that runs the forwarder: the same rmosh that serves
/// the session, else rmosh on PATH or the deployed one.
pub fn forwarder_command(server: &ServerChoice, port: u16) -> String {
    if let ServerChoice::Explicit(cmd) = server
        && let Some(program) = cmd.strip_suffix(" server")
    {
        return format!("{program} forward {port}");
    }
    let deployed = super::deploy::deployed_path();
    let script = format!(
        "if command -v rmosh >/dev/null 2>&1; then exec rmosh forward {port}; \
         elif [ -x \"$HOME/{deployed}\" ]; then exec \"$HOME/{deployed}\" forward {port}; \
         else echo 'rmosh is not installed on the host; the SSH path needs it \
         (install it, or connect once with --deploy=always)' >&2; exit 127; fi"
    );
    format!("sh -c {}", launch::shell_quote(&script))
}

/// Opens forwarder channels, holding the SSH connection between them.
pub struct ForwardOpener {
    cfg: HostConfig,
    local: LocalContext,
    config_file: Option<PathBuf>,
    session: Option<Session>,
    command: String,
}

impl ForwardOpener {
    /// Keeps `session` (the bootstrap's login) for the path; later logins
    /// use `cfg` in batch mode.
    pub fn new(
        session: Session,
        cfg: &HostConfig,
        local: &LocalContext,
        config_file: Option<PathBuf>,
        command: String,
    ) -> ForwardOpener {
        let mut cfg = cfg.clone();
        cfg.batch_mode = true;
        if cfg.server_alive_interval.is_none() {
            cfg.server_alive_interval = Some(KEEPALIVE);
        }
        ForwardOpener {
            cfg,
            local: local.clone(),
            config_file,
            session: Some(session),
            command,
        }
    }

    async fn relogin(&mut self) -> Result<(), String> {
        self.session = None;
        let ctx = Context {
            source: &FsSource,
            local: &self.local,
            config_file: self.config_file.clone(),
        };
        let login = session::connect(&self.cfg, &ctx, 0);
        let s = tokio::time::timeout(RELOGIN_LIMIT, login)
            .await
            .map_err(|_| {
                format!(
                    "SSH login to {} timed out after {} s",
                    self.cfg.hostname,
                    RELOGIN_LIMIT.as_secs()
                )
            })?
            .map_err(|e| relogin_error(&e))?;
        self.session = Some(s);
        Ok(())
    }

    async fn open_channel(&mut self) -> Result<SshChannel, String> {
        let alive = self.session.as_ref().is_some_and(|s| !s.handle.is_closed());
        if !alive {
            self.relogin().await?;
        }
        let Some(s) = &self.session else {
            return Err("no SSH connection".into());
        };
        let ch = match s.handle.channel_open_session().await {
            Ok(ch) => ch,
            Err(e) => {
                // The connection died under us: drop it so the next try logs in.
                self.session = None;
                return Err(format!("cannot open an SSH channel: {e}"));
            }
        };
        ch.exec(true, self.command.as_str())
            .await
            .map_err(|e| format!("cannot start the forwarder on the host: {e}"))?;
        Ok(ch)
    }
}

/// Why a background login failed, and what would make it work.
fn relogin_error(e: &str) -> String {
    let lower = e.to_ascii_lowercase();
    if lower.contains("password")
        || lower.contains("passphrase")
        || lower.contains("permission denied")
    {
        format!(
            "SSH login failed ({e}); logging in again cannot ask for a password \
             or passphrase while the session runs: load the key into ssh-agent"
        )
    } else {
        format!("SSH login failed: {e}")
    }
}

impl ChannelOpener for ForwardOpener {
    fn open(&mut self) -> Pin<Box<dyn Future<Output = Result<SshChannel, String>> + Send + '_>> {
        Box::pin(self.open_channel())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarder_runs_beside_the_server_that_was_started() {
        let explicit = ServerChoice::Explicit("\"$HOME\"/.local/bin/rmosh server".into());
        assert_eq!(
            forwarder_command(&explicit, 60001),
            "\"$HOME\"/.local/bin/rmosh forward 60001"
        );
        let stock = ServerChoice::Explicit("mosh-server".into());
        let cmd = forwarder_command(&stock, 60002);
        assert!(cmd.contains("exec rmosh forward 60002"), "{cmd}");
        assert!(cmd.contains("not installed on the host"), "{cmd}");
    }

    #[test]
    fn password_needs_are_explained() {
        assert!(relogin_error("Permission denied (publickey,password)").contains("ssh-agent"));
        assert!(!relogin_error("connection refused").contains("ssh-agent"));
    }
}
