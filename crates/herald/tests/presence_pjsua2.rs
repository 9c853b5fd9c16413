//! Presence between two pjsua2 accounts (pjproject's SIP stack, an
//! independent implementation) through `herald serve`: alice publishes
//! (RFC 3903, answering the 407), bob subscribes to her (RFC 3856) and must
//! see her status and note, then the note change, then her going offline
//! when she unpublishes and unregisters. Over UDP and over TCP. The client
//! side is `tests/clients/pjsua2_presence.py`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Server, add_user, run_bounded};

const PACKAGE: &str = "python3 with the pjsua2 module (pip install pjsua2-python)";

#[test]
fn pjsua2_presence_bob_watches_alice() {
    let check = run_bounded(
        Command::new("python3").args(["-c", "import pjsua2"]),
        Duration::from_secs(30),
        PACKAGE,
    );
    assert!(
        check.status.is_some_and(|s| s.success()),
        "python3 cannot import pjsua2: install {PACKAGE}; .ci/run does\n{}",
        check.stderr
    );
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/pjsua2_presence.py"
    );
    for (t, addr) in [("udp", s.udp.unwrap()), ("tcp", s.tcp.unwrap())] {
        let run = run_bounded(
            Command::new("python3").arg(script).args([
                &addr.to_string(),
                t,
                "example.test",
                "secret",
                "30",
            ]),
            Duration::from_secs(60),
            PACKAGE,
        );
        assert!(
            !run.timed_out && run.status.is_some_and(|s| s.success()),
            "presence alice -> bob over {t}: {:?}{}\nstdout:\n{}\nstderr:\n{}",
            run.status,
            if run.timed_out {
                " (killed after 60 s)"
            } else {
                ""
            },
            run.stdout,
            run.stderr
        );
    }
}
