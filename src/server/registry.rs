//! The per-user session registry (docs/sessions.md): a private directory
//! holding one Unix socket per running session, named by its short id.
//!
//! The directory is `${RMOSH_TMPDIR:-/tmp}/rmosh-UID`, mode 0700; its owner,
//! type and mode are checked before every use, and a symlink is refused.
//! Each end checks the other's peer credentials (`SO_PEERCRED`): only the
//! same uid, or root, may talk to a session. No NSS lookups: the uid comes
//! from `getuid`.

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::control::{MAX_LINE, Request, SessionInfo};

/// The suffix of a session socket's file name.
const SOCKET_SUFFIX: &str = ".sock";
/// How long a command waits for a session's reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Letters of a session id: lower case, without look-alikes (0/o, 1/l/i).
const ID_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Length of a new session id.
const ID_LEN: usize = 4;

/// The caller's real uid.
pub fn my_uid() -> u32 {
    // SAFETY: getuid cannot fail and touches no memory.
    unsafe { libc::getuid() }
}

/// Where this user's registry lives (not checked yet).
pub fn dir_path() -> PathBuf {
    let base = std::env::var_os("RMOSH_TMPDIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    base.join(format!("rmosh-{}", my_uid()))
}

/// Checks that `path` is a real directory owned by `uid` that nobody else
/// may enter; the reason it is unsafe otherwise.
pub fn check_dir(path: &Path, uid: u32) -> Result<(), String> {
    let shown = path.display();
    let meta = fs::symlink_metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{shown} is a symbolic link; refusing to use it as the session registry"
        ));
    }
    if !meta.is_dir() {
        return Err(format!("{shown} is not a directory"));
    }
    if meta.uid() != uid {
        return Err(format!(
            "{shown} belongs to uid {}, not to you (uid {uid}); refusing to use it",
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{shown} has mode {:04o}; it must be 0700 (yours alone), refusing to use it",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// The registry directory, checked; made (0700) first when `create` is set.
pub fn open_dir(create: bool) -> Result<PathBuf, String> {
    let path = dir_path();
    if create && fs::symlink_metadata(&path).is_err() {
        match fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    check_dir(&path, my_uid())?;
    Ok(path)
}

/// Whether `id` could name a session (so it is safe in a path).
pub fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn socket_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}{SOCKET_SUFFIX}"))
}

fn new_id() -> io::Result<String> {
    let mut bytes = [0u8; ID_LEN];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ID_ALPHABET[usize::from(*b) % ID_ALPHABET.len()]))
        .collect())
}

/// The uid of the process at the other end of a Unix socket.
pub fn peer_uid(fd: RawFd) -> io::Result<u32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::ucred>())
        .map_err(|_| io::Error::other("ucred size"))?;
    // SAFETY: `cred` and `len` are valid out-pointers of the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cred.uid)
}

/// Whether a peer with `peer` uid may talk to a session of `me`.
pub fn peer_allowed(peer: u32, me: u32) -> bool {
    peer == me || peer == 0
}

/// A session's entry in the registry; the socket is removed on drop.
#[derive(Debug)]
pub struct Registration {
    /// The short id.
    pub id: String,
    path: PathBuf,
    /// The listening socket (taken by the event loop).
    pub listener: Option<UnixListener>,
}

impl Registration {
    /// Creates this session's socket under a new id.
    ///
    /// The socket is bound under a hidden name and linked to its public name
    /// only once it listens, so a scan never mistakes a session that is
    /// starting for a dead one.
    pub fn create() -> Result<Registration, String> {
        let dir = open_dir(true)?;
        for _ in 0..32 {
            let id = new_id().map_err(|e| format!("random id: {e}"))?;
            let path = socket_path(&dir, &id);
            if fs::symlink_metadata(&path).is_ok() {
                continue;
            }
            let hidden = dir.join(format!(".{id}.{}", std::process::id()));
            let _ = fs::remove_file(&hidden);
            let listener =
                UnixListener::bind(&hidden).map_err(|e| format!("{}: {e}", hidden.display()))?;
            let linked = fs::hard_link(&hidden, &path);
            let _ = fs::remove_file(&hidden);
            match linked {
                Ok(()) => {
                    listener
                        .set_nonblocking(true)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    return Ok(Registration {
                        id,
                        path,
                        listener: Some(listener),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        Err("no free session id".into())
    }

    /// Removes the socket now (the session is ending).
    pub fn remove(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
            self.path = PathBuf::new();
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.remove();
    }
}

/// What a look at one registry entry found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A running session.
    Live(SessionInfo),
    /// Nobody listens: the session died; its socket was removed.
    Stale(String),
    /// The session could not be asked (id, reason).
    Failed(String, String),
}

/// Asks every session in `dir` for its info, removing dead ones' sockets.
pub fn scan(dir: &Path) -> Result<Vec<Probe>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut ids: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let id = name.strip_suffix(SOCKET_SUFFIX)?.to_owned();
            valid_id(&id).then_some(id)
        })
        .collect();
    ids.sort();
    Ok(ids
        .into_iter()
        .filter_map(|id| match ask(dir, &id, Request::Info) {
            Ok(line) => Some(match SessionInfo::parse(&line) {
                Ok(info) => Probe::Live(info),
                Err(e) => Probe::Failed(id, e),
            }),
            Err(AskError::Gone) => None,
            Err(AskError::Stale) => Some(Probe::Stale(id)),
            Err(AskError::Other(e)) => Some(Probe::Failed(id, e)),
        })
        .collect())
}

/// Why a session could not be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskError {
    /// No such session.
    Gone,
    /// Its socket was left behind by a dead session (now removed).
    Stale,
    /// Anything else, for the user.
    Other(String),
}

