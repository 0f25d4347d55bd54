//! Checks on the host and user names given on the command line. They are
//! expanded into `ProxyCommand` (`%h`, `%n`, `%r`), which runs through
//! `/bin/sh -c`, and passed to an external ssh as arguments, so names that a
//! shell or an option parser would act on are refused, as OpenSSH 9.6 does
//! (the class of CVE-2023-51385). Names from configuration files are trusted.

/// Which part of the destination was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The host name or address.
    Host,
    /// The remote user name.
    User,
    /// The whole destination handed to an external ssh.
    Destination,
}

/// A refused command-line name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    /// What was refused.
    pub part: Part,
    /// The name as given.
    pub value: String,
}

impl std::fmt::Display for InvalidName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.part {
            Part::Host => "host name",
            Part::User => "remote user name",
            Part::Destination => "destination",
        };
        let value = self.value.escape_debug();
        match self.part {
            Part::Destination => write!(
                f,
                "the {what} \"{value}\" begins with '-' and would be taken for an ssh option"
            ),
            _ => write!(
                f,
                "the {what} \"{value}\" contains invalid characters: shell metacharacters, \
                 whitespace, control characters or a leading '-' are refused (as OpenSSH does), \
                 because the name may reach a shell through ProxyCommand"
            ),
        }
    }
}

impl std::error::Error for InvalidName {}

/// Characters a POSIX shell acts on inside an unquoted word.
const SHELL_SPECIAL: &str = "'`\"$\\;&<>|(){}";

fn check(part: Part, s: &str) -> Result<(), InvalidName> {
    let bad = s.starts_with('-')
        || s.chars()
            .any(|c| SHELL_SPECIAL.contains(c) || c.is_whitespace() || c.is_control());
    if bad {
        Err(InvalidName {
            part,
            value: s.to_string(),
        })
    } else {
        Ok(())
    }
}

/// Refuses a command-line host name a shell or ssh would act on.
pub fn check_host(host: &str) -> Result<(), InvalidName> {
    check(Part::Host, host)
}

/// Refuses a command-line user name a shell or ssh would act on.
pub fn check_user(user: &str) -> Result<(), InvalidName> {
    check(Part::User, user)
}

/// Refuses a destination that an external ssh would parse as an option.
pub fn check_external(destination: &str) -> Result<(), InvalidName> {
    if destination.starts_with('-') {
        Err(InvalidName {
            part: Part::Destination,
            value: destination.to_string(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for h in [
            "example.com",
            "MyHost",
            "127.0.0.1",
            "::1",
            "fe80::1%eth0",
            "host_1-a",
        ] {
            assert_eq!(check_host(h), Ok(()), "{h}");
        }
        for u in ["alice", "first.last", "user_1", "DOMAIN+x", "a-b"] {
            assert_eq!(check_user(u), Ok(()), "{u}");
        }
        assert_eq!(check_external("user@host"), Ok(()));
    }

    #[test]
    fn shell_metacharacters_whitespace_and_options_are_refused() {
        for h in [
            "$(touch /tmp/x)",
            "`id`",
            "x;id",
            "a&b",
            "a|b",
            "a b",
            "a\tb",
            "a\nb",
            "-oProxyCommand=id",
            "a>b",
            "'q'",
            "\"q\"",
            "a\\b",
            "{a,b}",
            "a\u{7}b",
        ] {
            let e = check_host(h).expect_err(h);
            assert_eq!(e.part, Part::Host);
            assert!(e.to_string().contains("invalid characters"), "{e}");
            assert!(check_user(h).is_err(), "{h}");
        }
        let e = check_external("-oProxyCommand=touch /tmp/x").expect_err("leading dash");
        assert!(e.to_string().contains("begins with '-'"), "{e}");
    }
}
