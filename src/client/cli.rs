//! The client's command line: `rmosh client IP PORT` and Mosh's `mosh-client`
//! (spec §8.1), the environment it reads, and the checks done before the
//! terminal is touched.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use super::escape::EscapeConfig;
use super::terminfo::{self, TermCaps};
use crate::prediction::PredictionConfig;
use crate::prediction::mode::{DisplayPreference, UnknownMode, overwrite_from_env_value};
use crate::sync::capabilities::Capabilities;
use crate::transport::key::Base64Key;

/// Arguments of `rmosh client` (Mosh's `mosh-client` syntax, key in `MOSH_KEY`).
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// Print the number of colors $TERM supports (as `mosh-client -c`) and exit.
    #[arg(short = 'c', long = "colors")]
    pub colors: bool,
    /// Ignored: the mosh wrapper's original arguments, so `ps` shows them.
    #[arg(short = '#', value_name = "ARGS", hide = true)]
    pub original_args: Option<String>,
    /// More diagnostics on stderr (repeatable).
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Server IP address (numeric, IPv4 or IPv6).
    #[arg(required_unless_present = "colors")]
    pub ip: Option<String>,
    /// Server UDP port.
    #[arg(required_unless_present = "colors")]
    pub port: Option<String>,
}

/// What a `mosh-client` command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `--help`: usage on stdout, exit 0.
    Help,
    /// `--version`: version on stdout, exit 0.
    Version,
    /// `-c`: print the color count of $TERM, exit 0.
    Colors,
    /// Connect to a server.
    Connect {
        /// The IP as given.
        ip: String,
        /// The port as given (checked later, with Mosh's message).
        port: String,
        /// How many `-v`.
        verbose: u32,
    },
}

/// A command line getopt would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub Option<String>);

/// Parses `mosh-client` arguments (argv[0] excluded) like Mosh: `--help`
/// and `--version` anywhere win, then getopt `#:cv` with GNU permutation.
pub fn parse_mosh_client_args(args: &[OsString]) -> Result<Invocation, UsageError> {
    for a in args {
        if a == "--help" {
            return Ok(Invocation::Help);
        }
        if a == "--version" {
            return Ok(Invocation::Version);
        }
    }
    let mut positional: Vec<String> = Vec::new();
    let mut verbose = 0u32;
    let mut i = 0;
    while i < args.len() {
        let bytes = args[i].as_bytes();
        i += 1;
        if bytes == b"--" {
            positional.extend(args[i..].iter().map(|a| a.to_string_lossy().into_owned()));
            break;
        }
        if bytes.len() < 2 || bytes[0] != b'-' {
            positional.push(String::from_utf8_lossy(bytes).into_owned());
            continue;
        }
        let mut j = 1;
        while j < bytes.len() {
            match bytes[j] {
                b'c' => return Ok(Invocation::Colors),
                b'v' => verbose += 1,
                b'#' => {
                    // The value is the rest of this word, or the next word.
                    if j + 1 == bytes.len() {
                        if i >= args.len() {
                            return Err(UsageError(Some(
                                "option requires an argument -- '#'".to_owned(),
                            )));
                        }
                        i += 1;
                    }
                    break;
                }
                other => {
                    return Err(UsageError(Some(format!(
                        "invalid option -- '{}'",
                        char::from(other)
                    ))));
                }
            }
            j += 1;
        }
    }
    match <[String; 2]>::try_from(positional) {
        Ok([ip, port]) => Ok(Invocation::Connect { ip, port, verbose }),
        Err(_) => Err(UsageError(None)),
    }
}

/// The version text (`--version`).
pub fn version_text() -> String {
    format!(
        "mosh-client (rmosh {v}) [build rmosh {v}]\n\
         Wire-compatible with mosh 1.4.0.\n\
         License MIT OR Apache-2.0.\n",
        v = env!("CARGO_PKG_VERSION")
    )
}

/// The usage text (`--help`, and after argument errors).
pub fn usage_text(argv0: &str) -> String {
    format!(
        "{}\nUsage: {argv0} [-# 'ARGS'] IP PORT\n       {argv0} -c\n",
        version_text()
    )
}

/// Mosh's port check: digits only (and, for us, a value that fits).
pub fn parse_port(port: &str) -> Option<u16> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse().ok()
}

