//! Page-mode store-and-forward (RFC 3428 with Herald's silo) against the
//! real `herald` binary over UDP: a MESSAGE for a user with no binding (or
//! whose every device answers 480) is stored and answered 202; it is
//! delivered on her next REGISTER — across a server restart — in the
//! original order, with the original From, Content-Type and body and a Date
//! of the original time, exactly once; failed deliveries are retried; the
//! quota, the expiry (with an RFC 5438 failure report) and the size limit
//! hold; is-composing and empty messages are never stored; and the server's
//! own requests never loop.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::time::Duration;

use common::{Server, TempFile, add_user};
use sip_msg::{HeaderName, SipMessage};
use ua::Ua;

const BOB: &str = "sip:bob@example.test";

fn config(im: &str) -> TempFile {
    TempFile::new("im.toml", &format!("[im]\n{im}\n"))
}

fn users(s: &Server) {
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
}

/// alice sends a MESSAGE to `to` with this body and extra headers.
fn send(alice: &Ua, to: &str, call_id: &str, extra: &str, body: &str) -> SipMessage {
    let mut cseq = 1;
    alice.request_authed(
        "MESSAGE", "alice", "secret", to, call_id, &mut cseq, extra, body,
    )
}

fn register(u: &Ua, user: &str, call_id: &str) {
    let contact = format!("<sip:{user}@{}>", u.addr());
    let mut cseq = 1;
    let r = u.register(user, "secret", call_id, &mut cseq, Some(&contact), "");
    assert_eq!(r.status(), Some(200), "REGISTER {user}: {r:?}");
}

/// Receives the next `n` MESSAGEs, answering each with `status`.
fn receive(u: &Ua, n: usize, status: u16) -> Vec<SipMessage> {
    let mut got = Vec::new();
    while got.len() < n {
        let m = u
            .request("MESSAGE", Duration::from_secs(10))
            .unwrap_or_else(|| panic!("only {} of {n} MESSAGEs arrived", got.len()));
        u.answer(&m, status, if status == 200 { "OK" } else { "Nope" }, "");
        got.push(m);
    }
    got
}

const CPIM: &str = "From: Alice <im:alice@example.test>\r\nTo: Bob <im:bob@example.test>\r\n\
NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: m-42\r\nDateTime: 2026-12-05T10:00:00Z\r\n\
imdn.Disposition-Notification: positive-delivery, negative-delivery\r\n\r\n\
Content-Type: text/plain;charset=UTF-8\r\n\r\nGrüße aus dem Silo ✓";

#[test]
fn offline_messages_survive_a_restart_and_arrive_in_order_exactly_once() {
    let mut s = Server::start(&[]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    let bodies = ["first ✓", "zweite Nachricht: äöü", "third — 三"];
    for (i, b) in bodies.iter().enumerate() {
        let r = send(
            &alice,
            BOB,
            &format!("sf-{i}"),
            "Content-Type: text/plain;charset=UTF-8\r\n",
            b,
        );
        assert_eq!(r.status(), Some(202), "stored: {r:?}");
    }
    let r = send(
        &alice,
        BOB,
        "sf-cpim",
        "Content-Type: message/cpim\r\n",
        CPIM,
    );
    assert_eq!(r.status(), Some(202));
    // Never stored: is-composing indications and empty messages.
    let composing = "<?xml version=\"1.0\"?><isComposing xmlns=\"urn:ietf:params:xml:ns:im-iscomposing\"><state>active</state></isComposing>";
    let r = send(
        &alice,
        BOB,
        "sf-comp",
        "Content-Type: application/im-iscomposing+xml\r\n",
        composing,
    );
    assert_eq!(r.status(), Some(480), "{r:?}");
    assert!(r.reason().unwrap_or("").contains("is-composing"), "{r:?}");
    let r = send(&alice, BOB, "sf-empty", "", "");
    assert_eq!(r.status(), Some(480), "{r:?}");

    // Restart: what was answered 202 is on disk.
    assert_eq!(s.stop_keeping_data(), Some(0));
    let s = Server::start_in(&s.data_dir, &[]);
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "sf-reg");
    let got = receive(&bob, 4, 200);
    for (m, b) in got.iter().zip(bodies) {
        assert_eq!(&m.body()[..], b.as_bytes());
        assert_eq!(
            m.header(HeaderName::ContentType),
            Some("text/plain;charset=UTF-8")
        );
        let from = m.from().unwrap();
        assert_eq!(from.addr.uri.to_string(), "sip:alice@example.test");
        // RFC 3261 §20.17: the time it was sent, not now.
        assert!(
            m.header(HeaderName::Date)
                .is_some_and(|d| d.ends_with(" GMT")),
            "{m:?}"
        );
        assert_eq!(m.to().unwrap().addr.uri.to_string(), BOB);
    }
    assert_eq!(&got[3].body()[..], CPIM.as_bytes());
    assert_eq!(got[3].header(HeaderName::ContentType), Some("message/cpim"));
    // Exactly once: nothing more, not even after another REGISTER.
    assert!(bob.request("MESSAGE", Duration::from_secs(2)).is_none());
    register(&bob, "bob", "sf-reg2");
    assert!(bob.request("MESSAGE", Duration::from_secs(2)).is_none());
}

