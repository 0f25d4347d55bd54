#!/usr/bin/env python3
"""rmosh vs Debian's mosh 1.4.0, side by side in one run.

    cargo build --release --features relay   # rmosh and rmosh-relay
    python3 bench/run.py --quick     # a couple of minutes
    python3 bench/run.py             # the full run

Prints a markdown table (medians, ratio rmosh/mosh) and writes it to
bench/out/latest.md. Needs only Python 3 (standard library), Debian's
mosh-server and mosh-client, and a release build; it installs nothing and
says what is missing. See docs/bench.md for what each case measures.
"""

import argparse
import os
import platform
import shutil
import subprocess
import signal
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = b"BENCH-PROMPT$ "
SHELL_ENV = {"PS1": PROMPT.decode(), "ENV": "", "HISTFILE": "/dev/null"}


# ---------------------------------------------------------------- helpers


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def percentile(xs, p):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def typing_text(n_keys, line_len, seed=1):
    """Letters and digits, no character repeated within 10 keys, so a late
    redraw of an earlier key is not mistaken for the echo of a new one;
    Enter (\\r) after every `line_len` keys."""
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789"
    state = seed
    keys = []
    recent = []
    while len(keys) < n_keys:
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        c = alphabet[(state >> 33) % len(alphabet)]
        if c in recent:
            continue
        keys.append(c)
        recent = (recent + [c])[-10:]
    out = []
    for i, c in enumerate(keys):
        out.append(c)
        if (i + 1) % line_len == 0:
            out.append(ord("\r"))
    return bytes(out)


class Session:
    """A server, optionally a relay in front of it, and a client in a pty."""

    def __init__(self, impl, command, relay_bin=None, relay_args=(), client_env=None, server_env=None):
        self.server = h.Server(impl, command, env_extra=server_env)
        self.relay = None
        self.client = None
        try:
            port = self.server.port
            if relay_bin:
                self.relay = h.Relay(relay_bin, port, relay_args)
                port = self.relay.port
            self.client = h.PtyClient(impl, port, self.server.key, env_extra=client_env)
        except Exception:
            self.close()
            raise

    def close(self):
        if self.client:
            self.client.close()
        if self.relay:
            self.relay.close()
        self.server.stop()


def shell_session(impl, cfg, **kw):
    s = Session(impl, ["/bin/sh"], relay_bin=cfg.relay, server_env=SHELL_ENV, **kw)
    if s.client.wait_for(PROMPT, 15) is None:
        s.close()
        raise RuntimeError(f"{impl.name}: no shell prompt on the client within 15 s")
    return s


def type_line(client, text: bytes, timeout=10.0):
    """Types `text` (no Enter) and waits until it is echoed."""
    since = len(client.text)
    client.write(text)
    if client.wait_for(text, timeout, since=since) is None:
        raise RuntimeError(f"command {text!r} was not echoed")


# ------------------------------------------------------------------ cases


def case_bulk(impl, cfg, label, command):
    """Enter → prompt back, CPU of server and client, bytes on the wire."""
    walls, scpu, ccpu, wire = [], [], [], []
    for _ in range(cfg.reps_bulk):
        s = shell_session(impl, cfg)
        try:
            type_line(s.client, command)
            since = len(s.client.text)
            st0, ct0 = h.cpu_seconds(s.server.pid), h.cpu_seconds(s.client.pid)
            b0 = s.relay.stats()
            t0 = s.client.write(b"\r")
            t1 = s.client.wait_for(PROMPT, 180, since=since)
            if t1 is None:
                raise RuntimeError(f"{impl.name}: prompt did not come back after {command!r}")
            # Let the last frames and acks settle before reading counters.
            s.client.pump(0.3)
            walls.append(t1 - t0)
            scpu.append(h.cpu_seconds(s.server.pid) - st0)
            ccpu.append(h.cpu_seconds(s.client.pid) - ct0)
            b1 = s.relay.stats()
            wire.append(sum(b1[k] - b0[k] for k in ("up.bytes", "down.bytes")))
        finally:
            s.close()
    return {
        f"{label}: Enter to prompt (s)": median(walls),
        f"{label}: server CPU (s)": median(scpu),
        f"{label}: client CPU (s)": median(ccpu),
        f"{label}: bytes on the wire (MB)": median(wire) / 1e6 if wire else None,
    }


