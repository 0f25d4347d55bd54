//! Which characters prediction treats as one column wide.

/// Whether `ch` occupies exactly one column (only those are predicted).
pub fn is_narrow(ch: char) -> bool {
    let cp = u32::from(ch);
    (0x20..=0x7E).contains(&cp) || (0xA0..=0xFF).contains(&cp)
}