/// Reads `MOSH_PREDICTION_DISPLAY` (unset → adaptive); `Err` carries
/// Mosh's exact message.
pub fn prediction_display(value: Option<&str>) -> Result<DisplayPreference, String> {
    match value {
        None => Ok(DisplayPreference::Adaptive),
        Some(v) => v
            .parse()
            .map_err(|e: UnknownMode| format!("Unknown prediction mode {}.", e.0)),
    }
}

/// Window titles are only written for these `$TERM` prefixes (terminfo has
/// no reliable flag for it).
const TITLE_TERM_PREFIXES: [&str; 7] = [
    "xterm",
    "rxvt",
    "kterm",
    "Eterm",
    "alacritty",
    "screen",
    "tmux",
];

/// Whether `$TERM` is known to accept window titles.
pub fn term_has_title(term: Option<&str>) -> bool {
    term.is_some_and(|t| TITLE_TERM_PREFIXES.iter().any(|p| t.starts_with(p)))
}

/// Everything the session needs from the environment.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Server address.
    pub ip: std::net::IpAddr,
    /// Server port as given (for messages).
    pub port_text: String,
    /// Server port.
    pub port: u16,
    /// The session key from `MOSH_KEY`.
    pub key: Base64Key,
    /// `-v` count.
    pub verbose: u32,
    /// The escape key.
    pub escape: EscapeConfig,
    /// `MOSH_PREDICTION_DISPLAY` and `MOSH_PREDICTION_OVERWRITE`.
    pub prediction: PredictionConfig,
    /// `[mosh] ` unless `MOSH_TITLE_NOPREFIX` is set.
    pub title_prefix: String,
    /// Terminal capabilities of `$TERM`.
    pub caps: TermCaps,
    /// Window titles may be written.
    pub has_title: bool,
    /// smcup/rmcup are used (no `MOSH_NO_TERM_INIT`).
    pub term_init: bool,
    /// The rmosh extensions announced to the server (docs/extensions.md);
    /// none with `RMOSH_NO_EXTENSIONS` set.
    pub extensions: Capabilities,
}

/// Takes `MOSH_KEY` out of the environment, returning its value.
fn take_key() -> Option<String> {
    let key = std::env::var_os("MOSH_KEY")?;
    // SAFETY: the client entry points run this first, on the main thread,
    // before any other thread (tokio, signal handling) is started.
    unsafe { std::env::remove_var("MOSH_KEY") };
    Some(key.to_string_lossy().into_owned())
}

fn argv0_name() -> String {
    std::env::args_os()
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mosh-client".to_owned())
}

/// `-c`: prints the color count as `tput colors` would; exit 1 if `$TERM` is bad.
fn print_colors() -> ExitCode {
    let term = std::env::var("TERM").unwrap_or_default();
    if term.is_empty() {
        eprintln!("TERM environment variable not set.");
        return ExitCode::FAILURE;
    }
    match terminfo::lookup_with(&term, &|k| std::env::var(k).ok()) {
        Ok(caps) => {
            println!("{}", caps.colors);
            ExitCode::SUCCESS
        }
        Err(_) => {
            eprintln!("'{term}': unknown terminal type.");
            ExitCode::FAILURE
        }
    }
}

/// Prints `[mosh is exiting.]` and returns exit code 1.
fn exiting_failure() -> ExitCode {
    println!("[mosh is exiting.]");
    ExitCode::FAILURE
}

/// Everything after the argument syntax: port, key, environment, locale,
/// then the session.
fn start(ip: &str, port: &str, verbose: u32, key: Option<String>, argv0: &str) -> ExitCode {
    match prepare(ip, port, verbose, key, argv0, &|k| std::env::var_os(k)) {
        Ok(config) => super::session::run_and_report(config),
        Err(code) => code,
    }
}

