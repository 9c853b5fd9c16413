//! The tokio driver: listeners, a reader and a writer task per connection
//! (framing with [`msrp::Decoder`]), the shared table of connections,
//! outbound connections to next hops, bounded send queues, the clock.
//!
//! WebSocket connections (RFC 7977) are not accepted here: the
//! application's HTTP server upgrades them and hands them over with
//! [`RelayHandle::adopt_websocket`] as a stream of whole messages and a sink
//! taking whole messages. One WebSocket message carries exactly one frame
//! each way (RFC 7977 §5.1); otherwise they are connections like the
//! others: same limits, AUTH, tokens, forwarding and send queues.
//!
//! Local sessions (an MSRP endpoint of the application's, such as a chat
//! room focus): the core's [`LocalEvent`]s go out on one bounded channel
//! ([`RelayServer::local_events`]); a reader waits for room in it like for
//! room in a send queue. The application answers through [`RelayHandle`]
//! ([`RelayHandle::send_local`] never waits: a full send queue drops the
//! frame, RFC 7701 §6.4 lets a focus discard messages to a congested
//! participant).
//!
//! Backpressure: every connection's send queue holds at most
//! [`DriverConfig::queue_bytes`] of frames not yet written (a semaphore of
//! byte permits). A reader that forwards to a full queue waits for room
//! before it reads again, so a slow receiver slows its sender down instead
//! of the relay buffering without bound. Frames the relay makes on its own
//! (REPORTs from timers, from a lost connection) never wait: when the queue
//! is full they are dropped and logged.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use msrp::{Decoder, Frame, Limits, MsrpUri};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::AuthBackend;
use crate::error::{LocalSendError, RelayError};
use crate::relay::{ConnId, LocalEvent, LocalSend, NextHop, Outgoing, Output, Relay, RelayConfig};

/// One listener to bind.
#[derive(Debug, Clone)]
pub struct ListenSpec {
    /// Address and port (0: any free port).
    pub addr: SocketAddr,
    /// `msrps:` listeners: the TLS server configuration.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Everything [`RelayServer::bind`] needs.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// The listeners.
    pub listeners: Vec<ListenSpec>,
    /// The host name in this relay's URIs (Use-Path, RFC 4976 §4.2); the
    /// listener's address when `None`.
    pub host: Option<String>,
    /// The relay's decisions. Its `listeners` are filled in at bind from the
    /// bound addresses; `aliases` gets the listen addresses and `host` added.
    pub relay: RelayConfig,
    /// Frame size caps. `max_body` is the largest chunk relayed (413 past
    /// it, RFC 4975 §10.5); no small chunk limit: RFC 4975 §7.1.1 wants
    /// chunks of any size up to the message size accepted.
    pub decoder: Limits,
    /// Bytes queued for one connection before whoever forwards to it waits.
    pub queue_bytes: usize,
    /// Opening a connection to a next hop.
    pub connect_timeout: Duration,
    /// A TLS handshake on an `msrps:` listener.
    pub tls_handshake_timeout: Duration,
    /// Local session events waiting for the application before readers
    /// wait (see [`RelayServer::local_events`]).
    pub local_events: usize,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            listeners: Vec::new(),
            host: None,
            relay: RelayConfig::default(),
            decoder: Limits::default(),
            queue_bytes: 4 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            local_events: 1024,
        }
    }
}

/// A relay bound to its listeners; [`RelayServer::run`] serves until shutdown.
pub struct RelayServer<A> {
    listeners: Vec<(TcpListener, Option<tokio_rustls::TlsAcceptor>)>,
    addrs: Vec<(bool, SocketAddr)>,
    shared: Arc<Shared<A>>,
}

impl<A> std::fmt::Debug for RelayServer<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayServer")
            .field("addrs", &self.addrs)
            .finish_non_exhaustive()
    }
}

/// Reaches a running relay from the application (see
/// [`RelayServer::handle`]).
pub struct RelayHandle<A> {
    shared: Arc<Shared<A>>,
}

impl<A> Clone for RelayHandle<A> {
    fn clone(&self) -> Self {
        RelayHandle {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<A> std::fmt::Debug for RelayHandle<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayHandle").finish_non_exhaustive()
    }
}

impl<A> RelayHandle<A> {
    /// [`Relay::release_session`]: the session of `token` ends now.
    pub fn release_session(&self, token: &str) -> bool {
        lock(&self.shared.core).relay.release_session(token)
    }

    /// This relay's URIs, one per listener (no session-id).
    pub fn uris(&self) -> Vec<MsrpUri> {
        lock(&self.shared.core).relay.config().listeners.clone()
    }

