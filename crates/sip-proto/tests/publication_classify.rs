//! PUBLISH classification at the event state compositor (RFC 3903 §6 steps
//! 2–5, and the four operations of §4): each row of the table, the 489, 423
//! and 400 refusals, and Expires adjustment.

// Test helpers unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{
    EventPackage, EventRegistry, PublishLimits, PublishOp, Refusal, classify_publish, new_etag,
};

const LIMITS: PublishLimits = PublishLimits {
    min_expires: 60,
    max_expires: 3600,
    default_expires: 1800,
};

const PIDF: &str = "<?xml version=\"1.0\"?><presence entity=\"sip:alice@example.test\"/>";

fn registry() -> EventRegistry {
    let mut reg = EventRegistry::new();
    reg.register(EventPackage {
        name: "presence".into(),
        produces: vec!["application/pidf+xml".into()],
        min_expires: 60,
        max_expires: 3600,
        default_expires: 3600,
    });
    reg
}

/// A PUBLISH with the given extra header lines (LF separated) and body.
fn publish(extra: &str, body: &str) -> SipMessage {
    let mut head = String::from(
        "PUBLISH sip:alice@example.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKp1
Max-Forwards: 70
From: <sip:alice@example.test>;tag=p1
To: <sip:alice@example.test>
Call-ID: pub1@192.0.2.1
CSeq: 1 PUBLISH",
    );
    if !extra.is_empty() {
        head.push('\n');
        head.push_str(extra);
    }
    if !body.is_empty() {
        head.push_str("\nContent-Type: application/pidf+xml");
    }
    let mut s = head.replace('\n', "\r\n");
    s.push_str(&format!("\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    SipMessage::parse(Bytes::from(s)).unwrap()
}

fn classify(extra: &str, body: &str) -> Result<PublishOp, Refusal> {
    classify_publish(&registry(), LIMITS, &publish(extra, body))
}

#[test]
fn initial_publication_has_a_body_and_no_if_match() {
    assert_eq!(
        classify("Event: presence\nExpires: 600", PIDF),
        Ok(PublishOp::Initial { expires: 600 })
    );
}

#[test]
fn refresh_has_if_match_and_no_body() {
    assert_eq!(
        classify("Event: presence\nSIP-If-Match: dx200xyz\nExpires: 600", ""),
        Ok(PublishOp::Refresh {
            etag: "dx200xyz".into(),
            expires: 600
        })
    );
}

#[test]
fn modify_has_if_match_and_a_body() {
    assert_eq!(
        classify("Event: presence\nSIP-If-Match: kwj449x\nExpires: 900", PIDF),
        Ok(PublishOp::Modify {
            etag: "kwj449x".into(),
            expires: 900
        })
    );
}

#[test]
fn remove_has_if_match_and_expires_zero() {
    assert_eq!(
        classify("Event: presence\nSIP-If-Match: 7jzs2\nExpires: 0", ""),
        Ok(PublishOp::Remove {
            etag: "7jzs2".into()
        })
    );
    // §6 step 5: with Expires 0 nothing is stored, body or not.
    assert_eq!(
        classify("Event: presence\nSIP-If-Match: 7jzs2\nExpires: 0", PIDF),
        Ok(PublishOp::Remove {
            etag: "7jzs2".into()
        })
    );
}

#[test]
fn no_body_and_no_if_match_is_400() {
    let r = classify("Event: presence\nExpires: 600", "").unwrap_err();
    assert_eq!(
        (r.status, r.reason.as_str()),
        (400, "PUBLISH without body or SIP-If-Match")
    );
}

#[test]
fn initial_with_expires_zero_is_400() {
    let r = classify("Event: presence\nExpires: 0", PIDF).unwrap_err();
    assert_eq!(r.status, 400);
}

#[test]
fn missing_or_unknown_event_is_489_with_allow_events() {
    for extra in ["Expires: 600", "Event: dialog\nExpires: 600"] {
        let r = classify(extra, PIDF).unwrap_err();
        assert_eq!((r.status, r.reason.as_str()), (489, "Bad Event"), "{extra}");
        assert_eq!(r.header(HeaderName::AllowEvents), Some("presence"));
    }
}

#[test]
fn short_expires_is_423_with_min_expires_whatever_the_operation() {
    for (extra, body) in [
        ("Event: presence\nExpires: 59", PIDF),
        ("Event: presence\nSIP-If-Match: e1\nExpires: 1", ""),
        ("Event: presence\nSIP-If-Match: e1\nExpires: 30", PIDF),
    ] {
        let r = classify(extra, body).unwrap_err();
        assert_eq!((r.status, r.reason.as_str()), (423, "Interval Too Brief"));
        assert_eq!(r.header(HeaderName::MinExpires), Some("60"));
    }
}

#[test]
fn long_expires_is_lowered_and_absent_expires_is_the_default() {
    assert_eq!(
        classify("Event: presence\nExpires: 86400", PIDF),
        Ok(PublishOp::Initial { expires: 3600 })
    );
    assert_eq!(
        classify("Event: presence", PIDF),
        Ok(PublishOp::Initial { expires: 1800 })
    );
    assert_eq!(
        classify("Event: presence\nSIP-If-Match: e2", ""),
        Ok(PublishOp::Refresh {
            etag: "e2".into(),
            expires: 1800
        })
    );
}

#[test]
fn malformed_headers_are_400() {
    assert_eq!(
        classify("Event: presence\nExpires: never", PIDF)
            .unwrap_err()
            .status,
        400
    );
    assert_eq!(
        classify("Event: presence\nSIP-If-Match: a b", "")
            .unwrap_err()
            .status,
        400
    );
}

#[test]
fn new_etags_are_unguessable_tokens() {
    let tags: Vec<String> = (0..100).map(|_| new_etag()).collect();
    for t in &tags {
        assert!(t.len() >= 16, "{t}");
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()), "{t}");
    }
    let mut unique = tags.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tags.len());
    // An entity-tag must fit SIP-If-Match: it classifies back.
    let extra = format!("Event: presence\nSIP-If-Match: {}", tags[0]);
    assert_eq!(
        classify(&extra, ""),
        Ok(PublishOp::Refresh {
            etag: tags[0].clone(),
            expires: 1800
        })
    );
}
