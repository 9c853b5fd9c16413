//! Dialog creation (RFC 3261 §12.1): the UAS builds its dialog from the
//! request and its own 1xx/2xx, the UAC from its request and the response;
//! route sets are the Record-Route in order (UAS) and reversed (UAC); an early
//! dialog is confirmed by the 2xx with its route set recomputed.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{Dialog, DialogError, DialogId, DialogState, Tag, response_builder};

fn invite() -> SipMessage {
    SipMessage::parse(Bytes::from_static(
        b"INVITE sips:bob@example.test SIP/2.0\r\n\
Via: SIP/2.0/TLS p2.example.test;branch=z9hG4bKp2\r\n\
Via: SIP/2.0/TLS p1.example.test;branch=z9hG4bKp1\r\n\
Via: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bKu1\r\n\
Record-Route: <sips:p2.example.test;lr>\r\n\
Record-Route: <sips:p1.example.test;lr;x=1>\r\n\
From: \"Alice\" <sips:alice@example.test>;tag=a1\r\n\
To: <sips:bob@example.test>\r\n\
Call-ID: d1@example.test\r\n\
CSeq: 101 INVITE\r\n\
Contact: <sips:alice@192.0.2.1;transport=tls>\r\n\
Content-Length: 0\r\n\r\n",
    ))
    .unwrap()
}

fn answer(req: &SipMessage, status: u16, tag: Option<&str>, contact: &str) -> SipMessage {
    let mut b = response_builder(req, status, "X", tag.map(Tag::from).as_ref()).unwrap();
    for rr in req.header_lines(HeaderName::RecordRoute) {
        b = b.header(HeaderName::RecordRoute, rr);
    }
    b.header(HeaderName::Contact, contact).build().unwrap()
}

#[test]
fn uas_and_uac_see_the_same_dialog_from_both_ends() {
    let req = invite();
    let ok = answer(&req, 200, Some("b1"), "<sips:bob@192.0.2.2>");
    let uas = Dialog::uas(&req, &ok).unwrap();
    assert_eq!(uas.state, DialogState::Confirmed);
    assert_eq!(uas.call_id(), "d1@example.test");
    assert_eq!(uas.local_tag(), "b1");
    assert_eq!(uas.remote_tag(), Some("a1"));
    assert_eq!(
        *uas.route_set,
        ["sips:p2.example.test;lr", "sips:p1.example.test;lr;x=1"]
    );
    assert_eq!(uas.remote_target(), "sips:alice@192.0.2.1;transport=tls");
    assert_eq!((uas.local_seq, uas.remote_seq), (None, Some(101)));
    assert_eq!(uas.local_uri(), "sips:bob@example.test");
    assert_eq!(uas.remote_uri(), "sips:alice@example.test");
    assert!(uas.secure);

    let uac = Dialog::uac(&req, &ok).unwrap();
    assert_eq!(Some(uac.local_tag()), uas.remote_tag());
    assert_eq!(uac.remote_tag(), Some(uas.local_tag()));
    // §12.1.2: reversed, parameters kept.
    assert_eq!(
        *uac.route_set,
        ["sips:p1.example.test;lr;x=1", "sips:p2.example.test;lr"]
    );
    assert_eq!(uac.remote_target(), "sips:bob@192.0.2.2");
    assert_eq!((uac.local_seq, uac.remote_seq), (Some(101), None));
    // The ids computed from received messages find the dialogs.
    assert_eq!(DialogId::of_received_response(&ok).unwrap(), uac.id());
    assert!(uac.has_id(&DialogId::of_received_response(&ok).unwrap()));
    assert!(!uas.has_id(&DialogId::of_received_response(&ok).unwrap()));
    let mut from_uac = uac.clone();
    let bye = from_uac
        .next_request("BYE")
        .unwrap()
        .header(HeaderName::Via, "SIP/2.0/TLS 192.0.2.1;branch=z9hG4bKbye")
        .build()
        .unwrap();
    assert_eq!(DialogId::of_received_request(&bye).unwrap(), Some(uas.id()));
    // Out of dialog: no To tag.
    assert_eq!(DialogId::of_received_request(&req).unwrap(), None);
}

#[test]
fn early_dialog_confirmed_by_the_2xx() {
    let req = invite();
    let ringing = answer(&req, 180, Some("b1"), "<sips:bob@192.0.2.2>");
    let mut uac = Dialog::uac(&req, &ringing).unwrap();
    assert_eq!(uac.state, DialogState::Early);
    // The 2xx comes with another Contact and one Record-Route less.
    let ok = response_builder(&req, 200, "OK", Some(&Tag::from("b1")))
        .unwrap()
        .header(HeaderName::RecordRoute, "<sips:p2.example.test;lr>")
        .header(HeaderName::Contact, "<sips:bob@192.0.2.3>")
        .build()
        .unwrap();
    uac.confirm(&ok).unwrap();
    assert_eq!(uac.state, DialogState::Confirmed);
    assert_eq!(*uac.route_set, ["sips:p2.example.test;lr"]);
    assert_eq!(uac.remote_target(), "sips:bob@192.0.2.3");
    // A 2xx of another fork belongs to another dialog.
    let fork = answer(&req, 200, Some("b9"), "<sips:bob@192.0.2.9>");
    assert_eq!(uac.confirm(&fork).unwrap_err(), DialogError::WrongDialog);
}

#[test]
fn what_cannot_create_a_dialog() {
    let req = invite();
    // A provisional without a To tag creates no early dialog.
    let trying = answer(&req, 100, None, "<sips:bob@192.0.2.2>");
    assert!(matches!(
        Dialog::uac(&req, &trying),
        Err(DialogError::NotDialogCreating(100))
    ));
    let no_tag = response_builder(&req, 180, "Ringing", None).unwrap_err();
    assert_eq!(no_tag, sip_proto::ProtoError::ToTagRequired);
    // A final failure does not either.
    let busy = answer(&req, 486, Some("b1"), "<sips:bob@192.0.2.2>");
    assert_eq!(
        Dialog::uas(&req, &busy).unwrap_err(),
        DialogError::NotDialogCreating(486)
    );
    // No Contact in the 2xx: no remote target.
    let bare = response_builder(&req, 200, "OK", Some(&Tag::from("b1")))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        Dialog::uac(&req, &bare).unwrap_err(),
        DialogError::MissingContact
    );
}
