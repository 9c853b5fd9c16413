//! RFC 3903 §6 step 5: a PUBLISH body of a type the package does not take
//! is refused with 415 and an Accept listing the types it does take.

// Test helpers unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::{HeaderName, SipMessage};
use sip_proto::check_content_type;

const ACCEPTED: &[&str] = &["application/pidf+xml", "multipart/related"];

fn publish(content_type: Option<&str>, body: &str) -> SipMessage {
    let ct = content_type
        .map(|c| format!("Content-Type: {c}\r\n"))
        .unwrap_or_default();
    SipMessage::parse(Bytes::from(format!(
        "PUBLISH sip:alice@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKq1\r\n\
From: <sip:alice@example.test>;tag=q1\r\n\
To: <sip:alice@example.test>\r\n\
Call-ID: pub2@192.0.2.1\r\n\
CSeq: 1 PUBLISH\r\n\
Event: presence\r\n\
{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )))
    .unwrap()
}

#[test]
fn accepted_types_pass_case_insensitively_and_with_parameters() {
    assert_eq!(
        check_content_type(&publish(Some("application/pidf+xml"), "<p/>"), ACCEPTED),
        Ok(())
    );
    assert_eq!(
        check_content_type(
            &publish(Some("Application/PIDF+XML; charset=UTF-8"), "<p/>"),
            ACCEPTED
        ),
        Ok(())
    );
    assert_eq!(
        check_content_type(
            &publish(
                Some("multipart/related;type=\"application/rlmi+xml\";boundary=x"),
                "--x--"
            ),
            ACCEPTED
        ),
        Ok(())
    );
}

#[test]
fn other_types_are_415_with_accept() {
    let r = check_content_type(&publish(Some("text/plain"), "hello"), ACCEPTED).unwrap_err();
    assert_eq!(
        (r.status, r.reason.as_str()),
        (415, "Unsupported Media Type")
    );
    assert_eq!(
        r.header(HeaderName::Accept),
        Some("application/pidf+xml, multipart/related")
    );
}

#[test]
fn no_body_passes_and_body_without_content_type_is_400() {
    assert_eq!(check_content_type(&publish(None, ""), ACCEPTED), Ok(()));
    let r = check_content_type(&publish(None, "<p/>"), ACCEPTED).unwrap_err();
    assert_eq!(r.status, 400);
}
