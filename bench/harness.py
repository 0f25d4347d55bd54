"""Process plumbing for the benchmarks: servers, clients in a pty we own,
the impairment relay, and /proc readings. Python standard library only."""

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import time

ROWS, COLS = 24, 80

# CSI, OSC (ended by BEL or ST), two-byte escapes, and other C0 controls.
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[^\[\]]|[\x00-\x08\x0b-\x1f\x7f]"
)


def strip_escapes(data: bytes) -> bytes:
    """The printable text of terminal output (escape sequences removed)."""
    return _ESCAPES.sub(b"", data)


def free_udp_port() -> int:
    """A UDP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0.0
    # The command name may contain spaces; fields resume after ')'.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kb(pid: int) -> dict:
    """Rss and Pss of a process in kB from smaps_rollup (empty if unreadable)."""
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] in ("Rss:", "Pss:"):
                    out[parts[0].rstrip(":").lower()] = int(parts[1])
    except OSError:
        pass
    return out


def kill_pid(pid: int, sig=signal.SIGTERM) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_gone(pid: int, timeout: float) -> bool:
    """Waits for a (non-child) process to disappear."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not os.path.exists(f"/proc/{pid}"):
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.02)
    return False


class Impl:
    """One implementation under test: how to start its server and client."""

    def __init__(self, name, server_argv, client_argv):
        self.name = name
        self.server_argv = server_argv
        self.client_argv = client_argv


class Server:
    """A detached server started with `new`; we kill it by the pid it printed."""

    def __init__(self, impl: Impl, command, env_extra=None, port=None, timeout=20.0):
        self.port = port or free_udp_port()
        env = dict(os.environ)
        env.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"})
        env.pop("MOSH_KEY", None)
        if env_extra:
            env.update(env_extra)
        argv = impl.server_argv + ["new", "-i", "127.0.0.1", "-p", str(self.port), "--"] + command
        self.started = time.monotonic()
        p = subprocess.run(argv, env=env, capture_output=True, timeout=timeout)
        out = p.stdout.decode(errors="replace")
        err = p.stderr.decode(errors="replace")
        m = re.search(r"MOSH CONNECT (\d+) (\S+)", out)
        pm = re.search(r"detached, pid = (\d+)", err)
        if not m or not pm:
            raise RuntimeError(f"{impl.name} server did not start (rc {p.returncode}): {out!r} {err!r}")
        self.port = int(m.group(1))
        self.key = m.group(2)
        self.pid = int(pm.group(1))

    def stop(self):
        kill_pid(self.pid, signal.SIGTERM)
        if not wait_gone(self.pid, 3.0):
            kill_pid(self.pid, signal.SIGKILL)


class PtyClient:
    """A client running in a pty whose master we read with timestamps."""

    def __init__(self, impl: Impl, port: int, key: str, env_extra=None, rows=ROWS, cols=COLS):
        env = dict(os.environ)
        env.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color", "MOSH_KEY": key})
        if env_extra:
            env.update(env_extra)
        argv = impl.client_argv + ["127.0.0.1", str(port)]
        pid, fd = pty.fork()
        if pid == 0:  # child: size the terminal before the client reads it
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        self.started = time.monotonic()
        self.chunks = []  # (time, bytes)
        self.text = bytearray()  # printable text seen so far
        self.raw_len = 0
        self.exit_status = None
        self.closed = False

    def write(self, data: bytes) -> float:
        t = time.monotonic()
        os.write(self.fd, data)
        return t

    def pump(self, timeout: float) -> list:
        """Reads whatever arrives within `timeout`; returns new (time, text) chunks."""
        new = []
        end = time.monotonic() + timeout
        while not self.closed:
            left = end - time.monotonic()
            r, _, _ = select.select([self.fd], [], [], max(0.0, left))
            if not r:
                break
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                data = b""
            t = time.monotonic()
            if not data:
                self.closed = True
                break
            self.raw_len += len(data)
            txt = strip_escapes(data)
            self.chunks.append((t, txt))
            self.text += txt
            new.append((t, txt))
            # Once something arrived, keep draining without waiting.
            end = min(end, time.monotonic())
        return new

    def wait_for(self, needle: bytes, timeout: float, since: int = 0):
        """Time at which `needle` first shows in the text after offset `since`."""
        end = time.monotonic() + timeout
        while True:
            i = self.text.find(needle, since)
            if i >= 0:
                # Find the chunk that completed the needle.
                pos = 0
                for t, txt in self.chunks:
                    pos += len(txt)
                    if pos >= i + len(needle):
                        return t
            left = end - time.monotonic()
            if left <= 0 or self.closed:
                return None
            self.pump(min(left, 0.05))

    def alive(self) -> bool:
        if self.exit_status is not None:
            return False
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == self.pid:
            self.exit_status = status
            return False
        return True

    def wait_exit(self, timeout: float):
        """Time at which the client exited, or None."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.alive():
                return time.monotonic()
            self.pump(0.01)
        return None

    def close(self):
        if self.alive():
            kill_pid(self.pid, signal.SIGTERM)
            if self.wait_exit(2.0) is None:
                kill_pid(self.pid, signal.SIGKILL)
                try:
                    os.waitpid(self.pid, 0)
                except ChildProcessError:
                    pass
        try:
            os.close(self.fd)
        except OSError:
            pass


class Relay:
    """rmosh-relay between a client and a server; speaks its stdin protocol."""

    def __init__(self, relay_bin: str, server_port: int, args=()):
        self.p = subprocess.Popen(
            [relay_bin, "--listen", "127.0.0.1:0", "--server", f"127.0.0.1:{server_port}", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.p.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"relay did not report its port: {line!r}")
        self.port = int(line)

    def cmd(self, c: str) -> str:
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def stats(self) -> dict:
        line = self.cmd("stats")
        out = {}
        for kv in line.split()[1:]:
            k, _, v = kv.partition("=")
            out[k] = int(v)
        return out

    def close(self):
        try:
            self.cmd("quit")
        except (BrokenPipeError, OSError, ValueError):
            pass
        try:
            self.p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
