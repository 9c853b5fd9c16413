//! RFC 6665 refusals of an initial SUBSCRIBE: 489 with Allow-Events for an
//! unknown package, 423 with Min-Expires, 406 when the watcher accepts
//! nothing we produce, 481 for a dialog we do not have.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use simple_presence::SubscribeAuth;
use sip_msg::HeaderName;

fn try_sub(s: &Sub<'_>) -> sip_msg::SipMessage {
    let mut a = agent();
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(s),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(a.subscription_count(), 0, "a refusal keeps nothing");
    assert!(fx.notifies.is_empty());
    only_response(&fx).clone()
}

#[test]
fn unknown_package_489() {
    let r = try_sub(&Sub {
        event: Some("message-summary"),
        ..Sub::default()
    });
    assert_eq!(r.status(), Some(489));
    assert_eq!(
        r.header(HeaderName::AllowEvents),
        Some("presence, presence.winfo")
    );
}

#[test]
fn too_brief_423() {
    let r = try_sub(&Sub {
        expires: Some(10),
        ..Sub::default()
    });
    assert_eq!(r.status(), Some(423));
    assert_eq!(r.header(HeaderName::MinExpires), Some("60"));
}

#[test]
fn nothing_acceptable_406() {
    let r = try_sub(&Sub {
        accept: Some("application/xpidf+xml"),
        ..Sub::default()
    });
    assert_eq!(r.status(), Some(406));
    assert!(
        r.header(HeaderName::Accept)
            .unwrap()
            .contains("application/pidf+xml")
    );
}

#[test]
fn long_expiry_lowered_to_max() {
    let mut a = agent();
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub {
            expires: Some(86_400),
            ..Sub::default()
        }),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(only_response(&fx).header(HeaderName::Expires), Some("7200"));
}

#[test]
fn unknown_dialog_481() {
    let mut a = agent();
    let req = subscribe(&Sub {
        to_tag: Some("not-ours"),
        cseq: 2,
        ..Sub::default()
    });
    assert!(!a.owns_dialog(&req));
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &req,
        watcher_peer(),
        "",
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(status(&fx), 481);
}
