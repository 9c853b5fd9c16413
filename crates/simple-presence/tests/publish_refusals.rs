//! RFC 3903 §6 refusals leave the stored state untouched: 412 for an unknown
//! entity tag, 415 for a body that is not PIDF, 400 for malformed PIDF, 423
//! below the minimum expiry, 489 for an event we do not serve, 413 for a
//! body over the limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use sip_msg::HeaderName;

#[test]
fn refusals_change_nothing() {
    let mut a = agent();
    let doc = pidf(ALICE, "phone", "open", "here");
    let fx = a.handle_publish(
        T0,
        key(1),
        &publish(1, None, Some(600), Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    let etag = etag_of(&fx);
    let before = a.document(ALICE, T0);

    let fx = a.handle_publish(
        T0,
        key(2),
        &publish(2, Some("no-such-tag"), None, None),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 412);
    assert!(fx.store.pub_puts.is_empty() && fx.store.pub_removes.is_empty());

    let fx = a.handle_publish(
        T0,
        key(3),
        &publish(3, None, None, Some(("text/plain", "hello"))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 415);
    assert!(
        only_response(&fx)
            .header(HeaderName::Accept)
            .unwrap()
            .contains("application/pidf+xml")
    );

    let fx = a.handle_publish(
        T0,
        key(4),
        &publish(
            4,
            Some(&etag),
            None,
            Some(("application/pidf+xml", "<presence")),
        ),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 400);
    let reason = only_response(&fx).reason().unwrap().to_owned();
    assert!(
        reason.contains("PIDF"),
        "the reason says what was wrong: {reason}"
    );
    assert!(fx.store.pub_puts.is_empty());

    let bad = "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"><tuple id=\"a\"><status><basic>open</basic></status></tuple></presence>";
    let fx = a.handle_publish(
        T0,
        key(5),
        &publish(5, None, None, Some(("application/pidf+xml", bad))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 400, "no entity attribute");

    let fx = a.handle_publish(
        T0,
        key(6),
        &publish(6, None, Some(5), Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 423);
    assert_eq!(
        only_response(&fx).header(HeaderName::MinExpires),
        Some("60")
    );

    let cfg = simple_presence::PresenceConfig {
        max_document_bytes: 100,
        ..Default::default()
    };
    let mut small = agent_with(cfg);
    let fx = small.handle_publish(
        T0,
        key(7),
        &publish(7, None, None, Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 413);

    // The modify with a broken body did not touch the publication: its tag
    // still works and the document is what it was.
    assert_eq!(a.document(ALICE, T0), before);
    let fx = a.handle_publish(
        T0,
        key(8),
        &publish(8, Some(&etag), None, None),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    assert_eq!(a.publication_count(), 1);
}

#[test]
fn unknown_event_is_489_with_allow_events() {
    let mut a = agent();
    let req = parse(
        "PUBLISH sip:alice@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-x\r\n\
From: <sip:alice@example.test>;tag=a\r\n\
To: <sip:alice@example.test>\r\n\
Call-ID: x@127.0.0.1\r\n\
CSeq: 1 PUBLISH\r\n\
Event: dialog\r\n\
Content-Type: application/pidf+xml\r\n\
Content-Length: 0\r\n\r\n"
            .to_owned(),
    );
    let fx = a.handle_publish(T0, key(1), &req, ALICE, ALICE);
    assert_eq!(status(&fx), 489);
    assert_eq!(
        only_response(&fx).header(HeaderName::AllowEvents),
        Some("presence, presence.winfo")
    );
}
