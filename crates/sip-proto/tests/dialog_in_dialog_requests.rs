//! Requests within a dialog (RFC 3261 §12.2.1.1): Request-URI and Route from
//! the remote target and route set (loose router, strict router, no route
//! set), From/To with the dialog's tags, Call-ID, CSeq incremented; the ACK
//! for a 2xx keeps the INVITE's CSeq number.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

use sip_msg::HeaderName;
use sip_proto::{Dialog, DialogParts, DialogState};

fn dialog(route_set: &[&str]) -> Dialog {
    dialog_with_tag(route_set, Some("b1"))
}

fn dialog_with_tag(route_set: &[&str], remote_tag: Option<&str>) -> Dialog {
    Dialog::new(DialogParts {
        call_id: "d2@example.test",
        local_tag: "a1",
        remote_tag,
        local_uri: "sip:alice@example.test",
        remote_uri: "sip:bob@example.test",
        remote_target: "sip:user@remoteua",
        route_set: route_set.iter().map(|s| s.to_string()).collect(),
        state: DialogState::Confirmed,
        local_seq: Some(10),
        remote_seq: None,
        secure: false,
    })
}

fn with_via(b: sip_msg::MessageBuilder) -> sip_msg::SipMessage {
    b.header(HeaderName::Via, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx")
        .header(HeaderName::MaxForwards, "70")
        .build()
        .unwrap()
}

#[test]
fn no_route_set_targets_the_remote_target() {
    let mut d = dialog(&[]);
    let bye = with_via(d.next_request("BYE").unwrap());
    assert_eq!(bye.request_uri_str(), Some("sip:user@remoteua"));
    assert_eq!(bye.header(HeaderName::Route), None);
    assert_eq!(bye.header(HeaderName::CSeq), Some("11 BYE"));
    assert_eq!(d.local_seq, Some(11));
    assert_eq!(bye.from().unwrap().tag(), Some("a1"));
    assert_eq!(bye.to().unwrap().tag(), Some("b1"));
    assert_eq!(
        bye.from().unwrap().addr.uri.as_str(),
        "sip:alice@example.test"
    );
    assert_eq!(bye.to().unwrap().addr.uri.as_str(), "sip:bob@example.test");
    assert_eq!(bye.call_id().unwrap(), "d2@example.test");
    bye.check_core().unwrap();
}

#[test]
fn loose_router_first_keeps_the_remote_target_in_the_request_uri() {
    let mut d = dialog(&["sip:p1.example.test;lr", "sip:p2.example.test;lr"]);
    let info = with_via(d.next_request("INFO").unwrap());
    assert_eq!(info.request_uri_str(), Some("sip:user@remoteua"));
    let routes: Vec<&str> = info.header_lines(HeaderName::Route).collect();
    assert_eq!(
        routes,
        ["<sip:p1.example.test;lr>", "<sip:p2.example.test;lr>"]
    );
}

#[test]
fn strict_router_first_takes_the_request_uri() {
    // The §12.2.1.1 example.
    let mut d = dialog(&["sip:proxy1", "sip:proxy2", "sip:proxy3;lr", "sip:proxy4"]);
    let req = with_via(d.next_request("BYE").unwrap());
    assert_eq!(req.request_uri_str(), Some("sip:proxy1"));
    let routes: Vec<&str> = req.header_lines(HeaderName::Route).collect();
    assert_eq!(
        routes,
        [
            "<sip:proxy2>",
            "<sip:proxy3;lr>",
            "<sip:proxy4>",
            "<sip:user@remoteua>"
        ]
    );
    // Parameters not allowed in a Request-URI are stripped from it.
    let d = dialog(&["sip:p3.middle.com;method=INVITE;transport=udp"]);
    let (ruri, routes) = d.request_uri_and_routes().unwrap();
    assert_eq!(ruri, "sip:p3.middle.com;transport=udp");
    assert_eq!(routes, ["sip:user@remoteua"]);
}

#[test]
fn ack_and_null_tags_and_a_uas_first_request() {
    let d = dialog(&[]);
    let ack = with_via(d.ack(7).unwrap());
    assert_eq!(ack.header(HeaderName::CSeq), Some("7 ACK"));
    assert_eq!(d.local_seq, Some(10));
    // A null remote tag (RFC 2543 peer) is omitted from To.
    let mut d = dialog_with_tag(&[], None);
    let r = with_via(d.next_request("OPTIONS").unwrap());
    assert_eq!(r.to().unwrap().tag(), None);
    // A UAS that never sent a request (a notifier) starts its CSeq at 1.
    let mut d = dialog(&[]);
    d.local_seq = None;
    let n1 = with_via(d.next_request("NOTIFY").unwrap());
    let n2 = with_via(d.next_request("NOTIFY").unwrap());
    assert_eq!(n1.cseq().unwrap().seq, 1);
    assert_eq!(n2.cseq().unwrap().seq, 2);
}
