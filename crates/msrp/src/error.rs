//! Errors shaped like the wire (DESIGN.md house style rule 4): each one carries
//! the MSRP status code and the reason phrase a node answers with, and, for the
//! stream decoder, whether the connection can go on.

use std::borrow::Cow;

use crate::frame::{Frame, Method};
use crate::ident::TransactionId;

/// What went wrong, coarsely; [`ParseError::status`] derives the status code from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The start line does not follow `req-start` / `resp-start` (RFC 4975 §9).
    StartLine,
    /// A header line does not follow `hname ":" SP hval` (RFC 4975 §9), or is not UTF-8.
    HeaderLine,
    /// A header every frame must carry is absent or repeated (To-Path, From-Path).
    MissingHeader,
    /// A header value that does not follow its grammar (Byte-Range, Status, ...).
    HeaderValue,
    /// An MSRP URI that does not follow RFC 4975 §9.
    Uri,
    /// A body without a Content-Type (RFC 4975 §7.1).
    Body,
    /// An end-line with the wrong transaction id or flag (RFC 4975 §7.1).
    EndLine,
    /// The start line and header section are longer than the decoder allows.
    HeaderTooLarge,
    /// The body of one frame is longer than the decoder allows: answered 413
    /// (RFC 4975 §10.5: "stop sending the particular message").
    BodyTooLarge,
    /// The stream ended in the middle of a frame.
    Truncated,
}

/// A frame, header or URI that could not be parsed, with the response it deserves.
///
/// `Display` gives `"<status> <reason>"`, e.g. `400 Missing To-Path`.
///
/// Errors from [`Decoder::decode`](crate::Decoder::decode) come in two kinds:
/// - [`must_close`](Self::must_close) is `false`: the decoder knew where the
///   frame ended, consumed it (or is discarding the rest of it), and the
///   stream is still in step. If the frame was a request that is owed an
///   answer, [`answer`](Self::answer) builds it (400, or 413 for an oversized
///   body); a malformed response is dropped (RFC 4976 §6.4.3).
/// - `must_close` is `true`: the stream cannot be framed any more (no
///   transaction id to find the end-line with); close the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {}", self.status(), self.reason)]
pub struct ParseError {
    kind: ErrorKind,
    reason: Cow<'static, str>,
    close: bool,
    context: Option<Box<ErrorContext>>,
}

/// What the decoder knew about the frame when it failed: enough to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorContext {
    pub(crate) tid: TransactionId,
    /// `None` for a response.
    pub(crate) method: Option<Method>,
    pub(crate) to_path: Option<String>,
    pub(crate) from_path: Option<String>,
    pub(crate) failure_report: Option<String>,
}

impl ParseError {
    /// An error of `kind` answered with `reason`; the stream stays usable.
    pub fn new(kind: ErrorKind, reason: impl Into<Cow<'static, str>>) -> Self {
        ParseError {
            kind,
            reason: reason.into(),
            close: false,
            context: None,
        }
    }

    pub(crate) fn header(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::HeaderValue, reason)
    }

    pub(crate) fn uri(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Uri, reason)
    }

    /// The same error, marked as leaving the stream out of step.
    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    pub(crate) fn with_context(mut self, context: ErrorContext) -> Self {
        self.context = Some(Box::new(context));
        self
    }

    /// The same error with `context` put in front of the reason, e.g. `Bad Byte-Range: ...`.
    pub fn context(self, context: &str) -> Self {
        ParseError {
            reason: Cow::Owned(format!("{context}: {}", self.reason)),
            ..self
        }
    }

    /// The coarse kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The status code to answer with: 413 for an oversized body (RFC 4975
    /// §10.5), 400 for everything else (§10.2: "unintelligible").
    pub fn status(&self) -> u16 {
        match self.kind {
            ErrorKind::BodyTooLarge => 413,
            _ => 400,
        }
    }

    /// The reason phrase to answer with: says what was wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// `true` when the stream cannot be framed any more and the connection
    /// should be closed; `false` when the bad frame was consumed (or is being
    /// discarded) and decoding can go on.
    pub fn must_close(&self) -> bool {
        self.close
    }

    /// The transaction id of the bad frame, when the start line was readable.
    pub fn transaction_id(&self) -> Option<&TransactionId> {
        self.context.as_ref().map(|c| &c.tid)
    }

    /// The method of the bad frame, when it was a request with a readable start line.
    pub fn method(&self) -> Option<&Method> {
        self.context.as_ref().and_then(|c| c.method.as_ref())
    }

    /// The response this error deserves, when one is owed and can be built:
    /// the bad frame was a request other than REPORT (RFC 4975 §7.1.2: never
    /// answered), its Failure-Report was not `no` (§7.1.4), and its To-Path and
    /// From-Path were readable (§7.2 builds the response from them).
    pub fn answer(&self) -> Option<Frame> {
        let c = self.context.as_ref()?;
        let method = c.method.as_ref()?;
        if *method == Method::Report {
            return None;
        }
        if c.failure_report
            .as_deref()
            .is_some_and(|fr| fr.trim().eq_ignore_ascii_case("no"))
        {
            return None;
        }
        let to = c.to_path.as_deref()?;
        let from = c.from_path.as_deref()?;
        crate::frame::response_from_parts(
            &c.tid,
            method,
            to,
            from,
            self.status(),
            Some(&self.reason),
        )
        .ok()
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = ParseError> = std::result::Result<T, E>;
