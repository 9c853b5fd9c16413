//! A small blocking MSRP client for the relay tests: frames with the `msrp`
//! crate's builders and [`msrp::Decoder`], digest answers with `sip_auth`'s
//! client side (RFC 4976 §5.1: AUTH, 401, AUTH with credentials).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use msrp::{Decoder, Frame, Limits, MessageId, Method, MsrpUri};

/// A byte stream: TCP, or TLS over it.
pub trait Io: Read + Write + Send {}
impl<T: Read + Write + Send> Io for T {}

pub struct MsrpConn {
    /// The socket (a handle on it, for timeouts); reads and writes go
    /// through `io`.
    pub stream: TcpStream,
    io: Box<dyn Io>,
    buf: BytesMut,
    dec: Decoder,
    /// This client's own URI (what it would put in SDP), in From-Path.
    pub me: MsrpUri,
    /// The relay, as a client configures it (no session-id).
    pub relay: MsrpUri,
    nc: u32,
}

impl MsrpConn {
    pub fn connect(relay: SocketAddr) -> MsrpConn {
        let stream = TcpStream::connect(relay).unwrap();
        let io = Box::new(stream.try_clone().unwrap());
        MsrpConn::over(stream, io, relay, false)
    }

    /// `msrps:` (RFC 4976 §9.2): TLS to the relay, trusting `ca`.
    pub fn connect_tls(
        relay: SocketAddr,
        ca: &rustls::pki_types::CertificateDer<'static>,
    ) -> MsrpConn {
        let stream = TcpStream::connect(relay).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::IpAddress(relay.ip().into());
        let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
        let io = Box::new(rustls::StreamOwned::new(conn, stream.try_clone().unwrap()));
        MsrpConn::over(stream, io, relay, true)
    }

    fn over(stream: TcpStream, io: Box<dyn Io>, relay: SocketAddr, secure: bool) -> MsrpConn {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let local = stream.local_addr().unwrap();
        let me = MsrpUri::new(
            secure,
            &local.ip().to_string(),
            Some(local.port()),
            Some(&MsrpUri::random_session_id()),
            "tcp",
        )
        .unwrap();
        let relay = MsrpUri::new(
            secure,
            &relay.ip().to_string(),
            Some(relay.port()),
            None,
            "tcp",
        )
        .unwrap();
        MsrpConn {
            stream,
            io,
            buf: BytesMut::with_capacity(1 << 16),
            dec: Decoder::new(Limits {
                max_body: 64 * 1024 * 1024,
                ..Limits::default()
            }),
            me,
            relay,
            nc: 0,
        }
    }

    pub fn send(&mut self, f: &Frame) {
        self.io.write_all(&f.to_bytes()).unwrap();
        self.io.flush().unwrap();
    }

    pub fn send_raw(&mut self, b: &[u8]) {
        self.io.write_all(b).unwrap();
        self.io.flush().unwrap();
    }

    /// The next frame; `None` on timeout or when the relay closed the
    /// connection.
    pub fn recv(&mut self) -> Option<Frame> {
        loop {
            match self.dec.decode(&mut self.buf) {
                Ok(Some(f)) => return Some(f),
                Ok(None) => {}
                Err(e) => panic!("bad frame from the relay: {e}"),
            }
            let mut chunk = [0u8; 65536];
            match self.io.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// `true` once the relay has closed the connection (EOF or reset within
    /// the read timeout; frames still arriving are skipped).
    pub fn closed_by_relay(&mut self) -> bool {
        loop {
            let mut chunk = [0u8; 4096];
            match self.io.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => {
                    return !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    );
                }
            }
        }
    }

    pub fn auth_request(&self, authorization: Option<&str>, expires: Option<u64>) -> Frame {
        let mut b = Frame::builder(Method::Auth)
            .to_path(std::slice::from_ref(&self.relay))
            .from_path(std::slice::from_ref(&self.me));
        if let Some(a) = authorization {
            b = b.header("Authorization", a);
        }
        if let Some(e) = expires {
            b = b.expires(e);
        }
        b.build().unwrap()
    }

    /// The Authorization answering the first challenge of a 401 (SHA-256
    /// when offered first, as the relay does) for `user`/`password`.
    pub fn answer(&mut self, challenge_401: &Frame, user: &str, password: &str) -> String {
        self.answer_with(challenge_401.www_authenticate().unwrap(), user, password)
    }

