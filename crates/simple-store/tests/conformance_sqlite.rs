//! The conformance suite against [`SqliteStore`], each test on a fresh file in a temp dir.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use simple_store::SqliteStore;
use tempfile::TempDir;

async fn fresh() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open_dir(dir.path()).await.expect("open store");
    (store, dir)
}

simple_store::conformance_tests!(fresh);
