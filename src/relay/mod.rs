//! The impairment relay: a seeded, scriptable lossy network in user space.
