//! OpenSSH client configuration (`~/.ssh/config`, `/etc/ssh/ssh_config`, `-F`, `-o`).
//!
//! Evaluated the way `ssh` does it: the command line first, then the user file,
//! then the system file; `Host`/`Match` blocks are checked as they are met and the
//! first value obtained for a keyword wins (identity files accumulate). Parsing is
//! pure: files are read through a [`ConfigSource`] so tests use an in-memory one.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::pattern::{match_host_list, match_list, wildcard_match};

/// Maximum depth of nested `Include`s (OpenSSH uses 16).
const MAX_INCLUDE_DEPTH: usize = 16;

/// A configuration error, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// `file:line`, or `command line` for `-o` options.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Where configuration files come from (the real file system, or a map in tests).
pub trait ConfigSource {
    /// The contents of `path`, or `None` if it does not exist or cannot be read.
    fn read(&self, path: &Path) -> Option<String>;
    /// The existing files matching a glob pattern (`*`, `?` in any component), sorted.
    fn glob(&self, pattern: &Path) -> Vec<PathBuf>;
}

/// The real file system.
pub struct FsSource;

impl ConfigSource for FsSource {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    fn glob(&self, pattern: &Path) -> Vec<PathBuf> {
        let mut current = vec![PathBuf::new()];
        for comp in pattern.components() {
            let part = comp.as_os_str().to_string_lossy().into_owned();
            let mut next = Vec::new();
            for base in &current {
                if part.contains(['*', '?']) {
                    let dir = if base.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        base.as_path()
                    };
                    let Ok(rd) = std::fs::read_dir(dir) else {
                        continue;
                    };
                    let mut names: Vec<String> = rd
                        .filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| !n.starts_with('.') || part.starts_with('.'))
                        .filter(|n| wildcard_match(&part, n))
                        .collect();
                    names.sort();
                    next.extend(names.into_iter().map(|n| base.join(n)));
                } else {
                    next.push(base.join(&part));
                }
            }
            current = next;
        }
        current.retain(|p| p.is_file());
        current
    }
}

/// `StrictHostKeyChecking` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StrictHostKeyChecking {
    /// Never add keys automatically; refuse unknown hosts.
    Yes,
    /// Ask on the terminal for unknown hosts (the default).
    #[default]
    Ask,
    /// Add unknown hosts silently, refuse changed keys.
    AcceptNew,
    /// Add unknown hosts and connect to changed ones (`no` / `off`).
    No,
}

/// `AddressFamily` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressFamily {
    /// IPv4 or IPv6.
    #[default]
    Any,
    /// IPv4 only.
    Inet,
    /// IPv6 only.
    Inet6,
}

fn parse_family(v: &str) -> Result<AddressFamily, String> {
    match v.to_ascii_lowercase().as_str() {
        "any" => Ok(AddressFamily::Any),
        "inet" => Ok(AddressFamily::Inet),
        "inet6" => Ok(AddressFamily::Inet6),
        _ => Err(format!("bad AddressFamily '{v}'")),
    }
}

/// One `ProxyJump` hop: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    /// User to log in as on the hop, if given.
    pub user: Option<String>,
    /// Host name or alias (resolved through the configuration again).
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
}

/// How to reach the destination.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Proxy {
    /// A direct TCP connection.
    #[default]
    Direct,
    /// Through these hops, first one connected first.
    Jump(Vec<JumpHost>),
    /// Through this command's stdin/stdout (tokens already expanded).
    Command(String),
}

/// Which agent socket to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IdentityAgent {
    /// `SSH_AUTH_SOCK` from the environment.
    #[default]
    Environment,
    /// No agent.
    None,
    /// This socket.
    Socket(PathBuf),
}

/// The settings for one destination after all files were applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// The host as typed (alias).
    pub original_host: String,
    /// The name or address to connect to (`HostName`, `%h` expanded).
    pub hostname: String,
    /// Remote user.
    pub user: String,
    /// TCP port.
    pub port: u16,
    /// Identity files, in order, tokens and `~` expanded.
    pub identity_files: Vec<PathBuf>,
    /// Whether only the configured identities may be used.
    pub identities_only: bool,
    /// Which agent to ask.
    pub identity_agent: IdentityAgent,
    /// How to reach the host.
    pub proxy: Proxy,
    /// User known_hosts files (the first one is written to).
    pub user_known_hosts_files: Vec<PathBuf>,
    /// System known_hosts files (read only).
    pub global_known_hosts_files: Vec<PathBuf>,
    /// Host key policy.
    pub strict_host_key_checking: StrictHostKeyChecking,
    /// Whether new known_hosts entries are hashed.
    pub hash_known_hosts: bool,
    /// Name under which the host key is looked up instead of the host name.
    pub host_key_alias: Option<String>,
    /// TCP connect (and SSH handshake) timeout.
    pub connect_timeout: Option<Duration>,
    /// Keep-alive interval (0/None = off).
    pub server_alive_interval: Option<Duration>,
    /// Unanswered keep-alives before giving up.
    pub server_alive_count_max: u32,
    /// Never prompt (passwords, passphrases, host keys).
    pub batch_mode: bool,
    /// Whether password authentication is tried.
    pub password_authentication: bool,
    /// Whether keyboard-interactive authentication is tried.
    pub kbd_interactive_authentication: bool,
    /// Whether public-key authentication is tried.
    pub pubkey_authentication: bool,
    /// `AddressFamily`: which IP versions to connect with.
    pub address_family: AddressFamily,
    /// Notes about configuration the bootstrapper does not act on (e.g. `Match exec`).
    pub warnings: Vec<String>,
    /// Where each value that took effect was set: `(location, "keyword value")`,
    /// in the order they were read (for `-v`).
    pub origins: Vec<(String, String)>,
}

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The destination's host part as typed.
    pub host: String,
    /// `-F file` (`none` = no files at all).
    pub config_file: Option<PathBuf>,
    /// Command-line options in argv order: `-p`, `-l`, `-i` and `-o` become
    /// `(keyword, value)` pairs here (e.g. `("Port", "2222")`).
    pub options: Vec<(String, String)>,
}

