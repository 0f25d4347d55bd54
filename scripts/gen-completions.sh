#!/usr/bin/env bash
# Regenerates completions/ and man/ from the clap definitions (tests/cli.rs
# checks they are current).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --bin rmosh
for shell in bash zsh fish; do
  target/debug/rmosh completions "$shell" > "completions/rmosh.$shell"
done
mkdir -p man
for page in rmosh rmosh-connect rmosh-server rmosh-client; do
  target/debug/rmosh man "$page" > "man/$page.1"
done
