//! The SIP message: start line, header lines kept in order as spans of the
//! received buffer, and the body. Typed header access is in `headers`; framing
//! (datagram and stream) is in `framing`.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{ErrorKind, ParseError, Result};
use crate::name::{HeaderName, KNOWN};
use crate::scan::{is_token, is_token_char, is_wsp};

/// A SIP method. Methods are case-sensitive (RFC 3261 §7.1): `invite` is an
/// extension method, not INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Subscribe,
    Notify,
    Publish,
    Message,
    Info,
    Prack,
    Update,
    Refer,
    /// An extension method; its text is available from the message.
    Other,
}

impl Method {
    /// Classifies a method token (case-sensitive).
    pub fn from_token(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "PUBLISH" => Method::Publish,
            "MESSAGE" => Method::Message,
            "INFO" => Method::Info,
            "PRACK" => Method::Prack,
            "UPDATE" => Method::Update,
            "REFER" => Method::Refer,
            _ => Method::Other,
        }
    }

    /// The method token; `None` for [`Method::Other`].
    pub fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Publish => "PUBLISH",
            Method::Message => "MESSAGE",
            Method::Info => "INFO",
            Method::Prack => "PRACK",
            Method::Update => "UPDATE",
            Method::Refer => "REFER",
            Method::Other => return None,
        })
    }
}

/// A byte range of the message buffer. Offsets are `u32`: framing caps messages
/// far below 4 GiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Text that lives in the received buffer, or that we made (unfolded values,
/// headers added by a proxy).
#[derive(Debug, Clone)]
enum Text {
    Buf(Span),
    Own(Box<str>),
}

#[derive(Debug, Clone)]
struct Header {
    name: HeaderName,
    name_text: Text,
    value: Text,
    /// The whole line(s) as received, CRLFs between folded lines included,
    /// final CRLF excluded: re-serialized verbatim while the header is untouched.
    line: Option<Span>,
}

#[derive(Debug, Clone)]
enum Start {
    Request {
        method: Method,
        method_text: Text,
        uri: Text,
    },
    Response {
        code: u16,
        reason: Text,
    },
}

/// A parsed (or built) SIP request or response.
///
/// Parsing checks the framing and the line structure: start line, `name: value`
/// header lines, UTF-8, Content-Length. Header values are parsed into typed form
/// only when asked (`via()`, `cseq()`, ...); [`SipMessage::check_core`] and
/// [`SipMessage::validate`] parse them all at once.
#[derive(Clone)]
pub struct SipMessage {
    buf: Bytes,
    /// The message's own bytes within `buf` (leading CRLFs and UDP trailing
    /// octets excluded); what an untouched message serializes to.
    span: Span,
    start: Start,
    /// Start line as received; `None` once it was changed.
    start_line: Option<Span>,
    headers: Vec<Header>,
    /// Index + 1 of the first header of each known name (0 = absent).
    first: [u16; KNOWN],
    body: Bytes,
    pristine: bool,
    /// [`SipMessage::check_core`] passed and no core header changed since
    /// (see [`SipMessage::mark_core_checked`]).
    core_checked: bool,
    /// The top Via as first parsed, as offsets into the first Via line:
    /// `via()` is asked for by every layer (vetting, transaction matching,
    /// the proxy, response routing) and parses once. Cleared by any Via edit.
    pub(crate) top_via: std::sync::OnceLock<Box<crate::headers::TopVia>>,
    /// The From and To tags as first parsed (offsets into the header's
    /// text; `None` inside: no tag). Cleared by an edit of that header.
    pub(crate) tags: [std::sync::OnceLock<Option<crate::headers::Rel>>; 2],
}

impl fmt::Debug for SipMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SipMessage");
        match &self.start {
            Start::Request { uri, .. } => d
                .field("method", &self.method_str())
                .field("uri", &self.text(uri)),
            Start::Response { code, .. } => d.field("status", code),
        };
        d.field("headers", &self.headers.len())
            .field("body", &self.body.len())
            .finish()
    }
}

impl fmt::Display for SipMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

/// How the message reached us, which decides how its body is delimited
/// (RFC 3261 §18.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// One message per datagram: Content-Length optional, trailing octets dropped.
    Datagram,
    /// The caller framed it by Content-Length, which must be present.
    Stream,
}

const SIP_VERSION: &str = "SIP/2.0";

/// Largest number of header lines we accept in one message; far above any real
/// message (the RFC 4475 longreq has about 40), and keeps indexes in `u16`.
const MAX_HEADERS: usize = 1024;

impl SipMessage {
    /// Parses one message from a datagram (RFC 3261 §18.3: Content-Length may be
    /// absent, then the body is the rest of the datagram; octets beyond
    /// Content-Length are discarded). Leading CRLFs are skipped (§7.5).
    pub fn parse(buf: Bytes) -> Result<SipMessage> {
        parse(buf, Framing::Datagram)
    }

    // ----- start line -------------------------------------------------------

    /// Is this a request?
    pub fn is_request(&self) -> bool {
        matches!(self.start, Start::Request { .. })
    }

    /// The method of a request; `None` for a response (see `cseq()` there).
    pub fn method(&self) -> Option<Method> {
        match &self.start {
            Start::Request { method, .. } => Some(*method),
            Start::Response { .. } => None,
        }
    }

    /// The method token of a request as written.
    pub fn method_str(&self) -> Option<&str> {
        match &self.start {
            Start::Request { method_text, .. } => Some(self.text(method_text)),
            Start::Response { .. } => None,
        }
    }

    /// The Request-URI as written.
    pub fn request_uri_str(&self) -> Option<&str> {
        match &self.start {
            Start::Request { uri, .. } => Some(self.text(uri)),
            Start::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            Start::Response { code, .. } => Some(*code),
            Start::Request { .. } => None,
        }
    }

    /// The reason phrase of a response.
    pub fn reason(&self) -> Option<&str> {
        match &self.start {
            Start::Response { reason, .. } => Some(self.text(reason)),
            Start::Request { .. } => None,
        }
    }

    // ----- raw headers ------------------------------------------------------

