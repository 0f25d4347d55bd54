//! The start-up sequence (§7.2), in Mosh's order: command, locale, timeouts,
//! window size, socket and key, `MOSH CONNECT`, detach, pty — all before any
//! async runtime exists, because `fork` and threads do not mix.

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::process::ExitCode;

use super::cli::{ServerConfig, VERSION_TEXT};
use super::command;
use super::lifecycle::Timeouts;
use super::locale;
use super::login::LoginSetup;
use super::passwd;
use super::process::{self, Forked};
use super::pty;
use super::registry::{self, Registration};
use super::session::{self, SessionParams};
use super::utmp;
use crate::transport::key::Base64Key;

/// The `MOSH CONNECT` announcement, with Mosh's guard line when stdin is a tty.
pub fn connect_line(port: u16, key: &str, stdin_is_tty: bool) -> String {
    let guard = if stdin_is_tty { "\r\n\n" } else { "" };
    format!("{guard}MOSH CONNECT {port} {key}\n")
}

/// What the detaching parent prints on stderr before exiting 0.
pub fn detach_banner(child: libc::pid_t) -> String {
    format!("\n{VERSION_TEXT}\n[mosh-server detached, pid = {child}]\n")
}

/// Runs the server; returns only in the process that should exit with the result.
pub fn launch(cfg: ServerConfig) -> ExitCode {
    let user = passwd::current_user();
    let cmd = command::choose(
        cfg.command.clone(),
        std::env::var_os("SHELL"),
        user.as_ref().map(|u| u.shell.clone()),
    );
    if !locale::ensure_utf8(&cfg.locale_vars) {
        return ExitCode::from(1);
    }
    let timeouts = Timeouts::from_env();
    let size = process::window_size_of(0);
    let ip = cfg
        .desired_ip
        .as_ref()
        .map(|s| s.to_string_lossy().into_owned());
    let bound = match crate::net::socket::bind_server(ip.as_deref(), cfg.ports) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("Network exception: bind: {}", e.source);
            return ExitCode::from(1);
        }
    };
    for warning in &bound.warnings {
        eprintln!("{warning}");
    }
    let key = match Base64Key::generate() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("Crypto exception: {e}");
            return ExitCode::from(1);
        }
    };
    let port = match bound.local_addr() {
        Ok(a) => a.port(),
        Err(e) => {
            eprintln!("Network exception: {e}");
            return ExitCode::from(1);
        }
    };
    match registry::open_dir(true) {
        Err(why) => eprintln!(
            "rmosh: the session registry is unusable ({why}); this session cannot be listed or reattached"
        ),
        // Someone at a terminal (ssh -t) starting yet another session may
        // rather want an old one back, as tmux users expect to be told.
        Ok(dir) if process::isatty(0) => {
            if let Some(line) = super::manage::detached_notice(&dir) {
                eprintln!("{line}");
            }
        }
        Ok(_) => {}
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(connect_line(port, &key.printable(), process::isatty(0)).as_bytes());
        let _ = out.flush();
    }
    // Registered before the parent exits, so a session is listable as soon
    // as `new` returns.
    let registration = match Registration::create() {
        Ok(r) => Some(r),
        Err(why) => {
            eprintln!("rmosh: not registered: {why}");
            None
        }
    };
    process::ignore_hup_and_pipe(true);
    let _ = std::io::stderr().flush();
    match process::fork() {
        Err(e) => eprintln!("fork: {e}"),
        Ok(Forked::Parent(child)) => {
            // The entry belongs to the child now: dropping it here would
            // remove its socket.
            std::mem::forget(registration);
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(detach_banner(child).as_bytes());
            let _ = err.flush();
            process::drain_if_tty(1);
            process::drain_if_tty(2);
            return ExitCode::SUCCESS;
        }
        Ok(Forked::Child) => {}
    }
    if cfg.verbose == 0
        && let Err(e) = process::redirect_stdio_to_null()
    {
        eprintln!("dup2: {e}");
        return ExitCode::from(1);
    }
    let pid = process::getpid();
    let command_text = cmd
        .argv
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let setup = LoginSetup {
        command: cmd,
        colors: cfg.colors,
        home: std::env::var_os("HOME").or_else(|| user.as_ref().map(|u| OsString::from(&u.home))),
        utmp_entry: utmp::detached_entry(pid),
        username: user
            .as_ref()
            .map(|u| u.name.clone())
            .or_else(|| std::env::var("USER").ok()),
    };
    let session_pty = match pty::spawn_held(size, &setup, &[bound.socket.as_raw_fd()]) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("forkpty: {e}");
            return ExitCode::from(1);
        }
    };
    utmp::add_record(&session_pty.master, &setup.utmp_entry);
    let params = SessionParams {
        socket: bound,
        key,
        master: session_pty.master,
        child: session_pty.child,
        release: session_pty.release,
        size,
        timeouts,
        verbose: cfg.verbose,
        pid,
        registration,
        command: command_text,
    };
    let master = session::serve(params);
    if let Some(master) = master {
        utmp::remove_record(&master);
        drop(master);
    }
    pty::reap(session_pty.child);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b"\n[mosh-server is exiting.]\n");
    let _ = out.flush();
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_line_with_and_without_tty() {
        assert_eq!(
            connect_line(60050, "VzSpsdwU3gLB52wEoNjlzg", false),
            "MOSH CONNECT 60050 VzSpsdwU3gLB52wEoNjlzg\n"
        );
        assert_eq!(
            connect_line(60001, "k", true),
            "\r\n\nMOSH CONNECT 60001 k\n"
        );
    }

    #[test]
    fn banner_matches_mosh() {
        assert_eq!(
            detach_banner(1234),
            "\nmosh-server (mosh 1.4.0) [build mosh 1.4.0]\n\
Copyright 2012 Keith Winstein <mosh-devel@mit.edu>\n\
License GPLv3+: GNU GPL version 3 or later <http://gnu.org/licenses/gpl.html>.\n\
This is free software: you are free to change and redistribute it.\n\
There is NO WARRANTY, to the extent permitted by law.\n\n\
[mosh-server detached, pid = 1234]\n"
        );
    }
}
