//! Run-time commands read one per line (from the relay's stdin), so a test
//! can script the network while a session runs.
//!
//! ```text
//! outage MS            drop everything both ways for MS from now
//! loss PCT             set a parameter both ways; prefix with up- or down-
//! dup PCT | reorder PCT | delay MS | jitter MS | rate KBPS (0 = unlimited)
//! rebind               move to a new source socket toward the server
//! stats                print the counters
//! quit                 print the counters and exit
//! ```

use std::time::Duration;

use super::config::{Direction, LinkConfig, parse_kbps, parse_millis, parse_percent};
use super::impairer::Impairer;

/// A link parameter a command can set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param {
    /// One-way delay.
    Delay(Duration),
    /// Jitter amplitude.
    Jitter(Duration),
    /// Loss probability.
    Loss(f64),
    /// Duplication probability.
    Duplicate(f64),
    /// Reordering probability.
    Reorder(f64),
    /// Bandwidth cap in bit/s (`None` = unlimited).
    Rate(Option<u64>),
}

impl Param {
    /// Applies the parameter to a link configuration.
    pub fn apply(self, c: &mut LinkConfig) {
        match self {
            Param::Delay(d) => c.delay = d,
            Param::Jitter(d) => c.jitter = d,
            Param::Loss(p) => c.loss = p,
            Param::Duplicate(p) => c.duplicate = p,
            Param::Reorder(p) => c.reorder = p,
            Param::Rate(r) => c.rate_bps = r,
        }
    }
}

/// One parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Change a parameter of the listed directions.
    Set(Vec<Direction>, Param),
    /// Start an outage of the listed directions now.
    Outage(Vec<Direction>, Duration),
    /// Switch to a new source socket toward the server.
    Rebind,
    /// Print the counters.
    Stats,
    /// Print the counters and exit.
    Quit,
}

impl Command {
    /// Parses one line; blank lines and `#` comments give `Ok(None)`.
    pub fn parse(line: &str) -> Result<Option<Command>, String> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        let mut words = line.split_whitespace();
        let word = words.next().unwrap_or_default();
        let arg = words.next();
        if let Some(extra) = words.next() {
            return Err(format!("{line:?}: unexpected {extra:?}"));
        }
        let (dirs, name) = if let Some(n) = word.strip_prefix("up-") {
            (vec![Direction::Up], n)
        } else if let Some(n) = word.strip_prefix("down-") {
            (vec![Direction::Down], n)
        } else {
            (Direction::BOTH.to_vec(), word)
        };
        let need = |what: &str| arg.ok_or_else(|| format!("{name}: missing {what}"));
        let no_arg = |c: Command| match arg {
            None if dirs.len() == 2 => Ok(Some(c)),
            _ => Err(format!("{line:?}: {name} takes no direction or argument")),
        };
        let param = match name {
            "rebind" => return no_arg(Command::Rebind),
            "stats" => return no_arg(Command::Stats),
            "quit" | "exit" => return no_arg(Command::Quit),
            "outage" => {
                return Ok(Some(Command::Outage(dirs, parse_millis(need("MS")?)?)));
            }
            "delay" => Param::Delay(parse_millis(need("MS")?)?),
            "jitter" => Param::Jitter(parse_millis(need("MS")?)?),
            "loss" => Param::Loss(parse_percent(need("PCT")?)?),
            "dup" => Param::Duplicate(parse_percent(need("PCT")?)?),
            "reorder" => Param::Reorder(parse_percent(need("PCT")?)?),
            "rate" => Param::Rate(parse_kbps(need("KBPS")?)?),
            _ => return Err(format!("unknown command {word:?}")),
        };
        Ok(Some(Command::Set(dirs, param)))
    }
}

/// Applies a `Set` or `Outage` command to the network; the commands that
/// are the driver's business (rebind, stats, quit) are handed back.
pub fn apply<T: Clone>(net: &mut Impairer<T>, cmd: Command, now: Duration) -> Option<Command> {
    match cmd {
        Command::Set(dirs, param) => {
            for d in dirs {
                param.apply(net.link_mut(d).config_mut());
            }
            None
        }
        Command::Outage(dirs, dur) => {
            for d in dirs {
                net.link_mut(d).add_outage(now, dur);
            }
            None
        }
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn parses_every_command_with_and_without_direction() {
        let both = Direction::BOTH.to_vec();
        let up = vec![Direction::Up];
        let down = vec![Direction::Down];
        let cases = [
            ("loss 20", Command::Set(both.clone(), Param::Loss(0.2))),
            ("up-loss 5%", Command::Set(up.clone(), Param::Loss(0.05))),
            (
                "down-delay 125",
                Command::Set(down.clone(), Param::Delay(ms(125))),
            ),
            ("jitter 7", Command::Set(both.clone(), Param::Jitter(ms(7)))),
            ("dup 1", Command::Set(both.clone(), Param::Duplicate(0.01))),
            (
                "reorder 50",
                Command::Set(both.clone(), Param::Reorder(0.5)),
            ),
            ("rate 0", Command::Set(both.clone(), Param::Rate(None))),
            (
                "up-rate 64",
                Command::Set(up.clone(), Param::Rate(Some(64_000))),
            ),
            ("outage 5000", Command::Outage(both.clone(), ms(5000))),
            ("down-outage 10", Command::Outage(down, ms(10))),
            ("  rebind  ", Command::Rebind),
            ("stats", Command::Stats),
            ("quit", Command::Quit),
        ];
        for (text, want) in cases {
            assert_eq!(Command::parse(text), Ok(Some(want)), "{text}");
        }
        assert_eq!(Command::parse(""), Ok(None));
        assert_eq!(Command::parse("# note"), Ok(None));
    }

    #[test]
    fn bad_lines_are_errors() {
        for bad in [
            "loss",
            "loss 200",
            "loss 1 2",
            "frobnicate",
            "up-rebind",
            "stats now",
            "delay -3",
            "outage x",
            "sideways-loss 3",
        ] {
            assert!(Command::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn apply_changes_only_the_named_direction() {
        let mut net: Impairer<()> = Impairer::new(LinkConfig::default(), LinkConfig::default(), 1);
        let cmd = Command::parse("up-loss 30").unwrap().unwrap();
        assert_eq!(apply(&mut net, cmd, ms(0)), None);
        assert_eq!(net.link(Direction::Up).config().loss, 0.3);
        assert_eq!(net.link(Direction::Down).config().loss, 0.0);
        let cmd = Command::parse("outage 100").unwrap().unwrap();
        assert_eq!(apply(&mut net, cmd, ms(1000)), None);
        assert!(net.link(Direction::Up).in_outage(ms(1050)));
        assert!(net.link(Direction::Down).in_outage(ms(1099)));
        assert!(!net.link(Direction::Down).in_outage(ms(1100)));
        assert_eq!(
            apply(&mut net, Command::Rebind, ms(0)),
            Some(Command::Rebind)
        );
    }
}
