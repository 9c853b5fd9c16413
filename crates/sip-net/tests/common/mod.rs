//! Shared harness for the socket tests: a server on 127.0.0.1 (port 0) with
//! an echo TU that answers every request 200 and reports what it saw, plus
//! small SIP clients over each transport.

// A test harness: panicking on the unexpected is its job.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use sip_msg::{Frame, Method, SipMessage, StreamDecoder};
use sip_net::{
    Ctx, ListenerSpec, NetConfig, NetError, NetStats, ServerHandle, SipServer, TlsSource,
    TransactionUser,
};
use sip_proto::{Peer, Tag, TransactionKey, Transport, stateless_response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What the TU saw, in order.
#[derive(Debug)]
pub enum Seen {
    Request {
        key: TransactionKey,
        msg: SipMessage,
        peer: Peer,
    },
    Response {
        key: TransactionKey,
        msg: SipMessage,
    },
    Timeout(TransactionKey),
    TransportError(TransactionKey),
    FlowClosed(Peer),
}

/// Answers every request but ACK with 200 (unless `answer` is off: then the
/// test answers through the handle) and reports everything.
pub struct EchoTu {
    pub seen: mpsc::UnboundedSender<Seen>,
    pub answer: bool,
}

impl TransactionUser for EchoTu {
    fn on_request(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey, msg: SipMessage, peer: Peer) {
        if self.answer && msg.method() != Some(Method::Ack) {
            let ok = stateless_response(&msg, 200, Some(&Tag::from("srv"))).unwrap();
            ctx.respond(key, ok);
        }
        let _ = self.seen.send(Seen::Request { key, msg, peer });
    }

    fn on_response(&mut self, _: &mut Ctx<'_>, key: TransactionKey, msg: SipMessage) {
        let _ = self.seen.send(Seen::Response { key, msg });
    }

    fn on_timeout(&mut self, _: &mut Ctx<'_>, key: TransactionKey) {
        let _ = self.seen.send(Seen::Timeout(key));
    }

    fn on_transport_error(&mut self, _: &mut Ctx<'_>, key: TransactionKey) {
        let _ = self.seen.send(Seen::TransportError(key));
    }

    fn on_flow_closed(&mut self, _: &mut Ctx<'_>, peer: Peer) {
        let _ = self.seen.send(Seen::FlowClosed(peer));
    }
}

/// A running server.
pub struct Running {
    pub addrs: Vec<(Transport, SocketAddr)>,
    pub stats: Arc<NetStats>,
    pub handle: ServerHandle,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), NetError>>,
    pub seen: mpsc::UnboundedReceiver<Seen>,
    /// The CA that signed the server certificate (PEM).
    pub ca_pem: Vec<u8>,
    /// The server's certificate and key (PEM), valid for 127.0.0.1.
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl Running {
    pub fn addr(&self, t: Transport) -> SocketAddr {
        self.addrs.iter().find(|(x, _)| *x == t).unwrap().1
    }

    /// The next thing the TU saw (waits up to 5 s).
    pub async fn next_seen(&mut self) -> Seen {
        tokio::time::timeout(Duration::from_secs(5), self.seen.recv())
            .await
            .expect("TU saw nothing")
            .expect("TU gone")
    }

    /// The next request the TU saw, skipping other events.
    pub async fn next_request(&mut self) -> (TransactionKey, SipMessage, Peer) {
        loop {
            if let Seen::Request { key, msg, peer } = self.next_seen().await {
                return (key, msg, peer);
            }
        }
    }

    /// Stops the server and checks `run` returned `Ok` in time.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let r = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("run did not return after shutdown")
            .unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
}

/// A test CA and a leaf for 127.0.0.1 and localhost: (ca_pem, cert_pem, key_pem).
pub fn test_certs() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    (
        ca.pem().into_bytes(),
        leaf.pem().into_bytes(),
        leaf_key.serialize_pem().into_bytes(),
    )
}

/// Starts a server listening on `transports` (127.0.0.1, port 0) with the
/// echo TU; `tweak` adjusts the configuration.
pub async fn start(transports: &[Transport], tweak: impl FnOnce(&mut NetConfig)) -> Running {
    start_with(transports, true, tweak).await
}

pub async fn start_with(
    transports: &[Transport],
    answer: bool,
    tweak: impl FnOnce(&mut NetConfig),
) -> Running {
    let (ca_pem, cert, key) = test_certs();
    let mut config = NetConfig {
        listeners: transports
            .iter()
            .map(|&t| ListenerSpec::new(t, "127.0.0.1:0".parse().unwrap()))
            .collect(),
        tls: Some(TlsSource::Pem {
            cert: cert.clone(),
            key: key.clone(),
        }),
        tls_client: Some(sip_net::client_config_trusting(&ca_pem).unwrap()),
        ..NetConfig::default()
    };
    tweak(&mut config);
    let server = SipServer::bind(config).await.unwrap();
    let addrs = server.local_addrs();
    let stats = server.stats();
    let handle = server.handle();
    let (tx, seen) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server.run(EchoTu { seen: tx, answer }, shutdown.clone()));
    Running {
        addrs,
        stats,
        handle,
        shutdown,
        task,
        seen,
        ca_pem,
        cert_pem: cert,
        key_pem: key,
    }
}

