//! What an emulator understands beyond Mosh 1.4.0, capability by capability.
//!
//! One value is chosen when an emulator is made and read by name wherever
//! behaviour differs, so a feature is switched on for the peers that need it
//! (the server's emulator, or a client replaying an extended diff) without a
//! catch-all "extended" flag.

/// Named emulator capabilities beyond Mosh 1.4.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The alternate screen: modes 47, 1047, 1048 and 1049.
    pub alt_screen: bool,
    /// DEC special graphics: `ESC ( 0`, `ESC ) 0`, SO and SI.
    pub dec_graphics: bool,
    /// SGR with `:` sub-parameters (`4:3`, `38:2::r:g:b`, `58:5:n`).
    pub colon_sgr: bool,
    /// SGR faint, strike-through, overline, underline styles and colour.
    pub extended_sgr: bool,
    /// `CSI s` and `CSI u` save and restore the cursor.
    pub csi_save_cursor: bool,
    /// DECSCUSR (`CSI n SP q`) sets the cursor shape.
    pub cursor_shape: bool,
    /// DECKPAM, DECKPNM and mode 66 set the application keypad.
    pub keypad: bool,
    /// REP (`CSI n b`) repeats the last graphic character.
    pub rep: bool,
    /// DECRQM (`CSI ? n $ p`, `CSI n $ p`) is answered.
    pub mode_queries: bool,
    /// OSC 52 with any selector list, not only `c`.
    pub osc52_selectors: bool,
    /// Wide characters are kept whole: none hangs off the last column or is
    /// cut in half, so a peer's emulator draws exactly this screen.
    pub whole_wide_chars: bool,
    /// A row's soft-wrap flag stays on its last cell when cells are
    /// inserted or deleted (Mosh lets it drift into the row).
    pub wrap_flag_at_end: bool,
    /// Titles are cut to what a display diff can carry back (254 chars).
    pub diff_sized_titles: bool,
    /// Lines kept in scrollback (0: none, as in Mosh).
    pub scrollback: usize,
}

/// Lines of scrollback the server's emulator keeps by default.
pub const DEFAULT_SCROLLBACK: usize = 1000;

impl Dialect {
    /// Mosh 1.4.0 exactly: what a client runs to replay a stock server.
    pub const MOSH_1_4: Dialect = Dialect {
        alt_screen: false,
        dec_graphics: false,
        colon_sgr: false,
        extended_sgr: false,
        csi_save_cursor: false,
        cursor_shape: false,
        keypad: false,
        rep: false,
        mode_queries: false,
        osc52_selectors: false,
        whole_wide_chars: false,
        wrap_flag_at_end: false,
        diff_sized_titles: false,
        scrollback: 0,
    };

    /// The rmosh server's emulator: everything above.
    pub const SERVER: Dialect = Dialect {
        alt_screen: true,
        dec_graphics: true,
        colon_sgr: true,
        extended_sgr: true,
        csi_save_cursor: true,
        cursor_shape: true,
        keypad: true,
        rep: true,
        mode_queries: true,
        osc52_selectors: true,
        whole_wide_chars: true,
        wrap_flag_at_end: true,
        diff_sized_titles: true,
        scrollback: DEFAULT_SCROLLBACK,
    };

    /// An rmosh client replaying the extended display diff
    /// (docs/extensions.md): Mosh's semantics for everything a Mosh diff
    /// uses, plus the renditions and modes only the extended diff carries.
    pub const EXTENDED_DIFF: Dialect = Dialect {
        colon_sgr: true,
        extended_sgr: true,
        cursor_shape: true,
        keypad: true,
        ..Dialect::MOSH_1_4
    };
}
