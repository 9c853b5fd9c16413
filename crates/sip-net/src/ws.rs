//! SIP over WebSocket (RFC 7118) on `ws:` and `wss:` listeners: an axum HTTP
//! server whose fallback route upgrades any path offering the `sip`
//! subprotocol. Each WebSocket connection is a flow; each text or binary
//! WebSocket message carries one SIP message (§5.2), framed like a datagram
//! (Content-Length optional). WebSocket Ping/Pong is answered by the
//! WebSocket layer.
//!
//! Other HTTP routes (XCAP under `/xcap-root`, ...) come in through
//! [`NetConfig::http_routes`](crate::NetConfig::http_routes) and take
//! precedence; SIP is the fallback.
//!
//! Other WebSocket subprotocols (MSRP, RFC 7977) come in through
//! [`NetConfig::ws_subprotocols`](crate::NetConfig::ws_subprotocols): an
//! upgrade offering one of them (on any path, like `sip`) is handed over
//! as a [`WsConnection`], a stream of whole WebSocket messages and a sink
//! taking one message per item; sip-net neither parses nor counts what goes
//! over it (its connection slot and idle rule still apply).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use bytes::Bytes;
use futures_util::stream::{BoxStream, SplitSink, SplitStream};
use futures_util::{Sink, SinkExt, StreamExt};
use sip_msg::{Datagram, parse_datagram};
use sip_proto::{Peer, Transport};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::flow::{ConnGuard, FlowEntry, Outgoing};
use crate::inbound::{Activity, Event, Shared, vet};
use crate::stats::NetStats;
use crate::stream::{account_write, deliver, fail_queued};

/// RFC 7118 §4: the WebSocket subprotocol name.
const SUBPROTOCOL: &str = "sip";

/// The messages received on a [`WsConnection`], in order: the payload of
/// every text or binary WebSocket message (text is handed over as its bytes).
/// Ping and Pong are answered and skipped; the stream ends at a Close, a
/// read error (logged) or a message over the subprotocol's size cap.
pub type WsIncoming = BoxStream<'static, Bytes>;

/// Sends on a [`WsConnection`]: each item is one WebSocket message (text
/// when it is UTF-8, binary otherwise); closing the sink sends a Close.
pub type WsOutgoing = Pin<Box<dyn Sink<Bytes, Error = io::Error> + Send>>;

/// An upgraded WebSocket connection of another subprotocol (see
/// [`WsSubprotocol`]).
pub struct WsConnection {
    /// What the client sends, one item per WebSocket message.
    pub incoming: WsIncoming,
    /// What goes to the client, one WebSocket message per item.
    pub outgoing: WsOutgoing,
    /// The client's address.
    pub remote: SocketAddr,
    /// The address the client connected to.
    pub local: SocketAddr,
    /// The connection is TLS (`wss:` / `https:` listener).
    pub secure: bool,
}

impl std::fmt::Debug for WsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConnection")
            .field("remote", &self.remote)
            .field("local", &self.local)
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

/// A WebSocket subprotocol other than `sip` served on the HTTP listeners
/// (RFC 6455 §1.9): an upgrade offering `name` is accepted (101 with
/// `Sec-WebSocket-Protocol: name`) and the connection handed to `accept`,
/// which must not block (spawn what runs the connection). `sip` wins when a
/// client offers both.
#[derive(Clone)]
pub struct WsSubprotocol {
    /// The subprotocol name (`msrp`, RFC 7977 §4.1).
    pub name: String,
    /// Largest WebSocket message (and frame) accepted from the client; past
    /// it the connection fails.
    pub max_message_size: usize,
    /// Takes each upgraded connection.
    pub accept: Arc<dyn Fn(WsConnection) + Send + Sync>,
}

impl std::fmt::Debug for WsSubprotocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsSubprotocol")
            .field("name", &self.name)
            .field("max_message_size", &self.max_message_size)
            .finish_non_exhaustive()
    }
}

