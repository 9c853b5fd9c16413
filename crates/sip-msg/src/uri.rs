//! URIs: `sip`/`sips` (RFC 3261 §19.1), `tel` (RFC 3966), `pres` (RFC 3859) and
//! `im` (RFC 3860), plus any other absolute URI kept as text. Zero-copy: every
//! part borrows from the text it was parsed from. Comparison per RFC 3261 §19.1.4.
//!
//! # Grammar decisions
//! The parsers follow the RFC grammars (RFC 3261 §25.1, RFC 3966 §3, RFC 3859
//! Appendix A, RFC 3986 §3.1) with these deliberate choices:
//!
//! - **No whitespace, control or non-ASCII characters** anywhere in a URI
//!   (RFC 3261 §19.1.2: they MUST be escaped).
//! - **Host names** are RFC 3261 `hostname` read leniently: labels are
//!   non-empty runs of alphanumerics, `-` and `_` (`_` and edge hyphens are
//!   seen in the wild, and DNS itself allows them, RFC 2181 §11), with an
//!   optional trailing dot. The top label must start with a letter, so a name
//!   of digits and dots only must be a dotted quad: `999.1.1.1` and `1.2.3` are
//!   rejected, not read as host names.
//! - **IPv4**: exactly four dot-separated groups of 1-3 digits, each ≤ 255
//!   (leading zeros are decimal, as the RFC 3261 grammar allows them).
//! - **IPv6** only as a reference in brackets, parsed by [`Ipv6Addr`]; zone ids
//!   are rejected. `[2001:db8:::192.0.2.1]` (the RFC 3261 ABNF bug) is
//!   tolerated as `[2001:db8::192.0.2.1]` (RFC 5118 §4.10). An unbracketed
//!   IPv6 address is rejected with a reason naming the brackets (RFC 5118 §4.2),
//!   except in a Via `received` parameter ([`Host::parse_received`]).
//! - **URI parameters** are checked against `paramchar`; `ttl`, `maddr`,
//!   `transport`, `method` and `user` values are checked against their own
//!   rules. `lr=on` (an RFC 2543bis leftover) is accepted. A repeated
//!   parameter name (a sender's MUST NOT, §19.1.1) is accepted; comparison uses
//!   the first occurrence.
//! - **`tel`**: a local number without `phone-context` is rejected (RFC 3966
//!   §5.1.5); parameter order (a sender's rule, §3) is not enforced.
//! - **`pres`/`im`**: the domain is required (the address is optional in the
//!   RFC 3859 grammar, but an address-less URI names nothing we can route).
//!   The local part may be a dot-atom (with `%HH` escapes) or a quoted string.
//! - **Other schemes**: RFC 3986 characters only, `%` followed by two hex digits.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{ParseError, Result};
use crate::name::HeaderName;
use crate::scan::{Params, find_byte, is_token, is_uri_param_char};

/// A host: a domain name, an IPv4 address or an IPv6 reference (`[...]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A domain name as written (compare case-insensitively).
    Name(&'a str),
    /// A dotted IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 reference; the address without brackets.
    V6(Ipv6Addr),
}

impl<'a> Host<'a> {
    /// Parses a host: hostname, IPv4address or IPv6reference (RFC 3261 §25.1).
    /// An IPv6 address must be in brackets (RFC 5118 §4.2).
    pub fn parse(s: &'a str) -> Result<Self> {
        if s.is_empty() {
            return Err(ParseError::uri("Empty host"));
        }
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| ParseError::uri("Unterminated IPv6 reference"))?;
            return parse_ipv6(inner).map(Host::V6);
        }
        // A ':' (an unbracketed IPv6 address) is reported by
        // `parse_name_or_v4` before any other bad character.
        parse_name_or_v4(s)
    }

    /// Parses a Via `received` value (RFC 3261 §20.42: `IPv4address /
    /// IPv6address`): like [`Host::parse`], and also a bare IPv6 address.
    /// RFC 5118 §4.5 asks receivers to accept `received` with or without
    /// brackets; host names are tolerated too.
    pub fn parse_received(s: &'a str) -> Result<Self> {
        if !s.starts_with('[') && s.contains(':') {
            return parse_ipv6(s).map(Host::V6);
        }
        Host::parse(s)
    }

    /// Host comparison (RFC 3261 §19.1.4): names case-insensitively, addresses
    /// by value. A name never equals an address, even the one it resolves to.
    pub fn eq_host(&self, other: &Host<'_>) -> bool {
        match (self, other) {
            (Host::Name(a), Host::Name(b)) => a.eq_ignore_ascii_case(b),
            (Host::V4(a), Host::V4(b)) => a == b,
            (Host::V6(a), Host::V6(b)) => a == b,
            _ => false,
        }
    }

    /// Is this an IP address rather than a name?
    pub fn is_ip(&self) -> bool {
        !matches!(self, Host::Name(_))
    }
}

impl fmt::Display for Host<'_> {
    /// The host as it goes into a URI or a Via: IPv6 in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// Any URI this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Uri<'a> {
    /// `sip:` or `sips:`.
    Sip(SipUri<'a>),
    /// `tel:`.
    Tel(TelUri<'a>),
    /// `pres:` (RFC 3859).
    Pres(ImUri<'a>),
    /// `im:` (RFC 3860).
    Im(ImUri<'a>),
    /// Any other `scheme:rest` absolute URI (RFC 3986), kept as text.
    Other(AbsoluteUri<'a>),
}

/// A `sip:` or `sips:` URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipUri<'a> {
    /// The whole URI as written.
    pub raw: &'a str,
    /// `sips:` rather than `sip:`.
    pub secure: bool,
    /// The user part, still escaped.
    pub user: Option<&'a str>,
    /// The password, still escaped.
    pub password: Option<&'a str>,
    /// The host.
    pub host: Host<'a>,
    /// The port, when written.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp;lr`).
    pub params: Params<'a>,
    /// The header part after `?`, without the `?`, still escaped.
    pub headers: Option<&'a str>,
}

/// A `tel:` URI (RFC 3966).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelUri<'a> {
    /// The whole URI as written.
    pub raw: &'a str,
    /// The number with its visual separators, `+` included for a global number.
    pub number: &'a str,
    /// A global number (`+...`); a local one needs `phone-context`.
    pub global: bool,
    /// Parameters (`;phone-context=...;ext=...`).
    pub params: Params<'a>,
}

/// A `pres:` or `im:` URI (RFC 3859 / RFC 3860): `scheme:[user@]domain[?headers]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImUri<'a> {
    /// The whole URI as written.
    pub raw: &'a str,
    /// The local part, still escaped.
    pub user: Option<&'a str>,
    /// The domain.
    pub domain: &'a str,
    /// The header part after `?`, without the `?`.
    pub headers: Option<&'a str>,
}

/// An absolute URI of a scheme this crate does not model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsoluteUri<'a> {
    /// The whole URI as written.
    pub raw: &'a str,
    /// The scheme (before the first `:`).
    pub scheme: &'a str,
}

impl<'a> Uri<'a> {
    /// Parses any absolute URI: `sip`/`sips`, `tel`, `pres` and `im` by their
    /// grammars (schemes case-insensitively), any other scheme as RFC 3986
    /// text. Errors are [`ErrorKind::Uri`](crate::ErrorKind::Uri) (answered
    /// 400) with a reason naming the fault, e.g. `Bad escape in user part`.
    pub fn parse(s: &'a str) -> Result<Self> {
        if s.is_empty() {
            return Err(ParseError::uri("Empty URI"));
        }
        // Fast path for `sip:`/`sips:` (RFC 3261 §19.1.1): the scheme is known
        // from the first bytes, and the character pre-pass is skipped because a
        // SIP URI that parses has had every byte checked against a grammar
        // class, none of which admits SP, controls or non-ASCII. A failed
        // parse re-runs the pre-pass so that its reasons keep precedence.
        let b = s.as_bytes();
        let secure = match b {
            [s0, i, p, b':', ..] if [*s0, *i, *p].eq_ignore_ascii_case(b"sip") => Some(false),
            [s0, i, p, s1, b':', ..] if [*s0, *i, *p, *s1].eq_ignore_ascii_case(b"sips") => {
                Some(true)
            }
            _ => None,
        };
        if let Some(secure) = secure {
            let rest = &s[if secure { 5 } else { 4 }..];
            return match parse_sip(s, secure, rest) {
                Ok(u) => Ok(Uri::Sip(u)),
                Err(e) => Err(check_uri_chars(s).err().unwrap_or(e)),
            };
        }
        check_uri_chars(s)?;
        let colon = find_byte(s, b':').ok_or_else(|| ParseError::uri("Missing scheme in URI"))?;
        let scheme = &s[..colon];
        // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        let sb = scheme.as_bytes();
        if sb.is_empty()
            || !sb[0].is_ascii_alphabetic()
            || !sb
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        {
            return Err(ParseError::uri("Bad URI scheme"));
        }
        let rest = &s[colon + 1..];
        if scheme.eq_ignore_ascii_case("sip") {
            parse_sip(s, false, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            parse_sip(s, true, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            parse_tel(s, rest).map(Uri::Tel)
        } else if scheme.eq_ignore_ascii_case("pres") {
            parse_im(s, rest, "pres").map(Uri::Pres)
        } else if scheme.eq_ignore_ascii_case("im") {
            parse_im(s, rest, "im").map(Uri::Im)
        } else {
            // RFC 3986 §3: hier-part / opaque text; here only its characters
            // are checked (RFC 3986 §2).
            if rest.is_empty() {
                return Err(ParseError::uri("Empty URI after scheme"));
            }
            check_component(rest, is_rfc3986_char, "URI")?;
            Ok(Uri::Other(AbsoluteUri { raw: s, scheme }))
        }
    }

    /// The URI as written.
    pub fn as_str(&self) -> &'a str {
        match self {
            Uri::Sip(u) => u.raw,
            Uri::Tel(u) => u.raw,
            Uri::Pres(u) | Uri::Im(u) => u.raw,
            Uri::Other(u) => u.raw,
        }
    }

    /// The scheme as written (`sip`, `SIPS`, `tel`, ...).
    pub fn scheme(&self) -> &'a str {
        let s = self.as_str();
        &s[..find_byte(s, b':').unwrap_or(0)]
    }

