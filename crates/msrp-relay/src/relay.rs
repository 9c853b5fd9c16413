//! The relay's decisions (RFC 4976 §6), sans-IO: the session table (tokens
//! handed out in Use-Path and who owns them), the forwarding rules, the
//! hop-by-hop transactions of forwarded requests and their timers, AUTH state
//! per connection, and the application's local sessions (an MSRP endpoint
//! inside the relay, such as a chat room focus, RFC 7701). Time comes in as
//! an argument; what to write, open, close, check or deliver comes out of
//! [`Relay::poll_output`].

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use msrp::{
    ByteRange, FailureReport, Frame, Header, Method, MsrpUri, ParseError, TransactionId, names,
    report, status,
};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::auth::{AuthRequest, AuthVerdict};
use crate::error::LocalSendError;

/// One connection, inbound or outbound, as the core knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(u64);

impl ConnId {
    /// The number, for logs.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// One AUTH waiting for its credential check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthId(u64);

/// Bounds on the Expires of an AUTH (RFC 4976 §4.6, §6.3), seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryBounds {
    /// Smaller requests get 423 with Min-Expires.
    pub min: u64,
    /// Larger requests get 423 with Max-Expires.
    pub max: u64,
    /// Granted when the AUTH names none.
    pub default: u64,
}

/// Everything the core decides by.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// This relay's URI on each listener (`msrp://host:port;tcp`, no
    /// session-id), in listener order: what To-Path URIs are compared with
    /// and what Use-Path URIs are made from. RFC 4976 §4.2 wants a domain name
    /// and an explicit port.
    pub listeners: Vec<MsrpUri>,
    /// Other host names and addresses that name this relay (its domains, the
    /// listen addresses), compared without case.
    pub aliases: Vec<String>,
    /// AUTH Expires bounds.
    pub expires: ExpiryBounds,
    /// Largest message (all chunks) relayed, bytes: a SEND whose Byte-Range
    /// reaches past it gets 413 (RFC 4975 §10.5).
    pub max_message_size: u64,
    /// Connections at once, in and out.
    pub max_connections: usize,
    /// Inbound connections at once from one address.
    pub max_connections_per_ip: usize,
    /// Relay sessions (tokens) one connection may hold.
    pub max_sessions_per_connection: usize,
    /// AUTH requests with wrong credentials before 403 and close (RFC 4976
    /// §6.3: "SHOULD terminate the corresponding connection").
    pub max_auth_failures: u32,
    /// How long the next hop has to answer a forwarded request (RFC 4976
    /// §6.4.1: 30 s, then a 408 REPORT).
    pub transaction_timeout: Duration,
    /// How long a new inbound connection has to send a successful request
    /// (RFC 4976 §6.1: 30 s).
    pub probation: Duration,
    /// Forwarded transactions tracked at once; past it, requests are still
    /// forwarded but their timeouts are not watched.
    pub max_pending: usize,
    /// Whether the driver can open TLS connections (msrps next hops).
    pub outbound_tls: bool,
    /// Local sessions (see [`Relay::open_local`]) open at once.
    pub max_local_sessions: usize,
    /// Bytes of frames held for one local session whose peer has not
    /// connected yet; past it [`Relay::send_local`] refuses.
    pub local_hold_bytes: usize,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            listeners: Vec::new(),
            aliases: Vec::new(),
            expires: ExpiryBounds {
                min: 60,
                max: 3600,
                default: 1800,
            },
            max_message_size: 64 * 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_ip: 1000,
            max_sessions_per_connection: 1024,
            max_auth_failures: 3,
            transaction_timeout: Duration::from_secs(30),
            probation: Duration::from_secs(30),
            max_pending: 1_000_000,
            outbound_tls: false,
            max_local_sessions: 10_000,
            local_hold_bytes: 256 * 1024,
        }
    }
}

/// A next hop the driver must connect to (RFC 4975 §6.2: an IP literal is
/// used as is, a name is resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (RFC 4976 §8: 2855 when an AUTH To-Path names none).
    pub port: u16,
    /// `msrps`: TLS.
    pub secure: bool,
}

/// Bytes to write on a connection.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A frame to serialize (its body is written as is, without a copy).
    Frame(Frame),
    /// A frame already serialized.
    Encoded(Bytes),
}

/// What the driver does next.
#[derive(Debug)]
pub enum Output {
    /// Queue `data` on `conn`, after what is queued there.
    Send {
        /// The connection.
        conn: ConnId,
        /// What to write.
        data: Outgoing,
    },
    /// Open `conn` to `hop`; Sends to `conn` may follow before it is up and
    /// are written once it is. Report the outcome with
    /// [`Relay::handle_closed`] if it fails.
    Connect {
        /// The id the new connection has.
        conn: ConnId,
        /// Where to.
        hop: NextHop,
    },
    /// Close `conn` once what is queued on it is written.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// Check these AUTH credentials and call [`Relay::handle_auth_verdict`].
    Authenticate {
        /// The AUTH's connection (for the driver's bookkeeping).
        conn: ConnId,
        /// Passed back with the verdict.
        id: AuthId,
        /// What to check.
        request: AuthRequest,
    },
    /// Hand this to the application: something happened to one of its
    /// local sessions.
    Local(LocalEvent),
}

/// What the application hears about its local sessions
/// ([`Relay::open_local`]).
#[derive(Debug)]
pub enum LocalEvent {
    /// A request for the session (a SEND, already answered by the relay per
    /// RFC 4975 §7.2, or a REPORT), as it arrived.
    Request {
        /// The session-id.
        session: String,
        /// The connection it came on (the one the session is bound to).
        conn: ConnId,
        /// The request.
        frame: Frame,
    },
    /// The session's connection closed: the session is gone (RFC 4975
    /// §5.4: a session fails with its connection).
    Closed {
        /// The session-id.
        session: String,
    },
}

/// What [`Relay::send_local`] did with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalSend {
    /// Queued on the peer's connection.
    Queued,
    /// Held until the peer connects.
    Held,
}

/// A session that ends here: an MSRP endpoint of the application's
/// ([`Relay::open_local`]). RFC 4975 §5.4: the offerer connects, so the
/// application (the answerer) writes to its peer over the connection the
/// peer opened, learnt from the peer's first request.
#[derive(Debug)]
struct Local {
    /// Media types taken at top level (RFC 4975 §8.6): a SEND of another
    /// type is answered 415.
    accept: Vec<String>,
    /// The peer's connection, once its first request came.
    conn: Option<ConnId>,
    /// To-Path of requests to the peer: the From-Path its requests carry.
    to_path: String,
    /// From-Path of requests to the peer: its requests' To-Path up to and
    /// including this session's URI (our relay hops first, as if forwarded).
    from_path: String,
    /// Frames the application sent before the peer connected.
    held: VecDeque<Frame>,
    held_bytes: usize,
}

/// A relay session: a token handed out in Use-Path (RFC 4976 §6.3).
#[derive(Debug)]
struct Session {
    /// The connection the AUTH came on: the only one the token routes
    /// toward or from (RFC 4976 §6.3, a client previous hop).
    owner: ConnId,
    expires: Instant,
    user: String,
}

/// Connection reuse key (RFC 4975 §5.4: same host, port and scheme).
type HopKey = (bool, String, u16);

#[derive(Debug)]
struct Conn {
    /// Inbound: the peer's address, for the per-address limit.
    ip: Option<IpAddr>,
    /// Inbound: which listener it came in on (Use-Path URIs are made from
    /// it; for a WebSocket connection, the TCP listener of its security).
    listener: usize,
    /// A WebSocket connection (RFC 7977): the address it connected to.
    websocket: Option<IpAddr>,
    /// Outbound: the reuse key.
    hop: Option<HopKey>,
    /// Tokens this connection obtained.
    tokens: Vec<String>,
    /// Local sessions bound to this connection.
    locals: Vec<String>,
    auth_failures: u32,
    /// A request was accepted (RFC 4976 §6.1 probation).
    succeeded: bool,
}

/// What a failure REPORT for a forwarded SEND needs (RFC 4975 §7.1.4, RFC
/// 4976 §6.4.1): the request's first To-Path URI (ours, the REPORT's
/// From-Path), its From-Path (the REPORT's To-Path) and Message-ID, in one
/// buffer; the range it covered; its Failure-Report.
#[derive(Debug)]
struct SendRecord {
    text: String,
    /// `text[..to_end]` is the To-Path URI, `text[to_end..from_end]` the
    /// From-Path, the rest the Message-ID.
    to_end: usize,
    from_end: usize,
    range: ByteRange,
    failure_report: FailureReport,
}

impl SendRecord {
    fn new(frame: &Frame, ours: &str, range: ByteRange, failure_report: FailureReport) -> Self {
        let from = frame.header(names::FROM_PATH).unwrap_or("");
        let mid = frame.header(names::MESSAGE_ID).unwrap_or("").trim();
        let mut text = String::with_capacity(ours.len() + from.len() + mid.len());
        text.push_str(ours);
        let to_end = text.len();
        text.push_str(from);
        let from_end = text.len();
        text.push_str(mid);
        SendRecord {
            text,
            to_end,
            from_end,
            range,
            failure_report,
        }
    }

    /// The failure REPORT with `code`, toward the SEND's sender.
    fn report(&self, code: u16) -> msrp::Result<Frame> {
        let request = Frame::builder(Method::Send)
            .header(names::TO_PATH, &self.text[..self.to_end])
            .header(names::FROM_PATH, &self.text[self.to_end..self.from_end])
            .header(names::MESSAGE_ID, &self.text[self.from_end..])
            .build()?;
        report::failure(&request, code, self.range)
    }
}

#[derive(Debug)]
enum PendingKind {
    /// A forwarded SEND (RFC 4976 §6.4.1, §6.4.3).
    Send(SendRecord),
    /// A forwarded request whose response travels back along the path (AUTH
    /// through this relay, RFC 4976 §5.1): the request as it arrived, whose
    /// transaction id the response gets back.
    Forwarded { original: Frame },
}

/// A forwarded request waiting for its response. Keyed by the sequence
/// number in the transaction id we gave it (see [`Relay::fresh_tid`]).
#[derive(Debug)]
struct Pending {
    /// Where the request came from.
    in_conn: ConnId,
    /// Where it went: the response must come from there.
    out_conn: ConnId,
    /// The random part of the transaction id we gave it.
    nonce: [u8; TID_RANDOM],
    kind: PendingKind,
}

/// Granularity of transaction deadlines.
const MARK_EVERY: Duration = Duration::from_millis(100);

/// Random alphanumerics in the transaction ids of forwarded requests: 12 are
/// 71 bits (RFC 4975 §7.1: at least 64).
const TID_RANDOM: usize = 12;

/// A request to forward, decided: where to, its new paths, what to remember.
#[derive(Debug)]
struct Plan {
    target: ConnId,
    to_path: String,
    from_path: String,
    record: Option<PendingKind>,
}

#[derive(Debug)]
struct AuthWait {
    conn: ConnId,
    /// The AUTH, for its response.
    frame: Frame,
    had_credentials: bool,
}