/// Serves HTTP (and upgrades to SIP over WebSocket) on `listener` until
/// draining starts; upgraded connections then live on until the server
/// stops.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    transport: Transport,
    tls: Option<TlsAcceptor>,
    routes: Option<Router>,
    others: Vec<WsSubprotocol>,
) {
    let local = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(%transport, error = %e, "listener has no local address");
            return;
        }
    };
    let (tx, rx) = mpsc::channel(64);
    shared.tracker.spawn(accept_loop(
        Arc::clone(&shared),
        listener,
        transport,
        tls,
        tx,
        local,
    ));
    let router = sip_router(Arc::clone(&shared), transport, routes, others);
    let served = axum::serve(
        ChannelListener { rx, local },
        router.into_make_service_with_connect_info::<ConnAddrs>(),
    )
    .with_graceful_shutdown(shared.stop_accept.clone().cancelled_owned())
    .await;
    if let Err(e) = served {
        tracing::warn!(%transport, %local, error = %e, "HTTP server failed");
    }
    tracing::info!(%transport, %local, "SIP listener stopped");
}

/// What an HTTP route learns about the listener a request came in on (an
/// axum request extension): whether the connection is TLS, so that, for
/// example, Basic authentication is accepted only over TLS (RFC 4825 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpListener {
    /// The connection is TLS (a `wss:` / `https:` listener).
    pub secure: bool,
}

/// `routes` (or an empty router) with the SIP upgrade (and `others`) as its
/// fallback.
fn sip_router(
    shared: Arc<Shared>,
    transport: Transport,
    routes: Option<Router>,
    others: Vec<WsSubprotocol>,
) -> Router {
    let others: Arc<[WsSubprotocol]> = others.into();
    let handler = move |ConnectInfo(addrs): ConnectInfo<ConnAddrs>,
                        ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>| {
        let shared = Arc::clone(&shared);
        let others = Arc::clone(&others);
        async move { upgrade(shared, transport, addrs, &others, ws) }
    };
    routes
        .unwrap_or_default()
        .layer(axum::Extension(HttpListener {
            secure: transport == Transport::Wss,
        }))
        .fallback(handler)
}

fn upgrade(
    shared: Arc<Shared>,
    transport: Transport,
    addrs: ConnAddrs,
    others: &[WsSubprotocol],
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let remote = addrs.remote;
    let Ok(ws) = ws else {
        // Plain HTTP on a path nothing else serves.
        return (
            StatusCode::UPGRADE_REQUIRED,
            [
                (header::UPGRADE, HeaderValue::from_static("websocket")),
                (header::CONNECTION, HeaderValue::from_static("Upgrade")),
            ],
            "SIP over WebSocket (RFC 7118): upgrade with Sec-WebSocket-Protocol: sip\n",
        )
            .into_response();
    };
    // `sip` first: it wins when a client offers several we serve.
    let names =
        std::iter::once(SUBPROTOCOL.to_owned()).chain(others.iter().map(|o| o.name.clone()));
    let ws = ws.protocols(names);
    let other = ws
        .selected_protocol()
        .and_then(|p| others.iter().find(|o| p.as_bytes() == o.name.as_bytes()));
    if let Some(other) = other {
        let max = other.max_message_size;
        let accept = Arc::clone(&other.accept);
        let secure = transport == Transport::Wss;
        return ws
            .max_message_size(max)
            .max_frame_size(max)
            .on_failed_upgrade(
                move |e| tracing::debug!(%remote, error = %e, "WebSocket upgrade failed"),
            )
            .on_upgrade(move |socket| async move {
                let (sink, stream) = socket.split();
                accept(WsConnection {
                    incoming: incoming(stream, remote),
                    outgoing: outgoing(sink),
                    remote,
                    local: addrs.local,
                    secure,
                });
            });
    }
    if ws.selected_protocol().is_none() {
        // RFC 7118 §4.1: the client MUST offer "sip"; without it there is no
        // agreement on what the messages are.
        return (
            StatusCode::BAD_REQUEST,
            "WebSocket subprotocol \"sip\" required (RFC 7118)\n",
        )
            .into_response();
    }
    let max = shared.max_message_size;
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(
            move |e| tracing::debug!(%remote, error = %e, "WebSocket upgrade failed"),
        )
        .on_upgrade(move |socket| run_ws(shared, socket, transport, remote))
}

/// The payloads of the text and binary messages of `stream`, until a Close
/// or an error.
fn incoming(stream: SplitStream<WebSocket>, remote: SocketAddr) -> WsIncoming {
    futures_util::stream::unfold(stream, move |mut stream| async move {
        loop {
            match stream.next().await? {
                Ok(Message::Text(t)) => return Some((Bytes::from(t), stream)),
                Ok(Message::Binary(b)) => return Some((b, stream)),
                Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                Ok(Message::Close(_)) => return None,
                Err(e) => {
                    // Includes messages over the subprotocol's size cap.
                    tracing::debug!(%remote, error = %e, "WebSocket read failed");
                    return None;
                }
            }
        }
    })
    .boxed()
}

