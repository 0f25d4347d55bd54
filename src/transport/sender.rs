//! The SSP sender (spec §5.2–§5.4, sender side of §5.6): decides when to
//! send which diff of the local object, and with which state numbers.
//!
//! Pure and generic over [`State`]. It never touches the wire: [`Sender::tick`]
//! returns an [`Outgoing`] instruction skeleton that the connection wraps
//! (chaff, compression, fragments, encryption). Times are [`Instant`]s passed
//! in by the caller.

use std::time::{Duration, Instant};

use super::rtt::RttEstimator;
use super::state::State;

/// Period of empty acks (heartbeats) when idle.
pub const ACK_INTERVAL: Duration = Duration::from_millis(3000);
/// Delay before acknowledging received data.
pub const ACK_DELAY: Duration = Duration::from_millis(100);
/// Shutdown transmissions before giving up.
pub const SHUTDOWN_RETRIES: u32 = 16;
/// Retransmit at frame rate only while the peer sent a new state this recently;
/// also the shutdown give-up time.
pub const ACTIVE_RETRY_TIMEOUT: Duration = Duration::from_millis(10_000);
/// Default SEND_MINDELAY (server); the client uses [`CLIENT_SEND_MINDELAY`].
pub const SERVER_SEND_MINDELAY: Duration = Duration::from_millis(8);
/// SEND_MINDELAY of the client.
pub const CLIENT_SEND_MINDELAY: Duration = Duration::from_millis(1);
/// When the sent-state list grows beyond this, an entry in its middle is dropped.
pub const SENT_STATES_LIMIT: usize = 32;
/// State number reserved for "shutdown".
pub const SHUTDOWN_NUM: u64 = u64::MAX;

/// One state we sent (or the acknowledged base).
#[derive(Debug, Clone)]
pub struct SentState<S> {
    /// When it was (last) sent.
    pub timestamp: Instant,
    /// Its state number.
    pub num: u64,
    /// The object as sent.
    pub state: S,
}

/// An instruction the sender wants transmitted (everything but chaff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// State the diff is relative to.
    pub old_num: u64,
    /// State the diff produces.
    pub new_num: u64,
    /// Newest peer state we received.
    pub ack_num: u64,
    /// The receiver may discard states below this.
    pub throwaway_num: u64,
    /// Serialized application diff (empty for an empty ack).
    pub diff: Vec<u8>,
}

/// The sending half of one SSP channel.
#[derive(Debug, Clone)]
pub struct Sender<S: State> {
    current: S,
    /// Never empty: first = acknowledged by the receiver, last = last sent.
    sent: Vec<SentState<S>>,
    assumed: usize,
    needs_rationalize: bool,
    next_ack_time: Instant,
    next_send_time: Option<Instant>,
    mindelay_clock: Option<Instant>,
    send_mindelay: Duration,
    shutdown_start: Option<Instant>,
    shutdown_tries: u32,
    ack_num: u64,
    last_ack_sent: Option<u64>,
    pending_data_ack: bool,
    last_heard: Option<Instant>,
    /// Pacing of new data, if it differs from Mosh's (see [`Sender::set_new_data_interval`]).
    new_data_interval: Option<Duration>,
    /// When a diff (not an empty ack) was last sent.
    last_data_send: Option<Instant>,
}

impl<S: State> Sender<S> {
    /// A sender whose state 0 is `initial` (known to both sides), created at `now`.
    pub fn new(initial: S, now: Instant) -> Self {
        Self {
            current: initial.clone(),
            sent: vec![SentState {
                timestamp: now,
                num: 0,
                state: initial,
            }],
            assumed: 0,
            needs_rationalize: false,
            next_ack_time: now,
            next_send_time: Some(now),
            mindelay_clock: None,
            send_mindelay: SERVER_SEND_MINDELAY,
            shutdown_start: None,
            shutdown_tries: 0,
            ack_num: 0,
            last_ack_sent: None,
            pending_data_ack: false,
            last_heard: None,
            new_data_interval: None,
            last_data_send: None,
        }
    }

    /// Paces new data at most `interval` apart (capped by the send
    /// interval), counted from the last diff sent rather than from any
    /// transmission. Mosh paces everything at the send interval from the
    /// last transmission, so a keystroke typed just after the client's
    /// delayed empty ack waits up to half an RTT; the client uses this so
    /// that keystrokes go out when typed (retransmissions keep Mosh's pacing).
    /// `None` restores Mosh's pacing.
    pub fn set_new_data_interval(&mut self, interval: Option<Duration>) {
        self.new_data_interval = interval;
    }

