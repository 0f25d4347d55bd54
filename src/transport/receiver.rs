//! The SSP receiver (spec §5.5): stores the peer's states by number, builds
//! new ones from a stored base plus a diff, and tells the caller whether the
//! result is the newest state (which must then be acknowledged).
//!
//! Pure and generic over [`State`]. Duplicates, unknown bases and states
//! beyond the queue's count or byte limit are dropped silently; that is what makes SSP
//! idempotent under loss, duplication and reordering.

use std::time::{Duration, Instant};

use super::state::{ApplyError, State};

/// More stored states than this and new ones are refused (except one per quench period).
pub const RECEIVED_STATES_LIMIT: usize = 1024;
/// How long the receiver refuses new states once the queue is full.
pub const RECEIVER_QUENCH: Duration = Duration::from_millis(15_000);
/// Most bytes the stored states may hold together (by [`State::held_bytes`],
/// which counts shared rows once per state). Room for two screens of the
/// largest size (2000 × 2000): a sender that waits for acks always fits, and
/// one that does not is refused instead of growing the queue.
pub const RECEIVED_BYTES_LIMIT: usize = 512 * 1024 * 1024;

/// One state of the peer's object.
#[derive(Debug, Clone)]
pub struct ReceivedState<S> {
    /// When it was built here.
    pub timestamp: Instant,
    /// The peer's number for it.
    pub num: u64,
    /// The object.
    pub state: S,
}

/// What happened to one received instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// We already have a state with this number.
    Duplicate,
    /// The base state (`old_num`) is unknown here: cannot apply, dropped.
    UnknownBase,
    /// The queue is full and the quench timer is running: dropped.
    Quenched,
    /// Storing the state would pass [`RECEIVED_BYTES_LIMIT`]: dropped (not
    /// acknowledged; the sender retries once it has our ack of older states).
    OverBudget,
    /// Stored, but an even newer state is already here.
    OutOfOrder,
    /// Stored as the newest state; `data` tells whether the diff was non-empty.
    Newest {
        /// The diff was non-empty (acknowledge within ACK_DELAY).
        data: bool,
    },
}

/// The receiving half of one SSP channel.
#[derive(Debug, Clone)]
pub struct Receiver<S: State> {
    /// Sorted by `num`, never empty.
    states: Vec<ReceivedState<S>>,
    quench_until: Option<Instant>,
    last_consumed: S,
}

impl<S: State> Receiver<S> {
    /// A receiver whose state 0 is `initial`, created at `now`.
    pub fn new(initial: S, now: Instant) -> Self {
        Self {
            states: vec![ReceivedState {
                timestamp: now,
                num: 0,
                state: initial.clone(),
            }],
            quench_until: None,
            last_consumed: initial,
        }
    }

    /// Processes one instruction's state part (the ack part is the sender's).
    ///
    /// An `Err` means the diff did not apply to its base; nothing was stored.
    pub fn receive(
        &mut self,
        now: Instant,
        old_num: u64,
        new_num: u64,
        throwaway_num: u64,
        diff: &[u8],
    ) -> Result<Received, ApplyError> {
        if self.states.iter().any(|s| s.num == new_num) {
            return Ok(Received::Duplicate);
        }
        let Some(base) = self.states.iter().find(|s| s.num == old_num) else {
            return Ok(Received::UnknownBase);
        };
        // Copy the base before the throwaway may discard it.
        let mut state = base.state.clone();

        let newest = self.newest().clone();
        self.states.retain(|s| s.num >= throwaway_num);

        if self.states.len() > RECEIVED_STATES_LIMIT {
            match self.quench_until {
                Some(until) if now < until => {
                    self.ensure_nonempty(newest);
                    return Ok(Received::Quenched);
                }
                _ => self.quench_until = Some(now + RECEIVER_QUENCH),
            }
        }

        if !diff.is_empty()
            && let Err(e) = state.apply(diff)
        {
            self.ensure_nonempty(newest);
            return Err(e);
        }
        let held: usize = self.states.iter().map(|s| s.state.held_bytes()).sum();
        if held.saturating_add(state.held_bytes()) > RECEIVED_BYTES_LIMIT {
            self.ensure_nonempty(newest);
            return Ok(Received::OverBudget);
        }
        let entry = ReceivedState {
            timestamp: now,
            num: new_num,
            state,
        };
        match self.states.iter().position(|s| s.num > new_num) {
            Some(pos) => {
                self.states.insert(pos, entry);
                Ok(Received::OutOfOrder)
            }
            None => {
                self.states.push(entry);
                Ok(Received::Newest {
                    data: !diff.is_empty(),
                })
            }
        }
    }

