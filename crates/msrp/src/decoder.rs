//! The incremental stream decoder (RFC 4975 §5.1, §7.1, §9).
//!
//! MSRP frames carry no length: a request ends at the first
//! `CRLF "-------" transact-id continuation-flag CRLF` after its start line,
//! and the sender guarantees that sequence never occurs in a body (§7.1). So
//! the decoder reads the start line for the transaction id, walks the header
//! section line by line (the header section of a bodiless frame ends with the
//! end-line itself; a blank line opens a body), and then searches the body
//! with a SIMD substring finder for `CRLF "-------" tid` (§7.3.1 suggests
//! exactly this search).
//!
//! Every call resumes where the last one stopped looking, so a 10 MB body fed
//! in 64 KB pieces is scanned once: O(n), not O(n²).

use std::ops::Range;

use bytes::{Buf, BytesMut};
use memchr::memmem::Finder;

use crate::error::{ErrorContext, ErrorKind, ParseError, Result};
use crate::frame::{Continuation, Frame, HYPHENS, Header, MAX_NON_SEND_BODY, Method, StartLine};
use crate::headers::{is_header_name, is_utf8text, names};
use crate::ident::{TransactionId, is_ident};

/// Size caps (DESIGN.md house style rule 11: servers are bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Start line plus header section, in bytes. Past it: 400, and the
    /// connection must close if the start line itself did not fit.
    pub max_head: usize,
    /// Body of one SEND request (or response), in bytes. Past it: 413 (RFC
    /// 4975 §10.5), the rest of the frame is discarded as it arrives.
    pub max_body: usize,
    /// Body of any other request, in bytes (RFC 4975 §7.1: at most 10240).
    pub max_non_send_body: usize,
}

impl Default for Limits {
    /// 16 KiB of headers, 16 MiB of SEND body, 10240 bytes of other bodies.
    fn default() -> Self {
        Limits {
            max_head: 16 * 1024,
            max_body: 16 * 1024 * 1024,
            max_non_send_body: MAX_NON_SEND_BODY,
        }
    }
}

type Field = (Range<usize>, Range<usize>);

/// Reading the start line and header section.
#[derive(Debug, Default)]
struct Head {
    /// Bytes from the front already searched for a line feed.
    scan: usize,
    /// Where the line being read starts.
    line_start: usize,
    start: Option<(TransactionId, StartLine)>,
    fields: Vec<Field>,
}

impl Head {
    /// What an error report needs, once the start line was read.
    fn context(&self, buf: &[u8]) -> Option<ErrorContext> {
        let (tid, start) = self.start.as_ref()?;
        Some(context_from_fields(tid, Some(start), &self.fields, buf))
    }
}

/// Searching for the end-line after the body.
#[derive(Debug)]
struct Body {
    tid: TransactionId,
    start: StartLine,
    fields: Vec<Field>,
    body_start: usize,
    /// Where the next search starts: every end-line candidate before it was
    /// looked at already.
    scan: usize,
    /// The largest body allowed for this frame.
    max: usize,
    finder: Finder<'static>,
}

/// Dropping the rest of a frame already reported as bad, up to its end-line.
#[derive(Debug)]
struct Discard {
    finder: Finder<'static>,
}

#[derive(Debug)]
enum State {
    Head(Head),
    Body(Body),
    Discard(Discard),
}

/// Incremental MSRP frame decoder for one connection.
///
/// Call [`Decoder::decode`] with the connection's receive buffer whenever
/// bytes were appended to it. Frames are split off the front of the buffer;
/// bodies are zero-copy slices of it.
#[derive(Debug)]
pub struct Decoder {
    limits: Limits,
    state: State,
}

/// `CRLF "-------" tid`: what the end-line search looks for.
fn end_finder(tid: &TransactionId) -> Finder<'static> {
    let mut needle = Vec::with_capacity(9 + tid.as_str().len());
    needle.extend_from_slice(b"\r\n");
    needle.extend_from_slice(HYPHENS);
    needle.extend_from_slice(tid.as_str().as_bytes());
    Finder::new(&needle).into_owned()
}

