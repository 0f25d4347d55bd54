//! A GNU `getopt(3)` work-alike (short options, argument permutation), so
//! `mosh-server new …` accepts exactly what Mosh's option scan accepts.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// One result of the option scan, in the order getopt would return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A known option and, if it takes one, its argument.
    Opt(u8, Option<OsString>),
    /// An unknown option or a missing argument; the text is getopt's message
    /// (without the trailing newline).
    Error(String),
    /// A word that is not an option (GNU getopt moves these to the end).
    Operand(OsString),
}

/// Scans `args` (the words after `prog`) against a getopt spec such as `"@:i:p:"`.
///
/// Like glibc without `POSIXLY_CORRECT`, operands may be mixed with options;
/// `--` ends the scan and everything after it is an operand.
pub fn getopt(prog: &str, args: &[OsString], spec: &str) -> Vec<Item> {
    let spec = spec.as_bytes();
    let takes_arg = |c: u8| -> Option<bool> {
        if c == b':' {
            return None;
        }
        let pos = spec.iter().position(|&s| s == c)?;
        Some(spec.get(pos + 1) == Some(&b':'))
    };
    let mut items = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    while let Some(word) = args.get(i) {
        i += 1;
        let bytes = word.as_bytes();
        if bytes == b"--" {
            operands.extend(args.iter().skip(i).cloned());
            break;
        }
        if bytes.len() < 2 || bytes.first() != Some(&b'-') {
            operands.push(word.clone());
            continue;
        }
        let mut j = 1;
        while let Some(&c) = bytes.get(j) {
            j += 1;
            match takes_arg(c) {
                None => items.push(Item::Error(format!(
                    "{prog}: invalid option -- '{}'",
                    String::from_utf8_lossy(&[c])
                ))),
                Some(false) => items.push(Item::Opt(c, None)),
                Some(true) => {
                    let rest = bytes.get(j..).unwrap_or_default();
                    if !rest.is_empty() {
                        items.push(Item::Opt(c, Some(OsStr::from_bytes(rest).to_owned())));
                    } else if let Some(next) = args.get(i) {
                        i += 1;
                        items.push(Item::Opt(c, Some(next.clone())));
                    } else {
                        items.push(Item::Error(format!(
                            "{prog}: option requires an argument -- '{}'",
                            String::from_utf8_lossy(&[c])
                        )));
                    }
                    break;
                }
            }
        }
    }
    items.extend(operands.into_iter().map(Item::Operand));
    items
}

/// Convenience for tests: builds an argument vector from string slices.
pub fn os_args(words: &[&str]) -> Vec<OsString> {
    words
        .iter()
        .map(|w| OsString::from_vec(w.as_bytes().to_vec()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "@:i:p:c:svl:";

    fn opt(c: u8, a: Option<&str>) -> Item {
        Item::Opt(c, a.map(OsString::from))
    }

    #[test]
    fn clustered_and_attached_arguments() {
        let items = getopt("new", &os_args(&["-vvp60050", "-s", "-c", "256"]), SPEC);
        assert_eq!(
            items,
            vec![
                opt(b'v', None),
                opt(b'v', None),
                opt(b'p', Some("60050")),
                opt(b's', None),
                opt(b'c', Some("256")),
            ]
        );
    }

    #[test]
    fn argument_may_start_with_a_dash() {
        let items = getopt("new", &os_args(&["-@", "-v", "-l", "LANG=C.UTF-8"]), SPEC);
        assert_eq!(
            items,
            vec![opt(b'@', Some("-v")), opt(b'l', Some("LANG=C.UTF-8"))]
        );
    }

    #[test]
    fn operands_are_permuted_past_options() {
        let items = getopt("new", &os_args(&["x", "-p", "1", "-", "y"]), SPEC);
        assert_eq!(
            items,
            vec![
                opt(b'p', Some("1")),
                Item::Operand("x".into()),
                Item::Operand("-".into()),
                Item::Operand("y".into()),
            ]
        );
    }

    #[test]
    fn errors_read_like_glibc() {
        let items = getopt("new", &os_args(&["--foo", "-p"]), SPEC);
        assert_eq!(
            items,
            vec![
                Item::Error("new: invalid option -- '-'".into()),
                Item::Error("new: invalid option -- 'f'".into()),
                Item::Error("new: invalid option -- 'o'".into()),
                Item::Error("new: invalid option -- 'o'".into()),
                Item::Error("new: option requires an argument -- 'p'".into()),
            ]
        );
        assert_eq!(
            getopt("new", &os_args(&["-:"]), SPEC),
            vec![Item::Error("new: invalid option -- ':'".into())]
        );
    }

    #[test]
    fn double_dash_ends_options() {
        let items = getopt("new", &os_args(&["-s", "--", "-v"]), SPEC);
        assert_eq!(items, vec![opt(b's', None), Item::Operand("-v".into())]);
    }
}
