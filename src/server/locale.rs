//! The UTF-8 locale requirement (§7.3): adopt the native locale, fall back to
//! the client's `-l NAME=VALUE` settings, and explain the failure like Mosh.

use std::ffi::{CStr, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Every variable Mosh clears before applying the client's locale settings.
pub const LOCALE_VARIABLES: [&str; 15] = [
    "LANG",
    "LANGUAGE",
    "LC_CTYPE",
    "LC_NUMERIC",
    "LC_TIME",
    "LC_COLLATE",
    "LC_MONETARY",
    "LC_MESSAGES",
    "LC_PAPER",
    "LC_NAME",
    "LC_ADDRESS",
    "LC_TELEPHONE",
    "LC_MEASUREMENT",
    "LC_IDENTIFICATION",
    "LC_ALL",
];

/// The variable that decides the character set, as `NAME=value` for messages.
pub fn ctype_description(get: impl Fn(&str) -> Option<OsString>) -> String {
    for name in ["LC_ALL", "LC_CTYPE", "LANG"] {
        if let Some(v) = get(name) {
            return format!("{name}={}", v.to_string_lossy());
        }
    }
    "[no charset variables]".to_owned()
}

/// The variable's value alone (for the `locale-gen` hint), if any is set.
fn ctype_value(get: impl Fn(&str) -> Option<OsString>) -> Option<String> {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|n| get(n))
        .map(|v| v.to_string_lossy().into_owned())
}

/// Mosh's friendlier name for the ASCII codeset.
pub fn pretty_charset(codeset: &str) -> &str {
    if codeset == "ANSI_X3.4-1968" {
        "US-ASCII"
    } else {
        codeset
    }
}

/// Whether a codeset name is UTF-8 in the spellings Mosh accepts.
pub fn is_utf8(codeset: &str) -> bool {
    codeset == "UTF-8" || codeset == "utf-8"
}

/// The failure explanation, byte for byte as Mosh prints it (before running `locale`).
pub fn failure_message(
    native_ctype: &str,
    native_charset: &str,
    client_ctype: &str,
    client_charset: &str,
) -> String {
    format!(
        "mosh-server needs a UTF-8 native locale to run.\n\n\
         Unfortunately, the local environment ({native_ctype}) specifies\n\
         the character set \"{native_charset}\",\n\n\
         The client-supplied environment ({client_ctype}) specifies\n\
         the character set \"{client_charset}\".\n\n"
    )
}

fn env_get(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// `setlocale(LC_ALL, "")`, with Mosh's hint when the locale is not installed.
fn set_native_locale() {
    // SAFETY: called while the process is single-threaded (before any runtime
    // or thread exists); the argument is a valid C string.
    let r = unsafe { libc::setlocale(libc::LC_ALL, c"".as_ptr()) };
    if r.is_null() {
        let errno = std::io::Error::last_os_error();
        if errno.raw_os_error() == Some(libc::ENOENT) {
            eprintln!(
                "The locale requested by {} isn't available here.",
                ctype_description(env_get)
            );
            if let Some(v) = ctype_value(env_get) {
                eprintln!("Running `locale-gen {v}' may be necessary.\n");
            }
        } else {
            eprintln!("setlocale: {errno}");
        }
    }
}

/// The current codeset from `nl_langinfo(CODESET)`.
pub fn current_codeset() -> String {
    // SAFETY: nl_langinfo returns a pointer to a static NUL-terminated string
    // (never null in glibc); we copy it at once.
    let p = unsafe { libc::nl_langinfo(libc::CODESET) };
    if p.is_null() {
        return String::new();
    }
    // SAFETY: p is non-null and NUL-terminated per nl_langinfo's contract.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Applies one `-l` word the way `putenv` does: `NAME=VALUE` sets, a bare `NAME` unsets.
fn putenv(word: &OsStr) {
    let bytes = word.as_bytes();
    let (name, value) = match bytes.iter().position(|&b| b == b'=') {
        Some(eq) => (
            bytes.get(..eq).unwrap_or_default(),
            Some(bytes.get(eq + 1..).unwrap_or_default()),
        ),
        None => (bytes, None),
    };
    if name.is_empty() || name.contains(&0) || value.is_some_and(|v| v.contains(&0)) {
        eprintln!("putenv: Invalid argument");
        return;
    }
    let name = OsStr::from_bytes(name);
    // SAFETY: the server is still single-threaded here (no runtime, no threads).
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, OsStr::from_bytes(v)),
            None => std::env::remove_var(name),
        }
    }
}

/// Makes the process locale UTF-8 (adjusting the environment the session
/// inherits) or prints Mosh's explanation, runs `locale`, and returns false.
///
/// Must run before any thread exists: it changes the environment.
pub fn ensure_utf8(client_vars: &[OsString]) -> bool {
    set_native_locale();
    let native = current_codeset();
    if is_utf8(&native) {
        return true;
    }
    let native_ctype = ctype_description(env_get);
    let native_charset = pretty_charset(&native).to_owned();
    for name in LOCALE_VARIABLES {
        // SAFETY: single-threaded, see above.
        unsafe { std::env::remove_var(name) };
    }
    for word in client_vars {
        putenv(word);
    }
    set_native_locale();
    let client = current_codeset();
    if is_utf8(&client) {
        return true;
    }
    eprint!(
        "{}",
        failure_message(
            &native_ctype,
            &native_charset,
            &ctype_description(env_get),
            pretty_charset(&client)
        )
    );
    let _ = std::process::Command::new("locale").status();
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctype_precedence_is_lc_all_then_lc_ctype_then_lang() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            ctype_description(env(&[("LANG", "C"), ("LC_CTYPE", "x"), ("LC_ALL", "y")])),
            "LC_ALL=y"
        );
        assert_eq!(
            ctype_description(env(&[("LANG", "C"), ("LC_CTYPE", "x")])),
            "LC_CTYPE=x"
        );
        assert_eq!(ctype_description(env(&[("LANG", "C")])), "LANG=C");
        assert_eq!(ctype_description(env(&[])), "[no charset variables]");
    }

    #[test]
    fn charset_names() {
        assert_eq!(pretty_charset("ANSI_X3.4-1968"), "US-ASCII");
        assert_eq!(pretty_charset("ISO-8859-1"), "ISO-8859-1");
        assert!(is_utf8("UTF-8"));
        assert!(is_utf8("utf-8"));
        assert!(!is_utf8("utf8"));
        assert!(!is_utf8("US-ASCII"));
    }

    #[test]
    fn failure_text_matches_mosh() {
        assert_eq!(
            failure_message("LANG=C", "US-ASCII", "[no charset variables]", "US-ASCII"),
            "mosh-server needs a UTF-8 native locale to run.\n\n\
Unfortunately, the local environment (LANG=C) specifies\n\
the character set \"US-ASCII\",\n\n\
The client-supplied environment ([no charset variables]) specifies\n\
the character set \"US-ASCII\".\n\n"
        );
    }
}
