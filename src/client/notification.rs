//! The notification bar (spec §8.4): which text row 0 shows and when, as a
//! pure engine over injected millisecond timestamps.

/// More than this since the newest server state: "Last contact".
pub const SERVER_LATE_MS: u64 = 6500;
/// More than this since the send time of our newest acknowledged state: "Last reply".
pub const REPLY_LATE_MS: u64 = 10000;
/// How long an ordinary (non-permanent) message stays up.
pub const MESSAGE_MS: u64 = 1000;
/// How long a network error stays up (Mosh's ACK_INTERVAL + 100).
pub const NETWORK_ERROR_MS: u64 = 3100;
/// The counter refresh period after a minute without contact (ACK_INTERVAL).
const SLOW_COUNTUP_MS: u64 = 3000;

/// The state behind the notification bar.
#[derive(Debug, Clone)]
pub struct NotificationEngine {
    last_word_from_server: u64,
    last_acked_state: u64,
    quit_hint: String,
    message: String,
    message_is_network_error: bool,
    /// `None` = permanent.
    message_expiration: Option<u64>,
    show_quit_hint: bool,
}

/// Mosh's short human durations: `N seconds` (or `N s`), `M:SS`, `H:MM:SS`.
pub fn human_duration(seconds: u64, seconds_word: &str) -> String {
    if seconds < 60 {
        format!("{seconds} {seconds_word}")
    } else if seconds < 3600 {
        format!("{}:{:02}", seconds / 60, seconds % 60)
    } else {
        format!(
            "{}:{:02}:{:02}",
            seconds / 3600,
            (seconds / 60) % 60,
            seconds % 60
        )
    }
}

impl NotificationEngine {
    /// A fresh engine at time `now`; `quit_hint` is e.g. ` [To quit: Ctrl-^ .]`.
    pub fn new(now: u64, quit_hint: String) -> NotificationEngine {
        NotificationEngine {
            last_word_from_server: now,
            last_acked_state: now,
            quit_hint,
            message: String::new(),
            message_is_network_error: false,
            message_expiration: Some(0),
            show_quit_hint: true,
        }
    }

    fn server_late(&self, now: u64) -> bool {
        now.saturating_sub(self.last_word_from_server) > SERVER_LATE_MS
    }

    fn reply_late(&self, now: u64) -> bool {
        now.saturating_sub(self.last_acked_state) > REPLY_LATE_MS
    }

    fn need_countup(&self, now: u64) -> bool {
        self.server_late(now) || self.reply_late(now)
    }

    /// The newest server state arrived at `t`.
    pub fn server_heard(&mut self, t: u64) {
        self.last_word_from_server = t;
    }

    /// Our newest state the server acknowledged was sent at `t`.
    pub fn server_acked(&mut self, t: u64) {
        self.last_acked_state = t;
    }

    /// The current message (may have expired if `adjust` was not called).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Shows `text`; permanent messages stay until replaced, others for 1 s.
    pub fn set_message(&mut self, now: u64, text: &str, permanent: bool, show_quit_hint: bool) {
        self.message = text.to_owned();
        self.message_expiration = if permanent {
            None
        } else {
            Some(now + MESSAGE_MS)
        };
        self.message_is_network_error = false;
        self.show_quit_hint = show_quit_hint;
    }

    /// Takes the message down.
    pub fn clear_message(&mut self, now: u64) {
        self.set_message(now, "", false, true);
    }

    /// Shows a network error for 3.1 s.
    pub fn set_network_error(&mut self, now: u64, text: &str) {
        self.message = text.to_owned();
        self.message_is_network_error = true;
        self.message_expiration = Some(now + NETWORK_ERROR_MS);
    }

    /// Sends work again: a shown network error goes away within 1 s.
    pub fn clear_network_error(&mut self, now: u64) {
        if self.message_is_network_error {
            let limit = now + MESSAGE_MS;
            self.message_expiration = Some(match self.message_expiration {
                Some(e) => e.min(limit),
                None => limit,
            });
        }
    }

