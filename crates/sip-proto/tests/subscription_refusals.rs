//! What a notifier refuses in a SUBSCRIBE (RFC 6665 §4.2.1): a missing Event
//! (400), an unknown package (489 + Allow-Events), an unacceptable Accept
//! (406 + Accept), a too-brief Expires (423 + Min-Expires); what it adjusts
//! (Expires above the maximum, absent Expires); and in-dialog SUBSCRIBEs with
//! a stale CSeq (500) or naming another subscription (481).

// Test helpers unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{
    EventPackage, EventRegistry, Refusal, ServerSubscription, SubState, Tag, response_builder,
};

const T0: u64 = 1_700_000_000_000;

fn parse(head: &str, body: &str) -> SipMessage {
    let mut s = head.trim_end().replace('\n', "\r\n");
    s.push_str(&format!("\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    SipMessage::parse(Bytes::from(s)).unwrap()
}

fn registry() -> EventRegistry {
    let mut reg = EventRegistry::new();
    reg.register(EventPackage {
        name: "presence".into(),
        produces: vec![
            "application/pidf+xml".into(),
            "application/xpidf+xml".into(),
        ],
        min_expires: 60,
        max_expires: 3600,
        default_expires: 1800,
    });
    reg.register(EventPackage {
        name: "presence.winfo".into(),
        produces: vec!["application/watcherinfo+xml".into()],
        min_expires: 60,
        max_expires: 3600,
        default_expires: 3600,
    });
    reg
}

/// A SUBSCRIBE with the given extra header lines (LF separated).
fn subscribe(extra: &str) -> SipMessage {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!("\n{extra}")
    };
    parse(
        &format!(
            "SUBSCRIBE sip:bob@example.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKs1
Max-Forwards: 70
From: <sip:alice@example.test>;tag=a1
To: <sip:bob@example.test>
Call-ID: sub2@192.0.2.1
CSeq: 10 SUBSCRIBE
Contact: <sip:alice@192.0.2.1:5060>{extra}"
        ),
        "",
    )
}

fn refused(extra: &str) -> Refusal {
    registry().check_subscribe(&subscribe(extra)).unwrap_err()
}

#[test]
fn allow_events_lists_packages_in_registration_order() {
    assert_eq!(registry().allow_events(), "presence, presence.winfo");
    assert!(registry().get("presence.winfo").is_some());
    assert!(registry().get("Presence").is_none());
}

#[test]
fn missing_event_is_400() {
    let r = refused("Expires: 600");
    assert_eq!(r.status, 400);
    assert!(r.reason.contains("Event"), "{}", r.reason);
}

#[test]
fn unknown_package_is_489_with_allow_events() {
    let r = refused("Event: dialog\nExpires: 600");
    assert_eq!((r.status, r.reason.as_str()), (489, "Bad Event"));
    assert_eq!(
        r.header(HeaderName::AllowEvents),
        Some("presence, presence.winfo")
    );
    // An unknown template of a known package is another event type.
    assert_eq!(refused("Event: presence.foo").status, 489);
}

#[test]
fn malformed_event_is_400() {
    assert_eq!(refused("Event: pres@nce").status, 400);
}

#[test]
fn refusal_becomes_a_response_with_its_headers() {
    let req = subscribe("Event: dialog");
    let r = registry().check_subscribe(&req).unwrap_err();
    let resp = r
        .response(&req, Some(&Tag::from("x9")))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(resp.status(), Some(489));
    assert_eq!(resp.reason(), Some("Bad Event"));
    assert_eq!(resp.to().unwrap().tag(), Some("x9"));
    assert_eq!(
        resp.header(HeaderName::AllowEvents),
        Some("presence, presence.winfo")
    );
}

#[test]
fn expires_below_min_is_423_with_min_expires() {
    let r = refused("Event: presence\nExpires: 30");
    assert_eq!((r.status, r.reason.as_str()), (423, "Interval Too Brief"));
    assert_eq!(r.header(HeaderName::MinExpires), Some("60"));
}

#[test]
fn expires_zero_is_kept_as_a_fetch() {
    let p = registry()
        .check_subscribe(&subscribe("Event: presence\nExpires: 0"))
        .unwrap();
    assert_eq!(p.expires, 0);
}

#[test]
fn expires_above_max_is_lowered_and_absent_is_the_default() {
    let reg = registry();
    let p = reg
        .check_subscribe(&subscribe("Event: presence\nExpires: 999999"))
        .unwrap();
    assert_eq!(p.expires, 3600);
    let p = reg.check_subscribe(&subscribe("Event: presence")).unwrap();
    assert_eq!(p.expires, 1800);
    assert_eq!(&*p.package, "presence");
    assert_eq!(p.id, None);
}

#[test]
fn malformed_expires_is_400() {
    assert_eq!(refused("Event: presence\nExpires: soon").status, 400);
}

#[test]
fn no_accept_gives_the_first_produced_type() {
    let p = registry()
        .check_subscribe(&subscribe("Event: presence;id=x"))
        .unwrap();
    assert_eq!(&*p.content_type, "application/pidf+xml");
    assert_eq!(p.id.as_deref(), Some("x"));
}

#[test]
fn accept_picks_a_produced_type_honouring_wildcards_and_q() {
    let reg = registry();
    let ct = |accept: &str| {
        reg.check_subscribe(&subscribe(&format!("Event: presence\nAccept: {accept}")))
            .unwrap()
            .content_type
            .to_string()
    };
    assert_eq!(ct("application/xpidf+xml"), "application/xpidf+xml");
    assert_eq!(ct("*/*"), "application/pidf+xml");
    assert_eq!(ct("application/*"), "application/pidf+xml");
    assert_eq!(
        ct("application/pidf+xml;q=0.5, application/xpidf+xml"),
        "application/xpidf+xml"
    );
    assert_eq!(
        ct("APPLICATION/PIDF+XML, text/plain"),
        "application/pidf+xml"
    );
    // q=0 means "not acceptable".
    assert_eq!(
        ct("application/pidf+xml;q=0, */*;q=0.1"),
        "application/xpidf+xml"
    );
}

#[test]
fn accept_with_nothing_we_produce_is_406_listing_what_we_produce() {
    for accept in ["text/plain", "application/pidf+xml;q=0", ""] {
        let r = refused(&format!("Event: presence\nAccept: {accept}"));
        assert_eq!(
            (r.status, r.reason.as_str()),
            (406, "Not Acceptable"),
            "{accept}"
        );
        assert_eq!(
            r.header(HeaderName::Accept),
            Some("application/pidf+xml, application/xpidf+xml")
        );
    }
}

fn established() -> ServerSubscription {
    let req = subscribe("Event: presence\nExpires: 600");
    let params = registry().check_subscribe(&req).unwrap();
    let ok = response_builder(&req, 200, "OK", Some(&Tag::from("b2")))
        .unwrap()
        .header(HeaderName::Contact, "<sip:pres@192.0.2.2>")
        .build()
        .unwrap();
    ServerSubscription::new(&req, &ok, &params, SubState::Active, T0).unwrap()
}

fn in_dialog(cseq: u32, to_tag: &str, extra: &str) -> SipMessage {
    parse(
        &format!(
            "SUBSCRIBE sip:pres@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKr{cseq}
Max-Forwards: 70
From: <sip:alice@example.test>;tag=a1
To: <sip:bob@example.test>;tag={to_tag}
Call-ID: sub2@192.0.2.1
CSeq: {cseq} SUBSCRIBE
{extra}"
        ),
        "",
    )
}

#[test]
fn refresh_with_stale_cseq_is_500_and_changes_nothing() {
    let reg = registry();
    let mut sub = established();
    let r = sub
        .handle_refresh(
            &reg,
            &in_dialog(9, "b2", "Event: presence\nExpires: 60"),
            T0 + 1,
        )
        .unwrap_err();
    assert_eq!(r.status, 500);
    assert_eq!(sub.expires_at_ms, T0 + 600_000);
    assert_eq!(sub.dialog.remote_seq, Some(10));
}

#[test]
fn refresh_for_another_package_or_id_is_481() {
    let reg = registry();
    let mut sub = established();
    let r = sub
        .handle_refresh(&reg, &in_dialog(11, "b2", "Event: presence.winfo"), T0)
        .unwrap_err();
    assert_eq!(r.status, 481);
    let r = sub
        .handle_refresh(&reg, &in_dialog(12, "b2", "Event: presence;id=2"), T0)
        .unwrap_err();
    assert_eq!(r.status, 481);
    assert_eq!(sub.expires_at_ms, T0 + 600_000);
}

#[test]
fn refresh_for_an_unknown_package_is_489() {
    let reg = registry();
    let mut sub = established();
    let r = sub
        .handle_refresh(&reg, &in_dialog(11, "b2", "Event: dialog"), T0)
        .unwrap_err();
    assert_eq!(r.status, 489);
}

#[test]
fn refresh_too_brief_is_423_and_keeps_the_old_expiry() {
    let reg = registry();
    let mut sub = established();
    let r = sub
        .handle_refresh(
            &reg,
            &in_dialog(11, "b2", "Event: presence\nExpires: 5"),
            T0,
        )
        .unwrap_err();
    assert_eq!(r.status, 423);
    assert_eq!(r.header(HeaderName::MinExpires), Some("60"));
    assert_eq!(sub.expires_at_ms, T0 + 600_000);
    assert_eq!(sub.state, SubState::Active);
}

#[test]
fn subscribe_in_another_dialog_is_481() {
    let reg = registry();
    let mut sub = established();
    let r = sub
        .handle_refresh(&reg, &in_dialog(11, "zz", "Event: presence"), T0)
        .unwrap_err();
    assert_eq!(r.status, 481);
}
