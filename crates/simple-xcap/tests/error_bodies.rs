//! RFC 4825 §11: every error condition, its status and the exact
//! `application/xcap-error+xml` body.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_pidf::xml::parse_tree;
use simple_xcap::error::{
    ATTRIBUTE_MEDIA_TYPE, ELEMENT_MEDIA_TYPE, ERROR_MEDIA_TYPE, NAMESPACE_MEDIA_TYPE, XcapError,
    etag_of,
};

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                    <xcap-error xmlns=\"urn:ietf:params:xml:ns:xcap-error\">";

#[test]
fn conflict_reports() {
    let cases: Vec<(XcapError, &str)> = vec![
        (
            XcapError::NotWellFormed("x".into()),
            "<not-well-formed phrase=\"x\"/>",
        ),
        (
            XcapError::NotXmlFrag("two".into()),
            "<not-xml-frag phrase=\"two\"/>",
        ),
        (
            XcapError::NotXmlAttValue("a<".into()),
            "<not-xml-att-value phrase=\"a&lt;\"/>",
        ),
        (
            XcapError::SchemaValidation(String::new()),
            "<schema-validation-error/>",
        ),
        (XcapError::NotUtf8, "<not-utf-8/>"),
        (
            XcapError::NoParent {
                ancestor: String::new(),
            },
            "<no-parent/>",
        ),
        (
            XcapError::NoParent {
                ancestor: "rl/list%5B@name=%22a%22%5D".into(),
            },
            "<no-parent><ancestor>rl/list%5B@name=%22a%22%5D</ancestor></no-parent>",
        ),
        (
            XcapError::CannotInsert("\"q\"".into()),
            "<cannot-insert phrase=\"&quot;q&quot;\"/>",
        ),
        (
            XcapError::CannotDelete("d".into()),
            "<cannot-delete phrase=\"d\"/>",
        ),
        (
            XcapError::UniquenessFailure {
                field: "rls-services/service/@uri".into(),
                alt_values: vec!["sip:mybuddies@example.com".into()],
            },
            "<uniqueness-failure><exists field=\"rls-services/service/@uri\">\
             <alt-value>sip:mybuddies@example.com</alt-value></exists></uniqueness-failure>",
        ),
        (
            XcapError::UniquenessFailure {
                field: "a/@b".into(),
                alt_values: vec![],
            },
            "<uniqueness-failure><exists field=\"a/@b\"/></uniqueness-failure>",
        ),
        (
            XcapError::ConstraintFailure("c & d".into()),
            "<constraint-failure phrase=\"c &amp; d\"/>",
        ),
    ];
    for (e, inner) in cases {
        assert_eq!(e.status(), 409, "{e:?}");
        let body = e.body().unwrap();
        assert_eq!(body, format!("{HEAD}{inner}</xcap-error>\n"), "{e:?}");
        let doc = parse_tree(body.as_bytes()).unwrap();
        assert!(doc.is("urn:ietf:params:xml:ns:xcap-error", "xcap-error"));
        assert_eq!(doc.elements().count(), 1);
    }
}

#[test]
fn non_409_have_no_body() {
    for (e, status) in [
        (XcapError::NotFound("n".into()), 404),
        (XcapError::BadRequest("b".into()), 400),
        (XcapError::MethodNotAllowed("m".into()), 405),
    ] {
        assert_eq!(e.status(), status);
        assert_eq!(e.body(), None);
    }
}

#[test]
fn media_types() {
    assert_eq!(ERROR_MEDIA_TYPE, "application/xcap-error+xml");
    assert_eq!(ELEMENT_MEDIA_TYPE, "application/xcap-el+xml");
    assert_eq!(ATTRIBUTE_MEDIA_TYPE, "application/xcap-att+xml");
    assert_eq!(NAMESPACE_MEDIA_TYPE, "application/xcap-ns+xml");
}

#[test]
fn etag_is_stable_and_content_derived() {
    let a = etag_of(b"<a/>");
    assert_eq!(a, etag_of(b"<a/>"));
    assert_ne!(a, etag_of(b"<b/>"));
    assert_eq!(a.len(), 32);
    assert!(
        a.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    // SHA-256("") starts e3b0c442...
    assert_eq!(etag_of(b""), "e3b0c44298fc1c149afbf4c8996fb924");
}
