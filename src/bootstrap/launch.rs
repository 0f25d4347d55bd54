//! Starting the remote server: the command line Mosh's wrapper builds, the
//! shell snippet that picks `rmosh`, a deployed rmosh or `mosh-server`, and the
//! parser for what comes back (`MOSH CONNECT <port> <key>`).
//!
//! Everything here is pure; the SSH side runs the script and feeds us its output.

use std::net::IpAddr;

/// Locale variables the wrapper forwards with `-l NAME=VALUE`, in its order:
/// the same list, in the same order, that the server clears.
pub use crate::server::locale::LOCALE_VARIABLES as LOCALE_VARS;

/// Where the remote server should bind (`--bind-server`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// `-s`: the address the SSH connection arrived on (the default).
    Ssh,
    /// No option: any address.
    Any,
    /// `-i IP`.
    Ip(String),
}

/// The options of `mosh-server new`.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Colours of the local terminal (`-c`).
    pub colors: u32,
    /// Bind option.
    pub bind: Bind,
    /// UDP port or range (`-p`).
    pub port: Option<String>,
    /// `NAME=VALUE` locale settings (`-l`).
    pub locale: Vec<(String, String)>,
    /// The command to run instead of a login shell.
    pub command: Vec<String>,
    /// What to ask the server for (a new session unless told otherwise).
    pub verb: ServerVerb,
}

/// What `rmosh connect` asks the remote `rmosh server` for (docs/sessions.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ServerVerb {
    /// `new`: start a session (Mosh's only verb).
    #[default]
    New,
    /// `attach [ID] new …`: take over a running session.
    Attach(Option<String>),
    /// `list`: show the sessions (no session is started).
    List,
    /// `kill ID`: end a session.
    Kill(String),
}

impl ServerVerb {
    /// Whether the server only reports (no `MOSH CONNECT` follows).
    pub fn reports_only(&self) -> bool {
        matches!(self, ServerVerb::List | ServerVerb::Kill(_))
    }
}

impl ServerOptions {
    /// Locale settings from the local environment, as the wrapper collects them.
    pub fn locale_from_env() -> Vec<(String, String)> {
        LOCALE_VARS
            .iter()
            .filter_map(|v| std::env::var(v).ok().map(|val| (v.to_string(), val)))
            .collect()
    }
}

/// The words after the server program: `new -c N [-s|-i IP] [-p P] -l … [-- cmd…]`.
pub fn server_words(o: &ServerOptions) -> Vec<String> {
    match &o.verb {
        ServerVerb::New => {}
        ServerVerb::Attach(id) => {
            let mut w = vec!["attach".to_string()];
            w.extend(id.iter().cloned());
            w.extend(server_words(&ServerOptions {
                verb: ServerVerb::New,
                ..o.clone()
            }));
            return w;
        }
        ServerVerb::List => return vec!["list".into()],
        ServerVerb::Kill(id) => return vec!["kill".into(), id.clone()],
    }
    let mut w = vec!["new".to_string(), "-c".into(), o.colors.to_string()];
    match &o.bind {
        Bind::Ssh => w.push("-s".into()),
        Bind::Any => {}
        Bind::Ip(ip) => {
            w.push("-i".into());
            w.push(ip.clone());
        }
    }
    if let Some(p) = &o.port {
        w.push("-p".into());
        w.push(p.clone());
    }
    for (k, v) in &o.locale {
        w.push("-l".into());
        w.push(format!("{k}={v}"));
    }
    if !o.command.is_empty() {
        w.push("--".into());
        w.extend(o.command.iter().cloned());
    }
    w
}

/// Single-quotes a word for a POSIX shell (`'` becomes `'\''`).
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Quotes and joins words.
pub fn quote_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which server program to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerChoice {
    /// `--server=CMD`: used as given (unquoted, like the wrapper does).
    Explicit(String),
    /// Try `rmosh` on PATH, then the deployed rmosh at this path (relative to
    /// `$HOME`), then `mosh-server`; report `RMOSH NO-SERVER <arch>` if none.
    Auto {
        /// The deployed binary, relative to the remote `$HOME`.
        deployed: String,
    },
}

