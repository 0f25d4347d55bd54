#!/bin/sh
# A session from a copied static rmosh on a "host" that has no rmosh, no
# mosh-server and no C library: an OpenSSH sshd whose logins are chrooted
# (ChrootDirectory) into a directory holding only busybox-static, /dev, /proc,
# the C.UTF-8 locale's data, the test user's home and a one-line /etc/passwd. `rmosh connect` must find no server there, copy
# itself over SSH (self-deploy), and run the session from that copy.
#
# Usage, as root: tests/bootstrap_static_host.sh STATIC_RMOSH
# Needs: sshd (openssh-server), busybox-static, script (bsdutils), unshare
# (util-linux), the user rmoshtest (.ci/setup.d/bootstrap.sh), and a static rmosh (see docs/bootstrap.md). Everything happens
# in a private mount namespace on a tmpfs, so nothing is left behind.
# Prints the proof lines; exits non-zero if any step fails.
set -eu
BIN=${1:?usage: $0 STATIC_RMOSH}
BIN=$(readlink -f "$BIN")
[ "$(id -u)" = 0 ] || { echo "must run as root (sshd, chroot, mounts)"; exit 1; }
for p in /usr/sbin/sshd:openssh-server /bin/busybox:busybox-static /usr/bin/script:bsdutils \
         /usr/bin/unshare:util-linux /usr/bin/ssh-keygen:openssh-client /usr/bin/python3:python3; do
    [ -x "${p%%:*}" ] || { echo "missing ${p%%:*} (apt-get install ${p#*:})"; exit 1; }
done
# The host must be reachable without the C library: refuse a dynamic binary.
if ! LC_ALL=C ldd "$BIN" 2>&1 | grep -q "not a dynamic executable"; then
    echo "$BIN is not a static executable:"; ldd "$BIN"; exit 1
fi
id rmoshtest >/dev/null 2>&1 || { echo "no user rmoshtest: run .ci/setup.d/bootstrap.sh"; exit 1; }
mkdir -p /run/sshd
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

exec unshare -m --propagation private sh -eu -s "$BIN" "$PORT" <<'INNER'
BIN=$1
PORT=$2
U=rmoshtest
# sshd insists that every component of a chroot path is root-owned and not
# writable by others, which rules out /tmp: use a fresh tmpfs on /mnt.
mount -t tmpfs -o mode=755 rmosh-static-host /mnt
H=/mnt/host
C=/mnt/client
mkdir -p $H/bin $H/dev $H/proc $H/etc $H/home/$U $H/tmp $C/home/.ssh
chown "$U:" $H/home/$U
chmod 1777 $H/tmp
cp /bin/busybox $H/bin/busybox
# The login shell (/bin/sh for the test user) and the tools the deploy
# script uses, all one static busybox.
for t in sh uname cat mkdir chmod mv rm cut sha256sum readlink ls echo find tr head; do
    ln -s busybox $H/bin/$t
done
# A server, Mosh's or ours, needs a UTF-8 locale installed on the host: the
# locale's data files, not the C library.
mkdir -p $H/usr/lib/locale
cp -a /usr/lib/locale/C.utf8 $H/usr/lib/locale/
grep "^$U:" /etc/passwd > $H/etc/passwd
mount --rbind /dev $H/dev
mount -t proc proc $H/proc

ssh-keygen -q -t ed25519 -N '' -f $C/host
ssh-keygen -q -t ed25519 -N '' -f $C/user
cp $C/user.pub $C/authorized_keys
chmod 644 $C/authorized_keys
cat > $C/sshd_config <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $C/host
AuthorizedKeysFile $C/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PidFile none
ChrootDirectory $H
SetEnv PATH=/bin
EOF
/usr/sbin/sshd -D -e -f $C/sshd_config 2>$C/sshd.log &
SSHD=$!
trap 'kill $SSHD 2>/dev/null || true' EXIT
i=0
while ! grep -q "Server listening" $C/sshd.log; do
    i=$((i + 1)); [ $i -lt 200 ] || { cat $C/sshd.log; exit 1; }
    sleep 0.05
done
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 $C/host.pub)" > $C/known_hosts
: > $C/empty_config

echo "== the host has no C library, no rmosh and no mosh-server:"
chroot $H /bin/sh -c 'ls -d /lib* /usr/lib/x86_64-linux-gnu /bin/rmosh /bin/mosh-server 2>&1
    echo "shared objects: $(find / -xdev -name "*.so*" | wc -l)"; echo /bin: $(ls /bin)'
# The remote command prints a marker computed there and which executable
# serves the session (the parent of the command is the server; it is not
# dumpable, so its command line is read rather than /proc/PID/exe).
CMD='echo static-host-$((6*7)); echo server=$(tr "\0" "\n" < /proc/$PPID/cmdline | head -n 1)'
env -i HOME=$C/home LANG=C.UTF-8 TERM=xterm-256color PATH=/usr/bin:/bin \
    script -qfec "stty rows 24 cols 80; exec $BIN connect -F $C/empty_config --ssh-port $PORT \
        -i $C/user -o UserKnownHostsFile=$C/known_hosts $U@127.0.0.1 -- sh -c '$CMD'" \
    /dev/null > $C/session.out 2>&1 || { echo "session failed:"; cat $C/session.out; cat $C/sshd.log; exit 1; }
echo "== the session's output:"
# The progress bar redraws with \r: keep its last state.
tr '\r' '\n' < $C/session.out | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | grep -a 'deploying' | tail -n 1
tr -d '\r' < $C/session.out | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | grep -a -E '^(static-host|server=|\[mosh)' || true
D=$H/home/$U/.local/share/rmosh/bin
echo "== deployed on the host:"
ls -l $D
COPY=$(ls $D/rmosh-* | head -n 1)
cmp "$BIN" "$COPY" && echo "the deployed copy is byte-identical to $BIN"
grep -aq 'static-host-42' $C/session.out || { echo "FAIL: no marker"; exit 1; }
grep -aq "server=/home/$U/.local/share/rmosh/bin/rmosh-" $C/session.out || { echo "FAIL: the session was not served by the deployed copy"; exit 1; }
echo "PASS: a session ran from the copied static rmosh on a host without rmosh or libc"
INNER
