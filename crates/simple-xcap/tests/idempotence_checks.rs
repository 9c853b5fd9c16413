//! RFC 4825 §8.2.4 / §8.4: after a PUT the request URI selects the new
//! node, after a DELETE it selects nothing — otherwise the change is undone.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_pidf::xml::parse_tree;
use simple_xcap::edit::{delete, get, put_attribute, put_element};
use simple_xcap::error::XcapError;
use simple_xcap::selector::{Target, parse_selector};

const INSERT_DOC: &str = include_str!("../testdata/rfc4825-8.2.3-insert.xml");

#[test]
fn delete_that_would_select_a_sibling_is_cannot_delete() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let before = doc.clone();
    for raw in ["root/*[1]", "root/el1[1]", "root/*[2]"] {
        let (sel, t) = parse_selector(raw, &[], "").unwrap();
        let e = delete(&mut doc, &sel, &t).unwrap_err();
        assert!(matches!(e, XcapError::CannotDelete(_)), "{raw}: {e:?}");
        assert_eq!(doc, before, "{raw}");
    }
    // The last element by position is fine: nothing follows.
    let (sel, t) = parse_selector("root/*[3]", &[], "").unwrap();
    assert_eq!(delete(&mut doc, &sel, &t), Ok(()));
    assert_eq!(doc.elements().count(), 2);
}

#[test]
fn delete_by_attribute_then_404() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let (sel, t) = parse_selector("root/el1[@att=\"second\"]", &[], "").unwrap();
    assert_eq!(delete(&mut doc, &sel, &t), Ok(()));
    let e = delete(&mut doc, &sel, &t).unwrap_err();
    assert_eq!(e.status(), 404);
    assert_eq!(e.body(), None);
    assert!(get(&doc, &sel, &t).is_err());
}

#[test]
fn delete_attribute_and_root_and_namespaces() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let (sel, t) = parse_selector("root/el2/@att", &[], "").unwrap();
    assert_eq!(delete(&mut doc, &sel, &t), Ok(()));
    assert_eq!(delete(&mut doc, &sel, &t).map_err(|e| e.status()), Err(404));
    let (sel, t) = parse_selector("root", &[], "").unwrap();
    let e = delete(&mut doc, &sel, &t).unwrap_err();
    assert!(matches!(e, XcapError::SchemaValidation(_)));
    let (sel, t) = parse_selector("root/namespace::*", &[], "").unwrap();
    assert_eq!(delete(&mut doc, &sel, &t).map_err(|e| e.status()), Err(405));
}

#[test]
fn put_then_get_returns_the_content() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let (sel, t) = parse_selector("root/el4[@att=\"x\"]", &[], "").unwrap();
    assert_eq!(
        put_element(&mut doc, &sel, b"<el4 att=\"x\"><c>t</c></el4>"),
        Ok(true)
    );
    assert_eq!(
        get(&doc, &sel, &t).unwrap().body(),
        "<el4 att=\"x\"><c>t</c></el4>"
    );
    // The same PUT again replaces (idempotent).
    assert_eq!(
        put_element(&mut doc, &sel, b"<el4 att=\"x\"><c>t</c></el4>"),
        Ok(false)
    );
    assert_eq!(doc.elements().filter(|e| e.name == "el4").count(), 1);
}

#[test]
fn attribute_put_create_replace_and_cannot_insert() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let (sel, t) = parse_selector("root/el2/@new", &[], "").unwrap();
    let Target::Attribute(name) = &t else {
        panic!()
    };
    assert_eq!(
        put_attribute(&mut doc, &sel, name, b"\"a &amp; b\""),
        Ok(true)
    );
    assert_eq!(get(&doc, &sel, &t).unwrap().body(), "\"a &amp; b\"");
    assert_eq!(put_attribute(&mut doc, &sel, name, b"plain"), Ok(false));
    assert_eq!(get(&doc, &sel, &t).unwrap().body(), "\"plain\"");

    // RFC 4825 §7.7: changing the value the selector relies on.
    let before = doc.clone();
    let (sel, t) = parse_selector("root/el1[@att=\"first\"]/@att", &[], "").unwrap();
    let Target::Attribute(name) = &t else {
        panic!()
    };
    let e = put_attribute(&mut doc, &sel, name, b"'changed'").unwrap_err();
    assert!(matches!(e, XcapError::CannotInsert(_)));
    assert_eq!(doc, before);
    // Same value: fine.
    assert_eq!(put_attribute(&mut doc, &sel, name, b"'first'"), Ok(false));
}

#[test]
fn attribute_put_errors() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let before = doc.clone();
    let (sel, _) = parse_selector("root/el2", &[], "").unwrap();
    for body in [
        &b"a<b"[..],
        b"a&b",
        b"\"a\"b\"",
        b"'x",
        b"&#1;",
        b"&unknown;",
    ] {
        let e = put_attribute(&mut doc, &sel, "v", body).unwrap_err();
        assert!(matches!(e, XcapError::NotXmlAttValue(_)), "{body:?}: {e:?}");
    }
    assert_eq!(
        put_attribute(&mut doc, &sel, "v", b"\xc3"),
        Err(XcapError::NotUtf8)
    );
    let (missing, _) = parse_selector("root/el9/x", &[], "").unwrap();
    assert_eq!(
        put_attribute(&mut doc, &missing, "v", b"1"),
        Err(XcapError::NoParent {
            ancestor: "root".into()
        })
    );
    assert_eq!(doc, before);
}