    /// A throwaway number beyond every stored state (only a broken or
    /// malicious sender does that) must not leave us without a newest state.
    fn ensure_nonempty(&mut self, newest: ReceivedState<S>) {
        if self.states.is_empty() {
            self.states.push(newest);
        }
    }

    /// The newest state received.
    pub fn newest(&self) -> &ReceivedState<S> {
        // Invariant: never empty (see `ensure_nonempty` and `receive`).
        &self.states[self.states.len() - 1]
    }

    /// Number of the newest state received.
    pub fn newest_num(&self) -> u64 {
        self.newest().num
    }

    /// All stored states, oldest first.
    pub fn states(&self) -> &[ReceivedState<S>] {
        &self.states
    }

    /// The diff from what the application consumed last to the newest state;
    /// then re-bases every stored state on the oldest one (`subtract`).
    /// The server uses this to get the newly typed user events.
    pub fn take_remote_diff(&mut self) -> Vec<u8> {
        let ret = self.newest().state.diff_from(&self.last_consumed);
        if let Some(oldest) = self.states.first().map(|s| s.state.clone()) {
            for s in self.states.iter_mut().rev() {
                s.state.subtract(&oldest);
            }
        }
        self.last_consumed = self.newest().state.clone();
        ret
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list of bytes; a diff appends bytes; subtract drops a prefix.
    #[derive(Debug, Clone, PartialEq, Default)]
    struct Bytes(Vec<u8>);

    impl State for Bytes {
        fn diff_from(&self, base: &Self) -> Vec<u8> {
            self.0.get(base.0.len()..).unwrap_or_default().to_vec()
        }
        fn apply(&mut self, diff: &[u8]) -> Result<(), ApplyError> {
            if diff == b"BAD" {
                return Err(ApplyError("bad".into()));
            }
            self.0.extend_from_slice(diff);
            Ok(())
        }
        fn subtract(&mut self, acked: &Self) {
            if self.0.starts_with(&acked.0) {
                self.0.drain(..acked.0.len());
            }
        }
        fn held_bytes(&self) -> usize {
            // One byte stands for a megabyte, so the budget is reachable.
            self.0.len() << 20
        }
    }

    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn newest_state_is_built_from_base() {
        let now = t0();
        let mut r = Receiver::new(Bytes::default(), now);
        assert_eq!(
            r.receive(now, 0, 1, 0, b"ab"),
            Ok(Received::Newest { data: true })
        );
        assert_eq!(
            r.receive(now, 1, 2, 0, b""),
            Ok(Received::Newest { data: false })
        );
        assert_eq!(r.newest_num(), 2);
        assert_eq!(r.newest().state, Bytes(b"ab".to_vec()));
    }

    #[test]
    fn duplicates_and_unknown_bases_are_dropped() {
        let now = t0();
        let mut r = Receiver::new(Bytes::default(), now);
        r.receive(now, 0, 1, 0, b"a").ok();
        assert_eq!(r.receive(now, 0, 1, 0, b"zz"), Ok(Received::Duplicate));
        assert_eq!(r.receive(now, 7, 8, 0, b"x"), Ok(Received::UnknownBase));
        assert_eq!(r.newest().state, Bytes(b"a".to_vec()));
        assert_eq!(r.states().len(), 2);
    }

    #[test]
    fn out_of_order_states_are_stored_but_not_newest() {
        let now = t0();
        let mut r = Receiver::new(Bytes::default(), now);
        r.receive(now, 0, 2, 0, b"ab").ok();
        assert_eq!(r.receive(now, 0, 1, 0, b"a"), Ok(Received::OutOfOrder));
        let nums: Vec<u64> = r.states().iter().map(|s| s.num).collect();
        assert_eq!(nums, vec![0, 1, 2]);
        assert_eq!(r.newest_num(), 2);
    }

    #[test]
    fn throwaway_discards_older_states() {
        let now = t0();
        let mut r = Receiver::new(Bytes::default(), now);
        r.receive(now, 0, 1, 0, b"a").ok();
        r.receive(now, 1, 2, 1, b"b").ok();
        let nums: Vec<u64> = r.states().iter().map(|s| s.num).collect();
        assert_eq!(nums, vec![1, 2]);
        // Base 0 is gone now.
        assert_eq!(r.receive(now, 0, 3, 0, b"c"), Ok(Received::UnknownBase));
    }

    #[test]
    fn throwaway_beyond_everything_keeps_a_state() {
        let now = t0();
        let mut r = Receiver::new(Bytes::default(), now);
        assert_eq!(
            r.receive(now, 0, 1, u64::MAX, b"BAD"),
            Err(ApplyError("bad".into()))
        );
        assert_eq!(r.states().len(), 1);
        assert_eq!(
            r.receive(now, 0, 5, u64::MAX, b"x"),
            Ok(Received::Newest { data: true })
        );
        assert_eq!(r.newest_num(), 5);
    }

    #[test]
    fn queue_limit_quenches_for_15_seconds() {
        let now = t0();
        let mut r = Receiver::new(Bytes::default(), now);
        for n in 1..=1024u64 {
            r.receive(now, 0, n, 0, b"").ok();
        }
        assert_eq!(r.states().len(), 1025);
        // Over the limit: the first one re-arms the quench and is accepted...
        assert_eq!(
            r.receive(now, 0, 2000, 0, b""),
            Ok(Received::Newest { data: false })
        );
        // ...then everything is refused until 15 s have passed.
        assert_eq!(r.receive(now, 0, 2001, 0, b""), Ok(Received::Quenched));
        let later = now + Duration::from_millis(14_999);
        assert_eq!(r.receive(later, 0, 2002, 0, b""), Ok(Received::Quenched));
        let later = now + RECEIVER_QUENCH;
        assert_eq!(
            r.receive(later, 0, 2003, 0, b""),
            Ok(Received::Newest { data: false })
        );
    }

    #[test]
    fn a_flood_of_new_states_never_passes_the_count_limit_or_the_quench() {
        // A hostile sender offers a new state every millisecond for a minute;
        // at most one gets past the full queue per quench period.
        let t = t0();
        let mut r = Receiver::new(Bytes::default(), t);
        let mut accepted_over_limit = Vec::new();
        for n in 1..=60_000u64 {
            let now = t + Duration::from_millis(n);
            let before = r.states().len();
            let got = r.receive(now, 0, n, 0, b"").expect("applies");
            if before > RECEIVED_STATES_LIMIT && got != Received::Quenched {
                accepted_over_limit.push(n);
            }
            assert!(r.states().len() <= RECEIVED_STATES_LIMIT + 1 + accepted_over_limit.len());
        }
        // Full once states 0..=1024 are held; then one state each 15 s.
        assert_eq!(accepted_over_limit, [1025, 16_025, 31_025, 46_025]);
        assert_eq!(r.states().len(), RECEIVED_STATES_LIMIT + 1 + 4);
    }

    #[test]
    fn stored_states_never_pass_the_byte_budget() {
        let now = t0();
        let mut r = Receiver::new(Bytes::default(), now);
        let budget_states = RECEIVED_BYTES_LIMIT >> 20;
        // Each state n holds n "megabytes"; the sum stops short of the budget.
        let mut stored = 0;
        for n in 1..=200u64 {
            let diff = vec![b'x'; n as usize];
            let got = r.receive(now, 0, n, 0, &diff).expect("applies");
            let held: usize = r.states().iter().map(|s| s.state.held_bytes()).sum();
            assert!(held <= RECEIVED_BYTES_LIMIT, "state {n}: {held}");
            if got == Received::OverBudget {
                assert!(stored + n as usize > budget_states);
                assert_eq!(r.newest_num(), n - 1, "refused, not stored");
                // A throwaway of the older states makes room again.
                assert_eq!(
                    r.receive(now, n - 1, n, n - 1, b"y"),
                    Ok(Received::Newest { data: true })
                );
                return;
            }
            stored += n as usize;
        }
        panic!("the budget never bit");
    }

    #[test]
    fn remote_diff_gives_new_events_once() {
        let now = t0();
        let mut r = Receiver::new(Bytes::default(), now);
        r.receive(now, 0, 1, 0, b"ab").ok();
        assert_eq!(r.take_remote_diff(), b"ab");
        assert_eq!(r.take_remote_diff(), b"");
        r.receive(now, 1, 2, 1, b"c").ok();
        assert_eq!(r.take_remote_diff(), b"c");
    }
}
