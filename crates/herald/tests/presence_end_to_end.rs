//! The end-to-end presence model (RFC 3856 §4): with `[presence] mode =
//! "end-to-end"` the server does not answer SUBSCRIBE for its users; it
//! proxies it (Record-Routed) to the presentity's registered UA, which is
//! its own presence agent. Here that UA is built on `sip-proto`'s notifier
//! (`EventRegistry::check_subscribe`, `ServerSubscription`), the seed of the
//! client library: it answers 200, sends its NOTIFY back through the server
//! along the route set, and the watcher gets it; the watcher's 200 reaches
//! the UA. In the default (server) mode the UA sees no SUBSCRIBE at all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod ua;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Server, TempFile};
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{EventPackage, EventRegistry, ServerSubscription, SubState, Tag, response_builder};
use ua::Ua;

const ALICE: &str = "sip:alice@example.test";
const SUB_EXTRA: &str = "Event: presence\r\nAccept: application/pidf+xml\r\nExpires: 600\r\n";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn registered_alice(s: &Server) -> Ua {
    let alice = Ua::new(s.udp.unwrap());
    let contact = format!("<sip:alice@{}>", alice.addr());
    let mut cseq = 1;
    let r = alice.register(
        "alice",
        "secret",
        "e2e-reg@127.0.0.1",
        &mut cseq,
        Some(&contact),
        "",
    );
    assert_eq!(r.status(), Some(200), "{:?}", r.reason());
    alice
}

/// Where a response to `req` goes: its top Via's sent-by (RFC 3261 §18.2.2).
fn via_target(req: &SipMessage) -> SocketAddr {
    let via = req.via().unwrap();
    format!("{}:{}", via.host, via.port.unwrap_or(5060))
        .parse()
        .unwrap()
}

#[test]
fn end_to_end_ua_answers_its_own_subscriptions() {
    let cfg = TempFile::new("e2e.toml", "[presence]\nmode = \"end-to-end\"\n");
    let s = Server::start(&["--auth", "off", "--config", cfg.0.to_str().unwrap()]);
    let alice = registered_alice(&s);
    let bob = Ua::new(s.udp.unwrap());
    bob.send(&bob.request_raw(
        "SUBSCRIBE",
        "bob",
        ALICE,
        "e2e-sub@127.0.0.1",
        1,
        SUB_EXTRA,
        "",
    ));

    // Alice's UA gets the SUBSCRIBE, through the server.
    let req = alice
        .request("SUBSCRIBE", Duration::from_secs(5))
        .expect("the SUBSCRIBE is proxied to alice's UA");
    assert_eq!(
        req.request_uri_str(),
        Some(format!("sip:alice@{}", alice.addr()).as_str())
    );
    assert!(
        req.header(HeaderName::RecordRoute).is_some(),
        "the server stays on the dialog's path"
    );

    // The UA as notifier (sip-proto): 200, then its NOTIFY along the route set.
    let mut reg = EventRegistry::new();
    reg.register(EventPackage {
        name: "presence".into(),
        produces: vec!["application/pidf+xml".into()],
        min_expires: 60,
        max_expires: 3600,
        default_expires: 600,
    });
    let params = reg
        .check_subscribe(&req)
        .expect("a valid presence SUBSCRIBE");
    let contact = format!("sip:alice@{}", alice.addr());
    let resp = response_builder(&req, 200, "OK", Some(&Tag::new("ua-alice-1")))
        .unwrap()
        .header(HeaderName::Expires, &params.expires.to_string())
        .header(HeaderName::Contact, &format!("<{contact}>"))
        .build()
        .unwrap();
    alice
        .sock
        .send_to(&resp.to_bytes(), via_target(&req))
        .unwrap();
    let t = now_ms();
    let mut sub = ServerSubscription::new(&req, &resp, &params, SubState::Active, t).unwrap();
    let pidf = "<?xml version=\"1.0\"?><presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:alice@example.test\"><tuple id=\"ua\"><status><basic>open</basic></status><note>from the UA itself</note></tuple></presence>";
    let notify = sub
        .notify(t, &contact, Some(("application/pidf+xml", pidf.as_bytes())))
        .unwrap()
        .header(
            HeaderName::Via,
            &format!("SIP/2.0/UDP {};branch=z9hG4bK-e2e-n1;rport", alice.addr()),
        )
        .build()
        .unwrap();
    assert!(
        notify.header(HeaderName::Route).is_some(),
        "the NOTIFY follows the Record-Route"
    );
    alice
        .sock
        .send_to(&notify.to_bytes(), s.udp.unwrap())
        .unwrap();

    // Bob: the 200 from alice's UA, and the NOTIFY with her document.
    let r = bob.final_for("e2e-sub@127.0.0.1");
    assert_eq!(r.status(), Some(200));
    assert_eq!(
        r.to().unwrap().tag(),
        Some("ua-alice-1"),
        "answered by the UA, not the server"
    );
    let n = bob
        .request("NOTIFY", Duration::from_secs(5))
        .expect("the UA's NOTIFY reaches bob");
    assert!(String::from_utf8_lossy(n.body()).contains("from the UA itself"));
    assert!(
        n.header(HeaderName::SubscriptionState)
            .unwrap()
            .starts_with("active")
    );
    bob.answer(&n, 200, "OK", "");
    // ...and bob's 200 reaches the UA back through the server.
    let end = std::time::Instant::now() + Duration::from_secs(5);
    let mut got = None;
    while std::time::Instant::now() < end {
        if let Some(m) = alice.recv(Duration::from_millis(200))
            && m.status().is_some()
            && m.cseq().is_ok_and(|c| c.method_str == "NOTIFY")
        {
            got = m.status();
            break;
        }
    }
    assert_eq!(
        got,
        Some(200),
        "the watcher's 200 to the NOTIFY reaches the UA"
    );
}