/// Local facts used for token expansion and defaults.
#[derive(Debug, Clone)]
pub struct LocalContext {
    /// Local home directory (`~`, `%d`).
    pub home: PathBuf,
    /// Local user name (`%u`, default remote user).
    pub user: String,
    /// The system configuration file (normally `/etc/ssh/ssh_config`).
    pub system_config: PathBuf,
}

impl LocalContext {
    /// The current user's context from the environment (no NSS lookups).
    pub fn from_env() -> LocalContext {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/"));
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| passwd_name_for_uid().unwrap_or_else(|| "root".into()));
        LocalContext {
            home,
            user,
            system_config: PathBuf::from("/etc/ssh/ssh_config"),
        }
    }
}

/// The login name for our uid read from /etc/passwd directly (static-binary safe).
fn passwd_name_for_uid() -> Option<String> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _pw = f.next()?;
        let id: u32 = f.next()?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Host(Vec<String>),
    Match(Vec<Criterion>),
    Include(Vec<String>),
    Setting { key: String, args: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Criterion {
    All,
    Final,
    Canonical,
    Host(bool, Vec<String>),
    OriginalHost(bool, Vec<String>),
    User(bool, Vec<String>),
    LocalUser(bool, Vec<String>),
    Unsupported(String),
}

/// A parsed configuration line and its location.
#[derive(Debug, Clone)]
struct Line {
    location: String,
    item: Item,
}

/// Splits a line into words, honouring double quotes (OpenSSH's `argv_split`).
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            '\\' if matches!(chars.peek(), Some('"') | Some('\\')) => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '#' if !quoted && !in_word => break,
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Splits `Keyword value…` / `Keyword=value…` into the keyword and its words.
pub(crate) fn split_keyword(line: &str) -> Result<Option<(String, Vec<String>)>, String> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let end = trimmed
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(trimmed.len());
    let (key, rest) = trimmed.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    Ok(Some((key.to_ascii_lowercase(), split_words(rest)?)))
}

fn parse_match(args: &[String]) -> Result<Vec<Criterion>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(word) = it.next() {
        let (neg, name) = match word.strip_prefix('!') {
            Some(n) => (true, n.to_ascii_lowercase()),
            None => (false, word.to_ascii_lowercase()),
        };
        let mut list = |name: &str| -> Result<Vec<String>, String> {
            let v = it
                .next()
                .ok_or_else(|| format!("Match keyword '{name}' needs an argument"))?;
            Ok(v.split(',').map(str::to_string).collect())
        };
        let c = match name.as_str() {
            "all" => Criterion::All,
            "final" => Criterion::Final,
            "canonical" => Criterion::Canonical,
            "host" => Criterion::Host(neg, list("host")?),
            "originalhost" => Criterion::OriginalHost(neg, list("originalhost")?),
            "user" => Criterion::User(neg, list("user")?),
            "localuser" => Criterion::LocalUser(neg, list("localuser")?),
            "exec" | "localnetwork" | "tagged" | "command" | "version" | "sessiontype" => {
                let _ = list(&name)?;
                Criterion::Unsupported(name)
            }
            other => return Err(format!("unsupported Match attribute '{other}'")),
        };
        out.push(c);
    }
    if out.is_empty() {
        return Err("Match needs at least one criterion".into());
    }
    Ok(out)
}

/// Parses one configuration file's text (pure). `location` names the file.
fn parse_text(text: &str, location: &str) -> Result<Vec<Line>, ConfigError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let loc = format!("{location}:{}", i + 1);
        let err = |message: String| ConfigError {
            location: loc.clone(),
            message,
        };
        let Some((key, args)) = split_keyword(raw).map_err(err)? else {
            continue;
        };
        let item = match key.as_str() {
            "host" => {
                if args.is_empty() {
                    return Err(err("Host needs at least one pattern".into()));
                }
                Item::Host(args)
            }
            "match" => Item::Match(parse_match(&args).map_err(err)?),
            "include" => {
                if args.is_empty() {
                    return Err(err("Include needs a file name".into()));
                }
                Item::Include(args)
            }
            _ => {
                if args.is_empty() {
                    return Err(err(format!("missing argument for '{key}'")));
                }
                Item::Setting { key, args }
            }
        };
        out.push(Line {
            location: loc,
            item,
        });
    }
    Ok(out)
}

