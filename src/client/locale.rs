//! The native-locale check mosh-client does before touching the terminal:
//! adopt the environment's locale and insist that its charset is UTF-8.

use std::ffi::CStr;

/// The variable that decides the character set, as Mosh reports it.
pub fn ctype_variable(env: &dyn Fn(&str) -> Option<String>) -> String {
    for name in ["LC_ALL", "LC_CTYPE", "LANG"] {
        if let Some(v) = env(name) {
            return format!("{name}={v}");
        }
    }
    "[no charset variables]".to_owned()
}

/// The `Running locale-gen` advice, when a named locale is missing.
fn missing_locale_text(env: &dyn Fn(&str) -> Option<String>) -> String {
    let var = ctype_variable(env);
    let mut text = format!("The locale requested by {var} isn't available here.\n");
    if let Some((_, value)) = var.split_once('=') {
        text.push_str(&format!(
            "Running `locale-gen {value}' may be necessary.\n\n"
        ));
    }
    text
}

/// Adopts the environment's locale (`setlocale(LC_ALL, "")`); on failure
/// prints Mosh's explanation, and carries on (the charset check follows).
pub fn adopt_native_locale() {
    // SAFETY: called on the main thread before any other thread exists; the
    // argument is a valid NUL-terminated string.
    let ok = unsafe { !libc::setlocale(libc::LC_ALL, c"".as_ptr()).is_null() };
    if !ok {
        let env = |k: &str| std::env::var(k).ok();
        eprint!("{}", missing_locale_text(&env));
    }
}

/// The current charset name (`nl_langinfo(CODESET)`), with Mosh's nicer
/// name for ASCII.
pub fn charset() -> String {
    // SAFETY: nl_langinfo returns a pointer to a NUL-terminated string owned
    // by libc, valid until the next locale change; we copy it at once.
    let name = unsafe {
        let p = libc::nl_langinfo(libc::CODESET);
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    if name == "ANSI_X3.4-1968" {
        "US-ASCII".to_owned()
    } else {
        name
    }
}

/// Whether a charset name is UTF-8 in Mosh's sense.
pub fn is_utf8_charset(name: &str) -> bool {
    name == "UTF-8" || name == "utf-8"
}

/// Mosh's complaint when the locale is not UTF-8 (followed by `locale`'s output).
pub fn not_utf8_text(ctype: &str, charset: &str) -> String {
    format!(
        "mosh-client needs a UTF-8 native locale to run.\n\n\
         Unfortunately, the client's environment ({ctype}) specifies\n\
         the character set \"{charset}\".\n\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctype_variable_follows_precedence() {
        let env = |k: &str| match k {
            "LC_CTYPE" => Some("C".to_owned()),
            "LANG" => Some("en_US.UTF-8".to_owned()),
            _ => None,
        };
        assert_eq!(ctype_variable(&env), "LC_CTYPE=C");
        let empty_all = |k: &str| (k == "LC_ALL").then(String::new);
        assert_eq!(ctype_variable(&empty_all), "LC_ALL=");
        assert_eq!(ctype_variable(&|_| None), "[no charset variables]");
    }

    #[test]
    fn texts_match_mosh() {
        assert_eq!(
            not_utf8_text("LC_ALL=", "US-ASCII"),
            "mosh-client needs a UTF-8 native locale to run.\n\nUnfortunately, the client's environment (LC_ALL=) specifies\nthe character set \"US-ASCII\".\n\n"
        );
        let env = |k: &str| (k == "LANG").then(|| "xx_YY.UTF-8".to_owned());
        assert_eq!(
            missing_locale_text(&env),
            "The locale requested by LANG=xx_YY.UTF-8 isn't available here.\nRunning `locale-gen xx_YY.UTF-8' may be necessary.\n\n"
        );
        assert!(is_utf8_charset("UTF-8"));
        assert!(!is_utf8_charset("US-ASCII"));
    }
}
