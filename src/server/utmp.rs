//! utmp (§7.4): the `mosh [PID]` record while detached, `IP via mosh [PID]`
//! while a client is attached, and the warning about the user's other
//! detached sessions shown at login.
//!
//! Records are written, as libutempter does for Mosh, by the setgid
//! `utempter` helper (fed the pty master on stdin); reading uses getutxent,
//! which needs no NSS.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::process::{Command, Stdio};

/// The Debian multiarch tuple of an architecture (`std::env::consts::ARCH`).
fn multiarch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" => "x86_64-linux-gnu",
        "x86" => "i386-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        "riscv64" => "riscv64-linux-gnu",
        "powerpc64" => "powerpc64le-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        "loongarch64" => "loongarch64-linux-gnu",
        _ => return None,
    })
}

/// Where distributions install libutempter's helper, for `arch`: Debian's
/// multiarch folder first, then the folders of other distributions.
fn helper_paths(arch: &str) -> Vec<String> {
    multiarch(arch)
        .map(|t| format!("/usr/lib/{t}/utempter/utempter"))
        .into_iter()
        .chain(
            [
                "/usr/libexec/utempter/utempter",
                "/usr/lib/utempter/utempter",
                "/usr/sbin/utempter",
            ]
            .map(String::from),
        )
        .collect()
}

/// One login record, reduced to what the warning needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    /// True for `USER_PROCESS` records.
    pub user_process: bool,
    /// `ut_user`.
    pub user: String,
    /// `ut_host`.
    pub host: String,
    /// `ut_line` (the tty name below /dev).
    pub line: String,
}

/// The host texts of `user`'s other detached Mosh sessions whose tty still exists.
pub fn select_unattached(
    records: &[LoginRecord],
    user: &str,
    ignore: &str,
    device_exists: impl Fn(&str) -> bool,
) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.user_process && r.user == user)
        .filter(|r| r.host.starts_with("mosh ") && r.host.ends_with(']') && r.host != ignore)
        .filter(|r| device_exists(&r.line))
        .map(|r| r.host.clone())
        .collect()
}

/// The warning printed into a new session, or None when there is nothing to say.
pub fn warning_text(unattached: &[String]) -> Option<String> {
    match unattached {
        [] => None,
        [one] => Some(format!(
            "\x1b[37;44mMosh: You have a detached Mosh session on this server ({one}).\x1b[m\n\n"
        )),
        many => {
            let list: String = many.iter().map(|h| format!("        - {h}\n")).collect();
            Some(format!(
                "\x1b[37;44mMosh: You have {} detached Mosh sessions on this server, with PIDs:\n{list}\x1b[m\n",
                many.len()
            ))
        }
    }
}