#[test]
fn a_message_every_device_refuses_with_480_is_stored_and_retried() {
    let cfg = config("retry_base_secs = 1\nsweep_interval_secs = 1");
    // Authentication is another test's subject: here both devices must see
    // the first attempt at once.
    let s = Server::start(&["--auth", "off", "--config", cfg.0.to_str().unwrap()]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    register(&alice, "alice", "rt-areg");
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "rt-breg");
    let bob2 = Ua::new(s.udp.unwrap());
    let contact2 = format!("<sip:bob@{}>", bob2.addr());
    let mut cseq = 1;
    let r = bob2.register("bob", "secret", "rt-breg2", &mut cseq, Some(&contact2), "");
    assert_eq!(r.status(), Some(200));
    let handle = std::thread::spawn(move || {
        // Both devices say 480 to the first attempt.
        let m = receive(&bob2, 1, 480);
        (bob2, m)
    });
    alice.send(&alice.request_raw(
        "MESSAGE",
        "alice",
        BOB,
        "rt-1",
        1,
        "Content-Type: message/cpim\r\n",
        CPIM,
    ));
    // The first try: the proxy forks to both devices.
    receive(&bob, 1, 480);
    let (bob2, _) = handle.join().unwrap();
    let r = alice.final_for("rt-1");
    assert_eq!(r.status(), Some(202), "every device 480: stored, {r:?}");
    // The retry (about a second later) reaches a device that takes it.
    let again = receive(&bob, 1, 200);
    assert_eq!(&again[0].body()[..], CPIM.as_bytes());
    // bob2 may also get the retry; it is forked. Answer whatever comes.
    if let Some(m) = bob2.request("MESSAGE", Duration::from_millis(500)) {
        bob2.answer(&m, 200, "OK", "");
    }
    // RFC 5438 §9: alice asked for positive-delivery: the server reports.
    let report = alice
        .request("MESSAGE", Duration::from_secs(10))
        .expect("a delivery report for alice");
    alice.answer(&report, 200, "OK", "");
    assert_eq!(report.header(HeaderName::ContentType), Some("message/cpim"));
    let text = String::from_utf8(report.body().to_vec()).unwrap();
    assert!(text.contains("<message-id>m-42</message-id>"), "{text}");
    assert!(text.contains("<delivered/>"), "{text}");
    assert!(text.contains("message/imdn+xml"), "{text}");
    // Delivered once: no further retry.
    assert!(bob.request("MESSAGE", Duration::from_secs(3)).is_none());
}