/// Marker line printed by the snippet when no server program exists.
pub const NO_SERVER_MARKER: &str = "RMOSH NO-SERVER";

/// The command sent over the exec channel. It prints `MOSH SSH_CONNECTION …`
/// first (so the UDP target can come from the remote's view) and runs via
/// `sh -c` so it works whatever the login shell is.
pub fn remote_command(choice: &ServerChoice, opts: &ServerOptions) -> String {
    let words = quote_words(&server_words(opts));
    let prelude = "echo \"MOSH SSH_CONNECTION $SSH_CONNECTION\"";
    let script = match choice {
        ServerChoice::Explicit(cmd) => format!("{prelude}; exec {cmd} {words}"),
        ServerChoice::Auto { deployed } => format!(
            "{prelude}; \
             if command -v rmosh >/dev/null 2>&1; then exec rmosh server {words}; \
             elif [ -x \"$HOME/{deployed}\" ]; then exec \"$HOME/{deployed}\" server {words}; \
             elif command -v mosh-server >/dev/null 2>&1; then exec mosh-server {words}; \
             else echo \"{NO_SERVER_MARKER} $(uname -m)\"; fi"
        ),
    };
    format!("sh -c {}", shell_quote(&script))
}

/// What a detaching server's parent prints after forking (Mosh and rmosh
/// alike), after it has set SIGHUP to be ignored.
pub const DETACHED_MARKER: &str = "[mosh-server detached, pid = ";

/// Whether the server has announced its detached child after `MOSH CONNECT`:
/// from then on closing SSH (and hanging up its pty) cannot kill the session.
pub fn detached(output: &[u8]) -> bool {
    let text = String::from_utf8_lossy(output);
    text.find("MOSH CONNECT ")
        .and_then(|i| text.get(i..))
        .is_some_and(|rest| rest.contains(DETACHED_MARKER))
}

/// What the remote's output told us.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scan {
    /// `MOSH CONNECT` port and key.
    pub connect: Option<(u16, String)>,
    /// The server address from `SSH_CONNECTION` (third field).
    pub remote_ip: Option<IpAddr>,
    /// `uname -m` of a remote without any server program.
    pub no_server_arch: Option<String>,
    /// Lines before `MOSH CONNECT` that are not ours (shown to the user).
    pub other_lines: Vec<String>,
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '/' || c == '+'
}

/// Parses the rest of a line after `MOSH CONNECT `: `<port> <22-char key>`.
fn parse_connect(rest: &str) -> Option<(u16, String)> {
    let mut parts = rest.split_whitespace();
    let port = parts.next()?;
    let key = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port: u16 = port.parse().ok().filter(|&p| p > 0)?;
    if key.chars().count() != 22 || !key.chars().all(is_key_char) {
        return None;
    }
    Some((port, key.to_string()))
}

/// Parses the third field of `SSH_CONNECTION` (the server's address).
pub fn parse_ssh_connection(value: &str) -> Option<IpAddr> {
    let server = value.split_whitespace().nth(2)?;
    let server = server.strip_prefix("::ffff:").unwrap_or(server);
    server.parse().ok()
}