def measure_typing(client, keys, interval, settle=3.0):
    """Types `keys` every `interval` s regardless of echo; matches each echo
    to its key in order. Returns [(latency_s or None, index_in_line)]."""
    sent = []  # (time, byte, index in line)
    results = {}
    nxt = 0  # next typed key whose echo we are waiting for
    col = 0
    typed = [(k, None) for k in keys]
    i = 0
    t_next = time.monotonic()
    while True:
        now = time.monotonic()
        if i < len(typed) and now >= t_next:
            k = typed[i][0]
            t = client.write(bytes([k]))
            if k == ord("\r"):
                col = 0
            else:
                sent.append((t, k, col))
                col += 1
            i += 1
            t_next += interval
        wait = (t_next - time.monotonic()) if i < len(typed) else settle
        for t, txt in client.pump(max(0.0, min(wait, 0.05))):
            for ch in txt:
                if nxt < len(sent) and ch == sent[nxt][1] and t >= sent[nxt][0]:
                    results[nxt] = t - sent[nxt][0]
                    nxt += 1
        if i >= len(typed):
            if nxt >= len(sent):
                break
            if time.monotonic() - (sent[-1][0] if sent else 0) > settle:
                break
    return [(results.get(j), sent[j][2]) for j in range(len(sent))]


def latency_summary(samples, prefix):
    all_ms = [s * 1000 for s, _ in samples if s is not None]
    first8 = [s * 1000 for s, c in samples if s is not None and c < 8]
    n = len(samples)
    n8 = sum(1 for _, c in samples if c < 8)
    lost = sum(1 for s, _ in samples if s is None)

    def under5(xs, total):
        return 100.0 * sum(1 for x in xs if x < 5.0) / total if total else None

    return {
        f"{prefix} median (ms)": median(all_ms),
        f"{prefix} p90 (ms)": percentile(all_ms, 90),
        f"{prefix} p99 (ms)": percentile(all_ms, 99),
        f"{prefix} % under 5 ms": under5(all_ms, n),
        f"{prefix} first 8 keys median (ms)": median(first8),
        f"{prefix} first 8 keys % under 5 ms": under5(first8, n8),
        f"{prefix} keys never seen": lost,
    }


LINKS = {
    "loopback": [],
    "100ms RTT": ["--delay", "50"],
    "250ms RTT 5% loss": ["--delay", "125", "--loss", "5"],
}


def case_latency(impl, cfg):
    out = {}
    keys = typing_text(cfg.keys, cfg.line_len)
    for link, args in LINKS.items():
        for mode in cfg.modes:
            relay = None if link == "loopback" else cfg.relay
            s = Session(
                impl,
                ["sh", "-c", "printf 'RE''ADY\\n'; exec cat >/dev/null"],
                relay_bin=relay,
                relay_args=args + ["--seed", "7"],
                client_env={"MOSH_PREDICTION_DISPLAY": mode},
            )
            try:
                if s.client.wait_for(b"READY", 15) is None:
                    raise RuntimeError(f"{impl.name}: session not ready")
                s.client.pump(0.5)
                samples = measure_typing(s.client, keys, cfg.key_interval)
            finally:
                s.close()
            out.update(latency_summary(samples, f"keys {link}, {mode}:"))
    return out


def shell_typing_text(n_keys, line_len):
    """Like typing_text, but every line starts with `#`, so the shell
    treats it as a comment and prints nothing but its next prompt."""
    keys = bytearray(typing_text(n_keys, line_len))
    start = True
    for i, k in enumerate(keys):
        if start and k != ord("\r"):
            keys[i] = ord("#")
        start = k == ord("\r")
    return bytes(keys)