#[test]
fn the_quota_and_the_size_limit_hold() {
    let cfg =
        config("offline_quota_messages = 2\noffline_quota_bytes = 1000\nmax_message_bytes = 1500");
    let s = Server::start(&["--config", cfg.0.to_str().unwrap()]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    let ct = "Content-Type: text/plain\r\n";
    assert_eq!(send(&alice, BOB, "q-1", ct, "one").status(), Some(202));
    // Alone larger than the whole byte quota: 413.
    let big = "x".repeat(1200);
    let r = send(&alice, BOB, "q-big", ct, &big);
    assert_eq!(r.status(), Some(413), "{r:?}");
    assert_eq!(send(&alice, BOB, "q-2", ct, "two").status(), Some(202));
    let r = send(&alice, BOB, "q-3", ct, "three");
    assert_eq!(r.status(), Some(480), "{r:?}");
    assert!(r.reason().unwrap_or("").contains("full"), "{r:?}");
    // Over the configured MESSAGE size: 413 before anything else.
    let huge = "y".repeat(1600);
    let r = send(&alice, BOB, "q-huge", ct, &huge);
    assert_eq!(r.status(), Some(413), "{r:?}");
    // What was stored is what arrives.
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "q-reg");
    let got = receive(&bob, 2, 200);
    assert_eq!(&got[0].body()[..], b"one");
    assert_eq!(&got[1].body()[..], b"two");
    assert!(bob.request("MESSAGE", Duration::from_secs(2)).is_none());
}

#[test]
fn an_expired_message_is_dropped_and_reported_failed() {
    let cfg = config("offline_max_age_secs = 1\nsweep_interval_secs = 1");
    let s = Server::start(&["--config", cfg.0.to_str().unwrap()]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    register(&alice, "alice", "ex-areg");
    assert_eq!(
        send(&alice, BOB, "ex-1", "Content-Type: message/cpim\r\n", CPIM).status(),
        Some(202)
    );
    // RFC 5438 §9: negative-delivery asked: a "failed" report on expiry.
    let report = alice
        .request("MESSAGE", Duration::from_secs(10))
        .expect("a failure report");
    alice.answer(&report, 200, "OK", "");
    let text = String::from_utf8(report.body().to_vec()).unwrap();
    assert!(text.contains("<failed/>"), "{text}");
    assert!(text.contains("<message-id>m-42</message-id>"), "{text}");
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "ex-reg");
    assert!(bob.request("MESSAGE", Duration::from_secs(2)).is_none());
}

