//! RFC 4825 §6.3 / §6.4 node selectors evaluated on the RFC's example
//! documents (table-driven over `testdata/`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_pidf::xml::parse_tree;
use simple_xcap::edit::{Selected, get};
use simple_xcap::selector::{Target, parse_selector};
use simple_xcap::uri::parse;

const WATCHERINFO: &str = include_str!("../testdata/rfc4825-6.3-watcherinfo.xml");
const NAMESPACES: &str = include_str!("../testdata/rfc4825-6.4-namespaces.xml");
const RESOURCE_LISTS: &str = include_str!("../testdata/resource-lists.xml");
const NS_WINFO: &str = "urn:ietf:params:xml:ns:watcherinfo";
const NS_RL: &str = "urn:ietf:params:xml:ns:resource-lists";

/// Evaluates `uri` (path after the root, query) on `doc`.
fn eval(doc: &str, default_ns: &str, path: &str, query: Option<&str>) -> Option<Selected> {
    let doc = parse_tree(doc.as_bytes()).unwrap();
    let uri = parse(path, query).unwrap();
    let (sel, target) =
        parse_selector(uri.node.as_deref().unwrap(), &uri.namespaces, default_ns).unwrap();
    get(&doc, &sel, &target).ok()
}

#[test]
fn rfc4825_6_3_watcher_by_id() {
    let got = eval(
        WATCHERINFO,
        NS_WINFO,
        "/watcherinfo/users/sip:professor@example.net/index/~~/watcherinfo/watcher-list/watcher%5b@id=%228ajksjda7s%22%5d",
        None,
    )
    .unwrap();
    assert_eq!(got.media_type(), "application/xcap-el+xml");
    let el = parse_tree(got.body().as_bytes()).unwrap();
    assert!(el.is(NS_WINFO, "watcher"));
    assert_eq!(el.attr("status"), Some("active"));
    assert_eq!(el.attr("duration-subscribed"), Some("509"));
    assert_eq!(el.text(), "sip:userA@example.net");
}

