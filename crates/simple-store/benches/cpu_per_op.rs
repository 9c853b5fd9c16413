//! CPU time per [`SqliteStore`] operation, all threads of the process counted (the
//! caller's runtime and the store's own threads), next to wall time. Criterion
//! (`benches/bindings.rs`) reports wall time only, and on a shared machine wall time
//! moves with the neighbours' load; CPU per operation is what a busy server pays.
//!
//! Each workload runs sequentially (one operation awaited at a time, as a one-worker
//! runtime's task would) against a file in a temp dir already holding 10 000 rows of
//! its table. CPU is the sum of the on-CPU nanoseconds of `/proc/self/task/*/schedstat`
//! (Linux), read before and after.
//!
//! `cargo bench -p simple-store --bench cpu_per_op` (`-- N` for N operations per
//! workload, default 20 000; `-- WORD` runs only the workloads whose name has WORD).

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure report

use std::future::Future;
use std::time::{Duration, Instant};

use simple_store::{
    Binding, Publication, PublicationKey, Publications, Registrations, SqliteStore, Subscription,
    Subscriptions, Users,
};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{binding, publication, subscription};

const ROWS: usize = 10_000;

/// On-CPU time of every thread of this process so far (threads that ended are lost,
/// so it is read while the store and the runtime are up).
fn process_cpu() -> Duration {
    let mut ns = 0_u64;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path().join("schedstat");
        // A thread may end between the listing and the read.
        if let Ok(s) = std::fs::read_to_string(path) {
            ns += s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(ns)
}

/// Runs `op(0..n)` one after the other and prints wall and CPU time per operation
/// (unless a filter was given on the command line and `name` does not contain it).
fn measure<F, Fut>(rt: &tokio::runtime::Runtime, name: &str, n: usize, mut op: F)
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && a.parse::<usize>().is_err())
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        return;
    }
    // Warm-up: statement caches, page cache.
    rt.block_on(async {
        for i in 0..n / 10 {
            op(i).await;
        }
    });
    let (cpu0, wall0) = (process_cpu(), Instant::now());
    rt.block_on(async {
        for i in n / 10..n / 10 + n {
            op(i).await;
        }
    });
    let (cpu, wall) = (process_cpu() - cpu0, wall0.elapsed());
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "{name:<32} {n:>7} ops   wall {:>8.2} µs/op   cpu {:>8.2} µs/op",
        per(wall),
        per(cpu)
    );
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(SqliteStore::open_dir(dir.path())).unwrap();

    // Tables of 10 000 rows each.
    let batch: Vec<(String, Vec<Binding>)> = (0..ROWS)
        .map(|i| {
            let b = binding(i, 1_000_000);
            (b.aor.clone(), vec![b])
        })
        .collect();
    rt.block_on(store.replace_bindings(batch.clone())).unwrap();
    let mut etags: Vec<String> = (0..ROWS).map(|i| format!("etag-{i:08x}")).collect();
    let pubs: Vec<Publication> = (0..ROWS)
        .map(|i| publication(i, etags[i].clone(), 1_000_000))
        .collect();
    rt.block_on(store.write_publications(pubs, vec![])).unwrap();
    let subs: Vec<Subscription> = (0..ROWS).map(|i| subscription(i, 1, 1_000_000)).collect();
    rt.block_on(store.write_subscriptions(&subs, &[])).unwrap();

    println!("sqlite store, {ROWS} rows per table, one operation at a time:");
    let s = &store;
    measure(&rt, "replace_bindings (1 AOR)", n, |i| async move {
        let b = binding(i % ROWS, 2_000_000 + i as i64);
        s.replace_bindings(vec![(b.aor.clone(), vec![b])])
            .await
            .unwrap();
    });
    measure(&rt, "write_publications store", n, |i| async move {
        let p = publication(i % ROWS, format!("store-{i:016x}"), 2_000_000);
        s.write_publications(vec![p], vec![]).await.unwrap();
    });
    let etags = &mut etags;
    let mut refreshes = Vec::with_capacity(n + n / 10);
    for i in 0..n + n / 10 {
        let k = i % ROWS;
        let etag = format!("refresh-{i:016x}");
        let old = std::mem::replace(&mut etags[k], etag.clone());
        let put = publication(k, etag, 3_000_000);
        let key = PublicationKey {
            aor: put.aor.clone(),
            event: put.event.clone(),
            etag: old,
        };
        refreshes.push((put, key));
    }
    let refreshes = &refreshes;
    measure(&rt, "write_publications refresh", n, |i| async move {
        let (put, key) = refreshes[i].clone();
        s.write_publications(vec![put], vec![key]).await.unwrap();
    });
    measure(&rt, "write_subscriptions (1)", n, |i| async move {
        let sub = subscription(i % ROWS, 2 + i as u32, 2_000_000);
        s.write_subscriptions(&[sub], &[]).await.unwrap();
    });
    measure(&rt, "bindings (read)", n, |i| async move {
        let aor = format!("sip:user{}@example.test", i % ROWS);
        assert_eq!(s.bindings(&aor).await.unwrap().len(), 1);
    });
    measure(&rt, "subscription (read)", n, |i| async move {
        let id = format!("sub-{:08x}", i % ROWS);
        assert!(s.subscription(&id).await.unwrap().is_some());
    });
    measure(&rt, "get_user (read, absent)", n, |i| async move {
        let name = format!("user{}", i % ROWS);
        assert!(s.get_user(&name, "example.test").await.unwrap().is_none());
    });
    rt.block_on(store.close());
}
