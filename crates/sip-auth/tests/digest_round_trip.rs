//! Challenge → authorize → verify → Authentication-Info for every algorithm
//! and qop, and the ways a round trip must fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sip_auth::{
    Algorithm, AuthError, ChallengeSpec, ClientCredentials, Qop, authentication_info, authorize,
    ha1, verify,
};
use sip_msg::auth::{AuthenticationInfo, Challenge, Credentials};

const REALM: &str = "example.test";
const NONCE: &str = "bm9uY2Utb2YtdGhlLWRheQ";
const URI: &str = "sip:example.test";
const ALICE: ClientCredentials<'static> = ClientCredentials {
    username: "alice",
    password: "s3cret pass",
};

fn challenge(alg: Algorithm, auth_int: bool) -> String {
    ChallengeSpec {
        realm: REALM,
        nonce: NONCE,
        opaque: Some("op"),
        algorithm: alg,
        qop_auth_int: auth_int,
        stale: false,
    }
    .header_value()
}

/// The client's Authorization value for `challenge_text`.
fn answer(challenge_text: &str, method: &str, body: &[u8], nc: u32) -> String {
    let ch = Challenge::parse(challenge_text).unwrap();
    authorize(&ch, &ALICE, method, URI, body, "c-nonce/42", nc).unwrap()
}

/// rspauth computed from the RFC 7616 §3.5 formulas with nothing but `H()`.
fn expected_rspauth(alg: Algorithm, qop: Option<&str>, nc: &str, body: &[u8]) -> String {
    let h = |s: &str| alg.hash_hex(s.as_bytes());
    let mut ha1 = ha1(alg, "alice", REALM, "s3cret pass");
    if alg.is_session() {
        ha1 = h(&format!("{ha1}:{NONCE}:c-nonce/42"));
    }
    let ha2 = match qop {
        Some("auth-int") => h(&format!(":{URI}:{}", alg.hash_hex(body))),
        _ => h(&format!(":{URI}")),
    };
    match qop {
        Some(q) => h(&format!("{ha1}:{NONCE}:{nc}:c-nonce/42:{q}:{ha2}")),
        None => h(&format!("{ha1}:{NONCE}:{ha2}")),
    }
}

#[test]
fn every_algorithm_round_trips_with_auth() {
    for alg in Algorithm::ALL {
        let value = answer(&challenge(alg, false), "REGISTER", b"", 7);
        let c = Credentials::parse(&value).unwrap();
        assert_eq!(c.response().unwrap().len(), alg.hex_len(), "{alg}");
        assert_eq!(c.opaque().unwrap(), "op");
        let stored = ha1(alg, "alice", REALM, "s3cret pass");
        let v = verify(&c, "REGISTER", URI, b"", &stored).unwrap();
        assert_eq!(v.algorithm, alg);
        assert_eq!(v.qop, Some(Qop::Auth));
        assert_eq!(v.nc, Some(7));
        assert_eq!(v.cnonce.as_deref(), Some("c-nonce/42"));
        assert_eq!(v.uri, URI);
        assert_eq!(v.realm, REALM);

        // Authentication-Info: parses, echoes qop/cnonce/nc, and its rspauth
        // follows RFC 7616 §3.5 (empty method in A2).
        let info = authentication_info(&v, &stored, NONCE, URI, b"", Some("next-1"));
        let a = AuthenticationInfo::parse(&info).unwrap();
        assert_eq!(a.nextnonce().unwrap(), "next-1");
        assert_eq!(a.qop(), Some(sip_msg::auth::Qop::Auth));
        assert_eq!(a.cnonce().unwrap(), "c-nonce/42");
        assert_eq!(a.nc(), Some(7));
        assert_eq!(
            a.rspauth().unwrap(),
            expected_rspauth(alg, Some("auth"), "00000007", b"")
        );
        // rspauth is not the request's response (the method is left out).
        assert_ne!(a.rspauth(), c.response());
    }
}

#[test]
fn sha512_256_round_trip() {
    let value = answer(
        &challenge(Algorithm::Sha512_256, false),
        "MESSAGE",
        b"hi",
        1,
    );
    assert!(value.contains("algorithm=SHA-512-256"));
    let c = Credentials::parse(&value).unwrap();
    let stored = ha1(Algorithm::Sha512_256, "alice", REALM, "s3cret pass");
    assert_eq!(stored.len(), 64);
    assert!(verify(&c, "MESSAGE", URI, b"hi", &stored).is_ok());
    // A SHA-256 HA1 has the right length but the wrong value.
    let other = ha1(Algorithm::Sha256, "alice", REALM, "s3cret pass");
    assert_eq!(
        verify(&c, "MESSAGE", URI, b"hi", &other),
        Err(AuthError::BadResponse)
    );
}

