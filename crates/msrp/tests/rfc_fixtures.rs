//! Every frame printed in RFC 4975 and RFC 4976, as a table: what it must
//! decode to, that it encodes back byte for byte, and that it decodes the
//! same however the bytes are split. The Figure 3 snippets of RFC 4975 §5.1
//! lack To-Path and From-Path and must be refused with 400, skipped cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use bytes::BytesMut;
use msrp::{Continuation, Decoder, ErrorKind, Limits, Method};

/// What each frame is: transaction id, method or status, body length (None:
/// no body), flag.
struct Expect {
    file: &'static str,
    tid: &'static str,
    what: What,
    body: Option<usize>,
    flag: Continuation,
}

enum What {
    Req(Method),
    Resp(u16, &'static str),
}

use Continuation::{Done, More};
use What::{Req, Resp};

const fn e(
    file: &'static str,
    tid: &'static str,
    what: What,
    body: Option<usize>,
    flag: Continuation,
) -> Expect {
    Expect {
        file,
        tid,
        what,
        body,
        flag,
    }
}

fn table() -> Vec<Expect> {
    vec![
        e(
            "rfc4975-4-fig2-send.msrp",
            "a786hjs2",
            Req(Method::Send),
            Some(23),
            Done,
        ),
        e(
            "rfc4975-4-fig2-200.msrp",
            "a786hjs2",
            Resp(200, "OK"),
            None,
            Done,
        ),
        e(
            "rfc4975-11.1-send-alice.msrp",
            "d93kswow",
            Req(Method::Send),
            Some(14),
            Done,
        ),
        e(
            "rfc4975-11.1-200-bob.msrp",
            "d93kswow",
            Resp(200, "OK"),
            None,
            Done,
        ),
        e(
            "rfc4975-11.1-send-bob.msrp",
            "dkei38sd",
            Req(Method::Send),
            Some(20),
            Done,
        ),
        e(
            "rfc4975-11.1-200-alice.msrp",
            "dkei38sd",
            Resp(200, "OK"),
            None,
            Done,
        ),
        e(
            "rfc4975-11.2-xhtml.msrp",
            "dsdfoe38sd",
            Req(Method::Send),
            Some(384),
            Done,
        ),
        e(
            "rfc4975-11.4-cpim-chunk1.msrp",
            "d93kswow",
            Req(Method::Send),
            Some(137),
            More,
        ),
        e(
            "rfc4975-11.4-cpim-chunk2.msrp",
            "op2nc9a",
            Req(Method::Send),
            Some(10),
            Done,
        ),
        e(
            "rfc4975-11.5-system.msrp",
            "d93kswow",
            Req(Method::Send),
            Some(37),
            Done,
        ),
        e(
            "rfc4975-11.6-send.msrp",
            "d93kswow",
            Req(Method::Send),
            Some(121),
            Done,
        ),
        e(
            "rfc4975-11.6-report.msrp",
            "dkei38sd",
            Req(Method::Report),
            None,
            Done,
        ),
        e(
            "rfc4976-3-send-alice.msrp",
            "6aef",
            Req(Method::Send),
            Some(39),
            Done,
        ),
        e("rfc4976-3-200-a.msrp", "6aef", Resp(200, "OK"), None, Done),
        e(
            "rfc4976-3-send-a.msrp",
            "juh76",
            Req(Method::Send),
            Some(39),
            Done,
        ),
        e("rfc4976-3-200-b.msrp", "juh76", Resp(200, "OK"), None, Done),
        e(
            "rfc4976-3-send-b.msrp",
            "xght6",
            Req(Method::Send),
            Some(39),
            Done,
        ),
        e(
            "rfc4976-3-200-bob.msrp",
            "xght6",
            Resp(200, "OK"),
            None,
            Done,
        ),
        e(
            "rfc4976-3-report-bob.msrp",
            "yh67",
            Req(Method::Report),
            None,
            Done,
        ),
        e(
            "rfc4976-3-report-b.msrp",
            "yh67",
            Req(Method::Report),
            None,
            Done,
        ),
        e(
            "rfc4976-3-report-a.msrp",
            "yh67",
            Req(Method::Report),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-auth-intra.msrp",
            "49fh",
            Req(Method::Auth),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-401-intra.msrp",
            "49fh",
            Resp(401, "Unauthorized"),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-auth-intra-credentials.msrp",
            "49fi",
            Req(Method::Auth),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-200-intra.msrp",
            "49fi",
            Resp(200, "OK"),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-auth-extra.msrp",
            "mnbvw",
            Req(Method::Auth),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-auth-extra-forwarded.msrp",
            "m2nbvw",
            Req(Method::Auth),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-401-extra.msrp",
            "m2nbvw",
            Resp(401, "Unauthorized"),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-401-extra-forwarded.msrp",
            "mnbvw",
            Resp(401, "Unauthorized"),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-auth-extra-credentials.msrp",
            "m3nbvx",
            Req(Method::Auth),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-auth-extra-credentials-forwarded.msrp",
            "m4nbvx",
            Req(Method::Auth),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-200-extra.msrp",
            "m4nbvx",
            Resp(200, "OK"),
            None,
            Done,
        ),
        e(
            "rfc4976-5.1-200-extra-forwarded.msrp",
            "m3nbvx",
            Resp(200, "OK"),
            None,
            Done,
        ),
    ]
}

#[test]
fn the_table_covers_every_fixture() {
    let mut listed: Vec<&str> = table().iter().map(|e| e.file).collect();
    listed.extend(common::SNIPPETS);
    listed.sort_unstable();
    assert_eq!(listed, common::all());
}

#[test]
fn every_rfc_frame_decodes_as_printed() {
    for x in table() {
        let f = common::frame(x.file);
        let ctx = x.file;
        assert_eq!(f.transaction_id().as_str(), x.tid, "{ctx}");
        match &x.what {
            Req(m) => assert_eq!(f.method(), Some(m), "{ctx}"),
            Resp(code, comment) => {
                assert_eq!(f.status(), Some(*code), "{ctx}");
                assert_eq!(f.comment(), Some(*comment), "{ctx}");
            }
        }
        assert_eq!(f.body().map(|b| b.len()), x.body, "{ctx}");
        assert_eq!(f.continuation(), x.flag, "{ctx}");
        // Every typed header of every RFC frame reads back.
        assert!(!f.to_path().unwrap().is_empty(), "{ctx}");
        assert!(!f.from_path().unwrap().is_empty(), "{ctx}");
        f.message_id().unwrap();
        f.byte_range().unwrap();
        f.success_report().unwrap();
        f.failure_report().unwrap();
        f.status_header().unwrap();
        f.use_path().unwrap();
        f.expires().unwrap();
        if f.body().is_some() {
            assert!(f.content_type().is_some(), "{ctx}");
        }
    }
}

#[test]
fn every_rfc_frame_encodes_back_byte_for_byte() {
    for x in table() {
        let raw = common::raw(x.file);
        let f = common::frame(x.file);
        assert_eq!(f.to_bytes(), raw, "{}", x.file);
        assert_eq!(f.encoded_len(), raw.len(), "{}", x.file);
    }
}

#[test]
fn every_split_point_decodes_the_same() {
    for x in table() {
        let raw = common::raw(x.file);
        for k in 0..raw.len() {
            let mut d = Decoder::new(Limits::default());
            let mut buf = BytesMut::from(&raw[..k]);
            assert_eq!(d.decode(&mut buf).unwrap(), None, "{} split at {k}", x.file);
            assert_eq!(buf.len(), k, "{}: consumed while asking for more", x.file);
            buf.extend_from_slice(&raw[k..]);
            let f = d.decode(&mut buf).unwrap().unwrap();
            assert_eq!(f.to_bytes(), raw, "{} split at {k}", x.file);
            assert!(buf.is_empty());
        }
    }
}

#[test]
fn figure_3_snippets_are_refused_and_skipped() {
    for name in common::SNIPPETS {
        let mut buf = BytesMut::from(&common::raw(name)[..]);
        let ok = common::raw("rfc4975-4-fig2-200.msrp");
        buf.extend_from_slice(&ok);
        let mut d = Decoder::new(Limits::default());
        let e = d.decode(&mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingHeader, "{name}");
        assert_eq!(e.status(), 400);
        assert_eq!(e.reason(), "Missing To-Path");
        assert!(!e.must_close());
        assert!(e.transaction_id().is_some());
        // No path to answer along.
        assert!(e.answer().is_none());
        assert_eq!(d.decode(&mut buf).unwrap().unwrap().to_bytes(), ok);
    }
}
