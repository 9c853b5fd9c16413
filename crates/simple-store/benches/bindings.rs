//! `replace_bindings` on SQLite in a temp dir, the registrar's write pattern: batches of
//! 1, 100 and 500 AORs, one binding each (with Path, +sip.instance and reg-id, as an
//! RFC 5626 client registers), into a table already holding 10 000 AORs. Each batch is one
//! transaction; the throughput line is AORs per second, so per-AOR cost = time / batch.
//!
//! Also `write_publications` (the presence server's PUBLISH group commit): batches of 100
//! publications of ~1 KiB PIDF each, into a table already holding 10 000; a PUBLISH's
//! writes one transaction each (store, refresh) and refreshes 50 to a transaction; and
//! `write_subscriptions` (dialog updates after NOTIFYs), 1 and 50 to a transaction.
//!
//! `cargo bench -p simple-store --bench bindings`

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure report

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use simple_store::{
    Binding, Publication, PublicationKey, Publications, Registrations, SqliteStore, Subscription,
    Subscriptions,
};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{binding, publication, subscription};

const AORS: usize = 10_000;

fn batch(start: usize, n: usize, expires_at_ms: i64) -> Vec<(String, Vec<Binding>)> {
    (start..start + n)
        .map(|i| {
            let b = binding(i % AORS, expires_at_ms);
            (b.aor.clone(), vec![b])
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
    rt.block_on(store.replace_bindings(batch(0, AORS, 1)))
        .unwrap();

    let mut g = c.benchmark_group("sqlite_replace_bindings");
    for n in [1_usize, 100, 500] {
        g.throughput(Throughput::Elements(n as u64));
        let mut next = 0_usize;
        let mut expires = 2_i64;
        g.bench_function(format!("batch_{n}"), |b| {
            b.iter_batched(
                || {
                    let input = batch(next, n, expires);
                    next += n;
                    expires += 1;
                    input
                },
                |input| rt.block_on(store.replace_bindings(input)).unwrap(),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();

    let publications = |start: usize, n: usize, expires_at_ms: u64| -> Vec<Publication> {
        (start..start + n)
            .map(|i| {
                let i = i % AORS;
                publication(i, format!("etag-{i:08x}"), expires_at_ms)
            })
            .collect()
    };
    rt.block_on(store.write_publications(publications(0, AORS, 1), vec![]))
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
            |input| {
                rt.block_on(store.write_publications(input, vec![]))
                    .unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();

    publish(c, &rt, &store);
    subscribe(c, &rt, &store);
    rt.block_on(store.close());
}

/// The presence server's PUBLISH writes, one transaction each as under light load: a
/// first PUBLISH stores a publication (one put); a refresh replaces it under a new
/// entity-tag (one put, one remove, RFC 3903 §6). Then refreshes of 50 AORs in one
/// transaction, as the store writer task groups them under load. The table holds
/// 10 000 publications (the group above) plus one per `store_1` iteration.
fn publish(c: &mut Criterion, rt: &tokio::runtime::Runtime, store: &SqliteStore) {
    // The current entity-tag of each AOR's publication (as the group above wrote them).
    let mut current: Vec<String> = (0..AORS).map(|i| format!("etag-{i:08x}")).collect();
    let mut serial = 0_u64;
    let mut next_etag = move || {
        serial += 1;
        format!("new-{serial:016x}")
    };
    let mut refresh = move |i: usize, etag: String, expires: u64| {
        let i = i % AORS;
        let old = std::mem::replace(&mut current[i], etag.clone());
        let put = publication(i, etag, expires);
        let remove = PublicationKey {
            aor: put.aor.clone(),
            event: put.event.clone(),
            etag: old,
        };
        (put, remove)
    };

    let mut g = c.benchmark_group("sqlite_publish");
    g.throughput(Throughput::Elements(1));
    let mut next = 0_usize;
    let mut expires = 1_000_000_u64;
    g.bench_function("store_1", |b| {
        b.iter_batched(
            || {
                next += 1;
                expires += 1;
                vec![publication(next % AORS, next_etag(), expires)]
            },
            |input| {
                rt.block_on(store.write_publications(input, vec![]))
                    .unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    g.bench_function("refresh_1", |b| {
        b.iter_batched(
            || {
                next += 1;
                expires += 1;
                let (put, remove) = refresh(next, next_etag(), expires);
                (vec![put], vec![remove])
            },
            |(puts, removes)| {
                rt.block_on(store.write_publications(puts, removes))
                    .unwrap();
            },
            BatchSize::SmallInput,
        );
    });
    let n = 50_usize;
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("refresh_batch_{n}"), |b| {
        b.iter_batched(
            || {
                expires += 1;
                (0..n)
                    .map(|_| {
                        next += 1;
                        refresh(next, next_etag(), expires)
                    })
                    .unzip::<_, _, Vec<_>, Vec<_>>()
            },
            |(puts, removes)| {
                rt.block_on(store.write_publications(puts, removes))
                    .unwrap();
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

/// `write_subscriptions` as the presence server does after NOTIFYs (the new local CSeq
/// must be durable before a restart could reuse it): upserts of existing dialogs, one
/// per transaction and 50 per transaction, into a table of 10 000.
fn subscribe(c: &mut Criterion, rt: &tokio::runtime::Runtime, store: &SqliteStore) {
    let all: Vec<Subscription> = (0..AORS).map(|i| subscription(i, 1, 1)).collect();
    rt.block_on(store.write_subscriptions(&all, &[])).unwrap();
    let mut g = c.benchmark_group("sqlite_write_subscriptions");
    let mut next = 0_usize;
    let mut cseq = 1_u32;
    for n in [1_usize, 50] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("batch_{n}"), |b| {
            b.iter_batched(
                || {
                    cseq += 1;
                    (0..n)
                        .map(|_| {
                            next += 1;
                            subscription(next % AORS, cseq, 2_000_000 + u64::from(cseq))
                        })
                        .collect::<Vec<_>>()
                },
                |input| rt.block_on(store.write_subscriptions(&input, &[])).unwrap(),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