#[test]
fn session_algorithms_mix_in_nonce_and_cnonce() {
    for alg in [
        Algorithm::Md5Sess,
        Algorithm::Sha256Sess,
        Algorithm::Sha512_256Sess,
    ] {
        let value = answer(&challenge(alg, false), "REGISTER", b"", 1);
        assert!(value.contains(&format!("algorithm={}", alg.token())));
        let c = Credentials::parse(&value).unwrap();
        // The stored HA1 is the base algorithm's.
        let stored = ha1(alg.base(), "alice", REALM, "s3cret pass");
        assert_eq!(stored, ha1(alg, "alice", REALM, "s3cret pass"));
        let v = verify(&c, "REGISTER", URI, b"", &stored).unwrap();
        assert_eq!(v.algorithm, alg);

        // The same credentials under the base algorithm do not verify: the
        // session key differs from HA1.
        let plain = value.replace(
            &format!("algorithm={}", alg.token()),
            &format!("algorithm={}", alg.base().token()),
        );
        let c = Credentials::parse(&plain).unwrap();
        assert_eq!(
            verify(&c, "REGISTER", URI, b"", &stored),
            Err(AuthError::BadResponse)
        );
    }
}

#[test]
fn auth_int_covers_the_body() {
    let body = b"v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\n";
    for alg in Algorithm::ALL {
        // Only auth-int offered: the client must use it.
        let text = ChallengeSpec {
            realm: REALM,
            nonce: NONCE,
            opaque: None,
            algorithm: alg,
            qop_auth_int: true,
            stale: false,
        }
        .header_value()
        .replace("qop=\"auth,auth-int\"", "qop=\"auth-int\"");
        let value = answer(&text, "INVITE", body, 1);
        assert!(value.contains("qop=auth-int"), "{value}");
        let c = Credentials::parse(&value).unwrap();
        let stored = ha1(alg, "alice", REALM, "s3cret pass");
        let v = verify(&c, "INVITE", URI, body, &stored).unwrap();
        assert_eq!(v.qop, Some(Qop::AuthInt));
        assert_eq!(
            verify(&c, "INVITE", URI, b"v=0\r\no=mallory\r\n", &stored),
            Err(AuthError::BadResponse)
        );
        assert_eq!(
            verify(&c, "INVITE", URI, b"", &stored),
            Err(AuthError::BadResponse)
        );

        // rspauth with auth-int hashes the response body.
        let info = authentication_info(&v, &stored, NONCE, URI, b"200 body", None);
        let a = AuthenticationInfo::parse(&info).unwrap();
        assert_eq!(a.nextnonce(), None);
        assert_eq!(
            a.rspauth().unwrap(),
            expected_rspauth(alg, Some("auth-int"), "00000001", b"200 body")
        );
    }
}

#[test]
fn auth_preferred_when_both_offered() {
    let value = answer(&challenge(Algorithm::Sha256, true), "INVITE", b"body", 1);
    let c = Credentials::parse(&value).unwrap();
    assert_eq!(c.qop(), Some(sip_msg::auth::Qop::Auth));
    // With qop=auth the body is not covered.
    let stored = ha1(Algorithm::Sha256, "alice", REALM, "s3cret pass");
    assert!(verify(&c, "INVITE", URI, b"other body", &stored).is_ok());
}

