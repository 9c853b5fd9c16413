//! RFC 4975 §7.2: a response carries the request's transaction id; its
//! To-Path is the first From-Path URI for a SEND and the whole From-Path for
//! other methods; its From-Path is the responder's URI; no body; flag `$`.
//! Checked against the responses the RFCs print, and the rules of §7.1.4 /
//! §7.1.2 on who gets a response at all.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use msrp::{Method, report};

#[test]
fn rfc4975_responses_are_reproduced_byte_for_byte() {
    for (request, response) in [
        ("rfc4975-4-fig2-send.msrp", "rfc4975-4-fig2-200.msrp"),
        ("rfc4975-11.1-send-alice.msrp", "rfc4975-11.1-200-bob.msrp"),
        ("rfc4975-11.1-send-bob.msrp", "rfc4975-11.1-200-alice.msrp"),
    ] {
        let req = common::frame(request);
        assert!(report::response_owed(&req, 200));
        let r = req.response(200, Some("OK")).unwrap();
        assert_eq!(r.to_bytes(), common::raw(response), "{request}");
    }
}

#[test]
fn auth_challenges_go_back_along_the_whole_path() {
    // RFC 4976 §5.1: the extra relay challenges the AUTH forwarded by intra.
    let req = common::frame("rfc4976-5.1-auth-extra-forwarded.msrp");
    assert_eq!(req.method(), Some(&Method::Auth));
    let mut r = req.response(401, Some("Unauthorized")).unwrap();
    r.set_header(
        "WWW-Authenticate",
        r#"Digest realm="extra.example.com", qop="auth", nonce="Uumu8cAV38FGsEF31VLevIbNXj9HWO""#,
    )
    .unwrap();
    assert_eq!(r.to_bytes(), common::raw("rfc4976-5.1-401-extra.msrp"));

    // The intra relay's own challenge, to a client with userinfo in its To-Path.
    let req = common::frame("rfc4976-5.1-auth-intra.msrp");
    let mut r = req.response(401, Some("Unauthorized")).unwrap();
    r.set_header(
        "WWW-Authenticate",
        r#"Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#,
    )
    .unwrap();
    assert_eq!(r.to_bytes(), common::raw("rfc4976-5.1-401-intra.msrp"));
}

#[test]
fn relay_send_responses_go_one_hop_back() {
    // RFC 4976 §3 prints these with a Message-ID, which §7.2 does not ask for.
    for (request, response) in [
        ("rfc4976-3-send-alice.msrp", "rfc4976-3-200-a.msrp"),
        ("rfc4976-3-send-a.msrp", "rfc4976-3-200-b.msrp"),
        ("rfc4976-3-send-b.msrp", "rfc4976-3-200-bob.msrp"),
    ] {
        let r = common::frame(request).response(200, Some("OK")).unwrap();
        let mut want = common::frame(response);
        assert!(want.remove_header("Message-ID"));
        assert_eq!(r, want, "{request}");
    }
}

#[test]
fn who_gets_a_response() {
    // §11.5: Failure-Report: no, so no response at all (§7.1.4).
    let system = common::frame("rfc4975-11.5-system.msrp");
    assert!(!report::response_owed(&system, 200));
    assert!(!report::response_owed(&system, 415));
    // §11.6: Failure-Report: no as well.
    let positive = common::frame("rfc4975-11.6-send.msrp");
    assert!(!report::response_owed(&positive, 200));
    // Default (absent) is yes.
    let plain = common::frame("rfc4975-11.1-send-alice.msrp");
    assert!(report::response_owed(&plain, 200));
    assert!(report::response_owed(&plain, 481));
    // REPORTs are never answered (§7.1.2), responses never.
    assert!(!report::response_owed(
        &common::frame("rfc4975-11.6-report.msrp"),
        200
    ));
    let resp = common::frame("rfc4975-4-fig2-200.msrp");
    assert!(!report::response_owed(&resp, 200));
    assert!(resp.response(200, None).is_err());
    // AUTH requests have no Failure-Report, so they are answered.
    assert!(report::response_owed(
        &common::frame("rfc4976-5.1-auth-intra.msrp"),
        401
    ));
}