/// Where a forwarded request goes.
#[derive(Debug)]
enum Route {
    /// Over this existing connection (a token's owner).
    Conn(ConnId),
    /// To the next hop named by this URI (reuse or open a connection).
    Next(MsrpUri),
}

/// A refusal: status and reason.
type Refusal = (u16, &'static str);

/// The RFC 4976 relay core. See the crate documentation for the drive contract.
#[derive(Debug)]
pub struct Relay {
    cfg: RelayConfig,
    next_conn: u64,
    next_auth: u64,
    conns: HashMap<ConnId, Conn>,
    per_ip: HashMap<IpAddr, usize>,
    sessions: HashMap<String, Session>,
    expiries: BTreeSet<(Instant, String)>,
    outbound: HashMap<HopKey, ConnId>,
    /// By sequence number, which grows with time: the oldest come first.
    pending: BTreeMap<u64, Pending>,
    next_seq: u64,
    /// Deadline marks: `(at, bound)` says every transaction numbered below
    /// `bound` times out at `at`. One timeout for all, so marks are in
    /// deadline order; one mark per [`MARK_EVERY`] of traffic keeps this
    /// small at any rate (a transaction may time out up to that much early).
    deadlines: VecDeque<(Instant, u64)>,
    probation: VecDeque<(Instant, ConnId)>,
    auth_waiting: HashMap<AuthId, AuthWait>,
    /// Local sessions by session-id.
    locals: HashMap<String, Local>,
    out: VecDeque<Output>,
}

/// 22 alphanumerics: 131 bits from the thread's cryptographically secure
/// generator (RFC 4976 §6.3: at least 64 bits).
fn new_token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(22)
        .map(char::from)
        .collect()
}

/// A response with extra header fields, serialized: `Frame` keeps one field
/// per name through its setters, and a 401 carries one WWW-Authenticate per
/// offered algorithm.
fn encode_response(resp: &Frame, extra: &[(&str, &str)]) -> Option<Bytes> {
    let mut b = BytesMut::with_capacity(resp.encoded_len() + 512);
    // A response has no body: the head ends with its last header line.
    resp.encode_head_into(&mut b);
    for (name, value) in extra {
        let h = Header::new(name, value).ok()?;
        b.put_slice(h.name().as_bytes());
        b.put_slice(b": ");
        b.put_slice(h.value().as_bytes());
        b.put_slice(b"\r\n");
    }
    resp.encode_tail_into(&mut b);
    Some(b.freeze())
}

/// What a request addressed to us leads to.
#[derive(Debug)]
enum Next {
    /// AUTH to this relay, with the digest-uri.
    Auth(String),
    Forward(Plan),
    /// For a local session: its id and the To-Path hops up to it.
    Local {
        session: String,
        hops: String,
    },
}

/// Does the media type `ct` (parameters ignored) match one of `accept`
/// (RFC 4975 §8.6: `*` anything, `type/*` any subtype)?
pub(crate) fn media_accepted(ct: &str, accept: &[String]) -> bool {
    let media = ct.split(';').next().unwrap_or("").trim();
    let (ty, _) = media.split_once('/').unwrap_or((media, ""));
    accept.iter().any(|a| {
        let a = a.split(';').next().unwrap_or("").trim();
        a == "*"
            || a.eq_ignore_ascii_case(media)
            || a.strip_suffix("/*")
                .is_some_and(|t| t.eq_ignore_ascii_case(ty))
    })
}

/// A transaction id for a forwarded request: 12 random alphanumerics, then
/// `seq` in hex (so its response finds the transaction without a lookup by
/// string), chosen so that its end-line does not occur in `body` (RFC 4975
/// §7.1). Returns the id and its random part.
fn fresh_tid(seq: u64, body: Option<&[u8]>) -> (TransactionId, [u8; TID_RANDOM]) {
    let mut rng = rand::rng();
    loop {
        let mut nonce = [0u8; TID_RANDOM];
        for (b, c) in nonce.iter_mut().zip((&mut rng).sample_iter(&Alphanumeric)) {
            *b = c;
        }
        let mut s = String::with_capacity(TID_RANDOM + 16);
        s.extend(nonce.iter().map(|&b| char::from(b)));
        s.push_str(&format!("{seq:x}"));
        if body.is_some_and(|b| end_line_in(b, s.as_bytes())) {
            continue;
        }
        if let Ok(t) = TransactionId::new(s) {
            return (t, nonce);
        }
    }
}

