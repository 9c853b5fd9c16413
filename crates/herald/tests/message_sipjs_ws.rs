//! Page-mode instant messaging (RFC 3428) between two SIP.js user agents
//! over SIP over WebSocket (RFC 7118): SIP.js (an independent JavaScript
//! SIP stack, `tests/clients/sipjs/message.mjs`) runs alice and bob, each on
//! its own WebSocket to herald's `ws:` listener, each answering the digest
//! challenges (401 on REGISTER, 407 on MESSAGE) with its own code.
//!
//! - alice, registered, sends a UTF-8 MESSAGE to bob while bob has no
//!   binding: 202 Accepted (stored);
//! - bob registers over his WebSocket: the stored message reaches his
//!   `onMessage` over that flow, From alice, with its Content-Type, a Date
//!   (the original time) and the body byte for byte;
//! - alice sends another while bob is registered: 200 from bob, the body
//!   byte for byte;
//! - bob sends one back to alice the same way: 200, byte for byte.
//!
//! The bodies travel to the script hex-encoded and come back as the hex of
//! what SIP.js handed its delegate, so the comparison is of bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, add_user, run_bounded};

const PACKAGE: &str = "node with tests/clients/sipjs's npm packages \
(npm ci --prefix crates/herald/tests/clients/sipjs)";
/// Seconds the script itself allows; the test's bound is larger so the
/// script's own reason is what gets reported.
const SCRIPT_TIMEOUT: u64 = 30;
const LIMIT: Duration = Duration::from_secs(60);

const BODIES: [&str; 3] = [
    "stored for bob: Grüße, 三 ✓ — 😀",
    "live to bob: naïve café, Ελληνικά, 日本語 🎉",
    "bob back to alice: ¡Hola! Здравствуйте ✓\u{1F600}",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex from the script"))
        .collect()
}

/// `%XX` decoding of the script's `encodeURIComponent` values.
fn uri_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// A `received USER N k=v ...` line: (user, fields).
fn received(line: &str) -> Option<(String, HashMap<String, String>)> {
    let rest = line.strip_prefix("received ")?;
    let mut parts = rest.split(' ');
    let user = parts.next()?.to_owned();
    let _n = parts.next()?;
    let fields = parts
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), uri_decode(v)))
        .collect();
    Some((user, fields))
}

#[test]
fn sipjs_alice_and_bob_exchange_utf8_messages_over_websocket() {
    let check = run_bounded(
        Command::new("node")
            .args([
                "--input-type=module",
                "-e",
                "await import('sip.js'); await import('ws')",
            ])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/sipjs")),
        Duration::from_secs(30),
        PACKAGE,
    );
    assert!(
        check.status.is_some_and(|s| s.success()),
        "node cannot load sip.js and ws: install {PACKAGE}; .ci/run does\n{}",
        check.stderr
    );

    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/sipjs/message.mjs"
    );
    let url = format!("ws://{}", s.ws.unwrap());
    let started = Instant::now();
    let run = run_bounded(
        Command::new("node").arg(script).args([
            url.as_str(),
            "example.test",
            "secret",
            &SCRIPT_TIMEOUT.to_string(),
            &hex(BODIES[0].as_bytes()),
            &hex(BODIES[1].as_bytes()),
            &hex(BODIES[2].as_bytes()),
        ]),
        LIMIT,
        PACKAGE,
    );
    let report = format!(
        "status {:?} after {:?}{}\nstdout:\n{}\nSIP.js log (stderr):\n{}",
        run.status,
        started.elapsed(),
        if run.timed_out {
            " (killed at the test's limit)"
        } else {
            ""
        },
        run.stdout,
        run.stderr
    );
    assert!(
        !run.timed_out && run.status.is_some_and(|s| s.success()),
        "SIP.js MESSAGE exchange over WebSocket did not complete\n{report}"
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.last().copied(), Some("done"), "{report}");

    // The senders' final responses: stored (202) while bob was offline,
    // then 2xx from the recipient's own SIP.js.
    let sent = |who: &str, n: usize| -> u16 {
        let prefix = format!("sent {who} {n} ");
        let line = lines
            .iter()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no final response to {who}'s MESSAGE {n}\n{report}"));
        line[prefix.len()..][..3].parse().unwrap()
    };
    assert_eq!(sent("alice", 1), 202, "bob offline: stored\n{report}");
    assert_eq!(sent("alice", 2), 200, "{report}");
    assert_eq!(sent("bob", 3), 200, "{report}");

    let got: Vec<(String, HashMap<String, String>)> =
        lines.iter().filter_map(|l| received(l)).collect();
    assert_eq!(
        got.len(),
        3,
        "exactly three deliveries (the stored one once)\n{report}"
    );
    let expect = [("bob", "alice"), ("bob", "alice"), ("alice", "bob")];
    for (i, ((to, fields), (want_to, want_from))) in got.iter().zip(expect).enumerate() {
        assert_eq!(to, want_to, "delivery {} went to {to}\n{report}", i + 1);
        assert_eq!(
            unhex(&fields["hex"]),
            BODIES[i].as_bytes(),
            "body {} byte for byte\n{report}",
            i + 1
        );
        assert_eq!(
            fields["from"],
            format!("sip:{want_from}@example.test"),
            "{report}"
        );
        assert_eq!(fields["type"], "text/plain;charset=UTF-8", "{report}");
    }
    // The stored one carries the time it was sent (RFC 3261 §20.17).
    assert!(
        got[0].1["date"].ends_with(" GMT"),
        "the stored MESSAGE has a Date\n{report}"
    );
    // Stored delivery follows bob's REGISTER; the live one follows the
    // stored one.
    let pos = |p: &str| lines.iter().position(|l| l.starts_with(p)).unwrap();
    assert!(pos("sent alice 1 ") < pos("received bob 1 "), "{report}");
    assert!(pos("received bob 1 ") < pos("received bob 2 "), "{report}");
    assert_eq!(s.stop(), Some(0));
}
