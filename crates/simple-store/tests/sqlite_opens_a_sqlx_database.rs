//! Data directories from before the move to rusqlite keep working: a database the
//! sqlx-based store created and migrated (`tests/fixtures/sqlx_0_9_store.sql`, a dump of
//! one) opens without its migrations being run again, with every row readable, and a
//! database migrated now carries the `_sqlx_migrations` rows sqlx would have written
//! (so an older build still opens it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use rusqlite::Connection;
use simple_store::conformance::{binding, document, publication, subscription, user};
use simple_store::{
    DB_FILE_NAME, Documents, Messages, Precondition, Publications, Quota, Registrations,
    RoomMember, Rooms, SqliteStore, StoreOutcome, StoredMessage, Subscriptions, Users,
};

const FIXTURE: &str = include_str!("fixtures/sqlx_0_9_store.sql");
const ALICE: &str = "sip:alice@example.test";

/// A row of `_sqlx_migrations`: version, description, installed_on, success, checksum,
/// execution_time.
type MigrationRow = (i64, String, String, bool, Vec<u8>, i64);

fn migration_rows(path: &Path) -> Vec<MigrationRow> {
    let conn = Connection::open(path).unwrap();
    let mut st = conn
        .prepare(
            "SELECT version, description, installed_on, success, checksum, execution_time \
             FROM _sqlx_migrations ORDER BY version",
        )
        .unwrap();
    st.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

/// `<dir>/herald.db` made from the fixture, as the sqlx-based store left it.
fn sqlx_database(dir: &Path) -> std::path::PathBuf {
    let path = dir.join(DB_FILE_NAME);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(FIXTURE).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    path
}

fn message(body: &[u8]) -> StoredMessage {
    StoredMessage {
        id: 0,
        recipient: "sip:bob@example.test".into(),
        sender: "<sip:alice@example.test>;tag=1".into(),
        sender_aor: ALICE.into(),
        content_type: "text/plain".into(),
        body: body.to_vec(),
        received_ms: 1_000,
        expires_at_ms: 90_000,
        attempts: 0,
        next_attempt_ms: 1_000,
    }
}

#[tokio::test]
async fn a_sqlx_database_opens_as_it_is_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlx_database(dir.path());
    let before = migration_rows(&path);
    assert_eq!(
        before.iter().map(|m| m.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );

    let store = SqliteStore::open_dir(dir.path()).await.unwrap();

    // What the sqlx-based store wrote (see how the fixture was made), field by field.
    let mut alice = user("alice", "Example.TEST", &["MD5", "SHA-256"]);
    alice.domain = "example.test".into();
    assert_eq!(
        store.get_user("alice", "example.test").await.unwrap(),
        Some(alice)
    );
    let mut full = binding(ALICE, "sip:alice@192.0.2.1:5060", 90_000);
    full.path = vec!["<sip:p1.test;lr>".into(), "<sip:p2.test;lr>".into()];
    full.instance = Some("<urn:uuid:00000000-0000-0000-0000-000000000001>".into());
    full.reg_id = Some(1);
    full.q = Some(500);
    full.received = Some("tcp:192.0.2.1:49152".into());
    full.user_agent = Some("Fixture/1".into());
    let plain = binding(ALICE, "sip:alice@192.0.2.2", 80_000);
    assert_eq!(store.bindings(ALICE).await.unwrap(), vec![full, plain]);

    let mut p = publication("alice@example.test", "presence", "e1", 90_000);
    p.body = vec![0, 0xff, b'<', 0x80];
    assert_eq!(
        store
            .publications("alice@example.test", "presence")
            .await
            .unwrap(),
        vec![p]
    );
    let mut s = subscription("s1", "alice@example.test", "presence", 90_000);
    s.route_set = vec!["<sip:p1.test;lr>".into(), "<sip:p2.test;lr>".into()];
    s.remote_tag = Some("r1".into());
    s.event_id = Some("7".into());
    s.secure = true;
    s.local_cseq = 42;
    assert_eq!(store.subscription("s1").await.unwrap(), Some(s));

    let d2 = document("pres-rules", ALICE, "index", "d2");
    assert_eq!(
        store
            .get_document("pres-rules", ALICE, "index")
            .await
            .unwrap(),
        Some(d2.clone())
    );
    assert_eq!(store.documents_revision("pres-rules").await.unwrap(), 2);
    // The revision triggers came with the schema: a write moves the counter.
    let d3 = document("pres-rules", ALICE, "index", "d3");
    assert!(
        store
            .put_document(&d3, Precondition::IfMatch("d2".into()))
            .await
            .unwrap()
    );
    assert_eq!(store.documents_revision("pres-rules").await.unwrap(), 3);

    let mut waiting = message(b"two");
    waiting.id = 2;
    assert_eq!(
        store
            .messages_for("sip:bob@example.test", 10)
            .await
            .unwrap(),
        vec![waiting]
    );
    // AUTOINCREMENT carries on where sqlx's store left it (message 1 was deleted).
    let quota = Quota {
        max_messages: 10,
        max_bytes: 10_000,
    };
    assert_eq!(
        store
            .store_message(&message(b"three"), quota)
            .await
            .unwrap(),
        StoreOutcome::Stored(3)
    );
    assert_eq!(
        store
            .room_members("sip:lobby@chat.example.test")
            .await
            .unwrap(),
        vec![RoomMember {
            room: "sip:lobby@chat.example.test".into(),
            member: ALICE.into(),
            joined_ms: 1_000,
            last_active_ms: 2_000,
        }]
    );
    store.close().await;

    // No migration ran again: the bookkeeping is exactly as sqlx left it.
    assert_eq!(migration_rows(&path), before);
}

#[tokio::test]
async fn a_database_migrated_now_has_the_rows_sqlx_would_have_written() {
    let old = tempfile::tempdir().unwrap();
    let sqlx = migration_rows(&sqlx_database(old.path()));
    let new = tempfile::tempdir().unwrap();
    SqliteStore::open_dir(new.path())
        .await
        .unwrap()
        .close()
        .await;
    let ours = migration_rows(&new.path().join(DB_FILE_NAME));
    // sqlx checks the versions, the checksums and the success flag.
    let essential = |rows: &[MigrationRow]| -> Vec<(i64, String, bool, Vec<u8>)> {
        rows.iter()
            .map(|(v, d, _, s, c, _)| (*v, d.clone(), *s, c.clone()))
            .collect()
    };
    assert_eq!(essential(&ours), essential(&sqlx));
    for (_, _, installed_on, _, _, nanos) in &ours {
        assert!(installed_on.starts_with("20"), "{installed_on}");
        assert!(*nanos >= 0);
    }
}

#[tokio::test]
async fn a_partly_migrated_sqlx_database_is_brought_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlx_database(dir.path());
    let full = migration_rows(&path);
    {
        // As sqlx left a database of a build that knew migrations 1 and 2 only.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE documents; DROP TABLE document_revisions; \
             DROP TABLE stored_messages; DROP TABLE room_members; \
             DELETE FROM sqlite_sequence; \
             DELETE FROM _sqlx_migrations WHERE version > 2;",
        )
        .unwrap();
    }

    let store = SqliteStore::open_dir(dir.path()).await.unwrap();
    assert!(
        store
            .get_user("alice", "example.test")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.subscription("s1").await.unwrap().unwrap().local_cseq,
        42
    );
    assert_eq!(store.documents_revision("pres-rules").await.unwrap(), 0);
    let d = document("pres-rules", ALICE, "index", "d1");
    assert!(
        store
            .put_document(&d, Precondition::IfNoneMatch)
            .await
            .unwrap()
    );
    assert_eq!(store.documents_revision("pres-rules").await.unwrap(), 1);
    store.close().await;

    let now = migration_rows(&path);
    assert_eq!(now[..2], full[..2], "applied migrations left as they were");
    let essential = |rows: &[MigrationRow]| -> Vec<(i64, String, bool, Vec<u8>)> {
        rows.iter()
            .map(|(v, d, _, s, c, _)| (*v, d.clone(), *s, c.clone()))
            .collect()
    };
    assert_eq!(essential(&now), essential(&full));
}
