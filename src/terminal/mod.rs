//! The terminal emulator, its framebuffer and the display diff (pure).
//!
//! * [`parser`]: bytes → actions, Mosh 1.4.0's UTF-8 and DEC-ANSI rules;
//! * [`framebuffer`] and [`cell`]: the screen state;
//! * [`emulator`]: actions applied to the screen ([`Emulator::new`] is
//!   Mosh-exact, [`Emulator::new_server`] is the server's richer one);
//! * [`display`]: the diff between two screens, as escape bytes;
//! * [`keyboard`]: the server's cursor-key translation;
//! * [`width`]: glibc 2.36 `wcwidth`.
//!
//! See docs/terminal.md.

pub mod cell;
pub mod dialect;
pub mod display;
pub mod emulator;
pub mod framebuffer;
pub mod keyboard;
pub mod parser;
pub mod width;
mod width_table;

pub use cell::{Cell, Color, Renditions, Underline};
pub use dialect::Dialect;
pub use display::{DisplayCaps, new_frame};
pub use emulator::Emulator;
pub use framebuffer::{DrawState, Framebuffer, Row};
pub use keyboard::UserInputTranslator;
