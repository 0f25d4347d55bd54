//! Byte stream → terminal actions, with Mosh 1.4.0's exact semantics.
//!
//! Why not the `vte` crate: Mosh decodes UTF-8 *before* its DEC-ANSI state
//! machine, so UTF-8-encoded U+0080–U+009F act as C1 controls (U+009B is a
//! CSI, U+009C ends an OSC), and every code point ≥ U+00A0 is classed like
//! `A` inside sequences (it can end a CSI or an ESC, and is kept inside an
//! OSC). vte works on bytes and differs on all of these, on `:` (vte splits
//! sub-parameters, Mosh ignores the whole sequence), on parameter limits
//! (vte: 32 parameters saturating at 65535; Mosh: 100 parameter characters,
//! values > 65535 read as "missing") and on invalid UTF-8 (Mosh follows
//! glibc's `mbrtowc`, which accepts 5- and 6-byte forms and reports overlong
//! forms only once complete). A stock mosh-client replays our diffs, and our
//! client replays a stock server's, through these rules, so they are
//! reproduced here exactly; see docs/terminal.md.

/// Parameters of a CSI sequence: at most 100 characters of digits, `;`
/// (and `:` for the extended emulator), as Mosh keeps them.
#[derive(Debug, Clone, Default)]
pub struct Params {
    chars: Vec<u8>,
}

/// Mosh's `PARAM_MAX`: larger values count as missing.
const PARAM_MAX: i64 = 65535;

impl Params {
    /// Parameter values split at `;`, Mosh-style: a missing or out-of-range
    /// value is −1. There is always at least one value.
    pub fn values(&self, out: &mut Vec<i32>) {
        out.clear();
        for seg in self.chars.split(|&b| b == b';') {
            out.push(parse_value(seg));
        }
    }

    /// True when the sequence used `:` sub-parameters.
    pub fn has_colon(&self) -> bool {
        self.chars.contains(&b':')
    }

    /// Groups separated by `;`, each a list of `:`-separated values (−1 = missing).
    pub fn groups(&self) -> Vec<Vec<i32>> {
        self.chars
            .split(|&b| b == b';')
            .map(|g| g.split(|&b| b == b':').map(parse_value).collect())
            .collect()
    }

    fn push(&mut self, b: u8) {
        if self.chars.len() < 100 {
            self.chars.push(b);
        }
    }
}

fn parse_value(seg: &[u8]) -> i32 {
    if seg.is_empty() {
        return -1;
    }
    let mut v: i64 = 0;
    for &d in seg {
        if !d.is_ascii_digit() {
            break;
        }
        v = v * 10 + i64::from(d - b'0');
        if v > PARAM_MAX {
            return -1;
        }
    }
    v as i32
}

/// What the parser reports; implemented by the emulator.
pub trait Perform {
    /// A printable character (code point ≥ 0x20, including DEL and ≥ U+00A0).
    fn print(&mut self, c: char);
    /// A run of printable ASCII (0x20–0x7E) met in the ground state: exactly
    /// `print` for each byte, which is what the default does. An emulator
    /// overrides it to write a whole run into a row at once.
    fn print_ascii(&mut self, run: &[u8]) {
        for &b in run {
            self.print(char::from(b));
        }
    }
    /// Output starting with a line feed met in the ground state. An
    /// emulator may take a prefix of it in one go — exactly what the
    /// parser would otherwise report byte by byte — and returns its length;
    /// the default takes nothing.
    fn line_feeds(&mut self, _bytes: &[u8]) -> usize {
        0
    }
    /// A C0 or C1 control to execute.
    fn execute(&mut self, c: char);
    /// A complete CSI sequence: collected intermediates/private markers and the final.
    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], fin: char);
    /// A complete ESC sequence.
    fn esc_dispatch(&mut self, intermediates: &[u8], fin: char);
    /// A complete OSC string (terminated in any way, even by CAN or ESC).
    fn osc_dispatch(&mut self, data: &[char]);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    Escape,
    EscapeIntermediate,
    CsiEntry,
    CsiParam,
    CsiIntermediate,
    CsiIgnore,
    DcsEntry,
    DcsParam,
    DcsIntermediate,
    DcsPassthrough,
    DcsIgnore,
    OscString,
    SosPmApcString,
}

/// Mosh's OSC buffer limit (characters).
const OSC_MAX: usize = 16 * 1024;

