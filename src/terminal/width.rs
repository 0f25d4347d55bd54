//! Character widths exactly as a stock mosh-client computes them: ISO-8859-1
//! printables are 1, everything else is glibc 2.36's `wcwidth` (Debian 12).

use super::width_table::WIDTH_RUNS;

/// Columns a code point occupies when printed: 1 or 2, 0 for a combining
/// character, −1 for one that is not printable (ignored by the emulator).
pub fn char_width(c: char) -> i8 {
    let cp = c as u32;
    if (0x20..=0x7E).contains(&cp) || (0xA0..=0xFF).contains(&cp) {
        return 1;
    }
    wcwidth(cp)
}

/// glibc 2.36's `wcwidth` for any value (values outside Unicode are −1).
pub fn wcwidth(cp: u32) -> i8 {
    if cp > 0x10FFFF {
        return -1;
    }
    let idx = WIDTH_RUNS.partition_point(|&(_, last, _)| last < cp);
    match WIDTH_RUNS.get(idx) {
        Some(&(first, _, w)) if first <= cp => w,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" {
        #[link_name = "wcwidth"]
        fn libc_wcwidth(c: libc::wchar_t) -> libc::c_int;
    }

    #[test]
    fn every_code_point_matches_libc_wcwidth() {
        // SAFETY: setlocale/wcwidth are called with valid arguments; tests in
        // this binary do not depend on the locale otherwise.
        let ok = unsafe { !libc::setlocale(libc::LC_ALL, c"C.UTF-8".as_ptr()).is_null() };
        assert!(ok, "C.UTF-8 locale is required to compare against libc");
        let mut mismatches = Vec::new();
        for cp in 0..=0x10FFFFu32 {
            // SAFETY: wcwidth accepts any wchar_t value.
            let libc_w = unsafe { libc_wcwidth(cp as libc::wchar_t) };
            if i32::from(wcwidth(cp)) != libc_w {
                mismatches.push((cp, libc_w, wcwidth(cp)));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{} code points differ from libc, first: {:x?}",
            mismatches.len(),
            &mismatches[..mismatches.len().min(10)]
        );
    }

    #[test]
    fn latin1_printables_are_narrow_and_known_widths_hold() {
        assert_eq!(char_width('a'), 1);
        assert_eq!(char_width('\u{AD}'), 1); // soft hyphen: wcwidth 0, but ISO-8859-1
        assert_eq!(char_width('\u{301}'), 0);
        assert_eq!(char_width('中'), 2);
        assert_eq!(char_width('\u{1F600}'), 2);
        assert_eq!(char_width('\u{7F}'), -1);
        assert_eq!(char_width('\u{9B}'), -1);
    }
}
