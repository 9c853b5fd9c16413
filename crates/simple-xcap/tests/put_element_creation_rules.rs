//! RFC 4825 §7.4 / §8.2.3: where PUT inserts a new element, when it
//! replaces, and when it refuses with `<cannot-insert>` / `<no-parent>`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_pidf::xml::{Element, parse_tree};
use simple_xcap::edit::put_element;
use simple_xcap::error::XcapError;
use simple_xcap::selector::parse_selector;

const INSERT_DOC: &str = include_str!("../testdata/rfc4825-8.2.3-insert.xml");
const RESOURCE_LISTS: &str = include_str!("../testdata/resource-lists.xml");
const NS_RL: &str = "urn:ietf:params:xml:ns:resource-lists";

fn put(doc: &mut Element, raw: &str, default_ns: &str, body: &str) -> Result<bool, XcapError> {
    let (sel, _) = parse_selector(raw, &[], default_ns).unwrap();
    put_element(doc, &sel, body.as_bytes())
}

/// `name@att` for each child element of the root.
fn shape(doc: &Element) -> Vec<String> {
    doc.elements()
        .map(|e| format!("{}@{}", e.name, e.attr("att").unwrap_or("")))
        .collect()
}

#[test]
fn rfc4825_8_2_3_examples() {
    // (selector, body, resulting order of the root's children)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "root/el1[@att=\"third\"]",
            "<el1 att=\"third\"/>",
            &["el1@first", "el1@second", "el1@third", "el2@first"],
        ),
        (
            "root/el1[3][@att=\"third\"]",
            "<el1 att=\"third\"/>",
            &["el1@first", "el1@second", "el1@third", "el2@first"],
        ),
        (
            "root/*[3][@att=\"third\"]",
            "<el1 att=\"third\"/>",
            &["el1@first", "el1@second", "el1@third", "el2@first"],
        ),
        (
            "root/el3",
            "<el3 att=\"first\"/>",
            &["el1@first", "el1@second", "el2@first", "el3@first"],
        ),
        (
            "root/el2[@att=\"2\"]",
            "<el2 att=\"2\"/>",
            &["el1@first", "el1@second", "el2@first", "el2@2"],
        ),
        (
            "root/el2[2][@att=\"2\"]",
            "<el2 att=\"2\"/>",
            &["el1@first", "el1@second", "el2@first", "el2@2"],
        ),
        (
            "root/*[2][@att=\"2\"]",
            "<el2 att=\"2\"/>",
            &["el1@first", "el2@2", "el1@second", "el2@first"],
        ),
        (
            "root/el2[1][@att=\"2\"]",
            "<el2 att=\"2\"/>",
            &["el1@first", "el1@second", "el2@2", "el2@first"],
        ),
        // n = 1 with a wildcard: before all elements.
        (
            "root/*[1][@att=\"0\"]",
            "<el0 att=\"0\"/>",
            &["el0@0", "el1@first", "el1@second", "el2@first"],
        ),
    ];
    for (raw, body, want) in cases {
        let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
        assert_eq!(put(&mut doc, raw, "", body), Ok(true), "{raw}");
        assert_eq!(shape(&doc), *want, "{raw}");
    }
}

#[test]
fn position_beyond_count_plus_one_is_cannot_insert() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let before = doc.clone();
    for (raw, body) in [
        ("root/el1[4][@att=\"x\"]", "<el1 att=\"x\"/>"),
        ("root/el3[2]", "<el3/>"),
        ("root/*[5]", "<el9/>"),
        ("root/el1[0]", "<el1/>"),
    ] {
        let e = put(&mut doc, raw, "", body).unwrap_err();
        assert!(matches!(e, XcapError::CannotInsert(_)), "{raw}: {e:?}");
        assert_eq!(e.status(), 409);
        assert_eq!(doc, before, "{raw}: document changed");
    }
    // count + 1 is fine.
    assert_eq!(put(&mut doc, "root/*[4]", "", "<el9/>"), Ok(true));
    assert_eq!(doc.elements().nth(3).map(|e| e.name.as_str()), Some("el9"));
}

#[test]
fn body_not_matching_the_last_step_is_cannot_insert() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let before = doc.clone();
    for (raw, body) in [
        // Attribute predicate not satisfied by the body.
        ("root/el1[@att=\"third\"]", "<el1 att=\"fourth\"/>"),
        ("root/el1[@att=\"third\"]", "<el1/>"),
        // Name mismatch.
        ("root/el3", "<el4/>"),
        // Replacement that would no longer be selected.
        ("root/el1[@att=\"first\"]", "<el1 att=\"changed\"/>"),
        ("root/el2", "<el5/>"),
        // The root can only be replaced by a root the selector selects.
        ("root", "<other/>"),
        // A document has one root.
        ("other", "<other/>"),
        // The step selects two elements.
        ("root/el1", "<el1/>"),
    ] {
        let e = put(&mut doc, raw, "", body).unwrap_err();
        assert!(matches!(e, XcapError::CannotInsert(_)), "{raw}: {e:?}");
        assert_eq!(doc, before, "{raw}: document changed");
    }
}

