//! `cpim::parse` (and everything reading its result) never panics on any input.

use proptest::prelude::*;
use simple_im::cpim::{self, IMDN_NAMESPACE};
use simple_im::imdn::{self, DeliveryStatus};

fn exercise(body: &[u8]) {
    let _ = cpim::is_composing("message/cpim", body);
    if let Ok(c) = cpim::parse(body) {
        let _ = (
            c.from(),
            c.to(),
            c.datetime(),
            c.content_type(),
            c.message_id(),
        );
        let _ = c.disposition_notification();
        let _ = c.ns_header(IMDN_NAMESPACE, "Original-To");
        let _ = c.content_header("Content-Disposition");
        assert!(c.content().len() <= body.len());
        if let Some(v) = c.from() {
            let _ = cpim::address_uri(v);
        }
        if let Some(dt) = c.datetime() {
            let _ = imdn::parse_rfc3339(dt);
        }
        for status in [DeliveryStatus::Delivered, DeliveryStatus::Failed] {
            if let Some(n) = imdn::delivery_notification(&c, status, "sip:bob@x", "sip:bob@x", 0) {
                assert!(cpim::parse(&n.body).is_ok());
            }
        }
    }
}

/// Lines drawn from CPIM-ish pieces, so that the interesting paths are hit
/// more often than with uniformly random bytes.
fn cpim_like() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(b"".to_vec()),
        Just(b"From: Alice <im:alice@example.com>".to_vec()),
        Just(b"To: <im:bob@example.com>".to_vec()),
        Just(b"NS: imdn <urn:ietf:params:imdn>".to_vec()),
        Just(b"NS: <urn:ietf:params:imdn>".to_vec()),
        Just(b"imdn.Message-ID: x".to_vec()),
        Just(b"imdn.Disposition-Notification: positive-delivery, negative-delivery".to_vec()),
        Just(b"DateTime: 2006-04-04T12:16:49-05:00".to_vec()),
        Just(b"Content-Type: text/plain".to_vec()),
        Just(b"Content-type: message/imdn+xml".to_vec()),
        Just(b"   folded".to_vec()),
        Just(b"Subject:;lang=fr".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ];
    let eol = prop_oneof![
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec())
    ];
    proptest::collection::vec((line, eol), 0..16).prop_map(|lines| {
        lines
            .into_iter()
            .flat_map(|(mut l, e)| {
                l.extend(e);
                l
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&body);
    }

    #[test]
    fn cpim_shaped_bytes(body in cpim_like()) {
        exercise(&body);
    }

    #[test]
    fn address_uri_any_string(s in ".{0,64}") {
        if let Some(uri) = cpim::address_uri(&s) {
            prop_assert!(s.contains(uri));
        }
    }

    #[test]
    fn parse_rfc3339_any_string(s in ".{0,40}") {
        let _ = imdn::parse_rfc3339(&s);
    }
}
