#!/bin/sh
# Time to a working session when UDP is blocked (issue #16): whole sessions
# of `rmosh connect 127.0.0.1 -- true` against one sshd in one run, with
#   udp   --transport udp, UDP open (the normal start-up),
#   auto  the default, UDP open,
#   ssh   the default with the client's UDP to the server port dropped by
#         nftables: the session falls back to the SSH connection.
# The goal: ssh at most 2 s slower than udp.
#
# Usage (as root, from the repository): bench/transport_fallback.sh [RUNS] [RMOSH]
# Needs sshd, nft (nftables) and the rmoshtest user (.ci/setup.d/bootstrap.sh).
set -eu
RUNS=${1:-5}
RMOSH=${2:-target/release/rmosh}
[ -x "$RMOSH" ] || RMOSH=target/debug/rmosh
RMOSH=$(readlink -f "$RMOSH")
for p in /usr/sbin/sshd /usr/sbin/nft /usr/bin/script; do
    [ -x "$p" ] || { echo "missing $p"; exit 1; }
done
id rmoshtest >/dev/null 2>&1 || { echo "no user rmoshtest: run .ci/setup.d/bootstrap.sh"; exit 1; }
mkdir -p /run/sshd
D=$(mktemp -d /tmp/rmosh-bench-fallback.XXXXXX)
chmod 755 "$D"
TABLE=rmosh_bench_fb_$$
cleanup() {
    nft delete table inet "$TABLE" 2>/dev/null || true
    [ -f "$D/sshd.pid" ] && kill "$(cat "$D/sshd.pid")" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT INT TERM
free() { python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.$1); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
PORT=$(free SOCK_STREAM)
UPORT=$(free SOCK_DGRAM)
ssh-keygen -q -t ed25519 -N '' -f "$D/host"
ssh-keygen -q -t ed25519 -N '' -f "$D/user"
cp "$D/user.pub" "$D/authorized_keys"
chmod 644 "$D/authorized_keys"
printf 'Port %s\nListenAddress 127.0.0.1\nHostKey %s/host\nAuthorizedKeysFile %s/authorized_keys\nStrictModes no\nUsePAM no\nPidFile %s/sshd.pid\n' \
    "$PORT" "$D" "$D" "$D" > "$D/sshd_config"
/usr/sbin/sshd -f "$D/sshd_config"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$D/host.pub")" > "$D/known_hosts"
: > "$D/empty_config"
export LANG=C.UTF-8 TERM=xterm-256color
unset SSH_AUTH_SOCK || true
RMC="$RMOSH connect -F $D/empty_config --ssh-port $PORT -i $D/user -o UserKnownHostsFile=$D/known_hosts -p $UPORT --server='$RMOSH server' rmoshtest@127.0.0.1"

measure() {
    python3 - "$RUNS" "$1" <<'PY'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2]
times = []
for _ in range(runs):
    t = time.monotonic()
    r = subprocess.run(["script", "-qfec", "stty rows 24 cols 80; " + cmd, "/dev/null"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.monotonic() - t)
    if r.returncode != 0:
        print("FAILED", r.returncode, cmd, file=sys.stderr)
        sys.exit(1)
times.sort()
print("%.3f" % times[len(times) // 2])
PY
}

U=$(measure "$RMC --transport udp -- true")
A=$(measure "$RMC -- true")
nft add table inet "$TABLE"
nft add chain inet "$TABLE" out '{ type filter hook output priority 0 ; }'
nft add rule inet "$TABLE" out meta skuid 0 udp dport "$UPORT" drop
S=$(measure "$RMC -- true")
echo "runs: $RUNS, rmosh: $RMOSH; median whole session (log in, start, run true, shut down), seconds:"
echo "udp (UDP open, --transport udp): $U"
echo "auto (UDP open):                 $A"
echo "auto (UDP blocked, SSH path):    $S"
python3 -c "print('UDP blocked costs %+.3f s over the normal start-up (goal: at most +2 s)' % ($S - $U))"
