#!/usr/bin/env python3
"""Record the corpus: real programs run in an 80x24 tmux pane.

For each scenario, the program's raw output (tmux pipe-pane) is saved as
<name>.out, and tmux's view of the final screen (capture-pane -p -e, with the
cursor position on the first line) as <name>.tmux (trailing blanks kept, for their colours). tests/terminal_corpus.rs
replays the .out files through rmosh's emulator and checks the screens;
tests/terminal_vs_mosh.rs replays them through Debian's real mosh.

Usage: python3 tests/corpus/record.py [name ...]   (needs tmux, vim, less,
man, top, htop, git, python3; Debian packages tmux vim less man-db procps
htop git python3)
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MOSH_REPO = "/work/.mirror/mobile-shell+mosh/repo"

DEMO_PY = '''import sys


def greet(name: str) -> str:
    """Return a greeting."""
    return f"Hello, {name}!"


class Counter:
    def __init__(self):
        self.n = 0

    def tick(self):
        self.n += 1
        return self.n


if __name__ == "__main__":
    print(greet(sys.argv[1] if len(sys.argv) > 1 else "world"))
'''

ENTER = "Enter"
ESC = "Escape"

# name -> (shell command, [(seconds to wait, keys...)])
SCENARIOS = {
    "vim": (
        "vim -N -u DEFAULTS -i NONE demo.py",
        [
            (1.0, ":syntax on", ENTER),
            (0.3, ":set number", ENTER),
            (0.3, "G", "o"),
            (0.2, "# edited in vim: é, 中文, emoji 😀"),
            (0.2, ESC),
            (0.3, ":split", ENTER),
            (0.3, "gg"),
            (0.3, ":vsplit", ENTER),
            (0.3, "5j"),
            (0.5,),
        ],
    ),
    "less": (
        "less -R /usr/share/common-licenses/GPL-3",
        [(0.8, "/freedom", ENTER), (0.4, "n"), (0.4, "n"), (0.5,)],
    ),
    "man": (
        "env MANPAGER='less -R' MANWIDTH=80 man ls",
        [(1.5, " "), (0.5, "/sort", ENTER), (0.6,)],
    ),
    "top": ("top -d 0.5", [(1.8,)]),
    "htop": ("htop -d 5", [(2.0,)]),
    "ls": ("ls --color=always -l -a /etc/ssl /usr/share/man; sleep 30", [(0.8,)]),
    "gitlog": (
        "git -C %s --no-pager log --graph --color=always --decorate --oneline -n 30 mosh-1.4.0; sleep 30"
        % MOSH_REPO,
        [(1.0,)],
    ),
    "python": (
        "python3 -q",
        [
            (0.8, "for i in range(3):", ENTER),
            (0.2, "    print(i, 'é' * i)", ENTER),
            (0.2, ENTER),
            (0.4, "[x ** 2 for x in range(25)]", ENTER),
            (0.4, "import sys; sys.maxsize", ENTER),
            (0.2, "'abc'.upper(", ENTER),
            (0.3, ")", ENTER),
            (0.6,),
        ],
    ),
}


def tmux(sock, *args, capture=False):
    cmd = ["tmux", "-S", sock, *args]
    if capture:
        return subprocess.run(cmd, check=True, capture_output=True).stdout
    subprocess.run(cmd, check=True)
    return b""


def record(name, command, steps):
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "demo.py"), "w") as f:
            f.write(DEMO_PY)
        conf = os.path.join(tmp, "tmux.conf")
        with open(conf, "w") as f:
            f.write("set -g default-terminal xterm-256color\nset -g status off\n")
        sock = os.path.join(tmp, "sock")
        out = os.path.join(HERE, name + ".out")
        env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", HOME=tmp)
        env.pop("TMUX", None)
        subprocess.run(
            ["tmux", "-S", sock, "-f", conf, "new-session", "-d", "-x", "80", "-y", "24",
             "-c", tmp, "sh -c 'sleep 0.6; %s'" % command.replace("'", "'\\''")],
            check=True, env=env)
        try:
            tmux(sock, "pipe-pane", "-o", "cat > '%s'" % out)
            for step in steps:
                time.sleep(step[0])
                for keys in step[1:]:
                    if keys in (ENTER, ESC):
                        tmux(sock, "send-keys", keys)
                    else:
                        tmux(sock, "send-keys", "-l", keys)
            time.sleep(0.3)
            tmux(sock, "pipe-pane")
            pos = tmux(sock, "display", "-p", "#{cursor_y} #{cursor_x}", capture=True)
            screen = tmux(sock, "capture-pane", "-p", "-e", "-N", capture=True)
            with open(os.path.join(HERE, name + ".tmux"), "wb") as f:
                f.write(b"cursor " + pos)
                f.write(screen)
        finally:
            subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True)
    print("%s: %d bytes" % (name, os.path.getsize(out)))


def main():
    names = sys.argv[1:] or list(SCENARIOS)
    for n in names:
        command, steps = SCENARIOS[n]
        record(n, command, steps)


if __name__ == "__main__":
    main()
