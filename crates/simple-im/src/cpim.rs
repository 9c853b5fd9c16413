//! The `message/cpim` wrapper (RFC 3862) and the IMDN header fields inside it
//! (RFC 5438 §6).
//!
//! A CPIM body as carried in a SIP MESSAGE is (RFC 3862 §2, the `m:` part being
//! the SIP Content-Type):
//!
//! ```text
//! From: Alice <im:alice@example.com>          <- message headers (§3, §4)
//! NS: imdn <urn:ietf:params:imdn>
//! imdn.Message-ID: 34jk324j
//!                                              <- blank separator line
//! Content-Type: text/plain                     <- MIME headers of the content (§2.4)
//!                                              <- blank line
//! Hello                                        <- the content, any bytes
//! ```
//!
//! [`parse`] borrows everything from the body and never allocates per byte.
//! It is lenient where real peers (and the RFC 5438 examples) are sloppy:
//!
//! - bare LF line ends as well as CRLF;
//! - header names compared ASCII case-insensitively (RFC 3862 §2.2 says they
//!   match exactly; nobody relies on `from` and `From` being different);
//! - missing or repeated space after the colon;
//! - no blank line between the message headers and the content headers: the
//!   RFC 5438 §7 examples run `imdn.Disposition-Notification:` straight into
//!   `Content-type:`, so an un-prefixed `Content-*` line ends the message
//!   headers;
//! - no content headers at all: when the line after the separator is not a
//!   `Content-*`/`MIME-Version` header, everything after the separator is the
//!   content;
//! - a namespace prefix used before its `NS:` declaration resolves through a
//!   later declaration (RFC 3862 §3.4 says the declaration MUST come first).
//!
//! It is strict where leniency would be ambiguous: message header lines may not
//! be folded (RFC 3862 §2.2: "the entire header MUST be contained on a single
//! line"; MIME content headers may be folded), header text must be UTF-8, and
//! each section is capped at [`MAX_HEADERS`] lines.
//!
//! Header values are returned raw: RFC 3862 §2.3 escapes (`\u0009`, `\"`) are
//! not decoded.

use std::fmt;

/// The namespace of the core CPIM headers (RFC 3862 §4): the implied default
/// namespace of un-prefixed header names.
pub const CPIM_NAMESPACE: &str = "urn:ietf:params:cpim-headers:";

/// The namespace of the IMDN CPIM headers (RFC 5438 §6.1).
pub const IMDN_NAMESPACE: &str = "urn:ietf:params:imdn";

/// The most header lines accepted in each of the two header sections; a real
/// CPIM message has about ten.
pub const MAX_HEADERS: usize = 128;

/// The content type of an is-composing indication (RFC 3994 §3).
const ISCOMPOSING: &str = "application/im-iscomposing+xml";

/// Why a `message/cpim` body was rejected. `Display` is a short human reason,
/// usable as the reason phrase of the SIP 400 that answers it.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CpimError {
    /// The body is empty or only whitespace.
    #[error("Empty CPIM body")]
    Empty,
    /// A header line (message or content header) is not UTF-8 (RFC 3862 §2.2).
    #[error("CPIM header on line {line} is not UTF-8")]
    NotUtf8 {
        /// 1-based line number in the body.
        line: usize,
    },
    /// A header line has no `name:` part, or the name has spaces or control
    /// characters in it (RFC 3862 §3.1).
    #[error("Malformed CPIM header on line {line}")]
    MalformedHeader {
        /// 1-based line number in the body.
        line: usize,
    },
    /// A message header line starts with whitespace: CPIM message headers are
    /// never folded (RFC 3862 §2.2).
    #[error("Folded CPIM header on line {line}")]
    FoldedHeader {
        /// 1-based line number in the body.
        line: usize,
    },
    /// The body ends inside the message headers: no blank line and no content
    /// headers follow them (RFC 3862 §2).
    #[error("CPIM headers not followed by a blank line")]
    MissingSeparator,
    /// More than [`MAX_HEADERS`] lines in one header section.
    #[error("Too many CPIM headers")]
    TooManyHeaders,
}

