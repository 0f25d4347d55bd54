//! The few terminfo capabilities the client needs (colors, bce, ech, smcup,
//! rmcup, and the user-defined Smulx and Setulc), read straight from the compiled terminfo database the way
//! ncurses finds it, so no curses library is linked.

use std::path::{Path, PathBuf};

/// Compiled-format magic with 16-bit numbers.
const MAGIC_LEGACY: u16 = 0o432;
/// Compiled-format magic with 32-bit numbers (ncurses 6.1+ extended format).
const MAGIC_32BIT: u16 = 0o1036;

// Indices in the standard (SVr4) capability order.
const BOOL_BCE: usize = 28;
const NUM_COLORS: usize = 13;
const STR_SMCUP: usize = 28;
const STR_ECH: usize = 37;
const STR_RMCUP: usize = 40;

/// The capabilities of one terminal type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermCaps {
    /// `colors`, or -1 when absent (as `tigetnum` reports it).
    pub colors: i32,
    /// `bce`: erasing paints the current background.
    pub bce: bool,
    /// `ech` is present.
    pub ech: bool,
    /// `smcup` (enter the alternate screen), if any.
    pub smcup: Option<Vec<u8>>,
    /// `rmcup` (leave the alternate screen), if any.
    pub rmcup: Option<Vec<u8>>,
    /// `Smulx` (styled underlines, `4:n`) is present.
    pub styled_underline: bool,
    /// `Setulc` (underline colour, SGR 58) is present.
    pub underline_color: bool,
}

/// Why a terminal type could not be looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermInfoError {
    /// No entry of that name in any terminfo directory.
    UnknownTerminal(String),
    /// An entry exists but is not a valid compiled terminfo file.
    Corrupt(PathBuf),
}

impl std::fmt::Display for TermInfoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TermInfoError::UnknownTerminal(_) => write!(f, "Unknown terminal type."),
            TermInfoError::Corrupt(p) => {
                write!(f, "Invalid terminfo entry {}.", p.display())
            }
        }
    }
}

impl std::error::Error for TermInfoError {}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

fn i16_at(b: &[u8], i: usize) -> Option<i16> {
    Some(i16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

fn i32_at(b: &[u8], i: usize) -> Option<i32> {
    Some(i32::from_le_bytes([
        *b.get(i)?,
        *b.get(i + 1)?,
        *b.get(i + 2)?,
        *b.get(i + 3)?,
    ]))
}

/// Parses a compiled terminfo file; `None` when it is malformed.
pub fn parse(bytes: &[u8]) -> Option<TermCaps> {
    let magic = u16_at(bytes, 0)?;
    let num_width = match magic {
        MAGIC_LEGACY => 2,
        MAGIC_32BIT => 4,
        _ => return None,
    };
    let names_size = usize::from(u16_at(bytes, 2)?);
    let bool_count = usize::from(u16_at(bytes, 4)?);
    let num_count = usize::from(u16_at(bytes, 6)?);
    let str_count = usize::from(u16_at(bytes, 8)?);
    let table_size = usize::from(u16_at(bytes, 10)?);

    let bools_at = 12 + names_size;
    let mut nums_at = bools_at + bool_count;
    nums_at += nums_at % 2;
    let strs_at = nums_at + num_count * num_width;
    let table_at = strs_at + str_count * 2;
    let table = bytes.get(table_at..table_at + table_size)?;

    let bce = bool_count > BOOL_BCE && *bytes.get(bools_at + BOOL_BCE)? == 1;
    let colors = if num_count > NUM_COLORS {
        let at = nums_at + NUM_COLORS * num_width;
        let v = if num_width == 2 {
            i32::from(i16_at(bytes, at)?)
        } else {
            i32_at(bytes, at)?
        };
        if v < 0 { -1 } else { v }
    } else {
        -1
    };
    let string = |idx: usize| -> Option<Vec<u8>> {
        if idx >= str_count {
            return None;
        }
        let off = i16_at(bytes, strs_at + idx * 2)?;
        let off = usize::try_from(off).ok()?;
        let rest = table.get(off..)?;
        let end = rest.iter().position(|&c| c == 0)?;
        rest.get(..end).map(<[u8]>::to_vec)
    };
    let mut ext_at = table_at + table_size;
    ext_at += ext_at % 2;
    let ext = extended_string_names(bytes, ext_at, num_width).unwrap_or_default();
    let has = |name: &str| ext.iter().any(|n| n == name);
    Some(TermCaps {
        colors,
        bce,
        ech: string(STR_ECH).is_some(),
        smcup: string(STR_SMCUP),
        rmcup: string(STR_RMCUP),
        styled_underline: has("Smulx"),
        underline_color: has("Setulc"),
    })
}

/// Names of the extended (user-defined) string capabilities that have a
/// value, from the section that starts at `at` (term(5), "Extended storage
/// format"); `None` when there is none or it is malformed.
fn extended_string_names(bytes: &[u8], at: usize, num_width: usize) -> Option<Vec<String>> {
    let count = |i: usize| u16_at(bytes, at + 2 * i).map(usize::from);
    let (n_bool, n_num, n_str) = (count(0)?, count(1)?, count(2)?);
    let table_size = count(4)?;
    let mut nums_at = at + 10 + n_bool;
    nums_at += nums_at % 2;
    let offs_at = nums_at + n_num * num_width;
    let names_offs_at = offs_at + n_str * 2;
    let table_at = names_offs_at + (n_bool + n_num + n_str) * 2;
    let table = bytes.get(table_at..table_at + table_size)?;
    let cstr = |from: usize| -> Option<&[u8]> {
        let rest = table.get(from..)?;
        rest.get(..rest.iter().position(|&c| c == 0)?)
    };
    // The names follow the last string value.
    let mut names_base = 0;
    let mut present = Vec::with_capacity(n_str);
    for j in 0..n_str {
        let off = usize::try_from(i16_at(bytes, offs_at + 2 * j)?).ok();
        if let Some(off) = off {
            names_base = names_base.max(off + cstr(off)?.len() + 1);
        }
        present.push(off.is_some());
    }
    let mut names = Vec::new();
    for (j, has_value) in present.into_iter().enumerate() {
        let k = n_bool + n_num + j;
        let off = usize::try_from(i16_at(bytes, names_offs_at + 2 * k)?).ok()?;
        if has_value {
            names.push(String::from_utf8_lossy(cstr(names_base + off)?).into_owned());
        }
    }
    Some(names)
}

/// The directories ncurses searches, in its order.
fn search_dirs(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = env("TERMINFO").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(d));
    }
    if let Some(home) = env("HOME").filter(|d| !d.is_empty()) {
        dirs.push(Path::new(&home).join(".terminfo"));
    }
    if let Some(list) = env("TERMINFO_DIRS") {
        for d in list.split(':') {
            // An empty element stands for the system default directory.
            if d.is_empty() {
                dirs.push(PathBuf::from("/usr/share/terminfo"));
            } else {
                dirs.push(PathBuf::from(d));
            }
        }
    }
    for d in ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

/// Looks `term` up like `setupterm` does, with the environment given by `env`.
pub fn lookup_with(
    term: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TermCaps, TermInfoError> {
    let Some(first) = term.chars().next() else {
        return Err(TermInfoError::UnknownTerminal(term.to_owned()));
    };
    if term.contains('/') || term.starts_with('.') {
        return Err(TermInfoError::UnknownTerminal(term.to_owned()));
    }
    for dir in search_dirs(env) {
        // Linux uses the first letter; macOS-built trees use its hex code.
        let candidates = [
            dir.join(first.to_string()).join(term),
            dir.join(format!("{:02x}", u32::from(first))).join(term),
        ];
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                return parse(&bytes).ok_or(TermInfoError::Corrupt(path));
            }
        }
    }
    Err(TermInfoError::UnknownTerminal(term.to_owned()))
}