def case_latency_shell(impl, cfg):
    """The same typing into an interactive bash (readline: the shell, not
    the kernel, echoes; every Enter prints a new prompt), adaptive mode."""
    out = {}
    keys = shell_typing_text(cfg.keys, cfg.line_len)
    env = dict(SHELL_ENV, INPUTRC="/dev/null")
    for link, args in LINKS.items():
        relay = None if link == "loopback" else cfg.relay
        s = Session(
            impl,
            ["bash", "--norc", "--noprofile", "-i"],
            relay_bin=relay,
            relay_args=args + ["--seed", "7"],
            client_env={"MOSH_PREDICTION_DISPLAY": "adaptive"},
            server_env=env,
        )
        try:
            if s.client.wait_for(PROMPT, 15) is None:
                raise RuntimeError(f"{impl.name}: no bash prompt")
            s.client.pump(0.5)
            samples = measure_typing(s.client, keys, cfg.key_interval)
        finally:
            s.close()
        out.update(latency_summary(samples, f"bash keys {link}, adaptive:"))
    return out


MATRIX_APPS = {
    # name: (command, server env, prompt that shows the line was taken or None)
    "bash": (["bash", "--norc", "--noprofile", "-i"], dict(SHELL_ENV, INPUTRC="/dev/null"), PROMPT),
    "python3": (["python3", "-q"], {}, b">>> "),
    "cat": (["sh", "-c", "printf 'RE''ADY\\n'; exec cat >/dev/null"], {}, None),
}
MATRIX_LINKS = {
    "100ms RTT": (["--delay", "50"], 0.1),
    "250ms RTT 5% loss": (["--delay", "125", "--loss", "5"], 0.25),
}


def matrix_lines(app, n_lines, line_len, seed):
    """Lines that print nothing but the next prompt: bash comments, Python
    assignments, plain text for cat (which writes to /dev/null)."""
    import random

    rnd = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    lines = []
    for i in range(n_lines):
        body = "".join(rnd.choice(letters) for _ in range(line_len))
        if app == "bash":
            body = "#" + body[1:]
        elif app == "python3":
            body = "v" + str(i) + "=" + str(rnd.randrange(10**6))
        lines.append(body.encode())
    return lines


def measure_lines(client, lines, prompt, rtt, first_delay, interval):
    """Types each line `first_delay` s after the previous Enter's answer
    (the prompt; for cat one RTT after Enter) shows, keys `interval` apart,
    matching each echo to its key in order. Returns [(latency_s or None,
    index_in_line)]."""
    samples = []
    for line in lines:
        ready = None
        if prompt is not None:
            # The answer to the previous Enter (or the first prompt).
            ready = client.wait_for(prompt, 10, since=client.prompt_since)
        if ready is None:
            ready = client.enter_at + rtt if client.enter_at else time.monotonic()
        while time.monotonic() < ready + first_delay:
            client.pump(max(0.0, min(0.01, ready + first_delay - time.monotonic())))
        sent = []
        nxt = 0
        t_next = time.monotonic()
        results = {}
        for i, k in enumerate(line + b"\r"):
            while time.monotonic() < t_next:
                for t, txt in client.pump(max(0.0, min(0.01, t_next - time.monotonic()))):
                    for ch in txt:
                        if nxt < len(sent) and ch == sent[nxt][1] and t >= sent[nxt][0]:
                            results[nxt] = t - sent[nxt][0]
                            nxt += 1
            if k == ord("\r"):
                client.prompt_since = len(client.text)
                client.enter_at = client.write(b"\r")
            else:
                sent.append((client.write(bytes([k])), k, i))
            t_next += interval
        end = time.monotonic() + 2.0
        while nxt < len(sent) and time.monotonic() < end:
            for t, txt in client.pump(0.02):
                for ch in txt:
                    if nxt < len(sent) and ch == sent[nxt][1] and t >= sent[nxt][0]:
                        results[nxt] = t - sent[nxt][0]
                        nxt += 1
        if os.environ.get("BENCH_SLOW"):
            slow = [(j, round(1000 * results[j]) if j in results else None) for j in range(len(sent))]
            print("line", line, [x for x in slow if x[1] is None or x[1] >= 5], file=sys.stderr)
        samples += [(results.get(j), sent[j][2]) for j in range(len(sent))]
    return samples


