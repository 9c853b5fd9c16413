//! Header names and the typed header values of RFC 4975 §9 and RFC 4976 §7:
//! Byte-Range, Success-Report, Failure-Report, Status, the Expires family, and
//! a small parser for the HTTP Digest parameters of WWW-Authenticate,
//! Authorization and Authentication-Info.

use std::fmt;

use crate::error::{ParseError, Result};

/// Header names as this crate writes them. Lookups ignore case (ABNF quoted
/// strings are case-insensitive, RFC 4234 §2.3).
pub mod names {
    /// RFC 4975 §9.
    pub const TO_PATH: &str = "To-Path";
    /// RFC 4975 §9.
    pub const FROM_PATH: &str = "From-Path";
    /// RFC 4975 §9.
    pub const MESSAGE_ID: &str = "Message-ID";
    /// RFC 4975 §9.
    pub const SUCCESS_REPORT: &str = "Success-Report";
    /// RFC 4975 §9.
    pub const FAILURE_REPORT: &str = "Failure-Report";
    /// RFC 4975 §9.
    pub const BYTE_RANGE: &str = "Byte-Range";
    /// RFC 4975 §9.
    pub const STATUS: &str = "Status";
    /// RFC 4975 §9 (`content-stuff`).
    pub const CONTENT_TYPE: &str = "Content-Type";
    /// RFC 4976 §7.
    pub const USE_PATH: &str = "Use-Path";
    /// RFC 4976 §7.
    pub const EXPIRES: &str = "Expires";
    /// RFC 4976 §7.
    pub const MIN_EXPIRES: &str = "Min-Expires";
    /// RFC 4976 §7.
    pub const MAX_EXPIRES: &str = "Max-Expires";
    /// RFC 4976 §7.
    pub const WWW_AUTHENTICATE: &str = "WWW-Authenticate";
    /// RFC 4976 §7.
    pub const AUTHORIZATION: &str = "Authorization";
    /// RFC 4976 §7.
    pub const AUTHENTICATION_INFO: &str = "Authentication-Info";
}

/// `token` of RFC 4975 §9.
pub(crate) fn is_token_char(c: u8) -> bool {
    matches!(c, 0x21 | 0x23..=0x27 | 0x2A..=0x2B | 0x2D..=0x2E | 0x30..=0x39 | 0x41..=0x5A | 0x5E..=0x7E)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// `hname = ALPHA *token` (RFC 4975 §9).
pub(crate) fn is_header_name(s: &[u8]) -> bool {
    s.first().is_some_and(u8::is_ascii_alphabetic) && s[1..].iter().all(|&c| is_token_char(c))
}

/// `utf8text = *(HTAB / %x20-7E / UTF8-NONASCII)` (RFC 4975 §9), given the
/// text is already known to be UTF-8: no control characters but HTAB.
pub(crate) fn is_utf8text(s: &str) -> bool {
    s.bytes().all(|c| c == b'\t' || c >= 0x20) && !s.contains('\u{7f}')
}

/// `1*DIGIT` as a number; `None` when empty, not digits, or too large for u64.
pub(crate) fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// A Byte-Range value (RFC 4975 §7.1.1, §9): `range-start "-" range-end "/" total`,
/// positions counted from 1, `*` for an unknown end or total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// Position of the first byte of the body in the message (1 for the first chunk).
    pub start: u64,
    /// Position of the last byte, or `None` for `*` (unknown, or interruptible chunk).
    pub end: Option<u64>,
    /// Size of the whole message, or `None` for `*`.
    pub total: Option<u64>,
}

impl ByteRange {
    /// `start-end/total`.
    pub fn new(start: u64, end: Option<u64>, total: Option<u64>) -> Self {
        ByteRange { start, end, total }
    }

    /// The range a chunk of `len` bytes starting at `start` covers:
    /// `start-(start+len-1)/total` (`1-0/0` for an empty message, §7.1.1).
    pub fn covering(start: u64, len: u64, total: Option<u64>) -> Self {
        ByteRange {
            start,
            end: Some((start + len).saturating_sub(1)),
            total,
        }
    }