fn close(kind: ErrorKind, reason: &'static str) -> ParseError {
    ParseError::new(kind, reason).closing()
}

impl Decoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            state: State::Head(Head::default()),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// `true` while the decoder drops the rest of a frame it reported as bad
    /// (too large, or malformed after its start line). In that state
    /// [`Decoder::decode`] consumes the bytes it drops.
    pub fn is_discarding(&self) -> bool {
        matches!(self.state, State::Discard(_))
    }

    /// `true` when part of a frame has been looked at but not returned.
    pub fn is_mid_frame(&self) -> bool {
        match &self.state {
            State::Head(h) => h.scan > 0,
            _ => true,
        }
    }

    /// Forgets any partial frame (for a buffer that was cleared).
    pub fn reset(&mut self) {
        self.state = State::Head(Head::default());
    }

    /// Decodes the next frame from the front of `buf`. Call it with the same
    /// buffer each time (bytes appended at the end), as a connection's reader
    /// does: the decoder remembers how far it has looked.
    ///
    /// - `Ok(Some(frame))`: the frame's bytes were split off `buf`.
    /// - `Ok(None)`: more bytes are needed; nothing was consumed (except, while
    ///   [`is_discarding`](Self::is_discarding), the bytes being dropped).
    /// - `Err(e)` with `!e.must_close()`: a bad frame whose end is known or being
    ///   looked for; it was consumed (or is being discarded) and decoding can go
    ///   on. Send [`e.answer()`](ParseError::answer) if it is `Some`.
    /// - `Err(e)` with `e.must_close()`: the stream cannot be framed any more.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>> {
        loop {
            match std::mem::replace(&mut self.state, State::Head(Head::default())) {
                State::Discard(d) => {
                    if !discard(&d, buf) {
                        self.state = State::Discard(d);
                        return Ok(None);
                    }
                    // The bad frame is gone; go on with the next one.
                }
                State::Head(mut h) => {
                    if buf.len() < h.scan {
                        h = Head::default(); // not the buffer we were reading
                    }
                    return self.head(h, buf);
                }
                State::Body(b) => {
                    if buf.len() < b.scan {
                        return self.head(Head::default(), buf);
                    }
                    return self.body(b, buf);
                }
            }
        }
    }

    /// At end of stream: like [`Decoder::decode`], but a partial frame left in
    /// the buffer is an error ([`ErrorKind::Truncated`], must close).
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>> {
        match self.decode(buf)? {
            Some(f) => Ok(Some(f)),
            None if buf.is_empty() && !self.is_mid_frame() => Ok(None),
            None => Err(close(
                ErrorKind::Truncated,
                "Connection closed in the middle of a frame",
            )),
        }
    }

    /// Reads lines of the start line and header section.
    fn head(&mut self, mut h: Head, buf: &mut BytesMut) -> Result<Option<Frame>> {
        if h.start.is_none() {
            // Reject garbage at once rather than after max_head bytes.
            let n = buf.len().min(5);
            if buf[..n] != b"MSRP "[..n] {
                return Err(close(ErrorKind::StartLine, "Not an MSRP frame"));
            }
        }
        let limit = buf.len().min(self.limits.max_head);
        while h.scan < limit {
            let Some(i) = memchr::memchr(b'\n', &buf[h.scan..limit]) else {
                h.scan = limit;
                break;
            };
            let nl = h.scan + i;
            h.scan = nl + 1;
            let line_start = h.line_start;
            h.line_start = nl + 1;
            if nl == line_start || buf[nl - 1] != b'\r' {
                let e = ParseError::new(ErrorKind::HeaderLine, "Line ends without CR");
                let ctx = h.context(buf);
                return Err(self.fail(e, ctx, buf, line_start.saturating_sub(2)));
            }
            let line = &buf[line_start..nl - 1];
            let Some((tid, start)) = h.start.take() else {
                match parse_start_line(line) {
                    Ok(s) => {
                        h.start = Some(s);
                        continue;
                    }
                    Err((Some(tid), e)) => {
                        // The method is unreadable: the frame can be skipped,
                        // but not answered (it might have been a REPORT).
                        let ctx = context_from_fields(&tid, None, &[], buf);
                        return Err(self.fail(e, Some(ctx), buf, nl - 1));
                    }
                    Err((None, e)) => return Err(e.closing()),
                }
            };
            if line.is_empty() {
                // A blank line: the body starts after it (RFC 4975 §9 content-stuff).
                let body_start = nl + 1;
                let max = match &start {
                    StartLine::Request(m) if *m != Method::Send => {
                        self.limits.max_body.min(self.limits.max_non_send_body)
                    }
                    _ => self.limits.max_body,
                };
                let b = Body {
                    finder: end_finder(&tid),
                    tid,
                    start,
                    fields: h.fields,
                    body_start,
                    // From the blank line's CRLF, so that a sender writing no
                    // CRLF between the blank line and the end-line of an empty
                    // body is still understood.
                    scan: body_start - 2,
                    max,
                };
                return self.body(b, buf);
            }
            if line.starts_with(HYPHENS) {
                // A bodiless frame ends with its end-line right after the headers.
                let t = tid.as_str().as_bytes();
                let id_ok = line.len() == HYPHENS.len() + t.len() + 1
                    && &line[HYPHENS.len()..HYPHENS.len() + t.len()] == t;
                let flag = line.last().and_then(|&c| Continuation::from_byte(c));
                return match (id_ok, flag) {
                    (true, Some(flag)) => {
                        finish(buf, nl + 1, tid, start, &h.fields, None, flag).map(Some)
                    }
                    _ => {
                        let e = ParseError::new(ErrorKind::EndLine, "Bad end-line");
                        let ctx = context_from_fields(&tid, Some(&start), &h.fields, buf);
                        Err(self.fail(e, Some(ctx), buf, line_start - 2))
                    }
                };
            }
            match parse_field(line, line_start) {
                Ok(f) => {
                    h.fields.push(f);
                    h.start = Some((tid, start));
                }
                Err(e) => {
                    let ctx = context_from_fields(&tid, Some(&start), &h.fields, buf);
                    return Err(self.fail(e, Some(ctx), buf, line_start - 2));
                }
            }
        }
        if buf.len() >= self.limits.max_head {
            let e = ParseError::new(ErrorKind::HeaderTooLarge, "Header section too large");
            let ctx = h.context(buf);
            let from = h.line_start.saturating_sub(2);
            return Err(self.fail(e, ctx, buf, from));
        }
        self.state = State::Head(h);
        Ok(None)
    }

    /// Looks for the end-line after a body.
    fn body(&mut self, mut b: Body, buf: &mut BytesMut) -> Result<Option<Frame>> {
        let n = b.finder.needle().len();
        let cap_end = b.body_start + b.max;
        let limit = buf.len().min(cap_end + n + 3);
        let mut from = b.scan;
        loop {
            let Some(i) = b.finder.find(&buf[from..limit]) else {
                if limit == cap_end + n + 3 {
                    let from = limit.saturating_sub(n - 1).max(from);
                    return Err(self.too_large(b, buf, from));
                }
                b.scan = limit.saturating_sub(n - 1).max(from);
                self.state = State::Body(b);
                return Ok(None);
            };
            let p = from + i;
            if p > cap_end {
                return Err(self.too_large(b, buf, p));
            }
            let after = p + n;
            if buf.len() < after + 3 {
                b.scan = p;
                self.state = State::Body(b);
                return Ok(None);
            }
            if let Some(flag) = Continuation::from_byte(buf[after])
                && &buf[after + 1..after + 3] == b"\r\n"
            {
                let body = b.body_start..p.max(b.body_start);
                return finish(buf, after + 3, b.tid, b.start, &b.fields, Some(body), flag)
                    .map(Some);
            }
            // `CRLF ------- tid` inside the body, but not an end-line (another
            // character after the id, or no CRLF after the flag): body data.
            from = p + 1;
        }
    }

    fn too_large(&mut self, b: Body, buf: &mut BytesMut, from: usize) -> ParseError {
        let e = ParseError::new(ErrorKind::BodyTooLarge, "Message Too Large");
        let ctx = context_from_fields(&b.tid, Some(&b.start), &b.fields, buf);
        self.fail(e, Some(ctx), buf, from)
    }

    /// A bad frame: with its transaction id known, report it with what is
    /// known and drop the rest of it up to its end-line; without, the stream
    /// is lost.
    fn fail(
        &mut self,
        e: ParseError,
        ctx: Option<ErrorContext>,
        buf: &mut BytesMut,
        from: usize,
    ) -> ParseError {
        let Some(ctx) = ctx else {
            return e.closing();
        };
        let finder = end_finder(&ctx.tid);
        self.start_discard(finder, buf, from);
        e.with_context(ctx)
    }

    fn start_discard(&mut self, finder: Finder<'static>, buf: &mut BytesMut, from: usize) {
        buf.advance(from.min(buf.len()));
        let d = Discard { finder };
        if !discard(&d, buf) {
            self.state = State::Discard(d);
        }
    }
}

