//! A small `log` backend for `rmosh connect -v`: lines on stderr prefixed
//! `debug1:`..`debug3:` as `ssh -v` prints them. rmosh's own debug messages
//! show from `-v`, other crates' (russh) from `-vv`, trace from `-vvv`.

use log::{Level, LevelFilter, Log, Metadata, Record};

struct StderrLog {
    verbosity: u8,
}

/// The `debugN` prefix a message gets at `verbosity`, or None when hidden.
fn prefix(target: &str, level: Level, verbosity: u8) -> Option<&'static str> {
    let ours = target == "rmosh" || target.starts_with("rmosh::");
    let needed = match (ours, level) {
        (true, Level::Error | Level::Warn | Level::Info | Level::Debug) => 1,
        (true, Level::Trace) | (false, Level::Error | Level::Warn | Level::Info) => 2,
        (false, Level::Debug) => 2,
        (false, Level::Trace) => 3,
    };
    if verbosity < needed {
        return None;
    }
    Some(match needed {
        1 => "debug1",
        2 => "debug2",
        _ => "debug3",
    })
}

impl Log for StderrLog {
    fn enabled(&self, m: &Metadata) -> bool {
        prefix(m.target(), m.level(), self.verbosity).is_some()
    }

    fn log(&self, r: &Record) {
        if let Some(p) = prefix(r.target(), r.level(), self.verbosity) {
            // One write per line so lines from two threads never interleave.
            let line = format!("{p}: {}\n", r.args());
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger for `verbosity` (`-v` count); 0 leaves logging off.
pub fn init(verbosity: u8) {
    if verbosity == 0 {
        return;
    }
    let max = if verbosity >= 2 {
        LevelFilter::Trace
    } else {
        LevelFilter::Debug
    };
    if log::set_boxed_logger(Box::new(StderrLog { verbosity })).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_ssh_debug_prefixes() {
        assert_eq!(prefix("rmosh::bootstrap", Level::Debug, 1), Some("debug1"));
        assert_eq!(prefix("russh::client", Level::Debug, 1), None);
        assert_eq!(prefix("russh::client", Level::Debug, 2), Some("debug2"));
        assert_eq!(prefix("rmosh::x", Level::Trace, 2), Some("debug2"));
        assert_eq!(prefix("russh::cipher", Level::Trace, 2), None);
        assert_eq!(prefix("russh::cipher", Level::Trace, 3), Some("debug3"));
        assert_eq!(prefix("rmosh", Level::Debug, 0), None);
    }
}
