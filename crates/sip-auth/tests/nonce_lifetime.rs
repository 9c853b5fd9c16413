//! Stateless nonces: fresh, stale after their age, and invalid when tampered
//! with, from another realm or key, or from the future.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sip_auth::{MAX_CLOCK_SKEW_SECS, NonceKey, NonceStatus};

const T0: u64 = 1_750_000_000;
const REALM: &str = "example.test";

fn key() -> NonceKey {
    NonceKey::new(*b"0123456789abcdef0123456789abcdef")
}

#[test]
fn fresh_until_max_age_then_stale() {
    let k = key();
    let n = k.issue(REALM, T0);
    assert_eq!(
        k.check(REALM, &n, T0, 300),
        NonceStatus::Fresh { issued: T0 }
    );
    assert_eq!(
        k.check(REALM, &n, T0 + 300, 300),
        NonceStatus::Fresh { issued: T0 }
    );
    assert_eq!(k.check(REALM, &n, T0 + 301, 300), NonceStatus::Stale);
    assert_eq!(k.check(REALM, &n, u64::MAX, 300), NonceStatus::Stale);
    // A max age of zero allows the issuing second only.
    assert_eq!(k.check(REALM, &n, T0 + 1, 0), NonceStatus::Stale);
}

#[test]
fn nonces_are_unique_and_header_safe() {
    let k = key();
    let a = k.issue(REALM, T0);
    let b = k.issue(REALM, T0);
    assert_ne!(a, b, "two challenges in one second share a nonce");
    for n in [&a, &b] {
        assert!(
            n.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{n}"
        );
        assert_eq!(
            k.check(REALM, n, T0 + 1, 60),
            NonceStatus::Fresh { issued: T0 }
        );
    }
    // A nonce survives a trip through a challenge header.
    let value = sip_auth::ChallengeSpec {
        realm: REALM,
        nonce: &a,
        opaque: None,
        algorithm: sip_auth::Algorithm::Sha256,
        qop_auth_int: false,
        stale: false,
    }
    .header_value();
    let ch = sip_msg::auth::Challenge::parse(&value).unwrap();
    assert_eq!(ch.nonce().unwrap(), a);
}

#[test]
fn tampered_nonce_is_invalid() {
    let k = key();
    let n = k.issue(REALM, T0);
    // Flip each character in turn to another alphabet character.
    for i in 0..n.len() {
        let mut b = n.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        let t = String::from_utf8(b).unwrap();
        assert_eq!(k.check(REALM, &t, T0, 300), NonceStatus::Invalid, "{i}");
    }
    // Truncated, extended, empty, padded, foreign alphabet.
    assert_eq!(
        k.check(REALM, &n[..n.len() - 1], T0, 300),
        NonceStatus::Invalid
    );
    assert_eq!(
        k.check(REALM, &format!("{n}A"), T0, 300),
        NonceStatus::Invalid
    );
    assert_eq!(k.check(REALM, "", T0, 300), NonceStatus::Invalid);
    assert_eq!(
        k.check(REALM, &format!("{}=", &n[..n.len() - 1]), T0, 300),
        NonceStatus::Invalid
    );
    assert_eq!(
        k.check(REALM, &format!("+{}", &n[1..]), T0, 300),
        NonceStatus::Invalid
    );
    assert_eq!(
        k.check(REALM, "dcd98b7102dd2f0e8b11d0f600bfb0c093", T0, 300),
        NonceStatus::Invalid
    );
}

#[test]
fn other_realm_or_key_is_invalid() {
    let k = key();
    let n = k.issue(REALM, T0);
    assert_eq!(k.check("other.test", &n, T0, 300), NonceStatus::Invalid);
    assert_eq!(k.check("example.test.", &n, T0, 300), NonceStatus::Invalid);
    let other = NonceKey::new([9; 32]);
    assert_eq!(other.check(REALM, &n, T0, 300), NonceStatus::Invalid);
    // Two keys made from the same secret agree (a cluster).
    assert_eq!(
        key().check(REALM, &n, T0, 300),
        NonceStatus::Fresh { issued: T0 }
    );
}

#[test]
fn nonce_from_the_future_is_invalid() {
    let k = key();
    let n = k.issue(REALM, T0 + MAX_CLOCK_SKEW_SECS);
    assert_eq!(
        k.check(REALM, &n, T0, 300),
        NonceStatus::Fresh {
            issued: T0 + MAX_CLOCK_SKEW_SECS
        }
    );
    let n = k.issue(REALM, T0 + MAX_CLOCK_SKEW_SECS + 1);
    assert_eq!(k.check(REALM, &n, T0, 300), NonceStatus::Invalid);
    let n = k.issue(REALM, u64::MAX);
    assert_eq!(k.check(REALM, &n, T0, u64::MAX), NonceStatus::Invalid);
    assert_eq!(
        k.check(REALM, &n, u64::MAX, 0),
        NonceStatus::Fresh { issued: u64::MAX }
    );
}
