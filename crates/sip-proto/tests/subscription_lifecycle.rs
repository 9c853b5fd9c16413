//! A subscription seen from the notifier (RFC 6665 §4.2): SUBSCRIBE → 2xx →
//! NOTIFYs with increasing CSeq and a Subscription-State counting down;
//! refresh; unsubscribe with Expires 0 → terminated NOTIFY; expiry at the
//! exact millisecond.

// Test helpers unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{
    EventPackage, EventRegistry, ServerSubscription, SubState, Tag, TerminationReason,
    response_builder,
};

const T0: u64 = 1_700_000_000_000;

/// Parses `head` (LF line ends) plus `body`, adding CRLFs and Content-Length.
fn parse(head: &str, body: &str) -> SipMessage {
    let mut s = head.trim_end().replace('\n', "\r\n");
    s.push_str(&format!("\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    SipMessage::parse(Bytes::from(s)).unwrap()
}

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

fn subscribe() -> SipMessage {
    parse(
        "SUBSCRIBE sip:bob@example.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKs1
Max-Forwards: 70
From: <sip:alice@example.test>;tag=a1
To: <sip:bob@example.test>
Call-ID: sub1@192.0.2.1
CSeq: 1 SUBSCRIBE
Contact: <sip:alice@192.0.2.1:5060>
Event: presence;id=7
Expires: 600
Accept: application/pidf+xml",
        "",
    )
}

/// An in-dialog SUBSCRIBE from Alice.
fn resubscribe(cseq: u32, expires: u32, contact: &str) -> SipMessage {
    parse(
        &format!(
            "SUBSCRIBE sip:pres@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKs{cseq}
Max-Forwards: 70
From: <sip:alice@example.test>;tag=a1
To: <sip:bob@example.test>;tag=b1
Call-ID: sub1@192.0.2.1
CSeq: {cseq} SUBSCRIBE
Contact: <{contact}>
Event: presence;id=7
Expires: {expires}"
        ),
        "",
    )
}

fn accept(req: &SipMessage, expires: u32) -> SipMessage {
    response_builder(req, 200, "OK", Some(&Tag::from("b1")))
        .unwrap()
        .header(HeaderName::Contact, "<sip:pres@192.0.2.2>")
        .header(HeaderName::Expires, &expires.to_string())
        .build()
        .unwrap()
}

fn subscription(state: SubState) -> ServerSubscription {
    let req = subscribe();
    let params = registry().check_subscribe(&req).unwrap();
    let ok = accept(&req, params.expires);
    ServerSubscription::new(&req, &ok, &params, state, T0).unwrap()
}

fn send(sub: &mut ServerSubscription, now_ms: u64, body: Option<(&str, &[u8])>) -> SipMessage {
    sub.notify(now_ms, "sip:pres@192.0.2.2", body)
        .unwrap()
        .header(HeaderName::Via, "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKn")
        .build()
        .unwrap()
}

#[test]
fn new_subscription_takes_dialog_package_and_expiry_from_the_subscribe() {
    let sub = subscription(SubState::Active);
    assert_eq!(&*sub.package, "presence");
    assert_eq!(sub.id.as_deref(), Some("7"));
    assert_eq!(&*sub.content_type, "application/pidf+xml");
    assert_eq!(sub.expires_at_ms, T0 + 600_000);
    assert_eq!(sub.dialog.local_tag(), "b1");
    assert_eq!(sub.dialog.remote_target(), "sip:alice@192.0.2.1:5060");
}

#[test]
fn notify_carries_event_state_contact_and_body_with_increasing_cseq() {
    let mut sub = subscription(SubState::Active);
    let n1 = send(&mut sub, T0, Some(("application/pidf+xml", b"<presence/>")));
    assert_eq!(n1.method_str(), Some("NOTIFY"));
    assert_eq!(n1.request_uri_str(), Some("sip:alice@192.0.2.1:5060"));
    assert_eq!(n1.cseq().unwrap().seq, 1);
    assert_eq!(n1.cseq().unwrap().method_str, "NOTIFY");
    assert_eq!(n1.header(HeaderName::Event), Some("presence;id=7"));
    assert_eq!(
        n1.header(HeaderName::SubscriptionState),
        Some("active;expires=600")
    );
    assert_eq!(n1.header(HeaderName::Contact), Some("<sip:pres@192.0.2.2>"));
    assert_eq!(n1.header(HeaderName::MaxForwards), Some("70"));
    assert_eq!(n1.from().unwrap().tag(), Some("b1"));
    assert_eq!(n1.to().unwrap().tag(), Some("a1"));
    assert_eq!(n1.call_id().unwrap(), "sub1@192.0.2.1");
    assert_eq!(
        n1.header(HeaderName::ContentType),
        Some("application/pidf+xml")
    );
    assert_eq!(&n1.body()[..], b"<presence/>");

    // 100.5 s later: 499.5 s left, rounded up.
    let n2 = send(&mut sub, T0 + 100_500, None);
    assert_eq!(n2.cseq().unwrap().seq, 2);
    assert_eq!(
        n2.header(HeaderName::SubscriptionState),
        Some("active;expires=500")
    );
    assert!(n2.body().is_empty());
    assert_eq!(n2.header(HeaderName::ContentType), None);
}

#[test]
fn subscription_state_counts_down_and_never_goes_negative() {
    let sub = subscription(SubState::Pending);
    assert_eq!(sub.subscription_state(T0), "pending;expires=600");
    assert_eq!(sub.subscription_state(T0 + 599_001), "pending;expires=1");
    assert_eq!(sub.subscription_state(T0 + 600_000), "pending;expires=0");
    assert_eq!(sub.subscription_state(T0 + 900_000), "pending;expires=0");
}

#[test]
fn pending_becomes_active_and_terminate_sets_reason_and_retry_after() {
    let mut sub = subscription(SubState::Pending);
    sub.activate();
    assert_eq!(sub.state, SubState::Active);
    sub.terminate(TerminationReason::Probation, Some(30));
    assert_eq!(
        sub.subscription_state(T0),
        "terminated;reason=probation;retry-after=30"
    );
    // activate() does not revive a terminated subscription.
    sub.activate();
    assert!(sub.state.is_terminated());
    let n = send(&mut sub, T0, None);
    assert_eq!(
        n.header(HeaderName::SubscriptionState),
        Some("terminated;reason=probation;retry-after=30")
    );
}

#[test]
fn expiry_is_reached_at_the_exact_millisecond() {
    let sub = subscription(SubState::Active);
    assert!(!sub.is_expired(T0 + 599_999));
    assert!(sub.is_expired(T0 + 600_000));
    assert!(sub.is_expired(T0 + 600_001));
}

#[test]
fn refresh_moves_expiry_and_remote_target() {
    let reg = registry();
    let mut sub = subscription(SubState::Active);
    let req = resubscribe(2, 300, "sip:alice@198.51.100.9:5070");
    let params = sub.handle_refresh(&reg, &req, T0 + 200_000).unwrap();
    assert_eq!(params.expires, 300);
    assert_eq!(params.id.as_deref(), Some("7"));
    assert_eq!(sub.expires_at_ms, T0 + 500_000);
    assert_eq!(sub.state, SubState::Active);
    assert_eq!(sub.dialog.remote_seq, Some(2));
    let n = send(&mut sub, T0 + 200_000, None);
    assert_eq!(n.request_uri_str(), Some("sip:alice@198.51.100.9:5070"));
    assert_eq!(
        n.header(HeaderName::SubscriptionState),
        Some("active;expires=300")
    );
    assert!(!sub.is_expired(T0 + 499_999));
    assert!(sub.is_expired(T0 + 500_000));
}

#[test]
fn refresh_above_max_is_lowered() {
    let reg = registry();
    let mut sub = subscription(SubState::Active);
    let params = sub
        .handle_refresh(&reg, &resubscribe(2, 86_400, "sip:alice@192.0.2.1"), T0)
        .unwrap();
    assert_eq!(params.expires, 3600);
    assert_eq!(sub.expires_at_ms, T0 + 3_600_000);
}

#[test]
fn unsubscribe_terminates_with_reason_timeout_and_the_final_notify_says_so() {
    let reg = registry();
    let mut sub = subscription(SubState::Active);
    let _ = send(&mut sub, T0, None);
    let params = sub
        .handle_refresh(&reg, &resubscribe(2, 0, "sip:alice@192.0.2.1"), T0 + 10_000)
        .unwrap();
    assert_eq!(params.expires, 0);
    assert_eq!(
        sub.state,
        SubState::Terminated {
            reason: Some(TerminationReason::Timeout),
            retry_after: None
        }
    );
    assert!(sub.is_expired(T0 + 10_000));
    let n = send(&mut sub, T0 + 10_000, None);
    assert_eq!(n.cseq().unwrap().seq, 2);
    assert_eq!(
        n.header(HeaderName::SubscriptionState),
        Some("terminated;reason=timeout")
    );
}

#[test]
fn resubscribe_after_termination_is_481() {
    let reg = registry();
    let mut sub = subscription(SubState::Active);
    sub.handle_refresh(&reg, &resubscribe(2, 0, "sip:alice@192.0.2.1"), T0)
        .unwrap();
    let err = sub
        .handle_refresh(&reg, &resubscribe(3, 600, "sip:alice@192.0.2.1"), T0)
        .unwrap_err();
    assert_eq!(err.status, 481);
}
