//! The connection info overlay (Ctrl-^ i): shown by the rmosh client with the
//! link's figures, taken down by the next key, and never seen by the
//! application, which logs every byte it reads.

mod support;

use std::time::Duration;

use support::mosh::Impl;
use support::typing_app::*;

#[test]
fn info_overlay_shows_link_figures_and_never_reaches_the_application() {
    let s = Session::start(Impl::Rmosh, "info");
    let c = s.client(Impl::Rmosh, s.server.port);
    c.type_text("ab");
    assert_eq!(wait_log(&s.log, 2, Duration::from_secs(10)), b"ab");
    c.bytes(&[0x1e]);
    c.bytes(b"i");
    let screen = c.wait_text("server unknown", Duration::from_secs(10));
    for want in [
        "mosh: RTT ",
        "\u{b1}",
        " ms, loss ",
        "%, contact ",
        " s ago, udp, ",
    ] {
        assert!(screen.contains(want), "overlay lacks {want:?}:\n{screen}");
    }
    // The next key closes the overlay and is typed as usual.
    c.type_text("c");
    c.wait_for("overlay gone", Duration::from_secs(10), |t| {
        !t.contains("server unknown")
    });
    c.type_text("d");
    let log = wait_log(&s.log, 4, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        read_log(&s.log),
        b"abcd",
        "the application saw something of the escape sequence: {log:?}"
    );
}
