//! Command-line arguments of `rmosh-relay`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use super::config::{LinkConfig, Outage, parse_kbps, parse_millis, parse_percent};

/// A rate in kbit/s as bit/s, 0 meaning unlimited (clap gives `Option<Option<_>>`
/// a meaning of its own, so the "unlimited" case is a zero here).
fn parse_bps(text: &str) -> Result<u64, String> {
    parse_kbps(text).map(|r| r.unwrap_or(0))
}

/// A UDP relay that impairs the path between a Mosh client and server:
/// delay, jitter, loss, duplication, reordering, a bandwidth cap, outages
/// and client address changes, all seeded and scriptable.
///
/// Each impairment applies to both directions; `--up-*` (client → server)
/// and `--down-*` (server → client) override it for one direction.
/// The first line on stdout is the bound port. Commands are read from stdin
/// (see docs/relay.md), one reply line each on stdout.
#[derive(Debug, Clone, Parser)]
#[command(name = "rmosh-relay", version, about)]
pub struct RelayArgs {
    /// Address the client sends to (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The server's address.
    #[arg(long, value_name = "ADDR")]
    pub server: SocketAddr,
    /// Local IP for the sockets toward the server (default: any).
    #[arg(long, value_name = "IP")]
    pub bind: Option<std::net::IpAddr>,
    /// Seed of every random decision.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// Switch to a new source socket toward the server every MS ms
    /// (a client address change as the server sees it).
    #[arg(long, value_name = "MS", value_parser = parse_millis)]
    pub rebind_every: Option<Duration>,

    /// One-way delay in ms.
    #[arg(long, value_name = "MS", value_parser = parse_millis)]
    pub delay: Option<Duration>,
    /// Delay varies uniformly within ±MS.
    #[arg(long, value_name = "MS", value_parser = parse_millis)]
    pub jitter: Option<Duration>,
    /// Loss in percent.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub loss: Option<f64>,
    /// Duplication in percent.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub dup: Option<f64>,
    /// Percent of datagrams held back by the reorder gap.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub reorder: Option<f64>,
    /// Extra delay of a reordered datagram, in ms [default: 20].
    #[arg(long, value_name = "MS", value_parser = parse_millis)]
    pub reorder_gap: Option<Duration>,
    /// Bandwidth cap in kbit/s (0 = unlimited).
    #[arg(long, value_name = "KBPS", value_parser = parse_bps)]
    pub rate: Option<u64>,
    /// Longest queueing delay under the cap before tail drop, in ms [default: 1000].
    #[arg(long, value_name = "MS", value_parser = parse_millis)]
    pub queue: Option<Duration>,
    /// Drop everything from START_MS (after start-up) for DUR_MS; repeatable.
    #[arg(long, value_name = "START_MS:DUR_MS", value_parser = Outage::parse)]
    pub outage: Vec<Outage>,

    /// Client → server one-way delay.
    #[arg(long, value_name = "MS", value_parser = parse_millis, help_heading = "Client to server")]
    pub up_delay: Option<Duration>,
    /// Client → server jitter.
    #[arg(long, value_name = "MS", value_parser = parse_millis, help_heading = "Client to server")]
    pub up_jitter: Option<Duration>,
    /// Client → server loss.
    #[arg(long, value_name = "PCT", value_parser = parse_percent, help_heading = "Client to server")]
    pub up_loss: Option<f64>,
    /// Client → server duplication.
    #[arg(long, value_name = "PCT", value_parser = parse_percent, help_heading = "Client to server")]
    pub up_dup: Option<f64>,
    /// Client → server reordering.
    #[arg(long, value_name = "PCT", value_parser = parse_percent, help_heading = "Client to server")]
    pub up_reorder: Option<f64>,
    /// Client → server bandwidth cap.
    #[arg(long, value_name = "KBPS", value_parser = parse_bps, help_heading = "Client to server")]
    pub up_rate: Option<u64>,
    /// Client → server outage; repeatable.
    #[arg(long, value_name = "START_MS:DUR_MS", value_parser = Outage::parse, help_heading = "Client to server")]
    pub up_outage: Vec<Outage>,

