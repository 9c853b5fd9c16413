//! RFC 4825 §6: XCAP URIs — trees, document paths, the `~~` separator,
//! percent-decoding and `xmlns()` namespace bindings.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_xcap::uri::{Tree, encode_selector, parse};

#[test]
fn user_document_with_node_selector() {
    let u = parse(
        "/pres-rules/users/sip:alice@example.test/index/~~/cr:ruleset/cr:rule%5b@id=%22a%22%5d",
        Some("xmlns(cr=urn:ietf:params:xml:ns:common-policy)"),
    )
    .unwrap();
    assert_eq!(u.auid, "pres-rules");
    assert_eq!(u.tree, Tree::Users("sip:alice@example.test".into()));
    assert_eq!(u.document, "index");
    assert_eq!(u.node.as_deref(), Some("cr:ruleset/cr:rule[@id=\"a\"]"));
    assert_eq!(
        u.namespaces,
        vec![(
            "cr".to_owned(),
            "urn:ietf:params:xml:ns:common-policy".to_owned()
        )]
    );
}

#[test]
fn global_tree_and_nested_document_path() {
    let u = parse("/xcap-caps/global/dir/doc", None).unwrap();
    assert_eq!(u.tree, Tree::Global);
    assert_eq!(u.document, "dir/doc");
    assert_eq!(u.node, None);
    assert!(u.namespaces.is_empty());
    // The leading slash is optional.
    assert_eq!(
        parse("xcap-caps/global/index", None).unwrap().document,
        "index"
    );
}

#[test]
fn xui_segment_is_decoded_on_its_own() {
    let u = parse(
        "/resource-lists/users/sip%3Ajoe%2Fx@example.com/index",
        None,
    )
    .unwrap();
    assert_eq!(u.tree, Tree::Users("sip:joe/x@example.com".into()));
    assert_eq!(u.document, "index");
}

#[test]
fn non_ascii_names_are_utf8_percent_encoded() {
    // RFC 4825 §6.3: LATIN CAPITAL LETTER A WITH GRAVE is %C3%80,
    // KATAKANA LETTER A is %E3%82%A2.
    let u = parse("/test/global/index/~~/%C3%80/%E3%82%A2", None).unwrap();
    assert_eq!(u.node.as_deref(), Some("\u{C0}/\u{30A2}"));
}

#[test]
fn rfc4825_6_4_query_bindings() {
    let u = parse(
        "/test/users/sip:joe@example.com/index/~~/d:foo/a:bar/b:baz",
        Some(
            "xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace2-uri)\
             xmlns(d=urn:test:default-namespace)",
        ),
    )
    .unwrap();
    let prefixes: Vec<&str> = u.namespaces.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(prefixes, ["a", "b", "d"]);
    assert_eq!(u.namespaces[2].1, "urn:test:default-namespace");
}

#[test]
fn percent_encoded_query_and_other_xpointer_schemes() {
    let u = parse(
        "/test/global/index/~~/a:x",
        Some("xmlns(a%3Durn:a)%20foo(bar)%20xmlns(b=urn:b^(1^))"),
    )
    .unwrap();
    assert_eq!(
        u.namespaces,
        vec![
            ("a".to_owned(), "urn:a".to_owned()),
            ("b".to_owned(), "urn:b(1)".to_owned())
        ]
    );
}

#[test]
fn malformed_uris_are_400() {
    let cases: &[(&str, Option<&str>)] = &[
        ("", None),
        ("/", None),
        ("/auid", None),
        ("/auid/global", None),
        ("/auid/global/", None),
        ("/auid/users", None),
        ("/auid/users/sip:a@b", None),
        ("/auid/other/index", None),
        ("/auid/global/index/~~", None),
        ("/auid/global/index/~~/", None),
        ("/auid/global/a/../index", None),
        ("/auid/global/a//index", None),
        ("/auid/global/index/~~/a%zz", None),
        ("/auid/global/index/~~/a%C3", None),
        ("/auid/global/index/~~/a%00", None),
        ("/auid/global/index", Some("xmlns(a=urn:a")),
        ("/auid/global/index", Some("a=b")),
        ("/auid/global/index", Some("xmlns(1a=urn:a)")),
        ("/auid/global/index", Some("xmlns(a=)")),
        ("/auid/global/index", Some("xmlns(a)")),
    ];
    for (path, query) in cases {
        let e = parse(path, *query).expect_err(path);
        assert_eq!(e.status(), 400, "{path}");
        assert!(!e.reason().is_empty());
    }
}

#[test]
fn document_path_round_trips() {
    let u = parse(
        "/resource-lists/users/sip:joe%2Fx@example.com/dir/index",
        None,
    )
    .unwrap();
    assert_eq!(
        u.document_path(),
        "/resource-lists/users/sip:joe%2Fx@example.com/dir/index"
    );
    assert_eq!(parse(&u.document_path(), None).unwrap(), u);
}

#[test]
fn selector_encoding_round_trips() {
    let sel = "resource-lists/list[@name=\"a b\"]/entry[2]/@uri";
    let enc = encode_selector(sel);
    assert_eq!(
        enc,
        "resource-lists/list%5B@name=%22a%20b%22%5D/entry%5B2%5D/@uri"
    );
    let u = parse(&format!("/rl/global/index/~~/{enc}"), None).unwrap();
    assert_eq!(u.node.as_deref(), Some(sel));
}