/// The IMDN dispositions an IM Sender asked for in
/// `imdn.Disposition-Notification` (RFC 5438 §6.2, §7.1.1.3). All false when
/// the header is absent or empty: no IMDN was requested.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dispositions {
    /// `positive-delivery`: tell me when it was delivered.
    pub positive_delivery: bool,
    /// `negative-delivery`: tell me when delivery failed.
    pub negative_delivery: bool,
    /// `processing`: intermediaries may tell me it was processed or stored.
    pub processing: bool,
    /// `display`: tell me when it was displayed.
    pub display: bool,
}

impl Dispositions {
    /// Whether any notification at all was requested.
    pub fn any(&self) -> bool {
        self.positive_delivery || self.negative_delivery || self.processing || self.display
    }
}

/// One CPIM message header (RFC 3862 §3.6), its prefix resolved.
#[derive(Debug, Clone, Copy)]
struct MessageHeader<'a> {
    /// The namespace prefix before the `.`, if any.
    prefix: Option<&'a str>,
    /// The name within its namespace.
    name: &'a str,
    /// The namespace URI the header belongs to; empty when its prefix was
    /// never declared.
    namespace: &'a str,
    /// The value, without the `;param` list that may precede it.
    value: &'a str,
}

/// One MIME header of the encapsulated content (RFC 3862 §2.4).
#[derive(Debug, Clone, Copy)]
struct ContentHeader<'a> {
    name: &'a str,
    /// Raw value; a folded value keeps its line breaks.
    value: &'a str,
}

/// A parsed message/cpim body (RFC 3862). Borrowed from the body bytes.
#[derive(Debug, Clone)]
pub struct Cpim<'a> {
    headers: Vec<MessageHeader<'a>>,
    content_headers: Vec<ContentHeader<'a>>,
    content: &'a [u8],
}

