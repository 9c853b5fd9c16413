//! A 10 MB body arriving in 64 KB reads decodes into one frame whose body is
//! the bytes sent, with the decoder resuming its end-line search where it
//! stopped (a quadratic rescan would take minutes here, even in release
//! builds; a bounded time makes that a failure rather than a hang). The body
//! is full of end-line look-alikes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use msrp::{Continuation, Decoder, Frame, Limits, MessageId, Method, MsrpUri};

fn big_send(len: usize) -> (Frame, Bytes) {
    // Text with CRLFs, hyphen runs, and the frame's own id after seven hyphens
    // but without a flag: all of it body.
    let pattern = b"lorem ipsum\r\n-------\r\n-------bigtid01x\r\n--------------bigtid01";
    let body = Bytes::from(
        pattern
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect::<Vec<u8>>(),
    );
    let f = Frame::builder(Method::Send)
        .transaction_id("bigtid01".parse().unwrap())
        .to_path(&[MsrpUri::parse("msrp://relay.example.com:2855/abcdef;tcp").unwrap()])
        .from_path(&[MsrpUri::parse("msrp://alice.example.com:7777/xyz123;tcp").unwrap()])
        .message_id(&MessageId::random())
        .header("Byte-Range", "1-*/*")
        .body("application/octet-stream", body.clone())
        .continuation(Continuation::More)
        .build()
        .unwrap();
    assert_eq!(
        f.transaction_id().as_str(),
        "bigtid01",
        "no flag after the id: kept"
    );
    (f, body)
}

#[test]
fn ten_megabytes_in_64k_reads() {
    let (f, body) = big_send(10 * 1024 * 1024);
    let wire = f.to_bytes();
    let mut d = Decoder::new(Limits {
        max_body: 16 * 1024 * 1024,
        ..Limits::default()
    });
    let mut buf = BytesMut::new();
    let started = Instant::now();
    let mut got = None;
    let mut calls = 0;
    for piece in wire.chunks(64 * 1024) {
        assert!(got.is_none(), "frame ended early");
        buf.extend_from_slice(piece);
        calls += 1;
        got = d.decode(&mut buf).unwrap();
        if got.is_none() {
            assert!(d.is_mid_frame());
        }
    }
    let got = got.expect("frame decoded at the last piece");
    assert!(calls > 150);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert!(buf.is_empty());
    assert_eq!(got.body().unwrap(), &body);
    assert_eq!(got.continuation(), Continuation::More);
    assert_eq!(got.to_bytes(), wire);
}

#[test]
fn trickled_1k_reads_of_a_megabyte() {
    let (f, body) = big_send(1024 * 1024);
    let wire = f.to_bytes();
    let mut d = Decoder::new(Limits::default());
    let mut buf = BytesMut::new();
    let started = Instant::now();
    let mut got = None;
    for piece in wire.chunks(1024) {
        buf.extend_from_slice(piece);
        if let Some(f) = d.decode(&mut buf).unwrap() {
            got = Some(f);
        }
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(got.unwrap().body().unwrap(), &body);
}
