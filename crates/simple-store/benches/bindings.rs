//! `replace_bindings` on SQLite in a temp dir, the registrar's write pattern: batches of
//! 1, 100 and 500 AORs, one binding each (with Path, +sip.instance and reg-id, as an
//! RFC 5626 client registers), into a table already holding 10 000 AORs. Each batch is one
//! transaction; the throughput line is AORs per second, so per-AOR cost = time / batch.
//!
//! Also `write_publications` (the presence server's PUBLISH group commit): batches of 100
//! publications of ~1 KiB PIDF each, into a table already holding 10 000.
//!
//! `cargo bench -p simple-store --bench bindings`

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure report

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use simple_store::{Binding, Publication, Publications, Registrations, SqliteStore};

const AORS: usize = 10_000;

fn binding(aor: &str, i: usize, expires_at_ms: i64) -> Binding {
    Binding {
        aor: aor.to_owned(),
        contact: format!("sip:user{i}@192.0.2.{}:5060;transport=tcp;ob", i % 250),
        params: format!(";+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-{i:012}>\";reg-id=1"),
        q: Some(1000),
        expires_at_ms,
        call_id: format!("{i}-call@192.0.2.1"),
        cseq: 2,
        instance: Some(format!("<urn:uuid:00000000-0000-0000-0000-{i:012}>")),
        reg_id: Some(1),
        path: vec!["<sip:edge.example.test;lr;ob>".to_owned()],
        received: Some(format!("tcp:192.0.2.{}:49152", i % 250)),
        user_agent: Some("Herald-Bench/0.1".to_owned()),
        updated_ms: expires_at_ms - 3_600_000,
    }
}

fn batch(
    aors: &[String],
    start: usize,
    n: usize,
    expires_at_ms: i64,
) -> Vec<(String, Vec<Binding>)> {
    (start..start + n)
        .map(|i| {
            let aor = &aors[i % AORS];
            (aor.clone(), vec![binding(aor, i % AORS, expires_at_ms)])
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(SqliteStore::open_dir(dir.path())).unwrap();
    let aors: Vec<String> = (0..AORS)
        .map(|i| format!("sip:user{i}@example.test"))
        .collect();
    rt.block_on(store.replace_bindings(&batch(&aors, 0, AORS, 1)))
        .unwrap();

    let mut g = c.benchmark_group("sqlite_replace_bindings");
    for n in [1_usize, 100, 500] {
        g.throughput(Throughput::Elements(n as u64));
        let mut next = 0_usize;
        let mut expires = 2_i64;
        g.bench_function(format!("batch_{n}"), |b| {
            b.iter_batched(
                || {
                    let input = batch(&aors, next, n, expires);
                    next += n;
                    expires += 1;
                    input
                },
                |input| rt.block_on(store.replace_bindings(&input)).unwrap(),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();

    let publications = |start: usize, n: usize, expires_at_ms: u64| -> Vec<Publication> {
        (start..start + n)
            .map(|i| {
                let i = i % AORS;
                Publication {
                    aor: format!("user{i}@example.test"),
                    event: "presence".to_owned(),
                    etag: format!("etag-{i:08x}"),
                    content_type: "application/pidf+xml".to_owned(),
                    body: vec![b'x'; 1024],
                    expires_at_ms,
                    updated_ms: expires_at_ms,
                    created_ms: 1,
                    publisher: format!("sip:user{i}@example.test"),
                }
            })
            .collect()
    };
    rt.block_on(store.write_publications(&publications(0, AORS, 1), &[]))
        .unwrap();
    let mut g = c.benchmark_group("sqlite_write_publications");
    let n = 100_usize;
    g.throughput(Throughput::Elements(n as u64));
    let mut next = 0_usize;
    let mut expires = 2_u64;
    g.bench_function(format!("batch_{n}"), |b| {
        b.iter_batched(
            || {
                let input = publications(next, n, expires);
                next += n;
                expires += 1;
                input
            },
            |input| rt.block_on(store.write_publications(&input, &[])).unwrap(),
            BatchSize::SmallInput,
        );
    });
    g.finish();
    rt.block_on(store.close());
}

criterion_group!(benches, bench);
criterion_main!(benches);