    /// The live object.
    pub fn current_state(&self) -> &S {
        &self.current
    }

    /// The live object, for in-place changes (frozen in spirit once shutdown started).
    pub fn current_state_mut(&mut self) -> &mut S {
        &mut self.current
    }

    /// Replaces the live object.
    pub fn set_current_state(&mut self, state: S) {
        self.current = state;
    }

    /// Sets SEND_MINDELAY (server 8 ms, client 1 ms).
    pub fn set_send_delay(&mut self, delay: Duration) {
        self.send_mindelay = delay;
    }

    /// The sent-state list (first = acknowledged, last = last sent).
    pub fn sent_states(&self) -> &[SentState<S>] {
        &self.sent
    }

    /// Number of the newest state the receiver acknowledged.
    pub fn acked_num(&self) -> u64 {
        self.first().num
    }

    /// When the newest acknowledged state was sent ("last roundtrip success").
    pub fn acked_timestamp(&self) -> Instant {
        self.first().timestamp
    }

    /// Number of the last state sent.
    pub fn last_sent_num(&self) -> u64 {
        self.last().num
    }

    /// The ack number we put in outgoing instructions.
    pub fn ack_num(&self) -> u64 {
        self.ack_num
    }

    /// Called when a new newest peer state arrived: what we acknowledge.
    pub fn set_ack_num(&mut self, ack_num: u64) {
        self.ack_num = ack_num;
    }

    /// The newest peer state carried data: acknowledge within ACK_DELAY.
    pub fn set_data_ack(&mut self) {
        self.pending_data_ack = true;
    }

    /// Whether an ack for received data is still owed.
    pub fn pending_data_ack(&self) -> bool {
        self.pending_data_ack
    }

    /// A new peer state arrived at `now` (feeds ACTIVE_RETRY_TIMEOUT).
    pub fn remote_heard(&mut self, now: Instant) {
        self.last_heard = Some(now);
    }

    /// When a new peer state last arrived.
    pub fn last_heard(&self) -> Option<Instant> {
        self.last_heard
    }

    /// The peer acknowledged state `ack_num`: forget older sent states,
    /// if we still know that state (otherwise the ack is ignored).
    pub fn process_acknowledgment_through(&mut self, ack_num: u64) {
        if self.sent.iter().any(|s| s.num == ack_num) {
            self.sent.retain(|s| s.num >= ack_num);
            self.assumed = 0;
            self.needs_rationalize = true;
        }
    }

    /// Starts the shutdown handshake (idempotent).
    pub fn start_shutdown(&mut self, now: Instant) {
        if self.shutdown_start.is_none() {
            self.shutdown_start = Some(now);
        }
    }

    /// Whether shutdown was started.
    pub fn shutdown_in_progress(&self) -> bool {
        self.shutdown_start.is_some()
    }

    /// Whether the peer acknowledged our shutdown state.
    pub fn shutdown_acknowledged(&self) -> bool {
        self.first().num == SHUTDOWN_NUM
    }

    /// Whether our last transmission acknowledged the peer's shutdown.
    pub fn counterparty_shutdown_ack_sent(&self) -> bool {
        self.last_ack_sent == Some(SHUTDOWN_NUM)
    }

    /// Number of shutdown transmissions so far.
    pub fn shutdown_tries(&self) -> u32 {
        self.shutdown_tries
    }

    /// Give up on the shutdown ack: 16 tries or 10 s.
    pub fn shutdown_ack_timed_out(&self, now: Instant) -> bool {
        match self.shutdown_start {
            Some(start) => {
                self.shutdown_tries >= SHUTDOWN_RETRIES
                    || now.saturating_duration_since(start) >= ACTIVE_RETRY_TIMEOUT
            }
            None => false,
        }
    }

    /// The SSP frame interval for the given RTT estimate.
    pub fn send_interval(rtt: &RttEstimator) -> Duration {
        rtt.send_interval()
    }

    /// The next instant at which [`Sender::tick`] may want to send
    /// (valid after [`Sender::calculate_timers`]).
    pub fn next_wakeup(&self) -> Instant {
        match self.next_send_time {
            Some(s) if s < self.next_ack_time => s,
            _ => self.next_ack_time,
        }
    }

