//! RFC 4825 §8.2.3 / §8.4 over HTTP: element and attribute PUTs and DELETEs
//! change only the bytes of the node they name. The stored document's
//! XML declaration, comments, blank lines and indentation, its namespace
//! prefixes and single quotes, and the bytes of every other element come
//! back from a GET exactly as they were PUT.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod http;

use common::{Server, add_user};
use http::authed;

const DOC: &str = "/xcap-root/resource-lists/users/sip:alice@example.test/index";
const LISTS: &str = "<?xml version='1.0' encoding='UTF-8'?>
<!-- Alice's lists, edited by hand -->
<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"
                xmlns:x=\"urn:example:ext\">
  <list name='friends'>
    <!-- old friends first -->
    <entry uri='sip:bob@example.test' x:since='2001'>
      <display-name>Bob</display-name>
    </entry>

    <entry uri='sip:carol@example.test'/>
  </list>
  <list name='work'/>
</resource-lists>
";

fn node(sel: &str) -> String {
    format!("{DOC}/~~/{sel}")
}

#[test]
fn element_and_attribute_edits_keep_the_rest_of_the_text() {
    let s = Server::start(&[]);
    add_user(&s.data_dir, "alice@example.test", "secret");
    let a = s.ws.unwrap();
    let alice =
        |m: &str, t: &str, h: &[(&str, &str)], b: &[u8]| authed(a, "alice", "secret", m, t, h, b);
    let el = [("Content-Type", "application/xcap-el+xml")];
    let att = [("Content-Type", "application/xcap-att+xml")];
    let stored = || {
        let r = alice("GET", DOC, &[], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        r.text()
    };

    let r = alice(
        "PUT",
        DOC,
        &[("Content-Type", "application/resource-lists+xml")],
        LISTS.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(stored(), LISTS);

    // Insert: "earliest last", right after carol (§8.2.3), nothing else moves.
    let dave = node(
        "resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:dave@example.test%22%5d",
    );
    let r = alice("PUT", &dave, &el, b"<entry uri=\"sip:dave@example.test\"/>");
    assert_eq!(r.status, 201, "{}", r.text());
    let mut want = LISTS.replace(
        "<entry uri='sip:carol@example.test'/>",
        "<entry uri='sip:carol@example.test'/><entry uri=\"sip:dave@example.test\"/>",
    );
    assert_eq!(stored(), want);

    // Into an empty list: the empty-element tag opens, nothing else moves.
    let erin = node(
        "resource-lists/list%5b@name=%22work%22%5d/entry%5b@uri=%22sip:erin@example.test%22%5d",
    );
    let r = alice("PUT", &erin, &el, b"<entry uri=\"sip:erin@example.test\"/>");
    assert_eq!(r.status, 201, "{}", r.text());
    want = want.replace(
        "<list name='work'/>",
        "<list name='work'><entry uri=\"sip:erin@example.test\"/></list>",
    );
    assert_eq!(stored(), want);

    // Replace bob: the new bytes are the body's as sent.
    let bob = node(
        "resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:bob@example.test%22%5d",
    );
    let new_bob =
        "<entry uri=\"sip:bob@example.test\">\n\t<display-name>Robert</display-name>\n</entry>";
    let r = alice("PUT", &bob, &el, new_bob.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    want = want.replace(
        "<entry uri='sip:bob@example.test' x:since='2001'>\n      <display-name>Bob</display-name>\n    </entry>",
        new_bob,
    );
    assert_eq!(stored(), want);

    // Attributes: set one, add one with the document's own prefix, delete one.
    let carol = node(
        "resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:carol@example.test%22%5d",
    );
    let r = alice(
        "PUT",
        &format!("{carol}/@x:since?xmlns(x=urn:example:ext)"),
        &att,
        b"\"1999\"",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    want = want.replace(
        "<entry uri='sip:carol@example.test'/>",
        "<entry uri='sip:carol@example.test' x:since=\"1999\"/>",
    );
    assert_eq!(stored(), want);
    let r = alice(
        "PUT",
        &format!("{carol}/@x:since?xmlns(x=urn:example:ext)"),
        &att,
        b"\"1998\"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    want = want.replace("x:since=\"1999\"", "x:since=\"1998\"");
    assert_eq!(stored(), want);
    let r = alice(
        "DELETE",
        &format!("{carol}/@x:since?xmlns(x=urn:example:ext)"),
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    want = want.replace(" x:since=\"1998\"", "");
    assert_eq!(stored(), want);

    // Delete dave: only his bytes go; the whitespace around stays (§8.4).
    let r = alice("DELETE", &dave, &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    want = want.replace("<entry uri=\"sip:dave@example.test\"/>", "");
    assert_eq!(stored(), want);
    assert_eq!(
        want,
        LISTS
            .replace(
                "<entry uri='sip:bob@example.test' x:since='2001'>\n      <display-name>Bob</display-name>\n    </entry>",
                new_bob,
            )
            .replace(
                "<list name='work'/>",
                "<list name='work'><entry uri=\"sip:erin@example.test\"/></list>",
            ),
        "after all that, only bob and the work list differ from what was PUT"
    );

    // The element GET still reads the edited element.
    let r = alice("GET", &bob, &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Robert"), "{}", r.text());
}