    /// Server → client one-way delay.
    #[arg(long, value_name = "MS", value_parser = parse_millis, help_heading = "Server to client")]
    pub down_delay: Option<Duration>,
    /// Server → client jitter.
    #[arg(long, value_name = "MS", value_parser = parse_millis, help_heading = "Server to client")]
    pub down_jitter: Option<Duration>,
    /// Server → client loss.
    #[arg(long, value_name = "PCT", value_parser = parse_percent, help_heading = "Server to client")]
    pub down_loss: Option<f64>,
    /// Server → client duplication.
    #[arg(long, value_name = "PCT", value_parser = parse_percent, help_heading = "Server to client")]
    pub down_dup: Option<f64>,
    /// Server → client reordering.
    #[arg(long, value_name = "PCT", value_parser = parse_percent, help_heading = "Server to client")]
    pub down_reorder: Option<f64>,
    /// Server → client bandwidth cap.
    #[arg(long, value_name = "KBPS", value_parser = parse_bps, help_heading = "Server to client")]
    pub down_rate: Option<u64>,
    /// Server → client outage; repeatable.
    #[arg(long, value_name = "START_MS:DUR_MS", value_parser = Outage::parse, help_heading = "Server to client")]
    pub down_outage: Vec<Outage>,
}

/// One direction's overrides, borrowed from [`RelayArgs`].
struct Overrides<'a> {
    delay: Option<Duration>,
    jitter: Option<Duration>,
    loss: Option<f64>,
    dup: Option<f64>,
    reorder: Option<f64>,
    rate: Option<u64>,
    outage: &'a [Outage],
}

impl RelayArgs {
    /// The client → server and server → client link settings.
    pub fn link_configs(&self) -> (LinkConfig, LinkConfig) {
        let up = Overrides {
            delay: self.up_delay,
            jitter: self.up_jitter,
            loss: self.up_loss,
            dup: self.up_dup,
            reorder: self.up_reorder,
            rate: self.up_rate,
            outage: &self.up_outage,
        };
        let down = Overrides {
            delay: self.down_delay,
            jitter: self.down_jitter,
            loss: self.down_loss,
            dup: self.down_dup,
            reorder: self.down_reorder,
            rate: self.down_rate,
            outage: &self.down_outage,
        };
        (self.link(&up), self.link(&down))
    }

    fn link(&self, o: &Overrides<'_>) -> LinkConfig {
        let d = LinkConfig::default();
        let mut outages = self.outage.clone();
        outages.extend_from_slice(o.outage);
        LinkConfig {
            delay: o.delay.or(self.delay).unwrap_or(d.delay),
            jitter: o.jitter.or(self.jitter).unwrap_or(d.jitter),
            loss: o.loss.or(self.loss).unwrap_or(d.loss),
            duplicate: o.dup.or(self.dup).unwrap_or(d.duplicate),
            reorder: o.reorder.or(self.reorder).unwrap_or(d.reorder),
            reorder_gap: self.reorder_gap.unwrap_or(d.reorder_gap),
            rate_bps: match o.rate.or(self.rate) {
                Some(0) => None,
                Some(bps) => Some(bps),
                None => d.rate_bps,
            },
            queue_limit: self.queue.unwrap_or(d.queue_limit),
            outages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(extra: &[&str]) -> Result<RelayArgs, clap::Error> {
        let mut v = vec![
            "rmosh-relay",
            "--listen",
            "127.0.0.1:0",
            "--server",
            "127.0.0.1:60001",
        ];
        v.extend_from_slice(extra);
        RelayArgs::try_parse_from(v)
    }

    #[test]
    fn clap_definition_is_consistent() {
        RelayArgs::command().debug_assert();
    }

    #[test]
    fn common_values_apply_both_ways_and_direction_overrides_win() {
        let a = parse(&[
            "--delay",
            "50",
            "--loss",
            "5",
            "--up-loss",
            "20",
            "--down-delay",
            "125",
            "--outage",
            "1000:500",
            "--down-outage",
            "3000:10",
            "--rate",
            "64",
            "--seed",
            "7",
        ])
        .unwrap();
        let (up, down) = a.link_configs();
        assert_eq!(up.delay, Duration::from_millis(50));
        assert_eq!(down.delay, Duration::from_millis(125));
        assert_eq!(up.loss, 0.2);
        assert_eq!(down.loss, 0.05);
        assert_eq!(up.rate_bps, Some(64_000));
        assert_eq!(up.outages.len(), 1);
        assert_eq!(down.outages.len(), 2);
        assert_eq!(a.seed, 7);
    }

    #[test]
    fn defaults_are_a_perfect_link_and_bad_values_are_rejected() {
        let (up, down) = parse(&[]).unwrap().link_configs();
        assert_eq!(up, LinkConfig::default());
        assert_eq!(down, LinkConfig::default());
        assert!(parse(&["--loss", "150"]).is_err());
        assert!(parse(&["--outage", "12"]).is_err());
        assert!(
            RelayArgs::try_parse_from(["rmosh-relay", "--listen", "x", "--server", "y"]).is_err()
        );
    }
}
