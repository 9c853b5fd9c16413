//! The frame model (RFC 4975 §9 `msrp-request` / `msrp-response`): start line,
//! header fields in order, optional body, end-line with its continuation flag;
//! the serializer; the builder; and responses per §7.2.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{ErrorKind, ParseError, Result};
use crate::headers::{
    ByteRange, FailureReport, StatusHeader, SuccessReport, check_media_type, is_header_name,
    is_utf8text, names, parse_digits,
};
use crate::ident::{MessageId, TransactionId};
use crate::uri::{MsrpUri, check_path, format_path, parse_path};

/// The seven hyphens that open an end-line (RFC 4975 §7.1).
pub(crate) const HYPHENS: &[u8; 7] = b"-------";

/// Largest body a non-SEND request may carry (RFC 4975 §7.1).
pub const MAX_NON_SEND_BODY: usize = 10240;

/// A request method (RFC 4975 §9 `method`, RFC 4976 §7 `mAUTH`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// SEND: delivers a message or a chunk (RFC 4975 §7.1.1).
    Send,
    /// REPORT: delivery status (RFC 4975 §7.1.2); never answered.
    Report,
    /// AUTH: asks a relay for a URI (RFC 4976 §4.1).
    Auth,
    /// Any other `1*UPALPHA`; a node answers 501 (RFC 4975 §12).
    Other(String),
}

impl Method {
    /// Parses `method` (uppercase letters only, RFC 4975 §9).
    pub fn parse(s: &str) -> Result<Method> {
        match s {
            "SEND" => Ok(Method::Send),
            "REPORT" => Ok(Method::Report),
            "AUTH" => Ok(Method::Auth),
            _ if !s.is_empty() && s.bytes().all(|c| c.is_ascii_uppercase()) => {
                Ok(Method::Other(s.to_owned()))
            }
            _ => Err(ParseError::new(ErrorKind::StartLine, "Bad method")),
        }
    }

    /// The method name.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Send => "SEND",
            Method::Report => "REPORT",
            Method::Auth => "AUTH",
            Method::Other(m) => m,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The continuation flag of the end-line (RFC 4975 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Continuation {
    /// `+`: more chunks of this message follow.
    More,
    /// `$`: this chunk ends the message (always, for responses and non-SEND requests).
    #[default]
    Done,
    /// `#`: the sender aborts the message; no more chunks follow.
    Aborted,
}

impl Continuation {
    /// The flag character.
    pub fn as_byte(self) -> u8 {
        match self {
            Continuation::More => b'+',
            Continuation::Done => b'$',
            Continuation::Aborted => b'#',
        }
    }

    /// The flag for a character, if it is one.
    pub fn from_byte(c: u8) -> Option<Self> {
        match c {
            b'+' => Some(Continuation::More),
            b'$' => Some(Continuation::Done),
            b'#' => Some(Continuation::Aborted),
            _ => None,
        }
    }
}

/// Request or response, and what the start line says about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StartLine {
    /// `MSRP SP transact-id SP method`.
    Request(Method),
    /// `MSRP SP transact-id SP status-code [SP comment]`.
    Response {
        /// Three digits.
        status: u16,
        /// Free text after the code.
        comment: Option<String>,
    },
}

/// One header field as written: name and value (after `": "`), both text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Header {
    name: Bytes,
    value: Bytes,
}

fn text(b: &Bytes) -> &str {
    // Both parts are checked UTF-8 when a Header is made.
    std::str::from_utf8(b).unwrap_or_default()
}

impl Header {
    /// A header field; the name must be `ALPHA *token` and the value `utf8text`
    /// (RFC 4975 §9), so no CR or LF can slip into the frame.
    pub fn new(name: &str, value: &str) -> Result<Header> {
        if !is_header_name(name.as_bytes()) {
            return Err(ParseError::new(ErrorKind::HeaderLine, "Bad header name"));
        }
        if !is_utf8text(value) {
            return Err(ParseError::new(ErrorKind::HeaderLine, "Bad header value"));
        }
        Ok(Header {
            name: Bytes::copy_from_slice(name.as_bytes()),
            value: Bytes::copy_from_slice(value.as_bytes()),
        })
    }

    /// Made by the decoder from checked slices of a frame.
    pub(crate) fn from_checked(name: Bytes, value: Bytes) -> Header {
        Header { name, value }
    }

