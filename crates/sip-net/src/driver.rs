//! The driver: one task that owns the [`TransactionLayer`], reads the clock,
//! feeds it what the transports received and what the TU (or a
//! [`ServerHandle`]) asked for, and carries out its output — the loop of the
//! sip-proto crate doc, "Driving the transaction layer".

use std::any::Any;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_msg::{HeaderName, Method, SipMessage};
use sip_proto::{
    FlowId, Input, Output, Peer, ResponseTarget, Tag, TransactionKey, TransactionKind,
    TransactionLayer, TransactionState, Transmit, Transport, response_route, stateless_response,
};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::NetError;
use crate::flow::{Outgoing, Queued};
use crate::inbound::{Event, Shared};
use crate::salvage::random_token;
use crate::stats::NetStats;
use crate::stream::open_flow;
use crate::udp::{self, SendQueue};

/// The flow id meaning "no particular flow": in a [`Peer`] given to
/// [`Ctx::send_request`] it lets the driver pick (reuse an open connection to
/// the address, or open one). Never issued to a real flow.
pub const NO_FLOW: FlowId = FlowId(0);

/// RFC 3261 §21.5.4: how long a client should wait after our 503.
const RETRY_AFTER_SECS: &str = "5";

/// The transaction user: what runs on top of the transaction layer (a
/// registrar, a proxy core, a presence agent). Called synchronously from the
/// driver task, one event at a time; it must not block. Slow work goes behind
/// a channel and comes back through a [`ServerHandle`].
pub trait TransactionUser: Send + 'static {
    /// A new server transaction: answer it with [`Ctx::respond`] (now or
    /// later, through a [`ServerHandle`]). Retransmissions never show up here.
    fn on_request(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey, msg: SipMessage, peer: Peer);

    /// Called for each received request (not ACK or CANCEL) before the
    /// transaction layer sees it. A response returned here is sent at once
    /// and no server transaction is created: stateless UAS behaviour (RFC
    /// 3261 §8.2.7). The decision must depend on the request alone (and the
    /// clock), and a retransmission must get an equivalent answer: the same
    /// status and To-tag (a fresh digest nonce is fine: each one is valid on
    /// its own). This runs before the drain and overload checks, so such
    /// requests are still answered while the server drains. `None` (the
    /// default): handle it statefully through [`on_request`](Self::on_request).
    fn answer_statelessly(&mut self, msg: &SipMessage, peer: &Peer) -> Option<SipMessage> {
        let _ = (msg, peer);
        None
    }

    /// [`answer_statelessly`](Self::answer_statelessly) as a shared,
    /// thread-safe function that the UDP receive loops call themselves,
    /// before the driver: a request answered from its own content (an
    /// OPTIONS to the server, a 420, a 483...) then costs no hop to the
    /// driver, and the answers of one read go out in one `sendmmsg`. It
    /// must decide exactly as `answer_statelessly` does (which still
    /// answers what comes over the other transports): a UDP request the
    /// hook declines is not offered to `answer_statelessly` again. Asked
    /// once, when [`SipServer::run`](crate::SipServer::run) starts. `None`
    /// (the default): every UDP request goes to the driver.
    fn stateless_hook(&self) -> Option<StatelessHook> {
        None
    }

    /// A response on one of our client transactions (provisional, final, and
    /// for INVITE every 2xx, RFC 6026).
    fn on_response(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey, msg: SipMessage) {
        let _ = (ctx, key, msg);
    }

    /// Timer B, F (client: act as on a 408, RFC 3261 §8.1.3.1) or H (INVITE
    /// server: no ACK came).
    fn on_timeout(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey) {
        let _ = (ctx, key);
    }

    /// A message of this transaction could not be sent (RFC 3261 §18.4:
    /// connection refused or reset, queue overflow). A client transaction
    /// acts as on a 503 (§8.1.3.1). By default the same as
    /// [`on_timeout`](Self::on_timeout).
    fn on_transport_error(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey) {
        self.on_timeout(ctx, key);
    }

    /// The transaction is gone; its key matches nothing any more.
    fn on_terminated(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey) {
        let _ = (ctx, key);
    }

    /// An ACK outside any transaction (for a 2xx: RFC 3261 §13.3.1.4, RFC 6026).
    fn on_ack(&mut self, ctx: &mut Ctx<'_>, msg: SipMessage, peer: Peer) {
        let _ = (ctx, msg, peer);
    }

    /// A response matching no client transaction (§18.1.2); a stateless proxy
    /// forwards it, anything else drops it.
    fn on_stray_response(&mut self, ctx: &mut Ctx<'_>, msg: SipMessage, peer: Peer) {
        let _ = (ctx, msg, peer);
    }

    /// A connection (TCP, TLS, WS, WSS) closed: its flow is dead (RFC 5626
    /// §4.4: a registrar drops the bindings that used it).
    fn on_flow_closed(&mut self, ctx: &mut Ctx<'_>, peer: Peer) {
        let _ = (ctx, peer);
    }

    /// A message from another task through [`ServerHandle::wake`]: how async
    /// work (a store lookup, an auth check) comes back to the TU with its
    /// result. The TU downcasts it to the type it sent.
    fn on_wake(&mut self, ctx: &mut Ctx<'_>, msg: Box<dyn Any + Send>) {
        let _ = (ctx, msg);
    }
}

