//! With nothing published, a registered presentity is open and an
//! unregistered one closed; watchers hear the change at the next tick or at
//! once through `registration_changed`. With the feature off, nothing
//! published means closed whatever the registration.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use simple_presence::{PresenceConfig, SubscribeAuth};

#[test]
fn registration_state_feeds_watchers() {
    let mut a = agent();
    let mut k = 0;
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Allow,
        false,
    );
    let n = ack_notifies(&mut a, T0, &fx, &mut k);
    assert!(body_str(&n[0]).contains("<basic>closed</basic>"));
    // Registers: told at once.
    let fx = a.registration_changed(ALICE, true, T0 + 1000);
    let n = ack_notifies(&mut a, T0 + 1000, &fx, &mut k);
    assert_eq!(n.len(), 1);
    assert!(body_str(&n[0]).contains("<basic>open</basic>"));
    // Same state again: nothing sent.
    assert!(
        a.registration_changed(ALICE, true, T0 + 2000)
            .notifies
            .is_empty()
    );
    // The binding expires: the tick notices.
    let fx = a.tick(T0 + 3000, |_| false);
    let n = ack_notifies(&mut a, T0 + 3000, &fx, &mut k);
    assert_eq!(n.len(), 1);
    assert!(body_str(&n[0]).contains("<basic>closed</basic>"));
}

#[test]
fn feature_off_means_closed_without_publications() {
    let cfg = PresenceConfig {
        registration_feeds_presence: false,
        ..PresenceConfig::default()
    };
    let mut a = agent_with(cfg);
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Allow,
        true,
    );
    let n = built(&fx.notifies[0]);
    assert!(body_str(&n).contains("<basic>closed</basic>"));
}