    /// Is `uri` one of this relay's own (its host and port)?
    pub fn is_ours(&self, uri: &MsrpUri) -> bool {
        lock(&self.shared.core)
            .relay
            .config()
            .listeners
            .iter()
            .any(|l| l.same_authority(uri))
    }
}

impl<A: AuthBackend> RelayHandle<A> {
    /// Runs a WebSocket connection (RFC 7977) the application upgraded with
    /// subprotocol `msrp`: `incoming` yields the payload of each WebSocket
    /// message the client sent (text or binary alike, RFC 7977 §4.2) and
    /// ends when the connection does; each item into `outgoing` becomes one
    /// WebSocket message, and closing it closes the connection. `remote` is
    /// the client, `local` the address it connected to, `secure` whether
    /// that was `wss`. False (the connection is to be dropped) when a
    /// connection limit refuses it, the relay has no TCP listener, or it is
    /// shutting down.
    pub fn adopt_websocket<S, K>(
        &self,
        incoming: S,
        outgoing: K,
        remote: SocketAddr,
        local: SocketAddr,
        secure: bool,
    ) -> bool
    where
        S: Stream<Item = Bytes> + Unpin + Send + 'static,
        K: Sink<Bytes, Error = std::io::Error> + Unpin + Send + 'static,
    {
        let shared = &self.shared;
        if shared.shutdown.is_cancelled() {
            return false;
        }
        let admitted = {
            let mut core = lock(&shared.core);
            let id =
                core.relay
                    .handle_accept_websocket(remote.ip(), local.ip(), secure, Instant::now());
            id.map(|id| {
                let (h, rx) = new_handle(&shared.shutdown, shared.queue_bytes);
                core.conns.insert(id, h.clone());
                (id, h, rx)
            })
        };
        let Some((id, h, rx)) = admitted else {
            return false;
        };
        tracing::debug!(conn = id.get(), %remote, secure, "MSRP WebSocket connection adopted");
        let s = shared.clone();
        shared.tracker.spawn(async move {
            s.tracker.spawn(write_messages(
                outgoing,
                rx,
                h.budget.clone(),
                h.stop.clone(),
            ));
            read_messages(&s, id, incoming, &h.stop).await;
            finish(&s, id).await;
        });
        true
    }

    /// The largest WebSocket message a client may send: one frame (RFC 7977
    /// §5.1) with the largest head and body the decoder takes, plus room
    /// for its end-line.
    pub fn max_websocket_message(&self) -> usize {
        let l = self.shared.decoder;
        l.max_head
            .saturating_add(l.max_body.max(l.max_non_send_body))
            .saturating_add(1024)
    }

    /// [`Relay::open_local`]: a new local session taking `accept`; its
    /// events arrive on [`RelayServer::local_events`].
    pub fn open_local(&self, accept: &[&str]) -> Option<String> {
        lock(&self.shared.core).relay.open_local(accept)
    }

    /// [`Relay::local_uris`]: the session's URIs, one per listener.
    pub fn local_uris(&self, session: &str) -> Vec<MsrpUri> {
        lock(&self.shared.core).relay.local_uris(session)
    }

    /// [`Relay::send_local`], without waiting: when the peer's send queue is
    /// full the frame is dropped (and logged) but `Ok` is returned.
    pub fn send_local(&self, session: &str, frame: Frame) -> Result<LocalSend, LocalSendError> {
        let mut todo = VecDeque::new();
        let r = {
            let mut core = lock(&self.shared.core);
            let r = core.relay.send_local(session, frame);
            take(&self.shared, &mut core, &mut todo);
            r
        };
        dispatch_now(&self.shared, todo);
        r
    }

