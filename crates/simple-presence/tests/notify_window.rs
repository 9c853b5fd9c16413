//! Flow control per destination: with many watchers behind one address, at
//! most `notify_window` NOTIFYs are unanswered at once; every answer lets
//! the next one go, every watcher gets the latest state exactly once, and a
//! watcher at another address is not held back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use simple_presence::{PresenceConfig, SubscribeAuth};
use sip_msg::HeaderName;
use sip_proto::{FlowId, Peer, Transport};

#[test]
fn window_per_destination() {
    let cfg = PresenceConfig {
        notify_window: 8,
        ..PresenceConfig::default()
    };
    let mut a = agent_with(cfg);
    let mut k = 0;
    // 20 watchers from one address (answering every initial NOTIFY), one
    // from another.
    let ids: Vec<String> = (0..20).map(|i| format!("w{i}@127.0.0.1")).collect();
    for (i, cid) in ids.iter().enumerate() {
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
        assert_eq!(fx.notifies.len(), 1);
        ack_notifies(&mut a, T0, &fx, &mut k);
    }
    let other = Peer::new(Transport::Udp, "127.0.0.1:6000".parse().unwrap(), FlowId(1));
    let fx = a.handle_subscribe(
        T0,
        key(99),
        &subscribe(&Sub {
            call_id: "other@127.0.0.1",
            ..Sub::default()
        }),
        other,
        ALICE,
        SubscribeAuth::Allow,
        true,
    );
    ack_notifies(&mut a, T0, &fx, &mut k);

    let doc = pidf(ALICE, "phone", "open", "fan-out");
    let fx = a.handle_publish(
        T0,
        key(200),
        &publish(1, None, None, Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    // 8 to the busy address, 1 to the other.
    assert_eq!(
        fx.notifies.len(),
        9,
        "window of 8 plus the other destination"
    );
    assert_eq!(
        fx.notifies
            .iter()
            .filter(|n| n.peer.remote == other.remote)
            .count(),
        1
    );
    let mut outstanding: Vec<_> = fx.notifies.iter().map(|n| n.sub.clone()).collect();
    let mut keys = Vec::new();
    for sub in &outstanding {
        k += 1;
        a.notify_sent(sub, key(5_000_000 + k));
        keys.push(key(5_000_000 + k));
    }
    let mut delivered = std::collections::HashSet::new();
    // Answer one at a time: each answer releases exactly one more until all
    // 21 watchers have had the change once.
    while let Some(kk) = keys.pop() {
        let sub = outstanding.pop().unwrap();
        assert!(delivered.insert(sub), "one NOTIFY per watcher");
        let more = a.handle_notify_result(T0, kk, 200);
        assert!(more.notifies.len() <= 1);
        for n in &more.notifies {
            assert!(body_str(&built(n)).contains("fan-out"));
            k += 1;
            a.notify_sent(&n.sub, key(5_000_000 + k));
            keys.insert(0, key(5_000_000 + k));
            outstanding.insert(0, n.sub.clone());
        }
    }
    assert_eq!(delivered.len(), 21, "every watcher told exactly once");
    let _ = HeaderName::Event;
}

#[test]
fn a_slot_freed_by_an_unsubscribe_goes_to_the_next_waiting() {
    let cfg = PresenceConfig {
        notify_window: 2,
        ..PresenceConfig::default()
    };
    let mut a = agent_with(cfg);
    let mut k = 0;
    let mut tags = Vec::new();
    for (i, cid) in ["a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1"]
        .iter()
        .enumerate()
    {
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
        tags.push(only_response(&fx).to().unwrap().tag().unwrap().to_owned());
        ack_notifies(&mut a, T0, &fx, &mut k);
    }
    let doc = pidf(ALICE, "phone", "open", "x");
    let fx = a.handle_publish(
        T0,
        key(50),
        &publish(1, None, None, Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    assert_eq!(fx.notifies.len(), 2, "window of 2");
    for n in &fx.notifies {
        k += 1;
        a.notify_sent(&n.sub, key(7_000_000 + k));
    }
    // One of the two in flight unsubscribes: its slot goes to the third.
    let gone = fx.notifies[0].sub.to_string();
    let i = tags.iter().position(|t| *t == gone).unwrap();
    let cid = ["a@127.0.0.1", "b@127.0.0.1", "c@127.0.0.1"][i];
    let unsub = subscribe(&Sub {
        call_id: cid,
        to_tag: Some(&gone),
        cseq: 2,
        expires: Some(0),
        ..Sub::default()
    });
    let fx2 = a.handle_subscribe(
        T0,
        key(60),
        &unsub,
        watcher_peer(),
        "",
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(status(&fx2), 200);
    let subs: Vec<&str> = fx2.notifies.iter().map(|n| &*n.sub).collect();
    assert_eq!(
        subs.len(),
        2,
        "the final NOTIFY and the waiting watcher's: {subs:?}"
    );
    assert!(
        subs.iter()
            .any(|s| *s != gone && !fx.notifies.iter().any(|n| &*n.sub == *s)),
        "{subs:?}"
    );
}
