//! The prediction hook between the session and the renderer: everything
//! the session tells the local-echo engine, and the overlay it draws.
//!
//! Until `src/prediction/` can view a `terminal::Framebuffer` (its
//! `PredictScreen` implementation), the overlay is the identity: frames
//! show exactly the server's screen.

use std::time::Instant;

use crate::prediction::PredictionConfig;
use crate::terminal::Framebuffer;

/// The client's local-echo predictions.
#[derive(Debug)]
pub struct Predictor {
    config: PredictionConfig,
}

impl Predictor {
    /// A predictor configured from `MOSH_PREDICTION_DISPLAY`/`_OVERWRITE`.
    pub fn new(config: PredictionConfig) -> Predictor {
        Predictor { config }
    }

    /// The configuration in use.
    pub fn config(&self) -> PredictionConfig {
        self.config
    }

    /// Newest client state already sent (before new input is read).
    pub fn set_frame_sent(&mut self, _n: u64) {}

    /// Newest client state the server acknowledged.
    pub fn set_frame_acked(&mut self, _n: u64) {}

    /// The server's echo ack.
    pub fn set_echo_ack(&mut self, _n: u64) {}

    /// The transport's send interval in ms.
    pub fn set_send_interval(&mut self, _ms: u64) {}

    /// Keystrokes the user sent (or a whole paste read).
    pub fn new_user_input(&mut self, _bytes: &[u8], _server: &Framebuffer, _now: Instant) {}

    /// Judges outstanding predictions against the newest server screen.
    pub fn cull(&mut self, _server: &Framebuffer, _now: Instant) {}

    /// Draws the predictions over a copy of the server's screen.
    pub fn apply(&self, _frame: &mut Framebuffer) {}

    /// When the engine wants to be woken next.
    pub fn wake_deadline(&self, _now: Instant) -> Option<Instant> {
        None
    }

    /// Forgets every prediction (resize, paste).
    pub fn reset(&mut self) {}
}
