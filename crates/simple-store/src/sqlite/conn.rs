//! The store's threads and their connections: one writer thread and [`READERS`] reader
//! threads, each owning one `rusqlite::Connection`, fed boxed jobs through a queue and
//! answering over a oneshot (the design and its reasons are on
//! [`SqliteStore`](super::SqliteStore)).

use std::collections::VecDeque;
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::migrate::{MIGRATIONS, migrate};
use super::{BUSY_TIMEOUT, READERS};
use crate::error::{Result, StoreError};

/// Prepared statements each connection keeps: more than the store has distinct
/// statements (the multi-row ones come in eight sizes each), so none is ever
/// re-prepared.
const STATEMENT_CACHE: usize = 128;

/// Work for one connection: runs on its thread, answers over the oneshot it captured.
type Job = Box<dyn FnOnce(&Connection) + Send>;

enum Msg {
    Run(Job),
    /// Close the connection, end the thread, then answer.
    Stop(oneshot::Sender<()>),
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Msg::Run(_) => "Run",
            Msg::Stop(_) => "Stop",
        })
    }
}

/// The queues to the store's threads. When the last [`Threads`] is dropped the queues
/// close, and every thread runs what is left in its queue, closes its connection and
/// ends; [`Threads::stop`] ends them sooner and waits for it.
#[derive(Debug)]
pub(super) struct Threads {
    writer: Arc<Queue>,
    readers: Arc<Queue>,
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.writer.close();
        self.readers.close();
    }
}

impl Threads {
    /// Starts the writer thread (which opens the file, creating it if missing, and
    /// migrates it), then the reader threads; returns once every connection is open.
    pub(super) async fn start(path: &Path) -> Result<Threads> {
        let writer = Queue::new(1);
        let (opened, ready) = oneshot::channel();
        let started = spawn("herald-sqlite-w", {
            let (path, queue) = (path.to_owned(), Arc::clone(&writer));
            move || match open(&path, Role::Writer) {
                Ok(conn) => {
                    let _ = opened.send(Ok(()));
                    writer_main(conn, &queue);
                }
                Err(e) => {
                    queue.worker_gone();
                    let _ = opened.send(Err(e));
                }
            }
        });
        if let Err(e) = started {
            writer.worker_gone();
            return Err(e);
        }
        ready.await.map_err(|_| StoreError::Closed)??;

        let readers = Queue::new(READERS as usize);
        let threads = Threads {
            writer,
            readers: Arc::clone(&readers),
        };
        let mut waiting = Vec::new();
        let mut failed = None;
        for i in 0..READERS {
            let (opened, ready) = oneshot::channel();
            let started = spawn(&format!("herald-sqlite-r{i}"), {
                let (path, queue) = (path.to_owned(), Arc::clone(&readers));
                move || reader_main(&path, &queue, opened)
            });
            match started {
                Ok(()) => waiting.push(ready),
                Err(e) => {
                    // This one and the ones not started will not take a stop.
                    for _ in i..READERS {
                        readers.worker_gone();
                    }
                    failed = Some(e);
                    break;
                }
            }
        }
        for ready in waiting {
            let opened = match ready.await {
                Ok(opened) => opened,
                Err(_) => Err(StoreError::Closed),
            };
            if let Err(e) = opened {
                failed.get_or_insert(e);
            }
        }
        if let Some(e) = failed {
            threads.stop().await;
            return Err(e);
        }
        Ok(threads)
    }

    /// Runs `f` on the writer's connection, after every write queued before it.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        call(&self.writer, f).await
    }

    /// Runs `f` on the first free reader's connection.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        call(&self.readers, f).await
    }

    /// Lets the jobs already queued finish, then closes the readers' connections and
    /// the writer's (last, so that it checkpoints the WAL into the file) and waits for
    /// every thread to end. Jobs queued after this fail with [`StoreError::Closed`].
    pub(super) async fn stop(&self) {
        for queue in [&self.readers, &self.writer] {
            let mut acks = Vec::new();
            for _ in 0..queue.workers() {
                let (ack, done) = oneshot::channel();
                if queue.send(Msg::Stop(ack)).is_ok() {
                    acks.push(done);
                }
            }
            // An error: the thread ended without taking the stop (another `stop`).
            for done in acks {
                let _ = done.await;
            }
        }
    }
}

/// A job queue served by one or more threads (a mutex-guarded deque and a condition
/// variable): a job wakes at most one idle thread, and a thread that finishes a job
/// takes the next one without sleeping. The lock is held only to push or pop.
#[derive(Debug)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct QueueState {
    msgs: VecDeque<Msg>,
    /// Threads serving the queue that have not ended (nor taken a stop).
    workers: usize,
    /// No more jobs will come (the store was dropped): threads drain and end.
    closed: bool,
}