    /// [`Relay::close_local`].
    pub fn close_local(&self, session: &str) -> bool {
        let mut todo = VecDeque::new();
        let closed = {
            let mut core = lock(&self.shared.core);
            let closed = core.relay.close_local(session);
            take(&self.shared, &mut core, &mut todo);
            closed
        };
        dispatch_now(&self.shared, todo);
        closed
    }
}

/// What every task shares: the core and the connection table under one
/// lock (never held across an await), the credential backend, settings.
#[derive(Debug)]
struct Shared<A> {
    core: Mutex<Core>,
    backend: A,
    decoder: Limits,
    queue_bytes: usize,
    connect_timeout: Duration,
    tls_handshake_timeout: Duration,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    /// Local session events to the application.
    local_tx: mpsc::Sender<LocalEvent>,
    /// Taken once by [`RelayServer::local_events`].
    local_rx: Mutex<Option<mpsc::Receiver<LocalEvent>>>,
}

#[derive(Debug)]
struct Core {
    relay: Relay,
    conns: std::collections::HashMap<ConnId, Arc<ConnHandle>>,
}

/// How to reach a connection's writer (shared: cloning a cancellation
/// token takes a lock, an `Arc` does not).
#[derive(Debug)]
struct ConnHandle {
    tx: mpsc::UnboundedSender<Item>,
    /// Byte permits: the bound on what is queued (see the module doc).
    budget: Arc<Semaphore>,
    /// Cancelled when the connection is to stop (closing, shutdown).
    stop: CancellationToken,
}

/// One queued write.
#[derive(Debug)]
enum Item {
    /// Bytes, in order; `permits` go back to the budget once written.
    Data { parts: Parts, permits: u32 },
    /// Close after what came before.
    Close,
}

/// A serialized frame: up to three pieces, so a forwarded body is written
/// from the receive buffer it arrived in, without a copy.
#[derive(Debug)]
struct Parts {
    head: Bytes,
    body: Option<Bytes>,
    tail: Option<Bytes>,
}

impl Parts {
    /// The frame in one buffer (a WebSocket message is one payload).
    fn into_message(self) -> Bytes {
        match (self.body, self.tail) {
            (None, None) => self.head,
            (body, tail) => {
                let body_len = body.as_ref().map_or(0, Bytes::len);
                let tail_len = tail.as_ref().map_or(0, Bytes::len);
                let mut b = BytesMut::with_capacity(self.head.len() + body_len + tail_len);
                b.put_slice(&self.head);
                for p in [body, tail].into_iter().flatten() {
                    b.put_slice(&p);
                }
                b.freeze()
            }
        }
    }

    fn len(&self) -> usize {
        self.head.len()
            + self.body.as_ref().map_or(0, Bytes::len)
            + self.tail.as_ref().map_or(0, Bytes::len)
    }
}

/// Bodies up to this size are copied into one buffer with their head and
/// tail (one slice to write); larger ones are written in place.
const COPY_BODY_BELOW: usize = 16 * 1024;

fn encode(data: Outgoing) -> Parts {
    match data {
        Outgoing::Encoded(b) => Parts {
            head: b,
            body: None,
            tail: None,
        },
        Outgoing::Frame(f) => encode_frame(&f),
    }
}

fn encode_frame(f: &Frame) -> Parts {
    match f.body() {
        Some(body) if body.len() >= COPY_BODY_BELOW => {
            let mut head = BytesMut::with_capacity(f.encoded_len() - body.len());
            f.encode_head_into(&mut head);
            let mut tail = head.split_off(head.len());
            f.encode_tail_into(&mut tail);
            Parts {
                head: head.freeze(),
                body: Some(body.clone()),
                tail: Some(tail.freeze()),
            }
        }
        _ => {
            let mut b = BytesMut::with_capacity(f.encoded_len());
            f.encode_into(&mut b);
            Parts {
                head: b.freeze(),
                body: None,
                tail: None,
            }
        }
    }
}

/// Whether a dispatch may wait for room in a full queue (readers do: that is
/// the backpressure) or must not (timers, connection loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Yes,
    No,
}

