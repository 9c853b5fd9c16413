//! Chunking and reassembly (RFC 4975 §5.1, §7.1.1, §7.3.1).
//!
//! A message is split into SEND requests that share its Message-ID; each
//! carries a Byte-Range saying where its body sits in the whole. Receivers
//! must cope with chunks out of order, overlapping or repeated (relays may
//! re-chunk, RFC 4976 §6.4.1), with unknown totals (`*`), and with aborted
//! messages (`#`).

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;

use crate::error::ParseError;
use crate::frame::{Continuation, Frame, Header, Method};
use crate::headers::{ByteRange, names};
use crate::ident::{MessageId, TransactionId};
use crate::uri::{MsrpUri, format_path};

/// Chunks with bodies larger than this must be interruptible, and so carry
/// `*` as their range-end (RFC 4975 §7.1.1).
pub const INTERRUPTIBLE_ABOVE: usize = 2048;

/// Splits one message into SEND requests of at most `max_chunk` body bytes
/// (RFC 4975 §7.1.1): same Message-ID, To-Path, From-Path, report headers and
/// Content-Type on each (§7.1.1: "All chunks of the same message MUST use the
/// same Failure-Report and Success-Report values"), Byte-Range in order, `+`
/// on all but the last, which ends with `$` (or `#` when aborted). Each chunk
/// has a fresh random transaction id whose end-line is not in its body.
#[derive(Debug, Clone)]
pub struct Chunker {
    headers: Vec<Header>,
    content_type: String,
    body: Bytes,
    offset: usize,
    max_chunk: usize,
    total_known: bool,
    done: bool,
}

impl Chunker {
    /// A chunker for `body` of type `content_type`, sent along `to_path` from
    /// `from_path` as message `message_id`.
    pub fn new(
        to_path: &[MsrpUri],
        from_path: &[MsrpUri],
        message_id: &MessageId,
        content_type: &str,
        body: Bytes,
        max_chunk: usize,
    ) -> Result<Chunker, ParseError> {
        crate::headers::check_media_type(content_type)?;
        Ok(Chunker {
            headers: vec![
                Header::new(names::TO_PATH, &format_path(to_path))?,
                Header::new(names::FROM_PATH, &format_path(from_path))?,
                Header::new(names::MESSAGE_ID, message_id.as_str())?,
            ],
            content_type: content_type.to_owned(),
            body,
            offset: 0,
            max_chunk: max_chunk.max(1),
            total_known: true,
            done: false,
        })
    }

    /// Adds a header to every chunk (Success-Report, Failure-Report, ...),
    /// placed before Byte-Range and Content-Type.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Chunker, ParseError> {
        self.headers.push(Header::new(name, value)?);
        Ok(self)
    }

    /// Writes `*` as the total, as a sender that does not know the size in
    /// advance would (RFC 4975 §7.1.1).
    pub fn unknown_total(mut self) -> Chunker {
        self.total_known = false;
        self
    }

    /// `true` once the last chunk (`$` or `#`) was produced.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Body bytes handed out so far.
    pub fn sent(&self) -> usize {
        self.offset
    }

    /// The next chunk, or `None` when the message is complete. An empty
    /// message is one chunk with Byte-Range `1-0/0` (§7.1.1).
    pub fn next_chunk(&mut self) -> Option<Frame> {
        if self.done {
            return None;
        }
        let len = (self.body.len() - self.offset).min(self.max_chunk);
        let last = self.offset + len == self.body.len();
        let flag = if last {
            Continuation::Done
        } else {
            Continuation::More
        };
        Some(self.chunk(len, flag))
    }

    /// Ends the message early (RFC 4975 §7.1: "the flag MUST be a `#`"): a
    /// last chunk with up to `len` more body bytes and flag `#`. `None` if the
    /// message was already complete.
    pub fn abort(&mut self, len: usize) -> Option<Frame> {
        if self.done {
            return None;
        }
        let len = len.min(self.body.len() - self.offset).min(self.max_chunk);
        Some(self.chunk(len, Continuation::Aborted))
    }

    fn chunk(&mut self, len: usize, flag: Continuation) -> Frame {
        let start = self.offset;
        let piece = self.body.slice(start..start + len);
        self.offset += len;
        if flag != Continuation::More {
            self.done = true;
        }
        let total = self.total_known.then_some(self.body.len() as u64);
        let mut range = ByteRange::covering(start as u64 + 1, len as u64, total);
        if len > INTERRUPTIBLE_ABOVE {
            range.end = None;
        }
        let mut headers = self.headers.clone();
        headers.push(Header::from_checked(
            Bytes::from_static(names::BYTE_RANGE.as_bytes()),
            Bytes::from(range.to_string()),
        ));
        headers.push(Header::from_checked(
            Bytes::from_static(names::CONTENT_TYPE.as_bytes()),
            Bytes::copy_from_slice(self.content_type.as_bytes()),
        ));
        let mut f = Frame::from_parts(
            TransactionId::random(),
            crate::frame::StartLine::Request(Method::Send),
            headers,
            Some(piece),
            flag,
        );
        f.ensure_safe_transaction_id();
        f
    }
}

