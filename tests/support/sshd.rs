//! A private OpenSSH sshd on 127.0.0.1 for the bootstrap tests, with generated
//! host and user keys, plus fake server/client/askpass scripts.

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::ports::free_tcp_port;
use super::process::{require, rmosh_bin};
use super::tempdir::{TempDir, write_executable};

/// The fake session key the fake server prints.
pub const FAKE_KEY: &str = "AbCdEfGhIjKlMnOpQrStUv";
/// The test user made by `.ci/setup.d/bootstrap.sh`.
pub const TEST_USER: &str = "rmoshtest";
/// Its password.
pub const TEST_PASSWORD: &str = "rmosh-test-pw";

/// Fails unless the test user (made by `.ci/setup.d/bootstrap.sh`) exists.
pub fn require_test_user() {
    let exists = Command::new("id")
        .arg(TEST_USER)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        exists,
        "user {TEST_USER} is missing: run .ci/setup.d/bootstrap.sh as root"
    );
}

/// A running sshd and its files; everything is removed on drop.
pub struct Sshd {
    /// The folder with its configuration, keys, log and scripts.
    pub dir: TempDir,
    /// Its TCP port.
    pub port: u16,
    child: Child,
}

/// Generates a key pair of `kind` at `path` (and `path.pub`).
pub fn keygen(path: &Path, kind: &str, passphrase: &str) {
    let st = Command::new(require("ssh-keygen"))
        .args(["-q", "-t", kind, "-N", passphrase, "-C", "rmosh-test", "-f"])
        .arg(path)
        .status()
        .expect("run ssh-keygen");
    assert!(st.success(), "ssh-keygen failed");
}

