//! RFC 4975 §7.3.1: chunks may arrive in any order, overlap or repeat; the
//! `$` chunk fixes the total; the message comes out once, whole. The CPIM
//! example of §11.4 in both orders, then random chunkings, permutations and
//! duplicates of random messages, through the encoder and decoder.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use bytes::{Bytes, BytesMut};
use msrp::{
    Chunker, Decoder, Frame, Limits, MessageId, MsrpUri, Reassembler, Reassembly, ReassemblyLimits,
};
use proptest::prelude::*;

#[test]
fn rfc4975_11_4_in_either_order() {
    let one = common::frame("rfc4975-11.4-cpim-chunk1.msrp");
    let two = common::frame("rfc4975-11.4-cpim-chunk2.msrp");
    let mut whole = one.body().unwrap().to_vec();
    whole.extend_from_slice(two.body().unwrap());
    // The RFC's Byte-Range says 148; the `$` chunk defines 147 (§7.3.1).
    assert_eq!(whole.len(), 147);
    for order in [[&one, &two], [&two, &one]] {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let first = r.handle_chunk(order[0]).unwrap();
        assert!(matches!(first, Reassembly::Partial { .. }), "{first:?}");
        let Reassembly::Complete(m) = r.handle_chunk(order[1]).unwrap() else {
            panic!("not complete");
        };
        assert_eq!(m.body.as_ref(), &whole[..]);
        assert_eq!(m.message_id.as_str(), "12339sdqwer");
        assert_eq!(m.content_type.as_deref(), Some("message/cpim"));
        assert_eq!(r.handle_chunk(order[0]).unwrap(), Reassembly::Duplicate);
        assert_eq!(r.partial_count(), 0);
    }
}

#[test]
fn whole_messages_pass_straight_through() {
    let f = common::frame("rfc4975-11.2-xhtml.msrp");
    let mut r = Reassembler::new(ReassemblyLimits::default());
    let Reassembly::Complete(m) = r.handle_chunk(&f).unwrap() else {
        panic!("complete");
    };
    // Zero-copy: the body is the frame's.
    assert_eq!(m.body.as_ptr(), f.body().unwrap().as_ptr());
}

fn uri(s: &str) -> MsrpUri {
    MsrpUri::parse(s).unwrap()
}

/// Chunks `body` with `max` bytes each, through encode and decode.
fn chunks(body: &Bytes, max: usize, known_total: bool) -> Vec<Frame> {
    let mut c = Chunker::new(
        &[uri("msrp://bob.example.com:8888/9di4eae923wzd;tcp")],
        &[uri("msrp://alicepc.example.com:7777/iau39soe2843z;tcp")],
        &MessageId::new("prop-msg").unwrap(),
        "application/octet-stream",
        body.clone(),
        max,
    )
    .unwrap();
    if !known_total {
        c = c.unknown_total();
    }
    let mut wire = BytesMut::new();
    let mut n = 0;
    while let Some(f) = c.next_chunk() {
        f.encode_into(&mut wire);
        n += 1;
    }
    let mut d = Decoder::new(Limits::default());
    let mut out = Vec::new();
    while let Some(f) = d.decode(&mut wire).unwrap() {
        out.push(f);
    }
    assert_eq!(out.len(), n);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_order_with_duplicates(
        body in proptest::collection::vec(any::<u8>(), 0..6000),
        max in 1usize..3000,
        known_total in any::<bool>(),
        seed in any::<u64>(),
        dup_every in 2usize..6,
    ) {
        let body = Bytes::from(body);
        let mut frames = chunks(&body, max, known_total);
        // A deterministic shuffle from the seed, then some chunks repeated.
        let mut s = seed;
        for i in (1..frames.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (s >> 33) as usize % (i + 1);
            frames.swap(i, j);
        }
        let dups: Vec<Frame> = frames.iter().step_by(dup_every).cloned().collect();
        frames.extend(dups);

        let mut r = Reassembler::new(ReassemblyLimits::default());
        let mut complete = 0;
        for f in &frames {
            match r.handle_chunk(f).unwrap() {
                Reassembly::Complete(m) => {
                    complete += 1;
                    prop_assert_eq!(&m.body, &body);
                }
                Reassembly::Partial { received, .. } => prop_assert!(received <= body.len() as u64),
                Reassembly::Duplicate => prop_assert!(complete == 1),
                Reassembly::Aborted => prop_assert!(false, "nothing aborted"),
            }
        }
        prop_assert_eq!(complete, 1, "exactly once");
        prop_assert_eq!(r.partial_count(), 0);
    }
}

#[test]
fn overlapping_resends_last_one_wins() {
    // A relay re-chunked differently and resent (§7.3.1: "the last chunk
    // received SHOULD take precedence").
    let body = Bytes::from_static(b"0123456789abcdefghij");
    let a = chunks(&body, 7, true);
    let changed = Bytes::from_static(b"0123456789ABCDEFGHIJ");
    let b = chunks(&changed, 5, true);
    let mut r = Reassembler::new(ReassemblyLimits::default());
    // All of a but its last chunk, then b's middle chunks, then a's last.
    for f in &a[..a.len() - 1] {
        r.handle_chunk(f).unwrap();
    }
    for f in &b[1..b.len() - 1] {
        r.handle_chunk(f).unwrap();
    }
    let Reassembly::Complete(m) = r.handle_chunk(&a[a.len() - 1]).unwrap() else {
        panic!("complete");
    };
    // a: 0-6, 7-13, 14-19; b's middle: 5-9, 10-14 ("56789", "ABCDE"); then a's
    // last (14-19) rewrites "E".
    assert_eq!(m.body.as_ref(), b"0123456789ABCDefghij");
}