/// Drops bytes from the front of `buf` up to and including the end-line the
/// finder looks for. `true` when it was found.
fn discard(d: &Discard, buf: &mut BytesMut) -> bool {
    let n = d.finder.needle().len();
    let mut from = 0;
    while let Some(i) = d.finder.find(&buf[from..]) {
        let p = from + i;
        let after = p + n;
        if buf.len() < after + 3 {
            buf.advance(p);
            return false;
        }
        if Continuation::from_byte(buf[after]).is_some() && &buf[after + 1..after + 3] == b"\r\n" {
            buf.advance(after + 3);
            return true;
        }
        from = p + 1;
    }
    // No end-line starts before the last n - 1 bytes.
    buf.advance(buf.len().saturating_sub(n - 1));
    false
}

/// Splits the frame off the buffer, builds it and checks it.
fn finish(
    buf: &mut BytesMut,
    len: usize,
    tid: TransactionId,
    start: StartLine,
    fields: &[Field],
    body: Option<Range<usize>>,
    flag: Continuation,
) -> Result<Frame> {
    let raw = buf.split_to(len).freeze();
    let headers = fields
        .iter()
        .map(|(n, v)| Header::from_checked(raw.slice(n.clone()), raw.slice(v.clone())))
        .collect();
    let body = body.map(|r| raw.slice(r));
    let frame = Frame::from_parts(tid, start, headers, body, flag);
    match frame.validate() {
        Ok(()) => Ok(frame),
        Err(e) => Err(e.with_context(context_from_frame(&frame))),
    }
}