    /// The name as written.
    pub fn name(&self) -> &str {
        text(&self.name)
    }

    /// The value as written.
    pub fn value(&self) -> &str {
        text(&self.value)
    }

    /// `true` if the name is `name`, ignoring case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.value())
    }
}

/// An MSRP request or response.
///
/// A decoded frame keeps its header fields in order, as written, and its body
/// as a slice of the receive buffer; typed accessors parse on demand. Encoding
/// a decoded frame gives back its bytes (for frames written with `": "` after
/// each header name, as RFC 4975 §9 requires).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    tid: TransactionId,
    start: StartLine,
    headers: Vec<Header>,
    body: Option<Bytes>,
    continuation: Continuation,
}

impl fmt::Debug for Frame {
    /// The body is shown by its length: bodies can be megabytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("tid", &self.tid.as_str())
            .field("start", &self.start)
            .field("headers", &self.headers)
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .field("continuation", &self.continuation)
            .finish()
    }
}

impl Frame {
    /// A bare request: no headers, no body, flag `$`. See [`Frame::builder`].
    pub fn new_request(tid: TransactionId, method: Method) -> Frame {
        Frame {
            tid,
            start: StartLine::Request(method),
            headers: Vec::new(),
            body: None,
            continuation: Continuation::Done,
        }
    }

    /// A bare response: no headers, flag `$`. See [`Frame::response`].
    pub fn new_response(tid: TransactionId, status: u16, comment: Option<&str>) -> Result<Frame> {
        if !(100..=999).contains(&status) {
            return Err(ParseError::new(ErrorKind::StartLine, "Bad status code"));
        }
        if comment.is_some_and(|c| !is_utf8text(c)) {
            return Err(ParseError::new(ErrorKind::StartLine, "Bad comment"));
        }
        Ok(Frame {
            tid,
            start: StartLine::Response {
                status,
                comment: comment.map(str::to_owned),
            },
            headers: Vec::new(),
            body: None,
            continuation: Continuation::Done,
        })
    }

    pub(crate) fn from_parts(
        tid: TransactionId,
        start: StartLine,
        headers: Vec<Header>,
        body: Option<Bytes>,
        continuation: Continuation,
    ) -> Frame {
        Frame {
            tid,
            start,
            headers,
            body,
            continuation,
        }
    }

    /// A builder for a request with `method`.
    pub fn builder(method: Method) -> FrameBuilder {
        FrameBuilder {
            tid: None,
            method,
            headers: Vec::new(),
            body: None,
            continuation: Continuation::Done,
            error: None,
        }
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.tid
    }

    /// Replaces the transaction id (a relay forwarding a request picks a new
    /// one, RFC 4976 §6.4). Check [`Frame::end_line_in_body`] afterwards, or use
    /// [`Frame::renew_transaction_id`].
    pub fn set_transaction_id(&mut self, tid: TransactionId) {
        self.tid = tid;
    }

    /// Picks a fresh random transaction id that does not occur as an end-line
    /// in the body (RFC 4975 §7.1).
    pub fn renew_transaction_id(&mut self) {
        self.tid = TransactionId::random();
        self.ensure_safe_transaction_id();
    }

    /// The start line.
    pub fn start_line(&self) -> &StartLine {
        &self.start
    }

