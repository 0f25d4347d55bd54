//! The session's end of its registry socket: accepts a command, checks the
//! peer's uid, reads one request and hands it to the event loop, then writes
//! the loop's answer back. Each connection is its own task, so a slow or
//! silent peer never holds up the session.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::control::{MAX_LINE, Request, error_reply};
use super::registry::{my_uid, peer_allowed};

/// How long a peer may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A request for the event loop and where its answer goes.
pub type Pending = (Request, oneshot::Sender<String>);

/// Accepts the next connection and serves it in its own task (never
/// returns without a listener).
pub async fn accept_one(listener: Option<&UnixListener>, to_loop: &mpsc::Sender<Pending>) {
    let Some(listener) = listener else {
        return std::future::pending().await;
    };
    if let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(serve(stream, to_loop.clone()));
    }
}

async fn serve(mut stream: UnixStream, to_loop: mpsc::Sender<Pending>) {
    let allowed = stream
        .peer_cred()
        .is_ok_and(|c| peer_allowed(c.uid(), my_uid()));
    if !allowed {
        let _ = stream
            .write_all(error_reply("permission denied: not your session").as_bytes())
            .await;
        return;
    }
    let reply = match tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut stream)).await {
        Ok(Ok(request)) => {
            let (tx, rx) = oneshot::channel();
            if to_loop.send((request, tx)).await.is_err() {
                error_reply("the session is ending")
            } else {
                rx.await
                    .unwrap_or_else(|_| error_reply("the session is ending"))
            }
        }
        Ok(Err(why)) => error_reply(&why),
        Err(_) => error_reply("no request within 5 seconds"),
    };
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn read_request(stream: &mut UnixStream) -> Result<Request, String> {
    let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX);
    let mut line = String::new();
    BufReader::new(stream.take(limit))
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?;
    Request::parse(&line)
}
