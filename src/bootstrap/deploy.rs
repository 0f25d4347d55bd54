//! Self-deploy: copy an rmosh binary to the remote over the SSH connection,
//! verify its SHA-256 there, make it executable and move it into place
//! atomically as `~/.local/share/rmosh/bin/rmosh-<sha256>`. The launch snippet
//! runs a deployed copy only while its content still has that sum.
//!
//! Which binary: `--deploy-binary PATH` if given; else a companion named
//! `rmosh-linux-<arch>` next to this executable (e.g. a static build, or one
//! for another architecture); else this executable. Before copying, the
//! binary's ELF headers are checked against the remote's `uname -s`,
//! `uname -m` and glibc version, so a dynamically linked build is not copied
//! to a host whose C library cannot run it.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use russh::client::{Handle, Handler};
use sha2::{Digest, Sha256};

use super::elf::{self, ElfInfo, Linkage};
use super::launch::{self, RemoteSystem, shell_quote};
use super::remote;
use super::untrusted::display_safe;

/// Where deployed binaries live, relative to the remote `$HOME`.
pub const DEPLOY_DIR: &str = ".local/share/rmosh/bin";

/// How to make a binary that runs on any Linux host of its architecture.
pub const STATIC_BUILD: &str = "RUSTFLAGS='-C target-feature=+crt-static' \
     cargo build --release --target x86_64-unknown-linux-gnu";

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

/// Why deploying failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployError {
    /// The binary to copy could not be read or is not a Linux executable.
    Binary {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The remote is not Linux.
    ForeignOs {
        /// Its `uname -s`.
        os: String,
    },
    /// No binary at hand is built for the remote's architecture.
    WrongArch {
        /// The remote's `uname -m`.
        remote: String,
        /// The architectures of the binaries at hand.
        available: Vec<String>,
    },
    /// The binary is dynamically linked against a C library the remote lacks
    /// (or has in too old a version).
    WrongLibc {
        /// The binary.
        path: PathBuf,
        /// Its architecture.
        arch: String,
        /// What it needs.
        needs: Linkage,
        /// The remote's glibc version, if it has glibc.
        remote_glibc: Option<(u32, u32)>,
    },
    /// The SSH channel or a remote command failed.
    Remote(String),
    /// The copy arrived with another checksum; nothing was installed.
    Corrupt {
        /// The sum of the binary sent.
        expected: String,
        /// What the remote computed.
        got: String,
    },
}

fn version(v: (u32, u32)) -> String {
    format!("{}.{}", v.0, v.1)
}

impl std::fmt::Display for DeployError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hint = |arch: &str| {
            format!(
                "Install rmosh or mosh-server there, or build a static rmosh\n  {STATIC_BUILD}\n\
                 and pass it with --deploy-binary PATH (or put it next to this rmosh as {}).",
                companion_name(arch)
            )
        };
        match self {
            DeployError::Binary { path, reason } => {
                write!(f, "cannot deploy {}: {reason}", path.display())
            }
            DeployError::ForeignOs { os } => write!(
                f,
                "the remote runs {os}, but rmosh can deploy only to Linux; \
                 install rmosh or mosh-server there"
            ),
            DeployError::WrongArch { remote, available } => write!(
                f,
                "the remote machine is {remote}, but the rmosh binaries at hand are built for {}.\n{}",
                available.join(", "),
                hint(remote)
            ),
            DeployError::WrongLibc {
                path,
                arch,
                needs,
                remote_glibc,
            } => {
                let needs = match needs {
                    Linkage::Glibc(Some(v)) => format!("glibc {} or newer", version(*v)),
                    Linkage::Glibc(None) => "glibc".into(),
                    Linkage::Musl => "musl".into(),
                    Linkage::Other(interp) => format!("the program interpreter {interp}"),
                    Linkage::Static => "nothing".into(),
                };
                let has = match remote_glibc {
                    Some(v) => format!("glibc {}", version(*v)),
                    None => "no glibc (musl or no C library)".into(),
                };
                write!(
                    f,
                    "{} is dynamically linked and needs {needs}; the remote has {has}, \
                     so it cannot run there.\n{}",
                    path.display(),
                    hint(arch)
                )
            }
            DeployError::Remote(m) => write!(f, "{m}"),
            DeployError::Corrupt { expected, got } => write!(
                f,
                "the copy on the remote is corrupt (sha256 {got} instead of {expected}); \
                 nothing was installed"
            ),
        }
    }
}

impl std::error::Error for DeployError {}

/// A binary that may be copied to a remote.
#[derive(Debug, Clone)]
pub struct Image {
    /// Where it is.
    pub path: PathBuf,
    /// Its content.
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of the content: the deployed file's name.
    pub sum: String,
    /// What it needs to run.
    pub info: ElfInfo,
}

