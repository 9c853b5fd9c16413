//! XCAP (RFC 4825) over the server's HTTP listener with a real HTTP client:
//! digest authentication against the SIP users, a user reaches only her own
//! documents, global documents are read-only; whole documents, elements and
//! attributes are fetched, created, replaced and deleted with ETags and
//! conditional requests; the §11 error conditions come back as 409 with an
//! `application/xcap-error+xml` body; size limits give 413; two writers
//! racing on one If-Match: exactly one wins.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod http;

use common::{Server, add_user};
use http::{authed, raw};

const DOC: &str = "/xcap-root/resource-lists/users/sip:alice@example.test/index";
const LISTS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\n<list name=\"friends\"><entry uri=\"sip:bob@example.test\"><display-name>Bob</display-name></entry></list>\n</resource-lists>\n";

fn server() -> Server {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    add_user(&s.data_dir, "bob@example.test", "secret");
    s
}

#[test]
fn documents_elements_attributes_and_errors() {
    let s = server();
    let a = s.ws.unwrap();
    let alice =
        |m: &str, t: &str, h: &[(&str, &str)], b: &[u8]| authed(a, "alice", "secret", m, t, h, b);

    // Without credentials: 401 with a digest challenge.
    let r = raw(a, "GET", DOC, &[], b"");
    assert_eq!(r.status, 401);
    assert!(r.header("WWW-Authenticate").unwrap().starts_with("Digest"));

    // Create, then read back with its type and ETag.
    let r = alice(
        "PUT",
        DOC,
        &[("Content-Type", "application/resource-lists+xml")],
        LISTS.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let etag1 = r.header("ETag").expect("ETag").to_owned();
    let r = alice("GET", DOC, &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), LISTS);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/resource-lists+xml")
    );
    assert_eq!(r.header("ETag"), Some(etag1.as_str()));
    let r = alice("GET", DOC, &[("If-None-Match", &etag1)], b"");
    assert_eq!(r.status, 304);
    let r = alice("HEAD", DOC, &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty(), "HEAD has no body");
    assert_eq!(r.header("ETag"), Some(etag1.as_str()));

    // Bob may not read alice's documents; nobody writes global ones.
    let r = authed(a, "bob", "secret", "GET", DOC, &[], b"");
    assert_eq!(r.status, 403);
    let caps = "/xcap-root/xcap-caps/global/index";
    let r = alice("GET", caps, &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    for auid in [
        "pres-rules",
        "resource-lists",
        "rls-services",
        "pidf-manipulation",
    ] {
        assert!(
            r.text().contains(auid),
            "xcap-caps lists {auid}: {}",
            r.text()
        );
    }
    let r = alice("PUT", caps, &[], b"<x/>");
    assert_eq!(r.status, 403);

    // An element: created (201), fetched as application/xcap-el+xml.
    let entry = format!(
        "{DOC}/~~/resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:carol@example.test%22%5d"
    );
    let r = alice(
        "PUT",
        &entry,
        &[("Content-Type", "application/xcap-el+xml")],
        b"<entry uri=\"sip:carol@example.test\"/>",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let etag2 = r.header("ETag").unwrap().to_owned();
    assert_ne!(etag1, etag2, "the ETag moves with the document");
    let r = alice("GET", &entry, &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some("application/xcap-el+xml"));
    assert!(r.text().contains("sip:carol@example.test"));
    // An attribute.
    let attr = format!("{DOC}/~~/resource-lists/list%5b@name=%22friends%22%5d/@name");
    let r = alice("GET", &attr, &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some("application/xcap-att+xml"));
    // RFC 4825 §15.2.2: an xcap-att+xml body is the AttValue, quotes included.
    assert_eq!(r.text(), "\"friends\"");

    // Conditional requests: a stale If-Match is 412 and changes nothing.
    let r = alice(
        "PUT",
        DOC,
        &[
            ("If-Match", &etag1),
            ("Content-Type", "application/resource-lists+xml"),
        ],
        LISTS.as_bytes(),
    );
    assert_eq!(r.status, 412);
    let r = alice(
        "PUT",
        DOC,
        &[
            ("If-None-Match", "*"),
            ("Content-Type", "application/resource-lists+xml"),
        ],
        LISTS.as_bytes(),
    );
    assert_eq!(r.status, 412);
    assert!(alice("GET", &entry, &[], b"").status == 200, "unchanged");
    // RFC 4825 §8.2.1: the wrong media type is 415.
    let r = alice(
        "PUT",
        DOC,
        &[("Content-Type", "text/plain")],
        LISTS.as_bytes(),
    );
    assert_eq!(r.status, 415);
    let r = alice(
        "PUT",
        &entry,
        &[("Content-Type", "application/resource-lists+xml")],
        b"<entry uri=\"sip:carol@example.test\"/>",
    );
    assert_eq!(r.status, 415, "an element PUT is application/xcap-el+xml");

    // §11 errors: not well-formed, schema, uniqueness.
    let r = alice(
        "PUT",
        DOC,
        &[("Content-Type", "application/resource-lists+xml")],
        b"<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>",
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.header("Content-Type"), Some("application/xcap-error+xml"));
    assert!(r.text().contains("not-well-formed"), "{}", r.text());
    let r = alice(
        "PUT",
        DOC,
        &[("Content-Type", "application/resource-lists+xml")],
        b"<nonsense xmlns=\"urn:example\"/>",
    );
    assert_eq!(r.status, 409);
    assert!(r.text().contains("schema-validation-error"), "{}", r.text());
    let dup = LISTS.replace("</list>", "<entry uri=\"sip:bob@example.test\"/></list>");
    let r = alice(
        "PUT",
        DOC,
        &[("Content-Type", "application/resource-lists+xml")],
        dup.as_bytes(),
    );
    assert_eq!(r.status, 409);
    assert!(r.text().contains("uniqueness-failure"), "{}", r.text());
    let r = alice(
        "PUT",
        DOC,
        &[("Content-Type", "application/resource-lists+xml")],
        &[0xff, 0xfe, 0x00],
    );
    assert_eq!(r.status, 409);
    assert!(r.text().contains("not-utf-8"), "{}", r.text());
    // The document still holds carol: no failed PUT changed anything.
    assert_eq!(alice("GET", &entry, &[], b"").status, 200);

    // Delete the element, then the document.
    let r = alice("DELETE", &entry, &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(alice("GET", &entry, &[], b"").status, 404);
    assert_eq!(alice("DELETE", DOC, &[], b"").status, 200);
    assert_eq!(alice("GET", DOC, &[], b"").status, 404);

    // Size limit.
    let big = vec![b' '; 2 * 1024 * 1024];
    let r = raw(a, "PUT", DOC, &[], &big);
    assert_eq!(r.status, 413);
}

#[test]
fn concurrent_writers_with_one_if_match() {
    let s = server();
    let a = s.ws.unwrap();
    let r = authed(
        a,
        "alice",
        "secret",
        "PUT",
        DOC,
        &[("Content-Type", "application/resource-lists+xml")],
        LISTS.as_bytes(),
    );
    assert_eq!(r.status, 201);
    let etag = r.header("ETag").unwrap().to_owned();
    for round in 0..5 {
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let etag = etag.clone();
                std::thread::spawn(move || {
                    let body = LISTS.replace("Bob", &format!("Bob {round}-{i}"));
                    authed(
                        a,
                        "alice",
                        "secret",
                        "PUT",
                        DOC,
                        &[
                            ("If-Match", &etag),
                            ("Content-Type", "application/resource-lists+xml"),
                        ],
                        body.as_bytes(),
                    )
                    .status
                })
            })
            .collect();
        let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        statuses.sort();
        if round == 0 {
            assert_eq!(statuses, vec![200, 412], "exactly one writer wins");
        } else {
            // The ETag moved in round 0: both are stale now.
            assert_eq!(statuses, vec![412, 412]);
        }
    }
}

