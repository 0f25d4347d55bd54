//! When the server stops (§7.5): the 60 s wait for a first client, the
//! network idle timeout, SIGUSR1 with its own timeout, SIGTERM/SIGINT.
//! Pure decisions; the event loop feeds in times and signals.

use std::ffi::OsStr;

use super::cnum::strtol;

/// How long the server waits for its first client.
pub const NO_CLIENT_TIMEOUT_MS: u64 = 60_000;
/// While unconnected or shutting down the loop wakes at least this often.
pub const IDLE_WAKE_MS: u64 = 5_000;

/// Reads a `MOSH_SERVER_*_TMOUT` value in seconds, with Mosh's warnings.
///
/// Returns the number of seconds (0 = disabled) and a warning line, if any.
pub fn parse_timeout_env(name: &str, value: Option<&OsStr>) -> (u64, Option<String>) {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return (0, None);
    };
    let bytes = value.as_encoded_bytes();
    let r = strtol(bytes);
    if r.end != bytes.len() || (r.end == 0 && r.value == 0) {
        // Mosh keeps whatever prefix strtol parsed, but never a negative one.
        let kept = u64::try_from(r.value).unwrap_or(0);
        return (
            kept,
            Some(format!("{name} not a valid integer, ignoring\n")),
        );
    }
    if r.value < 0 {
        return (0, Some(format!("{name} is negative, ignoring\n")));
    }
    (u64::try_from(r.value).unwrap_or(0), None)
}

/// The two idle timeouts, in milliseconds (0 = off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// `MOSH_SERVER_NETWORK_TMOUT`: shut down after this much silence.
    pub network_ms: u64,
    /// `MOSH_SERVER_SIGNAL_TMOUT`: SIGUSR1 only counts after this much silence.
    pub signal_ms: u64,
}

impl Timeouts {
    /// Reads both variables from the environment; warnings go to stderr.
    pub fn from_env() -> Timeouts {
        let read = |name: &str| {
            let (secs, warning) = parse_timeout_env(name, std::env::var_os(name).as_deref());
            if let Some(w) = warning {
                eprint!("{w}");
            }
            secs.saturating_mul(1000)
        };
        Timeouts {
            network_ms: read("MOSH_SERVER_NETWORK_TMOUT"),
            signal_ms: read("MOSH_SERVER_SIGNAL_TMOUT"),
        }
    }
}

/// What happened since the last turn, as the loop saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Turn {
    /// Milliseconds since the newest client state arrived (or since start).
    pub since_remote_state_ms: u64,
    /// True once any client state has arrived.
    pub ever_connected: bool,
    /// SIGTERM or SIGINT arrived.
    pub term_signal: bool,
    /// SIGUSR1 arrived.
    pub usr1_signal: bool,
    /// The transport knows a client address.
    pub has_remote_addr: bool,
    /// A shutdown handshake is already running.
    pub shutting_down: bool,
}

/// The lifecycle decision for one loop turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Keep serving.
    Continue,
    /// Begin the shutdown handshake.
    StartShutdown,
    /// Leave the loop now.
    Exit,
}