/// Checks the port, key, terminal and locale and builds the session's
/// configuration, reading the `MOSH_*` settings through `env`; on failure
/// prints Mosh's message and returns the exit code.
pub fn prepare(
    ip: &str,
    port: &str,
    verbose: u32,
    key: Option<String>,
    argv0: &str,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<ClientConfig, ExitCode> {
    let var = |k: &str| env(k).map(|v| v.to_string_lossy().into_owned());
    let Some(port_num) = parse_port(port) else {
        eprintln!("{argv0}: Bad UDP port ({port})\n");
        eprint!("{}", usage_text(argv0));
        return Err(ExitCode::FAILURE);
    };
    let Some(key) = key else {
        eprintln!("MOSH_KEY environment variable not found.");
        return Err(ExitCode::FAILURE);
    };
    super::locale::adopt_native_locale();

    let term = std::env::var("TERM").ok();
    let caps = match terminfo::lookup_env_term() {
        Ok(c) => c,
        Err(e) => {
            eprint!("Error: {e}\r\n");
            return Err(exiting_failure());
        }
    };
    let display = match prediction_display(var("MOSH_PREDICTION_DISPLAY").as_deref()) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("{msg}");
            return Err(ExitCode::FAILURE);
        }
    };
    let prediction = PredictionConfig {
        display,
        overwrite: overwrite_from_env_value(var("MOSH_PREDICTION_OVERWRITE").as_deref()),
        ..PredictionConfig::default()
    };

    let charset = super::locale::charset();
    if !super::locale::is_utf8_charset(&charset) {
        let env = |k: &str| std::env::var(k).ok();
        eprint!(
            "{}",
            super::locale::not_utf8_text(&super::locale::ctype_variable(&env), &charset)
        );
        let _ = std::process::Command::new("locale").status();
        return Err(ExitCode::FAILURE);
    }

    let ip_addr = match ip.parse::<std::net::IpAddr>() {
        Ok(a) => a,
        Err(_) => {
            eprint!("Network exception: Bad IP address ({ip}): Name or service not known\r\n");
            return Err(exiting_failure());
        }
    };

    let key = match Base64Key::parse(&key) {
        Ok(k) => k,
        Err(e) => {
            eprint!("Crypto exception: {e}\r\n");
            return Err(exiting_failure());
        }
    };

    let escape_env = env("MOSH_ESCAPE_KEY");
    let config = ClientConfig {
        ip: ip_addr,
        port_text: port.to_owned(),
        port: port_num,
        key,
        verbose,
        escape: EscapeConfig::from_env_value(escape_env.as_deref().map(OsStr::as_bytes)),
        prediction,
        title_prefix: if env("MOSH_TITLE_NOPREFIX").is_some() {
            String::new()
        } else {
            "[mosh] ".to_owned()
        },
        has_title: term_has_title(term.as_deref()),
        term_init: env("MOSH_NO_TERM_INIT").is_none(),
        extensions: if env("RMOSH_NO_EXTENSIONS").is_some() {
            Capabilities::NONE
        } else {
            Capabilities::SUPPORTED
        },
        caps,
    };
    Ok(config)
}

/// Entry point for `rmosh client`.
pub fn run_client(args: ClientArgs) -> ExitCode {
    let key = take_key();
    if args.colors {
        return print_colors();
    }
    match (args.ip, args.port) {
        (Some(ip), Some(port)) => start(&ip, &port, u32::from(args.verbose), key, "rmosh client"),
        _ => {
            eprint!("{}", usage_text("rmosh client"));
            ExitCode::FAILURE
        }
    }
}

