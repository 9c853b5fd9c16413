//! [`SqliteStore`]: the embedded default backend, one SQLite file through sqlx (runtime
//! queries only). Connections, durability and column encodings are documented on the type.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlSafeStr, Sqlite};

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

/// Connections in the reader pool.
pub const READERS: u32 = 3;

/// Prepared statements each connection keeps; more than the store has distinct queries.
const STATEMENT_CACHE: usize = 64;

/// The schema migrations, embedded: one entry per file of `migrations/sqlite/`, named
/// `<version>_<description>.sql` (a unit test checks the list matches the directory).
///
/// Embedded by hand rather than with `sqlx::migrate!`, which needs sqlx's `macros` feature
/// and with it a second build of SQLite for the proc-macro (deps.md §6 skips `macros`).
/// Versions and checksums are the ones `migrate!` would record, so either loader accepts
/// a database the other migrated.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "users bindings",
        include_str!("../migrations/sqlite/0001_users_bindings.sql"),
    ),
    (
        2,
        "presence",
        include_str!("../migrations/sqlite/0002_presence.sql"),
    ),
    (
        3,
        "documents",
        include_str!("../migrations/sqlite/0003_documents.sql"),
    ),
    (
        4,
        "document revisions",
        include_str!("../migrations/sqlite/0004_document_revisions.sql"),
    ),
    (
        5,
        "stored messages and rooms",
        include_str!("../migrations/sqlite/0005_stored_messages_and_rooms.sql"),
    ),
];

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The SQLite backend: one database file, WAL mode. Clones share the pools.
///
/// # Connections
/// Two pools on one file. The writer pool holds exactly one connection, so writes from
/// this process queue in the pool (async, in order) instead of fighting over SQLite's
/// lock, and that connection keeps its prepared statements for its whole life (no idle
/// timeout, no max lifetime). The reader pool holds up to [`READERS`] connections; in WAL
/// mode readers never block the writer nor the writer them. Every write transaction is
/// `BEGIN IMMEDIATE`: it takes the write lock up front, waiting up to [`BUSY_TIMEOUT`]
/// while another process (the `herald user` CLI, with its own `SqliteStore` on the same
/// file) holds it, instead of failing half-way on a read-to-write lock upgrade.
///
/// Measured with 4 tasks writing one-AOR batches: same throughput as one shared pool of
/// 4 connections, but a worst write of ~5 ms instead of ~100 ms (SQLite's busy handler
/// sleeps in steps of up to 100 ms when in-process writers collide on the lock).
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
/// [`open_file`](Self::open_file) (tracked in sqlx's `_sqlx_migrations` table).
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
///
/// Two processes opening a *new* file at the same instant may race on the first
/// migration (one fails and can simply be retried); the server creates the file first.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
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
    /// WAL, `synchronous=NORMAL`, the busy timeout and foreign keys.
    ///
    /// Several stores may be open on one file, in one process or several: each sees the
    /// others' commits on its next read.
    pub async fn open_file(path: &Path) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .statement_cache_capacity(STATEMENT_CACHE)
            .optimize_on_close(true, 400);
        // A local file does not go stale: skip the ping before every acquire, and keep
        // connections (and their statement caches) for the life of the pool.
        let pool = |max: u32, min: u32| {
            SqlitePoolOptions::new()
                .max_connections(max)
                .min_connections(min)
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
        };
        let writer = pool(1, 1).connect_with(options.clone()).await?;
        if let Err(e) = migrator().run(&writer).await {
            writer.close().await;
            return Err(e.into());
        }
        let readers = match pool(READERS, 0).connect_with(options).await {
            Ok(readers) => readers,
            Err(e) => {
                writer.close().await;
                return Err(e.into());
            }
        };
        tracing::debug!(path = %path.display(), "sqlite store open");
        Ok(SqliteStore { writer, readers })
    }

    /// Closes every connection, waiting for operations in flight. Later calls on this
    /// store (or its clones) fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }
}

