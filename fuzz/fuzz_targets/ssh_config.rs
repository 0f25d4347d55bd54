//! `~/.ssh/config` evaluation on untrusted text: the input is cut into a
//! user file, a system file and a file they may `Include`; resolving a host
//! must not panic, must terminate, and must give the same answer twice.
//! The helpers for `-J` hosts, destinations and `%` tokens get every line.
#![no_main]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use rmosh::bootstrap::pattern::wildcard_match;
use rmosh::bootstrap::ssh_config::{
    ConfigSource, LocalContext, Request, Resolver, expand_percent, parse_jump_host,
    split_destination,
};

/// Files in memory, so the fuzzer never touches the real file system.
struct MapSource(HashMap<PathBuf, String>);

impl ConfigSource for MapSource {
    fn read(&self, path: &Path) -> Option<String> {
        self.0.get(path).cloned()
    }

    fn glob(&self, pattern: &Path) -> Vec<PathBuf> {
        let pattern = pattern.to_string_lossy();
        let mut found: Vec<PathBuf> = self
            .0
            .keys()
            .filter(|p| wildcard_match(&pattern, &p.to_string_lossy()))
            .cloned()
            .collect();
        found.sort();
        found
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{0}');
    let user = parts.next().unwrap_or_default();
    let system = parts.next().unwrap_or_default();
    let included = parts.next().unwrap_or_default();
    let files = HashMap::from([
        (PathBuf::from("/home/u/.ssh/config"), user.to_string()),
        (PathBuf::from("/etc/ssh/ssh_config"), system.to_string()),
        (PathBuf::from("/home/u/.ssh/inc"), included.to_string()),
    ]);
    let source = MapSource(files);
    let local = LocalContext {
        home: PathBuf::from("/home/u"),
        user: "u".into(),
        system_config: PathBuf::from("/etc/ssh/ssh_config"),
    };
    let resolver = Resolver::new(&source, &local);
    for host in ["fuzz.example", "10.0.0.1", "alias"] {
        let req = Request {
            host: host.into(),
            config_file: None,
            options: vec![("Port".into(), "2222".into())],
        };
        let first = resolver.resolve(&req);
        assert_eq!(first, resolver.resolve(&req), "resolving {host} twice");
    }
    for line in text.lines().take(64) {
        let _ = parse_jump_host(line);
        let _ = split_destination(line);
        let _ = expand_percent(line, &[('h', "host"), ('p', "22"), ('r', "user")]);
    }
});