/// Settings collected so far (first value wins).
#[derive(Debug, Default)]
struct Collected {
    values: HashMap<&'static str, Vec<String>>,
    identity_files: Vec<String>,
    user_known_hosts: Option<Vec<String>>,
    global_known_hosts: Option<Vec<String>>,
    proxy: Option<ProxySetting>,
    warnings: Vec<String>,
    origins: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
enum ProxySetting {
    None,
    Jump(Vec<JumpHost>),
    Command(String),
}

/// Keywords that take one value and that we act on.
const SINGLE: &[&str] = &[
    "hostname",
    "user",
    "port",
    "identitiesonly",
    "identityagent",
    "stricthostkeychecking",
    "connecttimeout",
    "serveraliveinterval",
    "serveralivecountmax",
    "hashknownhosts",
    "hostkeyalias",
    "batchmode",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "pubkeyauthentication",
    "addressfamily",
];

fn parse_yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("expected yes or no, got '{v}'")),
    }
}

fn parse_port(v: &str) -> Result<u16, String> {
    match v.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("bad port '{v}'")),
    }
}

fn parse_seconds(v: &str) -> Result<Duration, String> {
    // OpenSSH time format: plain seconds or with s/m/h/d/w suffixes, concatenated.
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in v.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let mult = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604800,
            _ => return Err(format!("bad time value '{v}'")),
        };
        let n: u64 = num.parse().map_err(|_| format!("bad time value '{v}'"))?;
        total = total.saturating_add(n.saturating_mul(mult));
        num.clear();
    }
    if !num.is_empty() {
        let n: u64 = num.parse().map_err(|_| format!("bad time value '{v}'"))?;
        total = total.saturating_add(n);
    }
    if v.is_empty() {
        return Err("empty time value".into());
    }
    Ok(Duration::from_secs(total))
}

/// Parses one `ProxyJump` hop: `[user@]host[:port]` or `ssh://[user@]host[:port]`.
pub fn parse_jump_host(s: &str) -> Result<JumpHost, String> {
    let s = s.strip_prefix("ssh://").unwrap_or(s);
    let (user, hostport) = match s.rfind('@') {
        Some(i) => (Some(s[..i].to_string()), &s[i + 1..]),
        None => (None, s),
    };
    if user.as_deref() == Some("") {
        return Err(format!("bad ProxyJump hop '{s}': empty user"));
    }
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let close = rest
            .find(']')
            .ok_or_else(|| format!("bad ProxyJump hop '{s}': missing ']'"))?;
        let host = &rest[..close];
        let after = &rest[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(parse_port(p)?),
            None if after.is_empty() => None,
            None => return Err(format!("bad ProxyJump hop '{s}'")),
        };
        (host.to_string(), port)
    } else if hostport.matches(':').count() == 1 {
        let (h, p) = hostport.split_once(':').unwrap_or((hostport, ""));
        (h.to_string(), Some(parse_port(p)?))
    } else {
        (hostport.to_string(), None)
    };
    if host.is_empty() {
        return Err(format!("bad ProxyJump hop '{s}': empty host"));
    }
    Ok(JumpHost { user, host, port })
}

impl Collected {
    /// Records a keyword's value unless one was recorded already, and where
    /// it came from when it takes effect.
    fn apply(&mut self, key: &str, args: &[String], location: &str) -> Result<(), String> {
        if self.take(key, args)? {
            self.origins
                .push((location.to_string(), format!("{key} {}", args.join(" "))));
        }
        Ok(())
    }