/// What the TU can do while it is being called.
pub struct Ctx<'a> {
    now: Instant,
    layer: &'a mut TransactionLayer,
    net: &'a mut Net,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("now", &self.now)
            .field("transactions", &self.layer.len())
            .finish_non_exhaustive()
    }
}

impl Ctx<'_> {
    /// The driver's clock reading for this event.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Answers server transaction `key`. A refusal (unknown transaction, a
    /// second final response, ...) is a TU bug: logged at warn. See
    /// [`try_respond`](Self::try_respond).
    pub fn respond(&mut self, key: TransactionKey, msg: SipMessage) {
        if let Err(e) = self.try_respond(key, msg) {
            tracing::warn!(%key, error = %e, "response refused");
        }
    }

    /// Answers server transaction `key`, saying why not.
    pub fn try_respond(&mut self, key: TransactionKey, msg: SipMessage) -> Result<(), NetError> {
        self.layer
            .handle_input(self.now, Input::SendResponse { key, msg })?;
        Ok(())
    }

    /// Sends a request in a new client transaction (not ACK: see
    /// [`send_stateless`](Self::send_stateless)). Over TCP/TLS/WS/WSS it goes
    /// over `peer.flow` while that is open (this is how requests reach a
    /// registered client, RFC 5626), else over an open connection to
    /// `peer.remote`, else (TCP, TLS) over a new one. For UDP the flow names
    /// the local socket; [`NO_FLOW`] picks one.
    pub fn send_request(
        &mut self,
        msg: SipMessage,
        peer: Peer,
    ) -> Result<TransactionKey, NetError> {
        let peer = self.net.route_peer(peer)?;
        let key = self.layer.send_request(self.now, msg, peer)?;
        self.net.live.insert(key);
        Ok(key)
    }

    /// Gives up client transaction `key` at once, sending nothing (RFC 3261
    /// §9.1: an INVITE still unanswered 64·T1 after its CANCEL; §16.8).
    /// See [`Input::Abandon`]; the TU hears `on_terminated` for it.
    pub fn abandon(&mut self, key: TransactionKey) -> Result<(), NetError> {
        self.layer.handle_input(self.now, Input::Abandon { key })?;
        Ok(())
    }

    /// Inside [`TransactionUser::on_transport_error`]: was the request of
    /// client transaction `key` written to a connection that then closed
    /// before an answer (so it may have arrived), rather than never sent
    /// (connection refused, write failed)? A request that may have arrived
    /// must not be sent again as a new one (§8.2.2.2 merged requests).
    pub fn request_may_have_arrived(&self, key: TransactionKey) -> bool {
        self.net.closed_under.contains(&key)
    }

    /// Sends a message outside any transaction (the ACK for a 2xx, a
    /// stateless response or forward). Failures are logged; see
    /// [`try_send_stateless`](Self::try_send_stateless).
    pub fn send_stateless(&mut self, msg: SipMessage, peer: Peer) {
        if let Err(e) = self.try_send_stateless(msg, peer) {
            tracing::debug!(remote = %peer.remote, error = %e, "stateless send failed");
        }
    }

    /// Sends a message outside any transaction, saying why not.
    pub fn try_send_stateless(&mut self, msg: SipMessage, peer: Peer) -> Result<(), NetError> {
        let peer = self.net.route_peer(peer)?;
        self.layer
            .handle_input(self.now, Input::SendStateless { msg, peer })?;
        Ok(())
    }

    /// Where the server listens: (transport, bound address).
    pub fn local_addrs(&self) -> &[(Transport, SocketAddr)] {
        &self.net.local_addrs
    }

    /// Is the flow open? UDP sockets are always; a connection until it
    /// closes.
    pub fn flow_alive(&self, flow: FlowId) -> bool {
        self.net.flow_alive(flow)
    }

    /// The transaction layer, read-only: `find_cancel_target` (RFC 3261
    /// §9.2), `request(key)`, `state(key)`.
    pub fn layer(&self) -> &TransactionLayer {
        self.layer
    }

    /// The transport counters.
    pub fn stats(&self) -> &NetStats {
        &self.net.shared.stats
    }

    /// Is the server draining (shutdown requested)? New requests are being
    /// answered 503 by the driver; the TU finishes what it has.
    pub fn is_draining(&self) -> bool {
        self.net.draining
    }
}