#[test]
fn the_servers_own_messages_never_loop() {
    let s = Server::start(&["--auth", "off"]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    // bob's only "device" is the server itself.
    let me = Ua::new(s.udp.unwrap());
    let contact = format!("<sip:bob@{}>", s.udp.unwrap());
    let mut cseq = 1;
    let r = me.register("bob", "secret", "lp-reg", &mut cseq, Some(&contact), "");
    assert_eq!(r.status(), Some(200));
    let r = send(
        &alice,
        BOB,
        "lp-1",
        "Content-Type: text/plain\r\n",
        "round and round",
    );
    let status = r.status().unwrap();
    // The proxy's loop detection (482) or hop limit (483): never stored.
    assert!(matches!(status, 482 | 483), "{r:?}");
    // bob comes back with a real phone: nothing was kept for him.
    let bob = Ua::new(s.udp.unwrap());
    let contact = format!("<sip:bob@{}>", bob.addr());
    let mut cseq = 10;
    let r = bob.register("bob", "secret", "lp-reg", &mut cseq, Some(&contact), "");
    assert_eq!(r.status(), Some(200));
    assert!(bob.request("MESSAGE", Duration::from_secs(2)).is_none());
}

#[test]
fn a_live_message_reaches_the_device_without_the_senders_credentials() {
    let s = Server::start(&[]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "cr-reg");
    let bob_side = std::thread::spawn(move || receive(&bob, 1, 200).remove(0));
    let r = send(&alice, BOB, "cr-1", "Content-Type: text/plain\r\n", "live");
    assert_eq!(r.status(), Some(200), "{r:?}");
    let m = bob_side.join().unwrap();
    assert_eq!(&m.body()[..], b"live");
    // RFC 3261 §22.3: our realm's credentials end with us.
    assert!(m.header(HeaderName::ProxyAuthorization).is_none(), "{m:?}");
}

#[test]
fn every_body_type_passes_through_a_live_relay_untouched() {
    let s = Server::start(&["--auth", "off"]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "bt-reg");
    let imdn = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\"><message-id>m-1</message-id><datetime>2026-12-05T10:00:00Z</datetime><delivery-notification><status><delivered/></status></delivery-notification></imdn>";
    let composing = "<?xml version=\"1.0\"?><isComposing xmlns=\"urn:ietf:params:xml:ns:im-iscomposing\"><state>active</state><contenttype>text/plain</contenttype></isComposing>";
    let cases = [
        ("text/plain;charset=UTF-8", "caf\u{e9} – plain ✓"),
        ("message/cpim", CPIM),
        ("application/im-iscomposing+xml", composing),
        ("message/imdn+xml", imdn),
    ];
    for (i, (ct, body)) in cases.iter().enumerate() {
        let cid = format!("bt-{i}");
        let bob_side = {
            let b = bob.toward(s.udp.unwrap());
            std::thread::spawn(move || receive(&b, 1, 200).remove(0))
        };
        alice.send(&alice.request_raw(
            "MESSAGE",
            "alice",
            BOB,
            &cid,
            1,
            &format!("Content-Type: {ct}\r\n"),
            body,
        ));
        let m = bob_side.join().unwrap();
        assert_eq!(m.header(HeaderName::ContentType), Some(*ct));
        assert_eq!(&m.body()[..], body.as_bytes(), "{ct}");
        assert_eq!(alice.final_for(&cid).status(), Some(200));
    }
}

/// A stored message every device refuses for good (415 here) is given up
/// with a "failed" report to its sender and does not hold back the next.
#[test]
fn a_permanently_refused_stored_message_does_not_block_the_queue() {
    let s = Server::start(&["--auth", "off"]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    register(&alice, "alice", "pf-areg");
    let raw = |cid: &str, ct: &str, body: &str| {
        alice.request_raw(
            "MESSAGE",
            "alice",
            BOB,
            cid,
            1,
            &format!("Content-Type: {ct}\r\n"),
            body,
        )
    };
    alice.send(&raw("pf-1", "message/cpim", CPIM));
    assert_eq!(alice.final_for("pf-1").status(), Some(202));
    alice.send(&raw("pf-2", "text/plain", "the second"));
    assert_eq!(alice.final_for("pf-2").status(), Some(202));
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "pf-breg");
    let first = receive(&bob, 1, 415).remove(0);
    assert_eq!(&first.body()[..], CPIM.as_bytes());
    // The next one comes at once, not after the first expires.
    let second = receive(&bob, 1, 200).remove(0);
    assert_eq!(&second.body()[..], b"the second");
    // RFC 5438: alice asked for negative-delivery: "failed".
    let report = alice
        .request("MESSAGE", Duration::from_secs(10))
        .expect("a failure report");
    alice.answer(&report, 200, "OK", "");
    let text = String::from_utf8(report.body().to_vec()).unwrap();
    assert!(text.contains("<failed/>"), "{text}");
    // Given up: never again.
    assert!(bob.request("MESSAGE", Duration::from_secs(2)).is_none());
}

/// While stored messages wait for a recipient, a new one is stored behind
/// them (202) instead of overtaking them live.
#[test]
fn a_live_message_does_not_overtake_stored_ones() {
    let s = Server::start(&["--auth", "off"]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    let raw = |cid: &str, body: &str| {
        alice.request_raw(
            "MESSAGE",
            "alice",
            BOB,
            cid,
            1,
            "Content-Type: text/plain\r\n",
            body,
        )
    };
    alice.send(&raw("ov-1", "one"));
    assert_eq!(alice.final_for("ov-1").status(), Some(202));
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "ov-breg");
    // "one" is on its way; bob has not answered it yet.
    let m1 = bob
        .request("MESSAGE", Duration::from_secs(10))
        .expect("one");
    assert_eq!(&m1.body()[..], b"one");
    alice.send(&raw("ov-2", "two"));
    assert_eq!(alice.final_for("ov-2").status(), Some(202), "stored behind");
    bob.answer(&m1, 200, "OK", "");
    let m2 = receive(&bob, 1, 200).remove(0);
    assert_eq!(&m2.body()[..], b"two");
    // Caught up: the next one goes live again.
    std::thread::sleep(Duration::from_millis(500));
    let bob_side = {
        let b = bob.toward(s.udp.unwrap());
        std::thread::spawn(move || receive(&b, 1, 200).remove(0))
    };
    alice.send(&raw("ov-3", "three"));
    assert_eq!(&bob_side.join().unwrap().body()[..], b"three");
    assert_eq!(alice.final_for("ov-3").status(), Some(200));
}

/// alice sends a text/plain MESSAGE to bob without waiting for the answer.
fn send_plain(alice: &Ua, call_id: &str, body: &str) {
    let ct = "Content-Type: text/plain\r\n";
    alice.send(&alice.request_raw("MESSAGE", "alice", BOB, call_id, 1, ct, body));
}

/// The order holds across a restart even for a message not yet due again:
/// the restarted server reads from the store whose messages wait, so a live
/// message queues behind one that waits for a retry an hour away.
#[test]
fn after_a_restart_a_live_message_still_queues_behind_a_stored_one() {
    let cfg = config("retry_base_secs = 3600\nsweep_interval_secs = 3600");
    let cfg_path = cfg.0.to_str().unwrap().to_owned();
    let mut s = Server::start(&["--auth", "off", "--config", &cfg_path]);
    users(&s);
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "rq-breg");
    let alice = Ua::new(s.udp.unwrap());
    send_plain(&alice, "rq-1", "one");
    receive(&bob, 1, 480);
    assert_eq!(alice.final_for("rq-1").status(), Some(202), "stored");
    // Her next REGISTER tries it again; refused, it is rescheduled an hour
    // from now (retry_base_secs).
    register(&bob, "bob", "rq-breg-again");
    let again = receive(&bob, 1, 480);
    assert_eq!(&again[0].body()[..], b"one");
    std::thread::sleep(Duration::from_millis(300));

    assert_eq!(s.stop_keeping_data(), Some(0));
    let s = Server::start_in(&s.data_dir, &["--auth", "off", "--config", &cfg_path]);
    // bob's binding survived the restart; "one" is not due for an hour, so
    // no sweep finds it: only the store can say that it waits.
    let bob = bob.toward(s.udp.unwrap());
    let alice = Ua::new(s.udp.unwrap());
    send_plain(&alice, "rq-2", "two");
    assert_eq!(alice.final_for("rq-2").status(), Some(202), "stored behind");
    // Her next REGISTER (or the restored binding itself) delivers both, in
    // order: "two" never overtakes "one" live.
    register(&bob, "bob", "rq-breg2");
    let got = receive(&bob, 2, 200);
    assert_eq!(&got[0].body()[..], b"one");
    assert_eq!(&got[1].body()[..], b"two");
}

