//! Parse errors shaped like the wire: each one carries the status code and the
//! reason phrase a server answers with (DESIGN.md house style rule 4).

use std::borrow::Cow;

/// What went wrong, coarsely; [`ParseError::status`] derives the status code from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The Request-Line or Status-Line does not follow RFC 3261 §7.1/§7.2.
    StartLine,
    /// A SIP version other than 2.0 (RFC 3261 §8.2.2: answered 505).
    Version,
    /// A header line or a header value that does not follow its grammar.
    Header,
    /// A header every request or response must carry is absent (RFC 3261 §8.1.1).
    MissingHeader,
    /// Content-Length is malformed, disagrees with the body, or is absent on a stream.
    ContentLength,
    /// A URI that does not follow its scheme's grammar.
    Uri,
    /// A URI scheme this element does not serve (RFC 3261 §8.2.2.1: answered 416).
    UnsupportedUriScheme,
    /// The message is bigger than the configured cap (RFC 3261 §21.5.14: 513).
    TooLarge,
    /// A message body that does not follow its declared type (e.g. multipart framing).
    Body,
    /// The header section is not UTF-8 (RFC 3261 §7.3.1: UTF8-NONASCII only).
    Encoding,
}

/// A message, header or URI that could not be parsed, with the response it deserves.
///
/// `Display` gives `"<status> <reason>"`, e.g. `400 Missing Call-ID`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {}", self.status(), self.reason)]
pub struct ParseError {
    kind: ErrorKind,
    reason: Cow<'static, str>,
}

impl ParseError {
    /// An error of `kind` answered with `reason`.
    pub fn new(kind: ErrorKind, reason: impl Into<Cow<'static, str>>) -> Self {
        ParseError {
            kind,
            reason: reason.into(),
        }
    }

    /// Shorthand for a header-grammar error.
    pub fn header(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Header, reason)
    }

    /// Shorthand for a URI-grammar error.
    pub fn uri(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Uri, reason)
    }

    /// The coarse kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The status code a server answers with.
    pub fn status(&self) -> u16 {
        match self.kind {
            ErrorKind::Version => 505,
            ErrorKind::UnsupportedUriScheme => 416,
            ErrorKind::TooLarge => 513,
            _ => 400,
        }
    }

    /// The reason phrase a server answers with: says what was wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The same error with `context` put in front of the reason, e.g. `Bad Via: ...`.
    pub fn context(self, context: &str) -> Self {
        ParseError {
            kind: self.kind,
            reason: Cow::Owned(format!("{context}: {}", self.reason)),
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = ParseError> = std::result::Result<T, E>;