impl Users for SqliteStore {
    async fn put_user(&self, user: &User) -> Result<bool> {
        check_user(user)?;
        let domain = canonical_domain(&user.domain);
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let inserted = sqlx::query(
            "INSERT INTO users (domain, username, realm, created_ms) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (domain, username) DO NOTHING",
        )
        .bind(&domain)
        .bind(&user.username)
        .bind(&user.realm)
        .bind(user.created_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            sqlx::query(
                "UPDATE users SET realm = ?3, created_ms = ?4 WHERE domain = ?1 AND username = ?2",
            )
            .bind(&domain)
            .bind(&user.username)
            .bind(&user.realm)
            .bind(user.created_ms)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM user_ha1 WHERE domain = ?1 AND username = ?2")
                .bind(&domain)
                .bind(&user.username)
                .execute(&mut *tx)
                .await?;
        }
        for (pos, h) in (0_i64..).zip(&user.ha1) {
            sqlx::query(
                "INSERT INTO user_ha1 (domain, username, pos, algorithm, ha1) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(&domain)
            .bind(&user.username)
            .bind(pos)
            .bind(&h.algorithm)
            .bind(&h.ha1)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn get_user(&self, username: &str, domain: &str) -> Result<Option<User>> {
        // One statement, so the user row and its HA1s come from one snapshot.
        let rows = sqlx::query(
            "SELECT u.domain, u.username, u.realm, u.created_ms, h.algorithm, h.ha1 \
             FROM users u LEFT JOIN user_ha1 h \
               ON h.domain = u.domain AND h.username = u.username \
             WHERE u.domain = ?1 AND u.username = ?2 \
             ORDER BY h.pos",
        )
        .bind(canonical_domain(domain))
        .bind(username)
        .fetch_all(&self.readers)
        .await?;
        Ok(users_from_rows(&rows)?.pop())
    }

    async fn remove_user(&self, username: &str, domain: &str) -> Result<bool> {
        // `user_ha1` rows go by ON DELETE CASCADE.
        let removed = sqlx::query("DELETE FROM users WHERE domain = ?1 AND username = ?2")
            .bind(canonical_domain(domain))
            .bind(username)
            .execute(&self.writer)
            .await?
            .rows_affected();
        Ok(removed > 0)
    }

    async fn list_users(&self, domain: Option<&str>) -> Result<Vec<User>> {
        let rows = match domain {
            None => {
                sqlx::query(
                    "SELECT u.domain, u.username, u.realm, u.created_ms, h.algorithm, h.ha1 \
                     FROM users u LEFT JOIN user_ha1 h \
                       ON h.domain = u.domain AND h.username = u.username \
                     ORDER BY u.domain, u.username, h.pos",
                )
                .fetch_all(&self.readers)
                .await?
            }
            Some(d) => {
                sqlx::query(
                    "SELECT u.domain, u.username, u.realm, u.created_ms, h.algorithm, h.ha1 \
                     FROM users u LEFT JOIN user_ha1 h \
                       ON h.domain = u.domain AND h.username = u.username \
                     WHERE u.domain = ?1 \
                     ORDER BY u.domain, u.username, h.pos",
                )
                .bind(canonical_domain(d))
                .fetch_all(&self.readers)
                .await?
            }
        };
        users_from_rows(&rows)
    }
}

/// Folds `users LEFT JOIN user_ha1` rows, ordered by user then `pos`, into users.
fn users_from_rows(rows: &[SqliteRow]) -> Result<Vec<User>> {
    let mut users: Vec<User> = Vec::new();
    for row in rows {
        let domain: String = row.try_get("domain")?;
        let username: String = row.try_get("username")?;
        let same = users
            .last()
            .is_some_and(|u| u.domain == domain && u.username == username);
        if !same {
            users.push(User {
                username,
                domain,
                realm: row.try_get("realm")?,
                ha1: Vec::new(),
                created_ms: row.try_get("created_ms")?,
            });
        }
        let algorithm: Option<String> = row.try_get("algorithm")?;
        let ha1: Option<String> = row.try_get("ha1")?;
        if let (Some(algorithm), Some(ha1), Some(user)) = (algorithm, ha1, users.last_mut()) {
            user.ha1.push(Ha1 { algorithm, ha1 });
        }
    }
    Ok(users)
}

impl Registrations for SqliteStore {
    async fn replace_bindings(&self, batch: &[(String, Vec<Binding>)]) -> Result<()> {
        check_batch(batch)?;
        // An AOR listed twice: the later entry wins, so only its bindings are inserted.
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
        for (i, (aor, _)) in batch.iter().enumerate() {
            last.insert(aor, i);
        }
        let aors: Vec<&str> = last.keys().copied().collect();
        let rows: Vec<(&str, i64, &Binding)> = batch
            .iter()
            .enumerate()
            .filter(|(i, (aor, _))| last.get(aor.as_str()) == Some(i))
            .flat_map(|(_, (aor, bindings))| {
                (0_i64..)
                    .zip(bindings)
                    .map(move |(pos, b)| (aor.as_str(), pos, b))
            })
            .collect();

        // Group commit: one transaction, one WAL append, for the whole batch, written
        // with multi-row statements (see `CHUNKS`) prepared once per connection.
        let sql = &*BATCH_SQL;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut rest = &aors[..];
        while let Some((k, n)) = chunk(rest.len()) {
            let (now, later) = rest.split_at(n);
            let mut q = sqlx::query(sql.delete[k].as_str());
            for aor in now {
                q = q.bind(*aor);
            }
            q.execute(&mut *tx).await?;
            rest = later;
        }
        let mut rest = &rows[..];
        while let Some((k, n)) = chunk(rest.len()) {
            let (now, later) = rest.split_at(n);
            let mut q = sqlx::query(sql.insert[k].as_str());
            for (aor, pos, b) in now {
                q = q
                    .bind(*aor)
                    .bind(*pos)
                    .bind(b.contact.as_str())
                    .bind(b.params.as_str())
                    .bind(b.q.map(i64::from))
                    .bind(b.expires_at_ms)
                    .bind(b.call_id.as_str())
                    .bind(i64::from(b.cseq))
                    .bind(b.instance.as_deref())
                    .bind(b.reg_id.map(i64::from))
                    .bind(encode_path(&b.path))
                    .bind(b.received.as_deref())
                    .bind(b.user_agent.as_deref())
                    .bind(b.updated_ms);
            }
            q.execute(&mut *tx).await?;
            rest = later;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>> {
        let rows = sqlx::query(
            "SELECT aor, contact, params, q, expires_at_ms, call_id, cseq, instance, reg_id, \
               path, received, user_agent, updated_ms \
             FROM bindings WHERE aor = ?1 ORDER BY pos",
        )
        .bind(aor)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(binding_from_row).collect()
    }

    async fn load_live_bindings(&self, now_ms: i64) -> Result<Vec<Binding>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let removed = sqlx::query("DELETE FROM bindings WHERE expires_at_ms <= ?1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let rows = sqlx::query(
            "SELECT aor, contact, params, q, expires_at_ms, call_id, cseq, instance, reg_id, \
               path, received, user_agent, updated_ms \
             FROM bindings ORDER BY aor, pos",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::debug!(live = rows.len(), removed, "loaded bindings");
        rows.iter().map(binding_from_row).collect()
    }

    async fn remove_expired(&self, now_ms: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM bindings WHERE expires_at_ms <= ?1")
                .bind(now_ms)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }

    async fn count_bindings(&self) -> Result<u64> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM bindings")
            .fetch_one(&self.readers)
            .await?
            .try_get(0)?;
        u64::try_from(n).map_err(|_| StoreError::corrupt("bindings", "negative count"))
    }
}

impl Publications for SqliteStore {
    async fn write_publications(
        &self,
        puts: &[Publication],
        removes: &[PublicationKey],
    ) -> Result<()> {
        check_publications(puts, removes)?;
        let sql = &*PRESENCE_SQL;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // Within one multi-row upsert SQLite inserts row by row, so a key put twice ends
        // up with the later row, as the trait says.
        execute_chunked(&mut tx, &sql.put_publications, puts, |q, p| {
            q.bind(p.aor.as_str())
                .bind(p.event.as_str())
                .bind(p.etag.as_str())
                .bind(p.content_type.as_str())
                .bind(p.body.as_slice())
                .bind(ms_to_sql(p.expires_at_ms))
                .bind(ms_to_sql(p.updated_ms))
                .bind(ms_to_sql(p.created_ms))
                .bind(p.publisher.as_str())
        })
        .await?;
        execute_chunked(&mut tx, &sql.remove_publications, removes, |q, k| {
            q.bind(k.aor.as_str())
                .bind(k.event.as_str())
                .bind(k.etag.as_str())
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn publications(&self, aor: &str, event: &str) -> Result<Vec<Publication>> {
        let rows = sqlx::query(
            "SELECT aor, event, etag, content_type, body, expires_at_ms, updated_ms, \
               created_ms, publisher \
             FROM publications WHERE aor = ?1 AND event = ?2 ORDER BY created_ms, etag",
        )
        .bind(aor)
        .bind(event)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(publication_from_row).collect()
    }

    async fn load_live_publications(&self, now_ms: u64) -> Result<Vec<Publication>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let removed = sqlx::query("DELETE FROM publications WHERE expires_at_ms <= ?1")
            .bind(ms_to_sql(now_ms))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let rows = sqlx::query(
            "SELECT aor, event, etag, content_type, body, expires_at_ms, updated_ms, \
               created_ms, publisher \
             FROM publications ORDER BY aor, event, created_ms, etag",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::debug!(live = rows.len(), removed, "loaded publications");
        rows.iter().map(publication_from_row).collect()
    }

    async fn remove_expired_publications(&self, now_ms: u64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM publications WHERE expires_at_ms <= ?1")
                .bind(ms_to_sql(now_ms))
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}

/// The `SELECT` list of [`subscription_from_row`].
const SUBSCRIPTION_SELECT: &str = "SELECT id, aor, event, event_id, watcher, state, \
    expires_at_ms, content_type, call_id, local_tag, remote_tag, local_uri, remote_uri, \
    remote_target, route_set, secure, local_cseq, remote_cseq, transport, remote_addr, \
    created_ms, updated_ms FROM subscriptions";

impl Subscriptions for SqliteStore {
    async fn write_subscriptions(&self, puts: &[Subscription], removes: &[String]) -> Result<()> {
        check_subscriptions(puts, removes)?;
        let sql = &*PRESENCE_SQL;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        execute_chunked(&mut tx, &sql.put_subscriptions, puts, |q, s| {
            q.bind(s.id.as_str())
                .bind(s.aor.as_str())
                .bind(s.event.as_str())
                .bind(s.event_id.as_deref())
                .bind(s.watcher.as_str())
                .bind(s.state.as_str())
                .bind(ms_to_sql(s.expires_at_ms))
                .bind(s.content_type.as_str())
                .bind(s.call_id.as_str())
                .bind(s.local_tag.as_str())
                .bind(s.remote_tag.as_deref())
                .bind(s.local_uri.as_str())
                .bind(s.remote_uri.as_str())
                .bind(s.remote_target.as_str())
                .bind(encode_path(&s.route_set))
                .bind(s.secure)
                .bind(i64::from(s.local_cseq))
                .bind(i64::from(s.remote_cseq))
                .bind(s.transport.as_str())
                .bind(s.remote_addr.as_str())
                .bind(ms_to_sql(s.created_ms))
                .bind(ms_to_sql(s.updated_ms))
        })
        .await?;
        execute_chunked(&mut tx, &sql.remove_subscriptions, removes, |q, id| {
            q.bind(id.as_str())
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn subscription(&self, id: &str) -> Result<Option<Subscription>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUBSCRIPTION_SELECT} WHERE id = ?1"
        )))
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(subscription_from_row).transpose()
    }

    async fn subscriptions_for(&self, aor: &str, event: &str) -> Result<Vec<Subscription>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUBSCRIPTION_SELECT} WHERE aor = ?1 AND event = ?2 ORDER BY created_ms, id"
        )))
        .bind(aor)
        .bind(event)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(subscription_from_row).collect()
    }

    async fn load_live_subscriptions(&self, now_ms: u64) -> Result<Vec<Subscription>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let removed = sqlx::query("DELETE FROM subscriptions WHERE expires_at_ms <= ?1")
            .bind(ms_to_sql(now_ms))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SUBSCRIPTION_SELECT} ORDER BY aor, event, created_ms, id"
        )))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::debug!(live = rows.len(), removed, "loaded subscriptions");
        rows.iter().map(subscription_from_row).collect()
    }
}

