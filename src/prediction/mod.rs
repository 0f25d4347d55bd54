//! Local echo prediction (pure): an overlay on the server's framebuffer.
