//! Asking the user something: on the controlling terminal, or through an
//! `SSH_ASKPASS` helper program as OpenSSH does (`SSH_ASKPASS_REQUIRE=force|prefer`,
//! or when there is no terminal).

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

/// Why a question could not be asked or was not answered.
#[derive(Debug)]
pub enum PromptError {
    /// No terminal and no askpass helper.
    NoTerminal,
    /// The helper failed or the user cancelled.
    Cancelled(String),
    /// Terminal IO failed.
    Io(std::io::Error),
}

impl std::fmt::Display for PromptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PromptError::NoTerminal => {
                write!(f, "no terminal to ask on (and SSH_ASKPASS is not set)")
            }
            PromptError::Cancelled(why) => write!(f, "prompt cancelled: {why}"),
            PromptError::Io(e) => write!(f, "terminal error: {e}"),
        }
    }
}

impl std::error::Error for PromptError {}

/// Whether the askpass helper should be used instead of the terminal.
fn askpass_program(have_tty: bool) -> Option<String> {
    let prog = std::env::var("SSH_ASKPASS")
        .ok()
        .filter(|p| !p.is_empty())?;
    match std::env::var("SSH_ASKPASS_REQUIRE").ok().as_deref() {
        Some("never") => None,
        Some("force") | Some("prefer") => Some(prog),
        _ if !have_tty => Some(prog),
        _ => None,
    }
}

/// Asks `prompt`; `echo` = false hides the answer (passwords, passphrases).
pub fn ask(prompt: &str, echo: bool) -> Result<String, PromptError> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty");
    if let Some(prog) = askpass_program(tty.is_ok()) {
        return ask_helper(&prog, prompt, echo);
    }
    let mut tty = tty.map_err(|_| PromptError::NoTerminal)?;
    ask_tty(&mut tty, prompt, echo)
}

fn ask_helper(prog: &str, prompt: &str, echo: bool) -> Result<String, PromptError> {
    let mut cmd = Command::new(prog);
    cmd.arg(prompt)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if echo {
        cmd.env("SSH_ASKPASS_PROMPT", "confirm");
    }
    let out = cmd
        .output()
        .map_err(|e| PromptError::Cancelled(format!("cannot run {prog}: {e}")))?;
    if !out.status.success() {
        return Err(PromptError::Cancelled(format!(
            "{prog} exited with {}",
            out.status
        )));
    }
    // The answer may be a password: the helper's output is wiped on drop.
    let stdout = Zeroizing::new(out.stdout);
    Ok(String::from_utf8_lossy(&stdout)
        .trim_end_matches(['\r', '\n'])
        .to_string())
}

fn ask_tty(tty: &mut std::fs::File, prompt: &str, echo: bool) -> Result<String, PromptError> {
    use std::os::fd::AsRawFd;
    tty.write_all(prompt.as_bytes()).map_err(PromptError::Io)?;
    tty.flush().map_err(PromptError::Io)?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it or fails.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd is an open terminal for the lifetime of `tty`.
    let have_termios = unsafe { libc::tcgetattr(fd, &mut saved) } == 0;
    if !echo && have_termios {
        let mut quiet = saved;
        quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
        quiet.c_lflag |= libc::ICANON;
        // SAFETY: as above; `quiet` is a valid termios derived from the current one.
        unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) };
    }
    // The answer may be a password: every buffer holding it is wiped on drop.
    let mut line = Zeroizing::new(Vec::new());
    let mut byte = Zeroizing::new([0u8; 1]);
    let result = loop {
        match tty.read(&mut byte[..]) {
            Ok(0) => break Ok(()),
            Ok(_) if byte[0] == b'\n' || byte[0] == b'\r' => break Ok(()),
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        }
    };
    if !echo && have_termios {
        // SAFETY: restores the attributes read above on the same fd.
        unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &saved) };
        let _ = tty.write_all(b"\n");
    }
    result.map_err(PromptError::Io)?;
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Prints a diagnostic for the user on stderr (as ssh does for warnings).
pub fn notify(message: &str) {
    let _ = std::io::stderr().write_all(message.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_answer_is_trimmed_and_failure_is_cancel() {
        let ok = ask_helper("/bin/echo", "Password: ", false).unwrap();
        assert_eq!(ok, "Password: ");
        assert!(matches!(
            ask_helper("/bin/false", "x", false),
            Err(PromptError::Cancelled(_))
        ));
        assert!(matches!(
            ask_helper("/nonexistent/askpass", "x", false),
            Err(PromptError::Cancelled(_))
        ));
    }
}
