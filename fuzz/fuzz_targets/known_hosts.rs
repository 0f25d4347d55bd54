//! known_hosts parsing on untrusted text: parsing and lookups never panic,
//! and a line written by `format_entry` (plain or hashed) for a name taken
//! from the input is found again as `Known`.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rmosh::bootstrap::known_hosts::{
    Verdict, check, format_entry, host_key_name, known_algorithms, parse,
};
use russh::keys::PublicKey;

/// A fixed host key to look up.
fn key() -> &'static PublicKey {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    KEY.get_or_init(|| {
        PublicKey::from_openssh(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC+U+viOCWmlLKjzhIDNhDCOa0/lSXYJeFa3U2k3vSck",
        )
        .expect("the fixed key parses")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = Path::new("/fuzz/known_hosts");
    let entries = parse(&text, file);
    let host: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .take(64)
        .collect();
    let port = data.first().map_or(22, |&b| u16::from(b) + 1);
    let name = host_key_name(&host, port);
    let _ = check(&entries, &name, key());
    let _ = known_algorithms(&entries, &name);
    if host.is_empty() {
        return;
    }
    for salt in [None, Some(data.get(..20).unwrap_or(data))] {
        let line = format_entry(&name, key(), salt);
        let written = parse(&line, file);
        assert!(
            matches!(check(&written, &name, key()), Verdict::Known(_)),
            "{line:?} does not match {name:?}"
        );
    }
});