/// The `SELECT` list of [`message_from_row`].
const MESSAGE_SELECT: &str = "SELECT id, recipient, sender, sender_aor, content_type, body, \
     received_ms, expires_at_ms, attempts, next_attempt_ms FROM stored_messages";

impl Messages for SqliteStore {
    async fn store_message(&self, msg: &StoredMessage, quota: Quota) -> Result<StoreOutcome> {
        check_message(msg)?;
        // The quota check and the insert under one write lock: two concurrent stores for
        // one recipient cannot both pass the check.
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(body)), 0) AS b \
             FROM stored_messages WHERE recipient = ?1",
        )
        .bind(msg.recipient.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let messages = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
        let bytes = u64::try_from(row.try_get::<i64, _>("b")?).unwrap_or(0);
        if messages + 1 > quota.max_messages
            || bytes.saturating_add(msg.body.len() as u64) > quota.max_bytes
        {
            tx.rollback().await?;
            return Ok(StoreOutcome::OverQuota { messages, bytes });
        }
        let done = sqlx::query(
            "INSERT INTO stored_messages (recipient, sender, sender_aor, content_type, body, \
               received_ms, expires_at_ms, attempts, next_attempt_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(msg.recipient.as_str())
        .bind(msg.sender.as_str())
        .bind(msg.sender_aor.as_str())
        .bind(msg.content_type.as_str())
        .bind(msg.body.as_slice())
        .bind(ms_to_sql(msg.received_ms))
        .bind(ms_to_sql(msg.expires_at_ms))
        .bind(i64::from(msg.attempts))
        .bind(ms_to_sql(msg.next_attempt_ms))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(StoreOutcome::Stored(
            u64::try_from(done.last_insert_rowid()).unwrap_or(0),
        ))
    }

    async fn messages_for(&self, recipient: &str, limit: usize) -> Result<Vec<StoredMessage>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{MESSAGE_SELECT} WHERE recipient = ?1 ORDER BY id LIMIT ?2"
        )))
        .bind(recipient)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    async fn remove_message(&self, id: u64) -> Result<bool> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        let done = sqlx::query("DELETE FROM stored_messages WHERE id = ?1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
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
        let done = sqlx::query(
            "UPDATE stored_messages SET attempts = ?2, next_attempt_ms = ?3 WHERE id = ?1",
        )
        .bind(id)
        .bind(i64::from(attempts))
        .bind(ms_to_sql(next_attempt_ms))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn due_recipients(&self, now_ms: u64) -> Result<Vec<String>> {
        let now = ms_to_sql(now_ms.min(crate::model::MAX_MS));
        let rows = sqlx::query(
            "SELECT DISTINCT recipient FROM stored_messages \
             WHERE next_attempt_ms <= ?1 AND expires_at_ms > ?1 ORDER BY recipient",
        )
        .bind(now)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("recipient")?))
            .collect()
    }

    async fn take_expired_messages(&self, now_ms: u64) -> Result<Vec<StoredMessage>> {
        let now = ms_to_sql(now_ms.min(crate::model::MAX_MS));
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{MESSAGE_SELECT} WHERE expires_at_ms <= ?1 ORDER BY id"
        )))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM stored_messages WHERE expires_at_ms <= ?1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(message_from_row).collect()
    }

    async fn message_usage(&self, recipient: &str) -> Result<(u64, u64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(body)), 0) AS b \
             FROM stored_messages WHERE recipient = ?1",
        )
        .bind(recipient)
        .fetch_one(&self.readers)
        .await?;
        Ok((
            u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0),
            u64::try_from(row.try_get::<i64, _>("b")?).unwrap_or(0),
        ))
    }
}