/// A command for the driver from outside the TU callbacks.
#[derive(Debug)]
pub(crate) enum Command {
    SendRequest {
        msg: SipMessage,
        peer: Peer,
        reply: oneshot::Sender<Result<TransactionKey, NetError>>,
    },
    Respond {
        key: TransactionKey,
        msg: SipMessage,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    SendStateless {
        msg: SipMessage,
        peer: Peer,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Wake(Box<dyn Any + Send>),
}

/// See [`TransactionUser::stateless_hook`]: the response to send for a
/// request (ACK and CANCEL are never passed), or `None` to hand the request
/// to the driver.
pub type StatelessHook = Arc<dyn Fn(&SipMessage) -> Option<SipMessage> + Send + Sync>;

/// Drives the server from other tasks: the same actions as [`Ctx`], queued
/// to the driver (bounded; the calls wait when it is busy). Responses to
/// requests sent this way reach the TU's
/// [`on_response`](TransactionUser::on_response) like any other. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct ServerHandle {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) stats: Arc<NetStats>,
}

impl ServerHandle {
    async fn call<R>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<R, NetError>>) -> Command,
    ) -> Result<R, NetError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)?
    }

    /// [`Ctx::send_request`] from outside.
    pub async fn send_request(
        &self,
        msg: SipMessage,
        peer: Peer,
    ) -> Result<TransactionKey, NetError> {
        self.call(|reply| Command::SendRequest { msg, peer, reply })
            .await
    }

    /// [`Ctx::try_respond`] from outside.
    pub async fn respond(&self, key: TransactionKey, msg: SipMessage) -> Result<(), NetError> {
        self.call(|reply| Command::Respond { key, msg, reply })
            .await
    }

    /// [`Ctx::try_send_stateless`] from outside.
    pub async fn send_stateless(&self, msg: SipMessage, peer: Peer) -> Result<(), NetError> {
        self.call(|reply| Command::SendStateless { msg, peer, reply })
            .await
    }

    /// Calls the TU's [`on_wake`](TransactionUser::on_wake) with `msg`, in
    /// the driver task.
    pub async fn wake<M: Any + Send>(&self, msg: M) -> Result<(), NetError> {
        self.commands
            .send(Command::Wake(Box::new(msg)))
            .await
            .map_err(|_| NetError::Stopped)
    }

    /// The transport counters.
    pub fn stats(&self) -> Arc<NetStats> {
        Arc::clone(&self.stats)
    }
}

/// A UDP listener as the driver sends through it.
#[derive(Debug)]
pub(crate) struct UdpOut {
    pub(crate) flow: FlowId,
    pub(crate) sock: Arc<UdpSocket>,
    pub(crate) local: SocketAddr,
    /// Datagrams produced during this wake-up, sent together at its end.
    pub(crate) queue: SendQueue,
}

