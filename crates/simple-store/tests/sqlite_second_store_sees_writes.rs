//! Two [`SqliteStore`]s on one file, as the server and the `herald user` CLI are: each
//! sees the other's commits without reopening, and their writes do not fail on each
//! other's lock (WAL, `BEGIN IMMEDIATE`, busy timeout).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use simple_store::conformance::{binding, user};
use simple_store::{Registrations, SqliteStore, Users};

#[tokio::test]
async fn second_store_sees_users_put_by_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = SqliteStore::open_dir(dir.path()).await.unwrap();
    let cli = SqliteStore::open_dir(dir.path()).await.unwrap();

    // The server has read (and so holds a warm reader connection) before the CLI writes.
    assert_eq!(
        server.get_user("alice", "example.test").await.unwrap(),
        None
    );
    let alice = user("alice", "example.test", &["MD5", "SHA-256"]);
    assert!(cli.put_user(&alice).await.unwrap());
    assert_eq!(
        server.get_user("alice", "Example.Test").await.unwrap(),
        Some(alice.clone())
    );

    // A password change by the CLI replaces the HA1 set the server sees.
    let changed = user("alice", "example.test", &["SHA-512-256"]);
    assert!(!cli.put_user(&changed).await.unwrap());
    assert_eq!(
        server.get_user("alice", "example.test").await.unwrap(),
        Some(changed)
    );
    assert!(cli.remove_user("alice", "example.test").await.unwrap());
    assert_eq!(
        server.get_user("alice", "example.test").await.unwrap(),
        None
    );

    // And the other way round, for bindings.
    let aor = "sip:bob@example.test";
    let b = vec![binding(aor, "sip:bob@192.0.2.1", 10_000)];
    server
        .replace_bindings(vec![(aor.to_owned(), b.clone())])
        .await
        .unwrap();
    assert_eq!(cli.bindings(aor).await.unwrap(), b);

    server.close().await;
    cli.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_one_file_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let server = SqliteStore::open_dir(dir.path()).await.unwrap();
    let cli = SqliteStore::open_dir(dir.path()).await.unwrap();

    let registrar = {
        let server = server.clone();
        tokio::spawn(async move {
            for round in 0..40 {
                let batch: Vec<_> = (0..50)
                    .map(|i| {
                        let aor = format!("sip:u{i}@example.test");
                        let b = binding(&aor, &format!("sip:u{i}@192.0.2.1"), 1_000 + round);
                        (aor, vec![b])
                    })
                    .collect();
                server.replace_bindings(batch.clone()).await.unwrap();
            }
        })
    };
    let provisioning = {
        let cli = cli.clone();
        tokio::spawn(async move {
            for i in 0..100 {
                cli.put_user(&user(&format!("user{i}"), "example.test", &["MD5"]))
                    .await
                    .unwrap();
            }
        })
    };
    registrar.await.unwrap();
    provisioning.await.unwrap();

    assert_eq!(server.list_users(None).await.unwrap().len(), 100);
    assert_eq!(cli.count_bindings().await.unwrap(), 50);
    let last = cli.bindings("sip:u7@example.test").await.unwrap();
    assert_eq!(last[0].expires_at_ms, 1_039);
    server.close().await;
    cli.close().await;
}
