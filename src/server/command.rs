//! Which program the session runs (§7.2 step 2): the given command, or the
//! user's login shell started with a `-name` argv[0].

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The program to exec in the pty and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Path (or name, searched in PATH) passed to `execvp`.
    pub path: OsString,
    /// The argument vector, argv[0] included.
    pub argv: Vec<OsString>,
    /// True for the default login shell: show the MOTD and the detached-session warning.
    pub with_motd: bool,
}

/// Picks the command: `given` if any, else `$SHELL`, else the passwd shell,
/// else `/bin/sh`; an empty shell also means `/bin/sh`.
pub fn choose(
    given: Option<Vec<OsString>>,
    shell_env: Option<OsString>,
    passwd_shell: Option<String>,
) -> Command {
    if let Some(argv) = given
        && let Some(first) = argv.first()
    {
        return Command {
            path: first.clone(),
            argv,
            with_motd: false,
        };
    }
    let shell = shell_env
        .or_else(|| passwd_shell.map(OsString::from))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| OsString::from("/bin/sh"));
    let bytes = shell.as_bytes();
    let base = match bytes.iter().rposition(|&b| b == b'/') {
        Some(slash) => bytes.get(slash + 1..).unwrap_or_default(),
        None => bytes,
    };
    let mut argv0 = b"-".to_vec();
    argv0.extend_from_slice(base);
    Command {
        path: shell,
        argv: vec![OsString::from_vec(argv0)],
        with_motd: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_command_runs_as_is() {
        let c = choose(
            Some(vec!["vim".into(), "-u".into(), "NONE".into()]),
            Some("/bin/zsh".into()),
            None,
        );
        assert_eq!(c.path, OsString::from("vim"));
        assert_eq!(c.argv.len(), 3);
        assert!(!c.with_motd);
    }

    #[test]
    fn shell_env_gives_login_shell() {
        let c = choose(None, Some("/usr/bin/zsh".into()), Some("/bin/bash".into()));
        assert_eq!(c.path, OsString::from("/usr/bin/zsh"));
        assert_eq!(c.argv, vec![OsString::from("-zsh")]);
        assert!(c.with_motd);
    }

    #[test]
    fn passwd_then_bin_sh_fallbacks() {
        let c = choose(None, None, Some("/bin/bash".into()));
        assert_eq!(c.argv, vec![OsString::from("-bash")]);
        let c = choose(None, None, Some(String::new()));
        assert_eq!(c.path, OsString::from("/bin/sh"));
        assert_eq!(c.argv, vec![OsString::from("-sh")]);
        let c = choose(None, Some("".into()), None);
        assert_eq!(c.path, OsString::from("/bin/sh"));
        let c = choose(None, Some("fish".into()), None);
        assert_eq!(c.argv, vec![OsString::from("-fish")]);
    }

    #[test]
    fn empty_given_command_falls_back_to_shell() {
        let c = choose(Some(vec![]), Some("/bin/sh".into()), None);
        assert_eq!(c.argv, vec![OsString::from("-sh")]);
    }
}