#[test]
fn replacement_returns_false() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    assert_eq!(
        put(&mut doc, "root/el2", "", "<el2 att=\"first\" extra=\"1\"/>"),
        Ok(false)
    );
    assert_eq!(
        doc.elements().nth(2).and_then(|e| e.attr("extra")),
        Some("1")
    );
    assert_eq!(put(&mut doc, "root", "", "<root><a/></root>"), Ok(false));
    assert_eq!(doc.elements().count(), 1);
}

#[test]
fn fragment_inherits_the_parents_default_namespace() {
    let mut doc = parse_tree(RESOURCE_LISTS.as_bytes()).unwrap();
    let raw = "resource-lists/list[@name=\"work\"]/entry[@uri=\"sip:new@example.com\"]";
    assert_eq!(
        put(
            &mut doc,
            raw,
            NS_RL,
            "<entry uri=\"sip:new@example.com\"><display-name>New</display-name></entry>"
        ),
        Ok(true)
    );
    let work = doc.elements().nth(1).unwrap();
    let entries: Vec<&Element> = work.elements().collect();
    assert_eq!(entries.len(), 2);
    assert!(entries[1].is(NS_RL, "entry"));
    assert!(entries[1].elements().all(|e| e.is(NS_RL, "display-name")));
    // An explicit other namespace is kept (and then does not match).
    let e = put(
        &mut doc,
        "resource-lists/list[@name=\"work\"]/entry[3]",
        NS_RL,
        "<entry xmlns=\"urn:other\"/>",
    );
    assert!(matches!(e, Err(XcapError::CannotInsert(_))));
}

#[test]
fn missing_parent_is_no_parent_with_closest_ancestor() {
    let mut doc = parse_tree(RESOURCE_LISTS.as_bytes()).unwrap();
    let e = put(
        &mut doc,
        "resource-lists/list[@name=\"friends\"]/list[@name=\"nope\"]/entry",
        NS_RL,
        "<entry uri=\"sip:x@example.com\"/>",
    )
    .unwrap_err();
    assert_eq!(
        e,
        XcapError::NoParent {
            ancestor: "resource-lists/list%5B@name=%22friends%22%5D".into()
        }
    );
    let e = put(&mut doc, "other/list/entry", NS_RL, "<entry/>").unwrap_err();
    assert_eq!(
        e,
        XcapError::NoParent {
            ancestor: String::new()
        }
    );
}

#[test]
fn bad_bodies() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let before = doc.clone();
    let frag = |e: &XcapError| matches!(e, XcapError::NotXmlFrag(_));
    for body in [
        "",
        "text",
        "<el3/><el3/>",
        "<el3/>tail",
        "<el3>",
        "<el3></el4>",
        "</root><root>",
        "<p:el3/>",
        "<!DOCTYPE x><el3/>",
        "<el3 a='1' a='2'/>",
    ] {
        let e = put(&mut doc, "root/el3", "", body).unwrap_err();
        assert!(frag(&e), "{body:?}: {e:?}");
    }
    let e = put_element(
        &mut doc,
        &parse_selector("root/el3", &[], "").unwrap().0,
        b"<el3 a='\xff'/>",
    )
    .unwrap_err();
    assert_eq!(e, XcapError::NotUtf8);
    assert_eq!(doc, before);
    // An XML declaration and surrounding whitespace are tolerated.
    assert_eq!(
        put(
            &mut doc,
            "root/el3",
            "",
            "<?xml version=\"1.0\"?>\n <el3/>\n"
        ),
        Ok(true)
    );
}

#[test]
fn too_deep_is_constraint_failure() {
    let mut doc = parse_tree(INSERT_DOC.as_bytes()).unwrap();
    let body = format!("{}{}", "<d>".repeat(63), "</d>".repeat(63));
    // Root (1) + 63 fits MAX_DEPTH (64); under el2 it does not.
    let e = put(&mut doc, "root/el2/d", "", &body).unwrap_err();
    assert!(matches!(e, XcapError::ConstraintFailure(_)), "{e:?}");
    assert_eq!(put(&mut doc, "root/d", "", &body), Ok(true));
}
