//! The terminal emulator, its framebuffer and the display diff (pure).
