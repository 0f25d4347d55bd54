//! Phase timestamps for finding where start-up time goes: with
//! `RMOSH_TIMING=1` in the environment each bootstrap phase prints
//! `rmosh-timing: <wall clock s> +<ms since start> <phase>` on stderr.
//! Off by default, so normal runs print nothing and pay one env lookup.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static START: OnceLock<Option<Instant>> = OnceLock::new();

fn start() -> Option<Instant> {
    *START.get_or_init(|| {
        std::env::var_os("RMOSH_TIMING")
            .filter(|v| !v.is_empty() && v != "0")
            .map(|_| Instant::now())
    })
}

/// Records that `phase` has just ended (no-op unless `RMOSH_TIMING` is set).
pub fn mark(phase: &str) {
    let Some(t0) = start() else {
        return;
    };
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    eprintln!(
        "rmosh-timing: {wall:.6} +{:.1}ms {phase}",
        t0.elapsed().as_secs_f64() * 1000.0
    );
}
