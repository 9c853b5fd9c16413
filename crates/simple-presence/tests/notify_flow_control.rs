//! Per-watcher isolation: one NOTIFY outstanding per watcher, changes in
//! the meantime coalesced into one NOTIFY with the latest state; a timed-out
//! NOTIFY is retried before the subscription ends; a 481 ends it at once;
//! a silent watcher never holds back another.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use simple_presence::SubscribeAuth;

#[test]
fn changes_coalesce_behind_an_outstanding_notify() {
    let mut a = agent();
    let mut k = 0;
    subscribe_bob(&mut a, T0, &mut k);
    let (fx, etag) = publish_note(&mut a, T0, 1, None, "one");
    assert_eq!(fx.notifies.len(), 1);
    let pending_key = key(2_000_001);
    a.notify_sent(&fx.notifies[0].sub, pending_key);
    // Two more changes while that NOTIFY is unanswered: nothing goes out.
    let (fx, etag) = publish_note(&mut a, T0, 2, Some(&etag), "two");
    assert!(fx.notifies.is_empty());
    let (fx, _) = publish_note(&mut a, T0, 3, Some(&etag), "three");
    assert!(fx.notifies.is_empty());
    // The 200 arrives: exactly one NOTIFY, with the latest state.
    let fx = a.handle_notify_result(T0, pending_key, 200);
    assert_eq!(fx.notifies.len(), 1);
    let body = body_str(&built(&fx.notifies[0]));
    assert!(body.contains("three") && !body.contains("two"), "{body}");
}

#[test]
fn timeout_is_retried_then_the_subscription_ends() {
    let mut a = agent();
    let mut k = 0;
    subscribe_bob(&mut a, T0, &mut k);
    let (fx, _) = publish_note(&mut a, T0, 1, None, "one");
    let k1 = key(2_000_001);
    a.notify_sent(&fx.notifies[0].sub, k1);
    let fx = a.handle_notify_result(T0 + 32_000, k1, 408);
    assert_eq!(fx.notifies.len(), 1, "retried once (notify_retries = 1)");
    assert_eq!(a.subscription_count(), 1);
    let k2 = key(2_000_002);
    a.notify_sent(&fx.notifies[0].sub, k2);
    let fx = a.handle_notify_result(T0 + 64_000, k2, 408);
    assert!(fx.notifies.is_empty());
    assert_eq!(
        a.subscription_count(),
        0,
        "ended after the retry timed out too"
    );
    assert_eq!(fx.store.sub_removes.len(), 1);
}

#[test]
fn a_481_ends_the_subscription() {
    let mut a = agent();
    let mut k = 0;
    subscribe_bob(&mut a, T0, &mut k);
    let (fx, _) = publish_note(&mut a, T0, 1, None, "one");
    let k1 = key(2_000_001);
    a.notify_sent(&fx.notifies[0].sub, k1);
    let fx = a.handle_notify_result(T0, k1, 481);
    assert_eq!(a.subscription_count(), 0);
    assert_eq!(fx.store.sub_removes.len(), 1);
}

#[test]
fn a_silent_watcher_does_not_hold_back_another() {
    let mut a = agent();
    let mut k = 10;
    // Two watchers.
    for (i, cid) in ["w1@127.0.0.1", "w2@127.0.0.1"].iter().enumerate() {
        let fx = a.handle_subscribe(
            T0,
            key(i as u64 + 1),
            &subscribe(&Sub {
                call_id: cid,
                ..Sub::default()
            }),
            watcher_peer(),
            ALICE,
            SubscribeAuth::Allow,
            true,
        );
        ack_notifies(&mut a, T0, &fx, &mut k);
    }
    let (fx, etag) = publish_note(&mut a, T0, 1, None, "one");
    assert_eq!(fx.notifies.len(), 2);
    // Watcher 1 never answers; watcher 2 does.
    let (silent, answering) = (&fx.notifies[0], &fx.notifies[1]);
    a.notify_sent(&silent.sub, key(3_000_001));
    a.notify_sent(&answering.sub, key(3_000_002));
    assert!(
        a.handle_notify_result(T0, key(3_000_002), 200)
            .notifies
            .is_empty()
    );
    let (fx, _) = publish_note(&mut a, T0 + 1000, 2, Some(&etag), "two");
    assert_eq!(
        fx.notifies.len(),
        1,
        "only the answering watcher gets the next one at once"
    );
    assert_eq!(fx.notifies[0].sub, answering.sub);
}
