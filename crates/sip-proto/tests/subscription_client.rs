//! The subscriber side (RFC 6665 §4.1): a NOTIFY arriving before the 2xx
//! creates the dialog (§4.1.2.4); NOTIFYs of unknown dialogs are 481; a
//! terminated NOTIFY ends the subscription; responses to the initial and
//! refresh SUBSCRIBEs (2xx, 423, failures); refresh timing; and a full
//! exchange with a `ServerSubscription`.

// Test helpers unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{
    ClientEvent, ClientSubscription, EventPackage, EventRegistry, ServerSubscription, SubState,
    Tag, TerminationReason, response_builder,
};

const T0: u64 = 1_700_000_000_000;

fn parse(head: &str, body: &str) -> SipMessage {
    let mut s = head.trim_end().replace('\n', "\r\n");
    s.push_str(&format!("\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    SipMessage::parse(Bytes::from(s)).unwrap()
}

fn subscribe() -> SipMessage {
    parse(
        "SUBSCRIBE sip:bob@example.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc1
Max-Forwards: 70
From: <sip:alice@example.test>;tag=a1
To: <sip:bob@example.test>
Call-ID: csub@192.0.2.1
CSeq: 1 SUBSCRIBE
Contact: <sip:alice@192.0.2.1:5060>
Event: presence
Expires: 600",
        "",
    )
}

fn response(req: &SipMessage, status: u16, extra: &[(HeaderName, &str)]) -> SipMessage {
    let tag = Tag::from("b1");
    let mut b = response_builder(req, status, "X", Some(&tag)).unwrap();
    for (n, v) in extra {
        b = b.header(*n, v);
    }
    b.build().unwrap()
}

fn ok(req: &SipMessage, expires: &str) -> SipMessage {
    response(
        req,
        200,
        &[
            (HeaderName::Contact, "<sip:pres@192.0.2.2>"),
            (HeaderName::Expires, expires),
        ],
    )
}

/// A NOTIFY from the notifier with the given From tag, CSeq and extra lines.
fn notify(call_id: &str, from_tag: &str, cseq: u32, extra: &str, body: &str) -> SipMessage {
    parse(
        &format!(
            "NOTIFY sip:alice@192.0.2.1:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKn{cseq}
Max-Forwards: 70
From: <sip:bob@example.test>;tag={from_tag}
To: <sip:alice@example.test>;tag=a1
Call-ID: {call_id}
CSeq: {cseq} NOTIFY
Contact: <sip:pres@192.0.2.2>
{extra}"
        ),
        body,
    )
}

fn client() -> ClientSubscription {
    ClientSubscription::new(&subscribe(), T0).unwrap()
}

#[test]
fn notify_before_the_2xx_creates_the_dialog() {
    let mut c = client();
    assert!(c.dialog().is_none());
    let n = notify(
        "csub@192.0.2.1",
        "b1",
        1,
        "Event: presence\nSubscription-State: pending;expires=600",
        "",
    );
    let info = c.handle_notify(&n, T0 + 20).unwrap();
    assert_eq!(info.state, SubState::Pending);
    assert_eq!(info.expires, Some(600));
    assert_eq!(info.content_type, None);
    let d = c.dialog().unwrap();
    assert_eq!(d.remote_tag(), Some("b1"));
    assert_eq!(d.remote_target(), "sip:pres@192.0.2.2");
    assert_eq!((d.local_seq, d.remote_seq), (Some(1), Some(1)));
    assert_eq!(c.expires_at_ms(), Some(T0 + 20 + 600_000));

    // The 2xx arrives late and confirms the same dialog.
    let ev = c
        .handle_response(&ok(&subscribe(), "600"), T0 + 30)
        .unwrap();
    assert_eq!(ev, ClientEvent::Accepted { expires: 600 });
    assert_eq!(c.dialog().unwrap().remote_tag(), Some("b1"));
    assert_eq!(c.expires_at_ms(), Some(T0 + 30 + 600_000));
}

#[test]
fn notify_with_body_reports_state_content_type_and_body() {
    let mut c = client();
    c.handle_response(&ok(&subscribe(), "600"), T0).unwrap();
    let n = notify(
        "csub@192.0.2.1",
        "b1",
        5,
        "Event: presence\nSubscription-State: active;expires=300\nContent-Type: application/pidf+xml",
        "<presence/>",
    );
    let info = c.handle_notify(&n, T0 + 1000).unwrap();
    assert_eq!(info.state, SubState::Active);
    assert_eq!(info.expires, Some(300));
    assert_eq!(info.content_type.as_deref(), Some("application/pidf+xml"));
    assert_eq!(&info.body[..], b"<presence/>");
    assert_eq!(c.state(), &SubState::Active);
    // The notifier shortened the subscription.
    assert_eq!(c.expires_at_ms(), Some(T0 + 1000 + 300_000));
}

#[test]
fn notify_for_an_unknown_dialog_is_481() {
    let mut c = client();
    c.handle_response(&ok(&subscribe(), "600"), T0).unwrap();
    let cases = [
        notify(
            "other@192.0.2.1",
            "b1",
            1,
            "Event: presence\nSubscription-State: active",
            "",
        ),
        notify(
            "csub@192.0.2.1",
            "zz",
            1,
            "Event: presence\nSubscription-State: active",
            "",
        ),
        notify(
            "csub@192.0.2.1",
            "b1",
            1,
            "Event: dialog\nSubscription-State: active",
            "",
        ),
        notify(
            "csub@192.0.2.1",
            "b1",
            1,
            "Event: presence;id=9\nSubscription-State: active",
            "",
        ),
    ];
    for n in &cases {
        let r = c.handle_notify(n, T0).unwrap_err();
        assert_eq!(r.status, 481, "{n}");
    }
    // A NOTIFY without a To tag is outside any dialog.
    let untagged = SipMessage::parse(Bytes::from(
        cases[0]
            .to_string()
            .replace(
                "To: <sip:alice@example.test>;tag=a1",
                "To: <sip:alice@example.test>",
            )
            .replace("other@", "csub@"),
    ))
    .unwrap();
    assert_eq!(c.handle_notify(&untagged, T0).unwrap_err().status, 481);
    assert_eq!(c.state(), &SubState::Pending);
}

#[test]
fn notify_without_or_with_bad_subscription_state_is_400() {
    let mut c = client();
    for extra in [
        "Event: presence",
        "Event: presence\nSubscription-State: dormant",
        "Event: presence\nSubscription-State: active;expires=soon",
    ] {
        let r = c
            .handle_notify(&notify("csub@192.0.2.1", "b1", 1, extra, ""), T0)
            .unwrap_err();
        assert_eq!(r.status, 400, "{extra}");
    }
    let r = c
        .handle_notify(
            &notify("csub@192.0.2.1", "b1", 1, "Subscription-State: active", ""),
            T0,
        )
        .unwrap_err();
    assert_eq!(r.status, 400);
    // None of them created a dialog.
    assert!(c.dialog().is_none());
}

#[test]
fn notify_with_stale_cseq_is_500() {
    let mut c = client();
    let st = "Event: presence\nSubscription-State: active;expires=600";
    c.handle_notify(&notify("csub@192.0.2.1", "b1", 4, st, ""), T0)
        .unwrap();
    let r = c
        .handle_notify(&notify("csub@192.0.2.1", "b1", 3, st, ""), T0)
        .unwrap_err();
    assert_eq!(r.status, 500);
}

#[test]
fn terminated_notify_ends_the_subscription() {
    let mut c = client();
    c.handle_response(&ok(&subscribe(), "600"), T0).unwrap();
    assert!(c.refresh_due_ms().is_some());
    let n = notify(
        "csub@192.0.2.1",
        "b1",
        1,
        "Event: presence\nSubscription-State: terminated;reason=noresource;expires=99",
        "",
    );
    let info = c.handle_notify(&n, T0 + 5).unwrap();
    let ended = SubState::Terminated {
        reason: Some(TerminationReason::Noresource),
        retry_after: None,
    };
    assert_eq!(info.state, ended);
    // RFC 6665 §4.1.3: expires is ignored with terminated.
    assert_eq!(info.expires, None);
    assert_eq!(c.state(), &ended);
    assert_eq!(c.refresh_due_ms(), None);
    let again = notify(
        "csub@192.0.2.1",
        "b1",
        2,
        "Event: presence\nSubscription-State: active;expires=600",
        "",
    );
    assert_eq!(c.handle_notify(&again, T0 + 6).unwrap_err().status, 481);
}

#[test]
fn terminated_with_retry_after_and_unknown_reason() {
    let mut c = client();
    let n = notify(
        "csub@192.0.2.1",
        "b1",
        1,
        "Event: presence\nSubscription-State: terminated;reason=moved;retry-after=120",
        "",
    );
    let info = c.handle_notify(&n, T0).unwrap();
    assert_eq!(
        info.state,
        SubState::Terminated {
            reason: None,
            retry_after: Some(120)
        }
    );
}

#[test]
fn refresh_is_due_before_expiry() {
    // 600 s: 10 % = 60 s early.
    let mut c = client();
    assert_eq!(c.refresh_due_ms(), None);
    c.handle_response(&ok(&subscribe(), "600"), T0).unwrap();
    assert_eq!(c.refresh_due_ms(), Some(T0 + 540_000));
    // 30 s: at least 5 s early.
    let mut c = client();
    c.handle_response(&ok(&subscribe(), "30"), T0).unwrap();
    assert_eq!(c.refresh_due_ms(), Some(T0 + 25_000));
    // 6 s: at most half the interval early.
    let mut c = client();
    c.handle_response(&ok(&subscribe(), "6"), T0).unwrap();
    assert_eq!(c.refresh_due_ms(), Some(T0 + 3_000));
    // A 2xx without Expires grants what we asked for.
    let mut c = client();
    let no_expires = response(&subscribe(), 200, &[(HeaderName::Contact, "<sip:p@h>")]);
    assert_eq!(
        c.handle_response(&no_expires, T0).unwrap(),
        ClientEvent::Accepted { expires: 600 }
    );
}

#[test]
fn refresh_builds_an_in_dialog_subscribe() {
    let mut c = client();
    c.handle_response(&ok(&subscribe(), "600"), T0).unwrap();
    let r = c
        .refresh(600)
        .unwrap()
        .header(
            HeaderName::Via,
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc2",
        )
        .build()
        .unwrap();
    assert_eq!(r.method_str(), Some("SUBSCRIBE"));
    assert_eq!(r.request_uri_str(), Some("sip:pres@192.0.2.2"));
    assert_eq!(r.cseq().unwrap().seq, 2);
    assert_eq!(r.to().unwrap().tag(), Some("b1"));
    assert_eq!(r.from().unwrap().tag(), Some("a1"));
    assert_eq!(r.header(HeaderName::Event), Some("presence"));
    assert_eq!(r.header(HeaderName::Expires), Some("600"));
    let unsub = c.refresh(0).unwrap().build().unwrap();
    assert_eq!(unsub.cseq().unwrap().seq, 3);
    assert_eq!(unsub.header(HeaderName::Expires), Some("0"));
}

#[test]
fn interval_too_brief_gives_min_expires_and_the_retry_reuses_call_id() {
    let mut c = client();
    let r423 = response(&subscribe(), 423, &[(HeaderName::MinExpires, "1200")]);
    assert_eq!(
        c.handle_response(&r423, T0).unwrap(),
        ClientEvent::IntervalTooBrief { min_expires: 1200 }
    );
    assert_eq!(c.state(), &SubState::Pending);
    let retry = c.refresh(1200).unwrap().build().unwrap();
    assert_eq!(retry.call_id().unwrap(), "csub@192.0.2.1");
    assert_eq!(retry.cseq().unwrap().seq, 2);
    assert_eq!(retry.to().unwrap().tag(), None);
    assert_eq!(retry.request_uri_str(), Some("sip:bob@example.test"));
    assert_eq!(retry.header(HeaderName::Expires), Some("1200"));
}

#[test]
fn initial_failure_terminates_but_refresh_failure_other_than_481_does_not() {
    let mut c = client();
    assert_eq!(
        c.handle_response(&response(&subscribe(), 489, &[]), T0)
            .unwrap(),
        ClientEvent::Terminated { status: 489 }
    );
    assert!(c.state().is_terminated());

    let mut c = client();
    c.handle_response(&ok(&subscribe(), "600"), T0).unwrap();
    let refresh = c
        .refresh(600)
        .unwrap()
        .header(HeaderName::Via, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc3")
        .build()
        .unwrap();
    assert_eq!(
        c.handle_response(&response(&refresh, 503, &[]), T0 + 1)
            .unwrap(),
        ClientEvent::RefreshFailed { status: 503 }
    );
    assert!(!c.state().is_terminated());
    assert_eq!(c.expires_at_ms(), Some(T0 + 600_000));
    assert_eq!(
        c.handle_response(&response(&refresh, 481, &[]), T0 + 2)
            .unwrap(),
        ClientEvent::Terminated { status: 481 }
    );
    assert!(c.state().is_terminated());
}

#[test]
fn response_of_another_subscription_is_wrong_dialog() {
    let mut c = client();
    let other = SipMessage::parse(Bytes::from(
        subscribe().to_string().replace("csub@", "else@"),
    ))
    .unwrap();
    assert!(c.handle_response(&ok(&other, "600"), T0).is_err());
    assert!(c.dialog().is_none());
}

#[test]
fn client_and_server_complete_a_subscription_together() {
    let mut reg = EventRegistry::new();
    reg.register(EventPackage {
        name: "presence".into(),
        produces: vec!["application/pidf+xml".into()],
        min_expires: 60,
        max_expires: 300,
        default_expires: 300,
    });
    let req = subscribe();
    let mut c = ClientSubscription::new(&req, T0).unwrap();
    let params = reg.check_subscribe(&req).unwrap();
    assert_eq!(params.expires, 300);
    let resp = ok(&req, &params.expires.to_string());
    let mut s = ServerSubscription::new(&req, &resp, &params, SubState::Active, T0).unwrap();
    assert_eq!(
        c.handle_response(&resp, T0 + 1).unwrap(),
        ClientEvent::Accepted { expires: 300 }
    );

    let n = s
        .notify(
            T0 + 2,
            "sip:pres@192.0.2.2",
            Some(("application/pidf+xml", b"<p/>")),
        )
        .unwrap()
        .header(HeaderName::Via, "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKx1")
        .build()
        .unwrap();
    let info = c.handle_notify(&n, T0 + 3).unwrap();
    assert_eq!(info.state, SubState::Active);
    assert_eq!(info.expires, Some(300));

    // The subscriber leaves: unsubscribe, and the final NOTIFY.
    let unsub = c
        .refresh(0)
        .unwrap()
        .header(
            HeaderName::Via,
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx2",
        )
        .header(HeaderName::Contact, "<sip:alice@192.0.2.1:5060>")
        .build()
        .unwrap();
    assert_eq!(s.handle_refresh(&reg, &unsub, T0 + 10).unwrap().expires, 0);
    let last = s
        .notify(T0 + 10, "sip:pres@192.0.2.2", None)
        .unwrap()
        .header(HeaderName::Via, "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKx3")
        .build()
        .unwrap();
    let info = c.handle_notify(&last, T0 + 11).unwrap();
    assert_eq!(
        info.state,
        SubState::Terminated {
            reason: Some(TerminationReason::Timeout),
            retry_after: None
        }
    );
    assert!(c.state().is_terminated());
}