    /// `true` for a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request(_))
    }

    /// The method, for a request.
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request(m) => Some(m),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code, for a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { status, .. } => Some(*status),
            StartLine::Request(_) => None,
        }
    }

    /// The comment after the status code, for a response that has one.
    pub fn comment(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { comment, .. } => comment.as_deref(),
            StartLine::Request(_) => None,
        }
    }

    /// The continuation flag of the end-line.
    pub fn continuation(&self) -> Continuation {
        self.continuation
    }

    /// Sets the continuation flag.
    pub fn set_continuation(&mut self, c: Continuation) {
        self.continuation = c;
    }

    /// All header fields, in order.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The value of the first header called `name` (without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.is(name)).map(Header::value)
    }

    /// The values of every header called `name`, in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.is(name))
            .map(Header::value)
    }

    /// Sets `name` to `value`: replaces the first field of that name and drops
    /// any others, or adds it before the MIME fields that must come last
    /// (RFC 4975 §7.1: Content-Type is the last field).
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<()> {
        let h = Header::new(name, value)?;
        if let Some(i) = self.headers.iter().position(|x| x.is(name)) {
            self.headers[i] = h;
            let mut n = 0;
            self.headers.retain(|x| {
                let keep = !x.is(name) || n == 0;
                if x.is(name) {
                    n += 1;
                }
                keep
            });
        } else {
            let at = if is_mime_name(name) {
                self.headers
                    .iter()
                    .position(|x| x.is(names::CONTENT_TYPE))
                    .unwrap_or(self.headers.len())
            } else {
                self.headers
                    .iter()
                    .position(|x| is_mime_name(x.name()))
                    .unwrap_or(self.headers.len())
            };
            self.headers.insert(at, h);
        }
        Ok(())
    }

    /// Removes every field called `name`; `true` if there was one.
    pub fn remove_header(&mut self, name: &str) -> bool {
        let before = self.headers.len();
        self.headers.retain(|h| !h.is(name));
        self.headers.len() != before
    }

    /// The body, if the frame has one. `Some(empty)` is an empty body, which
    /// differs from no body (RFC 4975 §7.1: "bodiless requests are distinct
    /// from requests with empty bodies").
    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    /// Sets the body and its Content-Type (placed last, RFC 4975 §7.1). The
    /// transaction id is renewed if the body contains its end-line.
    pub fn set_body(&mut self, content_type: &str, body: Bytes) -> Result<()> {
        check_media_type(content_type)?;
        self.remove_header(names::CONTENT_TYPE);
        self.headers
            .push(Header::new(names::CONTENT_TYPE, content_type)?);
        self.body = Some(body);
        self.ensure_safe_transaction_id();
        Ok(())
    }

    /// Drops the body with Content-Type and the other MIME fields (RFC 4975
    /// §7.1: a request with no body carries none of them).
    pub fn clear_body(&mut self) {
        self.body = None;
        self.headers.retain(|h| !is_mime_name(h.name()));
    }

    /// Takes the body out, leaving the headers as they are.
    pub fn take_body(&mut self) -> Option<Bytes> {
        self.body.take()
    }

    // ---- typed headers -------------------------------------------------

    fn path(&self, name: &'static str) -> Result<Vec<MsrpUri>> {
        let v = self.header(name).ok_or_else(|| missing(name))?;
        parse_path(v).map_err(|e| e.context(&format!("Bad {name}")))
    }

    /// To-Path (RFC 4975 §7.1): the hops still to visit, next hop first.
    pub fn to_path(&self) -> Result<Vec<MsrpUri>> {
        self.path(names::TO_PATH)
    }

    /// From-Path: the way back to the sender, previous hop first.
    pub fn from_path(&self) -> Result<Vec<MsrpUri>> {
        self.path(names::FROM_PATH)
    }

    /// Use-Path of an AUTH response (RFC 4976 §4.2), if present.
    pub fn use_path(&self) -> Result<Option<Vec<MsrpUri>>> {
        self.header(names::USE_PATH)
            .map(|v| parse_path(v).map_err(|e| e.context("Bad Use-Path")))
            .transpose()
    }

    /// Sets To-Path.
    pub fn set_to_path(&mut self, path: &[MsrpUri]) -> Result<()> {
        self.set_header(names::TO_PATH, &format_path(path))
    }

    /// Sets From-Path.
    pub fn set_from_path(&mut self, path: &[MsrpUri]) -> Result<()> {
        self.set_header(names::FROM_PATH, &format_path(path))
    }

    /// What a relay does before forwarding a request or a response (RFC 4976
    /// §6.4.1, §6.4.2, §6.4.3): takes the first URI off To-Path (its own) and
    /// puts it in front of From-Path. Returns that URI; the caller checks it
    /// is one of its own. Fails, changing nothing, when To-Path has no second
    /// URI to forward to.
    pub fn forward_hop(&mut self) -> Result<MsrpUri> {
        let to = self
            .header(names::TO_PATH)
            .ok_or_else(|| missing(names::TO_PATH))?;
        let from = self
            .header(names::FROM_PATH)
            .ok_or_else(|| missing(names::FROM_PATH))?;
        let mut hops = to.split_ascii_whitespace();
        let first = hops.next().ok_or_else(|| missing(names::TO_PATH))?;
        let me = MsrpUri::parse(first).map_err(|e| e.context("Bad To-Path"))?;
        let rest: Vec<&str> = hops.collect();
        if rest.is_empty() {
            return Err(ParseError::header("To-Path has no next hop"));
        }
        let new_to = rest.join(" ");
        let mut new_from = String::with_capacity(first.len() + 1 + from.len());
        new_from.push_str(first);
        for u in from.split_ascii_whitespace() {
            new_from.push(' ');
            new_from.push_str(u);
        }
        self.set_header(names::TO_PATH, &new_to)?;
        self.set_header(names::FROM_PATH, &new_from)?;
        Ok(me)
    }

    /// Message-ID, if present.
    pub fn message_id(&self) -> Result<Option<MessageId>> {
        self.header(names::MESSAGE_ID)
            .map(|v| MessageId::new(v.trim()))
            .transpose()
    }

    /// Byte-Range, if present.
    pub fn byte_range(&self) -> Result<Option<ByteRange>> {
        self.header(names::BYTE_RANGE)
            .map(ByteRange::parse)
            .transpose()
    }

    /// Content-Type, if present.
    pub fn content_type(&self) -> Option<&str> {
        self.header(names::CONTENT_TYPE)
    }

    /// Success-Report, `no` when absent (RFC 4975 §7.1.1).
    pub fn success_report(&self) -> Result<SuccessReport> {
        self.header(names::SUCCESS_REPORT)
            .map_or(Ok(SuccessReport::No), SuccessReport::parse)
    }

    /// Failure-Report, `yes` when absent (RFC 4975 §7.1.1).
    pub fn failure_report(&self) -> Result<FailureReport> {
        self.header(names::FAILURE_REPORT)
            .map_or(Ok(FailureReport::Yes), FailureReport::parse)
    }

    /// The Status header of a REPORT, if present.
    pub fn status_header(&self) -> Result<Option<StatusHeader>> {
        self.header(names::STATUS)
            .map(StatusHeader::parse)
            .transpose()
    }

    fn seconds(&self, name: &'static str) -> Result<Option<u64>> {
        self.header(name)
            .map(|v| {
                parse_digits(v.trim()).ok_or_else(|| ParseError::header(format!("Bad {name}")))
            })
            .transpose()
    }

    /// Expires in seconds (RFC 4976 §4.6), if present.
    pub fn expires(&self) -> Result<Option<u64>> {
        self.seconds(names::EXPIRES)
    }

    /// Min-Expires in seconds (RFC 4976 §4.6, in 423 responses), if present.
    pub fn min_expires(&self) -> Result<Option<u64>> {
        self.seconds(names::MIN_EXPIRES)
    }

    /// Max-Expires in seconds (RFC 4976 §4.6, in 423 responses), if present.
    pub fn max_expires(&self) -> Result<Option<u64>> {
        self.seconds(names::MAX_EXPIRES)
    }

    /// WWW-Authenticate as written (parse with [`DigestParams`](crate::DigestParams)).
    pub fn www_authenticate(&self) -> Option<&str> {
        self.header(names::WWW_AUTHENTICATE)
    }

    /// Authorization as written.
    pub fn authorization(&self) -> Option<&str> {
        self.header(names::AUTHORIZATION)
    }

    /// Authentication-Info as written.
    pub fn authentication_info(&self) -> Option<&str> {
        self.header(names::AUTHENTICATION_INFO)
    }

    /// Checks what every node needs from a frame: To-Path and From-Path once
    /// each and readable (RFC 4975 §9 `headers`), every header this crate
    /// types readable and not repeated, a Content-Type with any body (§7.1).
    /// The decoder runs this on every frame.
    pub fn validate(&self) -> Result<()> {
        const SINGLE: [&str; 12] = [
            names::TO_PATH,
            names::FROM_PATH,
            names::MESSAGE_ID,
            names::BYTE_RANGE,
            names::SUCCESS_REPORT,
            names::FAILURE_REPORT,
            names::STATUS,
            names::CONTENT_TYPE,
            names::USE_PATH,
            names::EXPIRES,
            names::MIN_EXPIRES,
            names::MAX_EXPIRES,
        ];
        let mut seen = [false; SINGLE.len()];
        for h in &self.headers {
            let Some(i) = SINGLE.iter().position(|n| h.is(n)) else {
                continue;
            };
            if seen[i] {
                return Err(ParseError::new(
                    ErrorKind::MissingHeader,
                    format!("Repeated {}", SINGLE[i]),
                ));
            }
            seen[i] = true;
            let v = h.value();
            let checked = match i {
                0 | 1 | 8 => check_path(v),
                2 => MessageId::new(v.trim()).map(drop),
                3 => ByteRange::parse(v).map(drop),
                4 => SuccessReport::parse(v).map(drop),
                5 => FailureReport::parse(v).map(drop),
                6 => StatusHeader::parse(v).map(drop),
                7 => check_media_type(v),
                _ => parse_digits(v.trim())
                    .map(drop)
                    .ok_or_else(|| ParseError::header("Bad value")),
            };
            checked.map_err(|e| e.context(&format!("Bad {}", SINGLE[i])))?;
        }
        if !seen[0] {
            return Err(missing(names::TO_PATH));
        }
        if !seen[1] {
            return Err(missing(names::FROM_PATH));
        }
        if self.body.is_some() && !seen[7] {
            return Err(ParseError::new(
                ErrorKind::Body,
                "Body without Content-Type",
            ));
        }
        Ok(())
    }

    // ---- encoding ------------------------------------------------------

    /// `true` if the body contains this frame's end-line (seven hyphens, the
    /// transaction id and a flag character), which RFC 4975 §7.1 forbids.
    pub fn end_line_in_body(&self) -> bool {
        let Some(body) = &self.body else {
            return false;
        };
        let mut needle = Vec::with_capacity(7 + self.tid.as_str().len());
        needle.extend_from_slice(HYPHENS);
        needle.extend_from_slice(self.tid.as_str().as_bytes());
        let finder = memchr::memmem::Finder::new(&needle);
        finder.find_iter(body).any(|i| {
            body.get(i + needle.len())
                .is_some_and(|&c| Continuation::from_byte(c).is_some())
        })
    }

    /// RFC 4975 §7.1: "If the end-line is present in the body, the sender MUST
    /// choose a new transaction identifier that is not present in the body."
    /// Returns `true` if the id was changed.
    pub fn ensure_safe_transaction_id(&mut self) -> bool {
        let mut changed = false;
        while self.end_line_in_body() {
            self.tid = TransactionId::random();
            changed = true;
        }
        changed
    }

    /// Number of bytes [`Frame::encode_into`] writes.
    pub fn encoded_len(&self) -> usize {
        let tid = self.tid.as_str().len();
        let start = 5
            + tid
            + 1
            + match &self.start {
                StartLine::Request(m) => m.as_str().len(),
                StartLine::Response { comment, .. } => {
                    3 + comment.as_ref().map_or(0, |c| c.len() + 1)
                }
            }
            + 2;
        let headers: usize = self
            .headers
            .iter()
            .map(|h| h.name.len() + 2 + h.value.len() + 2)
            .sum();
        let body = self.body.as_ref().map_or(0, |b| 2 + b.len() + 2);
        start + headers + body + 7 + tid + 1 + 2
    }

    /// Writes the start line, the header fields and, if there is a body, the
    /// blank line that precedes it: everything before the body.
    pub fn encode_head_into(&self, dst: &mut BytesMut) {
        dst.put_slice(b"MSRP ");
        dst.put_slice(self.tid.as_str().as_bytes());
        dst.put_u8(b' ');
        match &self.start {
            StartLine::Request(m) => dst.put_slice(m.as_str().as_bytes()),
            StartLine::Response { status, comment } => {
                let s = status.to_string();
                dst.put_slice(s.as_bytes());
                if let Some(c) = comment {
                    dst.put_u8(b' ');
                    dst.put_slice(c.as_bytes());
                }
            }
        }
        dst.put_slice(b"\r\n");
        for h in &self.headers {
            dst.put_slice(&h.name);
            dst.put_slice(b": ");
            dst.put_slice(&h.value);
            dst.put_slice(b"\r\n");
        }
        if self.body.is_some() {
            dst.put_slice(b"\r\n");
        }
    }

    /// Writes what follows the body: the CRLF that ends a body and the
    /// end-line. A driver that interrupts a long chunk (RFC 4975 §7.1.1)
    /// writes the head, part of the body, then this with flag `+`.
    pub fn encode_tail_into(&self, dst: &mut BytesMut) {
        if self.body.is_some() {
            dst.put_slice(b"\r\n");
        }
        dst.put_slice(HYPHENS);
        dst.put_slice(self.tid.as_str().as_bytes());
        dst.put_u8(self.continuation.as_byte());
        dst.put_slice(b"\r\n");
    }

    /// Serializes the frame (RFC 4975 §9). The body is written as is: frames
    /// from the builders, [`Frame::set_body`] and the report and chunking
    /// helpers already carry a transaction id whose end-line is not in the body.
    pub fn encode_into(&self, dst: &mut BytesMut) {
        dst.reserve(self.encoded_len());
        self.encode_head_into(dst);
        if let Some(b) = &self.body {
            dst.put_slice(b);
        }
        self.encode_tail_into(dst);
    }

    /// The serialized frame.
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(self.encoded_len());
        self.encode_into(&mut b);
        b.freeze()
    }

    // ---- responses -----------------------------------------------------

    /// The response to this request (RFC 4975 §7.2): same transaction id;
    /// To-Path is the first From-Path URI for a SEND (responses go back one
    /// hop) and the whole From-Path for other methods (AUTH, RFC 4976 §5.1);
    /// From-Path is the first To-Path URI, the responder's own; no body; flag `$`.
    ///
    /// Whether a response is owed at all is [`crate::report::response_owed`].
    pub fn response(&self, status: u16, comment: Option<&str>) -> Result<Frame> {
        let StartLine::Request(method) = &self.start else {
            return Err(ParseError::new(
                ErrorKind::StartLine,
                "Responses are not answered",
            ));
        };
        let to = self
            .header(names::TO_PATH)
            .ok_or_else(|| missing(names::TO_PATH))?;
        let from = self
            .header(names::FROM_PATH)
            .ok_or_else(|| missing(names::FROM_PATH))?;
        response_from_parts(&self.tid, method, to, from, status, comment)
    }
}