    /// Stores the value; true when it takes effect (first value wins).
    fn take(&mut self, key: &str, args: &[String]) -> Result<bool, String> {
        let first = args.first().cloned().unwrap_or_default();
        match key {
            "identityfile" => {
                self.identity_files.push(first);
                Ok(true)
            }
            "userknownhostsfile" => Ok(self.user_known_hosts.is_none() && {
                self.user_known_hosts = Some(args.to_vec());
                true
            }),
            "globalknownhostsfile" => Ok(self.global_known_hosts.is_none() && {
                self.global_known_hosts = Some(args.to_vec());
                true
            }),
            "proxyjump" => {
                let v = if first.eq_ignore_ascii_case("none") {
                    ProxySetting::None
                } else {
                    let hops = first
                        .split(',')
                        .map(parse_jump_host)
                        .collect::<Result<Vec<_>, _>>()?;
                    ProxySetting::Jump(hops)
                };
                Ok(self.proxy.is_none() && {
                    self.proxy = Some(v);
                    true
                })
            }
            "proxycommand" => {
                let cmd = args.join(" ");
                let v = if cmd.eq_ignore_ascii_case("none") {
                    ProxySetting::None
                } else {
                    ProxySetting::Command(cmd)
                };
                Ok(self.proxy.is_none() && {
                    self.proxy = Some(v);
                    true
                })
            }
            k => {
                let Some(&name) = SINGLE.iter().find(|&&s| s == k) else {
                    // Unknown or irrelevant keywords are ignored on purpose.
                    return Ok(false);
                };
                // Validate even when an earlier value wins, as ssh does.
                match name {
                    "port" => {
                        parse_port(&first)?;
                    }
                    "identitiesonly"
                    | "hashknownhosts"
                    | "batchmode"
                    | "passwordauthentication"
                    | "kbdinteractiveauthentication"
                    | "pubkeyauthentication" => {
                        parse_yes_no(&first)?;
                    }
                    "stricthostkeychecking" => {
                        parse_strict(&first)?;
                    }
                    "addressfamily" => {
                        parse_family(&first)?;
                    }
                    "connecttimeout" | "serveraliveinterval"
                        if !first.eq_ignore_ascii_case("none") =>
                    {
                        parse_seconds(&first)?;
                    }
                    "serveralivecountmax" => {
                        first
                            .parse::<u32>()
                            .map_err(|_| format!("bad number '{first}'"))?;
                    }
                    _ => {}
                }
                Ok(match self.values.entry(name) {
                    std::collections::hash_map::Entry::Occupied(_) => false,
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(args.to_vec());
                        true
                    }
                })
            }
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

fn parse_strict(v: &str) -> Result<StrictHostKeyChecking, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(StrictHostKeyChecking::Yes),
        "ask" => Ok(StrictHostKeyChecking::Ask),
        "accept-new" => Ok(StrictHostKeyChecking::AcceptNew),
        "no" | "off" | "false" => Ok(StrictHostKeyChecking::No),
        _ => Err(format!("bad StrictHostKeyChecking value '{v}'")),
    }
}

/// Evaluates configuration files for one destination.
pub struct Resolver<'a> {
    source: &'a dyn ConfigSource,
    local: &'a LocalContext,
}

/// The state of one evaluation pass.
struct Pass<'r> {
    original_host: &'r str,
    collected: Collected,
}

