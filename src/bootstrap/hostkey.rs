//! Host key verification policy, as OpenSSH applies `StrictHostKeyChecking`:
//! known → go on; unknown → ask (or accept-new / refuse); changed or revoked →
//! refuse loudly, naming the line to remove. Never trusts silently unless told to.

use std::path::PathBuf;

use russh::keys::PublicKey;

use super::known_hosts::{self, Location, Verdict};
use super::prompt;
use super::ssh_config::StrictHostKeyChecking;

/// Everything needed to check one server's key.
#[derive(Debug, Clone)]
pub struct HostKeyCheck {
    /// The name the key is recorded under (`host` or `[host]:port`).
    pub name: String,
    /// User known_hosts files; new keys go to the first one.
    pub user_files: Vec<PathBuf>,
    /// System known_hosts files.
    pub global_files: Vec<PathBuf>,
    /// The policy.
    pub strict: StrictHostKeyChecking,
    /// Hash new entries.
    pub hash: bool,
    /// Never prompt.
    pub batch: bool,
}

/// Why the policy refuses a key without asking; each carries OpenSSH's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Another key of the same type is recorded for the host (a possible
    /// man-in-the-middle).
    Changed(String),
    /// The key is marked `@revoked`.
    Revoked(String),
    /// The key is unknown and the policy (`StrictHostKeyChecking yes`,
    /// `BatchMode`) forbids asking.
    Unknown(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Changed(m) | Refusal::Revoked(m) | Refusal::Unknown(m) => f.write_str(m),
        }
    }
}

/// Why a host key was not accepted.
#[derive(Debug)]
pub enum HostKeyError {
    /// The policy refused it.
    Refused(Refusal),
    /// The user answered no.
    Declined,
    /// The question could not be asked or was not answered.
    Prompt(prompt::PromptError),
    /// No randomness for the salt of a hashed entry.
    Random(String),
}

impl std::fmt::Display for HostKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostKeyError::Refused(r) => write!(f, "{r}"),
            HostKeyError::Declined => write!(f, "Host key verification failed."),
            HostKeyError::Prompt(e) => write!(f, "{e}\nHost key verification failed."),
            HostKeyError::Random(e) => write!(f, "cannot make a salt: {e}"),
        }
    }
}

impl std::error::Error for HostKeyError {}

/// What to do with a key, before any prompting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Known key: continue.
    Accept,
    /// Unknown key, policy allows it: record it and continue.
    Record,
    /// Unknown key: ask the user.
    Ask,
    /// Refuse.
    Refuse(Refusal),
}

/// Decides what to do for a lookup verdict (pure).
pub fn decide(check: &HostKeyCheck, key: &PublicKey, verdict: &Verdict) -> Decision {
    let kind = known_hosts::key_type_name(key);
    match verdict {
        Verdict::Known(_) => Decision::Accept,
        Verdict::Revoked(loc) => Decision::Refuse(Refusal::Revoked(format!(
            "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
             @       WARNING: REVOKED HOST KEY DETECTED!               @\n\
             @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
             The {kind} host key for {} is marked as revoked ({loc}).\n\
             This could mean that a stolen key is being used to\n\
             impersonate this host.\n\
             Host key verification failed.",
            check.name
        ))),
        Verdict::Changed(loc) => {
            Decision::Refuse(Refusal::Changed(changed_message(check, key, loc)))
        }
        Verdict::Unknown { .. } => match check.strict {
            StrictHostKeyChecking::AcceptNew | StrictHostKeyChecking::No => Decision::Record,
            StrictHostKeyChecking::Yes => Decision::Refuse(Refusal::Unknown(format!(
                "No {kind} host key is known for {} and you have requested strict checking.\n\
                 Host key verification failed.",
                check.name
            ))),
            StrictHostKeyChecking::Ask if check.batch => {
                Decision::Refuse(Refusal::Unknown(format!(
                    "No {kind} host key is known for {} and BatchMode prevents asking.\n\
                 Host key verification failed.",
                    check.name
                )))
            }
            StrictHostKeyChecking::Ask => Decision::Ask,
        },
    }
}

fn changed_message(check: &HostKeyCheck, key: &PublicKey, loc: &Location) -> String {
    let kind = known_hosts::key_type_name(key);
    let fp = known_hosts::fingerprint(key);
    let add_to = check
        .user_files
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.ssh/known_hosts".into());
    format!(
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
         @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n\
         @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
         IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n\
         Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n\
         It is also possible that a host key has just been changed.\n\
         The fingerprint for the {kind} key sent by the remote host is\n\
         {fp}.\n\
         Please contact your system administrator.\n\
         Add correct host key in {add_to} to get rid of this message.\n\
         Offending {kind} key in {loc}\n  \
         remove with:\n  \
         ssh-keygen -f '{}' -R '{}'\n\
         Host key for {} has changed and you have requested strict checking.\n\
         Host key verification failed.",
        loc.file.display(),
        check.name,
        check.name
    )
}

/// The question ssh asks about an unknown host.
pub fn question(check: &HostKeyCheck, key: &PublicKey, verdict: &Verdict) -> String {
    let kind = known_hosts::key_type_name(key);
    let mut q = format!(
        "The authenticity of host '{}' can't be established.\n{kind} key fingerprint is {}.\n",
        check.name,
        known_hosts::fingerprint(key)
    );
    if let Verdict::Unknown { other_types } = verdict
        && !other_types.is_empty()
    {
        q.push_str(&format!(
            "Keys of other types are already known for this host: {}\n",
            other_types.join(", ")
        ));
    } else {
        q.push_str("This key is not known by any other names.\n");
    }
    q.push_str("Are you sure you want to continue connecting (yes/no/[fingerprint])? ");
    q
}