impl<A: AuthBackend> RelayServer<A> {
    /// Binds every listener; the relay's own URIs are made from the bound
    /// addresses (so port 0 works) and `cfg.host`.
    pub async fn bind(cfg: DriverConfig, backend: A) -> Result<RelayServer<A>, RelayError> {
        let mut listeners = Vec::new();
        let mut addrs = Vec::new();
        let mut relay = cfg.relay.clone();
        relay.listeners.clear();
        for spec in &cfg.listeners {
            let l = TcpListener::bind(spec.addr)
                .await
                .map_err(|source| RelayError::Bind {
                    addr: spec.addr,
                    source,
                })?;
            let local = l.local_addr().map_err(|source| RelayError::Bind {
                addr: spec.addr,
                source,
            })?;
            let secure = spec.tls.is_some();
            let ip = local.ip().to_string();
            let host = cfg.host.clone().unwrap_or_else(|| ip.clone());
            let uri =
                MsrpUri::new(secure, &host, Some(local.port()), None, "tcp").map_err(|e| {
                    RelayError::Uri {
                        host: host.clone(),
                        reason: e.to_string(),
                    }
                })?;
            relay.listeners.push(uri);
            for a in [ip, host] {
                if !relay.aliases.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                    relay.aliases.push(a);
                }
            }
            addrs.push((secure, local));
            listeners.push((l, spec.tls.clone().map(tokio_rustls::TlsAcceptor::from)));
        }
        let (local_tx, local_rx) = mpsc::channel(cfg.local_events.max(1));
        let shared = Arc::new(Shared {
            core: Mutex::new(Core {
                relay: Relay::new(relay),
                conns: std::collections::HashMap::new(),
            }),
            backend,
            decoder: cfg.decoder,
            queue_bytes: cfg.queue_bytes.max(1),
            connect_timeout: cfg.connect_timeout,
            tls_handshake_timeout: cfg.tls_handshake_timeout,
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            local_tx,
            local_rx: Mutex::new(Some(local_rx)),
        });
        Ok(RelayServer {
            listeners,
            addrs,
            shared,
        })
    }

    /// The bound listeners: (`msrps`, address).
    pub fn local_addrs(&self) -> Vec<(bool, SocketAddr)> {
        self.addrs.clone()
    }

    /// A handle that outlives [`run`](Self::run)'s move of the server: the
    /// application ends relay sessions through it.
    pub fn handle(&self) -> RelayHandle<A> {
        RelayHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The events of local sessions ([`RelayHandle::open_local`]), in
    /// order; `None` after the first call. An application that opens local
    /// sessions must keep reading it: a full channel stops the readers of
    /// the connections that have something for it.
    pub fn local_events(&self) -> Option<mpsc::Receiver<LocalEvent>> {
        self.shared
            .local_rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// This relay's URIs, one per listener.
    pub fn uris(&self) -> Vec<MsrpUri> {
        lock(&self.shared.core).relay.config().listeners.clone()
    }

    /// Serves until `shutdown` is cancelled, then closes every connection
    /// and returns once every task has ended.
    pub async fn run(self, shutdown: CancellationToken) {
        let shared = self.shared;
        for (i, (listener, tls)) in self.listeners.into_iter().enumerate() {
            let s = shared.clone();
            shared.tracker.spawn(accept_loop(s, i, listener, tls));
        }
        shared.tracker.spawn(timer_loop(shared.clone()));
        shutdown.cancelled().await;
        shared.shutdown.cancel();
        shared.tracker.close();
        shared.tracker.wait().await;
    }
}

fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    // A panic while the lock was held leaves the core as it was between two
    // calls: go on with it.
    core.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The outputs of the core, each with the handle of its connection, taken
/// while the lock is held; a Connect creates its connection's handle here so
/// that Sends right behind it find it.
#[derive(Debug)]
enum Todo {
    Send(Arc<ConnHandle>, Outgoing),
    Close(Arc<ConnHandle>),
    Connect(
        ConnId,
        NextHop,
        Arc<ConnHandle>,
        mpsc::UnboundedReceiver<Item>,
    ),
    Auth(crate::relay::AuthId, crate::auth::AuthRequest),
    Local(LocalEvent),
}

fn new_handle(
    shared_stop: &CancellationToken,
    queue_bytes: usize,
) -> (Arc<ConnHandle>, mpsc::UnboundedReceiver<Item>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        Arc::new(ConnHandle {
            tx,
            budget: Arc::new(Semaphore::new(queue_bytes)),
            stop: shared_stop.child_token(),
        }),
        rx,
    )
}

fn take<A>(shared: &Shared<A>, core: &mut Core, todo: &mut VecDeque<Todo>) {
    while let Some(out) = core.relay.poll_output() {
        match out {
            Output::Send { conn, data } => {
                if let Some(h) = core.conns.get(&conn) {
                    todo.push_back(Todo::Send(h.clone(), data));
                }
            }
            Output::Close { conn } => {
                if let Some(h) = core.conns.get(&conn) {
                    todo.push_back(Todo::Close(h.clone()));
                }
            }
            Output::Connect { conn, hop } => {
                let (h, rx) = new_handle(&shared.shutdown, shared.queue_bytes);
                core.conns.insert(conn, h.clone());
                todo.push_back(Todo::Connect(conn, hop, h, rx));
            }
            Output::Authenticate { id, request, .. } => todo.push_back(Todo::Auth(id, request)),
            Output::Local(ev) => todo.push_back(Todo::Local(ev)),
        }
    }
}

