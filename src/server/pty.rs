//! The pty and the session's process (§7.2 step 8): `openpty`, then our own
//! fork so the command is the server's direct child and can be held before
//! `exec` until the first client state arrives.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::login::{self, LoginSetup};
use super::process::{Forked, WindowSize, fork};

/// The server's side of the session: the pty master and the child's pid.
#[derive(Debug)]
pub struct PtySession {
    /// The pty master (non-blocking, close-on-exec).
    pub master: OwnedFd,
    /// The session process (held until a byte is written to `release`).
    pub child: libc::pid_t,
    /// The write end of the pipe the held child waits on. Writing one byte
    /// releases it; closing it unwritten tells the child the server is gone.
    pub release: OwnedFd,
}

/// Opens a pty of `size`, forks, and in the child prepares the login and
/// waits for the release byte before exec'ing. Call only while
/// single-threaded.
///
/// Mosh holds the child on a line read from the pty and releases it by
/// writing a newline there, which the still-cooked pty echoes: every Mosh
/// session starts with a blank first row. A pipe releases it without
/// touching the terminal.
///
/// `close_in_child` lists server descriptors (the UDP socket) the session must not inherit.
pub fn spawn_held(
    size: WindowSize,
    setup: &LoginSetup,
    close_in_child: &[RawFd],
) -> io::Result<PtySession> {
    let (master, slave) = open_pair(size)?;
    let (hold, release) = release_pipe()?;
    match fork()? {
        Forked::Child => {
            drop(master);
            drop(release);
            become_session_leader_on(slave);
            for &fd in close_in_child {
                // SAFETY: closing a descriptor number we were told we own.
                unsafe { libc::close(fd) };
            }
            login::run(setup, hold.as_raw_fd())
        }
        Forked::Parent(child) => {
            drop(slave);
            drop(hold);
            set_cloexec_nonblock(master.as_raw_fd())?;
            Ok(PtySession {
                master,
                child,
                release,
            })
        }
    }
}

/// A close-on-exec pipe `(read, write)`: the command never inherits it.
fn release_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as RawFd; 2];
    // SAFETY: fds is a valid out-array of two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are fresh and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Lets the held session process exec its command.
pub fn release(release: OwnedFd) -> io::Result<()> {
    let byte = [1u8];
    loop {
        // SAFETY: writing one byte from a valid buffer to our own pipe.
        let n = unsafe { libc::write(release.as_raw_fd(), byte.as_ptr().cast(), 1) };
        if n == 1 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Opens a pty pair `(master, slave)` of `size`, both owned by the caller.
pub fn open_pair(size: WindowSize) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut master: RawFd = -1;
    let mut slave: RawFd = -1;
    let ws = size.to_winsize();
    // SAFETY: out-pointers are valid; name and termios are optional (null).
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openpty succeeded, so both descriptors are fresh and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) })
}

/// In the child: new session, the slave as controlling terminal and stdio.
fn become_session_leader_on(slave: OwnedFd) {
    let fd = slave.as_raw_fd();
    // SAFETY: plain syscalls on descriptors this process owns; failures only
    // degrade job control, as with login_tty(3).
    unsafe {
        libc::setsid();
        libc::ioctl(fd, libc::TIOCSCTTY, 0);
        libc::dup2(fd, 0);
        libc::dup2(fd, 1);
        libc::dup2(fd, 2);
    }
    if fd <= 2 {
        std::mem::forget(slave);
    }
}

fn set_cloexec_nonblock(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own with valid flag arguments.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl < 0 || libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
        let fdfl = libc::fcntl(fd, libc::F_GETFD);
        if fdfl < 0 || libc::fcntl(fd, libc::F_SETFD, fdfl | libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Tells the pty (and so the application) the new window size.
pub fn set_window_size(master: RawFd, size: WindowSize) -> io::Result<()> {
    let ws = size.to_winsize();
    // SAFETY: ws is a valid winsize for TIOCSWINSZ.
    if unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &ws) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reaps the session process if it has exited (never blocks).
pub fn reap(child: libc::pid_t) {
    let mut status = 0;
    // SAFETY: waitpid with WNOHANG on our own child.
    unsafe { libc::waitpid(child, &mut status, libc::WNOHANG) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::time::{Duration, Instant};

    fn read_until(master: RawFd, needle: &[u8], limit: Duration) -> Vec<u8> {
        let start = Instant::now();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while start.elapsed() < limit && !out.windows(needle.len()).any(|w| w == needle) {
            // SAFETY: buf is a valid writable buffer.
            let n = unsafe { libc::read(master, buf.as_mut_ptr().cast(), buf.len()) };
            match usize::try_from(n) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(buf.get(..n).unwrap_or_default()),
                Err(_) => {
                    if io::Error::last_os_error().raw_os_error() == Some(libc::EIO) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        out
    }

    // Forking from a multi-threaded test harness is only safe because the
    // child does nothing but async-signal-safe work plus exec, and this test
    // runs the child in its own single-purpose process image.
    #[test]
    fn child_is_held_until_released_then_sees_term_and_size() {
        let setup = LoginSetup {
            command: super::super::command::Command {
                path: "/bin/sh".into(),
                argv: vec![
                    "/bin/sh".into(),
                    "-c".into(),
                    "echo TERM=$TERM ACS=$NCURSES_NO_UTF8_ACS STY=${STY-unset}; stty size; echo PWD=$PWD".into(),
                ],
                with_motd: false,
            },
            colors: 256,
            home: Some(OsString::from("/tmp")),
            utmp_entry: String::new(),
            username: None,
        };
        let s = spawn_held(
            WindowSize {
                cols: 100,
                rows: 30,
            },
            &setup,
            &[],
        )
        .expect("spawn");
        let fd = s.master.as_raw_fd();
        // Nothing runs before the release.
        std::thread::sleep(Duration::from_millis(300));
        let early = read_until(fd, b"TERM=", Duration::from_millis(100));
        assert!(early.is_empty(), "{early:?}");
        release(s.release).expect("release");
        let out = read_until(fd, b"PWD=/tmp", Duration::from_secs(5));
        let text = String::from_utf8_lossy(&out);
        // No stray newline: the command's output is the first thing on screen.
        assert!(text.starts_with("TERM="), "{text:?}");
        assert!(
            text.contains("TERM=xterm-256color ACS=1 STY=unset"),
            "{text}"
        );
        assert!(text.contains("30 100"), "{text}");
        assert!(text.contains("PWD=/tmp"), "{text}");
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(s.child, &mut status, 0) };
    }
}
