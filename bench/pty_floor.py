#!/usr/bin/env python3
"""What `seq 1 2000000` costs with no terminal emulator at all.

    python3 bench/pty_floor.py [RUNS]

Runs `seq 1 2000000` on a fresh pty whose master is read by this script
and thrown away (64 KiB reads, nothing else), and prints the median over
RUNS (default 5) of: the wall time until `seq` exits, `seq`'s CPU seconds,
and the kernel CPU seconds of the reader. These are floors for the
bulk-seq benchmark: no server can finish sooner than `seq` writes its two
million lines into a pty, and none can read them for less kernel time.
Needs only Python 3 and `seq`.
"""

import os
import pty
import resource
import statistics
import subprocess
import sys
import time


def one_run():
    master, slave = pty.openpty()
    before = resource.getrusage(resource.RUSAGE_SELF)
    kids_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    child = subprocess.Popen(
        ["seq", "1", "2000000"], stdin=slave, stdout=slave, stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    total = 0
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the slave side is closed
            break
        if not chunk:
            break
        total += len(chunk)
    child.wait()
    wall = time.monotonic() - start
    os.close(master)
    after = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    seq_cpu = (kids.ru_utime - kids_before.ru_utime) + (kids.ru_stime - kids_before.ru_stime)
    reader_sys = after.ru_stime - before.ru_stime
    return wall, seq_cpu, reader_sys, total


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    results = [one_run() for _ in range(runs)]
    med = lambda i: statistics.median(r[i] for r in results)
    print(f"seq 1 2000000 into a pty, reader discards ({results[0][3]} bytes), median of {runs}:")
    print(f"  wall until seq exits: {med(0):.2f} s")
    print(f"  seq's CPU:            {med(1):.2f} s")
    print(f"  reader's kernel CPU:  {med(2):.2f} s")


if __name__ == "__main__":
    main()
