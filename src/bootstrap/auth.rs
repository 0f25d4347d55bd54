//! User authentication in OpenSSH's order: the agent, then identity files
//! (with a passphrase prompt for encrypted ones), then keyboard-interactive,
//! then password. A failure lists everything that was tried.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::client::{AuthResult, Handle, Handler, KeyboardInteractiveAuthResponse};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use russh::{MethodKind, MethodSet};
use zeroize::Zeroizing;

use super::prompt;
use super::ssh_config::{HostConfig, IdentityAgent};
use super::untrusted::display_safe;

/// How many times a password or passphrase is asked for (ssh's NumberOfPasswordPrompts).
const PROMPTS: usize = 3;

/// Log of what was attempted, for the failure message.
#[derive(Default)]
struct Attempts {
    tried: Vec<String>,
    remaining: Option<MethodSet>,
}

impl Attempts {
    fn allows(&self, kind: MethodKind) -> bool {
        // Before the server told us anything, everything is worth a try.
        self.remaining.as_ref().is_none_or(|m| m.contains(&kind))
    }

    /// Records (and with `-v` shows) one method or key being tried.
    fn attempt(&mut self, what: String) {
        log::debug!("Authentication: trying {what}");
        self.tried.push(what);
    }

    fn note(&mut self, r: &AuthResult) -> bool {
        match r {
            AuthResult::Success => {
                log::debug!("Authentication succeeded");
                true
            }
            AuthResult::Failure {
                remaining_methods, ..
            } => {
                log::debug!(
                    "Authentication refused; methods that can continue: {}",
                    method_names(remaining_methods)
                );
                self.remaining = Some(remaining_methods.clone());
                false
            }
        }
    }
}

fn method_names(m: &MethodSet) -> String {
    m.iter().map(<&str>::from).collect::<Vec<_>>().join(",")
}

fn rsa_hash(key_alg: &Algorithm, best: Option<Option<HashAlg>>) -> Option<HashAlg> {
    match key_alg {
        // rsa-sha2-512 unless the server said it only knows something else.
        Algorithm::Rsa { .. } => best.unwrap_or(Some(HashAlg::Sha512)),
        _ => None,
    }
}

/// Public keys of the configured identity files (from `file.pub` or the key itself).
fn identity_public_keys(files: &[PathBuf]) -> Vec<PublicKey> {
    let mut out = Vec::new();
    for f in files {
        let pubfile = PathBuf::from(format!("{}.pub", f.display()));
        if let Ok(k) = russh::keys::load_public_key(&pubfile) {
            out.push(k);
        } else if let Ok(k) = russh::keys::load_secret_key(f, None) {
            out.push(k.public_key().clone());
        }
    }
    out
}

async fn connect_agent(which: &IdentityAgent) -> Option<AgentClient<tokio::net::UnixStream>> {
    match which {
        IdentityAgent::None => None,
        IdentityAgent::Environment => {
            let sock = std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty())?;
            AgentClient::connect_uds(sock).await.ok()
        }
        IdentityAgent::Socket(p) => AgentClient::connect_uds(p).await.ok(),
    }
}

/// The agent's keys in the order OpenSSH offers them: those that are also
/// configured identity files first (each failed offer costs a round trip, and
/// the configured key is the likely one), then the rest unless `IdentitiesOnly`.
fn order_agent_keys(
    ids: Vec<AgentIdentity>,
    configured: &[PublicKey],
    identities_only: bool,
) -> Vec<(PublicKey, String)> {
    let (mut first, rest): (Vec<_>, Vec<_>) = ids
        .into_iter()
        .filter_map(|id| match id {
            AgentIdentity::PublicKey { key, comment } => Some((key, comment)),
            // Certificates need the escape hatch (--ssh=ssh).
            _ => None,
        })
        .partition(|(key, _)| configured.iter().any(|k| k.key_data() == key.key_data()));
    if !identities_only {
        first.extend(rest);
    }
    first
}