def case_latency_matrix(impl, cfg):
    """Issue #21's typing matrix: app x link x first-key delay x speed,
    adaptive mode, the line typed once the previous answer shows."""
    out = {}
    for app in cfg.matrix_apps:
        command, env, prompt = MATRIX_APPS[app]
        for link in cfg.matrix_links:
            args, rtt = MATRIX_LINKS[link]
            for delay in cfg.matrix_delays:
                for rate in cfg.matrix_rates:
                    s = Session(
                        impl,
                        command,
                        relay_bin=cfg.relay,
                        relay_args=args + ["--seed", "7"],
                        client_env={"MOSH_PREDICTION_DISPLAY": "adaptive"},
                        server_env=env,
                    )
                    try:
                        first = prompt or b"READY"
                        if s.client.wait_for(first, 15) is None:
                            raise RuntimeError(f"{impl.name}: {app} did not start")
                        s.client.prompt_since = 0
                        s.client.enter_at = None
                        lines = matrix_lines(app, cfg.matrix_lines, cfg.line_len_matrix, 7)
                        samples = measure_lines(s.client, lines, prompt, rtt, delay, 1.0 / rate)
                    finally:
                        s.close()
                    label = f"matrix {app}, {link}, first key {delay}s, {rate} keys/s:"
                    summary = latency_summary(samples, label)
                    out[f"{label} % under 5 ms"] = summary[f"{label} % under 5 ms"]
                    out[f"{label} first 8 keys % under 5 ms"] = summary[f"{label} first 8 keys % under 5 ms"]
                    out[f"{label} median (ms)"] = summary[f"{label} median (ms)"]
    return out


def case_startup(impl, cfg):
    times = []
    for _ in range(cfg.reps_startup):
        t0 = time.monotonic()
        srv = h.Server(impl, ["true"])
        c = h.PtyClient(impl, srv.port, srv.key)
        try:
            t1 = c.wait_exit(20)
            if t1 is None:
                raise RuntimeError(f"{impl.name}: session running `true` did not end in 20 s")
            times.append(t1 - t0)
        finally:
            c.close()
            srv.stop()
    return {"start-up, session running `true` (s)": median(times)}


def case_attach(impl, cfg):
    """A new session vs reattaching to a running one (rmosh only: Mosh
    cannot reattach): from the server command to the client showing the
    screen; and the memory of a session whose client is gone."""
    reg = tempfile.mkdtemp(prefix="rmosh-bench-reg-")
    env = dict(SHELL_ENV, RMOSH_TMPDIR=reg)
    new_t, attach_t, detached_rss = [], [], []
    try:
        for i in range(cfg.reps_startup):
            t0 = time.monotonic()
            srv = h.Server(impl, ["/bin/sh"], env_extra=env)
            c = h.PtyClient(impl, srv.port, srv.key)
            try:
                t1 = c.wait_for(PROMPT, 15)
                if t1 is None:
                    raise RuntimeError(f"{impl.name}: no prompt from a new session")
                new_t.append(t1 - t0)
                # Only the shell's output holds the computed mark, not the echo.
                mark = f"ATTACH-MARK-{42 + i}".encode()
                c.write(f"echo ATTACH-MARK-$((42+{i}))\r".encode())
                if c.wait_for(mark, 10) is None:
                    raise RuntimeError("the marker command did not run")
                c.pump(0.3)
                kill_pid_safe(c.pid)
                c.close()
                time.sleep(0.2)
                detached_rss.append(h.memory_kb(srv.pid).get("rss", 0) / 1024)
                if impl.name != "rmosh":
                    continue
                t0 = time.monotonic()
                p = subprocess.run(
                    impl.server_argv + ["attach"],
                    env=dict(os.environ, RMOSH_TMPDIR=reg),
                    capture_output=True,
                    timeout=20,
                )
                m = re.search(rb"MOSH CONNECT (\d+) (\S+)", p.stdout)
                if not m:
                    raise RuntimeError(f"attach failed: {p.stderr!r}")
                c = h.PtyClient(impl, int(m.group(1)), m.group(2).decode())
                t1 = c.wait_for(mark, 15)
                if t1 is None:
                    raise RuntimeError("the reattached client never showed the screen")
                attach_t.append(t1 - t0)
            finally:
                c.close()
                srv.stop()
    finally:
        shutil.rmtree(reg, ignore_errors=True)
    out = {
        "session: new, to the first prompt (ms)": median(new_t) * 1000,
        "session: detached server RSS (MB)": median(detached_rss),
    }
    if attach_t:
        out["session: attach, to the whole screen (ms)"] = median(attach_t) * 1000
        out["session: attach / new (ratio)"] = median(attach_t) / median(new_t)
    return out


