//! The prediction hook between the session and the renderer: everything
//! the session tells the local-echo engine (`src/prediction/`), and the
//! overlay it draws over a copy of the server's screen.

use std::time::Instant;

use crate::prediction::{PredictionConfig, PredictionEngine};
use crate::terminal::{Cell, Framebuffer};

/// The client's local-echo predictions.
#[derive(Debug)]
pub struct Predictor {
    engine: PredictionEngine<Cell>,
}

impl Predictor {
    /// A predictor configured from `MOSH_PREDICTION_DISPLAY`/`_OVERWRITE`.
    pub fn new(config: PredictionConfig) -> Predictor {
        Predictor {
            engine: PredictionEngine::new(config),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> PredictionConfig {
        self.engine.config()
    }

    /// Newest client state already sent (before new input is read).
    pub fn set_frame_sent(&mut self, n: u64) {
        self.engine.set_frame_sent(n);
    }

    /// Newest client state the server acknowledged.
    pub fn set_frame_acked(&mut self, n: u64) {
        self.engine.set_frame_acked(n);
    }

    /// Newest client state the server had when it made the newest frame.
    pub fn set_screen_covers(&mut self, n: u64) {
        self.engine.set_screen_covers(n);
    }

    /// The server's echo ack.
    pub fn set_echo_ack(&mut self, n: u64) {
        self.engine.set_echo_ack(n);
    }

    /// The server's report that a raw-mode line editor echoes typed keys.
    pub fn set_line_echo(&mut self, on: bool) {
        self.engine.set_line_echo(on);
    }

    /// The server's report that its pty is in cooked-echo mode.
    pub fn set_cooked_echo(&mut self, on: bool) {
        self.engine.set_cooked_echo(on);
    }

    /// The transport's send interval in ms.
    pub fn set_send_interval(&mut self, ms: u64) {
        self.engine.set_send_interval(ms);
    }

    /// Keystrokes the user sent (or a whole paste read, which resets).
    pub fn new_user_input(&mut self, bytes: &[u8], server: &Framebuffer, now: Instant) {
        self.engine.new_user_input(bytes, server, now);
    }

    /// Judges outstanding predictions against the newest server screen.
    pub fn cull(&mut self, server: &Framebuffer, now: Instant) {
        self.engine.cull(server, now);
    }

    /// Draws the predictions over a copy of the server's screen.
    pub fn apply(&self, frame: &mut Framebuffer) {
        self.engine.apply(frame);
    }

    /// When the engine wants to be woken next.
    pub fn wake_deadline(&self, now: Instant) -> Option<Instant> {
        self.engine.wake_deadline(now)
    }

    /// Forgets every prediction (resize, paste).
    pub fn reset(&mut self) {
        self.engine.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prediction::DisplayPreference;
    use crate::terminal::Emulator;

    fn config(display: DisplayPreference) -> PredictionConfig {
        PredictionConfig {
            display,
            ..PredictionConfig::default()
        }
    }

    /// Types "l" (echoed by the server), then "s"; returns the frame the
    /// renderer would show before the server echoes the "s".
    fn typed(display: DisplayPreference) -> (Predictor, Emulator) {
        let mut server = Emulator::new(40, 5);
        server.feed(b"$ ");
        let mut p = Predictor::new(config(display));
        let now = Instant::now();
        p.set_send_interval(125);
        p.cull(server.framebuffer(), now);
        p.set_frame_sent(0);
        p.new_user_input(b"l", server.framebuffer(), now);
        server.feed(b"l");
        p.set_echo_ack(1);
        p.cull(server.framebuffer(), now);
        p.set_frame_sent(1);
        p.new_user_input(b"s", server.framebuffer(), now);
        p.cull(server.framebuffer(), now);
        (p, server)
    }

    fn shown(p: &Predictor, server: &Emulator) -> Framebuffer {
        let mut frame = server.framebuffer().clone();
        p.apply(&mut frame);
        frame
    }

    fn shown_after_typing(display: DisplayPreference) -> Framebuffer {
        let (p, server) = typed(display);
        shown(&p, &server)
    }

    #[test]
    fn always_mode_draws_typed_text_before_the_server_echoes_it() {
        let frame = shown_after_typing(DisplayPreference::Always);
        assert_eq!(frame.row_text(0), "$ ls");
        assert_eq!(frame.cursor(), (0, 4));
    }

    #[test]
    fn never_mode_draws_only_the_server_screen() {
        let frame = shown_after_typing(DisplayPreference::Never);
        assert_eq!(frame.row_text(0), "$ l");
    }

    #[test]
    fn reset_drops_shown_predictions() {
        let (mut p, server) = typed(DisplayPreference::Always);
        assert_eq!(shown(&p, &server).row_text(0), "$ ls");
        p.reset();
        assert_eq!(shown(&p, &server).row_text(0), "$ l");
    }
}
