//! The conformance suite against [`MemoryStore`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use simple_store::MemoryStore;

async fn fresh() -> (MemoryStore, ()) {
    (MemoryStore::default(), ())
}

simple_store::conformance_tests!(fresh);
