//! RFC 3261 §18.1.1: a proxied request that would exceed 1300 bytes toward a
//! contact registered over UDP goes over TCP to the same address when the
//! contact takes TCP. When it does not, a page-mode MESSAGE gets 513 (RFC
//! 3428 §4) and any other request is sent again over UDP. Against the real
//! `herald` binary; the recipients are raw sockets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::net::TcpListener;
use std::time::Duration;

use common::Server;
use ua::Ua;

fn register(s: &Server, u: &Ua, user: &str) {
    u.register_new_user(&s.data_dir, user);
}

#[test]
fn a_large_message_goes_over_tcp_or_gets_513() {
    let s = Server::start(&["--auth", "off"]);
    let alice = Ua::new(s.udp.unwrap());
    register(&s, &alice, "alice");
    // bob listens for TCP on his UDP contact's port.
    let bob = Ua::new(s.udp.unwrap());
    let listener = TcpListener::bind(bob.addr()).unwrap();
    register(&s, &bob, "bob");
    // carol does not.
    let carol = Ua::new(s.udp.unwrap());
    register(&s, &carol, "carol");

    let body = "ä".repeat(1000); // 2000 bytes of UTF-8
    let ct = "Content-Type: text/plain;charset=UTF-8\r\n";
    let bob_side = ua::serve_one_over_tcp(listener, 200, "OK");
    alice.send(&alice.request_raw(
        "MESSAGE",
        "alice",
        "sip:bob@example.test",
        "big-1",
        1,
        ct,
        &body,
    ));
    let r = alice.final_for("big-1");
    assert_eq!(r.status(), Some(200), "{r:?}");
    let m = bob_side.join().unwrap();
    assert_eq!(&m.body()[..], body.as_bytes());
    assert!(
        m.via().unwrap().transport.eq_ignore_ascii_case("TCP"),
        "the server's Via says TCP: {m:?}"
    );
    // Nothing came over UDP.
    assert!(bob.request("MESSAGE", Duration::from_millis(500)).is_none());

    alice.send(&alice.request_raw(
        "MESSAGE",
        "alice",
        "sip:carol@example.test",
        "big-2",
        1,
        ct,
        &body,
    ));
    let r = alice.final_for("big-2");
    assert_eq!(r.status(), Some(513), "{r:?}");
    // A small one still goes over UDP.
    alice.send(&alice.request_raw(
        "MESSAGE",
        "alice",
        "sip:carol@example.test",
        "small",
        1,
        ct,
        "klein",
    ));
    let m = carol
        .request("MESSAGE", Duration::from_secs(5))
        .expect("over UDP");
    carol.answer(&m, 200, "OK", "");
    assert_eq!(alice.final_for("small").status(), Some(200));
}

/// An INVITE with a large SDP body (as softphones with many codecs send):
/// over TCP to a contact that listens on TCP; to a UDP-only contact, after
/// the refused TCP attempt, over UDP with a fresh branch; small ones stay on
/// UDP.
#[test]
fn a_large_invite_goes_over_tcp_else_falls_back_to_udp() {
    let s = Server::start(&["--auth", "off"]);
    let alice = Ua::new(s.udp.unwrap());
    register(&s, &alice, "alice");
    let bob = Ua::new(s.udp.unwrap());
    let listener = TcpListener::bind(bob.addr()).unwrap();
    register(&s, &bob, "bob");
    let carol = Ua::new(s.udp.unwrap());
    register(&s, &carol, "carol");

    let mut sdp = String::from(
        "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 40000 RTP/AVP 0 8 9 18 101\r\n",
    );
    for pt in 96..127 {
        sdp.push_str(&format!(
            "a=rtpmap:{pt} codec-{pt}/48000/2\r\na=fmtp:{pt} x={pt}\r\n"
        ));
    }
    assert!(sdp.len() > 1300, "{}", sdp.len());
    let ct = "Content-Type: application/sdp\r\nContact: <sip:alice@127.0.0.1>\r\n";

    // bob takes TCP: the INVITE arrives there, our Via says TCP.
    let bob_side = ua::serve_one_over_tcp(listener, 486, "Busy Here");
    alice.send(&alice.request_raw(
        "INVITE",
        "alice",
        "sip:bob@example.test",
        "inv-1",
        1,
        ct,
        &sdp,
    ));
    assert_eq!(alice.final_for("inv-1").status(), Some(486));
    let m = bob_side.join().unwrap();
    assert_eq!(&m.body()[..], sdp.as_bytes());
    assert!(
        m.via().unwrap().transport.eq_ignore_ascii_case("TCP"),
        "{m:?}"
    );
    assert!(bob.request("INVITE", Duration::from_millis(500)).is_none());

    // carol takes only UDP: the INVITE still reaches her, over UDP.
    alice.send(&alice.request_raw(
        "INVITE",
        "alice",
        "sip:carol@example.test",
        "inv-2",
        1,
        ct,
        &sdp,
    ));
    let m = carol
        .request("INVITE", Duration::from_secs(10))
        .expect("the INVITE is retried over UDP");
    assert_eq!(&m.body()[..], sdp.as_bytes());
    let via = m.via().unwrap();
    assert!(via.transport.eq_ignore_ascii_case("UDP"), "{m:?}");
    carol.answer(&m, 486, "Busy Here", "");
    let r = alice.final_for("inv-2");
    assert_eq!(r.status(), Some(486), "{r:?}");
}
