//! Which characters prediction treats as one column wide.

use crate::terminal::width::wcwidth;

/// Whether `ch` is predicted: Mosh predicts exactly the characters glibc's
/// `wcwidth` gives one column (controls and wide or combining characters
/// make the next prediction epoch tentative instead).
pub fn is_narrow(ch: char) -> bool {
    u32::from(ch) >= 0x20 && wcwidth(u32::from(ch)) == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_wide_combining_and_controls() {
        assert!(is_narrow('a'));
        assert!(is_narrow('é'));
        assert!(is_narrow('€'));
        assert!(is_narrow('ж'));
        assert!(!is_narrow('中'));
        assert!(!is_narrow('\u{1F600}'));
        assert!(!is_narrow('\u{301}'), "combining");
        assert!(!is_narrow('\u{7}'));
    }
}