fn message_from_row(row: &SqliteRow) -> Result<StoredMessage> {
    const T: &str = "stored_messages";
    Ok(StoredMessage {
        id: u64::try_from(row.try_get::<i64, _>("id")?).unwrap_or(0),
        recipient: row.try_get("recipient")?,
        sender: row.try_get("sender")?,
        sender_aor: row.try_get("sender_aor")?,
        content_type: row.try_get("content_type")?,
        body: row.try_get("body")?,
        received_ms: ms_from_row(row, T, "received_ms")?,
        expires_at_ms: ms_from_row(row, T, "expires_at_ms")?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        next_attempt_ms: ms_from_row(row, T, "next_attempt_ms")?,
    })
}

const MEMBER_SELECT: &str = "SELECT room, member, joined_ms, last_active_ms FROM room_members";

impl Rooms for SqliteStore {
    async fn put_member(&self, member: &RoomMember) -> Result<bool> {
        check_member(member)?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query(
            "UPDATE room_members SET last_active_ms = ?3 WHERE room = ?1 AND member = ?2",
        )
        .bind(member.room.as_str())
        .bind(member.member.as_str())
        .bind(ms_to_sql(member.last_active_ms))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            sqlx::query(
                "INSERT INTO room_members (room, member, joined_ms, last_active_ms) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(member.room.as_str())
            .bind(member.member.as_str())
            .bind(ms_to_sql(member.joined_ms))
            .bind(ms_to_sql(member.last_active_ms))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(updated == 0)
    }

    async fn remove_member(&self, room: &str, member: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM room_members WHERE room = ?1 AND member = ?2")
            .bind(room)
            .bind(member)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn room_members(&self, room: &str) -> Result<Vec<RoomMember>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{MEMBER_SELECT} WHERE room = ?1 ORDER BY joined_ms, member"
        )))
        .bind(room)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    async fn remove_idle_members(&self, idle_before_ms: u64) -> Result<Vec<RoomMember>> {
        let before = ms_to_sql(idle_before_ms.min(crate::model::MAX_MS));
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{MEMBER_SELECT} WHERE last_active_ms < ?1 ORDER BY room, member"
        )))
        .bind(before)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM room_members WHERE last_active_ms < ?1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(member_from_row).collect()
    }
}

