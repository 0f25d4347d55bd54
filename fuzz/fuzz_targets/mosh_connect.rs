//! What the bootstrap reads back from the remote (rc-file noise, escape
//! sequences, `MOSH SSH_CONNECTION`, `MOSH CONNECT <port> <key>`): a found
//! port and key are well formed and parse again from their own line, and
//! output arriving in pieces never yields a different answer than the whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmosh::bootstrap::launch::{parse_ssh_connection, scan};

fuzz_target!(|data: &[u8]| {
    let whole = scan(data, true);
    if let Some((port, key)) = &whole.connect {
        assert!(*port > 0);
        assert_eq!(key.len(), 22, "{key:?}");
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        );
        let line = format!("MOSH CONNECT {port} {key}\n");
        assert_eq!(scan(line.as_bytes(), false).connect, whole.connect);
    }
    let cut = data
        .first()
        .map_or(0, |&b| data.len() * usize::from(b) / 256);
    let partial = scan(&data[..cut], false);
    if partial.connect.is_some() {
        assert_eq!(partial.connect, whole.connect);
    }
    for line in String::from_utf8_lossy(data).lines().take(64) {
        let _ = parse_ssh_connection(line);
    }
});
