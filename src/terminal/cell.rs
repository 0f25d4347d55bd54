//! One character cell: its grapheme, width flags and renditions.

/// A colour as Mosh stores it: the terminal default, a palette index, or 24-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Color {
    /// The terminal's default colour (SGR 39 / 49).
    #[default]
    Default,
    /// Palette index 0–255 (0–7 from SGR 30–37, 8–15 from SGR 90–97).
    Indexed(u8),
    /// 24-bit colour.
    Rgb(u8, u8, u8),
}

/// Underline styles beyond Mosh's single underline (SGR `4:n`, 21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Underline {
    /// No underline.
    #[default]
    None,
    /// Plain underline (the only style Mosh knows).
    Single,
    /// Double underline (SGR 21, `4:2`).
    Double,
    /// Curly underline (`4:3`).
    Curly,
    /// Dotted underline (`4:4`).
    Dotted,
    /// Dashed underline (`4:5`).
    Dashed,
}

/// Graphic renditions of a cell or of the cursor's pen.
///
/// Mosh 1.4.0 knows bold, italic, underline, blink, inverse, invisible and
/// the colours; `faint`, `strike`, `overline` and underline styles are only
/// set by the server's extended emulator and dropped in diffs for stock peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Renditions {
    /// Foreground colour.
    pub fg: Color,
    /// Background colour.
    pub bg: Color,
    /// SGR 1.
    pub bold: bool,
    /// SGR 2 (extended only).
    pub faint: bool,
    /// SGR 3.
    pub italic: bool,
    /// SGR 4 and its styles.
    pub underline: Underline,
    /// SGR 5.
    pub blink: bool,
    /// SGR 7.
    pub inverse: bool,
    /// SGR 8.
    pub invisible: bool,
    /// SGR 9 (extended only).
    pub strike: bool,
    /// SGR 53 (extended only).
    pub overline: bool,
    /// SGR 58 underline colour (extended only).
    pub underline_color: Color,
}

/// How much of SGR a receiving terminal takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SgrVocabulary {
    /// Faint, strike-through and overline (SGR 2, 9, 53).
    pub extended: bool,
    /// Underline styles as `4:n` (otherwise a plain `4`).
    pub styled_underline: bool,
    /// Underline colour (SGR 58).
    pub underline_color: bool,
}

impl SgrVocabulary {
    /// Mosh 1.4.0's: bold, italic, underline, blink, inverse, invisible,
    /// colours.
    pub const MOSH: SgrVocabulary = SgrVocabulary {
        extended: false,
        styled_underline: false,
        underline_color: false,
    };
    /// Everything the server's emulator keeps.
    pub const FULL: SgrVocabulary = SgrVocabulary {
        extended: true,
        styled_underline: true,
        underline_color: true,
    };
}

impl Renditions {
    /// Default renditions with the given background (what erased cells get).
    pub fn with_background(bg: Color) -> Self {
        Renditions {
            bg,
            ..Renditions::default()
        }
    }

    /// The part of these renditions a stock Mosh peer can represent.
    pub fn mosh_subset(&self) -> Self {
        self.project(SgrVocabulary::MOSH)
    }

    /// What is left of these renditions in a terminal that takes `v`.
    pub fn project(&self, v: SgrVocabulary) -> Self {
        let mut r = *self;
        if !v.extended {
            r.faint = false;
            r.strike = false;
            r.overline = false;
        }
        if !v.styled_underline && r.underline != Underline::None {
            r.underline = Underline::Single;
        }
        if !v.underline_color {
            r.underline_color = Color::Default;
        }
        r
    }

    /// Appends the absolute SGR sequence that selects these renditions
    /// (`ESC [ 0 ; … m`, Mosh's order), in vocabulary `v`.
    pub fn write_sgr(&self, out: &mut Vec<u8>, v: SgrVocabulary) {
        out.extend_from_slice(b"\x1b[0");
        if self.bold {
            out.extend_from_slice(b";1");
        }
        if v.extended && self.faint {
            out.extend_from_slice(b";2");
        }
        if self.italic {
            out.extend_from_slice(b";3");
        }
        match self.underline {
            Underline::None => {}
            Underline::Single => out.extend_from_slice(b";4"),
            _ if !v.styled_underline => out.extend_from_slice(b";4"),
            Underline::Double => out.extend_from_slice(b";4:2"),
            Underline::Curly => out.extend_from_slice(b";4:3"),
            Underline::Dotted => out.extend_from_slice(b";4:4"),
            Underline::Dashed => out.extend_from_slice(b";4:5"),
        }
        if self.blink {
            out.extend_from_slice(b";5");
        }
        if self.inverse {
            out.extend_from_slice(b";7");
        }
        if self.invisible {
            out.extend_from_slice(b";8");
        }
        if v.extended && self.strike {
            out.extend_from_slice(b";9");
        }
        if v.extended && self.overline {
            out.extend_from_slice(b";53");
        }
        write_color(out, self.fg, 30);
        write_color(out, self.bg, 40);
        if v.underline_color {
            write_underline_color(out, self.underline_color);
        }
        out.push(b'm');
    }
}