fn member_from_row(row: &SqliteRow) -> Result<RoomMember> {
    const T: &str = "room_members";
    Ok(RoomMember {
        room: row.try_get("room")?,
        member: row.try_get("member")?,
        joined_ms: ms_from_row(row, T, "joined_ms")?,
        last_active_ms: ms_from_row(row, T, "last_active_ms")?,
    })
}

/// The `SELECT` list of [`document_from_row`].
const DOCUMENT_SELECT: &str =
    "SELECT auid, owner, name, etag, content_type, content, updated_ms FROM documents";

impl Documents for SqliteStore {
    async fn get_document(&self, auid: &str, owner: &str, name: &str) -> Result<Option<Document>> {
        check_document_key(auid, owner, name)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DOCUMENT_SELECT} WHERE owner = ?1 AND auid = ?2 AND name = ?3"
        )))
        .bind(owner)
        .bind(auid)
        .bind(name)
        .fetch_optional(&self.readers)
        .await?;
        row.as_ref().map(document_from_row).transpose()
    }

    async fn put_document(&self, doc: &Document, pre: Precondition) -> Result<bool> {
        check_document(doc, &pre)?;
        // Each precondition is one statement: SQLite runs it under the write lock, so the
        // check and the write cannot interleave with another writer's (this process's or
        // another's).
        let (sql, if_match) = match &pre {
            Precondition::Any => (
                "INSERT INTO documents \
                   (owner, auid, name, etag, content_type, content, updated_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (owner, auid, name) DO UPDATE SET etag = excluded.etag, \
                   content_type = excluded.content_type, content = excluded.content, \
                   updated_ms = excluded.updated_ms",
                None,
            ),
            Precondition::IfNoneMatch => (
                "INSERT INTO documents \
                   (owner, auid, name, etag, content_type, content, updated_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (owner, auid, name) DO NOTHING",
                None,
            ),
            Precondition::IfMatch(etag) => (
                "UPDATE documents SET etag = ?4, content_type = ?5, content = ?6, \
                   updated_ms = ?7 \
                 WHERE owner = ?1 AND auid = ?2 AND name = ?3 AND etag = ?8",
                Some(etag.as_str()),
            ),
        };
        let mut q = sqlx::query(sql)
            .bind(doc.owner.as_str())
            .bind(doc.auid.as_str())
            .bind(doc.name.as_str())
            .bind(doc.etag.as_str())
            .bind(doc.content_type.as_str())
            .bind(doc.content.as_slice())
            .bind(ms_to_sql(doc.updated_ms));
        if let Some(etag) = if_match {
            q = q.bind(etag);
        }
        Ok(q.execute(&self.writer).await?.rows_affected() == 1)
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
        let (sql, if_match) = match &pre {
            // Deletes only an absent document: nothing.
            Precondition::IfNoneMatch => return Ok(false),
            Precondition::Any => (
                "DELETE FROM documents WHERE owner = ?1 AND auid = ?2 AND name = ?3",
                None,
            ),
            Precondition::IfMatch(etag) => (
                "DELETE FROM documents WHERE owner = ?1 AND auid = ?2 AND name = ?3 \
                   AND etag = ?4",
                Some(etag.as_str()),
            ),
        };
        let mut q = sqlx::query(sql).bind(owner).bind(auid).bind(name);
        if let Some(etag) = if_match {
            q = q.bind(etag);
        }
        let removed = q.execute(&self.writer).await?.rows_affected();
        Ok(removed == 1)
    }

    async fn list_documents(&self, owner: &str, auid: Option<&str>) -> Result<Vec<Document>> {
        check_document_filter(owner, auid)?;
        let rows = match auid {
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{DOCUMENT_SELECT} WHERE owner = ?1 ORDER BY auid, name"
                )))
                .bind(owner)
                .fetch_all(&self.readers)
                .await?
            }
            Some(auid) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{DOCUMENT_SELECT} WHERE owner = ?1 AND auid = ?2 ORDER BY auid, name"
                )))
                .bind(owner)
                .bind(auid)
                .fetch_all(&self.readers)
                .await?
            }
        };
        rows.iter().map(document_from_row).collect()
    }

    async fn documents_revision(&self, auid: &str) -> Result<u64> {
        self.revision_of(auid).await
    }

    async fn documents_of_auid(&self, auid: &str) -> Result<Vec<Document>> {
        self.of_auid(auid).await
    }
}