/// The incremental parser: UTF-8 decoding, then the DEC ANSI state machine.
#[derive(Debug, Clone)]
pub struct Parser {
    state: State,
    utf8: [u8; 8],
    utf8_len: usize,
    params: Params,
    intermediates: Vec<u8>,
    osc: Vec<char>,
    /// Accept `:` sub-parameters in CSI (extended emulator); Mosh ignores them.
    pub colon_params: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser {
            state: State::Ground,
            utf8: [0; 8],
            utf8_len: 0,
            params: Params::default(),
            intermediates: Vec::new(),
            osc: Vec::new(),
            colon_params: false,
        }
    }
}

enum Decoded {
    Char(u32, usize),
    Incomplete,
    Invalid,
}

/// glibc 2.36 `mbrtowc` in a UTF-8 locale, from an initial shift state.
fn glibc_mbrtowc(buf: &[u8]) -> Decoded {
    let Some(&lead) = buf.first() else {
        return Decoded::Incomplete;
    };
    let (need, init, min) = match lead {
        0x00..=0x7F => return Decoded::Char(u32::from(lead), 1),
        0xC2..=0xDF => (2, u32::from(lead & 0x1F), 0x80),
        0xE0..=0xEF => (3, u32::from(lead & 0x0F), 0x800),
        0xF0..=0xF7 => (4, u32::from(lead & 0x07), 0x1_0000),
        0xF8..=0xFB => (5, u32::from(lead & 0x03), 0x20_0000),
        0xFC..=0xFD => (6, u32::from(lead & 0x01), 0x400_0000),
        _ => return Decoded::Invalid,
    };
    let mut v = init;
    for i in 1..need {
        match buf.get(i) {
            None => return Decoded::Incomplete,
            Some(&b) if b & 0xC0 == 0x80 => v = (v << 6) | u32::from(b & 0x3F),
            Some(_) => return Decoded::Invalid,
        }
    }
    if v < min || (0xD800..=0xDFFF).contains(&v) {
        return Decoded::Invalid;
    }
    Decoded::Char(v, need)
}

impl Parser {
    /// A parser in the ground state.
    pub fn new() -> Self {
        Parser::default()
    }

