//! SIP over TCP and TLS (RFC 3261 §18): the accept loop, outbound connects,
//! and the per-connection reader (stream framing, §18.3) and writer (a
//! bounded queue the driver fills without waiting).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use sip_msg::{Frame, StreamDecoder};
use sip_proto::{FlowId, Peer, TransactionKey, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::error::NetError;
use crate::flow::{ConnGuard, FlowEntry, Outgoing};
use crate::inbound::{Activity, Event, Shared, Verdict, refuse, vet};
use crate::stats::NetStats;

/// Read granularity; the decoder caps the buffer at `max_message_size`.
const READ_CHUNK: usize = 16 * 1024;
/// After answering a framing error we stop reading SIP but keep draining the
/// socket this long, so the close is a FIN after our answer and not an RST
/// that could destroy it in the peer's receive buffer.
const LINGER: Duration = Duration::from_secs(2);

/// After the peer half-closes (EOF on read), how long the write side stays
/// registered once it has gone quiet: requests read before the EOF are still
/// being answered by the TU (RFC 3261 §18.3 ties a response to the connection
/// its request came on). Bounded overall by [`HALF_CLOSE_MAX`].
const HALF_CLOSE_QUIET: Duration = Duration::from_secs(1);
/// Longest a half-closed connection is kept for answers: a non-INVITE
/// transaction's lifetime with the default T1 (64 × T1, Timer F).
const HALF_CLOSE_MAX: Duration = Duration::from_secs(32);

/// Why the read side of a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadEnd {
    /// Close now (error, idle, kill, stop).
    Close,
    /// A framing error was answered: linger so the answer is read.
    Linger,
    /// The peer sent EOF after whole frames: keep answering them.
    HalfClosed,
}

