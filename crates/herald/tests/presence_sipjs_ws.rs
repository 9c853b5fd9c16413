//! Presence to a SIP.js watcher over SIP over WebSocket (RFC 7118): SIP.js
//! (an independent JavaScript SIP stack, `tests/clients/sipjs/presence.mjs`)
//! connects to herald's `ws:` listener as bob, SUBSCRIBEs to alice's
//! presence (answering the 407 with its own digest code) and must get a
//! NOTIFY, over that WebSocket flow, carrying the PIDF alice PUBLISHed over
//! UDP while registered (her note, basic "open"); then, when alice modifies her publication
//! (SIP-If-Match with her entity tag), a NOTIFY with the new note too;
//! finally it un-SUBSCRIBEs, gets the terminated NOTIFY and exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Server, add_user, run_bounded};
use sip_msg::{HeaderName, SipMessage};
use ua::Ua;

const ALICE: &str = "sip:alice@example.test";
const PACKAGE: &str = "node with tests/clients/sipjs's npm packages \
(npm ci --prefix crates/herald/tests/clients/sipjs)";
const FIRST: &str = "sipjs-first-note-7118";
const SECOND: &str = "sipjs-second-note-3903";
/// Seconds the script itself waits for all notes; the test's own limit is
/// larger so the script's reason is what gets reported.
const SCRIPT_TIMEOUT: u64 = 30;
const LIMIT: Duration = Duration::from_secs(60);

fn pidf(note: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
entity=\"sip:alice@example.test\"><tuple id=\"desk\"><status><basic>open</basic></status>\
<note>{note}</note></tuple></presence>\r\n"
    )
}

/// Alice's or bob's request to alice, answering the 407 (password "secret").
fn authed(
    ua: &Ua,
    user: &str,
    method: &str,
    call_id: &str,
    cseq: &mut u32,
    extra: &str,
    body: &str,
) -> SipMessage {
    ua.request_authed(method, user, "secret", ALICE, call_id, cseq, extra, body)
}

/// alice's PUBLISH (initial, or a modify with `if_match`); the new SIP-ETag.
fn publish(alice: &Ua, cseq: &mut u32, if_match: Option<&str>, note: &str) -> String {
    let mut extra =
        "Event: presence\r\nExpires: 600\r\nContent-Type: application/pidf+xml\r\n".to_owned();
    if let Some(t) = if_match {
        extra.push_str(&format!("SIP-If-Match: {t}\r\n"));
    }
    let call_id = format!("pub-{cseq}@127.0.0.1");
    let r = authed(
        alice,
        "alice",
        "PUBLISH",
        &call_id,
        cseq,
        &extra,
        &pidf(note),
    );
    assert_eq!(r.status(), Some(200), "PUBLISH {note}: {:?}", r.reason());
    r.header(HeaderName::SipETag)
        .expect("a SIP-ETag on the PUBLISH 200")
        .to_owned()
}

/// The node child, killed (by its pid) if still running when dropped: also
/// when an assertion in the test panics while it runs.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn sipjs_watches_alice_over_websocket() {
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
    let alice = Ua::new(s.udp.unwrap());
    // alice is registered (an unregistered presentity is composed closed,
    // whatever she publishes), then publishes her note.
    let mut rcseq = 1;
    let contact = format!("<sip:alice@{}>", alice.addr());
    let r = alice.register(
        "alice",
        "secret",
        "reg-alice@127.0.0.1",
        &mut rcseq,
        Some(&contact),
        "Expires: 600\r\n",
    );
    assert_eq!(r.status(), Some(200), "alice's REGISTER: {:?}", r.reason());
    let mut acseq = 1;
    let etag = publish(&alice, &mut acseq, None, FIRST);

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/sipjs/presence.mjs"
    );
    let url = format!("ws://{}", s.ws.unwrap());
    let started = Instant::now();
    let child = Command::new("node")
        .arg(script)
        .args([
            url.as_str(),
            "bob",
            "secret",
            ALICE,
            &SCRIPT_TIMEOUT.to_string(),
            FIRST,
            SECOND,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): install {PACKAGE}"));
    let mut child = KillOnDrop(child);
    let (tx, lines) = mpsc::channel();
    let stdout = child.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.0.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });

    // Follow the script: once it has seen the first note, alice modifies
    // her publication; then wait for it to exit.
    let mut seen = Vec::new();
    let mut modified = false;
    let mut status = None;
    loop {
        match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                if line == format!("seen 1 {FIRST}") && !modified {
                    publish(&alice, &mut acseq, Some(&etag), SECOND);
                    modified = true;
                }
                seen.push(line);
                continue;
            }
            // stdout closed: the child is exiting; poll it without spinning.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Ok(Some(st)) = child.0.try_wait() {
            status = Some(st);
            // Drain what is left of stdout.
            while let Ok(line) = lines.recv_timeout(Duration::from_millis(500)) {
                seen.push(line);
            }
            break;
        }
        if started.elapsed() > LIMIT {
            break; // killed when `child` drops
        }
    }
    let elapsed = started.elapsed();
    drop(child);
    let log = log.join().unwrap_or_default();
    let stdout = seen.join("\n");
    let report = format!(
        "status {status:?} after {elapsed:?}{}\nstdout:\n{stdout}\nSIP.js log (stderr):\n{log}",
        if status.is_none() {
            " (killed at the test's limit)"
        } else {
            ""
        }
    );

    assert!(
        status.is_some_and(|s| s.success()),
        "SIP.js over WebSocket did not see both notes\n{report}"
    );
    assert!(seen.iter().any(|l| l == "subscribed"), "{report}");
    let first = seen.iter().position(|l| *l == format!("seen 1 {FIRST}"));
    let second = seen.iter().position(|l| *l == format!("seen 2 {SECOND}"));
    assert!(
        first.is_some() && second.is_some() && first < second,
        "SIP.js must see the first note, then the second\n{report}"
    );
    assert!(modified, "alice's modify was never sent\n{report}");
    // Every NOTIFY SIP.js handed to its Subscriber is alice's PIDF.
    let notifies: Vec<&String> = seen.iter().filter(|l| l.starts_with("notify ")).collect();
    assert!(notifies.len() >= 2, "{report}");
    for n in &notifies {
        assert!(n.contains("application/pidf+xml"), "{n}\n{report}");
        assert!(n.contains("sip:alice@example.test"), "{n}\n{report}");
    }
    assert!(
        notifies[0].contains("\"state\":\"active"),
        "the first NOTIFY must be active\n{report}"
    );
    // The un-SUBSCRIBE triggers a final NOTIFY (RFC 6665 §4.2.2).
    let terminated = seen.iter().position(|l| l.starts_with("terminated "));
    assert!(
        terminated.is_some() && terminated > second,
        "SIP.js must get a terminated NOTIFY after its un-SUBSCRIBE\n{report}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("done"), "{report}");
    assert_eq!(s.stop(), Some(0));
}
