#!/bin/sh
# Setup for tests/bootstrap_*.rs (run as root; idempotent):
# sshd's privilege-separation directory and a password-login test user.
set -eu
mkdir -p /run/sshd
chmod 0755 /run/sshd
if ! id rmoshtest >/dev/null 2>&1; then
    useradd --create-home --home-dir /home/rmoshtest --shell /bin/sh rmoshtest
fi
echo 'rmoshtest:rmosh-test-pw' | chpasswd
# A fresh home for every run, so self-deploy tests start from nothing.
rm -rf /home/rmoshtest/.local/share/rmosh
chmod 0755 /home/rmoshtest
