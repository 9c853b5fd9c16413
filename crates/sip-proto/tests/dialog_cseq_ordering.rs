//! In-dialog CSeq ordering and target refresh (RFC 3261 §12.2.2): a lower CSeq
//! than the last one is out of order (500); gaps are fine; an empty remote
//! sequence number takes the first one seen; a target refresh replaces the
//! remote target with its Contact.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::SipMessage;
use sip_proto::{Dialog, DialogError, DialogParts, DialogState};

fn dialog(remote_seq: Option<u32>) -> Dialog {
    Dialog::new(DialogParts {
        call_id: "d3",
        local_tag: "b1",
        remote_tag: Some("a1"),
        local_uri: "sip:bob@example.test",
        remote_uri: "sip:alice@example.test",
        remote_target: "sip:alice@192.0.2.1",
        route_set: Vec::new(),
        state: DialogState::Confirmed,
        local_seq: None,
        remote_seq,
        secure: false,
    })
}

fn in_dialog(method: &str, seq: u32, contact: Option<&str>) -> SipMessage {
    let contact = contact
        .map(|c| format!("Contact: {c}\r\n"))
        .unwrap_or_default();
    SipMessage::parse(Bytes::from(format!(
        "{method} sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK{seq}\r\n\
From: <sip:alice@example.test>;tag=a1\r\nTo: <sip:bob@example.test>;tag=b1\r\n\
Call-ID: d3\r\nCSeq: {seq} {method}\r\n{contact}Content-Length: 0\r\n\r\n"
    )))
    .unwrap()
}

#[test]
fn lower_cseq_is_rejected_with_500() {
    let mut d = dialog(Some(5));
    d.check_remote_cseq(&in_dialog("INFO", 6, None)).unwrap();
    assert_eq!(d.remote_seq, Some(6));
    // A gap (a challenged request the UAS never saw) is in order.
    d.check_remote_cseq(&in_dialog("INFO", 9, None)).unwrap();
    assert_eq!(d.remote_seq, Some(9));
    let err = d
        .check_remote_cseq(&in_dialog("INFO", 8, None))
        .unwrap_err();
    assert_eq!(err, DialogError::CSeqOutOfOrder { got: 8, remote: 9 });
    assert_eq!(err.status(), 500);
    // Rejected requests change nothing.
    assert_eq!(d.remote_seq, Some(9));
}

#[test]
fn empty_remote_sequence_number_takes_the_first() {
    let mut d = dialog(None);
    d.check_remote_cseq(&in_dialog("NOTIFY", 1, None)).unwrap();
    assert_eq!(d.remote_seq, Some(1));
}

#[test]
fn target_refresh_replaces_the_remote_target() {
    let mut d = dialog(Some(1));
    assert!(!d.refresh_target(&in_dialog("INVITE", 2, None)).unwrap());
    assert_eq!(d.remote_target(), "sip:alice@192.0.2.1");
    assert!(
        d.refresh_target(&in_dialog("INVITE", 3, Some("<sip:alice@192.0.2.77>")))
            .unwrap()
    );
    assert_eq!(d.remote_target(), "sip:alice@192.0.2.77");
    assert_eq!(
        d.refresh_target(&in_dialog("SUBSCRIBE", 4, Some("*")))
            .unwrap_err(),
        DialogError::BadContact
    );
}
