#!/bin/sh
# Start-up time: `rmosh connect 127.0.0.1 -- true` against
# `mosh --ssh="ssh -p …" 127.0.0.1 -- true`, same sshd, same run.
#
# Usage (as root, from the repository): bench/startup.sh [RUNS] [RMOSH_BINARY]
#   BENCH_USER=root bench/startup.sh      # log in as root (default: rmoshtest)
#   RMOSH_CLIENT=/usr/bin/mosh-client bench/startup.sh   # rmosh bootstrap + Debian client
#
# The binary defaults to the static release build, then target/release, then
# target/debug. Both sides start Debian's mosh-server on the remote, so the
# difference is the bootstrap (Perl + OpenSSH + the wrapper's fake proxy
# against rmosh's built-in SSH) and the client; a third row runs rmosh's own
# server. Each run is a full session: log in, start the server, run `true`,
# shut down cleanly.
#
# The remote login runs the account's shell, and bash sources ~/.bashrc even
# for `ssh host cmd`: whatever that file does is paid by both sides alike and
# is not what this compares. The default account, rmoshtest (made by
# .ci/setup.d/bootstrap.sh), has /bin/sh and no rc files; BENCH_USER=root
# measures with root's rc files instead.
set -eu
RUNS=${1:-10}
RMOSH=${2:-target/x86_64-unknown-linux-gnu/release/rmosh}
[ -x "$RMOSH" ] || RMOSH=target/release/rmosh
[ -x "$RMOSH" ] || RMOSH=target/debug/rmosh
[ -x "$RMOSH" ] || { echo "build rmosh first (see docs/bootstrap.md)"; exit 1; }
RMOSH=$(readlink -f "$RMOSH")
USER_AT=${BENCH_USER:-rmoshtest}
id "$USER_AT" >/dev/null 2>&1 || { echo "no user $USER_AT: run .ci/setup.d/bootstrap.sh"; exit 1; }
for p in /usr/sbin/sshd /usr/bin/mosh /usr/bin/mosh-server /usr/bin/script; do
    [ -x "$p" ] || { echo "missing $p"; exit 1; }
done
mkdir -p /run/sshd

D=$(mktemp -d /tmp/rmosh-bench-startup.XXXXXX)
chmod 755 "$D"
cleanup() { [ -f "$D/sshd.pid" ] && kill "$(cat "$D/sshd.pid")" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT INT TERM
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$D/host"
ssh-keygen -q -t ed25519 -N '' -f "$D/user"
cp "$D/user.pub" "$D/authorized_keys"
chmod 644 "$D/authorized_keys"
cat > "$D/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $D/host
AuthorizedKeysFile $D/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PidFile $D/sshd.pid
EOF
/usr/sbin/sshd -f "$D/sshd_config"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$D/host.pub")" > "$D/known_hosts"
: > "$D/empty_config"

# Both sides exec this stand-in client, which stamps the time the bootstrap
# ended and then runs the real client (Debian's, or rmosh as mosh-client).
REAL_CLIENT=${RMOSH_CLIENT:-}
if [ -z "$REAL_CLIENT" ]; then
    REAL_CLIENT="$D/rmosh-client"
    printf '#!/bin/bash\nexec -a mosh-client %s "$@"\n' "$RMOSH" > "$REAL_CLIENT"
    chmod +x "$REAL_CLIENT"
fi
printf '#!/bin/sh\ndate +%%s.%%N > %s/stamp\nexec %s "$@"\n' "$D" "$REAL_CLIENT" > "$D/client"
chmod +x "$D/client"

SSH="ssh -F $D/empty_config -p $PORT -i $D/user -o UserKnownHostsFile=$D/known_hosts -o BatchMode=yes"
CLIENT_OPT="--client=$D/client"
RMC="$RMOSH connect -F $D/empty_config --ssh-port $PORT -i $D/user -o UserKnownHostsFile=$D/known_hosts $CLIENT_OPT"
RM="$RMC --server=mosh-server $USER_AT@127.0.0.1 -- true 2>>$D/timing"
RR="$RMC --server='$RMOSH server' $USER_AT@127.0.0.1 -- true 2>>$D/timing-own"
MO="mosh --client=$D/client --ssh=\"$SSH\" $USER_AT@127.0.0.1 -- true"

export LANG=C.UTF-8 TERM=xterm-256color RMOSH_TIMING=1
unset SSH_AUTH_SOCK || true

# Runs a command line RUNS times in a pty; prints the mean and median
# seconds of the whole session and the median until the client started.
measure() {
    python3 - "$RUNS" "$1" "$D/stamp" <<'PY'
import subprocess, sys, time
runs, cmd, stamp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
times, boots = [], []
for _ in range(runs):
    t = time.monotonic()
    t0 = time.time()
    r = subprocess.run(["script", "-qfec", "stty rows 24 cols 80; " + cmd, "/dev/null"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.monotonic() - t)
    boots.append(float(open(stamp).read()) - t0)
    if r.returncode != 0:
        print("FAILED", r.returncode, cmd, file=sys.stderr)
        sys.exit(1)
times.sort()
boots.sort()
print("%.3f %.3f %.3f" % (sum(times) / len(times), times[len(times) // 2], boots[len(boots) // 2]))
PY
}

# Median time of each bootstrap phase over the runs (RMOSH_TIMING lines).
phases() {
    python3 - "$1" <<'PY'
import sys
runs, cur = [], None
for line in open(sys.argv[1], errors="replace"):
    if not line.startswith("rmosh-timing: "):
        continue
    _, wall, rel, phase = line.rstrip("\n").split(" ", 3)
    ms = float(rel.lstrip("+").rstrip("ms"))
    if phase == "start":
        cur = []
        runs.append(cur)
    if cur is not None:
        cur.append((phase, ms))
names = [p for p, _ in runs[0]] if runs else []
for i, name in enumerate(names):
    deltas = sorted(r[i][1] - (r[i - 1][1] if i else 0.0) for r in runs if len(r) > i and r[i][0] == name)
    if deltas:
        print("  %7.1f ms  %s" % (deltas[len(deltas) // 2], name))
PY
}

R=$(measure "$RM")
O=$(measure "$RR")
M=$(measure "$MO")
echo "runs: $RUNS, remote user: $USER_AT, rmosh: $RMOSH"
echo "whole session (mean, median) and bootstrap until the client starts (median), seconds:"
echo "rmosh connect (mosh-server): $R"
echo "rmosh connect (rmosh server): $O"
echo "mosh (Debian):               $M"
python3 -c "r='$R'.split(); o='$O'.split(); m='$M'.split(); print('ratio rmosh/mosh: session %.2f, bootstrap %.2f; with rmosh server: session %.2f' % (float(r[0])/float(m[0]), float(r[2])/float(m[2]), float(o[0])/float(m[0])))"
echo "rmosh bootstrap phases (median per phase, mosh-server runs):"
phases "$D/timing"
