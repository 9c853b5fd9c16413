//! Parse plus typed access to Via, From, To, Call-ID, CSeq, Contact and Event,
//! for the three messages of issue 2: a ~500-byte SUBSCRIBE, a PUBLISH with a
//! 1 KB PIDF body and a ~3.5 KB INVITE.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sip_msg::{FromTo, HeaderName, SipMessage, Via};

#[path = "support/messages.rs"]
mod messages;
use messages::{invite, publish, subscribe};

/// What a server touches on every request.
fn parse_and_access(raw: &Bytes) -> usize {
    let m = SipMessage::parse(raw.clone()).expect("benchmark message parses");
    let via = m.via().expect("via");
    let from = m.from().expect("from");
    let to = m.to().expect("to");
    let call_id = m.call_id().expect("call-id");
    let cseq = m.cseq().expect("cseq");
    let contact = m.contact().expect("contact");
    let event = m.event().expect("event");
    black_box((
        &via.branch(),
        &from.tag(),
        &to.tag(),
        call_id,
        cseq.seq,
        &contact,
        &event,
    ));
    m.body().len()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse+access");
    let longreq =
        String::from_utf8(include_bytes!("../../../testdata/rfc4475/longreq.dat").to_vec())
            .expect("longreq is UTF-8");
    for (name, msg) in [
        ("subscribe", subscribe()),
        ("publish_pidf", publish()),
        ("invite", invite()),
        ("rfc4475_longreq", longreq),
    ] {
        let raw = Bytes::from(msg);
        // The sizes the targets are stated for.
        match name {
            "subscribe" => assert!((450..=600).contains(&raw.len()), "{}", raw.len()),
            "publish_pidf" => assert!((1300..=1600).contains(&raw.len()), "{}", raw.len()),
            _ => assert!((3400..=3700).contains(&raw.len()), "{}", raw.len()),
        }
        // Every benchmark message must be valid, or we would time error paths.
        SipMessage::parse(raw.clone())
            .and_then(|m| m.validate())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function(format!("{name}_{}B", raw.len()), |b| {
            b.iter(|| parse_and_access(black_box(&raw)))
        });
        g.bench_function(format!("{name}_{}B_parse_only", raw.len()), |b| {
            b.iter(|| SipMessage::parse(black_box(raw.clone())).map(|m| m.header_count()))
        });
    }
    g.finish();
}

/// Each accessor alone on the parsed SUBSCRIBE, to see where access time goes.
fn bench_accessors(c: &mut Criterion) {
    let m = SipMessage::parse(Bytes::from(subscribe())).expect("parses");
    let mut g = c.benchmark_group("access/subscribe");
    // `via()` keeps its first parse in the message, so this times the cached
    // path; `via_parse` below is the per-header parse every fresh message pays.
    g.bench_function("via", |b| b.iter(|| black_box(&m).via().map(|v| v.port)));
    let via_raw = m.header(HeaderName::Via).expect("via");
    g.bench_function("via_parse", |b| {
        b.iter(|| Via::parse(black_box(via_raw)).map(|v| v.port))
    });
    let from_raw = m.header(HeaderName::From).expect("from");
    g.bench_function("from_parse", |b| {
        b.iter(|| FromTo::parse(black_box(from_raw)).map(|f| f.tag()))
    });
    g.bench_function("from", |b| b.iter(|| black_box(&m).from().map(|v| v.tag())));
    g.bench_function("to", |b| b.iter(|| black_box(&m).to().map(|v| v.tag())));
    g.bench_function("call_id", |b| {
        b.iter(|| black_box(&m).call_id().map(str::len))
    });
    g.bench_function("cseq", |b| b.iter(|| black_box(&m).cseq().map(|c| c.seq)));
    g.bench_function("contact", |b| {
        b.iter(|| black_box(&m).contact().map(|c| c.is_some()))
    });
    g.bench_function("event", |b| {
        b.iter(|| black_box(&m).event().map(|e| e.is_some()))
    });
    g.finish();
}

criterion_group!(benches, bench, bench_accessors);
criterion_main!(benches);