/// The driver's side of the transports.
#[derive(Debug)]
pub(crate) struct Net {
    pub(crate) shared: Arc<Shared>,
    pub(crate) udp: Vec<UdpOut>,
    pub(crate) local_addrs: Vec<(Transport, SocketAddr)>,
    pub(crate) draining: bool,
    /// Every transaction not yet terminated, for the drain check.
    pub(crate) live: HashSet<TransactionKey>,
    /// Client transactions failed because their connection closed while
    /// they waited for an answer: their request was written and may have
    /// arrived ([`Ctx::request_may_have_arrived`]). Until they terminate.
    pub(crate) closed_under: HashSet<TransactionKey>,
}

impl Net {
    fn flow_alive(&self, flow: FlowId) -> bool {
        self.udp.iter().any(|u| u.flow == flow) || self.shared.flows.is_open(flow)
    }

    /// The UDP socket for `peer`: the one its flow names, else one of the
    /// same address family, else any.
    fn udp_for(&self, peer: Peer) -> Option<&UdpOut> {
        self.udp.get(self.udp_index(peer)?)
    }

    fn udp_index(&self, peer: Peer) -> Option<usize> {
        self.udp
            .iter()
            .position(|u| u.flow == peer.flow)
            .or_else(|| {
                self.udp
                    .iter()
                    .position(|u| u.local.is_ipv4() == peer.remote.is_ipv4())
            })
            .or_else(|| (!self.udp.is_empty()).then_some(0))
    }

    /// Makes `peer.flow` name something that can carry a message now (see
    /// [`Ctx::send_request`]).
    fn route_peer(&mut self, peer: Peer) -> Result<Peer, NetError> {
        let t = peer.transport;
        if t == Transport::Udp {
            let u = self.udp_for(peer).ok_or(NetError::NoTransport(t))?;
            return Ok(Peer {
                flow: u.flow,
                ..peer
            });
        }
        let flows = &self.shared.flows;
        if flows.describe(peer.flow).is_some_and(|(ft, _)| ft == t) && flows.is_open(peer.flow) {
            return Ok(peer);
        }
        if let Some(flow) = flows.find(t, peer.remote) {
            return Ok(Peer { flow, ..peer });
        }
        match t {
            // RFC 7118 §5: the WebSocket client opens connections, never us.
            Transport::Ws | Transport::Wss => Err(NetError::FlowClosed(peer.flow)),
            _ => {
                let flow = open_flow(&self.shared, t, peer.remote)?;
                Ok(Peer { flow, ..peer })
            }
        }
    }

    /// Puts one [`Transmit`] on the wire, or for UDP in its socket's queue
    /// (sent by [`flush_udp`](Self::flush_udp)). `false`: it failed (the
    /// caller reports a transport error for its transaction).
    fn transmit(&mut self, t: Transmit, layer: &TransactionLayer) -> bool {
        let stats = &self.shared.stats;
        if t.to.transport == Transport::Udp {
            let Some(u) = self.udp_index(t.to).and_then(|i| self.udp.get_mut(i)) else {
                NetStats::inc(&stats.send_failures);
                return false;
            };
            u.queue.push(t.bytes, t.to.remote, t.key);
            return true;
        }
        let out = Outgoing::new(t.bytes, t.key);
        match self.shared.flows.send(t.to.flow, out, stats) {
            Queued::Yes => true,
            Queued::Overflow => {
                NetStats::inc(&stats.send_failures);
                false
            }
            Queued::NoFlow(out) => self.reconnect(t.to, out, layer),
        }
    }

    /// Does a UDP socket have a whole `sendmmsg` batch queued?
    fn udp_batch_ready(&self) -> bool {
        self.udp.iter().any(|u| u.queue.len() >= udp::BATCH)
    }

