//! A frame larger than the decoder allows is answered 413 (RFC 4975 §10.5:
//! "stop sending the particular message") as soon as the cap is crossed,
//! its rest is dropped as it arrives (memory stays bounded), and the frames
//! after it decode normally. A header section over its cap is a 400.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use bytes::{Bytes, BytesMut};
use msrp::{Continuation, Decoder, ErrorKind, Frame, Limits, MessageId, Method, MsrpUri, report};

fn big(len: usize) -> Frame {
    Frame::builder(Method::Send)
        .to_path(&[MsrpUri::parse("msrp://relay.example.com:2855/abcdef;tcp").unwrap()])
        .from_path(&[MsrpUri::parse("msrp://alice.example.com:7777/xyz123;tcp").unwrap()])
        .message_id(&MessageId::random())
        .header("Byte-Range", "1-*/*")
        .body("application/octet-stream", Bytes::from(vec![b'x'; len]))
        .continuation(Continuation::More)
        .build()
        .unwrap()
}

#[test]
fn answered_413_then_in_step() {
    let limits = Limits {
        max_body: 64 * 1024,
        ..Limits::default()
    };
    let oversized = big(1024 * 1024);
    let after = common::raw("rfc4975-11.1-send-alice.msrp");
    let mut wire = BytesMut::new();
    wire.extend_from_slice(&common::raw("rfc4975-4-fig2-send.msrp"));
    oversized.encode_into(&mut wire);
    wire.extend_from_slice(&after);

    let mut d = Decoder::new(limits);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut errors = Vec::new();
    let mut peak = 0;
    for piece in wire.chunks(16 * 1024) {
        buf.extend_from_slice(piece);
        peak = peak.max(buf.len());
        loop {
            match d.decode(&mut buf) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => errors.push(e),
            }
        }
    }
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].to_bytes(), after);
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert_eq!(
        (e.kind(), e.status(), e.must_close()),
        (ErrorKind::BodyTooLarge, 413, false)
    );
    assert_eq!(e.transaction_id(), Some(oversized.transaction_id()));
    // The answer is the §7.2 response to the oversized SEND.
    let a = e.answer().unwrap();
    let mut want = oversized.response(413, Some("Message Too Large")).unwrap();
    want.set_transaction_id(oversized.transaction_id().clone());
    assert_eq!(a, want);
    assert!(report::response_owed(&oversized, 413));
    assert!(
        peak < limits.max_body + 64 * 1024,
        "buffer peaked at {peak}"
    );
}

#[test]
fn header_section_over_its_cap() {
    let mut d = Decoder::new(Limits {
        max_head: 256,
        ..Limits::default()
    });
    let mut f = big(10);
    f.set_header("X-Padding", &"p".repeat(400)).unwrap();
    let mut buf = BytesMut::new();
    f.encode_into(&mut buf);
    buf.extend_from_slice(&common::raw("rfc4975-4-fig2-200.msrp"));
    let e = d.decode(&mut buf).unwrap_err();
    assert_eq!(
        (e.kind(), e.status(), e.must_close()),
        (ErrorKind::HeaderTooLarge, 400, false)
    );
    assert!(e.answer().is_some());
    assert_eq!(
        d.decode(&mut buf).unwrap().unwrap().to_bytes(),
        common::raw("rfc4975-4-fig2-200.msrp")
    );
}