/// A sink of payloads over `sink`: text messages for UTF-8, binary ones
/// otherwise (as for SIP, RFC 7118 §5.2; a browser then gets text as a
/// string).
fn outgoing(sink: SplitSink<WebSocket, Message>) -> WsOutgoing {
    Box::pin(
        sink.sink_map_err(io::Error::other)
            .with(|b: Bytes| std::future::ready(Ok::<_, io::Error>(ws_message(b)))),
    )
}

fn ws_message(b: Bytes) -> Message {
    match Utf8Bytes::try_from(b.clone()) {
        Ok(t) => Message::Text(t),
        Err(_) => Message::Binary(b),
    }
}

/// One SIP-over-WebSocket connection, registered as a flow.
async fn run_ws(shared: Arc<Shared>, socket: WebSocket, transport: Transport, remote: SocketAddr) {
    let flow = shared.flows.next_id();
    let (tx, rx) = mpsc::channel(shared.connection_queue);
    let kill = CancellationToken::new();
    shared.flows.insert(
        flow,
        FlowEntry {
            transport,
            remote,
            tx: tx.clone(),
            kill: kill.clone(),
        },
    );
    let peer = Peer::new(transport, remote, flow);
    tracing::debug!(%transport, %remote, flow = flow.0, "WebSocket connection open");
    let (sink, mut stream) = socket.split();
    let activity = Activity::new();
    let writer = shared.tracker.spawn(write_loop(
        Arc::clone(&shared),
        sink,
        rx,
        kill.clone(),
        Arc::clone(&activity),
    ));
    loop {
        let idle_at = activity.idle_at(shared.idle_timeout);
        let msg = tokio::select! {
            biased;
            _ = kill.cancelled() => break,
            _ = shared.stop_all.cancelled() => break,
            _ = tokio::time::sleep_until(idle_at) => {
                if activity.idle_at(shared.idle_timeout) <= tokio::time::Instant::now() {
                    tracing::debug!(%remote, flow = flow.0, "idle timeout");
                    NetStats::inc(&shared.stats.connections_idle_closed);
                    break;
                }
                continue;
            }
            next = stream.next() => match next {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    // Includes messages over max_message_size.
                    tracing::debug!(%remote, error = %e, "WebSocket read failed");
                    break;
                }
                None => break,
            },
        };
        activity.touch();
        let data: Bytes = match msg {
            Message::Text(t) => t.into(),
            Message::Binary(b) => b,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        // RFC 7118 §5.2: one SIP message per WebSocket message; the
        // WebSocket frame delimits it, so Content-Length is optional.
        let verdict = match parse_datagram(data.clone()) {
            Ok(Datagram::KeepAlive) => {
                NetStats::inc(&shared.stats.keepalives);
                continue;
            }
            Ok(Datagram::Message(m)) => vet(Ok(m), &data, remote, &shared.stats),
            Err(e) => vet(Err(e), &data, remote, &shared.stats),
        };
        if !deliver(&shared, verdict, peer, &tx, &kill).await {
            break;
        }
    }
    shared.flows.remove(flow);
    drop(tx);
    let _ = writer.await;
    tracing::debug!(%transport, %remote, flow = flow.0, "WebSocket connection closed");
    shared.emit(Event::FlowClosed { peer }).await;
}

async fn write_loop(
    shared: Arc<Shared>,
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Outgoing>,
    kill: CancellationToken,
    activity: Arc<Activity>,
) {
    let limit = shared.write_timeout();
    let mut failed = Vec::new();
    loop {
        let out = tokio::select! {
            biased;
            _ = kill.cancelled() => break,
            o = rx.recv() => match o {
                Some(o) => o,
                None => {
                    let _ = tokio::time::timeout(limit, sink.close()).await;
                    return;
                }
            },
        };
        // RFC 7118 §5.2: text frames for UTF-8 messages, binary otherwise.
        let msg = match Utf8Bytes::try_from(out.bytes.clone()) {
            Ok(t) => Message::Text(t),
            Err(_) => Message::Binary(out.bytes.clone()),
        };
        let r = tokio::time::timeout(limit, sink.send(msg)).await;
        if !account_write(&shared, r, &out, &activity, &kill, &mut failed) {
            break;
        }
    }
    let keys = fail_queued(&shared, &mut rx, failed);
    if !keys.is_empty() {
        shared.emit(Event::SendFailed { keys }).await;
    }
}

