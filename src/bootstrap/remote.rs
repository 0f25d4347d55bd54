//! Running commands on the remote side over exec channels: capturing output
//! (optionally feeding stdin with a progress callback), and the pty-backed
//! server launch that stops at `MOSH CONNECT`.

use std::time::Duration;

use russh::ChannelMsg;
use russh::client::{Handle, Handler};

use super::launch::{Scan, Scanner};

/// The output and exit status of a remote command.
#[derive(Debug)]
pub struct Output {
    /// Exit status, if the server sent one.
    pub status: Option<u32>,
    /// stdout and stderr, merged.
    pub bytes: Vec<u8>,
}

/// Runs `cmd` without a pty, sending `input` on stdin (then EOF), and collects
/// everything it prints. `progress(sent, total)` is called as input goes out.
pub async fn exec_capture<H: Handler>(
    handle: &Handle<H>,
    cmd: &str,
    input: Option<&[u8]>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Output, String> {
    let mut ch = handle
        .channel_open_session()
        .await
        .map_err(|e| format!("cannot open an SSH channel: {e}"))?;
    log::debug!("Sending command: {cmd}");
    ch.exec(true, cmd)
        .await
        .map_err(|e| format!("cannot run a remote command: {e}"))?;
    if let Some(data) = input {
        let total = data.len();
        let mut sent = 0;
        for chunk in data.chunks(256 * 1024) {
            ch.data(chunk)
                .await
                .map_err(|e| format!("sending to the remote failed: {e}"))?;
            sent += chunk.len();
            progress(sent, total);
        }
    }
    ch.eof()
        .await
        .map_err(|e| format!("sending to the remote failed: {e}"))?;
    let mut out = Output {
        status: None,
        bytes: Vec::new(),
    };
    while let Some(msg) = ch.wait().await {
        match msg {
            ChannelMsg::Data { data } => out.bytes.extend_from_slice(&data),
            ChannelMsg::ExtendedData { data, .. } => out.bytes.extend_from_slice(&data),
            ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Local terminal size, or 80×24 when stdout is not a terminal.
fn window_size() -> (u32, u32) {
    // SAFETY: winsize is plain data; ioctl fills it or fails.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ on fd 1 with a valid winsize pointer.
    let ok = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col > 0 && ws.ws_row > 0 {
        (u32::from(ws.ws_col), u32::from(ws.ws_row))
    } else {
        (80, 24)
    }
}

/// Runs the server launch command with a pty (like `ssh -tt`) and reads until
/// `MOSH CONNECT`, then until the server says it has detached (briefly), so
/// the server is not hung up on mid-fork.
pub async fn launch_server<H: Handler>(handle: &Handle<H>, cmd: &str) -> Result<Scan, String> {
    let mut ch = handle
        .channel_open_session()
        .await
        .map_err(|e| format!("cannot open an SSH channel: {e}"))?;
    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm".into());
    let (cols, rows) = window_size();
    ch.request_pty(false, &term, cols, rows, 0, 0, &[])
        .await
        .map_err(|e| format!("cannot allocate a remote pty: {e}"))?;
    log::debug!("Sending command: {cmd}");
    ch.exec(true, cmd)
        .await
        .map_err(|e| format!("cannot start the remote server: {e}"))?;
    super::timing::mark("channel open, pty and exec requested");
    let mut scanner = Scanner::new();
    let mut first = true;
    let mut finished = false;
    while let Some(msg) = ch.wait().await {
        match msg {
            ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                if first {
                    super::timing::mark("first remote output");
                    first = false;
                }
                if log::log_enabled!(log::Level::Debug) {
                    for line in remote_lines_for_log(&data) {
                        log::debug!("remote: {line}");
                    }
                }
                if let Err(e) = scanner.feed(&data) {
                    let _ = ch.close().await;
                    return Err(e.to_string());
                }
            }
            ChannelMsg::Eof | ChannelMsg::Close => {
                finished = true;
                break;
            }
            _ => {}
        }
        if scanner.connected() {
            break;
        }
    }
    super::timing::mark("MOSH CONNECT read");
    if !finished && !scanner.detached() {
        // Wait for the parent's detach banner (or the command's end): before
        // it, hanging up the pty could still kill a server that has not yet
        // forked. Nothing after it matters, so the channel's close is not awaited.
        let wait = async {
            while let Some(msg) = ch.wait().await {
                let data = match msg {
                    ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => data,
                    ChannelMsg::Eof | ChannelMsg::Close | ChannelMsg::ExitStatus { .. } => break,
                    _ => continue,
                };
                // After MOSH CONNECT only the detach banner is looked for.
                let _ = scanner.feed(&data);
                if scanner.detached() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), wait).await;
    }
    super::timing::mark("server detached");
    let _ = ch.close().await;
    Ok(scanner.finish())
}

/// The remote's output as lines for `-v`, with the session key hidden.
fn remote_lines_for_log(buf: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(buf)
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .map(|l| match l.split_once("MOSH CONNECT ") {
            Some((before, rest)) => format!(
                "{before}MOSH CONNECT {} [key hidden]",
                rest.split_whitespace().next().unwrap_or("")
            ),
            None => l.to_string(),
        })
        // Control characters are shown escaped, never sent to the terminal.
        .map(|l| {
            l.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_remote_output_hides_the_key() {
        let lines =
            remote_lines_for_log(b"hello\r\n\x1b[0mMOSH CONNECT 60001 VzSpsdwU3gLB52wEoNjlzg\r\n");
        assert_eq!(
            lines,
            ["hello", "\\u{1b}[0mMOSH CONNECT 60001 [key hidden]"]
        );
    }
}
