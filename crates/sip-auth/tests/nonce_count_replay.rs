//! The nonce-count window: replays refused, reordering inside the window
//! accepted once, memory bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sip_auth::{NC_WINDOW, NonceCounts, NonceKey};

const T0: u64 = 1_750_000_000;

fn nonces(n: usize) -> Vec<String> {
    let k = NonceKey::new([1; 32]);
    (0..n)
        .map(|i| k.issue("example.test", T0 + i as u64))
        .collect()
}

#[test]
fn replay_is_refused() {
    let n = &nonces(1)[0];
    let mut c = NonceCounts::new(16);
    assert!(c.accept(n, 1));
    assert!(!c.accept(n, 1));
    assert!(c.accept(n, 2));
    assert!(!c.accept(n, 2));
    assert!(!c.accept(n, 1));
    // nc = 0 is never valid.
    assert!(!c.accept(n, 0));
    assert_eq!(c.len(), 1);
}

#[test]
fn out_of_order_within_window_accepted_once() {
    let n = &nonces(1)[0];
    let mut c = NonceCounts::new(16);
    assert!(c.accept(n, 3));
    assert!(c.accept(n, 1));
    assert!(c.accept(n, 2));
    assert!(!c.accept(n, 2));
    assert!(c.accept(n, 10));
    for nc in 4..10 {
        assert!(c.accept(n, nc), "{nc}");
        assert!(!c.accept(n, nc), "{nc}");
    }
    // The window is NC_WINDOW counts wide, ending at the highest seen.
    assert!(c.accept(n, 200));
    assert!(!c.accept(n, 200 - NC_WINDOW));
    assert!(c.accept(n, 200 - NC_WINDOW + 1));
    assert!(!c.accept(n, 200 - NC_WINDOW + 1));
}

#[test]
fn a_new_nonce_starts_inside_the_first_window() {
    let ns = nonces(3);
    let mut c = NonceCounts::new(16);
    // The first requests may arrive reordered...
    assert!(c.accept(&ns[0], NC_WINDOW));
    assert!(c.accept(&ns[0], 1));
    // ...but a client cannot start beyond the window.
    assert!(!c.accept(&ns[1], NC_WINDOW + 1));
    assert!(c.accept(&ns[1], 1));
    assert!(!c.accept(&ns[2], u32::MAX));
    assert_eq!(c.len(), 2);
}

#[test]
fn capacity_bound_holds_and_evicts_oldest_issued() {
    let ns = nonces(10);
    let mut c = NonceCounts::new(4);
    assert_eq!(c.capacity(), 4);
    assert!(c.is_empty());
    // First use in an order other than issue order.
    for i in [3, 1, 2, 0] {
        assert!(c.accept(&ns[i], 1));
    }
    assert_eq!(c.len(), 4);
    for (i, n) in ns.iter().enumerate().skip(4) {
        assert!(c.accept(n, 1), "{i}");
        assert!(c.len() <= 4);
    }
    assert_eq!(c.len(), 4);
    // The four newest are tracked: replays refused, new counts accepted.
    for n in &ns[6..] {
        assert!(!c.accept(n, 1));
        assert!(c.accept(n, 2));
    }
    // The evicted ones (issued first) are refused outright rather than
    // forgotten: replaying their nc=1 must not succeed.
    for n in &ns[..6] {
        assert!(!c.accept(n, 1));
        assert!(!c.accept(n, 2));
    }
    assert_eq!(c.len(), 4);
}

#[test]
fn a_newcomer_older_than_everything_tracked_is_refused_when_full() {
    let ns = nonces(4);
    let mut c = NonceCounts::new(2);
    assert!(c.accept(&ns[2], 1));
    assert!(c.accept(&ns[3], 1));
    // ns[0] was issued before both: tracking it would evict a newer one,
    // so it is the one dropped, and it cannot be vouched for.
    assert!(!c.accept(&ns[0], 1));
    assert_eq!(c.len(), 2);
    assert!(!c.accept(&ns[2], 1));
    assert!(!c.accept(&ns[3], 1));
    // ns[1] is newer than ns[0] but still older than everything tracked.
    assert!(!c.accept(&ns[1], 1));
    assert_eq!(c.len(), 2);
}

#[test]
fn capacity_zero_tracks_one() {
    let ns = nonces(2);
    let mut c = NonceCounts::new(0);
    assert!(c.accept(&ns[0], 1));
    assert!(!c.accept(&ns[0], 1));
    assert!(c.accept(&ns[1], 1));
    assert_eq!(c.len(), 1);
    assert!(!c.accept(&ns[0], 2));
}

#[test]
fn prune_frees_room_for_expired_nonces() {
    let ns = nonces(5);
    let mut c = NonceCounts::new(8);
    for n in &ns {
        assert!(c.accept(n, 1));
    }
    c.prune(T0 + 3);
    assert_eq!(c.len(), 2);
    assert!(!c.accept(&ns[0], 2));
    assert!(c.accept(&ns[3], 2));
}
