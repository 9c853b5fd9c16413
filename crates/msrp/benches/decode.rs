//! Decode throughput: a stream of 1 KB SEND frames, and one SEND carrying a
//! 1 MiB chunk fed in 64 KiB reads (as a socket reader would). The relay
//! target is 100 MB/s.

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure report

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use msrp::{Decoder, Frame, Limits, MessageId, Method, MsrpUri};

fn send(body: Bytes) -> Bytes {
    Frame::builder(Method::Send)
        .to_path(&[MsrpUri::parse("msrp://bob.example.com:8888/9di4eae923wzd;tcp").unwrap()])
        .from_path(&[MsrpUri::parse("msrp://alicepc.example.com:7777/iau39soe2843z;tcp").unwrap()])
        .message_id(&MessageId::random())
        .header("Byte-Range", &format!("1-{}/{}", body.len(), body.len()))
        .body("text/plain", body)
        .build()
        .unwrap()
        .to_bytes()
}

/// Printable filler with CRLFs and hyphen runs, so the end-line search meets
/// near-misses as in real text.
fn filler(n: usize) -> Bytes {
    let pattern = b"The quick brown fox -- jumps over the lazy dog.\r\n-------\r\n";
    Bytes::from(pattern.iter().copied().cycle().take(n).collect::<Vec<u8>>())
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");

    // 1 KB frames, 64 of them back to back in one buffer.
    let one = send(filler(1024 - 250));
    let frame_len = one.len();
    assert!((1000..=1100).contains(&frame_len), "{frame_len}");
    let mut stream = BytesMut::new();
    for _ in 0..64 {
        stream.extend_from_slice(&send(filler(1024 - 250)));
    }
    let stream = stream.freeze();
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function(format!("send_{frame_len}B_x64"), |b| {
        b.iter(|| {
            let mut d = Decoder::new(Limits::default());
            let mut buf = BytesMut::from(&stream[..]);
            let mut n = 0;
            while let Some(f) = d.decode(&mut buf).unwrap() {
                n += f.body().map_or(0, Bytes::len);
            }
            black_box(n)
        })
    });

    // One 1 MiB chunk arriving in 64 KiB reads.
    let big = send(filler(1 << 20));
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("send_1MiB_in_64KiB_reads", |b| {
        b.iter(|| {
            let mut d = Decoder::new(Limits::default());
            let mut buf = BytesMut::with_capacity(big.len());
            let mut out = None;
            for piece in big.chunks(64 * 1024) {
                buf.extend_from_slice(piece);
                if let Some(f) = d.decode(&mut buf).unwrap() {
                    out = Some(f);
                }
            }
            black_box(out.unwrap().body().map(Bytes::len))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
