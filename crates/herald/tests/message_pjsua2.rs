//! Two pjsua2 accounts (pjproject's SIP stack, an independent implementation),
//! alice and bob, register with digest; alice sends a page-mode MESSAGE
//! (RFC 3428) to bob's AOR through `herald serve`, answering the proxy
//! challenge (407, RFC 3261 §22.3); bob must receive it from alice's AOR with
//! the same body, and alice must get a 2xx. Over UDP and over TCP. The client
//! side is `tests/clients/pjsua2_message.py`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Server, add_user, run_bounded};

const PACKAGE: &str = "python3 with the pjsua2 module (pip install pjsua2-python)";

#[test]
fn pjsua2_message_alice_to_bob_through_the_server() {
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
        "/tests/clients/pjsua2_message.py"
    );
    for (t, addr) in [("udp", s.udp.unwrap()), ("tcp", s.tcp.unwrap())] {
        let run = run_bounded(
            Command::new("python3").arg(script).args([
                &addr.to_string(),
                t,
                "example.test",
                "secret",
                "20",
            ]),
            Duration::from_secs(45),
            PACKAGE,
        );
        assert!(
            !run.timed_out && run.status.is_some_and(|s| s.success()),
            "MESSAGE alice -> bob over {t}: {:?}{}\nstdout:\n{}\nstderr:\n{}",
            run.status,
            if run.timed_out {
                " (killed after 45 s)"
            } else {
                ""
            },
            run.stdout,
            run.stderr
        );
    }
}
