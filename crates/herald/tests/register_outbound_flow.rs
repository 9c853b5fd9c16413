//! RFC 5626 at the registrar: a binding registered with +sip.instance and
//! reg-id over TCP is reached over that connection (the contact is not
//! reachable otherwise), the 200 carries `Require: outbound`, and when the
//! connection closes the binding is gone (a dead flow is detected).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::time::Duration;

use common::{Server, Tcp, header, status_line};
use ua::Ua;

#[test]
fn outbound_binding_lives_and_dies_with_its_flow() {
    let s = Server::start(&["--auth", "off"]);
    let mut tcp = Tcp::connect(s.tcp.unwrap());
    let me = tcp.local();
    // A contact no one can connect to: only the flow reaches it.
    let register = format!(
        "REGISTER sip:example.test SIP/2.0\r\nVia: SIP/2.0/TCP {me};branch=z9hG4bKob1;rport\r\n\
From: <sip:gus@example.test>;tag=o1\r\nTo: <sip:gus@example.test>\r\nCall-ID: ob1\r\n\
CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nSupported: outbound, path\r\n\
Contact: <sip:gus@k2j4h5.invalid;transport=tcp;ob>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\";reg-id=1\r\n\
Content-Length: 0\r\n\r\n"
    );
    tcp.send(register.as_bytes());
    let r = tcp.recv_final().expect("200 over the flow");
    assert_eq!(status_line(&r).0, 200, "{r}");
    assert_eq!(header(&r, "Require"), Some("outbound"), "{r}");

    // A MESSAGE for gus arrives over the registration's connection.
    let sender = Ua::new(s.udp.unwrap());
    sender.send(&sender.request_raw(
        "MESSAGE",
        "hal",
        "sip:gus@example.test",
        "ob2",
        1,
        "Content-Type: text/plain\r\n",
        "over the flow",
    ));
    let m = tcp.recv_final().expect("MESSAGE over the flow");
    assert!(m.starts_with("MESSAGE sip:gus@k2j4h5.invalid"), "{m}");
    assert!(m.ends_with("over the flow"), "{m}");
    let parsed = sip_msg::SipMessage::parse(bytes::Bytes::from(m.clone())).unwrap();
    let mut resp = String::from("SIP/2.0 200 OK\r\n");
    for v in parsed.header_lines(sip_msg::HeaderName::Via) {
        resp.push_str(&format!("Via: {v}\r\n"));
    }
    resp.push_str(&format!(
        "From: {}\r\nTo: {};tag=g\r\nCall-ID: ob2\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
        header(&m, "From").unwrap(),
        header(&m, "To").unwrap()
    ));
    tcp.send(resp.as_bytes());
    assert_eq!(sender.final_for("ob2").status(), Some(200));

    // The connection closes: the binding goes with it (the transport keeps
    // a half-closed connection about a second for answers in flight).
    drop(tcp);
    let mut left = usize::MAX;
    for i in 0..30 {
        std::thread::sleep(Duration::from_millis(200));
        let q = sender.register("gus", "", &format!("ob3-{i}"), &mut 1, None, "");
        assert_eq!(q.status(), Some(200));
        left = q.contacts().count();
        if left == 0 {
            break;
        }
    }
    assert_eq!(left, 0, "the dead flow's binding is still listed after 6 s");
    // Body-less: never stored for later, so 480 (not 202).
    sender.send(&sender.request_raw("MESSAGE", "hal", "sip:gus@example.test", "ob4", 1, "", ""));
    assert_eq!(sender.final_for("ob4").status(), Some(480));
    assert_eq!(s.stop(), Some(0));
}
