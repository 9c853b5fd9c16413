//! [`Endpoint`]: one MSRP connection (RFC 4975 §6) driven from one task.

use std::collections::VecDeque;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use msrp::{
    Chunker, Decoder, Frame, Limits, MessageId, Method, MsrpUri, Reassembler, Reassembly,
    ReassemblyLimits,
};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The byte stream under an endpoint: TCP, or TLS over TCP (`msrps:`,
/// RFC 4975 §6).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// The connection failed.
    #[error("MSRP connection: {0}")]
    Io(#[from] std::io::Error),
    /// The other side closed the connection.
    #[error("MSRP connection closed")]
    Closed,
    /// The other side sent something we cannot read.
    #[error("MSRP protocol error: {0}")]
    Protocol(String),
    /// A request of ours was answered with a failure.
    #[error("MSRP {status} {comment}")]
    Refused {
        /// The status code (RFC 4975 §10, RFC 4976).
        status: u16,
        /// The response's comment.
        comment: String,
    },
}

type Result<T> = std::result::Result<T, EndpointError>;

/// A relay's answer to a successful AUTH (RFC 4976 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthGrant {
    /// The relay URI(s) to put in front of this endpoint's own URI in the
    /// SDP `a=path` (Use-Path, RFC 4976 §5.1).
    pub use_path: Vec<MsrpUri>,
    /// Seconds the grant lasts, if the relay said.
    pub expires: Option<u64>,
}

/// A whole message received (all its chunks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Its Message-ID.
    pub message_id: MessageId,
    /// Its Content-Type.
    pub content_type: Option<String>,
    /// The body, reassembled byte-exact.
    pub body: Bytes,
    /// The From-Path of the (last) chunk: who sent it, nearest hop first.
    pub from_path: Vec<MsrpUri>,
}

/// One MSRP connection and this endpoint's URI on it.
#[derive(Debug)]
pub struct Endpoint {
    stream: Box<dyn Stream>,
    buf: BytesMut,
    dec: Decoder,
    me: MsrpUri,
    reassembler: Reassembler,
    inbox: VecDeque<Received>,
    nonce_count: u32,
}

