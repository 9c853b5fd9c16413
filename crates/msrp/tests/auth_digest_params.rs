//! The HTTP Digest headers of RFC 4976 §5.1 (WWW-Authenticate, Authorization,
//! Authentication-Info) split into their parameters, and written back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use msrp::DigestParams;

#[test]
fn challenges() {
    let f = common::frame("rfc4976-5.1-401-intra.msrp");
    let w = DigestParams::parse(f.www_authenticate().unwrap()).unwrap();
    assert_eq!(w.scheme.as_deref(), Some("Digest"));
    assert_eq!(w.get("realm"), Some("intra.example.com"));
    assert_eq!(w.get("qop"), Some("auth"));
    assert_eq!(w.get("nonce"), Some("dcd98b7102dd2f0e8b11d0f600bfb0c093"));
    // Written back exactly: qop stays quoted in a challenge (RFC 4976 §9.1).
    assert_eq!(w.to_string(), f.www_authenticate().unwrap());
}

#[test]
fn credentials() {
    for name in [
        "rfc4976-5.1-auth-intra-credentials.msrp",
        "rfc4976-5.1-auth-extra-credentials.msrp",
    ] {
        let f = common::frame(name);
        let a = DigestParams::parse(f.authorization().unwrap()).unwrap();
        assert_eq!(a.scheme.as_deref(), Some("Digest"));
        assert_eq!(a.get("username"), Some("Alice"));
        // Unquoted in credentials (RFC 4976 §9.1).
        assert_eq!(a.get("qop"), Some("auth"));
        assert!(!a.params.iter().find(|p| p.name == "qop").unwrap().quoted);
        assert_eq!(a.get("nc"), Some("00000001"));
        assert_eq!(a.get("response").map(str::len), Some(32));
        assert_eq!(a.to_string(), f.authorization().unwrap());
        // RFC 4976 §9.1: the digest-uri is the rightmost URI of To-Path.
        assert_eq!(
            f.to_path().unwrap().last().unwrap().host_str(),
            if name.contains("intra") {
                "intra.example.com"
            } else {
                "extra.example.com"
            }
        );
    }
}

#[test]
fn authentication_info() {
    let f = common::frame("rfc4976-5.1-200-intra.msrp");
    let i = DigestParams::parse(f.authentication_info().unwrap()).unwrap();
    assert_eq!(i.scheme, None);
    assert_eq!(i.get("nextnonce"), Some("40f2e879449675f288476d772627370a"));
    assert_eq!(i.get("rspauth"), Some("7327570c586207eca2afae94fc20903d"));
    assert_eq!(i.get("cnonce"), Some("0a4f113b"));
    assert_eq!(i.get("nc"), Some("00000001"));
    assert_eq!(
        f.use_path().unwrap().unwrap()[0].as_str(),
        "msrps://intra.example.com:9000/jui787s2f;tcp"
    );
    assert_eq!(f.expires().unwrap(), Some(900));
}
