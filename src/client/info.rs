//! The connection info overlay (escape key, then `i`): one line for the
//! notification bar (short enough for 80 columns) with what the client knows
//! about the link.

/// What the overlay reports.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionInfo {
    /// Smoothed RTT and its variation in ms, None before the first sample.
    pub rtt_ms: Option<(f64, f64)>,
    /// Fraction of recent datagrams lost, None before any arrived.
    pub loss: Option<f64>,
    /// Milliseconds since the server was last heard from, None if never.
    pub last_contact_ms: Option<u64>,
    /// The transport carrying the session.
    pub transport: &'static str,
    /// The server's kind and version, when the server told us.
    pub server: Option<String>,
}

impl ConnectionInfo {
    /// The overlay's text.
    pub fn text(&self) -> String {
        let rtt = match self.rtt_ms {
            Some((srtt, var)) => format!("RTT {srtt:.0}\u{b1}{var:.0} ms"),
            None => "RTT unknown".to_string(),
        };
        let loss = match self.loss {
            Some(f) => format!("loss {:.1}%", f * 100.0),
            None => "loss unknown".to_string(),
        };
        let contact = match self.last_contact_ms {
            Some(ms) => format!("contact {:.1} s ago", ms as f64 / 1000.0),
            None => "no contact yet".to_string(),
        };
        format!(
            "{rtt}, {loss}, {contact}, {}, server {}",
            self.transport,
            self.server.as_deref().unwrap_or("unknown")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_every_figure_and_unknowns() {
        let i = ConnectionInfo {
            rtt_ms: Some((23.4, 4.2)),
            loss: Some(0.0125),
            last_contact_ms: Some(250),
            transport: "udp",
            server: None,
        };
        assert_eq!(
            i.text(),
            "RTT 23\u{b1}4 ms, loss 1.2%, contact 0.2 s ago, udp, server unknown"
        );
        let fresh = ConnectionInfo {
            rtt_ms: None,
            loss: None,
            last_contact_ms: None,
            transport: "udp",
            server: Some("rmosh 0.1.0".into()),
        };
        assert!(
            fresh
                .text()
                .contains("RTT unknown, loss unknown, no contact yet")
        );
        assert!(fresh.text().contains("server rmosh 0.1.0"));
    }
}
