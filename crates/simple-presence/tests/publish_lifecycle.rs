//! RFC 3903: initial, refresh, modify and remove of one publication, with
//! the watcher told of each change of the composed state, and expiry on time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use sip_msg::HeaderName;

#[test]
fn initial_refresh_modify_remove_and_expiry() {
    let mut a = agent();
    let mut k = 0;
    let tag = subscribe_bob(&mut a, T0, &mut k);
    assert!(!tag.is_empty());

    // Initial: 200 with an entity tag and the granted expiry; the store gets
    // the row; the watcher hears "open".
    let doc = pidf(ALICE, "phone", "open", "at my desk");
    let fx = a.handle_publish(
        T0,
        key(100),
        &publish(1, None, Some(600), Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    let r = only_response(&fx);
    assert_eq!(r.status(), Some(200));
    assert_eq!(r.header(HeaderName::Expires), Some("600"));
    let etag1 = r.header(HeaderName::SipETag).expect("SIP-ETag").to_owned();
    assert!(
        fx.responses[0].after_commit,
        "a publication is durable before its 200"
    );
    assert_eq!(fx.store.pub_puts.len(), 1);
    assert_eq!(fx.store.pub_puts[0].etag, etag1);
    let sent = ack_notifies(&mut a, T0, &fx, &mut k);
    assert_eq!(sent.len(), 1);
    let body = body_str(&sent[0]);
    assert!(
        body.contains("open") && body.contains("at my desk"),
        "{body}"
    );
    assert_eq!(a.publication_count(), 1);

    // Refresh: a new entity tag, the old one forgotten, no NOTIFY (nothing changed).
    let t1 = T0 + 300_000;
    let fx = a.handle_publish(
        t1,
        key(101),
        &publish(2, Some(&etag1), Some(600), None),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    let etag2 = etag_of(&fx);
    assert_ne!(
        etag1, etag2,
        "RFC 3903 §6: every successful PUBLISH gets a new tag"
    );
    assert!(fx.notifies.is_empty());
    assert_eq!(fx.store.pub_removes.len(), 1);
    assert_eq!(fx.store.pub_removes[0].etag, etag1);
    let fx = a.handle_publish(
        t1,
        key(102),
        &publish(3, Some(&etag1), None, None),
        ALICE,
        ALICE,
    );
    assert_eq!(
        status(&fx),
        412,
        "the refreshed-away tag is no longer valid"
    );

    // Modify: new body → the watcher hears it.
    let doc2 = pidf(ALICE, "phone", "closed", "gone home");
    let fx = a.handle_publish(
        t1,
        key(103),
        &publish(4, Some(&etag2), None, Some(("application/pidf+xml", &doc2))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    let etag3 = etag_of(&fx);
    let sent = ack_notifies(&mut a, t1, &fx, &mut k);
    assert_eq!(sent.len(), 1);
    assert!(body_str(&sent[0]).contains("gone home"));

    // Remove (Expires 0): 200, the row deleted, the watcher told.
    let fx = a.handle_publish(
        t1,
        key(104),
        &publish(5, Some(&etag3), Some(0), None),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    assert_eq!(fx.store.pub_removes.len(), 1);
    assert_eq!(a.publication_count(), 0);
    let sent = ack_notifies(&mut a, t1, &fx, &mut k);
    assert_eq!(sent.len(), 1);
    assert!(!body_str(&sent[0]).contains("gone home"));

    // Expiry: a publication for 60 s is gone at the first tick after.
    let fx = a.handle_publish(
        t1,
        key(105),
        &publish(6, None, Some(60), Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    ack_notifies(&mut a, t1, &fx, &mut k);
    let fx = a.tick(t1 + 59_000, |_| true);
    assert_eq!(a.publication_count(), 1, "not yet");
    assert!(fx.store.pub_removes.is_empty());
    let fx = a.tick(t1 + 60_000, |_| true);
    assert_eq!(a.publication_count(), 0, "expired on time");
    assert_eq!(fx.store.pub_removes.len(), 1);
    let sent = ack_notifies(&mut a, t1 + 60_000, &fx, &mut k);
    assert_eq!(sent.len(), 1, "watchers hear the expiry");
    let body = body_str(&sent[0]);
    assert!(!body.contains("phone"), "the expired tuple is gone: {body}");
}

#[test]
fn hard_state_is_composed_and_loses_to_soft_state() {
    let mut a = agent();
    let mut k = 0;
    subscribe_bob(&mut a, T0, &mut k);
    // Hard state (RFC 4827) alone: watchers see it at once.
    let hard = simple_pidf::parse(pidf(ALICE, "hard", "open", "on holiday").as_bytes()).unwrap();
    let fx = a.set_hard_state(ALICE, Some(hard), T0 + 1);
    let sent = ack_notifies(&mut a, T0 + 1, &fx, &mut k);
    assert_eq!(sent.len(), 1);
    assert!(body_str(&sent[0]).contains("on holiday"));
    // A device publishes: both tuples, the published note wins for the person.
    let doc = pidf(ALICE, "phone", "open", "back at my desk");
    let fx = a.handle_publish(
        T0 + 2,
        key(10),
        &publish(1, None, None, Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    let sent = ack_notifies(&mut a, T0 + 2, &fx, &mut k);
    let body = body_str(&sent[0]);
    assert!(
        body.contains("tuple id=\"hard\"") && body.contains("tuple id=\"phone\""),
        "{body}"
    );
    // Removed: gone from the document.
    let fx = a.set_hard_state(ALICE, None, T0 + 3);
    let sent = ack_notifies(&mut a, T0 + 3, &fx, &mut k);
    assert!(!body_str(&sent[0]).contains("on holiday"));
}