/// Fields whose names start with `Content-` are the MIME fields of RFC 4975
/// §9 `content-stuff` (Content-Type, Content-ID, Content-Description,
/// Content-Disposition and extensions).
fn is_mime_name(name: &str) -> bool {
    name.len() > 8 && name.as_bytes()[..8].eq_ignore_ascii_case(b"content-")
}

fn missing(name: &str) -> ParseError {
    ParseError::new(ErrorKind::MissingHeader, format!("Missing {name}"))
}

/// §7.2 from the request's parts, for [`Frame::response`] and for answering a
/// frame the decoder rejected.
pub(crate) fn response_from_parts(
    tid: &TransactionId,
    method: &Method,
    to_path: &str,
    from_path: &str,
    status: u16,
    comment: Option<&str>,
) -> Result<Frame> {
    let mut from_hops = from_path.split_ascii_whitespace();
    let back = if *method == Method::Send {
        from_hops
            .next()
            .map(str::to_owned)
            .ok_or_else(|| missing(names::FROM_PATH))?
    } else {
        from_hops.collect::<Vec<_>>().join(" ")
    };
    let me = to_path
        .split_ascii_whitespace()
        .next()
        .ok_or_else(|| missing(names::TO_PATH))?;
    check_path(&back)?;
    check_path(me)?;
    let mut r = Frame::new_response(tid.clone(), status, comment)?;
    r.headers.push(Header::new(names::TO_PATH, &back)?);
    r.headers.push(Header::new(names::FROM_PATH, me)?);
    Ok(r)
}