/// Accepts TCP connections within `max_connections`, does the TLS handshake
/// for `wss:` (in its own task, so one slow client stalls nobody), and hands
/// the streams to the HTTP server.
async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    transport: Transport,
    tls: Option<TlsAcceptor>,
    to_http: mpsc::Sender<(HttpIo, SocketAddr)>,
    local: SocketAddr,
) {
    loop {
        let (sock, remote) = tokio::select! {
            _ = shared.stop_accept.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(%transport, error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(guard) = shared.limit.try_acquire() else {
            tracing::debug!(%transport, %remote, "connection limit reached, closing");
            continue;
        };
        let _ = sock.set_nodelay(true);
        let local = sock.local_addr().unwrap_or(local);
        match &tls {
            None => {
                let io = HttpIo::new(IoKind::Plain(sock), guard, shared.idle_timeout, local);
                if to_http.send((io, remote)).await.is_err() {
                    break;
                }
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let to_http = to_http.clone();
                let limit = shared.connect_timeout;
                let idle_for = shared.idle_timeout;
                shared.tracker.spawn(async move {
                    match tokio::time::timeout(limit, acceptor.accept(sock)).await {
                        Ok(Ok(s)) => {
                            let io = HttpIo::new(IoKind::Tls(Box::new(s)), guard, idle_for, local);
                            let _ = to_http.send((io, remote)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
}

/// Accepted (and, for `wss:`, decrypted) connections, fed to axum.
struct ChannelListener {
    rx: mpsc::Receiver<(HttpIo, SocketAddr)>,
    local: SocketAddr,
}

impl Listener for ChannelListener {
    type Io = HttpIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (HttpIo, SocketAddr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The accept loop ended (draining): nothing more will come; axum
            // stops on the graceful-shutdown signal.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// The client's address and the one it connected to, for handlers
/// (`ConnectInfo<ConnAddrs>`).
#[derive(Debug, Clone, Copy)]
struct ConnAddrs {
    remote: SocketAddr,
    local: SocketAddr,
}

impl Connected<IncomingStream<'_, ChannelListener>> for ConnAddrs {
    fn connect_info(stream: IncomingStream<'_, ChannelListener>) -> Self {
        ConnAddrs {
            remote: *stream.remote_addr(),
            local: stream.io().local,
        }
    }
}

/// A plain or TLS connection holding its `max_connections` slot; the slot is
/// released when hyper (or, after an upgrade, the WebSocket) drops it.
struct HttpIo {
    inner: IoKind,
    _guard: ConnGuard,
    /// Closes a connection on which nothing was read or written for
    /// `idle_for`: an HTTP client that never sends its request (or never
    /// upgrades) must not hold a connection slot for ever. Upgraded SIP
    /// connections have their own idle rule on top, with the same duration.
    idle: Pin<Box<tokio::time::Sleep>>,
    idle_for: std::time::Duration,
    /// The address the client connected to.
    local: SocketAddr,
}

impl HttpIo {
    fn new(
        inner: IoKind,
        guard: ConnGuard,
        idle_for: std::time::Duration,
        local: SocketAddr,
    ) -> HttpIo {
        HttpIo {
            inner,
            _guard: guard,
            idle: Box::pin(tokio::time::sleep(idle_for)),
            idle_for,
            local,
        }
    }

    fn touch(&mut self) {
        let at = tokio::time::Instant::now() + self.idle_for;
        self.idle.as_mut().reset(at);
    }
}

enum IoKind {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl AsyncRead for HttpIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = match &mut this.inner {
            IoKind::Plain(s) => Pin::new(s).poll_read(cx, buf),
            IoKind::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        };
        match r {
            Poll::Ready(r) => {
                this.touch();
                Poll::Ready(r)
            }
            Poll::Pending if this.idle.as_mut().poll(cx).is_ready() => Poll::Ready(Err(
                io::Error::new(io::ErrorKind::TimedOut, "HTTP connection idle"),
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for HttpIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = match &mut this.inner {
            IoKind::Plain(s) => Pin::new(s).poll_write(cx, buf),
            IoKind::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        };
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            IoKind::Plain(s) => Pin::new(s).poll_flush(cx),
            IoKind::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            IoKind::Plain(s) => Pin::new(s).poll_shutdown(cx),
            IoKind::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            IoKind::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            IoKind::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.inner {
            IoKind::Plain(s) => s.is_write_vectored(),
            IoKind::Tls(s) => s.is_write_vectored(),
        }
    }
}
