//! A message chunked by the sender (RFC 4975 §7.1.1), encoded, carried over a
//! stream and decoded, reassembles into the same bytes, even when the body is
//! made of end-lines: every chunk's transaction id is chosen so that its
//! end-line does not occur in its body (§7.1).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use bytes::{Bytes, BytesMut};
use msrp::{
    Chunker, Continuation, Decoder, Limits, MessageId, MsrpUri, Reassembler, Reassembly,
    ReassemblyLimits, report,
};
use proptest::prelude::*;

fn uri(s: &str) -> MsrpUri {
    MsrpUri::parse(s).unwrap()
}

fn carry(body: Bytes, max: usize, split: usize) -> Bytes {
    let mut c = Chunker::new(
        &[uri("msrp://bob.example.com:8888/9di4eae923wzd;tcp")],
        &[uri("msrp://alicepc.example.com:7777/iau39soe2843z;tcp")],
        &MessageId::random(),
        "text/plain",
        body,
        max,
    )
    .unwrap()
    .with_header("Success-Report", "yes")
    .unwrap();
    let mut wire = BytesMut::new();
    while let Some(f) = c.next_chunk() {
        assert!(!f.end_line_in_body());
        f.encode_into(&mut wire);
    }
    let mut d = Decoder::new(Limits::default());
    let mut r = Reassembler::new(ReassemblyLimits::default());
    let mut buf = BytesMut::new();
    let mut out = None;
    for piece in wire.chunks(split.max(1)) {
        buf.extend_from_slice(piece);
        while let Some(f) = d.decode(&mut buf).unwrap() {
            assert!(report::success_report_owed(&f));
            if let Reassembly::Complete(m) = r.handle_chunk(&f).unwrap() {
                assert!(out.is_none());
                assert_eq!(f.continuation(), Continuation::Done);
                out = Some(m.body);
            }
        }
    }
    out.unwrap()
}

#[test]
fn bodies_full_of_end_lines() {
    // Every chunk of this body would end early with a naive id choice.
    let mut body = Vec::new();
    for i in 0..2000 {
        body.extend_from_slice(format!("\r\n-------tid{i:05}$\r\n-------x+\r\n").as_bytes());
    }
    let body = Bytes::from(body);
    assert_eq!(carry(body.clone(), 4096, 1500), body);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_body_any_chunk_size(
        body in proptest::collection::vec(any::<u8>().prop_map(|b| match b % 8 {
            0 => b'-',
            1 => b'\r',
            2 => b'\n',
            3 => b'$',
            _ => b,
        }), 0..5000),
        max in 64usize..3000,
        split in 1usize..2000,
    ) {
        let body = Bytes::from(body);
        prop_assert_eq!(carry(body.clone(), max, split), body);
    }
}