impl Image {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Image, DeployError> {
        let bad = |reason: String| DeployError::Binary {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let info = elf::inspect(&bytes).map_err(|e| bad(e.to_string()))?;
        Ok(Image {
            path: path.to_path_buf(),
            sum: sha256_hex(&bytes),
            bytes,
            info,
        })
    }
}

/// The file name of a companion binary for `arch` next to this executable.
pub fn companion_name(arch: &str) -> String {
    format!("rmosh-linux-{}", normalize_arch(arch))
}

/// The binaries that may be deployed, best first: `explicit` alone if given,
/// else the companions next to `exe`, then `exe` itself.
pub fn load_images(explicit: Option<&Path>, exe: &Path) -> Result<Vec<Image>, DeployError> {
    if let Some(p) = explicit {
        return Ok(vec![Image::load(p)?]);
    }
    let mut images = Vec::new();
    if let Some(dir) = exe.parent()
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        let mut companions: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("rmosh-linux-"))
            })
            .collect();
        companions.sort();
        // A companion that is not an executable is ignored, not fatal.
        images.extend(companions.iter().filter_map(|p| Image::load(p).ok()));
    }
    images.push(Image::load(exe)?);
    Ok(images)
}

/// Whether a binary linked this way runs on a host with this glibc.
fn libc_fits(linkage: &Linkage, remote_glibc: Option<(u32, u32)>) -> bool {
    match linkage {
        Linkage::Static => true,
        Linkage::Glibc(needed) => match (needed, remote_glibc) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(n), Some(r)) => *n <= r,
        },
        // Whether musl or another interpreter is there cannot be told from
        // the probe; only a glibc-less host may have it.
        Linkage::Musl | Linkage::Other(_) => remote_glibc.is_none(),
    }
}

/// The first image that can run on `remote`, or why none can.
pub fn choose<'a>(images: &'a [Image], remote: &RemoteSystem) -> Result<&'a Image, DeployError> {
    if remote.os != "Linux" {
        return Err(DeployError::ForeignOs {
            os: remote.os.clone(),
        });
    }
    let same_arch: Vec<&Image> = images
        .iter()
        .filter(|i| arch_matches(&remote.arch, &i.info.arch))
        .collect();
    if let Some(fit) = same_arch
        .iter()
        .find(|i| libc_fits(&i.info.linkage, remote.glibc))
    {
        return Ok(fit);
    }
    match same_arch.first() {
        Some(i) => Err(DeployError::WrongLibc {
            path: i.path.clone(),
            arch: i.info.arch.clone(),
            needs: i.info.linkage.clone(),
            remote_glibc: remote.glibc,
        }),
        None => Err(DeployError::WrongArch {
            remote: remote.arch.clone(),
            available: images.iter().map(|i| i.info.arch.clone()).collect(),
        }),
    }
}

/// The deployed binary's path relative to `$HOME`.
pub fn deployed_path(sum: &str) -> String {
    format!("{DEPLOY_DIR}/rmosh-{sum}")
}

fn normalize_arch(a: &str) -> String {
    match a.trim() {
        "arm64" | "aarch64" => "aarch64".to_string(),
        "amd64" | "x86_64" => "x86_64".to_string(),
        "i386" | "i486" | "i586" | "i686" | "x86" => "x86".to_string(),
        other => other.to_string(),
    }
}

