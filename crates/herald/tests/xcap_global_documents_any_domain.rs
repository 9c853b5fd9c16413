//! Global documents (xcap-caps, RFC 4825 §12) on a server with two
//! domains: a user of either domain reads them. The 401 offers a digest
//! challenge set per served domain (each its own realm, the one the
//! request's Host names first); a client answering any of them is checked
//! in that realm. curl, which answers only the first Digest challenge, gets
//! in for either domain when its Host names it. A user's own documents are
//! still challenged in her domain alone.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod http;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::{Server, add_user, run_bounded};
use http::raw;

const CAPS: &str = "/xcap-root/xcap-caps/global/index";

/// The realm of a challenge.
fn realm(challenge: &str) -> String {
    let ch = sip_msg::auth::Challenge::parse(challenge).unwrap();
    ch.realm().unwrap().into_owned()
}

/// The Digest challenges of a 401, in order.
fn challenges(r: &http::Resp) -> Vec<String> {
    r.headers
        .iter()
        .filter(|(n, v)| n.eq_ignore_ascii_case("WWW-Authenticate") && v.starts_with("Digest"))
        .map(|(_, v)| v.clone())
        .collect()
}

/// GET `target` as `user`, answering the first challenge for `in_realm`.
fn get_in_realm(a: SocketAddr, target: &str, user: &str, in_realm: &str) -> http::Resp {
    let r = raw(a, "GET", target, &[], b"");
    assert_eq!(r.status, 401);
    let challenge = challenges(&r)
        .into_iter()
        .find(|c| realm(c) == in_realm)
        .unwrap_or_else(|| panic!("a challenge for realm {in_realm}: {:?}", r.headers));
    let ch = sip_msg::auth::Challenge::parse(&challenge).unwrap();
    let auth = sip_auth::authorize(
        &ch,
        &sip_auth::ClientCredentials {
            username: user,
            password: "pw",
        },
        "GET",
        target,
        b"",
        "0a4f113b",
        1,
    )
    .unwrap();
    raw(a, "GET", target, &[("Authorization", &auth)], b"")
}

fn curl(args: &[&str]) -> (String, String) {
    let run = run_bounded(
        Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}"])
            .args(args),
        Duration::from_secs(20),
        "curl (Debian package curl)",
    );
    assert!(!run.timed_out);
    let (body, code) = run.stdout.rsplit_once('\n').unwrap();
    (code.to_owned(), body.to_owned())
}

#[test]
fn users_of_every_domain_read_global_documents() {
    // `Server::start` serves example.test; a second --domain adds other.test.
    let s = Server::start(&["--domain", "other.test"]);
    add_user(&s.data_dir, "alice@example.test", "pw");
    add_user(&s.data_dir, "carol@other.test", "pw");
    let a = s.ws.unwrap();

    // One challenge set per served domain.
    let r = raw(a, "GET", CAPS, &[], b"");
    assert_eq!(r.status, 401);
    let realms: Vec<String> = challenges(&r).iter().map(|c| realm(c)).collect();
    assert!(realms.contains(&"example.test".to_owned()), "{realms:?}");
    assert!(realms.contains(&"other.test".to_owned()), "{realms:?}");

    // Each user answers her own realm's challenge.
    let r = get_in_realm(a, CAPS, "carol", "other.test");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("resource-lists"), "{}", r.text());
    let r = get_in_realm(a, CAPS, "alice", "example.test");
    assert_eq!(r.status, 200, "{}", r.text());
    // Not someone else's realm.
    let r = get_in_realm(a, CAPS, "carol", "example.test");
    assert_eq!(r.status, 401);

    // curl answers the first Digest challenge: the Host decides which.
    let url = format!("http://{a}{CAPS}");
    let (code, body) = curl(&[
        "--digest",
        "-u",
        "carol:pw",
        "-H",
        "Host: xcap.other.test",
        &url,
    ]);
    assert_eq!(code, "200", "{body}");
    let (code, _) = curl(&[
        "--digest",
        "-u",
        "alice:pw",
        "-H",
        "Host: example.test",
        &url,
    ]);
    assert_eq!(code, "200");
    let (code, _) = curl(&[
        "--digest",
        "-u",
        "carol:wrong",
        "-H",
        "Host: other.test",
        &url,
    ]);
    assert_eq!(code, "401");

    // A user's own document: her domain's realm only.
    let mine = "/xcap-root/pres-rules/users/sip:carol@other.test/index";
    let r = raw(a, "GET", mine, &[], b"");
    assert_eq!(r.status, 401);
    let realms: Vec<String> = challenges(&r).iter().map(|c| realm(c)).collect();
    assert!(realms.iter().all(|r| r == "other.test"), "{realms:?}");
    assert_eq!(get_in_realm(a, mine, "carol", "other.test").status, 404);
}