/// Looks up `$TERM` in the process environment ("unknown" when unset, as ncurses does).
pub fn lookup_env_term() -> Result<TermCaps, TermInfoError> {
    let term = std::env::var("TERM").unwrap_or_else(|_| "unknown".to_owned());
    lookup_with(&term, &|k| std::env::var(k).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(term: &str) -> Result<TermCaps, TermInfoError> {
        lookup_with(term, &|_| None)
    }

    #[test]
    fn xterm_256color_matches_infocmp() {
        let c = system("xterm-256color").expect("xterm-256color is in ncurses-base");
        assert_eq!(c.colors, 256);
        assert!(c.bce);
        assert!(c.ech);
        assert_eq!(c.smcup.as_deref(), Some(&b"\x1b[?1049h\x1b[22;0;0t"[..]));
        assert_eq!(c.rmcup.as_deref(), Some(&b"\x1b[?1049l\x1b[23;0;0t"[..]));
    }

    #[test]
    fn user_defined_underline_capabilities_match_infocmp() {
        // `infocmp -x tmux-256color` lists Smulx but not Setulc;
        // xterm-256color has neither (ncurses-base/ncurses-term 6.4).
        let tmux = system("tmux-256color").expect("tmux-256color is in ncurses-base");
        assert!(tmux.styled_underline);
        assert!(!tmux.underline_color);
        let xterm = system("xterm-256color").expect("xterm-256color");
        assert!(!xterm.styled_underline && !xterm.underline_color);
    }

    #[test]
    fn dumb_has_no_colors() {
        let c = system("dumb").expect("dumb is in ncurses-base");
        assert_eq!(c.colors, -1);
        assert!(!c.bce);
        assert!(!c.ech);
        assert_eq!(c.smcup, None);
    }

    #[test]
    fn unknown_terminal_is_an_error() {
        assert_eq!(
            system("no-such-terminal-xyz"),
            Err(TermInfoError::UnknownTerminal(
                "no-such-terminal-xyz".into()
            ))
        );
        assert!(system("").is_err());
        assert!(system("../x/xterm").is_err());
    }

    #[test]
    fn garbage_files_do_not_panic() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0x1a, 0x01, 0xff, 0xff]), None);
        let mut header = vec![0x1a, 0x01];
        for v in [1000u16, 40, 20, 50, 100] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(parse(&header), None);
    }

    #[test]
    fn private_terminfo_dir_wins() {
        let dir = std::env::temp_dir().join(format!("rmosh-ti-{}", std::process::id()));
        let sub = dir.join("m");
        std::fs::create_dir_all(&sub).expect("temp dir");
        let src = std::fs::read("/lib/terminfo/x/xterm-256color")
            .or_else(|_| std::fs::read("/usr/share/terminfo/x/xterm-256color"))
            .expect("xterm-256color file");
        std::fs::write(sub.join("mine"), src).expect("write");
        let d = dir.to_string_lossy().into_owned();
        let got = lookup_with("mine", &|k| (k == "TERMINFO").then(|| d.clone()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(got.map(|c| c.colors), Ok(256));
    }
}