fn write_color(out: &mut Vec<u8>, c: Color, base: u8) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = match c {
        Color::Default => Ok(()),
        Color::Indexed(n) if n < 8 => write!(out, ";{}", base + n),
        Color::Indexed(n) => write!(out, ";{};5;{}", base + 8, n),
        Color::Rgb(r, g, b) => write!(out, ";{};2;{};{};{}", base + 8, r, g, b),
    };
}

/// SGR 58 in its colon form, the one terminals that know it agree on.
fn write_underline_color(out: &mut Vec<u8>, c: Color) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = match c {
        Color::Default => Ok(()),
        Color::Indexed(n) => write!(out, ";58:5:{n}"),
        Color::Rgb(r, g, b) => write!(out, ";58:2::{r}:{g}:{b}"),
    };
}

/// Bytes of a grapheme: a base character plus combining marks, UTF-8.
///
/// Stored inline (cells are copied by the thousand): Mosh stops appending
/// once a cell holds 32 bytes, so at most 35 bytes are ever stored.
#[derive(Clone, Copy)]
pub struct Grapheme {
    len: u8,
    bytes: [u8; 35],
}

impl Default for Grapheme {
    fn default() -> Self {
        Grapheme {
            len: 0,
            bytes: [0; 35],
        }
    }
}

impl PartialEq for Grapheme {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Grapheme {}

impl std::hash::Hash for Grapheme {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl std::fmt::Debug for Grapheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Grapheme {
    /// A grapheme of one character.
    pub fn from_char(c: char) -> Self {
        let mut g = Grapheme::default();
        g.push(c);
        g
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(self.bytes.len())]
    }

    /// The grapheme as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("\u{FFFD}")
    }

    /// Appends one character; ignored if it does not fit (never happens
    /// within Mosh's 32-byte limit).
    pub fn push(&mut self, c: char) {
        let old = usize::from(self.len);
        let n = c.len_utf8();
        if let Some(dst) = self.bytes.get_mut(old..old + n) {
            c.encode_utf8(dst);
            self.len += n as u8;
        }
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when the cell holds no character.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the grapheme.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// One cell of the screen (cloning is a plain copy: no heap data).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Cell {
    contents: Grapheme,
    /// Renditions the cell is drawn with.
    pub renditions: Renditions,
    /// The character occupies this cell and the next one.
    pub wide: bool,
    /// The first character is a combining one (drawn after a NBSP).
    pub fallback: bool,
    /// Set on the last cell of a row that soft-wrapped into the next one.
    pub wrap: bool,
}

impl Cell {
    /// A blank cell with the given background (how erased cells look).
    pub fn blank(bg: Color) -> Self {
        Cell {
            renditions: Renditions::with_background(bg),
            ..Cell::default()
        }
    }

    /// A cell holding one character.
    pub fn from_char(c: char, renditions: Renditions, wide: bool) -> Self {
        Cell {
            contents: Grapheme::from_char(c),
            renditions,
            wide,
            fallback: false,
            wrap: false,
        }
    }

    /// A narrow cell holding `text` with `renditions`.
    pub fn with_text(text: &str, renditions: Renditions) -> Self {
        let mut c = Cell {
            renditions,
            ..Cell::default()
        };
        c.set_contents(text);
        c
    }

    /// Erases the cell, keeping only the given background.
    pub fn reset(&mut self, bg: Color) {
        *self = Cell::blank(bg);
    }

    /// The grapheme (empty for a blank cell).
    pub fn contents(&self) -> &str {
        self.contents.as_str()
    }

    /// Replaces the grapheme.
    pub fn set_contents(&mut self, text: &str) {
        self.contents.clear();
        for c in text.chars() {
            self.contents.push(c);
        }
    }

