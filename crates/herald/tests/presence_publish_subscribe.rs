//! Presence through `herald serve` over real UDP sockets, with digest on:
//! alice PUBLISHes (answering the 407), bob SUBSCRIBEs and gets the 200 and
//! a NOTIFY with alice's PIDF at once, then one per change; refusals (412,
//! 415, 400, 403) leave the state alone; and after `kill -9` and a restart
//! on the same data dir, alice's entity tag still works and bob keeps
//! getting NOTIFYs without subscribing again, with a higher CSeq.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod ua;

use std::time::Duration;

use common::Server;
use sip_msg::{HeaderName, SipMessage};
use ua::{Ua, add_user};

const ALICE: &str = "sip:alice@example.test";

fn pidf(note: &str, basic: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
entity=\"sip:alice@example.test\"><tuple id=\"desk\"><status><basic>{basic}</basic></status>\
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

fn publish(ua: &Ua, cseq: &mut u32, if_match: Option<&str>, ctype: &str, body: &str) -> SipMessage {
    let mut extra = "Event: presence\r\nExpires: 600\r\n".to_owned();
    if let Some(t) = if_match {
        extra.push_str(&format!("SIP-If-Match: {t}\r\n"));
    }
    if !body.is_empty() {
        extra.push_str(&format!("Content-Type: {ctype}\r\n"));
    }
    authed(
        ua,
        "alice",
        "PUBLISH",
        &format!("pub-{cseq}@127.0.0.1"),
        cseq,
        &extra,
        body,
    )
}

/// The next NOTIFY bob gets, answered 200.
fn next_notify(bob: &Ua) -> SipMessage {
    let n = bob
        .request("NOTIFY", Duration::from_secs(10))
        .expect("a NOTIFY for bob");
    bob.answer(&n, 200, "OK", "");
    n
}

fn body(m: &SipMessage) -> String {
    String::from_utf8_lossy(m.body()).into_owned()
}

#[test]
fn publish_subscribe_notify_and_restart() {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
    let alice = Ua::new(s.udp.unwrap());
    let bob = Ua::new(s.udp.unwrap());
    let mut acseq = 1;

    let r = publish(
        &alice,
        &mut acseq,
        None,
        "application/pidf+xml",
        &pidf("first note", "open"),
    );
    assert_eq!(r.status(), Some(200), "{r:?} {:?}", r.reason());
    let etag = r.header(HeaderName::SipETag).expect("SIP-ETag").to_owned();

    // bob subscribes: 200, then a NOTIFY with alice's document.
    let mut bcseq = 1;
    let sub_extra = "Event: presence\r\nAccept: application/pidf+xml\r\nExpires: 600\r\n";
    let r = authed(
        &bob,
        "bob",
        "SUBSCRIBE",
        "sub-bob@127.0.0.1",
        &mut bcseq,
        sub_extra,
        "",
    );
    assert_eq!(r.status(), Some(200), "{:?}", r.reason());
    assert_eq!(r.header(HeaderName::Expires), Some("600"));
    let n = next_notify(&bob);
    assert_eq!(n.header(HeaderName::Event), Some("presence"));
    assert!(
        n.header(HeaderName::SubscriptionState)
            .unwrap()
            .starts_with("active")
    );
    assert_eq!(
        n.header(HeaderName::ContentType),
        Some("application/pidf+xml")
    );
    assert!(body(&n).contains("first note"), "{}", body(&n));
    let mut last = n.cseq().unwrap().seq;

    // Modify: bob hears the new note.
    let r = publish(
        &alice,
        &mut acseq,
        Some(&etag),
        "application/pidf+xml",
        &pidf("second note", "open"),
    );
    assert_eq!(r.status(), Some(200));
    let etag = r.header(HeaderName::SipETag).unwrap().to_owned();
    let n = next_notify(&bob);
    assert!(body(&n).contains("second note"));
    assert!(n.cseq().unwrap().seq > last);
    last = n.cseq().unwrap().seq;

    // Refusals: nothing changes, no NOTIFY.
    let r = publish(&alice, &mut acseq, Some("not-a-tag"), "", "");
    assert_eq!(r.status(), Some(412));
    let r = publish(&alice, &mut acseq, Some(&etag), "text/plain", "hello");
    assert_eq!(r.status(), Some(415));
    let r = publish(
        &alice,
        &mut acseq,
        Some(&etag),
        "application/pidf+xml",
        "<presence",
    );
    assert_eq!(r.status(), Some(400));
    assert!(r.reason().unwrap().contains("PIDF"), "{:?}", r.reason());
    // bob may not publish alice's state.
    let mut c = 50;
    let extra = "Event: presence\r\nContent-Type: application/pidf+xml\r\n";
    let r = authed(
        &bob,
        "bob",
        "PUBLISH",
        "bob-pub@127.0.0.1",
        &mut c,
        extra,
        &pidf("spoof", "closed"),
    );
    assert_eq!(r.status(), Some(403));
    assert!(
        bob.request("NOTIFY", Duration::from_millis(600)).is_none(),
        "a refused PUBLISH notifies nobody"
    );

    // kill -9 and restart on the same data dir.
    std::thread::sleep(Duration::from_millis(300));
    let data_dir = s.data_dir.clone();
    std::process::Command::new("kill")
        .args(["-KILL", &s.pid().to_string()])
        .status()
        .unwrap();
    std::mem::forget(s); // its Drop would delete the data dir
    let s2 = Server::start_in(&data_dir, &[]);
    let alice = Ua::new(s2.udp.unwrap());
    let r = publish(
        &alice,
        &mut acseq,
        Some(&etag),
        "application/pidf+xml",
        &pidf("after restart", "open"),
    );
    assert_eq!(
        r.status(),
        Some(200),
        "the entity tag survived: {:?}",
        r.reason()
    );
    let n = next_notify(&bob);
    assert!(body(&n).contains("after restart"), "{}", body(&n));
    assert!(
        n.cseq().unwrap().seq > last,
        "NOTIFY CSeq {} must exceed {last} after a restart",
        n.cseq().unwrap().seq
    );
}

/// RFC 3856 §6.4 / RFC 3261 §21.4.5: a subscription to a presentity who
/// is not a user here is 404, and no NOTIFY follows.
#[test]
fn subscribing_to_nobody_is_404() {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "bob@example.test", "secret");
    let bob = Ua::new(s.udp.unwrap());
    let mut cseq = 1;
    let r = bob.request_authed(
        "SUBSCRIBE",
        "bob",
        "secret",
        "sip:nobody@example.test",
        "sub-nobody@127.0.0.1",
        &mut cseq,
        "Event: presence\r\nAccept: application/pidf+xml\r\nExpires: 600\r\n",
        "",
    );
    assert_eq!(r.status(), Some(404), "{:?}", r.reason());
    assert!(
        bob.request("NOTIFY", std::time::Duration::from_millis(800))
            .is_none()
    );
}

