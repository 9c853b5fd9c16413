//! RFC 4825 §8.2.3 / §8.4: an element or attribute edit changes only the
//! bytes of the node it names. Whitespace between the other elements,
//! comments, the document's prefixes and quoting, and the body's own
//! namespace declarations survive byte for byte; a new element goes exactly
//! where the §8.2.3 examples put it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_xcap::edit::XmlDocument;
use simple_xcap::selector::{Target, parse_selector};

const INSERT_DOC: &str = include_str!("../testdata/rfc4825-8.2.3-insert.xml");

fn put(doc: &str, sel: &str, default_ns: &str, body: &str) -> (String, bool) {
    let d = XmlDocument::parse(doc.as_bytes()).unwrap();
    let (sel, _) = parse_selector(sel, &[], default_ns).unwrap();
    let (new, created) = d.put_element(&sel, body.as_bytes()).unwrap();
    (new.text().to_owned(), created)
}

#[test]
fn rfc4825_8_2_3_insertions_keep_every_other_byte() {
    // (selector, body, the text between "<root>" and "</root>" afterwards),
    // as §8.2.3 shows them (the document indents by one space).
    let cases: &[(&str, &str, &str)] = &[
        (
            "root/el1[@att=\"third\"]",
            "<el1 att=\"third\"/>",
            "\n <el1 att=\"first\"/>\n <el1 att=\"second\"/><el1 att=\"third\"/>\n <!-- comment -->\n <el2 att=\"first\"/>\n",
        ),
        (
            "root/el1[3][@att=\"third\"]",
            "<el1 att=\"third\"/>",
            "\n <el1 att=\"first\"/>\n <el1 att=\"second\"/><el1 att=\"third\"/>\n <!-- comment -->\n <el2 att=\"first\"/>\n",
        ),
        (
            "root/*[3][@att=\"third\"]",
            "<el1 att=\"third\"/>",
            "\n <el1 att=\"first\"/>\n <el1 att=\"second\"/><el1 att=\"third\"/>\n <!-- comment -->\n <el2 att=\"first\"/>\n",
        ),
        (
            "root/el3",
            "<el3 att=\"first\"/>",
            "\n <el1 att=\"first\"/>\n <el1 att=\"second\"/>\n <!-- comment -->\n <el2 att=\"first\"/>\n<el3 att=\"first\"/>",
        ),
        (
            "root/el2[@att=\"2\"]",
            "<el2 att=\"2\"/>",
            "\n <el1 att=\"first\"/>\n <el1 att=\"second\"/>\n <!-- comment -->\n <el2 att=\"first\"/><el2 att=\"2\"/>\n",
        ),
        (
            "root/*[2][@att=\"2\"]",
            "<el2 att=\"2\"/>",
            "\n <el1 att=\"first\"/><el2 att=\"2\"/>\n <el1 att=\"second\"/>\n <!-- comment -->\n <el2 att=\"first\"/>\n",
        ),
        (
            "root/el2[1][@att=\"2\"]",
            "<el2 att=\"2\"/>",
            "\n <el1 att=\"first\"/>\n <el1 att=\"second\"/>\n <!-- comment -->\n <el2 att=\"2\"/><el2 att=\"first\"/>\n",
        ),
    ];
    for (sel, body, inner) in cases {
        let (text, created) = put(INSERT_DOC, sel, "", body);
        assert!(created, "{sel}");
        let want = format!("<?xml version=\"1.0\"?>\n<root>{inner}</root>\n");
        assert_eq!(text, want, "{sel}");
    }
}

const LISTS: &str = "<?xml version='1.0' encoding='UTF-8'?>\n\
<!-- alice's buddies -->\n\
<rl:resource-lists xmlns:rl=\"urn:ietf:params:xml:ns:resource-lists\"\n    xmlns:x='urn:x'>\n\
\t<rl:list name='friends'>\n\
\t\t<rl:entry uri='sip:bob@example.test'>  <rl:display-name>Bob</rl:display-name> </rl:entry>\n\
\t\t<!-- keep me -->\n\
\t\t<rl:entry uri='sip:carol@example.test' x:tag='1'/>\n\
\t</rl:list>\n\
\t<rl:list name='empty'/>\n\
</rl:resource-lists>\n";
const RL: &str = "urn:ietf:params:xml:ns:resource-lists";

fn lists() -> XmlDocument {
    XmlDocument::parse(LISTS.as_bytes()).unwrap()
}

fn sel(s: &str) -> (simple_xcap::selector::NodeSelector, Target) {
    parse_selector(s, &[], RL).unwrap()
}

#[test]
fn replacing_an_element_touches_only_its_bytes() {
    let (s, _) = sel("resource-lists/list[@name=\"friends\"]/entry[@uri=\"sip:bob@example.test\"]");
    // The body declares the default namespace again: §8.2.3 keeps it.
    let body = "<entry xmlns=\"urn:ietf:params:xml:ns:resource-lists\" uri=\"sip:bob@example.test\"><display-name>Robert</display-name></entry>";
    let (new, created) = lists().put_element(&s, body.as_bytes()).unwrap();
    assert!(!created);
    let old =
        "<rl:entry uri='sip:bob@example.test'>  <rl:display-name>Bob</rl:display-name> </rl:entry>";
    assert_eq!(new.text(), LISTS.replace(old, body));
    // And reads back as the edit.
    let again = XmlDocument::parse(new.text().as_bytes()).unwrap();
    assert_eq!(again.tree(), new.tree());
}