    /// Makes the grapheme the single character `b`, for a cell known to hold
    /// exactly one ASCII character (as [`Cell::from_char`] made it); a
    /// byte outside printable ASCII is ignored.
    pub(crate) fn set_ascii(&mut self, b: u8) {
        if (0x20..0x7f).contains(&b) && self.contents.len == 1 {
            self.contents.bytes[0] = b;
        }
    }

    /// The cell's character when it is one printable ASCII byte.
    pub(crate) fn ascii(&self) -> Option<u8> {
        let b = self.contents.bytes[0];
        (self.contents.len == 1 && (0x20..0x7f).contains(&b)).then_some(b)
    }

    /// Appends a character (a combining mark) to the grapheme.
    pub fn append(&mut self, c: char) {
        self.contents.push(c);
    }

    /// True when no character is stored.
    pub fn is_empty(&self) -> bool {
        self.contents.is_empty()
    }

    /// Mosh's limit on combining characters: 32 bytes.
    pub fn is_full(&self) -> bool {
        self.contents.len() >= 32
    }

    /// Blank for display purposes: empty, a space, or a NBSP.
    pub fn is_blank(&self) -> bool {
        matches!(self.contents.as_bytes(), b"" | b" " | b"\xC2\xA0")
    }

    /// Columns this cell covers (2 for a wide character).
    pub fn width(&self) -> usize {
        if self.wide { 2 } else { 1 }
    }

    /// Appends what a terminal must print to draw this cell: a space when
    /// empty, a leading NBSP for a fallback (combining-first) cell.
    pub fn write_grapheme(&self, out: &mut Vec<u8>) {
        if self.contents.is_empty() {
            out.push(b' ');
            return;
        }
        if self.fallback {
            out.extend_from_slice("\u{A0}".as_bytes());
        }
        out.extend_from_slice(self.contents.as_bytes());
    }

    /// The printed form of the cell as text (see [`Cell::write_grapheme`]).
    pub fn grapheme(&self) -> String {
        let mut v = Vec::new();
        self.write_grapheme(&mut v);
        String::from_utf8(v).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgr_matches_mosh_encoding() {
        let mut out = Vec::new();
        let r = Renditions {
            bold: true,
            underline: Underline::Curly,
            inverse: true,
            faint: true,
            fg: Color::Indexed(1),
            bg: Color::Indexed(200),
            ..Renditions::default()
        };
        r.write_sgr(&mut out, SgrVocabulary::MOSH);
        assert_eq!(out, b"\x1b[0;1;4;7;31;48;5;200m");
        out.clear();
        r.write_sgr(&mut out, SgrVocabulary::FULL);
        assert_eq!(out, b"\x1b[0;1;2;4:3;7;31;48;5;200m");
        out.clear();
        let colored = Renditions {
            underline_color: Color::Rgb(255, 0, 7),
            ..r
        };
        colored.write_sgr(&mut out, SgrVocabulary::FULL);
        assert_eq!(out, b"\x1b[0;1;2;4:3;7;31;48;5;200;58:2::255:0:7m");
        out.clear();
        let plain_terminal = SgrVocabulary {
            extended: true,
            ..SgrVocabulary::MOSH
        };
        colored
            .project(plain_terminal)
            .write_sgr(&mut out, plain_terminal);
        assert_eq!(out, b"\x1b[0;1;2;4;7;31;48;5;200m");
        out.clear();
        Renditions {
            fg: Color::Rgb(1, 2, 3),
            bg: Color::Indexed(9),
            ..Renditions::default()
        }
        .write_sgr(&mut out, SgrVocabulary::MOSH);
        assert_eq!(out, b"\x1b[0;38;2;1;2;3;48;5;9m");
    }

    #[test]
    fn grapheme_spills_and_fallback_prints_nbsp() {
        let mut c = Cell::default();
        for _ in 0..12 {
            c.append('\u{301}');
        }
        assert_eq!(c.contents().chars().count(), 12);
        assert!(!c.is_full());
        c.append('\u{301}');
        c.append('\u{301}');
        c.append('\u{301}');
        c.append('\u{301}');
        assert!(c.is_full());
        let mut f = Cell::default();
        f.append('\u{301}');
        f.fallback = true;
        assert_eq!(f.grapheme(), "\u{A0}\u{301}");
        assert_eq!(Cell::default().grapheme(), " ");
    }
}
