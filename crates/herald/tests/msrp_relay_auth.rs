//! MSRP relay AUTH (RFC 4976 §5.1, §6.3, §9.1) against `herald serve
//! --listen msrp:...`: a first AUTH is challenged with SHA-256 and MD5
//! digest (qop=auth); good credentials get a 200 with a Use-Path URI
//! carrying an unguessable token, an Expires within the relay's bounds and an
//! Authentication-Info; a wrong password is challenged again and, repeated,
//! refused with 403 and the connection closed; an Expires out of bounds is
//! 423 with Min-Expires / Max-Expires; a SEND without a token is 403.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::msrp::{MsrpConn, relay_with_users};

#[test]
fn first_auth_is_challenged_with_sha256_and_md5() {
    let s = relay_with_users();
    let mut c = MsrpConn::connect(s.msrp.unwrap());
    let auth = c.auth_request(None, None);
    c.send(&auth);
    let r = c.recv().unwrap();
    assert_eq!(r.status(), Some(401));
    assert_eq!(r.transaction_id(), auth.transaction_id());
    // RFC 4975 §7.2 / RFC 4976 §5.1: a non-SEND response goes back along the
    // whole From-Path, from the relay's URI.
    assert_eq!(r.header("To-Path"), Some(c.me.as_str()));
    assert_eq!(r.header("From-Path"), Some(c.relay.as_str()));
    let challenges: Vec<&str> = r.header_all("WWW-Authenticate").collect();
    assert_eq!(challenges.len(), 2, "{challenges:?}");
    assert!(
        challenges[0].contains("algorithm=SHA-256"),
        "{challenges:?}"
    );
    assert!(challenges[1].contains("algorithm=MD5"), "{challenges:?}");
    for ch in &challenges {
        assert!(ch.starts_with("Digest "), "{ch}");
        // RFC 4976 §9.1: qop in every challenge, never auth-int.
        assert!(ch.contains("qop=\"auth\""), "{ch}");
        assert!(ch.contains("realm=\"example.test\""), "{ch}");
    }
}

fn info_params(info: &str) -> Vec<String> {
    info.split(',')
        .filter_map(|p| p.trim().split_once('=').map(|(n, _)| n.to_owned()))
        .collect()
}

#[test]
fn good_credentials_get_use_path_expires_and_authentication_info() {
    let s = relay_with_users();
    let relay = s.msrp.unwrap();
    for algorithm in ["SHA-256", "MD5"] {
        let mut c = MsrpConn::connect(relay);
        c.send(&c.auth_request(None, None));
        let challenge = c.recv().unwrap();
        let offer = challenge
            .header_all("WWW-Authenticate")
            .find(|v| v.contains(&format!("algorithm={algorithm}")))
            .unwrap()
            .to_owned();
        let a = c.answer_with(&offer, "alice", "secret");
        c.send(&c.auth_request(Some(&a), None));
        let ok = c.recv().unwrap();
        assert_eq!(ok.status(), Some(200), "{algorithm}: {ok:?}");
        let use_path = ok.use_path().unwrap().unwrap();
        assert_eq!(use_path.len(), 1);
        let u = &use_path[0];
        assert_eq!(u.ip(), Some(relay.ip()));
        assert_eq!(
            u.port(),
            Some(relay.port()),
            "explicit port (RFC 4976 §4.2)"
        );
        assert_eq!(u.transport(), "tcp");
        // RFC 4976 §6.3: at least 64 bits of random material.
        let token = u.session_id().unwrap();
        assert!(
            token.len() >= 16 && token.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{token}"
        );
        let expires = ok.expires().unwrap().unwrap();
        assert!((60..=3600).contains(&expires), "{expires}");
        // RFC 4976 §9.1: rspauth, cnonce, nc and qop.
        let info = ok.authentication_info().unwrap();
        let names = info_params(info);
        for p in ["rspauth", "cnonce", "nc", "qop"] {
            assert!(names.iter().any(|n| n == p), "{p} in {info}");
        }
    }
    // Two sessions never share a token.
    let mut c1 = MsrpConn::connect(relay);
    let mut c2 = MsrpConn::connect(relay);
    assert_ne!(
        c1.auth_ok("alice", "secret").session_id(),
        c2.auth_ok("bob", "secret").session_id()
    );
}

#[test]
fn wrong_password_is_challenged_again_then_refused() {
    let s = relay_with_users();
    let mut c = MsrpConn::connect(s.msrp.unwrap());
    for _ in 0..2 {
        let r = c.auth("alice", "not the password", None);
        assert_eq!(r.status(), Some(401), "{r:?}");
        assert!(r.header("Use-Path").is_none());
        assert!(r.www_authenticate().is_some());
    }
    // An unknown user is answered like a wrong password.
    let r = c.auth("mallory", "secret", None);
    assert_eq!(r.status(), Some(403), "third failure: {r:?}");
    assert!(
        c.closed_by_relay(),
        "RFC 4976 §6.3: the connection is terminated"
    );

    // Another connection is not affected, and the right password works.
    let mut ok = MsrpConn::connect(s.msrp.unwrap());
    ok.auth_ok("alice", "secret");
}

#[test]
fn expires_out_of_bounds_is_423() {
    let s = relay_with_users();
    let mut c = MsrpConn::connect(s.msrp.unwrap());
    let r = c.auth("alice", "secret", Some(10));
    assert_eq!(r.status(), Some(423), "{r:?}");
    assert_eq!(r.min_expires().unwrap(), Some(60));
    let r = c.auth("alice", "secret", Some(100_000));
    assert_eq!(r.status(), Some(423), "{r:?}");
    assert_eq!(r.max_expires().unwrap(), Some(3600));
    // Within the bounds: granted as asked.
    let r = c.auth("alice", "secret", Some(120));
    assert_eq!(r.status(), Some(200), "{r:?}");
    assert_eq!(r.expires().unwrap(), Some(120));
}

#[test]
fn send_without_a_token_is_refused() {
    let s = relay_with_users();
    let relay = s.msrp.unwrap();
    let mut bob = MsrpConn::connect(relay);
    let bob_path = bob.auth_ok("bob", "secret");

    // No AUTH, the relay named without a token: 403.
    let mut m = MsrpConn::connect(relay);
    let to = [m.relay.clone(), bob.me.clone()];
    let f = m.send_frame(&to, b"spam");
    m.send(&f);
    let r = m.recv().unwrap();
    assert_eq!(r.status(), Some(403), "{r:?}");
    assert_eq!(r.transaction_id(), f.transaction_id());
    // A guessed token: 481.
    let guess = m
        .relay
        .with_session_id(Some("AAAAAAAAAAAAAAAAAAAAAA"))
        .unwrap();
    m.send(&m.send_frame(&[guess, bob.me.clone()], b"spam"));
    assert_eq!(m.recv().unwrap().status(), Some(481));
    // Bob's token toward somebody else than bob: 403.
    let elsewhere = m.me.clone();
    m.send(&m.send_frame(&[bob_path, elsewhere, bob.me.clone()], b"spam"));
    assert_eq!(m.recv().unwrap().status(), Some(403));
    // Nothing reached bob.
    bob.stream
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    assert!(bob.recv().is_none());
}
