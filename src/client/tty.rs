//! The real terminal: raw mode, writing Mosh's open/close sequences, the
//! window size, suspend/resume, and a restore that runs on every way out
//! (normal return, drop, panic).

use std::io::{self, Write};
use std::os::fd::RawFd;
use std::sync::Mutex;

/// The text printed when the user suspends the client.
pub const SUSPENDED_MESSAGE: &[u8] = b"\n\x1b[37;44m[mosh is suspended.]\x1b[m\n";

/// What the panic hook needs to put the terminal back.
struct Saved {
    fd: RawFd,
    termios: libc::termios,
    close: Vec<u8>,
}

/// The terminal state to restore if the process panics while raw.
static PANIC_RESTORE: Mutex<Option<Saved>> = Mutex::new(None);

/// Writes all of `bytes` to stdout and flushes.
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

fn tcgetattr(fd: RawFd) -> io::Result<libc::termios> {
    // SAFETY: termios is plain old data; tcgetattr fills it or fails.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is a valid, writable termios.
    if unsafe { libc::tcgetattr(fd, &mut t) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(t)
}

fn tcsetattr(fd: RawFd, t: &libc::termios) -> io::Result<()> {
    // SAFETY: `t` points to a valid termios.
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, t) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The window size of `fd` as (columns, rows).
pub fn window_size(fd: RawFd) -> io::Result<(u16, u16)> {
    // SAFETY: winsize is plain old data.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a winsize into the pointer we pass.
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((ws.ws_col, ws.ws_row))
}

/// The real terminal in raw mode; puts it back when dropped.
pub struct RawTerminal {
    fd: RawFd,
    saved: libc::termios,
    raw: libc::termios,
    open: Vec<u8>,
    close: Vec<u8>,
    restored: bool,
}

impl RawTerminal {
    /// Saves the terminal state of `fd` (stdin), switches to raw mode with
    /// IUTF8, and writes the open sequence. Fails (like Mosh's
    /// `tcgetattr: …`) when `fd` is not a terminal.
    pub fn enter(fd: RawFd, open: Vec<u8>, close: Vec<u8>) -> io::Result<RawTerminal> {
        let saved = tcgetattr(fd)?;
        let mut raw = saved;
        raw.c_iflag |= libc::IUTF8;
        // SAFETY: `raw` is a valid termios.
        unsafe { libc::cfmakeraw(&mut raw) };
        tcsetattr(fd, &raw)?;
        if let Ok(mut slot) = PANIC_RESTORE.lock() {
            *slot = Some(Saved {
                fd,
                termios: saved,
                close: close.clone(),
            });
        }
        install_panic_hook();
        let t = RawTerminal {
            fd,
            saved,
            raw,
            open,
            close,
            restored: false,
        };
        write_stdout(&t.open)?;
        Ok(t)
    }

    /// Replaces the open and close sequences (the client decides between
    /// the alternate and the main screen once it hears from the server).
    pub fn set_sequences(&mut self, open: Vec<u8>, close: Vec<u8>) {
        if let Ok(mut slot) = PANIC_RESTORE.lock()
            && let Some(saved) = slot.as_mut()
        {
            saved.close = close.clone();
        }
        self.open = open;
        self.close = close;
    }

    /// The raw termios in effect while the session runs.
    pub fn raw_termios(&self) -> &libc::termios {
        &self.raw
    }

    /// Writes the close sequence and restores the saved termios. Idempotent.
    pub fn restore(&mut self) -> io::Result<()> {
        if self.restored {
            return Ok(());
        }
        self.restored = true;
        if let Ok(mut slot) = PANIC_RESTORE.lock() {
            *slot = None;
        }
        let w = write_stdout(&self.close);
        let t = tcsetattr(self.fd, &self.saved);
        w.and(t)
    }

    /// Leaves raw mode for a suspend: close sequence, cooked termios.
    pub fn suspend(&mut self) -> io::Result<()> {
        write_stdout(&self.close)?;
        tcsetattr(self.fd, &self.saved)?;
        write_stdout(SUSPENDED_MESSAGE)?;
        Ok(())
    }

    /// Re-enters raw mode and re-sends the open sequence (after SIGCONT).
    pub fn resume(&mut self) -> io::Result<()> {
        tcsetattr(self.fd, &self.raw)?;
        write_stdout(&self.open)
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = self.restore();
    }
}

/// Stops the whole process group, as a shell's job control expects.
pub fn stop_process_group() {
    // SAFETY: kill(0, SIGSTOP) only sends a signal.
    unsafe {
        libc::kill(0, libc::SIGSTOP);
    }
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Put the terminal back first so the panic message is readable.
            let saved = PANIC_RESTORE.lock().ok().and_then(|mut s| s.take());
            if let Some(s) = saved {
                let _ = write_stdout(&s.close);
                let _ = tcsetattr(s.fd, &s.termios);
            }
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_mode_needs_a_terminal() {
        // A pipe is not a terminal: the error is tcgetattr's ENOTTY.
        let mut fds = [0; 2];
        // SAFETY: pipe writes two fds into the array.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let r = RawTerminal::enter(fds[0], Vec::new(), Vec::new());
        let e = r.err().map(|e| e.raw_os_error());
        // SAFETY: closing the fds we created.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        assert_eq!(e, Some(Some(libc::ENOTTY)));
    }

    #[test]
    fn raw_mode_round_trip_on_a_pty() {
        let mut master = 0;
        let mut slave = 0;
        // SAFETY: openpty writes two fds; null name/termios/winsize are allowed.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0);
        let before = tcgetattr(slave).expect("pty termios");
        assert_ne!(before.c_lflag & libc::ICANON, 0);
        {
            let t = RawTerminal::enter(slave, Vec::new(), Vec::new()).expect("raw");
            let now = tcgetattr(slave).expect("pty termios");
            assert_eq!(now.c_lflag & (libc::ICANON | libc::ECHO | libc::ISIG), 0);
            assert_ne!(now.c_iflag & libc::IUTF8, 0);
            assert_eq!(now.c_iflag, t.raw_termios().c_iflag);
        }
        let after = tcgetattr(slave).expect("pty termios");
        assert_eq!(after.c_lflag, before.c_lflag);
        assert_eq!(after.c_iflag, before.c_iflag);
        // SAFETY: closing the fds we opened.
        unsafe {
            libc::close(master);
            libc::close(slave);
        }
    }
}