impl<'a> Cpim<'a> {
    /// The first message header called `name` (ASCII case-insensitive) in the
    /// core CPIM namespace: un-prefixed (unless the message rebinds the default
    /// namespace with a prefix-less `NS:`, RFC 3862 §3.4). `header("Message-ID")`
    /// does not find `imdn.Message-ID`; use [`Cpim::ns_header`] for that.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|h| {
                h.prefix.is_none()
                    && ns_eq(h.namespace, CPIM_NAMESPACE)
                    && h.name.eq_ignore_ascii_case(name)
            })
            .map(|h| h.value)
    }

    /// The first message header `local` in namespace `namespace_urn`, whatever
    /// prefix the message bound to it (RFC 3862 §3.4; RFC 5438 §6.1: "servers
    /// and intermediaries must accept any legal namespace prefix").
    /// `ns_header(IMDN_NAMESPACE, "Message-ID")` finds `imdn.Message-ID` after
    /// `NS: imdn <urn:ietf:params:imdn>`, and `x.Message-ID` after
    /// `NS: x <urn:ietf:params:imdn>`.
    pub fn ns_header(&self, namespace_urn: &str, local: &str) -> Option<&'a str> {
        self.ns_headers(namespace_urn, local).next()
    }

    /// Every message header `local` in namespace `namespace_urn`, in message
    /// order (e.g. `imdn.IMDN-Record-Route`, RFC 5438 §6.5).
    pub fn ns_headers<'s>(
        &'s self,
        namespace_urn: &'s str,
        local: &'s str,
    ) -> impl Iterator<Item = &'a str> + 's {
        self.headers
            .iter()
            .filter(move |h| {
                ns_eq(h.namespace, namespace_urn) && h.name.eq_ignore_ascii_case(local)
            })
            .map(|h| h.value)
    }

    /// The `From` value (RFC 3862 §4.1), raw: `Alice <im:alice@example.com>`.
    /// See [`address_uri`] for the URI in it.
    pub fn from(&self) -> Option<&'a str> {
        self.header("From")
    }

    /// The first `To` value (RFC 3862 §4.2), raw.
    pub fn to(&self) -> Option<&'a str> {
        self.header("To")
    }

    /// The `DateTime` value (RFC 3862 §4.4), raw; see
    /// [`crate::imdn::parse_rfc3339`].
    pub fn datetime(&self) -> Option<&'a str> {
        self.header("DateTime")
    }

    /// The `Content-Type` of the encapsulated MIME part (RFC 3862 §2.4), raw,
    /// parameters included.
    pub fn content_type(&self) -> Option<&'a str> {
        self.content_header("Content-Type")
    }

    /// The first MIME header `name` (ASCII case-insensitive) of the
    /// encapsulated part, raw. A folded value keeps its line breaks.
    pub fn content_header(&self, name: &str) -> Option<&'a str> {
        self.content_headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// The encapsulated body: the exact bytes after the content headers' blank
    /// line, to the end of the CPIM body (the transport frames it; an inner
    /// `Content-Length` is not used).
    pub fn content(&self) -> &'a [u8] {
        self.content
    }

    /// `imdn.Message-ID` (RFC 5438 §6.3): the IM Sender's identifier for the
    /// IM, echoed in every IMDN's `<message-id>`.
    pub fn message_id(&self) -> Option<&'a str> {
        self.ns_header(IMDN_NAMESPACE, "Message-ID")
            .filter(|v| !v.is_empty())
    }

    /// The notifications requested by `imdn.Disposition-Notification`
    /// (RFC 5438 §6.2, §10): comma-separated, values case-insensitive, `;params`
    /// and unknown values ignored (§7.2.1: "the IM Recipient ignores that
    /// value"); repeated headers add up.
    pub fn disposition_notification(&self) -> Dispositions {
        let mut d = Dispositions::default();
        for value in self.ns_headers(IMDN_NAMESPACE, "Disposition-Notification") {
            for item in value.split(',') {
                let token = item.split(';').next().unwrap_or("").trim();
                if token.eq_ignore_ascii_case("positive-delivery") {
                    d.positive_delivery = true;
                } else if token.eq_ignore_ascii_case("negative-delivery") {
                    d.negative_delivery = true;
                } else if token.eq_ignore_ascii_case("processing") {
                    d.processing = true;
                } else if token.eq_ignore_ascii_case("display") {
                    d.display = true;
                }
            }
        }
        d
    }
}