    /// Sends the queued UDP datagrams (see [`SendQueue::flush`]: a full
    /// socket buffer is loss, the transaction layer retransmits). Returns
    /// the transactions whose datagram failed otherwise.
    fn flush_udp(&mut self) -> Vec<TransactionKey> {
        let mut failed = Vec::new();
        for u in &mut self.udp {
            u.queue.flush(&u.sock, &self.shared.stats, &mut failed);
        }
        failed
    }

    /// The flow is gone. A response goes where §18.2.2 says (the top Via's
    /// `received` and sent-by port) over an open or new connection; a request
    /// to `peer.remote`.
    fn reconnect(&mut self, to: Peer, out: Outgoing, layer: &TransactionLayer) -> bool {
        let stats = &self.shared.stats;
        let target = if out.bytes.starts_with(b"SIP/") {
            response_target(out.key, &out, layer)
        } else {
            Some(to.remote)
        };
        let Some(target) = target else {
            tracing::debug!(
                flow = to.flow.0,
                "connection gone and no address to reconnect to"
            );
            NetStats::inc(&stats.send_failures);
            return false;
        };
        let flow = match self.shared.flows.find(to.transport, target) {
            Some(f) => f,
            None => match open_flow(&self.shared, to.transport, target) {
                Ok(f) => f,
                Err(e) => {
                    tracing::debug!(%target, error = %e, "cannot reconnect");
                    NetStats::inc(&stats.send_failures);
                    return false;
                }
            },
        };
        match self.shared.flows.send(flow, out, stats) {
            Queued::Yes => true,
            _ => {
                NetStats::inc(&stats.send_failures);
                false
            }
        }
    }
}

/// Where a response goes when its connection is gone (RFC 3261 §18.2.2):
/// from the server transaction's request, else from the response itself.
fn response_target(
    key: Option<TransactionKey>,
    out: &Outgoing,
    layer: &TransactionLayer,
) -> Option<SocketAddr> {
    let parsed;
    let msg = match key.and_then(|k| layer.request(k)) {
        Some(req) => req,
        None => {
            parsed = SipMessage::parse(out.bytes.clone()).ok()?;
            &parsed
        }
    };
    match response_route(&msg.via().ok()?).target {
        ResponseTarget::Addr(a) => Some(a),
        ResponseTarget::Resolve { .. } => None,
    }
}

/// The driver task's state.
#[derive(Debug)]
pub(crate) struct Driver {
    pub(crate) layer: TransactionLayer,
    pub(crate) net: Net,
    pub(crate) events: mpsc::Receiver<Event>,
    pub(crate) commands: mpsc::Receiver<Command>,
    pub(crate) drain_timeout: Duration,
}

/// At most this many queued events are handled per wake-up before timers
/// and commands get a turn.
const EVENT_BURST: usize = 64;

impl Driver {
    /// Runs until `shutdown` and the drain that follows are over.
    pub(crate) async fn run<T: TransactionUser>(mut self, mut tu: T, shutdown: CancellationToken) {
        let mut drain_until: Option<tokio::time::Instant> = None;
        loop {
            if drain_until.is_some() && self.drained() {
                tracing::debug!("SIP server drained");
                break;
            }
            let timer = self
                .layer
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            tokio::select! {
                biased;
                _ = shutdown.cancelled(), if drain_until.is_none() => {
                    tracing::debug!(live = self.net.live.len(), "SIP server draining");
                    self.net.shared.stop_accept.cancel();
                    self.net.draining = true;
                    drain_until = Some(tokio::time::Instant::now() + self.drain_timeout);
                }
                _ = sleep_until(drain_until), if drain_until.is_some() => {
                    tracing::warn!(live = self.net.live.len(), "drain timeout, abandoning live transactions");
                    break;
                }
                _ = sleep_until(timer), if timer.is_some() => {
                    self.layer.handle_timeout(Instant::now());
                    self.pump(&mut tu);
                }
                Some(ev) = self.events.recv() => {
                    self.on_event(ev, &mut tu);
                    for _ in 1..EVENT_BURST {
                        match self.events.try_recv() {
                            Ok(ev) => self.on_event(ev, &mut tu),
                            Err(_) => break,
                        }
                    }
                }
                Some(cmd) = self.commands.recv() => self.on_command(cmd, &mut tu),
            }
            // One sendmmsg per socket for what this wake-up produced.
            self.flush(&mut tu);
        }
    }