/// The sequence number in a transaction id made by [`fresh_tid`].
fn seq_of(tid: &str) -> Option<u64> {
    let hex = tid.get(TID_RANDOM..)?;
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// Whether `"-------" tid flag` occurs in `body` (RFC 4975 §7.1), with one
/// searcher for the seven hyphens built once per thread.
fn end_line_in(body: &[u8], tid: &[u8]) -> bool {
    thread_local! {
        static HYPHENS: memchr::memmem::Finder<'static> = memchr::memmem::Finder::new(b"-------");
    }
    HYPHENS.with(|f| {
        f.find_iter(body).any(|p| {
            let rest = &body[p + 7..];
            rest.starts_with(tid)
                && rest
                    .get(tid.len())
                    .is_some_and(|&c| matches!(c, b'$' | b'+' | b'#'))
        })
    })
}

/// `200 OK` to a SEND (RFC 4975 §7.2): To-Path the first From-Path URI (the
/// previous hop), From-Path our URI as the request named it. Written
/// directly: both come from a frame the decoder validated.
fn ok_response(tid: &str, to: &str, from: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(60 + 2 * tid.len() + to.len() + from.len());
    b.put_slice(b"MSRP ");
    b.put_slice(tid.as_bytes());
    b.put_slice(b" 200 OK\r\nTo-Path: ");
    b.put_slice(to.as_bytes());
    b.put_slice(b"\r\nFrom-Path: ");
    b.put_slice(from.as_bytes());
    b.put_slice(b"\r\n-------");
    b.put_slice(tid.as_bytes());
    b.put_slice(b"$\r\n");
    b.freeze()
}

/// `frame` with the To-Path and From-Path of a local session's peer.
fn addressed(mut frame: Frame, to_path: &str, from_path: &str) -> Result<Frame, LocalSendError> {
    frame
        .set_header(names::TO_PATH, to_path)
        .and_then(|()| frame.set_header(names::FROM_PATH, from_path))
        .map_err(|_| LocalSendError::BadFrame)?;
    Ok(frame)
}

impl Relay {
    /// A relay deciding by `cfg`.
    pub fn new(cfg: RelayConfig) -> Relay {
        Relay {
            cfg,
            next_conn: 1,
            next_auth: 1,
            conns: HashMap::new(),
            per_ip: HashMap::new(),
            sessions: HashMap::new(),
            expiries: BTreeSet::new(),
            outbound: HashMap::new(),
            pending: BTreeMap::new(),
            next_seq: 1,
            deadlines: VecDeque::new(),
            probation: VecDeque::new(),
            auth_waiting: HashMap::new(),
            locals: HashMap::new(),
            out: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RelayConfig {
        &self.cfg
    }

    /// Connections open (in and out).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Live relay sessions (tokens).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Forwarded transactions waiting for their response.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Relay::handle_timeout`] has work next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let d = self.deadlines.front().map(|d| d.0);
        let p = self.probation.front().map(|p| p.0);
        let e = self.expiries.first().map(|e| e.0);
        [d, p, e].into_iter().flatten().min()
    }

    fn send(&mut self, conn: ConnId, data: Outgoing) {
        self.out.push_back(Output::Send { conn, data });
    }

    /// Answers `req` on `conn` with `code` if it is owed one (RFC 4975 §7.2,
    /// §7.1.4: not for REPORT, not for Failure-Report `no`, no 200 for
    /// `partial`).
    fn reply(&mut self, conn: ConnId, req: &Frame, code: u16, reason: &str) {
        if !report::response_owed(req, code) {
            return;
        }
        match req.response(code, Some(reason)) {
            Ok(r) => self.send(conn, Outgoing::Frame(r)),
            Err(e) => tracing::debug!(error = %e, "cannot build a response"),
        }
    }

    // ---- connections -----------------------------------------------------

    /// A new inbound connection from `peer` on listener `listener`: its id,
    /// or `None` when a connection limit refuses it (close it at once).
    pub fn handle_accept(&mut self, peer: IpAddr, listener: usize, now: Instant) -> Option<ConnId> {
        self.accept(peer, listener, None, now)
    }

    /// A new WebSocket connection (RFC 7977) from `peer` to `local`, over
    /// TLS (`wss`) when `secure`: its id, or `None` when a connection limit
    /// refuses it or the relay has no TCP listener (its Use-Path URIs are
    /// this relay's TCP URIs: RFC 7977 §5.2.2 and the §8.1 examples, what
    /// the far end of a session connects to). `local` and any alias name
    /// the relay in `;ws` To-Path URIs on this connection.
    pub fn handle_accept_websocket(
        &mut self,
        peer: IpAddr,
        local: IpAddr,
        secure: bool,
        now: Instant,
    ) -> Option<ConnId> {
        if self.cfg.listeners.is_empty() {
            tracing::debug!(%peer, "MSRP WebSocket connection refused: no TCP listener");
            return None;
        }
        // A wss client gets an msrps Use-Path when there is one (RFC 7977
        // §8.1.1: WSS to the relay, TLS beyond it).
        let listener = self
            .cfg
            .listeners
            .iter()
            .position(|l| l.is_secure() == secure)
            .unwrap_or(0);
        self.accept(peer, listener, Some(local), now)
    }

    fn accept(
        &mut self,
        peer: IpAddr,
        listener: usize,
        websocket: Option<IpAddr>,
        now: Instant,
    ) -> Option<ConnId> {
        if self.conns.len() >= self.cfg.max_connections {
            tracing::debug!(%peer, "MSRP connection refused: connection limit");
            return None;
        }
        let n = self.per_ip.entry(peer).or_insert(0);
        if *n >= self.cfg.max_connections_per_ip {
            tracing::debug!(%peer, "MSRP connection refused: per-address limit");
            return None;
        }
        *n += 1;
        let id = self.alloc_conn();
        self.conns.insert(
            id,
            Conn {
                ip: Some(peer),
                listener: listener.min(self.cfg.listeners.len().saturating_sub(1)),
                websocket,
                hop: None,
                tokens: Vec::new(),
                locals: Vec::new(),
                auth_failures: 0,
                succeeded: false,
            },
        );
        // RFC 4976 §6.1: a successful request within the probation period,
        // or the connection is closed.
        self.probation.push_back((now + self.cfg.probation, id));
        Some(id)
    }

    fn alloc_conn(&mut self) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        id
    }

    /// Ends the relay session of `token` at once (its SIP dialog ended:
    /// the application tears the MSRP session down with it). Requests
    /// naming it get 481 from now on; the owner's connection stays open
    /// (its other sessions live on). False when no such session.
    pub fn release_session(&mut self, token: &str) -> bool {
        let Some(s) = self.sessions.remove(token) else {
            return false;
        };
        self.expiries.remove(&(s.expires, token.to_owned()));
        if let Some(c) = self.conns.get_mut(&s.owner) {
            c.tokens.retain(|t| t != token);
        }
        true
    }

    /// `conn` is gone (closed by either side, or an outbound connect
    /// failed): its tokens are invalid from now on (RFC 4976 §6.3: "If the
    /// client's connection is closed and then reopened, the URI MUST be
    /// invalidated"), and requests forwarded over it that are still owed a
    /// response fail with 408 (REPORT to the sender, RFC 4976 §6.4.1).
    pub fn handle_closed(&mut self, conn: ConnId, _now: Instant) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(ip) = c.ip
            && let Some(n) = self.per_ip.get_mut(&ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_ip.remove(&ip);
            }
        }
        if let Some(hop) = &c.hop
            && self.outbound.get(hop) == Some(&conn)
        {
            self.outbound.remove(hop);
        }
        for t in &c.tokens {
            if let Some(s) = self.sessions.remove(t) {
                self.expiries.remove(&(s.expires, t.clone()));
            }
        }
        // RFC 4975 §5.4: "If the connection fails for any reason, ... the
        // session associated with the connection also fails."
        for session in c.locals {
            if self.locals.remove(&session).is_some() {
                self.out
                    .push_back(Output::Local(LocalEvent::Closed { session }));
            }
        }
        let lost: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.out_conn == conn)
            .map(|(seq, _)| *seq)
            .collect();
        for key in lost {
            if let Some(p) = self.pending.remove(&key) {
                self.fail_pending(p, status::REQUEST_TIMEOUT, "Next hop connection lost", true);
            }
        }
    }

    /// A forwarded request will get no response: a SEND with Failure-Report
    /// `yes` gets a failure REPORT toward its sender (RFC 4976 §6.4.1), a
    /// forwarded AUTH a 408 response. `timer`: the failure is a missing
    /// response (timeout, lost connection), which only `yes` asks to hear of.
    fn fail_pending(&mut self, p: Pending, code: u16, why: &str, timer: bool) {
        if !self.conns.contains_key(&p.in_conn) {
            return;
        }
        match p.kind {
            PendingKind::Send(record) => {
                let wanted = match record.failure_report {
                    FailureReport::Yes => true,
                    FailureReport::Partial => !timer,
                    FailureReport::No => false,
                };
                if !wanted {
                    return;
                }
                match record.report(code) {
                    Ok(r) => self.send(p.in_conn, Outgoing::Frame(r)),
                    Err(e) => tracing::debug!(error = %e, why, "no failure REPORT"),
                }
            }
            PendingKind::Forwarded { original } => {
                self.reply(p.in_conn, &original, code, why);
            }
        }
    }

    // ---- time ------------------------------------------------------------

    /// Runs the timers due at `now`: transaction timeouts (RFC 4976 §6.4.1),
    /// the probation of new connections (§6.1), token expiry (§6.3).
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, bound)) = self.deadlines.front() {
            if at > now {
                break;
            }
            self.deadlines.pop_front();
            while let Some(entry) = self.pending.first_entry() {
                if *entry.key() >= bound {
                    break;
                }
                let p = entry.remove();
                self.fail_pending(p, status::REQUEST_TIMEOUT, "Request Timeout", true);
            }
        }
        while let Some(&(at, conn)) = self.probation.front() {
            if at > now {
                break;
            }
            self.probation.pop_front();
            if self.conns.get(&conn).is_some_and(|c| !c.succeeded) {
                tracing::debug!(
                    conn = conn.0,
                    "MSRP probation over without a successful request"
                );
                self.out.push_back(Output::Close { conn });
            }
        }
        while let Some((at, _)) = self.expiries.first() {
            if *at > now {
                break;
            }
            let Some((_, token)) = self.expiries.pop_first() else {
                break;
            };
            if let Some(s) = self.sessions.remove(&token) {
                tracing::debug!(user = %s.user, "MSRP relay session expired");
                if let Some(c) = self.conns.get_mut(&s.owner) {
                    c.tokens.retain(|t| *t != token);
                }
            }
        }
    }

    // ---- frames ----------------------------------------------------------

    /// A frame the decoder could not take (RFC 4975 §7.2 via
    /// [`ParseError::answer`]): 400 (or 413) when it can be answered, the
    /// connection closed when the stream is out of step.
    pub fn handle_parse_error(&mut self, conn: ConnId, err: &ParseError, _now: Instant) {
        if err.must_close() {
            tracing::debug!(conn = conn.0, error = %err, "MSRP stream out of step, closing");
            self.out.push_back(Output::Close { conn });
            return;
        }
        if let Some(answer) = err.answer() {
            self.send(conn, Outgoing::Frame(answer));
        }
    }

    /// Is `uri` one of ours? The listener index it names.
    fn listener_of(&self, uri: &MsrpUri) -> Option<usize> {
        if !uri.transport().eq_ignore_ascii_case("tcp") {
            return None;
        }
        let host = uri.host_str();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let alias = self
            .cfg
            .aliases
            .iter()
            .any(|a| a.eq_ignore_ascii_case(bare));
        self.cfg.listeners.iter().position(|l| {
            l.is_secure() == uri.is_secure()
                // RFC 4976 §8: an AUTH To-Path may omit the port.
                && (uri.port().is_none() || uri.port() == l.port())
                && (alias
                    || l.host_str().eq_ignore_ascii_case(host)
                    || (uri.ip().is_some() && uri.ip() == l.ip()))
        })
    }

    /// Does `uri`, the first To-Path URI of a request on `conn`, name this
    /// relay (RFC 4976 §6.2)? One of our TCP URIs does on any connection;
    /// on a WebSocket connection a `ws` URI with one of our host names (a
    /// listener's, an alias) or the address the client connected to does too (RFC 7977 §8.1: the
    /// client addresses AUTH to `msrps://host:443;ws`). Its port is not
    /// compared: the WebSocket reached us, whatever port a proxy in front
    /// of us was dialled on.
    fn names_us(&self, conn: ConnId, uri: &MsrpUri) -> bool {
        if self.listener_of(uri).is_some() {
            return true;
        }
        let Some(local) = self.conns.get(&conn).and_then(|c| c.websocket) else {
            return false;
        };
        if !uri.transport().eq_ignore_ascii_case("ws") {
            return false;
        }
        let host = uri.host_str();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        uri.ip() == Some(local)
            || self
                .cfg
                .aliases
                .iter()
                .any(|a| a.eq_ignore_ascii_case(bare))
            || self
                .cfg
                .listeners
                .iter()
                .any(|l| l.host_str().eq_ignore_ascii_case(host))
    }

    /// A frame read from `conn`.
    pub fn handle_frame(&mut self, conn: ConnId, frame: Frame, now: Instant) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        if frame.is_request() {
            self.on_request(conn, frame, now);
        } else {
            self.on_response(conn, frame);
        }
    }

    fn on_request(&mut self, conn: ConnId, mut frame: Frame, now: Instant) {
        // Decided on the frame as it arrived (paths borrowed from it), then
        // applied to it.
        let next = {
            let Some(to) = frame.header(names::TO_PATH) else {
                self.reply(conn, &frame, status::BAD_REQUEST, "Missing To-Path");
                return;
            };
            let hops: Vec<&str> = to.split_ascii_whitespace().collect();
            let Some(first) = hops.first().and_then(|h| MsrpUri::parse(h).ok()) else {
                self.reply(conn, &frame, status::BAD_REQUEST, "Bad To-Path");
                return;
            };
            if !self.names_us(conn, &first) {
                // RFC 4976 §6.2: "If the request is not addressed to the
                // relay, the relay immediately drops the corresponding
                // connection."
                tracing::debug!(conn = conn.0, to = %first, "MSRP request not addressed to this relay");
                self.out.push_back(Output::Close { conn });
                return;
            }
            let method = frame.method().cloned().unwrap_or(Method::Report);
            // A session of the application's (RFC 7701 focus) ends here:
            // directly, or after the sender's own relay session.
            let local = if method == Method::Auth {
                Ok(None)
            } else {
                self.local_target(conn, &hops, &first, now)
            };
            match local {
                Err((code, why)) => {
                    tracing::debug!(
                        conn = conn.0,
                        code,
                        why,
                        "MSRP request for a local session refused"
                    );
                    if method == Method::Send {
                        self.reply(conn, &frame, code, why);
                    }
                    return;
                }
                Ok(Some((at, session))) => Next::Local {
                    session,
                    hops: hops[..=at].join(" "),
                },
                Ok(None) if hops.len() == 1 => match method {
                    // RFC 4976 §9.1: H(A2) uses the rightmost To-Path URI.
                    Method::Auth => Next::Auth(hops[0].to_owned()),
                    // RFC 4975 §7.3: a request must map to a session; nothing
                    // ends at a relay but AUTH (and local sessions, above).
                    Method::Send => {
                        let known = first
                            .session_id()
                            .is_some_and(|t| self.live_session(t, now).is_some());
                        let (code, why) = if known {
                            (status::FORBIDDEN, "Nothing to forward to")
                        } else {
                            (status::NO_SUCH_SESSION, "Session does not exist")
                        };
                        self.reply(conn, &frame, code, why);
                        return;
                    }
                    Method::Report => return,
                    Method::Other(_) => {
                        self.reply(conn, &frame, status::NOT_IMPLEMENTED, "Not Implemented");
                        return;
                    }
                },
                Ok(None) => match self.plan(conn, &frame, &hops, first, method, now) {
                    Some(plan) => Next::Forward(plan),
                    None => return,
                },
            }
        };
        let plan = match next {
            Next::Auth(digest_uri) => {
                self.on_auth(conn, frame, digest_uri);
                return;
            }
            Next::Local { session, hops } => {
                self.on_local(conn, frame, session, hops);
                return;
            }
            Next::Forward(plan) => plan,
        };
        // RFC 4976 §6.4.1/§6.4.2: our URIs leave To-Path and head From-Path.
        if let Err(e) = frame
            .set_header(names::TO_PATH, &plan.to_path)
            .and_then(|()| frame.set_header(names::FROM_PATH, &plan.from_path))
        {
            tracing::debug!(error = %e, "cannot rewrite the paths");
            return;
        }
        // RFC 4976 §6.4: transaction ids must not collide on the next hop's
        // connection, so the forwarded request gets one of ours.
        let seq = self.next_seq;
        self.next_seq += 1;
        let (tid, nonce) = fresh_tid(seq, frame.body().map(Bytes::as_ref));
        frame.set_transaction_id(tid);
        if let Some(kind) = plan.record
            && self.pending.len() < self.cfg.max_pending
        {
            let at = now + self.cfg.transaction_timeout;
            match self.deadlines.back_mut() {
                Some(last) if last.0 + MARK_EVERY > at => last.1 = seq + 1,
                _ => self.deadlines.push_back((at, seq + 1)),
            }
            self.pending.insert(
                seq,
                Pending {
                    in_conn: conn,
                    out_conn: plan.target,
                    nonce,
                    kind,
                },
            );
        }
        self.send(plan.target, Outgoing::Frame(frame));
    }

    fn live_session(&self, token: &str, now: Instant) -> Option<&Session> {
        self.sessions.get(token).filter(|s| s.expires > now)
    }

    /// RFC 4976 §6.4: the first To-Path URI must be a token we handed out,
    /// and either the request comes from the token owner's connection (then
    /// it goes on to the next hop) or it goes to the owner (then exactly one
    /// URI, the client's, follows, and the owner's connection carries it).
    /// Consecutive URIs of ours (both clients on this relay) are walked here
    /// without a network hop. Returns how many URIs are ours and the route.
    fn route(
        &self,
        conn: ConnId,
        hops: &[&str],
        first: MsrpUri,
        now: Instant,
    ) -> Result<(usize, Route), Refusal> {
        let mut i = 0;
        let mut here = first;
        // `None`: the previous hop is this relay (an inner hop).
        let mut prev = Some(conn);
        loop {
            let Some(token) = here.session_id() else {
                // No token: nobody authorized this relaying (RFC 4976 §3.1).
                return Err((status::FORBIDDEN, "Forbidden: AUTH first"));
            };
            let Some(s) = self.live_session(token, now) else {
                // RFC 4976 §6.3: the URI is not valid (never handed out,
                // expired, or its client's connection closed).
                return Err((status::NO_SUCH_SESSION, "Session does not exist"));
            };
            let Some(next) = hops.get(i + 1) else {
                return Err((status::FORBIDDEN, "Nothing to forward to"));
            };
            if prev == Some(s.owner) {
                // From the client that obtained the token, over its own
                // connection: on to the next hop, whatever it is.
                let next =
                    MsrpUri::parse(next).map_err(|_| (status::BAD_REQUEST, "Bad To-Path"))?;
                if self.listener_of(&next).is_some() {
                    i += 1;
                    here = next;
                    prev = None;
                    continue;
                }
                return Ok((i + 1, Route::Next(next)));
            }
            // Toward the client that obtained the token: the next hop must be
            // that client, reached over its own connection only.
            if hops.len() - i - 1 == 1 {
                return Ok((i + 1, Route::Conn(s.owner)));
            }
            return Err((status::FORBIDDEN, "Forbidden: not this session's client"));
        }
    }

    /// Decides a request addressed to us with more hops after us: refused
    /// (answered here, `None`), or where it goes and what to remember. A SEND
    /// with Failure-Report `yes` is answered 200 here (RFC 4976 §6.4.1: at
    /// once, to the previous hop; it only means the relay took the chunk).
    fn plan(
        &mut self,
        conn: ConnId,
        frame: &Frame,
        hops: &[&str],
        first: MsrpUri,
        method: Method,
        now: Instant,
    ) -> Option<Plan> {
        // Only SEND and AUTH are answered when refused: REPORTs never are,
        // unknown methods are forwarded as if they were REPORTs (RFC 4976
        // §6.4.2).
        let answered = matches!(method, Method::Send | Method::Auth);
        if method == Method::Send
            && let Err(why) = self.check_size(frame)
        {
            self.reply(conn, frame, status::MESSAGE_TOO_LARGE, why);
            return None;
        }
        let (ours, route) = match self.route(conn, hops, first, now) {
            Ok(r) => r,
            Err((code, why)) => {
                tracing::debug!(conn = conn.0, code, why, "MSRP request refused");
                if answered {
                    self.reply(conn, frame, code, why);
                }
                return None;
            }
        };
        let target = match route {
            Route::Conn(c) => c,
            Route::Next(uri) => match self.next_hop(&uri) {
                Ok(c) => c,
                Err((code, why)) => {
                    if answered {
                        self.reply(conn, frame, code, why);
                    }
                    return None;
                }
            },
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.succeeded = true;
        }
        let from = frame.header(names::FROM_PATH).unwrap_or("");
        let record = match method {
            Method::Send => {
                let fr = frame.failure_report().unwrap_or_default();
                if fr == FailureReport::Yes
                    && let Some(back) = from.split_ascii_whitespace().next()
                {
                    let ok = ok_response(frame.transaction_id().as_str(), back, hops[0]);
                    self.send(conn, Outgoing::Encoded(ok));
                }
                (fr != FailureReport::No).then(|| {
                    PendingKind::Send(SendRecord::new(
                        frame,
                        hops[0],
                        report::received_range(frame),
                        fr,
                    ))
                })
            }
            Method::Auth => Some(PendingKind::Forwarded {
                original: frame.clone(),
            }),
            Method::Report | Method::Other(_) => None,
        };
        let to_path = hops[ours..].join(" ");
        let mut from_path = String::with_capacity(
            from.len() + hops[..ours].iter().map(|h| h.len() + 1).sum::<usize>(),
        );
        for h in hops[..ours].iter().rev() {
            from_path.push_str(h);
            from_path.push(' ');
        }
        from_path.push_str(from);
        Some(Plan {
            target,
            to_path,
            from_path,
            record,
        })
    }

    /// RFC 4975 §10.5: 413 for a message larger than we relay, judged by its
    /// Byte-Range (declared total, or where this chunk ends).
    fn check_size(&self, frame: &Frame) -> Result<(), &'static str> {
        Self::check_size_with(frame, self.cfg.max_message_size)
    }

    fn check_size_with(frame: &Frame, max: u64) -> Result<(), &'static str> {
        let body = frame.body().map_or(0, |b| b.len() as u64);
        let (start, total) = match frame.byte_range() {
            Ok(Some(r)) => (r.start, r.total),
            _ => (1, None),
        };
        if total.is_some_and(|t| t > max) || (start - 1).saturating_add(body) > max {
            return Err("Message Too Large");
        }
        Ok(())
    }

    /// The connection to `uri`'s host: an open one to the same host, port
    /// and scheme (RFC 4975 §5.4), or a new one.
    fn next_hop(&mut self, uri: &MsrpUri) -> Result<ConnId, Refusal> {
        if !uri.transport().eq_ignore_ascii_case("tcp") {
            return Err((status::NO_SUCH_SESSION, "Next hop transport not supported"));
        }
        if uri.is_secure() && !self.cfg.outbound_tls {
            return Err((
                status::NO_SUCH_SESSION,
                "Next hop unreachable: no TLS client",
            ));
        }
        let host = uri
            .host_str()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = uri.port().unwrap_or(msrp::DEFAULT_PORT);
        let key = (uri.is_secure(), host, port);
        if let Some(&c) = self.outbound.get(&key) {
            return Ok(c);
        }
        if self.conns.len() >= self.cfg.max_connections {
            return Err((
                status::NO_SUCH_SESSION,
                "Next hop unreachable: connection limit",
            ));
        }
        let id = self.alloc_conn();
        self.conns.insert(
            id,
            Conn {
                ip: None,
                listener: 0,
                websocket: None,
                hop: Some(key.clone()),
                tokens: Vec::new(),
                locals: Vec::new(),
                auth_failures: 0,
                succeeded: true,
            },
        );
        let hop = NextHop {
            host: key.1.clone(),
            port,
            secure: key.0,
        };
        self.outbound.insert(key, id);
        self.out.push_back(Output::Connect { conn: id, hop });
        Ok(id)
    }

    // ---- responses -------------------------------------------------------

    /// RFC 4976 §6.4.3: a response must name us first in To-Path; it closes
    /// the forwarded transaction it answers. A SEND's response ends here
    /// (hop by hop; an error becomes a failure REPORT to the sender); an
    /// AUTH's goes on back along To-Path with its original transaction id.
    fn on_response(&mut self, conn: ConnId, mut frame: Frame) {
        let tid = frame.transaction_id().as_str();
        let Some(seq) = seq_of(tid) else {
            return;
        };
        let matches = self.pending.get(&seq).is_some_and(|p| {
            p.out_conn == conn && tid.as_bytes().get(..TID_RANDOM) == Some(&p.nonce[..])
        });
        if !matches {
            return;
        }
        let ours = frame
            .header(names::TO_PATH)
            .and_then(|v| v.split_ascii_whitespace().next())
            .and_then(|u| MsrpUri::parse(u).ok())
            .is_some_and(|u| self.listener_of(&u).is_some());
        if !ours {
            tracing::debug!(conn = conn.0, "MSRP response not for us, dropped");
            return;
        }
        let Some(p) = self.pending.remove(&seq) else {
            return;
        };
        let code = frame.status().unwrap_or(0);
        match p.kind {
            PendingKind::Send(_) => {
                if code != status::OK {
                    let why = frame.comment().unwrap_or("Failed downstream").to_owned();
                    self.fail_pending(p, code, &why, false);
                }
            }
            PendingKind::Forwarded { original } => {
                if !self.conns.contains_key(&p.in_conn) {
                    // RFC 4976 §6.4.3: the connection has closed: silently
                    // discarded.
                    return;
                }
                if frame.forward_hop().is_err() {
                    return;
                }
                frame.set_transaction_id(original.transaction_id().clone());
                self.send(p.in_conn, Outgoing::Frame(frame));
            }
        }
    }

    // ---- local sessions --------------------------------------------------

    /// Opens a local session: requests whose To-Path ends at this relay with
    /// the returned session-id (131 random bits, RFC 4975 §14.1 asks for 80)
    /// are answered here and handed to the application as
    /// [`LocalEvent::Request`]. `accept` are the media types its SEND bodies
    /// may have (RFC 4975 §8.6; `*` and `type/*` allowed). `None` when
    /// [`RelayConfig::max_local_sessions`] are open.
    pub fn open_local(&mut self, accept: &[&str]) -> Option<String> {
        if self.locals.len() >= self.cfg.max_local_sessions {
            return None;
        }
        let id = loop {
            let t = new_token();
            if !self.sessions.contains_key(&t) && !self.locals.contains_key(&t) {
                break t;
            }
        };
        self.locals.insert(
            id.clone(),
            Local {
                accept: accept.iter().map(|a| (*a).to_owned()).collect(),
                conn: None,
                to_path: String::new(),
                from_path: String::new(),
                held: VecDeque::new(),
                held_bytes: 0,
            },
        );
        Some(id)
    }

    /// The URIs of local session `session`, one per listener (what the
    /// application puts in its SDP `a=path`, RFC 4975 §8.2).
    pub fn local_uris(&self, session: &str) -> Vec<MsrpUri> {
        if !self.locals.contains_key(session) {
            return Vec::new();
        }
        self.cfg
            .listeners
            .iter()
            .filter_map(|l| l.with_session_id(Some(session)).ok())
            .collect()
    }

    /// Local sessions open.
    pub fn local_count(&self) -> usize {
        self.locals.len()
    }

    /// Sends a request to the peer of local session `session` over the
    /// connection the peer opened, its To-Path and From-Path set to the
    /// session's (whatever `frame` carried). Before the peer's first request
    /// the frame is held (up to [`RelayConfig::local_hold_bytes`]).
    pub fn send_local(&mut self, session: &str, frame: Frame) -> Result<LocalSend, LocalSendError> {
        if !frame.is_request() {
            return Err(LocalSendError::BadFrame);
        }
        let hold_max = self.cfg.local_hold_bytes;
        let l = self
            .locals
            .get_mut(session)
            .ok_or(LocalSendError::NoSession)?;
        let Some(conn) = l.conn else {
            let len = frame.encoded_len();
            if l.held_bytes + len > hold_max {
                return Err(LocalSendError::HoldFull);
            }
            l.held_bytes += len;
            l.held.push_back(frame);
            return Ok(LocalSend::Held);
        };
        let frame = addressed(frame, &l.to_path, &l.from_path)?;
        self.send(conn, Outgoing::Frame(frame));
        Ok(LocalSend::Queued)
    }

    /// Closes local session `session` (its SIP dialog ended): requests for
    /// it get 481 from now on. Its connection is closed too when no other
    /// session (local or relayed) uses it (RFC 4975 §5.4: a connection
    /// stays only while sessions use it). False when no such session.
    pub fn close_local(&mut self, session: &str) -> bool {
        let Some(l) = self.locals.remove(session) else {
            return false;
        };
        if let Some(conn) = l.conn
            && let Some(c) = self.conns.get_mut(&conn)
        {
            c.locals.retain(|s| s != session);
            if c.locals.is_empty() && c.tokens.is_empty() && c.hop.is_none() {
                tracing::debug!(
                    conn = conn.0,
                    "MSRP connection of a closed local session closed"
                );
                self.out.push_back(Output::Close { conn });
            }
        }
        true
    }

    /// Where a request addressed to us ends when it is for a local session:
    /// the index of that session's URI in `hops` and its id. The URI must be
    /// the last hop, reached directly or after the sender's own relay
    /// session on this relay (its token, over its own connection, RFC 4976
    /// §6.4). `Ok(None)`: not for a local session.
    fn local_target(
        &self,
        conn: ConnId,
        hops: &[&str],
        first: &MsrpUri,
        now: Instant,
    ) -> Result<Option<(usize, String)>, Refusal> {
        let mut i = 0;
        let mut here = first.clone();
        loop {
            let Some(id) = here.session_id() else {
                return Ok(None);
            };
            if self.locals.contains_key(id) {
                if i + 1 == hops.len() {
                    return Ok(Some((i, id.to_owned())));
                }
                return Err((
                    status::FORBIDDEN,
                    "Forbidden: a local session is the last hop",
                ));
            }
            // Only the owner's token leads on to another URI of ours.
            let owned = i == 0 && self.live_session(id, now).is_some_and(|s| s.owner == conn);
            if !owned {
                return Ok(None);
            }
            let Some(next) = hops.get(i + 1).and_then(|h| MsrpUri::parse(h).ok()) else {
                return Ok(None);
            };
            if self.listener_of(&next).is_none() {
                return Ok(None);
            }
            i += 1;
            here = next;
        }
    }

    /// A request for local session `session` that came on `conn` with
    /// To-Path hops `hops` up to the session. The first one binds the
    /// session to its connection (later ones must come on it); a SEND is
    /// checked (413, 415) and answered 200 here (RFC 4975 §7.2: hop by hop),
    /// a REPORT is not answered (§7.1.2); both go to the application.
    fn on_local(&mut self, conn: ConnId, frame: Frame, session: String, hops: String) {
        let method = frame.method().cloned().unwrap_or(Method::Report);
        let max = self.cfg.max_message_size;
        let Some(l) = self.locals.get_mut(&session) else {
            return;
        };
        let mut flush = Vec::new();
        match l.conn {
            None => {
                l.conn = Some(conn);
                l.to_path = frame.header(names::FROM_PATH).unwrap_or("").to_owned();
                l.from_path = hops;
                l.held_bytes = 0;
                flush.extend(l.held.drain(..));
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.locals.push(session.clone());
                }
            }
            Some(bound) if bound != conn => {
                // RFC 4975 §10.6 (506): the session is bound to another
                // connection.
                self.reply(
                    conn,
                    &frame,
                    status::SESSION_ALREADY_BOUND,
                    "Session already bound",
                );
                return;
            }
            Some(_) => {}
        }
        let refusal = match &method {
            Method::Send => {
                let ct_ok = frame.body().is_none_or(|b| b.is_empty())
                    || frame
                        .content_type()
                        .is_some_and(|ct| media_accepted(ct, &l.accept));
                if Self::check_size_with(&frame, max).is_err() {
                    Some((status::MESSAGE_TOO_LARGE, "Message Too Large"))
                } else if !ct_ok {
                    // RFC 4975 §7.3: a type not in accept-types is 415.
                    Some((status::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type"))
                } else {
                    None
                }
            }
            Method::Report => None,
            Method::Auth | Method::Other(_) => Some((status::NOT_IMPLEMENTED, "Not Implemented")),
        };
        let (to_path, from_path) = (l.to_path.clone(), l.from_path.clone());
        if let Some(c) = self.conns.get_mut(&conn) {
            c.succeeded = true;
        }
        for f in flush {
            match addressed(f, &to_path, &from_path) {
                Ok(f) => self.send(conn, Outgoing::Frame(f)),
                Err(e) => tracing::debug!(error = %e, "held frame for a local session dropped"),
            }
        }
        if let Some((code, why)) = refusal {
            self.reply(conn, &frame, code, why);
            return;
        }
        if method == Method::Send {
            self.reply(conn, &frame, status::OK, "OK");
        }
        self.out.push_back(Output::Local(LocalEvent::Request {
            session,
            conn,
            frame,
        }));
    }

    // ---- AUTH ------------------------------------------------------------

    fn on_auth(&mut self, conn: ConnId, frame: Frame, digest_uri: String) {
        let authorization: Vec<String> = frame
            .header_all(names::AUTHORIZATION)
            .map(str::to_owned)
            .collect();
        let id = AuthId(self.next_auth);
        self.next_auth += 1;
        let had_credentials = !authorization.is_empty();
        self.auth_waiting.insert(
            id,
            AuthWait {
                conn,
                frame,
                had_credentials,
            },
        );
        self.out.push_back(Output::Authenticate {
            conn,
            id,
            request: AuthRequest {
                authorization,
                digest_uri,
            },
        });
    }

    /// The credential check's verdict on AUTH `id` (RFC 4976 §6.3): 401 with
    /// challenges; 403 and close after too many wrong credentials; 423 for an
    /// Expires out of bounds; else a new token and 200 with Use-Path,
    /// Expires and Authentication-Info.
    pub fn handle_auth_verdict(&mut self, id: AuthId, verdict: AuthVerdict, now: Instant) {
        let Some(w) = self.auth_waiting.remove(&id) else {
            return;
        };
        let conn = w.conn;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        match verdict {
            AuthVerdict::Challenge { www_authenticate } => {
                let stale = www_authenticate
                    .iter()
                    .any(|v| v.to_ascii_lowercase().contains("stale=true"));
                if w.had_credentials && !stale {
                    c.auth_failures += 1;
                    if c.auth_failures >= self.cfg.max_auth_failures {
                        tracing::debug!(conn = conn.0, "MSRP AUTH failed too often, closing");
                        self.reply(conn, &w.frame, status::FORBIDDEN, "Forbidden");
                        self.out.push_back(Output::Close { conn });
                        return;
                    }
                }
                let extra: Vec<(&str, &str)> = www_authenticate
                    .iter()
                    .map(|v| (names::WWW_AUTHENTICATE, v.as_str()))
                    .collect();
                self.respond_auth(conn, &w.frame, status::UNAUTHORIZED, "Unauthorized", &extra);
            }
            AuthVerdict::Refused {
                status: code,
                reason,
            } => {
                self.respond_auth(conn, &w.frame, code, &reason, &[]);
            }
            AuthVerdict::Authenticated {
                user,
                authentication_info,
            } => {
                let b = self.cfg.expires;
                let expires = match w.frame.expires() {
                    Ok(None) => b.default.clamp(b.min, b.max),
                    Ok(Some(e)) if e < b.min => {
                        let min = b.min.to_string();
                        self.respond_auth(
                            conn,
                            &w.frame,
                            status::INTERVAL_OUT_OF_BOUNDS,
                            "Interval Out-of-Bounds",
                            &[(names::MIN_EXPIRES, &min)],
                        );
                        return;
                    }
                    Ok(Some(e)) if e > b.max => {
                        let max = b.max.to_string();
                        self.respond_auth(
                            conn,
                            &w.frame,
                            status::INTERVAL_OUT_OF_BOUNDS,
                            "Interval Out-of-Bounds",
                            &[(names::MAX_EXPIRES, &max)],
                        );
                        return;
                    }
                    Ok(Some(e)) => e,
                    Err(e) => {
                        self.respond_auth(conn, &w.frame, status::BAD_REQUEST, e.reason(), &[]);
                        return;
                    }
                };
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                if c.tokens.len() >= self.cfg.max_sessions_per_connection {
                    self.respond_auth(
                        conn,
                        &w.frame,
                        status::FORBIDDEN,
                        "Too many relay sessions on this connection",
                        &[],
                    );
                    return;
                }
                let Some(base) = self.cfg.listeners.get(c.listener) else {
                    self.respond_auth(conn, &w.frame, status::FORBIDDEN, "No relay URI", &[]);
                    return;
                };
                let token = new_token();
                let use_path = match base.with_session_id(Some(&token)) {
                    Ok(u) => u,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot make a Use-Path URI");
                        self.respond_auth(conn, &w.frame, status::FORBIDDEN, "No relay URI", &[]);
                        return;
                    }
                };
                c.succeeded = true;
                c.auth_failures = 0;
                c.tokens.push(token.clone());
                let at = now + Duration::from_secs(expires);
                tracing::debug!(conn = conn.0, %user, expires, "MSRP relay session granted");
                self.sessions.insert(
                    token.clone(),
                    Session {
                        owner: conn,
                        expires: at,
                        user,
                    },
                );
                self.expiries.insert((at, token));
                let expires = expires.to_string();
                let mut extra = vec![
                    (names::USE_PATH, use_path.as_str()),
                    (names::EXPIRES, expires.as_str()),
                ];
                if let Some(info) = &authentication_info {
                    extra.push((names::AUTHENTICATION_INFO, info.as_str()));
                }
                self.respond_auth(conn, &w.frame, status::OK, "OK", &extra);
            }
        }
    }

    fn respond_auth(
        &mut self,
        conn: ConnId,
        req: &Frame,
        code: u16,
        reason: &str,
        extra: &[(&str, &str)],
    ) {
        let Ok(resp) = req.response(code, Some(reason)) else {
            return;
        };
        match encode_response(&resp, extra) {
            Some(b) => self.send(conn, Outgoing::Encoded(b)),
            None => {
                tracing::debug!("AUTH response header not valid text");
                self.send(conn, Outgoing::Frame(resp));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use msrp::{Continuation, Decoder, MessageId};

    const RELAY: &str = "msrp://relay.example.test:2855;tcp";

    fn uri(s: &str) -> MsrpUri {
        MsrpUri::parse(s).unwrap()
    }

    fn relay() -> Relay {
        Relay::new(RelayConfig {
            listeners: vec![uri(RELAY)],
            aliases: vec!["127.0.0.1".into()],
            ..RelayConfig::default()
        })
    }

    fn ip() -> IpAddr {
        "127.0.0.1".parse().unwrap()
    }

    /// Every output, with encoded frames decoded back.
    fn drain(r: &mut Relay) -> Vec<(String, Option<ConnId>, Option<Frame>)> {
        let mut v = Vec::new();
        while let Some(o) = r.poll_output() {
            v.push(match o {
                Output::Send { conn, data } => {
                    let f = match data {
                        Outgoing::Frame(f) => f,
                        Outgoing::Encoded(b) => {
                            let mut buf = BytesMut::from(&b[..]);
                            Decoder::new(msrp::Limits::default())
                                .decode(&mut buf)
                                .unwrap()
                                .unwrap()
                        }
                    };
                    ("send".into(), Some(conn), Some(f))
                }
                Output::Close { conn } => ("close".into(), Some(conn), None),
                Output::Connect { conn, hop } => (
                    format!("connect {}:{}", hop.host, hop.port),
                    Some(conn),
                    None,
                ),
                Output::Authenticate { conn, id, request } => (
                    format!("auth {} {}", id.0, request.authorization.len()),
                    Some(conn),
                    None,
                ),
                Output::Local(LocalEvent::Request {
                    session,
                    conn,
                    frame,
                }) => (format!("local {session}"), Some(conn), Some(frame)),
                Output::Local(LocalEvent::Closed { session }) => {
                    (format!("closed {session}"), None, None)
                }
            });
        }
        v
    }

    fn auth_frame(from: &str, authorization: Option<&str>, expires: Option<u64>) -> Frame {
        let mut b = Frame::builder(Method::Auth)
            .to_path(&[uri(RELAY)])
            .from_path(&[uri(from)]);
        if let Some(a) = authorization {
            b = b.header("Authorization", a);
        }
        if let Some(e) = expires {
            b = b.expires(e);
        }
        b.build().unwrap()
    }

    /// AUTH on `conn` answered by a good verdict: the Use-Path URI.
    fn authenticate(r: &mut Relay, conn: ConnId, from: &str, now: Instant) -> MsrpUri {
        r.handle_frame(conn, auth_frame(from, Some("Digest x=1"), None), now);
        let out = drain(r);
        let id = match &out[..] {
            [(what, _, _)] if what.starts_with("auth ") => {
                AuthId(what.split(' ').nth(1).unwrap().parse().unwrap())
            }
            other => panic!("{other:?}"),
        };
        r.handle_auth_verdict(
            id,
            AuthVerdict::Authenticated {
                user: "alice".into(),
                authentication_info: Some(
                    "qop=auth, rspauth=\"ab\", cnonce=\"c\", nc=00000001".into(),
                ),
            },
            now,
        );
        let out = drain(r);
        let f = out[0].2.as_ref().unwrap();
        assert_eq!(f.status(), Some(200));
        f.use_path().unwrap().unwrap().remove(0)
    }

    fn send(to: &[MsrpUri], from: &str, body: &[u8]) -> Frame {
        Frame::builder(Method::Send)
            .to_path(to)
            .from_path(&[uri(from)])
            .message_id(&MessageId::random())
            .body("text/plain", Bytes::copy_from_slice(body))
            .build()
            .unwrap()
    }

    /// RFC 7977 §8.1: a WebSocket client addresses AUTH to `;ws` URIs of
    /// ours (any port: the HTTP listener, or a proxy's) and gets a Use-Path
    /// that is our TCP URI; TCP clients cannot use `;ws` URIs; a relay
    /// without a TCP listener takes no WebSocket connection.
    #[test]
    fn websocket_auth_to_a_ws_uri_gets_a_tcp_use_path() {
        let mut r = relay();
        let now = Instant::now();
        let local: IpAddr = "127.0.0.2".parse().unwrap();
        let ws = r.handle_accept_websocket(ip(), local, true, now).unwrap();
        let me = "msrp://x7df.invalid:2855/s1;ws";
        for to in [
            "msrps://relay.example.test:443;ws",
            "msrp://127.0.0.2:8080;ws",
            "msrp://relay.example.test:2855;tcp",
        ] {
            let f = Frame::builder(Method::Auth)
                .to_path(&[uri(to)])
                .from_path(&[uri(me)])
                .build()
                .unwrap();
            r.handle_frame(ws, f, now);
            let out = drain(&mut r);
            assert!(out[0].0.starts_with("auth "), "{to}: {out:?}");
        }
        let u = authenticate(&mut r, ws, me, now);
        // No msrps listener: the plain one, still `;tcp`.
        assert_eq!(u.transport(), "tcp");
        assert_eq!(u.host_str(), "relay.example.test");
        assert_eq!(u.port(), Some(2855));

        // A host that is not ours, even with `;ws`: not addressed to us.
        let f = Frame::builder(Method::Auth)
            .to_path(&[uri("msrp://elsewhere.test:443;ws")])
            .from_path(&[uri(me)])
            .build()
            .unwrap();
        r.handle_frame(ws, f, now);
        assert_eq!(drain(&mut r)[0].0, "close");

        // `;ws` on a TCP connection names nothing of ours.
        let tcp = r.handle_accept(ip(), 0, now).unwrap();
        let f = Frame::builder(Method::Auth)
            .to_path(&[uri("msrp://relay.example.test:443;ws")])
            .from_path(&[uri("msrp://alice.test:7777/a1;tcp")])
            .build()
            .unwrap();
        r.handle_frame(tcp, f, now);
        assert_eq!(drain(&mut r)[0].0, "close");

        let mut bare = Relay::new(RelayConfig::default());
        assert!(
            bare.handle_accept_websocket(ip(), local, false, now)
                .is_none()
        );
    }

    #[test]
    fn auth_challenge_then_token_with_expires_and_info() {
        let mut r = relay();
        let now = Instant::now();
        let c = r.handle_accept(ip(), 0, now).unwrap();
        r.handle_frame(
            c,
            auth_frame("msrp://alice.test:7777/a1;tcp", None, None),
            now,
        );
        let out = drain(&mut r);
        assert_eq!(out[0].0, "auth 1 0");
        r.handle_auth_verdict(
            AuthId(1),
            AuthVerdict::Challenge {
                www_authenticate: vec![
                    "Digest realm=\"x\", qop=\"auth\", algorithm=SHA-256, nonce=\"n\"".into(),
                    "Digest realm=\"x\", qop=\"auth\", algorithm=MD5, nonce=\"n\"".into(),
                ],
            },
            now,
        );
        let out = drain(&mut r);
        let f = out[0].2.as_ref().unwrap();
        assert_eq!(f.status(), Some(401));
        assert_eq!(f.header_all("WWW-Authenticate").count(), 2);
        assert_eq!(f.header("To-Path"), Some("msrp://alice.test:7777/a1;tcp"));
        assert_eq!(f.header("From-Path"), Some(RELAY));

        let u = authenticate(&mut r, c, "msrp://alice.test:7777/a1;tcp", now);
        assert_eq!(u.host_str(), "relay.example.test");
        assert_eq!(u.port(), Some(2855));
        assert!(u.session_id().unwrap().len() >= 22);
        assert_eq!(r.session_count(), 1);
    }

    #[test]
    fn expires_out_of_bounds_is_423_with_the_bound() {
        let mut r = relay();
        let now = Instant::now();
        let c = r.handle_accept(ip(), 0, now).unwrap();
        for (asked, header, want) in [(10, "Min-Expires", "60"), (99999, "Max-Expires", "3600")] {
            r.handle_frame(
                c,
                auth_frame("msrp://a.test:1/a;tcp", Some("Digest x=1"), Some(asked)),
                now,
            );
            let id = r.next_auth - 1;
            drain(&mut r);
            r.handle_auth_verdict(
                AuthId(id),
                AuthVerdict::Authenticated {
                    user: "a".into(),
                    authentication_info: None,
                },
                now,
            );
            let out = drain(&mut r);
            let f = out[0].2.as_ref().unwrap();
            assert_eq!(f.status(), Some(423));
            assert_eq!(f.header(header), Some(want));
        }
        assert_eq!(r.session_count(), 0);
    }

    #[test]
    fn wrong_credentials_three_times_is_403_and_close() {
        let mut r = relay();
        let now = Instant::now();
        let c = r.handle_accept(ip(), 0, now).unwrap();
        for round in 0..3 {
            r.handle_frame(
                c,
                auth_frame("msrp://a.test:1/a;tcp", Some("Digest x=1"), None),
                now,
            );
            let id = r.next_auth - 1;
            drain(&mut r);
            r.handle_auth_verdict(
                AuthId(id),
                AuthVerdict::Challenge {
                    www_authenticate: vec!["Digest realm=\"x\", qop=\"auth\", nonce=\"n\"".into()],
                },
                now,
            );
            let out = drain(&mut r);
            let code = out[0].2.as_ref().unwrap().status();
            if round < 2 {
                assert_eq!(code, Some(401));
            } else {
                assert_eq!(code, Some(403));
                assert_eq!(out[1].0, "close");
            }
        }
    }

    #[test]
    fn forwards_both_ways_between_two_clients_hop_by_hop() {
        let mut r = relay();
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let b = r.handle_accept(ip(), 0, now).unwrap();
        let alice = "msrp://alice.test:7777/sa;tcp";
        let bob = "msrp://bob.test:8888/sb;tcp";
        let ua = authenticate(&mut r, a, alice, now);
        let ub = authenticate(&mut r, b, bob, now);

        let s = send(&[ua.clone(), ub.clone(), uri(bob)], alice, b"hello bob");
        let tid = s.transaction_id().clone();
        r.handle_frame(a, s, now);
        let out = drain(&mut r);
        assert_eq!(out.len(), 2, "{out:?}");
        // 200 to the previous hop first (RFC 4976 §6.4.1).
        let ok = out[0].2.as_ref().unwrap();
        assert_eq!((out[0].1, ok.status()), (Some(a), Some(200)));
        assert_eq!(ok.transaction_id(), &tid);
        assert_eq!(ok.header("To-Path"), Some(alice));
        // The SEND on bob's connection, both relay URIs moved to From-Path.
        let fwd = out[1].2.as_ref().unwrap();
        assert_eq!(out[1].1, Some(b));
        assert_ne!(fwd.transaction_id(), &tid);
        assert_eq!(fwd.header("To-Path"), Some(bob));
        assert_eq!(
            fwd.header("From-Path").unwrap(),
            format!("{} {} {alice}", ub.as_str(), ua.as_str())
        );
        assert_eq!(fwd.body().unwrap().as_ref(), b"hello bob");
        assert_eq!(r.pending_count(), 1);
        // Bob's 200 closes the transaction; nothing goes on.
        let resp = fwd.response(200, Some("OK")).unwrap();
        r.handle_frame(b, resp, now);
        assert!(drain(&mut r).is_empty());
        assert_eq!(r.pending_count(), 0);

        // And back.
        r.handle_frame(b, send(&[ub, ua, uri(alice)], bob, b"hi alice"), now);
        let out = drain(&mut r);
        assert_eq!(out[0].1, Some(b));
        assert_eq!(out[1].1, Some(a));
        assert_eq!(out[1].2.as_ref().unwrap().header("To-Path"), Some(alice));
    }

    #[test]
    fn token_misuse_is_refused() {
        let mut r = relay();
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let m = r.handle_accept(ip(), 0, now).unwrap();
        let alice = "msrp://alice.test:7777/sa;tcp";
        let ua = authenticate(&mut r, a, alice, now);
        let code = |r: &mut Relay, f: Frame| {
            r.handle_frame(m, f, now);
            let out = drain(r);
            out.first()
                .and_then(|o| o.2.as_ref())
                .and_then(Frame::status)
        };
        // No token at all: AUTH first.
        assert_eq!(
            code(
                &mut r,
                send(
                    &[uri(RELAY), uri("msrp://x.test:1/x;tcp")],
                    "msrp://m.test:1/m;tcp",
                    b"x"
                )
            ),
            Some(403)
        );
        // A guessed token.
        let guess = uri(RELAY).with_session_id(Some("guessedtoken")).unwrap();
        assert_eq!(
            code(
                &mut r,
                send(&[guess, uri(alice)], "msrp://m.test:1/m;tcp", b"x")
            ),
            Some(481)
        );
        // Alice's token used to go elsewhere than to alice.
        assert_eq!(
            code(
                &mut r,
                send(
                    &[ua.clone(), uri("msrp://evil.test:1/e;tcp"), uri(alice)],
                    "msrp://m.test:1/m;tcp",
                    b"x"
                )
            ),
            Some(403)
        );
        // To alice with her token: fine (the token is the shared secret).
        r.handle_frame(
            m,
            send(&[ua, uri(alice)], "msrp://m.test:1/m;tcp", b"x"),
            now,
        );
        let out = drain(&mut r);
        assert_eq!(out[1].1, Some(a));
        // Not addressed to the relay at all: the connection is dropped.
        r.handle_frame(m, send(&[uri(alice)], "msrp://m.test:1/m;tcp", b"x"), now);
        assert_eq!(drain(&mut r)[0].0, "close");
    }

    #[test]
    fn closed_connection_invalidates_its_tokens() {
        let mut r = relay();
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let b = r.handle_accept(ip(), 0, now).unwrap();
        let ua = authenticate(&mut r, a, "msrp://a.test:1/a;tcp", now);
        r.handle_closed(a, now);
        assert_eq!(r.session_count(), 0);
        r.handle_frame(
            b,
            send(
                &[ua, uri("msrp://a.test:1/a;tcp")],
                "msrp://b.test:1/b;tcp",
                b"x",
            ),
            now,
        );
        assert_eq!(drain(&mut r)[0].2.as_ref().unwrap().status(), Some(481));
    }

    #[test]
    fn tokens_expire() {
        let mut r = relay();
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let b = r.handle_accept(ip(), 0, now).unwrap();
        let ua = authenticate(&mut r, a, "msrp://a.test:1/a;tcp", now);
        let later = now + Duration::from_secs(1801);
        assert!(r.poll_timeout().unwrap() <= later);
        r.handle_timeout(later);
        drain(&mut r);
        assert_eq!(r.session_count(), 0);
        r.handle_frame(
            b,
            send(
                &[ua, uri("msrp://a.test:1/a;tcp")],
                "msrp://b.test:1/b;tcp",
                b"x",
            ),
            later,
        );
        assert_eq!(drain(&mut r)[0].2.as_ref().unwrap().status(), Some(481));
    }

    #[test]
    fn no_response_in_30s_or_an_error_becomes_a_failure_report() {
        let mut r = relay();
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let b = r.handle_accept(ip(), 0, now).unwrap();
        let alice = "msrp://alice.test:7777/sa;tcp";
        let bob = "msrp://bob.test:8888/sb;tcp";
        let ua = authenticate(&mut r, a, alice, now);
        let ub = authenticate(&mut r, b, bob, now);
        let s = send(&[ua.clone(), ub.clone(), uri(bob)], alice, b"lost");
        let mid = s.message_id().unwrap().unwrap();
        r.handle_frame(a, s, now);
        drain(&mut r);
        r.handle_timeout(now + Duration::from_secs(29));
        assert!(drain(&mut r).is_empty());
        r.handle_timeout(now + Duration::from_secs(30));
        let out = drain(&mut r);
        let rep = out[0].2.as_ref().unwrap();
        assert_eq!(out[0].1, Some(a));
        assert_eq!(rep.method(), Some(&Method::Report));
        assert_eq!(rep.status_header().unwrap().unwrap().code, 408);
        assert_eq!(rep.message_id().unwrap().unwrap(), mid);
        assert_eq!(rep.header("To-Path"), Some(alice));
        assert_eq!(rep.header("Byte-Range"), Some("1-4/4"));

        // An error response from the next hop: a REPORT with its code.
        r.handle_frame(a, send(&[ua, ub, uri(bob)], alice, b"bad"), now);
        let out = drain(&mut r);
        let fwd = out[1].2.as_ref().unwrap();
        r.handle_frame(b, fwd.response(415, Some("Unsupported")).unwrap(), now);
        let out = drain(&mut r);
        assert_eq!(out[0].1, Some(a));
        assert_eq!(
            out[0]
                .2
                .as_ref()
                .unwrap()
                .status_header()
                .unwrap()
                .unwrap()
                .code,
            415
        );
    }

    #[test]
    fn failure_report_no_gets_no_response_and_partial_no_200() {
        let mut r = relay();
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let b = r.handle_accept(ip(), 0, now).unwrap();
        let ua = authenticate(&mut r, a, "msrp://a.test:1/a;tcp", now);
        let ub = authenticate(&mut r, b, "msrp://b.test:1/b;tcp", now);
        for fr in ["no", "partial"] {
            let mut s = send(
                &[ua.clone(), ub.clone(), uri("msrp://b.test:1/b;tcp")],
                "msrp://a.test:1/a;tcp",
                b"x",
            );
            s.set_header("Failure-Report", fr).unwrap();
            r.handle_frame(a, s, now);
            let out = drain(&mut r);
            assert_eq!(out.len(), 1, "{fr}: only the forwarded SEND");
            assert_eq!(out[0].1, Some(b));
        }
    }

    #[test]
    fn message_larger_than_the_limit_is_413() {
        let mut r = Relay::new(RelayConfig {
            listeners: vec![uri(RELAY)],
            max_message_size: 1000,
            ..RelayConfig::default()
        });
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let ua = authenticate(&mut r, a, "msrp://a.test:1/a;tcp", now);
        let mut s = send(
            &[ua, uri("msrp://b.test:1/b;tcp")],
            "msrp://a.test:1/a;tcp",
            b"first chunk",
        );
        s.set_header("Byte-Range", "1-11/5000").unwrap();
        s.set_continuation(Continuation::More);
        r.handle_frame(a, s, now);
        assert_eq!(drain(&mut r)[0].2.as_ref().unwrap().status(), Some(413));
    }

    #[test]
    fn next_hop_outside_is_connected_once_and_reused() {
        let mut r = relay();
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let ua = authenticate(&mut r, a, "msrp://a.test:1/a;tcp", now);
        let bob = uri("msrp://127.0.0.1:9999/b;tcp");
        r.handle_frame(
            a,
            send(&[ua.clone(), bob.clone()], "msrp://a.test:1/a;tcp", b"1"),
            now,
        );
        let out = drain(&mut r);
        // The connection is asked for first; the 200 and the SEND follow.
        assert_eq!(out[0].0, "connect 127.0.0.1:9999");
        let out_conn = out[0].1;
        assert_eq!(out[1].1, Some(a));
        assert_eq!(out[2].1, out_conn);
        r.handle_frame(
            a,
            send(&[ua.clone(), bob.clone()], "msrp://a.test:1/a;tcp", b"2"),
            now,
        );
        let out = drain(&mut r);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].1, out_conn);
        // The connect fails: the two SENDs get 408 REPORTs.
        r.handle_closed(out_conn.unwrap(), now);
        let out = drain(&mut r);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|o| o.1 == Some(a)));
    }

    #[test]
    fn probation_closes_silent_connections() {
        let mut r = relay();
        let now = Instant::now();
        let idle = r.handle_accept(ip(), 0, now).unwrap();
        let busy = r.handle_accept(ip(), 0, now).unwrap();
        authenticate(&mut r, busy, "msrp://a.test:1/a;tcp", now);
        r.handle_timeout(now + Duration::from_secs(30));
        let out = drain(&mut r);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].0.as_str(), out[0].1), ("close", Some(idle)));
    }

    #[test]
    fn connection_limits() {
        let mut r = Relay::new(RelayConfig {
            listeners: vec![uri(RELAY)],
            max_connections: 3,
            max_connections_per_ip: 2,
            ..RelayConfig::default()
        });
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        assert!(r.handle_accept(ip(), 0, now).is_some());
        assert!(r.handle_accept(ip(), 0, now).is_none(), "per address");
        assert!(
            r.handle_accept("10.0.0.1".parse().unwrap(), 0, now)
                .is_some()
        );
        assert!(
            r.handle_accept("10.0.0.2".parse().unwrap(), 0, now)
                .is_none(),
            "total"
        );
        r.handle_closed(a, now);
        assert!(r.handle_accept(ip(), 0, now).is_some());
    }

    #[test]
    fn forwarded_transaction_ids_are_safe_and_carry_their_sequence() {
        assert!(end_line_in(b"ab\r\n-------abcd1234$\r\n", b"abcd1234"));
        assert!(end_line_in(b"-------abcd1234+", b"abcd1234"));
        assert!(!end_line_in(b"-------abcd1234x-------abcd", b"abcd1234"));
        assert!(!end_line_in(b"------abcd1234$", b"abcd1234"));
        for seq in [1u64, 255, u64::MAX] {
            let (tid, nonce) = fresh_tid(seq, Some(b"body"));
            assert_eq!(seq_of(tid.as_str()), Some(seq));
            assert_eq!(&tid.as_str().as_bytes()[..TID_RANDOM], &nonce[..]);
        }
        assert_eq!(seq_of("abcd"), None);
        assert_eq!(seq_of("abcdefghijklzz"), None);
    }

    #[test]
    fn malformed_frames_are_answered_400() {
        let mut r = relay();
        let now = Instant::now();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let mut dec = Decoder::new(msrp::Limits::default());
        let mut buf = BytesMut::from(
            &b"MSRP abcd1234 SEND\r\nTo-Path: msrp://relay.example.test:2855/x;tcp\r\nFrom-Path: msrp://a.test:1/a;tcp\r\nByte-Range: nonsense\r\n-------abcd1234$\r\n"[..],
        );
        let e = dec.decode(&mut buf).unwrap_err();
        r.handle_parse_error(a, &e, now);
        let out = drain(&mut r);
        assert_eq!(out[0].2.as_ref().unwrap().status(), Some(400));
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\n\r\n"[..]);
        let e = Decoder::new(msrp::Limits::default())
            .decode(&mut buf)
            .unwrap_err();
        r.handle_parse_error(a, &e, now);
        assert_eq!(drain(&mut r)[0].0, "close");
    }
    /// A local session's URI on the test relay.
    fn local_uri(r: &Relay, session: &str) -> MsrpUri {
        r.local_uris(session).remove(0)
    }

    fn notice(body: &[u8]) -> Frame {
        // The application's own request: its paths are placeholders the
        // relay replaces.
        send(
            &[uri("msrp://x.invalid:1/x;tcp")],
            "msrp://y.invalid:1/y;tcp",
            body,
        )
    }

    #[test]
    fn a_local_session_takes_requests_directly_and_answers_over_that_connection() {
        let mut r = relay();
        let now = Instant::now();
        let sid = r.open_local(&["message/cpim", "text/*"]).unwrap();
        assert!(sid.len() >= 22);
        let focus = local_uri(&r, &sid);
        assert_eq!(focus.session_id(), Some(sid.as_str()));
        // Sent before the peer connected: held.
        assert_eq!(r.send_local(&sid, notice(b"early")), Ok(LocalSend::Held));
        assert!(drain(&mut r).is_empty());

        let a = r.handle_accept(ip(), 0, now).unwrap();
        let alice = "msrp://alice.test:7777/sa;tcp";
        let s = send(std::slice::from_ref(&focus), alice, b"hello room");
        let tid = s.transaction_id().clone();
        r.handle_frame(a, s, now);
        let out = drain(&mut r);
        assert_eq!(out.len(), 3, "{out:?}");
        // The held frame first, addressed like any frame to alice.
        let held = out[0].2.as_ref().unwrap();
        assert_eq!(out[0].1, Some(a));
        assert_eq!(held.header("To-Path"), Some(alice));
        assert_eq!(held.header("From-Path"), Some(focus.as_str()));
        assert_eq!(held.body().unwrap().as_ref(), b"early");
        // Then the 200 (RFC 4975 §7.2) and the request for the application.
        let ok = out[1].2.as_ref().unwrap();
        assert_eq!((ok.status(), ok.transaction_id()), (Some(200), &tid));
        assert_eq!(ok.header("To-Path"), Some(alice));
        assert_eq!(ok.header("From-Path"), Some(focus.as_str()));
        assert_eq!(
            (out[2].0.as_str(), out[2].1),
            (format!("local {sid}").as_str(), Some(a))
        );
        assert_eq!(
            out[2].2.as_ref().unwrap().body().unwrap().as_ref(),
            b"hello room"
        );

        // Later frames go straight out on alice's connection.
        assert_eq!(r.send_local(&sid, notice(b"copy")), Ok(LocalSend::Queued));
        let out = drain(&mut r);
        let f = out[0].2.as_ref().unwrap();
        assert_eq!(out[0].1, Some(a));
        assert_eq!(f.header("To-Path"), Some(alice));
        assert_eq!(f.header("From-Path"), Some(focus.as_str()));
        // A REPORT is delivered, never answered.
        let rep = report::success(
            &send(std::slice::from_ref(&focus), alice, b"x"),
            ByteRange::new(1, Some(1), Some(1)),
        )
        .unwrap();
        let mut rep = rep;
        rep.set_header("To-Path", focus.as_str()).unwrap();
        rep.set_header("From-Path", alice).unwrap();
        r.handle_frame(a, rep, now);
        let out = drain(&mut r);
        assert_eq!(out.len(), 1);
        assert!(out[0].0.starts_with("local "));
        assert_eq!(r.local_count(), 1);
    }

    #[test]
    fn a_local_session_is_reached_through_the_senders_own_relay_session() {
        let mut r = relay();
        let now = Instant::now();
        let sid = r.open_local(&["*"]).unwrap();
        let focus = local_uri(&r, &sid);
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let alice = "msrp://alice.test:7777/sa;tcp";
        let ua = authenticate(&mut r, a, alice, now);
        r.handle_frame(a, send(&[ua.clone(), focus.clone()], alice, b"hi"), now);
        let out = drain(&mut r);
        assert_eq!(out[0].2.as_ref().unwrap().status(), Some(200));
        assert_eq!(out[1].0, format!("local {sid}"));
        // What goes back looks forwarded by the relay: alice's URI in
        // To-Path, her relay session then the focus in From-Path.
        r.send_local(&sid, notice(b"back")).unwrap();
        let out = drain(&mut r);
        let f = out[0].2.as_ref().unwrap();
        assert_eq!(out[0].1, Some(a));
        assert_eq!(f.header("To-Path"), Some(alice));
        assert_eq!(
            f.header("From-Path").unwrap(),
            format!("{} {}", ua.as_str(), focus.as_str())
        );
        // Someone else's token does not lead to the focus (the relay takes
        // it toward alice, the token's owner, as any request to her).
        let m = r.handle_accept(ip(), 0, now).unwrap();
        r.handle_frame(m, send(&[ua, focus], "msrp://m.test:1/m;tcp", b"x"), now);
        let out = drain(&mut r);
        assert!(out.iter().all(|o| !o.0.starts_with("local")), "{out:?}");
    }

    #[test]
    fn local_sessions_refuse_what_they_cannot_take() {
        let mut r = Relay::new(RelayConfig {
            listeners: vec![uri(RELAY)],
            max_message_size: 100,
            ..RelayConfig::default()
        });
        let now = Instant::now();
        let sid = r.open_local(&["message/cpim"]).unwrap();
        let focus = local_uri(&r, &sid);
        let a = r.handle_accept(ip(), 0, now).unwrap();
        let alice = "msrp://alice.test:7777/sa;tcp";
        let code = |r: &mut Relay, conn, f: Frame| {
            r.handle_frame(conn, f, now);
            let out = drain(r);
            assert_eq!(out.len(), 1, "{out:?}");
            out[0].2.as_ref().and_then(Frame::status)
        };
        // RFC 4975 §7.3: not in accept-types.
        let plain = send(std::slice::from_ref(&focus), alice, b"plain");
        assert_eq!(code(&mut r, a, plain), Some(415));
        // RFC 4975 §10.5: larger than we take.
        let mut big = send(std::slice::from_ref(&focus), alice, b"x");
        big.set_body("message/cpim", Bytes::from(vec![b'x'; 101]))
            .unwrap();
        assert_eq!(code(&mut r, a, big), Some(413));
        // RFC 4975 §10.6: bound to alice's connection (by her first request).
        let b = r.handle_accept(ip(), 0, now).unwrap();
        let mut other = send(std::slice::from_ref(&focus), "msrp://b.test:1/b;tcp", b"");
        other.clear_body();
        assert_eq!(code(&mut r, b, other), Some(506));
        // Not the last hop.
        let through = send(&[focus.clone(), uri(alice)], "msrp://b.test:1/b;tcp", b"x");
        assert_eq!(code(&mut r, b, through), Some(403));
        // Methods the relay does not know for it.
        let nick = Frame::builder(Method::Other("NICKNAME".into()))
            .to_path(std::slice::from_ref(&focus))
            .from_path(&[uri(alice)])
            .build()
            .unwrap();
        assert_eq!(code(&mut r, a, nick), Some(501));
        // Closed: its only connection closes; a request for it is 481.
        assert!(r.close_local(&sid));
        let out = drain(&mut r);
        assert_eq!((out[0].0.as_str(), out[0].1), ("close", Some(a)));
        let mut bodyless = send(std::slice::from_ref(&focus), alice, b"");
        bodyless.clear_body();
        r.handle_frame(b, bodyless, now);
        assert_eq!(drain(&mut r)[0].2.as_ref().unwrap().status(), Some(481));
        assert_eq!(
            r.send_local(&sid, notice(b"x")),
            Err(LocalSendError::NoSession)
        );
    }

    #[test]
    fn the_hold_queue_is_bounded() {
        let mut r = Relay::new(RelayConfig {
            listeners: vec![uri(RELAY)],
            local_hold_bytes: 600,
            ..RelayConfig::default()
        });
        let sid = r.open_local(&["*"]).unwrap();
        assert_eq!(
            r.send_local(&sid, notice(&[b'a'; 200])),
            Ok(LocalSend::Held)
        );
        assert_eq!(
            r.send_local(&sid, notice(&[b'a'; 400])),
            Err(LocalSendError::HoldFull)
        );
        let resp = notice(b"x").response(200, None).unwrap();
        assert_eq!(r.send_local(&sid, resp), Err(LocalSendError::BadFrame));
    }

    #[test]
    fn a_local_session_ends_with_its_connection_and_closing_it_closes_an_unused_connection() {
        let mut r = relay();
        let now = Instant::now();
        let alice = "msrp://alice.test:7777/sa;tcp";
        let s1 = r.open_local(&["*"]).unwrap();
        let s2 = r.open_local(&["*"]).unwrap();
        let a = r.handle_accept(ip(), 0, now).unwrap();
        for s in [&s1, &s2] {
            r.handle_frame(a, send(&[local_uri(&r, s)], alice, b"x"), now);
        }
        drain(&mut r);
        // One of two sessions closed: the connection stays.
        assert!(r.close_local(&s1));
        assert!(drain(&mut r).is_empty());
        // The other one's connection goes: the application hears of it.
        r.handle_closed(a, now);
        let out = drain(&mut r);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, format!("closed {s2}"));
        assert_eq!(r.local_count(), 0);

        // The last session of a connection closed by the application: the
        // connection closes (RFC 4975 §5.4), unless a relay session of its
        // client lives on it.
        let s3 = r.open_local(&["*"]).unwrap();
        let b = r.handle_accept(ip(), 0, now).unwrap();
        r.handle_frame(b, send(&[local_uri(&r, &s3)], alice, b"x"), now);
        drain(&mut r);
        assert!(r.close_local(&s3));
        let out = drain(&mut r);
        assert_eq!((out[0].0.as_str(), out[0].1), ("close", Some(b)));
        let s4 = r.open_local(&["*"]).unwrap();
        let c = r.handle_accept(ip(), 0, now).unwrap();
        authenticate(&mut r, c, alice, now);
        r.handle_frame(c, send(&[local_uri(&r, &s4)], alice, b"x"), now);
        drain(&mut r);
        assert!(r.close_local(&s4));
        assert!(drain(&mut r).is_empty());
    }

    #[test]
    fn local_sessions_are_capped_and_media_types_match_wildcards() {
        let mut r = Relay::new(RelayConfig {
            listeners: vec![uri(RELAY)],
            max_local_sessions: 1,
            ..RelayConfig::default()
        });
        assert!(r.open_local(&["*"]).is_some());
        assert!(r.open_local(&["*"]).is_none());
        let acc = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(media_accepted("Message/CPIM", &acc(&["message/cpim"])));
        assert!(media_accepted(
            "text/plain;charset=utf-8",
            &acc(&["text/*"])
        ));
        assert!(media_accepted("image/png", &acc(&["*"])));
        assert!(!media_accepted(
            "text/html",
            &acc(&["message/cpim", "text/plain"])
        ));
    }
}
