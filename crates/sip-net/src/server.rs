//! [`SipServer`]: binds the listeners, then runs the transports and the
//! driver until shutdown.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sip_proto::{TransactionLayer, Transport};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::NetConfig;
use crate::driver::{Command, Driver, Net, ServerHandle, TransactionUser, UdpOut};
use crate::error::NetError;
use crate::flow::{ConnLimit, FlowTable};
use crate::inbound::{Event, Shared};
use crate::stats::NetStats;
use crate::{stream, tls, udp, ws};

/// Events from transport tasks waiting for the driver; beyond it readers
/// wait (and the kernel buffers, then drops, UDP).
const EVENT_QUEUE: usize = 1024;
/// Commands from [`ServerHandle`]s waiting for the driver.
const COMMAND_QUEUE: usize = 1024;
/// After the driver stops, how long connection tasks get to flush.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// A bound SIP server: listeners open, nothing running until
/// [`run`](Self::run).
pub struct SipServer {
    config: NetConfig,
    udp: Vec<UdpOut>,
    listeners: Vec<(Transport, TcpListener)>,
    local_addrs: Vec<(Transport, SocketAddr)>,
    tls_acceptor: Option<TlsAcceptor>,
    wss_acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    events: mpsc::Receiver<Event>,
    commands_tx: mpsc::Sender<Command>,
    commands: mpsc::Receiver<Command>,
}

impl std::fmt::Debug for SipServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipServer")
            .field("local_addrs", &self.local_addrs)
            .finish_non_exhaustive()
    }
}

impl SipServer {
    /// Binds every listener of `config` (port 0 picks a free port) and loads
    /// the TLS certificate if a `tls:`/`wss:` listener needs it.
    pub async fn bind(config: NetConfig) -> Result<SipServer, NetError> {
        let needs_tls = config
            .listeners
            .iter()
            .find(|l| matches!(l.transport, Transport::Tls | Transport::Wss));
        let server_tls = match (needs_tls, &config.tls) {
            (Some(l), None) => return Err(NetError::TlsMissing(l.transport)),
            (Some(_), Some(src)) => Some(tls::server_config(src)?),
            (None, _) => None,
        };
        let tls_acceptor = server_tls.clone().map(TlsAcceptor::from);
        let wss_acceptor = server_tls.map(|c| {
            let mut c = (*c).clone();
            c.alpn_protocols = vec![b"http/1.1".to_vec()];
            TlsAcceptor::from(Arc::new(c))
        });

        let stats = Arc::new(NetStats::default());
        let flows = Arc::new(FlowTable::new());
        let mut udp = Vec::new();
        let mut listeners = Vec::new();
        let mut local_addrs = Vec::new();
        for spec in &config.listeners {
            let t = spec.transport;
            let bind_err = |source| NetError::Bind {
                transport: t,
                addr: spec.addr,
                source,
            };
            let local = if t == Transport::Udp {
                let sock = bind_udp(spec.addr).map_err(bind_err)?;
                let local = sock.local_addr().map_err(bind_err)?;
                udp.push(UdpOut {
                    flow: flows.next_id(),
                    sock: Arc::new(sock),
                    local,
                    queue: udp::SendQueue::default(),
                });
                local
            } else {
                let l = TcpListener::bind(spec.addr).await.map_err(bind_err)?;
                let local = l.local_addr().map_err(bind_err)?;
                listeners.push((t, l));
                local
            };
            local_addrs.push((t, local));
        }

        let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
        let (commands_tx, commands) = mpsc::channel(COMMAND_QUEUE);
        let shared = Arc::new(Shared {
            events: events_tx,
            limit: ConnLimit::new(config.max_connections, Arc::clone(&stats)),
            stats,
            flows,
            tracker: TaskTracker::new(),
            stop_accept: CancellationToken::new(),
            stop_all: CancellationToken::new(),
            max_message_size: config.max_message_size,
            idle_timeout: config.idle_timeout,
            connection_queue: config.connection_queue.max(1),
            connect_timeout: config.connect_timeout,
            tls_connector: config.tls_client.clone().map(TlsConnector::from),
        });
        Ok(SipServer {
            config,
            udp,
            listeners,
            local_addrs,
            tls_acceptor,
            wss_acceptor,
            shared,
            events,
            commands_tx,
            commands,
        })
    }