/// Parses a `message/cpim` body (RFC 3862 §2). Never panics; see the module
/// docs for what is tolerated.
pub fn parse(body: &[u8]) -> Result<Cpim<'_>, CpimError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(CpimError::Empty);
    }
    let mut lines = Lines::new(body);
    let mut raw: Vec<RawHeader<'_>> = Vec::new();

    // RFC 3862 §2.2: message headers, up to the blank separator line.
    let content_start = loop {
        let Some(line) = lines.peek() else {
            return Err(CpimError::MissingSeparator);
        };
        if line.text.is_empty() {
            lines.advance();
            break ContentStart::AfterSeparator;
        }
        if matches!(line.text.first(), Some(b' ' | b'\t')) {
            return Err(CpimError::FoldedHeader { line: line.number });
        }
        let text = utf8(line.text, line.number)?;
        let (full_name, rest) =
            split_header(text).ok_or(CpimError::MalformedHeader { line: line.number })?;
        let (prefix, name) = match full_name.split_once('.') {
            Some((p, n)) if !p.is_empty() && !n.is_empty() => (Some(p), n),
            Some(_) => return Err(CpimError::MalformedHeader { line: line.number }),
            None => (None, full_name),
        };
        // RFC 5438 §7 examples: the content headers follow the message headers
        // without a blank line.
        if prefix.is_none() && is_content_header_name(name) {
            break ContentStart::Inline;
        }
        if raw.len() >= MAX_HEADERS {
            return Err(CpimError::TooManyHeaders);
        }
        raw.push(RawHeader {
            prefix,
            name,
            value: message_header_value(rest),
        });
        lines.advance();
    };

    // RFC 3862 §2.4: the encapsulated MIME part's headers, unless the sender
    // left them out.
    let has_content_headers = match content_start {
        ContentStart::Inline => true,
        ContentStart::AfterSeparator => lines.peek().is_some_and(|line| {
            std::str::from_utf8(line.text)
                .ok()
                .and_then(split_header)
                .is_some_and(|(name, _)| is_content_header_name(name))
        }),
    };
    let mut content_headers: Vec<ContentHeader<'_>> = Vec::new();
    let content = if has_content_headers {
        // (name, value start, value end) as byte offsets, so that a folded
        // value can grow over its continuation lines.
        let mut spans: Vec<(&str, usize, usize)> = Vec::new();
        let content = loop {
            let Some(line) = lines.peek() else {
                break &body[body.len()..];
            };
            lines.advance();
            if line.text.is_empty() {
                break &body[lines.pos..];
            }
            utf8(line.text, line.number)?;
            let line_end = line.start + trim_end_ws(line.text).len();
            if matches!(line.text.first(), Some(b' ' | b'\t')) {
                // RFC 2822 §2.2.3 folding, legal in MIME headers.
                let Some(last) = spans.last_mut() else {
                    return Err(CpimError::MalformedHeader { line: line.number });
                };
                if line_end > line.start {
                    last.2 = line_end;
                }
                continue;
            }
            let text = utf8(line.text, line.number)?;
            let (name, rest) =
                split_header(text).ok_or(CpimError::MalformedHeader { line: line.number })?;
            if spans.len() >= MAX_HEADERS {
                return Err(CpimError::TooManyHeaders);
            }
            let value = rest.trim_start_matches([' ', '\t']);
            let start = line.start + (text.len() - value.len());
            spans.push((name, start, line_end.max(start)));
        };
        for (name, start, end) in spans {
            let value = body
                .get(start..end)
                .and_then(|v| std::str::from_utf8(v).ok())
                .unwrap_or("");
            content_headers.push(ContentHeader { name, value });
        }
        content
    } else {
        &body[lines.pos..]
    };

    Ok(Cpim {
        headers: resolve_namespaces(&raw),
        content_headers,
        content,
    })
}

/// The URI inside a CPIM From/To value ("Alice <im:alice@example.com>" ->
/// "im:alice@example.com"; RFC 3862 §4.1 `[ Formal-name ] "<" URI ">"`). A
/// `<` inside a quoted formal name is skipped. Leniently, a value without angle
/// brackets that is a single word with a `:` is taken as the URI itself.
pub fn address_uri(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'<' if !quoted => {
                let rest = &value[i + 1..];
                let end = rest.find('>')?;
                let uri = rest[..end].trim();
                return (!uri.is_empty()).then_some(uri);
            }
            _ => {}
        }
        i += 1;
    }
    let v = value.trim();
    (!v.is_empty() && v.contains(':') && !v.contains(char::is_whitespace) && !v.contains('"'))
        .then_some(v)
}

/// Does this MESSAGE body carry only an is-composing indication (RFC 3994),
/// either directly (content type application/im-iscomposing+xml) or wrapped in
/// message/cpim? Such a body is a transient state, not an IM: not stored, no
/// IMDN.
pub fn is_composing(content_type: &str, body: &[u8]) -> bool {
    if media_type_is(content_type, ISCOMPOSING) {
        return true;
    }
    is_cpim(content_type)
        && parse(body)
            .ok()
            .and_then(|c| c.content_type())
            .is_some_and(|t| media_type_is(t, ISCOMPOSING))
}

/// Is the content type (parameters ignored, case-insensitive) message/cpim?
pub fn is_cpim(content_type: &str) -> bool {
    media_type_is(content_type, "message/cpim")
}

/// Whether `content_type`'s `type/subtype`, parameters and whitespace ignored,
/// is `want` (RFC 2045 §5.1: case-insensitive).
pub(crate) fn media_type_is(content_type: &str, want: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case(want)
}

/// A message header before namespace resolution.
#[derive(Debug, Clone, Copy)]
struct RawHeader<'a> {
    prefix: Option<&'a str>,
    name: &'a str,
    value: &'a str,
}

