#!/usr/bin/env bash
# Runs fuzz targets one after another, each for SECONDS (default 600), at the
# lowest CPU priority, keeping the corpus in fuzz/corpus/<target>.
# Usage: fuzz/run-all.sh [SECONDS] [TARGET...]   (no targets: every target)
# Each target's libFuzzer log goes to $FUZZ_LOG_DIR (default fuzz/logs).
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^rmosh-fuzz$')
fi
corpus=${FUZZ_CORPUS_DIR:-$PWD/corpus}
logs=${FUZZ_LOG_DIR:-$PWD/logs}
mkdir -p "$logs"
for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t"
  echo "$(date -u +%FT%TZ) start $t" >>"$logs/summary.txt"
  nice -n 19 cargo +nightly fuzz run "$t" "$corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$logs/$t.log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  echo "$(date -u +%FT%TZ) end $t rc=$rc runs=${runs:-?}" >>"$logs/summary.txt"
done
