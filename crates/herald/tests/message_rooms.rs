//! Page-mode chat rooms (`sip:NAME@chat.example.test`) against the real
//! `herald` binary over UDP: joining by sending, every message relayed to
//! the other members From the room with the sender named, `/leave`,
//! `/members`, membership kept across a restart, and rooms only for local
//! users.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::time::Duration;

use common::Server;
use sip_msg::{HeaderName, SipMessage};
use ua::Ua;

const LOBBY: &str = "sip:lobby@chat.example.test";

fn member(s: &Server, user: &str) -> Ua {
    let u = Ua::new(s.udp.unwrap());
    u.register_new_user(&s.data_dir, user);
    u
}

fn say(u: &Ua, user: &str, call_id: &str, body: &str) -> SipMessage {
    let mut cseq = 1;
    u.request_authed(
        "MESSAGE",
        user,
        "secret",
        LOBBY,
        call_id,
        &mut cseq,
        "Content-Type: text/plain;charset=UTF-8\r\n",
        body,
    )
}

/// The next MESSAGE, answered 200: (display name of From, From URI, body).
fn hear(u: &Ua) -> (String, String, String) {
    let m = u
        .request("MESSAGE", Duration::from_secs(10))
        .expect("a room message");
    u.answer(&m, 200, "OK", "");
    let from = m.from().unwrap();
    (
        from.addr
            .display_name()
            .map(|d| d.into_owned())
            .unwrap_or_default(),
        from.addr.uri.to_string(),
        String::from_utf8(m.body().to_vec()).unwrap(),
    )
}

fn silent(u: &Ua) {
    if let Some(m) = u.request("MESSAGE", Duration::from_millis(1500)) {
        panic!("unexpected message: {m:?}");
    }
}

#[test]
fn a_room_relays_to_every_other_member_and_remembers_them() {
    let mut s = Server::start(&[]);
    let alice = member(&s, "alice");
    let bob = member(&s, "bob");
    let carol = member(&s, "carol");

    assert_eq!(
        say(&alice, "alice", "r1", "hallo zusammen ✓").status(),
        Some(200)
    );
    // Nobody else yet.
    silent(&bob);
    assert_eq!(say(&bob, "bob", "r2", "hi alice").status(), Some(200));
    // alice hears that bob joined, then bob, named, From the room.
    let (name, uri, text) = hear(&alice);
    assert_eq!((name.as_str(), uri.as_str()), ("room", LOBBY));
    assert!(text.contains("bob@example.test joined"), "{text}");
    assert_eq!(
        hear(&alice),
        (
            "bob@example.test".to_owned(),
            LOBBY.to_owned(),
            "hi alice".to_owned()
        )
    );
    silent(&bob);
    assert_eq!(say(&carol, "carol", "r3", "三 here").status(), Some(200));
    for u in [&alice, &bob] {
        let (_, _, t) = hear(u);
        assert!(t.contains("carol@example.test joined"), "{t}");
        assert_eq!(hear(u).2, "三 here");
    }
    // /members answers the asker only.
    assert_eq!(say(&alice, "alice", "r4", "/members").status(), Some(200));
    let (_, _, list) = hear(&alice);
    for who in ["alice", "bob", "carol"] {
        assert!(list.contains(&format!("sip:{who}@example.test")), "{list}");
    }
    silent(&bob);
    // bob leaves: the others are told, and he hears no more.
    assert_eq!(say(&bob, "bob", "r5", "/leave").status(), Some(200));
    for u in [&alice, &carol] {
        assert!(hear(u).2.contains("bob@example.test left"));
    }
    // Membership survives a restart.
    assert_eq!(s.stop_keeping_data(), Some(0));
    let s2 = Server::start_in(&s.data_dir, &[]);
    for (u, user) in [(&alice, "alice"), (&bob, "bob"), (&carol, "carol")] {
        let contact = format!("<sip:{user}@{}>", u.addr());
        let mut cseq = 10;
        let u2 = u.toward(s2.udp.unwrap());
        let r = u2.register(
            user,
            "secret",
            &format!("reg2-{user}"),
            &mut cseq,
            Some(&contact),
            "",
        );
        assert_eq!(r.status(), Some(200));
    }
    let alice2 = alice.toward(s2.udp.unwrap());
    assert_eq!(
        say(&alice2, "alice", "r6", "still here?").status(),
        Some(200)
    );
    assert_eq!(hear(&carol).2, "still here?");
    silent(&bob);
}