/// Interprets an answer: `Some(true)` = yes, `Some(false)` = no, `None` = ask again.
pub fn parse_answer(answer: &str, key: &PublicKey) -> Option<bool> {
    let a = answer.trim();
    if a.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if a.eq_ignore_ascii_case("no") {
        Some(false)
    } else if a.starts_with("SHA256:") {
        Some(a == known_hosts::fingerprint(key))
    } else {
        None
    }
}

/// Checks `key` against the files, asking and recording as the policy says.
pub fn verify(check: &HostKeyCheck, key: &PublicKey) -> Result<(), HostKeyError> {
    let files: Vec<PathBuf> = check
        .user_files
        .iter()
        .chain(check.global_files.iter())
        .cloned()
        .collect();
    let entries = known_hosts::load_files(&files);
    let verdict = known_hosts::check(&entries, &check.name, key);
    match decide(check, key, &verdict) {
        Decision::Accept => Ok(()),
        Decision::Refuse(r) => Err(HostKeyError::Refused(r)),
        Decision::Record => record(check, key),
        Decision::Ask => {
            let mut q = question(check, key, &verdict);
            loop {
                let answer = prompt::ask(&q, true).map_err(HostKeyError::Prompt)?;
                match parse_answer(&answer, key) {
                    Some(true) => return record(check, key),
                    Some(false) => return Err(HostKeyError::Declined),
                    None => q = "Please type 'yes', 'no' or the fingerprint: ".into(),
                }
            }
        }
    }
}

fn record(check: &HostKeyCheck, key: &PublicKey) -> Result<(), HostKeyError> {
    let Some(file) = check.user_files.first() else {
        prompt::notify("Warning: no UserKnownHostsFile to record the host key in.\n");
        return Ok(());
    };
    let salt = if check.hash {
        let mut s = [0u8; 20];
        getrandom::fill(&mut s).map_err(|e| HostKeyError::Random(e.to_string()))?;
        Some(s)
    } else {
        None
    };
    let line = known_hosts::format_entry(&check.name, key, salt.as_ref().map(|s| &s[..]));
    match known_hosts::append_entry(file, &line) {
        Ok(()) => prompt::notify(&format!(
            "Warning: Permanently added '{}' ({}) to the list of known hosts.\n",
            check.name,
            known_hosts::key_type_name(key)
        )),
        // ssh goes on when it cannot write the file; so do we, loudly.
        Err(e) => prompt::notify(&format!(
            "Failed to add the host to the list of known hosts ({}): {e}\n",
            file.display()
        )),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED1: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAPKwSt6XnvAQvV6l31RCa2elJF2F25E96mJBtLzPqyZ";

    fn check(strict: StrictHostKeyChecking, batch: bool) -> HostKeyCheck {
        HostKeyCheck {
            name: "[h]:2222".into(),
            user_files: vec![PathBuf::from("/u/kh")],
            global_files: vec![],
            strict,
            hash: false,
            batch,
        }
    }

    #[test]
    fn policy_table() {
        let key = PublicKey::from_openssh(ED1).unwrap();
        let unknown = Verdict::Unknown {
            other_types: vec![],
        };
        use StrictHostKeyChecking::*;
        assert_eq!(decide(&check(Ask, false), &key, &unknown), Decision::Ask);
        assert!(matches!(
            decide(&check(Ask, true), &key, &unknown),
            Decision::Refuse(_)
        ));
        assert!(matches!(
            decide(&check(Yes, false), &key, &unknown),
            Decision::Refuse(Refusal::Unknown(_))
        ));
        assert_eq!(
            decide(&check(AcceptNew, false), &key, &unknown),
            Decision::Record
        );
        assert_eq!(decide(&check(No, false), &key, &unknown), Decision::Record);
        let loc = Location {
            file: "/u/kh".into(),
            line: 7,
        };
        for s in [Ask, Yes, AcceptNew, No] {
            match decide(&check(s, false), &key, &Verdict::Changed(loc.clone())) {
                Decision::Refuse(Refusal::Changed(m)) => {
                    assert!(m.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"));
                    assert!(m.contains("Offending ED25519 key in /u/kh:7"), "{m}");
                    assert!(m.contains("ssh-keygen -f '/u/kh' -R '[h]:2222'"), "{m}");
                }
                d => panic!("{d:?}"),
            }
            assert!(matches!(
                decide(&check(s, false), &key, &Verdict::Revoked(loc.clone())),
                Decision::Refuse(Refusal::Revoked(_))
            ));
        }
        assert_eq!(
            decide(&check(Yes, false), &key, &Verdict::Known(loc)),
            Decision::Accept
        );
    }

    #[test]
    fn answers() {
        let key = PublicKey::from_openssh(ED1).unwrap();
        assert_eq!(parse_answer("yes\n", &key), Some(true));
        assert_eq!(parse_answer("NO", &key), Some(false));
        assert_eq!(parse_answer("y", &key), None);
        let fp = known_hosts::fingerprint(&key);
        assert_eq!(parse_answer(&fp, &key), Some(true));
        assert_eq!(parse_answer("SHA256:wrong", &key), Some(false));
        let q = question(
            &check(StrictHostKeyChecking::Ask, false),
            &key,
            &Verdict::Unknown {
                other_types: vec![],
            },
        );
        assert!(q.contains(&fp) && q.contains("[h]:2222"), "{q}");
    }
}
