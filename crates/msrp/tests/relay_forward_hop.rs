//! RFC 4976 §6.4: a relay takes its own URI off the front of To-Path and puts
//! it in front of From-Path, then forwards (requests under a new transaction
//! id, §6.4). Replaying the flows of RFC 4976 §3 and §5.1 frame by frame.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use msrp::{MsrpUri, TransactionId};

fn forwarded(from: &str, tid: &str) -> msrp::Frame {
    let mut f = common::frame(from);
    let me = f.forward_hop().unwrap();
    // The URI taken off is the one the frame was addressed to.
    assert_eq!(me, common::frame(from).to_path().unwrap()[0]);
    f.set_transaction_id(TransactionId::new(tid).unwrap());
    f
}

#[test]
fn reports_travel_back_through_both_relays() {
    // §3: Bob's REPORT passes b.example.net, then a.example.org (the RFC keeps
    // the transaction id yh67 on every hop).
    let at_a = forwarded("rfc4976-3-report-bob.msrp", "yh67");
    assert_eq!(at_a.to_bytes(), common::raw("rfc4976-3-report-b.msrp"));
    let mut at_alice = at_a;
    at_alice.forward_hop().unwrap();
    assert_eq!(at_alice.to_bytes(), common::raw("rfc4976-3-report-a.msrp"));
}

#[test]
fn auth_requests_and_challenges_pass_the_inner_relay() {
    // §5.1: intra forwards Alice's AUTH to extra under a new id...
    let f = forwarded("rfc4976-5.1-auth-extra.msrp", "m2nbvw");
    assert_eq!(
        f.to_bytes(),
        common::raw("rfc4976-5.1-auth-extra-forwarded.msrp")
    );
    // ...and the 401 back to Alice under the original one.
    let f = forwarded("rfc4976-5.1-401-extra.msrp", "mnbvw");
    assert_eq!(
        f.to_bytes(),
        common::raw("rfc4976-5.1-401-extra-forwarded.msrp")
    );
    let f = forwarded("rfc4976-5.1-auth-extra-credentials.msrp", "m4nbvx");
    assert_eq!(
        f.to_bytes(),
        common::raw("rfc4976-5.1-auth-extra-credentials-forwarded.msrp")
    );
    // The 200 as well, but for Use-Path, which the RFC misprints in the
    // forwarded copy (a relay does not rewrite it).
    let f = forwarded("rfc4976-5.1-200-extra.msrp", "m3nbvx");
    let mut want = common::frame("rfc4976-5.1-200-extra-forwarded.msrp");
    want.set_header("Use-Path", f.header("Use-Path").unwrap())
        .unwrap();
    assert_eq!(f, want);
    let use_path = f.use_path().unwrap().unwrap();
    assert_eq!(use_path.len(), 2);
    assert_eq!(f.expires().unwrap(), Some(1800));
}

#[test]
fn sends_pass_both_relays() {
    // §3: the paths of the SEND as each relay forwards it (the RFC orders the
    // other headers differently on each hop, so compare the paths).
    let mut f = common::frame("rfc4976-3-send-alice.msrp");
    for (hop, expect) in [
        (
            "msrps://a.example.org:9000/kjfjan;tcp",
            "rfc4976-3-send-a.msrp",
        ),
        (
            "msrps://b.example.net:9000/aeiug;tcp",
            "rfc4976-3-send-b.msrp",
        ),
    ] {
        let me = f.forward_hop().unwrap();
        assert_eq!(me, MsrpUri::parse(hop).unwrap());
        f.renew_transaction_id();
        let want = common::frame(expect);
        assert_eq!(f.to_path().unwrap(), want.to_path().unwrap());
        assert_eq!(f.from_path().unwrap(), want.from_path().unwrap());
        assert_eq!(f.body(), want.body());
        assert_ne!(f.transaction_id(), want.transaction_id());
    }
    // Bob is the last hop: nothing left to forward to.
    assert!(f.forward_hop().is_err());
}
