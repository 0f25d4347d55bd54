//! Which path the client's datagrams take (docs/transport-fallback.md): UDP,
//! or the SSH connection through a forwarder on the host. Pure: the driver
//! reports authenticated datagrams and the time; the policy answers where to
//! send, when to probe UDP again, and when it changed its mind.

use std::time::{Duration, Instant};

/// `--transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Transport {
    /// UDP, and the SSH connection when UDP gets no answer.
    #[default]
    Auto,
    /// UDP only (as Mosh).
    Udp,
    /// The SSH connection only.
    Ssh,
}

/// Where datagrams go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Straight to the server's UDP port.
    Udp,
    /// Through the SSH connection and the forwarder.
    Ssh,
}

/// Why the policy moved the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing came back over UDP within the first wait.
    NoUdpAtStart,
    /// UDP went silent mid-session.
    UdpSilent,
    /// A datagram came back over UDP while on the SSH path.
    UdpWorks,
}

/// Floor of the first wait: a server needs a moment to answer even on loopback.
pub const MIN_FIRST_WAIT: Duration = Duration::from_millis(400);
/// Ceiling of the first wait (issue #16: at most 2 s).
pub const MAX_FIRST_WAIT: Duration = Duration::from_secs(2);
/// While on the SSH path, one datagram this often also tries UDP.
pub const PROBE_EVERY: Duration = Duration::from_secs(5);
/// UDP silent this long after it worked: the network changed under us.
pub const UDP_SILENCE: Duration = Duration::from_secs(10);

/// The first wait for a UDP answer: a few round trips of the SSH
/// connection, within [`MIN_FIRST_WAIT`]..=[`MAX_FIRST_WAIT`].
pub fn first_wait(ssh_rtt: Duration) -> Duration {
    (ssh_rtt * 4).clamp(MIN_FIRST_WAIT, MAX_FIRST_WAIT)
}

/// The path choice.
#[derive(Debug, Clone)]
pub struct PathPolicy {
    mode: Transport,
    on: Path,
    start: Instant,
    first_wait: Duration,
    last_udp: Option<Instant>,
    last_probe: Instant,
}

impl PathPolicy {
    /// Starts on UDP (or on SSH for `--transport ssh`).
    pub fn new(mode: Transport, now: Instant, first_wait: Duration) -> PathPolicy {
        PathPolicy {
            mode,
            on: if mode == Transport::Ssh {
                Path::Ssh
            } else {
                Path::Udp
            },
            start: now,
            first_wait,
            last_udp: None,
            last_probe: now,
        }
    }

    /// The path datagrams take now.
    pub fn current(&self) -> Path {
        self.on
    }

    /// Whether the SSH path is needed now or may be soon (open it early).
    pub fn wants_ssh(&self) -> bool {
        self.mode != Transport::Udp
    }

    /// Sets the first wait once the SSH round trip is known.
    pub fn set_first_wait(&mut self, wait: Duration) {
        self.first_wait = wait;
    }

    /// An authenticated datagram from the server arrived over `via`.
    pub fn received(&mut self, now: Instant, via: Path) -> Option<Change> {
        if via != Path::Udp {
            return None;
        }
        self.last_udp = Some(now);
        if self.mode == Transport::Auto && self.on == Path::Ssh {
            self.on = Path::Udp;
            self.last_probe = now;
            return Some(Change::UdpWorks);
        }
        None
    }

    /// Time passed; moves to the SSH path when UDP gets no answer.
    pub fn tick(&mut self, now: Instant) -> Option<Change> {
        if self.mode != Transport::Auto || self.on != Path::Udp {
            return None;
        }
        let change = match self.last_udp {
            None if now >= self.start + self.first_wait => Change::NoUdpAtStart,
            Some(t) if now >= t + UDP_SILENCE => Change::UdpSilent,
            _ => return None,
        };
        self.on = Path::Ssh;
        self.last_probe = now;
        Some(change)
    }

    /// Whether the next datagram should also try UDP (while on the SSH path).
    pub fn take_probe(&mut self, now: Instant) -> bool {
        if self.mode != Transport::Auto || self.on != Path::Ssh {
            return false;
        }
        if now < self.last_probe + PROBE_EVERY {
            return false;
        }
        self.last_probe = now;
        true
    }

    /// When [`PathPolicy::tick`] may next change something.
    pub fn deadline(&self) -> Option<Instant> {
        match (self.mode, self.on, self.last_udp) {
            (Transport::Auto, Path::Udp, None) => Some(self.start + self.first_wait),
            (Transport::Auto, Path::Udp, Some(t)) => Some(t + UDP_SILENCE),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn first_wait_is_a_few_rtts_within_bounds() {
        assert_eq!(first_wait(Duration::ZERO), MIN_FIRST_WAIT);
        assert_eq!(first_wait(200 * MS), 800 * MS);
        assert_eq!(first_wait(Duration::from_secs(3)), MAX_FIRST_WAIT);
    }

    #[test]
    fn auto_moves_to_ssh_when_udp_stays_silent_and_back_when_it_answers() {
        let t0 = Instant::now();
        let mut p = PathPolicy::new(Transport::Auto, t0, 500 * MS);
        assert_eq!(p.current(), Path::Udp);
        assert_eq!(p.deadline(), Some(t0 + 500 * MS));
        assert_eq!(p.tick(t0 + 499 * MS), None);
        // Datagrams over the SSH path do not count as UDP answers.
        assert_eq!(p.received(t0 + 100 * MS, Path::Ssh), None);
        assert_eq!(p.tick(t0 + 500 * MS), Some(Change::NoUdpAtStart));
        assert_eq!(p.current(), Path::Ssh);
        assert_eq!(p.deadline(), None);
        assert!(!p.take_probe(t0 + 501 * MS));
        let probe_at = t0 + 500 * MS + PROBE_EVERY;
        assert!(p.take_probe(probe_at));
        assert!(!p.take_probe(probe_at + MS), "one probe per period");
        assert_eq!(p.received(probe_at, Path::Udp), Some(Change::UdpWorks));
        assert_eq!(p.current(), Path::Udp);
        assert!(!p.take_probe(probe_at + PROBE_EVERY));
    }

    #[test]
    fn auto_stays_on_udp_that_answers_until_it_goes_silent() {
        let t0 = Instant::now();
        let mut p = PathPolicy::new(Transport::Auto, t0, 500 * MS);
        assert_eq!(p.received(t0 + 10 * MS, Path::Udp), None);
        assert_eq!(p.tick(t0 + Duration::from_secs(5)), None);
        assert_eq!(p.deadline(), Some(t0 + 10 * MS + UDP_SILENCE));
        assert_eq!(p.tick(t0 + 10 * MS + UDP_SILENCE), Some(Change::UdpSilent));
        assert_eq!(p.current(), Path::Ssh);
    }

    #[test]
    fn fixed_transports_never_move() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(60);
        let mut udp = PathPolicy::new(Transport::Udp, t0, 500 * MS);
        assert!(!udp.wants_ssh());
        assert_eq!(udp.tick(later), None);
        assert_eq!(udp.current(), Path::Udp);
        let mut ssh = PathPolicy::new(Transport::Ssh, t0, 500 * MS);
        assert!(ssh.wants_ssh());
        assert_eq!(ssh.current(), Path::Ssh);
        assert_eq!(ssh.received(later, Path::Udp), None);
        assert!(!ssh.take_probe(later));
        assert_eq!(ssh.current(), Path::Ssh);
    }
}