/// Where the content-header section starts.
#[derive(Debug, Clone, Copy)]
enum ContentStart {
    /// After the blank line that ended the message headers.
    AfterSeparator,
    /// At the current line, which is a `Content-*` header.
    Inline,
}

/// RFC 3862 §3.4: each header's namespace is the one its prefix is bound to by
/// the `NS:` headers before it (a prefix-less `NS:` rebinds the default).
fn resolve_namespaces<'a>(raw: &[RawHeader<'a>]) -> Vec<MessageHeader<'a>> {
    // (index, prefix, uri) of every NS declaration.
    let decls: Vec<(usize, &'a str, &'a str)> = raw
        .iter()
        .enumerate()
        .filter(|(_, h)| h.prefix.is_none() && h.name.eq_ignore_ascii_case("NS"))
        .filter_map(|(i, h)| parse_ns(h.value).map(|(p, uri)| (i, p, uri)))
        .collect();
    raw.iter()
        .enumerate()
        .map(|(i, h)| {
            let namespace = if h.prefix.is_none() && h.name.eq_ignore_ascii_case("NS") {
                CPIM_NAMESPACE
            } else {
                let bound = |p: &str| {
                    decls
                        .iter()
                        .rev()
                        .find(|(j, dp, _)| *j < i && dp.eq_ignore_ascii_case(p))
                        .map(|(_, _, uri)| *uri)
                };
                match h.prefix {
                    None => bound("").unwrap_or(CPIM_NAMESPACE),
                    // Lenient: a prefix used before its declaration resolves
                    // through the first later one.
                    Some(p) => bound(p)
                        .or_else(|| {
                            decls
                                .iter()
                                .find(|(j, dp, _)| *j > i && dp.eq_ignore_ascii_case(p))
                                .map(|(_, _, uri)| *uri)
                        })
                        .unwrap_or(""),
                }
            };
            MessageHeader {
                prefix: h.prefix,
                name: h.name,
                namespace,
                value: h.value,
            }
        })
        .collect()
}

/// An `NS` value (RFC 3862 §4.6): `[ Name-prefix ] "<" URI ">"` -> (prefix, URI);
/// the prefix is empty for a default-namespace declaration.
fn parse_ns(value: &str) -> Option<(&str, &str)> {
    let (prefix, rest) = value.split_once('<')?;
    let (uri, _) = rest.split_once('>')?;
    let uri = uri.trim();
    let prefix = prefix.trim();
    (!uri.is_empty() && !prefix.contains(char::is_whitespace)).then_some((prefix, uri))
}

/// Namespace URIs compare ASCII case-insensitively, a trailing `:` ignored
/// (`urn:ietf:params:cpim-headers:` is written both ways in the wild). An
/// unresolved namespace (empty) matches nothing.
fn ns_eq(a: &str, b: &str) -> bool {
    !a.is_empty()
        && a.trim_end_matches(':')
            .eq_ignore_ascii_case(b.trim_end_matches(':'))
}

/// `name: value` -> (name, everything after the colon). The name must be
/// non-empty visible ASCII (RFC 3862 §3.1 NAMECHAR, leniently widened).
fn split_header(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(':')?;
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic());
    valid.then_some((name, rest))
}

/// The value part of a message header (RFC 3862 §3.6):
/// `":" *( ";" Parameter ) SP Header-value`. Parameters (`;lang=fr`) are
/// skipped; surrounding whitespace is trimmed.
fn message_header_value(after_colon: &str) -> &str {
    let v = if after_colon.starts_with(';') {
        match after_colon.split_once(' ') {
            Some((_params, value)) => value,
            None => "",
        }
    } else {
        after_colon
    };
    v.trim_matches([' ', '\t'])
}

/// `Content-*` and `MIME-Version` are MIME headers of the encapsulated part,
/// never CPIM message headers.
fn is_content_header_name(name: &str) -> bool {
    name.get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("Content-"))
        || name.eq_ignore_ascii_case("MIME-Version")
}

