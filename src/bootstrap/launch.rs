//! Starting the remote server: the command line Mosh's wrapper builds, the
//! shell snippet that picks `rmosh`, a deployed rmosh or `mosh-server`, and the
//! parser for what comes back (`MOSH CONNECT <port> <key>`).
//!
//! Everything here is pure; the SSH side runs the script and feeds us its output.

use std::net::IpAddr;

use super::untrusted::display_safe;

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
    /// Try `rmosh` on PATH, then a deployed rmosh, then `mosh-server`; report
    /// [`NO_SERVER_MARKER`] if none.
    Auto {
        /// SHA-256 sums of the binaries we may have deployed.
        deployed: Vec<String>,
    },
    /// Only a deployed rmosh; report [`NO_SERVER_MARKER`] if it is missing or corrupt.
    Deployed {
        /// Its SHA-256 sum (its name).
        sum: String,
    },
}

/// Marker line printed by the snippet when no server program exists, followed
/// by `<uname -s> <uname -m> <glibc-VERSION|none> <absent|corrupt>`.
pub const NO_SERVER_MARKER: &str = "RMOSH NO-SERVER";

/// A deployed binary is named by its SHA-256 sum and runs only if the file
/// still has that sum (`sha256sum`, or `shasum -a 256` where that is missing);
/// a mismatch is reported through `$st`.
fn deployed_snippet(sums: &[String], words: &str) -> String {
    sums.iter()
        .map(|sum| {
            format!(
                "d=\"$HOME/{dir}/rmosh-{sum}\"; \
                 if [ -f \"$d\" ]; then \
                 s=$( (sha256sum \"$d\" || shasum -a 256 \"$d\") 2>/dev/null | cut -d' ' -f1); \
                 if [ \"$s\" = {sum} ] && [ -x \"$d\" ]; then exec \"$d\" server {words}; fi; \
                 st=corrupt; fi; ",
                dir = super::deploy::DEPLOY_DIR
            )
        })
        .collect()
}

/// Prints [`NO_SERVER_MARKER`] with what deploying needs to know.
pub fn probe_snippet() -> String {
    format!(
        "l=$(getconf GNU_LIBC_VERSION 2>/dev/null | tr ' ' -); \
         echo \"{NO_SERVER_MARKER} $(uname -s) $(uname -m) ${{l:-none}} ${{st:-absent}}\""
    )
}

/// The command sent over the exec channel. It prints `MOSH SSH_CONNECTION …`
/// first (so the UDP target can come from the remote's view) and runs via
/// `sh -c` so it works whatever the login shell is.
pub fn remote_command(choice: &ServerChoice, opts: &ServerOptions) -> String {
    let words = quote_words(&server_words(opts));
    let prelude = "echo \"MOSH SSH_CONNECTION $SSH_CONNECTION\"";
    let probe = probe_snippet();
    let script = match choice {
        ServerChoice::Explicit(cmd) => format!("{prelude}; exec {cmd} {words}"),
        ServerChoice::Auto { deployed } => format!(
            "{prelude}; st=absent; \
             if command -v rmosh >/dev/null 2>&1; then exec rmosh server {words}; fi; \
             {}\
             if command -v mosh-server >/dev/null 2>&1; then exec mosh-server {words}; fi; \
             {probe}",
            deployed_snippet(deployed, &words)
        ),
        ServerChoice::Deployed { sum } => format!(
            "{prelude}; st=absent; {}{probe}",
            deployed_snippet(std::slice::from_ref(sum), &words)
        ),
    };
    format!("sh -c {}", shell_quote(&script))
}

/// The remote system, as the [`NO_SERVER_MARKER`] line describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSystem {
    /// `uname -s`.
    pub os: String,
    /// `uname -m`.
    pub arch: String,
    /// The glibc version, if it has glibc.
    pub glibc: Option<(u32, u32)>,
    /// A deployed copy was found with the wrong checksum.
    pub corrupt: bool,
}