impl SqliteStore {
    async fn revision_of(&self, auid: &str) -> Result<u64> {
        let row = sqlx::query("SELECT revision FROM document_revisions WHERE auid = ?1")
            .bind(auid)
            .fetch_optional(&self.readers)
            .await?;
        Ok(match row {
            Some(r) => u64::try_from(r.try_get::<i64, _>("revision")?).unwrap_or(0),
            None => 0,
        })
    }

    async fn of_auid(&self, auid: &str) -> Result<Vec<Document>> {
        if auid.is_empty() {
            return Err(StoreError::Invalid {
                what: "document",
                reason: "empty auid".into(),
            });
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DOCUMENT_SELECT} WHERE auid = ?1 ORDER BY owner, name"
        )))
        .bind(auid)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(document_from_row).collect()
    }
}

fn document_from_row(row: &SqliteRow) -> Result<Document> {
    Ok(Document {
        auid: row.try_get("auid")?,
        owner: row.try_get("owner")?,
        name: row.try_get("name")?,
        etag: row.try_get("etag")?,
        content_type: row.try_get("content_type")?,
        content: row.try_get("content")?,
        updated_ms: ms_from_row(row, "documents", "updated_ms")?,
    })
}

/// Rows per multi-row statement in `replace_bindings`. Every statement costs a round trip
/// to the connection's worker thread, which dwarfs SQLite's own work per row; writing a
/// batch with statements of these sizes (largest that fits first) keeps a batch of 500
/// AORs to a few dozen statements, and the distinct SQL texts (two per size), each
/// prepared once per connection, to a dozen.
const CHUNKS: [usize; 8] = [128, 64, 32, 16, 8, 4, 2, 1];

