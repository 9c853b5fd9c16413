//! Session-mode chat rooms (RFC 7701) against the real `herald` binary: a
//! page-mode room `sip:lobby@chat.example.test` also takes INVITEs with an
//! MSRP offer (RFC 4975 §8) and is their conference focus. Participants are
//! raw UDP SIP user agents with the blocking MSRP test client: each INVITEs
//! the room, connects to the focus's path on the server's relay and sends;
//! every message reaches the others wrapped in CPIM (RFC 3862) From its
//! authenticated sender, a CPIM To naming one participant reaches only that
//! one, join and leave notices come From the room, BYE ends a participant's
//! session, and page-mode members share the same room.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::Server;
use common::msrp::{MsrpConn, relay_with_users};
use msrp::{ByteRange, Chunker, Frame, MessageId, Method, MsrpUri};
use sip_msg::{HeaderName, SipMessage};
use ua::Ua;

const LOBBY: &str = "sip:lobby@chat.example.test";

/// An SDP offer for an MSRP session whose path is `me` (RFC 4975 §8.2),
/// taking CPIM with anything inside (RFC 7701 §5.2).
fn offer(me: &MsrpUri) -> String {
    format!(
        "v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=message {} TCP/MSRP *\r\na=accept-types:message/cpim text/plain\r\n\
a=accept-wrapped-types:*\r\na=path:{me}\r\n",
        me.port().unwrap()
    )
}

/// The first final response with this Call-ID and CSeq (`2 INVITE`);
/// retransmissions of earlier finals are skipped.
fn final_for(u: &Ua, call_id: &str, cseq: &str) -> SipMessage {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Some(m) = u.recv(Duration::from_millis(300))
            && m.status().is_some_and(|s| s >= 200)
            && m.call_id().ok() == Some(call_id)
            && m.header(HeaderName::CSeq) == Some(cseq)
        {
            return m;
        }
    }
    panic!("no final response to {cseq} {call_id}");
}