/// Caps for a [`Reassembler`] (RFC 4975 §14.5: sanity-check Byte-Range values
/// before allocating).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Largest message accepted, in bytes. Larger: 413.
    pub max_message_size: u64,
    /// How many messages may be partly received at once. More: 413.
    pub max_partial_messages: usize,
    /// How many completed Message-IDs are remembered so that late or repeated
    /// chunks of them are recognised as duplicates (§5.4) rather than
    /// starting the message again.
    pub remember_completed: usize,
}

impl Default for ReassemblyLimits {
    /// 16 MiB messages, 16 partial messages, 1024 remembered Message-IDs.
    fn default() -> Self {
        ReassemblyLimits {
            max_message_size: 16 * 1024 * 1024,
            max_partial_messages: 16,
            remember_completed: 1024,
        }
    }
}

/// A reassembled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its Message-ID.
    pub message_id: MessageId,
    /// The Content-Type of its chunks.
    pub content_type: Option<String>,
    /// The whole body.
    pub body: Bytes,
}

/// What one chunk did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reassembly {
    /// The message is complete; this is reported once per Message-ID.
    Complete(Message),
    /// More chunks are needed.
    Partial {
        /// Bytes received so far (overlaps counted once).
        received: u64,
        /// The total, once known.
        total: Option<u64>,
    },
    /// The sender aborted the message (`#`); what was received is dropped.
    Aborted,
    /// A chunk of a message already completed (RFC 4975 §5.4: same
    /// Message-ID, so a duplicate). Still acknowledge it as usual.
    Duplicate,
}

/// Why a chunk was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReassemblyErrorKind {
    /// Not a SEND request.
    NotSend,
    /// No (valid) Message-ID or Byte-Range.
    BadHeaders,
    /// The message is larger than `max_message_size`.
    TooLarge,
    /// `max_partial_messages` messages are already partly received.
    TooManyPartial,
    /// Bytes past the end the `$` chunk defined.
    PastEnd,
}

/// A chunk that could not be taken, with the status to answer it with:
/// 413 (RFC 4975 §10.5, "stop sending the particular message") for the size
/// and count caps, 400 otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {}", self.status(), self.reason())]
pub struct ReassemblyError {
    kind: ReassemblyErrorKind,
    message_id: Option<MessageId>,
}

impl ReassemblyError {
    fn new(kind: ReassemblyErrorKind, message_id: Option<&MessageId>) -> Self {
        ReassemblyError {
            kind,
            message_id: message_id.cloned(),
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ReassemblyErrorKind {
        self.kind
    }

    /// The status to answer the chunk (and to report) with.
    pub fn status(&self) -> u16 {
        match self.kind {
            ReassemblyErrorKind::TooLarge | ReassemblyErrorKind::TooManyPartial => 413,
            _ => 400,
        }
    }

    /// The reason phrase.
    pub fn reason(&self) -> &'static str {
        match self.kind {
            ReassemblyErrorKind::NotSend => "Only SEND requests carry chunks",
            ReassemblyErrorKind::BadHeaders => "Chunk without a valid Message-ID or Byte-Range",
            ReassemblyErrorKind::TooLarge => "Message Too Large",
            ReassemblyErrorKind::TooManyPartial => "Too many messages in progress",
            ReassemblyErrorKind::PastEnd => "Chunk past the end of the message",
        }
    }

    /// The Message-ID of the refused chunk, if it had one. The partial
    /// message (if any) was dropped for the 413 kinds.
    pub fn message_id(&self) -> Option<&MessageId> {
        self.message_id.as_ref()
    }
}

#[derive(Debug)]
struct Partial {
    buf: Vec<u8>,
    /// Received byte ranges, 0-based half-open, sorted and merged.
    have: Vec<(u64, u64)>,
    /// The total from a Byte-Range header.
    declared_total: Option<u64>,
    /// The total the `$` chunk defined (RFC 4975 §7.3.1), which wins.
    final_total: Option<u64>,
    content_type: Option<String>,
}

impl Partial {
    fn received(&self) -> u64 {
        self.have.iter().map(|(a, b)| b - a).sum()
    }

