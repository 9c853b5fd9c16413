//! RFC 4825 §7.6: a fetched element is the document's own bytes, from the
//! `<` of its start tag to the `>` of its end tag — inner whitespace,
//! comments, the document's prefixes and attribute quoting as stored, and
//! no namespace declaration copied in from an ancestor.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_xcap::edit::XmlDocument;
use simple_xcap::selector::parse_selector;

const DOC: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rl:resource-lists xmlns:rl=\"urn:ietf:params:xml:ns:resource-lists\">\n  <rl:list name='friends'>\n    <!-- best ones first -->\n    <rl:entry   uri=\"sip:bob@example.test\"><rl:display-name>Bob  B.</rl:display-name></rl:entry>\n  </rl:list>\n</rl:resource-lists>\n";

#[test]
fn an_element_comes_back_byte_for_byte() {
    let d = XmlDocument::parse(DOC.as_bytes()).unwrap();
    let ns = "urn:ietf:params:xml:ns:resource-lists";
    let (sel, t) = parse_selector("resource-lists/list[@name=\"friends\"]", &[], ns).unwrap();
    let got = d.get(&sel, &t).unwrap().into_body();
    let start = DOC.find("<rl:list").unwrap();
    let end = DOC.find("</rl:list>").unwrap() + "</rl:list>".len();
    assert_eq!(got, DOC[start..end]);
    assert!(!got.contains("xmlns"), "no ancestor binding added: {got}");
    let (sel, t) =
        parse_selector("resource-lists/list[@name=\"friends\"]/entry[1]", &[], ns).unwrap();
    assert_eq!(
        d.get(&sel, &t).unwrap().into_body(),
        "<rl:entry   uri=\"sip:bob@example.test\"><rl:display-name>Bob  B.</rl:display-name></rl:entry>"
    );
    // After an edit elsewhere, the untouched element still reads as stored.
    let (add, _) = parse_selector(
        "resource-lists/list[@name=\"friends\"]/entry[@uri=\"sip:carol@example.test\"]",
        &[],
        ns,
    )
    .unwrap();
    let (d2, _) = d
        .put_element(&add, b"<entry xmlns=\"urn:ietf:params:xml:ns:resource-lists\" uri=\"sip:carol@example.test\"/>")
        .unwrap();
    assert_eq!(
        d2.get(&sel, &t).unwrap().into_body(),
        "<rl:entry   uri=\"sip:bob@example.test\"><rl:display-name>Bob  B.</rl:display-name></rl:entry>"
    );
    // A missing element is still 404.
    let (none, t) = parse_selector("resource-lists/list[@name=\"x\"]", &[], ns).unwrap();
    assert_eq!(d.get(&none, &t).unwrap_err().status(), 404);
}
