//! What a [`SqliteStore`] committed is there after `close` and a fresh `open_dir`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use simple_store::conformance::{binding, user};
use simple_store::{DB_FILE_NAME, Registrations, SqliteStore, StoreError, Users};

#[tokio::test]
async fn users_and_bindings_survive_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested").join("data");
    let alice = user("alice", "example.test", &["MD5", "SHA-256", "SHA-512-256"]);
    let aor = "sip:alice@example.test";
    let mut full = binding(aor, "sip:alice@192.0.2.1:5060", 90_000);
    full.path = vec!["<sip:p1.test;lr>".into(), "<sip:p2.test;lr>".into()];
    full.instance = Some("<urn:uuid:00000000-0000-0000-0000-000000000001>".into());
    full.reg_id = Some(1);
    let bindings = vec![full, binding(aor, "sip:alice@192.0.2.2", 10_000)];

    let store = SqliteStore::open_dir(&data).await.unwrap();
    assert!(data.join(DB_FILE_NAME).exists());
    store.put_user(&alice).await.unwrap();
    store
        .replace_bindings(vec![(aor.to_owned(), bindings.clone())])
        .await
        .unwrap();
    store.close().await;
    assert!(matches!(
        store.get_user("alice", "example.test").await,
        Err(StoreError::Closed)
    ));

    let reopened = SqliteStore::open_dir(&data).await.unwrap();
    assert_eq!(
        reopened.get_user("alice", "example.test").await.unwrap(),
        Some(alice)
    );
    assert_eq!(reopened.bindings(aor).await.unwrap(), bindings);
    // Startup load after a restart: the expired one goes, the live one stays.
    assert_eq!(
        reopened.load_live_bindings(50_000).await.unwrap(),
        bindings[..1]
    );
    reopened.close().await;

    // Migrations already applied: a third open is a no-op for the schema.
    let third = SqliteStore::open_file(&data.join(DB_FILE_NAME))
        .await
        .unwrap();
    assert_eq!(third.count_bindings().await.unwrap(), 1);
    third.close().await;
}

#[tokio::test]
async fn open_dir_on_a_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        SqliteStore::open_dir(&file).await,
        Err(StoreError::Io { .. })
    ));
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(DB_FILE_NAME);
    std::fs::write(&file, vec![b'x'; 8192]).unwrap();
    assert!(SqliteStore::open_file(&file).await.is_err());
}

#[tokio::test]
async fn publications_and_subscriptions_survive_close_and_reopen() {
    use simple_store::conformance::{publication, subscription};
    use simple_store::{PublicationKey, Publications, Subscriptions};

    let dir = tempfile::tempdir().unwrap();
    let aor = "alice@example.test";
    let mut binary = publication(aor, "presence", "e1", 90_000);
    binary.body = vec![0, 0xff, b'<', 0x80];
    let expired = publication(aor, "presence", "e2", 10_000);
    let gone = publication(aor, "presence", "e3", 90_000);
    let mut dialog = subscription("s1", aor, "presence", 90_000);
    dialog.route_set = vec!["<sip:p1.test;lr>".into(), "<sip:p2.test;lr>".into()];
    dialog.remote_tag = Some("r1".into());
    dialog.event_id = Some("7".into());
    dialog.secure = true;
    dialog.local_cseq = 42;
    let stale = subscription("s2", aor, "presence", 10_000);

    let store = SqliteStore::open_dir(dir.path()).await.unwrap();
    store
        .write_publications(
            vec![binary.clone(), expired.clone(), gone.clone()],
            vec![PublicationKey::of(&gone)],
        )
        .await
        .unwrap();
    store
        .write_subscriptions(&[dialog.clone(), stale.clone()], &[])
        .await
        .unwrap();
    store.close().await;

    let reopened = SqliteStore::open_dir(dir.path()).await.unwrap();
    assert_eq!(
        reopened.publications(aor, "presence").await.unwrap(),
        vec![binary.clone(), expired]
    );
    assert_eq!(
        reopened.subscription("s1").await.unwrap(),
        Some(dialog.clone())
    );
    // Startup load after a restart: the expired ones go, the live ones stay.
    assert_eq!(
        reopened.load_live_publications(50_000).await.unwrap(),
        vec![binary]
    );
    assert_eq!(
        reopened.load_live_subscriptions(50_000).await.unwrap(),
        vec![dialog]
    );
    assert_eq!(reopened.subscription("s2").await.unwrap(), None);
    reopened.close().await;
}

#[tokio::test]
async fn documents_survive_close_and_reopen() {
    use simple_store::conformance::document;
    use simple_store::{Documents, Precondition};

    let dir = tempfile::tempdir().unwrap();
    let owner = "sip:alice@example.test";
    let mut rules = document("pres-rules", owner, "index", "e1");
    rules.content = vec![0, 0xff, b'<', 0x80];
    let lists = document("resource-lists", owner, "index", "e1");
    let global = document("xcap-caps", "global", "index", "g1");
    let gone = document("resource-lists", owner, "old", "e1");

    let store = SqliteStore::open_dir(dir.path()).await.unwrap();
    for d in [&lists, &rules, &global, &gone] {
        assert!(
            store
                .put_document(d, Precondition::IfNoneMatch)
                .await
                .unwrap()
        );
    }
    assert!(
        store
            .remove_document("resource-lists", owner, "old", Precondition::Any)
            .await
            .unwrap()
    );
    store.close().await;
    assert!(matches!(
        store.get_document("pres-rules", owner, "index").await,
        Err(StoreError::Closed)
    ));

    let reopened = SqliteStore::open_dir(dir.path()).await.unwrap();
    assert_eq!(
        reopened.list_documents(owner, None).await.unwrap(),
        vec![rules.clone(), lists]
    );
    assert_eq!(
        reopened
            .get_document("xcap-caps", "global", "index")
            .await
            .unwrap(),
        Some(global)
    );
    // The etag survived too: a compare-and-set against it still works, a stale one not.
    let next = document("pres-rules", owner, "index", "e2");
    assert!(
        !reopened
            .put_document(&next, Precondition::IfMatch("e0".into()))
            .await
            .unwrap()
    );
    assert!(
        reopened
            .put_document(&next, Precondition::IfMatch("e1".into()))
            .await
            .unwrap()
    );
    reopened.close().await;
}