#[test]
fn rooms_are_for_local_users_and_take_only_message() {
    let s = Server::start(&["--auth", "off"]);
    let alice = member(&s, "alice");
    // A stranger's From: refused.
    let raw = alice
        .request_raw(
            "MESSAGE",
            "mallory",
            LOBBY,
            "x1",
            1,
            "Content-Type: text/plain\r\n",
            "hi",
        )
        .replace("@example.test>;tag", "@elsewhere.test>;tag");
    alice.send(&raw);
    assert_eq!(alice.final_for("x1").status(), Some(403));
    // Not a MESSAGE: 405 with Allow.
    alice.send(&alice.request_raw("OPTIONS", "alice", LOBBY, "x2", 1, "", ""));
    let r = alice.final_for("x2");
    assert_eq!(r.status(), Some(405));
    assert_eq!(r.header(HeaderName::Allow), Some("MESSAGE"));
}

#[test]
fn a_silent_member_leaves_the_room() {
    let cfg = common::TempFile::new(
        "rooms.toml",
        "[im]\nroom_idle_secs = 3\nsweep_interval_secs = 1\n",
    );
    let s = Server::start(&["--config", cfg.0.to_str().unwrap()]);
    let alice = member(&s, "alice");
    let bob = member(&s, "bob");
    assert_eq!(say(&alice, "alice", "i1", "anyone?").status(), Some(200));
    // Both silent for longer than the idle time: the sweep drops alice.
    std::thread::sleep(Duration::from_millis(5000));
    // bob joins a room with nobody left in it: alice hears nothing.
    assert_eq!(say(&bob, "bob", "i2", "hello?").status(), Some(200));
    silent(&alice);
    // alice is back by speaking; bob hears her join.
    assert_eq!(say(&alice, "alice", "i3", "back").status(), Some(200));
    assert!(hear(&bob).2.contains("alice@example.test joined"));
    assert_eq!(hear(&bob).2, "back");
}

/// `/members` only reads (the asker does not silently join), and `/leave`
/// from someone who is not a member announces nothing.
#[test]
fn asking_who_is_there_does_not_join_and_a_strangers_leave_is_silent() {
    let s = Server::start(&[]);
    let alice = member(&s, "alice");
    let dave = member(&s, "dave");
    assert_eq!(say(&alice, "alice", "w1", "hi").status(), Some(200));
    assert_eq!(say(&dave, "dave", "w2", "/members").status(), Some(200));
    let (_, _, list) = hear(&dave);
    assert!(list.contains("sip:alice@example.test"), "{list}");
    assert!(!list.contains("sip:dave@example.test"), "{list}");
    assert_eq!(say(&dave, "dave", "w3", "/leave").status(), Some(200));
    silent(&alice);
    // dave is not a member: alice's next message does not reach him.
    assert_eq!(say(&alice, "alice", "w4", "anyone?").status(), Some(200));
    silent(&dave);
}

/// A CPIM body relayed by the room names the authenticated sender in its
/// From, whatever the client wrote; the content stays byte for byte.
#[test]
fn a_cpim_from_is_the_authenticated_sender() {
    let s = Server::start(&[]);
    let alice = member(&s, "alice");
    let bob = member(&s, "bob");
    assert_eq!(say(&bob, "bob", "c1", "here").status(), Some(200));
    let forged = "From: Mallory <im:mallory@example.test>\r\nTo: <sip:lobby@chat.example.test>\r\n\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\nich bin nicht Mallory ✓";
    let mut cseq = 1;
    let r = alice.request_authed(
        "MESSAGE",
        "alice",
        "secret",
        LOBBY,
        "c2",
        &mut cseq,
        "Content-Type: message/cpim\r\n",
        forged,
    );
    assert_eq!(r.status(), Some(200));
    // bob hears alice join, then her message.
    assert!(hear(&bob).2.contains("alice@example.test joined"));
    let (_, _, body) = hear(&bob);
    let c = simple_im::cpim::parse(body.as_bytes()).unwrap();
    assert_eq!(c.from(), Some("<sip:alice@example.test>"), "{body}");
    assert_eq!(c.content(), "ich bin nicht Mallory ✓".as_bytes());
    assert!(!body.contains("mallory"), "{body}");
}
