//! MSRP relay forwarding (RFC 4976 §6.4, §7 of RFC 4975) against `herald
//! serve --listen msrp:...`: two clients that each AUTHed exchange SENDs
//! through the relay both ways (To-Path relay/alice-token relay/bob-token
//! bob), every SEND answered 200 hop by hop, paths rewritten on the way, a
//! success REPORT travelling back; a token works only for its owner or
//! toward its owner (403 otherwise, 481 once its connection is gone); a
//! malformed frame gets 400 or loses its own connection while the other
//! session keeps working; a next hop that is not on the relay is connected
//! to and reused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use bytes::BytesMut;
use common::msrp::{MsrpConn, relay_with_users};
use msrp::{Decoder, Frame, Limits, Method, MsrpUri, report};

/// alice and bob, each AUTHed on its own connection: (alice, her Use-Path
/// URI, bob, his).
fn pair(s: &common::Server) -> (MsrpConn, MsrpUri, MsrpConn, MsrpUri) {
    let mut alice = MsrpConn::connect(s.msrp.unwrap());
    let ua = alice.auth_ok("alice", "secret");
    let mut bob = MsrpConn::connect(s.msrp.unwrap());
    let ub = bob.auth_ok("bob", "secret");
    (alice, ua, bob, ub)
}

/// `from` sends `body` to `to` through the relay; `from` gets its 200 from
/// the relay, `to` the SEND, which it answers 200. Returns the SEND as `to`
/// received it.
fn exchange(from: &mut MsrpConn, path: &[MsrpUri], to: &mut MsrpConn, body: &[u8]) -> Frame {
    let f = from.send_frame(path, body);
    from.send(&f);
    let ok = from.recv().expect("the relay's 200");
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    assert_eq!(ok.transaction_id(), f.transaction_id());
    // RFC 4975 §7.2: a SEND's response goes back one hop only.
    assert_eq!(ok.header("To-Path"), Some(from.me.as_str()));
    assert_eq!(ok.header("From-Path"), Some(path[0].as_str()));
    let got = to.recv().expect("the forwarded SEND");
    assert_eq!(got.method(), Some(&Method::Send));
    assert_eq!(got.body().unwrap().as_ref(), body);
    assert_eq!(got.message_id().unwrap(), f.message_id().unwrap());
    // RFC 4976 §6.4: a fresh transaction id on the next hop.
    assert_ne!(got.transaction_id(), f.transaction_id());
    to.send(&got.response(200, Some("OK")).unwrap());
    got
}

#[test]
fn two_clients_exchange_sends_both_ways_hop_by_hop() {
    let s = relay_with_users();
    let (mut alice, ua, mut bob, ub) = pair(&s);

    let to_bob = [ua.clone(), ub.clone(), bob.me.clone()];
    for i in 0..3 {
        let got = exchange(
            &mut alice,
            &to_bob,
            &mut bob,
            format!("hello bob {i}").as_bytes(),
        );
        // Both relay URIs moved from To-Path to the front of From-Path.
        assert_eq!(got.header("To-Path"), Some(bob.me.as_str()));
        assert_eq!(
            got.header("From-Path").unwrap(),
            format!("{} {} {}", ub.as_str(), ua.as_str(), alice.me.as_str())
        );
    }
    let to_alice = [ub.clone(), ua.clone(), alice.me.clone()];
    let got = exchange(&mut bob, &to_alice, &mut alice, b"hi alice");
    assert_eq!(got.header("To-Path"), Some(alice.me.as_str()));

    // A success REPORT (RFC 4975 §7.1.3) travels back along From-Path and
    // is never answered.
    let mut f = alice.send_frame(&to_bob, b"report this");
    f.set_header("Success-Report", "yes").unwrap();
    alice.send(&f);
    assert_eq!(alice.recv().unwrap().status(), Some(200));
    let got = bob.recv().unwrap();
    bob.send(&got.response(200, Some("OK")).unwrap());
    let rep = report::success(&got, report::received_range(&got)).unwrap();
    bob.send(&rep);
    let back = alice.recv().expect("the success REPORT");
    assert_eq!(back.method(), Some(&Method::Report));
    assert_eq!(back.message_id().unwrap(), f.message_id().unwrap());
    assert_eq!(back.status_header().unwrap().unwrap().code, 200);
    assert_eq!(back.header("To-Path"), Some(alice.me.as_str()));

    // A bodiless SEND (RFC 4975 §5.4: the first one binds a session) passes too.
    let empty = Frame::builder(Method::Send)
        .to_path(&to_bob)
        .from_path(std::slice::from_ref(&alice.me))
        .message_id(&msrp::MessageId::random())
        .build()
        .unwrap();
    alice.send(&empty);
    assert_eq!(alice.recv().unwrap().status(), Some(200));
    let got = bob.recv().unwrap();
    assert_eq!(got.body(), None);
    bob.send(&got.response(200, Some("OK")).unwrap());

    // The relay stops with the server, connections open or not.
    assert_eq!(s.stop(), Some(0));
    assert!(alice.closed_by_relay() && bob.closed_by_relay());
}

