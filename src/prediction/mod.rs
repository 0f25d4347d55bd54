//! Local echo prediction (pure): an overlay on the server's framebuffer.
//!
//! The engine guesses the echo of each keystroke (§9 of the spec), draws the
//! guesses over the newest server frame, and judges them against each later
//! frame and the echo ack. How it improves on Mosh is in docs/prediction.md.

pub mod conditional;
pub mod cooked;
pub mod engine;
pub mod evidence;
pub mod framebuffer;
pub mod keys;
pub mod mode;
pub mod screen;
pub mod triggers;
pub mod width;

#[cfg(test)]
mod test_grid;

pub use engine::{PASTE_BYTES, PredictionEngine, PredictionStats};
pub use mode::{DisplayPreference, Policy, PredictionConfig};
pub use screen::{PredictCell, PredictScreen};