/// Accepts TCP (or TLS, with `tls`) connections until draining starts.
pub(crate) async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    transport: Transport,
    tls: Option<TlsAcceptor>,
) {
    let local = listener.local_addr().ok();
    loop {
        let (sock, remote) = tokio::select! {
            _ = shared.stop_accept.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(%transport, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(guard) = shared.limit.try_acquire() else {
            // DESIGN.md rule 11: beyond max_connections, close at once.
            tracing::debug!(%transport, %remote, "connection limit reached, closing");
            drop(sock);
            continue;
        };
        let _ = sock.set_nodelay(true);
        let sh = Arc::clone(&shared);
        let tls = tls.clone();
        shared.tracker.spawn(async move {
            match tls {
                None => serve_inbound(sh, sock, transport, remote, guard).await,
                Some(acceptor) => {
                    match tokio::time::timeout(sh.connect_timeout, acceptor.accept(sock)).await {
                        Ok(Ok(s)) => serve_inbound(sh, s, transport, remote, guard).await,
                        Ok(Err(e)) => tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    tracing::info!(%transport, local = ?local, "SIP listener stopped");
}

/// Registers an accepted connection as a flow and runs it.
async fn serve_inbound<S>(
    shared: Arc<Shared>,
    stream: S,
    transport: Transport,
    remote: SocketAddr,
    guard: ConnGuard,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
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
    tracing::debug!(%transport, %remote, flow = flow.0, "connection open");
    run_stream(
        shared,
        stream,
        Peer::new(transport, remote, flow),
        tx,
        rx,
        kill,
    )
    .await;
    drop(guard);
}

/// Opens a connection to `remote` (client side) and registers it as a new
/// flow at once, so messages can be queued while it connects. Messages with a
/// transaction that cannot be delivered (connect refused, handshake failed)
/// come back as transport errors (RFC 3261 §18.4).
pub(crate) fn open_flow(
    shared: &Arc<Shared>,
    transport: Transport,
    remote: SocketAddr,
) -> Result<FlowId, NetError> {
    let tls = match transport {
        Transport::Tcp => None,
        Transport::Tls => Some(
            shared
                .tls_connector
                .clone()
                .ok_or(NetError::TlsMissing(Transport::Tls))?,
        ),
        // UDP has no connections; WebSocket connections are opened by the
        // client only (RFC 7118 §5).
        other => return Err(NetError::NoTransport(other)),
    };
    let guard = shared
        .limit
        .try_acquire()
        .ok_or(NetError::TooManyConnections)?;
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
    let sh = Arc::clone(shared);
    let peer = Peer::new(transport, remote, flow);
    shared.tracker.spawn(async move {
        let connect = async {
            let s = TcpStream::connect(remote).await?;
            let _ = s.set_nodelay(true);
            Ok::<_, std::io::Error>(s)
        };
        let connect = async {
            tokio::select! {
                r = tokio::time::timeout(sh.connect_timeout, connect) => r,
                _ = sh.stop_all.cancelled() => Ok(Err(std::io::Error::other("server stopping"))),
            }
        };
        let failed = match connect.await {
            Ok(Ok(sock)) => match tls {
                None => {
                    tracing::debug!(%transport, %remote, flow = flow.0, "connected");
                    run_stream(Arc::clone(&sh), sock, peer, tx, rx, kill).await;
                    None
                }
                Some(connector) => {
                    let name = rustls::pki_types::ServerName::IpAddress(remote.ip().into());
                    match tokio::time::timeout(sh.connect_timeout, connector.connect(name, sock))
                        .await
                    {
                        Ok(Ok(s)) => {
                            tracing::debug!(%transport, %remote, flow = flow.0, "connected");
                            run_stream(Arc::clone(&sh), s, peer, tx, rx, kill).await;
                            None
                        }
                        Ok(Err(e)) => Some((e.to_string(), tx, rx)),
                        Err(_) => Some(("TLS handshake timed out".to_owned(), tx, rx)),
                    }
                }
            },
            Ok(Err(e)) => Some((e.to_string(), tx, rx)),
            Err(_) => Some(("connect timed out".to_owned(), tx, rx)),
        };
        if let Some((why, tx, mut rx)) = failed {
            tracing::warn!(%transport, %remote, error = %why, "outbound connection failed");
            sh.flows.remove(flow);
            drop(tx);
            let keys = fail_queued(&sh, &mut rx, Vec::new());
            if !keys.is_empty() {
                sh.emit(Event::SendFailed { keys }).await;
            }
            sh.emit(Event::FlowClosed { peer }).await;
        }
        drop(guard);
    });
    Ok(flow)
}

/// Runs one registered connection until it closes: reader here, writer in
/// its own task. Unregisters the flow and tells the driver at the end.
async fn run_stream<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: Peer,
    tx: mpsc::Sender<Outgoing>,
    rx: mpsc::Receiver<Outgoing>,
    kill: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, wr) = tokio::io::split(stream);
    let activity = Activity::new();
    let writer = shared.tracker.spawn(write_loop(
        Arc::clone(&shared),
        wr,
        rx,
        kill.clone(),
        Arc::clone(&activity),
    ));
    let end = read_loop(&shared, &mut rd, peer, &tx, &kill, &activity).await;
    if end != ReadEnd::Close {
        // The flow stays registered while the TU answers what was read
        // (after a half-close, or before lingering on a framing error).
        let deadline = tokio::time::Instant::now() + HALF_CLOSE_MAX;
        loop {
            let quiet_at = activity.idle_at(HALF_CLOSE_QUIET).min(deadline);
            tokio::select! {
                _ = kill.cancelled() => break,
                _ = shared.stop_all.cancelled() => break,
                _ = tokio::time::sleep_until(quiet_at) => {
                    let now = tokio::time::Instant::now();
                    if now >= deadline || activity.idle_at(HALF_CLOSE_QUIET) <= now {
                        break;
                    }
                }
            }
        }
    }
    let linger = end == ReadEnd::Linger;
    // No new messages for this flow; what is queued is still written (the
    // writer ends when the last sender is gone), then the write side closes.
    shared.flows.remove(peer.flow);
    drop(tx);
    if linger && !kill.is_cancelled() {
        let drain = async {
            let mut sink = [0u8; 4096];
            while matches!(rd.read(&mut sink).await, Ok(n) if n > 0) {}
        };
        tokio::select! {
            _ = tokio::time::timeout(LINGER, drain) => {}
            _ = shared.stop_all.cancelled() => {}
        }
    }
    let _ = writer.await;
    tracing::debug!(transport = %peer.transport, remote = %peer.remote, flow = peer.flow.0, "connection closed");
    shared.emit(Event::FlowClosed { peer }).await;
}

/// Reads and frames until EOF, error, idle timeout, kill or stop, and says
/// how the connection should end.
async fn read_loop<R>(
    shared: &Shared,
    rd: &mut R,
    peer: Peer,
    tx: &mpsc::Sender<Outgoing>,
    kill: &CancellationToken,
    activity: &Activity,
) -> ReadEnd
where
    R: AsyncRead + Unpin,
{
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut decoder = StreamDecoder::new(shared.max_message_size);
    loop {
        loop {
            match decoder.decode(&mut buf) {
                Ok(None) => break,
                Ok(Some(frame)) => {
                    if !on_frame(shared, frame, peer, tx, kill).await {
                        return ReadEnd::Close;
                    }
                }
                Err(e) => {
                    // §18.3: the stream cannot be framed any more (too large:
                    // 513, §21.5.14; no or bad Content-Length: 400). Answer if
                    // the header section is readable, then close.
                    tracing::debug!(remote = %peer.remote, error = %e, "stream framing lost");
                    if let Verdict::Answer(a) = refuse(&buf, &e, peer.remote, &shared.stats) {
                        NetStats::inc(&shared.stats.answered_400);
                        queue(shared, tx, kill, Outgoing::new(a.bytes, None));
                    }
                    return ReadEnd::Linger;
                }
            }
        }
        if buf.capacity() - buf.len() < READ_CHUNK / 2 {
            buf.reserve(READ_CHUNK);
        }
        let idle_at = activity.idle_at(shared.idle_timeout);
        tokio::select! {
            biased;
            _ = kill.cancelled() => return ReadEnd::Close,
            _ = shared.stop_all.cancelled() => return ReadEnd::Close,
            _ = tokio::time::sleep_until(idle_at) => {
                // The writer may have touched the activity meanwhile.
                if activity.idle_at(shared.idle_timeout) <= tokio::time::Instant::now() {
                    tracing::debug!(remote = %peer.remote, flow = peer.flow.0, "idle timeout");
                    NetStats::inc(&shared.stats.connections_idle_closed);
                    return ReadEnd::Close;
                }
            }
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) => {
                    if !buf.is_empty() {
                        // House style rule 3: EOF inside a frame is its own error.
                        // The partial frame is dropped; frames read before it
                        // are still answered.
                        tracing::debug!(remote = %peer.remote, pending = buf.len(), "EOF inside a message");
                    }
                    return ReadEnd::HalfClosed;
                }
                Ok(_) => activity.touch(),
                Err(e) => {
                    tracing::debug!(remote = %peer.remote, error = %e, "read failed");
                    return ReadEnd::Close;
                }
            },
        }
    }
}

/// One frame from the decoder. `false`: close the connection.
async fn on_frame(
    shared: &Shared,
    frame: Frame,
    peer: Peer,
    tx: &mpsc::Sender<Outgoing>,
    kill: &CancellationToken,
) -> bool {
    let verdict = match frame {
        Frame::Ping => {
            // RFC 5626 §3.5.1: a double CRLF is answered with a single CRLF.
            NetStats::inc(&shared.stats.keepalives);
            return queue(shared, tx, kill, Outgoing::pong());
        }
        Frame::Pong => return true,
        Frame::Message(m) => vet(Ok(m), &[], peer.remote, &shared.stats),
        // The frame's length was clear, so the stream stays in step: answer
        // and keep the connection.
        Frame::Invalid { error, raw } => refuse(&raw, &error, peer.remote, &shared.stats),
    };
    deliver(shared, verdict, peer, tx, kill).await
}

/// Carries out a [`Verdict`] for a connection. `false`: close it.
pub(crate) async fn deliver(
    shared: &Shared,
    verdict: Verdict,
    peer: Peer,
    tx: &mpsc::Sender<Outgoing>,
    kill: &CancellationToken,
) -> bool {
    match verdict {
        Verdict::Deliver(msg) => {
            shared
                .emit(Event::Received {
                    msg,
                    peer,
                    asked: false,
                })
                .await
        }
        Verdict::Answer(a) => {
            NetStats::inc(&shared.stats.answered_400);
            queue(shared, tx, kill, Outgoing::new(a.bytes, None))
        }
        Verdict::Drop => true,
    }
}

/// Queues on this connection's writer without waiting; a full queue drops
/// the connection. `false`: close it.
pub(crate) fn queue(
    shared: &Shared,
    tx: &mpsc::Sender<Outgoing>,
    kill: &CancellationToken,
    out: Outgoing,
) -> bool {
    match tx.try_send(out) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            NetStats::inc(&shared.stats.queue_overflows);
            kill.cancel();
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

/// Writes queued messages in order until every sender is gone (then closes
/// the write side) or the connection is killed or a write fails (then
/// reports what was not written).
async fn write_loop<W>(
    shared: Arc<Shared>,
    mut wr: W,
    mut rx: mpsc::Receiver<Outgoing>,
    kill: CancellationToken,
    activity: Arc<Activity>,
) where
    W: AsyncWrite + Unpin,
{
    let limit = shared.write_timeout();
    let mut failed = Vec::new();
    loop {
        let out = tokio::select! {
            biased;
            _ = kill.cancelled() => break,
            o = rx.recv() => match o {
                Some(o) => o,
                None => {
                    let _ = tokio::time::timeout(limit, wr.shutdown()).await;
                    return;
                }
            },
        };
        let write = async {
            wr.write_all(&out.bytes).await?;
            wr.flush().await
        };
        let r = tokio::time::timeout(limit, write).await;
        if !account_write(&shared, r, &out, &activity, &kill, &mut failed) {
            break;
        }
    }
    let keys = fail_queued(&shared, &mut rx, failed);
    if !keys.is_empty() {
        shared.emit(Event::SendFailed { keys }).await;
    }
}

/// Accounts for one write of `out` by a connection's writer (TCP, TLS or
/// WebSocket): activity and counters on success; on failure or timeout the
/// connection is killed and the transaction recorded. `false`: stop writing.
pub(crate) fn account_write<E: std::fmt::Display>(
    shared: &Shared,
    result: Result<Result<(), E>, tokio::time::error::Elapsed>,
    out: &Outgoing,
    activity: &Activity,
    kill: &CancellationToken,
    failed: &mut Vec<TransactionKey>,
) -> bool {
    match result {
        Ok(Ok(())) => {
            activity.touch();
            if !out.is_keepalive() {
                NetStats::inc(&shared.stats.sent);
            }
            return true;
        }
        Ok(Err(e)) => tracing::debug!(error = %e, "write failed"),
        Err(_) => tracing::debug!("write timed out"),
    }
    NetStats::inc(&shared.stats.send_failures);
    failed.extend(out.key);
    kill.cancel();
    false
}

/// Closes a writer queue and collects the transactions of what was still in
/// it.
pub(crate) fn fail_queued(
    shared: &Shared,
    rx: &mut mpsc::Receiver<Outgoing>,
    mut keys: Vec<TransactionKey>,
) -> Vec<TransactionKey> {
    rx.close();
    while let Ok(o) = rx.try_recv() {
        NetStats::inc(&shared.stats.send_failures);
        keys.extend(o.key);
    }
    keys
}
