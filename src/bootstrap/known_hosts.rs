//! OpenSSH `known_hosts` files: parsing, lookup (plain, hashed, `[host]:port`,
//! patterns with negation, `@revoked`), and writing new entries.
//!
//! Parsing and lookup are pure; the only IO here is reading and appending files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{Algorithm, HashAlg, PublicKey};

use super::pattern::match_host_list;

/// Where an entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The host field of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hosts {
    /// `|1|salt|hash`: HMAC-SHA1 of the host name keyed with the salt.
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
    /// Comma-separated patterns, possibly negated.
    Patterns(Vec<String>),
}

/// The marker in front of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

/// One usable line of a known_hosts file.
#[derive(Debug, Clone)]
pub struct Entry {
    marker: Marker,
    hosts: Hosts,
    key: PublicKey,
    /// Where it is.
    pub location: Location,
}

/// The result of looking a host key up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The key is known for this host.
    Known(Location),
    /// The key was revoked (`@revoked`).
    Revoked(Location),
    /// A different key of the same type is recorded for this host.
    Changed(Location),
    /// Nothing is recorded for this key type; `other_types` lists the types that are.
    Unknown {
        /// Key types known for the host under other algorithms.
        other_types: Vec<String>,
    },
}

/// The name a host is recorded under: `host` for port 22, else `[host]:port`.
pub fn host_key_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// HMAC-SHA1 of `name` keyed with `salt`, as used by hashed entries.
pub fn hash_host(salt: &[u8], name: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an
    // empty hash (which never matches) rather than panicking.
    match Hmac::<sha1::Sha1>::new_from_slice(salt) {
        Ok(mut mac) => {
            mac.update(name.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn parse_hosts(field: &str) -> Option<Hosts> {
    if let Some(rest) = field.strip_prefix("|1|") {
        let (salt, hash) = rest.split_once('|')?;
        let salt = B64.decode(salt).ok()?;
        let hash = B64.decode(hash).ok()?;
        if hash.len() != 20 {
            return None;
        }
        return Some(Hosts::Hashed { salt, hash });
    }
    if field.starts_with('|') {
        return None;
    }
    Some(Hosts::Patterns(
        field.split(',').map(str::to_string).collect(),
    ))
}

/// Parses a known_hosts file; malformed lines are skipped (as OpenSSH does).
pub fn parse(text: &str, file: &Path) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let Some(mut first) = fields.next() else {
            continue;
        };
        let marker = match first {
            "@revoked" => Marker::Revoked,
            "@cert-authority" => Marker::CertAuthority,
            m if m.starts_with('@') => continue,
            _ => Marker::None,
        };
        if marker != Marker::None {
            match fields.next() {
                Some(f) => first = f,
                None => continue,
            }
        }
        let Some(hosts) = parse_hosts(first) else {
            continue;
        };
        let (Some(kind), Some(data)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(key) = PublicKey::from_openssh(&format!("{kind} {data}")) else {
            continue;
        };
        out.push(Entry {
            marker,
            hosts,
            key,
            location: Location {
                file: file.to_path_buf(),
                line: i + 1,
            },
        });
    }
    out
}

impl Entry {
    /// Whether this entry applies to `name` (already in `[host]:port` form).
    fn matches(&self, name: &str) -> bool {
        match &self.hosts {
            Hosts::Hashed { salt, hash } => hash_host(salt, name) == *hash,
            Hosts::Patterns(p) => match_host_list(name, p.iter().map(String::as_str)),
        }
    }
}

fn same_key(a: &PublicKey, b: &PublicKey) -> bool {
    a.key_data() == b.key_data()
}

/// A short upper-case name for a key type, as OpenSSH prints it (`ED25519`, `RSA`, …).
pub fn key_type_name(key: &PublicKey) -> String {
    match key.algorithm() {
        Algorithm::Ed25519 => "ED25519".into(),
        Algorithm::Ecdsa { .. } => "ECDSA".into(),
        Algorithm::Rsa { .. } => "RSA".into(),
        Algorithm::Dsa => "DSA".into(),
        other => other.as_str().to_ascii_uppercase(),
    }
}

/// The `SHA256:…` fingerprint of a key.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Looks `key` up for `name` (in `[host]:port` form) across all entries.
pub fn check(entries: &[Entry], name: &str, key: &PublicKey) -> Verdict {
    let applicable: Vec<&Entry> = entries.iter().filter(|e| e.matches(name)).collect();
    if let Some(e) = applicable
        .iter()
        .find(|e| e.marker == Marker::Revoked && same_key(&e.key, key))
    {
        return Verdict::Revoked(e.location.clone());
    }
    let plain = applicable.iter().filter(|e| e.marker == Marker::None);
    if let Some(e) = plain.clone().find(|e| same_key(&e.key, key)) {
        return Verdict::Known(e.location.clone());
    }
    let algo = key.algorithm();
    if let Some(e) = plain.clone().find(|e| e.key.algorithm() == algo) {
        return Verdict::Changed(e.location.clone());
    }
    let mut other_types: Vec<String> = plain.map(|e| e.key.algorithm().to_string()).collect();
    other_types.dedup();
    Verdict::Unknown { other_types }
}

/// The algorithms recorded for `name`, so key exchange can prefer them (as ssh does).
pub fn known_algorithms(entries: &[Entry], name: &str) -> Vec<Algorithm> {
    let mut out: Vec<Algorithm> = Vec::new();
    for e in entries {
        if e.marker == Marker::None && e.matches(name) && !out.contains(&e.key.algorithm()) {
            out.push(e.key.algorithm());
        }
    }
    out
}

/// Formats a new line for `name`; hashed with `salt` when given.
pub fn format_entry(name: &str, key: &PublicKey, salt: Option<&[u8]>) -> String {
    let mut line = String::new();
    match salt {
        Some(salt) => {
            let _ = write!(
                line,
                "|1|{}|{}",
                B64.encode(salt),
                B64.encode(hash_host(salt, name))
            );
        }
        None => line.push_str(name),
    }
    let key_text = key
        .to_openssh()
        .unwrap_or_else(|_| format!("{} ?", key.algorithm()));
    // to_openssh includes the comment if any; keep only type and data.
    let mut parts = key_text.split_whitespace();
    let kind = parts.next().unwrap_or_default();
    let data = parts.next().unwrap_or_default();
    let _ = write!(line, " {kind} {data}");
    line
}

/// Reads and parses every file that exists; unreadable files count as empty.
pub fn load_files(files: &[PathBuf]) -> Vec<Entry> {
    let mut out = Vec::new();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(f) {
            out.extend(parse(&text, f));
        }
    }
    out
}

/// Appends a line to `file`, creating it (and its directory, mode 0700) if needed.
pub fn append_entry(file: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = file.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::create_dir_all(dir)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let needs_newline = std::fs::read(file)
        .map(|b| b.last().is_some_and(|&c| c != b'\n'))
        .unwrap_or(false);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    let mut text = String::new();
    if needs_newline {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED1: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAPKwSt6XnvAQvV6l31RCa2elJF2F25E96mJBtLzPqyZ";
    const ED2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP+l232vycVJZrncxb7kyg/3eQjj7v5+cZQoDWwPlqBm";
    const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCb+us5ZrNxj1AwLbDCLhp8YEcyrGp67zg8HpZLlwCThnZiLdCM38Geouej3Yea2a2423GrUEZmTy1w6bBRebV0=";

    fn key(s: &str) -> PublicKey {
        PublicKey::from_openssh(s).unwrap()
    }

    fn entries(text: &str) -> Vec<Entry> {
        parse(text, Path::new("/kh"))
    }

    #[test]
    fn names_with_ports() {
        assert_eq!(host_key_name("h", 22), "h");
        assert_eq!(host_key_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
    }

    #[test]
    fn plain_patterns_and_negation() {
        let e = entries(&format!(
            "# c\n\nweb*,!web9 {ED1}\n[127.0.0.1]:2222 {ED2}\ngarbage line\n"
        ));
        assert_eq!(e.len(), 2);
        assert_eq!(
            check(&e, "web1", &key(ED1)),
            Verdict::Known(Location {
                file: "/kh".into(),
                line: 3
            })
        );
        assert_eq!(
            check(&e, "web9", &key(ED1)),
            Verdict::Unknown {
                other_types: vec![]
            }
        );
        assert_eq!(
            check(&e, "[127.0.0.1]:2222", &key(ED2)),
            Verdict::Known(Location {
                file: "/kh".into(),
                line: 4
            })
        );
        // Same host, port 22, is a different name.
        assert!(matches!(
            check(&e, "127.0.0.1", &key(ED2)),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn changed_key_names_the_line() {
        let e = entries(&format!("other {ED2}\nhost {ED2}\n"));
        assert_eq!(
            check(&e, "host", &key(ED1)),
            Verdict::Changed(Location {
                file: "/kh".into(),
                line: 2
            })
        );
    }

    #[test]
    fn other_key_types_are_unknown_not_changed() {
        let e = entries(&format!("host {ECDSA}\n"));
        match check(&e, "host", &key(ED1)) {
            Verdict::Unknown { other_types } => {
                assert_eq!(other_types, vec!["ecdsa-sha2-nistp256".to_string()])
            }
            v => panic!("{v:?}"),
        }
        assert_eq!(known_algorithms(&e, "host").len(), 1);
        assert!(known_algorithms(&e, "x").is_empty());
    }

    #[test]
    fn hashed_entries_round_trip() {
        let salt = [7u8; 20];
        let line = format_entry("[h]:2200", &key(ED1), Some(&salt));
        assert!(line.starts_with("|1|"), "{line}");
        let e = entries(&line);
        assert!(matches!(
            check(&e, "[h]:2200", &key(ED1)),
            Verdict::Known(_)
        ));
        assert!(matches!(check(&e, "h", &key(ED1)), Verdict::Unknown { .. }));
        assert!(matches!(
            check(&e, "[h]:2200", &key(ED2)),
            Verdict::Changed(_)
        ));
    }

    #[test]
    fn hashed_entry_from_ssh_keygen() {
        // `ssh-keygen -H` output for host "localhost".
        let line = format!("|1|UFtid23dclBeFHgivdhej54ju6M=|pqL2xE9ed1QJYs1wS2H32Ad4Ypg= {ED1}");
        assert!(matches!(
            check(&entries(&line), "localhost", &key(ED1)),
            Verdict::Known(_)
        ));
        assert!(matches!(
            check(&entries(&line), "localhost2", &key(ED1)),
            Verdict::Unknown { .. }
        ));
        // A known HMAC-SHA1 vector (RFC 2202 test case 2).
        let mac = hash_host(b"Jefe", "what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn markers() {
        let e = entries(&format!(
            "@revoked * {ED1}\n@cert-authority *.example {ED2}\nhost {ED1}\n@unknown x {ED1}\n"
        ));
        assert_eq!(
            check(&e, "host", &key(ED1)),
            Verdict::Revoked(Location {
                file: "/kh".into(),
                line: 1
            })
        );
        // A CA key is not a host key: it neither confirms nor conflicts.
        assert!(matches!(
            check(&e, "a.example", &key(ED2)),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn plain_format_and_append() {
        let line = format_entry("h", &key(&format!("{ED1} comment")), None);
        assert_eq!(line, format!("h {ED1}"));
        let dir = std::env::temp_dir().join(format!("rmosh-kh-{}", std::process::id()));
        let file = dir.join("sub/known_hosts");
        append_entry(&file, "a x").unwrap();
        std::fs::write(&file, "a x").unwrap();
        append_entry(&file, &line).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text, format!("a x\n{line}\n"));
        assert!(matches!(
            check(&load_files(&[file]), "h", &key(ED1)),
            Verdict::Known(_)
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn fingerprints_look_like_openssh() {
        let f = fingerprint(&key(ED1));
        assert!(f.starts_with("SHA256:"), "{f}");
        assert_eq!(key_type_name(&key(ED1)), "ED25519");
        assert_eq!(key_type_name(&key(ECDSA)), "ECDSA");
    }
}