    /// Recomputes the assumed receiver state and the ack/send timers (§5.3).
    pub fn calculate_timers(&mut self, now: Instant, rtt: &RttEstimator) {
        let rto = rtt.rto();
        let send_interval = rtt.send_interval();
        self.update_assumed_receiver_state(now, rto);
        self.rationalize_states();

        if self.pending_data_ack && self.next_ack_time > now + ACK_DELAY {
            self.next_ack_time = now + ACK_DELAY;
        }

        let peer_active = self
            .last_heard
            .is_some_and(|h| h + ACTIVE_RETRY_TIMEOUT > now);
        let last_sent_time = self.last().timestamp;
        if self.current != self.last().state {
            let mindelay = *self.mindelay_clock.get_or_insert(now);
            let paced_from = match self.new_data_interval {
                Some(cap) => self.last_data_send.unwrap_or(last_sent_time) + send_interval.min(cap),
                None => last_sent_time + send_interval,
            };
            self.next_send_time = Some(std::cmp::max(mindelay + self.send_mindelay, paced_from));
        } else if self.current != self.assumed_state().state && peer_active {
            let mut t = last_sent_time + send_interval;
            if let Some(m) = self.mindelay_clock {
                t = std::cmp::max(t, m + self.send_mindelay);
            }
            self.next_send_time = Some(t);
        } else if self.current != self.first().state && peer_active {
            self.next_send_time = Some(last_sent_time + rto + ACK_DELAY);
        } else {
            self.next_send_time = None;
        }

        if self.shutdown_in_progress() || self.ack_num == SHUTDOWN_NUM {
            self.next_ack_time = last_sent_time + send_interval;
        }
    }

    /// Sends a diff or an empty ack if a timer is due (§5.3 "Tick").
    pub fn tick(&mut self, now: Instant, rtt: &RttEstimator) -> Option<Outgoing> {
        self.calculate_timers(now, rtt);
        let send_due = self.next_send_time.is_some_and(|t| now >= t);
        let ack_due = now >= self.next_ack_time;
        if !send_due && !ack_due {
            return None;
        }

        let mut base = self.assumed;
        let mut diff = self.current.diff_from(&self.assumed_state().state);
        if base != 0 {
            // Prospective resend: diff against the acknowledged state instead if
            // that costs little, so one lost datagram cannot stall the stream.
            let resend = self.current.diff_from(&self.first().state);
            if resend.len() <= diff.len()
                || (resend.len() < 1000 && resend.len() - diff.len() < 100)
            {
                base = 0;
                diff = resend;
            }
        }
        self.assumed = base;
        let base_num = self.sent.get(base).map_or(0, |s| s.num);

        if diff.is_empty() {
            let mut out = None;
            if ack_due {
                out = Some(self.send_empty_ack(now, base_num));
                self.mindelay_clock = None;
            }
            if send_due {
                self.next_send_time = None;
                self.mindelay_clock = None;
            }
            out
        } else {
            let out = self.send_to_receiver(now, diff, base_num);
            self.mindelay_clock = None;
            Some(out)
        }
    }

    fn send_empty_ack(&mut self, now: Instant, base_num: u64) -> Outgoing {
        let new_num = if self.shutdown_in_progress() {
            SHUTDOWN_NUM
        } else {
            self.last().num.saturating_add(1)
        };
        self.add_sent_state(now, new_num, self.current.clone());
        let out = self.make_outgoing(base_num, new_num, Vec::new());
        self.next_ack_time = now + ACK_INTERVAL;
        self.next_send_time = None;
        out
    }

    fn send_to_receiver(&mut self, now: Instant, diff: Vec<u8>, base_num: u64) -> Outgoing {
        let last_num = self.last().num;
        let mut new_num = if self.current == self.last().state {
            last_num
        } else {
            last_num.saturating_add(1)
        };
        if self.shutdown_in_progress() {
            new_num = SHUTDOWN_NUM;
        }
        if new_num == last_num {
            if let Some(last) = self.sent.last_mut() {
                last.timestamp = now;
            }
        } else {
            self.add_sent_state(now, new_num, self.current.clone());
        }
        let out = self.make_outgoing(base_num, new_num, diff);
        self.last_data_send = Some(now);
        self.assumed = self.sent.len() - 1;
        self.next_ack_time = now + ACK_INTERVAL;
        self.next_send_time = None;
        out
    }