    /// Parses `range-start "-" range-end "/" total`.
    pub fn parse(s: &str) -> Result<ByteRange> {
        let bad = || ParseError::header("Bad Byte-Range");
        let (start, rest) = s.trim().split_once('-').ok_or_else(bad)?;
        let (end, total) = rest.split_once('/').ok_or_else(bad)?;
        let start = parse_digits(start).ok_or_else(bad)?;
        let star_or = |t: &str| -> Result<Option<u64>> {
            if t == "*" {
                Ok(None)
            } else {
                parse_digits(t).map(Some).ok_or_else(bad)
            }
        };
        let end = star_or(end)?;
        let total = star_or(total)?;
        // §7.1.1: the first octet is position 1; an empty body is `1-0/0`.
        if start == 0 {
            return Err(ParseError::header("Bad Byte-Range: range-start is 0"));
        }
        if let Some(e) = end {
            if e + 1 < start {
                return Err(ParseError::header(
                    "Bad Byte-Range: range-end before range-start",
                ));
            }
            if total.is_some_and(|t| e > t) {
                return Err(ParseError::header("Bad Byte-Range: range-end past total"));
            }
        }
        Ok(ByteRange { start, end, total })
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-", self.start)?;
        match self.end {
            Some(e) => write!(f, "{e}/")?,
            None => f.write_str("*/")?,
        }
        match self.total {
            Some(t) => write!(f, "{t}"),
            None => f.write_str("*"),
        }
    }
}

/// Success-Report (RFC 4975 §7.1.1): absent means `no`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SuccessReport {
    /// `yes`: the receiver sends success REPORTs (§7.1.3).
    Yes,
    /// `no` (the default).
    #[default]
    No,
}

impl SuccessReport {
    /// Parses `"yes" / "no"` (without case).
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("yes") {
            Ok(SuccessReport::Yes)
        } else if s.eq_ignore_ascii_case("no") {
            Ok(SuccessReport::No)
        } else {
            Err(ParseError::header("Bad Success-Report"))
        }
    }

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            SuccessReport::Yes => "yes",
            SuccessReport::No => "no",
        }
    }
}

/// Failure-Report (RFC 4975 §5.3, §7.1.1): absent means `yes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FailureReport {
    /// `yes` (the default): responses to every request, failure REPORTs.
    #[default]
    Yes,
    /// `no`: no responses, no failure REPORTs (§7.1.4).
    No,
    /// `partial`: no 200 responses, but error responses and REPORTs (§7.1.4).
    Partial,
}

impl FailureReport {
    /// Parses `"yes" / "no" / "partial"` (without case).
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("yes") {
            Ok(FailureReport::Yes)
        } else if s.eq_ignore_ascii_case("no") {
            Ok(FailureReport::No)
        } else if s.eq_ignore_ascii_case("partial") {
            Ok(FailureReport::Partial)
        } else {
            Err(ParseError::header("Bad Failure-Report"))
        }
    }

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReport::Yes => "yes",
            FailureReport::No => "no",
            FailureReport::Partial => "partial",
        }
    }
}

/// The Status header of a REPORT (RFC 4975 §7.1.2, §9):
/// `namespace SP status-code [SP comment]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusHeader {
    /// Three digits; 0 (`000`) means the codes of RFC 4975 §10 (§7.1.3).
    pub namespace: u16,
    /// The status code, read like a transaction response's (§7.3.2).
    pub code: u16,
    /// Free text.
    pub comment: Option<String>,
}

impl StatusHeader {
    /// Namespace `000` with `code` and its reason phrase (if any) as the comment.
    pub fn new(code: u16) -> Self {
        StatusHeader {
            namespace: 0,
            code,
            comment: crate::status::reason_phrase(code).map(str::to_owned),
        }
    }

    /// Parses `3DIGIT SP 3DIGIT [SP comment]`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || ParseError::header("Bad Status");
        let three = |t: &str| -> Option<u16> {
            (t.len() == 3).then_some(())?;
            parse_digits(t).and_then(|n| u16::try_from(n).ok())
        };
        let (ns, rest) = s.split_once(' ').ok_or_else(bad)?;
        let (code, comment) = match rest.split_once(' ') {
            Some((c, comment)) => (c, Some(comment)),
            None => (rest, None),
        };
        let namespace = three(ns).ok_or_else(bad)?;
        let code = three(code).ok_or_else(bad)?;
        if comment.is_some_and(|c| !is_utf8text(c)) {
            return Err(bad());
        }
        Ok(StatusHeader {
            namespace,
            code,
            comment: comment.map(str::to_owned),
        })
    }
}

impl fmt::Display for StatusHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03} {:03}", self.namespace, self.code)?;
        if let Some(c) = &self.comment {
            write!(f, " {c}")?;
        }
        Ok(())
    }
}

/// One `name=value` of a Digest header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DigestParam {
    /// The parameter name as written.
    pub name: String,
    /// The value, unquoted and unescaped.
    pub value: String,
    /// Whether it was (or is to be written) a quoted-string. RFC 4976 §9.1: `qop`
    /// is quoted in WWW-Authenticate, bare in Authorization and Authentication-Info.
    pub quoted: bool,
}

