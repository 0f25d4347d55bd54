//! Recent datagram loss seen by the receiver, from gaps in the sequence
//! numbers of arriving datagrams (a late, reordered datagram counts as lost).

/// Counts over roughly the last [`WINDOW`] datagrams (halved when full).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LossWindow {
    received: u32,
    missed: u32,
}

/// How many datagrams the window covers before it forgets half.
pub const WINDOW: u32 = 256;

impl LossWindow {
    /// A datagram with sequence number `seq` arrived when `expected` was next.
    pub fn on_datagram(&mut self, seq: u64, expected: u64) {
        let gap = u32::try_from(seq.saturating_sub(expected)).unwrap_or(u32::MAX);
        self.missed = self.missed.saturating_add(gap.min(WINDOW));
        self.received = self.received.saturating_add(1);
        while self.received + self.missed > WINDOW {
            self.received /= 2;
            self.missed /= 2;
        }
    }

    /// The fraction lost recently (0.0..=1.0), None before any datagram.
    pub fn fraction(&self) -> Option<f64> {
        let total = self.received + self.missed;
        (total > 0).then(|| f64::from(self.missed) / f64::from(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_count_as_loss_and_old_history_fades() {
        let mut w = LossWindow::default();
        assert_eq!(w.fraction(), None);
        w.on_datagram(0, 0);
        w.on_datagram(1, 1);
        w.on_datagram(4, 2); // 2 and 3 missing
        assert_eq!(w.fraction(), Some(0.4));
        for s in 5..2000 {
            w.on_datagram(s, s);
        }
        assert!(w.fraction().is_some_and(|f| f < 0.01));
        w.on_datagram(u64::MAX, 0);
        assert!(w.fraction().is_some_and(|f| f <= 1.0));
    }
}