    fn make_outgoing(&mut self, old_num: u64, new_num: u64, diff: Vec<u8>) -> Outgoing {
        if new_num == SHUTDOWN_NUM {
            self.shutdown_tries = self.shutdown_tries.saturating_add(1);
        }
        self.pending_data_ack = false;
        self.last_ack_sent = Some(self.ack_num);
        Outgoing {
            old_num,
            new_num,
            ack_num: self.ack_num,
            throwaway_num: self.first().num,
            diff,
        }
    }

    fn add_sent_state(&mut self, timestamp: Instant, num: u64, state: S) {
        self.sent.push(SentState {
            timestamp,
            num,
            state,
        });
        if self.sent.len() > SENT_STATES_LIMIT {
            // Drop from the middle: keep the acknowledged base and recent states.
            let idx = self.sent.len() - 16;
            self.sent.remove(idx);
            if self.assumed >= idx && self.assumed > 0 {
                self.assumed -= 1;
            }
        }
    }

    fn update_assumed_receiver_state(&mut self, now: Instant, rto: Duration) {
        // Give recently sent states the benefit of the doubt.
        self.assumed = 0;
        for (i, s) in self.sent.iter().enumerate().skip(1) {
            if now.saturating_duration_since(s.timestamp) < rto + ACK_DELAY {
                self.assumed = i;
            } else {
                break;
            }
        }
    }

    /// Subtracts the acknowledged state from every stored state and the
    /// current one (a no-op for objects without a `subtract`). Only needed
    /// after the acknowledged state changed: afterwards it is empty relative
    /// to itself.
    fn rationalize_states(&mut self) {
        if !self.needs_rationalize {
            return;
        }
        self.needs_rationalize = false;
        let known = self.first().state.clone();
        self.current.subtract(&known);
        for s in self.sent.iter_mut().rev() {
            s.state.subtract(&known);
        }
    }

    fn first(&self) -> &SentState<S> {
        // The list is never empty: acks keep the acknowledged entry.
        &self.sent[0]
    }

    fn last(&self) -> &SentState<S> {
        &self.sent[self.sent.len() - 1]
    }