impl Queue {
    fn new(workers: usize) -> Arc<Queue> {
        Arc::new(Queue {
            state: Mutex::new(QueueState {
                workers,
                ..QueueState::default()
            }),
            ready: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // Nothing panics while holding the lock; a poisoned one is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn workers(&self) -> usize {
        self.lock().workers
    }

    /// Queues `msg`, or hands it back when no thread will take it. A stop counts the
    /// thread that will take it as gone, so no job is queued behind the last stop.
    fn send(&self, msg: Msg) -> std::result::Result<(), Msg> {
        let mut state = self.lock();
        if state.workers == 0 {
            return Err(msg);
        }
        if matches!(msg, Msg::Stop(_)) {
            state.workers -= 1;
        }
        state.msgs.push_back(msg);
        drop(state);
        self.ready.notify_one();
        Ok(())
    }

    /// The next message; `None` once the queue is closed and empty.
    fn recv(&self) -> Option<Msg> {
        let mut state = self.lock();
        loop {
            if let Some(msg) = state.msgs.pop_front() {
                return Some(msg);
            }
            if state.closed {
                return None;
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// A thread ended without taking a stop (it failed to open, or the queue closed).
    /// When none is left, whatever is queued is dropped: its callers see `Closed`.
    fn worker_gone(&self) {
        let mut state = self.lock();
        state.workers = state.workers.saturating_sub(1);
        let orphans = if state.workers == 0 {
            std::mem::take(&mut state.msgs)
        } else {
            VecDeque::new()
        };
        drop(state);
        drop(orphans);
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

async fn call<T, F>(to: &Queue, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move |conn| {
        // A panic (a bug) answers with an error and leaves the thread serving.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
            .unwrap_or_else(|_| Err(StoreError::Backend("store operation panicked".into())));
        let _ = answer.send(result);
    });
    to.send(Msg::Run(job)).map_err(|_| StoreError::Closed)?;
    // Dropped unanswered: the thread ended before it got to the job.
    answered.await.map_err(|_| StoreError::Closed)?
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map(drop)
        .map_err(|e| StoreError::Backend(Box::new(e)))
}

/// Runs jobs until a stop (returned) or until the queue is closed and empty.
fn serve(conn: &Connection, mut next: impl FnMut() -> Option<Msg>) -> Option<oneshot::Sender<()>> {
    while let Some(msg) = next() {
        match msg {
            Msg::Run(job) => {
                job(conn);
                // No transaction outlives its job (a [`WriteTx`] rolls back when dropped;
                // this also covers a job that began one by hand).
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
            }
            Msg::Stop(ack) => return Some(ack),
        }
    }
    None
}

fn writer_main(conn: Connection, queue: &Queue) {
    let stop = serve(&conn, || queue.recv());
    if stop.is_none() {
        queue.worker_gone();
    }
    // What sqlx's `optimize_on_close` did: refresh the planner's statistics where the
    // workload shows they help, bounded in work.
    if let Err(e) = conn.execute_batch("PRAGMA analysis_limit = 400; PRAGMA optimize;") {
        tracing::debug!(error = %e, "sqlite optimize on close");
    }
    close(conn);
    if let Some(ack) = stop {
        let _ = ack.send(());
    }
}

fn reader_main(path: &Path, queue: &Queue, opened: oneshot::Sender<Result<()>>) {
    let conn = match open(path, Role::Reader) {
        Ok(conn) => conn,
        Err(e) => {
            queue.worker_gone();
            let _ = opened.send(Err(e));
            return;
        }
    };
    let _ = opened.send(Ok(()));
    // The readers share one queue: whichever is free takes the next job.
    let stop = serve(&conn, || queue.recv());
    if stop.is_none() {
        queue.worker_gone();
    }
    close(conn);
    if let Some(ack) = stop {
        let _ = ack.send(());
    }
}

fn close(conn: Connection) {
    if let Err((_, e)) = conn.close() {
        tracing::warn!(error = %e, "closing a sqlite connection");
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Creates the file if missing, sets WAL mode, migrates.
    Writer,
    /// `query_only`: refuses to write, so a read method can never take the write lock.
    Reader,
}

/// Opens one connection with the store's settings (see `SqliteStore`'s docs).
fn open(path: &Path, role: Role) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if role == Role::Writer {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // The query planner stability guarantee: a statement's plan does not depend on the
    // values bound to it. Without it the bundled SQLite (built with STAT4) marks a
    // statement like `.. WHERE aor = ?1 ORDER BY pos` to be re-prepared whenever ?1 is
    // rebound, so the statement cache saved nothing and every `bindings` or `get_user`
    // call parsed and planned its SQL again. Our statements are keyed lookups whose
    // best plan does not depend on the values.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    if role == Role::Writer {
        // Persistent in the file: readers (opened after) find it set.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(
                format!("{}: WAL mode refused (journal mode {mode})", path.display()).into(),
            ));
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    match role {
        Role::Writer => migrate(&conn, MIGRATIONS)?,
        Role::Reader => conn.pragma_update(None, "query_only", "ON")?,
    }
    tracing::trace!(path = %path.display(), reader = (role == Role::Reader), "sqlite connection open");
    Ok(conn)
}

/// A write transaction, `BEGIN IMMEDIATE`: it takes the write lock up front (waiting up
/// to the busy timeout while another connection or process holds it) instead of failing
/// half-way on a read-to-write upgrade. Rolled back when dropped uncommitted.
pub(super) struct WriteTx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> WriteTx<'c> {
    pub(super) fn begin(conn: &'c Connection) -> rusqlite::Result<WriteTx<'c>> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(WriteTx { conn, open: true })
    }

    pub(super) fn commit(self) -> rusqlite::Result<()> {
        self.end("COMMIT")
    }

    /// Ends the transaction without its changes (what dropping it does, but with the
    /// error reported).
    pub(super) fn rollback(self) -> rusqlite::Result<()> {
        self.end("ROLLBACK")
    }

    fn end(mut self, sql: &str) -> rusqlite::Result<()> {
        self.conn.prepare_cached(sql)?.execute([])?;
        self.open = false;
        Ok(())
    }
}

impl Deref for WriteTx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        // SQLite may have rolled back already (an I/O error, a full disk).
        if self.open && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}