fn context_from_frame(f: &Frame) -> ErrorContext {
    ErrorContext {
        tid: f.transaction_id().clone(),
        method: f.method().cloned(),
        to_path: f.header(names::TO_PATH).map(str::to_owned),
        from_path: f.header(names::FROM_PATH).map(str::to_owned),
        failure_report: f.header(names::FAILURE_REPORT).map(str::to_owned),
    }
}

fn context_from_fields(
    tid: &TransactionId,
    start: Option<&StartLine>,
    fields: &[Field],
    buf: &[u8],
) -> ErrorContext {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| buf[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .and_then(|(_, v)| std::str::from_utf8(&buf[v.clone()]).ok())
            .map(str::to_owned)
    };
    ErrorContext {
        tid: tid.clone(),
        method: match start {
            Some(StartLine::Request(m)) => Some(m.clone()),
            _ => None,
        },
        to_path: get(names::TO_PATH),
        from_path: get(names::FROM_PATH),
        failure_report: get(names::FAILURE_REPORT),
    }
}

type StartError = (Option<TransactionId>, ParseError);

/// `req-start = pMSRP SP transact-id SP method CRLF`,
/// `resp-start = pMSRP SP transact-id SP status-code [SP comment] CRLF` (RFC 4975 §9).
fn parse_start_line(line: &[u8]) -> std::result::Result<(TransactionId, StartLine), StartError> {
    let bad = |why: &'static str| ParseError::new(ErrorKind::StartLine, why);
    let rest = line
        .strip_prefix(b"MSRP ")
        .ok_or((None, bad("Not an MSRP frame")))?;
    let (tid, tail) = match memchr::memchr(b' ', rest) {
        Some(sp) => (&rest[..sp], Some(&rest[sp + 1..])),
        None => (rest, None),
    };
    if !is_ident(tid) {
        return Err((None, bad("Bad transaction id")));
    }
    let tid = std::str::from_utf8(tid)
        .ok()
        .and_then(|t| TransactionId::new(t).ok())
        .ok_or((None, bad("Bad transaction id")))?;
    let Some(tail) = tail else {
        return Err((Some(tid), bad("Start line without method or status")));
    };
    let is_status = tail.len() >= 3
        && tail[..3].iter().all(u8::is_ascii_digit)
        && (tail.len() == 3 || tail[3] == b' ');
    if is_status {
        let status = tail[..3]
            .iter()
            .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
        if status < 100 {
            return Err((Some(tid), bad("Bad status code")));
        }
        let comment = match tail.get(4..) {
            None => None,
            Some(c) => match std::str::from_utf8(c) {
                Ok(c) if is_utf8text(c) => Some(c.to_owned()),
                _ => return Err((Some(tid), bad("Bad comment"))),
            },
        };
        return Ok((tid, StartLine::Response { status, comment }));
    }
    let m = std::str::from_utf8(tail)
        .ok()
        .and_then(|m| Method::parse(m).ok())
        .ok_or_else(|| bad("Bad method"));
    match m {
        Ok(m) => Ok((tid, StartLine::Request(m))),
        Err(e) => Err((Some(tid), e)),
    }
}

