//! What a Linux executable needs from the machine that runs it, read from its
//! ELF headers: the architecture, and whether it is dynamically linked (and
//! then against which C library, and which glibc version at least). Used to
//! tell, before copying a binary to a remote host, whether it can run there.

/// The C library a dynamically linked executable needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkage {
    /// Statically linked: runs on any kernel of its architecture.
    Static,
    /// Needs glibc, at least this (major, minor) version when known.
    Glibc(Option<(u32, u32)>),
    /// Needs musl.
    Musl,
    /// Needs this other program interpreter.
    Other(String),
}

/// What an executable needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// The architecture, in `uname -m` spelling (`x86_64`, `aarch64`, …).
    pub arch: String,
    /// How it is linked.
    pub linkage: Linkage,
}

/// Why a file is not a usable executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    /// Not a 64- or 32-bit little-endian ELF file.
    NotElf,
    /// A header points outside the file.
    Truncated,
}

impl std::fmt::Display for ElfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ElfError::NotElf => write!(f, "not a little-endian ELF executable"),
            ElfError::Truncated => write!(f, "a truncated ELF file"),
        }
    }
}

impl std::error::Error for ElfError {}

fn u16_at(b: &[u8], at: usize) -> Result<u16, ElfError> {
    let s = b.get(at..at + 2).ok_or(ElfError::Truncated)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ElfError> {
    let s = b.get(at..at + 4).ok_or(ElfError::Truncated)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, ElfError> {
    let s = b.get(at..at + 8).ok_or(ElfError::Truncated)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

fn arch_name(machine: u16, is64: bool) -> String {
    match (machine, is64) {
        (62, _) => "x86_64".into(),
        (3, _) => "x86".into(),
        (183, _) => "aarch64".into(),
        (40, _) => "arm".into(),
        (243, true) => "riscv64".into(),
        (21, true) => "ppc64le".into(),
        (22, true) => "s390x".into(),
        (m, _) => format!("elf-machine-{m}"),
    }
}

/// The highest `GLIBC_x.y` version named in the file: for a dynamically
/// linked executable these names are its symbol version needs.
fn max_glibc_version(b: &[u8]) -> Option<(u32, u32)> {
    let tag = b"GLIBC_";
    let mut best = None;
    let mut i = 0;
    while let Some(p) = b
        .get(i..)
        .and_then(|r| r.windows(tag.len()).position(|w| w == tag))
    {
        let start = i + p + tag.len();
        let digits: Vec<u8> = b
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b'.')
            .take(12)
            .copied()
            .collect();
        let text = String::from_utf8_lossy(&digits);
        let mut parts = text.split('.').map(|n| n.parse::<u32>().ok());
        if let (Some(Some(major)), Some(Some(minor))) = (parts.next(), parts.next()) {
            best = best.max(Some((major, minor)));
        }
        i = start;
    }
    best
}

/// Reads what the executable `b` needs.
pub fn inspect(b: &[u8]) -> Result<ElfInfo, ElfError> {
    if b.get(..4) != Some(b"\x7fELF") || b.get(5) != Some(&1) {
        return Err(ElfError::NotElf);
    }
    let is64 = match b.get(4) {
        Some(2) => true,
        Some(1) => false,
        _ => return Err(ElfError::NotElf),
    };
    let machine = u16_at(b, 18)?;
    let (phoff, phentsize, phnum) = if is64 {
        (u64_at(b, 32)? as usize, u16_at(b, 54)?, u16_at(b, 56)?)
    } else {
        (u32_at(b, 28)? as usize, u16_at(b, 42)?, u16_at(b, 44)?)
    };
    let mut interp = None;
    for i in 0..usize::from(phnum) {
        let ph = phoff + i * usize::from(phentsize);
        const PT_INTERP: u32 = 3;
        if u32_at(b, ph)? != PT_INTERP {
            continue;
        }
        let (off, size) = if is64 {
            (u64_at(b, ph + 8)? as usize, u64_at(b, ph + 32)? as usize)
        } else {
            (u32_at(b, ph + 4)? as usize, u32_at(b, ph + 16)? as usize)
        };
        let raw = b
            .get(off..off.saturating_add(size))
            .ok_or(ElfError::Truncated)?;
        let path = raw.split(|&c| c == 0).next().unwrap_or(&[]);
        interp = Some(String::from_utf8_lossy(path).into_owned());
    }
    let linkage = match interp {
        None => Linkage::Static,
        Some(p) if p.contains("ld-musl") => Linkage::Musl,
        Some(p) if p.contains("ld-linux") || p.contains("ld64.so") || p.contains("ld.so") => {
            Linkage::Glibc(max_glibc_version(b))
        }
        Some(p) => Linkage::Other(p),
    };
    Ok(ElfInfo {
        arch: arch_name(machine, is64),
        linkage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_is_a_dynamic_glibc_executable_of_this_arch() {
        let exe = std::env::current_exe().unwrap();
        let info = inspect(&std::fs::read(exe).unwrap()).unwrap();
        assert_eq!(info.arch, std::env::consts::ARCH);
        match info.linkage {
            Linkage::Glibc(Some((2, minor))) => assert!(minor >= 2, "{minor}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn static_and_broken_files() {
        // A minimal 64-bit x86_64 header with no program headers: static.
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[18] = 62;
        assert_eq!(
            inspect(&b),
            Ok(ElfInfo {
                arch: "x86_64".into(),
                linkage: Linkage::Static
            })
        );
        // One program header pointing past the end of the file.
        b[32] = 64;
        b[54] = 56;
        b[56] = 1;
        b.extend_from_slice(&[0u8; 56]);
        b[64] = 3;
        b[72] = 0xff;
        b[96] = 8;
        assert_eq!(inspect(&b), Err(ElfError::Truncated));
        assert_eq!(inspect(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        assert_eq!(inspect(b""), Err(ElfError::NotElf));
    }

    #[test]
    fn glibc_versions_take_the_highest() {
        assert_eq!(
            max_glibc_version(b"\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.17\0GLIBC_PRIVATE\0"),
            Some((2, 34))
        );
        assert_eq!(max_glibc_version(b"nothing here"), None);
    }
}