/// Sends `request` to session `id` in `dir`; its reply line.
pub fn ask(dir: &Path, id: &str, request: Request) -> Result<String, AskError> {
    if !valid_id(id) {
        return Err(AskError::Gone);
    }
    let path = socket_path(dir, id);
    let stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(AskError::Gone),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            let _ = fs::remove_file(&path);
            return Err(AskError::Stale);
        }
        Err(e) => return Err(AskError::Other(format!("{}: {e}", path.display()))),
    };
    let other = |e: io::Error| AskError::Other(format!("session {id}: {e}"));
    let uid = peer_uid(stream.as_raw_fd()).map_err(other)?;
    if uid != my_uid() {
        return Err(AskError::Other(format!(
            "session {id} is served by uid {uid}, not by you; not talking to it"
        )));
    }
    stream
        .set_read_timeout(Some(REPLY_TIMEOUT))
        .map_err(other)?;
    stream
        .set_write_timeout(Some(REPLY_TIMEOUT))
        .map_err(other)?;
    (&stream)
        .write_all(request.to_line().as_bytes())
        .map_err(other)?;
    let mut line = String::new();
    BufReader::new(stream.take_limited())
        .read_line(&mut line)
        .map_err(other)?;
    if !line.ends_with('\n') {
        return Err(AskError::Other(format!(
            "session {id} ended without answering"
        )));
    }
    Ok(line)
}

/// A reader that stops after [`MAX_LINE`] bytes.
trait TakeLimited {
    fn take_limited(self) -> io::Take<UnixStream>;
}

impl TakeLimited for UnixStream {
    fn take_limited(self) -> io::Take<UnixStream> {
        io::Read::take(self, u64::try_from(MAX_LINE).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!(
            "rmosh-registry-{name}-{}-{}",
            std::process::id(),
            new_id().expect("id")
        ));
        fs::DirBuilder::new().mode(0o700).create(&p).expect("mkdir");
        p
    }

    #[test]
    fn a_private_directory_passes_anything_else_is_refused() {
        let d = temp_dir("check");
        assert_eq!(check_dir(&d, my_uid()), Ok(()));
        let e = check_dir(&d, my_uid() + 1).expect_err("foreign owner");
        assert!(e.contains("belongs to uid"), "{e}");
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).expect("chmod");
        let e = check_dir(&d, my_uid()).expect_err("open mode");
        assert!(e.contains("mode 0755"), "{e}");
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).expect("chmod");
        let link = d.with_extension("link");
        std::os::unix::fs::symlink(&d, &link).expect("symlink");
        let e = check_dir(&link, my_uid()).expect_err("symlink");
        assert!(e.contains("symbolic link"), "{e}");
        let file = d.join("f");
        fs::write(&file, b"").expect("write");
        assert!(check_dir(&file, my_uid()).is_err());
        let _ = fs::remove_file(&link);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn ids_are_short_and_path_safe() {
        let id = new_id().expect("id");
        assert_eq!(id.len(), ID_LEN);
        assert!(valid_id(&id));
        for bad in ["", "../x", "a/b", "A", "x.sock", &"a".repeat(33)] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn peers_of_the_same_uid_or_root_only() {
        assert!(peer_allowed(1000, 1000));
        assert!(peer_allowed(0, 1000));
        assert!(!peer_allowed(1001, 1000));
        let (a, _b) = UnixStream::pair().expect("pair");
        assert_eq!(peer_uid(a.as_raw_fd()).expect("cred"), my_uid());
    }

    #[test]
    fn a_dead_sessions_socket_is_reported_and_removed_unknown_ids_are_gone() {
        let d = temp_dir("stale");
        let path = socket_path(&d, "dead");
        drop(UnixListener::bind(&path).expect("bind"));
        assert!(path.exists());
        assert_eq!(scan(&d), Ok(vec![Probe::Stale("dead".into())]));
        assert!(!path.exists(), "the stale socket is removed");
        assert_eq!(scan(&d), Ok(vec![]));
        assert_eq!(ask(&d, "nope", Request::Info), Err(AskError::Gone));
        assert_eq!(ask(&d, "../x", Request::Info), Err(AskError::Gone));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_live_session_answers() {
        let d = temp_dir("live");
        let listener = UnixListener::bind(socket_path(&d, "abcd")).expect("bind");
        let server = std::thread::spawn(move || {
            let (s, _) = listener.accept().expect("accept");
            let mut line = String::new();
            BufReader::new(&s).read_line(&mut line).expect("read");
            assert_eq!(line, "info\n");
            let info = SessionInfo {
                id: "abcd".into(),
                pid: 7,
                ..SessionInfo::default()
            };
            (&s).write_all(info.to_line().as_bytes()).expect("write");
        });
        let got = scan(&d).expect("scan");
        server.join().expect("server");
        match got.as_slice() {
            [Probe::Live(info)] => assert_eq!((info.id.as_str(), info.pid), ("abcd", 7)),
            other => panic!("{other:?}"),
        }
        let _ = fs::remove_dir_all(&d);
    }
}
