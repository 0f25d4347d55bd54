//! `/etc/passwd` read directly: a statically linked glibc binary must not call
//! `getpwuid` (NSS), yet the server needs the user's name, home and shell.

use std::path::Path;

/// One account line of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// Numeric user id.
    pub uid: u32,
    /// Home directory.
    pub home: String,
    /// Login shell (may be empty, meaning `/bin/sh`).
    pub shell: String,
}

/// Finds the entry for `uid` in the text of a passwd file; malformed lines are skipped.
pub fn find_uid(passwd: &str, uid: u32) -> Option<PasswdEntry> {
    passwd.lines().filter_map(parse_line).find(|e| e.uid == uid)
}

fn parse_line(line: &str) -> Option<PasswdEntry> {
    if line.starts_with('#') || line.starts_with('+') || line.starts_with('-') {
        return None;
    }
    let mut fields = line.split(':');
    let name = fields.next()?;
    let _password = fields.next()?;
    let uid = fields.next()?.parse().ok()?;
    let _gid = fields.next()?;
    let _gecos = fields.next()?;
    let home = fields.next()?;
    let shell = fields.next().unwrap_or("");
    if name.is_empty() {
        return None;
    }
    Some(PasswdEntry {
        name: name.to_owned(),
        uid,
        home: home.to_owned(),
        shell: shell.to_owned(),
    })
}

/// The entry of the calling user, read from `/etc/passwd` (None if absent or unreadable).
pub fn current_user() -> Option<PasswdEntry> {
    current_user_from(Path::new("/etc/passwd"))
}

/// The entry of the calling user in the passwd file at `path`.
pub fn current_user_from(path: &Path) -> Option<PasswdEntry> {
    let text = std::fs::read(path).ok()?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    find_uid(&String::from_utf8_lossy(&text), uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
root:x:0:0:root:/root:/bin/bash
# a comment
broken line
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
+nisuser::::::
alice:x:1000:1000:Alice,,,:/home/alice:/usr/bin/zsh
noshell:x:1001:1001::/home/noshell:
short:x:1002:1002::/home/short
";

    #[test]
    fn finds_by_uid() {
        let alice = find_uid(SAMPLE, 1000).expect("alice");
        assert_eq!(alice.name, "alice");
        assert_eq!(alice.home, "/home/alice");
        assert_eq!(alice.shell, "/usr/bin/zsh");
        assert_eq!(
            find_uid(SAMPLE, 0).map(|e| e.shell),
            Some("/bin/bash".into())
        );
    }

    #[test]
    fn empty_or_missing_shell_field_is_empty() {
        assert_eq!(find_uid(SAMPLE, 1001).map(|e| e.shell), Some(String::new()));
        assert_eq!(find_uid(SAMPLE, 1002).map(|e| e.shell), Some(String::new()));
    }

    #[test]
    fn unknown_uid_and_garbage_give_none() {
        assert_eq!(find_uid(SAMPLE, 4242), None);
        assert_eq!(
            find_uid("::::::\n\u{0}\nx:y:notanumber:0::/:/bin/sh", 0),
            None
        );
        assert_eq!(find_uid("", 0), None);
    }

    #[test]
    fn reads_the_real_file_for_this_user() {
        let dir = std::env::temp_dir().join(format!("rmosh-passwd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("passwd");
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        std::fs::write(&path, format!("me:x:{uid}:0::/home/me:/bin/dash\n")).expect("write");
        let me = current_user_from(&path).expect("entry");
        assert_eq!(me.shell, "/bin/dash");
        std::fs::remove_dir_all(&dir).ok();
    }
}