fn field(chars: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every record of the system's utmp database.
pub fn read_records() -> Vec<LoginRecord> {
    let mut out = Vec::new();
    // SAFETY: the utmpx iteration API is used from one thread (the session
    // child before exec); each returned record is copied before the next call.
    unsafe {
        libc::setutxent();
        loop {
            let p = libc::getutxent();
            let Some(r) = p.as_ref() else { break };
            out.push(LoginRecord {
                user_process: r.ut_type == libc::USER_PROCESS,
                user: field(&r.ut_user),
                host: field(&r.ut_host),
                line: field(&r.ut_line),
            });
        }
        libc::endutxent();
    }
    out
}

/// `user`'s other detached Mosh sessions on this host.
pub fn unattached_sessions(user: &str, ignore: &str) -> Vec<String> {
    select_unattached(&read_records(), user, ignore, |line| {
        Path::new("/dev").join(line).symlink_metadata().is_ok()
    })
}

/// The utmp host text while no client is attached.
pub fn detached_entry(pid: libc::pid_t) -> String {
    format!("mosh [{pid}]")
}

/// The utmp host text while a client at `ip` is attached.
pub fn attached_entry(ip: &str, pid: libc::pid_t) -> String {
    format!("{ip} via mosh [{pid}]")
}

fn helper() -> Option<String> {
    helper_paths(std::env::consts::ARCH)
        .into_iter()
        .find(|p| Path::new(p).exists())
}

fn run_helper(master: BorrowedFd<'_>, args: &[&str]) -> bool {
    let Some(path) = helper() else { return false };
    let Ok(stdin) = master.try_clone_to_owned() else {
        return false;
    };
    Command::new(&path)
        .arg0("utempter")
        .args(args)
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

use std::os::unix::process::CommandExt;

/// Adds (or replaces) the utmp record of the pty `master` with host text `host`.
pub fn add_record(master: &impl AsFd, host: &str) -> bool {
    run_helper(master.as_fd(), &["add", host])
}

/// Removes the utmp record of the pty `master`.
pub fn remove_record(master: &impl AsFd) -> bool {
    run_helper(master.as_fd(), &["del"])
}

/// Tracks which record the session currently has, as Mosh's server loop does.
#[derive(Debug, Default)]
pub struct UtmpState {
    connected: bool,
}

impl UtmpState {
    /// A client state arrived from `ip`; `changed` = the address differs from last time.
    pub fn on_client(&mut self, master: &impl AsFd, ip: &str, changed: bool, pid: libc::pid_t) {
        if !self.connected || changed {
            remove_record(master);
            add_record(master, &attached_entry(ip, pid));
            self.connected = true;
        }
    }

    /// Nothing heard for `silent_ms`: after 30 s revert to the detached record.
    pub fn on_silence(&mut self, master: &impl AsFd, silent_ms: u64, pid: libc::pid_t) {
        if self.connected && silent_ms > 30_000 {
            remove_record(master);
            add_record(master, &detached_entry(pid));
            self.connected = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(user: &str, host: &str, line: &str) -> LoginRecord {
        LoginRecord {
            user_process: true,
            user: user.into(),
            host: host.into(),
            line: line.into(),
        }
    }

    #[test]
    fn selects_only_this_users_other_detached_mosh_sessions() {
        let records = vec![
            rec("alice", "mosh [100]", "pts/1"),
            rec("alice", "mosh [200]", "pts/2"),
            rec("alice", "10.0.0.1 via mosh [300]", "pts/3"),
            rec("bob", "mosh [400]", "pts/4"),
            rec("alice", "mosh [500]", "pts/gone"),
            rec("alice", "mosh [600", "pts/6"),
            LoginRecord {
                user_process: false,
                ..rec("alice", "mosh [700]", "pts/7")
            },
        ];
        let got = select_unattached(&records, "alice", "mosh [200]", |l| l != "pts/gone");
        assert_eq!(got, vec!["mosh [100]".to_string()]);
    }

    #[test]
    fn warning_texts_match_mosh() {
        assert_eq!(warning_text(&[]), None);
        assert_eq!(
            warning_text(&["mosh [12]".into()]).as_deref(),
            Some(
                "\x1b[37;44mMosh: You have a detached Mosh session on this server (mosh [12]).\x1b[m\n\n"
            )
        );
        assert_eq!(
            warning_text(&["mosh [1]".into(), "mosh [2]".into()]).as_deref(),
            Some(
                "\x1b[37;44mMosh: You have 2 detached Mosh sessions on this server, with PIDs:\n        - mosh [1]\n        - mosh [2]\n\x1b[m\n"
            )
        );
    }

    #[test]
    fn helper_is_looked_for_in_the_multiarch_folder_of_this_architecture() {
        assert_eq!(
            helper_paths("aarch64").first().map(String::as_str),
            Some("/usr/lib/aarch64-linux-gnu/utempter/utempter")
        );
        assert_eq!(
            helper_paths("x86_64").first().map(String::as_str),
            Some("/usr/lib/x86_64-linux-gnu/utempter/utempter")
        );
        assert_eq!(helper_paths("mips").len(), 3);
    }

    #[test]
    fn entry_texts() {
        assert_eq!(detached_entry(42), "mosh [42]");
        assert_eq!(attached_entry("127.0.0.1", 42), "127.0.0.1 via mosh [42]");
    }
}