    /// Drops an expired message.
    pub fn adjust(&mut self, now: u64) {
        if let Some(e) = self.message_expiration
            && now >= e
        {
            self.message.clear();
        }
    }

    /// The bar's text at `now`, or `None` when no bar is shown.
    pub fn bar_text(&self, now: u64) -> Option<String> {
        let late = self.need_countup(now);
        if self.message.is_empty() && !late {
            return None;
        }
        let since_heard = now.saturating_sub(self.last_word_from_server) / 1000;
        let since_ack = now.saturating_sub(self.last_acked_state) / 1000;
        // Prefer "contact"; say "reply" when only the uplink is broken.
        let (elapsed, what) = if self.reply_late(now) && !self.server_late(now) {
            (since_ack, "reply")
        } else {
            (since_heard, "contact")
        };
        let hint = if self.show_quit_hint {
            self.quit_hint.as_str()
        } else {
            ""
        };
        Some(if self.message.is_empty() {
            format!(
                "mosh: Last {what} {} ago.{hint}",
                human_duration(elapsed, "seconds")
            )
        } else if !late {
            format!("mosh: {}{hint}", self.message)
        } else {
            format!(
                "mosh: {} ({} without {what}.){hint}",
                self.message,
                human_duration(elapsed, "s")
            )
        })
    }