/// Loads a private key, asking for the passphrase if it is encrypted.
fn load_key(path: &Path, batch: bool) -> Result<PrivateKey, String> {
    match russh::keys::load_secret_key(path, None) {
        Ok(k) => Ok(k),
        Err(russh::keys::Error::KeyIsEncrypted) if !batch => {
            let mut last = String::new();
            for _ in 0..PROMPTS {
                let pass = Zeroizing::new(
                    prompt::ask(
                        &format!("Enter passphrase for key '{}': ", path.display()),
                        false,
                    )
                    .map_err(|e| e.to_string())?,
                );
                if pass.is_empty() {
                    return Err("no passphrase given".into());
                }
                match russh::keys::load_secret_key(path, Some(pass.as_str())) {
                    Ok(k) => return Ok(k),
                    Err(e) => last = format!("bad passphrase ({e})"),
                }
            }
            Err(last)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Whether an agent or an existing identity file may hold a key for this host.
fn has_key_to_offer(cfg: &HostConfig) -> bool {
    let agent = match &cfg.identity_agent {
        IdentityAgent::None => false,
        IdentityAgent::Environment => {
            std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty())
        }
        IdentityAgent::Socket(_) => true,
    };
    agent || cfg.identity_files.iter().any(|f| f.exists())
}

/// The "none" method: succeeds on servers that need no authentication, and
/// otherwise tells which methods remain.
async fn try_none<H: Handler>(
    handle: &mut Handle<H>,
    user: &str,
    log: &mut Attempts,
) -> Result<bool, String> {
    log::debug!("Authentication: trying none");
    let r = handle
        .authenticate_none(user)
        .await
        .map_err(|e| format!("authentication failed: {e}"))?;
    super::timing::mark("auth none answered");
    Ok(log.note(&r))
}

/// Authenticates as `cfg.user`, or explains why not.
pub async fn authenticate<H: Handler>(
    handle: &mut Handle<H>,
    cfg: &HostConfig,
) -> Result<(), String> {
    let user = cfg.user.clone();
    let mut log = Attempts::default();
    // OpenSSH asks for "none" first to learn the methods; with a key to offer
    // that round trip buys nothing on the usual path, so "none" is deferred
    // until the keys have failed (still before any prompt, so a server that
    // accepts "none" never makes us ask for a password).
    let none_first = !(cfg.pubkey_authentication && has_key_to_offer(cfg));
    if none_first && try_none(handle, &user, &mut log).await? {
        return Ok(());
    }
    let best = handle.best_supported_rsa_hash().await.ok().flatten();
    let mut offered: Vec<PublicKey> = Vec::new();

    if cfg.pubkey_authentication && log.allows(MethodKind::PublicKey) {
        if let Some(mut agent) = connect_agent(&cfg.identity_agent).await {
            let configured = identity_public_keys(&cfg.identity_files);
            let ids = agent.request_identities().await.unwrap_or_default();
            let ids = order_agent_keys(ids, &configured, cfg.identities_only);
            for (key, comment) in ids {
                if !log.allows(MethodKind::PublicKey) {
                    break;
                }
                log.attempt(format!("agent key {comment}"));
                offered.push(key.clone());
                let hash = rsa_hash(&key.algorithm(), best);
                match handle
                    .authenticate_publickey_with(&user, key.clone(), hash, &mut agent)
                    .await
                {
                    Ok(r) if log.note(&r) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => log.attempt(format!("(agent error: {e})")),
                }
            }
        }
        for path in &cfg.identity_files {
            if !log.allows(MethodKind::PublicKey) || !path.exists() {
                continue;
            }
            let key = match load_key(path, cfg.batch_mode) {
                Ok(k) => k,
                Err(e) => {
                    log.attempt(format!("{} (not used: {e})", path.display()));
                    continue;
                }
            };
            if offered
                .iter()
                .any(|k| k.key_data() == key.public_key().key_data())
            {
                continue;
            }
            log.attempt(path.display().to_string());
            offered.push(key.public_key().clone());
            let hash = rsa_hash(&key.algorithm(), best);
            let r = handle
                .authenticate_publickey(&user, PrivateKeyWithHashAlg::new(Arc::new(key), hash))
                .await
                .map_err(|e| format!("authentication failed: {e}"))?;
            super::timing::mark("auth publickey answered");
            if log.note(&r) {
                return Ok(());
            }
        }
    }

    if !none_first && try_none(handle, &user, &mut log).await? {
        return Ok(());
    }

    if cfg.kbd_interactive_authentication
        && !cfg.batch_mode
        && log.allows(MethodKind::KeyboardInteractive)
    {
        log.attempt("keyboard-interactive".into());
        if keyboard_interactive(handle, &user, &mut log).await? {
            return Ok(());
        }
    }

    if cfg.password_authentication && !cfg.batch_mode && log.allows(MethodKind::Password) {
        log.attempt("password".into());
        for _ in 0..PROMPTS {
            let pw = Zeroizing::new(
                prompt::ask(&format!("{user}@{}'s password: ", cfg.hostname), false)
                    .map_err(|e| e.to_string())?,
            );
            // russh takes its own copy; ours is wiped when dropped.
            let r = handle
                .authenticate_password(&user, pw.as_str())
                .await
                .map_err(|e| format!("authentication failed: {e}"))?;
            if log.note(&r) {
                return Ok(());
            }
            if !log.allows(MethodKind::Password) {
                break;
            }
            prompt::notify("Permission denied, please try again.\n");
        }
    }

    let methods = log.remaining.as_ref().map(method_names).unwrap_or_default();
    let tried = if log.tried.is_empty() {
        "nothing (no usable key, agent or prompt)".to_string()
    } else {
        log.tried.join(", ")
    };
    Err(format!(
        "{user}@{}: Permission denied ({methods}).\nTried: {tried}",
        cfg.hostname
    ))
}

/// What a keyboard-interactive request shows: the name and instruction lines,
/// then each prompt. The server chose these texts, so no control sequence in
/// them reaches the terminal.
fn info_request_texts(name: &str, instructions: &str, prompts: &[&str]) -> (String, Vec<String>) {
    let header = [name, instructions]
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| format!("{}\n", display_safe(t)))
        .collect();
    (header, prompts.iter().map(|p| display_safe(p)).collect())
}

async fn keyboard_interactive<H: Handler>(
    handle: &mut Handle<H>,
    user: &str,
    log: &mut Attempts,
) -> Result<bool, String> {
    let err = |e: russh::Error| format!("authentication failed: {e}");
    let mut resp = handle
        .authenticate_keyboard_interactive_start(user, None)
        .await
        .map_err(err)?;
    // Bound the number of rounds so a misbehaving server cannot loop us forever.
    for _ in 0..(PROMPTS * 4) {
        match resp {
            KeyboardInteractiveAuthResponse::Success => return Ok(true),
            KeyboardInteractiveAuthResponse::Failure {
                remaining_methods, ..
            } => {
                log.remaining = Some(remaining_methods);
                return Ok(false);
            }
            KeyboardInteractiveAuthResponse::InfoRequest {
                name,
                instructions,
                prompts,
            } => {
                let texts: Vec<&str> = prompts.iter().map(|p| p.prompt.as_str()).collect();
                let (header, shown) = info_request_texts(&name, &instructions, &texts);
                if !header.is_empty() {
                    prompt::notify(&header);
                }
                let mut answers = Zeroizing::new(Vec::with_capacity(prompts.len()));
                for (p, text) in prompts.iter().zip(&shown) {
                    answers.push(prompt::ask(text, p.echo).map_err(|e| e.to_string())?);
                }
                resp = handle
                    .authenticate_keyboard_interactive_respond(answers.to_vec())
                    .await
                    .map_err(err)?;
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [&str; 3] = [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBU7bQif5wfouY7VkNrvGJLUoP1cfUnAhA6bJpRubJb4 k1",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOxh6JnOwe6IjUmNsfBFYkRUMEx9K1/yZdxGhxCdvmD5 k2",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPyPzPk2okrObbC3Vq/ZP8K5TYu172kRnx+rN+imKHbD k3",
    ];

    fn key(i: usize) -> PublicKey {
        PublicKey::from_openssh(KEYS[i]).unwrap()
    }

    fn agent() -> Vec<AgentIdentity> {
        (0..3)
            .map(|i| AgentIdentity::PublicKey {
                key: key(i),
                comment: format!("k{}", i + 1),
            })
            .collect()
    }

    fn comments(v: &[(PublicKey, String)]) -> Vec<&str> {
        v.iter().map(|(_, c)| c.as_str()).collect()
    }

    /// No configuration files: only the options given.
    struct NoFiles;

    impl crate::bootstrap::ssh_config::ConfigSource for NoFiles {
        fn read(&self, _: &Path) -> Option<String> {
            None
        }
        fn glob(&self, _: &Path) -> Vec<PathBuf> {
            Vec::new()
        }
    }

    fn config(options: &[(&str, &str)]) -> HostConfig {
        use crate::bootstrap::ssh_config::{LocalContext, Request, Resolver};
        let local = LocalContext {
            home: PathBuf::from("/nonexistent-home"),
            user: "me".into(),
            system_config: PathBuf::from("/nonexistent-etc/ssh_config"),
        };
        let req = Request {
            host: "h".into(),
            config_file: None,
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        Resolver::new(&NoFiles, &local).resolve(&req).unwrap()
    }

    #[test]
    fn none_is_deferred_only_when_a_key_may_be_offered() {
        let key = std::env::temp_dir().join(format!("rmosh-auth-key-{}", std::process::id()));
        std::fs::write(&key, "not really a key").unwrap();
        let with_file = config(&[
            ("IdentityAgent", "none"),
            ("IdentityFile", &key.display().to_string()),
        ]);
        let without = config(&[
            ("IdentityAgent", "none"),
            ("IdentityFile", "/nonexistent/id_ed25519"),
        ]);
        let agent = config(&[
            ("IdentityAgent", "/run/agent.sock"),
            ("IdentityFile", "/nonexistent/id_ed25519"),
        ]);
        let offered = has_key_to_offer(&with_file);
        let _ = std::fs::remove_file(&key);
        assert!(offered);
        assert!(!has_key_to_offer(&without));
        assert!(has_key_to_offer(&agent));
    }

    #[test]
    fn keyboard_interactive_texts_carry_no_control_sequences() {
        let (header, prompts) = info_request_texts(
            "\x1b]0;pwned\x07Login",
            "Type \x1b[2Jthe code\r",
            &["\x1b[8mCode: ", "\u{9b}6nPIN: "],
        );
        assert_eq!(header, "]0;pwnedLogin\nType [2Jthe code\n");
        assert_eq!(prompts, ["[8mCode: ", "6nPIN: "]);
        let (header, _) = info_request_texts("", "", &[]);
        assert!(header.is_empty());
    }

    #[test]
    fn agent_keys_matching_identity_files_go_first() {
        let configured = [key(2)];
        let order = order_agent_keys(agent(), &configured, false);
        assert_eq!(comments(&order), ["k3", "k1", "k2"]);
        let order = order_agent_keys(agent(), &configured, true);
        assert_eq!(comments(&order), ["k3"]);
        let order = order_agent_keys(agent(), &[], false);
        assert_eq!(comments(&order), ["k1", "k2", "k3"]);
        assert!(order_agent_keys(agent(), &[], true).is_empty());
    }
}
