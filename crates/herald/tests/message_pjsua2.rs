//! Two pjsua2 accounts (pjproject's SIP stack, an independent implementation),
//! alice and bob, exchange page-mode MESSAGEs (RFC 3428) through `herald
//! serve`, over UDP and over TCP, with non-ASCII UTF-8 bodies compared byte
//! for byte (the test passes the body hex-encoded; the script reports, hex
//! again, the bytes bob's `onInstantMessage` got):
//!
//! - both registered: alice's MESSAGE to bob's AOR answers the proxy
//!   challenge (407, RFC 3261 §22.3); bob receives it From alice's AOR with
//!   the same bytes, and alice gets a 2xx (`tests/clients/pjsua2_message.py`);
//! - bob has no account and no binding yet: alice's MESSAGE is stored and
//!   answered 202 Accepted; then bob's account is created and registers, and
//!   his `onInstantMessage` fires once, From alice, with the same bytes and a
//!   Date of the original time (`tests/clients/pjsua2_message_offline.py`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::process::Command;
use std::time::Duration;

use common::{PeerRun, Server, add_user, run_bounded};

const PACKAGE: &str = "python3 with the pjsua2 module (pip install pjsua2-python)";
const LIMIT: Duration = Duration::from_secs(45);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_pjsua2() {
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
}

fn server() -> Server {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
    s
}

/// Runs `tests/clients/SCRIPT ADDR TRANSPORT example.test secret 20 HEX`
/// and asserts it exited 0 within the limit; its run.
fn run_script(script: &str, addr: std::net::SocketAddr, t: &str, body: &str) -> PeerRun {
    let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let run = run_bounded(
        Command::new("python3").arg(path).args([
            &addr.to_string(),
            t,
            "example.test",
            "secret",
            "20",
            &hex(body.as_bytes()),
        ]),
        LIMIT,
        PACKAGE,
    );
    assert!(
        !run.timed_out && run.status.is_some_and(|s| s.success()),
        "{script} over {t}: {:?}{}\nstdout:\n{}\nstderr:\n{}",
        run.status,
        if run.timed_out {
            " (killed after 45 s)"
        } else {
            ""
        },
        run.stdout,
        run.stderr
    );
    run
}

/// The value of the script's `KEY value` stdout line.
fn line<'a>(run: &'a PeerRun, key: &str) -> &'a str {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no '{key}' line\nstdout:\n{}", run.stdout))
}

#[test]
fn pjsua2_message_alice_to_bob_through_the_server() {
    check_pjsua2();
    let s = server();
    for (t, addr) in [("udp", s.udp.unwrap()), ("tcp", s.tcp.unwrap())] {
        let body = format!("Grüße, 三 ✓ — 😀 über {t}");
        let run = run_script("pjsua2_message.py", addr, t, &body);
        assert_eq!(
            line(&run, "received"),
            hex(body.as_bytes()),
            "bob's body byte for byte over {t}"
        );
    }
}

#[test]
fn pjsua2_message_to_offline_bob_is_stored_and_delivered_on_register() {
    check_pjsua2();
    for t in ["udp", "tcp"] {
        // A server each: bob must have no binding at all.
        let s = server();
        let addr = if t == "udp" { s.udp } else { s.tcp }.unwrap();
        let body = format!("gespeichert: Grüße, 三 ✓ — 😀 ({t})");
        let run = run_script("pjsua2_message_offline.py", addr, t, &body);
        assert_eq!(line(&run, "status"), "202", "stored while offline");
        assert_eq!(
            line(&run, "received"),
            hex(body.as_bytes()),
            "the stored body byte for byte over {t}"
        );
        let date = line(&run, "date");
        assert!(
            date.ends_with(" GMT"),
            "the delivered MESSAGE carries the original time, got {date:?}"
        );
        assert_eq!(s.stop(), Some(0));
    }
}