/// The parameters of a WWW-Authenticate, Authorization or Authentication-Info
/// value (RFC 4976 §7, RFC 2617 §3.2): an optional scheme (`Digest`) followed by
/// comma-separated `name=token` or `name="quoted string"` pairs.
///
/// This only splits the text; computing and checking digests is for the
/// caller (e.g. the `sip-auth` crate), with RFC 4976 §9.1's rule that the
/// request-URI is the rightmost URI of the To-Path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DigestParams {
    /// `Digest` for challenges and credentials; `None` for Authentication-Info.
    pub scheme: Option<String>,
    /// The parameters in order.
    pub params: Vec<DigestParam>,
}

impl DigestParams {
    /// An empty list with `scheme`.
    pub fn new(scheme: Option<&str>) -> Self {
        DigestParams {
            scheme: scheme.map(str::to_owned),
            params: Vec::new(),
        }
    }

    /// Appends `name="value"`.
    pub fn quoted(mut self, name: &str, value: &str) -> Self {
        self.params.push(DigestParam {
            name: name.to_owned(),
            value: value.to_owned(),
            quoted: true,
        });
        self
    }

    /// Appends `name=value` (value must be a token).
    pub fn token(mut self, name: &str, value: &str) -> Self {
        self.params.push(DigestParam {
            name: name.to_owned(),
            value: value.to_owned(),
            quoted: false,
        });
        self
    }

    /// The value of the first parameter called `name` (without case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }

    /// Parses `[scheme 1*SP] name=value *("," name=value)`; whitespace around
    /// commas and `=` is tolerated.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |why: &'static str| ParseError::header(why);
        let b = s.as_bytes();
        let mut i = 0;
        let skip_ws = |i: &mut usize| {
            while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t') {
                *i += 1;
            }
        };
        let read_token = |i: &mut usize| -> &str {
            let start = *i;
            while *i < b.len() && is_token_char(b[*i]) && b[*i] != b'=' && b[*i] != b',' {
                *i += 1;
            }
            &s[start..*i]
        };
        skip_ws(&mut i);
        let mut out = DigestParams::default();
        // A scheme is a token followed by whitespace rather than `=`.
        let save = i;
        let first = read_token(&mut i);
        let mut j = i;
        skip_ws(&mut j);
        if !first.is_empty() && j > i && j < b.len() && b[j] != b'=' {
            out.scheme = Some(first.to_owned());
            i = j;
        } else {
            i = save;
        }
        loop {
            skip_ws(&mut i);
            if i >= b.len() {
                break;
            }
            let name = read_token(&mut i);
            if name.is_empty() {
                return Err(bad("Bad Digest parameter"));
            }
            skip_ws(&mut i);
            if b.get(i) != Some(&b'=') {
                return Err(bad("Bad Digest parameter: no value"));
            }
            i += 1;
            skip_ws(&mut i);
            let (value, quoted) = if b.get(i) == Some(&b'"') {
                i += 1;
                let mut v = String::new();
                let mut run = i;
                loop {
                    match b.get(i) {
                        None => {
                            return Err(bad("Bad Digest parameter: unterminated quoted string"));
                        }
                        Some(b'"') => {
                            v.push_str(&s[run..i]);
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            v.push_str(&s[run..i]);
                            let Some(&c) = b.get(i + 1) else {
                                return Err(bad(
                                    "Bad Digest parameter: unterminated quoted string",
                                ));
                            };
                            if !c.is_ascii() {
                                return Err(bad("Bad Digest parameter: bad escape"));
                            }
                            v.push(char::from(c));
                            i += 2;
                            run = i;
                        }
                        Some(_) => i += 1,
                    }
                }
                (v, true)
            } else {
                let v = read_token(&mut i);
                if v.is_empty() {
                    return Err(bad("Bad Digest parameter: empty value"));
                }
                (v.to_owned(), false)
            };
            out.params.push(DigestParam {
                name: name.to_owned(),
                value,
                quoted,
            });
            skip_ws(&mut i);
            match b.get(i) {
                None => break,
                Some(b',') => i += 1,
                Some(_) => return Err(bad("Bad Digest parameter list")),
            }
        }
        if out.params.is_empty() {
            return Err(bad("Empty Digest parameter list"));
        }
        Ok(out)
    }
}

impl fmt::Display for DigestParams {
    /// `Digest name="value", name=token, ...` (RFC 4976 §7 spacing).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.scheme {
            write!(f, "{s} ")?;
        }
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if p.quoted || !is_token(&p.value) {
                write!(f, "{}=\"", p.name)?;
                for c in p.value.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")?;
            } else {
                write!(f, "{}={}", p.name, p.value)?;
            }
        }
        Ok(())
    }
}