impl Sshd {
    /// Starts sshd with `extra` appended to its configuration.
    pub fn start(name: &str, extra: &str) -> Sshd {
        let sshd = require("sshd");
        assert!(
            Path::new("/run/sshd").is_dir(),
            "/run/sshd is missing: run .ci/setup.d/bootstrap.sh as root"
        );
        let dir = TempDir::new(&format!("bt-{name}"));
        std::fs::create_dir_all(dir.join("home/.ssh")).expect("mkdir");
        // Readable by the test user sshd logs in as.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        keygen(&dir.join("host_ed25519"), "ed25519", "");
        keygen(&dir.join("user_key"), "ed25519", "");
        std::fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys")).expect("copy");
        std::fs::set_permissions(
            dir.join("authorized_keys"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        let port = free_tcp_port();
        let d = dir.path().display();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_ed25519\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PermitRootLogin yes\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
             PidFile none\nLogLevel VERBOSE\nAllowTcpForwarding yes\n{extra}\n"
        );
        std::fs::write(dir.join("sshd_config"), config).expect("write sshd_config");
        let log = std::fs::File::create(dir.join("sshd.log")).expect("log");
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        let s = Sshd { dir, port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not start: {}", s.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        s.write_scripts();
        std::fs::write(s.path("empty_config"), "").expect("write");
        s
    }

    /// What sshd logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }

    /// A path inside its folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write_scripts(&self) {
        let d = self.dir.path().display();
        // A stand-in for mosh-server: rc-file noise, then MOSH CONNECT after junk.
        write_executable(
            &self.path("server.sh"),
            &format!(
                "#!/bin/sh\necho 'Welcome from .bashrc'\nprintf 'junk\\033[0m'\n\
                 echo \"MOSH CONNECT 60001 {FAKE_KEY}\"\necho 'mosh-server (fake) detached'\n"
            ),
        );
        // A server that fails the way a broken install does.
        write_executable(
            &self.path("broken.sh"),
            "#!/bin/sh\necho 'oops: server library missing' >&2\nexit 127\n",
        );
        // A stand-in for the client: records what it was given.
        write_executable(
            &self.path("client.sh"),
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > {d}/client.args\n\
                 printf '%s' \"$MOSH_KEY\" > {d}/client.key\n\
                 printf '%s' \"$MOSH_PREDICTION_DISPLAY\" > {d}/client.predict\n"
            ),
        );
        write_executable(
            &self.path("askpass.sh"),
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> {d}/asked.log\n\
                 case \"$1\" in\n\
                 *authenticity*|*Please*) echo \"$ANSWER_HOSTKEY\";;\n\
                 *passphrase*) echo \"$ANSWER_PASSPHRASE\";;\n\
                 *password*) echo \"$ANSWER_PASSWORD\";;\n\
                 *) exit 1;;\n\
                 esac\n"
            ),
        );
    }

    /// `rmosh connect` with an isolated environment (HOME in the temp dir, no
    /// agent, the askpass helper forced, known_hosts in the temp dir).
    pub fn rmosh(&self) -> Command {
        let mut c = self.rmosh_bare();
        c.arg("connect");
        c
    }

    /// Like [`Sshd::rmosh`] without the `connect` subcommand.
    pub fn rmosh_bare(&self) -> Command {
        let mut c = Command::new(rmosh_bin());
        c.env("HOME", self.path("home"))
            .env_remove("SSH_AUTH_SOCK")
            .env("SSH_ASKPASS", self.path("askpass.sh"))
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("ANSWER_HOSTKEY", "no")
            .env("ANSWER_PASSPHRASE", "")
            .env("ANSWER_PASSWORD", "")
            .stdin(Stdio::null());
        c
    }

    /// The usual options: this sshd, the fake server and client.
    pub fn std_args(&self) -> Vec<String> {
        self.args_with_server("server.sh")
    }

    /// The usual options with another server script from the temp dir.
    pub fn args_with_server(&self, server: &str) -> Vec<String> {
        vec![
            "--ssh-port".into(),
            self.port.to_string(),
            "-F".into(),
            self.path("empty_config").display().to_string(),
            "-o".into(),
            format!("UserKnownHostsFile={}", self.path("known_hosts").display()),
            "-o".into(),
            "GlobalKnownHostsFile=none".into(),
            "--server".into(),
            self.path(server).display().to_string(),
            "--client".into(),
            self.path("client.sh").display().to_string(),
        ]
    }

    /// An ssh_config `Host` block naming this sshd `alias`, with the user
    /// key and the test's known_hosts.
    pub fn host_block(&self, alias: &str) -> String {
        format!(
            "Host {alias}\n  HostName 127.0.0.1\n  Port {}\n  IdentityFile {}\n  UserKnownHostsFile {}\n",
            self.port,
            self.path("user_key").display(),
            self.path("known_hosts").display()
        )
    }

    /// An OpenSSH `ssh` command line (for `--ssh=`) that logs in to this
    /// sshd with the user key, never asking anything.
    pub fn external_ssh(&self) -> String {
        format!(
            "ssh -F {} -p {} -i {} -o UserKnownHostsFile={} -o BatchMode=yes",
            self.path("empty_config").display(),
            self.port,
            self.path("user_key").display(),
            self.path("known_hosts").display()
        )
    }

    /// Records the server's host key as known.
    pub fn trust_host_key(&self) {
        let key = std::fs::read_to_string(self.path("host_ed25519.pub")).expect("read");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("known_hosts"))
            .expect("open");
        writeln!(f, "[127.0.0.1]:{} {}", self.port, key.trim()).expect("write");
    }

    /// What the fake client received: (args, key).
    pub fn client_got(&self) -> Option<(Vec<String>, String)> {
        let args = std::fs::read_to_string(self.path("client.args")).ok()?;
        let key = std::fs::read_to_string(self.path("client.key")).ok()?;
        Some((args.lines().map(str::to_string).collect(), key))
    }

    /// Every prompt the askpass helper was shown.
    pub fn asked(&self) -> String {
        std::fs::read_to_string(self.path("asked.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