    /// The `sip`/`sips` URI, if it is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// RFC 3261 §19.1.4 equivalence (and scheme-appropriate rules for the others):
    ///
    /// - `sip`/`sips`: see [`SipUri::equivalent`].
    /// - `tel`: RFC 3966 §4 — same kind (global/local), the same digits once
    ///   visual separators are removed, the same set of parameters with
    ///   matching values (`phone-context` as a host name or as digits, `ext`
    ///   without separators), all case-insensitive.
    /// - `pres`/`im`: the local part case-sensitively (after resolving escapes
    ///   of unreserved characters), the domain case-insensitively, headers as
    ///   for `sip`.
    /// - others: scheme case-insensitively, the rest exactly.
    ///
    /// URIs of different schemes are never equivalent.
    pub fn equivalent(&self, other: &Uri<'_>) -> bool {
        match (self, other) {
            (Uri::Sip(a), Uri::Sip(b)) => a.equivalent(b),
            (Uri::Tel(a), Uri::Tel(b)) => tel_equivalent(a, b),
            (Uri::Pres(a), Uri::Pres(b)) | (Uri::Im(a), Uri::Im(b)) => im_equivalent(a, b),
            (Uri::Other(a), Uri::Other(b)) => {
                a.scheme.eq_ignore_ascii_case(b.scheme)
                    && a.raw[a.scheme.len()..] == b.raw[b.scheme.len()..]
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'a> SipUri<'a> {
    /// The `transport` parameter (RFC 3261 §19.1.1), as written.
    pub fn transport(&self) -> Option<&'a str> {
        self.params.value("transport")
    }

    /// The `user` parameter (`phone`, `ip`, ...), as written.
    pub fn user_param(&self) -> Option<&'a str> {
        self.params.value("user")
    }

    /// The `maddr` parameter, already checked to be a host when parsing.
    pub fn maddr(&self) -> Option<Host<'a>> {
        self.params.value("maddr").and_then(|v| Host::parse(v).ok())
    }

    /// The `ttl` parameter (0-255).
    pub fn ttl(&self) -> Option<u8> {
        self.params.value("ttl").and_then(|v| v.parse().ok())
    }

    /// The `method` parameter, as written.
    pub fn method_param(&self) -> Option<&'a str> {
        self.params.value("method")
    }

    /// Does the URI carry `lr` (RFC 3261 §19.1.1: a loose router, §16.12)?
    pub fn is_loose_router(&self) -> bool {
        self.params.contains("lr")
    }

    /// The port a request goes to when none is written and DNS says nothing
    /// else (RFC 3261 §19.1.2 Table 1 note 1): 5061 for `sips:` and for
    /// `transport=tls`, 5060 otherwise.
    pub fn default_port(&self) -> u16 {
        if self.secure
            || self
                .transport()
                .is_some_and(|t| t.eq_ignore_ascii_case("tls"))
        {
            5061
        } else {
            5060
        }
    }

    /// The written port, else [`SipUri::default_port`].
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or_else(|| self.default_port())
    }

    /// The user part with `%HH` escapes resolved (see [`unescape`]).
    pub fn user_unescaped(&self) -> Option<Cow<'a, str>> {
        self.user.map(unescape)
    }

    /// The headers after `?` as `(hname, hvalue)` pairs, still escaped.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        header_pairs(self.headers)
    }

    /// RFC 3261 §19.1.4 equivalence:
    ///
    /// - `sip` and `sips` never match.
    /// - user and password compare case-sensitively, present in both or absent
    ///   in both; everything else case-insensitively.
    /// - `%HH` equals the character it encodes unless that character is
    ///   reserved (RFC 2396 §2.2): `%61lice` = `alice`, `a%3Bb` ≠ `a;b`.
    /// - host names case-insensitively, IP addresses by value; a name never
    ///   equals an address.
    /// - ports must match: no port ≠ `:5060`.
    /// - `user`, `ttl`, `method`, `maddr` and `transport` must match when present
    ///   in either URI; other parameters only when present in both.
    /// - headers must all be present in both, in any order; names compare
    ///   case-insensitively (compact forms resolved), values case-sensitively.
    pub fn equivalent(&self, other: &SipUri<'_>) -> bool {
        self.secure == other.secure
            && opt_match(self.user, other.user, same_escaped)
            && opt_match(self.password, other.password, same_escaped)
            && self.host.eq_host(&other.host)
            && self.port == other.port
            && sip_params_match(&self.params, &other.params)
            && header_keys(self.headers) == header_keys(other.headers)
    }
}

impl<'a> ImUri<'a> {
    /// The headers after `?` as `(hname, hvalue)` pairs, still escaped.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        header_pairs(self.headers)
    }
}

/// Parses `host [":" port]` (a Via `sent-by`, or the host part of a SIP URI).
pub fn parse_hostport(s: &str) -> Result<(Host<'_>, Option<u16>)> {
    let (host, rest) = if s.starts_with('[') {
        let close =
            find_byte(s, b']').ok_or_else(|| ParseError::uri("Unterminated IPv6 reference"))?;
        (&s[..=close], &s[close + 1..])
    } else {
        // Common case in one pass: the host scan stops at the port's ':' (or
        // the end); anything unusual takes the general path below, which
        // reports errors in their usual order.
        let (scan, stop) = scan_host(s.as_bytes());
        if stop > 0 {
            let tail = &s[stop..];
            if tail.is_empty() {
                return Ok((host_from_scan(s, &scan)?, None));
            }
            if let Some(p) = tail.strip_prefix(':')
                && find_byte(p, b':').is_none()
            {
                let host = host_from_scan(&s[..stop], &scan)?;
                return Ok((host, Some(parse_port(p)?)));
            }
        }
        match find_byte(s, b':') {
            Some(i) => {
                if find_byte(&s[i + 1..], b':').is_some() {
                    // `sip:2001:db8::10` (RFC 5118 §4.2).
                    return Err(unbracketed_v6());
                }
                (&s[..i], &s[i..])
            }
            None => (s, ""),
        }
    };
    let host = Host::parse(host)?;
    let port = if rest.is_empty() {
        None
    } else {
        let p = rest
            .strip_prefix(':')
            .ok_or_else(|| ParseError::uri("Bad character after host"))?;
        Some(parse_port(p)?)
    };
    Ok((host, port))
}

/// Resolves `%HH` escapes (RFC 3261 §19.1.2); invalid escapes are kept as written.
///
/// Returns the input itself (borrowed) when it has no escapes, or when the
/// resolved bytes are not valid UTF-8 (`%FF`): such a value is only meaningful
/// escaped, so it is kept as written.
pub fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex_val),
                b.get(i + 2).copied().and_then(hex_val),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(s),
    }
}

// ----- character classes (RFC 3261 §25.1 unless noted) ------------------------
//
// One 256-entry table of class bits, built at compile time (like the `token`
// table in `scan.rs`): each class test is a load and a mask instead of a chain
// of range comparisons.

/// `alphanum`.
const C_ALNUM: u16 = 1 << 0;
/// `mark`.
const C_MARK: u16 = 1 << 1;
/// `reserved` (RFC 2396 §2.2).
const C_RESERVED: u16 = 1 << 2;
/// `user-unreserved`.
const C_USER_UNRES: u16 = 1 << 3;
/// `password` extras: `& = + $ ,`.
const C_PASS_EXTRA: u16 = 1 << 4;
/// `hnv-unreserved` (the `hname`/`hvalue` extras).
const C_HNV_EXTRA: u16 = 1 << 5;
/// RFC 2822 §3.2.4 `atext` (without `%`).
const C_ATEXT: u16 = 1 << 6;
/// RFC 3986 §2 characters (without `%`).
const C_RFC3986: u16 = 1 << 7;
/// `param-unreserved`: `[ ] / : & + $` (with `unreserved`, a `paramchar`).
const C_PARAM_EXTRA: u16 = 1 << 8;
/// Printable ASCII other than SP: allowed unescaped somewhere in a URI
/// (RFC 3261 §19.1.2).
const C_VISIBLE: u16 = 1 << 9;

const fn class_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut m = 0;
        if c.is_ascii_alphanumeric() {
            m |= C_ALNUM | C_ATEXT | C_RFC3986;
        }
        if matches!(
            c,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        ) {
            m |= C_MARK;
        }
        if matches!(
            c,
            b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b','
        ) {
            m |= C_RESERVED;
        }
        if matches!(c, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/') {
            m |= C_USER_UNRES;
        }
        if matches!(c, b'&' | b'=' | b'+' | b'$' | b',') {
            m |= C_PASS_EXTRA;
        }
        if matches!(c, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$') {
            m |= C_HNV_EXTRA;
        }
        if matches!(
            c,
            b'!' | b'#'
                | b'$'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'/'
                | b'='
                | b'?'
                | b'^'
                | b'_'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
                | b'~'
        ) {
            m |= C_ATEXT;
        }
        if matches!(
            c,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b':'
                | b'/'
                | b'?'
                | b'#'
                | b'['
                | b']'
                | b'@'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
        ) {
            m |= C_RFC3986;
        }
        if matches!(c, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$') {
            m |= C_PARAM_EXTRA;
        }
        if c > b' ' && c < 0x7f {
            m |= C_VISIBLE;
        }
        t[i] = m;
        i += 1;
    }
    t
}

static CLASS: [u16; 256] = class_table();