/// Whether a remote `uname -m` can run a build for `local`.
pub fn arch_matches(remote: &str, local: &str) -> bool {
    normalize_arch(remote) == normalize_arch(local)
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

/// Asks the remote what deploying needs to know (`uname -s`, `uname -m`, glibc).
pub async fn probe<H: Handler>(handle: &Handle<H>) -> Result<RemoteSystem, DeployError> {
    let cmd = format!("sh -c {}", shell_quote(&launch::probe_snippet()));
    let out = remote::exec_capture(handle, &cmd, None, &mut |_, _| {})
        .await
        .map_err(DeployError::Remote)?;
    let text = String::from_utf8_lossy(&out.bytes);
    text.find(launch::NO_SERVER_MARKER)
        .and_then(|i| text.get(i + launch::NO_SERVER_MARKER.len()..))
        .map(|rest| launch::parse_remote_system(rest.lines().next().unwrap_or("")))
        .ok_or_else(|| {
            DeployError::Remote(format!(
                "cannot tell what system the remote runs: {}",
                display_safe(text.trim())
            ))
        })
}

/// Copies `image` to the remote and installs it under its checksum.
pub async fn deploy<H: Handler>(handle: &Handle<H>, image: &Image) -> Result<(), DeployError> {
    let sum = &image.sum;
    let mut salt = [0u8; 6];
    getrandom::fill(&mut salt).map_err(|e| DeployError::Remote(format!("random: {e}")))?;
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
    let out = remote::exec_capture(handle, &copy, Some(&image.bytes), &mut bar)
        .await
        .map_err(DeployError::Remote)?;
    if show {
        let _ = std::io::stderr().write_all(b"\n");
    }
    if out.status != Some(0) {
        return Err(DeployError::Remote(format!(
            "copying rmosh to the remote failed: {}",
            display_safe(String::from_utf8_lossy(&out.bytes).trim())
        )));
    }
    let final_name = deployed_path(sum);
    let install = format!(
        "sh -c {}",
        shell_quote(&format!(
            "cd \"$HOME\" && f={DEPLOY_DIR}/{tmp} && \
             s=$( (sha256sum \"$f\" || shasum -a 256 \"$f\") 2>/dev/null | cut -d\" \" -f1) && \
             if [ \"$s\" = {sum} ]; then chmod 755 \"$f\" && mv -f \"$f\" {final_name} && echo RMOSH-DEPLOYED; \
             else rm -f \"$f\"; echo \"RMOSH-BADSUM $s\"; fi"
        ))
    );
    let out = remote::exec_capture(handle, &install, None, &mut |_, _| {})
        .await
        .map_err(DeployError::Remote)?;
    let text = display_safe(&String::from_utf8_lossy(&out.bytes));
    if text.contains("RMOSH-DEPLOYED") {
        Ok(())
    } else if let Some(bad) = text.split("RMOSH-BADSUM").nth(1) {
        Err(DeployError::Corrupt {
            expected: sum.clone(),
            got: bad.trim().to_string(),
        })
    } else {
        Err(DeployError::Remote(format!(
            "installing rmosh on the remote failed: {}",
            text.trim()
        )))
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
        assert_eq!(companion_name("arm64"), "rmosh-linux-aarch64");
    }

    #[test]
    fn sums_and_bars() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(progress_line(50, 100).contains("[##########          ]  50%"));
        assert!(progress_line(0, 0).contains("100%"));
        assert_eq!(deployed_path("ab12"), ".local/share/rmosh/bin/rmosh-ab12");
    }

    fn image(arch: &str, linkage: Linkage) -> Image {
        Image {
            path: PathBuf::from(format!("/opt/rmosh-{arch}")),
            bytes: Vec::new(),
            sum: String::new(),
            info: ElfInfo {
                arch: arch.into(),
                linkage,
            },
        }
    }

    fn remote(os: &str, arch: &str, glibc: Option<(u32, u32)>) -> RemoteSystem {
        RemoteSystem {
            os: os.into(),
            arch: arch.into(),
            glibc,
            corrupt: false,
        }
    }

    #[test]
    fn the_binary_must_fit_the_remote_os_arch_and_libc() {
        let dynamic = image("x86_64", Linkage::Glibc(Some((2, 34))));
        let images = [dynamic.clone()];
        let linux = |g| remote("Linux", "x86_64", g);
        assert!(choose(&images, &linux(Some((2, 36)))).is_ok());
        let old = choose(&images, &linux(Some((2, 31)))).unwrap_err();
        let text = old.to_string();
        assert!(text.contains("needs glibc 2.34 or newer"), "{text}");
        assert!(text.contains("the remote has glibc 2.31"), "{text}");
        assert!(
            text.contains("+crt-static") && text.contains("--deploy-binary"),
            "{text}"
        );
        let none = choose(&images, &linux(None)).unwrap_err().to_string();
        assert!(none.contains("no glibc"), "{none}");
        let bsd = choose(&images, &remote("FreeBSD", "amd64", None)).unwrap_err();
        assert_eq!(
            bsd,
            DeployError::ForeignOs {
                os: "FreeBSD".into()
            }
        );
        let arm = choose(&images, &remote("Linux", "aarch64", Some((2, 36)))).unwrap_err();
        assert!(arm.to_string().contains("built for x86_64"), "{arm}");
        assert!(arm.to_string().contains("as rmosh-linux-aarch64"), "{arm}");
        // A static companion is preferred wherever it fits.
        let images = [
            image("aarch64", Linkage::Static),
            image("x86_64", Linkage::Static),
            dynamic,
        ];
        let pick = |r| choose(&images, &r).map(|i| i.path.clone());
        assert_eq!(
            pick(remote("Linux", "arm64", None)),
            Ok(PathBuf::from("/opt/rmosh-aarch64"))
        );
        assert_eq!(pick(linux(None)), Ok(PathBuf::from("/opt/rmosh-x86_64")));
        let musl = [image("x86_64", Linkage::Musl)];
        assert!(choose(&musl, &linux(None)).is_ok());
        assert!(choose(&musl, &linux(Some((2, 36)))).is_err());
    }

    #[test]
    fn images_prefer_companions_and_an_explicit_binary_stands_alone() {
        let dir = std::env::temp_dir().join(format!("rmosh-images-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::env::current_exe().unwrap();
        let exe = dir.join("rmosh");
        std::fs::copy(&me, &exe).unwrap();
        std::fs::write(dir.join("rmosh-linux-junk"), "not elf").unwrap();
        let mut companion = std::fs::read(&me).unwrap();
        companion.push(0);
        std::fs::write(dir.join(companion_name(std::env::consts::ARCH)), &companion).unwrap();
        let images = load_images(None, &exe).unwrap();
        let names: Vec<String> = images
            .iter()
            .map(|i| i.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [companion_name(std::env::consts::ARCH), "rmosh".to_string()]
        );
        assert_eq!(images[0].sum, sha256_hex(&companion));
        let explicit = load_images(Some(&exe), Path::new("/nonexistent/rmosh")).unwrap();
        assert_eq!(explicit.len(), 1);
        let bad = load_images(Some(&dir.join("rmosh-linux-junk")), &exe).unwrap_err();
        assert!(bad.to_string().contains("not a little-endian ELF"), "{bad}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
