//! MSRP over WebSocket (RFC 7977) against `herald serve --listen
//! msrp:... --listen ws:...`: an upgrade offering subprotocol `msrp` on the
//! HTTP listener becomes a connection of the same relay as the `msrp:`
//! listener. The WebSocket client AUTHs (401, then 200) addressing the relay
//! as `msrp://host:port;ws` and gets a Use-Path that is the relay's TCP URI
//! (RFC 7977 §5.2.2, §8.1: what the far end connects to); it exchanges
//! SENDs byte-exact with a TCP client through the relay both ways, and a
//! 1 MB message in chunks both ways; every WebSocket message carries exactly
//! one frame each way, and a message with two frames or half of one loses
//! its connection (§5.1). Without a relay the `msrp` upgrade is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::thread;

use bytes::Bytes;
use common::msrp::{MsrpConn, MsrpWsConn, relay_with_users, ws_connect};
use msrp::{Chunker, Frame, MessageId, Method, MsrpUri, Reassembler, Reassembly, ReassemblyLimits};

/// alice over WebSocket and bob over TCP, each AUTHed: (alice, her Use-Path
/// URI, bob, his).
fn pair(s: &common::Server) -> (MsrpWsConn, MsrpUri, MsrpConn, MsrpUri) {
    let mut alice = MsrpWsConn::connect(s.ws.unwrap());
    let ua = alice.auth_ok("alice", "secret");
    let mut bob = MsrpConn::connect(s.msrp.unwrap());
    let ub = bob.auth_ok("bob", "secret");
    (alice, ua, bob, ub)
}

