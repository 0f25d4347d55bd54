//! Keeping a role's secrets (the session key, passwords, passphrases, private
//! keys) out of core files and away from other processes of the same user.

/// Turns core dumps off (`RLIMIT_CORE` 0) and makes the process non-dumpable,
/// which also stops same-user `ptrace` and makes `/proc/PID/environ` and
/// `/proc/PID/mem` readable by root only. Called first thing in every role;
/// `execve` of another program makes it dumpable again (the server's shell
/// gets its core limit back in the pty child).
pub fn keep_memory_private() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid in/out pointer for both calls; prctl with
    // PR_SET_DUMPABLE takes plain integers.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_CORE, &mut lim) == 0 {
            lim.rlim_cur = 0;
            libc::setrlimit(libc::RLIMIT_CORE, &lim);
        }
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Whether the process is dumpable (`PR_GET_DUMPABLE`).
pub fn is_dumpable() -> bool {
    // SAFETY: PR_GET_DUMPABLE takes no pointers.
    unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_process_becomes_non_dumpable_without_core_files() {
        // Applied in a forked child so the test harness itself keeps its settings.
        // SAFETY: the child only calls async-signal-safe functions and _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            keep_memory_private();
            let mut lim = libc::rlimit {
                rlim_cur: 1,
                rlim_max: 1,
            };
            // SAFETY: valid out-pointer; _exit leaves without unwinding.
            unsafe {
                libc::getrlimit(libc::RLIMIT_CORE, &mut lim);
                let ok = !is_dumpable() && lim.rlim_cur == 0;
                libc::_exit(if ok { 0 } else { 1 });
            }
        }
        let mut status = 0;
        // SAFETY: waiting for our own child with a valid status pointer.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }
}
