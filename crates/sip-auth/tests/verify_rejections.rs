//! What verify refuses before any digest is compared, and how each refusal
//! maps to an answer (400 or a new challenge).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sip_auth::{Algorithm, AuthError, ClientCredentials, authorize, check_realm, ha1, verify};
use sip_msg::auth::{Challenge, Credentials};

const BASE: &str = r#"username="u", realm="r", nonce="n", uri="sip:r""#;
const MD5_HEX: &str = "0123456789abcdef0123456789abcdef";

fn stored() -> String {
    ha1(Algorithm::Md5, "u", "r", "p")
}

fn err(text: &str) -> AuthError {
    let c = Credentials::parse(text).unwrap();
    verify(&c, "REGISTER", "sip:r", b"", &stored()).unwrap_err()
}

#[test]
fn scheme_algorithm_and_qop() {
    assert_eq!(err("Bearer abc.def"), AuthError::NotDigest);
    assert_eq!(err("Basic dTpw"), AuthError::NotDigest);
    assert_eq!(
        err(&format!(
            r#"Digest {BASE}, response="{MD5_HEX}", algorithm=AKAv1-MD5"#
        )),
        AuthError::UnsupportedAlgorithm("AKAv1-MD5".into())
    );
    assert_eq!(
        err(&format!(
            r#"Digest {BASE}, response="{MD5_HEX}", qop=auth-conf, nc=00000001, cnonce="c""#
        )),
        AuthError::UnsupportedQop("auth-conf".into())
    );
    for e in [
        AuthError::NotDigest,
        AuthError::UnsupportedAlgorithm("x".into()),
        AuthError::UnsupportedQop("x".into()),
        AuthError::WrongRealm,
        AuthError::BadResponse,
        AuthError::Ha1Mismatch("MD5"),
    ] {
        assert!(!e.is_bad_request(), "{e}");
    }
}

#[test]
fn missing_or_bad_parameters_are_400() {
    // Credentials parsed as a challenge skip sip-msg's credential checks, so
    // verify must hold its own.
    let text = r#"Digest realm="r", nonce="n""#;
    let ch = Challenge::parse(text).unwrap();
    let c = Credentials {
        scheme: ch.scheme,
        params: ch.params,
        token68: None,
    };
    let e = verify(&c, "REGISTER", "sip:r", b"", &stored()).unwrap_err();
    assert_eq!(e, AuthError::MissingParam("username"));
    assert!(e.is_bad_request());
    assert_eq!(e.to_string(), "Missing digest parameter 'username'");

    let text = r#"Digest username="u", realm="r", nonce="n", uri="sip:r", response="", qop=auth"#;
    let ch = Challenge::parse(text).unwrap();
    let c = Credentials {
        scheme: ch.scheme,
        params: ch.params,
        token68: None,
    };
    assert_eq!(
        verify(&c, "REGISTER", "sip:r", b"", &stored()),
        Err(AuthError::MissingParam("nc"))
    );
    let text = r#"Digest username="u", realm="r", nonce="n", uri="sip:r", response="", qop=auth, nc=00000001"#;
    let ch = Challenge::parse(text).unwrap();
    let c = Credentials {
        scheme: ch.scheme,
        params: ch.params,
        token68: None,
    };
    assert_eq!(
        verify(&c, "REGISTER", "sip:r", b"", &stored()),
        Err(AuthError::MissingParam("cnonce"))
    );

    // nc = 0 never counts.
    let e = err(&format!(
        r#"Digest {BASE}, response="{MD5_HEX}", qop=auth, nc=00000000, cnonce="c""#
    ));
    assert_eq!(e, AuthError::InvalidParam("nc"));
    assert!(e.is_bad_request());

    // A -sess algorithm without cnonce cannot be computed.
    let e = err(&format!(
        r#"Digest {BASE}, response="{MD5_HEX}", algorithm=MD5-sess"#
    ));
    assert_eq!(e, AuthError::MissingParam("cnonce"));
}

#[test]
fn empty_response_is_a_bad_response() {
    // RFC 8760 §2.7: an empty response (sent before any challenge) is just
    // wrong credentials: challenge.
    assert_eq!(
        err(&format!(r#"Digest {BASE}, response="""#)),
        AuthError::BadResponse
    );
}

#[test]
fn ha1_of_another_algorithm_is_reported() {
    let text = format!(r#"Digest {BASE}, response="{MD5_HEX}{MD5_HEX}", algorithm=SHA-256"#);
    let c = Credentials::parse(&text).unwrap();
    let e = verify(&c, "REGISTER", "sip:r", b"", &stored()).unwrap_err();
    assert_eq!(e, AuthError::Ha1Mismatch("SHA-256"));
    assert_eq!(e.to_string(), "Stored HA1 does not fit algorithm SHA-256");
    let e = verify(&c, "REGISTER", "sip:r", b"", "not hex").unwrap_err();
    assert_eq!(e, AuthError::Ha1Mismatch("SHA-256"));
}

#[test]
fn realm_selection() {
    let text = format!(r#"Digest {BASE}, response="""#);
    let c = Credentials::parse(&text).unwrap();
    assert_eq!(check_realm(&c, "r"), Ok(()));
    assert_eq!(check_realm(&c, "R"), Err(AuthError::WrongRealm));
    assert_eq!(check_realm(&c, "other"), Err(AuthError::WrongRealm));
}

#[test]
fn client_refusals() {
    let alice = ClientCredentials {
        username: "alice",
        password: "pw",
    };
    let run = |ch: &str, user: &ClientCredentials<'_>, nc: u32| {
        let ch = Challenge::parse(ch).unwrap();
        authorize(&ch, user, "REGISTER", "sip:r", b"", "cn", nc)
    };
    assert_eq!(
        run("Bearer realm=\"r\"", &alice, 1),
        Err(AuthError::NotDigest)
    );
    assert_eq!(
        run(r#"Digest realm="r", nonce="n", algorithm=SHA-1"#, &alice, 1),
        Err(AuthError::UnsupportedAlgorithm("SHA-1".into()))
    );
    assert_eq!(
        run(r#"Digest realm="r", nonce="n", qop="auth-conf""#, &alice, 1),
        Err(AuthError::UnsupportedQop("auth-conf".into()))
    );
    // Unknown qop values beside known ones are ignored (RFC 7616 §3.3).
    assert!(
        run(
            r#"Digest realm="r", nonce="n", qop="x-new,auth""#,
            &alice,
            1
        )
        .is_ok()
    );
    assert_eq!(
        run(r#"Digest realm="r", nonce="n", qop="auth""#, &alice, 0),
        Err(AuthError::InvalidParam("nc"))
    );
    let injected = ClientCredentials {
        username: "alice\r\nVia: evil",
        password: "pw",
    };
    assert_eq!(
        run(r#"Digest realm="r", nonce="n""#, &injected, 1),
        Err(AuthError::InvalidParam("username"))
    );
    // Quotes and backslashes in the username survive as quoted-pairs.
    let odd = ClientCredentials {
        username: "a\"b\\c",
        password: "pw",
    };
    let value = run(r#"Digest realm="r", nonce="n", qop="auth""#, &odd, 1).unwrap();
    let c = Credentials::parse(&value).unwrap();
    assert_eq!(c.username().unwrap(), "a\"b\\c");
    let stored = ha1(Algorithm::Md5, "a\"b\\c", "r", "pw");
    assert!(verify(&c, "REGISTER", "sip:r", b"", &stored).is_ok());
    // The password never shows in Debug output.
    assert!(!format!("{alice:?}").contains("pw"));
}
