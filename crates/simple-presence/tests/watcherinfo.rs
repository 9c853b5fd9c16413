//! Watcher information (RFC 3857 / RFC 3858): only the presentity may
//! subscribe to `presence.winfo`; she gets the full state first, then one
//! partial document per change (a watcher subscribing, being approved,
//! rejected, expiring), the version up by one each time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use simple_pidf::{DocState, WatcherEvent, WatcherStatus, parse_watcherinfo};
use simple_presence::SubscribeAuth;
use sip_msg::HeaderName;

const BOB: &str = "sip:bob@example.test";

fn winfo_sub(from: &str, call_id: &str) -> sip_msg::SipMessage {
    subscribe(&Sub {
        from,
        call_id,
        event: Some("presence.winfo"),
        accept: Some("application/watcherinfo+xml"),
        // Outlives bob's 600 s subscription.
        expires: Some(1200),
        ..Sub::default()
    })
}

#[test]
fn only_the_presentity() {
    let mut a = agent();
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &winfo_sub(BOB, "w1@127.0.0.1"),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    assert_eq!(status(&fx), 403);
}

#[test]
fn full_then_partial_with_versions() {
    let mut a = agent();
    let mut k = 100;
    a.set_rules(ALICE, Some(rules(&[("r1", BOB, "confirm", "")])), T0);
    // Bob subscribes first: pending.
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    assert_eq!(status(&fx), 202);
    ack_notifies(&mut a, T0, &fx, &mut k);
    // Alice watches her watchers: the full state names bob, pending.
    let fx = a.handle_subscribe(
        T0,
        key(2),
        &winfo_sub(ALICE, "wi@127.0.0.1"),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    assert_eq!(status(&fx), 200);
    let n = ack_notifies(&mut a, T0, &fx, &mut k).remove(0);
    assert_eq!(n.header(HeaderName::Event), Some("presence.winfo"));
    assert_eq!(
        n.header(HeaderName::ContentType),
        Some("application/watcherinfo+xml")
    );
    let doc = parse_watcherinfo(n.body()).unwrap();
    assert_eq!(doc.state, DocState::Full);
    let v1 = doc.version;
    let w = &doc.lists[0].watchers;
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].uri.as_str(), w[0].status, w[0].event),
        (BOB, WatcherStatus::Pending, WatcherEvent::Subscribe)
    );
    assert_eq!(doc.lists[0].package, "presence");
    assert_eq!(doc.lists[0].resource, ALICE);

    // She approves bob: partial, bob active/approved, version + 1.
    let fx = a.set_rules(
        ALICE,
        Some(rules(&[("r1", BOB, "allow", SEE_ALL)])),
        T0 + 1000,
    );
    let sent = ack_notifies(&mut a, T0 + 1000, &fx, &mut k);
    let winfo: Vec<_> = sent
        .iter()
        .filter(|m| m.header(HeaderName::Event) == Some("presence.winfo"))
        .collect();
    assert_eq!(winfo.len(), 1);
    let doc = parse_watcherinfo(winfo[0].body()).unwrap();
    assert_eq!(doc.state, DocState::Partial);
    assert_eq!(doc.version, v1 + 1);
    let w = &doc.lists[0].watchers[0];
    assert_eq!(
        (w.status, w.event),
        (WatcherStatus::Active, WatcherEvent::Approved)
    );

    // Bob's subscription expires: terminated/timeout, version + 1 again.
    let fx = a.tick(T0 + 600_000, |_| true);
    let sent = ack_notifies(&mut a, T0 + 600_000, &fx, &mut k);
    let winfo: Vec<_> = sent
        .iter()
        .filter(|m| m.header(HeaderName::Event) == Some("presence.winfo"))
        .collect();
    assert_eq!(winfo.len(), 1, "{sent:?}");
    let doc = parse_watcherinfo(winfo[0].body()).unwrap();
    assert_eq!(doc.version, v1 + 2);
    let w = &doc.lists[0].watchers[0];
    assert_eq!(
        (w.status, w.event),
        (WatcherStatus::Terminated, WatcherEvent::Timeout)
    );
}

#[test]
fn new_watcher_and_rejection_are_reported() {
    let mut a = agent();
    let mut k = 100;
    let fx = a.handle_subscribe(
        T0,
        key(2),
        &winfo_sub(ALICE, "wi@127.0.0.1"),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    let n = ack_notifies(&mut a, T0, &fx, &mut k).remove(0);
    let doc = parse_watcherinfo(n.body()).unwrap();
    assert!(doc.lists[0].watchers.is_empty(), "nobody watches yet");
    // Bob subscribes (same domain, no rules: allowed): partial, active/subscribe.
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    let sent = ack_notifies(&mut a, T0, &fx, &mut k);
    let w: Vec<_> = sent
        .iter()
        .filter(|m| m.header(HeaderName::Event) == Some("presence.winfo"))
        .collect();
    let doc = parse_watcherinfo(w[0].body()).unwrap();
    assert_eq!(doc.state, DocState::Partial);
    assert_eq!(doc.lists[0].watchers[0].status, WatcherStatus::Active);
    // Alice blocks him: terminated/rejected.
    let fx = a.set_rules(ALICE, Some(rules(&[("r1", BOB, "block", "")])), T0 + 1000);
    let sent = ack_notifies(&mut a, T0 + 1000, &fx, &mut k);
    let w: Vec<_> = sent
        .iter()
        .filter(|m| m.header(HeaderName::Event) == Some("presence.winfo"))
        .collect();
    let doc = parse_watcherinfo(w[0].body()).unwrap();
    let e = &doc.lists[0].watchers[0];
    assert_eq!(
        (e.status, e.event),
        (WatcherStatus::Terminated, WatcherEvent::Rejected)
    );
}

#[test]
fn a_winfo_fetch_carries_the_full_state() {
    let mut a = agent();
    let mut k = 100;
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    ack_notifies(&mut a, T0, &fx, &mut k);
    let fetch = subscribe(&Sub {
        from: ALICE,
        call_id: "fetch@127.0.0.1",
        event: Some("presence.winfo"),
        accept: Some("application/watcherinfo+xml"),
        expires: Some(0),
        ..Sub::default()
    });
    let fx = a.handle_subscribe(
        T0,
        key(2),
        &fetch,
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    assert_eq!(status(&fx), 200);
    let n = built(&fx.notifies[0]);
    assert!(
        n.header(HeaderName::SubscriptionState)
            .unwrap()
            .starts_with("terminated")
    );
    let doc = parse_watcherinfo(n.body()).unwrap();
    assert_eq!((doc.version, doc.state), (0, DocState::Full));
    assert_eq!(doc.lists[0].watchers[0].uri, BOB);
}
