//! The session control protocol spoken over a registry socket
//! (docs/sessions.md): one request line in, one reply line out.
//!
//! Pure text in and out, so both ends (the session's loop and the
//! `rmosh server list|kill|attach` commands) share one parser.

use std::fmt::Write as _;

use super::process::WindowSize;

/// Longest request or reply line accepted.
pub const MAX_LINE: usize = 8192;

/// What a command asks a running session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Describe yourself.
    Info,
    /// Take a new client (of this window size, if known): fresh key, old
    /// key revoked.
    Attach(Option<WindowSize>),
    /// Hang up the shell and end the session.
    Kill,
}

impl Request {
    /// The request as a line (newline included).
    pub fn to_line(self) -> String {
        match self {
            Request::Info => "info\n".into(),
            Request::Attach(Some(s)) => format!("attach {} {}\n", s.cols, s.rows),
            Request::Attach(None) => "attach\n".into(),
            Request::Kill => "kill\n".into(),
        }
    }

    /// Parses a request line (without or with its newline).
    pub fn parse(line: &str) -> Result<Request, String> {
        let mut words = line.trim_end_matches('\n').split(' ');
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("info"), None, ..) => Ok(Request::Info),
            (Some("kill"), None, ..) => Ok(Request::Kill),
            (Some("attach"), None, ..) => Ok(Request::Attach(None)),
            (Some("attach"), Some(c), Some(r), None) => {
                let dim = |s: &str| s.parse::<u16>().ok().filter(|&v| v > 0);
                match (dim(c), dim(r)) {
                    (Some(cols), Some(rows)) => {
                        Ok(Request::Attach(Some(WindowSize { cols, rows })))
                    }
                    _ => Err(format!("bad window size {c}x{r}")),
                }
            }
            _ => Err("unknown request".into()),
        }
    }
}

/// What a session says about itself (`rmosh server list`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    /// The short id (the socket's name).
    pub id: String,
    /// The server's pid.
    pub pid: i64,
    /// Start time, seconds since the epoch.
    pub started: u64,
    /// The command line it runs.
    pub command: String,
    /// The window size of the pty.
    pub cols: u16,
    /// The window size of the pty.
    pub rows: u16,
    /// A client was heard from recently (docs/sessions.md).
    pub attached: bool,
    /// The newest client's address, if one ever came.
    pub client: Option<String>,
    /// When a client was last heard from, seconds since the epoch.
    pub last_contact: Option<u64>,
    /// Since when no client is attached, seconds since the epoch.
    pub detached_since: Option<u64>,
}

/// Escapes `%`, spaces, tabs and control characters so a value is one word.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '%' || c == ' ' || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad escape in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("bad text in {s:?}"))
}

impl SessionInfo {
    /// The reply to `info` (newline included).
    pub fn to_line(&self) -> String {
        let mut s = format!(
            "ok id={} pid={} started={} cols={} rows={} attached={} command={}",
            escape(&self.id),
            self.pid,
            self.started,
            self.cols,
            self.rows,
            u8::from(self.attached),
            escape(&self.command),
        );
        if let Some(c) = &self.client {
            let _ = write!(s, " client={}", escape(c));
        }
        if let Some(t) = self.last_contact {
            let _ = write!(s, " last_contact={t}");
        }
        if let Some(t) = self.detached_since {
            let _ = write!(s, " detached_since={t}");
        }
        s.push('\n');
        s
    }

    /// Parses a reply to `info`; unknown fields are skipped (a newer server
    /// may say more).
    pub fn parse(line: &str) -> Result<SessionInfo, String> {
        let body = ok_body(line)?;
        let mut info = SessionInfo::default();
        for word in body.split(' ').filter(|w| !w.is_empty()) {
            let (k, v) = word
                .split_once('=')
                .ok_or_else(|| format!("bad field {word:?}"))?;
            let num = |v: &str| v.parse::<u64>().map_err(|_| format!("bad {k}={v}"));
            match k {
                "id" => info.id = unescape(v)?,
                "pid" => info.pid = v.parse().map_err(|_| format!("bad pid={v}"))?,
                "started" => info.started = num(v)?,
                "cols" => info.cols = v.parse().map_err(|_| format!("bad cols={v}"))?,
                "rows" => info.rows = v.parse().map_err(|_| format!("bad rows={v}"))?,
                "attached" => info.attached = v == "1",
                "command" => info.command = unescape(v)?,
                "client" => info.client = Some(unescape(v)?),
                "last_contact" => info.last_contact = Some(num(v)?),
                "detached_since" => info.detached_since = Some(num(v)?),
                _ => {}
            }
        }
        if info.id.is_empty() {
            return Err("reply without an id".into());
        }
        Ok(info)
    }
}

