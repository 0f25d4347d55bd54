#!/bin/sh
# Start-up time: `rmosh connect 127.0.0.1 -- true` against
# `mosh --ssh="ssh -p …" 127.0.0.1 -- true`, same sshd, same run.
#
# Usage (as root, from the repository): bench/startup.sh [RUNS] [RMOSH_BINARY]
#   RMOSH_CLIENT=/usr/bin/mosh-client bench/startup.sh   # rmosh bootstrap + Debian client
#
# Both sides start Debian's mosh-server on the remote (rmosh is not on the
# remote PATH), so the difference is the bootstrap: Perl + OpenSSH + fake
# proxy against rmosh's built-in SSH. Each run is a full session: log in,
# start the server, run `true`, shut down cleanly.
set -eu
RUNS=${1:-10}
RMOSH=${2:-target/release/rmosh}
[ -x "$RMOSH" ] || RMOSH=target/debug/rmosh
[ -x "$RMOSH" ] || { echo "build rmosh first (cargo build --release)"; exit 1; }
RMOSH=$(readlink -f "$RMOSH")
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
RM="$RMOSH connect -F $D/empty_config --ssh-port $PORT -i $D/user -o UserKnownHostsFile=$D/known_hosts $CLIENT_OPT 127.0.0.1 -- true"
MO="mosh --client=$D/client --ssh=\"$SSH\" 127.0.0.1 -- true"

export LANG=C.UTF-8 TERM=xterm-256color
unset SSH_AUTH_SOCK || true

# Runs a command line RUNS times in a pty; prints the mean seconds.
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

R=$(measure "$RM")
M=$(measure "$MO")
echo "runs: $RUNS"
echo "whole session (mean, median) and bootstrap until the client starts (median), seconds:"
echo "rmosh connect: $R"
echo "mosh (Debian): $M"
python3 -c "r='$R'.split(); m='$M'.split(); print('ratio rmosh/mosh: session %.2f, bootstrap %.2f' % (float(r[0])/float(m[0]), float(r[2])/float(m[2])))"