/// Carries out `todo` (and what the AUTH verdicts in it lead to). With
/// [`Wait::Yes`], waits for room in full queues unless `stop` fires; returns
/// `false` when it did.
async fn dispatch<A: AuthBackend>(
    shared: &Arc<Shared<A>>,
    todo: &mut VecDeque<Todo>,
    wait: Wait,
    stop: &CancellationToken,
) -> bool {
    while let Some(t) = todo.pop_front() {
        match t {
            Todo::Send(h, data) => {
                if !enqueue(shared, &h, encode(data), wait, stop).await {
                    todo.clear();
                    return false;
                }
            }
            Todo::Close(h) => {
                let _ = h.tx.send(Item::Close);
            }
            Todo::Connect(conn, hop, h, rx) => {
                let s = shared.clone();
                shared.tracker.spawn(spawn_outbound(s, conn, hop, h, rx));
            }
            Todo::Auth(id, request) => {
                let verdict = shared.backend.verify(request).await;
                let mut core = lock(&shared.core);
                core.relay.handle_auth_verdict(id, verdict, Instant::now());
                take(shared, &mut core, todo);
            }
            Todo::Local(ev) => match wait {
                Wait::Yes => {
                    let sent = tokio::select! {
                        r = shared.local_tx.send(ev) => r,
                        _ = stop.cancelled() => {
                            todo.clear();
                            return false;
                        }
                    };
                    if sent.is_err() {
                        tracing::debug!("local MSRP session event dropped: nobody listens");
                    }
                }
                Wait::No => local_event_later(shared, ev),
            },
        }
    }
    true
}

/// A local session event from a timer or a lost connection: into the
/// channel now if there is room, else by a task that waits for room (a
/// lost participant must not be forgotten because the application was
/// busy).
fn local_event_later<A: AuthBackend>(shared: &Arc<Shared<A>>, ev: LocalEvent) {
    match shared.local_tx.try_send(ev) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Closed(_)) => {
            tracing::debug!("local MSRP session event dropped: nobody listens");
        }
        Err(mpsc::error::TrySendError::Full(ev)) => {
            let s = shared.clone();
            shared.tracker.spawn(async move {
                tokio::select! {
                    _ = s.local_tx.send(ev) => {}
                    _ = s.shutdown.cancelled() => {}
                }
            });
        }
    }
}

/// Carries out `todo` from the application's thread without waiting: sends
/// go only where the queue has room, anything that would wait runs in a
/// task.
fn dispatch_now<A: AuthBackend>(shared: &Arc<Shared<A>>, mut todo: VecDeque<Todo>) {
    while let Some(t) = todo.pop_front() {
        match t {
            Todo::Send(h, data) => {
                try_enqueue(shared, &h, encode(data));
            }
            Todo::Close(h) => {
                let _ = h.tx.send(Item::Close);
            }
            Todo::Local(ev) => local_event_later(shared, ev),
            other => {
                todo.push_front(other);
                let s = shared.clone();
                shared.tracker.spawn(async move {
                    let never = CancellationToken::new();
                    dispatch(&s, &mut todo, Wait::No, &never).await;
                });
                return;
            }
        }
    }
}

/// Queues `parts` on `h` if its queue has room; false (logged) when full or
/// closed.
fn try_enqueue<A>(shared: &Shared<A>, h: &ConnHandle, parts: Parts) -> bool {
    let len = parts.len();
    let permits = u32::try_from(len.clamp(1, shared.queue_bytes)).unwrap_or(u32::MAX);
    match h.budget.try_acquire_many(permits) {
        Ok(p) => p.forget(),
        Err(_) => {
            tracing::debug!(len, "MSRP send queue full or closed: frame dropped");
            return false;
        }
    }
    if h.tx.send(Item::Data { parts, permits }).is_err() {
        h.budget.add_permits(permits as usize);
        return false;
    }
    true
}

async fn enqueue<A>(
    shared: &Shared<A>,
    h: &ConnHandle,
    parts: Parts,
    wait: Wait,
    stop: &CancellationToken,
) -> bool {
    let len = parts.len();
    let permits = u32::try_from(len.clamp(1, shared.queue_bytes)).unwrap_or(u32::MAX);
    match wait {
        Wait::Yes => {
            let acquired = tokio::select! {
                p = h.budget.acquire_many(permits) => p,
                _ = stop.cancelled() => return false,
            };
            match acquired {
                Ok(p) => p.forget(),
                // The connection is closing: what was for it is dropped.
                Err(_) => return true,
            }
        }
        Wait::No => {
            try_enqueue(shared, h, parts);
            return true;
        }
    }
    if h.tx.send(Item::Data { parts, permits }).is_err() {
        h.budget.add_permits(permits as usize);
    }
    true
}

