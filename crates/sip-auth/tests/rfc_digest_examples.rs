//! The worked examples of RFC 7616 §3.9 and RFC 2617 §3.5, from both sides:
//! our client must produce the RFC's response, and our verifier must accept
//! the RFC's Authorization header (and refuse it with another password).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sip_auth::{Algorithm, AuthError, ClientCredentials, Qop, authorize, ha1, userhash, verify};
use sip_msg::auth::{Challenge, Credentials};

// RFC 7616 §3.9.1, unfolded.
const REALM: &str = "http-auth@example.org";
const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
const OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
const MUFASA: ClientCredentials<'static> = ClientCredentials {
    username: "Mufasa",
    password: "Circle of Life",
};

fn challenge_7616(alg: &str) -> String {
    format!(
        r#"Digest realm="{REALM}", qop="auth, auth-int", algorithm={alg}, nonce="{NONCE}", opaque="{OPAQUE}""#
    )
}

fn authorization_7616(alg: &str, response: &str) -> String {
    format!(
        r#"Digest username="Mufasa", realm="{REALM}", uri="/dir/index.html", algorithm={alg}, nonce="{NONCE}", nc=00000001, cnonce="{CNONCE}", qop=auth, response="{response}", opaque="{OPAQUE}""#
    )
}

const MD5_RESPONSE: &str = "8ca523f5e9506fed4657c9700eebdbec";
const SHA256_RESPONSE: &str = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";

#[test]
fn rfc7616_client_reproduces_md5_and_sha256_responses() {
    for (alg, expected) in [("MD5", MD5_RESPONSE), ("SHA-256", SHA256_RESPONSE)] {
        let text = challenge_7616(alg);
        let ch = Challenge::parse(&text).unwrap();
        let value = authorize(&ch, &MUFASA, "GET", "/dir/index.html", b"", CNONCE, 1).unwrap();
        // Our output is well-formed credentials carrying the RFC's values.
        let c = Credentials::parse(&value).unwrap();
        assert_eq!(c.response(), Some(expected), "{alg}: {value}");
        assert_eq!(c.username().unwrap(), "Mufasa");
        assert_eq!(c.realm().unwrap(), REALM);
        assert_eq!(c.nonce().unwrap(), NONCE);
        assert_eq!(c.uri().unwrap(), "/dir/index.html");
        assert_eq!(c.cnonce().unwrap(), CNONCE);
        assert_eq!(c.opaque().unwrap(), OPAQUE);
        assert_eq!(c.nc(), Some(1));
        assert_eq!(c.qop(), Some(sip_msg::auth::Qop::Auth));
        assert_eq!(c.algorithm().unwrap().as_str(), alg);
        assert!(!c.userhash());
        // RFC 7616 §3.4: algorithm, qop and nc are never quoted.
        assert!(value.contains(&format!("algorithm={alg}")));
        assert!(value.contains("qop=auth,") || value.ends_with("qop=auth"));
        assert!(value.contains("nc=00000001"));
    }
}

#[test]
fn rfc7616_server_accepts_md5_and_sha256_authorizations() {
    for (alg, a, response) in [
        ("MD5", Algorithm::Md5, MD5_RESPONSE),
        ("SHA-256", Algorithm::Sha256, SHA256_RESPONSE),
    ] {
        let text = authorization_7616(alg, response);
        let c = Credentials::parse(&text).unwrap();
        let stored = ha1(a, "Mufasa", REALM, "Circle of Life");
        let v = verify(&c, "GET", "/dir/index.html", b"", &stored).unwrap();
        assert_eq!(v.algorithm, a);
        assert_eq!(v.qop, Some(Qop::Auth));
        assert_eq!(v.nc, Some(1));
        assert_eq!(v.cnonce.as_deref(), Some(CNONCE));
        assert_eq!(v.username, "Mufasa");
        assert_eq!(v.nonce, NONCE);
        assert_eq!(v.opaque.as_deref(), Some(OPAQUE));
        assert!(!v.userhash);

        // RFC 2617 §3.5 capitalizes "Of"; RFC 7616 does not. One letter off
        // is a different password.
        let wrong = ha1(a, "Mufasa", REALM, "Circle Of Life");
        assert_eq!(
            verify(&c, "GET", "/dir/index.html", b"", &wrong),
            Err(AuthError::BadResponse)
        );
        // Another method is another A2.
        assert_eq!(
            verify(&c, "POST", "/dir/index.html", b"", &stored),
            Err(AuthError::BadResponse)
        );
    }
}

