//! The relay's stdin command language and its option values: every line is
//! parsed as a command, an outage window, a percentage, milliseconds and a
//! rate; parsed settings are applied to a link. Nothing may panic.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rmosh::relay::command::Command;
use rmosh::relay::config::{LinkConfig, Outage, parse_kbps, parse_millis, parse_percent};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut link = LinkConfig::default();
    for line in text.lines().take(256) {
        if let Ok(Some(Command::Set(_, param))) = Command::parse(line) {
            param.apply(&mut link);
        }
        if let Ok(outage) = Outage::parse(line) {
            let _ = outage.covers(Duration::MAX);
            let _ = outage.covers(outage.start);
        }
        if let Ok(p) = parse_percent(line) {
            assert!((0.0..=1.0).contains(&p), "{line:?} gave {p}");
        }
        let _ = parse_millis(line);
        let _ = parse_kbps(line);
    }
});