    fn assumed_state(&self) -> &SentState<S> {
        self.sent.get(self.assumed).unwrap_or_else(|| self.first())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::state::ApplyError;

    /// Appended bytes; subtract drops the acked prefix (like the user stream).
    #[derive(Debug, Clone, PartialEq, Default)]
    struct Bytes(Vec<u8>);

    impl State for Bytes {
        fn diff_from(&self, base: &Self) -> Vec<u8> {
            self.0.get(base.0.len()..).unwrap_or_default().to_vec()
        }
        fn apply(&mut self, diff: &[u8]) -> Result<(), ApplyError> {
            self.0.extend_from_slice(diff);
            Ok(())
        }
        fn subtract(&mut self, acked: &Self) {
            if self.0.starts_with(&acked.0) {
                self.0.drain(..acked.0.len());
            }
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A sender at 250 ms RTT (send interval 125 ms) that has just sent an
    /// empty ack, 100 ms after a diff; returns it and the time of the ack.
    fn after_an_empty_ack(
        new_data_interval: Option<Duration>,
    ) -> (Sender<Bytes>, RttEstimator, Instant) {
        let t0 = Instant::now();
        let mut rtt = RttEstimator::new();
        rtt.on_sample(250);
        let mut s = Sender::new(Bytes::default(), t0);
        if let Some(i) = new_data_interval {
            s.set_new_data_interval(Some(i));
        }
        s.set_send_delay(Duration::ZERO);
        s.current_state_mut().0.push(b'a');
        assert!(s.tick(t0, &rtt).is_some_and(|o| !o.diff.is_empty()));
        s.process_acknowledgment_through(1);
        s.set_data_ack();
        assert_eq!(s.tick(t0 + ms(1), &rtt), None);
        let t1 = t0 + ms(101);
        let ack = s.tick(t1, &rtt).expect("the delayed ack");
        assert!(ack.diff.is_empty());
        (s, rtt, t1)
    }

    #[test]
    fn mosh_paces_a_keystroke_after_an_empty_ack() {
        let (mut s, rtt, t1) = after_an_empty_ack(None);
        s.current_state_mut().0.push(b'b');
        assert_eq!(s.tick(t1 + ms(10), &rtt), None);
        assert!(s.tick(t1 + ms(125), &rtt).is_some());
    }

    #[test]
    fn new_data_interval_counts_from_the_last_diff_only() {
        let (mut s, rtt, t1) = after_an_empty_ack(Some(ms(20)));
        s.current_state_mut().0.push(b'b');
        let t2 = t1 + ms(10);
        assert!(
            s.tick(t2, &rtt)
                .is_some_and(|o| o.diff == b"ab" || o.diff == b"b")
        );
        // A burst is still paced, at the new-data interval.
        s.current_state_mut().0.push(b'c');
        assert_eq!(s.tick(t2 + ms(19), &rtt), None);
        assert!(s.tick(t2 + ms(20), &rtt).is_some());
    }

    #[test]
    fn first_tick_sends_immediately_then_heartbeats_every_3s() {
        let t0 = Instant::now();
        let rtt = RttEstimator::new();
        let mut s = Sender::new(Bytes::default(), t0);
        let o = s
            .tick(t0, &rtt)
            .map(|o| (o.old_num, o.new_num, o.diff.len()));
        assert_eq!(o, Some((0, 1, 0)));
        assert_eq!(s.tick(t0 + ms(2999), &rtt), None);
        let o = s.tick(t0 + ms(3000), &rtt).map(|o| o.new_num);
        assert_eq!(o, Some(2));
    }

    #[test]
    fn data_waits_for_mindelay_and_send_interval() {
        let t0 = Instant::now();
        let rtt = RttEstimator::new(); // send interval 250 ms
        let mut s = Sender::new(Bytes::default(), t0);
        s.tick(t0, &rtt); // empty ack at t0
        s.current_state_mut().0.push(b'x');
        s.calculate_timers(t0 + ms(10), &rtt);
        // max(mindelay 10+8, last sent 0 + 250)
        assert_eq!(s.next_wakeup(), t0 + ms(250));
        assert_eq!(s.tick(t0 + ms(249), &rtt), None);
        let o = s.tick(t0 + ms(250), &rtt);
        // State 1 (the empty ack) is assumed, but diffing from the acknowledged
        // state 0 costs no more: prospective resend picks base 0.
        assert_eq!(
            o.map(|o| (o.old_num, o.new_num, o.diff)),
            Some((0, 2, b"x".to_vec()))
        );
    }

    #[test]
    fn pending_data_ack_is_sent_within_100ms() {
        let t0 = Instant::now();
        let rtt = RttEstimator::new();
        let mut s = Sender::new(Bytes::default(), t0);
        s.tick(t0, &rtt);
        s.set_ack_num(4);
        s.set_data_ack();
        s.calculate_timers(t0 + ms(500), &rtt);
        assert_eq!(s.next_wakeup(), t0 + ms(600));
        let o = s.tick(t0 + ms(600), &rtt);
        assert_eq!(o.map(|o| (o.ack_num, o.diff.is_empty())), Some((4, true)));
        assert!(!s.pending_data_ack());
    }

    #[test]
    fn unacked_data_is_resent_at_send_interval_when_peer_active() {
        let t0 = Instant::now();
        let mut rtt = RttEstimator::new();
        rtt.on_sample(0); // interval 20 ms, RTO 50 ms
        let mut s = Sender::new(Bytes::default(), t0);
        s.remote_heard(t0);
        s.current_state_mut().0.push(b'a');
        let first = s.tick(t0, &rtt).map(|o| o.new_num);
        assert_eq!(first, Some(1));
        // Assumed receiver state is the sent one until RTO + ACK_DELAY (150 ms).
        assert_eq!(s.tick(t0 + ms(149), &rtt), None);
        // Then the assumed state falls back to 0 and we resend at frame rate.
        let again = s.tick(t0 + ms(150), &rtt).map(|o| (o.old_num, o.new_num));
        assert_eq!(again, Some((0, 1)));
        s.calculate_timers(t0 + ms(150), &rtt);
        // Fresh send is assumed again; next resend 150 ms later.
        let nxt = s.tick(t0 + ms(300), &rtt).map(|o| (o.old_num, o.new_num));
        assert_eq!(nxt, Some((0, 1)));
    }

    #[test]
    fn without_recent_peer_state_resends_only_with_heartbeat() {
        let t0 = Instant::now();
        let mut rtt = RttEstimator::new();
        rtt.on_sample(0);
        let mut s = Sender::new(Bytes::default(), t0);
        s.current_state_mut().0.push(b'a');
        assert!(s.tick(t0, &rtt).is_some());
        s.calculate_timers(t0 + ms(1000), &rtt);
        assert_eq!(s.next_wakeup(), t0 + ACK_INTERVAL);
    }

    #[test]
    fn acks_trim_the_list_and_rationalize() {
        let t0 = Instant::now();
        let rtt = RttEstimator::new();
        let mut s = Sender::new(Bytes::default(), t0);
        s.current_state_mut().0.extend_from_slice(b"ab");
        s.tick(t0, &rtt);
        s.current_state_mut().0.push(b'c');
        s.calculate_timers(t0 + ms(300), &rtt);
        assert!(s.tick(t0 + ms(308), &rtt).is_some());
        assert_eq!(s.sent_states().len(), 3);
        s.process_acknowledgment_through(99); // unknown: ignored
        assert_eq!(s.sent_states().len(), 3);
        s.process_acknowledgment_through(1);
        assert_eq!(s.acked_num(), 1);
        assert_eq!(s.acked_timestamp(), t0);
        s.calculate_timers(t0 + ms(309), &rtt);
        assert_eq!(s.current_state().0, b"c");
        assert_eq!(s.sent_states()[0].state.0, b"");
    }

    #[test]
    fn prospective_resend_prefers_acked_base_when_cheap() {
        let t0 = Instant::now();
        let rtt = RttEstimator::new(); // RTO 1000: sent states stay assumed
        let mut s = Sender::new(Bytes::default(), t0);
        s.current_state_mut().0.push(b'a');
        s.tick(t0, &rtt);
        s.current_state_mut().0.push(b'b');
        s.calculate_timers(t0 + ms(250), &rtt);
        let o = s.tick(t0 + ms(260), &rtt);
        // Diff from acked state 0 ("ab") is only 1 byte longer: resend from 0.
        assert_eq!(
            o.map(|o| (o.old_num, o.new_num, o.diff)),
            Some((0, 2, b"ab".to_vec()))
        );
    }

    #[test]
    fn sent_list_is_capped_at_32() {
        let t0 = Instant::now();
        let rtt = RttEstimator::new();
        let mut s = Sender::new(Bytes::default(), t0);
        for i in 0..40u64 {
            s.current_state_mut().0.push(b'x');
            s.calculate_timers(t0 + ms(250 * i), &rtt);
            assert!(s.tick(t0 + ms(250 * i + 10), &rtt).is_some());
            assert!(s.sent_states().len() <= SENT_STATES_LIMIT);
        }
        assert_eq!(s.sent_states().len(), SENT_STATES_LIMIT);
        assert_eq!(s.sent_states()[0].num, 0);
        assert_eq!(s.last_sent_num(), 40);
    }

    #[test]
    fn shutdown_sends_minus_one_at_frame_rate_and_gives_up_after_16() {
        let t0 = Instant::now();
        let mut rtt = RttEstimator::new();
        rtt.on_sample(0);
        let mut s = Sender::new(Bytes::default(), t0);
        s.tick(t0, &rtt);
        s.start_shutdown(t0 + ms(5));
        let mut t = t0 + ms(5);
        let mut sent = 0;
        while !s.shutdown_ack_timed_out(t) {
            if let Some(o) = s.tick(t, &rtt) {
                assert_eq!(o.new_num, SHUTDOWN_NUM);
                sent += 1;
            }
            t += ms(1);
        }
        assert_eq!(sent, 16);
        assert!(!s.shutdown_acknowledged());
        s.process_acknowledgment_through(SHUTDOWN_NUM);
        assert!(s.shutdown_acknowledged());
    }

    #[test]
    fn acking_peer_shutdown_is_recorded() {
        let t0 = Instant::now();
        let rtt = RttEstimator::new();
        let mut s = Sender::new(Bytes::default(), t0);
        s.tick(t0, &rtt);
        s.set_ack_num(SHUTDOWN_NUM);
        assert!(!s.counterparty_shutdown_ack_sent());
        // Peer shutdown: ack at send interval after the last send.
        s.calculate_timers(t0 + ms(1), &rtt);
        assert_eq!(s.next_wakeup(), t0 + ms(250));
        let o = s.tick(t0 + ms(250), &rtt);
        assert_eq!(o.map(|o| o.ack_num), Some(SHUTDOWN_NUM));
        assert!(s.counterparty_shutdown_ack_sent());
    }
}