/// Every byte value, so nothing on the way may treat the body as text.
fn binary(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn websocket_client_auth_challenge_then_use_path() {
    let s = relay_with_users();
    let mut alice = MsrpWsConn::connect(s.ws.unwrap());
    let (challenge, ok) = alice.auth("alice", "secret");
    assert!(
        challenge
            .www_authenticate()
            .is_some_and(|w| w.starts_with("Digest ")),
        "{challenge:?}"
    );
    // Responses go back one hop: to the client's `;ws` URI, from the URI it
    // addressed (RFC 7977 §8.1.2 F4/F6).
    assert_eq!(challenge.header("To-Path"), Some(alice.me.as_str()));
    assert_eq!(challenge.header("From-Path"), Some(alice.relay.as_str()));
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    assert_eq!(ok.header("To-Path"), Some(alice.me.as_str()));
    assert_eq!(ok.header("From-Path"), Some(alice.relay.as_str()));
    assert!(ok.header("Expires").is_some(), "{ok:?}");
    // RFC 7977 §8.1: Use-Path is the relay's own TCP URI with a session
    // token (`msrps://a.example.com:2855/jui787s2f;tcp`): the URI the far
    // end, a TCP client, is given in SDP and connects to.
    let use_path = ok.use_path().unwrap().unwrap();
    assert_eq!(use_path.len(), 1);
    let u = &use_path[0];
    let msrp_addr = s.msrp.unwrap();
    assert_eq!(u.transport(), "tcp", "{u}");
    assert!(!u.is_secure());
    assert_eq!(u.ip(), Some(msrp_addr.ip()), "{u}");
    assert_eq!(u.port(), Some(msrp_addr.port()), "{u}");
    assert!(u.session_id().is_some_and(|t| t.len() >= 11), "{u}");

    // Wrong credentials: 401 again (RFC 4976 §6.3), the connection stays.
    let mut eve = MsrpWsConn::connect(s.ws.unwrap());
    let (_, r) = eve.auth("alice", "wrong");
    assert_eq!(r.status(), Some(401), "{r:?}");
}

#[test]
fn websocket_and_tcp_clients_exchange_sends_byte_exact() {
    let s = relay_with_users();
    let (mut alice, ua, mut bob, ub) = pair(&s);

    // WebSocket → TCP (RFC 7977 §8.2.2 with the far end on the same relay,
    // as in §8.3).
    let body = binary(3000);
    let to_bob = [ua.clone(), ub.clone(), bob.me.clone()];
    let f = alice.send_frame(&to_bob, &body);
    alice.send(&f);
    let ok = alice.recv().expect("the relay's 200");
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    assert_eq!(ok.transaction_id(), f.transaction_id());
    assert_eq!(ok.header("To-Path"), Some(alice.me.as_str()));
    let got = bob.recv().expect("the forwarded SEND");
    assert_eq!(got.method(), Some(&Method::Send));
    assert_eq!(got.body().unwrap().as_ref(), &body[..], "byte-exact");
    assert_eq!(got.header("To-Path"), Some(bob.me.as_str()));
    assert_eq!(
        got.header("From-Path").unwrap(),
        format!("{} {} {}", ub.as_str(), ua.as_str(), alice.me.as_str()),
        "the `;ws` URI travels in From-Path"
    );
    bob.send(&got.response(200, Some("OK")).unwrap());

    // TCP → WebSocket (§8.2.3): the relay reaches the `.invalid` client over
    // its WebSocket, never by its URI. Text this time (a text WebSocket
    // message is read as bytes, §4.2).
    let text = "grüße, alice — ünïcödé\r\n-------not-an-end-line$\r\n".as_bytes();
    let to_alice = [ub.clone(), ua.clone(), alice.me.clone()];
    let f = bob.send_frame(&to_alice, text);
    bob.send(&f);
    let ok = bob.recv().expect("the relay's 200");
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    let got = alice.recv().expect("the SEND over the WebSocket");
    assert_eq!(got.method(), Some(&Method::Send));
    assert_eq!(got.body().unwrap().as_ref(), text, "byte-exact");
    assert_eq!(got.header("To-Path"), Some(alice.me.as_str()));
    assert_eq!(
        got.header("From-Path").unwrap(),
        format!("{} {} {}", ua.as_str(), ub.as_str(), bob.me.as_str())
    );
    alice.send(&got.response(200, Some("OK")).unwrap());

    // And once more each way, binary from bob: the answers above were taken.
    let body = binary(70_000);
    let f = bob.send_frame(&to_alice, &body);
    bob.send(&f);
    assert_eq!(bob.recv().unwrap().status(), Some(200));
    let got = alice.recv().unwrap();
    assert_eq!(got.body().unwrap().as_ref(), &body[..], "byte-exact");
}

/// Pseudo-random bytes with end-line look-alikes in them.
fn payload(len: usize, seed: u64) -> Bytes {
    let mut x = seed;
    let mut v: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let fake = b"\r\n-------abcd1234$\r\n";
    let mut at = 1000;
    while at + fake.len() < len {
        v[at..at + fake.len()].copy_from_slice(fake);
        at += 97_531;
    }
    Bytes::from(v)
}

fn reassembler() -> Reassembler {
    Reassembler::new(ReassemblyLimits {
        max_message_size: 64 * 1024 * 1024,
        ..ReassemblyLimits::default()
    })
}

fn chunks(to: &[MsrpUri], from: &MsrpUri, message: &Bytes) -> Vec<Frame> {
    let mut chunker = Chunker::new(
        to,
        std::slice::from_ref(from),
        &MessageId::random(),
        "application/octet-stream",
        message.clone(),
        48 * 1024,
    )
    .unwrap();
    std::iter::from_fn(|| chunker.next_chunk()).collect()
}

#[test]
fn one_megabyte_in_chunks_over_websocket_both_ways() {
    let s = relay_with_users();
    let (mut alice, ua, mut bob, ub) = pair(&s);

    // WebSocket → TCP: one chunk per WebSocket message.
    let message = payload(1024 * 1024, 0x9e37_79b9_7f4a_7c15);
    let sent = chunks(
        &[ua.clone(), ub.clone(), bob.me.clone()],
        &alice.me,
        &message,
    );
    assert!(sent.len() > 20, "{} chunks", sent.len());
    let n = sent.len();
    let receiver = thread::spawn(move || {
        let mut r = reassembler();
        let mut got = 0;
        loop {
            let f = bob.recv().expect("a chunk from the relay");
            bob.send(&f.response(200, Some("OK")).unwrap());
            got += 1;
            if let Reassembly::Complete(m) = r.handle_chunk(&f).unwrap() {
                return (bob, m.body, got);
            }
        }
    });
    for c in &sent {
        alice.send(c);
    }
    for c in &sent {
        let ok = alice.recv().expect("200 for every chunk");
        assert_eq!(ok.status(), Some(200));
        assert_eq!(ok.transaction_id(), c.transaction_id(), "in order");
    }
    let (mut bob, got, count) = receiver.join().unwrap();
    assert_eq!(count, n, "forwarded chunk by chunk");
    assert!(got == message, "byte-exact");

    // TCP → WebSocket: each forwarded chunk arrives as one message.
    let message = payload(1024 * 1024, 7);
    let sent = chunks(&[ub, ua, alice.me.clone()], &bob.me, &message);
    let n = sent.len();
    let sender = thread::spawn(move || {
        for c in &sent {
            bob.send(c);
        }
        for c in &sent {
            let ok = bob.recv().expect("200 for every chunk");
            assert_eq!(ok.status(), Some(200));
            assert_eq!(ok.transaction_id(), c.transaction_id());
        }
    });
    let mut r = reassembler();
    let mut count = 0;
    let got = loop {
        let f = alice.recv().expect("a chunk over the WebSocket");
        alice.send(&f.response(200, Some("OK")).unwrap());
        count += 1;
        if let Reassembly::Complete(m) = r.handle_chunk(&f).unwrap() {
            break m.body;
        }
    };
    sender.join().unwrap();
    assert_eq!(count, n);
    assert!(got == message, "byte-exact");
}

#[test]
fn a_websocket_message_with_two_frames_or_half_a_frame_closes() {
    let s = relay_with_users();
    // RFC 7977 §5.1: one chunk per message, no more.
    let mut a = MsrpWsConn::connect(s.ws.unwrap());
    let mut two = a.auth_request(None).to_bytes().to_vec();
    two.extend_from_slice(&a.auth_request(None).to_bytes());
    a.send_raw(two);
    assert!(a.closed_by_relay(), "two frames in one message");

    // ... and a chunk must fit in one message.
    let mut b = MsrpWsConn::connect(s.ws.unwrap());
    let whole = b.auth_request(None).to_bytes();
    b.send_raw(whole[..whole.len() - 5].to_vec());
    assert!(b.closed_by_relay(), "half a frame");

    // Other connections are unaffected.
    let mut c = MsrpWsConn::connect(s.ws.unwrap());
    c.auth_ok("alice", "secret");
}

#[test]
fn msrp_upgrade_is_refused_without_a_relay() {
    // No `msrp:` listener: no relay, so no `msrp` subprotocol (RFC 6455
    // §4.2.2: the server does not pick a subprotocol it does not serve; we
    // refuse the upgrade as for any unknown subprotocol).
    let s = common::Server::start(&[]);
    assert!(s.msrp.is_none());
    assert_eq!(ws_connect(s.ws.unwrap(), "msrp").err(), Some(400));
    // SIP over WebSocket on the same listener is as before.
    let (_, chosen) = ws_connect(s.ws.unwrap(), "sip").unwrap();
    assert_eq!(chosen.as_deref(), Some("sip"));
}

#[test]
fn sip_still_wins_on_a_listener_that_serves_msrp() {
    let s = relay_with_users();
    let (_, chosen) = ws_connect(s.ws.unwrap(), "sip").unwrap();
    assert_eq!(chosen.as_deref(), Some("sip"));
    // Offering both: SIP (RFC 7118) is the listener's first protocol.
    let (_, chosen) = ws_connect(s.ws.unwrap(), "msrp, sip").unwrap();
    assert_eq!(chosen.as_deref(), Some("sip"));
    // Neither: refused.
    assert_eq!(ws_connect(s.ws.unwrap(), "xmpp").err(), Some(400));
}