    /// Sends what the UDP sockets have queued. A datagram that could not be
    /// sent is a transport error for its transaction (RFC 3261 §18.4),
    /// whose handling may queue more: until nothing is left.
    fn flush<T: TransactionUser>(&mut self, tu: &mut T) {
        // Bounded: a TU that answers every failure with another doomed send
        // must not keep the driver here; what is left goes at the next flush.
        for _ in 0..8 {
            let failed = self.net.flush_udp();
            if failed.is_empty() {
                return;
            }
            let now = Instant::now();
            for key in failed {
                let _ = self.layer.handle_input(now, Input::TransportError { key });
            }
            self.pump(tu);
        }
    }

    /// Drained: nothing left but transactions that only absorb
    /// retransmissions. An INVITE server transaction in Completed still
    /// retransmits its final response and waits for the ACK (§17.2.1), so it
    /// counts as work.
    fn drained(&self) -> bool {
        self.net
            .live
            .iter()
            .all(|&k| match (self.layer.kind(k), self.layer.state(k)) {
                (_, None) => true,
                (Some(TransactionKind::ServerInvite), Some(TransactionState::Completed)) => false,
                (
                    _,
                    Some(
                        TransactionState::Completed
                        | TransactionState::Confirmed
                        | TransactionState::Accepted,
                    ),
                ) => true,
                _ => false,
            })
    }