/// A request from a client at `local`, with `transport` in its Via.
pub fn request(
    method: &str,
    transport: &str,
    local: SocketAddr,
    call_id: &str,
    branch: &str,
) -> String {
    format!(
        "{method} sip:server@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/{transport} {local};rport;branch={branch}\r\n\
Max-Forwards: 70\r\n\
From: <sip:client@127.0.0.1>;tag=c1\r\n\
To: <sip:server@127.0.0.1>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 {method}\r\n\
Contact: <sip:client@{local};transport={}>\r\n\
Content-Length: 0\r\n\r\n",
        transport.to_ascii_lowercase()
    )
}

pub fn options(transport: &str, local: SocketAddr, call_id: &str, branch: &str) -> String {
    request("OPTIONS", transport, local, call_id, branch)
}

/// Checks `resp` answers the request with `call_id` and `branch`.
pub fn assert_answers(resp: &SipMessage, status: u16, call_id: &str, branch: &str) {
    assert_eq!(resp.status(), Some(status), "{resp}");
    assert_eq!(resp.call_id().unwrap(), call_id);
    assert_eq!(resp.via().unwrap().branch(), Some(branch));
}

/// Reads the next frame from a client-side stream (5 s at most).
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, buf: &mut BytesMut) -> Option<Frame> {
    let mut dec = StreamDecoder::new(1 << 20).client();
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(f) = dec.decode(buf).unwrap() {
                return Some(f);
            }
            if r.read_buf(buf).await.unwrap() == 0 {
                return None;
            }
        }
    })
    .await
    .expect("no frame within 5 s")
}

/// Reads the next SIP message from a client-side stream.
pub async fn read_message<R: AsyncRead + Unpin>(r: &mut R, buf: &mut BytesMut) -> SipMessage {
    match read_frame(r, buf).await {
        Some(Frame::Message(m)) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Waits for EOF (or reset) on a client-side stream, skipping any data.
pub async fn expect_closed<R: AsyncRead + Unpin>(r: &mut R, within: Duration) {
    tokio::time::timeout(within, async {
        let mut sink = [0u8; 4096];
        loop {
            match r.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("connection still open");
}

pub async fn write_all<W: AsyncWrite + Unpin>(w: &mut W, data: &[u8]) {
    w.write_all(data).await.unwrap();
    w.flush().await.unwrap();
}

/// A TLS client connection trusting `ca_pem`.
pub async fn tls_connect(
    addr: SocketAddr,
    ca_pem: &[u8],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let config = sip_net::client_config_trusting(ca_pem).unwrap();
    let connector = tokio_rustls::TlsConnector::from(config);
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    connector.connect(name, tcp).await.unwrap()
}

/// Answers `req` (received by a test client) with `status`.
pub fn answer(req: &SipMessage, status: u16) -> Bytes {
    stateless_response(req, status, Some(&Tag::from("cli")))
        .unwrap()
        .to_bytes()
}

/// The filled `rport` of the response's top Via (RFC 3581).
pub fn top_via_rport(resp: &SipMessage) -> Option<u16> {
    resp.via().unwrap().rport().flatten()
}

pub type Ws<S> = tokio_tungstenite::WebSocketStream<S>;

/// A WebSocket client handshake over `stream` to `url`, offering
/// `protocol` when given.
pub async fn ws_handshake<S>(
    stream: S,
    url: &str,
    protocol: Option<&'static str>,
) -> Result<
    (
        Ws<S>,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    tokio_tungstenite::tungstenite::Error,
>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    let mut req = url.into_client_request().unwrap();
    if let Some(p) = protocol {
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(p));
    }
    tokio_tungstenite::client_async(req, stream).await
}

/// Sends one SIP message as a text WebSocket message.
pub async fn ws_send<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut Ws<S>, text: &str) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    ws.send(Message::text(text)).await.unwrap();
}

/// Receives the next SIP message from a WebSocket (5 s at most).
pub async fn ws_recv<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut Ws<S>) -> SipMessage {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("no WebSocket message within 5 s")
            .expect("WebSocket closed")
            .unwrap();
        match m {
            Message::Text(t) => {
                return SipMessage::parse(Bytes::copy_from_slice(t.as_bytes())).unwrap();
            }
            Message::Binary(b) => return SipMessage::parse(b).unwrap(),
            _ => {}
        }
    }
}
