#!/usr/bin/env bash
# Regenerates completions/ from the clap definition (tests/cli.rs checks they are current).
set -euo pipefail
cd "$(dirname "$0")/.."
for shell in bash zsh fish; do
  cargo run -q --bin rmosh -- completions "$shell" > "completions/rmosh.$shell"
done