#[test]
fn rfc2617_md5_example() {
    // RFC 2617 §3.5.
    let ch = Challenge::parse(
        r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
    )
    .unwrap();
    let creds = ClientCredentials {
        username: "Mufasa",
        password: "Circle Of Life",
    };
    let value = authorize(&ch, &creds, "GET", "/dir/index.html", b"", "0a4f113b", 1).unwrap();
    let c = Credentials::parse(&value).unwrap();
    assert_eq!(c.response(), Some("6629fae49393a05397450978507c4ef1"));
    // The challenge named no algorithm: MD5, and we say so.
    assert!(value.contains("algorithm=MD5"));

    let rfc = Credentials::parse(
        r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
    )
    .unwrap();
    let stored = ha1(
        Algorithm::Md5,
        "Mufasa",
        "testrealm@host.com",
        "Circle Of Life",
    );
    let v = verify(&rfc, "GET", "/dir/index.html", b"", &stored).unwrap();
    assert_eq!(v.algorithm, Algorithm::Md5);
    assert_eq!(v.nc, Some(1));
}

// RFC 7616 §3.9.2. The RFC prints username
// 488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec and
// response ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd,
// neither of which follows from its own inputs (RFC Errata ID 4897). The
// values below are the ones the §3.4.2/§3.4.4 formulas give, cross-checked
// with an independent SHA-512/256 implementation.
const JASON: &str = "J\u{e4}s\u{f8}n Doe";
const API_REALM: &str = "api@example.org";
const API_NONCE: &str = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK";
const API_CNONCE: &str = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v";
const API_OPAQUE: &str = "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS";
const JASON_USERHASH: &str = "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b";
const JASON_RESPONSE: &str = "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5";

#[test]
fn rfc7616_userhash_example() {
    // The octets of the username, as §3.9.2 lists them.
    assert_eq!(
        JASON.as_bytes(),
        [
            0x4a, 0xc3, 0xa4, 0x73, 0xc3, 0xb8, 0x6e, 0x20, 0x44, 0x6f, 0x65
        ]
    );
    assert_eq!(
        userhash(Algorithm::Sha512_256, JASON, API_REALM),
        JASON_USERHASH
    );
    assert_ne!(
        JASON_USERHASH,
        "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec"
    );

    let text = format!(
        r#"Digest realm="{API_REALM}", qop="auth", algorithm=SHA-512-256, nonce="{API_NONCE}", opaque="{API_OPAQUE}", charset=UTF-8, userhash=true"#
    );
    let ch = Challenge::parse(&text).unwrap();
    let creds = ClientCredentials {
        username: JASON,
        password: "Secret, or not?",
    };
    let value = authorize(&ch, &creds, "GET", "/doe.json", b"", API_CNONCE, 1).unwrap();
    let c = Credentials::parse(&value).unwrap();
    assert!(c.userhash());
    assert_eq!(c.username().unwrap(), JASON_USERHASH);
    assert_eq!(c.response(), Some(JASON_RESPONSE));
    assert_eq!(c.algorithm(), Some(sip_msg::auth::Algorithm::Sha512_256));

    // The server finds the user by the hash, then verifies with the HA1.
    let stored = ha1(Algorithm::Sha512_256, JASON, API_REALM, "Secret, or not?");
    let v = verify(&c, "GET", "/doe.json", b"", &stored).unwrap();
    assert!(v.userhash);
    assert_eq!(v.username, JASON_USERHASH);
    assert_eq!(v.algorithm, Algorithm::Sha512_256);

    // The same response with username* (the §3.9.2 alternative): the
    // response does not depend on how the username travels.
    let star = format!(
        r#"Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="{API_REALM}", uri="/doe.json", algorithm=SHA-512-256, nonce="{API_NONCE}", nc=00000001, cnonce="{API_CNONCE}", qop=auth, response="{JASON_RESPONSE}", opaque="{API_OPAQUE}", userhash=false"#
    );
    let c = Credentials::parse(&star).unwrap();
    let v = verify(&c, "GET", "/doe.json", b"", &stored).unwrap();
    assert!(!v.userhash);
    assert_eq!(v.username, JASON);
}