/// [`HOST_KIND`] entries: a digit, another host character (`ALPHA / "-" /
/// "_"`), a dot; 0 for a byte that cannot be in a host name or IPv4 address.
const HK_DIGIT: u8 = 1;
const HK_OTHER: u8 = 2;
const HK_DOT: u8 = 4;

const fn host_kind_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = if c.is_ascii_digit() {
            HK_DIGIT
        } else if c == b'.' {
            HK_DOT
        } else if c.is_ascii_alphabetic() || c == b'-' || c == b'_' {
            HK_OTHER
        } else {
            0
        };
        i += 1;
    }
    t
}

/// The kind of each byte in `hostname / IPv4address` (RFC 3261 §25.1).
static HOST_KIND: [u8; 256] = host_kind_table();

#[inline]
fn has_class(c: u8, mask: u16) -> bool {
    CLASS[c as usize] & mask != 0
}

/// `reserved` (RFC 2396 §2.2, used by RFC 3261 §19.1.4).
#[inline]
fn is_reserved(c: u8) -> bool {
    has_class(c, C_RESERVED)
}

/// `user` characters: unreserved / user-unreserved (escapes handled apart).
#[inline]
fn is_user_char(c: u8) -> bool {
    has_class(c, C_ALNUM | C_MARK | C_USER_UNRES)
}

/// `password` characters.
#[inline]
fn is_password_char(c: u8) -> bool {
    has_class(c, C_ALNUM | C_MARK | C_PASS_EXTRA)
}

/// `hname`/`hvalue` characters: hnv-unreserved / unreserved.
#[inline]
fn is_hnv_char(c: u8) -> bool {
    has_class(c, C_ALNUM | C_MARK | C_HNV_EXTRA)
}

/// RFC 2396 `uric` (minus `escaped`): reserved / unreserved.
#[inline]
fn is_uric(c: u8) -> bool {
    has_class(c, C_ALNUM | C_MARK | C_RESERVED)
}

/// RFC 3966 `isdn-subaddress` value: `uric`, except the `;` that ends it.
fn is_isub_char(c: u8) -> bool {
    is_uric(c) && c != b';'
}

/// RFC 2822 §3.2.4 `atext` (without `%`, which starts an escape in a URI).
#[inline]
fn is_atext(c: u8) -> bool {
    has_class(c, C_ATEXT)
}

/// RFC 3986 §2: unreserved, gen-delims and sub-delims (`%` handled apart).
#[inline]
fn is_rfc3986_char(c: u8) -> bool {
    has_class(c, C_RFC3986)
}

/// `paramchar` minus `escaped` (RFC 3261 §25.1); same set as
/// `scan::is_uri_param_char`.
#[inline]
fn is_param_char(c: u8) -> bool {
    has_class(c, C_ALNUM | C_MARK | C_PARAM_EXTRA)
}

/// RFC 3966 `visual-separator`.
fn is_visual_separator(c: u8) -> bool {
    matches!(c, b'-' | b'.' | b'(' | b')')
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Checks that `s` is made of `allowed` characters and `%HH` escapes; the
/// error says which rule was broken and where (`what`).
fn check_component(s: &str, allowed: impl Fn(u8) -> bool, what: &str) -> Result<()> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return Err(ParseError::uri(format!("Bad escape in {what}"))),
            }
        } else if allowed(b[i]) {
            i += 1;
        } else {
            return Err(ParseError::uri(format!("Bad character in {what}")));
        }
    }
    Ok(())
}

/// RFC 3261 §19.1.2: URIs MUST NOT contain unescaped space and control
/// characters; everything outside the grammar's ASCII set is escaped.
fn check_uri_chars(s: &str) -> Result<()> {
    for c in s.bytes() {
        if has_class(c, C_VISIBLE) {
            continue;
        }
        if c == b' ' || c == b'\t' {
            return Err(ParseError::uri("Whitespace in URI"));
        }
        if c < 0x20 || c == 0x7f {
            return Err(ParseError::uri("Control character in URI"));
        }
        return Err(ParseError::uri("Unescaped non-ASCII character in URI"));
    }
    Ok(())
}

// ----- hosts and ports ----------------------------------------------------------

/// The address inside an IPv6 reference (RFC 3261 §25.1, RFC 5118).
fn parse_ipv6(inner: &str) -> Result<Ipv6Addr> {
    if inner.contains('%') {
        // RFC 6874 zone ids have no place in SIP.
        return Err(ParseError::uri("Zone id not allowed in IPv6 address"));
    }
    if inner.is_empty()
        || !inner
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
    {
        return Err(ParseError::uri("Bad IPv6 address"));
    }
    if let Ok(a) = inner.parse::<Ipv6Addr>() {
        return Ok(a);
    }
    // RFC 5118 §4.10: the RFC 3261 ABNF lets `2001:db8:::192.0.2.1` through;
    // tolerate the extra colon before an embedded IPv4 address.
    if let Some(pos) = inner.find(":::") {
        let tail = &inner[pos + 3..];
        if !tail.contains(':') && tail.contains('.') {
            let fixed = format!("{}{}", &inner[..pos + 2], tail);
            if let Ok(a) = fixed.parse::<Ipv6Addr>() {
                return Ok(a);
            }
        }
    }
    Err(ParseError::uri("Bad IPv6 address"))
}

/// RFC 5118 §4.2: the brackets are mandatory in a SIP URI.
fn unbracketed_v6() -> ParseError {
    ParseError::uri("IPv6 address must be enclosed in '[' ']' (RFC 5118 §4.2)")
}

/// What one pass over a candidate `hostname / IPv4address` found.
struct HostScan {
    /// Only digits and dots, and at least one digit: an IPv4address or nothing.
    numeric: bool,
    /// A valid `hostname` (see [`is_hostname`]).
    hostname: bool,
    /// The dotted quad, when `s` is one.
    v4: Option<Ipv4Addr>,
}

/// One pass (RFC 3261 §25.1 `hostname` / `IPv4address`) over the run of
/// `alphanum / "-" / "_" / "."` that starts `b`: checks the characters, tells
/// digits-and-dots text from a name and validates the labels; only a
/// digits-and-dots run gets a second, short pass for its octets. Returns
/// what it found about the run and where the run stops (`b.len()` if `b` is
/// all host characters).
fn scan_host(b: &[u8]) -> (HostScan, usize) {
    let mut seen = 0u8; // the HK_* kinds met
    let mut empty_label = false; // a leading '.' or '..'
    let mut label_start = 0;
    let mut prev_label_start = 0;
    let mut i = 0;
    while i < b.len() {
        let k = HOST_KIND[b[i] as usize];
        if k == HK_DOT {
            empty_label |= i == label_start;
            prev_label_start = label_start;
            label_start = i + 1;
        } else if k == 0 {
            break;
        }
        seen |= k;
        i += 1;
    }
    let b = &b[..i];
    let numeric = seen & HK_DIGIT != 0 && seen & HK_OTHER == 0;
    // Digits and dots only: a second, short pass reads the dotted quad.
    let v4 = if numeric && !empty_label {
        parse_v4(b)
    } else {
        None
    };
    // hostname = *( domainlabel "." ) toplabel [ "." ], labels non-empty and the
    // top label starting with a letter; the top label is the one before a
    // trailing '.'.
    let top = if label_start == i && i > 0 {
        prev_label_start
    } else {
        label_start
    };
    let hostname = !b.is_empty() && !empty_label && b[top].is_ascii_alphabetic();
    (
        HostScan {
            numeric,
            hostname,
            v4,
        },
        i,
    )
}

/// `IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT` (RFC 3261
/// §25.1), each ≤ 255; `b` is digits and dots only.
fn parse_v4(b: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut n = 0;
    let mut octet = 0u16;
    let mut len = 0;
    for &c in b {
        if c == b'.' {
            if len == 0 || n == 3 {
                return None;
            }
            octets[n] = u8::try_from(octet).ok()?;
            n += 1;
            octet = 0;
            len = 0;
        } else {
            len += 1;
            if len > 3 {
                return None;
            }
            octet = octet * 10 + u16::from(c - b'0');
        }
    }
    if len == 0 || n != 3 {
        return None;
    }
    octets[3] = u8::try_from(octet).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// The host `s` (all host characters) that `scan` describes.
fn host_from_scan<'a>(s: &'a str, scan: &HostScan) -> Result<Host<'a>> {
    if scan.numeric {
        // A toplabel starts with a letter, so all-digit text is an IPv4address
        // or nothing.
        return scan
            .v4
            .map(Host::V4)
            .ok_or_else(|| ParseError::uri("Bad IPv4 address"));
    }
    if scan.hostname {
        Ok(Host::Name(s))
    } else {
        Err(ParseError::uri("Bad host name"))
    }
}

/// `hostname / IPv4address` (RFC 3261 §25.1), with `_` tolerated in labels.
fn parse_name_or_v4(s: &str) -> Result<Host<'_>> {
    let (scan, stop) = scan_host(s.as_bytes());
    if stop < s.len() {
        if find_byte(s, b':').is_some() {
            return Err(unbracketed_v6());
        }
        // §19.1.2: escapes are not allowed in the host either.
        return Err(ParseError::uri("Bad character in host"));
    }
    host_from_scan(s, &scan)
}

/// `hostname = *( domainlabel "." ) toplabel [ "." ]` (RFC 3261 §25.1),
/// leniently: a label is any non-empty run of alphanumerics, `-` and `_`; only
/// the top label's first character is constrained (a letter), which is what
/// tells a name from an IPv4 address.
fn is_hostname(s: &str) -> bool {
    let (scan, stop) = scan_host(s.as_bytes());
    stop == s.len() && scan.hostname
}

/// `port = 1*DIGIT`, which must fit `u16`.
fn parse_port(s: &str) -> Result<u16> {
    if s.is_empty() {
        return Err(ParseError::uri("Missing port after ':'"));
    }
    if !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ParseError::uri("Bad port"));
    }
    let digits = s.trim_start_matches('0');
    if digits.len() > 5 {
        return Err(ParseError::uri("Port out of range"));
    }
    let v = digits
        .bytes()
        .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'));
    u16::try_from(v).map_err(|_| ParseError::uri("Port out of range"))
}

