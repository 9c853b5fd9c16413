//! RFC 6665 / RFC 3856 notifier side: the 200 and the immediate NOTIFY,
//! refresh with its NOTIFY, unsubscribe, expiry with reason=timeout, a
//! pending watcher, and fetch (Expires 0).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use simple_presence::SubscribeAuth;
use sip_msg::HeaderName;

#[test]
fn subscribe_refresh_unsubscribe() {
    let mut a = agent();
    let mut k = 0;
    let req = subscribe(&Sub::default());
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &req,
        watcher_peer(),
        ALICE,
        SubscribeAuth::Allow,
        true,
    );
    let r = only_response(&fx);
    assert_eq!(r.status(), Some(200));
    assert_eq!(r.header(HeaderName::Expires), Some("600"));
    assert!(
        r.header(HeaderName::Contact)
            .unwrap()
            .contains("127.0.0.1:5060")
    );
    let tag = r.to().unwrap().tag().unwrap().to_owned();
    assert_eq!(fx.store.sub_puts.len(), 1, "the subscription is stored");
    assert_eq!(fx.notifies.len(), 1, "RFC 6665 §4.2.1: NOTIFY at once");
    let n = built(&fx.notifies[0]);
    assert_eq!(n.method_str(), Some("NOTIFY"));
    assert_eq!(n.request_uri_str(), Some("sip:bob@127.0.0.1:5072"));
    assert_eq!(n.header(HeaderName::Event), Some("presence"));
    assert_eq!(
        n.header(HeaderName::SubscriptionState),
        Some("active;expires=600")
    );
    assert_eq!(
        n.header(HeaderName::ContentType),
        Some("application/pidf+xml")
    );
    assert_eq!(n.from().unwrap().tag(), Some(tag.as_str()));
    assert_eq!(n.to().unwrap().tag(), Some("watcher-sub-call-1-127.0.0.1"));
    // Registered with nothing published: open (registration feeds presence).
    assert!(
        body_str(&n).contains("<basic>open</basic>"),
        "{}",
        body_str(&n)
    );
    let first_cseq = cseq(&n);
    ack_notifies(&mut a, T0, &fx, &mut k);

    // Refresh 100 s later: 200, and a NOTIFY with the new remaining time.
    let t1 = T0 + 100_000;
    let refresh = subscribe(&Sub {
        to_tag: Some(&tag),
        cseq: 2,
        expires: Some(300),
        ..Sub::default()
    });
    assert!(a.owns_dialog(&refresh));
    let fx = a.handle_subscribe(
        t1,
        key(2),
        &refresh,
        watcher_peer(),
        "",
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(status(&fx), 200);
    assert_eq!(only_response(&fx).to().unwrap().tag(), Some(tag.as_str()));
    assert_eq!(only_response(&fx).header(HeaderName::Expires), Some("300"));
    let sent = ack_notifies(&mut a, t1, &fx, &mut k);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].header(HeaderName::SubscriptionState),
        Some("active;expires=300")
    );
    assert!(cseq(&sent[0]) > first_cseq, "NOTIFY CSeq increases");

    // A stale CSeq is refused (RFC 3261 §12.2.2: 500).
    let stale = subscribe(&Sub {
        to_tag: Some(&tag),
        cseq: 1,
        ..Sub::default()
    });
    let fx = a.handle_subscribe(
        t1,
        key(3),
        &stale,
        watcher_peer(),
        "",
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(status(&fx), 500);

    // Unsubscribe: 200, a terminated NOTIFY, the row removed.
    let unsub = subscribe(&Sub {
        to_tag: Some(&tag),
        cseq: 3,
        expires: Some(0),
        ..Sub::default()
    });
    let fx = a.handle_subscribe(
        t1,
        key(4),
        &unsub,
        watcher_peer(),
        "",
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(status(&fx), 200);
    assert_eq!(fx.notifies.len(), 1);
    let n = built(&fx.notifies[0]);
    assert!(
        n.header(HeaderName::SubscriptionState)
            .unwrap()
            .starts_with("terminated")
    );
    assert_eq!(fx.store.sub_removes.len(), 1);
    assert_eq!(a.subscription_count(), 0);
    // And the dialog is gone: 481.
    let again = subscribe(&Sub {
        to_tag: Some(&tag),
        cseq: 4,
        ..Sub::default()
    });
    let fx = a.handle_subscribe(
        t1,
        key(5),
        &again,
        watcher_peer(),
        "",
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(status(&fx), 481);
}

#[test]
fn expiry_sends_terminated_timeout() {
    let mut a = agent();
    let mut k = 0;
    subscribe_bob(&mut a, T0, &mut k);
    let fx = a.tick(T0 + 599_000, |_| false);
    assert_eq!(a.subscription_count(), 1, "not before its time");
    // The registration state became known (false): the watcher hears closed.
    ack_notifies(&mut a, T0 + 599_000, &fx, &mut k);
    let fx = a.tick(T0 + 600_000, |_| false);
    assert_eq!(a.subscription_count(), 0);
    assert_eq!(fx.notifies.len(), 1);
    let n = built(&fx.notifies[0]);
    assert_eq!(
        n.header(HeaderName::SubscriptionState),
        Some("terminated;reason=timeout")
    );
    assert_eq!(fx.store.sub_removes.len(), 1);
}

#[test]
fn pending_watcher_gets_202_and_no_document() {
    let mut a = agent();
    let req = subscribe(&Sub {
        from: "sip:eve@elsewhere.example",
        ..Sub::default()
    });
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &req,
        watcher_peer(),
        ALICE,
        SubscribeAuth::Pending,
        true,
    );
    assert_eq!(status(&fx), 202);
    let n = built(&fx.notifies[0]);
    assert_eq!(
        n.header(HeaderName::SubscriptionState),
        Some("pending;expires=600")
    );
    assert!(n.body().is_empty(), "no presence for a pending watcher");
    assert!(n.header(HeaderName::ContentType).is_none());
}

#[test]
fn blocked_watcher_is_403() {
    let mut a = agent();
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Block,
        true,
    );
    assert_eq!(status(&fx), 403);
    assert_eq!(a.subscription_count(), 0);
}

#[test]
fn fetch_is_one_terminated_notify_with_state() {
    let mut a = agent();
    let req = subscribe(&Sub {
        expires: Some(0),
        ..Sub::default()
    });
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &req,
        watcher_peer(),
        ALICE,
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(status(&fx), 200);
    assert_eq!(fx.notifies.len(), 1);
    let n = built(&fx.notifies[0]);
    assert!(
        n.header(HeaderName::SubscriptionState)
            .unwrap()
            .starts_with("terminated")
    );
    assert!(body_str(&n).contains("<basic>open</basic>"));
    assert_eq!(a.subscription_count(), 0, "a fetch keeps nothing");
    assert!(fx.store.sub_puts.is_empty());
}