    fn total(&self) -> Option<u64> {
        self.final_total.or(self.declared_total)
    }

    fn add_range(&mut self, a: u64, b: u64) {
        if a == b {
            return;
        }
        let mut merged = Vec::with_capacity(self.have.len() + 1);
        let (mut a, mut b) = (a, b);
        for &(x, y) in &self.have {
            if y < a || x > b {
                merged.push((x, y));
            } else {
                a = a.min(x);
                b = b.max(y);
            }
        }
        merged.push((a, b));
        merged.sort_unstable();
        self.have = merged;
    }

    fn truncate(&mut self, total: u64) {
        self.buf
            .truncate(usize::try_from(total).unwrap_or(usize::MAX));
        self.have.retain(|&(a, _)| a < total);
        for r in &mut self.have {
            r.1 = r.1.min(total);
        }
    }

    fn is_complete(&self) -> bool {
        match self.total() {
            Some(0) => true,
            Some(t) => self.have.len() == 1 && self.have[0] == (0, t),
            None => false,
        }
    }
}

/// Collects chunks by Message-ID (RFC 4975 §7.3.1) and hands out each
/// message once, whole.
///
/// Overlapping bytes: the chunk received last wins (§7.3.1 SHOULD). The
/// chunk flagged `$` fixes the total length (§7.3.1), over any Byte-Range
/// total. Chunk lengths come from the bodies, not from range-end (§7.3.1).
/// Memory is bounded by `max_message_size × max_partial_messages`.
#[derive(Debug)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    partial: HashMap<MessageId, Partial>,
    completed: HashSet<MessageId>,
    completed_order: VecDeque<MessageId>,
}

impl Reassembler {
    /// A reassembler with `limits`.
    pub fn new(limits: ReassemblyLimits) -> Self {
        Reassembler {
            limits,
            partial: HashMap::new(),
            completed: HashSet::new(),
            completed_order: VecDeque::new(),
        }
    }

    /// Number of messages partly received.
    pub fn partial_count(&self) -> usize {
        self.partial.len()
    }

    /// Drops a partial message (e.g. after answering 413 or when the session ends).
    pub fn forget(&mut self, id: &MessageId) -> bool {
        self.partial.remove(id).is_some()
    }

    fn remember(&mut self, id: MessageId) {
        if self.limits.remember_completed == 0 {
            return;
        }
        if self.completed.insert(id.clone()) {
            self.completed_order.push_back(id);
            while self.completed_order.len() > self.limits.remember_completed {
                if let Some(old) = self.completed_order.pop_front() {
                    self.completed.remove(&old);
                }
            }
        }
    }

