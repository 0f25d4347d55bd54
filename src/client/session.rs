//! The client session: the tokio loop that drives the transport, the real
//! terminal and the renderer, and the messages printed on the way out.

use std::process::ExitCode;

use super::cli::ClientConfig;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The shutdown handshake completed (either side started it).
    pub clean: bool,
    /// At least one server state arrived.
    pub connected: bool,
    /// A fatal error to report, already formatted (e.g. `Crypto exception: …`).
    pub error: Option<String>,
}

/// The stderr text printed after the terminal is restored (spec §8.1).
pub fn farewell_text(outcome: &Outcome, ip: &str, port: &str) -> String {
    let mut s = String::new();
    if !outcome.connected {
        s.push_str(&format!(
            "\nmosh did not make a successful connection to {ip}:{port}.\n\
             Please verify that UDP port {port} is not firewalled and can reach the server.\n\n\
             (By default, mosh uses a UDP port between 60000 and 61000. The -p option\n\
             selects a specific UDP port number.)\n"
        ));
    } else if !outcome.clean {
        s.push_str(
            "\n\nmosh did not shut down cleanly. Please note that the\n\
             mosh-server process may still be running on the server.\n",
        );
    }
    if let Some(e) = &outcome.error {
        s.push_str(e);
        s.push_str("\r\n");
    }
    s
}

/// Runs the session, prints the farewell and `[mosh is exiting.]`, and
/// returns 0 only after a clean shutdown.
pub fn run_and_report(config: ClientConfig) -> ExitCode {
    let _ = config;
    let outcome = Outcome {
        clean: false,
        connected: false,
        error: Some("Error: the client session is not implemented yet".to_owned()),
    };
    eprint!("{}", farewell_text(&outcome, "", ""));
    println!("[mosh is exiting.]");
    if outcome.clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