/// Scans what the remote printed (stdout and stderr merged, maybe through a
/// pty, so lines can end in `\r\n`). Unless `finished`, a last line without
/// its newline is left for later: it may still be arriving.
pub fn scan(output: &[u8], finished: bool) -> Scan {
    let text = String::from_utf8_lossy(output);
    let mut s = Scan::default();
    for piece in text.split_inclusive('\n') {
        if !finished && !piece.ends_with('\n') {
            break;
        }
        let line = piece.trim_end_matches('\n').trim_end_matches('\r');
        // Garbage (escape sequences, rc-file output without a newline) may
        // precede our markers on the same line.
        if let Some(c) = line
            .find("MOSH CONNECT ")
            .and_then(|i| line.get(i + 13..))
            .and_then(parse_connect)
        {
            s.connect = Some(c);
            break;
        }
        if let Some(i) = line.find("MOSH SSH_CONNECTION") {
            if s.remote_ip.is_none() {
                s.remote_ip = line.get(i + 19..).and_then(parse_ssh_connection);
            }
            continue;
        }
        if let Some(i) = line.find(NO_SERVER_MARKER) {
            let arch = line.get(i + NO_SERVER_MARKER.len()..).unwrap_or("").trim();
            s.no_server_arch = Some(arch.to_string());
            continue;
        }
        if !line.trim().is_empty() {
            s.other_lines.push(line.to_string());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ServerOptions {
        ServerOptions {
            colors: 256,
            bind: Bind::Ssh,
            port: None,
            locale: vec![("LANG".into(), "C.UTF-8".into())],
            command: vec![],
            verb: ServerVerb::New,
        }
    }

    #[test]
    fn session_verbs_prefix_or_replace_new() {
        let mut o = opts();
        o.verb = ServerVerb::Attach(Some("ab23".into()));
        assert_eq!(
            quote_words(&server_words(&o)),
            "'attach' 'ab23' 'new' '-c' '256' '-s' '-l' 'LANG=C.UTF-8'"
        );
        o.verb = ServerVerb::Attach(None);
        assert_eq!(server_words(&o)[..2], ["attach", "new"]);
        o.verb = ServerVerb::List;
        assert_eq!(server_words(&o), ["list"]);
        assert!(o.verb.reports_only());
        o.verb = ServerVerb::Kill("ab23".into());
        assert_eq!(server_words(&o), ["kill", "ab23"]);
    }

    #[test]
    fn words_like_the_wrapper() {
        assert_eq!(
            quote_words(&server_words(&opts())),
            "'new' '-c' '256' '-s' '-l' 'LANG=C.UTF-8'"
        );
        let mut o = opts();
        o.bind = Bind::Ip("10.0.0.1".into());
        o.port = Some("60000:60010".into());
        o.command = vec!["echo".into(), "it's".into()];
        assert_eq!(
            quote_words(&server_words(&o)),
            r"'new' '-c' '256' '-i' '10.0.0.1' '-p' '60000:60010' '-l' 'LANG=C.UTF-8' '--' 'echo' 'it'\''s'"
        );
        o.bind = Bind::Any;
        assert!(!server_words(&o).contains(&"-s".to_string()));
    }

    #[test]
    fn remote_command_runs_in_sh_and_quotes() {
        let cmd = remote_command(&ServerChoice::Explicit("/opt/mosh-server".into()), &opts());
        assert!(cmd.starts_with("sh -c '"), "{cmd}");
        // Run it through a real shell with a fake server to check the quoting.
        let fake = remote_command(&ServerChoice::Explicit("printf '[%s]'".into()), &{
            let mut o = opts();
            o.command = vec!["echo".into(), "it's $HOME".into()];
            o
        });
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&fake)
            .env("SSH_CONNECTION", "1.2.3.4 5 6.7.8.9 22")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out,
            "MOSH SSH_CONNECTION 1.2.3.4 5 6.7.8.9 22\n[new][-c][256][-s][-l][LANG=C.UTF-8][--][echo][it's $HOME]"
        );
    }

    #[test]
    fn auto_choice_reports_missing_server() {
        let cmd = remote_command(
            &ServerChoice::Auto {
                deployed: ".local/share/rmosh/bin/rmosh-none".into(),
            },
            &opts(),
        );
        // Neither rmosh nor mosh-server can be found on this PATH.
        let bin = std::env::temp_dir().join(format!("rmosh-launch-{}", std::process::id()));
        std::fs::create_dir_all(&bin).unwrap();
        for tool in ["sh", "uname"] {
            let _ = std::os::unix::fs::symlink(format!("/bin/{tool}"), bin.join(tool));
        }
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&cmd)
            .env("PATH", &bin)
            .env("HOME", "/nonexistent")
            .output()
            .unwrap();
        let s = scan(&out.stdout, true);
        let _ = std::fs::remove_dir_all(&bin);
        assert_eq!(
            s.no_server_arch.as_deref(),
            Some(std::env::consts::ARCH),
            "{:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(s.connect.is_none());
    }

    #[test]
    fn scan_finds_connect_after_garbage() {
        let out = b"Welcome!\r\nrc file says hi\r\nMOSH SSH_CONNECTION 127.0.0.1 5555 ::ffff:127.0.0.2 22\r\n\r\n\x1b[0mMOSH CONNECT 60001 VzSpsdwU3gLB52wEoNjlzg\r\n\r\nmosh-server (mosh 1.4.0)\r\n";
        let s = scan(out, false);
        assert_eq!(s.connect, Some((60001, "VzSpsdwU3gLB52wEoNjlzg".into())));
        assert_eq!(s.remote_ip, Some("127.0.0.2".parse().unwrap()));
        assert_eq!(s.other_lines, vec!["Welcome!", "rc file says hi"]);
        assert_eq!(scan(out, false).connect.map(|c| c.0), Some(60001));
    }

    #[test]
    fn scan_rejects_malformed_connect_lines() {
        for bad in [
            "MOSH CONNECT 0 VzSpsdwU3gLB52wEoNjlzg\n",
            "MOSH CONNECT 70000 VzSpsdwU3gLB52wEoNjlzg\n",
            "MOSH CONNECT 600 short\n",
            "MOSH CONNECT 600 VzSpsdwU3gLB52wEoNjlzg extra\n",
            "MOSH CONNECT -5 VzSpsdwU3gLB52wEoNjlzg\n",
            "MOSH CONNECT 600 VzSpsdwU3gLB52wEoNjl!g\n",
        ] {
            let s = scan(bad.as_bytes(), true);
            assert_eq!(s.connect, None, "{bad}");
            assert_eq!(s.other_lines.len(), 1, "{bad}");
        }
        // A partial line is not complete yet.
        assert_eq!(
            scan(b"MOSH CONNECT 60001 VzSpsdwU3gLB52wEoNjlzg", false).connect,
            None
        );
        assert!(
            scan(b"MOSH CONNECT 60001 VzSpsdwU3gLB52wEoNjlzg", true)
                .connect
                .is_some()
        );
    }

    #[test]
    fn scan_missing_line_keeps_the_remote_output() {
        let s = scan(b"bash: mosh-server: command not found\r\n", false);
        assert_eq!(s.connect, None);
        assert_eq!(s.other_lines, vec!["bash: mosh-server: command not found"]);
        let s = scan(b"RMOSH NO-SERVER aarch64\n", false);
        assert_eq!(s.no_server_arch.as_deref(), Some("aarch64"));
    }

    #[test]
    fn detached_only_after_connect() {
        let connect = b"MOSH CONNECT 60001 VzSpsdwU3gLB52wEoNjlzg\r\n";
        assert!(!detached(connect));
        let mut out = connect.to_vec();
        out.extend_from_slice(
            b"\r\nmosh-server (mosh 1.4.0)\r\n[mosh-server detached, pid = 42]\r\n",
        );
        assert!(detached(&out));
        // A banner before the announcement (another server's noise) does not count.
        assert!(!detached(
            b"[mosh-server detached, pid = 1]\nMOSH CONNECT 60001 VzSpsdwU3gLB52wEoNjlzg\n"
        ));
    }

    #[test]
    fn ssh_connection_field() {
        assert_eq!(
            parse_ssh_connection("10.0.0.1 4000 10.0.0.2 22"),
            Some("10.0.0.2".parse().unwrap())
        );
        assert_eq!(
            parse_ssh_connection("::1 4000 ::1 22"),
            Some("::1".parse().unwrap())
        );
        assert_eq!(parse_ssh_connection(""), None);
        assert_eq!(parse_ssh_connection("a b c d"), None);
    }
}