    pub fn answer_with(&mut self, challenge: &str, user: &str, password: &str) -> String {
        self.nc += 1;
        let ch = sip_msg::auth::Challenge::parse(challenge).unwrap();
        sip_auth::authorize(
            &ch,
            &sip_auth::ClientCredentials {
                username: user,
                password,
            },
            "AUTH",
            // RFC 4976 §9.1: the rightmost To-Path URI.
            self.relay.as_str(),
            b"",
            &format!("cn{}", self.nc),
            1,
        )
        .unwrap()
    }

    /// AUTH, 401, AUTH with credentials: the final response.
    pub fn auth(&mut self, user: &str, password: &str, expires: Option<u64>) -> Frame {
        let first = self.auth_request(None, expires);
        self.send(&first);
        let challenge = self.recv().expect("401");
        assert_eq!(challenge.status(), Some(401), "{challenge:?}");
        let a = self.answer(&challenge, user, password);
        let second = self.auth_request(Some(&a), expires);
        self.send(&second);
        self.recv().expect("answer to the AUTH with credentials")
    }

    /// AUTH that must succeed: the Use-Path URI.
    pub fn auth_ok(&mut self, user: &str, password: &str) -> MsrpUri {
        let r = self.auth(user, password, None);
        assert_eq!(r.status(), Some(200), "{r:?}");
        r.use_path().unwrap().unwrap().remove(0)
    }

    /// A whole-message SEND along `to_path`.
    pub fn send_frame(&self, to_path: &[MsrpUri], body: &[u8]) -> Frame {
        let len = body.len() as u64;
        Frame::builder(Method::Send)
            .to_path(to_path)
            .from_path(std::slice::from_ref(&self.me))
            .message_id(&MessageId::random())
            .byte_range(msrp::ByteRange::new(1, Some(len), Some(len)))
            .body("text/plain", Bytes::copy_from_slice(body))
            .build()
            .unwrap()
    }
}

/// A running server with an MSRP relay listener and users alice and bob
/// (password "secret") in example.test.
pub fn relay_with_users() -> crate::common::Server {
    let s = crate::common::Server::start(&["--listen", "msrp:127.0.0.1:0"]);
    assert!(s.msrp.is_some(), "herald printed its msrp listener");
    crate::common::add_user(&s.data_dir, "alice@example.test", "secret");
    crate::common::add_user(&s.data_dir, "bob@example.test", "secret");
    s
}

/// The WebSocket client of the RFC 7977 tests, blocking (tungstenite).
pub type WsSocket = tokio_tungstenite::tungstenite::WebSocket<TcpStream>;

/// Opens a WebSocket to `addr` offering `protocols` (comma-separated, as in
/// `Sec-WebSocket-Protocol`): the socket and the subprotocol the server
/// chose, or the HTTP status it refused the upgrade with.
pub fn ws_connect(addr: SocketAddr, protocols: &str) -> Result<(WsSocket, Option<String>), u16> {
    use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
    let mut req = format!("ws://{addr}/").into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    match tungstenite::client(req, stream) {
        Ok((ws, resp)) => {
            let chosen = resp
                .headers()
                .get("Sec-WebSocket-Protocol")
                .map(|v| v.to_str().unwrap().to_owned());
            Ok((ws, chosen))
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(resp))) => {
            Err(resp.status().as_u16())
        }
        Err(e) => panic!("WebSocket handshake: {e}"),
    }
}

/// An MSRP WebSocket client (RFC 7977): one frame per WebSocket message
/// each way (§5.1), its own URI on a random `.invalid` host with the `ws`
/// transport (Appendix A), the relay addressed as `msrp://host:port;ws`
/// (§8.1).
pub struct MsrpWsConn {
    pub ws: WsSocket,
    /// This client's own URI (what it would put in SDP), in From-Path.
    pub me: MsrpUri,
    /// The relay as this client addresses it: the HTTP listener, `;ws`.
    pub relay: MsrpUri,
    nc: u32,
}

impl MsrpWsConn {
    /// Connects offering `msrp` and checks the server chose it (§4.1).
    pub fn connect(http: SocketAddr) -> MsrpWsConn {
        let (ws, chosen) = ws_connect(http, "msrp").expect("upgrade accepted");
        assert_eq!(chosen.as_deref(), Some("msrp"), "RFC 7977 §4.1");
        let host = format!("{}.invalid", MsrpUri::random_session_id().to_lowercase());
        let me = MsrpUri::new(
            false,
            &host,
            Some(2855),
            Some(&MsrpUri::random_session_id()),
            "ws",
        )
        .unwrap();
        let relay =
            MsrpUri::new(false, &http.ip().to_string(), Some(http.port()), None, "ws").unwrap();
        MsrpWsConn {
            ws,
            me,
            relay,
            nc: 0,
        }
    }

