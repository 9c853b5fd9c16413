//! ChallengeSpec writes WWW-Authenticate / Proxy-Authenticate values that
//! sip-msg parses back to the same parameters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sip_auth::{Algorithm, ChallengeSpec};
use sip_msg::auth::{Challenge, Qop};

#[test]
fn header_value_round_trips() {
    for alg in Algorithm::ALL {
        for (auth_int, stale) in [(false, false), (true, true)] {
            let spec = ChallengeSpec {
                realm: "example.test",
                nonce: "abc-_123",
                opaque: Some("xyz"),
                algorithm: alg,
                qop_auth_int: auth_int,
                stale,
            };
            let v = spec.header_value();
            let c = Challenge::parse(&v).unwrap();
            assert!(c.is_digest());
            assert_eq!(c.realm().unwrap(), "example.test");
            assert_eq!(c.nonce().unwrap(), "abc-_123");
            assert_eq!(c.opaque().unwrap(), "xyz");
            assert_eq!(Algorithm::from_msg(c.algorithm().unwrap()), Some(alg));
            let qops: Vec<_> = c.qop_options().collect();
            if auth_int {
                assert_eq!(qops, vec![Qop::Auth, Qop::AuthInt]);
            } else {
                assert_eq!(qops, vec![Qop::Auth]);
            }
            assert_eq!(c.stale(), stale);
            // RFC 7616 §3.3: algorithm and stale as tokens.
            assert!(v.contains(&format!("algorithm={}", alg.token())));
            assert_eq!(v.contains("stale=true"), stale);
            assert!(!v.contains("stale=false"));
        }
    }
}

#[test]
fn exact_text() {
    let spec = ChallengeSpec {
        realm: "atlanta.com",
        nonce: "n1",
        opaque: None,
        algorithm: Algorithm::Sha256,
        qop_auth_int: false,
        stale: false,
    };
    assert_eq!(
        spec.header_value(),
        r#"Digest realm="atlanta.com", qop="auth", algorithm=SHA-256, nonce="n1""#
    );
}

#[test]
fn realm_is_quoted_safely() {
    let spec = ChallengeSpec {
        realm: "a \"quoted\" \\ realm\r\n",
        nonce: "n",
        opaque: Some(""),
        algorithm: Algorithm::Md5,
        qop_auth_int: false,
        stale: false,
    };
    let v = spec.header_value();
    assert!(!v.contains('\r') && !v.contains('\n'));
    let c = Challenge::parse(&v).unwrap();
    assert_eq!(c.realm().unwrap(), "a \"quoted\" \\ realm");
    assert_eq!(c.opaque().unwrap(), "");
}