fn utf8(text: &[u8], line: usize) -> Result<&str, CpimError> {
    std::str::from_utf8(text).map_err(|_| CpimError::NotUtf8 { line })
}

fn trim_end_ws(text: &[u8]) -> &[u8] {
    let end = text
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |i| i + 1);
    &text[..end]
}

/// One line of the body, without its CRLF or LF.
#[derive(Clone, Copy)]
struct Line<'a> {
    text: &'a [u8],
    /// Byte offset of `text` in the body.
    start: usize,
    /// 1-based.
    number: usize,
}

impl fmt::Debug for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Line({}: {:?})",
            self.number,
            String::from_utf8_lossy(self.text)
        )
    }
}

/// A line cursor over the body accepting CRLF or bare LF.
#[derive(Debug)]
struct Lines<'a> {
    body: &'a [u8],
    /// Offset of the next line.
    pos: usize,
    /// 1-based number of the next line.
    number: usize,
}

impl<'a> Lines<'a> {
    fn new(body: &'a [u8]) -> Self {
        Lines {
            body,
            pos: 0,
            number: 1,
        }
    }

    /// The next line and the offset just past its line end, or `None` at the
    /// end of the body.
    fn next_bounds(&self) -> Option<(Line<'a>, usize)> {
        let rest = self.body.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (mut text, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => (&rest[..nl], self.pos + nl + 1),
            None => (rest, self.body.len()),
        };
        if let [head @ .., b'\r'] = text {
            text = head;
        }
        let line = Line {
            text,
            start: self.pos,
            number: self.number,
        };
        Some((line, next))
    }