/// An INVITE to the room from `user` with `sdp`, the 407 answered (and
/// ACKed, RFC 3261 §17.1.1.3, so it is not retransmitted): the final
/// response. A failure is ACKed too.
fn invite(u: &Ua, user: &str, call_id: &str, sdp: &str) -> SipMessage {
    let me = u.addr();
    let from = format!("<sip:{user}@example.test>;tag=f-{call_id}");
    let raw = |method: &str, cseq: u32, to: &str, extra: &str, body: &str| {
        let ct = if body.is_empty() {
            String::new()
        } else {
            "Content-Type: application/sdp\r\n".to_owned()
        };
        format!(
            "{method} {LOBBY} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKi{cseq}{call_id};rport\r\n\
From: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
Max-Forwards: 70\r\nContact: <sip:{user}@{me}>\r\n{extra}{ct}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let to = format!("<{LOBBY}>");
    u.send(&raw("INVITE", 1, &to, "", sdp));
    let mut r = final_for(u, call_id, "1 INVITE");
    let mut cseq = 1;
    if r.status() == Some(407) {
        u.send(&raw("ACK", 1, r.header(HeaderName::To).unwrap(), "", ""));
        let auth = ua::authorization(&r, user, "secret", "INVITE", LOBBY, None);
        let extra = format!("Proxy-Authorization: {auth}\r\n");
        u.send(&raw("INVITE", 2, &to, &extra, sdp));
        r = final_for(u, call_id, "2 INVITE");
        cseq = 2;
    }
    if r.status().is_some_and(|s| s >= 300) {
        u.send(&raw("ACK", cseq, r.header(HeaderName::To).unwrap(), "", ""));
    }
    r
}

/// A request inside the dialog the 2xx `ok` set up (ACK, BYE), sent to the
/// focus's Contact.
fn in_dialog(u: &Ua, method: &str, ok: &SipMessage, cseq: u32) {
    let contact = ok.header(HeaderName::Contact).unwrap();
    let target = &contact[contact.find('<').unwrap() + 1..contact.find('>').unwrap()];
    let call_id = ok.call_id().unwrap();
    u.send(&format!(
        "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bK{method}{cseq}{call_id};rport\r\n\
From: {}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n",
        u.addr(),
        ok.header(HeaderName::From).unwrap(),
        ok.header(HeaderName::To).unwrap(),
    ));
}

/// One chat participant: its SIP side, its MSRP connection, what arrived
/// on it that the test has not looked at yet.
struct Participant {
    user: String,
    sip: Ua,
    conn: MsrpConn,
    /// The focus's URI (the answer's a=path).
    focus: MsrpUri,
    ok: SipMessage,
    inbox: VecDeque<Frame>,
}

impl Participant {
    /// INVITEs the room (answering the 407), checks the answer, ACKs, then
    /// connects and binds with an empty SEND (RFC 4975 §5.4: the offerer
    /// connects and speaks first).
    fn join(s: &Server, user: &str) -> Participant {
        let sip = Ua::new(s.udp.unwrap());
        let conn = MsrpConn::connect(s.msrp.unwrap());
        let call_id = format!("chat-{user}");
        let ok = invite(&sip, user, &call_id, &offer(&conn.me));
        assert_eq!(ok.status(), Some(200), "{ok:?}");
        // The answer (RFC 4975 §8, RFC 7701 §5.2): our relay's port on the
        // m-line, CPIM accepted, the focus's URI on our relay as the path.
        let answer = String::from_utf8(ok.body().to_vec()).unwrap();
        let port = s.msrp.unwrap().port();
        assert!(
            answer.contains(&format!("m=message {port} TCP/MSRP *\r\n")),
            "{answer}"
        );
        assert!(answer.contains("a=accept-types:message/cpim"), "{answer}");
        let path = answer
            .lines()
            .find_map(|l| l.strip_prefix("a=path:"))
            .expect("a=path in the answer");
        let focus = MsrpUri::parse(path.trim()).unwrap();
        assert_eq!(focus.port(), Some(port));
        assert_eq!(focus.ip(), Some(s.msrp.unwrap().ip()));
        assert!(focus.session_id().is_some_and(|id| id.len() >= 16));
        assert!(ok.to().unwrap().tag().is_some());
        let contact = ok.header(HeaderName::Contact).unwrap();
        assert!(contact.contains(";isfocus"), "{contact}");
        // The ACK for the 2xx (RFC 3261 §13.2.2.4).
        let n: u32 = ok
            .header(HeaderName::CSeq)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        in_dialog(&sip, "ACK", &ok, n);
        let mut p = Participant {
            user: user.to_owned(),
            sip,
            conn,
            focus,
            ok,
            inbox: VecDeque::new(),
        };
        let mut bind = p.conn.send_frame(std::slice::from_ref(&p.focus), b"");
        bind.clear_body();
        p.request(bind, 200);
        p
    }

    fn aor(&self) -> String {
        format!("sip:{}@example.test", self.user)
    }

    /// Sends `f` and waits for its response, keeping whatever else arrives.
    fn request(&mut self, f: Frame, want: u16) {
        let tid = f.transaction_id().clone();
        self.conn.send(&f);
        loop {
            let got = self.conn.recv().expect("the response");
            if !got.is_request() && got.transaction_id() == &tid {
                assert_eq!(got.status(), Some(want), "{got:?}");
                return;
            }
            self.inbox.push_back(got);
        }
    }

    /// A whole message of `content_type` to the room (one SEND).
    fn say_as(&mut self, content_type: &str, body: &[u8]) -> Frame {
        let len = body.len() as u64;
        let f = Frame::builder(Method::Send)
            .to_path(std::slice::from_ref(&self.focus))
            .from_path(std::slice::from_ref(&self.conn.me))
            .message_id(&MessageId::random())
            .byte_range(ByteRange::new(1, Some(len), Some(len)))
            .body(content_type, Bytes::copy_from_slice(body))
            .build()
            .unwrap();
        self.request(f.clone(), 200);
        f
    }

    fn say(&mut self, text: &str) {
        self.say_as("text/plain;charset=UTF-8", text.as_bytes());
    }

    /// The next request from the focus.
    fn next(&mut self) -> Frame {
        if let Some(f) = self.inbox.pop_front() {
            return f;
        }
        self.conn.recv().expect("a request from the focus")
    }

    /// The next SEND: its CPIM From, To, inner Content-Type and content.
    fn hear(&mut self) -> Heard {
        let f = self.next();
        assert_eq!(f.method(), Some(&Method::Send), "{f:?}");
        assert_eq!(f.content_type(), Some("message/cpim"));
        // RFC 7701 §6.3: the focus wants no reports on its copies.
        assert_eq!(f.header("Failure-Report"), Some("no"));
        assert_eq!(f.header("To-Path"), Some(self.conn.me.as_str()));
        assert_eq!(f.header("From-Path"), Some(self.focus.as_str()));
        let body = f.body().unwrap().clone();
        let c = simple_im::cpim::parse(&body).unwrap();
        assert!(c.datetime().is_some());
        Heard {
            from: c.from().unwrap().to_owned(),
            to: c.to().unwrap().to_owned(),
            content_type: c.content_type().unwrap().to_owned(),
            content: c.content().to_vec(),
        }
    }

    /// The next REPORT's status code.
    fn report(&mut self) -> u16 {
        let f = self.next();
        assert_eq!(f.method(), Some(&Method::Report), "{f:?}");
        f.status_header().unwrap().unwrap().code
    }

    /// Nothing from the focus for a while.
    fn silent(&mut self) {
        assert!(self.inbox.is_empty(), "unexpected: {:?}", self.inbox);
        self.conn
            .stream
            .set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        if let Some(f) = self.conn.recv() {
            panic!("{} got something: {f:?}", self.user);
        }
        self.conn
            .stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Heard {
    from: String,
    to: String,
    content_type: String,
    content: Vec<u8>,
}

fn heard(from: &str, to: &str, content_type: &str, content: &[u8]) -> Heard {
    Heard {
        from: format!("<{from}>"),
        to: format!("<{to}>"),
        content_type: content_type.to_owned(),
        content: content.to_vec(),
    }
}

fn notice(text: &str) -> Heard {
    heard(LOBBY, LOBBY, "text/plain;charset=UTF-8", text.as_bytes())
}

/// A CPIM body as a participant writes it (RFC 7701 §6.1, §6.2).
fn cpim(from: &str, to: &str, content_type: &str, content: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "From: <{from}>\r\nTo: <{to}>\r\nDateTime: 2024-05-06T07:08:09Z\r\n\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(content);
    b
}

#[test]
fn three_participants_chat_through_the_focus() {
    let s = relay_with_users();
    common::add_user(&s.data_dir, "carol@example.test", "secret");

    let mut alice = Participant::join(&s, "alice");
    let mut bob = Participant::join(&s, "bob");
    assert_eq!(
        alice.hear(),
        notice("bob@example.test joined sip:lobby@chat.example.test")
    );
    let mut carol = Participant::join(&s, "carol");
    for p in [&mut alice, &mut bob] {
        assert_eq!(
            p.hear(),
            notice("carol@example.test joined sip:lobby@chat.example.test")
        );
    }

    // Plain text is wrapped in CPIM From its sender, To the room; the
    // content arrives byte for byte.
    let text = "hallo zusammen ✓\r\n\r\n-------x$ not an end-line";
    alice.say(text);
    for p in [&mut bob, &mut carol] {
        assert_eq!(
            p.hear(),
            heard(
                &alice.aor(),
                LOBBY,
                "text/plain;charset=UTF-8",
                text.as_bytes()
            )
        );
    }

    // A participant's own CPIM keeps its content and headers; other types
    // inside are fine (accept-wrapped-types:*).
    let html = b"<p>hi <b>all</b></p>";
    bob.say_as("message/cpim", &cpim(&bob.aor(), LOBBY, "text/html", html));
    for p in [&mut alice, &mut carol] {
        assert_eq!(p.hear(), heard(&bob.aor(), LOBBY, "text/html", html));
    }

    // RFC 7701 §6.3: a CPIM From that is not the sender is refused (403,
    // in a failure REPORT: the relay took the chunk), and goes nowhere.
    bob.say_as(
        "message/cpim",
        &cpim(&carol.aor(), LOBBY, "text/plain", b"I am carol"),
    );
    assert_eq!(bob.report(), 403);

    // RFC 7701 §6.2: a private message (CPIM To one participant) reaches
    // only that participant.
    carol.say_as(
        "message/cpim",
        &cpim(&carol.aor(), &alice.aor(), "text/plain", b"psst, alice"),
    );
    assert_eq!(
        alice.hear(),
        heard(&carol.aor(), &alice.aor(), "text/plain", b"psst, alice")
    );
    // ... and one to nobody in the room is 404.
    carol.say_as(
        "message/cpim",
        &cpim(&carol.aor(), "sip:mallory@example.test", "text/plain", b"?"),
    );
    assert_eq!(carol.report(), 404);
    bob.silent();

    // A message in chunks is reassembled and relayed whole.
    let big: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut chunks = Chunker::new(
        std::slice::from_ref(&alice.focus),
        std::slice::from_ref(&alice.conn.me),
        &MessageId::random(),
        "text/plain",
        Bytes::from(big.clone()),
        2000,
    )
    .unwrap();
    while let Some(c) = chunks.next_chunk() {
        alice.request(c, 200);
    }
    for p in [&mut bob, &mut carol] {
        assert_eq!(p.hear(), heard(&alice.aor(), LOBBY, "text/plain", &big));
    }

    // BYE: bob leaves; the others hear it, his MSRP connection is closed
    // and no more copies go to him.
    in_dialog(&bob.sip, "BYE", &bob.ok, 10);
    assert_eq!(
        final_for(&bob.sip, bob.ok.call_id().unwrap(), "10 BYE").status(),
        Some(200)
    );
    for p in [&mut alice, &mut carol] {
        assert_eq!(
            p.hear(),
            notice("bob@example.test left sip:lobby@chat.example.test")
        );
    }
    assert!(bob.conn.closed_by_relay(), "bob's connection ends");
    alice.say("bye bob");
    assert_eq!(
        carol.hear(),
        heard(&alice.aor(), LOBBY, "text/plain;charset=UTF-8", b"bye bob")
    );
    alice.silent();

    // SIGTERM with participants connected: a clean stop.
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn page_mode_members_and_msrp_participants_share_the_room() {
    let s = relay_with_users();
    // dave is in the room by MESSAGE (page mode).
    let dave = Ua::new(s.udp.unwrap());
    dave.register_new_user(&s.data_dir, "dave");
    let page = |body: &str, call_id: &str| {
        let mut cseq = 1;
        dave.request_authed(
            "MESSAGE",
            "dave",
            "secret",
            LOBBY,
            call_id,
            &mut cseq,
            "Content-Type: text/plain;charset=UTF-8\r\n",
            body,
        )
    };
    let page_hear = || {
        let m = dave
            .request("MESSAGE", Duration::from_secs(10))
            .expect("a room MESSAGE for dave");
        dave.answer(&m, 200, "OK", "");
        let from = m.from().unwrap();
        (
            from.addr.display_name().unwrap().into_owned(),
            from.addr.uri.to_string(),
            String::from_utf8(m.body().to_vec()).unwrap(),
        )
    };
    assert_eq!(page("anyone here?", "p1").status(), Some(200));

    // alice joins over MSRP: dave hears it From the room.
    let mut alice = Participant::join(&s, "alice");
    let (name, uri, text) = page_hear();
    assert_eq!((name.as_str(), uri.as_str()), ("room", LOBBY));
    assert_eq!(
        text,
        "alice@example.test joined sip:lobby@chat.example.test"
    );

    // What alice says over MSRP reaches dave as a room MESSAGE naming her.
    alice.say("from MSRP ✓");
    assert_eq!(
        page_hear(),
        (
            "alice@example.test".to_owned(),
            LOBBY.to_owned(),
            "from MSRP ✓".to_owned()
        )
    );

    // What dave says by MESSAGE reaches alice in CPIM From dave.
    assert_eq!(page("from SIP", "p2").status(), Some(200));
    assert_eq!(
        alice.hear(),
        heard(
            "sip:dave@example.test",
            LOBBY,
            "text/plain;charset=UTF-8",
            b"from SIP"
        )
    );

    // bob joins too: both hear it.
    let mut bob = Participant::join(&s, "bob");
    assert_eq!(
        alice.hear(),
        notice("bob@example.test joined sip:lobby@chat.example.test")
    );
    assert!(page_hear().2.contains("bob@example.test joined"));

    // /members lists the MSRP participants with the page-mode members.
    assert_eq!(page("/members", "p3").status(), Some(200));
    let (_, _, list) = page_hear();
    for who in ["alice", "bob", "dave"] {
        assert!(list.contains(&format!("sip:{who}@example.test")), "{list}");
    }
    alice.silent();
    bob.silent();
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn invites_the_focus_cannot_take_are_refused() {
    let s = relay_with_users();
    let u = Ua::new(s.udp.unwrap());
    let try_invite = |call_id: &str, sdp: &str| invite(&u, "alice", call_id, sdp);
    // No MSRP stream: 488 (RFC 4975 §8.6, RFC 3264).
    let audio = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 0\r\n";
    let r = try_invite("bad-1", audio);
    assert_eq!(r.status(), Some(488), "{r:?}");
    // A participant that cannot take CPIM (RFC 7701 §5.2): 488.
    let me = MsrpUri::parse("msrp://127.0.0.1:7000/abc;tcp").unwrap();
    let plain = offer(&me).replace("message/cpim text/plain", "text/plain");
    assert_eq!(try_invite("bad-2", &plain).status(), Some(488));
    // Rooms now also take INVITE.
    u.send(&u.request_raw("OPTIONS", "alice", LOBBY, "bad-3", 1, "", ""));
    let r = u.final_for("bad-3");
    assert_eq!(r.status(), Some(405));
    assert_eq!(r.header(HeaderName::Allow), Some("INVITE, MESSAGE"));
    drop(s);

    // Without an MSRP relay there is no focus: 488 with the reason.
    let s = Server::start(&[]);
    common::add_user(&s.data_dir, "alice@example.test", "secret");
    let u = Ua::new(s.udp.unwrap());
    let r = invite(&u, "alice", "norelay-1", &offer(&me));
    assert_eq!(r.status(), Some(488));
    assert!(r.reason().unwrap().contains("MSRP relay"), "{r:?}");
}