/// Columns `replace_bindings` inserts, in bind order.
const BINDING_COLUMNS: &str = "aor, pos, contact, params, q, expires_at_ms, call_id, cseq, \
                               instance, reg_id, path, received, user_agent, updated_ms";
const BINDING_PARAMS: usize = 14;

/// The multi-row statements of `replace_bindings`, index-aligned with [`CHUNKS`]. Built
/// from the constants above and `?` placeholders only: nothing from input reaches the SQL.
struct BatchSql {
    delete: [String; CHUNKS.len()],
    insert: [String; CHUNKS.len()],
}

static BATCH_SQL: LazyLock<BatchSql> = LazyLock::new(|| {
    let placeholders = |n: usize| vec!["?"; n].join(", ");
    BatchSql {
        delete: CHUNKS.map(|n| format!("DELETE FROM bindings WHERE aor IN ({})", placeholders(n))),
        insert: CHUNKS.map(|n| {
            let row = format!("({})", placeholders(BINDING_PARAMS));
            format!(
                "INSERT INTO bindings ({BINDING_COLUMNS}) VALUES {}",
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

/// A query whose arguments are being bound.
type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// Writes `rows` with the multi-row statements `sql` (index-aligned with [`CHUNKS`]),
/// largest first; `bind` binds one row's values in column order.
async fn execute_chunked<T: Sync>(
    conn: &mut SqliteConnection,
    sql: &'static [String; CHUNKS.len()],
    rows: &[T],
    bind: fn(Query, &T) -> Query,
) -> Result<()> {
    let mut rest = rows;
    while let Some((k, n)) = chunk(rest.len()) {
        let (now, later) = rest.split_at(n);
        let mut q = sqlx::query(sql[k].as_str());
        for row in now {
            q = bind(q, row);
        }
        q.execute(&mut *conn).await?;
        rest = later;
    }
    Ok(())
}

/// A time as stored: the model checks refuse anything above `i64::MAX`, and a `now_ms`
/// above it compares like `i64::MAX` (every stored time is at or below it).
fn ms_to_sql(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn ms_from_row(row: &SqliteRow, table: &'static str, column: &str) -> Result<u64> {
    let ms: i64 = row.try_get(column)?;
    u64::try_from(ms).map_err(|_| StoreError::corrupt(table, format!("{column} {ms}")))
}

fn cseq_from_row(row: &SqliteRow, column: &str) -> Result<u32> {
    let cseq: i64 = row.try_get(column)?;
    u32::try_from(cseq)
        .map_err(|_| StoreError::corrupt("subscriptions", format!("{column} {cseq}")))
}

fn publication_from_row(row: &SqliteRow) -> Result<Publication> {
    const T: &str = "publications";
    Ok(Publication {
        aor: row.try_get("aor")?,
        event: row.try_get("event")?,
        etag: row.try_get("etag")?,
        content_type: row.try_get("content_type")?,
        body: row.try_get("body")?,
        expires_at_ms: ms_from_row(row, T, "expires_at_ms")?,
        updated_ms: ms_from_row(row, T, "updated_ms")?,
        created_ms: ms_from_row(row, T, "created_ms")?,
        publisher: row.try_get("publisher")?,
    })
}

fn subscription_from_row(row: &SqliteRow) -> Result<Subscription> {
    const T: &str = "subscriptions";
    Ok(Subscription {
        id: row.try_get("id")?,
        aor: row.try_get("aor")?,
        event: row.try_get("event")?,
        event_id: row.try_get("event_id")?,
        watcher: row.try_get("watcher")?,
        state: row.try_get("state")?,
        expires_at_ms: ms_from_row(row, T, "expires_at_ms")?,
        content_type: row.try_get("content_type")?,
        call_id: row.try_get("call_id")?,
        local_tag: row.try_get("local_tag")?,
        remote_tag: row.try_get("remote_tag")?,
        local_uri: row.try_get("local_uri")?,
        remote_uri: row.try_get("remote_uri")?,
        remote_target: row.try_get("remote_target")?,
        route_set: decode_path(row.try_get("route_set")?),
        secure: row.try_get("secure")?,
        local_cseq: cseq_from_row(row, "local_cseq")?,
        remote_cseq: cseq_from_row(row, "remote_cseq")?,
        transport: row.try_get("transport")?,
        remote_addr: row.try_get("remote_addr")?,
        created_ms: ms_from_row(row, T, "created_ms")?,
        updated_ms: ms_from_row(row, T, "updated_ms")?,
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

fn binding_from_row(row: &SqliteRow) -> Result<Binding> {
    let q = match row.try_get::<Option<i64>, _>("q")? {
        None => None,
        Some(q) => Some(
            u16::try_from(q)
                .ok()
                .filter(|q| *q <= 1000)
                .ok_or_else(|| StoreError::corrupt("bindings", format!("q {q}")))?,
        ),
    };
    let cseq: i64 = row.try_get("cseq")?;
    let cseq =
        u32::try_from(cseq).map_err(|_| StoreError::corrupt("bindings", format!("cseq {cseq}")))?;
    let reg_id = match row.try_get::<Option<i64>, _>("reg_id")? {
        None => None,
        Some(r) => Some(
            u32::try_from(r).map_err(|_| StoreError::corrupt("bindings", format!("reg-id {r}")))?,
        ),
    };
    Ok(Binding {
        aor: row.try_get("aor")?,
        contact: row.try_get("contact")?,
        params: row.try_get("params")?,
        q,
        expires_at_ms: row.try_get("expires_at_ms")?,
        call_id: row.try_get("call_id")?,
        cseq,
        instance: row.try_get("instance")?,
        reg_id,
        path: decode_path(row.try_get("path")?),
        received: row.try_get("received")?,
        user_agent: row.try_get("user_agent")?,
        updated_ms: row.try_get("updated_ms")?,
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
            assert_eq!(BATCH_SQL.delete[k].matches('?').count(), *n);
            assert_eq!(BATCH_SQL.insert[k].matches('?').count(), n * BINDING_PARAMS);
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

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        let mut files: Vec<String> = std::fs::read_dir(dir)
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
            let on_disk = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("migrations/sqlite")
                    .join(file),
            )
            .unwrap();
            assert_eq!(*sql, on_disk);
        }
    }

    #[tokio::test]
    async fn a_database_from_before_presence_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            // Migrated by a build that knew only the first migration.
            let options = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .unwrap();
            let mut old = migrator();
            old.migrations = Cow::Owned(old.migrations[..1].to_vec());
            old.run(&pool).await.unwrap();
            sqlx::query(
                "INSERT INTO users (domain, username, realm, created_ms) \
                 VALUES ('example.test', 'alice', 'example.test', 1)",
            )
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
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
            .write_publications(std::slice::from_ref(&p), &[])
            .await
            .unwrap();
        assert_eq!(store.load_live_publications(0).await.unwrap(), vec![p]);
        store.close().await;
    }

    async fn pragma(pool: &SqlitePool, name: &'static str) -> String {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
            .fetch_one(pool)
            .await
            .unwrap();
        match row.try_get::<String, _>(0) {
            Ok(s) => s,
            Err(_) => row.try_get::<i64, _>(0).unwrap().to_string(),
        }
    }

    #[tokio::test]
    async fn every_connection_has_wal_normal_sync_and_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).await.unwrap();
        for pool in [&store.writer, &store.readers] {
            assert_eq!(pragma(pool, "journal_mode").await, "wal");
            // NORMAL = 1
            assert_eq!(pragma(pool, "synchronous").await, "1");
            assert_eq!(pragma(pool, "busy_timeout").await, "5000");
            assert_eq!(pragma(pool, "foreign_keys").await, "1");
        }
        store.close().await;
    }
}
