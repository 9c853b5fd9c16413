//! XCAP feeds presence at once: a pres-rules PUT allowing a pending watcher
//! makes the server NOTIFY him with presence; a pidf-manipulation PUT (hard
//! state, RFC 4827) changes what watchers see.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod http;
mod ua;

use std::time::{Duration, Instant};

use common::{Server, add_user};
use http::authed;
use sip_msg::{HeaderName, SipMessage};
use ua::Ua;

const ALICE: &str = "sip:alice@example.test";
const SUB: &str = "Event: presence\r\nAccept: application/pidf+xml\r\nExpires: 600\r\n";

fn notify_until(ua: &Ua, pred: impl Fn(&SipMessage) -> bool, limit: Duration) -> SipMessage {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(n) = ua.request("NOTIFY", Duration::from_millis(200)) {
            ua.answer(&n, 200, "OK", "");
            if pred(&n) {
                return n;
            }
        }
    }
    panic!("no such NOTIFY within {limit:?}");
}

fn body(m: &SipMessage) -> String {
    String::from_utf8_lossy(m.body()).into_owned()
}

#[test]
fn pres_rules_put_activates_a_pending_watcher() {
    let s = Server::start(&["--auth", "on"]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    let a = s.ws.unwrap();
    // Carol is from another domain: the default policy holds her pending.
    let carol = Ua::new(s.udp.unwrap());
    let sub = carol
        .request_raw(
            "SUBSCRIBE",
            "carol",
            ALICE,
            "xcap-sub@127.0.0.1",
            1,
            SUB,
            "",
        )
        .replace("sip:carol@example.test", "sip:carol@other.example");
    carol.send(&sub);
    assert_eq!(carol.final_for("xcap-sub@127.0.0.1").status(), Some(202));
    let n = notify_until(&carol, |_| true, Duration::from_secs(5));
    assert!(
        n.header(HeaderName::SubscriptionState)
            .unwrap()
            .starts_with("pending")
    );

    let rules = "<cr:ruleset xmlns=\"urn:ietf:params:xml:ns:pres-rules\" xmlns:cr=\"urn:ietf:params:xml:ns:common-policy\"><cr:rule id=\"carol\"><cr:conditions><cr:identity><cr:one id=\"sip:carol@other.example\"/></cr:identity></cr:conditions><cr:actions><sub-handling>allow</sub-handling></cr:actions><cr:transformations><provide-services><all-services/></provide-services></cr:transformations></cr:rule></cr:ruleset>";
    let t = Instant::now();
    let r = authed(
        a,
        "alice",
        "secret",
        "PUT",
        "/xcap-root/pres-rules/users/sip:alice@example.test/index",
        &[("Content-Type", "application/auth-policy+xml")],
        rules.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let n = notify_until(
        &carol,
        |n| {
            n.header(HeaderName::SubscriptionState)
                .is_some_and(|v| v.starts_with("active"))
        },
        Duration::from_secs(5),
    );
    assert!(body(&n).contains("<presence"), "{}", body(&n));
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "at once, not at the next poll: {:?}",
        t.elapsed()
    );

    // A bad rules document is refused with 409 and changes nothing.
    let r = authed(
        a,
        "alice",
        "secret",
        "PUT",
        "/xcap-root/pres-rules/users/sip:alice@example.test/index",
        &[("Content-Type", "application/auth-policy+xml")],
        rules.replace("allow", "maybe").as_bytes(),
    );
    assert_eq!(r.status, 409);
    assert!(
        r.text().contains("schema-validation-error") || r.text().contains("constraint-failure"),
        "{}",
        r.text()
    );
}

#[test]
fn pidf_manipulation_put_changes_what_watchers_see() {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
    let a = s.ws.unwrap();
    let bob = Ua::new(s.udp.unwrap());
    let mut c = 1;
    let r = bob.request_authed(
        "SUBSCRIBE",
        "bob",
        "secret",
        ALICE,
        "hard-sub@127.0.0.1",
        &mut c,
        SUB,
        "",
    );
    assert_eq!(r.status(), Some(200));
    notify_until(&bob, |_| true, Duration::from_secs(5));
    let hard = "<?xml version=\"1.0\"?><presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:alice@example.test\"><tuple id=\"hard\"><status><basic>open</basic></status><note>away on holiday</note></tuple></presence>";
    let r = authed(
        a,
        "alice",
        "secret",
        "PUT",
        "/xcap-root/pidf-manipulation/users/sip:alice@example.test/index",
        &[("Content-Type", "application/pidf+xml")],
        hard.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let n = notify_until(
        &bob,
        |n| body(n).contains("away on holiday"),
        Duration::from_secs(5),
    );
    assert!(body(&n).contains("tuple id=\"hard\""));
}