#[test]
fn rls_service_uris_are_unique_across_users() {
    let s = server();
    let a = s.ws.unwrap();
    let rls = |uri: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rls-services xmlns=\"urn:ietf:params:xml:ns:rls-services\" xmlns:rl=\"urn:ietf:params:xml:ns:resource-lists\"><service uri=\"{uri}\"><list name=\"l\"><rl:entry uri=\"sip:carol@example.test\"/></list><packages><package>presence</package></packages></service></rls-services>"
        )
    };
    let r = authed(
        a,
        "alice",
        "secret",
        "PUT",
        "/xcap-root/rls-services/users/sip:alice@example.test/index",
        &[("Content-Type", "application/rls-services+xml")],
        rls("sip:team@example.test").as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // Bob may not take alice's service URI (RFC 4826 §4.4.5), hosts compared
    // case-insensitively.
    let r = authed(
        a,
        "bob",
        "secret",
        "PUT",
        "/xcap-root/rls-services/users/sip:bob@example.test/index",
        &[("Content-Type", "application/rls-services+xml")],
        rls("sip:team@EXAMPLE.test").as_bytes(),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    let r = authed(
        a,
        "bob",
        "secret",
        "PUT",
        "/xcap-root/rls-services/users/sip:bob@example.test/index",
        &[("Content-Type", "application/rls-services+xml")],
        rls("sip:team@example.test").as_bytes(),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text().contains("uniqueness-failure") && r.text().contains("alt-value"),
        "{}",
        r.text()
    );
    let r = authed(
        a,
        "bob",
        "secret",
        "PUT",
        "/xcap-root/rls-services/users/sip:bob@example.test/index",
        &[("Content-Type", "application/rls-services+xml")],
        rls("sip:bobs-team@example.test").as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // Alice replacing her own document keeps her URI.
    let r = authed(
        a,
        "alice",
        "secret",
        "PUT",
        "/xcap-root/rls-services/users/sip:alice@example.test/index",
        &[("Content-Type", "application/rls-services+xml")],
        rls("sip:team@example.test").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn no_parent_names_the_closest_ancestor() {
    let s = server();
    let a = s.ws.unwrap();
    let ct = [("Content-Type", "application/xcap-el+xml")];
    // No document yet: the document is the missing parent (409).
    let node = format!("{DOC}/~~/resource-lists/list%5b@name=%22x%22%5d");
    let r = authed(
        a,
        "alice",
        "secret",
        "PUT",
        &node,
        &ct,
        b"<list name=\"x\"/>",
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text().contains("<no-parent") && r.text().contains("http://"),
        "{}",
        r.text()
    );
    // With the document: a grandchild under a missing list names the root.
    let r = authed(
        a,
        "alice",
        "secret",
        "PUT",
        DOC,
        &[("Content-Type", "application/resource-lists+xml")],
        LISTS.as_bytes(),
    );
    assert_eq!(r.status, 201);
    let deep = format!(
        "{DOC}/~~/resource-lists/list%5b@name=%22nope%22%5d/entry%5b@uri=%22sip:x@example.test%22%5d"
    );
    let r = authed(
        a,
        "alice",
        "secret",
        "PUT",
        &deep,
        &ct,
        b"<entry uri=\"sip:x@example.test\"/>",
    );
    assert_eq!(r.status, 409);
    let text = r.text();
    assert!(
        text.contains("<ancestor>") && text.contains("/~~/resource-lists"),
        "{text}"
    );
}