#[test]
fn rfc2069_form_without_qop() {
    // RFC 3261 §22.4: a challenge without qop gets the RFC 2069 response:
    // no cnonce, no nc.
    let text = format!(r#"Digest realm="{REALM}", nonce="{NONCE}", algorithm=MD5"#);
    let value = answer(&text, "REGISTER", b"", 1);
    assert!(!value.contains("cnonce") && !value.contains("nc=") && !value.contains("qop"));
    let c = Credentials::parse(&value).unwrap();
    let stored = ha1(Algorithm::Md5, "alice", REALM, "s3cret pass");
    let v = verify(&c, "REGISTER", URI, b"", &stored).unwrap();
    assert_eq!((v.qop, v.nc, v.cnonce.as_deref()), (None, None, None));
    let info = authentication_info(&v, &stored, NONCE, URI, b"", None);
    let a = AuthenticationInfo::parse(&info).unwrap();
    assert_eq!(a.qop(), None);
    assert_eq!(
        a.rspauth().unwrap(),
        expected_rspauth(Algorithm::Md5, None, "", b"")
    );

    // An independent RFC 2069 computation: KD(HA1, nonce ":" H(A2)).
    let h = |s: &str| Algorithm::Md5.hash_hex(s.as_bytes());
    let ha2 = h(&format!("REGISTER:{URI}"));
    assert_eq!(c.response().unwrap(), h(&format!("{stored}:{NONCE}:{ha2}")));

    // A -sess algorithm still needs the cnonce, qop or not.
    let text = format!(r#"Digest realm="{REALM}", nonce="{NONCE}", algorithm=SHA-256-sess"#);
    let value = answer(&text, "REGISTER", b"", 1);
    assert!(value.contains("cnonce=\"c-nonce/42\"") && !value.contains("nc="));
    let c = Credentials::parse(&value).unwrap();
    let stored = ha1(Algorithm::Sha256, "alice", REALM, "s3cret pass");
    assert!(verify(&c, "REGISTER", URI, b"", &stored).is_ok());
}

#[test]
fn wrong_password_fails() {
    for alg in Algorithm::ALL {
        let value = answer(&challenge(alg, false), "REGISTER", b"", 1);
        let c = Credentials::parse(&value).unwrap();
        let stored = ha1(alg, "alice", REALM, "s3cret pasS");
        let err = verify(&c, "REGISTER", URI, b"", &stored).unwrap_err();
        assert_eq!(err, AuthError::BadResponse);
        assert!(!err.is_bad_request());
        assert_eq!(err.to_string(), "Digest response mismatch");
    }
}

#[test]
fn wrong_uri_fails() {
    let value = answer(&challenge(Algorithm::Sha256, false), "REGISTER", b"", 1);
    let c = Credentials::parse(&value).unwrap();
    let stored = ha1(Algorithm::Sha256, "alice", REALM, "s3cret pass");
    // Another Request-URI, even an equivalent one under RFC 3261 §19.1.4.
    for other in [
        "sip:other.test",
        "sip:EXAMPLE.test",
        "sip:example.test:5060",
    ] {
        let err = verify(&c, "REGISTER", other, b"", &stored).unwrap_err();
        assert_eq!(err, AuthError::UriMismatch);
        assert!(err.is_bad_request());
    }
    // The uri parameter altered in transit: it matches the Request-URI but
    // not the digest.
    let forged = value.replace("uri=\"sip:example.test\"", "uri=\"sip:evil.test\"");
    let c = Credentials::parse(&forged).unwrap();
    assert_eq!(
        verify(&c, "REGISTER", "sip:evil.test", b"", &stored),
        Err(AuthError::BadResponse)
    );
}

#[test]
fn tampered_nc_cnonce_or_nonce_fails() {
    let value = answer(&challenge(Algorithm::Sha256, false), "REGISTER", b"", 1);
    let stored = ha1(Algorithm::Sha256, "alice", REALM, "s3cret pass");
    for (from, to) in [
        ("nc=00000001", "nc=00000002"),
        ("cnonce=\"c-nonce/42\"", "cnonce=\"c-nonce/43\""),
        (NONCE, "bm9uY2Utb2YtdGhlLWRheq"),
    ] {
        let forged = value.replace(from, to);
        assert_ne!(forged, value);
        let c = Credentials::parse(&forged).unwrap();
        assert_eq!(
            verify(&c, "REGISTER", URI, b"", &stored),
            Err(AuthError::BadResponse),
            "{from} -> {to}"
        );
    }
}

#[test]
fn upper_case_wire_values_are_hashed_as_sent() {
    // A lenient peer writes nc in upper case and the response in upper case
    // hex: the digest covers nc as sent, and the hex case does not matter.
    let stored = ha1(Algorithm::Md5, "alice", REALM, "s3cret pass");
    let h = |s: &str| Algorithm::Md5.hash_hex(s.as_bytes());
    let ha2 = h(&format!("REGISTER:{URI}"));
    let resp = h(&format!("{stored}:{NONCE}:0000000A:cn:auth:{ha2}")).to_ascii_uppercase();
    let text = format!(
        r#"Digest username="alice", realm="{REALM}", nonce="{NONCE}", uri="{URI}", response="{resp}", qop=auth, nc=0000000A, cnonce="cn""#
    );
    let c = Credentials::parse(&text).unwrap();
    let v = verify(&c, "REGISTER", URI, b"", &stored.to_ascii_uppercase()).unwrap();
    assert_eq!(v.nc, Some(10));
    // And Authentication-Info echoes nc as the client sent it.
    let info = authentication_info(&v, &stored, NONCE, URI, b"", None);
    assert!(info.ends_with("nc=0000000A"), "{info}");
}
