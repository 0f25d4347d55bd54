//! `rmosh server list | kill | attach`: the commands that find running
//! sessions through the registry (docs/sessions.md).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use super::control::{Request, SessionInfo, ok_body, parse_attach_reply};
use super::launch::connect_line;
use super::process;
use super::registry::{self, AskError, Probe};

/// Options of `rmosh server list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// One JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `rmosh server kill`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).multiple(true)))]
pub struct KillArgs {
    /// The sessions to end (their ids, from `rmosh server list`).
    #[arg(group = "which")]
    pub ids: Vec<String>,
    /// Every session without a client.
    #[arg(long, group = "which")]
    pub detached: bool,
    /// Sessions detached for longer than this (`90s`, `30m`, `2h`, `7d`, `1h30m`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, group = "which")]
    pub older_than: Option<u64>,
}

/// Options of `rmosh server attach`.
#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// `[ID] [new [mosh-server options…]]`: the session (default: the only
    /// detached one); anything from `new` on is what Mosh's wrapper passes
    /// (`mosh --server='rmosh server attach' HOST`) and is ignored.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ID")]
    pub words: Vec<OsString>,
}

/// Parses `90`, `90s`, `30m`, `2h`, `7d` or sums like `1h30m` into seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let bad = || format!("bad duration {text:?} (examples: 90s, 30m, 2h, 7d, 1h30m)");
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        digits.clear();
    }
    if digits.is_empty() {
        Ok(total)
    } else {
        Err(bad())
    }
}