/// A registered device that never answers: the sender gets 202 well
/// before its own Timer F (32 s) gives up, and the message is kept.
#[test]
fn a_silent_device_gets_the_message_stored_in_time() {
    let s = Server::start(&["--auth", "off"]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "sd-breg");
    let started = std::time::Instant::now();
    alice.send(&alice.request_raw(
        "MESSAGE",
        "alice",
        BOB,
        "sd-1",
        1,
        "Content-Type: text/plain\r\n",
        "hello?",
    ));
    let end = started + Duration::from_secs(30);
    let mut r = None;
    while std::time::Instant::now() < end {
        if let Some(m) = alice.recv(Duration::from_millis(500))
            && m.status().is_some_and(|s| s >= 200)
        {
            r = Some(m);
            break;
        }
    }
    let r = r.expect("a final response before the sender's Timer F");
    assert_eq!(r.status(), Some(202), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
}

/// `herald messages`: the operator lists what waits (per recipient and per
/// message) and deletes it; a deleted message is never delivered.
#[test]
fn the_operator_lists_and_removes_stored_messages() {
    let s = Server::start(&[]);
    users(&s);
    let alice = Ua::new(s.udp.unwrap());
    for (i, body) in ["first", "second"].iter().enumerate() {
        let r = send(
            &alice,
            BOB,
            &format!("op-{i}"),
            "Content-Type: text/plain\r\n",
            body,
        );
        assert_eq!(r.status(), Some(202), "{r}");
    }
    let herald = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("--data-dir")
            .arg(&s.data_dir)
            .arg("messages")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = herald(&["list"]);
    assert!(ok, "{err}");
    assert_eq!(out, format!("{BOB}\t2 messages\t11 bytes\n"));
    let (ok, out, err) = herald(&["list", "bob@example.test"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("from sip:alice@example.test\ttext/plain\t5 bytes"),
        "{out}"
    );
    let first_id = lines[0].split('\t').next().unwrap().to_owned();
    let (ok, out, _) = herald(&["remove", &first_id]);
    assert!(ok);
    assert_eq!(out.trim(), "removed 1 messages");
    let (ok, _, err) = herald(&["remove", &first_id]);
    assert!(!ok && err.contains("no stored message"), "{err}");
    // Only the second is delivered when bob registers.
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "reg-op");
    let got = receive(&bob, 1, 200);
    assert_eq!(&got[0].body()[..], b"second");
    assert!(bob.request("MESSAGE", Duration::from_secs(2)).is_none());
    let (ok, out, _) = herald(&["list"]);
    assert!(ok);
    assert_eq!(out, "", "delivered messages are gone");
    let (ok, _, err) = herald(&["remove", "--user", "nobody@example.test"]);
    assert!(ok, "{err}");
    // A mistyped data dir is an error, not an empty store.
    let missing = s.data_dir.join("no-such-dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--data-dir")
        .arg(&missing)
        .args(["messages", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no Herald data"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!missing.exists(), "nothing created");
    assert_eq!(s.stop(), Some(0));
}

/// A device that answers only after the 16 s deadline: the sender got 202
/// (stored) at the deadline, the device then takes the message live with a
/// 200, and the stored copy is deleted — bob's next REGISTER delivers
/// nothing more (exactly once).
#[test]
fn a_message_taken_live_after_its_deadline_is_not_delivered_again() {
    let s = Server::start(&["--auth", "off"]);
    let alice = Ua::new(s.udp.unwrap());
    let bob = Ua::new(s.udp.unwrap());
    register(&bob, "bob", "reg-late");
    alice.send(&alice.request_raw(
        "MESSAGE",
        "alice",
        BOB,
        "late-1",
        1,
        "Content-Type: text/plain\r\n",
        "slow device",
    ));
    let m = bob
        .request("MESSAGE", Duration::from_secs(10))
        .expect("the MESSAGE reaches bob's device");
    let live_call_id = m.call_id().unwrap().to_owned();
    // bob's device says nothing until the sender has had its 202 (the
    // deadline is 16 s).
    let end = std::time::Instant::now() + Duration::from_secs(25);
    let status = loop {
        assert!(
            std::time::Instant::now() < end,
            "no final response for alice"
        );
        if let Some(r) = alice.recv(Duration::from_millis(500))
            && r.status().is_some_and(|st| st >= 200)
        {
            break r.status();
        }
    };
    assert_eq!(status, Some(202));
    bob.answer(&m, 200, "OK", "");
    // Give the deletion a moment, then let bob register again: a stored
    // copy would be delivered now.
    std::thread::sleep(Duration::from_secs(1));
    register(&bob, "bob", "reg-late-2");
    let end = std::time::Instant::now() + Duration::from_secs(4);
    while std::time::Instant::now() < end {
        if let Some(again) = bob.request("MESSAGE", Duration::from_millis(500)) {
            // Retransmissions of the live request are fine; a new request
            // with the body is the duplicate.
            assert_eq!(
                again.call_id().unwrap(),
                live_call_id,
                "delivered twice: {again:?}"
            );
            bob.answer(&again, 200, "OK", "");
        }
    }
    assert_eq!(s.stop(), Some(0));
}