#[test]
fn tokens_work_only_for_or_toward_their_owner() {
    let s = relay_with_users();
    let (alice, ua, mut bob, ub) = pair(&s);
    let mut mallory = MsrpConn::connect(s.msrp.unwrap());
    let um = mallory.auth_ok("alice", "secret");

    // Mallory cannot speak as alice: alice's token followed by more hops,
    // from a connection that is not alice's.
    let f = mallory.send_frame(&[ua.clone(), ub.clone(), bob.me.clone()], b"as alice");
    mallory.send(&f);
    let r = mallory.recv().unwrap();
    assert_eq!(r.status(), Some(403), "{r:?}");
    // Nor can anybody use bob's token to go anywhere but to bob.
    mallory.send(&mallory.send_frame(
        &[
            ub.clone(),
            MsrpUri::parse("msrp://127.0.0.1:9/x;tcp").unwrap(),
            bob.me.clone(),
        ],
        b"x",
    ));
    assert_eq!(mallory.recv().unwrap().status(), Some(403));
    // Through her own token to bob's: allowed (bob's URI is the shared
    // secret he gave out).
    exchange(
        &mut mallory,
        &[um, ub.clone(), bob.me.clone()],
        &mut bob,
        b"legit",
    );

    // Alice leaves: her token dies with her connection (RFC 4976 §6.3).
    let alice_me = alice.me.clone();
    drop(alice);
    std::thread::sleep(Duration::from_millis(200));
    bob.send(&bob.send_frame(&[ub, ua, alice_me], b"anyone?"));
    let r = bob.recv().unwrap();
    assert_eq!(r.status(), Some(481), "{r:?}");
}

#[test]
fn malformed_frames_never_hurt_the_other_session() {
    let s = relay_with_users();
    let (mut alice, ua, mut bob, ub) = pair(&s);
    let to_bob = [ua.clone(), ub.clone(), bob.me.clone()];

    // A second client of alice's with a frame whose transaction id is known
    // but whose Byte-Range is nonsense: 400 on its connection.
    let mut carol = MsrpConn::connect(s.msrp.unwrap());
    let uc = carol.auth_ok("alice", "secret");
    let bad = format!(
        "MSRP badc0ffee SEND\r\nTo-Path: {} {} {}\r\nFrom-Path: {}\r\nMessage-ID: m1234\r\nByte-Range: x-y/z\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------badc0ffee$\r\n",
        uc, ub, bob.me, carol.me
    );
    carol.send_raw(bad.as_bytes());
    let r = carol.recv().unwrap();
    assert_eq!(r.status(), Some(400), "{r:?}");
    assert_eq!(r.transaction_id().as_str(), "badc0ffee");
    // The stream is still in step: carol goes on.
    exchange(
        &mut carol,
        &[uc, ub.clone(), bob.me.clone()],
        &mut bob,
        b"after the 400",
    );

    // Garbage without a transaction id: the relay closes that connection.
    let mut dave = MsrpConn::connect(s.msrp.unwrap());
    dave.auth_ok("bob", "secret");
    dave.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(dave.closed_by_relay());

    // A frame cut off in the middle of a large body, then the connection
    // closed: nothing reaches bob, nothing breaks.
    let mut eve = MsrpConn::connect(s.msrp.unwrap());
    let ue = eve.auth_ok("alice", "secret");
    let half = format!(
        "MSRP cut12345 SEND\r\nTo-Path: {ue} {ub} {}\r\nFrom-Path: {}\r\nMessage-ID: m5678\r\nContent-Type: text/plain\r\n\r\n{}",
        bob.me,
        eve.me,
        "x".repeat(100_000)
    );
    eve.send_raw(half.as_bytes());
    drop(eve);

    // Alice and bob never noticed.
    exchange(&mut alice, &to_bob, &mut bob, b"still here");
    exchange(&mut bob, &[ub, ua, alice.me.clone()], &mut alice, b"me too");
}

#[test]
fn a_next_hop_outside_the_relay_is_connected_and_reused() {
    let s = relay_with_users();
    let mut alice = MsrpConn::connect(s.msrp.unwrap());
    let ua = alice.auth_ok("alice", "secret");
    // Bob uses no relay: he listens (RFC 4976 §1: such clients need nothing new).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let bob_uri = MsrpUri::parse(&format!("msrp://127.0.0.1:{port}/bobsess;tcp")).unwrap();
    let to_bob = [ua.clone(), bob_uri.clone()];

    alice.send(&alice.send_frame(&to_bob, b"one"));
    assert_eq!(alice.recv().unwrap().status(), Some(200));
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = BytesMut::new();
    let mut dec = Decoder::new(Limits::default());
    let mut next = |conn: &mut std::net::TcpStream| loop {
        if let Some(f) = dec.decode(&mut buf).unwrap() {
            return f;
        }
        let mut chunk = [0u8; 8192];
        let n = conn.read(&mut chunk).unwrap();
        assert!(n > 0, "relay closed");
        buf.extend_from_slice(&chunk[..n]);
    };
    let got = next(&mut conn);
    assert_eq!(got.body().unwrap().as_ref(), b"one");
    assert_eq!(got.header("To-Path"), Some(bob_uri.as_str()));
    conn.write_all(&got.response(200, Some("OK")).unwrap().to_bytes())
        .unwrap();
    // The second SEND reuses the connection (RFC 4975 §5.4).
    alice.send(&alice.send_frame(&to_bob, b"two"));
    assert_eq!(alice.recv().unwrap().status(), Some(200));
    let got = next(&mut conn);
    assert_eq!(got.body().unwrap().as_ref(), b"two");
    conn.write_all(&got.response(200, Some("OK")).unwrap().to_bytes())
        .unwrap();
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "no second connection");

    // Bob answers over the connection the relay opened, with alice's token.
    let back = Frame::builder(Method::Send)
        .to_path(&[ua, alice.me.clone()])
        .from_path(std::slice::from_ref(&bob_uri))
        .message_id(&msrp::MessageId::random())
        .body("text/plain", bytes::Bytes::from_static(b"hello alice"))
        .build()
        .unwrap();
    conn.write_all(&back.to_bytes()).unwrap();
    let ok = next(&mut conn);
    assert_eq!(ok.status(), Some(200));
    let got = alice.recv().unwrap();
    assert_eq!(got.body().unwrap().as_ref(), b"hello alice");
}