/// A connection is gone: out of the table (once), and the core told.
async fn finish<A: AuthBackend>(shared: &Arc<Shared<A>>, conn: ConnId) {
    let mut todo = VecDeque::new();
    {
        let mut core = lock(&shared.core);
        let Some(h) = core.conns.remove(&conn) else {
            return;
        };
        // Nothing more is queued for it; what is queued is written (a last
        // answer before a close), for at most LINGER, then the writer stops.
        h.budget.close();
        let _ = h.tx.send(Item::Close);
        let stop = h.stop.clone();
        shared.tracker.spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(LINGER) => stop.cancel(),
                _ = stop.cancelled() => {}
            }
        });
        core.relay.handle_closed(conn, Instant::now());
        take(shared, &mut core, &mut todo);
    }
    let never = CancellationToken::new();
    dispatch(shared, &mut todo, Wait::No, &never).await;
}

async fn accept_loop<A: AuthBackend>(
    shared: Arc<Shared<A>>,
    index: usize,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shared.shutdown.cancelled() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors and the like: wait a little, go on.
                tracing::warn!(error = %e, "MSRP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let admitted = {
            let mut core = lock(&shared.core);
            match core.relay.handle_accept(peer.ip(), index, Instant::now()) {
                Some(id) => {
                    let (h, rx) = new_handle(&shared.shutdown, shared.queue_bytes);
                    core.conns.insert(id, h.clone());
                    Some((id, h, rx))
                }
                None => None,
            }
        };
        let Some((id, h, rx)) = admitted else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tracing::debug!(conn = id.get(), %peer, "MSRP connection accepted");
        let s = shared.clone();
        let tls = tls.clone();
        shared.tracker.spawn(async move {
            match tls {
                None => {
                    let (r, w) = stream.into_split();
                    run_conn(s, id, r, w, h, rx).await;
                }
                Some(acceptor) => {
                    let hs = tokio::time::timeout(s.tls_handshake_timeout, acceptor.accept(stream));
                    let tls_stream = tokio::select! {
                        r = hs => r,
                        _ = h.stop.cancelled() => { finish(&s, id).await; return; }
                    };
                    match tls_stream {
                        Ok(Ok(t)) => {
                            let (r, w) = tokio::io::split(t);
                            run_conn(s, id, r, w, h, rx).await;
                        }
                        _ => {
                            tracing::debug!(%peer, "MSRP TLS handshake failed");
                            finish(&s, id).await;
                        }
                    }
                }
            }
        });
    }
}

/// Runs a connection: the writer in its own task, the reader here.
async fn run_conn<A, R, W>(
    shared: Arc<Shared<A>>,
    conn: ConnId,
    rd: R,
    wr: W,
    h: Arc<ConnHandle>,
    rx: mpsc::UnboundedReceiver<Item>,
) where
    A: AuthBackend,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    shared
        .tracker
        .spawn(write_loop(wr, rx, h.budget.clone(), h.stop.clone()));
    read_loop(&shared, conn, rd, &h.stop).await;
    finish(&shared, conn).await;
}

