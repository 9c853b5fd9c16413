//! `If-Match: *` and `If-None-Match: *` on XCAP resources are judged on the
//! document, whatever node the URI selects (RFC 4825 §8.2.6: the server
//! instantiates the document's etag for the resource before judging the
//! conditions, so "a conditional PUT of an element or attribute with an
//! If-None-Match: * will always fail" while the document exists). A listed
//! ETag names the document's version, which every resource in it shares
//! (§7.11).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod http;

use common::{Server, add_user};
use http::authed;

const DOC: &str = "/xcap-root/resource-lists/users/sip:alice@example.test/index";
const LISTS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\n<list name=\"friends\"><entry uri=\"sip:bob@example.test\"/></list>\n</resource-lists>\n";

fn entry(user: &str) -> String {
    format!(
        "{DOC}/~~/resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:{user}@example.test%22%5d"
    )
}

#[test]
fn star_preconditions_are_judged_on_the_document() {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    let a = s.ws.unwrap();
    let alice =
        |m: &str, t: &str, h: &[(&str, &str)], b: &[u8]| authed(a, "alice", "secret", m, t, h, b);
    let el = |extra: (&'static str, &'static str)| {
        vec![("Content-Type", "application/xcap-el+xml"), extra]
    };

    // The document: If-None-Match: * creates it once, then refuses.
    let put_doc = |h: (&str, &str)| {
        alice(
            "PUT",
            DOC,
            &[("Content-Type", "application/resource-lists+xml"), h],
            LISTS.as_bytes(),
        )
    };
    assert_eq!(put_doc(("If-None-Match", "*")).status, 201);
    assert_eq!(put_doc(("If-None-Match", "*")).status, 412);
    let doc_etag = alice("GET", DOC, &[], b"")
        .header("ETag")
        .unwrap()
        .to_owned();

    // A new element under the existing document: If-None-Match: * fails
    // (the document exists), If-Match: * holds (it exists).
    let carol = entry("carol");
    let body = b"<entry uri=\"sip:carol@example.test\"/>";
    let r = alice("PUT", &carol, &el(("If-None-Match", "*")), body);
    assert_eq!(r.status, 412, "§8.2.6: always fails: {}", r.text());
    assert_eq!(
        alice("GET", &carol, &[], b"").status,
        404,
        "nothing created"
    );
    let r = alice("PUT", &carol, &el(("If-Match", "*")), body);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = alice("PUT", &carol, &el(("If-Match", "*")), body);
    assert_eq!(r.status, 200, "{}", r.text());
    let dave = entry("dave");
    // A listed tag is the document's: an insertion conditioned on the
    // current version goes through (RFC 4825 §8.2.6), a stale one does not.
    let etag = alice("GET", DOC, &[], b"")
        .header("ETag")
        .unwrap()
        .to_owned();
    assert_ne!(etag, doc_etag);
    let r = alice(
        "PUT",
        &dave,
        &[
            ("Content-Type", "application/xcap-el+xml"),
            ("If-Match", etag.as_str()),
        ],
        b"<entry uri=\"sip:dave@example.test\"/>",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = alice(
        "PUT",
        &entry("erin"),
        &[
            ("Content-Type", "application/xcap-el+xml"),
            ("If-Match", doc_etag.as_str()),
        ],
        b"<entry uri=\"sip:erin@example.test\"/>",
    );
    assert_eq!(r.status, 412, "stale document version");

    // Attributes likewise.
    let attr = format!(
        "{DOC}/~~/resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:carol@example.test%22%5d/@x:tag?xmlns(x=urn:example:x)"
    );
    let att =
        |h: (&'static str, &'static str)| vec![("Content-Type", "application/xcap-att+xml"), h];
    assert_eq!(
        alice("PUT", &attr, &att(("If-None-Match", "*")), b"\"1\"").status,
        412
    );
    assert_eq!(
        alice("PUT", &attr, &att(("If-Match", "*")), b"\"1\"").status,
        201
    );
    // GET: If-None-Match: * is not modified while the document exists; a
    // missing node is 404 whatever the preconditions (RFC 7232 §5).
    assert_eq!(
        alice("GET", &carol, &[("If-None-Match", "*")], b"").status,
        304
    );
    assert_eq!(alice("GET", &carol, &[("If-Match", "*")], b"").status, 200);
    assert_eq!(
        alice("GET", &entry("zed"), &[("If-Match", "*")], b"").status,
        404
    );
    // DELETE: If-None-Match: * refuses while the document exists;
    // If-Match: * deletes; once gone the node is 404.
    assert_eq!(
        alice("DELETE", &carol, &[("If-None-Match", "*")], b"").status,
        412
    );
    assert_eq!(
        alice("DELETE", &carol, &[("If-Match", "*")], b"").status,
        200
    );
    assert_eq!(
        alice("DELETE", &carol, &[("If-Match", "*")], b"").status,
        404
    );
    // Without the document, If-Match: * fails.
    assert_eq!(alice("DELETE", DOC, &[], b"").status, 200);
    assert_eq!(put_doc(("If-Match", "*")).status, 412);
    assert_eq!(put_doc(("If-None-Match", "*")).status, 201);
}
