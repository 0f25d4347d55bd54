#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit, property, simulator, live
# interop (Debian's mosh 1.4.0), sshd and reliability tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=${LANG:-C.UTF-8}
cargo fmt --check
# The relay (a test tool behind the `relay` feature) is needed by the
# reliability and impairment tests.
cargo clippy --all-targets --all-features -- -D warnings
cargo test --all-targets --all-features