#[test]
fn server_mode_answers_itself() {
    let s = Server::start(&["--auth", "off"]);
    let alice = registered_alice(&s);
    let bob = Ua::new(s.udp.unwrap());
    bob.send(&bob.request_raw(
        "SUBSCRIBE",
        "bob",
        ALICE,
        "srv-sub@127.0.0.1",
        1,
        SUB_EXTRA,
        "",
    ));
    let r = bob.final_for("srv-sub@127.0.0.1");
    assert_eq!(r.status(), Some(200));
    let n = bob
        .request("NOTIFY", Duration::from_secs(5))
        .expect("the server's NOTIFY");
    bob.answer(&n, 200, "OK", "");
    // Registered, nothing published: open (registration feeds presence).
    assert!(String::from_utf8_lossy(n.body()).contains("<basic>open</basic>"));
    assert!(
        alice
            .request("SUBSCRIBE", Duration::from_millis(500))
            .is_none()
    );
}

#[test]
fn other_event_packages_go_to_the_phone() {
    // A dialog-event (BLF) SUBSCRIBE is not presence: proxied to alice's UA
    // even in server mode; with no UA registered, 489 with Allow-Events.
    let s = Server::start(&["--auth", "off"]);
    let bob = Ua::new(s.udp.unwrap());
    let extra = "Event: dialog\r\nAccept: application/dialog-info+xml\r\nExpires: 600\r\n";
    bob.send(&bob.request_raw("SUBSCRIBE", "bob", ALICE, "blf-1@127.0.0.1", 1, extra, ""));
    let r = bob.final_for("blf-1@127.0.0.1");
    assert_eq!(r.status(), Some(489));
    assert!(
        r.header(HeaderName::AllowEvents)
            .unwrap()
            .contains("presence")
    );
    let alice = registered_alice(&s);
    bob.send(&bob.request_raw("SUBSCRIBE", "bob", ALICE, "blf-2@127.0.0.1", 1, extra, ""));
    let req = alice
        .request("SUBSCRIBE", Duration::from_secs(5))
        .expect("the dialog SUBSCRIBE reaches alice's phone");
    assert_eq!(req.header(HeaderName::Event), Some("dialog"));
    alice.answer(&req, 200, "OK", "Expires: 600\r\n");
    assert_eq!(bob.final_for("blf-2@127.0.0.1").status(), Some(200));
}