    fn ctx(&mut self, now: Instant) -> Ctx<'_> {
        Ctx {
            now,
            layer: &mut self.layer,
            net: &mut self.net,
        }
    }

    fn on_event<T: TransactionUser>(&mut self, ev: Event, tu: &mut T) {
        let now = Instant::now();
        match ev {
            Event::Received { msg, peer, asked } => {
                NetStats::inc(&self.net.shared.stats.received);
                let span = if tracing::enabled!(tracing::Level::DEBUG) {
                    let branch = msg
                        .via()
                        .ok()
                        .and_then(|v| v.branch().map(str::to_owned))
                        .unwrap_or_default();
                    tracing::debug_span!(
                        "sip",
                        call_id = msg.header(HeaderName::CallId).unwrap_or_default(),
                        branch = %branch,
                        transport = %peer.transport,
                        remote = %peer.remote,
                    )
                } else {
                    tracing::Span::none()
                };
                let _entered = span.enter();
                if !asked
                    && msg.is_request()
                    && !matches!(msg.method(), Some(Method::Ack | Method::Cancel))
                    && let Some(resp) = tu.answer_statelessly(&msg, &peer)
                {
                    // §18.2.2 on UDP: received/rport of the stamped top Via.
                    let to = match (peer.transport, msg.via().map(|v| response_route(&v).target)) {
                        (Transport::Udp, Ok(ResponseTarget::Addr(remote))) => {
                            Peer { remote, ..peer }
                        }
                        _ => peer,
                    };
                    if let Err(e) = self.layer.handle_input(
                        now,
                        Input::SendStateless {
                            msg: resp,
                            peer: to,
                        },
                    ) {
                        tracing::debug!(error = %e, "stateless answer refused");
                    }
                    self.pump(tu);
                    return;
                }
                if let Err(e) = self.layer.handle_input(now, Input::Received { msg, peer }) {
                    tracing::debug!(error = %e, "transaction layer refused the message");
                }
                self.pump(tu);
            }
            Event::SendFailed { keys } => {
                for key in keys {
                    // The transaction may be gone already.
                    let _ = self.layer.handle_input(now, Input::TransportError { key });
                }
                self.pump(tu);
            }
            Event::FlowClosed { peer } => {
                // Requests still waiting for an answer over that connection
                // will not get one (§17.1.4): fail them now, so neither the
                // TU nor a graceful shutdown waits 32 s for Timer B or F.
                for key in self.layer.clients_on_flow(peer.flow) {
                    self.net.closed_under.insert(key);
                    let _ = self.layer.handle_input(now, Input::TransportError { key });
                }
                tu.on_flow_closed(&mut self.ctx(now), peer);
                self.pump(tu);
            }
        }
    }

    fn on_command<T: TransactionUser>(&mut self, cmd: Command, tu: &mut T) {
        let now = Instant::now();
        match cmd {
            Command::SendRequest { msg, peer, reply } => {
                let _ = reply.send(self.ctx(now).send_request(msg, peer));
            }
            Command::Respond { key, msg, reply } => {
                let _ = reply.send(self.ctx(now).try_respond(key, msg));
            }
            Command::SendStateless { msg, peer, reply } => {
                let _ = reply.send(self.ctx(now).try_send_stateless(msg, peer));
            }
            Command::Wake(msg) => tu.on_wake(&mut self.ctx(now), msg),
        }
        self.pump(tu);
    }

    /// Drains the layer's output: transmits go to the transports, the rest to
    /// the TU (whose actions may add more output, drained in the same loop).
    fn pump<T: TransactionUser>(&mut self, tu: &mut T) {
        let now = Instant::now();
        while let Some(out) = self.layer.poll_output() {
            match out {
                Output::Transmit(t) => {
                    let key = t.key;
                    if !self.net.transmit(t, &self.layer)
                        && let Some(key) = key
                    {
                        let _ = self.layer.handle_input(now, Input::TransportError { key });
                    }
                    // A big burst (a NOTIFY fan-out) goes out a batch at a
                    // time rather than all at the end.
                    if self.net.udp_batch_ready() {
                        for key in self.net.flush_udp() {
                            let _ = self.layer.handle_input(now, Input::TransportError { key });
                        }
                    }
                }
                Output::Request { key, msg, peer } => {
                    self.net.live.insert(key);
                    if self.net.draining {
                        // Shutting down: no new work (RFC 3261 §21.5.4).
                        self.answer_503(now, Some(key), &msg, peer);
                    } else {
                        tu.on_request(&mut self.ctx(now), key, msg, peer);
                    }
                }
                Output::Response { key, msg } => tu.on_response(&mut self.ctx(now), key, msg),
                Output::Timeout { key, .. } => tu.on_timeout(&mut self.ctx(now), key),
                Output::TransportError { key } => tu.on_transport_error(&mut self.ctx(now), key),
                Output::Terminated { key } => {
                    self.net.live.remove(&key);
                    if !self.net.closed_under.is_empty() {
                        self.net.closed_under.remove(&key);
                    }
                    tu.on_terminated(&mut self.ctx(now), key);
                }
                Output::Ack { msg, peer } => tu.on_ack(&mut self.ctx(now), msg, peer),
                Output::StrayResponse { msg, peer } => {
                    tu.on_stray_response(&mut self.ctx(now), msg, peer);
                }
                // The transaction cap is reached: answer without a transaction.
                Output::Overloaded { msg, peer } => self.answer_503(now, None, &msg, peer),
            }
        }
    }

    /// 503 Service Unavailable with Retry-After (RFC 3261 §21.5.4), on the
    /// server transaction when there is one, else statelessly.
    fn answer_503(
        &mut self,
        now: Instant,
        key: Option<TransactionKey>,
        req: &SipMessage,
        peer: Peer,
    ) {
        let tag = Tag::from(random_token());
        let mut resp = match stateless_response(req, 503, Some(&tag)) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "cannot build 503");
                return;
            }
        };
        resp.push_back(HeaderName::RetryAfter, RETRY_AFTER_SECS);
        NetStats::inc(&self.net.shared.stats.answered_503);
        let input = match key {
            Some(key) => Input::SendResponse { key, msg: resp },
            None => {
                // §18.2.2 on UDP: received/rport of the stamped top Via.
                let to = match (peer.transport, req.via().map(|v| response_route(&v).target)) {
                    (Transport::Udp, Ok(ResponseTarget::Addr(remote))) => Peer { remote, ..peer },
                    _ => peer,
                };
                Input::SendStateless {
                    msg: resp,
                    peer: to,
                }
            }
        };
        if let Err(e) = self.layer.handle_input(now, input) {
            tracing::debug!(error = %e, "503 refused");
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