/// Parses what follows [`NO_SERVER_MARKER`].
pub fn parse_remote_system(rest: &str) -> RemoteSystem {
    let mut f = rest.split_whitespace();
    let os = f.next().unwrap_or("").to_string();
    let arch = f.next().unwrap_or("").to_string();
    let glibc = f.next().and_then(|l| {
        let v = l.strip_prefix("glibc-")?;
        let (major, minor) = v.split_once('.')?;
        let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
        Some((major.parse().ok()?, minor.parse().ok()?))
    });
    let corrupt = f.next() == Some("corrupt");
    RemoteSystem {
        os,
        arch,
        glibc,
        corrupt,
    }
}

/// What a detaching server's parent prints after forking (Mosh and rmosh
/// alike), after it has set SIGHUP to be ignored.
pub const DETACHED_MARKER: &str = "[mosh-server detached, pid = ";

/// What the remote's output told us.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scan {
    /// `MOSH CONNECT` port and key.
    pub connect: Option<(u16, String)>,
    /// The server address from `SSH_CONNECTION` (third field).
    pub remote_ip: Option<IpAddr>,
    /// The remote system, when it has no server program we may run.
    pub no_server: Option<RemoteSystem>,
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

/// Most the remote may print before `MOSH CONNECT` (shell rc noise, a motd):
/// beyond it the bootstrap gives up rather than buffer without bound.
pub const MAX_PREAMBLE: usize = 1 << 20;

/// The remote printed more than [`MAX_PREAMBLE`] bytes without `MOSH CONNECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooMuchOutput {
    /// The last lines it printed, made safe for the terminal.
    pub last_lines: Vec<String>,
}

impl std::fmt::Display for TooMuchOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the remote printed more than {} KiB without a \"MOSH CONNECT\" line; giving up",
            MAX_PREAMBLE / 1024
        )?;
        if !self.last_lines.is_empty() {
            write!(f, ". It ended with:\n{}", self.last_lines.join("\n"))?;
        }
        Ok(())
    }
}

impl std::error::Error for TooMuchOutput {}

/// Reads the remote's output (stdout and stderr merged, maybe through a pty,
/// so lines can end in `\r\n`) as it arrives: each complete line is looked at
/// once, and only the unfinished last line is kept between reads.
#[derive(Debug, Default)]
pub struct Scanner {
    scan: Scan,
    /// The unfinished line.
    pending: Vec<u8>,
    /// Bytes read before `MOSH CONNECT`.
    seen: usize,
    /// The end of what followed `MOSH CONNECT`, searched for the detach banner.
    tail: Vec<u8>,
    detached: bool,
}

impl Scanner {
    /// A scanner that has read nothing.
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// Takes the next bytes the remote printed.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), TooMuchOutput> {
        if self.scan.connect.is_some() {
            self.feed_tail(data);
            return Ok(());
        }
        self.seen += data.len();
        let mut from = self.pending.len();
        self.pending.extend_from_slice(data);
        let mut start = 0;
        while let Some(i) = self
            .pending
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            let end = from + i;
            let line =
                String::from_utf8_lossy(self.pending.get(start..end).unwrap_or(&[])).into_owned();
            start = end + 1;
            from = start;
            self.line(&line);
            if self.scan.connect.is_some() {
                let rest = self.pending.split_off(start);
                self.pending.clear();
                self.feed_tail(&rest);
                return Ok(());
            }
        }
        self.pending.drain(..start);
        if self.seen > MAX_PREAMBLE {
            let keep = self.scan.other_lines.len().saturating_sub(5);
            return Err(TooMuchOutput {
                last_lines: self.scan.other_lines.split_off(keep),
            });
        }
        Ok(())
    }

    fn feed_tail(&mut self, data: &[u8]) {
        if self.detached {
            return;
        }
        let marker = DETACHED_MARKER.as_bytes();
        // Only the new bytes (and a marker's length before them) are searched.
        let from = self.tail.len().saturating_sub(marker.len());
        self.tail.extend_from_slice(data);
        self.detached = self
            .tail
            .get(from..)
            .is_some_and(|t| t.windows(marker.len()).any(|w| w == marker));
        if self.tail.len() > 4 * marker.len() {
            let cut = self.tail.len() - marker.len();
            self.tail.drain(..cut);
        }
    }

    /// Whether `MOSH CONNECT` has been read.
    pub fn connected(&self) -> bool {
        self.scan.connect.is_some()
    }

    /// Whether the server has announced its detached child after `MOSH CONNECT`
    /// (what a detaching server's parent prints after forking, with SIGHUP
    /// already ignored): from then on closing SSH, and hanging up its pty,
    /// cannot kill the session.
    pub fn detached(&self) -> bool {
        self.detached
    }

    /// What was read; the unfinished last line counts as a line now.
    pub fn finish(mut self) -> Scan {
        if self.scan.connect.is_none() && !self.pending.is_empty() {
            let line = String::from_utf8_lossy(&self.pending).into_owned();
            self.line(&line);
        }
        self.scan
    }

    fn line(&mut self, line: &str) {
        let s = &mut self.scan;
        let line = line.trim_end_matches('\r');
        // Garbage (escape sequences, rc-file output without a newline) may
        // precede our markers on the same line.
        if let Some(c) = line
            .find("MOSH CONNECT ")
            .and_then(|i| line.get(i + 13..))
            .and_then(parse_connect)
        {
            s.connect = Some(c);
            return;
        }
        if let Some(i) = line.find("MOSH SSH_CONNECTION") {
            if s.remote_ip.is_none() {
                s.remote_ip = line.get(i + 19..).and_then(parse_ssh_connection);
            }
            return;
        }
        if let Some(i) = line.find(NO_SERVER_MARKER) {
            let rest = line.get(i + NO_SERVER_MARKER.len()..).unwrap_or("");
            s.no_server = Some(parse_remote_system(&display_safe(rest)));
            return;
        }
        if !line.trim().is_empty() {
            // Shown on the local terminal: no control sequences.
            s.other_lines.push(display_safe(line));
        }
    }
}

