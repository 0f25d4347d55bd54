//! The contract between the SSP core and the objects it synchronizes.

use std::fmt;

/// A diff that could not be applied (malformed bytes or an impossible base).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError(pub String);

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot apply diff: {}", self.0)
    }
}

impl std::error::Error for ApplyError {}

/// An object synchronized by SSP (the user stream or the complete terminal).
///
/// Equality is the synchronization notion of "same state": the SSP sender
/// compares the current object with what it sent, and the receiver never sees
/// anything but diffs.
pub trait State: Clone + PartialEq {
    /// The serialized diff (a `UserMessage` or `HostMessage`) turning `base` into `self`;
    /// empty when they are equal.
    fn diff_from(&self, base: &Self) -> Vec<u8>;

    /// Applies a diff made by `diff_from` on an equal base.
    fn apply(&mut self, diff: &[u8]) -> Result<(), ApplyError>;

    /// Drops what `acked` (a state the peer acknowledged) already holds, e.g.
    /// the acknowledged prefix of the user stream. Most objects do nothing.
    fn subtract(&mut self, _acked: &Self) {}

    /// Heap bytes this state may hold on its own (an upper bound); the
    /// receiver refuses states beyond its byte budget.
    fn held_bytes(&self) -> usize {
        0
    }
}