    /// The bound addresses, in the order of `config.listeners`.
    pub fn local_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        self.local_addrs.clone()
    }

    /// The first bound address of `transport`.
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        self.local_addrs
            .iter()
            .find(|(t, _)| *t == transport)
            .map(|(_, a)| *a)
    }

    /// The transport counters (live: keep the `Arc` and read it while the
    /// server runs).
    pub fn stats(&self) -> Arc<NetStats> {
        Arc::clone(&self.shared.stats)
    }

    /// A handle for sending requests and responses from other tasks.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            commands: self.commands_tx.clone(),
            stats: self.stats(),
        }
    }

    /// Runs the transports and the driver with `tu` until `shutdown` is
    /// cancelled. Then it drains: listeners stop accepting, new requests are
    /// answered 503, live transactions get up to `drain_timeout` to finish
    /// (until only transactions absorbing retransmissions are left), queued
    /// messages are flushed (up to 2 s), and it returns `Ok`.
    pub async fn run<T: TransactionUser>(
        self,
        tu: T,
        shutdown: CancellationToken,
    ) -> Result<(), NetError> {
        let SipServer {
            config,
            udp,
            listeners,
            local_addrs,
            tls_acceptor,
            wss_acceptor,
            shared,
            events,
            commands_tx,
            commands,
        } = self;
        drop(commands_tx);
        let hook = tu.stateless_hook();
        for u in &udp {
            tracing::info!(transport = %Transport::Udp, local = %u.local, "SIP listener started");
            shared.tracker.spawn(udp::recv_loop(
                Arc::clone(&shared),
                Arc::clone(&u.sock),
                u.flow,
                hook.clone(),
            ));
        }
        for (t, l) in listeners {
            let local = l.local_addr().ok();
            tracing::info!(transport = %t, local = ?local, "SIP listener started");
            let sh = Arc::clone(&shared);
            match t {
                Transport::Tcp => {
                    shared.tracker.spawn(stream::accept_loop(sh, l, t, None));
                }
                Transport::Tls => {
                    shared
                        .tracker
                        .spawn(stream::accept_loop(sh, l, t, tls_acceptor.clone()));
                }
                Transport::Ws => {
                    let routes = config.http_routes.clone();
                    let others = config.ws_subprotocols.clone();
                    shared
                        .tracker
                        .spawn(ws::serve(sh, l, t, None, routes, others));
                }
                Transport::Wss => {
                    let routes = config.http_routes.clone();
                    let others = config.ws_subprotocols.clone();
                    shared
                        .tracker
                        .spawn(ws::serve(sh, l, t, wss_acceptor.clone(), routes, others));
                }
                Transport::Udp => {}
            }
        }
        let driver = Driver {
            layer: TransactionLayer::new(config.timers)
                .with_max_transactions(config.max_transactions),
            net: Net {
                shared: Arc::clone(&shared),
                udp,
                local_addrs,
                draining: false,
                live: HashSet::new(),
                closed_under: HashSet::new(),
            },
            events,
            commands,
            drain_timeout: config.drain_timeout,
        };
        driver.run(tu, shutdown).await;

        // Stop everything: listeners, connection readers and UDP readers;
        // writers flush what is queued, then close.
        shared.stop_accept.cancel();
        shared.flows.clear();
        shared.stop_all.cancel();
        shared.tracker.close();
        if tokio::time::timeout(CLOSE_GRACE, shared.tracker.wait())
            .await
            .is_err()
        {
            tracing::debug!("some connections were still closing");
        }
        tracing::debug!("SIP server stopped");
        Ok(())
    }
}

/// Socket buffers asked for on UDP listeners. The kernel's defaults (about
/// 200 KB) hold some 100 datagrams: a NOTIFY fan-out to thousands of
/// watchers brings their 200s back in a burst, and what overflows is lost
/// and costs a retransmission 500 ms later. The kernel caps the value at
/// `net.core.rmem_max` / `wmem_max`.
pub(crate) const UDP_BUFFER_BYTES: usize = 8 * 1024 * 1024;

fn bind_udp(addr: std::net::SocketAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: a smaller buffer is no reason not to serve.
    if let Err(e) = sock.set_recv_buffer_size(UDP_BUFFER_BYTES) {
        tracing::debug!(error = %e, "UDP receive buffer left at the default");
    }
    if let Err(e) = sock.set_send_buffer_size(UDP_BUFFER_BYTES) {
        tracing::debug!(error = %e, "UDP send buffer left at the default");
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    UdpSocket::from_std(sock.into())
}
