//! What the session process does between fork and exec (§7.2 step 8): the
//! environment Mosh sets, the home directory, the MOTD and the detached-session
//! warning, then it waits for the server's release byte and execs the command.
//!
//! Runs in a freshly forked, single-threaded child whose stdio is the pty slave.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::command::Command;
use super::process::{ignore_hup_and_pipe, reenable_core_dumps, write_all_fd};

/// Everything the session process needs, prepared by the server before the fork.
#[derive(Debug, Clone)]
pub struct LoginSetup {
    /// The program to exec.
    pub command: Command,
    /// `-c` colours (selects TERM).
    pub colors: i64,
    /// Home directory: `$HOME`, else the passwd entry's.
    pub home: Option<OsString>,
    /// Our own utmp host text, `mosh [PID]`, excluded from the warning.
    pub utmp_entry: String,
    /// The user's login name, for the detached-session warning.
    pub username: Option<String>,
}

/// TERM for the session: `xterm-256color` for 256 colours, else `xterm`.
pub fn term_for_colors(colors: i64) -> &'static str {
    if colors == 256 {
        "xterm-256color"
    } else {
        "xterm"
    }
}

/// The MOTD files in Mosh's order: the first existing dynamic one, then `/etc/motd`.
pub const MOTD_DYNAMIC: [&str; 2] = ["/run/motd.dynamic", "/var/run/motd.dynamic"];
/// The traditional MOTD, always shown when present.
pub const MOTD_STATIC: &str = "/etc/motd";

/// Runs the child side, held on the pipe `hold` until the server releases
/// it; never returns.
pub fn run(setup: &LoginSetup, hold: i32) -> ! {
    ignore_hup_and_pipe(false);
    set_iutf8(0);
    // SAFETY: this process is a single-threaded fork child; nothing else reads
    // or writes the environment concurrently.
    unsafe {
        std::env::set_var("TERM", term_for_colors(setup.colors));
        std::env::set_var("NCURSES_NO_UTF8_ACS", "1");
        std::env::remove_var("STY");
    }
    chdir_home(setup.home.as_deref());
    if setup.command.with_motd && Path::new(".hushlogin").symlink_metadata().is_err() {
        if !print_file(Path::new(MOTD_DYNAMIC[0])) {
            print_file(Path::new(MOTD_DYNAMIC[1]));
        }
        print_file(Path::new(MOTD_STATIC));
        if let Some(user) = &setup.username {
            let others = super::utmp::unattached_sessions(user, &setup.utmp_entry);
            if let Some(text) = super::utmp::warning_text(&others) {
                write_all_fd(1, text.as_bytes());
            }
        }
    }
    wait_for_release(hold);
    reenable_core_dumps();
    close_inherited_descriptors();
    exec(&setup.command)
}

/// Closes every descriptor above stderr, so nothing the server holds or
/// inherited (its socket, the pty master, a caller's pipe) reaches the
/// shell, as sshd does for its sessions.
fn close_inherited_descriptors() {
    // SAFETY: close_range(2) only closes descriptors; this single-threaded
    // child uses none above 2 after this point.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
}

fn set_iutf8(fd: i32) {
    // SAFETY: termios is plain data, filled by tcgetattr before use.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) == 0 {
            t.c_iflag |= libc::IUTF8;
            libc::tcsetattr(fd, libc::TCSANOW, &t);
        }
    }
}

fn chdir_home(home: Option<&OsStr>) {
    let Some(home) = home else { return };
    if let Err(e) = std::env::set_current_dir(home) {
        write_all_fd(2, format!("chdir: {e}\n").as_bytes());
    }
    // SAFETY: single-threaded fork child (see `run`).
    unsafe { std::env::set_var("PWD", home) };
}

/// Copies a file to stdout; false if it cannot be opened.
fn print_file(path: &Path) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => {
            write_all_fd(1, &bytes);
            true
        }
        Err(_) => false,
    }
}

/// Blocks until the server writes the release byte into `hold`; exits if
/// the server went away first (the pipe closed unwritten).
fn wait_for_release(hold: i32) {
    let mut byte = 0u8;
    loop {
        // SAFETY: reading one byte into a valid local.
        let n = unsafe { libc::read(hold, (&raw mut byte).cast(), 1) };
        if n == 1 {
            return;
        }
        let e = std::io::Error::last_os_error();
        if n < 0 && e.kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        let why = if n == 0 {
            "server exited".to_owned()
        } else {
            e.to_string()
        };
        write_all_fd(2, format!("mosh-server: parent signal: {why}\n").as_bytes());
        // SAFETY: terminating the forked child without running parent-owned destructors.
        unsafe { libc::_exit(1) };
    }
}

fn exec(cmd: &Command) -> ! {
    let to_c = |s: &OsStr| CString::new(s.as_bytes()).ok();
    let path = to_c(&cmd.path);
    let argv: Option<Vec<CString>> = cmd.argv.iter().map(|a| to_c(a)).collect();
    if let (Some(path), Some(argv)) = (path, argv) {
        let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        // SAFETY: path and every argv entry are NUL-terminated and outlive
        // the call; the pointer array is null-terminated.
        unsafe { libc::execvp(path.as_ptr(), ptrs.as_ptr()) };
    }
    let e = std::io::Error::last_os_error();
    write_all_fd(
        2,
        format!("mosh-server: execvp: {}: {e}\n", cmd.path.to_string_lossy()).as_bytes(),
    );
    std::thread::sleep(std::time::Duration::from_secs(3));
    // SAFETY: leaving the forked child without unwinding into parent state.
    unsafe { libc::_exit(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_follows_colors() {
        assert_eq!(term_for_colors(256), "xterm-256color");
        assert_eq!(term_for_colors(8), "xterm");
        assert_eq!(term_for_colors(0), "xterm");
        assert_eq!(term_for_colors(-1), "xterm");
    }
}