    /// Takes one SEND request carrying a chunk (or a whole message).
    pub fn handle_chunk(&mut self, frame: &Frame) -> Result<Reassembly, ReassemblyError> {
        use ReassemblyErrorKind as K;
        if frame.method() != Some(&Method::Send) {
            return Err(ReassemblyError::new(K::NotSend, None));
        }
        let id = match frame.message_id() {
            Ok(Some(id)) => id,
            _ => return Err(ReassemblyError::new(K::BadHeaders, None)),
        };
        let range = frame
            .byte_range()
            .map_err(|_| ReassemblyError::new(K::BadHeaders, Some(&id)))?;
        let flag = frame.continuation();
        if flag == Continuation::Aborted {
            self.partial.remove(&id);
            return Ok(Reassembly::Aborted);
        }
        if self.completed.contains(&id) {
            return Ok(Reassembly::Duplicate);
        }
        let empty = Bytes::new();
        let body = frame.body().unwrap_or(&empty);
        let start = range.map_or(0, |r| r.start - 1);
        let len = body.len() as u64;
        let end = start + len;
        let max = self.limits.max_message_size;
        let declared = range.and_then(|r| r.total);
        if end > max || declared.is_some_and(|t| t > max) {
            self.partial.remove(&id);
            return Err(ReassemblyError::new(K::TooLarge, Some(&id)));
        }

        // §7.3.1: no Byte-Range, or one starting at 1, with `$`: the whole message.
        if start == 0 && flag == Continuation::Done && !self.partial.contains_key(&id) {
            self.remember(id.clone());
            return Ok(Reassembly::Complete(Message {
                message_id: id,
                content_type: frame.content_type().map(str::to_owned),
                body: body.clone(),
            }));
        }

        if !self.partial.contains_key(&id) && self.partial.len() >= self.limits.max_partial_messages
        {
            return Err(ReassemblyError::new(K::TooManyPartial, Some(&id)));
        }
        let p = self.partial.entry(id.clone()).or_insert_with(|| Partial {
            buf: Vec::new(),
            have: Vec::new(),
            declared_total: None,
            final_total: None,
            content_type: None,
        });
        if p.final_total.is_some_and(|t| end > t) {
            return Err(ReassemblyError::new(K::PastEnd, Some(&id)));
        }
        // Bounded by max_message_size above.
        let (s, e) = (start as usize, end as usize);
        if p.buf.len() < e {
            p.buf.resize(e, 0);
        }
        // The chunk received last takes precedence (§7.3.1).
        p.buf[s..e].copy_from_slice(body);
        p.add_range(start, end);
        if p.content_type.is_none() {
            p.content_type = frame.content_type().map(str::to_owned);
        }
        if flag == Continuation::Done {
            // §7.3.1: "the chunk that has a termination character of `$`
            // defines the total length of the message."
            p.final_total = Some(end);
            p.truncate(end);
        } else if let Some(t) = declared {
            p.declared_total = Some(t);
        }
        if p.is_complete() {
            let total = p.total().unwrap_or(0);
            let mut p = self
                .partial
                .remove(&id)
                .ok_or_else(|| ReassemblyError::new(K::BadHeaders, Some(&id)))?;
            p.truncate(total);
            self.remember(id.clone());
            return Ok(Reassembly::Complete(Message {
                message_id: id,
                content_type: p.content_type,
                body: Bytes::from(p.buf),
            }));
        }
        Ok(Reassembly::Partial {
            received: p.received(),
            total: p.total(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> MsrpUri {
        MsrpUri::parse(s).unwrap()
    }

    fn chunker(body: &'static [u8], max: usize) -> Chunker {
        Chunker::new(
            &[uri("msrp://bob.example.com:8888/9di4eae923wzd;tcp")],
            &[uri("msrp://alicepc.example.com:7777/iau39soe2843z;tcp")],
            &MessageId::new("4564dpWd").unwrap(),
            "text/plain",
            Bytes::from_static(body),
            max,
        )
        .unwrap()
    }

    #[test]
    fn chunks_abcdefgh_like_figure_3() {
        let mut c = chunker(b"abcdEFGH", 4);
        let a = c.next_chunk().unwrap();
        let b = c.next_chunk().unwrap();
        assert!(c.next_chunk().is_none());
        assert!(c.is_done());
        assert_eq!(a.header("Byte-Range"), Some("1-4/8"));
        assert_eq!(a.continuation(), Continuation::More);
        assert_eq!(a.body().unwrap().as_ref(), b"abcd");
        assert_eq!(b.header("Byte-Range"), Some("5-8/8"));
        assert_eq!(b.continuation(), Continuation::Done);
        assert_ne!(a.transaction_id(), b.transaction_id());
        for f in [&a, &b] {
            f.validate().unwrap();
            assert_eq!(f.headers().last().unwrap().name(), "Content-Type");
        }
        let mut r = Reassembler::new(ReassemblyLimits::default());
        assert!(matches!(
            r.handle_chunk(&b).unwrap(),
            Reassembly::Partial {
                received: 4,
                total: Some(8)
            }
        ));
        let Reassembly::Complete(m) = r.handle_chunk(&a).unwrap() else {
            panic!("complete");
        };
        assert_eq!(m.body.as_ref(), b"abcdEFGH");
        assert_eq!(m.content_type.as_deref(), Some("text/plain"));
        assert_eq!(r.handle_chunk(&a).unwrap(), Reassembly::Duplicate);
        assert_eq!(r.partial_count(), 0);
    }

    #[test]
    fn big_chunks_are_interruptible_and_totals_may_be_unknown() {
        static BODY: [u8; 5000] = [b'z'; 5000];
        let mut c = chunker(&BODY, 3000).unknown_total();
        let a = c.next_chunk().unwrap();
        assert_eq!(a.header("Byte-Range"), Some("1-*/*"));
        let b = c.next_chunk().unwrap();
        assert_eq!(b.header("Byte-Range"), Some("3001-5000/*"));
        let mut r = Reassembler::new(ReassemblyLimits::default());
        assert!(matches!(
            r.handle_chunk(&a).unwrap(),
            Reassembly::Partial { total: None, .. }
        ));
        assert!(
            matches!(r.handle_chunk(&b).unwrap(), Reassembly::Complete(m) if m.body.len() == 5000)
        );
    }

    #[test]
    fn empty_message_and_abort() {
        let mut c = chunker(b"", 10);
        let f = c.next_chunk().unwrap();
        assert_eq!(f.header("Byte-Range"), Some("1-0/0"));
        assert_eq!(f.body().map(|b| b.len()), Some(0));
        let mut r = Reassembler::new(ReassemblyLimits::default());
        assert!(
            matches!(r.handle_chunk(&f).unwrap(), Reassembly::Complete(m) if m.body.is_empty())
        );

        let mut c = chunker(b"abcdEFGH", 4);
        let a = c.next_chunk().unwrap();
        let x = c.abort(1).unwrap();
        assert_eq!(x.continuation(), Continuation::Aborted);
        assert_eq!(x.header("Byte-Range"), Some("5-5/8"));
        assert!(c.next_chunk().is_none());
        assert!(c.abort(1).is_none());
        let mut r = Reassembler::new(ReassemblyLimits::default());
        r.handle_chunk(&a).unwrap();
        assert_eq!(r.partial_count(), 1);
        assert_eq!(r.handle_chunk(&x).unwrap(), Reassembly::Aborted);
        assert_eq!(r.partial_count(), 0);
    }

    #[test]
    fn caps_answer_413() {
        let mut r = Reassembler::new(ReassemblyLimits {
            max_message_size: 6,
            max_partial_messages: 1,
            remember_completed: 2,
        });
        let mut c = chunker(b"abcdEFGH", 4);
        let e = r.handle_chunk(&c.next_chunk().unwrap()).unwrap_err();
        assert_eq!((e.status(), e.kind()), (413, ReassemblyErrorKind::TooLarge));

        let mut r = Reassembler::new(ReassemblyLimits {
            max_partial_messages: 1,
            ..ReassemblyLimits::default()
        });
        let one = chunker(b"abcdEFGH", 4).next_chunk().unwrap();
        let two = Chunker::new(
            &[uri("msrp://h:1/a;tcp")],
            &[uri("msrp://h:2/b;tcp")],
            &MessageId::new("other-id").unwrap(),
            "text/plain",
            Bytes::from_static(b"12345678"),
            4,
        )
        .unwrap()
        .next_chunk()
        .unwrap();
        r.handle_chunk(&one).unwrap();
        let e = r.handle_chunk(&two).unwrap_err();
        assert_eq!(
            (e.status(), e.kind()),
            (413, ReassemblyErrorKind::TooManyPartial)
        );
        assert_eq!(e.message_id().unwrap().as_str(), "other-id");
    }

    #[test]
    fn overlaps_last_wins_and_remembered_ids_are_bounded() {
        let mk = |range: &str, body: &'static [u8], flag| {
            let mut f = Frame::builder(Method::Send)
                .to_path(&[uri("msrp://h:1/a;tcp")])
                .from_path(&[uri("msrp://h:2/b;tcp")])
                .message_id(&MessageId::new("m-overlap").unwrap())
                .header("Byte-Range", range)
                .body("text/plain", Bytes::from_static(body))
                .build()
                .unwrap();
            f.set_continuation(flag);
            f
        };
        let mut r = Reassembler::new(ReassemblyLimits {
            remember_completed: 1,
            ..ReassemblyLimits::default()
        });
        r.handle_chunk(&mk("1-6/10", b"aaaaaa", Continuation::More))
            .unwrap();
        r.handle_chunk(&mk("4-8/10", b"bbbbb", Continuation::More))
            .unwrap();
        let done = r
            .handle_chunk(&mk("9-10/10", b"cc", Continuation::Done))
            .unwrap();
        assert!(matches!(done, Reassembly::Complete(m) if m.body.as_ref() == b"aaabbbbbcc"));
        // Forgotten after another message completes (remember_completed = 1).
        let other = chunker(b"x", 4).next_chunk().unwrap();
        r.handle_chunk(&other).unwrap();
        assert!(matches!(
            r.handle_chunk(&mk("1-6/10", b"aaaaaa", Continuation::More))
                .unwrap(),
            Reassembly::Partial { .. }
        ));
    }
}