/// Scans a whole output at once (unless `finished`, an unfinished last line
/// is left out: it may still be arriving).
#[cfg(test)]
pub(crate) fn scan(output: &[u8], finished: bool) -> Scan {
    let mut s = Scanner::new();
    let _ = s.feed(output);
    if finished { s.finish() } else { s.scan }
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

    /// Runs `choice`'s command in a shell whose PATH has only `tools` and
    /// whose HOME is `home`, with a fake server printing its argv[0].
    fn run_choice(choice: &ServerChoice, tools: &[&str], home: &std::path::Path) -> Scan {
        let bin = home.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for tool in tools {
            let _ = std::os::unix::fs::symlink(format!("/usr/bin/{tool}"), bin.join(tool));
        }
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(remote_command(choice, &opts()))
            .env("PATH", &bin)
            .env("HOME", home)
            .output()
            .unwrap();
        scan(&out.stdout, true)
    }

    #[test]
    fn auto_choice_reports_missing_server() {
        let home = std::env::temp_dir().join(format!("rmosh-launch-{}", std::process::id()));
        let choice = ServerChoice::Auto {
            deployed: vec!["00".repeat(32)],
        };
        // Neither rmosh nor mosh-server nor getconf can be found on this PATH.
        let s = run_choice(&choice, &["sh", "uname", "tr"], &home);
        let _ = std::fs::remove_dir_all(&home);
        let sys = s.no_server.expect("no-server marker");
        assert_eq!(sys.os, "Linux");
        assert_eq!(sys.arch, std::env::consts::ARCH);
        assert_eq!(sys.glibc, None);
        assert!(!sys.corrupt);
        assert!(s.connect.is_none());
    }

    #[test]
    fn a_deployed_binary_runs_only_with_its_checksum() {
        let home = std::env::temp_dir().join(format!("rmosh-deployed-{}", std::process::id()));
        let dir = home.join(super::super::deploy::DEPLOY_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        let body = format!(
            "#!/bin/sh\necho \"MOSH CONNECT 60001 {}\"\n",
            "A".repeat(22)
        );
        let sum = super::super::deploy::sha256_hex(body.as_bytes());
        let path = dir.join(format!("rmosh-{sum}"));
        std::fs::write(&path, &body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tools = ["sh", "uname", "tr", "cut", "getconf"];
        let with_sha256sum: Vec<&str> = tools.iter().copied().chain(["sha256sum"]).collect();
        let with_shasum: Vec<&str> = tools.iter().copied().chain(["shasum"]).collect();
        for choice in [
            ServerChoice::Auto {
                deployed: vec!["11".repeat(32), sum.clone()],
            },
            ServerChoice::Deployed { sum: sum.clone() },
        ] {
            // Intact: it runs, with either checksum tool.
            for t in [&with_sha256sum, &with_shasum] {
                let _ = std::fs::remove_dir_all(home.join("bin"));
                let s = run_choice(&choice, t, &home);
                assert!(s.connect.is_some(), "{choice:?} {t:?}: {s:?}");
            }
            // Altered: refused and reported, with what deploying needs.
            std::fs::write(&path, body.replace("60001", "60002")).unwrap();
            let _ = std::fs::remove_dir_all(home.join("bin"));
            let s = run_choice(&choice, &with_sha256sum, &home);
            std::fs::write(&path, &body).unwrap();
            assert!(s.connect.is_none(), "{s:?}");
            let sys = s.no_server.expect("marker");
            assert!(sys.corrupt);
            assert!(sys.glibc.is_some(), "{sys:?}");
        }
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn remote_system_lines() {
        assert_eq!(
            parse_remote_system(" Linux aarch64 glibc-2.31 corrupt"),
            RemoteSystem {
                os: "Linux".into(),
                arch: "aarch64".into(),
                glibc: Some((2, 31)),
                corrupt: true
            }
        );
        let s = parse_remote_system(" FreeBSD amd64 none absent");
        assert_eq!(
            (s.os.as_str(), s.glibc, s.corrupt),
            ("FreeBSD", None, false)
        );
        assert_eq!(parse_remote_system("").arch, "");
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
        let s = scan(b"RMOSH NO-SERVER Linux aarch64 none absent\n", false);
        assert_eq!(s.no_server.map(|r| r.arch).as_deref(), Some("aarch64"));
    }

    #[test]
    fn detached_only_after_connect() {
        let detached = |out: &[u8]| {
            let mut s = Scanner::new();
            // Byte by byte: the banner is found across reads.
            for b in out {
                s.feed(std::slice::from_ref(b)).unwrap();
            }
            s.detached()
        };
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
    fn output_before_connect_is_bounded_and_read_once() {
        let mut s = Scanner::new();
        let line = [b'x'; 1023];
        let mut fed = 0;
        let err = loop {
            match s.feed(&line).and_then(|()| s.feed(b"\n")) {
                Ok(()) => fed += 1024,
                Err(e) => break e,
            }
            assert!(fed <= MAX_PREAMBLE, "no limit");
        };
        assert_eq!(fed, MAX_PREAMBLE);
        assert_eq!(err.last_lines.len(), 5);
        assert!(
            err.to_string().contains("without a \"MOSH CONNECT\" line"),
            "{err}"
        );
        // One endless line is bounded too, and never rescanned: 4 MiB in
        // 1-byte reads would take hours if each read rescanned the buffer.
        let mut s = Scanner::new();
        let mut result = Ok(());
        for _ in 0..=MAX_PREAMBLE {
            result = s.feed(b"y");
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err());
        // Split anywhere, the lines come out the same.
        let out = b"hi\r\nMOSH SSH_CONNECTION 1 2 10.0.0.2 22\r\nMOSH CONNECT 60001 VzSpsdwU3gLB52wEoNjlzg\r\n";
        for cut in 0..out.len() {
            let mut s = Scanner::new();
            s.feed(&out[..cut]).unwrap();
            s.feed(&out[cut..]).unwrap();
            assert!(s.connected());
            let got = s.finish();
            assert_eq!(got.other_lines, ["hi"]);
            assert_eq!(got.remote_ip, Some("10.0.0.2".parse().unwrap()));
        }
    }

    #[test]
    fn remote_output_is_shown_without_control_sequences() {
        let s = scan(
            b"\x1b]0;owned\x07motd\x1b[2J\r\n\xc2\x9b6n\r\nRMOSH NO-SERVER x\x1b[1m\n",
            true,
        );
        assert_eq!(s.other_lines, ["]0;ownedmotd[2J", "6n"]);
        assert_eq!(s.no_server.map(|r| r.os).as_deref(), Some("x[1m"));
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