/// `hname ":" SP hval` (RFC 4975 §9); any run of SP/HTAB after the colon is
/// tolerated. Returns the name and value ranges within the buffer.
fn parse_field(line: &[u8], at: usize) -> Result<Field> {
    let colon = memchr::memchr(b':', line)
        .ok_or_else(|| ParseError::new(ErrorKind::HeaderLine, "Header line without colon"))?;
    let name = &line[..colon];
    if !is_header_name(name) {
        return Err(ParseError::new(ErrorKind::HeaderLine, "Bad header name"));
    }
    let mut v = colon + 1;
    while v < line.len() && (line[v] == b' ' || line[v] == b'\t') {
        v += 1;
    }
    let value = &line[v..];
    match std::str::from_utf8(value) {
        Ok(s) if is_utf8text(s) => {}
        _ => {
            return Err(ParseError::new(
                ErrorKind::HeaderLine,
                "Header value is not UTF-8 text",
            ));
        }
    }
    Ok((at..at + colon, at + v..at + line.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEND: &[u8] = b"MSRP a786hjs2 SEND\r\n\
        To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n\
        From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n\
        Message-ID: 87652491\r\n\
        Byte-Range: 1-25/25\r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        Hey Bob, are you there?\r\n\
        -------a786hjs2$\r\n";

    const OK: &[u8] = b"MSRP a786hjs2 200 OK\r\n\
        To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n\
        From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n\
        -------a786hjs2$\r\n";

    fn dec() -> Decoder {
        Decoder::new(Limits::default())
    }

    fn one(bytes: &[u8]) -> Result<Option<Frame>> {
        dec().decode(&mut BytesMut::from(bytes))
    }

    #[test]
    fn decodes_a_send_and_its_response() {
        let mut buf = BytesMut::from(SEND);
        buf.extend_from_slice(OK);
        let mut d = dec();
        let f = d.decode(&mut buf).unwrap().unwrap();
        assert_eq!(f.method(), Some(&Method::Send));
        assert_eq!(f.transaction_id().as_str(), "a786hjs2");
        assert_eq!(f.body().unwrap().as_ref(), b"Hey Bob, are you there?");
        assert_eq!(f.continuation(), Continuation::Done);
        assert_eq!(f.to_bytes(), SEND);
        let r = d.decode(&mut buf).unwrap().unwrap();
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.comment(), Some("OK"));
        assert_eq!(r.body(), None);
        assert_eq!(r.to_bytes(), OK);
        assert!(buf.is_empty());
        assert_eq!(d.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn needs_more_consumes_nothing() {
        for k in 0..SEND.len() {
            let mut buf = BytesMut::from(&SEND[..k]);
            let mut d = dec();
            assert_eq!(d.decode(&mut buf).unwrap(), None, "at {k}");
            assert_eq!(buf.len(), k);
            buf.extend_from_slice(&SEND[k..]);
            assert_eq!(
                d.decode(&mut buf).unwrap().unwrap().to_bytes(),
                SEND,
                "at {k}"
            );
        }
    }

    #[test]
    fn end_line_look_alikes_stay_in_the_body() {
        let body = "a\r\n-------a786hjs2\r\nb\r\n-------a786hjs2x$\r\n-------a786hjs2$x\r\n-------other$\r\nc";
        let frame = format!(
            "MSRP a786hjs2 SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n\
             Content-Type: text/plain\r\n\r\n{body}\r\n-------a786hjs2+\r\n"
        );
        let f = one(frame.as_bytes()).unwrap().unwrap();
        assert_eq!(f.body().unwrap().as_ref(), body.as_bytes());
        assert_eq!(f.continuation(), Continuation::More);
        assert_eq!(f.to_bytes(), frame.as_bytes());
    }

    #[test]
    fn empty_body_and_no_body() {
        let empty =
            b"MSRP abcd SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n\
            Content-Type: text/plain\r\n\r\n\r\n-------abcd$\r\n";
        let f = one(empty).unwrap().unwrap();
        assert_eq!(f.body().map(|b| b.len()), Some(0));
        assert_eq!(f.to_bytes(), &empty[..]);
        // Tolerated: no CRLF between the blank line and the end-line.
        let lax = b"MSRP abcd SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n\
            Content-Type: text/plain\r\n\r\n-------abcd$\r\n";
        assert_eq!(one(lax).unwrap().unwrap().body().map(|b| b.len()), Some(0));
        let none = b"MSRP abcd SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n-------abcd$\r\n";
        let f = one(none).unwrap().unwrap();
        assert_eq!(f.body(), None);
        assert_eq!(f.to_bytes(), &none[..]);
    }

    #[test]
    fn garbage_closes() {
        let e = one(b"GET / HTTP/1.1\r\n").unwrap_err();
        assert!(e.must_close());
        assert_eq!(e.status(), 400);
        let e = one(b"MSRP ab SEND\r\n").unwrap_err(); // tid too short
        assert!(e.must_close());
        assert_eq!(one(b"MSR").unwrap(), None);
    }

    #[test]
    fn malformed_frame_is_skipped_and_answered() {
        let bad = b"MSRP abcd SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n\
            Byte-Range: x\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------abcd$\r\n";
        let mut buf = BytesMut::from(&bad[..]);
        buf.extend_from_slice(OK);
        let mut d = dec();
        let e = d.decode(&mut buf).unwrap_err();
        assert!(!e.must_close());
        assert_eq!(e.status(), 400);
        assert!(e.reason().starts_with("Bad Byte-Range"), "{e}");
        assert_eq!(e.transaction_id().unwrap().as_str(), "abcd");
        let a = e.answer().unwrap();
        assert_eq!(
            a.to_bytes(),
            &b"MSRP abcd 400 Bad Byte-Range: Bad Byte-Range\r\nTo-Path: msrp://h:2/b;tcp\r\n\
               From-Path: msrp://h:1/a;tcp\r\n-------abcd$\r\n"[..]
        );
        // The stream is still in step.
        assert_eq!(d.decode(&mut buf).unwrap().unwrap().to_bytes(), OK);
    }

    #[test]
    fn bad_header_line_discards_to_the_end_line() {
        let bad = b"MSRP abcd SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n\
            no colon here\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------abcd$\r\n";
        // Fed in two pieces: the error comes with the first, the rest is dropped.
        let mut buf = BytesMut::from(&bad[..90]);
        let mut d = dec();
        let e = d.decode(&mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HeaderLine);
        assert!(!e.must_close());
        assert!(e.answer().is_some());
        assert!(d.is_discarding());
        buf.extend_from_slice(&bad[90..]);
        buf.extend_from_slice(OK);
        assert_eq!(d.decode(&mut buf).unwrap().unwrap().to_bytes(), OK);
        assert!(!d.is_discarding());
    }

    #[test]
    fn body_cap_answers_413_and_discards() {
        let mut d = Decoder::new(Limits {
            max_body: 10,
            ..Limits::default()
        });
        let big = b"MSRP abcd SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n\
            Message-ID: m1234\r\nContent-Type: text/plain\r\n\r\n0123456789abcdefghijklmnop";
        let mut buf = BytesMut::from(&big[..]);
        let e = d.decode(&mut buf).unwrap_err();
        assert_eq!(e.status(), 413);
        assert!(!e.must_close());
        let a = e.answer().unwrap();
        assert_eq!(a.status(), Some(413));
        assert!(d.is_discarding());
        assert!(buf.len() < 16, "discarded bytes are dropped as they come");
        buf.extend_from_slice(b"more body bytes\r\n-------abcd#\r\n");
        buf.extend_from_slice(OK);
        assert_eq!(d.decode(&mut buf).unwrap().unwrap().to_bytes(), OK);
        // Exactly at the cap is fine.
        let fits =
            b"MSRP abcd SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n\
            Content-Type: text/plain\r\n\r\n0123456789\r\n-------abcd$\r\n";
        assert_eq!(
            d.decode(&mut BytesMut::from(&fits[..]))
                .unwrap()
                .unwrap()
                .body()
                .unwrap()
                .len(),
            10
        );
    }

    #[test]
    fn non_send_bodies_are_capped_at_10240() {
        let mut f =
            b"MSRP abcd REPORT\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n\
            Content-Type: text/plain\r\n\r\n"
                .to_vec();
        f.extend(std::iter::repeat_n(b'x', 10241));
        f.extend_from_slice(b"\r\n-------abcd$\r\n");
        let e = one(&f).unwrap_err();
        assert_eq!(e.status(), 413);
        // REPORTs are never answered (RFC 4975 §7.1.2).
        assert!(e.answer().is_none());
    }

    #[test]
    fn header_cap() {
        let mut d = Decoder::new(Limits {
            max_head: 64,
            ..Limits::default()
        });
        let mut buf =
            BytesMut::from(&b"MSRP abcd SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nX-Long: "[..]);
        buf.extend(std::iter::repeat_n(b'y', 100));
        let e = d.decode(&mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HeaderTooLarge);
        assert!(!e.must_close());
        let mut buf = BytesMut::from(&b"MSRP "[..]);
        buf.extend(std::iter::repeat_n(b'y', 100));
        let e = Decoder::new(Limits {
            max_head: 64,
            ..Limits::default()
        })
        .decode(&mut buf)
        .unwrap_err();
        assert!(e.must_close());
    }

    #[test]
    fn start_line_errors_with_a_tid_are_skipped() {
        let bad = b"MSRP abcd send\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n-------abcd$\r\n";
        let mut buf = BytesMut::from(&bad[..]);
        buf.extend_from_slice(OK);
        let mut d = dec();
        let e = d.decode(&mut buf).unwrap_err();
        assert!(!e.must_close());
        assert_eq!(e.transaction_id().unwrap().as_str(), "abcd");
        assert!(
            e.answer().is_none(),
            "method unknown: cannot tell whether to answer"
        );
        assert_eq!(d.decode(&mut buf).unwrap().unwrap().to_bytes(), OK);
    }

    #[test]
    fn eof_mid_frame_is_truncated() {
        let mut d = dec();
        let mut buf = BytesMut::from(&SEND[..40]);
        let e = d.decode_eof(&mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated);
        assert!(e.must_close());
        let mut d = dec();
        let mut buf = BytesMut::from(SEND);
        assert!(d.decode_eof(&mut buf).unwrap().is_some());
        assert_eq!(d.decode_eof(&mut buf).unwrap(), None);
    }

    #[test]
    fn failure_report_no_gets_no_answer() {
        let bad = b"MSRP abcd SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n\
            Failure-Report: no\r\nByte-Range: x\r\n-------abcd$\r\n";
        let e = one(bad).unwrap_err();
        assert!(e.answer().is_none());
    }
}
