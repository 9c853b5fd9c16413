//! Counters a running server keeps, for metrics and tests. All relaxed
//! atomics: each is exact on its own, a set of them is not a snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// Transport counters, shared between the driver and every transport task.
#[derive(Debug, Default)]
pub struct NetStats {
    /// Messages parsed and handed to the transaction layer, or answered by
    /// the TU's stateless hook in a UDP receive loop.
    pub received: AtomicU64,
    /// Messages written to a socket or a connection.
    pub sent: AtomicU64,
    /// CRLF keep-alives received (RFC 5626 §3.5.1 pings on streams, bare CRLF
    /// datagrams on UDP).
    pub keepalives: AtomicU64,
    /// Bytes that held no usable message and could not be answered: dropped.
    pub dropped_unparseable: AtomicU64,
    /// Malformed responses, dropped (a response is never answered).
    pub dropped_responses: AtomicU64,
    /// Bad requests answered statelessly with the parse error's status (400,
    /// or 505, 513, 416: RFC 3261 §8.2.6 via §21.4).
    pub answered_400: AtomicU64,
    /// Requests answered 503 because the transaction cap was reached or the
    /// server is draining (RFC 3261 §21.5.4).
    pub answered_503: AtomicU64,
    /// Connections open now (TCP, TLS, WebSocket; inbound and outbound).
    pub connections_open: AtomicU64,
    /// Connections accepted or opened since start.
    pub connections_total: AtomicU64,
    /// Connections refused because `max_connections` was reached.
    pub connections_refused: AtomicU64,
    /// Connections closed for idling longer than `idle_timeout`.
    pub connections_idle_closed: AtomicU64,
    /// Connections dropped because their write queue was full (a peer that
    /// does not read).
    pub queue_overflows: AtomicU64,
    /// Sends that failed (socket errors, closed flows, failed connects); each
    /// one with a transaction is reported to it as a transport error.
    pub send_failures: AtomicU64,
}

impl NetStats {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads one counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
