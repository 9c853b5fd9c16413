//! The core answers of `herald serve` over real UDP and TCP sockets: OPTIONS,
//! 405/501, 420, 416, 403, 483, 400 with the parser's reason, and silence
//! for garbage and stray responses.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use common::{Server, Tcp, Udp, header, request, status_line};

#[test]
fn options_over_udp_and_tcp() {
    let s = Server::start(&[]);
    let udp = Udp::new(s.udp.unwrap());
    udp.send(request("OPTIONS", "sip:example.test", udp.local(), "UDP", "").as_bytes());
    let r = udp.recv_final().expect("200 over UDP");
    assert_eq!(status_line(&r).0, 200, "{r}");
    assert!(
        header(&r, "Allow")
            .unwrap()
            .starts_with("OPTIONS, REGISTER, INVITE, ACK, CANCEL")
    );
    assert!(header(&r, "Accept").is_some());
    assert!(header(&r, "Supported").is_some());
    // rport filled in and received added (RFC 3581).
    let via = header(&r, "Via").unwrap();
    assert!(
        via.contains(&format!("rport={}", udp.local().port())),
        "{via}"
    );

    let mut tcp = Tcp::connect(s.tcp.unwrap());
    let local = tcp.local();
    tcp.send(request("OPTIONS", "sip:example.test", local, "TCP", "").as_bytes());
    let r = tcp.recv_final().expect("200 over TCP");
    assert_eq!(status_line(&r).0, 200, "{r}");
    // The same connection carries the next exchange.
    tcp.send(request("PUBLISH", "sip:example.test", local, "TCP", "").as_bytes());
    assert_eq!(status_line(&tcp.recv_final().unwrap()).0, 405);
}

#[test]
fn chain_answers() {
    let s = Server::start(&[]);
    let udp = Udp::new(s.udp.unwrap());
    let me = udp.local();
    let server = s.udp.unwrap();
    type Case<'a> = (String, u16, Option<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            request("PUBLISH", "sip:example.test", me, "UDP", ""),
            405,
            Some((
                "Allow",
                "OPTIONS, REGISTER, INVITE, ACK, CANCEL, BYE, MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH, REFER, INFO, UPDATE, PRACK",
            )),
        ),
        (
            request("FROBNICATE", "sip:example.test", me, "UDP", ""),
            501,
            None,
        ),
        (
            request("OPTIONS", "sip:example.test", me, "UDP", "Require: foo\r\n"),
            420,
            Some(("Unsupported", "foo")),
        ),
        (
            request("OPTIONS", "tel:+15551234567", me, "UDP", ""),
            416,
            None,
        ),
        (
            request("OPTIONS", "sip:elsewhere.example", me, "UDP", ""),
            403,
            None,
        ),
        (
            request("MESSAGE", "sip:bob@example.test", me, "UDP", "")
                .replace("Max-Forwards: 70", "Max-Forwards: 0"),
            483,
            None,
        ),
        (
            request("OPTIONS", &format!("sip:{server}"), me, "UDP", ""),
            200,
            None,
        ),
    ];
    for (req, want, hdr) in cases {
        udp.send(req.as_bytes());
        let r = udp
            .recv_final()
            .unwrap_or_else(|| panic!("no answer to\n{req}"));
        assert_eq!(status_line(&r).0, want, "request:\n{req}\nresponse:\n{r}");
        if let Some((name, value)) = hdr {
            assert_eq!(header(&r, name), Some(value), "{r}");
        }
    }
}

#[test]
fn malformed_requests_get_400_with_reason_and_garbage_is_dropped() {
    let s = Server::start(&[]);
    let udp = Udp::new(s.udp.unwrap());
    let bad = request("OPTIONS", "sip:example.test", udp.local(), "UDP", "")
        .replace("Call-ID", "X-Call-ID");
    udp.send(bad.as_bytes());
    let r = udp.recv_final().expect("400");
    assert_eq!(status_line(&r), (400, "Missing Call-ID".to_owned()), "{r}");

    let mut tcp = Tcp::connect(s.tcp.unwrap());
    let local = tcp.local();
    let bad = request("OPTIONS", "sip:example.test", local, "TCP", "")
        .replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
    tcp.send(bad.as_bytes());
    let r = tcp.recv_final().expect("400 over TCP");
    assert_eq!(
        status_line(&r),
        (
            400,
            "CSeq method does not match the request method".to_owned()
        )
    );
    tcp.send(request("OPTIONS", "sip:example.test", local, "TCP", "").as_bytes());
    assert_eq!(
        status_line(&tcp.recv_final().expect("connection still usable")).0,
        200
    );

    // Garbage and a stray response get no answer; the server keeps serving.
    udp.send(b"\x16\x03\x01 not sip at all");
    udp.send(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKstray\r\nFrom: <sip:a@example.test>;tag=1\r\nTo: <sip:b@example.test>;tag=2\r\nCall-ID: stray\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
    udp.send(request("OPTIONS", "sip:example.test", udp.local(), "UDP", "").as_bytes());
    let r = udp.recv_final().expect("still answering");
    assert_eq!(status_line(&r).0, 200, "{r}");
}

#[test]
fn retransmission_is_absorbed_and_answered_alike() {
    let s = Server::start(&[]);
    let udp = Udp::new(s.udp.unwrap());
    let req = request("OPTIONS", "sip:example.test", udp.local(), "UDP", "");
    udp.send(req.as_bytes());
    let first = udp.recv_final().unwrap();
    udp.send(req.as_bytes());
    let second = udp.recv_final().unwrap();
    assert_eq!(header(&first, "To"), header(&second, "To"));
    assert_eq!(status_line(&second).0, 200);
}

#[test]
fn sigterm_stops_gracefully_with_status_0() {
    let s = Server::start(&[]);
    let udp = Udp::new(s.udp.unwrap());
    udp.send(request("OPTIONS", "sip:example.test", udp.local(), "UDP", "").as_bytes());
    assert!(udp.recv_final().is_some());
    assert_eq!(s.stop(), Some(0));
}