impl Endpoint {
    /// Connects to a first hop (a relay, or the peer itself) at `addr`;
    /// `me` is this endpoint's own URI (From-Path, and the last `a=path`
    /// URI of its SDP).
    pub async fn connect(addr: SocketAddr, me: MsrpUri) -> Result<Endpoint> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self::over(Box::new(stream), me))
    }

    /// Like [`connect`](Self::connect), over TLS (`msrps:`, RFC 4975 §6:
    /// the first hop's certificate must match `server_name`, its host).
    pub async fn connect_tls(
        addr: SocketAddr,
        server_name: &str,
        config: Arc<rustls::ClientConfig>,
        me: MsrpUri,
    ) -> Result<Endpoint> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let name = rustls::pki_types::ServerName::try_from(server_name.to_owned())
            .map_err(|e| EndpointError::Protocol(format!("server name {server_name}: {e}")))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await?;
        Ok(Self::over(Box::new(tls), me))
    }

    fn over(stream: Box<dyn Stream>, me: MsrpUri) -> Endpoint {
        Endpoint {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
            dec: Decoder::new(Limits::default()),
            me,
            reassembler: Reassembler::new(ReassemblyLimits::default()),
            inbox: VecDeque::new(),
            nonce_count: 0,
        }
    }

    /// This endpoint's own URI.
    pub fn uri(&self) -> &MsrpUri {
        &self.me
    }

    /// AUTH to `relay` (RFC 4976 §5.1): the first AUTH draws a 401, the
    /// second answers its first challenge with digest (method AUTH, the
    /// relay's URI as digest-uri, §9.1).
    pub async fn auth(
        &mut self,
        relay: &MsrpUri,
        user: &str,
        password: &str,
        expires: Option<u64>,
    ) -> Result<AuthGrant> {
        let first = self.auth_frame(relay, None, expires)?;
        let r = self.transact(first).await?;
        let r = match r.status() {
            Some(401) => {
                let challenge = r
                    .www_authenticate()
                    .ok_or_else(|| EndpointError::Protocol("401 without a challenge".into()))?;
                let ch = sip_msg::auth::Challenge::parse(challenge)
                    .map_err(|e| EndpointError::Protocol(format!("challenge: {e}")))?;
                self.nonce_count += 1;
                let cnonce = format!("{:016x}", rand::random::<u64>());
                let authorization = sip_auth::authorize(
                    &ch,
                    &sip_auth::ClientCredentials {
                        username: user,
                        password,
                    },
                    "AUTH",
                    relay.as_str(),
                    b"",
                    &cnonce,
                    1,
                )
                .map_err(|e| EndpointError::Protocol(format!("digest: {e}")))?;
                let second = self.auth_frame(relay, Some(&authorization), expires)?;
                self.transact(second).await?
            }
            _ => r,
        };
        match r.status() {
            Some(200) => {
                let use_path = r
                    .use_path()
                    .map_err(|e| EndpointError::Protocol(format!("Use-Path: {e}")))?
                    .ok_or_else(|| EndpointError::Protocol("200 without Use-Path".into()))?;
                Ok(AuthGrant {
                    use_path,
                    expires: r.expires().ok().flatten(),
                })
            }
            _ => Err(refused(&r)),
        }
    }

    fn auth_frame(
        &self,
        relay: &MsrpUri,
        authorization: Option<&str>,
        expires: Option<u64>,
    ) -> Result<Frame> {
        let mut b = Frame::builder(Method::Auth)
            .to_path(std::slice::from_ref(relay))
            .from_path(std::slice::from_ref(&self.me));
        if let Some(a) = authorization {
            b = b.header("Authorization", a);
        }
        if let Some(e) = expires {
            b = b.expires(e);
        }
        b.build()
            .map_err(|e| EndpointError::Protocol(format!("AUTH not built: {e}")))
    }

    /// Sends one message along `to_path` in chunks of at most `max_chunk`
    /// body bytes (RFC 4975 §5.1, §7.1.1) and waits for each chunk's 200.
    pub async fn send_message(
        &mut self,
        to_path: &[MsrpUri],
        content_type: &str,
        body: Bytes,
        max_chunk: usize,
    ) -> Result<MessageId> {
        let id = MessageId::random();
        let mut chunker = Chunker::new(
            to_path,
            std::slice::from_ref(&self.me),
            &id,
            content_type,
            body,
            max_chunk.max(1),
        )
        .map_err(|e| EndpointError::Protocol(format!("message not chunked: {e}")))?;
        while let Some(chunk) = chunker.next_chunk() {
            let r = self.transact(chunk).await?;
            if r.status() != Some(200) {
                return Err(refused(&r));
            }
        }
        Ok(id)
    }

    /// The next whole message received (SENDs are answered as they come).
    pub async fn recv_message(&mut self) -> Result<Received> {
        loop {
            if let Some(m) = self.inbox.pop_front() {
                return Ok(m);
            }
            let f = self.read_frame().await?;
            self.incoming(f).await?;
        }
    }

    /// Writes `request` and returns its response (matched by transaction
    /// id); requests that arrive meanwhile are handled.
    async fn transact(&mut self, request: Frame) -> Result<Frame> {
        self.write(&request).await?;
        let tid = request.transaction_id().clone();
        loop {
            let f = self.read_frame().await?;
            if !f.is_request() && f.transaction_id() == &tid {
                return Ok(f);
            }
            self.incoming(f).await?;
        }
    }

    /// A frame that is not the response we wait for.
    async fn incoming(&mut self, f: Frame) -> Result<()> {
        match f.method() {
            Some(Method::Send) => {
                // RFC 4975 §7.2: a SEND gets a response unless its
                // Failure-Report is "no".
                if msrp::report::response_owed(&f, 200)
                    && let Ok(ok) = f.response(200, Some("OK"))
                {
                    self.write(&ok).await?;
                }
                match self.reassembler.handle_chunk(&f) {
                    Ok(Reassembly::Complete(m)) => self.inbox.push_back(Received {
                        message_id: m.message_id,
                        content_type: m.content_type,
                        body: m.body,
                        from_path: f.from_path().unwrap_or_default(),
                    }),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e.reason(), "chunk not reassembled"),
                }
            }
            // REPORTs and stray responses need no answer (§7.1.2).
            Some(Method::Report) | None => {}
            Some(_) => {
                if let Ok(r) = f.response(501, Some("Not Implemented")) {
                    self.write(&r).await?;
                }
            }
        }
        Ok(())
    }

    async fn write(&mut self, f: &Frame) -> Result<()> {
        let mut out = BytesMut::with_capacity(f.encoded_len());
        f.encode_into(&mut out);
        self.stream.write_all(&out).await?;
        self.stream.flush().await?;
        Ok(())
    }

    async fn read_frame(&mut self) -> Result<Frame> {
        loop {
            match self.dec.decode(&mut self.buf) {
                Ok(Some(f)) => return Ok(f),
                Ok(None) => {}
                Err(e) if e.must_close() => {
                    return Err(EndpointError::Protocol(e.reason().to_owned()));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "bad frame skipped");
                    if let Some(answer) = e.answer() {
                        self.write(&answer).await?;
                    }
                    continue;
                }
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(EndpointError::Closed);
            }
        }
    }
}

fn refused(r: &Frame) -> EndpointError {
    EndpointError::Refused {
        status: r.status().unwrap_or(0),
        comment: r.comment().unwrap_or("").to_owned(),
    }
}
