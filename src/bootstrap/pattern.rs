//! OpenSSH-style wildcard patterns (`*`, `?`) and pattern lists with `!` negation.

/// Whether `text` matches the wildcard `pattern` (`*` = any run, `?` = one character).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point: linear enough for host names.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// Matches a host name against a list of patterns the way OpenSSH does:
/// case-insensitive, a matching negated pattern (`!pat`) vetoes the whole list,
/// otherwise at least one positive pattern must match.
pub fn match_host_list<'a>(host: &str, patterns: impl IntoIterator<Item = &'a str>) -> bool {
    let host = host.to_ascii_lowercase();
    let mut positive = false;
    for pat in patterns {
        let pat = pat.to_ascii_lowercase();
        if let Some(neg) = pat.strip_prefix('!') {
            if wildcard_match(neg, &host) {
                return false;
            }
        } else if wildcard_match(&pat, &host) {
            positive = true;
        }
    }
    positive
}

/// Like [`match_host_list`] but case-sensitive (used for user names).
pub fn match_list<'a>(text: &str, patterns: impl IntoIterator<Item = &'a str>) -> bool {
    let mut positive = false;
    for pat in patterns {
        if let Some(neg) = pat.strip_prefix('!') {
            if wildcard_match(neg, text) {
                return false;
            }
        } else if wildcard_match(pat, text) {
            positive = true;
        }
    }
    positive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("*.example.com", "a.example.com"));
        assert!(!wildcard_match("*.example.com", "example.com"));
        assert!(wildcard_match("host?", "host1"));
        assert!(!wildcard_match("host?", "host12"));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
        assert!(wildcard_match("192.168.?.*", "192.168.1.20"));
        assert!(!wildcard_match("", "x"));
        assert!(wildcard_match("", ""));
    }

    #[test]
    fn lists_with_negation() {
        assert!(match_host_list("Web1", ["web*"]));
        assert!(!match_host_list("web1", ["web*", "!web1"]));
        assert!(!match_host_list("web1", ["!web1", "web*"]));
        assert!(match_host_list("web2", ["web*", "!web1"]));
        // A list of only negations never matches.
        assert!(!match_host_list("db", ["!web1"]));
        assert!(match_list("root", ["r*t"]));
        assert!(!match_list("Root", ["r*t"]));
    }
}
