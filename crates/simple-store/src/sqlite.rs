//! [`SqliteStore`]: the embedded default backend, one SQLite file through rusqlite (SQLite
//! bundled), worked on by the store's own threads. Connections, durability and column
//! encodings are documented on the type.

mod conn;
mod migrate;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use rusqlite::types::FromSql;
use rusqlite::{Connection, Params, Row, Statement, ToSql};

use self::conn::{Threads, WriteTx};
use crate::error::{Result, StoreError};
use crate::model::{
    Binding, Document, Ha1, Publication, RoomMember, StoredMessage, Subscription, User,
    canonical_domain, check_batch, check_document, check_document_filter, check_document_key,
    check_member, check_message, check_precondition, check_publications, check_subscriptions,
    check_user,
};
use crate::traits::{
    Documents, Messages, Precondition, PublicationKey, Publications, Quota, Registrations, Rooms,
    StoreOutcome, Subscriptions, Users,
};

/// The database file [`SqliteStore::open_dir`] opens inside the data directory.
pub const DB_FILE_NAME: &str = "herald.db";

/// How long a write waits for another process's write lock before
/// [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reader threads, each with its own connection.
pub const READERS: u32 = 3;

/// The SQLite backend: one database file, WAL mode. Clones share the threads.
///
/// # Connections
/// One writer thread and [`READERS`] reader threads, each owning one connection
/// (rusqlite, SQLite bundled) for the life of the store, with its prepared statements
/// cached. A call packs all of its work (the whole transaction, binding, stepping, and
/// decoding the rows into domain values) into one job, sends it over a channel to the
/// writer (writes, and the startup loads that delete what expired) or to whichever reader
/// is free (reads), and awaits the answer on a oneshot. So a call costs one hand-off to
/// a thread and back, however many statements it runs, and no tokio worker ever blocks
/// on SQLite.
///
/// The writer runs jobs in the order they came, so this process's writes never contend
/// for SQLite's lock; in WAL mode readers never block the writer nor the writer them
/// (readers are `query_only`: a read method cannot take the write lock). Every write
/// transaction is `BEGIN IMMEDIATE`: it takes the write lock up front, waiting up to
/// [`BUSY_TIMEOUT`] while another process (the `herald user` CLI, with its own
/// `SqliteStore` on the same file) holds it, instead of failing half-way on a
/// read-to-write lock upgrade. Single-statement writes run in autocommit mode, which
/// waits for the lock the same way.
///
/// One writer rather than several: SQLite's busy handler sleeps in steps of up to
/// 100 ms when writers of one process collide on the lock (measured with sqlx, 4 tasks
/// writing one-AOR batches: the same throughput as 4 writer connections, but a worst
/// write of ~5 ms instead of ~100 ms).
///
/// Why threads of our own: the store used sqlx until profiling under PUBLISH load put
/// its SQLite worker thread at 24 % of the server's CPU and the presence store-writer
/// task at 12.5 %. sqlx hands *every statement* (`BEGIN`, each statement, `COMMIT`) to
/// the connection's worker thread and back, with pool bookkeeping and boxed arguments
/// and rows on the way; here a whole transaction is one hand-off (deps.md §6's planned
/// fallback). CPU per call, all threads counted, one call at a time on tables of
/// 10 000 rows (`benches/cpu_per_op.rs`), sqlx then this design: a one-AOR
/// `replace_bindings` ~135 µs then ~50 µs, a PUBLISH refresh's `write_publications`
/// ~135 µs then ~45–60 µs, `get_user` ~40 µs then ~15 µs.
///
/// Queueing: a call waits in its thread's queue as long as it takes (there is no pool
/// timeout any more); each write then waits at most [`BUSY_TIMEOUT`] for the lock. A
/// job once queued runs even if its caller stops waiting (the future is dropped): its
/// transaction then commits or rolls back whole, as usual. The threads end, closing
/// their connections, on [`close`](Self::close) or when the last clone is dropped.
///
/// # Durability
/// `journal_mode=WAL`, `synchronous=NORMAL`: a write that returned `Ok` survives the
/// process being killed, `kill -9` included, because its WAL frames are already in the
/// OS page cache. It is **not** durable against power loss or an OS crash: the latest
/// commits may roll back then (the file stays consistent). The WAL is synced at
/// checkpoints.
///
/// # Schema and encodings
/// The schema is in `migrations/sqlite/`, embedded in the binary and applied by
/// [`open_file`](Self::open_file), all pending migrations in one `BEGIN IMMEDIATE`
/// transaction (so two processes opening a new file at once do not race). They are
/// tracked in the table sqlx's migrator kept, `_sqlx_migrations`, with the same rows
/// (SHA-384 checksums of the SQL): databases migrated by sqlx-era builds open as they
/// are, and the other way round.
/// - `users`: keyed by (domain, username); `domain` ASCII-lowercased. `user_ha1`: one row
///   per algorithm, `pos` keeping the caller's order, deleted with its user.
/// - `bindings`: keyed by (aor, pos), `pos` keeping the order of an AOR's bindings;
///   `q`, `instance`, `reg_id`, `received`, `user_agent` are NULL for `None`; indexed by
///   `expires_at_ms` for expiry sweeps.
/// - `bindings.path` is NULL for no Path, otherwise the values joined with `"\n"` (a
///   header value never holds a line break; stores refuse one), so `[""]` and `[]` stay
///   distinct.
/// - `publications`: keyed by (aor, event, etag); `body` a BLOB, bytes as given; indexed
///   by `expires_at_ms`.
/// - `subscriptions`: keyed by `id`, indexed by (aor, event, created_ms) and by
///   `expires_at_ms`; `event_id` and `remote_tag` NULL for `None`; `secure` 0 or 1.
///   `route_set` is encoded like `bindings.path`: NULL for an empty route set, otherwise
///   the routes joined with `"\n"` (stores refuse a route with a line break).
/// - `documents`: keyed by (owner, auid, name); `content` a BLOB, bytes as given. A
///   conditional write is one statement (`INSERT .. ON CONFLICT DO NOTHING`, `UPDATE ..
///   WHERE etag = ?`), so the compare-and-set is atomic across processes too.
/// - `stored_messages`: keyed by `id` (AUTOINCREMENT: never reused, so it is the storing
///   order), indexed by (recipient, id), by `expires_at_ms` and by `next_attempt_ms`;
///   `body` a BLOB, bytes as given. The quota check and the insert of
///   [`Messages::store_message`] are one `BEGIN IMMEDIATE` transaction.
/// - `room_members`: keyed by (room, member), indexed by `last_active_ms`.
/// - Every `*_ms` column of the presence tables holds the `u64` as an `i64`: stores
///   refuse times above `i64::MAX` (the year 292 million), so order is kept.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    threads: Arc<Threads>,
}

impl SqliteStore {
    /// Opens (creating if missing) `<dir>/herald.db`, runs migrations, sets WAL etc.
    /// Creates `dir` (and its parents) if missing.
    pub async fn open_dir(dir: &Path) -> Result<SqliteStore> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_owned(),
            source,
        })?;
        Self::open_file(&dir.join(DB_FILE_NAME)).await
    }

    /// Opens (creating if missing) the database file at `path`, runs migrations, sets
    /// WAL, `synchronous=NORMAL`, the busy timeout and foreign keys; starts the store's
    /// threads (the file is opened and migrated on them).
    ///
    /// Several stores may be open on one file, in one process or several: each sees the
    /// others' commits on its next read.
    pub async fn open_file(path: &Path) -> Result<SqliteStore> {
        let threads = Threads::start(path).await?;
        tracing::debug!(path = %path.display(), "sqlite store open");
        Ok(SqliteStore {
            threads: Arc::new(threads),
        })
    }

    /// Closes every connection and ends the store's threads, after the operations
    /// already queued. Later calls on this store (or its clones) fail with
    /// [`StoreError::Closed`].
    pub async fn close(&self) {
        self.threads.stop().await;
    }
}

