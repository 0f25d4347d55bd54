//! The prediction engine (§9): guesses the echo of each keystroke, shows the
//! guesses over the server's screen, and judges them against each new frame.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::conditional::{CursorMove, OverlayRow, Validity};
use super::cooked::CookedLines;
use super::evidence::{Anchor, EchoEvidence, prompt_at, row_shows_prompt};
use super::keys::{Key, KeyParser};
use super::mode::{DisplayPreference, Policy, PredictionConfig};
use super::screen::{PredictCell, PredictScreen};
use super::triggers::Triggers;
use super::width::is_narrow;

/// A read of more than this many bytes is a paste: nothing is predicted.
pub const PASTE_BYTES: usize = 100;
/// How often the engine wants to be woken while a timing trigger is armed.
pub const WAKE_INTERVAL: Duration = Duration::from_millis(50);
/// `send_interval` before the transport reports one (ms).
pub const INITIAL_SEND_INTERVAL: u64 = 250;
/// Most keys remembered as not yet reflected by the server's screen.
const IN_FLIGHT_KEYS: usize = 256;

/// Counters for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PredictionStats {
    /// Printable keys, backspaces and arrows predicted.
    pub predicted_keys: u64,
    /// Shown predictions the server contradicted (the user saw something false).
    pub shown_mispredictions: u64,
    /// Hidden (tentative) predictions the server contradicted.
    pub hidden_mispredictions: u64,
    /// Predictions the server confirmed with credit.
    pub confirmed: u64,
    /// Epochs shown at once because of a proven prompt.
    pub early_confirmations: u64,
}

/// The local echo engine, generic over the framebuffer's cell type.
#[derive(Debug, Clone)]
pub struct PredictionEngine<C> {
    config: PredictionConfig,
    parser: KeyParser,
    keys: Vec<Key>,
    rows: Vec<OverlayRow<C>>,
    cursors: Vec<CursorMove>,
    frame_sent: u64,
    frame_acked: u64,
    late_acked: u64,
    prediction_epoch: u64,
    confirmed_epoch: u64,
    triggers: Triggers,
    send_interval: u64,
    last_size: Option<(usize, usize)>,
    /// Expiration frame of the newest keystroke of any kind.
    last_input_frame: u64,
    evidence: EchoEvidence,
    /// Whether the newest key was Enter.
    last_key_cr: bool,
    /// The prompt the current hidden epoch's typing began at.
    anchor: Option<Anchor>,
    /// The prompt an epoch was shown early for, disproven if it goes wrong.
    early_anchor: Option<(u64, String)>,
    /// Where typing on the current line began (row, col, after a proven
    /// prompt): never predicted to move left of it.
    line_start: Option<(usize, usize, bool)>,
    /// Expiration frame of the newest key whose effect was not predicted
    /// (or whose prediction was discarded): the server's screen is stale
    /// until the echo ack reaches it.
    unpredicted_frame: u64,
    /// Frames of such keys not yet echo-acked, ascending: a prediction
    /// older than one of them cannot be judged once the echo ack covers it
    /// (the later key may have changed the cell legitimately).
    unpredicted: Vec<u64>,
    /// Harmless-Enter evidence while the server's pty is in cooked-echo mode.
    cooked: CookedLines,
    /// The epoch a trusted Enter started, shown once a key is typed after it.
    trusted_epoch: Option<u64>,
    /// The epoch the newest Enter typed in cooked-echo mode started.
    enter_epoch: Option<u64>,
    /// Newest client state the server had received when it made the
    /// newest frame: the screen reflects every key up to it (once settled).
    screen_covers: u64,
    /// The server's settled report that a raw-mode line editor echoes
    /// typed keys (rmosh's `tty_mode` extension).
    line_echo: bool,
    /// Keys the newest frame does not reflect yet, with their client
    /// state, oldest first (replayed after a hidden misprediction).
    in_flight: VecDeque<(u64, Key)>,
    stats: PredictionStats,
}

