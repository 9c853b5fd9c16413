//! RFC 4825 §7.6: a fetched element is a self-contained fragment — every
//! namespace it uses is declared, including the fixed PIDF prefixes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_pidf::xml::{parse_tree, to_xml};
use simple_xcap::edit::{get, put_element};
use simple_xcap::selector::parse_selector;

const PIDF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
          xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
          xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
          entity="pres:alice@example.test">
  <dm:person id="p1"><rpid:activities><rpid:busy/></rpid:activities></dm:person>
  <tuple id="t1"><status><basic>open</basic></status></tuple>
</presence>"#;

#[test]
fn fragments_and_documents_reparse_to_the_same_tree() {
    let doc = parse_tree(PIDF.as_bytes()).unwrap();
    let again = parse_tree(to_xml(&doc).as_bytes()).unwrap();
    assert_eq!(again, doc);
    assert!(to_xml(&doc).starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<presence"));

    let b = vec![(
        "dm".to_owned(),
        "urn:ietf:params:xml:ns:pidf:data-model".to_owned(),
    )];
    let (sel, t) = parse_selector("presence/dm:person", &b, "urn:ietf:params:xml:ns:pidf").unwrap();
    let frag = get(&doc, &sel, &t).unwrap().into_body();
    let el = parse_tree(frag.as_bytes()).unwrap();
    assert!(el.is("urn:ietf:params:xml:ns:pidf:data-model", "person"));
    assert_eq!(Some(&el), doc.elements().next());
}

#[test]
fn put_fragment_with_own_declarations() {
    let mut doc = parse_tree(PIDF.as_bytes()).unwrap();
    let (sel, _) = parse_selector(
        "presence/tuple[@id=\"t2\"]",
        &[],
        "urn:ietf:params:xml:ns:pidf",
    )
    .unwrap();
    let body = br#"<tuple id="t2" xmlns:x="urn:x"><status><basic>closed</basic></status><x:y x:z="1"/></tuple>"#;
    assert_eq!(put_element(&mut doc, &sel, body), Ok(true));
    let again = parse_tree(to_xml(&doc).as_bytes()).unwrap();
    assert_eq!(again, doc);
}
