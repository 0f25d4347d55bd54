//! The impairment relay: a seeded, scriptable lossy network in user space.
//!
//! This kernel has no netem, so tests and benchmarks put `rmosh-relay`
//! between a client and a server. Everything that decides the fate of a
//! datagram lives here and is pure (time and bytes in, deliveries out); the
//! binary `src/bin/rmosh-relay.rs` only moves bytes between sockets.

pub mod cli;
pub mod command;
pub mod config;
pub mod impairer;
pub mod link;
pub mod rng;
pub mod stats;

pub use config::{Direction, LinkConfig, Outage};
pub use impairer::{Delivery, Impairer};
pub use link::{Fate, Link};
pub use stats::{DirectionStats, Stats};