/// Builds requests. Header fields come out in the order they were added, with
/// Content-Type last (RFC 4975 §7.1); without [`FrameBuilder::transaction_id`]
/// a random id is used, and any id whose end-line occurs in the body is
/// replaced by one that does not (§7.1).
#[derive(Debug, Clone)]
pub struct FrameBuilder {
    tid: Option<TransactionId>,
    method: Method,
    headers: Vec<Header>,
    body: Option<(String, Bytes)>,
    continuation: Continuation,
    error: Option<ParseError>,
}

impl FrameBuilder {
    fn push(mut self, name: &str, value: &str) -> Self {
        match Header::new(name, value) {
            Ok(h) => self.headers.push(h),
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(e);
                }
            }
        }
        self
    }

    /// Uses `tid` instead of a random transaction id.
    pub fn transaction_id(mut self, tid: TransactionId) -> Self {
        self.tid = Some(tid);
        self
    }

    /// To-Path: the hops to visit, next hop first.
    pub fn to_path(self, path: &[MsrpUri]) -> Self {
        self.push(names::TO_PATH, &format_path(path))
    }

    /// From-Path: the sender's URI (and, at relays, the way back).
    pub fn from_path(self, path: &[MsrpUri]) -> Self {
        self.push(names::FROM_PATH, &format_path(path))
    }

    /// Message-ID.
    pub fn message_id(self, id: &MessageId) -> Self {
        self.push(names::MESSAGE_ID, id.as_str())
    }

    /// Byte-Range.
    pub fn byte_range(self, r: ByteRange) -> Self {
        self.push(names::BYTE_RANGE, &r.to_string())
    }

    /// Success-Report.
    pub fn success_report(self, v: SuccessReport) -> Self {
        self.push(names::SUCCESS_REPORT, v.as_str())
    }

    /// Failure-Report.
    pub fn failure_report(self, v: FailureReport) -> Self {
        self.push(names::FAILURE_REPORT, v.as_str())
    }

    /// Status (REPORT requests).
    pub fn status(self, s: &StatusHeader) -> Self {
        self.push(names::STATUS, &s.to_string())
    }

    /// Expires in seconds (AUTH, RFC 4976 §5.1).
    pub fn expires(self, seconds: u64) -> Self {
        self.push(names::EXPIRES, &seconds.to_string())
    }

    /// Any header field.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.push(name, value)
    }

    /// The body and its Content-Type.
    pub fn body(mut self, content_type: &str, body: Bytes) -> Self {
        self.body = Some((content_type.to_owned(), body));
        self
    }

    /// The continuation flag (default `$`).
    pub fn continuation(mut self, c: Continuation) -> Self {
        self.continuation = c;
        self
    }

    /// The frame; fails if a header name or value was not valid text.
    pub fn build(self) -> Result<Frame> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut f = Frame {
            tid: self.tid.unwrap_or_else(TransactionId::random),
            start: StartLine::Request(self.method),
            headers: self.headers,
            body: None,
            continuation: self.continuation,
        };
        if let Some((ct, body)) = self.body {
            f.set_body(&ct, body)?;
        }
        f.ensure_safe_transaction_id();
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> MsrpUri {
        MsrpUri::parse(s).unwrap()
    }

    fn send() -> Frame {
        Frame::builder(Method::Send)
            .transaction_id(TransactionId::new("a786hjs2").unwrap())
            .to_path(&[uri("msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp")])
            .from_path(&[uri("msrp://atlanta.example.com:7654/jshA7weztas;tcp")])
            .message_id(&MessageId::new("87652491").unwrap())
            .byte_range(ByteRange::new(1, Some(25), Some(25)))
            .body("text/plain", Bytes::from_static(b"Hey Bob, are you there?"))
            .build()
            .unwrap()
    }

    #[test]
    fn encodes_figure_2() {
        let f = send();
        let want = "MSRP a786hjs2 SEND\r\n\
            To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n\
            From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n\
            Message-ID: 87652491\r\n\
            Byte-Range: 1-25/25\r\n\
            Content-Type: text/plain\r\n\
            \r\n\
            Hey Bob, are you there?\r\n\
            -------a786hjs2$\r\n";
        assert_eq!(f.to_bytes(), want.as_bytes());
        assert_eq!(f.encoded_len(), want.len());
        f.validate().unwrap();

        let r = f.response(200, Some("OK")).unwrap();
        let want = "MSRP a786hjs2 200 OK\r\n\
            To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n\
            From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n\
            -------a786hjs2$\r\n";
        assert_eq!(r.to_bytes(), want.as_bytes());
        assert_eq!(r.encoded_len(), want.len());
        assert!(r.response(200, None).is_err());
    }

    #[test]
    fn response_to_non_send_returns_the_whole_path() {
        let auth = Frame::builder(Method::Auth)
            .to_path(&[uri("msrps://extra.example.com;tcp")])
            .from_path(&[
                uri("msrps://intra.example.com:9000/jui787s2f;tcp"),
                uri("msrps://alice.example.com:9892/98cjs;tcp"),
            ])
            .build()
            .unwrap();
        let r = auth.response(401, Some("Unauthorized")).unwrap();
        assert_eq!(
            r.header("to-path"),
            Some(
                "msrps://intra.example.com:9000/jui787s2f;tcp msrps://alice.example.com:9892/98cjs;tcp"
            )
        );
        assert_eq!(r.header("From-Path"), Some("msrps://extra.example.com;tcp"));
    }

    #[test]
    fn the_tid_never_occurs_as_an_end_line_in_the_body() {
        let tid = TransactionId::new("abcd1234").unwrap();
        let f = Frame::builder(Method::Send)
            .transaction_id(tid.clone())
            .to_path(&[uri("msrp://h:1/a;tcp")])
            .from_path(&[uri("msrp://h:2/b;tcp")])
            .body(
                "text/plain",
                Bytes::from_static(b"x\r\n-------abcd1234$\r\ny"),
            )
            .build()
            .unwrap();
        assert_ne!(f.transaction_id(), &tid);
        assert!(!f.end_line_in_body());
        // Without a flag after it, the id is harmless and kept.
        let g = Frame::builder(Method::Send)
            .transaction_id(tid.clone())
            .to_path(&[uri("msrp://h:1/a;tcp")])
            .from_path(&[uri("msrp://h:2/b;tcp")])
            .body("text/plain", Bytes::from_static(b"-------abcd1234x"))
            .build()
            .unwrap();
        assert_eq!(g.transaction_id(), &tid);
    }

    #[test]
    fn headers_edit_in_place() {
        let mut f = send();
        f.set_header("Success-Report", "yes").unwrap();
        // Added before the MIME fields, which stay last.
        assert_eq!(f.headers().last().unwrap().name(), "Content-Type");
        assert_eq!(f.success_report().unwrap(), SuccessReport::Yes);
        f.set_header("success-report", "no").unwrap();
        assert_eq!(f.header_all("Success-Report").count(), 1);
        assert!(f.set_header("Bad Name", "x").is_err());
        assert!(f.set_header("X", "a\r\nb").is_err());
        f.clear_body();
        assert_eq!(f.content_type(), None);
        assert_eq!(f.body(), None);
        assert!(f.remove_header("Success-Report"));
        assert!(!f.remove_header("Success-Report"));
        f.validate().unwrap();
    }

    #[test]
    fn forward_hop_moves_the_relay_uri() {
        let mut f = Frame::builder(Method::Send)
            .to_path(&[
                uri("msrps://a.example.org:9000/kjfjan;tcp"),
                uri("msrps://b.example.net:9000/aeiug;tcp"),
            ])
            .from_path(&[uri("msrps://alice.example.org:7965/bar;tcp")])
            .build()
            .unwrap();
        let me = f.forward_hop().unwrap();
        assert_eq!(me.as_str(), "msrps://a.example.org:9000/kjfjan;tcp");
        assert_eq!(
            f.header("To-Path"),
            Some("msrps://b.example.net:9000/aeiug;tcp")
        );
        assert_eq!(
            f.header("From-Path"),
            Some("msrps://a.example.org:9000/kjfjan;tcp msrps://alice.example.org:7965/bar;tcp")
        );
        let before = f.clone();
        assert!(f.forward_hop().is_err());
        assert_eq!(f, before);
    }

    #[test]
    fn validate_catches_what_nodes_need() {
        let mut f = send();
        f.remove_header("To-Path");
        assert_eq!(f.validate().unwrap_err().reason(), "Missing To-Path");
        let mut f = send();
        f.set_header("Byte-Range", "0-1/2").unwrap();
        assert!(
            f.validate()
                .unwrap_err()
                .reason()
                .starts_with("Bad Byte-Range")
        );
        let mut f = send();
        f.remove_header("Content-Type");
        assert_eq!(
            f.validate().unwrap_err().reason(),
            "Body without Content-Type"
        );
        let mut f = send();
        f.headers
            .push(Header::new("Message-ID", "other123").unwrap());
        assert_eq!(f.validate().unwrap_err().reason(), "Repeated Message-ID");
    }

    #[test]
    fn methods_and_flags() {
        assert_eq!(Method::parse("SEND").unwrap(), Method::Send);
        assert_eq!(Method::parse("FOO").unwrap(), Method::Other("FOO".into()));
        assert!(Method::parse("send").is_err());
        assert!(Method::parse("").is_err());
        for c in [
            Continuation::More,
            Continuation::Done,
            Continuation::Aborted,
        ] {
            assert_eq!(Continuation::from_byte(c.as_byte()), Some(c));
        }
        assert_eq!(Continuation::from_byte(b'x'), None);
        assert!(Frame::new_response(TransactionId::random(), 20, None).is_err());
    }
}
