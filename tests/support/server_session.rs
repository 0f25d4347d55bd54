//! Sessions of the server tests: rmosh started under the name `mosh-server`
//! in a scratch home with a known prompt, and Debian's `mosh-client`
//! attached to it in a private tmux.

use std::path::PathBuf;

use super::mosh::{Server, ServerSpec, rmosh_as_mosh_server};
use super::process::require;
use super::tempdir::TempDir;
use super::tmux::Tmux;

/// The shell prompt of these sessions (set in the scratch home's
/// `.profile`; tmux trims the trailing blank, so tests look for this).
pub const PROMPT: &str = "rmosh>";

/// Makes `dir/home` with no login banner and [`PROMPT`] as the prompt.
pub fn prompt_home(dir: &TempDir) -> PathBuf {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(home.join(".hushlogin"), "").expect("hushlogin");
    std::fs::write(home.join(".profile"), format!("PS1='{PROMPT} '\n")).expect("profile");
    home
}

/// Starts rmosh as `dir/mosh-server` with `args` after `new -i … -p …`
/// and `env` added to LANG=C.UTF-8 (LC_ALL removed).
pub fn start_server(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut spec = ServerSpec::program(&rmosh_as_mosh_server(dir.path()))
        .args(args)
        .env_remove("LC_ALL");
    for (k, v) in env {
        spec = spec.env(k, v);
    }
    spec.start()
}

/// Debian's `mosh-client` toward 127.0.0.1:`port` in a `cols`×`rows` tmux,
/// printing `RC=<exit status>` when it ends.
pub fn stock_client(port: u16, key: &str, cols: u16, rows: u16) -> Tmux {
    Tmux::spec(cols, rows).env("MOSH_KEY", key).run(&format!(
        "{} 127.0.0.1 {port}; echo \"RC=$?\"; sleep 60",
        require("mosh-client").display()
    ))
}

/// A started server plus the stock client attached to it.
pub struct Session {
    /// The tmux running the client (dropped first).
    pub tmux: Tmux,
    /// The server daemon.
    pub server: Server,
    /// Scratch directory (home of the session).
    pub dir: TempDir,
}

/// Starts the server (`args`, `env`) in a [`prompt_home`] with the user's
/// shell `/bin/sh`, and attaches the stock client at `cols`×`rows`.
pub fn session(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> Session {
    let dir = TempDir::new("srv");
    let home = prompt_home(&dir);
    let home = home.to_string_lossy().into_owned();
    let mut all_env: Vec<(&str, &str)> = vec![("HOME", &home), ("SHELL", "/bin/sh")];
    all_env.extend_from_slice(env);
    let server = start_server(&dir, args, &all_env);
    let tmux = stock_client(server.port, &server.key, cols, rows);
    Session { tmux, server, dir }
}
