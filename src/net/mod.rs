//! tokio UDP drivers around the sans-IO transport core.