    /// Feeds bytes, reporting actions to `p`.
    pub fn advance<P: Perform>(&mut self, p: &mut P, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if self.utf8_len == 0 && b < 0x80 {
                if self.state == State::Ground && (0x20..0x7F).contains(&b) {
                    // Fast path: a run of printable ASCII.
                    let start = i;
                    while i < bytes.len() && (0x20..0x7F).contains(&bytes[i]) {
                        i += 1;
                    }
                    p.print_ascii(&bytes[start..i]);
                    continue;
                }
                if self.state == State::Ground && b == b'\n' {
                    let taken = p.line_feeds(bytes.get(i..).unwrap_or_default());
                    if taken > 0 {
                        i += taken;
                        continue;
                    }
                }
                self.input(p, u32::from(b));
            } else {
                self.utf8_byte(p, b);
            }
            i += 1;
        }
    }

    /// Mosh's UTF-8 decoding loop (Unicode 6.0 §3.9 "best practice" on top
    /// of glibc `mbrtowc`): on an invalid sequence emit U+FFFD and retry with
    /// only its last byte.
    fn utf8_byte<P: Perform>(&mut self, p: &mut P, b: u8) {
        if self.utf8_len >= self.utf8.len() {
            self.utf8_len = 0;
        }
        self.utf8[self.utf8_len] = b;
        self.utf8_len += 1;
        let orig = self.utf8_len;
        let mut total = 0;
        while total != orig && self.utf8_len > 0 {
            let (cp, used) = match glibc_mbrtowc(&self.utf8[..self.utf8_len]) {
                Decoded::Incomplete => break,
                Decoded::Invalid => {
                    let used;
                    if self.utf8_len > 1 {
                        self.utf8[0] = self.utf8[self.utf8_len - 1];
                        used = self.utf8_len - 1;
                        self.utf8_len = 1;
                    } else {
                        self.utf8_len = 0;
                        used = 1;
                    }
                    (0xFFFD, used)
                }
                Decoded::Char(cp, n) => {
                    self.utf8.copy_within(n..self.utf8_len, 0);
                    self.utf8_len -= n;
                    (cp, n)
                }
            };
            let cp = if cp > 0x10FFFF { 0xFFFD } else { cp };
            self.input(p, cp);
            total += used;
        }
    }

    fn transition<P: Perform>(&mut self, p: &mut P, next: State) {
        // Exit action of the old state.
        if self.state == State::OscString {
            p.osc_dispatch(&self.osc);
        }
        self.state = next;
        // Entry action of the new state.
        match next {
            State::Escape | State::CsiEntry | State::DcsEntry => {
                self.params.chars.clear();
                self.intermediates.clear();
            }
            State::OscString => self.osc.clear(),
            _ => {}
        }
    }

    fn collect(&mut self, c: u32) {
        if self.intermediates.len() < 8 && c <= 255 {
            self.intermediates.push(c as u8);
        }
    }

    fn input<P: Perform>(&mut self, p: &mut P, cp: u32) {
        let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
        // Transitions from anywhere.
        match cp {
            0x18 | 0x1A | 0x80..=0x8F | 0x91..=0x97 | 0x99 | 0x9A => {
                self.transition_with(p, State::Ground, |p| p.execute(ch));
                return;
            }
            0x9C => return self.transition(p, State::Ground),
            0x1B => return self.transition(p, State::Escape),
            0x98 | 0x9E | 0x9F => return self.transition(p, State::SosPmApcString),
            0x90 => return self.transition(p, State::DcsEntry),
            0x9D => return self.transition(p, State::OscString),
            0x9B => return self.transition(p, State::CsiEntry),
            _ => {}
        }
        // Code points from U+00A0 up are classed like 'A'.
        let c = if cp >= 0xA0 { 0x41 } else { cp };
        let c0 = c <= 0x17 || c == 0x19 || (0x1C..=0x1F).contains(&c);
        match self.state {
            State::Ground => {
                if c0 {
                    p.execute(ch);
                } else if (0x20..=0x7F).contains(&c) {
                    p.print(ch);
                }
            }
            State::Escape => {
                if c0 {
                    p.execute(ch);
                } else if (0x20..=0x2F).contains(&c) {
                    self.collect(cp);
                    self.state = State::EscapeIntermediate;
                } else if c == 0x5B {
                    self.transition(p, State::CsiEntry);
                } else if c == 0x5D {
                    self.transition(p, State::OscString);
                } else if c == 0x50 {
                    self.transition(p, State::DcsEntry);
                } else if c == 0x58 || c == 0x5E || c == 0x5F {
                    self.transition(p, State::SosPmApcString);
                } else if (0x30..=0x7E).contains(&c) {
                    self.state = State::Ground;
                    p.esc_dispatch(&self.intermediates, ch);
                }
            }
            State::EscapeIntermediate => {
                if c0 {
                    p.execute(ch);
                } else if (0x20..=0x2F).contains(&c) {
                    self.collect(cp);
                } else if (0x30..=0x7E).contains(&c) {
                    self.state = State::Ground;
                    p.esc_dispatch(&self.intermediates, ch);
                }
            }
            State::CsiEntry | State::CsiParam => {
                let entry = self.state == State::CsiEntry;
                if c0 {
                    p.execute(ch);
                } else if (0x30..=0x39).contains(&c) || c == 0x3B {
                    self.params.push(c as u8);
                    self.state = State::CsiParam;
                } else if c == 0x3A {
                    if self.colon_params {
                        self.params.push(b':');
                        self.state = State::CsiParam;
                    } else {
                        self.state = State::CsiIgnore;
                    }
                } else if (0x3C..=0x3F).contains(&c) {
                    if entry {
                        self.collect(cp);
                        self.state = State::CsiParam;
                    } else {
                        self.state = State::CsiIgnore;
                    }
                } else if (0x20..=0x2F).contains(&c) {
                    self.collect(cp);
                    self.state = State::CsiIntermediate;
                } else if (0x40..=0x7E).contains(&c) {
                    self.state = State::Ground;
                    p.csi_dispatch(&self.params, &self.intermediates, ch);
                }
            }
            State::CsiIntermediate => {
                if c0 {
                    p.execute(ch);
                } else if (0x20..=0x2F).contains(&c) {
                    self.collect(cp);
                } else if (0x40..=0x7E).contains(&c) {
                    self.state = State::Ground;
                    p.csi_dispatch(&self.params, &self.intermediates, ch);
                } else if (0x30..=0x3F).contains(&c) {
                    self.state = State::CsiIgnore;
                }
            }
            State::CsiIgnore => {
                if c0 {
                    p.execute(ch);
                } else if (0x40..=0x7E).contains(&c) {
                    self.state = State::Ground;
                }
            }
            State::DcsEntry | State::DcsParam => {
                let entry = self.state == State::DcsEntry;
                if (0x20..=0x2F).contains(&c) {
                    self.collect(cp);
                    self.state = State::DcsIntermediate;
                } else if c == 0x3A {
                    self.state = State::DcsIgnore;
                } else if (0x30..=0x39).contains(&c) || c == 0x3B {
                    self.params.push(c as u8);
                    self.state = State::DcsParam;
                } else if (0x3C..=0x3F).contains(&c) {
                    if entry {
                        self.collect(cp);
                        self.state = State::DcsParam;
                    } else {
                        self.state = State::DcsIgnore;
                    }
                } else if (0x40..=0x7E).contains(&c) {
                    self.state = State::DcsPassthrough;
                }
            }
            State::DcsIntermediate => {
                if (0x20..=0x2F).contains(&c) {
                    self.collect(cp);
                } else if (0x40..=0x7E).contains(&c) {
                    self.state = State::DcsPassthrough;
                } else if (0x30..=0x3F).contains(&c) {
                    self.state = State::DcsIgnore;
                }
            }
            // DCS strings are consumed and ignored; only ST (or an
            // anywhere transition) leaves them.
            State::DcsPassthrough | State::DcsIgnore | State::SosPmApcString => {}
            State::OscString => {
                if (0x20..=0x7F).contains(&c) {
                    if self.osc.len() < OSC_MAX {
                        self.osc.push(ch);
                    }
                } else if c == 0x07 {
                    self.transition(p, State::Ground);
                }
            }
        }
    }

    fn transition_with<P: Perform>(&mut self, p: &mut P, next: State, act: impl FnOnce(&mut P)) {
        if self.state == State::OscString {
            p.osc_dispatch(&self.osc);
        }
        act(p);
        self.state = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Log(Vec<String>);

    impl Perform for Log {
        fn print(&mut self, c: char) {
            self.0.push(format!("p{c}"));
        }
        fn execute(&mut self, c: char) {
            self.0.push(format!("x{:x}", c as u32));
        }
        fn csi_dispatch(&mut self, params: &Params, inter: &[u8], fin: char) {
            let mut v = Vec::new();
            params.values(&mut v);
            self.0.push(format!(
                "csi{}{:?}{}",
                String::from_utf8_lossy(inter),
                v,
                fin
            ));
        }
        fn esc_dispatch(&mut self, inter: &[u8], fin: char) {
            self.0
                .push(format!("esc{}{}", String::from_utf8_lossy(inter), fin));
        }
        fn osc_dispatch(&mut self, data: &[char]) {
            self.0
                .push(format!("osc{}", data.iter().collect::<String>()));
        }
    }

    fn run(bytes: &[u8]) -> Vec<String> {
        let mut p = Parser::new();
        let mut l = Log::default();
        p.advance(&mut l, bytes);
        l.0
    }

    #[test]
    fn utf8_c1_controls_act_as_controls() {
        assert_eq!(run("\u{9B}2J".as_bytes()), ["csi[2]J"]);
        assert_eq!(run("\u{9D}0;t\u{9C}".as_bytes()), ["osc0;t"]);
        assert_eq!(run("\u{85}".as_bytes()), ["x85"]);
    }

    #[test]
    fn colon_ignores_the_whole_sequence() {
        assert_eq!(run(b"\x1b[38:2:1:2:3mA"), ["pA"]);
        assert_eq!(run(b"\x1b[4:3m"), Vec::<String>::new());
    }

    #[test]
    fn params_missing_and_overflowing() {
        assert_eq!(run(b"\x1b[;70000;5H"), ["csi[-1, -1, 5]H"]);
        assert_eq!(run(b"\x1b[m"), ["csi[-1]m"]);
        let long = format!("\x1b[{}5m", "1;".repeat(60));
        let out = run(long.as_bytes());
        assert_eq!(out.len(), 1);
        assert!(out[0].ends_with("1, -1]m"), "{out:?}");
    }

    #[test]
    fn high_code_points_end_sequences_like_a() {
        assert_eq!(run("\x1b[1é".as_bytes()), ["csi[1]é"]);
        assert_eq!(run("\x1b中".as_bytes()), ["esc中"]);
        assert_eq!(run("\x1b]2;né\x07".as_bytes()), ["osc2;né"]);
    }

    #[test]
    fn osc_ends_on_can_and_esc_and_drops_controls() {
        assert_eq!(run(b"\x1b]0;a\x01b\x18"), ["osc0;ab", "x18"]);
        assert_eq!(run(b"\x1b]0;a\x1b\\"), ["osc0;a", "esc\\"]);
    }

    #[test]
    fn dcs_and_apc_are_swallowed() {
        assert_eq!(run(b"\x1bP1$qm\x1b\\A"), ["esc\\", "pA"]);
        assert_eq!(run(b"\x1b_hello\x1b\\B"), ["esc\\", "pB"]);
    }

    #[test]
    fn invalid_utf8_follows_glibc_and_mosh() {
        assert_eq!(run(b"\xe0\x80\x80"), ["p\u{FFFD}", "p\u{FFFD}"]);
        assert_eq!(run(b"\xe2\x82A"), ["p\u{FFFD}", "pA"]);
        assert_eq!(run(b"\xed\xa0\x80"), ["p\u{FFFD}", "p\u{FFFD}"]);
        assert_eq!(run(b"\xf4\x90\x80\x80"), ["p\u{FFFD}"]);
        assert_eq!(run(b"\xc0A"), ["p\u{FFFD}", "pA"]);
    }

    /// Runs Mosh's decoding loop on top of the real C library and compares.
    #[test]
    fn decoder_matches_libc_mbrtowc_on_random_bytes() {
        // SAFETY: valid NUL-terminated locale name.
        let ok = unsafe { !libc::setlocale(libc::LC_ALL, c"C.UTF-8".as_ptr()).is_null() };
        assert!(ok);
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let alphabet: [u8; 16] = [
            0x41, 0x80, 0x9b, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf7, 0xf8,
            0xfc, 0xfe,
        ];
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            for _ in 0..12 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let b = if seed.is_multiple_of(3) {
                    0x80 | (seed >> 8) as u8 & 0x3F
                } else {
                    alphabet[(seed >> 20) as usize % alphabet.len()]
                };
                bytes.push(b);
            }
            let ours: Vec<u32> = {
                let mut p = Parser::new();
                let mut out = Vec::new();
                struct Chars<'a>(&'a mut Vec<u32>);
                impl Perform for Chars<'_> {
                    fn print(&mut self, c: char) {
                        self.0.push(c as u32)
                    }
                    fn execute(&mut self, c: char) {
                        self.0.push(c as u32)
                    }
                    fn csi_dispatch(&mut self, _: &Params, _: &[u8], _: char) {}
                    fn esc_dispatch(&mut self, _: &[u8], _: char) {}
                    fn osc_dispatch(&mut self, _: &[char]) {}
                }
                for &b in &bytes {
                    // Reset to ground so C1 controls are visible as executes.
                    p.state = State::Ground;
                    p.advance(&mut Chars(&mut out), &[b]);
                }
                out
            };
            let theirs = libc_decode(&bytes);
            // Only printable/executed code points are visible; C1 controls
            // that start sequences are not, so drop them from libc's list.
            let theirs: Vec<u32> = theirs
                .into_iter()
                .filter(|&c| !matches!(c, 0x90 | 0x98 | 0x9B..=0x9F))
                .collect();
            assert_eq!(ours, theirs, "bytes {bytes:02x?}");
        }
    }

    unsafe extern "C" {
        fn mbrtowc(
            pwc: *mut libc::wchar_t,
            s: *const libc::c_char,
            n: libc::size_t,
            ps: *mut [u64; 16],
        ) -> libc::size_t;
    }

    fn libc_decode(bytes: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        for &c in bytes {
            if buf.is_empty() && c <= 0x7f {
                out.push(u32::from(c));
                continue;
            }
            buf.push(c);
            let orig = buf.len();
            let mut total = 0;
            while total != orig {
                let mut wc: libc::wchar_t = 0;
                // A zeroed buffer larger than mbstate_t is the initial state.
                let mut st = [0u64; 16];
                // SAFETY: buf is valid for buf.len() bytes.
                let r = unsafe { mbrtowc(&mut wc, buf.as_ptr().cast(), buf.len(), &mut st) };
                let used;
                if r == 0 {
                    buf.clear();
                    wc = 0;
                    used = 1;
                } else if r == usize::MAX {
                    if buf.len() > 1 {
                        let last = buf[buf.len() - 1];
                        used = buf.len() - 1;
                        buf = vec![last];
                    } else {
                        buf.clear();
                        used = 1;
                    }
                    wc = 0xFFFD;
                } else if r == usize::MAX - 1 {
                    break;
                } else {
                    buf.drain(..r);
                    used = r;
                }
                let mut w = wc as u32;
                if w > 0x10FFFF || (0xD800..=0xDFFF).contains(&w) {
                    w = 0xFFFD;
                }
                out.push(w);
                total += used;
            }
        }
        out
    }
}