#[test]
fn deleting_an_element_keeps_the_whitespace_around_it() {
    // RFC 4825 §8.4: "the XCAP server MUST preserve surrounding whitespace".
    let (s, t) =
        sel("resource-lists/list[@name=\"friends\"]/entry[@uri=\"sip:carol@example.test\"]");
    let new = lists().delete(&s, &t).unwrap();
    assert_eq!(
        new.text(),
        LISTS.replace("<rl:entry uri='sip:carol@example.test' x:tag='1'/>", "")
    );
}

#[test]
fn inserting_under_a_prefixed_parent_reads_the_body_in_the_parents_namespace() {
    // The default namespace in scope is none; the body's unprefixed
    // <entry> is in the parent's namespace (as the tree reads it), so the
    // text gets one declaration for it, and nothing else changes.
    let (s, _) =
        sel("resource-lists/list[@name=\"friends\"]/entry[@uri=\"sip:dave@example.test\"]");
    let (new, created) = lists()
        .put_element(&s, b"<entry uri=\"sip:dave@example.test\"/>")
        .unwrap();
    assert!(created);
    assert_eq!(
        new.text(),
        LISTS.replace(
            "x:tag='1'/>",
            "x:tag='1'/><entry xmlns=\"urn:ietf:params:xml:ns:resource-lists\" uri=\"sip:dave@example.test\"/>"
        )
    );
    let entry = new
        .tree()
        .elements()
        .next()
        .unwrap()
        .elements()
        .nth(2)
        .unwrap();
    assert!(entry.is(RL, "entry"));
}

#[test]
fn inserting_into_an_empty_element_tag_opens_it() {
    let (s, _) = sel("resource-lists/list[@name=\"empty\"]/entry[@uri=\"sip:erin@example.test\"]");
    let (new, created) = lists()
        .put_element(&s, b"<rl:entry xmlns:rl=\"urn:ietf:params:xml:ns:resource-lists\" uri=\"sip:erin@example.test\"/>")
        .unwrap();
    assert!(created);
    assert_eq!(
        new.text(),
        LISTS.replace(
            "<rl:list name='empty'/>",
            "<rl:list name='empty'><rl:entry xmlns:rl=\"urn:ietf:params:xml:ns:resource-lists\" uri=\"sip:erin@example.test\"/></rl:list>"
        )
    );
}

#[test]
fn attribute_edits_touch_only_the_attribute() {
    let entry = "resource-lists/list[@name=\"friends\"]/entry[@uri=\"sip:carol@example.test\"]";
    // Replace a value (the document's prefix and quotes elsewhere stay).
    let bind = [("x".to_owned(), "urn:x".to_owned())];
    let (s, t) = parse_selector(&format!("{entry}/@x:tag"), &bind, RL).unwrap();
    let Target::Attribute(name) = &t else {
        panic!("an attribute")
    };
    let (new, created) = lists().put_attribute(&s, name, b"\"2 &amp; 3\"").unwrap();
    assert!(!created);
    assert_eq!(
        new.text(),
        LISTS.replace("x:tag='1'", "x:tag=\"2 &amp; 3\"")
    );
    // Add one in no namespace, and one in a namespace the document binds.
    let (s, t) = parse_selector(&format!("{entry}/@note"), &bind, RL).unwrap();
    let Target::Attribute(name) = &t else {
        panic!("an attribute")
    };
    let (new, created) = lists().put_attribute(&s, name, b"\"hi\"").unwrap();
    assert!(created);
    assert_eq!(
        new.text(),
        LISTS.replace("x:tag='1'/>", "x:tag='1' note=\"hi\"/>")
    );
    let (s, t) = parse_selector(&format!("{entry}/@x:other"), &bind, RL).unwrap();
    let Target::Attribute(name) = &t else {
        panic!("an attribute")
    };
    let (new, _) = lists().put_attribute(&s, name, b"\"v\"").unwrap();
    assert_eq!(
        new.text(),
        LISTS.replace("x:tag='1'/>", "x:tag='1' x:other=\"v\"/>")
    );
    // A namespace nobody declared gets a declaration beside it.
    let bind2 = [("y".to_owned(), "urn:y".to_owned())];
    let (s, t) = parse_selector(&format!("{entry}/@y:z"), &bind2, RL).unwrap();
    let Target::Attribute(name) = &t else {
        panic!("an attribute")
    };
    let (new, _) = lists().put_attribute(&s, name, b"\"v\"").unwrap();
    assert_eq!(
        new.text(),
        LISTS.replace("x:tag='1'/>", "x:tag='1' xmlns:ns1=\"urn:y\" ns1:z=\"v\"/>")
    );
    // Delete one.
    let (s, t) = parse_selector(&format!("{entry}/@x:tag"), &bind, RL).unwrap();
    let new = lists().delete(&s, &t).unwrap();
    assert_eq!(new.text(), LISTS.replace(" x:tag='1'", ""));
}

#[test]
fn replacing_the_root_keeps_the_prolog() {
    let (s, _) = sel("resource-lists");
    let body = "<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"/>";
    let (new, created) = lists().put_element(&s, body.as_bytes()).unwrap();
    assert!(!created);
    assert_eq!(
        new.text(),
        "<?xml version='1.0' encoding='UTF-8'?>\n<!-- alice's buddies -->\n<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"/>\n"
    );
}

#[test]
fn a_failed_edit_changes_nothing() {
    let d = lists();
    let (s, _) = sel("resource-lists/list[@name=\"friends\"]/entry[@uri=\"sip:zed@example.test\"]");
    assert!(
        d.put_element(&s, b"<entry uri=\"sip:other@example.test\"/>")
            .is_err()
    );
    assert_eq!(d.text(), LISTS);
}