// ----- sip / sips -----------------------------------------------------------------

/// `SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]`
/// (RFC 3261 §19.1.1, §25.1); `rest` follows the scheme's colon.
fn parse_sip<'a>(raw: &'a str, secure: bool, rest: &'a str) -> Result<SipUri<'a>> {
    // The userinfo ends at the '@'. '@' is not allowed unescaped in user or
    // password, while ';' and '?' are (user-unreserved: `sip:alice;day=tuesday@
    // atlanta.com`, §19.1.3), so find the '@' before splitting off parameters
    // and headers. An unescaped '@' in a header value (itself invalid) makes
    // the URI ambiguous; reading it as the userinfo end is as good as any.
    //
    // One pass covers the common `user@` case: the run of `user` characters
    // (which exclude '@', ':' and '%') either ends at the '@' (a valid user,
    // no password) or tells where the search for the '@' resumes.
    let rb = rest.as_bytes();
    let mut run = 0;
    while run < rb.len() && is_user_char(rb[run]) {
        run += 1;
    }
    let at = if rb.get(run) == Some(&b'@') {
        Some(run)
    } else {
        find_byte(&rest[run..], b'@').map(|p| p + run)
    };
    let (user, password, hostpart) = match at {
        Some(at) if at == run && at > 0 => (Some(&rest[..at]), None, &rest[at + 1..]),
        Some(at) => {
            let userinfo = &rest[..at];
            // Neither user nor password may contain ':'.
            let (user, password) = match find_byte(userinfo, b':') {
                Some(c) => (&userinfo[..c], Some(&userinfo[c + 1..])),
                None => (userinfo, None),
            };
            if user.is_empty() {
                // §19.1.1: if the @ sign is present, the user field MUST NOT be empty.
                return Err(ParseError::uri("Empty user part in URI"));
            }
            check_component(user, is_user_char, "user part")?;
            if let Some(pw) = password {
                check_component(pw, is_password_char, "password")?;
            }
            (Some(user), password, &rest[at + 1..])
        }
        None => (None, None, rest),
    };
    let (host, port, end) = match sip_hostport_fast(hostpart)? {
        Some(hp) => hp,
        None => {
            // Neither ';' nor '?' can occur in hostport.
            let end = hostpart
                .bytes()
                .position(|c| c == b';' || c == b'?')
                .unwrap_or(hostpart.len());
            let hostport = &hostpart[..end];
            if hostport.is_empty() {
                return Err(ParseError::uri("Missing host in URI"));
            }
            let (host, port) = parse_hostport(hostport)?;
            (host, port, end)
        }
    };
    let (params, after) = parse_sip_params(&hostpart[end..])?;
    let headers = match after.as_bytes().first() {
        None => None,
        Some(b'?') => {
            let h = &after[1..];
            check_sip_headers(h)?;
            Some(h)
        }
        // Printable ASCII: checked by Uri::parse.
        Some(&c) => {
            return Err(ParseError::uri(format!(
                "Bad character '{}' in URI parameters",
                c as char
            )));
        }
    };
    Ok(SipUri {
        raw,
        secure,
        user,
        password,
        host,
        port,
        params,
        headers,
    })
}

/// `hostport` at the start of a SIP URI's host part (RFC 3261 §25.1) in one
/// pass, for a name or IPv4 address with an optional port that ends at ';',
/// '?' or the end: the host and port, and where they end. `Ok(None)` for
/// anything else (an IPv6 reference, a bad character, an empty host), which
/// the general path handles with its usual error order; the errors returned
/// here are the ones `parse_hostport` would give for the same text.
fn sip_hostport_fast(hostpart: &str) -> Result<Option<(Host<'_>, Option<u16>, usize)>> {
    let b = hostpart.as_bytes();
    let (scan, stop) = scan_host(b);
    if stop == 0 {
        return Ok(None);
    }
    let ends = |i: usize| i == b.len() || b[i] == b';' || b[i] == b'?';
    if ends(stop) {
        return Ok(Some((
            host_from_scan(&hostpart[..stop], &scan)?,
            None,
            stop,
        )));
    }
    if b[stop] != b':' {
        return Ok(None);
    }
    let mut end = stop + 1;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if !ends(end) {
        return Ok(None);
    }
    let host = host_from_scan(&hostpart[..stop], &scan)?;
    let port = parse_port(&hostpart[stop + 1..end])?;
    Ok(Some((host, Some(port), end)))
}

/// `uri-parameters = *( ";" uri-parameter )` (RFC 3261 §19.1.1, §25.1) in one
/// pass: the `paramchar` syntax, with the reasons of
/// `scan::parse_params(.., ParamGrammar::Uri)`, and the value rules of the
/// parameters §25.1 defines (see [`check_sip_param`]). A syntax error anywhere
/// in the list wins over a value-rule error, which is reported once the whole
/// list has been read. Returns the parameters and the text after them.
fn parse_sip_params(s: &str) -> Result<(Params<'_>, &str)> {
    let b = s.as_bytes();
    let mut j = 0;
    let mut bad: Option<&'static str> = None;
    while j < b.len() && b[j] == b';' {
        let name_start = j + 1;
        let name_end = param_run(b, name_start)?;
        if name_end == name_start {
            return Err(ParseError::uri("Empty parameter name"));
        }
        j = name_end;
        let mut value = None;
        if j < b.len() && b[j] == b'=' {
            let v = j + 1;
            let k = param_run(b, v)?;
            if k == v {
                return Err(ParseError::uri(format!(
                    "Empty value for URI parameter '{}'",
                    &s[name_start..name_end]
                )));
            }
            value = Some(&s[v..k]);
            j = k;
        }
        if bad.is_none() {
            bad = check_sip_param(&s[name_start..name_end], value);
        }
    }
    if let Some(reason) = bad {
        return Err(ParseError::uri(reason));
    }
    Ok((Params::from_validated(&s[..j]), &s[j..]))
}

/// The end of the run of `paramchar`s (`%HH` escapes included) from `i`.
fn param_run(b: &[u8], mut i: usize) -> Result<usize> {
    while i < b.len() {
        let c = b[i];
        if is_param_char(c) {
            i += 1;
        } else if c == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return Err(ParseError::uri("Bad escape in URI parameter")),
            }
        } else {
            break;
        }
    }
    Ok(i)
}

/// The value rules of the parameters RFC 3261 §25.1 defines; the reason when
/// `name`'s value breaks its rule. The names have distinct lengths, so one
/// comparison at most.
fn check_sip_param(name: &str, v: Option<&str>) -> Option<&'static str> {
    let (ok, reason) = match name.len() {
        3 if name.eq_ignore_ascii_case("ttl") => {
            // ttl = 1*3DIGIT ; 0 to 255
            let ok = v.is_some_and(|v| {
                (1..=3).contains(&v.len())
                    && v.bytes().all(|c| c.is_ascii_digit())
                    && v.bytes().fold(0u16, |a, c| a * 10 + u16::from(c - b'0')) <= 255
            });
            (ok, "Bad ttl parameter in URI")
        }
        // maddr-param = "maddr=" host
        5 if name.eq_ignore_ascii_case("maddr") => (
            v.is_some_and(|v| Host::parse(v).is_ok()),
            "Bad maddr parameter in URI",
        ),
        9 if name.eq_ignore_ascii_case("transport") => {
            (v.is_some_and(is_token), "Bad transport parameter in URI")
        }
        6 if name.eq_ignore_ascii_case("method") => {
            (v.is_some_and(is_token), "Bad method parameter in URI")
        }
        4 if name.eq_ignore_ascii_case("user") => {
            (v.is_some_and(is_token), "Bad user parameter in URI")
        }
        _ => return None,
    };
    (!ok).then_some(reason)
}

/// `headers = "?" header *( "&" header )`, `header = hname "=" hvalue`.
fn check_sip_headers(h: &str) -> Result<()> {
    if h.is_empty() {
        return Err(ParseError::uri("Empty header part in URI"));
    }
    for part in h.split('&') {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| ParseError::uri("URI header without '='"))?;
        if name.is_empty() {
            return Err(ParseError::uri("Empty header name in URI"));
        }
        check_component(name, is_hnv_char, "URI header name")?;
        check_component(value, is_hnv_char, "URI header value")?;
    }
    Ok(())
}

