#!/bin/sh
# Bulk output through the server, rmosh vs Debian's mosh-server, both driven
# by the stock mosh-client in a private tmux on loopback.
#
# Measures, for `seq 1 2000000`: wall time from pressing Enter until the
# prompt after the output is on the client's screen, and the server's CPU
# seconds (user+system, from /proc/PID/stat) spent on it.
#
# Usage: bench/server_bulk.sh [RMOSH_BINARY] [RUNS]
#   RMOSH_BINARY defaults to target/release/rmosh, else target/debug/rmosh.
#   RUNS defaults to 3; the median of each figure is reported.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
    if [ -x "$root/target/release/rmosh" ]; then bin=$root/target/release/rmosh
    else bin=$root/target/debug/rmosh; fi
fi
runs=${2:-3}
for p in tmux mosh-client mosh-server "$bin"; do
    command -v "$p" >/dev/null 2>&1 || { echo "missing: $p" >&2; exit 1; }
done

work=$(mktemp -d /tmp/rmosh-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ln -s "$bin" "$work/mosh-server"
mkdir -p "$work/home"
: > "$work/home/.hushlogin"
printf "PS1='bench> '\n" > "$work/home/.profile"
ticks=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now() { date +%s.%N; }

# run_one SERVER_PATH → prints "WALL CPU"
run_one() {
    server=$1
    out=$(cd "$work" && HOME=$work/home SHELL=/bin/sh LANG=C.UTF-8 \
        "$server" new -i 127.0.0.1 -p 0 2>"$work/err" </dev/null)
    port=$(printf '%s\n' "$out" | awk '/^MOSH CONNECT/ { print $3 }')
    key=$(printf '%s\n' "$out" | awk '/^MOSH CONNECT/ { print $4 }')
    pid=$(sed -n 's/^\[mosh-server detached, pid = \([0-9]*\)\]$/\1/p' "$work/err")
    printf '#!/bin/sh\nexec mosh-client 127.0.0.1 %s\n' "$port" > "$work/client.sh"
    chmod 700 "$work/client.sh"
    sock=$work/tmux.sock
    MOSH_KEY=$key LANG=C.UTF-8 tmux -S "$sock" -f /dev/null new-session -d -x 80 -y 24 "$work/client.sh"
    i=0
    until tmux -S "$sock" capture-pane -p | grep -q '^bench>'; do
        i=$((i + 1)); [ $i -gt 200 ] && { echo "no prompt" >&2; exit 1; }
        sleep 0.05
    done
    c0=$(cpu_ticks "$pid")
    t0=$(now)
    tmux -S "$sock" send-keys "seq 1 2000000; echo BENCH-''DONE" Enter
    until tmux -S "$sock" capture-pane -p | grep -A1 '^BENCH-DONE' | grep -q '^bench>'; do
        sleep 0.02
    done
    t1=$(now)
    c1=$(cpu_ticks "$pid")
    tmux -S "$sock" kill-server
    kill "$pid" 2>/dev/null || true
    echo "$t0 $t1 $c0 $c1 $ticks" | awk '{ printf "%.2f %.2f\n", $2 - $1, ($4 - $3) / $5 }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for name in rmosh debian; do
    if [ $name = rmosh ]; then server=$work/mosh-server; else server=$(command -v mosh-server); fi
    : > "$work/$name.txt"
    n=0
    while [ $n -lt "$runs" ]; do
        run_one "$server" >> "$work/$name.txt"
        n=$((n + 1))
    done
    wall=$(awk '{ print $1 }' "$work/$name.txt" | median)
    cpu=$(awk '{ print $2 }' "$work/$name.txt" | median)
    echo "$name: wall ${wall} s, server CPU ${cpu} s (median of $runs; runs: $(awk '{ printf "%s/%s ", $1, $2 }' "$work/$name.txt"))"
done