/// Checks `media-type = type "/" subtype *( ";" gen-param )` (RFC 4975 §9),
/// loosely: a token, `/`, a token, then anything.
pub(crate) fn check_media_type(s: &str) -> Result<()> {
    let bad = || ParseError::header("Bad Content-Type");
    let main = s.split(';').next().unwrap_or("");
    let (t, sub) = main.trim().split_once('/').ok_or_else(bad)?;
    if is_token(t) && is_token(sub) {
        Ok(())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_range() {
        let r = ByteRange::parse("1-25/25").unwrap();
        assert_eq!(r, ByteRange::new(1, Some(25), Some(25)));
        assert_eq!(ByteRange::parse("1-*/8").unwrap().end, None);
        assert_eq!(ByteRange::parse("1-*/*").unwrap().total, None);
        assert_eq!(ByteRange::parse("1-0/0").unwrap().to_string(), "1-0/0");
        for s in ["1-*/*", "138-148/148", "5-8/8", "1-0/0"] {
            assert_eq!(ByteRange::parse(s).unwrap().to_string(), s);
        }
        for bad in [
            "",
            "1-2",
            "0-1/2",
            "5-3/9",
            "1-9/8",
            "a-1/2",
            "1-/2",
            "-1-2/3",
            "1-2/x",
            "99999999999999999999-1/*",
        ] {
            assert!(ByteRange::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ByteRange::covering(1, 0, Some(0)).to_string(), "1-0/0");
        assert_eq!(ByteRange::covering(5, 4, Some(8)).to_string(), "5-8/8");
    }

    #[test]
    fn reports() {
        assert_eq!(SuccessReport::parse("YES").unwrap(), SuccessReport::Yes);
        assert_eq!(SuccessReport::default(), SuccessReport::No);
        assert!(SuccessReport::parse("partial").is_err());
        assert_eq!(
            FailureReport::parse("partial").unwrap(),
            FailureReport::Partial
        );
        assert_eq!(FailureReport::default(), FailureReport::Yes);
        assert!(FailureReport::parse("maybe").is_err());
    }

    #[test]
    fn status_header() {
        let s = StatusHeader::parse("000 200 OK").unwrap();
        assert_eq!(
            (s.namespace, s.code, s.comment.as_deref()),
            (0, 200, Some("OK"))
        );
        assert_eq!(s.to_string(), "000 200 OK");
        assert_eq!(StatusHeader::parse("000 408").unwrap().comment, None);
        assert_eq!(
            StatusHeader::new(413).to_string(),
            "000 413 Message Too Large"
        );
        for bad in ["200", "00 200", "000 20", "000 2000 x", "abc 200"] {
            assert!(StatusHeader::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digest_params() {
        let w = DigestParams::parse(
            r#"Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#,
        )
        .unwrap();
        assert_eq!(w.scheme.as_deref(), Some("Digest"));
        assert_eq!(w.get("realm"), Some("intra.example.com"));
        assert_eq!(w.get("QOP"), Some("auth"));
        assert_eq!(w.get("nonce"), Some("dcd98b7102dd2f0e8b11d0f600bfb0c093"));
        assert_eq!(
            w.to_string(),
            r#"Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#
        );

        let info = DigestParams::parse(
            r#"nextnonce="40f2e879449675f288476d772627370a",rspauth="7327570c586207eca2afae94fc20903d", cnonce="0a4f113b", nc=00000001, qop=auth"#,
        )
        .unwrap();
        assert_eq!(info.scheme, None);
        assert_eq!(info.get("nc"), Some("00000001"));
        assert_eq!(info.get("qop"), Some("auth"));
        assert!(!info.params[4].quoted);

        let esc = DigestParams::parse(r#"Digest realm="a\"b\\c""#).unwrap();
        assert_eq!(esc.get("realm"), Some("a\"b\\c"));
        assert_eq!(esc.to_string(), r#"Digest realm="a\"b\\c""#);

        for bad in [
            "",
            "Digest",
            r#"Digest realm="x"#,
            "Digest realm",
            "Digest a=b c=d",
            "Digest realm=\"x\" junk",
        ] {
            assert!(DigestParams::parse(bad).is_err(), "{bad:?}");
        }
        let built = DigestParams::new(Some("Digest"))
            .quoted("realm", "r")
            .token("qop", "auth");
        assert_eq!(built.to_string(), r#"Digest realm="r", qop=auth"#);
    }

    #[test]
    fn media_type_and_names() {
        assert!(check_media_type("text/plain").is_ok());
        assert!(check_media_type("text/plain;charset=utf-8").is_ok());
        assert!(check_media_type("message/cpim").is_ok());
        assert!(check_media_type("text").is_err());
        assert!(check_media_type("text/").is_err());
        assert!(is_header_name(b"To-Path"));
        assert!(!is_header_name(b"1abc"));
        assert!(!is_header_name(b"To Path"));
        assert!(is_utf8text("héllo\tworld"));
        assert!(!is_utf8text("a\rb"));
    }
}
