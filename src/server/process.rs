//! Small process-level operations of the server start-up (§7.2): core dumps,
//! signal dispositions, the detaching fork and stdio redirection.

use std::io;
use std::os::fd::RawFd;

/// Lets the session's command dump core again (called in the pty child before exec).
pub fn reenable_core_dumps() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut lim) } == 0 {
        set_core_limit(lim.rlim_max);
    }
}

fn set_core_limit(cur: libc::rlim_t) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid in/out pointer for both calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_CORE, &mut lim) == 0 {
            lim.rlim_cur = cur.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_CORE, &lim);
        }
    }
}

/// Ignores (true) or restores to default (false) SIGHUP and SIGPIPE.
pub fn ignore_hup_and_pipe(ignore: bool) {
    let handler = if ignore { libc::SIG_IGN } else { libc::SIG_DFL };
    // SAFETY: installing SIG_IGN/SIG_DFL has no handler-safety concerns.
    unsafe {
        libc::signal(libc::SIGHUP, handler);
        libc::signal(libc::SIGPIPE, handler);
    }
}

/// Whether `fd` is a terminal.
pub fn isatty(fd: RawFd) -> bool {
    // SAFETY: isatty accepts any integer.
    unsafe { libc::isatty(fd) == 1 }
}

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
}

impl WindowSize {
    /// The size used when stdin is not a terminal (§5.1).
    pub const DEFAULT: WindowSize = WindowSize { cols: 80, rows: 24 };

    /// As a `struct winsize`.
    pub fn to_winsize(self) -> libc::winsize {
        libc::winsize {
            ws_row: self.rows,
            ws_col: self.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        }
    }
}

/// The size of the terminal on `fd`, or 80×24 if it has none or a zero size.
pub fn window_size_of(fd: RawFd) -> WindowSize {
    let mut ws = WindowSize::DEFAULT.to_winsize();
    // SAFETY: ws is a valid out-pointer for TIOCGWINSZ.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
    if rc < 0 || ws.ws_col == 0 || ws.ws_row == 0 {
        WindowSize::DEFAULT
    } else {
        WindowSize {
            cols: ws.ws_col,
            rows: ws.ws_row,
        }
    }
}

/// Which side of a fork we are on.
pub enum Forked {
    /// The original process; the child's pid.
    Parent(libc::pid_t),
    /// The new process.
    Child,
}

/// `fork(2)`. Only call while the process has a single thread.
pub fn fork() -> io::Result<Forked> {
    // SAFETY: the caller guarantees no other thread exists, so the child
    // inherits consistent allocator and lock state.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// Points stdin, stdout and stderr at `/dev/null` (the detached daemon without `-v`).
pub fn redirect_stdio_to_null() -> io::Result<()> {
    // SAFETY: the path is a valid C string; descriptors are checked.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null < 0 {
            return Err(io::Error::last_os_error());
        }
        for fd in 0..3 {
            if libc::dup2(null, fd) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if null > 2 {
            libc::close(null);
        }
    }
    Ok(())
}

/// Waits until output queued on a terminal `fd` has been sent (no-op otherwise).
pub fn drain_if_tty(fd: RawFd) {
    if isatty(fd) {
        // SAFETY: tcdrain accepts any descriptor.
        unsafe { libc::tcdrain(fd) };
    }
}

/// Writes all of `bytes` to a raw descriptor, retrying on EINTR; errors are dropped.
pub fn write_all_fd(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: the pointer and length describe a live slice.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        let Ok(n) = usize::try_from(n) else { return };
        if n == 0 {
            return;
        }
        bytes = bytes.get(n..).unwrap_or_default();
    }
}

/// The calling process's id.
pub fn getpid() -> libc::pid_t {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_size_of_a_non_tty_is_80x24() {
        let f = std::fs::File::open("/dev/null").expect("open");
        use std::os::fd::AsRawFd;
        assert_eq!(window_size_of(f.as_raw_fd()), WindowSize::DEFAULT);
        assert!(!isatty(f.as_raw_fd()));
    }

    #[test]
    fn winsize_conversion() {
        let ws = WindowSize {
            cols: 100,
            rows: 30,
        }
        .to_winsize();
        assert_eq!((ws.ws_col, ws.ws_row), (100, 30));
    }
}