/// Decides one turn; `log` receives the lines Mosh prints on stderr.
pub fn decide(t: &Turn, timeouts: &Timeouts, mut log: impl FnMut(String)) -> Decision {
    let secs = t.since_remote_state_ms / 1000;
    let mut idle = false;
    if timeouts.network_ms != 0 && timeouts.network_ms <= t.since_remote_state_ms {
        idle = true;
        log(format!("Network idle for {secs} seconds.\n"));
    }
    let usr1_counts =
        t.usr1_signal && (timeouts.signal_ms == 0 || timeouts.signal_ms <= t.since_remote_state_ms);
    if usr1_counts {
        idle = true;
        log(format!(
            "Network idle for {secs} seconds when SIGUSR1 received\n"
        ));
    }
    if t.term_signal || usr1_counts || idle {
        if t.has_remote_addr && !t.shutting_down {
            return Decision::StartShutdown;
        }
        return Decision::Exit;
    }
    if !t.ever_connected && t.since_remote_state_ms >= NO_CLIENT_TIMEOUT_MS {
        log(format!(
            "No connection within {} seconds.\n",
            NO_CLIENT_TIMEOUT_MS / 1000
        ));
        return Decision::Exit;
    }
    Decision::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(t: Turn, to: Timeouts) -> (Decision, Vec<String>) {
        let mut lines = Vec::new();
        let dec = decide(&t, &to, |l| lines.push(l));
        (dec, lines)
    }

    #[test]
    fn env_parsing_follows_mosh() {
        assert_eq!(parse_timeout_env("X", None), (0, None));
        assert_eq!(parse_timeout_env("X", Some(OsStr::new(""))), (0, None));
        assert_eq!(parse_timeout_env("X", Some(OsStr::new("30"))), (30, None));
        assert_eq!(
            parse_timeout_env("X", Some(OsStr::new("-3"))),
            (0, Some("X is negative, ignoring\n".into()))
        );
        assert_eq!(
            parse_timeout_env("X", Some(OsStr::new("abc"))),
            (0, Some("X not a valid integer, ignoring\n".into()))
        );
        assert_eq!(
            parse_timeout_env("X", Some(OsStr::new("5s"))),
            (5, Some("X not a valid integer, ignoring\n".into()))
        );
    }

    #[test]
    fn no_client_within_60_seconds_exits() {
        let t = Turn {
            since_remote_state_ms: 60_000,
            ..Turn::default()
        };
        assert_eq!(
            d(t, Timeouts::default()),
            (
                Decision::Exit,
                vec!["No connection within 60 seconds.\n".to_string()]
            )
        );
        let t = Turn {
            since_remote_state_ms: 59_999,
            ..Turn::default()
        };
        assert_eq!(d(t, Timeouts::default()).0, Decision::Continue);
        let t = Turn {
            since_remote_state_ms: 120_000,
            ever_connected: true,
            ..Turn::default()
        };
        assert_eq!(d(t, Timeouts::default()).0, Decision::Continue);
    }

    #[test]
    fn network_timeout_shuts_down_or_exits() {
        let to = Timeouts {
            network_ms: 5_000,
            signal_ms: 0,
        };
        let t = Turn {
            since_remote_state_ms: 5_200,
            ever_connected: true,
            has_remote_addr: true,
            ..Turn::default()
        };
        assert_eq!(
            d(t, to),
            (
                Decision::StartShutdown,
                vec!["Network idle for 5 seconds.\n".to_string()]
            )
        );
        let t = Turn {
            has_remote_addr: false,
            ..t
        };
        assert_eq!(d(t, to).0, Decision::Exit);
        let t = Turn {
            since_remote_state_ms: 4_999,
            has_remote_addr: true,
            ..t
        };
        assert_eq!(d(t, to).0, Decision::Continue);
    }

    #[test]
    fn usr1_respects_signal_timeout() {
        let to = Timeouts {
            network_ms: 0,
            signal_ms: 10_000,
        };
        let early = Turn {
            since_remote_state_ms: 3_000,
            ever_connected: true,
            has_remote_addr: true,
            usr1_signal: true,
            ..Turn::default()
        };
        assert_eq!(d(early, to), (Decision::Continue, vec![]));
        let late = Turn {
            since_remote_state_ms: 12_000,
            ..early
        };
        assert_eq!(
            d(late, to),
            (
                Decision::StartShutdown,
                vec!["Network idle for 12 seconds when SIGUSR1 received\n".to_string()]
            )
        );
        // Unset signal timeout: SIGUSR1 always counts.
        assert_eq!(d(early, Timeouts::default()).0, Decision::StartShutdown);
    }

    #[test]
    fn term_signal_during_shutdown_exits_at_once() {
        let t = Turn {
            term_signal: true,
            has_remote_addr: true,
            ever_connected: true,
            ..Turn::default()
        };
        assert_eq!(d(t, Timeouts::default()).0, Decision::StartShutdown);
        let t = Turn {
            shutting_down: true,
            ..t
        };
        assert_eq!(d(t, Timeouts::default()).0, Decision::Exit);
    }
}
