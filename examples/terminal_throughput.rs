//! Emulator throughput on a mixed corpus: plain text, coloured output
//! (`ls --color`, `git log --graph`) and full-screen redraws (vim, top,
//! htop, man, less), built from tests/corpus.
//!
//! ```text
//! cargo run --release --example terminal_throughput [-- [--mb N] [--write FILE]]
//! ```
//!
//! Prints MB/s for the Mosh-exact emulator, the server's extended emulator,
//! and the server's whole job (extended emulator plus a display diff after
//! every 16 KiB, i.e. far more frames than a session sends). `--write` saves
//! the corpus, for `bench/terminal_throughput.py` to feed a real mosh-server.

use rmosh::terminal::display::{DisplayCaps, new_frame};
use rmosh::terminal::{Emulator, Framebuffer};

fn corpus_file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {}: {e}", path.display());
        std::process::exit(2);
    })
}

/// About `mb` MiB: a third plain text, a third coloured, a third redraws.
fn build_corpus(mb: usize) -> Vec<u8> {
    let third = mb * 1024 * 1024 / 3;
    let mut out = Vec::with_capacity(mb * 1024 * 1024 + 65536);
    let mut n = 0u64;
    while out.len() < third {
        out.extend_from_slice(
            format!(
                "{n:08} the quick brown fox jumps over the lazy dog 0123456789 {}\r\n",
                n * 7919
            )
            .as_bytes(),
        );
        n += 1;
    }
    let colored = [corpus_file("ls.out"), corpus_file("gitlog.out")].concat();
    while out.len() < 2 * third {
        out.extend_from_slice(&colored);
    }
    let redraws = ["vim.out", "top.out", "htop.out", "man.out", "less.out"]
        .map(corpus_file)
        .concat();
    while out.len() < 3 * third {
        out.extend_from_slice(b"\x1b[?1049l\x1b[H\x1b[2J");
        out.extend_from_slice(&redraws);
    }
    out
}

/// CPU time of this thread: the machine may be shared, wall time would lie.
fn cpu_now() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn rate(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / secs
}

fn best_of<F: FnMut() -> f64>(runs: usize, mut f: F) -> f64 {
    (0..runs).map(|_| f()).fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut mb = 30usize;
    let mut write = None;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--mb" => {
                mb = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(mb);
                i += 1;
            }
            "--write" => {
                write = args.get(i + 1).cloned();
                i += 1;
            }
            other => {
                eprintln!("unknown argument {other}; usage: [--mb N] [--write FILE]");
                std::process::exit(2);
            }
        }
        i += 1;
    }
    let corpus = build_corpus(mb.max(1));
    if let Some(path) = write {
        if let Err(e) = std::fs::write(&path, &corpus) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(2);
        }
        println!("wrote {} bytes to {path}", corpus.len());
        return;
    }

    let feed = |extended: bool| {
        let mut e = if extended {
            Emulator::new_server(80, 24)
        } else {
            Emulator::new(80, 24)
        };
        let t = cpu_now();
        for chunk in corpus.chunks(16 * 1024) {
            e.feed(chunk);
            let _ = e.take_replies();
        }
        cpu_now() - t
    };
    let mosh_exact = best_of(3, || feed(false));
    let extended = best_of(3, || feed(true));
    let with_diffs = best_of(3, || {
        let mut e = Emulator::new_server(80, 24);
        let mut last: Framebuffer = e.framebuffer().clone();
        let mut diff_bytes = 0usize;
        let t = cpu_now();
        for chunk in corpus.chunks(16 * 1024) {
            e.feed(chunk);
            let _ = e.take_replies();
            diff_bytes += new_frame(true, &last, e.framebuffer(), &DisplayCaps::MOSH_WIRE).len();
            last = e.framebuffer().clone();
        }
        std::hint::black_box(diff_bytes);
        cpu_now() - t
    });
    // The bulk-output benchmark's `seq 1 2000000` as the pty delivers it
    // (CR LF line ends, reads of at most 4 KiB).
    let seq: Vec<u8> = (1..=2_000_000u32)
        .flat_map(|n| format!("{n}\r\n").into_bytes())
        .collect();
    let seq_secs = best_of(3, || {
        let mut e = Emulator::new_server(80, 24);
        let t = cpu_now();
        for chunk in seq.chunks(4096) {
            e.feed(chunk);
        }
        cpu_now() - t
    });
    let mb_len = corpus.len() as f64 / (1024.0 * 1024.0);
    println!(
        "corpus: {mb_len:.1} MiB (plain text, coloured, full-screen redraws), 80x24, CPU time, best of 3"
    );
    println!(
        "emulator, Mosh-exact:          {:8.1} MiB/s",
        rate(corpus.len(), mosh_exact)
    );
    println!(
        "emulator, extended (server):   {:8.1} MiB/s",
        rate(corpus.len(), extended)
    );
    println!(
        "extended + diff per 16 KiB:    {:8.1} MiB/s",
        rate(corpus.len(), with_diffs)
    );
    println!(
        "seq 1 2000000, extended:       {:8.1} MiB/s ({:.3} s CPU)",
        rate(seq.len(), seq_secs),
        seq_secs
    );
}
