//! The schema migrations of `migrations/sqlite/`, embedded, and the code that applies
//! them, bookkept in the table sqlx's migrator used (`_sqlx_migrations`) so that a
//! database migrated by an sqlx-era build opens here and one migrated here opens there.

use std::time::Instant;

use rusqlite::Connection;
use sha2::{Digest, Sha384};

use super::conn::WriteTx;
use crate::error::{Result, StoreError};

/// One migration: its version, description (the file name's words) and SQL.
pub(super) type Migration = (i64, &'static str, &'static str);

/// The schema migrations, embedded: one entry per file of `migrations/sqlite/`, named
/// `<version>_<description>.sql` (a unit test checks the list matches the directory).
pub(super) const MIGRATIONS: &[Migration] = &[
    (
        1,
        "users bindings",
        include_str!("../../migrations/sqlite/0001_users_bindings.sql"),
    ),
    (
        2,
        "presence",
        include_str!("../../migrations/sqlite/0002_presence.sql"),
    ),
    (
        3,
        "documents",
        include_str!("../../migrations/sqlite/0003_documents.sql"),
    ),
    (
        4,
        "document revisions",
        include_str!("../../migrations/sqlite/0004_document_revisions.sql"),
    ),
    (
        5,
        "stored messages and rooms",
        include_str!("../../migrations/sqlite/0005_stored_messages_and_rooms.sql"),
    ),
];

/// The bookkeeping table, as sqlx 0.9's SQLite migrator creates it: one row per applied
/// migration, `checksum` the SHA-384 of its SQL, `success` false for a migration that
/// failed half-way outside a transaction (sqlx's "dirty" state; we never write one).
const TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
)";

/// The checksum sqlx records for a migration's SQL.
pub(super) fn checksum(sql: &str) -> Vec<u8> {
    Sha384::digest(sql.as_bytes()).to_vec()
}

/// Brings the schema up to `migrations`, all in one `BEGIN IMMEDIATE` transaction: two
/// processes opening a new file at once take turns (the second waits up to the busy
/// timeout, then finds everything applied), and a failing migration leaves nothing
/// behind. Refuses, as sqlx did, a database with a dirty migration, one whose applied
/// migration's SQL differs from ours, and one with a migration this build does not
/// know (written by a newer Herald).
pub(super) fn migrate(conn: &Connection, migrations: &[Migration]) -> Result<()> {
    let tx = WriteTx::begin(conn).map_err(db)?;
    tx.execute_batch(TABLE).map_err(db)?;
    let applied: Vec<(i64, Vec<u8>, bool)> = {
        let mut st = tx
            .prepare("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
            .map_err(db)?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)?
    };
    for (version, sum, success) in &applied {
        if !success {
            return Err(failed(format!(
                "migration {version} is partially applied; fix and remove it by hand"
            )));
        }
        match migrations.iter().find(|(v, _, _)| v == version) {
            None => {
                return Err(failed(format!(
                    "migration {version} was applied but this build does not know it \
                     (a newer Herald wrote this database)"
                )));
            }
            Some((_, _, sql)) if checksum(sql) != *sum => {
                return Err(failed(format!(
                    "migration {version} was applied with different SQL than this build's"
                )));
            }
            Some(_) => {}
        }
    }
    let mut ran = 0_usize;
    for &(version, description, sql) in migrations {
        if applied.iter().any(|(v, _, _)| *v == version) {
            continue;
        }
        let start = Instant::now();
        tx.execute_batch(sql).map_err(|e| match db(e) {
            StoreError::Migrate(e) => failed(format!("migration {version} failed: {e}")),
            other => other,
        })?;
        let nanos = i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO _sqlx_migrations \
               (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            (version, description, checksum(sql), nanos),
        )
        .map_err(db)?;
        ran += 1;
    }
    tx.commit().map_err(db)?;
    if ran > 0 {
        tracing::info!(applied = ran, "sqlite schema migrated");
    }
    Ok(())
}

fn failed(reason: String) -> StoreError {
    StoreError::Migrate(reason.into())
}

/// A database error while migrating: busy stays busy (worth a retry), the rest is a
/// migration failure.
fn db(e: rusqlite::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Backend(e) => StoreError::Migrate(e),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;

    use super::*;

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|(v, d, _)| format!("{v:04}_{}.sql", d.replace(' ', "_")))
            .collect();
        assert_eq!(files, listed);
        for ((_, _, sql), file) in MIGRATIONS.iter().zip(&files) {
            assert_eq!(*sql, std::fs::read_to_string(dir.join(file)).unwrap());
        }
    }

    /// The checksum of the first migration as sqlx 0.9 recorded it (copied from the
    /// `_sqlx_migrations` row of a database it migrated, tests/fixtures/).
    #[test]
    fn checksums_are_the_ones_sqlx_recorded() {
        let hex: String = checksum(MIGRATIONS[0].2)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "3de832431346403d08fe807e5889965729a9ec27535743707bcc1d80ce304d28\
             1244f63691b9b0a2ea6241a6462b42bd"
        );
    }

    fn versions(conn: &Connection) -> Vec<i64> {
        let mut st = conn
            .prepare("SELECT version FROM _sqlx_migrations ORDER BY version")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn applies_what_is_missing_once() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn, &MIGRATIONS[..2]).unwrap();
        assert_eq!(versions(&conn), [1, 2]);
        migrate(&conn, MIGRATIONS).unwrap();
        migrate(&conn, MIGRATIONS).unwrap();
        assert_eq!(versions(&conn), [1, 2, 3, 4, 5]);
        let (success, time): (bool, i64) = conn
            .query_row(
                "SELECT success, execution_time FROM _sqlx_migrations WHERE version = 5",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(success);
        assert!(time >= 0);
    }

    #[test]
    fn refuses_unknown_modified_and_dirty_migrations() {
        let newer = Connection::open_in_memory().unwrap();
        migrate(&newer, MIGRATIONS).unwrap();
        let err = migrate(&newer, &MIGRATIONS[..4]).unwrap_err();
        assert!(matches!(err, StoreError::Migrate(_)), "{err}");
        assert!(err.to_string().contains("newer Herald"), "{err}");

        let modified = Connection::open_in_memory().unwrap();
        migrate(&modified, &MIGRATIONS[..1]).unwrap();
        let edited = [(1, "users bindings", "CREATE TABLE x (y);")];
        let err = migrate(&modified, &edited).unwrap_err();
        assert!(err.to_string().contains("different SQL"), "{err}");

        let dirty = Connection::open_in_memory().unwrap();
        migrate(&dirty, &MIGRATIONS[..1]).unwrap();
        dirty
            .execute("UPDATE _sqlx_migrations SET success = FALSE", [])
            .unwrap();
        let err = migrate(&dirty, MIGRATIONS).unwrap_err();
        assert!(err.to_string().contains("partially applied"), "{err}");
    }

    #[test]
    fn a_failing_migration_leaves_nothing_behind() {
        let conn = Connection::open_in_memory().unwrap();
        let broken = [MIGRATIONS[0], (2, "broken", "CREATE TABLE users (x);")];
        let err = migrate(&conn, &broken).unwrap_err();
        assert!(err.to_string().contains("migration 2 failed"), "{err}");
        let tables: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0);
    }
}