/// A duration for people: `42s`, `5m`, `3h12m`, `2d4h`.
pub fn human(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The table `rmosh server list` prints (`now` in seconds since the epoch).
pub fn table(sessions: &[SessionInfo], now: u64) -> String {
    let ago = |t: u64| human(now.saturating_sub(t));
    let rows: Vec<[String; 7]> = sessions
        .iter()
        .map(|s| {
            [
                s.id.clone(),
                s.pid.to_string(),
                ago(s.started),
                format!("{}x{}", s.cols, s.rows),
                match (s.attached, s.detached_since) {
                    (true, _) => "attached".into(),
                    (false, Some(t)) => format!("detached {}", ago(t)),
                    (false, None) => "detached".into(),
                },
                match (&s.client, s.last_contact) {
                    (Some(c), Some(t)) => format!("{c} ({} ago)", ago(t)),
                    (Some(c), None) => c.clone(),
                    _ => "-".into(),
                },
                s.command.clone(),
            ]
        })
        .collect();
    let head = ["ID", "PID", "AGE", "SIZE", "STATUS", "CLIENT", "COMMAND"];
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let _ = write!(l, "{cell:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&head);
    for r in &rows {
        line(&r.each_ref().map(String::as_str));
    }
    out
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `rmosh server list --json`: one array of objects, times in seconds since the epoch.
pub fn json(sessions: &[SessionInfo]) -> String {
    let opt_num = |v: Option<u64>| v.map_or_else(|| "null".to_owned(), |n| n.to_string());
    let items: Vec<String> = sessions
        .iter()
        .map(|s| {
            format!(
                "{{\"id\":{},\"pid\":{},\"started\":{},\"command\":{},\"cols\":{},\"rows\":{},\
                 \"attached\":{},\"client\":{},\"last_contact\":{},\"detached_since\":{}}}",
                json_string(&s.id),
                s.pid,
                s.started,
                json_string(&s.command),
                s.cols,
                s.rows,
                s.attached,
                s.client
                    .as_deref()
                    .map_or_else(|| "null".to_owned(), json_string),
                opt_num(s.last_contact),
                opt_num(s.detached_since),
            )
        })
        .collect();
    format!("[{}]\n", items.join(","))
}

/// The checked registry directory; None when there is none yet (no sessions).
fn existing_dir() -> Result<Option<std::path::PathBuf>, String> {
    if std::fs::symlink_metadata(registry::dir_path()).is_err() {
        return Ok(None);
    }
    registry::open_dir(false).map(Some)
}

/// Scans the registry: the live sessions, after telling about stale sockets
/// and sessions that did not answer.
fn live_sessions() -> Result<Vec<SessionInfo>, String> {
    let Some(dir) = existing_dir()? else {
        return Ok(Vec::new());
    };
    let mut live = Vec::new();
    for probe in registry::scan(&dir)? {
        match probe {
            Probe::Live(info) => live.push(info),
            Probe::Stale(id) => {
                eprintln!("rmosh: session {id} had died; removed its stale socket");
            }
            Probe::Failed(id, why) => eprintln!("rmosh: session {id}: {why}"),
        }
    }
    Ok(live)
}

fn fail(why: &str) -> ExitCode {
    eprintln!("rmosh: {why}");
    ExitCode::from(1)
}

/// The one line `new` prints when detached sessions exist, if any do.
pub fn detached_notice(dir: &std::path::Path) -> Option<String> {
    let ids: Vec<String> = registry::scan(dir)
        .ok()?
        .into_iter()
        .filter_map(|p| match p {
            Probe::Live(info) if !info.attached => Some(info.id),
            _ => None,
        })
        .collect();
    match ids.as_slice() {
        [] => None,
        [one] => Some(format!(
            "rmosh: 1 detached session on this host ({one}); `rmosh connect HOST --attach` takes it back"
        )),
        many => Some(format!(
            "rmosh: {} detached sessions on this host ({}); `rmosh sessions HOST` lists them",
            many.len(),
            many.join(" ")
        )),
    }
}

/// `rmosh server list`.
pub fn list(args: &ListArgs) -> ExitCode {
    match live_sessions() {
        Ok(sessions) => {
            let text = if args.json {
                json(&sessions)
            } else if sessions.is_empty() {
                "No rmosh sessions.\n".to_owned()
            } else {
                table(&sessions, now_secs())
            };
            print!("{text}");
            let _ = std::io::stdout().flush();
            ExitCode::SUCCESS
        }
        Err(why) => fail(&why),
    }
}

/// Which sessions `kill` ends.
pub fn select_for_kill(sessions: &[SessionInfo], args: &KillArgs, now: u64) -> Vec<String> {
    sessions
        .iter()
        .filter(|s| {
            let detached_for = s
                .detached_since
                .filter(|_| !s.attached)
                .map(|t| now.saturating_sub(t));
            (args.detached && detached_for.is_some())
                || args
                    .older_than
                    .is_some_and(|limit| detached_for.is_some_and(|d| d > limit))
        })
        .map(|s| s.id.clone())
        .collect()
}

/// `rmosh server kill`.
pub fn kill(args: &KillArgs) -> ExitCode {
    let dir = match existing_dir() {
        Ok(d) => d.unwrap_or_else(registry::dir_path),
        Err(why) => return fail(&why),
    };
    let mut ids = args.ids.clone();
    if args.detached || args.older_than.is_some() {
        match live_sessions() {
            Ok(s) => ids.extend(select_for_kill(&s, args, now_secs())),
            Err(why) => return fail(&why),
        }
    }
    let mut failed = false;
    for id in &ids {
        match registry::ask(&dir, id, Request::Kill).map(|l| ok_body(&l).map(drop)) {
            Ok(Ok(())) => println!("killed session {id}"),
            Ok(Err(why)) | Err(AskError::Other(why)) => {
                failed = true;
                eprintln!("rmosh: session {id}: {why}");
            }
            Err(AskError::Gone) => {
                failed = true;
                eprintln!("rmosh: no session {id} (see `rmosh server list`)");
            }
            Err(AskError::Stale) => {
                failed = true;
                eprintln!("rmosh: session {id} had died; removed its stale socket");
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The session id among `attach`'s words (None: choose one).
pub fn attach_id(words: &[OsString]) -> Result<Option<String>, String> {
    match words.first() {
        None => Ok(None),
        Some(w) if w == "new" || w.to_string_lossy().starts_with('-') => Ok(None),
        Some(w) => {
            let id = w.to_string_lossy().into_owned();
            if let Some(next) = words.get(1)
                && next != "new"
            {
                return Err(format!(
                    "unexpected {:?} after the session id",
                    next.to_string_lossy()
                ));
            }
            Ok(Some(id))
        }
    }
}

/// The session `attach` takes without an id: the only detached one, else
/// the only one; several make an error that lists them.
pub fn choose_session(sessions: &[SessionInfo], now: u64) -> Result<String, String> {
    let detached: Vec<&SessionInfo> = sessions.iter().filter(|s| !s.attached).collect();
    match (detached.as_slice(), sessions) {
        ([only], _) => Ok(only.id.clone()),
        ([], [only]) => Ok(only.id.clone()),
        (_, []) => Err("no rmosh session to attach to".into()),
        _ => {
            let which = if detached.is_empty() {
                "sessions (all attached)"
            } else {
                "detached sessions"
            };
            Err(format!(
                "several {which}; say which one (rmosh server attach ID):\n{}",
                table(sessions, now).trim_end()
            ))
        }
    }
}

/// `rmosh server attach`.
pub fn attach(args: &AttachArgs) -> ExitCode {
    let id = match attach_id(&args.words) {
        Ok(Some(id)) => id,
        Ok(None) => match live_sessions().and_then(|s| choose_session(&s, now_secs())) {
            Ok(id) => id,
            Err(why) => return fail(&why),
        },
        Err(why) => return fail(&why),
    };
    let dir = match existing_dir() {
        Ok(d) => d.unwrap_or_else(registry::dir_path),
        Err(why) => return fail(&why),
    };
    let size = process::isatty(0).then(|| process::window_size_of(0));
    let reply = match registry::ask(&dir, &id, Request::Attach(size)) {
        Ok(line) => line,
        Err(AskError::Gone) => {
            return fail(&format!("no session {id} (see `rmosh server list`)"));
        }
        Err(AskError::Stale) => {
            return fail(&format!("session {id} had died; removed its stale socket"));
        }
        Err(AskError::Other(why)) => return fail(&why),
    };
    match parse_attach_reply(&reply) {
        Ok((port, key)) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(connect_line(port, &key, process::isatty(0)).as_bytes());
            let _ = out.flush();
            ExitCode::SUCCESS
        }
        Err(why) => fail(&format!("session {id}: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, attached: bool, detached_since: Option<u64>) -> SessionInfo {
        SessionInfo {
            id: id.into(),
            pid: 100,
            started: 1000,
            command: "-bash".into(),
            cols: 80,
            rows: 24,
            attached,
            client: Some("10.0.0.2:5000".into()),
            last_contact: detached_since,
            detached_since,
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        for bad in ["", "h", "5x", "1h3", "-1m", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(human(59), "59s");
        assert_eq!(human(600), "10m");
        assert_eq!(human(3 * 3600 + 720), "3h12m");
        assert_eq!(human(2 * 86_400 + 4 * 3600), "2d4h");
    }

    #[test]
    fn the_table_and_json_show_every_field() {
        let s = [info("ab23", true, None), info("cd45", false, Some(1900))];
        let t = table(&s, 2000);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3, "{t}");
        assert!(lines[0].starts_with("ID"), "{t}");
        assert!(
            lines[1].contains("ab23") && lines[1].contains("attached"),
            "{t}"
        );
        assert!(
            lines[2].contains("detached 1m") && lines[2].contains("10.0.0.2:5000 (1m ago)"),
            "{t}"
        );
        assert!(
            lines[2].contains("80x24") && lines[2].ends_with("-bash"),
            "{t}"
        );
        let j = json(&s);
        assert!(j.starts_with("[{\"id\":\"ab23\",\"pid\":100,"), "{j}");
        assert!(j.contains("\"attached\":false,\"client\":\"10.0.0.2:5000\",\"last_contact\":1900,\"detached_since\":1900}"), "{j}");
        assert!(j.contains("\"detached_since\":null"), "{j}");
        assert_eq!(json_string("a\"\\\n"), "\"a\\\"\\\\\\u000a\"");
    }

    #[test]
    fn kill_selection() {
        let s = [
            info("a", true, None),
            info("b", false, Some(1000)),
            info("c", false, Some(1990)),
        ];
        let args = |detached, older_than| KillArgs {
            ids: vec![],
            detached,
            older_than,
        };
        assert_eq!(select_for_kill(&s, &args(true, None), 2000), ["b", "c"]);
        assert_eq!(select_for_kill(&s, &args(false, Some(60)), 2000), ["b"]);
        assert!(select_for_kill(&s, &args(false, Some(5000)), 2000).is_empty());
    }

    #[test]
    fn attach_words_from_us_and_from_moshs_wrapper() {
        let w = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(attach_id(&w(&[])), Ok(None));
        assert_eq!(attach_id(&w(&["ab23"])), Ok(Some("ab23".into())));
        assert_eq!(
            attach_id(&w(&["new", "-c", "256", "-s", "-l", "LANG=C.UTF-8"])),
            Ok(None)
        );
        assert_eq!(
            attach_id(&w(&["ab23", "new", "-c", "8", "--", "x"])),
            Ok(Some("ab23".into()))
        );
        assert!(attach_id(&w(&["ab23", "cd45"])).is_err());
    }

    #[test]
    fn attach_without_an_id_takes_the_only_detached_session() {
        let a = info("a", true, None);
        let b = info("b", false, Some(1));
        let c = info("c", false, Some(1));
        assert_eq!(choose_session(&[a.clone(), b.clone()], 10), Ok("b".into()));
        assert_eq!(choose_session(std::slice::from_ref(&a), 10), Ok("a".into()));
        assert!(choose_session(&[], 10).is_err());
        let e = choose_session(&[a.clone(), b, c], 10).expect_err("two detached");
        assert!(
            e.contains("several detached sessions") && e.contains("\nID"),
            "{e}"
        );
        let e = choose_session(&[a.clone(), a], 10).expect_err("two attached");
        assert!(e.contains("all attached"), "{e}");
    }
}
