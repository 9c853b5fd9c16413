//! The flow table: every open connection (TCP, TLS, WS, WSS) by [`FlowId`],
//! with the bounded queue its writer task drains. This is how a message
//! reaches a client over the connection it registered on (RFC 5626 flows,
//! RFC 3261 §18.2.2 response reuse). UDP sockets get flow ids too but live
//! in the driver, not here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use sip_proto::{FlowId, TransactionKey, Transport};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::stats::NetStats;

/// One message for a connection's writer.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) bytes: Bytes,
    /// The transaction to tell when the write fails.
    pub(crate) key: Option<TransactionKey>,
}

impl Outgoing {
    pub(crate) fn new(bytes: Bytes, key: Option<TransactionKey>) -> Self {
        Outgoing { bytes, key }
    }

    /// RFC 5626 §3.5.1: the single-CRLF pong answering a double-CRLF ping.
    pub(crate) fn pong() -> Self {
        Outgoing::new(Bytes::from_static(b"\r\n"), None)
    }

    pub(crate) fn is_keepalive(&self) -> bool {
        self.bytes.iter().all(|&c| c == b'\r' || c == b'\n')
    }
}

/// A connection as the table sees it.
#[derive(Debug)]
pub(crate) struct FlowEntry {
    pub(crate) transport: Transport,
    pub(crate) remote: SocketAddr,
    pub(crate) tx: mpsc::Sender<Outgoing>,
    /// Cancelled to drop the connection at once (its queue overflowed).
    pub(crate) kill: CancellationToken,
}

/// What became of a message handed to [`FlowTable::send`].
#[derive(Debug)]
pub(crate) enum Queued {
    /// In the connection's queue.
    Yes,
    /// The queue was full: the connection was dropped (its pending messages
    /// are reported failed by its writer).
    Overflow,
    /// No such open flow; the message comes back.
    NoFlow(Outgoing),
}

#[derive(Debug, Default)]
struct Inner {
    flows: HashMap<FlowId, FlowEntry, foldhash::fast::RandomState>,
    by_remote: HashMap<(Transport, SocketAddr), FlowId, foldhash::fast::RandomState>,
}

/// FlowId → writer handle, shared by the driver (which sends) and the
/// connection tasks (which register and unregister themselves). Critical
/// sections are a hash lookup and a `try_send`: never an await.
#[derive(Debug)]
pub(crate) struct FlowTable {
    inner: Mutex<Inner>,
    next: AtomicU64,
}

impl FlowTable {
    pub(crate) fn new() -> Self {
        FlowTable {
            inner: Mutex::new(Inner::default()),
            // FlowId(0) is never issued: it names "no particular flow".
            next: AtomicU64::new(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the maps consistent (each
        // critical section is one insert or remove), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn next_id(&self) -> FlowId {
        FlowId(self.next.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn insert(&self, id: FlowId, entry: FlowEntry) {
        let mut g = self.lock();
        g.by_remote.insert((entry.transport, entry.remote), id);
        g.flows.insert(id, entry);
    }

    pub(crate) fn remove(&self, id: FlowId) {
        let mut g = self.lock();
        if let Some(e) = g.flows.remove(&id) {
            let k = (e.transport, e.remote);
            if g.by_remote.get(&k) == Some(&id) {
                g.by_remote.remove(&k);
            }
        }
    }

    pub(crate) fn is_open(&self, id: FlowId) -> bool {
        self.lock()
            .flows
            .get(&id)
            .is_some_and(|e| !e.tx.is_closed())
    }

    /// The transport and remote address of an open flow.
    pub(crate) fn describe(&self, id: FlowId) -> Option<(Transport, SocketAddr)> {
        self.lock().flows.get(&id).map(|e| (e.transport, e.remote))
    }

    /// An open flow to `remote` over `transport` (RFC 3261 §18.1.1: a
    /// connection to the destination may be reused).
    pub(crate) fn find(&self, transport: Transport, remote: SocketAddr) -> Option<FlowId> {
        let g = self.lock();
        let id = *g.by_remote.get(&(transport, remote))?;
        g.flows.get(&id).filter(|e| !e.tx.is_closed()).map(|_| id)
    }

    /// Queues `out` on flow `id` without waiting.
    pub(crate) fn send(&self, id: FlowId, out: Outgoing, stats: &NetStats) -> Queued {
        let mut g = self.lock();
        let Some(entry) = g.flows.get(&id) else {
            return Queued::NoFlow(out);
        };
        match entry.tx.try_send(out) {
            Ok(()) => Queued::Yes,
            Err(mpsc::error::TrySendError::Full(_)) => {
                // The peer does not read: drop it rather than let one slow
                // connection stall the driver (DESIGN.md rule 11).
                tracing::warn!(flow = id.0, remote = %entry.remote, "write queue full, dropping connection");
                NetStats::inc(&stats.queue_overflows);
                entry.kill.cancel();
                let k = (entry.transport, entry.remote);
                g.flows.remove(&id);
                if g.by_remote.get(&k) == Some(&id) {
                    g.by_remote.remove(&k);
                }
                Queued::Overflow
            }
            Err(mpsc::error::TrySendError::Closed(out)) => Queued::NoFlow(out),
        }
    }

    /// Forgets every flow: their queues close once the connection tasks drop
    /// their own senders, and the writers flush what is queued, then close.
    pub(crate) fn clear(&self) {
        let mut g = self.lock();
        g.flows.clear();
        g.by_remote.clear();
    }
}

/// The `max_connections` bound, shared by every listener and outbound
/// connect. `connections_open` in [`NetStats`] is the count.
#[derive(Debug)]
pub(crate) struct ConnLimit {
    max: u64,
    stats: Arc<NetStats>,
}

impl ConnLimit {
    pub(crate) fn new(max: usize, stats: Arc<NetStats>) -> Arc<Self> {
        Arc::new(ConnLimit {
            max: max as u64,
            stats,
        })
    }

    /// A slot for one more connection, or `None` at the limit (counted as
    /// refused).
    pub(crate) fn try_acquire(self: &Arc<Self>) -> Option<ConnGuard> {
        let prev = self.stats.connections_open.fetch_add(1, Ordering::AcqRel);
        if prev >= self.max {
            self.stats.connections_open.fetch_sub(1, Ordering::AcqRel);
            NetStats::inc(&self.stats.connections_refused);
            return None;
        }
        NetStats::inc(&self.stats.connections_total);
        Some(ConnGuard {
            limit: Arc::clone(self),
        })
    }
}

/// One open connection's slot; released on drop.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    limit: Arc<ConnLimit>,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.limit
            .stats
            .connections_open
            .fetch_sub(1, Ordering::AcqRel);
    }
}