/// `(hname, hvalue)` pairs of a validated header part.
fn header_pairs(h: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    h.into_iter()
        .flat_map(|h| h.split('&'))
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

// ----- tel (RFC 3966) ---------------------------------------------------------------

/// `telephone-uri = "tel:" telephone-subscriber` (RFC 3966 §3).
fn parse_tel<'a>(raw: &'a str, rest: &'a str) -> Result<TelUri<'a>> {
    let end = find_byte(rest, b';').unwrap_or(rest.len());
    let number = &rest[..end];
    if number.is_empty() {
        return Err(ParseError::uri("Empty telephone number"));
    }
    let global = number.starts_with('+');
    if global {
        // global-number-digits = "+" *phonedigit DIGIT *phonedigit
        if !is_global_digits(number) {
            return Err(ParseError::uri("Bad global number in tel URI"));
        }
    } else {
        // local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex
        let b = number.as_bytes();
        let ok = b
            .iter()
            .all(|&c| c.is_ascii_hexdigit() || matches!(c, b'*' | b'#') || is_visual_separator(c))
            && b.iter()
                .any(|&c| c.is_ascii_hexdigit() || matches!(c, b'*' | b'#'));
        if !ok {
            return Err(ParseError::uri("Bad local number in tel URI"));
        }
    }
    let ptext = &rest[end..];
    let mut context = false;
    if let Some(body) = ptext.strip_prefix(';') {
        for seg in body.split(';') {
            let (name, value) = match seg.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (seg, None),
            };
            // pname = 1*( alphanum / "-" )
            if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
                return Err(ParseError::uri("Bad parameter name in tel URI"));
            }
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            if value == Some("")
                || (value.is_none() && (is("isub") || is("ext") || is("phone-context")))
            {
                return Err(ParseError::uri("Empty parameter value in tel URI"));
            }
            let Some(v) = value else { continue };
            if is("isub") {
                // isdn-subaddress = ";isub=" 1*uric
                check_component(v, is_isub_char, "tel isub parameter")?;
            } else if is("ext") {
                // extension = ";ext=" 1*phonedigit
                if !(v
                    .bytes()
                    .all(|c| c.is_ascii_digit() || is_visual_separator(c))
                    && v.bytes().any(|c| c.is_ascii_digit()))
                {
                    return Err(ParseError::uri("Bad ext parameter in tel URI"));
                }
            } else if is("phone-context") {
                // descriptor = domainname / global-number-digits
                let ok = if v.starts_with('+') {
                    is_global_digits(v)
                } else {
                    is_hostname(v)
                };
                if !ok {
                    return Err(ParseError::uri("Bad phone-context in tel URI"));
                }
                context = true;
            } else {
                // pvalue = 1*paramchar
                check_component(v, is_uri_param_char, "tel parameter")?;
            }
        }
    } else if !ptext.is_empty() {
        return Err(ParseError::uri("Bad character in telephone number"));
    }
    if !global && !context {
        // RFC 3966 §5.1.5: local numbers MUST carry a phone-context.
        return Err(ParseError::uri(
            "Local number in tel URI without phone-context",
        ));
    }
    Ok(TelUri {
        raw,
        number,
        global,
        params: Params::from_validated(ptext),
    })
}

/// `global-number-digits = "+" *phonedigit DIGIT *phonedigit`.
fn is_global_digits(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        d.bytes()
            .all(|c| c.is_ascii_digit() || is_visual_separator(c))
            && d.bytes().any(|c| c.is_ascii_digit())
    })
}

/// The bytes of a phone number without visual separators (RFC 3966 §4).
fn strip_separators(s: &str) -> Vec<u8> {
    s.bytes().filter(|&c| !is_visual_separator(c)).collect()
}

fn tel_equivalent(a: &TelUri<'_>, b: &TelUri<'_>) -> bool {
    if a.global != b.global
        || !strip_separators(a.number).eq_ignore_ascii_case(&strip_separators(b.number))
    {
        return false;
    }
    // Every parameter name must be in both (RFC 3966 §4), values matching.
    for (x, y) in [(&a.params, &b.params), (&b.params, &a.params)] {
        for p in x.iter() {
            let name = norm(p.name);
            let xv = first_param(x, &name).unwrap_or(p.value);
            let Some(yv) = first_param(y, &name) else {
                return false;
            };
            let same = match (xv, yv) {
                (None, None) => true,
                (Some(u), Some(v)) => {
                    if name.eq_ignore_ascii_case(b"ext")
                        || (name.eq_ignore_ascii_case(b"phone-context") && u.starts_with('+'))
                    {
                        strip_separators(u) == strip_separators(v)
                    } else {
                        same_escaped_ci(u, v)
                    }
                }
                _ => false,
            };
            if !same {
                return false;
            }
        }
    }
    true
}

// ----- pres / im (RFC 3859 / RFC 3860) ---------------------------------------------

/// `PRES-URI = "pres:" [ to ] [ headers ]`, `to = mailbox` (RFC 3859 Appendix
/// A; `im:` is the same, RFC 3860 Appendix A); `headers` as in mailto.
fn parse_im<'a>(raw: &'a str, rest: &'a str, scheme: &str) -> Result<ImUri<'a>> {
    let (to, headers) = match find_byte(rest, b'?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    if to.is_empty() {
        return Err(ParseError::uri(format!("Missing address in {scheme} URI")));
    }
    // The domain cannot contain '@'; a quoted local part can.
    let (user, domain) = match to.rfind('@') {
        Some(at) => (Some(&to[..at]), &to[at + 1..]),
        None => (None, to),
    };
    if let Some(u) = user {
        check_local_part(u).map_err(|e| e.context(&format!("Bad {scheme} URI")))?;
    }
    if domain.is_empty() {
        return Err(ParseError::uri(format!("Missing domain in {scheme} URI")));
    }
    Host::parse(domain).map_err(|e| e.context(&format!("Bad domain in {scheme} URI")))?;
    if let Some(h) = headers {
        // header = hname "=" hvalue, both *uric.
        for part in h.split('&') {
            if !part.contains('=') {
                return Err(ParseError::uri(format!("{scheme} URI header without '='")));
            }
            check_component(part, is_uric, "URI header")?;
        }
    }
    Ok(ImUri {
        raw,
        user,
        domain,
        headers,
    })
}

/// RFC 2822 §3.4.1 `local-part = dot-atom / quoted-string`, escapes allowed.
fn check_local_part(u: &str) -> Result<()> {
    if u.starts_with('"') {
        return match crate::scan::quoted_len(u) {
            Ok(n) if n == u.len() => Ok(()),
            _ => Err(ParseError::uri("Bad quoted local part")),
        };
    }
    if u.is_empty() || u.split('.').any(str::is_empty) {
        return Err(ParseError::uri("Bad local part"));
    }
    check_component(u, |c| is_atext(c) || c == b'.', "local part")
}

fn im_equivalent(a: &ImUri<'_>, b: &ImUri<'_>) -> bool {
    let domains = match (Host::parse(a.domain), Host::parse(b.domain)) {
        (Ok(x), Ok(y)) => x.eq_host(&y),
        _ => a.domain.eq_ignore_ascii_case(b.domain),
    };
    domains
        && opt_match(a.user, b.user, same_escaped)
        && header_keys(a.headers) == header_keys(b.headers)
}

// ----- comparison helpers (RFC 3261 §19.1.4) ----------------------------------------

/// The bytes of `s` with escapes of unreserved characters resolved, and the
/// others (reserved characters and `%` itself) kept escaped in upper case:
/// "Characters other than those in the reserved set are equivalent to their
/// '%' HEX HEX encoding" (RFC 3261 §19.1.4).
fn norm(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex_val),
                b.get(i + 2).copied().and_then(hex_val),
            )
        {
            let v = h << 4 | l;
            if is_reserved(v) || v == b'%' {
                out.push(b'%');
                out.push(b[i + 1].to_ascii_uppercase());
                out.push(b[i + 2].to_ascii_uppercase());
            } else {
                out.push(v);
            }
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// Equal after escape normalization, case-sensitively (userinfo).
fn same_escaped(a: &str, b: &str) -> bool {
    norm(a) == norm(b)
}

/// Equal after escape normalization, case-insensitively.
fn same_escaped_ci(a: &str, b: &str) -> bool {
    norm(a).eq_ignore_ascii_case(&norm(b))
}

/// Both absent, or both present and `same`.
fn opt_match(a: Option<&str>, b: Option<&str>, same: fn(&str, &str) -> bool) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => same(x, y),
        _ => false,
    }
}

/// The value of the first parameter whose normalized name is `name`.
fn first_param<'p>(params: &Params<'p>, name: &[u8]) -> Option<Option<&'p str>> {
    params
        .iter()
        .find(|p| norm(p.name).eq_ignore_ascii_case(name))
        .map(|p| p.value)
}

/// Parameters that must match even when only one URI has them (§19.1.4).
const SIP_STRICT_PARAMS: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];

fn sip_params_match(a: &Params<'_>, b: &Params<'_>) -> bool {
    for (x, y) in [(a, b), (b, a)] {
        for p in x.iter() {
            let name = norm(p.name);
            let xv = first_param(x, &name).unwrap_or(p.value);
            match first_param(y, &name) {
                None => {
                    if SIP_STRICT_PARAMS
                        .iter()
                        .any(|s| s.as_bytes().eq_ignore_ascii_case(&name))
                    {
                        return false;
                    }
                }
                Some(yv) => {
                    let same = match (xv, yv) {
                        (None, None) => true,
                        (Some(u), Some(v)) if name.eq_ignore_ascii_case(b"maddr") => {
                            match (Host::parse(u), Host::parse(v)) {
                                (Ok(h1), Ok(h2)) => h1.eq_host(&h2),
                                _ => same_escaped_ci(u, v),
                            }
                        }
                        (Some(u), Some(v)) => same_escaped_ci(u, v),
                        _ => false,
                    };
                    if !same {
                        return false;
                    }
                }
            }
        }
    }
    true
}