    /// Milliseconds until the bar may change by itself: a message expires,
    /// contact becomes late, or the counter ticks.
    pub fn wait_time(&self, now: u64) -> Option<u64> {
        // Only a shown message has an expiry worth waking for.
        let mut next = if self.message.is_empty() {
            None
        } else {
            self.message_expiration.map(|e| e.saturating_sub(now))
        };
        if !self.need_countup(now) {
            // Wake exactly when contact becomes late, so the bar shows on time.
            let heard_due = (self.last_word_from_server + SERVER_LATE_MS + 1).saturating_sub(now);
            let acked_due = (self.last_acked_state + REPLY_LATE_MS + 1).saturating_sub(now);
            let due = heard_due.min(acked_due);
            next = Some(next.map_or(due, |n| n.min(due)));
        } else {
            let interval = if now.saturating_sub(self.last_word_from_server) > 60000 {
                SLOW_COUNTUP_MS
            } else {
                1000
            };
            next = Some(next.map_or(interval, |n| n.min(interval)));
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINT: &str = " [To quit: Ctrl-^ .]";

    fn engine() -> NotificationEngine {
        NotificationEngine::new(0, HINT.to_string())
    }

    #[test]
    fn nothing_shown_while_in_contact() {
        let e = engine();
        assert_eq!(e.bar_text(6500), None);
    }

    #[test]
    fn last_contact_after_6500_ms() {
        let mut e = engine();
        e.server_acked(5000);
        assert_eq!(e.bar_text(6500), None);
        assert_eq!(
            e.bar_text(11_000).as_deref(),
            Some("mosh: Last contact 11 seconds ago. [To quit: Ctrl-^ .]")
        );
        assert_eq!(
            e.bar_text(6501).as_deref(),
            Some("mosh: Last contact 6 seconds ago. [To quit: Ctrl-^ .]")
        );
    }

    #[test]
    fn last_reply_when_only_uplink_is_broken() {
        let mut e = engine();
        e.server_heard(12_000);
        assert_eq!(
            e.bar_text(12_500).as_deref(),
            Some("mosh: Last reply 12 seconds ago. [To quit: Ctrl-^ .]")
        );
        e.server_acked(12_400);
        assert_eq!(e.bar_text(12_500), None);
    }

    #[test]
    fn long_outages_use_minutes_and_hours() {
        let mut e = engine();
        assert_eq!(
            e.bar_text(125_000).as_deref(),
            Some("mosh: Last contact 2:05 ago. [To quit: Ctrl-^ .]")
        );
        e.server_acked(3_725_000);
        assert_eq!(
            e.bar_text(3_725_000).as_deref(),
            Some("mosh: Last contact 1:02:05 ago. [To quit: Ctrl-^ .]")
        );
    }

    #[test]
    fn message_with_and_without_lateness() {
        let mut e = engine();
        e.set_message(
            100,
            "Nothing received from server on UDP port 60001.",
            false,
            true,
        );
        assert_eq!(
            e.bar_text(200).as_deref(),
            Some("mosh: Nothing received from server on UDP port 60001. [To quit: Ctrl-^ .]")
        );
        e.set_message(7000, "Timed out waiting for server...", true, true);
        assert_eq!(
            e.bar_text(15_000).as_deref(),
            Some(
                "mosh: Timed out waiting for server... (15 s without contact.) [To quit: Ctrl-^ .]"
            )
        );
    }

    #[test]
    fn escape_help_has_no_quit_hint() {
        let mut e = engine();
        e.set_message(0, "Commands: Ctrl-Z suspends", true, false);
        assert_eq!(
            e.bar_text(10).as_deref(),
            Some("mosh: Commands: Ctrl-Z suspends")
        );
    }

    #[test]
    fn ordinary_messages_expire_after_one_second() {
        let mut e = engine();
        e.set_message(1000, "hello", false, true);
        e.adjust(1999);
        assert_eq!(e.message(), "hello");
        assert_eq!(e.wait_time(1500), Some(500));
        e.adjust(2000);
        assert_eq!(e.message(), "");
        assert_eq!(e.bar_text(2000), None);
        // Only the lateness wake-up is left.
        assert_eq!(e.wait_time(2000), Some(4501));
    }

    #[test]
    fn permanent_messages_stay() {
        let mut e = engine();
        e.set_message(0, "Exiting on user request...", true, true);
        e.server_heard(100_000);
        e.server_acked(100_000);
        e.adjust(100_000);
        assert_eq!(e.message(), "Exiting on user request...");
        assert_eq!(e.wait_time(100_000), Some(6501));
    }

    #[test]
    fn network_errors_last_3100_ms_or_1000_once_sends_work() {
        let mut e = engine();
        e.set_network_error(0, "sendto: Network is unreachable");
        e.adjust(3099);
        assert_eq!(e.message(), "sendto: Network is unreachable");
        e.adjust(3100);
        assert_eq!(e.message(), "");
        e.set_network_error(5000, "sendto: x");
        e.clear_network_error(5200);
        e.adjust(6199);
        assert_eq!(e.message(), "sendto: x");
        e.adjust(6200);
        assert_eq!(e.message(), "");
        // An ordinary message is not shortened by clear_network_error.
        e.set_message(7000, "m", true, true);
        e.clear_network_error(7000);
        e.adjust(100_000);
        assert_eq!(e.message(), "m");
    }

    #[test]
    fn wakes_when_contact_becomes_late() {
        let mut e = engine();
        e.server_heard(1000);
        e.server_acked(1000);
        assert_eq!(e.wait_time(2000), Some(5501));
        assert_eq!(e.bar_text(7500), None);
        assert!(e.bar_text(7501).is_some());
        e.server_heard(5000);
        // Now the reply is due first (10 s after 1000).
        assert_eq!(e.wait_time(5000), Some(11_001 - 5000));
    }

    #[test]
    fn counter_refreshes_every_second_then_every_three() {
        let mut e = engine();
        e.server_acked(100_000);
        assert_eq!(e.wait_time(7000), Some(1000));
        assert_eq!(e.wait_time(61_000), Some(3000));
    }

    #[test]
    fn human_duration_forms() {
        assert_eq!(human_duration(0, "seconds"), "0 seconds");
        assert_eq!(human_duration(59, "s"), "59 s");
        assert_eq!(human_duration(60, "s"), "1:00");
        assert_eq!(human_duration(3599, "s"), "59:59");
        assert_eq!(human_duration(3600, "s"), "1:00:00");
    }
}
