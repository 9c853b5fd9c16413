//! Session-mode IM set up over SIP (RFC 4975 §8) through `herald serve`:
//! alice INVITEs bob through the proxy with an SDP offer for MSRP
//! (`m=message`, `a=accept-types`, `a=path` through the server's relay,
//! RFC 4976), bob answers with his path, they chat through the relay both
//! ways, and the relay sessions end with the dialog — after BYE, or after
//! the INVITE fails — unless another live dialog still uses them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::time::Duration;

use common::msrp::{MsrpConn, relay_with_users};
use msrp::{Method, MsrpUri};
use sip_msg::{HeaderName, SipMessage};
use ua::Ua;

/// The SDP of one side: its relay path then its own URI (RFC 4975 §8.2).
fn sdp(user: &str, path: &[&MsrpUri]) -> String {
    let path: Vec<String> = path.iter().map(|u| u.to_string()).collect();
    format!(
        "v=0\r\no={user} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=message 7654 TCP/MSRP *\r\na=accept-types:text/plain\r\na=max-size:1048576\r\n\
a=path:{}\r\n",
        path.join(" ")
    )
}

/// A response to `req` with a body (copied Vias and Record-Routes, a
/// To-tag, bob's Contact).
fn answer(u: &Ua, req: &SipMessage, status: u16, body: &str) {
    let mut out = format!("SIP/2.0 {status} Whatever\r\n");
    for v in req.header_lines(HeaderName::Via) {
        out.push_str(&format!("Via: {v}\r\n"));
    }
    for r in req.header_lines(HeaderName::RecordRoute) {
        out.push_str(&format!("Record-Route: {r}\r\n"));
    }
    out.push_str(&format!(
        "From: {}\r\nTo: {};tag=bob1\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:bob@{}>\r\n",
        req.header(HeaderName::From).unwrap(),
        req.header(HeaderName::To).unwrap(),
        req.header(HeaderName::CallId).unwrap(),
        req.header(HeaderName::CSeq).unwrap(),
        u.addr(),
    ));
    if body.is_empty() {
        out.push_str("Content-Length: 0\r\n\r\n");
    } else {
        out.push_str(&format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    }
    let via = req.via().unwrap();
    let to: std::net::SocketAddr = format!("{}:{}", via.host, via.port.unwrap_or(5060))
        .parse()
        .unwrap();
    u.sock.send_to(out.as_bytes(), to).unwrap();
}

/// One call: alice offers `alice_path`, bob answers `status` (with
/// `bob_sdp` on a 2xx). Returns the final response alice got.
fn invite(
    alice: &Ua,
    bob: Ua,
    call_id: &str,
    offer: String,
    status: u16,
    bob_sdp: String,
) -> (SipMessage, Ua) {
    let bob_side = std::thread::spawn(move || {
        let inv = bob
            .request("INVITE", Duration::from_secs(10))
            .expect("the INVITE reaches bob");
        answer(&bob, &inv, status, if status < 300 { &bob_sdp } else { "" });
        bob
    });
    let mut cseq = 1;
    let r = alice.request_authed(
        "INVITE",
        "alice",
        "secret",
        "sip:bob@example.test",
        call_id,
        &mut cseq,
        "Content-Type: application/sdp\r\n",
        &offer,
    );
    (r, bob_side.join().unwrap())
}

/// An in-dialog request from alice (ACK or BYE) along the route set.
fn in_dialog(alice: &Ua, method: &str, call_id: &str, ok: &SipMessage, cseq: u32) {
    let contact = ok.header(HeaderName::Contact).unwrap();
    let target = contact.trim_start_matches('<').trim_end_matches('>');
    let mut s = format!(
        "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bK{method}{call_id}{cseq};rport\r\n",
        alice.addr()
    );
    // RFC 3261 §12.1.2: the UAC's route set is the Record-Route reversed.
    let rr: Vec<&str> = ok.header_lines(HeaderName::RecordRoute).collect();
    for r in rr.iter().rev() {
        s.push_str(&format!("Route: {r}\r\n"));
    }
    let cseq_method = if method == "ACK" {
        format!("{cseq} ACK")
    } else {
        format!("{cseq} {method}")
    };
    s.push_str(&format!(
        "From: {}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: {cseq_method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        ok.header(HeaderName::From).unwrap(),
        ok.header(HeaderName::To).unwrap(),
    ));
    alice.send(&s);
}

/// alice's SEND along `path` to bob: the relay's 200 and bob's copy.
fn chat(from: &mut MsrpConn, path: &[MsrpUri], to: &mut MsrpConn, text: &str) {
    let f = from.send_frame(path, text.as_bytes());
    from.send(&f);
    let ok = from.recv().expect("the relay's answer");
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    let got = to.recv().expect("the SEND through the relay");
    assert_eq!(got.method(), Some(&Method::Send));
    assert_eq!(got.body().unwrap().as_ref(), text.as_bytes());
    to.send(&got.response(200, Some("OK")).unwrap());
}

/// A SEND along `path` that the relay refuses: its status.
fn refused(from: &mut MsrpConn, path: &[MsrpUri]) -> u16 {
    let f = from.send_frame(path, b"anyone?");
    from.send(&f);
    from.recv().expect("an answer").status().unwrap()
}

#[test]
fn an_invite_sets_up_a_chat_through_the_relay_and_bye_ends_it() {
    let s = relay_with_users();
    let alice = Ua::new(s.udp.unwrap());
    alice.register_as("alice");
    let bob = Ua::new(s.udp.unwrap());
    bob.register_as("bob");
    let mut a = MsrpConn::connect(s.msrp.unwrap());
    let ua = a.auth_ok("alice", "secret");
    let mut b = MsrpConn::connect(s.msrp.unwrap());
    let ub = b.auth_ok("bob", "secret");

    let offer = sdp("alice", &[&ua, &a.me]);
    let answer_sdp = sdp("bob", &[&ub, &b.me]);
    let (ok, bob) = invite(&alice, bob, "ms-1", offer, 200, answer_sdp);
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    // The answer crossed the proxy untouched.
    let body = String::from_utf8(ok.body().to_vec()).unwrap();
    assert!(body.contains(&format!("a=path:{ub} {}", b.me)), "{body}");
    in_dialog(&alice, "ACK", "ms-1", &ok, 1);
    assert!(
        bob.request("ACK", Duration::from_secs(5)).is_some(),
        "the ACK reaches bob along the route set"
    );

    // alice's path: her relay session, then bob's path from his answer.
    let to_bob = [ua.clone(), ub.clone(), b.me.clone()];
    let to_alice = [ub.clone(), ua.clone(), a.me.clone()];
    chat(&mut a, &to_bob, &mut b, "hallo bob ✓");
    chat(&mut b, &to_alice, &mut a, "hi alice");

    // BYE through the proxy ends the dialog, and the relay sessions with it.
    let bob_side = std::thread::spawn(move || {
        let bye = bob
            .request("BYE", Duration::from_secs(5))
            .expect("BYE reaches bob");
        bob.answer(&bye, 200, "OK", "");
    });
    in_dialog(&alice, "BYE", "ms-1", &ok, 2);
    assert_eq!(alice.final_for("ms-1").status(), Some(200));
    bob_side.join().unwrap();
    // RFC 4976: an unknown (ended) session is 481.
    assert_eq!(refused(&mut a, &to_bob), 481);
    assert_eq!(refused(&mut b, &to_alice), 481);
}

#[test]
fn a_failed_invite_ends_its_offer_but_not_a_session_another_call_uses() {
    let s = relay_with_users();
    let alice = Ua::new(s.udp.unwrap());
    alice.register_as("alice");
    let bob = Ua::new(s.udp.unwrap());
    bob.register_as("bob");
    let mut a = MsrpConn::connect(s.msrp.unwrap());
    let ua = a.auth_ok("alice", "secret");
    let mut b = MsrpConn::connect(s.msrp.unwrap());
    let ub = b.auth_ok("bob", "secret");
    let to_bob = [ua.clone(), ub.clone(), b.me.clone()];

    // Call 1 is up with both sessions.
    let (ok1, bob) = invite(
        &alice,
        bob,
        "mf-1",
        sdp("alice", &[&ua, &a.me]),
        200,
        sdp("bob", &[&ub, &b.me]),
    );
    assert_eq!(ok1.status(), Some(200));
    in_dialog(&alice, "ACK", "mf-1", &ok1, 1);
    // Call 2 offers the same session of alice's and is refused: her
    // session stays (call 1 uses it).
    let (busy, bob) = invite(
        &alice,
        bob,
        "mf-2",
        sdp("alice", &[&ua, &a.me]),
        486,
        String::new(),
    );
    assert_eq!(busy.status(), Some(486));
    chat(&mut a, &to_bob, &mut b, "still here");

    // A third call offers a fresh session and fails: that one ends.
    let mut a2 = MsrpConn::connect(s.msrp.unwrap());
    let ua2 = a2.auth_ok("alice", "secret");
    let (busy, _bob) = invite(
        &alice,
        bob,
        "mf-3",
        sdp("alice", &[&ua2, &a2.me]),
        486,
        String::new(),
    );
    assert_eq!(busy.status(), Some(486));
    assert_eq!(
        refused(&mut a2, &[ua2.clone(), ub.clone(), b.me.clone()]),
        481
    );
    // Call 1 is untouched.
    chat(&mut a, &to_bob, &mut b, "and still");
}