/// [`outbound`] as a boxed `Send` future: the reader of the new connection
/// dispatches too, and the cycle needs a named type to prove `Send` through.
fn spawn_outbound<A: AuthBackend>(
    shared: Arc<Shared<A>>,
    conn: ConnId,
    hop: NextHop,
    h: Arc<ConnHandle>,
    rx: mpsc::UnboundedReceiver<Item>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>> {
    Box::pin(outbound(shared, conn, hop, h, rx))
}

/// Opens an outbound connection (RFC 4975 §6.2: resolve, connect), then runs it.
async fn outbound<A: AuthBackend>(
    shared: Arc<Shared<A>>,
    conn: ConnId,
    hop: NextHop,
    h: Arc<ConnHandle>,
    rx: mpsc::UnboundedReceiver<Item>,
) {
    let connect = tokio::time::timeout(
        shared.connect_timeout,
        TcpStream::connect((hop.host.as_str(), hop.port)),
    );
    let stream = tokio::select! {
        r = connect => r,
        _ = h.stop.cancelled() => { finish(&shared, conn).await; return; }
    };
    match stream {
        Ok(Ok(s)) if !hop.secure => {
            let _ = s.set_nodelay(true);
            tracing::debug!(conn = conn.get(), host = %hop.host, port = hop.port, "MSRP next hop connected");
            let (r, w) = s.into_split();
            run_conn(shared, conn, r, w, h, rx).await;
        }
        other => {
            let why = match other {
                Ok(Ok(_)) => "TLS next hops are not supported".to_owned(),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "timed out".to_owned(),
            };
            tracing::debug!(host = %hop.host, port = hop.port, why, "MSRP next hop unreachable");
            finish(&shared, conn).await;
        }
    }
}

/// How long a closed connection's writer may take to write what was queued.
const LINGER: Duration = Duration::from_secs(5);

/// Read buffer growth: at least this much room before each read.
const READ_CHUNK: usize = 64 * 1024;

async fn read_loop<A, R>(shared: &Arc<Shared<A>>, conn: ConnId, mut rd: R, stop: &CancellationToken)
where
    A: AuthBackend,
    R: AsyncRead + Unpin,
{
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut dec = Decoder::new(shared.decoder);
    let mut todo = VecDeque::new();
    loop {
        loop {
            let decoded = dec.decode(&mut buf);
            let got = !matches!(decoded, Ok(None));
            if !feed(shared, conn, decoded, &mut todo, stop).await {
                return;
            }
            if !got {
                break;
            }
        }
        // Room for the next read; a frame in progress grows the buffer
        // geometrically (its size is not known in advance: RFC 4975 frames
        // carry no length).
        let want = if dec.is_mid_frame() {
            buf.len().max(READ_CHUNK)
        } else {
            READ_CHUNK
        };
        if buf.capacity() - buf.len() < READ_CHUNK {
            buf.reserve(want);
        }
        let n = tokio::select! {
            r = rd.read_buf(&mut buf) => r,
            _ = stop.cancelled() => return,
        };
        match n {
            Ok(0) => {
                if let Err(e) = dec.decode_eof(&mut buf) {
                    tracing::debug!(conn = conn.get(), error = %e, "MSRP connection closed mid-frame");
                }
                return;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(conn = conn.get(), error = %e, "MSRP read failed");
                return;
            }
        }
    }
}

/// The reader of a WebSocket connection: each message is one frame (RFC
/// 7977 §5.1: "Each MSRP chunk MUST be carried within a single WebSocket
/// message, and a WebSocket message MUST NOT contain more than one MSRP
/// chunk"). A message holding part of a frame, or more than one, breaks
/// the subprotocol (§4.1): the connection closes.
async fn read_messages<A, S>(
    shared: &Arc<Shared<A>>,
    conn: ConnId,
    mut incoming: S,
    stop: &CancellationToken,
) where
    A: AuthBackend,
    S: Stream<Item = Bytes> + Unpin,
{
    let mut dec = Decoder::new(shared.decoder);
    let mut todo = VecDeque::new();
    loop {
        let msg = tokio::select! {
            m = incoming.next() => m,
            _ = stop.cancelled() => return,
        };
        let Some(msg) = msg else {
            return;
        };
        // Each message on its own: nothing carries over from the last one.
        dec.reset();
        let mut buf = BytesMut::from(msg);
        // At the message's end a partial frame is an error that closes
        // (Truncated), as at the end of a TCP stream.
        let decoded = dec.decode_eof(&mut buf);
        if matches!(decoded, Ok(Some(_))) && !buf.is_empty() {
            tracing::debug!(
                conn = conn.get(),
                "more than one MSRP chunk in a WebSocket message, closing"
            );
            return;
        }
        if matches!(decoded, Ok(None)) {
            // An empty message: nothing to do.
            continue;
        }
        if !feed(shared, conn, decoded, &mut todo, stop).await {
            return;
        }
    }
}

/// One decode result into the core, then whatever it answered out onto the
/// connections. False when the reader must stop: the frame was beyond
/// repair (the Close is queued behind any answer) or the server stops.
async fn feed<A: AuthBackend>(
    shared: &Arc<Shared<A>>,
    conn: ConnId,
    decoded: Result<Option<Frame>, msrp::ParseError>,
    todo: &mut VecDeque<Todo>,
    stop: &CancellationToken,
) -> bool {
    let closing = matches!(&decoded, Err(e) if e.must_close());
    {
        let mut core = lock(&shared.core);
        let now = Instant::now();
        match decoded {
            Ok(Some(frame)) => core.relay.handle_frame(conn, frame, now),
            Ok(None) => {}
            Err(e) => core.relay.handle_parse_error(conn, &e, now),
        }
        take(shared, &mut core, todo);
    }
    if !todo.is_empty() && !dispatch(shared, todo, Wait::Yes, stop).await {
        return false;
    }
    !closing
}

/// The writer of a WebSocket connection: each queued frame is one message
/// (RFC 7977 §5.1); its permits go back once the message is written.
async fn write_messages<K>(
    mut sink: K,
    mut rx: mpsc::UnboundedReceiver<Item>,
    budget: Arc<Semaphore>,
    stop: CancellationToken,
) where
    K: Sink<Bytes, Error = std::io::Error> + Unpin,
{
    loop {
        let item = tokio::select! {
            biased;
            it = rx.recv() => it,
            _ = stop.cancelled() => None,
        };
        let Some(Item::Data { parts, permits }) = item else {
            // Close, the connection's end, or shutdown.
            break;
        };
        let ok = tokio::select! {
            r = sink.send(parts.into_message()) => r.is_ok(),
            _ = stop.cancelled() => false,
        };
        budget.add_permits(permits as usize);
        if !ok {
            break;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
    budget.close();
    stop.cancel();
}

/// Largest batch handed to one vectored write.
const BATCH_BYTES: usize = 1024 * 1024;
const BATCH_ITEMS: usize = 128;

async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: mpsc::UnboundedReceiver<Item>,
    budget: Arc<Semaphore>,
    stop: CancellationToken,
) {
    let mut batch: Vec<Item> = Vec::with_capacity(BATCH_ITEMS);
    'run: loop {
        let first = tokio::select! {
            biased;
            it = rx.recv() => it,
            _ = stop.cancelled() => None,
        };
        let Some(first) = first else {
            break;
        };
        batch.push(first);
        let mut bytes = 0;
        while bytes < BATCH_BYTES && batch.len() < BATCH_ITEMS {
            match rx.try_recv() {
                Ok(it) => {
                    if let Item::Data { parts, .. } = &it {
                        bytes += parts.len();
                    }
                    batch.push(it);
                }
                Err(_) => break,
            }
        }
        let close_at = batch.iter().position(|it| matches!(it, Item::Close));
        let data = &batch[..close_at.unwrap_or(batch.len())];
        let ok = tokio::select! {
            r = write_all(&mut wr, data) => r.is_ok(),
            _ = stop.cancelled() => false,
        };
        let released: usize = batch
            .iter()
            .map(|it| match it {
                Item::Data { permits, .. } => *permits as usize,
                Item::Close => 0,
            })
            .sum();
        budget.add_permits(released);
        batch.clear();
        if !ok || close_at.is_some() {
            break 'run;
        }
    }
    let _ = wr.flush().await;
    let _ = tokio::time::timeout(Duration::from_secs(1), wr.shutdown()).await;
    budget.close();
    stop.cancel();
}

/// Writes every piece of `items`, in order, with vectored writes.
async fn write_all<W: AsyncWrite + Unpin>(wr: &mut W, items: &[Item]) -> std::io::Result<()> {
    let mut pieces: Vec<&[u8]> = Vec::with_capacity(items.len() * 3);
    for it in items {
        if let Item::Data { parts, .. } = it {
            pieces.push(&parts.head);
            if let Some(b) = &parts.body {
                pieces.push(b);
            }
            if let Some(t) = &parts.tail {
                pieces.push(t);
            }
        }
    }
    pieces.retain(|p| !p.is_empty());
    let mut first = 0;
    while first < pieces.len() {
        let slices: Vec<IoSlice<'_>> = pieces[first..]
            .iter()
            .take(64)
            .map(|p| IoSlice::new(p))
            .collect();
        let mut n = wr.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while n > 0 && first < pieces.len() {
            let p = pieces[first];
            if n >= p.len() {
                n -= p.len();
                first += 1;
            } else {
                pieces[first] = &p[n..];
                n = 0;
            }
        }
    }
    wr.flush().await
}

/// Runs the core's timers: transaction timeouts, probation, token expiry.
async fn timer_loop<A: AuthBackend>(shared: Arc<Shared<A>>) {
    let never = CancellationToken::new();
    let mut todo = VecDeque::new();
    loop {
        let next = lock(&shared.core).relay.poll_timeout();
        // Timers are checked at least every second (new ones may be earlier
        // than what was due when this slept).
        let cap = tokio::time::Instant::now() + Duration::from_secs(1);
        let at = next
            .map(|t| tokio::time::Instant::from_std(t).min(cap))
            .unwrap_or(cap);
        tokio::select! {
            _ = tokio::time::sleep_until(at) => {}
            _ = shared.shutdown.cancelled() => return,
        }
        {
            let mut core = lock(&shared.core);
            core.relay.handle_timeout(Instant::now());
            take(&shared, &mut core, &mut todo);
        }
        dispatch(&shared, &mut todo, Wait::No, &never).await;
    }
}