    fn peek(&self) -> Option<Line<'a>> {
        self.next_bounds().map(|(line, _)| line)
    }

    fn advance(&mut self) {
        if let Some((_, next)) = self.next_bounds() {
            self.pos = next;
            self.number += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_crlf() {
        let c =
            parse(b"From: <im:a@x>\r\nTo: <im:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhi\r\n")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.from(), Some("<im:a@x>"));
        assert_eq!(c.to(), Some("<im:b@x>"));
        assert_eq!(c.content_type(), Some("text/plain"));
        assert_eq!(c.content(), b"hi\r\n");
    }

    #[test]
    fn bare_lf() {
        let c = parse(b"From: <im:a@x>\n\nContent-Type: text/plain\n\nhi")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.from(), Some("<im:a@x>"));
        assert_eq!(c.content_type(), Some("text/plain"));
        assert_eq!(c.content(), b"hi");
    }

    #[test]
    fn no_content_headers() {
        let c = parse(b"From: <im:a@x>\r\n\r\nHello: there\r\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.content_type(), None);
        assert_eq!(c.content(), b"Hello: there\r\n");
    }

    #[test]
    fn content_headers_to_eof_mean_empty_content() {
        let c = parse(b"From: <im:a@x>\r\n\r\nContent-Type: text/plain\r\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.content_type(), Some("text/plain"));
        assert_eq!(c.content(), b"");
    }

    #[test]
    fn inline_content_headers() {
        let c = parse(b"From: <im:a@x>\r\nContent-type: text/plain\r\n\r\nHello")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.from(), Some("<im:a@x>"));
        assert_eq!(c.content_type(), Some("text/plain"));
        assert_eq!(c.content(), b"Hello");
    }

    #[test]
    fn folded_content_header_keeps_span() {
        let c = parse(
            b"From: <im:a@x>\r\n\r\nContent-Type: multipart/mixed;\r\n   boundary=b\r\n\r\n--b",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.content_type(), Some("multipart/mixed;\r\n   boundary=b"));
        assert_eq!(c.content(), b"--b");
    }

    #[test]
    fn folded_message_header_rejected() {
        assert_eq!(
            parse(b"From: <im:a@x>\r\n  more\r\n\r\n").err(),
            Some(CpimError::FoldedHeader { line: 2 })
        );
    }

    #[test]
    fn errors() {
        assert_eq!(parse(b"").err(), Some(CpimError::Empty));
        assert_eq!(parse(b" \r\n").err(), Some(CpimError::Empty));
        assert_eq!(
            parse(b"hello world").err(),
            Some(CpimError::MalformedHeader { line: 1 })
        );
        assert_eq!(
            parse(b"From: <im:a@x>\r\n").err(),
            Some(CpimError::MissingSeparator)
        );
        assert_eq!(
            parse(b"From: \xff\r\n\r\n").err(),
            Some(CpimError::NotUtf8 { line: 1 })
        );
        assert_eq!(
            parse(b".x: y\r\n\r\n").err(),
            Some(CpimError::MalformedHeader { line: 1 })
        );
        let many = "a: b\r\n".repeat(MAX_HEADERS + 1) + "\r\n";
        assert_eq!(
            parse(many.as_bytes()).err(),
            Some(CpimError::TooManyHeaders)
        );
    }

    #[test]
    fn error_reasons_are_single_line() {
        for e in [
            CpimError::Empty,
            CpimError::NotUtf8 { line: 3 },
            CpimError::MalformedHeader { line: 1 },
            CpimError::FoldedHeader { line: 2 },
            CpimError::MissingSeparator,
            CpimError::TooManyHeaders,
        ] {
            let s = e.to_string();
            assert!(!s.is_empty() && !s.contains(['\r', '\n']), "{s}");
        }
    }

    #[test]
    fn lang_parameter_skipped() {
        let c = parse(b"Subject:;lang=fr beau temps\r\n\r\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.header("Subject"), Some("beau temps"));
    }

    #[test]
    fn header_is_case_insensitive_and_first_wins() {
        let c = parse(b"To: <im:b@x>\r\nto: <im:c@x>\r\n\r\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.header("TO"), Some("<im:b@x>"));
        assert_eq!(c.ns_headers(CPIM_NAMESPACE, "To").count(), 2);
    }

    #[test]
    fn header_ignores_prefixed() {
        let c = parse(b"NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: 1\r\n\r\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.header("Message-ID"), None);
        assert_eq!(c.header("imdn.Message-ID"), None);
        assert_eq!(c.message_id(), Some("1"));
    }

    #[test]
    fn undeclared_prefix_resolves_nowhere() {
        let c = parse(b"imdn.Message-ID: 1\r\n\r\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.message_id(), None);
    }

    #[test]
    fn prefix_declared_late_is_tolerated() {
        let c = parse(b"imdn.Message-ID: 1\r\nNS: imdn <urn:ietf:params:imdn>\r\n\r\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.message_id(), Some("1"));
    }

    #[test]
    fn default_namespace_rebinding() {
        let c = parse(b"From: <im:a@x>\r\nNS: <urn:ietf:params:imdn>\r\nMessage-ID: 7\r\n\r\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.from(), Some("<im:a@x>"));
        assert_eq!(c.header("Message-ID"), None);
        assert_eq!(c.message_id(), Some("7"));
    }

    #[test]
    fn address_uri_forms() {
        assert_eq!(
            address_uri("Alice <im:alice@example.com>"),
            Some("im:alice@example.com")
        );
        assert_eq!(
            address_uri("<im:tigger@100akerwood.com>"),
            Some("im:tigger@100akerwood.com")
        );
        assert_eq!(address_uri("\"A <b>\" <sip:a@x>"), Some("sip:a@x"));
        assert_eq!(address_uri("\"A \\\" <b>\" <sip:a@x>"), Some("sip:a@x"));
        assert_eq!(address_uri(" sip:a@x "), Some("sip:a@x"));
        assert_eq!(address_uri("Alice"), None);
        assert_eq!(address_uri("Alice <>"), None);
        assert_eq!(address_uri("Alice <sip:a@x"), None);
        assert_eq!(address_uri(""), None);
        assert_eq!(address_uri("é <sip:é@x>"), Some("sip:é@x"));
    }

    #[test]
    fn media_types() {
        assert!(is_cpim("message/cpim"));
        assert!(is_cpim("Message/CPIM ; charset=utf-8"));
        assert!(!is_cpim("message/cpimx"));
        assert!(!is_cpim("text/plain"));
    }
}
