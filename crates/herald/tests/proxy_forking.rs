//! The proxy (RFC 3261 §16) over real sockets: parallel forking to every
//! binding with best-response selection (§16.7), CANCEL of the other
//! branches after a 2xx to INVITE, Record-Route and in-dialog routing,
//! 404 / 480, 407 for local senders, and Timer C (§16.8) with the §9.1
//! give-up of a CANCELled branch that never answers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::time::Duration;

use common::{Server, TempFile};
use sip_msg::HeaderName;
use ua::{Ua, add_user, authorization};

const WAIT: Duration = Duration::from_secs(5);

fn register(ua: &Ua, user: &str) {
    let c = format!("<sip:{user}@{}>", ua.addr());
    let r = ua.register(
        user,
        "",
        &format!("reg-{}", ua.addr().port()),
        &mut 1,
        Some(&c),
        "",
    );
    assert_eq!(r.status(), Some(200), "{r}");
}

#[test]
fn message_forks_and_best_response_wins() {
    let s = Server::start(&["--auth", "off", "--t1-ms", "50"]);
    let phone = Ua::new(s.udp.unwrap());
    let laptop = Ua::new(s.udp.unwrap());
    register(&phone, "hank");
    register(&laptop, "hank");
    let sender = Ua::new(s.udp.unwrap());

    // One branch fails (486), the other accepts: the sender gets the 200.
    sender.send(&sender.request_raw(
        "MESSAGE",
        "ivy",
        "sip:hank@example.test",
        "f1",
        1,
        "Content-Type: text/plain\r\n",
        "hello",
    ));
    let a = phone.request("MESSAGE", WAIT).expect("phone got it");
    let b = laptop.request("MESSAGE", WAIT).expect("laptop got it");
    assert_eq!(&a.body()[..], b"hello");
    assert_eq!(a.header_lines(HeaderName::Via).count(), 2, "our Via on top");
    assert_eq!(a.max_forwards().unwrap(), Some(69));
    phone.answer(&a, 486, "Busy Here", "");
    laptop.answer(&b, 200, "OK", "");
    let f = sender.final_for("f1");
    assert_eq!(f.status(), Some(200));
    assert_eq!(
        f.header_lines(HeaderName::Via).count(),
        1,
        "proxy Via removed"
    );

    // Both fail: 486 and 603 → the 6xx (§16.7 step 6).
    sender.send(&sender.request_raw("MESSAGE", "ivy", "sip:hank@example.test", "f2", 1, "", ""));
    let a = phone.request("MESSAGE", WAIT).unwrap();
    let b = laptop.request("MESSAGE", WAIT).unwrap();
    phone.answer(&a, 486, "Busy Here", "");
    laptop.answer(&b, 603, "Decline", "");
    assert_eq!(sender.final_for("f2").status(), Some(603));

    // One refuses, the other never answers (Timer F → 408): the real
    // response wins over the timeout.
    sender.send(&sender.request_raw("MESSAGE", "ivy", "sip:hank@example.test", "f3", 1, "", ""));
    let a = phone.request("MESSAGE", WAIT).unwrap();
    let _ignored = laptop.request("MESSAGE", WAIT).unwrap();
    phone.answer(&a, 486, "Busy Here", "");
    let f = sender.final_for("f3");
    assert_eq!(f.status(), Some(486), "{f}");

    // No such binding: 480 (every user exists with auth off).
    sender.send(&sender.request_raw("MESSAGE", "ivy", "sip:nobody@example.test", "f4", 1, "", ""));
    assert_eq!(sender.final_for("f4").status(), Some(480));
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn invite_fork_cancels_the_other_branch_and_dialog_routes_through_us() {
    let s = Server::start(&["--auth", "off"]);
    let desk = Ua::new(s.udp.unwrap());
    let mobile = Ua::new(s.udp.unwrap());
    register(&desk, "jack");
    register(&mobile, "jack");
    let caller = Ua::new(s.udp.unwrap());
    caller.send(&caller.request_raw("INVITE", "kim", "sip:jack@example.test", "i1", 1, "", ""));
    let a = desk.request("INVITE", WAIT).expect("desk rings");
    let b = mobile.request("INVITE", WAIT).expect("mobile rings");
    let rr = a
        .header(HeaderName::RecordRoute)
        .expect("Record-Route added")
        .to_owned();
    assert!(rr.contains(";lr"), "{rr}");
    desk.answer(&a, 180, "Ringing", "");
    mobile.answer(&b, 180, "Ringing", "");
    let desk_contact = format!(
        "Contact: <sip:jack@{}>\r\nRecord-Route: {rr}\r\n",
        desk.addr()
    );
    desk.answer(&a, 200, "OK", &desk_contact);
    // The caller sees the 200 (provisionals may come first).
    let ok = caller.final_for("i1");
    assert_eq!(ok.status(), Some(200));
    assert_eq!(ok.header(HeaderName::RecordRoute), Some(rr.as_str()));
    // §16.7 step 10: the mobile branch is cancelled.
    let cancel = mobile
        .request("CANCEL", WAIT)
        .expect("CANCEL to the other branch");
    mobile.answer(&cancel, 200, "OK", "");
    mobile.answer(&b, 487, "Request Terminated", "");

    // ACK and BYE follow the route set through us to the desk.
    let to = ok.header(HeaderName::To).unwrap().to_owned();
    let via = format!("SIP/2.0/UDP {};branch=z9hG4bKack1", caller.addr());
    let ack = format!(
        "ACK sip:jack@{} SIP/2.0\r\nVia: {via}\r\nRoute: {rr}\r\nFrom: <sip:kim@example.test>;tag=m1\r\n\
To: {to}\r\nCall-ID: i1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        desk.addr()
    );
    caller.send(&ack);
    assert!(
        desk.request("ACK", WAIT).is_some(),
        "ACK routed to the desk"
    );
    let bye = ack
        .replace("ACK sip", "BYE sip")
        .replace("CSeq: 1 ACK", "CSeq: 2 BYE")
        .replace("z9hG4bKack1", "z9hG4bKbye1");
    caller.send(&bye);
    let b = desk.request("BYE", WAIT).expect("BYE routed to the desk");
    desk.answer(&b, 200, "OK", "");
    assert_eq!(caller.final_for("i1").status(), Some(200));
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn caller_cancel_reaches_every_branch() {
    let s = Server::start(&["--auth", "off"]);
    let callee = Ua::new(s.udp.unwrap());
    register(&callee, "lou");
    let caller = Ua::new(s.udp.unwrap());
    let invite = caller.request_raw("INVITE", "max", "sip:lou@example.test", "x1", 1, "", "");
    caller.send(&invite);
    let inv = callee.request("INVITE", WAIT).unwrap();
    callee.answer(&inv, 180, "Ringing", "");
    assert_eq!(caller.recv(WAIT).unwrap().status(), Some(180));
    let cancel = invite
        .replacen("INVITE sip", "CANCEL sip", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    caller.send(&cancel);
    let c = callee.request("CANCEL", WAIT).expect("CANCEL forwarded");
    callee.answer(&c, 200, "OK", "");
    callee.answer(&inv, 487, "Request Terminated", "");
    let mut statuses = Vec::new();
    while let Some(m) = caller.recv(Duration::from_secs(2)) {
        if let (Some(st), Ok(cs)) = (m.status(), m.cseq()) {
            statuses.push((st, cs.method_str.to_owned()));
        }
    }
    assert!(
        statuses.contains(&(200, "CANCEL".to_owned())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(487, "INVITE".to_owned())),
        "{statuses:?}"
    );
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn local_senders_authenticate_and_unknown_users_get_404() {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "nina@example.test", "pw1");
    add_user(&s.data_dir, "otto@example.test", "pw2");
    let otto = Ua::new(s.udp.unwrap());
    let mut cseq = 1;
    let c = format!("<sip:otto@{}>", otto.addr());
    assert_eq!(
        otto.register("otto", "pw2", "o1", &mut cseq, Some(&c), "")
            .status(),
        Some(200)
    );
    let nina = Ua::new(s.udp.unwrap());
    // A local sender without credentials: 407.
    nina.send(&nina.request_raw(
        "MESSAGE",
        "nina",
        "sip:otto@example.test",
        "p1",
        1,
        "",
        "hi",
    ));
    let r = nina.final_for("p1");
    assert_eq!(r.status(), Some(407));
    let auth = authorization(&r, "nina", "pw1", "MESSAGE", "sip:otto@example.test", None);
    let extra = format!("Proxy-Authorization: {auth}\r\n");
    nina.send(&nina.request_raw(
        "MESSAGE",
        "nina",
        "sip:otto@example.test",
        "p1",
        2,
        &extra,
        "hi",
    ));
    let m = otto
        .request("MESSAGE", WAIT)
        .expect("authenticated MESSAGE relayed");
    assert!(m.header(HeaderName::ProxyAuthorization).is_some() || &m.body()[..] == b"hi");
    otto.answer(&m, 200, "OK", "");
    assert_eq!(nina.final_for("p1").status(), Some(200));
    // Wrong password: never relayed.
    nina.send(&nina.request_raw("MESSAGE", "nina", "sip:otto@example.test", "p2", 1, "", "x"));
    let r = nina.final_for("p2");
    let auth = authorization(&r, "nina", "nope", "MESSAGE", "sip:otto@example.test", None);
    let extra = format!("Proxy-Authorization: {auth}\r\n");
    nina.send(&nina.request_raw(
        "MESSAGE",
        "nina",
        "sip:otto@example.test",
        "p2",
        2,
        &extra,
        "x",
    ));
    assert_eq!(nina.final_for("p2").status(), Some(407));
    assert!(
        otto.request("MESSAGE", Duration::from_millis(500))
            .is_none()
    );
    // From another domain (not challenged): unknown user 404, known but
    // unregistered 480.
    let foreign = |to: &str, cid: &str| {
        nina.request_raw("MESSAGE", "zed", to, cid, 1, "", "")
            .replace("<sip:zed@example.test>", "<sip:zed@elsewhere.test>")
    };
    nina.send(&foreign("sip:nobody@example.test", "p3"));
    assert_eq!(nina.final_for("p3").status(), Some(404));
    nina.send(&foreign("sip:nina@example.test", "p4"));
    assert_eq!(nina.final_for("p4").status(), Some(480));
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn a_contact_pointing_back_at_the_proxy_is_a_loop_482() {
    let s = Server::start(&["--auth", "off"]);
    let server = s.udp.unwrap();
    let ua = Ua::new(server);
    // A binding whose contact is the proxy itself: every forward comes back.
    let c = format!("<sip:loopy@{server}>");
    let r = ua.register("loopy", "", "lp1", &mut 1, Some(&c), "");
    assert_eq!(r.status(), Some(200), "{r}");
    ua.send(&ua.request_raw(
        "MESSAGE",
        "pat",
        "sip:loopy@example.test",
        "lp2",
        1,
        "",
        "x",
    ));
    // The spiral (new Request-URI) is forwarded once more; when the same
    // request arrives again, our own Via carries its hash (§16.3 step 4).
    let f = ua.final_for("lp2");
    assert_eq!(f.status(), Some(482), "{f}");
    assert_eq!(s.stop(), Some(0));
}

/// Timer C (RFC 3261 §16.6 step 11, §16.8), set to 2 s here: a callee that
/// rings and never answers is CANCELled; one that also ignores the CANCEL
/// is given up 64·T1 later (§9.1) and the caller gets its final response
/// instead of waiting forever; the server still stops cleanly.
#[test]
fn timer_c_cancels_a_ringing_branch_and_a_dead_one_is_given_up() {
    let conf = TempFile::new("timer-c.toml", "[timers]\nt1_ms = 50\nc_secs = 2\n");
    let s = Server::start(&["--auth", "off", "--config", conf.0.to_str().unwrap()]);
    let callee = Ua::new(s.udp.unwrap());
    register(&callee, "lou");
    let caller = Ua::new(s.udp.unwrap());

    // Rings, answers the CANCEL: the caller gets the 487.
    let started = std::time::Instant::now();
    caller.send(&caller.request_raw("INVITE", "max", "sip:lou@example.test", "c1", 1, "", ""));
    let inv = callee.request("INVITE", WAIT).unwrap();
    callee.answer(&inv, 180, "Ringing", "");
    assert_eq!(caller.recv(WAIT).unwrap().status(), Some(180));
    let c = callee
        .request("CANCEL", Duration::from_secs(6))
        .expect("Timer C sends a CANCEL");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1900),
        "CANCEL after {waited:?}"
    );
    assert_eq!(c.call_id().unwrap(), "c1");
    callee.answer(&c, 200, "OK", "");
    callee.answer(&inv, 487, "Request Terminated", "");
    assert_eq!(caller.final_for("c1").status(), Some(487));

    // Rings, then is gone (ignores the CANCEL): given up 64·T1 (3.2 s)
    // after the CANCEL, the caller still gets a final response.
    let started = std::time::Instant::now();
    caller.send(&caller.request_raw("INVITE", "max", "sip:lou@example.test", "c2", 1, "", ""));
    let inv = callee.request("INVITE", WAIT).unwrap();
    callee.answer(&inv, 180, "Ringing", "");
    let c = callee
        .request("CANCEL", Duration::from_secs(6))
        .expect("Timer C sends a CANCEL");
    assert_eq!(c.call_id().unwrap(), "c2");
    let r = caller.final_for("c2");
    assert_eq!(r.status(), Some(487), "{r}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(5000) && waited < Duration::from_secs(15),
        "final response after {waited:?}"
    );
    assert_eq!(s.stop(), Some(0));
}

/// A forked INVITE answered 200 on one device while the other rings and
/// then ignores the CANCEL: the caller has its 200 and the server
/// transaction ends (Timer L), but the silent branch's client transaction
/// must not live on (§9.1 give-up): a stop asked for right away still ends
/// promptly instead of waiting out its drain timeout for it.
#[test]
fn a_silent_branch_left_after_a_2xx_is_given_up() {
    let conf = TempFile::new("orphan.toml", "[timers]\nt1_ms = 50\n");
    let s = Server::start(&["--auth", "off", "--config", conf.0.to_str().unwrap()]);
    let desk = Ua::new(s.udp.unwrap());
    let mobile = Ua::new(s.udp.unwrap());
    register(&desk, "ann");
    register(&mobile, "ann");
    let caller = Ua::new(s.udp.unwrap());
    caller.send(&caller.request_raw("INVITE", "kim", "sip:ann@example.test", "o1", 1, "", ""));
    let a = desk.request("INVITE", WAIT).expect("desk rings");
    let b = mobile.request("INVITE", WAIT).expect("mobile rings");
    desk.answer(&a, 180, "Ringing", "");
    mobile.answer(&b, 180, "Ringing", "");
    desk.answer(
        &a,
        200,
        "OK",
        &format!("Contact: <sip:ann@{}>\r\n", desk.addr()),
    );
    assert_eq!(caller.final_for("o1").status(), Some(200));
    // The mobile gets its CANCEL and says nothing more, ever.
    assert!(mobile.request("CANCEL", WAIT).is_some());
    // Stop at once: while draining, Timer L (64·T1 = 3.2 s) ends the
    // server transaction and the orphan branch is given up 64·T1 after its
    // CANCEL (plus the 1 s tick) — not the 32 s drain timeout.
    let stopping = std::time::Instant::now();
    assert_eq!(s.stop(), Some(0));
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(10), "stop took {took:?}");
}