def kill_pid_safe(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def case_idle(impl, cfg):
    s = shell_session(impl, cfg)
    try:
        s.client.pump(2.0)
        b0 = s.relay.stats()
        c0 = (h.cpu_seconds(s.server.pid), h.cpu_seconds(s.client.pid))
        t0 = time.monotonic()
        while time.monotonic() - t0 < cfg.idle_seconds:
            s.client.pump(0.5)
        dt = time.monotonic() - t0
        b1 = s.relay.stats()
        c1 = (h.cpu_seconds(s.server.pid), h.cpu_seconds(s.client.pid))
        sm, cm = h.memory_kb(s.server.pid), h.memory_kb(s.client.pid)
        per_min = 60.0 / dt
        pk = sum(b1[k] - b0[k] for k in ("up.packets", "down.packets"))
        by = sum(b1[k] - b0[k] for k in ("up.bytes", "down.bytes"))
        return {
            "idle: server RSS (MB)": sm.get("rss", 0) / 1024,
            "idle: server PSS (MB)": sm.get("pss", 0) / 1024,
            "idle: client RSS (MB)": cm.get("rss", 0) / 1024,
            "idle: client PSS (MB)": cm.get("pss", 0) / 1024,
            "idle: packets per minute": pk * per_min,
            "idle: bytes per minute": by * per_min,
            "idle: server CPU per minute (s)": (c1[0] - c0[0]) * per_min,
            "idle: client CPU per minute (s)": (c1[1] - c0[1]) * per_min,
        }
    finally:
        s.close()


def case_roaming(impl, cfg):
    s = shell_session(impl, cfg, client_env={"MOSH_PREDICTION_DISPLAY": "never"})
    times = []
    try:
        keys = typing_text(cfg.reps_roam, 1000, seed=3)
        for k in keys:
            s.client.pump(1.0)
            ack = s.relay.cmd("rebind")
            if not ack.startswith("ok rebind"):
                raise RuntimeError(f"relay: {ack}")
            since = len(s.client.text)
            t0 = s.client.write(bytes([k]))
            t1 = s.client.wait_for(bytes([k]), 30, since=since)
            times.append(None if t1 is None else t1 - t0)
    finally:
        s.close()
    seen = [t * 1000 for t in times if t is not None]
    return {
        "roaming: rebind to next echo, median (ms)": median(seen),
        "roaming: rebind to next echo, worst (ms)": max(seen) if seen else None,
        "roaming: keys never echoed": len(times) - len(seen),
    }


def case_scale(impl, cfg):
    n = cfg.sessions
    sessions = []
    try:
        for _ in range(n):
            srv = h.Server(impl, ["/bin/sh"], env_extra=SHELL_ENV)
            sessions.append([srv, None])
            sessions[-1][1] = h.PtyClient(impl, srv.port, srv.key)
        deadline = time.monotonic() + 30 + n * 0.2
        for srv, c in sessions:
            if c.wait_for(PROMPT, max(1.0, deadline - time.monotonic())) is None:
                raise RuntimeError(f"{impl.name}: a session of {n} did not show its prompt")
        settle = time.monotonic() + 3
        while time.monotonic() < settle:
            for _, c in sessions:
                c.pump(0)
            time.sleep(0.05)
        cpu0 = sum(h.cpu_seconds(srv.pid) for srv, _ in sessions)
        t0 = time.monotonic()
        while time.monotonic() - t0 < cfg.scale_seconds:
            for _, c in sessions:
                c.pump(0)
            time.sleep(0.2)
        dt = time.monotonic() - t0
        cpu1 = sum(h.cpu_seconds(srv.pid) for srv, _ in sessions)
        mem = [h.memory_kb(srv.pid) for srv, _ in sessions]
        return {
            f"{n} idle sessions: servers' total RSS (MB)": sum(m.get("rss", 0) for m in mem) / 1024,
            f"{n} idle sessions: servers' total PSS (MB)": sum(m.get("pss", 0) for m in mem) / 1024,
            f"{n} idle sessions: servers' CPU per minute (s)": (cpu1 - cpu0) * 60.0 / dt,
        }
    finally:
        for srv, c in sessions:
            if c:
                c.close()
            srv.stop()


CASES = {
    "bulk-seq": lambda impl, cfg: case_bulk(impl, cfg, "seq 1 2000000", b"seq 1 2000000"),
    "bulk-cat": lambda impl, cfg: case_bulk(impl, cfg, "cat 20 MB file", b"cat " + cfg.text_file.encode()),
    "latency": case_latency,
    "latency-shell": case_latency_shell,
    "latency-matrix": case_latency_matrix,
    "startup": case_startup,
    "attach": case_attach,
    "idle": case_idle,
    "roaming": case_roaming,
    "scale": case_scale,
}


# ------------------------------------------------------------- the run


def find_programs(args):
    """The implementations to compare, and a list of what is missing."""
    missing = []
    impls = []
    for prog in ("mosh-server", "mosh-client"):
        if not shutil.which(prog):
            missing.append(f"{prog} (Debian: apt-get install mosh)")
    if "mosh" in args.impls:
        impls.append(h.Impl("mosh", ["mosh-server"], ["mosh-client"]))
    rmosh = args.rmosh or os.path.join(REPO, "target", "release", "rmosh")
    if "rmosh" in args.impls:
        if os.access(rmosh, os.X_OK):
            impls.append(h.Impl("rmosh", [rmosh, "server"], [rmosh, "client"]))
        else:
            missing.append(f"{rmosh} (build it: cargo build --release)")
    relay = args.relay or os.path.join(REPO, "target", "release", "rmosh-relay")
    if not os.access(relay, os.X_OK):
        missing.append(f"{relay} (build it: cargo build --release)")
    return impls, relay, missing


def make_text_file(path, size):
    line_no = 0
    with open(path, "w") as f:
        written = 0
        while written < size:
            line_no += 1
            line = f"{line_no:08d} the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs\n"
            f.write(line)
            written += len(line)


def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def ratio(a, b):
    if a is None or b is None or isinstance(a, str) or isinstance(b, str) or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and shorter windows (a few minutes)")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of: {', '.join(CASES)}")
    ap.add_argument("--impls", default="mosh,rmosh", help="which implementations to run (mosh,rmosh)")
    ap.add_argument("--rmosh", help="rmosh binary (default: target/release/rmosh)")
    ap.add_argument("--relay", help="rmosh-relay binary (default: target/release/rmosh-relay)")
    ap.add_argument("--sessions", type=int, help="number of idle sessions for the scale case (default 200, quick 20)")
    ap.add_argument("--matrix", default="", help="latency-matrix cells as app/link/delay/rate filters, e.g. "
                    "'bash,cat/250/0.05,0.6/7,12' (default: every cell; quick: 0.05 and 0.6 s at 12 keys/s)")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "out"), help="output folder")
    args = ap.parse_args()
    args.impls = [x.strip() for x in args.impls.split(",") if x.strip()]
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}")

    impls, relay, missing = find_programs(args)
    if missing:
        print("bench: missing, nothing was installed:", file=sys.stderr)
        for m in missing:
            print(f"  - {m}", file=sys.stderr)
        return 2

    q = args.quick
    cfg = argparse.Namespace(
        relay=relay,
        reps_bulk=1 if q else 3,
        reps_startup=3 if q else 10,
        reps_roam=3 if q else 10,
        keys=48 if q else 240,
        line_len=24 if q else 40,
        key_interval=0.1,
        modes=["adaptive", "always", "never"],
        idle_seconds=10 if q else 60,
        sessions=args.sessions or (20 if q else 200),
        scale_seconds=10 if q else 60,
    )
    cfg.matrix_apps = list(MATRIX_APPS)
    cfg.matrix_links = list(MATRIX_LINKS)
    cfg.matrix_delays = [0.05, 0.6] if q else [0.05, 0.2, 0.6]
    cfg.matrix_rates = [12] if q else [7, 12]
    cfg.matrix_lines = 4 if q else 8
    cfg.line_len_matrix = 12 if q else 20
    if args.matrix:
        parts = (args.matrix.split("/") + ["", "", "", ""])[:4]
        if parts[0]:
            cfg.matrix_apps = parts[0].split(",")
        if parts[1]:
            cfg.matrix_links = [k for k in MATRIX_LINKS if any(k.startswith(p) for p in parts[1].split(","))]
        if parts[2]:
            cfg.matrix_delays = [float(x) for x in parts[2].split(",")]
        if parts[3]:
            cfg.matrix_rates = [int(x) for x in parts[3].split(",")]
    tmp = tempfile.mkdtemp(prefix="rmosh-bench-")
    cfg.text_file = os.path.join(tmp, "text-20MB.txt")
    results = {i.name: {} for i in impls}
    errors = []
    try:
        if "bulk-cat" in cases:
            make_text_file(cfg.text_file, 20 * 1000 * 1000)
        for case in cases:
            for impl in impls:
                t = time.monotonic()
                print(f"bench: {case} / {impl.name} ...", file=sys.stderr, flush=True)
                try:
                    results[impl.name].update(CASES[case](impl, cfg))
                except Exception as e:  # one broken case must not hide the others
                    errors.append(f"{case} / {impl.name}: {e}")
                    print(f"bench:   failed: {e}", file=sys.stderr, flush=True)
                print(f"bench:   {time.monotonic() - t:.1f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    metrics = []
    for r in results.values():
        for k in r:
            if k not in metrics:
                metrics.append(k)
    names = [i.name for i in impls]
    lines = [
        f"# rmosh vs mosh 1.4.0 — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {cpu_model()}, Linux {platform.release()}. "
        f"Mode: {'quick' if q else 'full'}. Command: `{' '.join(['python3', 'bench/run.py'] + sys.argv[1:])}`.",
        "",
        "| metric | " + " | ".join(names) + (" | rmosh/mosh |" if {"mosh", "rmosh"} <= set(names) else " |"),
        "|---|" + "---:|" * len(names) + ("---:|" if {"mosh", "rmosh"} <= set(names) else ""),
    ]
    for m in metrics:
        row = [fmt(results[n].get(m)) for n in names]
        line = f"| {m} | " + " | ".join(row) + " |"
        if {"mosh", "rmosh"} <= set(names):
            line += f" {ratio(results['rmosh'].get(m), results['mosh'].get(m))} |"
        lines.append(line)
    if errors:
        lines += ["", "Failed cases:", ""] + [f"* {e}" for e in errors]
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(text)
    return 1 if errors else 0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
