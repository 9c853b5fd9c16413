//! Compare-and-set on [`SqliteStore`] documents under real concurrency: tasks on a
//! multi-threaded runtime, through one store and through two stores on one file (as the
//! server and an XCAP tool in another process would be). Of writers holding the same
//! etag, exactly one wins each round.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use simple_store::conformance::document;
use simple_store::{Documents, Precondition, SqliteStore};

const AUID: &str = "pres-rules";
const OWNER: &str = "sip:alice@example.test";

/// `rounds` rounds of two tasks, one per store, each trying to replace the document
/// holding the etag of the previous round's winner.
async fn race(one: &SqliteStore, two: &SqliteStore, rounds: usize) {
    assert!(
        one.put_document(
            &document(AUID, OWNER, "index", "v0"),
            Precondition::IfNoneMatch
        )
        .await
        .unwrap()
    );
    let mut current = "v0".to_owned();
    for round in 0..rounds {
        let spawn = |store: &SqliteStore, who: &str| {
            let store = store.clone();
            let doc = document(AUID, OWNER, "index", &format!("{who}{round}"));
            let pre = Precondition::IfMatch(current.clone());
            tokio::spawn(async move { (store.put_document(&doc, pre).await.unwrap(), doc) })
        };
        let (a, b) = (spawn(one, "a"), spawn(two, "b"));
        let ((won_a, doc_a), (won_b, doc_b)) = (a.await.unwrap(), b.await.unwrap());
        assert!(
            won_a ^ won_b,
            "round {round}: exactly one wins ({won_a}, {won_b})"
        );
        let winner = if won_a { doc_a } else { doc_b };
        // Both stores see the winner.
        for store in [one, two] {
            assert_eq!(
                store.get_document(AUID, OWNER, "index").await.unwrap(),
                Some(winner.clone())
            );
        }
        current = winner.etag;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tasks_on_one_store_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).await.unwrap();
    race(&store, &store, 30).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let one = SqliteStore::open_dir(dir.path()).await.unwrap();
    let two = SqliteStore::open_dir(dir.path()).await.unwrap();
    race(&one, &two, 30).await;

    // Creation and conditional removal race the same way.
    let creators: Vec<_> = [&one, &two, &one, &two]
        .into_iter()
        .enumerate()
        .map(|(i, store)| {
            let store = store.clone();
            let doc = document(AUID, OWNER, "new", &format!("c{i}"));
            tokio::spawn(async move {
                store
                    .put_document(&doc, Precondition::IfNoneMatch)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut created = 0;
    for c in creators {
        created += usize::from(c.await.unwrap());
    }
    assert_eq!(created, 1);
    let etag = one
        .get_document(AUID, OWNER, "new")
        .await
        .unwrap()
        .unwrap()
        .etag;
    let removers: Vec<_> = [&one, &two]
        .into_iter()
        .map(|store| {
            let store = store.clone();
            let pre = Precondition::IfMatch(etag.clone());
            tokio::spawn(async move {
                store
                    .remove_document(AUID, OWNER, "new", pre)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut removed = 0;
    for r in removers {
        removed += usize::from(r.await.unwrap());
    }
    assert_eq!(removed, 1);
    assert_eq!(two.get_document(AUID, OWNER, "new").await.unwrap(), None);
    one.close().await;
    two.close().await;
}