impl<'a> Resolver<'a> {
    /// A resolver reading files from `source`.
    pub fn new(source: &'a dyn ConfigSource, local: &'a LocalContext) -> Resolver<'a> {
        Resolver { source, local }
    }

    /// Resolves the settings for `req`.
    pub fn resolve(&self, req: &Request) -> Result<HostConfig, ConfigError> {
        let mut pass = Pass {
            original_host: &req.host,
            collected: Collected::default(),
        };
        for (k, v) in &req.options {
            let key = k.to_ascii_lowercase();
            let args = split_words(v).map_err(|m| ConfigError {
                location: "command line".into(),
                message: m,
            })?;
            pass.collected
                .apply(&key, &args, "command line")
                .map_err(|m| ConfigError {
                    location: "command line".into(),
                    message: format!("{k}: {m}"),
                })?;
        }
        let ssh_dir = self.local.home.join(".ssh");
        match &req.config_file {
            Some(f) if f.as_os_str() == "none" => {}
            Some(f) => {
                let path = self.expand_tilde(&f.to_string_lossy());
                let text = self.source.read(&path).ok_or_else(|| ConfigError {
                    location: path.display().to_string(),
                    message: "cannot read the configuration file".into(),
                })?;
                self.run_file(&mut pass, &text, &path, &ssh_dir, 0)?;
            }
            None => {
                let user = ssh_dir.join("config");
                if let Some(text) = self.source.read(&user) {
                    self.run_file(&mut pass, &text, &user, &ssh_dir, 0)?;
                }
                let sys = self.local.system_config.clone();
                let sys_dir = sys
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("/etc/ssh"));
                if let Some(text) = self.source.read(&sys) {
                    self.run_file(&mut pass, &text, &sys, &sys_dir, 0)?;
                }
            }
        }
        self.finish(req, pass.collected)
    }

    fn expand_tilde(&self, p: &str) -> PathBuf {
        if p == "~" {
            self.local.home.clone()
        } else if let Some(rest) = p.strip_prefix("~/") {
            self.local.home.join(rest)
        } else {
            PathBuf::from(p)
        }
    }

    fn run_file(
        &self,
        pass: &mut Pass<'_>,
        text: &str,
        path: &Path,
        include_dir: &Path,
        depth: usize,
    ) -> Result<(), ConfigError> {
        log::debug!("Reading configuration data {}", path.display());
        let lines = parse_text(text, &path.display().to_string())?;
        let mut active = true;
        for line in lines {
            match &line.item {
                Item::Host(patterns) => {
                    active =
                        match_host_list(pass.original_host, patterns.iter().map(String::as_str));
                }
                Item::Match(criteria) => {
                    active = self.eval_match(pass, criteria, &line.location);
                }
                Item::Include(patterns) => {
                    if !active {
                        continue;
                    }
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(ConfigError {
                            location: line.location.clone(),
                            message: "Include nested too deeply".into(),
                        });
                    }
                    for pat in patterns {
                        let p = self.expand_tilde(pat);
                        let p = if p.is_absolute() {
                            p
                        } else {
                            include_dir.join(p)
                        };
                        for file in self.source.glob(&p) {
                            if let Some(t) = self.source.read(&file) {
                                self.run_file(pass, &t, &file, include_dir, depth + 1)?;
                            }
                        }
                    }
                }
                Item::Setting { key, args } => {
                    if active {
                        pass.collected
                            .apply(key, args, &line.location)
                            .map_err(|m| ConfigError {
                                location: line.location.clone(),
                                message: m,
                            })?;
                    }
                }
            }
        }
        Ok(())
    }

    fn eval_match(&self, pass: &mut Pass<'_>, criteria: &[Criterion], location: &str) -> bool {
        let target = pass
            .collected
            .get("hostname")
            .map(|h| h.replace("%h", pass.original_host))
            .unwrap_or_else(|| pass.original_host.to_string());
        let user = pass
            .collected
            .get("user")
            .unwrap_or(&self.local.user)
            .to_string();
        let mut all = true;
        for c in criteria {
            let ok = match c {
                Criterion::All | Criterion::Final => true,
                Criterion::Canonical => false,
                Criterion::Host(neg, l) => {
                    neg ^ match_host_list(&target, l.iter().map(String::as_str))
                }
                Criterion::OriginalHost(neg, l) => {
                    neg ^ match_host_list(pass.original_host, l.iter().map(String::as_str))
                }
                Criterion::User(neg, l) => neg ^ match_list(&user, l.iter().map(String::as_str)),
                Criterion::LocalUser(neg, l) => {
                    neg ^ match_list(&self.local.user, l.iter().map(String::as_str))
                }
                Criterion::Unsupported(name) => {
                    pass.collected.warnings.push(format!(
                        "{location}: Match {name} is not supported by rmosh; treating it as not matching"
                    ));
                    false
                }
            };
            all &= ok;
        }
        all
    }

    fn finish(&self, req: &Request, c: Collected) -> Result<HostConfig, ConfigError> {
        let bad = |m: String| ConfigError {
            location: "configuration".into(),
            message: m,
        };
        let original = req.host.clone();
        let hostname = c
            .get("hostname")
            .map(|h| expand_percent(h, &[('h', &original)]))
            .unwrap_or_else(|| original.clone());
        let port = match c.get("port") {
            Some(p) => parse_port(p).map_err(bad)?,
            None => 22,
        };
        let user = c.get("user").unwrap_or(&self.local.user).to_string();
        let port_s = port.to_string();
        let home = self.local.home.to_string_lossy().into_owned();
        let tokens: Vec<(char, &str)> = vec![
            ('h', &hostname),
            ('n', &original),
            ('p', &port_s),
            ('r', &user),
            ('u', &self.local.user),
            ('d', &home),
        ];
        let path = |s: &str| self.expand_tilde(&expand_percent(s, &tokens));
        let mut identity_files: Vec<PathBuf> = c.identity_files.iter().map(|s| path(s)).collect();
        if identity_files.is_empty() {
            for name in ["id_rsa", "id_ecdsa", "id_ed25519"] {
                identity_files.push(self.local.home.join(".ssh").join(name));
            }
        }
        let flag = |k: &str, default: bool| -> Result<bool, ConfigError> {
            c.get(k)
                .map(|v| parse_yes_no(v).map_err(bad))
                .unwrap_or(Ok(default))
        };
        let identity_agent = match c.get("identityagent") {
            None => IdentityAgent::Environment,
            Some(v) if v.eq_ignore_ascii_case("none") => IdentityAgent::None,
            Some("SSH_AUTH_SOCK") => IdentityAgent::Environment,
            Some(v) => match v.strip_prefix('$') {
                Some(var) => match std::env::var_os(var) {
                    Some(s) => IdentityAgent::Socket(PathBuf::from(s)),
                    None => IdentityAgent::None,
                },
                None => IdentityAgent::Socket(path(v)),
            },
        };
        let proxy = match &c.proxy {
            None | Some(ProxySetting::None) => Proxy::Direct,
            Some(ProxySetting::Jump(h)) => Proxy::Jump(h.clone()),
            Some(ProxySetting::Command(cmd)) => Proxy::Command(expand_percent(cmd, &tokens)),
        };
        let user_known_hosts_files = match &c.user_known_hosts {
            Some(v)
                if v.len() == 1 && v.first().is_some_and(|s| s.eq_ignore_ascii_case("none")) =>
            {
                Vec::new()
            }
            Some(v) => v.iter().map(|s| path(s)).collect(),
            None => vec![
                self.local.home.join(".ssh/known_hosts"),
                self.local.home.join(".ssh/known_hosts2"),
            ],
        };
        let global_known_hosts_files = match &c.global_known_hosts {
            Some(v)
                if v.len() == 1 && v.first().is_some_and(|s| s.eq_ignore_ascii_case("none")) =>
            {
                Vec::new()
            }
            Some(v) => v.iter().map(|s| path(s)).collect(),
            None => vec![
                PathBuf::from("/etc/ssh/ssh_known_hosts"),
                PathBuf::from("/etc/ssh/ssh_known_hosts2"),
            ],
        };
        let secs = |k: &str| -> Result<Option<Duration>, ConfigError> {
            match c.get(k) {
                None => Ok(None),
                Some(v) if v.eq_ignore_ascii_case("none") => Ok(None),
                Some(v) => {
                    let d = parse_seconds(v).map_err(bad)?;
                    Ok((!d.is_zero()).then_some(d))
                }
            }
        };
        Ok(HostConfig {
            original_host: original.clone(),
            hostname: hostname.clone(),
            user: user.clone(),
            port,
            identity_files,
            identities_only: flag("identitiesonly", false)?,
            identity_agent,
            proxy,
            user_known_hosts_files,
            global_known_hosts_files,
            strict_host_key_checking: match c.get("stricthostkeychecking") {
                Some(v) => parse_strict(v).map_err(bad)?,
                None => StrictHostKeyChecking::Ask,
            },
            hash_known_hosts: flag("hashknownhosts", false)?,
            host_key_alias: c.get("hostkeyalias").map(str::to_string),
            connect_timeout: secs("connecttimeout")?,
            // As in OpenSSH, BatchMode turns keep-alives on unless they were set.
            server_alive_interval: match c.get("serveraliveinterval") {
                None if flag("batchmode", false)? => Some(Duration::from_secs(300)),
                _ => secs("serveraliveinterval")?,
            },
            server_alive_count_max: match c.get("serveralivecountmax") {
                Some(v) => v.parse().map_err(|_| bad(format!("bad number '{v}'")))?,
                None => 3,
            },
            batch_mode: flag("batchmode", false)?,
            password_authentication: flag("passwordauthentication", true)?,
            kbd_interactive_authentication: flag("kbdinteractiveauthentication", true)?,
            pubkey_authentication: flag("pubkeyauthentication", true)?,
            address_family: match c.get("addressfamily") {
                Some(v) => parse_family(v).map_err(bad)?,
                None => AddressFamily::Any,
            },
            warnings: c.warnings.clone(),
            origins: c.origins.clone(),
        })
    }
}