/// RFC 3261 §18.1.1 for NOTIFY: a document over 1300 bytes reaches a
/// watcher that takes TCP over TCP, and a UDP-only watcher over UDP after
/// the refused TCP attempt (a new transaction, answered as usual).
#[test]
fn a_large_notify_goes_over_tcp_else_over_udp() {
    let s = Server::start(&["--auth", "off"]);
    let alice = Ua::new(s.udp.unwrap());
    let mut note = String::new();
    while note.len() < 1600 {
        note.push_str("in a meeting until noon, ");
    }
    let publish = alice.request_raw(
        "PUBLISH",
        "alice",
        ALICE,
        "pub-big@127.0.0.1",
        1,
        "Event: presence\r\nExpires: 600\r\nContent-Type: application/pidf+xml\r\n",
        &pidf(&note, "open"),
    );
    alice.send(&publish);
    assert_eq!(alice.final_for("pub-big@127.0.0.1").status(), Some(200));
    let subscribe = |ua: &Ua, user: &str| {
        ua.send(&ua.request_raw(
            "SUBSCRIBE",
            user,
            ALICE,
            &format!("sub-{user}@127.0.0.1"),
            1,
            "Event: presence\r\nAccept: application/pidf+xml\r\nExpires: 600\r\n",
            "",
        ));
    };

    // carol takes only UDP.
    let carol = Ua::new(s.udp.unwrap());
    subscribe(&carol, "carol");
    let n = carol
        .request("NOTIFY", Duration::from_secs(10))
        .expect("the NOTIFY is retried over UDP");
    assert!(n.wire_len() > 1300, "{}", n.wire_len());
    assert!(body(&n).contains(&note), "{}", body(&n));
    assert!(
        n.via().unwrap().transport.eq_ignore_ascii_case("UDP"),
        "{n:?}"
    );
    carol.answer(&n, 200, "OK", "");

    // dave listens for TCP on his UDP contact's port.
    let dave = Ua::new(s.udp.unwrap());
    let listener = std::net::TcpListener::bind(dave.addr()).unwrap();
    let dave_side = ua::serve_one_over_tcp(listener, 200, "OK");
    subscribe(&dave, "dave");
    let n = dave_side.join().unwrap();
    assert_eq!(n.method_str(), Some("NOTIFY"));
    assert!(body(&n).contains(&note), "{}", body(&n));
    assert!(
        n.via().unwrap().transport.eq_ignore_ascii_case("TCP"),
        "{n:?}"
    );
    assert!(dave.request("NOTIFY", Duration::from_millis(500)).is_none());
    assert_eq!(s.stop(), Some(0));
}