/// The reply to a successful `attach` (newline included).
pub fn attach_reply(port: u16, key: &str) -> String {
    format!("ok {port} {key}\n")
}

/// Parses the reply to `attach`: the UDP port and the new key.
pub fn parse_attach_reply(line: &str) -> Result<(u16, String), String> {
    let body = ok_body(line)?;
    let mut words = body.split(' ');
    match (words.next(), words.next(), words.next()) {
        (Some(port), Some(key), None) => {
            let port = port.parse().map_err(|_| format!("bad port {port:?}"))?;
            Ok((port, key.to_owned()))
        }
        _ => Err("bad attach reply".into()),
    }
}

/// A refusal (newline included); the text is shown to the user.
pub fn error_reply(why: &str) -> String {
    format!("error {}\n", why.replace(['\n', '\r'], " "))
}

/// The text after `ok`, or the session's refusal as the error.
pub fn ok_body(line: &str) -> Result<&str, String> {
    let line = line.trim_end_matches('\n');
    if line == "ok" {
        return Ok("");
    }
    if let Some(body) = line.strip_prefix("ok ") {
        return Ok(body);
    }
    match line.strip_prefix("error ") {
        Some(why) => Err(why.to_owned()),
        None => Err(format!("unexpected reply {line:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_bad_ones_are_refused() {
        for r in [
            Request::Info,
            Request::Kill,
            Request::Attach(None),
            Request::Attach(Some(WindowSize {
                cols: 132,
                rows: 43,
            })),
        ] {
            assert_eq!(Request::parse(&r.to_line()), Ok(r));
        }
        assert!(Request::parse("attach 0 24").is_err());
        assert!(Request::parse("attach 80").is_err());
        assert!(Request::parse("attach 80 24 1").is_err());
        assert!(Request::parse("attach 99999 24").is_err());
        assert!(Request::parse("info x").is_err());
        assert!(Request::parse("").is_err());
    }

    #[test]
    fn info_round_trips_with_awkward_commands() {
        let info = SessionInfo {
            id: "k3x9".into(),
            pid: 4242,
            started: 1_700_000_000,
            command: "-bash 100% \t\n\u{1b}[m ü".into(),
            cols: 80,
            rows: 24,
            attached: false,
            client: Some("[::1]:5000".into()),
            last_contact: Some(1_700_000_100),
            detached_since: Some(1_700_000_100),
        };
        let line = info.to_line();
        assert_eq!(line.matches('\n').count(), 1, "one line: {line:?}");
        assert_eq!(SessionInfo::parse(&line), Ok(info));
        let bare = SessionInfo {
            id: "a".into(),
            ..SessionInfo::default()
        };
        assert_eq!(SessionInfo::parse(&bare.to_line()), Ok(bare));
        assert!(SessionInfo::parse("ok id=a future=1\n").is_ok());
        assert!(SessionInfo::parse("ok pid=1\n").is_err());
        assert!(SessionInfo::parse("ok id=%zz\n").is_err());
        assert_eq!(
            SessionInfo::parse("error no such thing\n"),
            Err("no such thing".into())
        );
    }

    #[test]
    fn attach_replies() {
        assert_eq!(
            parse_attach_reply(&attach_reply(60001, "VzSpsdwU3gLB52wEoNjlzg")),
            Ok((60001, "VzSpsdwU3gLB52wEoNjlzg".into()))
        );
        assert_eq!(
            parse_attach_reply(&error_reply("busy\nnow")),
            Err("busy now".into())
        );
        assert!(parse_attach_reply("ok 70000 k\n").is_err());
        assert!(parse_attach_reply("ok 1\n").is_err());
    }
}