    /// One frame as one (binary) WebSocket message.
    pub fn send(&mut self, f: &Frame) {
        self.send_raw(f.to_bytes().to_vec());
    }

    pub fn send_raw(&mut self, b: Vec<u8>) {
        use tokio_tungstenite::tungstenite::Message;
        self.ws.send(Message::Binary(b.into())).unwrap();
    }

    /// The next WebSocket message, which must hold exactly one frame (RFC
    /// 7977 §5.1); `None` on timeout or when the relay closed the
    /// connection.
    pub fn recv(&mut self) -> Option<Frame> {
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let data: Bytes = match self.ws.read() {
                Ok(Message::Binary(b)) => b,
                // RFC 7977 §4.2: text is read as bytes.
                Ok(Message::Text(t)) => Bytes::copy_from_slice(t.as_bytes()),
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
                Ok(Message::Close(_)) | Err(_) => return None,
            };
            let mut buf = BytesMut::from(&data[..]);
            let mut dec = Decoder::new(Limits {
                max_body: 64 * 1024 * 1024,
                ..Limits::default()
            });
            let f = dec
                .decode_eof(&mut buf)
                .unwrap_or_else(|e| panic!("bad frame from the relay: {e}"))
                .expect("a whole frame in the WebSocket message");
            assert!(buf.is_empty(), "one frame per WebSocket message");
            return Some(f);
        }
    }

    /// `true` once the relay has closed the connection (Close, EOF or reset
    /// within the read timeout; messages still arriving are skipped).
    pub fn closed_by_relay(&mut self) -> bool {
        use tokio_tungstenite::tungstenite::{Error, Message};
        loop {
            match self.ws.read() {
                Ok(Message::Close(_)) => return true,
                Ok(_) => continue,
                Err(Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return false;
                }
                Err(_) => return true,
            }
        }
    }

    pub fn auth_request(&self, authorization: Option<&str>) -> Frame {
        let mut b = Frame::builder(Method::Auth)
            .to_path(std::slice::from_ref(&self.relay))
            .from_path(std::slice::from_ref(&self.me));
        if let Some(a) = authorization {
            b = b.header("Authorization", a);
        }
        b.build().unwrap()
    }

    /// The Authorization answering the first challenge of a 401; the
    /// digest-uri is the `;ws` relay URI (RFC 4976 §9.1: the rightmost
    /// To-Path URI).
    pub fn answer(&mut self, challenge_401: &Frame, user: &str, password: &str) -> String {
        self.nc += 1;
        let ch =
            sip_msg::auth::Challenge::parse(challenge_401.www_authenticate().unwrap()).unwrap();
        sip_auth::authorize(
            &ch,
            &sip_auth::ClientCredentials {
                username: user,
                password,
            },
            "AUTH",
            self.relay.as_str(),
            b"",
            &format!("wscn{}", self.nc),
            1,
        )
        .unwrap()
    }

    /// AUTH, 401, AUTH with credentials: (the 401, the final response).
    pub fn auth(&mut self, user: &str, password: &str) -> (Frame, Frame) {
        let first = self.auth_request(None);
        self.send(&first);
        let challenge = self.recv().expect("401");
        assert_eq!(challenge.status(), Some(401), "{challenge:?}");
        let a = self.answer(&challenge, user, password);
        let second = self.auth_request(Some(&a));
        self.send(&second);
        let last = self.recv().expect("answer to the AUTH with credentials");
        (challenge, last)
    }

    /// AUTH that must succeed: the Use-Path URI.
    pub fn auth_ok(&mut self, user: &str, password: &str) -> MsrpUri {
        let (_, r) = self.auth(user, password);
        assert_eq!(r.status(), Some(200), "{r:?}");
        r.use_path().unwrap().unwrap().remove(0)
    }

    /// A whole-message SEND along `to_path`.
    pub fn send_frame(&self, to_path: &[MsrpUri], body: &[u8]) -> Frame {
        let len = body.len() as u64;
        Frame::builder(Method::Send)
            .to_path(to_path)
            .from_path(std::slice::from_ref(&self.me))
            .message_id(&MessageId::random())
            .byte_range(msrp::ByteRange::new(1, Some(len), Some(len)))
            .body("application/octet-stream", Bytes::copy_from_slice(body))
            .build()
            .unwrap()
    }
}