impl<C: PredictCell> PredictionEngine<C> {
    /// A fresh engine.
    pub fn new(config: PredictionConfig) -> Self {
        Self {
            config,
            parser: KeyParser::new(),
            keys: Vec::new(),
            rows: Vec::new(),
            cursors: Vec::new(),
            frame_sent: 0,
            frame_acked: 0,
            late_acked: 0,
            prediction_epoch: 1,
            confirmed_epoch: 0,
            triggers: Triggers::default(),
            send_interval: INITIAL_SEND_INTERVAL,
            last_size: None,
            last_input_frame: 0,
            evidence: EchoEvidence::default(),
            last_key_cr: false,
            anchor: None,
            early_anchor: None,
            line_start: None,
            unpredicted_frame: 0,
            unpredicted: Vec::new(),
            cooked: CookedLines::default(),
            trusted_epoch: None,
            enter_epoch: None,
            screen_covers: 0,
            line_echo: false,
            in_flight: VecDeque::new(),
            stats: PredictionStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> PredictionConfig {
        self.config
    }

    /// Counters so far.
    pub fn stats(&self) -> PredictionStats {
        self.stats
    }

    /// Newest client state number already sent (sampled before input is read).
    pub fn set_frame_sent(&mut self, n: u64) {
        self.frame_sent = n;
    }

    /// Newest client state number the server acknowledged.
    pub fn set_frame_acked(&mut self, n: u64) {
        self.frame_acked = n;
    }

    /// The newest frame was made once the server had received client
    /// state `n` (the acknowledgement that arrived with it).
    pub fn set_screen_covers(&mut self, n: u64) {
        self.screen_covers = n;
    }

    /// Newest client state number acknowledged as acted upon (§6.3 echo ack).
    pub fn set_echo_ack(&mut self, n: u64) {
        self.late_acked = n;
    }

    /// The server's settled report that a raw-mode line editor echoes
    /// typed keys one for one (rmosh's `tty_mode` extension; always false
    /// from a stock server).
    pub fn set_line_echo(&mut self, on: bool) {
        self.line_echo = on;
    }

    /// The server's report that its pty is in settled cooked-echo mode
    /// (rmosh's `tty_mode` extension; always false from a stock server).
    pub fn set_cooked_echo(&mut self, on: bool) {
        if self.cooked.set_cooked(on) && self.rmosh() {
            // Whatever is typed from now on may not be echoed (a password
            // prompt turns echo off): it starts a hidden epoch, even after
            // an Enter that was trusted.
            self.become_tentative();
        }
    }

    /// The sender's `send_interval` in ms (`ceil(SRTT/2)` clamped 20..=250).
    pub fn set_send_interval(&mut self, ms: u64) {
        self.send_interval = ms;
    }

    /// Whether underlining is on (for tests and diagnostics).
    pub fn flagging(&self) -> bool {
        self.triggers.flagging
    }

    /// Whether predictions are drawn right now (mode and triggers).
    pub fn displaying(&self) -> bool {
        match self.config.display {
            DisplayPreference::Never => false,
            DisplayPreference::Always | DisplayPreference::Experimental => true,
            DisplayPreference::Adaptive => self.triggers.srtt || self.triggers.glitch > 0,
        }
    }

    fn rmosh(&self) -> bool {
        self.config.policy == Policy::Rmosh
    }

    fn experimental(&self) -> bool {
        self.config.display == DisplayPreference::Experimental
    }

    /// Forgets every prediction (after a resize, a paste or a wrong guess).
    pub fn reset(&mut self) {
        self.cursors.clear();
        self.rows.clear();
        self.anchor = None;
        self.early_anchor = None;
        self.line_start = None;
        self.cooked.forget();
        self.trusted_epoch = None;
        self.mark_unpredicted(self.last_input_frame);
        self.become_tentative();
    }

    /// Keys up to client state `frame` had effects that are not predicted.
    fn mark_unpredicted(&mut self, frame: u64) {
        self.unpredicted_frame = self.unpredicted_frame.max(frame);
        self.mark_ambiguous(frame);
    }

    /// A key at client state `frame` may repaint cells predicted before it.
    fn mark_ambiguous(&mut self, frame: u64) {
        if self.unpredicted.last().is_none_or(|&u| u < frame) {
            self.unpredicted.push(frame);
        }
    }

    /// Whether a prediction judged at `expiration` is judged on a frame
    /// that may also show the effect of a later unpredicted key, one the
    /// server had already received (rmosh only): then its cell says nothing
    /// about the prediction, which is dropped without a verdict.
    fn ambiguous(&self, expiration: u64) -> bool {
        let received = self.late_acked.max(self.frame_acked);
        self.rmosh()
            && self
                .unpredicted
                .iter()
                .any(|&u| u > expiration && u <= received)
    }

    /// Whether any prediction is outstanding.
    pub fn active(&self) -> bool {
        !self.cursors.is_empty() || self.cells_active()
    }

    fn cells_active(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.cells.iter().any(|c| c.timing.active))
    }

    /// When the engine wants to be woken (50 ms ahead) while a timing
    /// trigger can still fire; `None` when it has nothing to wait for.
    pub fn wake_deadline(&self, now: Instant) -> Option<Instant> {
        (self.config.display != DisplayPreference::Never
            && self.triggers.timing_tests_necessary()
            && self.active())
        .then(|| now + WAKE_INTERVAL)
    }

    fn become_tentative(&mut self) {
        if !self.experimental() {
            self.prediction_epoch += 1;
        }
    }

    /// Handles bytes the user typed, given the newest server framebuffer.
    /// Call [`set_frame_sent`](Self::set_frame_sent) first.
    pub fn new_user_input<S: PredictScreen<Cell = C>>(
        &mut self,
        bytes: &[u8],
        fb: &S,
        now: Instant,
    ) {
        if self.config.display == DisplayPreference::Never {
            return;
        }
        if bytes.len() > PASTE_BYTES {
            self.reset();
            self.parser.reset();
            self.note_in_flight(Key::Other);
            self.last_input_frame = self.frame_sent + 1;
            self.mark_unpredicted(self.frame_sent + 1);
            return;
        }
        self.cull(fb, now);
        let mut keys = std::mem::take(&mut self.keys);
        for &b in bytes {
            keys.clear();
            self.parser.feed(b, &mut keys);
            for &key in &keys {
                if self.experimental() {
                    self.prediction_epoch = self.confirmed_epoch;
                }
                let epoch = self.prediction_epoch;
                self.note_in_flight(key);
                self.key(key, fb, now);
                if key == Key::CarriageReturn {
                    // Enter's cursor move is predicted and typing after it
                    // lands where predicted (or is re-anchored at the new
                    // prompt), so it does not make later guesses stale; it
                    // may still repaint anything typed before it.
                    self.mark_ambiguous(self.frame_sent + 1);
                } else if self.prediction_epoch != epoch {
                    self.mark_unpredicted(self.frame_sent + 1);
                }
                self.last_key_cr = key == Key::CarriageReturn;
                self.last_input_frame = self.frame_sent + 1;
            }
        }
        self.keys = keys;
        if self.rmosh() && self.parser.in_sequence() {
            // The server already has these bytes (a lone ESC leaves vim's
            // insert mode at once) even though the key is not complete here.
            self.become_tentative();
            self.mark_unpredicted(self.frame_sent + 1);
            self.note_in_flight(Key::Other);
            self.last_input_frame = self.frame_sent + 1;
        }
    }

    /// Remembers a key sent in the next client state until a frame reflects it.
    fn note_in_flight(&mut self, key: Key) {
        if self.in_flight.len() >= IN_FLIGHT_KEYS {
            self.in_flight.pop_front();
        }
        self.in_flight.push_back((self.frame_sent + 1, key));
    }

    fn key<S: PredictScreen<Cell = C>>(&mut self, key: Key, fb: &S, now: Instant) {
        let rmosh = self.rmosh();
        let edits_line = match key {
            Key::Print(ch) => is_narrow(ch),
            Key::Backspace | Key::Left { plain: true } | Key::Right { plain: true } => true,
            _ => false,
        };
        if rmosh && edits_line {
            self.note_epoch_start(fb);
        }
        match key {
            Key::Print(ch) if is_narrow(ch) => {
                self.cooked.printable(ch);
                // Typing on after a trusted Enter, still in cooked-echo mode:
                // the kernel echoes it, show the new line at once.
                if let Some(e) = self.trusted_epoch.take()
                    && e == self.prediction_epoch
                    && self.cooked.enter_trusted()
                {
                    self.confirmed_epoch = self.confirmed_epoch.max(e);
                }
                self.confirm_harmless_enter_epoch();
            }
            Key::CarriageReturn => {}
            _ => {
                self.trusted_epoch = None;
                self.cooked.forget();
            }
        }
        match key {
            Key::Print(ch) => {
                if !is_narrow(ch) {
                    self.init_cursor(fb);
                    self.become_tentative();
                    return;
                }
                self.init_cursor(fb);
                self.print(ch, fb, now);
            }
            Key::Backspace | Key::Left { plain: true } if rmosh && self.at_line_start(fb) => {
                self.line_edge_key(fb, now);
            }
            Key::Right { plain: true } if rmosh && self.at_text_end(fb) => {
                self.line_edge_key(fb, now);
            }
            Key::Left { plain: false } | Key::Right { plain: false } if rmosh => {
                self.become_tentative();
            }
            Key::Backspace => {
                self.init_cursor(fb);
                self.backspace(fb, now);
            }
            Key::Right { .. } => {
                self.init_cursor(fb);
                let width = fb.width();
                let frame = self.frame_sent + 1;
                let c = self.cursor_mut();
                if c.col + 1 < width {
                    c.col += 1;
                    c.timing.expire(frame, now);
                    self.stats.predicted_keys += 1;
                }
            }
            Key::Left { .. } => {
                self.init_cursor(fb);
                let frame = self.frame_sent + 1;
                let c = self.cursor_mut();
                if c.col > 0 {
                    c.col -= 1;
                    c.timing.expire(frame, now);
                    self.stats.predicted_keys += 1;
                }
            }
            Key::CarriageReturn => {
                // In cooked-echo mode, once an Enter of this stretch was
                // proven harmless (nothing but the newline came of it), the
                // next one does not start a hidden epoch: what is typed after
                // it is echoed by the kernel like the line before.
                // Not on the bottom row: a scroll is not predicted.
                let trusted = rmosh
                    && self.cooked.enter_trusted()
                    && self.predicted_cursor(fb).0 + 1 < fb.height();
                self.become_tentative();
                // The newline alone stays hidden (the program may answer the
                // line with a prompt, and the user then waits for it); the
                // epoch is shown when a key is typed after it (in `key`).
                self.trusted_epoch = trusted.then_some(self.prediction_epoch);
                self.newline_carriage_return(fb, now);
                self.line_start = None;
                if rmosh {
                    let row = self.cursor_pos().0;
                    self.cooked.enter(self.frame_sent + 1, row);
                    self.enter_epoch = Some(self.prediction_epoch);
                }
            }
            Key::Other => self.become_tentative(),
        }
    }

    /// The epoch started by the newest Enter is shown once that Enter was
    /// proven harmless in cooked-echo mode: nothing but the newline came of
    /// it, so the line typed after it is the kernel's to echo (the user
    /// waited for the program to read the line before typing on).
    fn confirm_harmless_enter_epoch(&mut self) {
        if let Some(e) = self.enter_epoch
            && e == self.prediction_epoch
            && self.cooked.newest_enter_harmless()
        {
            self.confirmed_epoch = self.confirmed_epoch.max(e);
        }
    }

    /// The first editing key of a hidden epoch: if it is typed right
    /// after a prompt at which typing was echoed before, the epoch is shown
    /// as soon as the echo ack covers every earlier key and the prompt is
    /// still there (at once if it already does). See docs/prediction.md.
    fn note_epoch_start<S: PredictScreen<Cell = C>>(&mut self, fb: &S) {
        let epoch = self.prediction_epoch;
        if epoch <= self.confirmed_epoch || self.anchor.as_ref().is_some_and(|a| a.epoch == epoch) {
            return;
        }
        let (row, col) = fb.cursor();
        let Some(prompt) = prompt_at(fb) else {
            return;
        };
        if self.late_acked >= self.last_input_frame
            || (self.last_key_cr && self.screen_covers >= self.last_input_frame)
        {
            // Every key is echo-acked, or the frame already reflects the
            // Enter that was the last key: cursor guesses still waiting (a
            // re-anchor after a discarded epoch) describe an older screen.
            self.cursors.clear();
        }
        match self.cursors.last_mut() {
            None => {}
            Some(c) if (c.row, c.col) == (row, col) => {}
            // Enter was typed and the server's screen already shows a
            // prompt where Enter moves to, or anywhere once the frame is
            // known to reflect the Enter (the command printed lines): type
            // after that prompt, not at column 0 of the row below.
            Some(c)
                if self.last_key_cr
                    && c.col == 0
                    && c.timing.tentative_until_epoch == epoch
                    && (c.row == row || self.screen_covers >= c.timing.expiration_frame) =>
            {
                let guessed_row = c.row;
                c.row = row;
                c.col = col;
                if let Some(r) = self.rows.iter_mut().find(|r| r.row == guessed_row) {
                    for cell in &mut r.cells {
                        if cell.timing.tentative_until_epoch == epoch {
                            cell.reset();
                        }
                    }
                }
            }
            Some(_) => return,
        }
        let proven = self.evidence.proven(&prompt);
        self.line_start = Some((row, col, proven));
        self.anchor = Some(Anchor {
            epoch,
            proven,
            prompt,
            row,
            col,
            required_ack: self.last_input_frame,
        });
        self.confirm_anchor_if_settled(fb);
    }

    /// Shows the anchored epoch once the screen is known to reflect every
    /// key typed before it and still shows the proven prompt.
    fn confirm_anchor_if_settled<S: PredictScreen<Cell = C>>(&mut self, fb: &S) {
        let Some(a) = &self.anchor else { return };
        // The screen reflects every key before the epoch: the echo ack
        // covers them, or the frame was made after the server had them
        // and its line editor had settled, echoing (rmosh server).
        let settled = self.late_acked >= a.required_ack
            || (self.line_echo && self.screen_covers >= a.required_ack);
        if !a.proven || a.epoch <= self.confirmed_epoch || !settled {
            return;
        }
        if row_shows_prompt(fb, a.row, a.col, &a.prompt) {
            self.confirmed_epoch = a.epoch;
            self.stats.early_confirmations += 1;
            self.early_anchor = Some((a.epoch, a.prompt.clone()));
        }
        self.anchor = None;
    }

    /// Where the next key acts: the newest cursor guess, else the server's cursor.
    fn predicted_cursor<S: PredictScreen<Cell = C>>(&self, fb: &S) -> (usize, usize) {
        self.cursors.last().map_or(fb.cursor(), |c| (c.row, c.col))
    }

    fn at_line_start<S: PredictScreen<Cell = C>>(&self, fb: &S) -> bool {
        let (row, col) = self.predicted_cursor(fb);
        self.line_start
            .is_some_and(|(r, c, _)| r == row && col <= c)
    }

    /// Whether the predicted cursor is past the end of the text on its row
    /// (nothing but blanks, predicted or real, from it to the row's end).
    fn at_text_end<S: PredictScreen<Cell = C>>(&self, fb: &S) -> bool {
        let (row, col) = self.predicted_cursor(fb);
        let predicted = self.rows.iter().find(|r| r.row == row);
        (col..fb.width()).all(|c| {
            match predicted
                .and_then(|r| r.cells.get(c))
                .filter(|p| p.timing.active && !p.unknown)
            {
                Some(p) => p.replacement.is_blank(),
                // Unknown (shifted off the row's end) or not predicted: the server's cell.
                None => fb.cell(row, c).is_none_or(|cell| cell.is_blank()),
            }
        })
    }

    /// Backspace or left arrow at the start of the input, right arrow at its
    /// end: after a proven prompt (a line editor) nothing happens, which is
    /// predicted (and checked: the cursor must stay); elsewhere the effect
    /// is unknown.
    fn line_edge_key<S: PredictScreen<Cell = C>>(&mut self, fb: &S, now: Instant) {
        let (row, _) = self.predicted_cursor(fb);
        let on_proven_line = self
            .line_start
            .is_some_and(|(r, _, proven)| proven && r == row);
        if !on_proven_line {
            self.become_tentative();
            return;
        }
        self.init_cursor(fb);
        let frame = self.frame_sent + 1;
        self.cursor_mut().timing.expire(frame, now);
        self.stats.predicted_keys += 1;
    }

    /// Whether a prediction made now rests on an up-to-date screen: every
    /// key whose effect was not predicted has been echo-acked. Only such a
    /// prediction can confirm its epoch (rmosh), so a coincidental match on
    /// a stale screen never unhides a guess.
    fn fresh(&self) -> bool {
        self.config.policy == Policy::MoshCompatible || self.late_acked >= self.unpredicted_frame
    }

    fn cursor_mut(&mut self) -> &mut CursorMove {
        if self.cursors.is_empty() {
            self.cursors.push(CursorMove::new(
                self.frame_sent + 1,
                0,
                0,
                self.prediction_epoch,
            ));
        }
        let last = self.cursors.len() - 1;
        &mut self.cursors[last]
    }

    fn cursor_pos(&self) -> (usize, usize) {
        self.cursors.last().map_or((0, 0), |c| (c.row, c.col))
    }

    fn init_cursor<S: PredictScreen<Cell = C>>(&mut self, fb: &S) {
        let frame = self.frame_sent + 1;
        match self.cursors.last() {
            None => {
                let (row, col) = fb.cursor();
                self.cursors
                    .push(CursorMove::new(frame, row, col, self.prediction_epoch));
            }
            Some(c) if c.timing.tentative_until_epoch != self.prediction_epoch => {
                let (row, col) = (c.row, c.col);
                self.cursors
                    .push(CursorMove::new(frame, row, col, self.prediction_epoch));
            }
            Some(_) => {}
        }
    }

    fn row_index(&mut self, row: usize, width: usize) -> usize {
        if let Some(i) = self.rows.iter().position(|r| r.row == row) {
            return i;
        }
        self.rows
            .push(OverlayRow::new(row, width, self.prediction_epoch));
        self.rows.len() - 1
    }

    fn print<S: PredictScreen<Cell = C>>(&mut self, ch: char, fb: &S, now: Instant) {
        let width = fb.width();
        let (row, col) = self.cursor_pos();
        if row >= fb.height() || col >= width {
            self.become_tentative();
            return;
        }
        let ri = self.row_index(row, width);
        if col + 1 >= width {
            // The last column is app-dependent (a shell prints there, an editor wraps).
            self.become_tentative();
        }
        let epoch = self.prediction_epoch;
        let frame = self.frame_sent + 1;
        let fresh = self.fresh();
        let rightmost = if self.config.overwrite {
            col
        } else {
            width - 1
        };
        let cells = &mut self.rows[ri].cells;
        // Insert: shift the predicted row right by one.
        for i in (col + 1..=rightmost).rev() {
            let (prev_active, prev_unknown, prev_repl) = match cells.get(i - 1) {
                Some(p) => (p.timing.active, p.unknown, p.replacement.clone()),
                None => continue,
            };
            let Some(cell) = cells.get_mut(i) else {
                continue;
            };
            cell.reset_with_orig();
            cell.activate(epoch, frame, now, fresh);
            if let Some(orig) = fb.cell(row, i) {
                cell.original_contents.push(orig.clone());
            }
            if i == width - 1 || (prev_active && prev_unknown) {
                cell.unknown = true;
            } else if prev_active {
                cell.unknown = false;
                cell.replacement = prev_repl;
            } else if let Some(actual) = fb.cell(row, i - 1) {
                cell.unknown = false;
                cell.replacement = actual.clone();
            } else {
                cell.unknown = true;
            }
        }
        let mut rend = fb.current_renditions();
        if col > 0 {
            // Heuristic: the new character looks like the one to its left.
            match cells.get(col - 1) {
                Some(p) if p.timing.active && !p.unknown => {
                    rend = p.replacement.renditions().clone()
                }
                _ => {
                    if let Some(actual) = fb.cell(row, col - 1) {
                        rend = actual.renditions().clone();
                    }
                }
            }
        }
        if let Some(cell) = cells.get_mut(col) {
            cell.reset_with_orig();
            cell.activate(epoch, frame, now, fresh);
            cell.replacement.set_renditions(rend);
            cell.replacement.set_char(ch);
            if let Some(orig) = fb.cell(row, col) {
                cell.original_contents.push(orig.clone());
            }
        }
        self.stats.predicted_keys += 1;
        let c = self.cursor_mut();
        c.timing.expire(frame, now);
        if c.col + 1 < width {
            c.col += 1;
        } else {
            self.become_tentative();
            self.newline_carriage_return(fb, now);
        }
    }

    fn backspace<S: PredictScreen<Cell = C>>(&mut self, fb: &S, now: Instant) {
        let width = fb.width();
        let (row, col) = self.cursor_pos();
        if col == 0 || row >= fb.height() {
            return;
        }
        let frame = self.frame_sent + 1;
        let epoch = self.prediction_epoch;
        let fresh = self.fresh();
        let c = self.cursor_mut();
        c.col -= 1;
        c.timing.expire(frame, now);
        let col = col - 1;
        let ri = self.row_index(row, width);
        let cells = &mut self.rows[ri].cells;
        if self.config.overwrite {
            if let Some(cell) = cells.get_mut(col) {
                cell.reset_with_orig();
                cell.activate(epoch, frame, now, fresh);
                let orig = fb.cell(row, col).cloned().unwrap_or_else(C::blank);
                cell.replacement = orig.clone();
                cell.replacement.set_char(' ');
                cell.original_contents.push(orig);
            }
        } else {
            // Delete: shift the predicted row left by one.
            for i in col..width {
                let next = if i + 2 < width {
                    cells
                        .get(i + 1)
                        .map(|n| (n.timing.active, n.unknown, n.replacement.clone()))
                } else {
                    None
                };
                let Some(cell) = cells.get_mut(i) else {
                    continue;
                };
                cell.reset_with_orig();
                cell.activate(epoch, frame, now, fresh);
                if let Some(orig) = fb.cell(row, i) {
                    cell.original_contents.push(orig.clone());
                }
                match next {
                    Some((true, true, _)) | None => cell.unknown = true,
                    Some((true, false, repl)) => {
                        cell.unknown = false;
                        cell.replacement = repl;
                    }
                    Some((false, _, _)) => match fb.cell(row, i + 1) {
                        Some(actual) => {
                            cell.unknown = false;
                            cell.replacement = actual.clone();
                        }
                        None => cell.unknown = true,
                    },
                }
            }
        }
        self.stats.predicted_keys += 1;
    }

    fn newline_carriage_return<S: PredictScreen<Cell = C>>(&mut self, fb: &S, now: Instant) {
        self.init_cursor(fb);
        let height = fb.height();
        let width = fb.width();
        let epoch = self.prediction_epoch;
        let frame = self.frame_sent + 1;
        let c = self.cursor_mut();
        c.col = 0;
        if c.row + 1 >= height {
            // A scroll is not predicted; the new bottom row is predicted blank.
            let row = c.row;
            let ri = self.row_index(row, width);
            for cell in &mut self.rows[ri].cells {
                cell.timing.active = true;
                cell.timing.tentative_until_epoch = epoch;
                cell.timing.expire(frame, now);
                cell.replacement.clear_contents();
            }
        } else {
            c.row += 1;
        }
    }

    /// Discards the tentative predictions of `epoch` and later, and
    /// re-anchors the cursor prediction at the server's cursor.
    fn kill_epoch<S: PredictScreen<Cell = C>>(&mut self, epoch: u64, fb: &S, now: Instant) {
        let keep_below = epoch.saturating_sub(1);
        self.mark_unpredicted(self.last_input_frame);
        self.cursors.retain(|c| !c.timing.tentative(keep_below));
        let (row, col) = fb.cursor();
        self.cursors.push(CursorMove::new(
            self.frame_sent + 1,
            row,
            col,
            self.prediction_epoch,
        ));
        for r in &mut self.rows {
            for cell in &mut r.cells {
                if cell.timing.tentative(keep_below) {
                    cell.reset();
                }
            }
        }
        if self.anchor.as_ref().is_some_and(|a| a.epoch >= epoch) {
            self.anchor = None;
        }
        self.become_tentative();
        if self.rmosh() {
            self.replay_in_flight(fb, now);
        }
    }

    /// After a hidden misprediction the cursor is re-anchored at the
    /// server's cursor, which lacks the keys still in flight: predictions
    /// made from there land short, are judged wrong and kill the next
    /// epoch too, for as long as the user keeps typing (issue #21). When
    /// every key the frame does not reflect is a plain printable one, their
    /// echo is predicted again on the newest screen, from where they land.
    fn replay_in_flight<S: PredictScreen<Cell = C>>(&mut self, fb: &S, now: Instant) {
        let covered = self.screen_covers;
        let keys: Vec<(u64, char)> = self
            .in_flight
            .iter()
            .filter(|(f, _)| *f > covered)
            .map_while(|&(f, k)| match k {
                Key::Print(ch) if is_narrow(ch) => Some((f, ch)),
                _ => None,
            })
            .collect();
        let newer = self.in_flight.iter().filter(|(f, _)| *f > covered).count();
        if keys.is_empty() || keys.len() != newer {
            return;
        }
        // Every key after `covered` has its effect predicted again.
        self.unpredicted_frame = self.unpredicted_frame.min(covered);
        self.unpredicted.retain(|&u| u <= covered);
        let frame_sent = self.frame_sent;
        for (frame, ch) in keys {
            self.frame_sent = frame - 1;
            self.print(ch, fb, now);
        }
        self.frame_sent = frame_sent;
    }

    /// Judges the predictions against the newest server frame (call before
    /// every [`apply`](Self::apply) and whenever the echo ack changes).
    pub fn cull<S: PredictScreen<Cell = C>>(&mut self, fb: &S, now: Instant) {
        if self.config.display == DisplayPreference::Never {
            return;
        }
        let size = (fb.height(), fb.width());
        if self.last_size != Some(size) {
            self.last_size = Some(size);
            self.reset();
        }
        let active = self.active();
        self.triggers.update(self.send_interval, active);
        while self
            .in_flight
            .front()
            .is_some_and(|&(f, _)| f <= self.screen_covers)
        {
            self.in_flight.pop_front();
        }

        if self.rmosh() {
            if self.cooked.judge(fb, self.late_acked) {
                // Enter had an effect beyond the newline: typing from now on
                // starts a hidden epoch (what was shown is judged as usual).
                self.become_tentative();
            } else {
                self.confirm_harmless_enter_epoch();
            }
        }
        let height = fb.height();
        self.rows.retain(|r| r.row < height);
        let experimental = self.experimental();
        for ri in 0..self.rows.len() {
            let row = self.rows[ri].row;
            for ci in 0..self.rows[ri].cells.len() {
                let mut verdict = self.rows[ri].cells[ci].validity(fb, row, self.late_acked);
                let timing = self.rows[ri].cells[ci].timing.clone();
                if verdict == Validity::Pending
                    && self.rmosh()
                    && self.frame_acked >= timing.expiration_frame
                    && self.rows[ri].cells[ci].validity(fb, row, u64::MAX) == Validity::Correct
                {
                    // The server has the key and its screen already shows the
                    // echo: that is the evidence Mosh waits for the echo ack
                    // to judge (the ack only matters to call a guess wrong).
                    verdict = Validity::Correct;
                }
                match verdict {
                    Validity::IncorrectOrExpired | Validity::Correct | Validity::Pending
                        if self.ambiguous(timing.expiration_frame) =>
                    {
                        self.rows[ri].cells[ci].reset();
                    }
                    Validity::IncorrectOrExpired => {
                        if timing.tentative(self.confirmed_epoch) {
                            self.stats.hidden_mispredictions += 1;
                            if experimental {
                                self.rows[ri].cells[ci].reset();
                            } else {
                                self.kill_epoch(timing.tentative_until_epoch, fb, now);
                            }
                        } else {
                            if self.displaying() {
                                self.stats.shown_mispredictions += 1;
                            }
                            if let Some((e, prompt)) = self.early_anchor.take() {
                                if e <= timing.tentative_until_epoch {
                                    self.evidence.disprove(&prompt);
                                } else {
                                    self.early_anchor = Some((e, prompt));
                                }
                            }
                            if experimental {
                                self.rows[ri].cells[ci].reset();
                            } else {
                                self.reset();
                                return;
                            }
                        }
                    }
                    Validity::Correct if !timing.fresh => {
                        self.rows[ri].cells[ci].reset();
                    }
                    Validity::Correct => {
                        self.stats.confirmed += 1;
                        let epoch = timing.tentative_until_epoch;
                        if let Some(a) = self.anchor.take_if(|a| a.epoch == epoch) {
                            // Typing after this prompt was echoed: remember it.
                            if row_shows_prompt(fb, a.row, a.col, &a.prompt) {
                                self.evidence.prove(a.prompt);
                            }
                        }
                        if epoch > self.confirmed_epoch {
                            self.confirmed_epoch = epoch;
                        }
                        if let Some(made) = timing.prediction_time {
                            self.triggers.confirmed(made, now);
                        }
                        // The rest of the row takes the renditions the server used.
                        if let Some(actual) = fb.cell(row, ci) {
                            let rend = actual.renditions().clone();
                            for k in self.rows[ri].cells.iter_mut().skip(ci) {
                                k.replacement.set_renditions(rend.clone());
                            }
                        }
                        self.rows[ri].cells[ci].reset();
                    }
                    Validity::CorrectNoCredit => self.rows[ri].cells[ci].reset(),
                    Validity::Pending => {
                        if let Some(made) = timing.prediction_time {
                            self.triggers.pending(made, now);
                        }
                    }
                    Validity::Inactive => {}
                }
            }
        }

        if let Some(last) = self.cursors.last()
            && last.validity(fb, self.late_acked) == Validity::IncorrectOrExpired
            && !self.ambiguous(last.timing.expiration_frame)
        {
            if last.timing.tentative(self.confirmed_epoch) {
                self.stats.hidden_mispredictions += 1;
            } else if self.displaying() {
                self.stats.shown_mispredictions += 1;
            }
            if experimental {
                self.cursors.clear();
            } else {
                self.reset();
                return;
            }
        }
        let late_acked = self.late_acked;
        let cursors = std::mem::take(&mut self.cursors);
        self.cursors = cursors
            .into_iter()
            .filter(|c| {
                c.validity(fb, late_acked) == Validity::Pending
                    && !self.ambiguous(c.timing.expiration_frame)
            })
            .collect();
        if self.rmosh() {
            self.confirm_anchor_if_settled(fb);
        }
        let late_acked = self.late_acked;
        self.unpredicted.retain(|&u| u > late_acked);
    }

    /// Draws the shown predictions over `fb` (a copy of the server's frame).
    pub fn apply<S: PredictScreen<Cell = C>>(&self, fb: &mut S) {
        if !self.displaying() {
            return;
        }
        for c in &self.cursors {
            c.apply(fb, self.confirmed_epoch);
        }
        for r in &self.rows {
            for cell in &r.cells {
                cell.apply(fb, r.row, self.confirmed_epoch, self.triggers.flagging);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_grid::{Grid, GridCell};
    use super::*;

    /// One client with a hand-driven server screen.
    struct Rig {
        e: PredictionEngine<GridCell>,
        fb: Grid,
        now: Instant,
        sent: u64,
    }

    impl Rig {
        fn new(display: DisplayPreference, policy: Policy) -> Self {
            Self::with(PredictionConfig {
                display,
                overwrite: false,
                policy,
            })
        }

        fn with(config: PredictionConfig) -> Self {
            let mut fb = Grid::new(4, 10);
            fb.type_str("$ ");
            let mut e = PredictionEngine::new(config);
            let now = Instant::now();
            e.set_send_interval(125);
            e.cull(&fb, now);
            Self {
                e,
                fb,
                now,
                sent: 0,
            }
        }

        /// The user types `s` in one read; it goes out as the next state.
        fn typed(&mut self, s: &str) {
            self.e.set_frame_sent(self.sent);
            self.e.new_user_input(s.as_bytes(), &self.fb, self.now);
            self.sent += 1;
        }

        fn later(&mut self, ms: u64) {
            self.now += Duration::from_millis(ms);
        }

        /// A server frame arrives with echo ack `ack`.
        fn frame(&mut self, ack: u64) {
            self.e.set_echo_ack(ack);
            self.e.cull(&self.fb, self.now);
        }

        /// The next frame is made once the server has client state `n`.
        fn covers(&mut self, n: u64) {
            self.e.set_screen_covers(n);
        }

        fn shown(&self) -> Grid {
            let mut g = self.fb.clone();
            self.e.apply(&mut g);
            g
        }
    }

    fn rig() -> Rig {
        Rig::new(DisplayPreference::Always, Policy::Rmosh)
    }

    fn mosh() -> Rig {
        Rig::new(DisplayPreference::Always, Policy::MoshCompatible)
    }

    /// Issue #21, first cause: Enter's echo ack arrives after the new
    /// prompt. A key typed in that gap was predicted where Enter's cursor
    /// guess put it (column 0 of the row below), while the command's output
    /// had moved the prompt further down: a certain hidden misprediction,
    /// and the line stayed hidden until its first echo.
    #[test]
    fn first_key_after_enter_lands_after_the_new_prompt_below_the_output() {
        let mut r = rig();
        r.typed("l");
        r.fb.type_str("l");
        r.covers(1);
        r.frame(1);
        r.typed("\r");
        // The server ran the command: a line of output, then the prompt;
        // the frame reflects the Enter but the echo ack does not cover it.
        r.fb.cursor = (1, 0);
        r.fb.type_str("ran 1");
        r.fb.cursor = (2, 0);
        r.fb.type_str("$ ");
        r.covers(2);
        r.frame(1);
        r.typed("x");
        assert_eq!(
            r.shown().text(2),
            "$",
            "hidden until the Enter is echo-acked"
        );
        r.frame(2);
        assert_eq!(r.shown().text(2), "$ x", "shown at the proven prompt");
        assert_eq!(r.shown().text(1), "ran 1", "nothing drawn over the output");
        r.typed("y");
        assert_eq!(r.shown().text(2), "$ xy");
        assert_eq!(r.e.stats().hidden_mispredictions, 0);
    }

    /// Issue #21, second cause: after a hidden misprediction the cursor was
    /// re-anchored at the server's cursor, which lacks the keys still in
    /// flight; every later guess landed short, was judged wrong and killed
    /// the next epoch, for as long as the user kept typing.
    #[test]
    fn a_hidden_misprediction_replays_the_keys_still_in_flight() {
        let mut r = rig();
        r.typed("\t");
        r.typed("b");
        r.typed("c");
        r.typed("d");
        // Tab completed "f ", then "b" was echoed after it.
        r.fb.type_str("f b");
        r.covers(2);
        r.frame(2);
        assert_eq!(
            r.e.stats().hidden_mispredictions,
            1,
            "b guessed at column 2"
        );
        assert_eq!(r.shown().text(0), "$ f b", "c and d stay hidden");
        r.fb.type_str("cd");
        r.covers(4);
        r.frame(4);
        r.typed("e");
        assert_eq!(r.shown().text(0), "$ f bcde", "trusted again at once");
        assert_eq!(r.e.stats().hidden_mispredictions, 1);
    }

    #[test]
    fn first_epoch_is_hidden_until_the_server_echoes_it() {
        let mut r = mosh();
        r.typed("l");
        assert_eq!(r.shown().text(0), "$", "tentative: not drawn");
        r.fb.type_str("l");
        r.frame(1);
        assert_eq!(r.e.stats().confirmed, 1);
        r.typed("s");
        assert_eq!(r.shown().text(0), "$ ls", "epoch confirmed: shown at once");
        assert_eq!(r.shown().cursor, (0, 4));
    }

    #[test]
    fn never_predicts_nothing() {
        let mut r = Rig::new(DisplayPreference::Never, Policy::Rmosh);
        r.typed("l");
        r.fb.type_str("l");
        r.frame(1);
        r.typed("s");
        assert_eq!(r.shown().text(0), "$ l");
        assert!(!r.e.active());
        assert_eq!(r.e.stats().predicted_keys, 0);
    }

    #[test]
    fn adaptive_shows_only_on_a_slow_link() {
        let mut r = Rig::new(DisplayPreference::Adaptive, Policy::MoshCompatible);
        r.e.set_send_interval(20);
        r.typed("l");
        r.fb.type_str("l");
        r.frame(1);
        r.typed("s");
        assert_eq!(r.shown().text(0), "$ l", "fast link: not shown");
        r.e.set_send_interval(31);
        r.frame(1);
        assert_eq!(r.shown().text(0), "$ ls", "SRTT trigger on");
        assert!(!r.e.flagging());
    }

    #[test]
    fn adaptive_glitch_trigger_shows_a_prediction_pending_250_ms() {
        let mut r = Rig::new(DisplayPreference::Adaptive, Policy::MoshCompatible);
        r.e.set_send_interval(20);
        r.typed("l");
        r.fb.type_str("l");
        r.frame(1);
        r.typed("s");
        r.later(249);
        r.frame(1);
        assert_eq!(r.shown().text(0), "$ l");
        r.later(1);
        r.frame(1);
        assert_eq!(r.shown().text(0), "$ ls", "glitch trigger on");
    }

    #[test]
    fn slow_link_underlines_unconfirmed_predictions() {
        let mut r = mosh();
        r.e.set_send_interval(81);
        r.typed("l");
        r.fb.type_str("l");
        r.frame(1);
        r.typed("s");
        let g = r.shown();
        assert!(r.e.flagging());
        assert!(g.underlined(0, 3));
        assert!(!g.underlined(0, 2), "the server's own cell is untouched");
    }

    #[test]
    fn wrong_shown_prediction_resets_and_is_counted() {
        let mut r = mosh();
        r.typed("l");
        r.fb.type_str("l");
        r.frame(1);
        r.typed("s");
        r.fb.type_str("x");
        r.frame(2);
        assert_eq!(r.e.stats().shown_mispredictions, 1);
        assert!(!r.e.active());
        assert_eq!(r.shown().text(0), "$ lx");
    }

    #[test]
    fn wrong_hidden_prediction_kills_only_its_epoch_and_stays_hidden() {
        let mut r = mosh();
        r.typed("p");
        r.typed("w");
        r.frame(2);
        let s = r.e.stats();
        assert_eq!((s.shown_mispredictions, s.hidden_mispredictions), (0, 1));
        r.typed("x");
        assert_eq!(r.shown().text(0), "$", "new epoch, still hidden");
        assert_eq!(r.shown().cursor, (0, 2));
    }

    #[test]
    fn backspace_shifts_the_row_left_in_insert_mode() {
        let mut r = mosh();
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        // Screen "$ abc" with the cursor on the c: DEL deletes the b.
        r.fb.type_str("bc");
        r.fb.cursor = (0, 4);
        r.typed("\x7f");
        assert_eq!(r.shown().text(0), "$ ac");
        assert_eq!(r.shown().cursor, (0, 3));
    }

    #[test]
    fn typing_inserts_and_overwrite_replaces() {
        for (overwrite, want) in [(false, "$ xab"), (true, "$ xb")] {
            let mut r = Rig::with(PredictionConfig {
                display: DisplayPreference::Always,
                overwrite,
                policy: Policy::MoshCompatible,
            });
            r.typed("q");
            r.fb.type_str("q");
            r.frame(1);
            r.fb = Grid::new(4, 10);
            r.fb.type_str("$ ab");
            r.fb.cursor = (0, 2);
            r.typed("x");
            assert_eq!(r.shown().text(0), want, "overwrite={overwrite}");
        }
    }

    #[test]
    fn overwrite_backspace_blanks_the_cell() {
        let mut r = Rig::with(PredictionConfig {
            display: DisplayPreference::Always,
            overwrite: true,
            policy: Policy::MoshCompatible,
        });
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.fb.type_str("b");
        r.typed("\x7f");
        assert_eq!(r.shown().text(0), "$ a");
        assert_eq!(r.shown().cursor, (0, 3));
    }

    #[test]
    fn arrows_move_the_predicted_cursor() {
        let mut r = mosh();
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.typed("\x1b[D");
        assert_eq!(r.shown().cursor, (0, 2));
        r.typed("\x1bOC");
        assert_eq!(r.shown().cursor, (0, 3));
    }

    #[test]
    fn rmosh_does_not_predict_modified_arrows_or_moves_past_the_text() {
        let mut m = mosh();
        let mut r = rig();
        for x in [&mut m, &mut r] {
            x.typed("ab");
            x.fb.type_str("ab");
            x.frame(1);
            x.typed("\x1b[1;5D");
        }
        assert_eq!(m.shown().cursor, (0, 3), "Mosh moves one column");
        assert_eq!(r.shown().cursor, (0, 4), "rmosh: unknown, not shown");
        let mut r = rig();
        r.typed("ab");
        r.fb.type_str("ab");
        r.frame(1);
        r.typed("\x1b[C");
        assert_eq!(
            r.shown().cursor,
            (0, 4),
            "nothing to the right to move over"
        );
    }

    #[test]
    fn enter_starts_a_hidden_epoch_on_the_next_row() {
        let mut r = mosh();
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.typed("\rb");
        let g = r.shown();
        assert_eq!(g.text(1), "", "after Enter: tentative");
        assert_eq!(g.cursor, (0, 3));
    }

    #[test]
    fn enter_on_the_bottom_row_predicts_a_blank_row() {
        let mut r = mosh();
        r.fb.cursor = (3, 0);
        r.fb.type_str("> ");
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.e.confirmed_epoch = r.e.prediction_epoch + 1;
        r.typed("\r");
        let g = r.shown();
        assert_eq!(g.text(3), "");
        assert_eq!(g.cursor, (3, 0));
    }

    #[test]
    fn the_last_column_starts_a_hidden_epoch() {
        let mut r = mosh();
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.fb.type_str("bcdef");
        r.fb.cursor = (0, 8);
        r.typed("gh");
        let g = r.shown();
        assert_eq!(g.text(0), "$ abcdefg", "h in the last column is hidden");
    }

    #[test]
    fn wide_characters_are_not_predicted() {
        let mut r = mosh();
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.typed("中b");
        assert_eq!(r.shown().text(0), "$ a");
    }

    #[test]
    fn pastes_are_not_predicted_and_reset_everything() {
        let mut r = mosh();
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.typed("b");
        assert!(r.e.active());
        r.typed(&"x".repeat(101));
        assert!(!r.e.active());
        assert_eq!(r.shown().text(0), "$ a");
        r.typed(&"y".repeat(100));
        assert!(r.e.active(), "100 bytes is still typing");
    }

    #[test]
    fn a_resize_resets_predictions() {
        let mut r = mosh();
        r.typed("a");
        assert!(r.e.active());
        r.fb = Grid::new(5, 10);
        r.frame(0);
        assert!(!r.e.active());
    }

    #[test]
    fn wakes_every_50_ms_while_a_trigger_is_armed() {
        let mut r = mosh();
        assert_eq!(r.e.wake_deadline(r.now), None);
        r.typed("a");
        assert_eq!(r.e.wake_deadline(r.now), Some(r.now + WAKE_INTERVAL));
        r.e.triggers.glitch = 20;
        r.e.triggers.flagging = true;
        assert_eq!(r.e.wake_deadline(r.now), None, "all triggers fired");
    }

    #[test]
    fn experimental_shows_at_once_and_clears_only_the_wrong_cell() {
        let mut r = Rig::new(DisplayPreference::Experimental, Policy::MoshCompatible);
        r.typed("ab");
        assert_eq!(r.shown().text(0), "$ ab");
        r.fb.type_str("a");
        r.fb.type_str("z");
        r.frame(1);
        assert_eq!(r.e.stats().shown_mispredictions, 1);
        assert_eq!(r.shown().text(0), "$ az");
    }

    /// Confirms the line's first epoch at the "$ " prompt and moves to a new line.
    fn prove_prompt(r: &mut Rig) {
        r.typed("a");
        r.fb.type_str("a");
        r.frame(r.sent);
        r.typed("\r");
        r.fb.cursor = (1, 0);
        r.fb.type_str("$ ");
        r.later(300);
        r.frame(r.sent);
    }

    #[test]
    fn a_proven_prompt_shows_the_first_key_of_a_line_at_once() {
        let mut r = rig();
        prove_prompt(&mut r);
        r.typed("l");
        assert_eq!(r.shown().text(1), "$ l");
        assert_eq!(r.e.stats().early_confirmations, 1);
        let mut m = mosh();
        prove_prompt(&mut m);
        m.typed("l");
        assert_eq!(m.shown().text(1), "$", "Mosh waits for the echo");
    }

    #[test]
    fn an_unproven_prompt_stays_hidden() {
        let mut r = rig();
        prove_prompt(&mut r);
        r.typed("pw\r");
        r.fb.type_str("pw");
        r.fb.cursor = (2, 0);
        r.fb.type_str("Password: ");
        r.frame(r.sent);
        r.typed("s");
        r.typed("e");
        assert_eq!(r.shown().text(2), "Password:");
        r.frame(r.sent);
        r.typed("c");
        assert_eq!(r.shown().text(2), "Password:");
        assert_eq!(r.e.stats().shown_mispredictions, 0);
    }

    #[test]
    fn a_prompt_is_trusted_only_once_earlier_keys_are_echo_acked() {
        let mut r = rig();
        prove_prompt(&mut r);
        // Up arrow (unpredictable) then a key: the screen may be stale.
        r.typed("\x1b[A");
        r.typed("x");
        assert_eq!(r.shown().text(1), "$");
        r.frame(r.sent - 1);
        assert_eq!(r.shown().text(1), "$ x", "up arrow acked, prompt unchanged");
    }

    #[test]
    fn a_key_that_changed_the_prompt_line_cancels_the_early_show() {
        let mut r = rig();
        prove_prompt(&mut r);
        r.typed("\x12"); // Ctrl-R: bash replaces the line
        r.typed("x");
        r.fb.rows[1] = Grid::new(1, 10).rows[0].clone();
        r.fb.cursor = (1, 0);
        r.fb.type_str("(rev)`': ");
        r.frame(r.sent - 1);
        assert_eq!(r.shown().text(1), "(rev)`':");
        assert_eq!(r.e.stats().early_confirmations, 0);
    }

    #[test]
    fn typing_right_after_enter_shows_once_enter_is_echo_acked() {
        let mut r = rig();
        prove_prompt(&mut r);
        r.typed("ls");
        r.fb.type_str("ls");
        r.frame(r.sent);
        r.typed("\r");
        // The new prompt is on screen, but Enter is not echo-acked yet.
        r.fb.cursor = (2, 0);
        r.fb.type_str("$ ");
        r.frame(r.sent - 1);
        r.typed("p");
        assert_eq!(r.shown().text(2), "$", "hidden until Enter is acked");
        r.frame(r.sent - 1);
        let g = r.shown();
        assert_eq!(g.text(2), "$ p", "typed after the prompt, not at column 0");
        assert_eq!(g.cursor, (2, 3));
        assert_eq!(r.e.stats().early_confirmations, 2);
    }

    #[test]
    fn enter_on_the_bottom_row_then_typing_at_the_new_prompt() {
        let mut r = rig();
        r.fb = Grid::new(2, 10);
        r.fb.cursor = (1, 0);
        r.fb.type_str("$ ");
        r.frame(0);
        r.typed("a");
        r.fb.type_str("a");
        r.frame(r.sent);
        r.typed("\r");
        // Scrolled: the new prompt on the bottom row.
        r.fb.rows[0] = r.fb.rows[1].clone();
        r.fb.rows[1] = Grid::new(1, 10).rows[0].clone();
        r.fb.cursor = (1, 0);
        r.fb.type_str("$ ");
        r.typed("b");
        r.frame(r.sent - 1);
        let g = r.shown();
        assert_eq!(g.text(1), "$ b", "the blank-row guess for Enter is dropped");
        assert_eq!(r.e.stats().shown_mispredictions, 0);
    }

    #[test]
    fn a_prompt_that_fails_once_is_no_longer_trusted() {
        let mut r = rig();
        prove_prompt(&mut r);
        r.typed("l");
        assert_eq!(r.shown().text(1), "$ l");
        r.frame(r.sent); // no echo: the prompt lied
        assert_eq!(r.e.stats().shown_mispredictions, 1);
        r.typed("m");
        assert_eq!(r.shown().text(1), "$", "evidence withdrawn");
    }

    #[test]
    fn backspace_and_left_stop_at_the_start_of_the_input() {
        let mut r = rig();
        prove_prompt(&mut r);
        r.typed("l");
        r.typed("\x7f");
        assert_eq!(r.shown().cursor, (1, 2));
        r.typed("\x7f");
        assert_eq!(r.shown().text(1), "$", "the prompt is not erased");
        assert_eq!(r.shown().cursor, (1, 2));
        let mut m = mosh();
        m.typed("a");
        m.fb.type_str("a");
        m.frame(1);
        m.typed("\x7f\x7f");
        assert_eq!(m.shown().text(0), "$", "Mosh erases the prompt's space");
        assert_eq!(m.shown().cursor, (0, 1));
    }

    #[test]
    fn a_match_on_a_stale_screen_does_not_confirm() {
        let mut r = rig();
        r.typed("\t"); // Tab: its effect is unknown
        r.typed("b");
        // The server shows "b" where it was predicted, but the frame's echo
        // ack does not cover the Tab the prediction was made without.
        r.fb.type_str("b");
        r.e.set_echo_ack(0);
        r.e.set_frame_acked(0);
        r.e.rows[0].cells[2].timing.expiration_frame = 0;
        r.e.cull(&r.fb, r.now);
        assert_eq!(r.e.stats().confirmed, 0, "stale: no credit");
        let mut m = mosh();
        m.typed("\t");
        m.typed("b");
        m.fb.type_str("b");
        m.e.rows[0].cells[2].timing.expiration_frame = 0;
        m.e.cull(&m.fb, m.now);
        assert_eq!(m.e.stats().confirmed, 1, "Mosh takes the coincidence");
    }

    #[test]
    fn a_frame_showing_a_later_unpredicted_key_judges_nothing_before_it() {
        let mut r = rig();
        prove_prompt(&mut r);
        r.typed("v");
        assert_eq!(r.shown().text(1), "$ v");
        r.typed("\r");
        // The server got Enter (acked) and cleared the screen; the echo ack
        // only covers "v". The "v" guess is dropped, not called wrong.
        r.fb = Grid::new(4, 10);
        r.fb.type_str("~");
        r.e.set_frame_acked(r.sent);
        r.frame(r.sent - 1);
        assert_eq!(r.e.stats().shown_mispredictions, 0);
        assert_eq!(r.shown().text(1), "");
        assert_eq!(r.shown().text(0), "~");
    }

    #[test]
    fn a_lone_escape_at_the_end_of_a_read_starts_a_new_epoch() {
        let mut r = rig();
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.typed("\x1b");
        r.typed("b");
        assert_eq!(r.shown().text(0), "$ a", "after ESC: hidden");
        let mut m = mosh();
        m.typed("a");
        m.fb.type_str("a");
        m.frame(1);
        m.typed("\x1b");
        m.typed("[C");
        assert_eq!(
            m.e.prediction_epoch, m.e.confirmed_epoch,
            "split arrow, Mosh"
        );
    }

    #[test]
    fn edges_of_a_proven_line_are_predicted_as_staying_put() {
        let mut r = rig();
        prove_prompt(&mut r);
        r.typed("\x7f");
        r.typed("\x1bOD");
        r.typed("l");
        assert_eq!(r.shown().text(1), "$ l", "still shown at once");
        r.typed("\x1bOC");
        r.typed("s");
        assert_eq!(r.shown().text(1), "$ ls");
        assert_eq!(r.shown().cursor, (1, 4));
    }

    #[test]
    fn an_echo_on_screen_confirms_before_the_echo_ack() {
        let mut r = rig();
        r.typed("a");
        r.fb.type_str("a");
        r.e.set_frame_acked(1);
        r.frame(0);
        assert_eq!(r.e.stats().confirmed, 1, "echo visible, key received");
        r.typed("b");
        assert_eq!(r.shown().text(0), "$ ab");
        let mut m = mosh();
        m.typed("a");
        m.fb.type_str("a");
        m.e.set_frame_acked(1);
        m.frame(0);
        assert_eq!(m.e.stats().confirmed, 0, "Mosh waits for the echo ack");
        let mut r = rig();
        r.typed("a");
        r.fb.type_str("a");
        r.frame(0);
        assert_eq!(
            r.e.stats().confirmed,
            0,
            "not before the server has the key"
        );
    }

    /// A cooked-echo pty (`cat`): the server's screen starts empty.
    fn cooked_rig() -> Rig {
        let mut r = rig();
        r.fb = Grid::new(4, 10);
        r.e.set_cooked_echo(true);
        r.frame(0);
        r
    }

    /// The kernel echoes Enter as CR LF.
    fn echo_newline(fb: &mut Grid) {
        fb.cursor = (fb.cursor.0 + 1, 0);
    }

    #[test]
    fn cooked_echo_trusts_enter_once_one_was_harmless() {
        let mut r = cooked_rig();
        r.typed("a");
        assert_eq!(r.shown().text(0), "", "a new session starts hidden");
        r.fb.type_str("a");
        r.frame(1);
        r.typed("\r");
        r.typed("b");
        assert_eq!(r.shown().text(1), "", "the first Enter is not trusted");
        echo_newline(&mut r.fb);
        r.fb.type_str("b");
        r.frame(3);
        assert_eq!(r.shown().text(1), "b");
        // That Enter left nothing but the newline: the next one is trusted,
        // though its newline alone is not drawn (a prompt may answer it).
        r.typed("\r");
        assert_eq!(r.shown().cursor, (1, 1));
        r.typed("c");
        let g = r.shown();
        assert_eq!(g.text(2), "c", "shown at once after a trusted Enter");
        assert_eq!(g.cursor, (2, 1));
        echo_newline(&mut r.fb);
        r.fb.type_str("c");
        r.frame(5);
        assert_eq!(r.e.stats().shown_mispredictions, 0);
    }

    #[test]
    fn without_the_servers_cooked_echo_report_enter_starts_a_hidden_epoch() {
        let mut r = cooked_rig();
        r.e.set_cooked_echo(false);
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        for (i, k) in ["\r", "b", "\r", "c"].iter().enumerate() {
            r.typed(k);
            if *k == "\r" {
                echo_newline(&mut r.fb);
            } else {
                assert_eq!(r.shown().text(r.fb.cursor.0), "", "key {i} hidden");
                r.fb.type_str(k);
            }
            r.frame(r.sent);
        }
    }

    /// `read name; read -s -p 'Pass: ' pw` after a harmless line: the
    /// password, typed once the prompt is on screen, is never drawn.
    #[test]
    fn password_typed_after_the_prompt_is_never_drawn_even_after_trusted_enters() {
        let mut r = cooked_rig();
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.typed("\r");
        echo_newline(&mut r.fb);
        r.frame(2);
        r.typed("b");
        r.fb.type_str("b");
        r.frame(3);
        // Trusted Enter: the application prints a prompt and turns echo off.
        r.typed("\r");
        echo_newline(&mut r.fb);
        r.fb.type_str("Pass: ");
        r.e.set_cooked_echo(false);
        r.frame(3);
        for k in "secret".chars() {
            r.typed(&k.to_string());
            let g = r.shown();
            assert_eq!(g.text(2), "Pass:", "after {k:?}");
            assert_eq!(g.text(3), "", "after {k:?}");
            r.later(300);
            r.frame(r.sent);
        }
    }

    /// sudo: a command typed at a line editor (no cooked echo), Enter, the
    /// shell restores cooked mode (reported) before sudo turns echo off and
    /// prints its prompt; a password typed before or after the prompt is
    /// never drawn.
    #[test]
    fn sudo_like_password_is_never_drawn() {
        let mut r = rig();
        r.fb.type_str("sudo ls");
        r.frame(0);
        r.typed("\r");
        echo_newline(&mut r.fb);
        r.e.set_cooked_echo(true);
        r.frame(1);
        // Typed ahead while sudo starts up, in cooked-echo mode.
        r.typed("p");
        assert!(!r.shown().text(1).contains('p'));
        r.fb.type_str("[sudo]: ");
        r.e.set_cooked_echo(false);
        r.frame(2);
        for k in ["w", "d", "\r"] {
            r.typed(k);
            let g = r.shown();
            assert_eq!(g.text(1), "[sudo]:", "nothing drawn after the prompt");
            r.later(300);
            r.frame(r.sent);
        }
        assert_eq!(r.e.stats().shown_mispredictions, 0);
    }

    #[test]
    fn enter_on_the_bottom_row_is_never_trusted() {
        let mut r = cooked_rig();
        r.fb.cursor = (2, 0);
        r.typed("a");
        r.fb.type_str("a");
        r.frame(1);
        r.typed("\r");
        r.typed("b");
        assert_eq!(r.shown().text(3), "", "first Enter: hidden");
        echo_newline(&mut r.fb);
        r.frame(2);
        assert_eq!(r.shown().text(3), "b", "the Enter proved harmless");
        r.fb.type_str("b");
        r.frame(3);
        r.typed("\r");
        r.typed("c");
        assert!(
            !r.shown().text(3).contains('c'),
            "a scroll is not predicted"
        );
    }
}