/// Inserts or replaces one (checked) user inside the caller's transaction;
/// true if it was created.
fn write_user(conn: &Connection, user: &User) -> Result<bool> {
    let domain = canonical_domain(&user.domain);
    let key = (&domain, &user.username, &user.realm, user.created_ms);
    let inserted = exec(
        conn,
        "INSERT INTO users (domain, username, realm, created_ms) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (domain, username) DO NOTHING",
        key,
    )? == 1;
    if !inserted {
        exec(
            conn,
            "UPDATE users SET realm = ?3, created_ms = ?4 \
             WHERE domain = ?1 AND username = ?2",
            key,
        )?;
        exec(
            conn,
            "DELETE FROM user_ha1 WHERE domain = ?1 AND username = ?2",
            (&domain, &user.username),
        )?;
    }
    let mut st = conn.prepare_cached(
        "INSERT INTO user_ha1 (domain, username, pos, algorithm, ha1) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (pos, h) in (0_i64..).zip(&user.ha1) {
        st.execute((&domain, &user.username, pos, &h.algorithm, &h.ha1))?;
    }
    Ok(inserted)
}

/// Runs one statement (cached) and returns how many rows it changed.
fn exec(conn: &Connection, sql: &str, params: impl Params) -> Result<usize> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

/// Every row of a query (cached), decoded.
fn query_rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    decode: fn(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// The first row of a query (cached), decoded.
fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    decode: fn(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    rows.next()?.map(decode).transpose()
}

/// Column `i` of a row of `table`; a value of the wrong type is a corrupt row.
fn col<T: FromSql>(row: &Row<'_>, i: usize, table: &'static str) -> Result<T> {
    row.get(i)
        .map_err(|e| StoreError::corrupt(table, e.to_string()))
}

/// The `SELECT` of `users LEFT JOIN user_ha1` that [`query_users`] folds.
macro_rules! select_users {
    () => {
        "SELECT u.domain, u.username, u.realm, u.created_ms, h.algorithm, h.ha1 \
         FROM users u LEFT JOIN user_ha1 h ON h.domain = u.domain AND h.username = u.username"
    };
}

/// One user with its HA1s: one statement, so the user row and its HA1s come from one
/// snapshot.
const GET_USER: &str = concat!(
    select_users!(),
    " WHERE u.domain = ?1 AND u.username = ?2 ORDER BY h.pos"
);

impl Users for SqliteStore {
    async fn put_user(&self, user: &User) -> Result<bool> {
        check_user(user)?;
        let user = user.clone();
        self.threads
            .write(move |conn| {
                let tx = WriteTx::begin(conn)?;
                let inserted = write_user(&tx, &user)?;
                tx.commit()?;
                Ok(inserted)
            })
            .await
    }

    async fn put_users(&self, users: &[User]) -> Result<usize> {
        users.iter().try_for_each(check_user)?;
        let users = users.to_vec();
        self.threads
            .write(move |conn| {
                let tx = WriteTx::begin(conn)?;
                let mut created = 0;
                for user in &users {
                    created += usize::from(write_user(&tx, user)?);
                }
                tx.commit()?;
                Ok(created)
            })
            .await
    }

    async fn get_user(&self, username: &str, domain: &str) -> Result<Option<User>> {
        let (username, domain) = (username.to_owned(), canonical_domain(domain));
        self.threads
            .read(move |conn| Ok(query_users(conn, GET_USER, (&domain, &username))?.pop()))
            .await
    }

    async fn remove_user(&self, username: &str, domain: &str) -> Result<bool> {
        let (username, domain) = (username.to_owned(), canonical_domain(domain));
        self.threads
            .write(move |conn| {
                // `user_ha1` rows go by ON DELETE CASCADE.
                let removed = exec(
                    conn,
                    "DELETE FROM users WHERE domain = ?1 AND username = ?2",
                    (&domain, &username),
                )?;
                Ok(removed > 0)
            })
            .await
    }

    async fn list_users(&self, domain: Option<&str>) -> Result<Vec<User>> {
        let domain = domain.map(canonical_domain);
        self.threads
            .read(move |conn| match domain {
                None => query_users(
                    conn,
                    concat!(select_users!(), " ORDER BY u.domain, u.username, h.pos"),
                    [],
                ),
                Some(d) => query_users(
                    conn,
                    concat!(
                        select_users!(),
                        " WHERE u.domain = ?1 ORDER BY u.domain, u.username, h.pos"
                    ),
                    [&d],
                ),
            })
            .await
    }
}

/// Folds `users LEFT JOIN user_ha1` rows ([`select_users`]), ordered by user then `pos`,
/// into users.
fn query_users(conn: &Connection, sql: &str, params: impl Params) -> Result<Vec<User>> {
    const T: &str = "users";
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    let mut users: Vec<User> = Vec::new();
    while let Some(row) = rows.next()? {
        let domain: String = col(row, 0, T)?;
        let username: String = col(row, 1, T)?;
        let same = users
            .last()
            .is_some_and(|u| u.domain == domain && u.username == username);
        if !same {
            users.push(User {
                username,
                domain,
                realm: col(row, 2, T)?,
                ha1: Vec::new(),
                created_ms: col(row, 3, T)?,
            });
        }
        let algorithm: Option<String> = col(row, 4, T)?;
        let ha1: Option<String> = col(row, 5, T)?;
        if let (Some(algorithm), Some(ha1), Some(user)) = (algorithm, ha1, users.last_mut()) {
            user.ha1.push(Ha1 { algorithm, ha1 });
        }
    }
    Ok(users)
}

/// The `SELECT` of [`binding_from_row`].
macro_rules! select_bindings {
    () => {
        "SELECT aor, contact, params, q, expires_at_ms, call_id, cseq, instance, reg_id, \
           path, received, user_agent, updated_ms FROM bindings"
    };
}

impl Registrations for SqliteStore {
    async fn replace_bindings(&self, batch: Vec<(String, Vec<Binding>)>) -> Result<()> {
        check_batch(&batch)?;
        // An AOR listed twice: the later entry wins, so only its bindings are written.
        let winners: Vec<(String, Vec<Binding>)> = if batch.len() == 1 {
            batch
        } else {
            let mut last: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
            for (i, (aor, _)) in batch.iter().enumerate() {
                last.insert(aor, i);
            }
            let keep: Vec<bool> = batch
                .iter()
                .enumerate()
                .map(|(i, (aor, _))| last.get(aor.as_str()) == Some(&i))
                .collect();
            batch
                .into_iter()
                .zip(keep)
                .filter_map(|(entry, k)| k.then_some(entry))
                .collect()
        };
        self.threads
            .write(move |conn| {
                let rows: Vec<(&str, i64, &Binding)> = winners
                    .iter()
                    .flat_map(|(aor, bindings)| {
                        (0_i64..)
                            .zip(bindings)
                            .map(move |(pos, b)| (aor.as_str(), pos, b))
                    })
                    .collect();
                // Group commit: one transaction, one WAL append, for the whole batch,
                // written with multi-row statements (see `CHUNKS`).
                let sql = &*BATCH_SQL;
                let tx = WriteTx::begin(conn)?;
                {
                    let mut trim = tx.prepare_cached(DELETE_BINDINGS_FROM)?;
                    for (aor, bindings) in &winners {
                        trim.execute((aor, i64::try_from(bindings.len()).unwrap_or(i64::MAX)))?;
                    }
                }
                execute_chunked(&tx, &sql.upsert, &rows, |q, (aor, pos, b)| {
                    q.bind(aor)?;
                    q.bind(pos)?;
                    q.bind(&b.contact)?;
                    q.bind(&b.params)?;
                    q.bind(b.q.map(i64::from))?;
                    q.bind(b.expires_at_ms)?;
                    q.bind(&b.call_id)?;
                    q.bind(i64::from(b.cseq))?;
                    q.bind(&b.instance)?;
                    q.bind(b.reg_id.map(i64::from))?;
                    q.bind(encode_path(&b.path))?;
                    q.bind(&b.received)?;
                    q.bind(&b.user_agent)?;
                    q.bind(b.updated_ms)
                })?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>> {
        let aor = aor.to_owned();
        self.threads
            .read(move |conn| {
                query_rows(
                    conn,
                    concat!(select_bindings!(), " WHERE aor = ?1 ORDER BY pos"),
                    [&aor],
                    binding_from_row,
                )
            })
            .await
    }

    async fn load_live_bindings(&self, now_ms: i64) -> Result<Vec<Binding>> {
        self.threads
            .write(move |conn| {
                let tx = WriteTx::begin(conn)?;
                let removed = exec(
                    &tx,
                    "DELETE FROM bindings WHERE expires_at_ms <= ?1",
                    [now_ms],
                )?;
                let live = query_rows(
                    &tx,
                    concat!(select_bindings!(), " ORDER BY aor, pos"),
                    [],
                    binding_from_row,
                )?;
                tx.commit()?;
                tracing::debug!(live = live.len(), removed, "loaded bindings");
                Ok(live)
            })
            .await
    }

    async fn remove_expired(&self, now_ms: i64) -> Result<u64> {
        self.threads
            .write(move |conn| {
                let removed = exec(
                    conn,
                    "DELETE FROM bindings WHERE expires_at_ms <= ?1",
                    [now_ms],
                )?;
                Ok(removed as u64)
            })
            .await
    }

    async fn count_bindings(&self) -> Result<u64> {
        self.threads
            .read(|conn| {
                let n: i64 = conn
                    .prepare_cached("SELECT COUNT(*) FROM bindings")?
                    .query_row([], |r| r.get(0))?;
                u64::try_from(n).map_err(|_| StoreError::corrupt("bindings", "negative count"))
            })
            .await
    }
}

/// The `SELECT` of [`publication_from_row`].
macro_rules! select_publications {
    () => {
        "SELECT aor, event, etag, content_type, body, expires_at_ms, updated_ms, created_ms, \
           publisher FROM publications"
    };
}

impl Publications for SqliteStore {
    async fn write_publications(
        &self,
        puts: Vec<Publication>,
        removes: Vec<PublicationKey>,
    ) -> Result<()> {
        check_publications(&puts, &removes)?;
        self.threads
            .write(move |conn| {
                let sql = &*PRESENCE_SQL;
                let tx = WriteTx::begin(conn)?;
                // Within one multi-row upsert SQLite inserts row by row, so a key put
                // twice ends up with the later row, as the trait says.
                execute_chunked(&tx, &sql.put_publications, &puts, |q, p| {
                    q.bind(&p.aor)?;
                    q.bind(&p.event)?;
                    q.bind(&p.etag)?;
                    q.bind(&p.content_type)?;
                    q.bind(p.body.as_slice())?;
                    q.bind(ms_to_sql(p.expires_at_ms))?;
                    q.bind(ms_to_sql(p.updated_ms))?;
                    q.bind(ms_to_sql(p.created_ms))?;
                    q.bind(&p.publisher)
                })?;
                execute_chunked(&tx, &sql.remove_publications, &removes, |q, k| {
                    q.bind(&k.aor)?;
                    q.bind(&k.event)?;
                    q.bind(&k.etag)
                })?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    async fn publications(&self, aor: &str, event: &str) -> Result<Vec<Publication>> {
        let (aor, event) = (aor.to_owned(), event.to_owned());
        self.threads
            .read(move |conn| {
                query_rows(
                    conn,
                    concat!(
                        select_publications!(),
                        " WHERE aor = ?1 AND event = ?2 ORDER BY created_ms, etag"
                    ),
                    [&aor, &event],
                    publication_from_row,
                )
            })
            .await
    }

    async fn load_live_publications(&self, now_ms: u64) -> Result<Vec<Publication>> {
        let now = ms_to_sql(now_ms);
        self.threads
            .write(move |conn| {
                let tx = WriteTx::begin(conn)?;
                let removed = exec(
                    &tx,
                    "DELETE FROM publications WHERE expires_at_ms <= ?1",
                    [now],
                )?;
                let live = query_rows(
                    &tx,
                    concat!(
                        select_publications!(),
                        " ORDER BY aor, event, created_ms, etag"
                    ),
                    [],
                    publication_from_row,
                )?;
                tx.commit()?;
                tracing::debug!(live = live.len(), removed, "loaded publications");
                Ok(live)
            })
            .await
    }

    async fn remove_expired_publications(&self, now_ms: u64) -> Result<u64> {
        let now = ms_to_sql(now_ms);
        self.threads
            .write(move |conn| {
                let removed = exec(
                    conn,
                    "DELETE FROM publications WHERE expires_at_ms <= ?1",
                    [now],
                )?;
                Ok(removed as u64)
            })
            .await
    }
}

/// The `SELECT` of [`subscription_from_row`].
macro_rules! select_subscriptions {
    () => {
        "SELECT id, aor, event, event_id, watcher, state, expires_at_ms, content_type, \
           call_id, local_tag, remote_tag, local_uri, remote_uri, remote_target, route_set, \
           secure, local_cseq, remote_cseq, transport, remote_addr, created_ms, updated_ms \
         FROM subscriptions"
    };
}

impl Subscriptions for SqliteStore {
    async fn write_subscriptions(&self, puts: &[Subscription], removes: &[String]) -> Result<()> {
        check_subscriptions(puts, removes)?;
        let (puts, removes) = (puts.to_vec(), removes.to_vec());
        self.threads
            .write(move |conn| {
                let sql = &*PRESENCE_SQL;
                let tx = WriteTx::begin(conn)?;
                execute_chunked(&tx, &sql.put_subscriptions, &puts, |q, s| {
                    q.bind(&s.id)?;
                    q.bind(&s.aor)?;
                    q.bind(&s.event)?;
                    q.bind(&s.event_id)?;
                    q.bind(&s.watcher)?;
                    q.bind(&s.state)?;
                    q.bind(ms_to_sql(s.expires_at_ms))?;
                    q.bind(&s.content_type)?;
                    q.bind(&s.call_id)?;
                    q.bind(&s.local_tag)?;
                    q.bind(&s.remote_tag)?;
                    q.bind(&s.local_uri)?;
                    q.bind(&s.remote_uri)?;
                    q.bind(&s.remote_target)?;
                    q.bind(encode_path(&s.route_set))?;
                    q.bind(s.secure)?;
                    q.bind(i64::from(s.local_cseq))?;
                    q.bind(i64::from(s.remote_cseq))?;
                    q.bind(&s.transport)?;
                    q.bind(&s.remote_addr)?;
                    q.bind(ms_to_sql(s.created_ms))?;
                    q.bind(ms_to_sql(s.updated_ms))
                })?;
                execute_chunked(&tx, &sql.remove_subscriptions, &removes, |q, id| q.bind(id))?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    async fn subscription(&self, id: &str) -> Result<Option<Subscription>> {
        let id = id.to_owned();
        self.threads
            .read(move |conn| {
                query_opt(
                    conn,
                    concat!(select_subscriptions!(), " WHERE id = ?1"),
                    [&id],
                    subscription_from_row,
                )
            })
            .await
    }

    async fn subscriptions_for(&self, aor: &str, event: &str) -> Result<Vec<Subscription>> {
        let (aor, event) = (aor.to_owned(), event.to_owned());
        self.threads
            .read(move |conn| {
                query_rows(
                    conn,
                    concat!(
                        select_subscriptions!(),
                        " WHERE aor = ?1 AND event = ?2 ORDER BY created_ms, id"
                    ),
                    [&aor, &event],
                    subscription_from_row,
                )
            })
            .await
    }

    async fn load_live_subscriptions(&self, now_ms: u64) -> Result<Vec<Subscription>> {
        let now = ms_to_sql(now_ms);
        self.threads
            .write(move |conn| {
                let tx = WriteTx::begin(conn)?;
                let removed = exec(
                    &tx,
                    "DELETE FROM subscriptions WHERE expires_at_ms <= ?1",
                    [now],
                )?;
                let live = query_rows(
                    &tx,
                    concat!(
                        select_subscriptions!(),
                        " ORDER BY aor, event, created_ms, id"
                    ),
                    [],
                    subscription_from_row,
                )?;
                tx.commit()?;
                tracing::debug!(live = live.len(), removed, "loaded subscriptions");
                Ok(live)
            })
            .await
    }
}

/// The `SELECT` of [`message_from_row`].
macro_rules! select_messages {
    () => {
        "SELECT id, recipient, sender, sender_aor, content_type, body, received_ms, \
           expires_at_ms, attempts, next_attempt_ms FROM stored_messages"
    };
}

/// A recipient's waiting messages and body bytes.
const MESSAGE_USAGE: &str = "SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) \
                             FROM stored_messages WHERE recipient = ?1";

fn usage(conn: &Connection, recipient: &str) -> Result<(u64, u64)> {
    let (n, b): (i64, i64) = conn
        .prepare_cached(MESSAGE_USAGE)?
        .query_row([recipient], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((u64::try_from(n).unwrap_or(0), u64::try_from(b).unwrap_or(0)))
}

impl Messages for SqliteStore {
    async fn store_message(&self, msg: &StoredMessage, quota: Quota) -> Result<StoreOutcome> {
        check_message(msg)?;
        let msg = msg.clone();
        self.threads
            .write(move |conn| {
                // The quota check and the insert under one write lock: two concurrent
                // stores for one recipient cannot both pass the check.
                let tx = WriteTx::begin(conn)?;
                let (messages, bytes) = usage(&tx, &msg.recipient)?;
                if messages + 1 > quota.max_messages
                    || bytes.saturating_add(msg.body.len() as u64) > quota.max_bytes
                {
                    tx.rollback()?;
                    return Ok(StoreOutcome::OverQuota { messages, bytes });
                }
                exec(
                    &tx,
                    "INSERT INTO stored_messages (recipient, sender, sender_aor, content_type, \
                       body, received_ms, expires_at_ms, attempts, next_attempt_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    (
                        &msg.recipient,
                        &msg.sender,
                        &msg.sender_aor,
                        &msg.content_type,
                        msg.body.as_slice(),
                        ms_to_sql(msg.received_ms),
                        ms_to_sql(msg.expires_at_ms),
                        i64::from(msg.attempts),
                        ms_to_sql(msg.next_attempt_ms),
                    ),
                )?;
                let id = tx.last_insert_rowid();
                tx.commit()?;
                Ok(StoreOutcome::Stored(u64::try_from(id).unwrap_or(0)))
            })
            .await
    }

    async fn messages_for(&self, recipient: &str, limit: usize) -> Result<Vec<StoredMessage>> {
        let recipient = recipient.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.threads
            .read(move |conn| {
                query_rows(
                    conn,
                    concat!(
                        select_messages!(),
                        " WHERE recipient = ?1 ORDER BY id LIMIT ?2"
                    ),
                    (&recipient, limit),
                    message_from_row,
                )
            })
            .await
    }

    async fn remove_message(&self, id: u64) -> Result<bool> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        self.threads
            .write(move |conn| {
                Ok(exec(conn, "DELETE FROM stored_messages WHERE id = ?1", [id])? == 1)
            })
            .await
    }

    async fn reschedule_message(
        &self,
        id: u64,
        attempts: u32,
        next_attempt_ms: u64,
    ) -> Result<bool> {
        crate::model::check_next_attempt(next_attempt_ms)?;
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        self.threads
            .write(move |conn| {
                let done = exec(
                    conn,
                    "UPDATE stored_messages SET attempts = ?2, next_attempt_ms = ?3 \
                     WHERE id = ?1",
                    (id, i64::from(attempts), ms_to_sql(next_attempt_ms)),
                )?;
                Ok(done == 1)
            })
            .await
    }

    async fn due_recipients(&self, now_ms: u64) -> Result<Vec<String>> {
        let now = ms_to_sql(now_ms.min(crate::model::MAX_MS));
        self.threads
            .read(move |conn| {
                query_rows(
                    conn,
                    "SELECT DISTINCT recipient FROM stored_messages \
                     WHERE next_attempt_ms <= ?1 AND expires_at_ms > ?1 ORDER BY recipient",
                    [now],
                    |row| col(row, 0, "stored_messages"),
                )
            })
            .await
    }

    async fn message_recipients(&self) -> Result<Vec<String>> {
        self.threads
            .read(move |conn| {
                query_rows(
                    conn,
                    "SELECT DISTINCT recipient FROM stored_messages ORDER BY recipient",
                    [],
                    |row| col(row, 0, "stored_messages"),
                )
            })
            .await
    }

    async fn take_expired_messages(&self, now_ms: u64) -> Result<Vec<StoredMessage>> {
        let now = ms_to_sql(now_ms.min(crate::model::MAX_MS));
        self.threads
            .write(move |conn| {
                let tx = WriteTx::begin(conn)?;
                let expired = query_rows(
                    &tx,
                    concat!(select_messages!(), " WHERE expires_at_ms <= ?1 ORDER BY id"),
                    [now],
                    message_from_row,
                )?;
                exec(
                    &tx,
                    "DELETE FROM stored_messages WHERE expires_at_ms <= ?1",
                    [now],
                )?;
                tx.commit()?;
                Ok(expired)
            })
            .await
    }

    async fn message_usage(&self, recipient: &str) -> Result<(u64, u64)> {
        let recipient = recipient.to_owned();
        self.threads.read(move |conn| usage(conn, &recipient)).await
    }
}

fn message_from_row(row: &Row<'_>) -> Result<StoredMessage> {
    const T: &str = "stored_messages";
    Ok(StoredMessage {
        id: u64::try_from(col::<i64>(row, 0, T)?).unwrap_or(0),
        recipient: col(row, 1, T)?,
        sender: col(row, 2, T)?,
        sender_aor: col(row, 3, T)?,
        content_type: col(row, 4, T)?,
        body: col(row, 5, T)?,
        received_ms: ms_from_row(row, 6, T, "received_ms")?,
        expires_at_ms: ms_from_row(row, 7, T, "expires_at_ms")?,
        attempts: u32::try_from(col::<i64>(row, 8, T)?).unwrap_or(u32::MAX),
        next_attempt_ms: ms_from_row(row, 9, T, "next_attempt_ms")?,
    })
}

/// The `SELECT` of [`member_from_row`].
macro_rules! select_members {
    () => {
        "SELECT room, member, joined_ms, last_active_ms FROM room_members"
    };
}

impl Rooms for SqliteStore {
    async fn put_member(&self, member: &RoomMember) -> Result<bool> {
        check_member(member)?;
        let member = member.clone();
        self.threads
            .write(move |conn| {
                let tx = WriteTx::begin(conn)?;
                let updated = exec(
                    &tx,
                    "UPDATE room_members SET last_active_ms = ?3 WHERE room = ?1 AND member = ?2",
                    (
                        &member.room,
                        &member.member,
                        ms_to_sql(member.last_active_ms),
                    ),
                )?;
                if updated == 0 {
                    exec(
                        &tx,
                        "INSERT INTO room_members (room, member, joined_ms, last_active_ms) \
                         VALUES (?1, ?2, ?3, ?4)",
                        (
                            &member.room,
                            &member.member,
                            ms_to_sql(member.joined_ms),
                            ms_to_sql(member.last_active_ms),
                        ),
                    )?;
                }
                tx.commit()?;
                Ok(updated == 0)
            })
            .await
    }

    async fn remove_member(&self, room: &str, member: &str) -> Result<bool> {
        let (room, member) = (room.to_owned(), member.to_owned());
        self.threads
            .write(move |conn| {
                let done = exec(
                    conn,
                    "DELETE FROM room_members WHERE room = ?1 AND member = ?2",
                    [&room, &member],
                )?;
                Ok(done == 1)
            })
            .await
    }

    async fn room_members(&self, room: &str) -> Result<Vec<RoomMember>> {
        let room = room.to_owned();
        self.threads
            .read(move |conn| {
                query_rows(
                    conn,
                    concat!(
                        select_members!(),
                        " WHERE room = ?1 ORDER BY joined_ms, member"
                    ),
                    [&room],
                    member_from_row,
                )
            })
            .await
    }

    async fn remove_idle_members(&self, idle_before_ms: u64) -> Result<Vec<RoomMember>> {
        let before = ms_to_sql(idle_before_ms.min(crate::model::MAX_MS));
        self.threads
            .write(move |conn| {
                let tx = WriteTx::begin(conn)?;
                let idle = query_rows(
                    &tx,
                    concat!(
                        select_members!(),
                        " WHERE last_active_ms < ?1 ORDER BY room, member"
                    ),
                    [before],
                    member_from_row,
                )?;
                exec(
                    &tx,
                    "DELETE FROM room_members WHERE last_active_ms < ?1",
                    [before],
                )?;
                tx.commit()?;
                Ok(idle)
            })
            .await
    }
}

fn member_from_row(row: &Row<'_>) -> Result<RoomMember> {
    const T: &str = "room_members";
    Ok(RoomMember {
        room: col(row, 0, T)?,
        member: col(row, 1, T)?,
        joined_ms: ms_from_row(row, 2, T, "joined_ms")?,
        last_active_ms: ms_from_row(row, 3, T, "last_active_ms")?,
    })
}

/// The `SELECT` of [`document_from_row`].
macro_rules! select_documents {
    () => {
        "SELECT auid, owner, name, etag, content_type, content, updated_ms FROM documents"
    };
}

impl Documents for SqliteStore {
    async fn get_document(&self, auid: &str, owner: &str, name: &str) -> Result<Option<Document>> {
        check_document_key(auid, owner, name)?;
        let key = [owner.to_owned(), auid.to_owned(), name.to_owned()];
        self.threads
            .read(move |conn| {
                let [owner, auid, name] = &key;
                query_opt(
                    conn,
                    concat!(
                        select_documents!(),
                        " WHERE owner = ?1 AND auid = ?2 AND name = ?3"
                    ),
                    [owner, auid, name],
                    document_from_row,
                )
            })
            .await
    }

    async fn put_document(&self, doc: &Document, pre: Precondition) -> Result<bool> {
        check_document(doc, &pre)?;
        let doc = doc.clone();
        self.threads
            .write(move |conn| {
                // Each precondition is one statement: SQLite runs it under the write
                // lock, so the check and the write cannot interleave with another
                // writer's (this process's or another's).
                let sql = match &pre {
                    Precondition::Any => {
                        "INSERT INTO documents \
                           (owner, auid, name, etag, content_type, content, updated_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                         ON CONFLICT (owner, auid, name) DO UPDATE SET etag = excluded.etag, \
                           content_type = excluded.content_type, content = excluded.content, \
                           updated_ms = excluded.updated_ms"
                    }
                    Precondition::IfNoneMatch => {
                        "INSERT INTO documents \
                           (owner, auid, name, etag, content_type, content, updated_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                         ON CONFLICT (owner, auid, name) DO NOTHING"
                    }
                    Precondition::IfMatch(_) => {
                        "UPDATE documents SET etag = ?4, content_type = ?5, content = ?6, \
                           updated_ms = ?7 \
                         WHERE owner = ?1 AND auid = ?2 AND name = ?3 AND etag = ?8"
                    }
                };
                let mut st = conn.prepare_cached(sql)?;
                let mut q = Binder::new(&mut st);
                q.bind(&doc.owner)?;
                q.bind(&doc.auid)?;
                q.bind(&doc.name)?;
                q.bind(&doc.etag)?;
                q.bind(&doc.content_type)?;
                q.bind(doc.content.as_slice())?;
                q.bind(ms_to_sql(doc.updated_ms))?;
                if let Precondition::IfMatch(etag) = &pre {
                    q.bind(etag)?;
                }
                Ok(st.raw_execute()? == 1)
            })
            .await
    }

    async fn remove_document(
        &self,
        auid: &str,
        owner: &str,
        name: &str,
        pre: Precondition,
    ) -> Result<bool> {
        check_document_key(auid, owner, name)?;
        check_precondition(&pre)?;
        let key = [owner.to_owned(), auid.to_owned(), name.to_owned()];
        self.threads
            .write(move |conn| {
                let [owner, auid, name] = &key;
                let removed = match &pre {
                    // Deletes only an absent document: nothing.
                    Precondition::IfNoneMatch => 0,
                    Precondition::Any => exec(
                        conn,
                        "DELETE FROM documents WHERE owner = ?1 AND auid = ?2 AND name = ?3",
                        [owner, auid, name],
                    )?,
                    Precondition::IfMatch(etag) => exec(
                        conn,
                        "DELETE FROM documents \
                         WHERE owner = ?1 AND auid = ?2 AND name = ?3 AND etag = ?4",
                        [owner, auid, name, etag],
                    )?,
                };
                Ok(removed == 1)
            })
            .await
    }

    async fn list_documents(&self, owner: &str, auid: Option<&str>) -> Result<Vec<Document>> {
        check_document_filter(owner, auid)?;
        let (owner, auid) = (owner.to_owned(), auid.map(str::to_owned));
        self.threads
            .read(move |conn| match &auid {
                None => query_rows(
                    conn,
                    concat!(select_documents!(), " WHERE owner = ?1 ORDER BY auid, name"),
                    [&owner],
                    document_from_row,
                ),
                Some(auid) => query_rows(
                    conn,
                    concat!(
                        select_documents!(),
                        " WHERE owner = ?1 AND auid = ?2 ORDER BY auid, name"
                    ),
                    [&owner, auid],
                    document_from_row,
                ),
            })
            .await
    }

    async fn documents_revision(&self, auid: &str) -> Result<u64> {
        let auid = auid.to_owned();
        self.threads
            .read(move |conn| {
                let revision = query_opt(
                    conn,
                    "SELECT revision FROM document_revisions WHERE auid = ?1",
                    [&auid],
                    |row| col::<i64>(row, 0, "document_revisions"),
                )?;
                Ok(revision.map_or(0, |r| u64::try_from(r).unwrap_or(0)))
            })
            .await
    }

    async fn documents_of_auid(&self, auid: &str) -> Result<Vec<Document>> {
        if auid.is_empty() {
            return Err(StoreError::Invalid {
                what: "document",
                reason: "empty auid".into(),
            });
        }
        let auid = auid.to_owned();
        self.threads
            .read(move |conn| {
                query_rows(
                    conn,
                    concat!(select_documents!(), " WHERE auid = ?1 ORDER BY owner, name"),
                    [&auid],
                    document_from_row,
                )
            })
            .await
    }
}

fn document_from_row(row: &Row<'_>) -> Result<Document> {
    const T: &str = "documents";
    Ok(Document {
        auid: col(row, 0, T)?,
        owner: col(row, 1, T)?,
        name: col(row, 2, T)?,
        etag: col(row, 3, T)?,
        content_type: col(row, 4, T)?,
        content: col(row, 5, T)?,
        updated_ms: ms_from_row(row, 6, T, "updated_ms")?,
    })
}

/// Rows per multi-row statement of the batch writes (`replace_bindings`,
/// `write_publications`, `write_subscriptions`). Each execution of a statement has a
/// fixed cost (looking it up in the statement cache, opening its table and index
/// cursors, the step and reset) that a multi-row statement pays once per chunk rather
/// than once per row. Statements of these sizes (largest that fits first) write a batch
/// of 500 in a few statements, from a bounded set of SQL texts, each prepared once per
/// connection.
const CHUNKS: [usize; 8] = [128, 64, 32, 16, 8, 4, 2, 1];

/// Columns `replace_bindings` inserts, in bind order.
const BINDING_COLUMNS: &str = "aor, pos, contact, params, q, expires_at_ms, call_id, cseq, \
                               instance, reg_id, path, received, user_agent, updated_ms";
const BINDING_PARAMS: usize = 14;

/// The multi-row statements of `replace_bindings`, index-aligned with [`CHUNKS`]. Built
/// from the constants above and `?` placeholders only: nothing from input reaches the SQL.
///
/// A binding set is written as an upsert of its rows by (aor, pos) and a delete of the
/// positions past its end: a refresh (the common write) then updates its row in place,
/// which touches the table and the `expires_at_ms` index only, where a delete and an
/// insert also rewrote the primary-key index twice.
struct BatchSql {
    upsert: [String; CHUNKS.len()],
}

/// Deletes the positions of one AOR at or past `?2` (the new set's length).
const DELETE_BINDINGS_FROM: &str = "DELETE FROM bindings WHERE aor = ?1 AND pos >= ?2";

static BATCH_SQL: LazyLock<BatchSql> = LazyLock::new(|| {
    let placeholders = |n: usize| vec!["?"; n].join(", ");
    let updates = BINDING_COLUMNS
        .split(", ")
        .filter(|c| !matches!(*c, "aor" | "pos"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    BatchSql {
        upsert: CHUNKS.map(|n| {
            let row = format!("({})", placeholders(BINDING_PARAMS));
            format!(
                "INSERT INTO bindings ({BINDING_COLUMNS}) VALUES {} \
                 ON CONFLICT (aor, pos) DO UPDATE SET {updates}",
                vec![row; n].join(", ")
            )
        }),
    }
});

/// Columns of `publications`, in `write_publications` bind order; the first three are the
/// key.
const PUBLICATION_COLUMNS: &str = "aor, event, etag, content_type, body, expires_at_ms, \
                                   updated_ms, created_ms, publisher";
const PUBLICATION_PARAMS: usize = 9;

/// Columns of `subscriptions`, in `write_subscriptions` bind order; the first is the key.
const SUBSCRIPTION_COLUMNS: &str = "id, aor, event, event_id, watcher, state, expires_at_ms, \
    content_type, call_id, local_tag, remote_tag, local_uri, remote_uri, remote_target, \
    route_set, secure, local_cseq, remote_cseq, transport, remote_addr, created_ms, updated_ms";
const SUBSCRIPTION_PARAMS: usize = 22;

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` (since 3.32), which the bundled SQLite
/// keeps: the largest statement of [`CHUNKS`] stays below it (a unit test checks).
#[cfg(test)]
const MAX_VARIABLES: usize = 32_766;

/// The multi-row statements of `write_publications` and `write_subscriptions`,
/// index-aligned with [`CHUNKS`]. Built from the constants above and `?` placeholders
/// only: nothing from input reaches the SQL.
struct PresenceSql {
    put_publications: [String; CHUNKS.len()],
    remove_publications: [String; CHUNKS.len()],
    put_subscriptions: [String; CHUNKS.len()],
    remove_subscriptions: [String; CHUNKS.len()],
}

static PRESENCE_SQL: LazyLock<PresenceSql> = LazyLock::new(|| {
    let row = |params: usize| format!("({})", vec!["?"; params].join(", "));
    let rows = |params: usize, n: usize| vec![row(params); n].join(", ");
    // INSERT .. ON CONFLICT (key) DO UPDATE SET <every other column> = excluded.<column>
    let upsert = |table: &str, columns: &str, key_len: usize, params: usize, n: usize| {
        let names: Vec<&str> = columns.split(',').map(str::trim).collect();
        let set: Vec<String> = names[key_len..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        format!(
            "INSERT INTO {table} ({columns}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
            rows(params, n),
            names[..key_len].join(", "),
            set.join(", ")
        )
    };
    PresenceSql {
        put_publications: CHUNKS.map(|n| {
            upsert(
                "publications",
                PUBLICATION_COLUMNS,
                3,
                PUBLICATION_PARAMS,
                n,
            )
        }),
        remove_publications: CHUNKS.map(|n| {
            format!(
                "DELETE FROM publications WHERE (aor, event, etag) IN (VALUES {})",
                rows(3, n)
            )
        }),
        put_subscriptions: CHUNKS.map(|n| {
            upsert(
                "subscriptions",
                SUBSCRIPTION_COLUMNS,
                1,
                SUBSCRIPTION_PARAMS,
                n,
            )
        }),
        remove_subscriptions: CHUNKS
            .map(|n| format!("DELETE FROM subscriptions WHERE id IN {}", row(n))),
    }
});

/// Binds a multi-row statement's values in order (parameters `?` numbered from 1).
struct Binder<'s, 'c> {
    st: &'s mut Statement<'c>,
    next: usize,
}

impl<'s, 'c> Binder<'s, 'c> {
    fn new(st: &'s mut Statement<'c>) -> Self {
        Binder { st, next: 0 }
    }

    fn bind(&mut self, value: impl ToSql) -> rusqlite::Result<()> {
        self.next += 1;
        self.st.raw_bind_parameter(self.next, value)
    }
}

/// Writes `rows` with the multi-row statements `sql` (index-aligned with [`CHUNKS`]),
/// largest first; `bind` binds one row's values in column order.
fn execute_chunked<T>(
    conn: &Connection,
    sql: &'static [String; CHUNKS.len()],
    rows: &[T],
    bind: impl Fn(&mut Binder<'_, '_>, &T) -> rusqlite::Result<()>,
) -> Result<()> {
    let mut rest = rows;
    while let Some((k, n)) = chunk(rest.len()) {
        let (now, later) = rest.split_at(n);
        let mut st = conn.prepare_cached(&sql[k])?;
        let mut q = Binder::new(&mut st);
        for row in now {
            bind(&mut q, row)?;
        }
        st.raw_execute()?;
        rest = later;
    }
    Ok(())
}

/// A time as stored: the model checks refuse anything above `i64::MAX`, and a `now_ms`
/// above it compares like `i64::MAX` (every stored time is at or below it).
fn ms_to_sql(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn ms_from_row(row: &Row<'_>, i: usize, table: &'static str, column: &str) -> Result<u64> {
    let ms: i64 = col(row, i, table)?;
    u64::try_from(ms).map_err(|_| StoreError::corrupt(table, format!("{column} {ms}")))
}

fn cseq_from_row(row: &Row<'_>, i: usize, column: &str) -> Result<u32> {
    let cseq: i64 = col(row, i, "subscriptions")?;
    u32::try_from(cseq)
        .map_err(|_| StoreError::corrupt("subscriptions", format!("{column} {cseq}")))
}

/// Decodes a row of [`select_publications`].
fn publication_from_row(row: &Row<'_>) -> Result<Publication> {
    const T: &str = "publications";
    Ok(Publication {
        aor: col(row, 0, T)?,
        event: col(row, 1, T)?,
        etag: col(row, 2, T)?,
        content_type: col(row, 3, T)?,
        body: col(row, 4, T)?,
        expires_at_ms: ms_from_row(row, 5, T, "expires_at_ms")?,
        updated_ms: ms_from_row(row, 6, T, "updated_ms")?,
        created_ms: ms_from_row(row, 7, T, "created_ms")?,
        publisher: col(row, 8, T)?,
    })
}

/// Decodes a row of [`select_subscriptions`].
fn subscription_from_row(row: &Row<'_>) -> Result<Subscription> {
    const T: &str = "subscriptions";
    Ok(Subscription {
        id: col(row, 0, T)?,
        aor: col(row, 1, T)?,
        event: col(row, 2, T)?,
        event_id: col(row, 3, T)?,
        watcher: col(row, 4, T)?,
        state: col(row, 5, T)?,
        expires_at_ms: ms_from_row(row, 6, T, "expires_at_ms")?,
        content_type: col(row, 7, T)?,
        call_id: col(row, 8, T)?,
        local_tag: col(row, 9, T)?,
        remote_tag: col(row, 10, T)?,
        local_uri: col(row, 11, T)?,
        remote_uri: col(row, 12, T)?,
        remote_target: col(row, 13, T)?,
        route_set: decode_path(col(row, 14, T)?),
        secure: col(row, 15, T)?,
        local_cseq: cseq_from_row(row, 16, "local_cseq")?,
        remote_cseq: cseq_from_row(row, 17, "remote_cseq")?,
        transport: col(row, 18, T)?,
        remote_addr: col(row, 19, T)?,
        created_ms: ms_from_row(row, 20, T, "created_ms")?,
        updated_ms: ms_from_row(row, 21, T, "updated_ms")?,
    })
}

/// The next statement for `remaining` rows: (index into [`CHUNKS`], rows it takes).
fn chunk(remaining: usize) -> Option<(usize, usize)> {
    CHUNKS
        .iter()
        .position(|&n| n <= remaining)
        .map(|k| (k, CHUNKS[k]))
}

fn encode_path(path: &[String]) -> Option<String> {
    (!path.is_empty()).then(|| path.join("\n"))
}

fn decode_path(path: Option<String>) -> Vec<String> {
    match path {
        None => Vec::new(),
        Some(p) => p.split('\n').map(str::to_owned).collect(),
    }
}

/// Decodes a row of [`select_bindings`].
fn binding_from_row(row: &Row<'_>) -> Result<Binding> {
    const T: &str = "bindings";
    let q = match col::<Option<i64>>(row, 3, T)? {
        None => None,
        Some(q) => Some(
            u16::try_from(q)
                .ok()
                .filter(|q| *q <= 1000)
                .ok_or_else(|| StoreError::corrupt(T, format!("q {q}")))?,
        ),
    };
    let cseq: i64 = col(row, 6, T)?;
    let cseq = u32::try_from(cseq).map_err(|_| StoreError::corrupt(T, format!("cseq {cseq}")))?;
    let reg_id = match col::<Option<i64>>(row, 8, T)? {
        None => None,
        Some(r) => {
            Some(u32::try_from(r).map_err(|_| StoreError::corrupt(T, format!("reg-id {r}")))?)
        }
    };
    Ok(Binding {
        aor: col(row, 0, T)?,
        contact: col(row, 1, T)?,
        params: col(row, 2, T)?,
        q,
        expires_at_ms: col(row, 4, T)?,
        call_id: col(row, 5, T)?,
        cseq,
        instance: col(row, 7, T)?,
        reg_id,
        path: decode_path(col(row, 9, T)?),
        received: col(row, 10, T)?,
        user_agent: col(row, 11, T)?,
        updated_ms: col(row, 12, T)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn path_encoding_round_trips() {
        for path in [
            vec![],
            vec![String::new()],
            vec![String::new(), String::new()],
            vec!["<sip:p1.test;lr>".to_owned(), "<sip:p2.test;lr>".to_owned()],
        ] {
            assert_eq!(decode_path(encode_path(&path)), path);
        }
    }

    #[test]
    fn chunks_cover_any_batch() {
        for n in 0..=600 {
            let (mut rest, mut statements) = (n, 0);
            while let Some((k, take)) = chunk(rest) {
                assert_eq!(CHUNKS[k], take);
                assert!(take <= rest);
                rest -= take;
                statements += 1;
            }
            assert_eq!(rest, 0);
            assert!(statements <= n / 128 + 7, "{n}: {statements}");
        }
    }

    #[test]
    fn batch_sql_has_one_placeholder_per_value() {
        for (k, n) in CHUNKS.iter().enumerate() {
            assert_eq!(BATCH_SQL.upsert[k].matches('?').count(), n * BINDING_PARAMS);
            // Every column but the key is updated on conflict.
            assert_eq!(
                BATCH_SQL.upsert[k].matches("= excluded.").count(),
                BINDING_PARAMS - 2
            );
        }
        assert_eq!(BINDING_COLUMNS.split(',').count(), BINDING_PARAMS);
    }

    #[test]
    fn presence_sql_has_one_placeholder_per_value_and_fits_the_limit() {
        let sql = &*PRESENCE_SQL;
        for (k, n) in CHUNKS.iter().enumerate() {
            assert_eq!(
                sql.put_publications[k].matches('?').count(),
                n * PUBLICATION_PARAMS
            );
            assert_eq!(sql.remove_publications[k].matches('?').count(), n * 3);
            assert_eq!(
                sql.put_subscriptions[k].matches('?').count(),
                n * SUBSCRIPTION_PARAMS
            );
            assert_eq!(sql.remove_subscriptions[k].matches('?').count(), *n);
        }
        assert_eq!(PUBLICATION_COLUMNS.split(',').count(), PUBLICATION_PARAMS);
        assert_eq!(SUBSCRIPTION_COLUMNS.split(',').count(), SUBSCRIPTION_PARAMS);
        let widest = BINDING_PARAMS
            .max(PUBLICATION_PARAMS)
            .max(SUBSCRIPTION_PARAMS);
        assert!(CHUNKS[0] * widest <= MAX_VARIABLES);
        assert!(sql.put_subscriptions[7].ends_with("updated_ms = excluded.updated_ms"));
    }

    /// The column lists the decoders read by position are the ones the writers bind:
    /// every `SELECT` names the columns of its table's `*_COLUMNS` constant, in order
    /// (bindings: all but `pos`).
    #[test]
    fn selects_read_the_columns_in_the_decoders_order() {
        let columns = |select: &str| -> Vec<String> {
            let list = &select["SELECT ".len()..select.find(" FROM").unwrap()];
            list.split(',').map(|c| c.trim().to_owned()).collect()
        };
        let listed = |constant: &str| -> Vec<String> {
            constant.split(',').map(|c| c.trim().to_owned()).collect()
        };
        assert_eq!(columns(select_publications!()), listed(PUBLICATION_COLUMNS));
        assert_eq!(
            columns(select_subscriptions!()),
            listed(SUBSCRIPTION_COLUMNS)
        );
        let mut bindings = listed(BINDING_COLUMNS);
        bindings.retain(|c| c != "pos");
        assert_eq!(columns(select_bindings!()), bindings);
    }

    /// A store on a database migrated only as far as the first migration: the rest is
    /// applied in place and the old rows stay.
    #[tokio::test]
    async fn a_database_from_before_presence_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            // Migrated by a build that knew only the first migration.
            let conn = Connection::open(&path).unwrap();
            migrate::migrate(&conn, &migrate::MIGRATIONS[..1]).unwrap();
            conn.execute(
                "INSERT INTO users (domain, username, realm, created_ms) \
                 VALUES ('example.test', 'alice', 'example.test', 1)",
                [],
            )
            .unwrap();
        }
        let store = SqliteStore::open_file(&path).await.unwrap();
        assert!(
            store
                .get_user("alice", "example.test")
                .await
                .unwrap()
                .is_some()
        );
        let p = crate::conformance::publication("alice@example.test", "presence", "e", 5);
        store
            .write_publications(vec![p.clone()], vec![])
            .await
            .unwrap();
        assert_eq!(store.load_live_publications(0).await.unwrap(), vec![p]);
        store.close().await;
    }

    fn pragma(conn: &Connection, name: &str) -> String {
        conn.pragma_query_value(None, name, |r| {
            let v: rusqlite::types::Value = r.get(0)?;
            Ok(match v {
                rusqlite::types::Value::Text(s) => s,
                rusqlite::types::Value::Integer(i) => i.to_string(),
                other => format!("{other:?}"),
            })
        })
        .unwrap()
    }

    #[tokio::test]
    async fn every_connection_has_wal_normal_sync_and_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).await.unwrap();
        let check = |conn: &Connection| -> Result<()> {
            assert_eq!(pragma(conn, "journal_mode"), "wal");
            // NORMAL = 1
            assert_eq!(pragma(conn, "synchronous"), "1");
            assert_eq!(pragma(conn, "busy_timeout"), "5000");
            assert_eq!(pragma(conn, "foreign_keys"), "1");
            Ok(())
        };
        store.threads.write(move |c| check(c)).await.unwrap();
        assert!(
            store
                .threads
                .write(|c| Ok(pragma(c, "query_only")))
                .await
                .unwrap()
                == "0"
        );
        // Enough reads at once to reach every reader.
        let reads: Vec<_> = (0..4 * READERS)
            .map(|_| {
                store.threads.read(move |c| {
                    check(c)?;
                    std::thread::sleep(Duration::from_millis(5));
                    Ok(pragma(c, "query_only"))
                })
            })
            .collect();
        for read in reads {
            assert_eq!(read.await.unwrap(), "1");
        }
        store.close().await;
    }

    /// Statements stay prepared: rebinding a cached statement does not make SQLite
    /// re-prepare it (see the QPSG setting in `conn::open`).
    #[tokio::test]
    async fn cached_statements_are_not_reprepared_on_rebinding() {
        use rusqlite::StatementStatus;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).await.unwrap();
        for sql in [
            GET_USER,
            concat!(select_bindings!(), " WHERE aor = ?1 ORDER BY pos"),
        ] {
            let reprepared = store
                .threads
                .read(move |c| {
                    for i in 0..10 {
                        let key = format!("k{i}");
                        let mut st = c.prepare_cached(sql)?;
                        let mut rows = if st.parameter_count() == 2 {
                            st.query([&key, &key])?
                        } else {
                            st.query([&key])?
                        };
                        while rows.next()?.is_some() {}
                    }
                    Ok(c.prepare_cached(sql)?
                        .get_status(StatementStatus::RePrepare))
                })
                .await
                .unwrap();
            assert_eq!(reprepared, 0, "{sql}");
        }
        store.close().await;
    }

    /// A read method cannot write: the readers refuse it (and so never take the lock).
    #[tokio::test]
    async fn readers_refuse_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).await.unwrap();
        let err = store
            .threads
            .read(|c| exec(c, "DELETE FROM bindings", []))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)), "{err}");
        store.close().await;
    }

    /// A job that panics answers with an error; the thread goes on serving, and the
    /// transaction it had open is rolled back.
    #[tokio::test]
    async fn a_panicking_job_leaves_the_writer_serving() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).await.unwrap();
        let err = store
            .threads
            .write(|c| -> Result<()> {
                let tx = WriteTx::begin(c)?;
                exec(&tx, "DELETE FROM bindings", [])?;
                panic!("a bug");
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)), "{err}");
        assert!(
            store
                .threads
                .write(|c| Ok(c.is_autocommit()))
                .await
                .unwrap()
        );
        assert_eq!(store.count_bindings().await.unwrap(), 0);
        store.close().await;
    }

    /// Dropping the last clone ends the threads (they close the file): no `close` needed.
    #[tokio::test]
    async fn dropping_the_last_clone_ends_the_threads() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).await.unwrap();
        let clone = store.clone();
        let writer = Arc::downgrade(&store.threads);
        drop(store);
        assert!(writer.upgrade().is_some());
        assert_eq!(clone.count_bindings().await.unwrap(), 0);
        drop(clone);
        assert!(writer.upgrade().is_none());
        // The file is closed once the writer has ended: the WAL is checkpointed and
        // removed by the last connection to close.
        let wal = dir.path().join(format!("{DB_FILE_NAME}-wal"));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while wal.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!wal.exists());
    }

    #[tokio::test]
    async fn close_lets_queued_writes_finish_and_refuses_later_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).await.unwrap();
        let writes: Vec<_> = (0..20)
            .map(|i| {
                let store = store.clone();
                let aor = format!("sip:u{i}@example.test");
                let b = crate::conformance::binding(&aor, "sip:u@192.0.2.1", 10);
                tokio::spawn(async move { store.replace_bindings(vec![(aor, vec![b])]).await })
            })
            .collect();
        tokio::task::yield_now().await;
        store.close().await;
        let mut written = 0;
        for w in writes {
            match w.await.unwrap() {
                Ok(()) => written += 1,
                Err(StoreError::Closed) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert!(matches!(
            store.count_bindings().await,
            Err(StoreError::Closed)
        ));
        let reopened = SqliteStore::open_dir(dir.path()).await.unwrap();
        assert_eq!(reopened.count_bindings().await.unwrap(), written);
        reopened.close().await;
    }
}
