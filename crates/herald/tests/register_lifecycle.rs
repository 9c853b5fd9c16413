//! The registrar over real sockets (RFC 3261 §10.3): add, refresh, query,
//! per-contact expires, 423 with Min-Expires, `*` removal, and expiry on
//! time; then a REGISTER answered 200 survives `kill -9` of the server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod ua;

use std::time::Duration;

use common::Server;
use sip_msg::HeaderName;
use ua::Ua;

fn contacts(m: &sip_msg::SipMessage) -> Vec<(String, u32)> {
    m.contacts()
        .map(|c| {
            let c = c.unwrap();
            (
                c.addr().unwrap().uri.as_str().to_owned(),
                c.expires().unwrap(),
            )
        })
        .collect()
}

#[test]
fn add_refresh_query_remove_and_423() {
    let s = Server::start(&["--auth", "off"]);
    let ua = Ua::new(s.udp.unwrap());
    let a = format!("sip:dave@{}", ua.addr());
    let b = "sip:dave@127.0.0.1:5999;transport=tcp".to_owned();
    let mut cseq = 1;
    let r = ua.register(
        "dave",
        "",
        "l1",
        &mut cseq,
        Some(&format!("<{a}>;expires=300, <{b}>;q=0.5")),
        "",
    );
    assert_eq!(r.status(), Some(200), "{r}");
    let mut got = contacts(&r);
    got.sort();
    assert_eq!(got.len(), 2, "{r}");
    assert!(got.iter().any(|(u, e)| *u == a && *e <= 300 && *e >= 299));
    assert!(got.iter().any(|(u, e)| *u == b && *e >= 3599));
    assert!(r.header(HeaderName::Date).is_some(), "§10.3 step 8: Date");
    // Query from another Call-ID: the same two.
    let q = ua.register("dave", "", "l2", &mut 1, None, "");
    assert_eq!(contacts(&q).len(), 2);
    // Too brief: 423 with Min-Expires.
    let t = ua.register(
        "dave",
        "",
        "l1",
        &mut cseq,
        Some(&format!("<{a}>;expires=5")),
        "",
    );
    assert_eq!(t.status(), Some(423));
    assert_eq!(t.header(HeaderName::MinExpires), Some("60"));
    // Remove one.
    let r = ua.register(
        "dave",
        "",
        "l1",
        &mut cseq,
        Some(&format!("<{a}>;expires=0")),
        "",
    );
    assert_eq!(contacts(&r).len(), 1);
    // Out of order CSeq with the same Call-ID for an existing binding:
    // refused, nothing changes.
    let old = ua.register(
        "dave",
        "",
        "l1",
        &mut 1,
        Some(&format!("<{b}>;expires=60")),
        "",
    );
    assert_eq!(old.status(), Some(500), "{old}");
    let q = ua.register("dave", "", "l3", &mut 1, None, "");
    assert!(contacts(&q)[0].1 > 3000, "unchanged: {q}");
    // `*` with Expires: 0 removes everything.
    let r = ua.register("dave", "", "l9", &mut 1, Some("*"), "Expires: 0\r\n");
    assert_eq!(r.status(), Some(200));
    assert!(contacts(&r).is_empty(), "{r}");
    // `*` without Expires: 0 is a 400 that says why.
    let r = ua.register("dave", "", "l9", &mut 5, Some("*"), "");
    assert_eq!(r.status(), Some(400));
    assert!(r.reason().unwrap().contains("Expires"), "{r}");
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn bindings_expire_on_time() {
    let dir = std::env::temp_dir().join(format!("herald-exp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("h.toml");
    std::fs::write(&cfg, "[registrar]\nmin_expires = 1\n").unwrap();
    let s = Server::start(&["--auth", "off", "--config", cfg.to_str().unwrap()]);
    let ua = Ua::new(s.udp.unwrap());
    let c = format!("<sip:erin@{}>;expires=2", ua.addr());
    let r = ua.register("erin", "", "e1", &mut 1, Some(&c), "");
    assert_eq!(contacts(&r).len(), 1);
    // Routing finds it now...
    let bob = Ua::new(s.udp.unwrap());
    bob.send(&bob.request_raw(
        "MESSAGE",
        "bob",
        "sip:erin@example.test",
        "m1",
        1,
        "Content-Type: text/plain\r\n",
        "hi",
    ));
    let m = ua
        .request("MESSAGE", Duration::from_secs(5))
        .expect("MESSAGE relayed");
    ua.answer(&m, 200, "OK", "");
    assert_eq!(bob.final_for("m1").status(), Some(200));
    std::thread::sleep(Duration::from_millis(3000));
    // ...and not after it expired: a body-less MESSAGE (never stored for
    // later) gets 480.
    let q = ua.register("erin", "", "e2", &mut 1, None, "");
    assert!(contacts(&q).is_empty(), "{q}");
    bob.send(&bob.request_raw("MESSAGE", "bob", "sip:erin@example.test", "m2", 1, "", ""));
    assert_eq!(bob.final_for("m2").status(), Some(480));
    assert_eq!(s.stop(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_200_survives_kill_9() {
    let s = Server::start(&["--auth", "off"]);
    let ua = Ua::new(s.udp.unwrap());
    let c = format!("<sip:fred@{}>", ua.addr());
    let r = ua.register("fred", "", "k1", &mut 1, Some(&c), "");
    assert_eq!(r.status(), Some(200));
    let data_dir = s.data_dir.clone();
    let pid = s.pid();
    // SIGKILL: no shutdown path runs.
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let mut s = s;
    let _ = s.child.wait();
    // The restarted server owns the data dir now (Drop would remove it).
    s.data_dir = std::path::PathBuf::new();
    let s2 = Server::start_in(&data_dir, &["--auth", "off"]);
    let ua2 = Ua::new(s2.udp.unwrap());
    let q = ua2.register("fred", "", "k2", &mut 1, None, "");
    assert_eq!(contacts(&q).len(), 1, "binding lost across kill -9: {q}");
    assert_eq!(contacts(&q)[0].0, format!("sip:fred@{}", ua.addr()));
    // And the restarted server routes to it.
    ua2.send(&ua2.request_raw(
        "MESSAGE",
        "gina",
        "sip:fred@example.test",
        "k3",
        1,
        "Content-Type: text/plain\r\n",
        "x",
    ));
    let m = ua
        .request("MESSAGE", Duration::from_secs(5))
        .expect("routed after restart");
    ua.answer(&m, 200, "OK", "");
    assert_eq!(ua2.final_for("k3").status(), Some(200));
    assert_eq!(s2.stop(), Some(0));
}
