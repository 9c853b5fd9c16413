//! RFC 3261 §18.1.1 for page-mode MESSAGE (RFC 3428 §4): a MESSAGE that
//! would exceed 1300 bytes toward a contact registered over UDP goes over
//! TCP to the same address when the contact takes TCP, else the sender gets
//! 513. Against the real `herald` binary; the recipients are raw sockets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use bytes::Bytes;
use common::Server;
use sip_msg::{HeaderName, SipMessage};
use ua::Ua;

fn register(s: &Server, u: &Ua, user: &str) {
    u.register_new_user(&s.data_dir, user);
}

/// One SIP message from a TCP stream (headers, then Content-Length bytes).
fn read_message(conn: &mut std::net::TcpStream) -> SipMessage {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed early");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    (n.trim().eq_ignore_ascii_case("content-length") || n.trim() == "l")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                buf.truncate(end + 4 + len);
                return SipMessage::parse(Bytes::from(buf)).unwrap();
            }
        }
    }
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
    let bob_side = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let m = read_message(&mut conn);
        let mut out = String::from("SIP/2.0 200 OK\r\n");
        for v in m.header_lines(HeaderName::Via) {
            out.push_str(&format!("Via: {v}\r\n"));
        }
        out.push_str(&format!(
            "From: {}\r\nTo: {};tag=b\r\nCall-ID: {}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
            m.header(HeaderName::From).unwrap(),
            m.header(HeaderName::To).unwrap(),
            m.header(HeaderName::CallId).unwrap(),
            m.header(HeaderName::CSeq).unwrap()
        ));
        conn.write_all(out.as_bytes()).unwrap();
        m
    });
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
