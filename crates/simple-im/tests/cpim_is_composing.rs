//! RFC 3994 is-composing indications are recognised directly and inside
//! message/cpim; ordinary text is not one.

use simple_im::cpim::{is_composing, is_cpim};

const ISCOMPOSING_XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<isComposing xmlns=\"urn:ietf:params:xml:ns:im-iscomposing\">\r\n\
  <state>active</state>\r\n\
  <contenttype>text/plain</contenttype>\r\n\
</isComposing>\r\n";

#[test]
fn direct() {
    assert!(is_composing(
        "application/im-iscomposing+xml",
        ISCOMPOSING_XML.as_bytes()
    ));
    assert!(is_composing(
        "Application/IM-IsComposing+XML; charset=UTF-8",
        b""
    ));
}

#[test]
fn cpim_wrapped() {
    let body = format!(
        "From: <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\nDateTime: 2024-01-01T00:00:00Z\r\n\r\n\
         Content-Type: application/im-iscomposing+xml\r\n\r\n{ISCOMPOSING_XML}"
    );
    assert!(is_composing("message/cpim", body.as_bytes()));
    assert!(is_composing("Message/CPIM", body.as_bytes()));
    // The inner part must be an is-composing document, not the outer type.
    assert!(!is_composing("text/plain", body.as_bytes()));
}

#[test]
fn text_is_not_composing() {
    assert!(!is_composing("text/plain", b"hello"));
    assert!(!is_composing("text/plain", ISCOMPOSING_XML.as_bytes()));
    let cpim_text = b"From: <sip:a@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhello";
    assert!(!is_composing("message/cpim", cpim_text));
    // Unparseable or content-type-less CPIM is not an is-composing indication.
    assert!(!is_composing("message/cpim", b"garbage"));
    assert!(!is_composing(
        "message/cpim",
        b"From: <sip:a@x>\r\n\r\nhello"
    ));
    assert!(!is_composing("", b""));
}

#[test]
fn is_cpim_ignores_parameters_and_case() {
    assert!(is_cpim("message/cpim"));
    assert!(is_cpim(" MESSAGE/CPIM;charset=utf-8"));
    assert!(!is_cpim("message/imdn+xml"));
    assert!(!is_cpim(""));
}