#[test]
fn watcherinfo_table() {
    // (selector, expected text of the selected watcher / attribute body, or None for 404)
    let cases: &[(&str, Option<&str>)] = &[
        (
            "watcherinfo/watcher-list/watcher[2]",
            Some("sip:userB@example.org"),
        ),
        (
            "watcherinfo/watcher-list/watcher[1]",
            Some("sip:userA@example.net"),
        ),
        (
            "watcherinfo/watcher-list/*[2]",
            Some("sip:userB@example.org"),
        ),
        (
            "watcherinfo/*/watcher[@status='pending']",
            Some("sip:userB@example.org"),
        ),
        (
            "watcherinfo/watcher-list/watcher[2][@event=\"subscribe\"]",
            Some("sip:userB@example.org"),
        ),
        (
            "*/watcher-list[1]/watcher[@id=\"8ajksjda7s\"]",
            Some("sip:userA@example.net"),
        ),
        // Position first, then the attribute test.
        (
            "watcherinfo/watcher-list/watcher[1][@event=\"subscribe\"]",
            None,
        ),
        // More than one element selected: invalid, 404.
        ("watcherinfo/watcher-list/watcher", None),
        ("watcherinfo/watcher-list/*", None),
        ("watcherinfo/watcher-list/watcher[3]", None),
        ("watcherinfo/watcher-list/watcher[0]", None),
        (
            "watcherinfo/watcher-list/watcher[99999999999999999999999]",
            None,
        ),
        ("watcherinfo/watcher-list/watcher[@id=\"nope\"]", None),
        ("watcherinfo[2]", None),
        ("other", None),
    ];
    let doc = parse_tree(WATCHERINFO.as_bytes()).unwrap();
    for (raw, want) in cases {
        let (sel, target) = parse_selector(raw, &[], NS_WINFO).unwrap();
        let got = get(&doc, &sel, &target).ok();
        match (got, want) {
            (Some(Selected::Element(xml)), Some(text)) => {
                assert_eq!(parse_tree(xml.as_bytes()).unwrap().text(), *text, "{raw}");
            }
            (None, None) => {}
            (got, want) => panic!("{raw}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn attribute_selector_returns_att_value() {
    let got = eval(
        WATCHERINFO,
        NS_WINFO,
        "/watcherinfo/global/index/~~/watcherinfo/watcher-list/watcher%5b2%5d/@display-name",
        None,
    )
    .unwrap();
    assert_eq!(got, Selected::Attribute("\"Mr. Subscriber\"".into()));
    assert_eq!(got.media_type(), "application/xcap-att+xml");
    assert!(
        eval(
            WATCHERINFO,
            NS_WINFO,
            "/w/global/index/~~/watcherinfo/@missing",
            None
        )
        .is_none()
    );
}

#[test]
fn rfc4825_6_4_namespace_bindings_select_first_baz() {
    let got = eval(
        NAMESPACES,
        "urn:test:default-namespace",
        "/test/users/sip:joe@example.com/index/~~/foo/a:bar/b:baz",
        Some("xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace1-uri)"),
    )
    .unwrap();
    let el = parse_tree(got.body().as_bytes()).unwrap();
    assert!(el.is("urn:test:namespace1-uri", "baz"));
}

#[test]
fn rfc4825_6_4_namespace_bindings_select_second_baz() {
    for query in [
        "xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace2-uri)",
        "xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace2-uri)xmlns(d=urn:test:default-namespace)",
    ] {
        let path = if query.contains("(d=") {
            "/test/users/sip:joe@example.com/index/~~/d:foo/a:bar/b:baz"
        } else {
            "/test/users/sip:joe@example.com/index/~~/foo/a:bar/b:baz"
        };
        let got = eval(NAMESPACES, "urn:test:default-namespace", path, Some(query)).unwrap();
        let el = parse_tree(got.body().as_bytes()).unwrap();
        assert!(el.is("urn:test:namespace2-uri", "baz"), "{query}");
    }
}

#[test]
fn unprefixed_step_does_not_match_other_namespace() {
    // `bar` expands to the default document namespace; the document's bar
    // is in namespace1.
    assert!(
        eval(
            NAMESPACES,
            "urn:test:default-namespace",
            "/t/global/i/~~/foo/bar",
            None
        )
        .is_none()
    );
}

#[test]
fn namespace_selector_lists_bindings_in_scope() {
    let got = eval(
        NAMESPACES,
        "urn:test:default-namespace",
        "/t/global/i/~~/foo/a:bar/b:baz/namespace::*",
        Some("xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace2-uri)"),
    )
    .unwrap();
    assert_eq!(got.media_type(), "application/xcap-ns+xml");
    assert_eq!(
        got.body(),
        "<baz xmlns=\"urn:test:namespace2-uri\" xmlns:ns1=\"urn:test:default-namespace\" \
         xmlns:ns2=\"urn:test:namespace1-uri\"/>"
    );
}

#[test]
fn resource_lists_selectors() {
    let doc = parse_tree(RESOURCE_LISTS.as_bytes()).unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "resource-lists/list[@name=\"friends\"]/entry[2]/@uri",
            "\"sip:joe@example.com\"",
        ),
        (
            "resource-lists/list[@name=\"friends\"]/list[@name=\"close-friends\"]/entry/@uri",
            "\"sip:nancy@example.com\"",
        ),
        (
            "resource-lists/list[2]/entry/@uri",
            "\"sip:boss@example.com\"",
        ),
        ("resource-lists/*[2]/@name", "\"work\""),
    ];
    for (raw, want) in cases {
        let (sel, target) = parse_selector(raw, &[], NS_RL).unwrap();
        let got = get(&doc, &sel, &target).unwrap();
        assert_eq!(got.body(), *want, "{raw}");
    }
    let (sel, target) = parse_selector(
        "resource-lists/list[@name=\"friends\"]/entry[@uri=\"sip:bill@example.com\"]/display-name",
        &[],
        NS_RL,
    )
    .unwrap();
    assert_eq!(
        get(&doc, &sel, &target).unwrap().body(),
        "<display-name xmlns=\"urn:ietf:params:xml:ns:resource-lists\">Bill Doe</display-name>"
    );
}

#[test]
fn bad_selectors_are_400() {
    let bindings = vec![("a".to_owned(), "urn:a".to_owned())];
    for raw in [
        "",
        "/a",
        "a/",
        "a//b",
        "x:a",
        "a[",
        "a[]",
        "a[x]",
        "a[@b]",
        "a[@b=c]",
        "a[@b=\"c]",
        "a[@b=\"c\"][1]",
        "a[1][2]",
        "a[-1]",
        "a[1]x",
        "a/@xmlns",
        "a/@xmlns:x",
        "a/@x:y",
        "@b",
        "namespace::*",
        "a/namespace::*/b",
        "a/@b/c",
        "a/b[@c=\"&bogus;\"]",
        "1a",
        "a/text()",
    ] {
        let e = parse_selector(raw, &bindings, "urn:d").expect_err(raw);
        assert_eq!(e.status(), 400, "{raw}");
        assert_eq!(e.body(), None);
    }
}

#[test]
fn targets() {
    let b = vec![("p".to_owned(), "urn:p".to_owned())];
    assert_eq!(parse_selector("a/b", &b, "").unwrap().1, Target::Element);
    assert_eq!(
        parse_selector("a/@b", &b, "").unwrap().1,
        Target::Attribute("b".into())
    );
    assert_eq!(
        parse_selector("a/@p:b", &b, "").unwrap().1,
        Target::Attribute("{urn:p}b".into())
    );
    assert_eq!(
        parse_selector("a/@xml:lang", &b, "").unwrap().1,
        Target::Attribute("{http://www.w3.org/XML/1998/namespace}lang".into())
    );
    assert_eq!(
        parse_selector("a/namespace::*", &b, "").unwrap().1,
        Target::Namespaces
    );
    // A quoted '/' stays inside the attribute value.
    let (sel, _) = parse_selector("a/b[@c=\"x/y\"]", &b, "").unwrap();
    assert_eq!(sel.len(), 2);
    assert_eq!(sel.to_string(), "a/b[@c=\"x/y\"]");
}