/// Entry point when invoked as `mosh-client`; `args` excludes argv[0].
pub fn mosh_client_main(args: Vec<OsString>) -> ExitCode {
    let key = take_key();
    let argv0 = argv0_name();
    match parse_mosh_client_args(&args) {
        Ok(Invocation::Help) => {
            print!("{}", usage_text(&argv0));
            ExitCode::SUCCESS
        }
        Ok(Invocation::Version) => {
            print!("{}", version_text());
            ExitCode::SUCCESS
        }
        Ok(Invocation::Colors) => print_colors(),
        Ok(Invocation::Connect { ip, port, verbose }) => start(&ip, &port, verbose, key, &argv0),
        Err(UsageError(msg)) => {
            if let Some(m) = msg {
                eprintln!("{argv0}: {m}");
            }
            eprint!("{}", usage_text(&argv0));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn connect(ip: &str, port: &str, verbose: u32) -> Result<Invocation, UsageError> {
        Ok(Invocation::Connect {
            ip: ip.into(),
            port: port.into(),
            verbose,
        })
    }

    #[test]
    fn plain_ip_port() {
        assert_eq!(
            parse_mosh_client_args(&args(&["127.0.0.1", "60001"])),
            connect("127.0.0.1", "60001", 0)
        );
    }

    #[test]
    fn wrapper_style_hash_argument_is_ignored() {
        assert_eq!(
            parse_mosh_client_args(&args(&["-# host -- echo it's |", "127.0.0.1", "60999"])),
            connect("127.0.0.1", "60999", 0)
        );
        assert_eq!(
            parse_mosh_client_args(&args(&["-#", "x y", "::1", "1"])),
            connect("::1", "1", 0)
        );
        assert_eq!(
            parse_mosh_client_args(&args(&["1.2.3.4", "5", "-#"])),
            Err(UsageError(Some(
                "option requires an argument -- '#'".into()
            )))
        );
    }

    #[test]
    fn options_are_permuted_and_combined() {
        assert_eq!(
            parse_mosh_client_args(&args(&["1.2.3.4", "-vv", "5", "-v"])),
            connect("1.2.3.4", "5", 3)
        );
        assert_eq!(
            parse_mosh_client_args(&args(&["--", "-1", "5"])),
            connect("-1", "5", 0)
        );
    }

    #[test]
    fn help_version_and_colors() {
        assert_eq!(
            parse_mosh_client_args(&args(&["x", "--version", "--help"])),
            Ok(Invocation::Version)
        );
        assert_eq!(
            parse_mosh_client_args(&args(&["--help"])),
            Ok(Invocation::Help)
        );
        assert_eq!(
            parse_mosh_client_args(&args(&["-vc"])),
            Ok(Invocation::Colors)
        );
        assert_eq!(
            parse_mosh_client_args(&args(&["-c", "extra"])),
            Ok(Invocation::Colors)
        );
    }

    #[test]
    fn bad_syntax_is_a_usage_error() {
        assert_eq!(parse_mosh_client_args(&args(&[])), Err(UsageError(None)));
        assert_eq!(
            parse_mosh_client_args(&args(&["a", "b", "c"])),
            Err(UsageError(None))
        );
        assert_eq!(
            parse_mosh_client_args(&args(&["-x", "a", "b"])),
            Err(UsageError(Some("invalid option -- 'x'".into())))
        );
        assert_eq!(
            parse_mosh_client_args(&args(&["--foo", "a", "b"])),
            Err(UsageError(Some("invalid option -- '-'".into())))
        );
    }

    #[test]
    fn usage_text_matches_mosh_layout() {
        let u = usage_text("mosh-client");
        assert!(u.starts_with("mosh-client (rmosh "));
        assert!(u.ends_with("\nUsage: mosh-client [-# 'ARGS'] IP PORT\n       mosh-client -c\n"));
    }

    #[test]
    fn ports_are_digits_that_fit() {
        assert_eq!(parse_port("60001"), Some(60001));
        assert_eq!(parse_port("0"), Some(0));
        assert_eq!(parse_port("6000x"), None);
        assert_eq!(parse_port("-1"), None);
        assert_eq!(parse_port(""), None);
        assert_eq!(parse_port("99999"), None);
    }

    #[test]
    fn prediction_modes() {
        use DisplayPreference::*;
        assert_eq!(prediction_display(None), Ok(Adaptive));
        assert_eq!(prediction_display(Some("adaptive")), Ok(Adaptive));
        assert_eq!(prediction_display(Some("always")), Ok(Always));
        assert_eq!(prediction_display(Some("never")), Ok(Never));
        assert_eq!(prediction_display(Some("experimental")), Ok(Experimental));
        assert_eq!(
            prediction_display(Some("bad")),
            Err("Unknown prediction mode bad.".into())
        );
        assert_eq!(
            prediction_display(Some("")),
            Err("Unknown prediction mode .".into())
        );
    }

    #[test]
    fn title_whitelist_by_prefix() {
        for t in [
            "xterm-256color",
            "rxvt-unicode",
            "kterm",
            "Eterm",
            "alacritty",
            "screen.xterm",
            "tmux-256color",
        ] {
            assert!(term_has_title(Some(t)), "{t}");
        }
        for t in ["vt100", "linux", "dumb", "XTERM"] {
            assert!(!term_has_title(Some(t)), "{t}");
        }
        assert!(!term_has_title(None));
    }
}