/// Headers as a sorted list of (canonical lower-case name, normalized value):
/// order does not matter (§19.1.4), compact names equal full ones.
fn header_keys(h: Option<&str>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut keys: Vec<_> = header_pairs(h)
        .map(|(n, v)| {
            let n = norm(n);
            let name = match HeaderName::from_bytes(&n).as_str() {
                Some(full) => full.to_ascii_lowercase().into_bytes(),
                None => n.to_ascii_lowercase(),
            };
            (name, norm(v).into_owned())
        })
        .collect();
    keys.sort();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn sip(s: &str) -> SipUri<'_> {
        match Uri::parse(s) {
            Ok(Uri::Sip(u)) => u,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn reason(s: &str) -> String {
        let e = Uri::parse(s).expect_err(s);
        assert_eq!(e.status(), 400, "{s}");
        assert_eq!(e.kind(), ErrorKind::Uri, "{s}");
        e.reason().to_owned()
    }

    fn assert_rejected(s: &str, want: &str) {
        let r = reason(s);
        assert!(r.contains(want), "{s}: got '{r}', want '{want}'");
    }

    fn eq(a: &str, b: &str) -> bool {
        let (x, y) = (Uri::parse(a).unwrap(), Uri::parse(b).unwrap());
        assert!(x.equivalent(&x), "{a} not reflexive");
        assert!(y.equivalent(&y), "{b} not reflexive");
        let r = x.equivalent(&y);
        assert_eq!(r, y.equivalent(&x), "{a} / {b}: not symmetric");
        r
    }

    // --- RFC 3261 §19.1.3 examples ---

    #[test]
    fn rfc3261_examples_parse() {
        let u = sip("sip:alice@atlanta.com");
        assert_eq!(
            (u.user, u.host, u.port, u.secure),
            (Some("alice"), Host::Name("atlanta.com"), None, false)
        );

        let u = sip("sip:alice:secretword@atlanta.com;transport=tcp");
        assert_eq!(u.password, Some("secretword"));
        assert_eq!(u.transport(), Some("tcp"));

        let u = sip("sips:alice@atlanta.com?subject=project%20x&priority=urgent");
        assert!(u.secure);
        assert_eq!(u.headers, Some("subject=project%20x&priority=urgent"));
        let h: Vec<_> = u.header_pairs().collect();
        assert_eq!(h, [("subject", "project%20x"), ("priority", "urgent")]);
        assert_eq!(u.default_port(), 5061);

        let u = sip("sip:+1-212-555-1212:1234@gateway.com;user=phone");
        assert_eq!(u.user, Some("+1-212-555-1212"));
        assert_eq!(u.password, Some("1234"));
        assert_eq!(u.user_param(), Some("phone"));

        assert_eq!(sip("sips:1212@gateway.com").user, Some("1212"));
        assert_eq!(
            sip("sip:alice@192.0.2.4").host,
            Host::V4(Ipv4Addr::new(192, 0, 2, 4))
        );

        let u = sip("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com");
        assert_eq!(u.user, None);
        assert_eq!(u.method_param(), Some("REGISTER"));
        assert_eq!(u.headers, Some("to=alice%40atlanta.com"));

        // "The last sample URI above has a user field value of alice;day=tuesday"
        let u = sip("sip:alice;day=tuesday@atlanta.com");
        assert_eq!(u.user, Some("alice;day=tuesday"));
        assert!(u.params.is_empty());

        // §19.1.1 multicast example.
        let u = sip("sip:alice@atlanta.com;maddr=239.255.255.1;ttl=15");
        assert_eq!(u.maddr(), Some(Host::V4(Ipv4Addr::new(239, 255, 255, 1))));
        assert_eq!(u.ttl(), Some(15));
    }

    #[test]
    fn scheme_is_case_insensitive() {
        let u = sip("SIP:ALICE@AtLanTa.CoM;Transport=udp");
        assert!(!u.secure);
        assert_eq!(u.user, Some("ALICE"));
        assert_eq!(u.transport(), Some("udp"));
        assert!(sip("SiPs:a@b").secure);
        assert_eq!(Uri::parse("SiPs:a@b").unwrap().scheme(), "SiPs");
    }

    // --- RFC 3261 §19.1.4: the acceptance criteria ---

    #[test]
    fn rfc3261_equivalent_sets() {
        assert!(eq(
            "sip:%61lice@atlanta.com;transport=TCP",
            "sip:alice@AtLanTa.CoM;Transport=tcp"
        ));
        let carol = [
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;newparam=5",
            "sip:carol@chicago.com;security=on",
        ];
        for a in carol {
            for b in carol {
                assert!(eq(a, b), "{a} / {b}");
            }
        }
        assert!(eq(
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"
        ));
        assert!(eq(
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x"
        ));
    }

    #[test]
    fn rfc3261_unequal_sets() {
        // different usernames
        assert!(!eq(
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP"
        ));
        // can resolve to different ports
        assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
        // can resolve to different transports
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com;transport=udp"
        ));
        // can resolve to different port and transports
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com:6000;transport=tcp"
        ));
        // different header component
        assert!(!eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com?Subject=next%20meeting"
        ));
        // even though that's what phone21.boxesbybob.com resolves to
        assert!(!eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
    }

    #[test]
    fn rfc3261_equality_is_not_transitive() {
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;security=on"
        ));
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;security=off"
        ));
        assert!(!eq(
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;security=off"
        ));
    }

    #[test]
    fn comparison_rules() {
        // A SIP and SIPS URI are never equivalent.
        assert!(!eq("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
        // Omitting user / password never matches including it.
        assert!(!eq("sip:atlanta.com", "sip:alice@atlanta.com"));
        assert!(!eq("sip:alice@atlanta.com", "sip:alice:pw@atlanta.com"));
        assert!(!eq("sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com"));
        // user, ttl, method, maddr in only one URI never match.
        assert!(!eq("sip:a@h", "sip:a@h;user=ip"));
        assert!(!eq("sip:a@h", "sip:a@h;ttl=1"));
        assert!(!eq("sip:a@h", "sip:a@h;method=INVITE"));
        assert!(!eq("sip:a@h", "sip:a@h;maddr=192.0.2.1"));
        // lr and unknown parameters in one only are ignored.
        assert!(eq("sip:p.example.com", "sip:p.example.com;lr"));
        // Parameters in both must match, case-insensitively, escapes resolved.
        assert!(eq("sip:a@h;maddr=EXAMPLE.com", "sip:a@h;MADDR=example.COM"));
        assert!(eq("sip:a@h;x=%41b", "sip:a@h;X=ab"));
        assert!(!eq("sip:a@h;x=1", "sip:a@h;x=2"));
        assert!(!eq("sip:a@h;x", "sip:a@h;x=1"));
        // IP addresses compare by value.
        assert!(eq("sip:a@[2001:db8::1]", "sip:a@[2001:DB8:0::0:1]"));
        assert!(eq("sip:a@192.0.2.1", "sip:a@192.000.2.001"));
        assert!(!eq("sip:a@[::ffff:192.0.2.1]", "sip:a@192.0.2.1"));
        // Headers: all present in both; names case-insensitive and compact.
        assert!(eq("sip:a@h?Subject=x", "sip:a@h?s=x"));
        assert!(!eq("sip:a@h?subject=x", "sip:a@h?subject=X"));
        assert!(!eq(
            "sip:a@h?subject=x",
            "sip:a@h?subject=x&priority=urgent"
        ));
        // Different schemes are never equal.
        assert!(!eq("sip:a@h", "pres:a@h"));
    }

    #[test]
    fn escapes_in_comparison() {
        // Unreserved characters equal their escapes, either hex case.
        assert!(eq("sip:%61lice@h", "sip:alice@h"));
        assert!(eq("sip:%7Euser@h", "sip:%7euser@h"));
        // Reserved characters do not (RFC 3261 §19.1.4 / RFC 2396 §2.2)...
        assert!(!eq("sip:a%3Bb@h", "sip:a;b@h"));
        // ...but their escapes compare hex-case-insensitively.
        assert!(eq("sip:a%3bb@h", "sip:a%3Bb@h"));
        // An escaped '%' stays distinct from what follows it.
        assert!(!eq("sip:a%253Bb@h", "sip:a%3Bb@h"));
        // userinfo stays case-sensitive after resolving escapes.
        assert!(!eq("sip:%41@h", "sip:a@h"));
    }

    // --- RFC 3261 §19.1.6: tel and its sip form ---

    #[test]
    fn rfc3261_tel_examples() {
        assert!(eq(
            "tel:+358-555-1234567;postd=pp22",
            "tel:+358-555-1234567;POSTD=PP22"
        ));
        assert!(!eq(
            "sip:+358-555-1234567;postd=pp22@foo.com;user=phone",
            "sip:+358-555-1234567;POSTD=PP22@foo.com;user=phone"
        ));
        assert!(eq(
            "tel:+358-555-1234567;postd=pp22;isub=1411",
            "tel:+358-555-1234567;isub=1411;postd=pp22"
        ));
        assert!(!eq(
            "sip:+358-555-1234567;postd=pp22;isub=1411@foo.com;user=phone",
            "sip:+358-555-1234567;isub=1411;postd=pp22@foo.com;user=phone"
        ));
        let u = sip("sip:+358-555-1234567;postd=pp22@foo.com;user=phone");
        assert_eq!(u.user, Some("+358-555-1234567;postd=pp22"));
        assert_eq!(u.user_param(), Some("phone"));
    }

    // --- RFC 5118 and hosts ---

    #[test]
    fn rfc5118_hosts() {
        let v6 = |s: &str| Host::V6(s.parse().unwrap());
        // §4.1
        let u = sip("sip:[2001:db8::10]");
        assert_eq!((u.host, u.port), (v6("2001:db8::10"), None));
        // §4.3: the "port" is the last group of the address.
        let u = sip("sip:[2001:db8::10:5070]");
        assert_eq!((u.host, u.port), (v6("2001:db8::10:5070"), None));
        // §4.4
        let u = sip("sip:[2001:db8::10]:5070");
        assert_eq!((u.host, u.port), (v6("2001:db8::10"), Some(5070)));
        // §4.2: no brackets.
        assert_rejected("sip:2001:db8::10", "IPv6");
        assert_rejected("sip:user@2001:db8::10", "IPv6");
        // §4.9: IPv4-mapped.
        assert_eq!(
            sip("sip:ted@[::ffff:192.0.2.10]").host,
            v6("::ffff:192.0.2.10")
        );
        // §4.10: the three-colon form is tolerated; same host as two colons.
        assert_eq!(
            sip("sip:user@[2001:db8:::192.0.2.1]").host,
            v6("2001:db8::192.0.2.1")
        );
        assert!(eq(
            "sip:user@[2001:db8:::192.0.2.1]",
            "sip:user@[2001:db8::192.0.2.1]"
        ));
        // Trailing colon, bad hex, zone id, empty, unterminated.
        assert_rejected("sip:[2001:db8::10:]", "Bad IPv6 address");
        assert_rejected("sip:[2001:db8:::10]", "Bad IPv6 address");
        assert_rejected("sip:[2001:db8::g]", "Bad IPv6 address");
        assert_rejected("sip:[fe80::1%25eth0]", "Zone id");
        assert_rejected("sip:[]", "Bad IPv6 address");
        assert_rejected("sip:a@[2001:db8::1", "Unterminated IPv6 reference");
        assert_rejected("sip:[2001:db8::1]x", "Bad character after host");
    }

    #[test]
    fn host_parse() {
        assert_eq!(
            Host::parse("192.0.2.1").unwrap(),
            Host::V4(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert_eq!(
            Host::parse("[2001:db8::1]").unwrap(),
            Host::V6("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            Host::parse("example.com.").unwrap(),
            Host::Name("example.com.")
        );
        assert_eq!(Host::parse("x").unwrap(), Host::Name("x"));
        assert_eq!(Host::parse("1.2.3.a4").unwrap(), Host::Name("1.2.3.a4"));
        // Lenient: '_' in labels, hyphens at label edges.
        for name in [
            "pc_01.example.com",
            "a-.example.com",
            "-a.example.com",
            "a-",
        ] {
            assert_eq!(Host::parse(name).unwrap(), Host::Name(name));
        }
        // Leading zeros are decimal.
        assert_eq!(
            Host::parse("010.0.0.1").unwrap(),
            Host::V4(Ipv4Addr::new(10, 0, 0, 1))
        );
        for (bad, why) in [
            ("", "Empty host"),
            ("999.1.1.1", "Bad IPv4 address"),
            ("1.2.3", "Bad IPv4 address"),
            ("1.2.3.4.5", "Bad IPv4 address"),
            ("1.2.3.4.", "Bad IPv4 address"),
            ("1234.1.1.1", "Bad IPv4 address"),
            ("example.123", "Bad host name"),
            ("1.2.3.4a", "Bad host name"),
            ("-a", "Bad host name"),
            ("a.1b", "Bad host name"),
            ("a._b", "Bad host name"),
            ("ex..com", "Bad host name"),
            (".", "Bad host name"),
            ("exa%6Dple.com", "Bad character in host"),
            ("exa mple.com", "Bad character in host"),
            ("2001:db8::1", "IPv6"),
            ("[2001:db8::1", "Unterminated"),
        ] {
            let e = Host::parse(bad).expect_err(bad);
            assert!(e.reason().contains(why), "{bad}: {}", e.reason());
        }
    }

    #[test]
    fn received_accepts_bare_ipv6() {
        let a: Ipv6Addr = "2001:db8::9:255".parse().unwrap();
        assert_eq!(
            Host::parse_received("2001:db8::9:255").unwrap(),
            Host::V6(a)
        );
        assert_eq!(
            Host::parse_received("[2001:db8::9:255]").unwrap(),
            Host::V6(a)
        );
        assert_eq!(
            Host::parse_received("192.0.2.200").unwrap(),
            Host::V4(Ipv4Addr::new(192, 0, 2, 200))
        );
        assert!(Host::parse_received("2001:db8::9:").is_err());
        assert!(Host::parse_received("fe80::1%eth0").is_err());
        assert!(Host::parse("2001:db8::9:255").is_err());
    }

    #[test]
    fn host_display_and_eq() {
        let h = Host::parse("[2001:db8::1]").unwrap();
        assert_eq!(h.to_string(), "[2001:db8::1]");
        assert_eq!(Host::parse("192.0.2.1").unwrap().to_string(), "192.0.2.1");
        assert_eq!(Host::parse("Ex.COM").unwrap().to_string(), "Ex.COM");
        assert!(Host::Name("EX.com").eq_host(&Host::Name("ex.COM")));
        assert!(!Host::Name("192.0.2.1").eq_host(&Host::V4(Ipv4Addr::new(192, 0, 2, 1))));
        assert!(h.is_ip());
        assert!(!Host::Name("x").is_ip());
    }

    #[test]
    fn hostport() {
        assert_eq!(
            parse_hostport("example.com:5060").unwrap(),
            (Host::Name("example.com"), Some(5060))
        );
        assert_eq!(
            parse_hostport("[::1]:80").unwrap(),
            (Host::V6(Ipv6Addr::LOCALHOST), Some(80))
        );
        assert_eq!(
            parse_hostport("h:065535").unwrap(),
            (Host::Name("h"), Some(65535))
        );
        assert_eq!(parse_hostport("h").unwrap(), (Host::Name("h"), None));
        for (bad, why) in [
            ("h:65536", "Port out of range"),
            ("h:99999999999999999999", "Port out of range"),
            ("h:", "Missing port"),
            ("h:x", "Bad port"),
            ("h:-1", "Bad port"),
            ("[::1]80", "Bad character after host"),
            ("::1", "IPv6"),
        ] {
            let e = parse_hostport(bad).expect_err(bad);
            assert!(e.reason().contains(why), "{bad}: {}", e.reason());
        }
        assert_rejected("sip:alice@atlanta.com:70000", "Port out of range");
    }

    // --- RFC 4475 URIs ---

    #[test]
    fn rfc4475_uris() {
        // esc01 (§3.1.1.4)
        let u = sip("sip:sips%3Auser%40example.com@example.net");
        assert_eq!(u.user, Some("sips%3Auser%40example.com"));
        assert_eq!(u.user_unescaped().unwrap(), "sips:user@example.com");
        assert_eq!(
            sip("sip:%75se%72@example.com").user_unescaped().unwrap(),
            "user"
        );
        assert_eq!(
            sip("sip:I%20have%20spaces@example.net")
                .user_unescaped()
                .unwrap(),
            "I have spaces"
        );
        // escnull (§3.1.1.6)
        assert_eq!(
            sip("sip:null-%00-null@example.com")
                .user_unescaped()
                .unwrap(),
            "null-\0-null"
        );
        // semiuri (§3.1.1.12)
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user, Some("user;par=u%40example.net"));
        assert_eq!(u.host, Host::Name("example.com"));
        assert!(u.params.is_empty());
        // intmeth (§3.1.1.9)
        let u = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
        assert_eq!(
            u.user,
            Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        );
        // regescrt (§3.1.1.13)
        let u = sip("sip:user@example.com?Route=%3Csip:sip.example.com%3E");
        assert_eq!(u.headers, Some("Route=%3Csip:sip.example.com%3E"));
        // wsinv, longreq: unknown parameters.
        let u = sip("sip:vivekg@chair-dnrc.example.com;unknownparam");
        assert_eq!(u.params.get("unknownparam"), Some(None));
        let u = sip("sip:user@example.com:6000;unknownparam1=verylong;name=shortvalue;NoValue");
        assert_eq!(u.port, Some(6000));
        assert_eq!(u.params.iter().count(), 3);
        // unkscm, novelsc, unksm2
        for s in [
            "nobodyKnowsThisScheme:totallyopaquecontent",
            "soap.beep://192.0.2.103:3002",
            "isbn:2983792873",
            "http://www.example.com",
            "name:John_Smith",
        ] {
            assert!(matches!(Uri::parse(s), Ok(Uri::Other(_))), "{s}");
        }
    }

    #[test]
    fn sip_rejections() {
        for (bad, why) in [
            ("", "Empty URI"),
            ("sip:a b@h", "Whitespace"),
            ("sip:a@h\t", "Whitespace"),
            ("sip:a\r@h", "Control character"),
            ("sip:jos\u{e9}@h", "non-ASCII"),
            ("nocolon", "Missing scheme"),
            (":x", "Bad URI scheme"),
            ("1sip:x", "Bad URI scheme"),
            ("sip:", "Missing host"),
            ("sip:a@", "Missing host"),
            ("sip:a@;x", "Missing host"),
            ("sip:@h", "Empty user part"),
            ("sip::pw@h", "Empty user part"),
            ("sip:a%4@h", "Bad escape in user part"),
            ("sip:a%zz@h", "Bad escape in user part"),
            ("sip:a\"b@h", "Bad character in user part"),
            ("sip:a[b@h", "Bad character in user part"),
            ("sip:a:p:w@h", "Bad character in password"),
            ("sip:a:p;w@h", "Bad character in password"),
            ("sip:a:p%g0@h", "Bad escape in password"),
            ("sip:a@h@i", "Bad character in host"),
            ("sip:a@999.1.1.1", "Bad IPv4 address"),
            ("sip:a@h;", "Empty parameter name"),
            ("sip:a@h;;x", "Empty parameter name"),
            ("sip:a@h;x=", "Empty value"),
            ("sip:a@h;x=%4", "Bad escape in URI parameter"),
            ("sip:a@h;x=<", "Empty value for URI parameter"),
            ("sip:a@h;x=1<", "Bad character '<' in URI parameters"),
            ("sip:a@h;x=a=b", "Bad character '=' in URI parameters"),
            ("sip:a@h;ttl=256", "Bad ttl parameter"),
            ("sip:a@h;ttl=0001", "Bad ttl parameter"),
            ("sip:a@h;ttl", "Bad ttl parameter"),
            ("sip:a@h;maddr=exa%6Dple.com", "Bad maddr parameter"),
            ("sip:a@h;maddr", "Bad maddr parameter"),
            ("sip:a@h;transport=[x]", "Bad transport parameter"),
            ("sip:a@h;method=IN$VITE", "Bad method parameter"),
            ("sip:a@h;user", "Bad user parameter"),
            ("sip:a@h?", "Empty header part"),
            ("sip:a@h?subject", "URI header without '='"),
            ("sip:a@h?a=b&", "URI header without '='"),
            ("sip:a@h?=b", "Empty header name"),
            ("sip:a@h?a=b=c", "Bad character in URI header value"),
            ("sip:a@h?a=%z1", "Bad escape in URI header value"),
            ("sip:a@h?a;b=c", "Bad character in URI header name"),
        ] {
            assert_rejected(bad, why);
        }
    }

    #[test]
    fn sip_lenient_accepts() {
        // Empty password and empty header value are in the grammar.
        assert_eq!(sip("sip:a:@h").password, Some(""));
        assert_eq!(sip("sip:a@h?subject=").headers, Some("subject="));
        // lr=on from RFC 2543bis implementations.
        assert!(sip("sip:p.example.com;lr=on").is_loose_router());
        // Repeated parameters: the first one counts.
        assert_eq!(
            sip("sip:h;transport=tcp;transport=udp").transport(),
            Some("tcp")
        );
    }

    #[test]
    fn sip_accessors() {
        let u = sip("sip:proxy.example.com:5070;transport=TCP;lr;maddr=[2001:db8::1];user=ip");
        assert_eq!(u.transport(), Some("TCP"));
        assert!(u.is_loose_router());
        assert_eq!(u.maddr(), Some(Host::V6("2001:db8::1".parse().unwrap())));
        assert_eq!(u.user_param(), Some("ip"));
        assert_eq!(u.default_port(), 5060);
        assert_eq!(u.port_or_default(), 5070);
        assert!(!sip("sip:h").is_loose_router());
        assert_eq!(sip("sip:h").maddr(), None);
        assert_eq!(sip("sip:h;transport=tls").default_port(), 5061);
        assert_eq!(sip("sips:h").port_or_default(), 5061);
        assert_eq!(sip("sip:h").user_unescaped(), None);
    }

    // --- tel (RFC 3966) ---

    #[test]
    fn tel_parse() {
        let Uri::Tel(t) = Uri::parse("tel:+1-201-555-0123;ext=1234").unwrap() else {
            panic!()
        };
        assert!(t.global);
        assert_eq!(t.number, "+1-201-555-0123");
        assert_eq!(t.params.value("ext"), Some("1234"));

        let Uri::Tel(t) = Uri::parse("tel:7042;phone-context=example.com").unwrap() else {
            panic!()
        };
        assert!(!t.global);
        assert_eq!(t.number, "7042");
        assert_eq!(t.params.value("phone-context"), Some("example.com"));

        // RFC 3966 §6 examples.
        for s in [
            "tel:+1-201-555-0123",
            "tel:7042;phone-context=example.com",
            "tel:863-1234;phone-context=+1-914-555",
            "TEL:*67#;phone-context=+1",
            "tel:+1(201)555.0123;isub=a1b2=c,d;x-custom=%41;flag",
        ] {
            assert!(matches!(Uri::parse(s), Ok(Uri::Tel(_))), "{s}");
        }
        for (bad, why) in [
            ("tel:", "Empty telephone number"),
            ("tel:;phone-context=+1", "Empty telephone number"),
            ("tel:+", "Bad global number"),
            ("tel:+-", "Bad global number"),
            ("tel:+1a", "Bad global number"),
            ("tel:7042", "without phone-context"),
            ("tel:7042;ext=1", "without phone-context"),
            ("tel:70g2;phone-context=example.com", "Bad local number"),
            ("tel:-;phone-context=example.com", "Bad local number"),
            ("tel:+1;ext=12a", "Bad ext"),
            ("tel:+1;ext", "Empty parameter value"),
            ("tel:+1;x=", "Empty parameter value"),
            ("tel:+1;", "Bad parameter name"),
            ("tel:+1;x_y=1", "Bad parameter name"),
            ("tel:+1;x=a?b", "Bad character in tel parameter"),
            ("tel:+1;x=%4", "Bad escape in tel parameter"),
            ("tel:1;phone-context=-bad", "Bad phone-context"),
            ("tel:1;phone-context=+", "Bad phone-context"),
            ("tel:+1?x=y", "Bad global number"),
        ] {
            assert_rejected(bad, why);
        }
    }

    #[test]
    fn tel_equivalence() {
        // Visual separators do not count (RFC 3966 §4).
        assert!(eq("tel:+1-201-555-0123", "tel:+1.201.555.0123"));
        assert!(eq("tel:+1-201-555-0123", "tel:+1(201)5550123"));
        assert!(!eq("tel:+1-201-555-0123", "tel:+1-201-555-0124"));
        // Global never equals local.
        assert!(!eq(
            "tel:+1234;phone-context=+1",
            "tel:1234;phone-context=+1"
        ));
        // phone-context as digits or as a host name; case-insensitive.
        assert!(eq(
            "tel:863-1234;phone-context=+1-914-555",
            "tel:8631234;phone-context=+1914555"
        ));
        assert!(eq(
            "tel:7042;phone-context=EXAMPLE.com",
            "tel:7042;phone-context=example.COM"
        ));
        assert!(!eq(
            "tel:7042;phone-context=example.com",
            "tel:7042;phone-context=example.net"
        ));
        // ext without separators; hex digits case-insensitively.
        assert!(eq("tel:+1;ext=1-2", "tel:+1;EXT=12"));
        assert!(eq("tel:ab*;phone-context=+1", "tel:AB*;phone-context=+1"));
        // A parameter in only one of them: not equal.
        assert!(!eq("tel:+1-201-555-0123", "tel:+1-201-555-0123;ext=1"));
        assert!(!eq("tel:+1;x", "tel:+1;x=1"));
        // tel never equals sip.
        assert!(!eq("tel:+1", "sip:+1@h;user=phone"));
    }

    // --- pres / im (RFC 3859 / RFC 3860) ---

    #[test]
    fn pres_im_parse() {
        let Uri::Pres(p) = Uri::parse("pres:alice@example.com").unwrap() else {
            panic!()
        };
        assert_eq!(
            (p.user, p.domain, p.headers),
            (Some("alice"), "example.com", None)
        );

        let Uri::Im(p) = Uri::parse("im:pepp=example.com/fred@relay-domain").unwrap() else {
            panic!()
        };
        assert_eq!(p.user, Some("pepp=example.com/fred"));
        assert_eq!(p.domain, "relay-domain");

        let Uri::Pres(p) = Uri::parse("PRES:a.b+c@[2001:db8::1]?subject=hi%20there&x=").unwrap()
        else {
            panic!()
        };
        assert_eq!(p.domain, "[2001:db8::1]");
        assert_eq!(
            p.header_pairs().collect::<Vec<_>>(),
            [("subject", "hi%20there"), ("x", "")]
        );
        let Uri::Im(p) = Uri::parse("im:\"a@b\"@example.com").unwrap() else {
            panic!()
        };
        assert_eq!(p.user, Some("\"a@b\""));
        let Uri::Im(p) = Uri::parse("im:example.com").unwrap() else {
            panic!()
        };
        assert_eq!(p.user, None);

        for (bad, why) in [
            ("pres:", "Missing address in pres URI"),
            ("im:?subject=x", "Missing address in im URI"),
            ("pres:alice@", "Missing domain in pres URI"),
            ("pres:@example.com", "Bad local part"),
            ("pres:a..b@example.com", "Bad local part"),
            ("pres:.a@example.com", "Bad local part"),
            ("pres:a(b@example.com", "Bad character in local part"),
            ("pres:a%4@example.com", "Bad escape in local part"),
            ("pres:\"ab@example.com", "Bad quoted local part"),
            ("pres:a@exa_mple..com", "Bad domain in pres URI"),
            ("im:a@b?subject", "im URI header without '='"),
            ("im:a@b?x=[", "Bad character in URI header"),
        ] {
            assert_rejected(bad, why);
        }
    }

    #[test]
    fn pres_im_equivalence() {
        assert!(eq("pres:alice@EXAMPLE.com", "pres:alice@example.COM"));
        assert!(eq("pres:%61lice@example.com", "pres:alice@example.com"));
        assert!(!eq("pres:Alice@example.com", "pres:alice@example.com"));
        assert!(!eq("pres:alice@example.com", "im:alice@example.com"));
        assert!(eq("im:a@b?x=1&y=2", "im:a@b?y=2&x=1"));
        assert!(!eq("im:a@b?x=1", "im:a@b"));
        assert!(eq("im:a@[2001:db8::1]", "im:a@[2001:db8:0::1]"));
    }

    // --- other schemes (RFC 3986) ---

    #[test]
    fn other_schemes() {
        let Uri::Other(o) = Uri::parse("urn:ietf:params:xml:ns:pidf").unwrap() else {
            panic!()
        };
        assert_eq!(o.scheme, "urn");
        assert!(eq(
            "HTTP://www.example.com/a%20b",
            "http://www.example.com/a%20b"
        ));
        assert!(!eq("http://www.example.com", "http://WWW.example.com"));
        for (bad, why) in [
            ("x:", "Empty URI after scheme"),
            ("mailto:a<b@c", "Bad character in URI"),
            ("http://x/%zz", "Bad escape in URI"),
            ("a_b:c", "Bad URI scheme"),
        ] {
            assert_rejected(bad, why);
        }
    }

    // --- unescape ---

    #[test]
    fn unescaping() {
        assert!(matches!(unescape("alice"), Cow::Borrowed("alice")));
        assert_eq!(unescape("%61lice"), "alice");
        assert!(matches!(unescape("%61lice"), Cow::Owned(_)));
        assert_eq!(unescape("caf%C3%A9"), "caf\u{e9}");
        assert_eq!(unescape("100%"), "100%");
        assert_eq!(unescape("%zz%4"), "%zz%4");
        assert_eq!(unescape("a%2"), "a%2");
        // Not UTF-8 once resolved: kept as written.
        assert!(matches!(unescape("x%FFy"), Cow::Borrowed("x%FFy")));
    }

    #[test]
    fn as_str_and_display_round_trip() {
        for s in [
            "sip:alice@atlanta.com;transport=tcp?subject=x",
            "tel:+1-201-555-0123",
            "pres:alice@example.com",
            "im:alice@example.com",
            "urn:x:y",
        ] {
            let u = Uri::parse(s).unwrap();
            assert_eq!(u.as_str(), s);
            assert_eq!(u.to_string(), s);
            assert!(u.equivalent(&u));
        }
    }
}
