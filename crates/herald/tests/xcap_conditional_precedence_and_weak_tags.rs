//! RFC 7232 §6: If-Match is evaluated before If-None-Match on every
//! method, GET and HEAD included — a failed If-Match is 412 even where the
//! If-None-Match alone would give 304. If-Match compares strongly (§2.3.2,
//! §3.1): a weak tag `W/"..."` never matches it. If-None-Match compares
//! weakly (§3.2): `W/"<current>"` matches.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod http;

use common::{Server, add_user};
use http::authed;

const DOC: &str = "/xcap-root/resource-lists/users/sip:alice@example.test/index";
const LISTS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\n<list name=\"friends\"><entry uri=\"sip:bob@example.test\"/></list>\n</resource-lists>\n";
const BOB: &str = "/xcap-root/resource-lists/users/sip:alice@example.test/index/~~/resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:bob@example.test%22%5d";

#[test]
fn if_match_first_strong_if_none_match_weak() {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    let a = s.ws.unwrap();
    let alice =
        |m: &str, t: &str, h: &[(&str, &str)], b: &[u8]| authed(a, "alice", "secret", m, t, h, b);
    let ct = ("Content-Type", "application/resource-lists+xml");
    let r = alice("PUT", DOC, &[ct], LISTS.as_bytes());
    assert_eq!(r.status, 201);
    let etag = r.header("ETag").unwrap().to_owned();
    let weak = format!("W/{etag}");
    let stale = "\"0000\"";

    for target in [DOC, BOB] {
        for method in ["GET", "HEAD"] {
            // Precedence: the stale If-Match wins over the matching
            // If-None-Match.
            let r = alice(
                method,
                target,
                &[("If-Match", stale), ("If-None-Match", &etag)],
                b"",
            );
            assert_eq!(r.status, 412, "{method} {target}");
            // Both pass their own test: If-None-Match then gives 304.
            let r = alice(
                method,
                target,
                &[("If-Match", &etag), ("If-None-Match", &etag)],
                b"",
            );
            assert_eq!(r.status, 304, "{method} {target}");
            assert_eq!(r.header("ETag"), Some(etag.as_str()));
            // Strong comparison for If-Match.
            let r = alice(method, target, &[("If-Match", &weak)], b"");
            assert_eq!(
                r.status, 412,
                "{method} {target}: W/ never matches If-Match"
            );
            let r = alice(method, target, &[("If-Match", &etag)], b"");
            assert_eq!(r.status, 200, "{method} {target}");
            // Weak comparison for If-None-Match.
            let r = alice(method, target, &[("If-None-Match", &weak)], b"");
            assert_eq!(r.status, 304, "{method} {target}: W/ matches If-None-Match");
            // A list with the current tag among others.
            let list = format!("{stale}, {etag}");
            assert_eq!(
                alice(method, target, &[("If-Match", &list)], b"").status,
                200
            );
        }
    }

    // Writes: a weak If-Match is refused and changes nothing; the strong
    // tag goes through.
    let r = alice("PUT", DOC, &[ct, ("If-Match", &weak)], LISTS.as_bytes());
    assert_eq!(r.status, 412);
    let r = alice("DELETE", BOB, &[("If-Match", &weak)], b"");
    assert_eq!(r.status, 412);
    assert_eq!(
        alice("GET", BOB, &[], b"").status,
        200,
        "bob is still there"
    );
    let r = alice("PUT", DOC, &[ct, ("If-Match", &etag)], LISTS.as_bytes());
    assert_eq!(r.status, 200);
    // A weak If-None-Match on a write matches the current version: 412.
    let r = alice("DELETE", BOB, &[("If-None-Match", &weak)], b"");
    assert_eq!(r.status, 412);
    let r = alice(
        "DELETE",
        BOB,
        &[("If-Match", &etag), ("If-None-Match", stale)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
}