/// Expands `%x` tokens from `tokens` and `%%`; unknown tokens are left as they are.
pub fn expand_percent(s: &str, tokens: &[(char, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match tokens.iter().find(|(k, _)| *k == t) {
                Some((_, v)) => out.push_str(v),
                None => {
                    out.push('%');
                    out.push(t);
                }
            },
            None => out.push('%'),
        }
    }
    out
}

/// Splits `[user@]host` into its parts (the last `@` separates them).
pub fn split_destination(dest: &str) -> (Option<String>, String) {
    let dest = dest.strip_prefix("ssh://").unwrap_or(dest);
    match dest.rfind('@') {
        Some(i) if i > 0 => (Some(dest[..i].to_string()), dest[i + 1..].to_string()),
        Some(i) => (None, dest[i + 1..].to_string()),
        None => (None, dest.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An in-memory file system.
    struct MapSource(HashMap<PathBuf, String>);

    impl ConfigSource for MapSource {
        fn read(&self, path: &Path) -> Option<String> {
            self.0.get(path).cloned()
        }
        fn glob(&self, pattern: &Path) -> Vec<PathBuf> {
            let pat = pattern.to_string_lossy();
            let mut v: Vec<PathBuf> = self
                .0
                .keys()
                .filter(|p| wildcard_match(&pat, &p.to_string_lossy()))
                .cloned()
                .collect();
            v.sort();
            v
        }
    }

    fn local() -> LocalContext {
        LocalContext {
            home: PathBuf::from("/home/me"),
            user: "me".into(),
            system_config: PathBuf::from("/etc/ssh/ssh_config"),
        }
    }

    fn resolve_with(
        files: &[(&str, &str)],
        host: &str,
        options: &[(&str, &str)],
    ) -> Result<HostConfig, ConfigError> {
        let src = MapSource(
            files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
        );
        let l = local();
        let req = Request {
            host: host.into(),
            config_file: None,
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        Resolver::new(&src, &l).resolve(&req)
    }

    #[test]
    fn defaults_without_files() {
        let c = resolve_with(&[], "example.org", &[]).unwrap();
        assert_eq!(c.hostname, "example.org");
        assert_eq!(c.user, "me");
        assert_eq!(c.port, 22);
        assert_eq!(c.proxy, Proxy::Direct);
        assert_eq!(c.strict_host_key_checking, StrictHostKeyChecking::Ask);
        assert_eq!(
            c.identity_files.first().unwrap(),
            Path::new("/home/me/.ssh/id_rsa")
        );
        assert_eq!(
            c.user_known_hosts_files.first().unwrap(),
            Path::new("/home/me/.ssh/known_hosts")
        );
    }

    #[test]
    fn first_match_wins_and_host_patterns() {
        let cfg = "\
# comment
Host web? !web9
    HostName %h.internal
    User deploy
Host *
    User nobody
    Port 2222
    HostName ignored
";
        let c = resolve_with(&[("/home/me/.ssh/config", cfg)], "web1", &[]).unwrap();
        assert_eq!(c.hostname, "web1.internal");
        assert_eq!(c.user, "deploy");
        assert_eq!(c.port, 2222);
        let c = resolve_with(&[("/home/me/.ssh/config", cfg)], "web9", &[]).unwrap();
        assert_eq!(c.hostname, "ignored");
        assert_eq!(c.user, "nobody");
    }

    #[test]
    fn command_line_beats_files_and_user_file_beats_system() {
        let files = [
            ("/home/me/.ssh/config", "Host h\n  Port 1000\n"),
            ("/etc/ssh/ssh_config", "Host *\n  Port 3000\n  User sys\n"),
        ];
        let c = resolve_with(&files, "h", &[]).unwrap();
        assert_eq!((c.port, c.user.as_str()), (1000, "sys"));
        let c = resolve_with(
            &files,
            "h",
            &[("Port", "5"), ("Port", "6"), ("User", "cli")],
        )
        .unwrap();
        assert_eq!((c.port, c.user.as_str()), (5, "cli"));
    }

    #[test]
    fn include_relative_globs_inside_host_blocks() {
        let files = [
            (
                "/home/me/.ssh/config",
                "Include conf.d/*.conf\nHost other\n  Include never.conf\n",
            ),
            (
                "/home/me/.ssh/conf.d/a.conf",
                "Host alias\n  HostName 10.0.0.1\n  Port=2200\n",
            ),
            (
                "/home/me/.ssh/conf.d/b.conf",
                "Host alias\n  HostName 10.0.0.2\n  User bob\n",
            ),
            ("/home/me/.ssh/never.conf", "User never\n"),
        ];
        let c = resolve_with(&files, "alias", &[]).unwrap();
        assert_eq!(c.hostname, "10.0.0.1");
        assert_eq!(c.port, 2200);
        assert_eq!(c.user, "bob");
    }

    #[test]
    fn match_host_uses_hostname_and_user_criteria() {
        let cfg = "\
Host short
  HostName long.example.com
Match host *.example.com user me
  Port 2022
Match originalhost short !localuser root
  User viaoriginal
Match all
  IdentityFile ~/.ssh/%r@%h
";
        let c = resolve_with(&[("/home/me/.ssh/config", cfg)], "short", &[]).unwrap();
        assert_eq!(c.port, 2022);
        assert_eq!(c.user, "viaoriginal");
        assert_eq!(
            c.identity_files,
            vec![PathBuf::from("/home/me/.ssh/viaoriginal@long.example.com")]
        );
    }

    #[test]
    fn match_exec_is_a_warning_not_a_match() {
        let cfg = "Match exec \"true\"\n  Port 1\n";
        let c = resolve_with(&[("/home/me/.ssh/config", cfg)], "h", &[]).unwrap();
        assert_eq!(c.port, 22);
        assert_eq!(c.warnings.len(), 1);
    }

    #[test]
    fn identity_files_accumulate_with_tokens() {
        let cfg = "Host h\n  IdentityFile %d/k1\n  IdentityFile ~/k2-%u\n  IdentitiesOnly yes\n  IdentityAgent none\n";
        let c = resolve_with(
            &[("/home/me/.ssh/config", cfg)],
            "h",
            &[("IdentityFile", "/cli")],
        )
        .unwrap();
        assert_eq!(
            c.identity_files,
            vec![
                PathBuf::from("/cli"),
                PathBuf::from("/home/me/k1"),
                PathBuf::from("/home/me/k2-me")
            ]
        );
        assert!(c.identities_only);
        assert_eq!(c.identity_agent, IdentityAgent::None);
    }

    #[test]
    fn proxy_settings() {
        let cfg = "\
Host a
  ProxyJump alice@j1:2201,[::1]:23,ssh://j3
Host b
  ProxyCommand nc %h %p
Host c
  ProxyJump none
  ProxyCommand nc x y
";
        let f = [("/home/me/.ssh/config", cfg)];
        let c = resolve_with(&f, "a", &[]).unwrap();
        assert_eq!(
            c.proxy,
            Proxy::Jump(vec![
                JumpHost {
                    user: Some("alice".into()),
                    host: "j1".into(),
                    port: Some(2201)
                },
                JumpHost {
                    user: None,
                    host: "::1".into(),
                    port: Some(23)
                },
                JumpHost {
                    user: None,
                    host: "j3".into(),
                    port: None
                },
            ])
        );
        let c = resolve_with(&f, "b", &[("Port", "99")]).unwrap();
        assert_eq!(c.proxy, Proxy::Command("nc b 99".into()));
        let c = resolve_with(&f, "c", &[]).unwrap();
        assert_eq!(c.proxy, Proxy::Direct);
    }

    #[test]
    fn strict_checking_and_timeouts() {
        let cfg = "Host *\n StrictHostKeyChecking accept-new\n ConnectTimeout 1m30s\n ServerAliveInterval 15\n UserKnownHostsFile ~/kh /tmp/kh2\n HashKnownHosts yes\n";
        let c = resolve_with(&[("/home/me/.ssh/config", cfg)], "x", &[]).unwrap();
        assert_eq!(c.strict_host_key_checking, StrictHostKeyChecking::AcceptNew);
        assert_eq!(c.connect_timeout, Some(Duration::from_secs(90)));
        assert_eq!(c.server_alive_interval, Some(Duration::from_secs(15)));
        assert_eq!(
            c.user_known_hosts_files,
            vec![PathBuf::from("/home/me/kh"), PathBuf::from("/tmp/kh2")]
        );
        assert!(c.hash_known_hosts);
        assert_eq!(c.address_family, AddressFamily::Any);
        let c = resolve_with(&[], "x", &[("AddressFamily", "inet6")]).unwrap();
        assert_eq!(c.address_family, AddressFamily::Inet6);
        for (v, want) in [
            ("off", StrictHostKeyChecking::No),
            ("no", StrictHostKeyChecking::No),
            ("yes", StrictHostKeyChecking::Yes),
            ("ask", StrictHostKeyChecking::Ask),
        ] {
            let c = resolve_with(&[], "x", &[("StrictHostKeyChecking", v)]).unwrap();
            assert_eq!(c.strict_host_key_checking, want);
        }
    }

    #[test]
    fn errors_name_file_and_line() {
        let cfg = "Host x\n  Port notaport\n";
        let e = resolve_with(&[("/home/me/.ssh/config", cfg)], "x", &[]).unwrap_err();
        assert_eq!(e.location, "/home/me/.ssh/config:2");
        assert!(e.message.contains("notaport"), "{e}");
        let e = resolve_with(&[("/home/me/.ssh/config", "Host\n")], "x", &[]).unwrap_err();
        assert_eq!(e.location, "/home/me/.ssh/config:1");
        let e = resolve_with(&[("/home/me/.ssh/config", "User \"open\n")], "x", &[]).unwrap_err();
        assert!(e.message.contains("quote"));
        let e = resolve_with(&[], "x", &[("StrictHostKeyChecking", "maybe")]).unwrap_err();
        assert_eq!(e.location, "command line");
    }

    #[test]
    fn unknown_keywords_are_ignored() {
        let cfg = "Host *\n  ForwardX11 yes\n  SomethingNew value\n  User u\n";
        let c = resolve_with(&[("/home/me/.ssh/config", cfg)], "x", &[]).unwrap();
        assert_eq!(c.user, "u");
    }

    #[test]
    fn config_file_option_replaces_default_files() {
        let src = MapSource(
            [
                (
                    PathBuf::from("/home/me/.ssh/config"),
                    "User a\n".to_string(),
                ),
                (PathBuf::from("/home/me/alt"), "User b\n".to_string()),
            ]
            .into_iter()
            .collect(),
        );
        let l = local();
        let mut req = Request {
            host: "h".into(),
            config_file: Some(PathBuf::from("~/alt")),
            options: vec![],
        };
        assert_eq!(Resolver::new(&src, &l).resolve(&req).unwrap().user, "b");
        req.config_file = Some(PathBuf::from("none"));
        assert_eq!(Resolver::new(&src, &l).resolve(&req).unwrap().user, "me");
        req.config_file = Some(PathBuf::from("/missing"));
        assert!(Resolver::new(&src, &l).resolve(&req).is_err());
    }

    #[test]
    fn word_splitting_and_destinations() {
        assert_eq!(
            split_words(r#"a "b c" d\"e"#).unwrap(),
            vec!["a", "b c", "d\"e"]
        );
        assert_eq!(split_words("x # comment").unwrap(), vec!["x"]);
        assert_eq!(
            split_destination("u@h"),
            (Some("u".to_string()), "h".to_string())
        );
        assert_eq!(
            split_destination("a@b@h"),
            (Some("a@b".to_string()), "h".to_string())
        );
        assert_eq!(split_destination("h"), (None, "h".to_string()));
        assert!(parse_jump_host("@h").is_err());
        assert!(parse_jump_host("h:notaport").is_err());
        assert_eq!(expand_percent("%%h%h%z", &[('h', "X")]), "%hX%z");
    }

    #[test]
    fn fs_glob_finds_files() {
        let dir = std::env::temp_dir().join(format!("rmosh-glob-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("d/b.conf"), "x").unwrap();
        std::fs::write(dir.join("d/a.conf"), "x").unwrap();
        std::fs::write(dir.join("d/c.txt"), "x").unwrap();
        let got = FsSource.glob(&dir.join("d/*.conf"));
        assert_eq!(got, vec![dir.join("d/a.conf"), dir.join("d/b.conf")]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