    /// Every header line in order, as `(name as written, value)`; folded values
    /// come unfolded.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.headers
            .iter()
            .map(|h| (self.text(&h.name_text), self.text(&h.value)))
    }

    /// Number of header lines.
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// The value of the first header line called `name`.
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        if name == HeaderName::Other {
            return None;
        }
        let i = self.first[name as usize];
        (i != 0).then(|| self.text(&self.headers[i as usize - 1].value))
    }

    /// The values of every header line called `name`, in order. A line may
    /// carry several comma-separated values; typed accessors split them.
    pub fn header_lines(&self, name: HeaderName) -> impl Iterator<Item = &str> + '_ {
        let start = match self.first.get(name as usize) {
            Some(&i) if i != 0 => i as usize - 1,
            _ => self.headers.len(),
        };
        self.headers[start..]
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| self.text(&h.value))
    }

    /// The values of every header line whose name is `name` (case-insensitive;
    /// known names match their compact form too).
    pub fn header_lines_by_name<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        let known = HeaderName::from_bytes(name.as_bytes());
        self.headers
            .iter()
            .filter(move |h| {
                if known != HeaderName::Other {
                    h.name == known
                } else {
                    h.name == HeaderName::Other
                        && self.text(&h.name_text).eq_ignore_ascii_case(name)
                }
            })
            .map(|h| self.text(&h.value))
    }

    /// The body (empty when there is none).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    // ----- serialization ----------------------------------------------------

    /// The message on the wire. An untouched parsed message comes out byte for
    /// byte as it was received; a built or edited one in canonical form.
    pub fn to_bytes(&self) -> Bytes {
        if self.pristine {
            return self.buf.slice(self.span.range());
        }
        let mut out = BytesMut::with_capacity(self.span.range().len() + 64);
        self.write_to(&mut out);
        out.freeze()
    }

    /// The length of the wire form ([`to_bytes`](Self::to_bytes)) without
    /// building it: what the RFC 3261 §18.1.1 size rule needs for every
    /// forwarded request.
    pub fn wire_len(&self) -> usize {
        if self.pristine {
            return self.span.range().len();
        }
        let start = match (&self.start_line, &self.start) {
            (Some(l), _) => l.range().len(),
            (
                None,
                Start::Request {
                    method_text, uri, ..
                },
            ) => self.text(method_text).len() + self.text(uri).len() + 2 + SIP_VERSION.len(),
            (None, Start::Response { reason, .. }) => {
                SIP_VERSION.len() + 5 + self.text(reason).len()
            }
        };
        let headers: usize = self
            .headers
            .iter()
            .map(|h| match h.line {
                Some(l) => l.range().len(),
                None => self.text(&h.name_text).len() + 2 + self.text(&h.value).len(),
            } + 2)
            .sum();
        start + 2 + headers + 2 + self.body.len()
    }

    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut BytesMut) {
        if self.pristine {
            out.extend_from_slice(&self.buf[self.span.range()]);
            return;
        }
        match (&self.start_line, &self.start) {
            (Some(l), _) => out.extend_from_slice(&self.buf[l.range()]),
            (
                None,
                Start::Request {
                    method_text, uri, ..
                },
            ) => {
                out.extend_from_slice(self.text(method_text).as_bytes());
                out.put_u8(b' ');
                out.extend_from_slice(self.text(uri).as_bytes());
                out.put_u8(b' ');
                out.extend_from_slice(SIP_VERSION.as_bytes());
            }
            (None, Start::Response { code, reason }) => {
                out.extend_from_slice(SIP_VERSION.as_bytes());
                out.extend_from_slice(format!(" {code:03} ").as_bytes());
                out.extend_from_slice(self.text(reason).as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
        for h in &self.headers {
            match h.line {
                Some(l) => out.extend_from_slice(&self.buf[l.range()]),
                None => {
                    out.extend_from_slice(self.text(&h.name_text).as_bytes());
                    out.extend_from_slice(b": ");
                    out.extend_from_slice(self.text(&h.value).as_bytes());
                }
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }

    // ----- validation state -------------------------------------------------

    /// Records that [`check_core`](SipMessage::check_core) passed, so later
    /// steps (building a response, matching) may skip re-validating the core
    /// headers. Any edit of Via, From, To, Call-ID, CSeq or Max-Forwards, or
    /// of the Request-URI, clears the mark.
    pub fn mark_core_checked(&mut self) {
        self.core_checked = true;
    }

    /// Did [`check_core`](SipMessage::check_core) pass on the current
    /// content? (Only as recorded by [`mark_core_checked`](Self::mark_core_checked).)
    pub fn core_checked(&self) -> bool {
        self.core_checked
    }

    fn edited(&mut self, name: HeaderName) {
        match name {
            HeaderName::Via => self.top_via = std::sync::OnceLock::new(),
            HeaderName::From => self.tags[0] = std::sync::OnceLock::new(),
            HeaderName::To => self.tags[1] = std::sync::OnceLock::new(),
            _ => {}
        }
        if matches!(
            name,
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::MaxForwards
        ) {
            self.core_checked = false;
        }
    }

    // ----- editing (proxies, responses) ------------------------------------

    /// Puts a header line on top of all others (a proxy's Via, RFC 3261 §16.6).
    pub fn push_front(&mut self, name: HeaderName, value: &str) {
        self.insert_header(0, name, value);
    }

    /// Appends a header line after all others.
    pub fn push_back(&mut self, name: HeaderName, value: &str) {
        self.insert_header(self.headers.len(), name, value);
    }

    /// Appends a header line with a name this crate does not know.
    pub fn push_back_named(&mut self, name: &str, value: &str) {
        let known = HeaderName::from_bytes(name.as_bytes());
        self.headers.push(Header {
            name: known,
            name_text: Text::Own(name.into()),
            value: Text::Own(value.into()),
            line: None,
        });
        self.edited(known);
        self.touched();
    }

    /// Inserts a header line just before the first line called `name`, or at the
    /// end when there is none (Record-Route and Route ordering).
    pub fn insert_before_first(&mut self, name: HeaderName, value: &str) {
        let at = match self.first.get(name as usize) {
            Some(&i) if i != 0 => i as usize - 1,
            _ => self.headers.len(),
        };
        self.insert_header(at, name, value);
    }

    fn insert_header(&mut self, at: usize, name: HeaderName, value: &str) {
        let name_text = Text::Own(name.as_str().unwrap_or("X-Unnamed").into());
        self.headers.insert(
            at,
            Header {
                name,
                name_text,
                value: Text::Own(value.into()),
                line: None,
            },
        );
        self.edited(name);
        self.touched();
    }

    /// Removes every header line called `name`; returns how many went.
    pub fn remove_all(&mut self, name: HeaderName) -> usize {
        let before = self.headers.len();
        self.headers.retain(|h| h.name != name);
        let n = before - self.headers.len();
        if n > 0 {
            self.edited(name);
            self.touched();
        }
        n
    }

    /// Replaces every header line called `name` by one line with `value`, at the
    /// position of the first one (or at the end).
    pub fn set_header(&mut self, name: HeaderName, value: &str) {
        let at = match self.first.get(name as usize) {
            Some(&i) if i != 0 => i as usize - 1,
            _ => self.headers.len(),
        };
        self.headers.retain(|h| h.name != name);
        self.insert_header(at.min(self.headers.len()), name, value);
    }

    /// Replaces the first value of the first line called `name` by `value`,
    /// in place (a registrar or proxy stamping the top Via, RFC 3261
    /// §18.2.1). Other values on that line and every other line keep their
    /// text and position. Returns false when there is no such header.
    pub fn replace_first_value(&mut self, name: HeaderName, value: &str) -> bool {
        let idx = match self.first.get(name as usize) {
            Some(&i) if i != 0 => i as usize - 1,
            _ => return false,
        };
        let line = self.text(&self.headers[idx].value);
        let new_text = if crate::scan::split_list(line).nth(1).is_none() {
            value.to_owned()
        } else {
            let rest: Vec<&str> = crate::scan::split_list(line)
                .skip(1)
                .filter_map(|r| r.ok())
                .collect();
            format!("{value}, {}", rest.join(", "))
        };
        let h = &mut self.headers[idx];
        h.value = Text::Own(new_text.into());
        h.line = None;
        self.pristine = false;
        self.edited(name);
        true
    }

    /// Removes the first value of the first line called `name` (the top Via, the
    /// top Route) and returns it. A line with several comma-separated values
    /// keeps the others.
    pub fn pop_first_value(&mut self, name: HeaderName) -> Option<String> {
        let idx = match self.first.get(name as usize) {
            Some(&i) if i != 0 => i as usize - 1,
            _ => return None,
        };
        let value = self.text(&self.headers[idx].value).to_owned();
        let mut items = crate::scan::split_list(&value);
        let top = items.next()?.ok()?.to_owned();
        let rest: Vec<&str> = items.filter_map(|r| r.ok()).collect();
        if rest.is_empty() {
            self.headers.remove(idx);
        } else {
            let h = &mut self.headers[idx];
            h.value = Text::Own(rest.join(", ").into());
            h.line = None;
        }
        self.edited(name);
        self.touched();
        Some(top)
    }

    /// Replaces the Request-URI of a request (a proxy retargeting, §16.5).
    pub fn set_request_uri(&mut self, uri: &str) {
        if let Start::Request { uri: u, .. } = &mut self.start {
            *u = Text::Own(uri.into());
            self.start_line = None;
            self.core_checked = false;
            self.touched();
        }
    }

    /// Replaces the body and its Content-Type (or removes both when `body` is
    /// empty and `content_type` is `None`); Content-Length follows.
    pub fn set_body(&mut self, content_type: Option<&str>, body: Bytes) {
        match content_type {
            Some(ct) => self.set_header(HeaderName::ContentType, ct),
            None => {
                self.remove_all(HeaderName::ContentType);
            }
        }
        self.set_header(HeaderName::ContentLength, &body.len().to_string());
        self.body = body;
        self.touched();
    }

    fn touched(&mut self) {
        self.pristine = false;
        self.reindex();
    }

    fn reindex(&mut self) {
        self.first = [0; KNOWN];
        for (i, h) in self.headers.iter().enumerate() {
            if h.name != HeaderName::Other && self.first[h.name as usize] == 0 {
                self.first[h.name as usize] = (i + 1).min(u16::MAX as usize) as u16;
            }
        }
    }

    fn text<'s>(&'s self, t: &'s Text) -> &'s str {
        match t {
            Text::Own(s) => s,
            Text::Buf(span) => buf_str(&self.buf, *span),
        }
    }
}

/// The text of `span`.
///
/// Every `Text::Buf` span points into the header section, which `parse` has
/// checked to be UTF-8, and starts and ends at ASCII delimiters (SP, `:`, CR),
/// so it is a valid `str` on its own.
#[allow(unsafe_code)]
fn buf_str(buf: &Bytes, span: Span) -> &str {
    let bytes = &buf[span.range()];
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    // SAFETY: see above: the bytes were validated as UTF-8 by `parse` (the whole
    // header section at once) and the span boundaries are ASCII bytes, so they
    // fall on character boundaries. `buf` is immutable (`Bytes`).
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

fn err_start(reason: impl Into<std::borrow::Cow<'static, str>>) -> ParseError {
    ParseError::new(ErrorKind::StartLine, reason)
}

fn err_cl(reason: impl Into<std::borrow::Cow<'static, str>>) -> ParseError {
    ParseError::new(ErrorKind::ContentLength, reason)
}

/// Parses a message that starts at the beginning of `buf` (after optional CRLFs).
pub(crate) fn parse(buf: Bytes, framing: Framing) -> Result<SipMessage> {
    let data: &[u8] = &buf;
    let mut pos = 0;
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    while data[pos..].starts_with(b"\r\n") {
        pos += 2;
    }
    if pos == data.len() {
        return Err(err_start("Empty message"));
    }
    if data.len() > u32::MAX as usize {
        return Err(ParseError::new(ErrorKind::TooLarge, "Message Too Large"));
    }
    let no_end = || {
        ParseError::new(
            ErrorKind::Header,
            "Missing empty line after the header section",
        )
    };

    // Start line. One pass per line: the first CR or LF must be a CRLF.
    let line_end = pos + memchr::memchr2(b'\r', b'\n', &data[pos..]).ok_or_else(no_end)?;
    if data.get(line_end..line_end + 2) != Some(b"\r\n") {
        return Err(err_start("Start line not terminated by CRLF"));
    }
    let Ok(start_text) = std::str::from_utf8(&data[pos..line_end]) else {
        return Err(ParseError::new(
            ErrorKind::Encoding,
            "Start line is not valid UTF-8",
        ));
    };
    let start_span = Span::new(pos, line_end);
    let start = parse_start_line_text(start_text, start_span)?;

    // Header lines, up to the empty line.
    let mut headers: Vec<Header> = Vec::with_capacity(24);
    let mut first = [0u16; KNOWN];
    let mut folded = false;
    let mut i = line_end + 2;
    let head_end = loop {
        let rel = memchr::memchr2(b'\r', b'\n', &data[i..]).ok_or_else(no_end)?;
        let end = i + rel; // line content is data[i..end]
        match data.get(end..end + 2) {
            Some(b"\r\n") => {}
            Some([b'\r', _]) => return Err(ParseError::header("Bare CR in header section")),
            None if data[end] == b'\r' => return Err(no_end()),
            _ => return Err(ParseError::header("Bare LF in header section")),
        }
        let nl = end + 1;
        if end == i {
            break i;
        }
        let line = &data[i..end];
        if is_wsp(line[0]) {
            // RFC 3261 §7.3.1: a line starting with whitespace continues the
            // previous header value.
            let Some(h) = headers.last_mut() else {
                return Err(ParseError::header(
                    "Continuation line before the first header",
                ));
            };
            if let Some(l) = &mut h.line {
                l.end = end as u32;
            }
            if let Text::Buf(v) = &mut h.value {
                v.end = end as u32;
            }
            folded = true;
            i = nl + 1;
            continue;
        }
        // `token *WSP ":"`: the first colon (found by memchr) ends the name
        // and its trailing whitespace. A name the classifier recognises is a
        // token already (it compares case-insensitively, byte for byte);
        // any other is checked character by character, without branching.
        let Some(colon) = memchr::memchr(b':', line) else {
            return Err(header_line_error(line));
        };
        let mut name_end = colon;
        while name_end > 0 && is_wsp(line[name_end - 1]) {
            name_end -= 1;
        }
        let name = &line[..name_end];
        let hn = HeaderName::from_bytes(name);
        if hn == HeaderName::Other && !all_token_chars(name) {
            return Err(header_line_error(line));
        }
        let mut vs = colon + 1;
        while vs < line.len() && is_wsp(line[vs]) {
            vs += 1;
        }
        let mut ve = line.len();
        while ve > vs && is_wsp(line[ve - 1]) {
            ve -= 1;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ParseError::new(
                ErrorKind::TooLarge,
                "Too many header lines",
            ));
        }
        if hn != HeaderName::Other && first[hn as usize] == 0 {
            first[hn as usize] = headers.len() as u16 + 1;
        }
        headers.push(Header {
            name: hn,
            name_text: Text::Buf(Span::new(i, i + name_end)),
            value: Text::Buf(Span::new(i + vs, i + ve)),
            line: Some(Span::new(i, end)),
        });
        i = nl + 1;
    };
    // The header lines must be UTF-8 (RFC 3261 §7.3.1: UTF8-NONASCII only).
    if std::str::from_utf8(&data[line_end + 2..head_end]).is_err() {
        return Err(ParseError::new(
            ErrorKind::Encoding,
            "Header section is not valid UTF-8",
        ));
    }
    let body_start = head_end + 2;
    if folded {
        unfold(&buf, &mut headers);
    }

    let mut msg = SipMessage {
        span: Span::new(pos, body_start),
        buf: buf.clone(),
        start,
        start_line: Some(start_span),
        headers,
        first,
        body: Bytes::new(),
        pristine: true,
        core_checked: false,
        top_via: std::sync::OnceLock::new(),
        tags: Default::default(),
    };

    // Body, delimited per RFC 3261 §18.3.
    let available = data.len() - body_start;
    let body_len = match content_length(&msg)? {
        Some(n) if n > available => return Err(err_cl("Content-Length larger than body")),
        Some(n) => n,
        None if framing == Framing::Stream => {
            return Err(err_cl("Missing Content-Length on a stream transport"));
        }
        None => available,
    };
    msg.body = buf.slice(body_start..body_start + body_len);
    msg.span.end = (body_start + body_len) as u32;
    Ok(msg)
}

/// Is `name` a non-empty `token`? Every byte looked up, no early exit:
/// names are short and almost always good.
fn all_token_chars(name: &[u8]) -> bool {
    let mut ok = !name.is_empty();
    for &c in name {
        ok &= is_token_char(c);
    }
    ok
}

/// Why `line` (not a continuation line) is not `token *WSP ":" ...`.
#[cold]
fn header_line_error(line: &[u8]) -> ParseError {
    let Some(colon) = memchr::memchr(b':', line) else {
        return ParseError::header(format!(
            "Header line without colon: {}",
            String::from_utf8_lossy(&line[..line.len().min(40)])
        ));
    };
    let mut name_end = colon;
    while name_end > 0 && is_wsp(line[name_end - 1]) {
        name_end -= 1;
    }
    let name = &line[..name_end];
    debug_assert!(name.is_empty() || !name.iter().all(|&c| is_token_char(c)));
    ParseError::header(format!(
        "Bad header name '{}'",
        String::from_utf8_lossy(&name[..name.len().min(40)])
    ))
}

/// The Content-Length of a message (all lines must agree), `None` when absent.
pub(crate) fn content_length(msg: &SipMessage) -> Result<Option<usize>> {
    let mut found: Option<usize> = None;
    for v in msg.header_lines(HeaderName::ContentLength) {
        let n = parse_content_length(v)?;
        if found.is_some_and(|f| f != n) {
            return Err(err_cl("Conflicting Content-Length headers"));
        }
        found = Some(n);
    }
    Ok(found)
}

/// RFC 3261 §20.14: `Content-Length = 1*DIGIT`.
pub(crate) fn parse_content_length(v: &str) -> Result<usize> {
    if v.starts_with('-') {
        return Err(err_cl("Negative Content-Length"));
    }
    if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
        return Err(err_cl("Content-Length is not a number"));
    }
    // Values too large for memory are certainly larger than the body.
    v.parse::<u32>()
        .map(|n| n as usize)
        .map_err(|_| err_cl("Content-Length larger than body"))
}

/// Replaces the value of each folded header by its unfolded text: every run of
/// `*WSP CRLF 1*WSP` becomes one SP (RFC 3261 §7.3.1).
fn unfold(buf: &Bytes, headers: &mut [Header]) {
    for h in headers {
        let Text::Buf(span) = h.value else { continue };
        let raw = buf_str(buf, span);
        if !raw.contains('\r') {
            continue;
        }
        let mut out = String::with_capacity(raw.len());
        for (n, piece) in raw.split("\r\n").enumerate() {
            let piece = if n == 0 {
                piece.trim_end_matches([' ', '\t'])
            } else {
                piece.trim_matches([' ', '\t'])
            };
            if n > 0 && !out.is_empty() && !piece.is_empty() {
                out.push(' ');
            }
            out.push_str(piece);
        }
        h.value = Text::Own(out.into());
    }
}

/// RFC 3261 §7.1 Request-Line / §7.2 Status-Line: single SP separators, no
/// leading or trailing whitespace (RFC 4475 §3.1.2.9, §3.1.2.10).
fn parse_start_line(data: &[u8], span: Span) -> Result<Start> {
    parse_start_line_text(buf_slice_str(data, span), span)
}

/// [`parse_start_line`] on the line's text (`span`'s bytes).
fn parse_start_line_text(line: &str, span: Span) -> Result<Start> {
    if line.is_empty() {
        return Err(err_start("Empty start line"));
    }
    if let Some(rest) = strip_version(line) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        check_version(&line[..line.len() - rest.len()])?;
        let rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| err_start("Malformed Status-Line"))?;
        let code_txt = rest.get(..3).unwrap_or(rest);
        let after = &rest[code_txt.len()..];
        if code_txt.len() != 3
            || !code_txt.bytes().all(|c| c.is_ascii_digit())
            || !(after.is_empty() || after.starts_with(' '))
        {
            return Err(err_start("Status code is not three digits"));
        }
        let code: u16 = code_txt.parse().map_err(|_| err_start("Bad status code"))?;
        if !(100..=699).contains(&code) {
            return Err(err_start("Status code out of range"));
        }
        // The reason phrase may be empty (RFC 4475 §3.1.1.13) but the SP before
        // it is required by the grammar; we accept its absence as well.
        let reason_start = if after.is_empty() {
            span.end as usize
        } else {
            span.end as usize - (after.len() - 1)
        };
        if line.bytes().any(|c| c.is_ascii_control() && c != b'\t') {
            return Err(err_start("Control character in Status-Line"));
        }
        return Ok(Start::Response {
            code,
            reason: Text::Buf(Span::new(reason_start, span.end as usize)),
        });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version
    if let Some(start) = request_line_fast(line, span)? {
        return Ok(start);
    }
    if line.ends_with([' ', '\t']) {
        return Err(err_start("Malformed Request-Line: trailing whitespace"));
    }
    if line.starts_with([' ', '\t']) || line.contains("  ") || line.contains('\t') {
        return Err(err_start(
            "Malformed Request-Line: elements must be separated by a single SP",
        ));
    }
    if line.split(' ').count() > 3 && strip_version(line.rsplit(' ').next().unwrap_or("")).is_some()
    {
        return Err(err_start(
            "Malformed Request-Line: whitespace in Request-URI",
        ));
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(err_start(
            "Malformed Request-Line: expected Method SP Request-URI SP SIP-Version",
        ));
    };
    if !is_token(method) {
        return Err(err_start("Malformed Request-Line: bad method"));
    }
    if uri.is_empty() || uri.bytes().any(|c| c.is_ascii_control() || c == b'\t') {
        return Err(err_start("Malformed Request-Line: bad Request-URI"));
    }
    if uri.starts_with('<') {
        return Err(err_start("Request-URI must not be enclosed in <>"));
    }
    check_version(version)?;
    let m0 = span.start as usize;
    let u0 = m0 + method.len() + 1;
    Ok(Start::Request {
        method: Method::from_token(method),
        method_text: Text::Buf(Span::new(m0, m0 + method.len())),
        uri: Text::Buf(Span::new(u0, u0 + uri.len())),
    })
}

/// The usual Request-Line in one pass: exactly two single SPs, neither first
/// nor last, and no HTAB or control character anywhere. `Ok(None)` for
/// anything else, which the general path in [`parse_start_line_text`] reads
/// with its reasons in their order; for the lines it takes, the checks here
/// are the general path's, in the same order.
fn request_line_fast(line: &str, span: Span) -> Result<Option<Start>> {
    let b = line.as_bytes();
    let (mut sp1, mut sp2, mut spaces, mut odd) = (0, 0, 0u32, false);
    for (i, &c) in b.iter().enumerate() {
        if c == b' ' {
            if spaces == 0 {
                sp1 = i;
            } else {
                sp2 = i;
            }
            spaces += 1;
        } else if c < 0x20 || c == 0x7f {
            odd = true;
        }
    }
    if odd || spaces != 2 || sp1 == 0 || sp2 == sp1 + 1 || sp2 + 1 == b.len() {
        return Ok(None);
    }
    let (method, uri, version) = (&line[..sp1], &line[sp1 + 1..sp2], &line[sp2 + 1..]);
    if !is_token(method) {
        return Err(err_start("Malformed Request-Line: bad method"));
    }
    if uri.starts_with('<') {
        return Err(err_start("Request-URI must not be enclosed in <>"));
    }
    check_version(version)?;
    let m0 = span.start as usize;
    let u0 = m0 + sp1 + 1;
    Ok(Some(Start::Request {
        method: Method::from_token(method),
        method_text: Text::Buf(Span::new(m0, m0 + sp1)),
        uri: Text::Buf(Span::new(u0, u0 + uri.len())),
    }))
}

fn buf_slice_str(data: &[u8], span: Span) -> &str {
    // The header section (start line included) was validated as UTF-8.
    std::str::from_utf8(&data[span.range()]).unwrap_or("")
}

/// If `line` starts with a `SIP/x.y` version token, the text after it.
fn strip_version(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    if b.len() < 4 || !b[..4].eq_ignore_ascii_case(b"SIP/") {
        return None;
    }
    let end = line.find(' ').unwrap_or(line.len());
    Some(&line[end..])
}

/// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; we speak 2.0 only (§8.2.2: 505).
fn check_version(v: &str) -> Result<()> {
    if v.eq_ignore_ascii_case(SIP_VERSION) {
        return Ok(());
    }
    let ok_shape = v.len() > 4
        && v.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/")
        && v[4..].split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
    if ok_shape {
        Err(ParseError::new(ErrorKind::Version, "Version Not Supported"))
    } else {
        Err(err_start(format!(
            "Malformed SIP version '{}'",
            &v[..v.floor_char_boundary(20)]
        )))
    }
}

/// Builds canonical messages: `Name: value` lines in the order given, one SP
/// after the colon, CRLF line ends, and Content-Length computed from the body.
///
/// The builder indexes each line as it writes it, so [`build`](Self::build)
/// yields the message without parsing its own output again; lines it cannot
/// index that way (a value with a line break, a name that is not a token, a
/// Content-Length of the caller's) send the whole message through the parser.
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    head: BytesMut,
    body: Bytes,
    /// End of the start line (its CRLF excluded).
    start_end: usize,
    headers: Vec<Header>,
    /// Every line so far was indexed; `false`: `build` parses.
    indexed: bool,
}

impl MessageBuilder {
    fn with_start(head: BytesMut) -> Self {
        let start_end = head.len() - 2;
        let indexed = memchr::memchr2(b'\r', b'\n', &head[..start_end]).is_none();
        MessageBuilder {
            head,
            body: Bytes::new(),
            start_end,
            headers: Vec::with_capacity(16),
            indexed,
        }
    }

    /// Starts a request `METHOD uri SIP/2.0`.
    pub fn request(method: &str, uri: &str) -> Self {
        let mut head = BytesMut::with_capacity(1024);
        head.extend_from_slice(method.as_bytes());
        head.put_u8(b' ');
        head.extend_from_slice(uri.as_bytes());
        head.extend_from_slice(b" SIP/2.0\r\n");
        Self::with_start(head)
    }

    /// Starts a response `SIP/2.0 code reason`.
    pub fn response(code: u16, reason: &str) -> Self {
        Self::response_sized(code, reason, 1024)
    }

    /// [`response`](Self::response) with room for `capacity` bytes of head
    /// before it grows. What a transaction keeps for retransmissions keeps
    /// the whole buffer, so a caller that can estimate the size should.
    pub fn response_sized(code: u16, reason: &str, capacity: usize) -> Self {
        let mut head = BytesMut::with_capacity(capacity.max(reason.len() + 16));
        head.extend_from_slice(b"SIP/2.0 ");
        if code < 1000 {
            head.extend_from_slice(&[
                b'0' + (code / 100) as u8,
                b'0' + (code / 10 % 10) as u8,
                b'0' + (code % 10) as u8,
            ]);
        } else {
            // Not a status code; the start-line check refuses it in `build`.
            head.extend_from_slice(code.to_string().as_bytes());
        }
        head.put_u8(b' ');
        head.extend_from_slice(reason.as_bytes());
        head.extend_from_slice(b"\r\n");
        Self::with_start(head)
    }

    /// Starts a response to `req` with the headers RFC 3261 §8.2.6.2 copies:
    /// every Via, From, To, Call-ID and CSeq (and Record-Route for 1xx/2xx is
    /// left to the caller, who knows whether it created a dialog).
    pub fn response_to(req: &SipMessage, code: u16, reason: &str) -> Self {
        let mut b = Self::response(code, reason);
        for h in req
            .headers
            .iter()
            .filter(|h| h.name.is_copied_into_responses())
        {
            b = b.header(h.name, req.text(&h.value));
        }
        b
    }

    /// Appends a header line with a known name in its canonical spelling.
    pub fn header(self, name: HeaderName, value: &str) -> Self {
        match name.as_str() {
            Some(n) => self.line(n, Some(name), &[value]),
            None => self.line("X-Unnamed", None, &[value]),
        }
    }

    /// Appends a header line with a known name whose value is `parts`
    /// written one after the other (`To: <sip:b@x>;tag=1` from the request's
    /// To and a tag, without building the value first).
    pub fn header_joined(self, name: HeaderName, parts: &[&str]) -> Self {
        match name.as_str() {
            Some(n) => self.line(n, Some(name), parts),
            None => self.line("X-Unnamed", None, parts),
        }
    }

    /// Appends a header line with any name.
    pub fn header_named(self, name: &str, value: &str) -> Self {
        self.line(name, None, &[value])
    }

    /// Appends `name: value` (the value given in parts); `known` is the
    /// name's class when the caller knows it (a canonical spelling), else it
    /// is classified here.
    fn line(mut self, name: &str, known: Option<HeaderName>, value: &[&str]) -> Self {
        let line_start = self.head.len();
        self.head.extend_from_slice(name.as_bytes());
        self.head.extend_from_slice(b": ");
        let value_start = self.head.len();
        for part in value {
            self.head.extend_from_slice(part.as_bytes());
        }
        let line_end = self.head.len();
        self.head.extend_from_slice(b"\r\n");
        if self.indexed {
            // A known name comes in its canonical spelling: a token.
            let (hn, plain_name) = match known {
                Some(hn) => (hn, true),
                None => (
                    HeaderName::from_bytes(name.as_bytes()),
                    crate::scan::is_token(name),
                ),
            };
            self.index_line(line_start, name, hn, plain_name, value_start, line_end);
        }
        self
    }

    /// Records the line just written (its value at `value_start..line_end`
    /// of the head), as `parse` would have indexed it, or gives up indexing
    /// when `parse` might see it differently.
    fn index_line(
        &mut self,
        line_start: usize,
        name: &str,
        hn: HeaderName,
        plain_name: bool,
        value_start: usize,
        line_end: usize,
    ) {
        let v = &self.head[value_start..line_end];
        if !plain_name
            || hn == HeaderName::ContentLength
            || memchr::memchr2(b'\r', b'\n', v).is_some()
            || self.headers.len() + 1 >= MAX_HEADERS
        {
            self.indexed = false;
            return;
        }
        let name_end = line_start + name.len();
        let lead = v.iter().take_while(|&&c| is_wsp(c)).count();
        let trail = v[lead..].iter().rev().take_while(|&&c| is_wsp(c)).count();
        let vs = name_end + 2 + lead;
        let ve = line_end - trail;
        self.headers.push(Header {
            name: hn,
            name_text: Text::Buf(Span::new(line_start, name_end)),
            value: Text::Buf(Span::new(vs, ve)),
            line: Some(Span::new(line_start, line_end)),
        });
    }

    /// Sets the body with its Content-Type.
    pub fn body(self, content_type: &str, body: Bytes) -> Self {
        let mut b = self.header(HeaderName::ContentType, content_type);
        b.body = body;
        b
    }

    /// Adds Content-Length and returns the message. What we send obeys the
    /// same framing grammar we demand of others: the start line is checked,
    /// and anything the line index could not vouch for goes through the
    /// parser.
    pub fn build(mut self) -> Result<SipMessage> {
        self.head.reserve(self.body.len() + 32);
        let line_start = self.head.len();
        self.head.extend_from_slice(b"Content-Length: ");
        let vs = self.head.len();
        let mut digits = [0u8; 20];
        let len = u64::try_from(self.body.len()).unwrap_or(u64::MAX);
        self.head
            .extend_from_slice(crate::misc::decimal_digits(len, &mut digits));
        let line_end = self.head.len();
        self.head.extend_from_slice(b"\r\n\r\n");
        if self.indexed {
            self.headers.push(Header {
                name: HeaderName::ContentLength,
                name_text: Text::Buf(Span::new(line_start, line_start + 14)),
                value: Text::Buf(Span::new(vs, line_end)),
                line: Some(Span::new(line_start, line_end)),
            });
        }
        let body_start = self.head.len();
        self.head.extend_from_slice(&self.body);
        let buf = self.head.freeze();
        if !self.indexed {
            return parse(buf, Framing::Stream);
        }
        let start_span = Span::new(0, self.start_end);
        let start = parse_start_line(&buf, start_span)?;
        let mut first = [0u16; KNOWN];
        for (i, h) in self.headers.iter().enumerate() {
            if h.name != HeaderName::Other && first[h.name as usize] == 0 {
                first[h.name as usize] = i as u16 + 1;
            }
        }
        Ok(SipMessage {
            span: Span::new(0, buf.len()),
            body: buf.slice(body_start..),
            buf,
            start,
            start_line: Some(start_span),
            headers: self.headers,
            first,
            pristine: true,
            core_checked: false,
            top_via: std::sync::OnceLock::new(),
            tags: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header-name split before memchr (maximal token prefix, then
    /// whitespace, then the colon), to compare the parser against.
    fn reference_name_end(line: &[u8]) -> Option<usize> {
        let mut name_end = 0;
        while name_end < line.len() && is_token_char(line[name_end]) {
            name_end += 1;
        }
        let mut colon = name_end;
        while colon < line.len() && is_wsp(line[colon]) {
            colon += 1;
        }
        (name_end > 0 && line.get(colon) == Some(&b':')).then_some(name_end)
    }

    proptest::proptest! {
        /// Any header line: the parser accepts it exactly when the old
        /// split did, with the same name (known names and compact forms
        /// included), and rejects it with the same reason otherwise.
        #[test]
        fn header_names_split_as_before(
            name in proptest::string::string_regex("[A-Za-z0-9 \t:.!%*_+`'~\\-\\(\\)\\x80-\\xff]{0,24}").unwrap(),
            pick in 0usize..6,
            value in "[ -~]{0,12}",
        ) {
            let known = ["Via", "v", "Call-ID", "max-FORWARDS", "Proxy-Authorization", "X-Foo"];
            let name = if pick == 0 {
                name
            } else {
                let tail: String = name.chars().take(2).collect();
                format!("{}{tail}", known[pick])
            };
            let line = format!("{name}:{value}");
            // A leading blank makes a continuation line; Content-Length is
            // checked while parsing: neither is about the name split.
            proptest::prop_assume!(!line.starts_with([' ', '\t']));
            if let Some(end) = reference_name_end(line.as_bytes()) {
                proptest::prop_assume!(
                    HeaderName::from_bytes(&line.as_bytes()[..end]) != HeaderName::ContentLength
                );
            }
            let raw = format!("OPTIONS sip:a@b SIP/2.0\r\n{line}\r\n\r\n");
            let got = SipMessage::parse(Bytes::from(raw));
            match reference_name_end(line.as_bytes()) {
                Some(end) => {
                    let m = got.expect("accepted before");
                    let h = &m.headers[0];
                    proptest::prop_assert_eq!(m.text(&h.name_text), &line[..end]);
                    proptest::prop_assert_eq!(h.name, HeaderName::from_bytes(&line.as_bytes()[..end]));
                }
                None => {
                    let e = got.expect_err("rejected before");
                    let want = header_line_error(line.as_bytes());
                    proptest::prop_assert_eq!(e.reason(), want.reason());
                }
            }
        }
    }

    const REQ: &str = "\r\nSUBSCRIBE sip:bob@example.test SIP/2.0\r\n\
v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1, SIP/2.0/TCP 127.0.0.2;branch=z9hG4bK2\r\n\
Via: SIP/2.0/UDP 127.0.0.3\r\n ;branch=z9hG4bK3\r\n\
f: <sip:alice@example.test>;tag=a\r\n\
t: <sip:bob@example.test>\r\n\
i: abc@127.0.0.1\r\n\
CSeq: 1 SUBSCRIBE\r\n\
X-Custom: first\r\n\
o: presence;id=7\r\n\
x-custom: second\r\n\
l: 3\r\n\r\nabcTRAILING";

    fn req() -> SipMessage {
        SipMessage::parse(Bytes::from_static(REQ.as_bytes())).unwrap()
    }

    #[test]
    fn parses_compact_folded_and_unknown_headers() {
        let m = req();
        assert_eq!(m.method(), Some(Method::Subscribe));
        assert_eq!(m.request_uri_str(), Some("sip:bob@example.test"));
        assert_eq!(m.header(HeaderName::CallId), Some("abc@127.0.0.1"));
        // Folded value comes unfolded.
        let vias: Vec<&str> = m.header_lines(HeaderName::Via).collect();
        assert_eq!(vias[1], "SIP/2.0/UDP 127.0.0.3 ;branch=z9hG4bK3");
        let customs: Vec<&str> = m.header_lines_by_name("X-CUSTOM").collect();
        assert_eq!(customs, vec!["first", "second"]);
        // Unknown headers stay in order among the others.
        let names: Vec<&str> = m.headers().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            vec![
                "v", "Via", "f", "t", "i", "CSeq", "X-Custom", "o", "x-custom", "l"
            ]
        );
        // UDP: body per Content-Length, trailing octets dropped (RFC 3261 §18.3).
        assert_eq!(&m.body()[..], b"abc");
    }

    #[test]
    fn wire_len_is_the_length_of_the_wire_form() {
        let mut m = req();
        assert_eq!(m.wire_len(), m.to_bytes().len());
        m.push_front(HeaderName::Via, "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKnew");
        assert_eq!(m.wire_len(), m.to_bytes().len());
        m.set_header(HeaderName::MaxForwards, "69");
        m.remove_all(HeaderName::CSeq);
        assert_eq!(m.wire_len(), m.to_bytes().len());
        let r = MessageBuilder::response_to(&m, 486, "Busy Here ✓")
            .build()
            .unwrap();
        assert_eq!(r.wire_len(), r.to_bytes().len());
    }

    #[test]
    fn untouched_message_is_byte_exact() {
        let m = req();
        let wire = m.to_bytes();
        assert_eq!(&wire[..], &REQ.as_bytes()[2..REQ.len() - "TRAILING".len()]);
    }

    #[test]
    fn edits_serialize_canonically_and_keep_other_lines_verbatim() {
        let mut m = req();
        m.push_front(HeaderName::Via, "SIP/2.0/UDP 127.0.0.9;branch=z9hG4bKproxy");
        m.push_back_named("X-Added", "yes");
        let wire = m.to_bytes();
        let text = std::str::from_utf8(&wire).unwrap();
        assert!(text.starts_with(
            "SUBSCRIBE sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9;branch=z9hG4bKproxy\r\nv: SIP/2.0/UDP"
        ));
        assert!(text.contains("Via: SIP/2.0/UDP 127.0.0.3\r\n ;branch=z9hG4bK3\r\n"));
        assert!(text.ends_with("X-Added: yes\r\n\r\nabc"));
        let again = SipMessage::parse(wire).unwrap();
        assert_eq!(again.header_count(), m.header_count());

        // Popping the top Via of a two-value line keeps the other value.
        let mut m = req();
        assert_eq!(
            m.pop_first_value(HeaderName::Via).as_deref(),
            Some("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1")
        );
        assert_eq!(
            m.header(HeaderName::Via),
            Some("SIP/2.0/TCP 127.0.0.2;branch=z9hG4bK2")
        );
        m.set_request_uri("sip:bob@127.0.0.1:5080");
        let m = SipMessage::parse(m.to_bytes()).unwrap();
        assert_eq!(m.request_uri_str(), Some("sip:bob@127.0.0.1:5080"));
    }

    #[test]
    fn replace_first_value_keeps_position_and_other_values() {
        let mut m = req();
        assert!(m.replace_first_value(
            HeaderName::Via,
            "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;received=127.0.0.5"
        ));
        let names: Vec<&str> = m.headers().map(|(n, _)| n).collect();
        assert_eq!(names[0], "v", "line stays first, name as written");
        let m = SipMessage::parse(m.to_bytes()).unwrap();
        let vias: Vec<_> = m.vias().map(|v| v.unwrap().received()).collect();
        assert_eq!(vias, vec![Some("127.0.0.5"), None, None]);
        let mut m = req();
        assert!(!m.replace_first_value(HeaderName::Route, "<sip:x>"));
    }

    #[test]
    fn builder_is_canonical_and_response_copies_core_headers() {
        let r = MessageBuilder::response_to(&req(), 200, "OK")
            .header(HeaderName::Expires, "600")
            .build()
            .unwrap();
        let text = String::from_utf8(r.to_bytes().to_vec()).unwrap();
        assert!(text.starts_with("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1, SIP/2.0/TCP 127.0.0.2;branch=z9hG4bK2\r\nVia: "), "{text}");
        assert!(
            text.ends_with("CSeq: 1 SUBSCRIBE\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"),
            "{text}"
        );
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.reason(), Some("OK"));
        let b = MessageBuilder::request("MESSAGE", "sip:bob@example.test")
            .body(
                "text/plain;charset=UTF-8",
                Bytes::from_static("héllo".as_bytes()),
            )
            .build()
            .unwrap();
        assert_eq!(b.header(HeaderName::ContentLength), Some("6"));
        assert_eq!(&b.body()[..], "héllo".as_bytes());
    }

    /// Everything observable about a message, to compare two of them.
    fn observe(m: &SipMessage) -> String {
        let mut o = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|",
            m.method_str(),
            m.request_uri_str(),
            m.status(),
            m.reason(),
            m.body()
        );
        for (n, v) in m.headers() {
            o.push_str(&format!("[{n}][{v}]"));
        }
        for name in [
            HeaderName::Via,
            HeaderName::To,
            HeaderName::ContentLength,
            HeaderName::ContentType,
            HeaderName::Other,
        ] {
            o.push_str(&format!(
                "{:?}{:?}",
                m.header(name),
                m.header_lines(name).count()
            ));
        }
        o.push_str(&String::from_utf8_lossy(&m.to_bytes()));
        o
    }

    #[test]
    fn indexed_build_equals_parsing_the_same_bytes() {
        type Lines = &'static [(&'static str, &'static str)];
        type Case = (
            &'static str,
            Option<(&'static str, &'static str)>,
            Lines,
            &'static str,
        );
        let cases: &[Case] = &[
            (
                "resp",
                None,
                &[
                    ("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"),
                    ("To", "<sip:a@b>"),
                ],
                "",
            ),
            (
                "req",
                Some(("MESSAGE", "sip:bob@example.test")),
                &[
                    ("v", "SIP/2.0/UDP h"),
                    ("X-Odd", "  padded\t "),
                    ("Empty", ""),
                ],
                "héllo",
            ),
            // Lines the index refuses: the parser decides (and may refuse).
            (
                "req",
                Some(("OPTIONS", "sip:x")),
                &[("Content-Length", "0")],
                "",
            ),
            (
                "req",
                Some(("OPTIONS", "sip:x")),
                &[("Subject", "a\r\n b")],
                "",
            ),
            ("req", Some(("OPTIONS", "sip:x")), &[("Bad Name", "v")], ""),
            ("req", Some(("OPT\r\nIONS", "sip:x")), &[], ""),
            ("req", Some(("OPTIONS", "sip:x y")), &[], ""),
        ];
        for (kind, start, lines, body) in cases {
            let mut b = match (kind, start) {
                (&"req", Some((m, u))) => MessageBuilder::request(m, u),
                _ => MessageBuilder::response(180, "Ringing"),
            };
            for (n, v) in lines.iter() {
                b = b.header_named(n, v);
            }
            if !body.is_empty() {
                b = b.body("text/plain", Bytes::from(body.as_bytes().to_vec()));
            }
            let built = b.build();
            // The same bytes through the parser.
            let mut b2 = match (kind, start) {
                (&"req", Some((m, u))) => MessageBuilder::request(m, u),
                _ => MessageBuilder::response(180, "Ringing"),
            };
            b2.indexed = false;
            for (n, v) in lines.iter() {
                b2 = b2.header_named(n, v);
            }
            if !body.is_empty() {
                b2 = b2.body("text/plain", Bytes::from(body.as_bytes().to_vec()));
            }
            let parsed = b2.build();
            match (&built, &parsed) {
                (Ok(x), Ok(y)) => assert_eq!(observe(x), observe(y), "{kind} {lines:?}"),
                (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
                _ => panic!("indexed {built:?} vs parsed {parsed:?} for {lines:?}"),
            }
        }
        // A status the start line refuses, either way.
        assert!(MessageBuilder::response(1000, "x").build().is_err());
        assert!(MessageBuilder::response(99, "x").build().is_err());
    }

    #[test]
    fn start_line_errors() {
        let cases: &[(&str, u16, &str)] = &[
            (
                "INVITE  sip:a@b SIP/2.0\r\n\r\n",
                400,
                "Malformed Request-Line",
            ),
            (
                "INVITE sip:a@b SIP/2.0 \r\n\r\n",
                400,
                "Malformed Request-Line",
            ),
            ("INVITE <sip:a@b> SIP/2.0\r\n\r\n", 400, "enclosed in <>"),
            (
                "INVITE sip:a@b SIP/7.0\r\n\r\n",
                505,
                "Version Not Supported",
            ),
            ("SIP/2.0 4294967301 x\r\n\r\n", 400, "three digits"),
            ("SIP/2.0 099 x\r\n\r\n", 400, "out of range"),
            (
                "INVITE sip:a@b SIP/2.0\r\nFoo bar\r\n\r\n",
                400,
                "without colon",
            ),
            (
                "INVITE sip:a@b SIP/2.0\r\n badfold: x\r\n\r\n",
                400,
                "Continuation line",
            ),
            (
                "INVITE sip:a@b SIP/2.0\r\nl: -1\r\n\r\n",
                400,
                "Negative Content-Length",
            ),
            (
                "INVITE sip:a@b SIP/2.0\r\nl: 5\r\n\r\nab",
                400,
                "larger than body",
            ),
            (
                "INVITE sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab",
                400,
                "Conflicting",
            ),
            (
                "INVITE sip:a@b SIP/2.0\r\nX: y\r\n",
                400,
                "Missing empty line",
            ),
            (
                "INVITE sip:a@b SIP/2.0\nX: y\r\n\r\n",
                400,
                "not terminated by CRLF",
            ),
            (
                "INVITE sip:a@b SIP/2.0\r\nX: y\nZ: 1\r\n\r\n",
                400,
                "Bare LF",
            ),
            (
                "INVITE sip:a@b SIP/2.0\r\nX: y\rZ: 1\r\n\r\n",
                400,
                "Bare CR",
            ),
        ];
        for (raw, status, reason) in cases {
            let e = SipMessage::parse(Bytes::from_static(raw.as_bytes())).unwrap_err();
            assert_eq!(e.status(), *status, "{raw:?}: {e}");
            assert!(e.reason().contains(reason), "{raw:?}: {e}");
        }
        let e = SipMessage::parse(Bytes::from_static(
            b"INVITE sip:a@b SIP/2.0\r\nX: \xff\r\n\r\n",
        ))
        .unwrap_err();
        assert_eq!(e.to_string(), "400 Header section is not valid UTF-8");
    }

    #[test]
    fn fuzz_regression_version_error_on_multibyte_text() {
        // cargo fuzz (sip_roundtrip): the error message cut a UTF-8 character.
        let e = SipMessage::parse(Bytes::from("SIP/2am''~+*_!.-%=\"работающий\" x\r\n\r\n"))
            .unwrap_err();
        assert!(e.reason().starts_with("Malformed SIP version"), "{e}");
    }

    #[test]
    fn empty_reason_phrase_allowed() {
        let m = SipMessage::parse(Bytes::from_static(b"SIP/2.0 100 \r\nl: 0\r\n\r\n")).unwrap();
        assert_eq!((m.status(), m.reason()), (Some(100), Some("")));
        let m = SipMessage::parse(Bytes::from_static(b"SIP/2.0 486\r\nl: 0\r\n\r\n")).unwrap();
        assert_eq!((m.status(), m.reason()), (Some(486), Some("")));
    }
}
