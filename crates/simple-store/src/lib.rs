//! Herald's storage: narrow domain traits, one per kind of state, and the backends that
//! implement them. Protocol logic sees only the traits (DESIGN.md, house style 10); no
//! SQL leaves this crate.
//!
//! # Layout
//! - `model`: the stored values, [`User`] with its [`Ha1`]s, [`Binding`],
//!   [`Publication`], [`Subscription`] and [`Document`], and the checks every backend
//!   runs before writing (so all backends refuse the same input).
//! - `traits`: [`Users`] (provisioned users, HA1s), [`Registrations`] (the registrar's
//!   location service), [`Publications`] (PUBLISH-ed event state, RFC 3903, keyed by
//!   [`PublicationKey`]), [`Subscriptions`] (the presence server's subscriptions with
//!   their dialogs, RFC 6665) and [`Documents`] (per-user XML documents: presence rules,
//!   XCAP, RFC 4825; conditional writes under a [`Precondition`] on the etag). Batch
//!   writes are one transaction each (group commit).
//! - `memory`: [`MemoryStore`], everything in a mutex-guarded map; tests and fast runs.
//! - `sqlite`: [`SqliteStore`], the embedded default: one SQLite file in WAL mode through
//!   rusqlite (SQLite bundled), one writer thread and a few reader threads each owning a
//!   connection, schema migrations from `migrations/sqlite/` embedded in the binary. Its
//!   type docs spell out the threads, durability (survives `kill -9`, not power loss)
//!   and the column encodings.
//! - `error`: [`StoreError`] and [`Result`].
//! - `conformance` (feature `conformance`): the one test suite every backend must pass,
//!   as generic async functions plus the `conformance_tests!` macro that instantiates it
//!   in a backend's test file (`tests/conformance_*.rs`).
//!
//! # Using a store
//! ```no_run
//! # async fn f() -> simple_store::Result<()> {
//! use simple_store::{Registrations, SqliteStore, Users};
//! let store = SqliteStore::open_dir(std::path::Path::new("herald-data")).await?;
//! let alice = store.get_user("alice", "Example.TEST").await?;
//! let live = store.load_live_bindings(1_700_000_000_000).await?;
//! store.close().await;
//! # Ok(()) }
//! ```
//!
//! Every call is async and may wait on disk; the traits return `Send` futures so a caller
//! can spawn them. Time is an argument (`now_ms`), never read from the clock here.

mod error;
mod memory;
mod model;
mod sqlite;
mod traits;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::{Result, StoreError};
pub use memory::MemoryStore;
pub use model::{
    Binding, Document, Ha1, Publication, RoomMember, StoredMessage, Subscription, User,
};
pub use sqlite::{BUSY_TIMEOUT, DB_FILE_NAME, READERS, SqliteStore};
pub use traits::{
    Documents, Messages, Precondition, PublicationKey, Publications, Quota, Registrations, Rooms,
    StoreOutcome, Subscriptions, Users,
};
