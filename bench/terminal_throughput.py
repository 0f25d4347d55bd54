#!/usr/bin/env python3
"""Terminal emulator throughput: rmosh's emulator vs Debian's mosh-server.

    python3 bench/terminal_throughput.py [--mb 30]

1. builds the mixed corpus (plain text, coloured output, full-screen
   redraws; examples/terminal_throughput.rs) and rmosh's in-process figures
   with `cargo run --release --example terminal_throughput`;
2. plays the same corpus through a real mosh session on loopback
   (`mosh-server new -- cat corpus`, `mosh-client` in a private tmux) and
   reads the CPU seconds mosh-server spent (/proc/<pid>/stat) until the
   output is drawn; mosh-server's throughput = corpus bytes / CPU seconds.
   Mosh's server runs its emulator plus a display diff per frame (at most
   one frame every 20 ms), so it is compared with rmosh's
   "extended + diff per 16 KiB" figure, which diffs far more often.

Needs mosh-server, mosh-client and tmux (Debian packages mosh, tmux).
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def mosh_server_cpu(corpus, marker):
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("TMUX", None)
    cmd = "stty -echo; cat '%s'; printf '\\r\\n%s'; exec sleep 600" % (corpus, marker)
    out = subprocess.run(
        ["mosh-server", "new", "-i", "127.0.0.1", "-p", str(free_udp_port()), "--", "sh", "-c", cmd],
        capture_output=True, text=True, env=env, check=True)
    pid = int(out.stderr.split("pid = ")[1].split("]")[0])
    line = [l for l in out.stdout.splitlines() if l.startswith("MOSH CONNECT")][0]
    port, key = line.split()[2:4]
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "sock")
        conf = os.path.join(tmp, "conf")
        with open(conf, "w") as f:
            f.write("set -g default-terminal xterm-256color\nset -g status off\n")
        env_client = dict(env, MOSH_KEY=key)
        try:
            start_cpu = cpu_seconds(pid)
            subprocess.run(["tmux", "-S", sock, "-f", conf, "new-session", "-d", "-x", "80", "-y", "24",
                            "mosh-client 127.0.0.1 %s" % port], env=env_client, check=True)
            deadline = time.time() + 600
            while time.time() < deadline:
                time.sleep(0.5)
                screen = subprocess.run(["tmux", "-S", sock, "capture-pane", "-p"],
                                        capture_output=True, text=True).stdout
                if marker in screen:
                    break
            else:
                raise SystemExit("mosh session did not finish")
            return cpu_seconds(pid) - start_cpu
        finally:
            subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True)
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=30)
    args = ap.parse_args()
    example = ["cargo", "run", "-q", "--release", "--example", "terminal_throughput", "--"]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.bin")
        subprocess.run(example + ["--mb", str(args.mb), "--write", corpus], cwd=REPO, check=True)
        size = os.path.getsize(corpus)
        ours = subprocess.run(example + ["--mb", str(args.mb)], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout
        print(ours, end="")
        secs = mosh_server_cpu(corpus, "BENCH-DONE-%d" % os.getpid())
        mib = size / (1024 * 1024)
        print("mosh-server 1.4.0, same corpus: %8.1f MiB/s  (%.2f CPU s for %.1f MiB)" % (mib / secs, secs, mib))
        for line in ours.splitlines():
            if line.startswith("extended + diff"):
                rate = float(line.split()[-2])
                print("ratio rmosh (extended + diffs) / mosh-server: %.1fx" % (rate / (mib / secs)))


if __name__ == "__main__":
    sys.exit(main())
