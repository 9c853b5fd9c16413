//! What every transport task shares: the channel into the driver, the
//! counters, the flow table and the limits; and the one check every received
//! message goes through before the transaction layer sees it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sip_msg::{ParseError, SipMessage};
use sip_proto::{Peer, TransactionKey, stamp_received};
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::flow::{ConnLimit, FlowTable};
use crate::salvage::{self, ErrorAnswer};
use crate::stats::NetStats;

/// What transport tasks tell the driver.
#[allow(clippy::large_enum_variant)] // `Received` is nearly every event; boxing it would add an allocation per message
#[derive(Debug)]
pub(crate) enum Event {
    /// A message that passed [`vet`]: parsed, core headers checked, a request
    /// stamped with `received`/`rport`. `asked`: the TU's stateless hook
    /// already declined it (the UDP receive loop asks before sending it
    /// here), so the driver does not ask `answer_statelessly` again.
    Received {
        msg: SipMessage,
        peer: Peer,
        asked: bool,
    },
    /// Messages of these transactions were never written (connect failed,
    /// write failed, connection dropped): RFC 3261 §18.4 transport errors.
    SendFailed { keys: Vec<TransactionKey> },
    /// A connection closed; its flow id is dead.
    FlowClosed { peer: Peer },
}

/// Everything a transport task needs, shared.
pub(crate) struct Shared {
    pub(crate) events: mpsc::Sender<Event>,
    pub(crate) stats: Arc<NetStats>,
    pub(crate) flows: Arc<FlowTable>,
    pub(crate) limit: Arc<ConnLimit>,
    pub(crate) tracker: TaskTracker,
    /// Cancelled when draining starts: listeners stop accepting.
    pub(crate) stop_accept: CancellationToken,
    /// Cancelled when the server stops: every task ends.
    pub(crate) stop_all: CancellationToken,
    pub(crate) max_message_size: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) connection_queue: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) tls_connector: Option<TlsConnector>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("max_message_size", &self.max_message_size)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// How long one write may stall before the connection counts as dead.
    pub(crate) fn write_timeout(&self) -> Duration {
        self.idle_timeout.min(Duration::from_secs(30))
    }

    /// Tells the driver; `false` when the driver is gone.
    pub(crate) async fn emit(&self, ev: Event) -> bool {
        self.events.send(ev).await.is_ok()
    }
}

/// What to do with a received message.
#[allow(clippy::large_enum_variant)] // `Deliver` is nearly every verdict; boxing it would add an allocation per message
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Hand it to the transaction layer.
    Deliver(SipMessage),
    /// Answer it statelessly with this (and do not deliver it).
    Answer(ErrorAnswer),
    /// Drop it (counted).
    Drop,
}

/// The gate in front of the transaction layer.
///
/// - Did not parse: a request is answered with the error's status and reason
///   if enough of it can be [salvaged](salvage::answer) (RFC 3261 §8.2.6,
///   §21.4); anything else is dropped.
/// - Parsed but [`check_core`](SipMessage::check_core) fails: a request is
///   answered the same way, a response dropped (§18.1.2: a client drops
///   malformed responses).
/// - Good request: stamped with `received`/`rport` (§18.2.1, RFC 3581 §4).
pub(crate) fn vet(
    parsed: Result<SipMessage, ParseError>,
    raw: &[u8],
    source: SocketAddr,
    stats: &NetStats,
) -> Verdict {
    let mut msg = match parsed {
        Ok(m) => m,
        Err(e) => return refuse(raw, &e, source, stats),
    };
    if let Err(e) = msg.check_core() {
        if msg.is_request() {
            return refuse(&msg.to_bytes(), &e, source, stats);
        }
        tracing::debug!(error = %e, "dropping malformed response");
        NetStats::inc(&stats.dropped_responses);
        return Verdict::Drop;
    }
    if msg.is_request()
        && let Err(e) = stamp_received(&mut msg, source)
    {
        tracing::debug!(error = %e, "cannot stamp Via");
        return refuse(
            &msg.to_bytes(),
            &ParseError::header("Bad Via"),
            source,
            stats,
        );
    }
    msg.mark_core_checked();
    Verdict::Deliver(msg)
}

/// The stateless answer to bad bytes, or a counted drop.
pub(crate) fn refuse(raw: &[u8], e: &ParseError, source: SocketAddr, stats: &NetStats) -> Verdict {
    match salvage::answer(raw, e.status(), e.reason(), source) {
        Some(a) => {
            tracing::debug!(error = %e, %source, "answering bad request");
            Verdict::Answer(a)
        }
        None => {
            tracing::debug!(error = %e, %source, len = raw.len(), "dropping unparseable message");
            if looks_like_response(raw) {
                NetStats::inc(&stats.dropped_responses);
            } else {
                NetStats::inc(&stats.dropped_unparseable);
            }
            Verdict::Drop
        }
    }
}

fn looks_like_response(raw: &[u8]) -> bool {
    let t = raw.trim_ascii_start();
    t.len() >= 4 && t[..4].eq_ignore_ascii_case(b"SIP/")
}

/// Last traffic on a connection, in milliseconds since it opened: the
/// reader and the writer both touch it, the idle timer reads it.
#[derive(Debug)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        })
    }

    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// When the connection becomes idle if nothing happens meanwhile.
    pub(crate) fn idle_at(&self, idle: Duration) -> tokio::time::Instant {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        tokio::time::Instant::from_std(self.start + last + idle)
    }
}
