//! Self-deploy: copy this executable to the remote (`~/.local/share/rmosh/bin/
//! rmosh-<version>`) over the SSH connection, verify its SHA-256 there, make it
//! executable and move it into place atomically. The architecture is checked first.

use std::io::{IsTerminal, Write};

use russh::client::{Handle, Handler};
use sha2::{Digest, Sha256};

use super::launch::shell_quote;
use super::remote;

/// Where deployed binaries live, relative to the remote `$HOME`.
pub const DEPLOY_DIR: &str = ".local/share/rmosh/bin";

/// When to deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DeployMode {
    /// Only when the remote has neither rmosh nor mosh-server.
    #[default]
    Auto,
    /// Always copy this binary and use it.
    Always,
    /// Never copy; fail if no server exists remotely.
    Never,
}

/// The deployed binary's path relative to `$HOME`.
pub fn deployed_path() -> String {
    format!("{DEPLOY_DIR}/rmosh-{}", env!("CARGO_PKG_VERSION"))
}

/// Whether a remote `uname -m` can run this build.
pub fn arch_matches(remote: &str, local: &str) -> bool {
    let norm = |a: &str| match a.trim() {
        "arm64" | "aarch64" => "aarch64".to_string(),
        "amd64" | "x86_64" => "x86_64".to_string(),
        "i386" | "i486" | "i586" | "i686" | "x86" => "x86".to_string(),
        other => other.to_string(),
    };
    norm(remote) == norm(local)
}

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A one-line progress bar, e.g. `rmosh: deploying [#####     ]  50% 3.1/6.2 MB`.
pub fn progress_line(sent: usize, total: usize) -> String {
    let pct = (sent * 100).checked_div(total).unwrap_or(100);
    let filled = pct / 5;
    format!(
        "\rrmosh: deploying [{}{}] {pct:3}% {:.1}/{:.1} MB",
        "#".repeat(filled),
        " ".repeat(20 - filled.min(20)),
        sent as f64 / 1e6,
        total as f64 / 1e6
    )
}

/// Copies this executable to the remote and returns the command that runs it
/// (relative to `$HOME`). `remote_arch` is `uname -m` if already known.
pub async fn deploy<H: Handler>(
    handle: &Handle<H>,
    remote_arch: Option<&str>,
) -> Result<String, String> {
    let arch = match remote_arch.filter(|a| !a.is_empty()) {
        Some(a) => a.to_string(),
        None => {
            let out = remote::exec_capture(handle, "uname -m", None, &mut |_, _| {}).await?;
            String::from_utf8_lossy(&out.bytes).trim().to_string()
        }
    };
    let local = std::env::consts::ARCH;
    if !arch_matches(&arch, local) {
        return Err(format!(
            "the remote machine is {arch}, but this rmosh is built for {local}; \
             install rmosh or mosh-server there, or build rmosh for {arch} (see docs/bootstrap.md)"
        ));
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let data = std::fs::read(&exe).map_err(|e| format!("cannot read {}: {e}", exe.display()))?;
    let sum = sha256_hex(&data);
    let mut salt = [0u8; 6];
    getrandom::fill(&mut salt).map_err(|e| format!("random: {e}"))?;
    let tmp = format!(
        ".rmosh-upload-{}",
        salt.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let dir = format!("\"$HOME\"/{DEPLOY_DIR}");
    let copy = format!(
        "sh -c {}",
        shell_quote(&format!("umask 077 && mkdir -p {dir} && cat > {dir}/{tmp}"))
    );
    let show = std::io::stderr().is_terminal();
    let mut bar = |sent: usize, total: usize| {
        if show {
            let _ = std::io::stderr().write_all(progress_line(sent, total).as_bytes());
        }
    };
    let out = remote::exec_capture(handle, &copy, Some(&data), &mut bar).await?;
    if show {
        let _ = std::io::stderr().write_all(b"\n");
    }
    if out.status != Some(0) {
        return Err(format!(
            "copying rmosh to the remote failed: {}",
            String::from_utf8_lossy(&out.bytes).trim()
        ));
    }
    let final_name = deployed_path();
    let install = format!(
        "sh -c {}",
        shell_quote(&format!(
            "cd \"$HOME\" && f={DEPLOY_DIR}/{tmp} && s=$(sha256sum \"$f\" | cut -d\" \" -f1) && \
             if [ \"$s\" = {sum} ]; then chmod 755 \"$f\" && mv -f \"$f\" {final_name} && echo RMOSH-DEPLOYED; \
             else rm -f \"$f\"; echo \"RMOSH-BADSUM $s\"; fi"
        ))
    );
    let out = remote::exec_capture(handle, &install, None, &mut |_, _| {}).await?;
    let text = String::from_utf8_lossy(&out.bytes);
    if text.contains("RMOSH-DEPLOYED") {
        Ok(final_name)
    } else if let Some(bad) = text.split("RMOSH-BADSUM").nth(1) {
        Err(format!(
            "the copy on the remote is corrupt (sha256 {} instead of {sum}); nothing was installed",
            bad.trim()
        ))
    } else {
        Err(format!(
            "installing rmosh on the remote failed: {}",
            text.trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures() {
        assert!(arch_matches("x86_64\n", "x86_64"));
        assert!(arch_matches("arm64", "aarch64"));
        assert!(!arch_matches("aarch64", "x86_64"));
        assert!(!arch_matches("", "x86_64"));
    }

    #[test]
    fn sums_and_bars() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(progress_line(50, 100).contains("[##########          ]  50%"));
        assert!(progress_line(0, 0).contains("100%"));
        assert!(deployed_path().starts_with(".local/share/rmosh/bin/rmosh-"));
    }
}
