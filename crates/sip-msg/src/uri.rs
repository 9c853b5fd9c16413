//! URIs: `sip`/`sips` (RFC 3261 §19.1), `tel` (RFC 3966), `pres` (RFC 3859) and
//! `im` (RFC 3860), plus any other absolute URI kept as text. Zero-copy: every
//! part borrows from the text it was parsed from. Comparison per RFC 3261 §19.1.4.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{ParseError, Result};
use crate::scan::Params;

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
    pub fn parse(s: &'a str) -> Result<Self> {
        let _ = s;
        Err(ParseError::uri("host parsing not implemented"))
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
    /// Parses any absolute URI.
    pub fn parse(s: &'a str) -> Result<Self> {
        let _ = s;
        Err(ParseError::uri("URI parsing not implemented"))
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

    /// The `sip`/`sips` URI, if it is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// RFC 3261 §19.1.4 equivalence (and scheme-appropriate rules for the others).
    pub fn equivalent(&self, other: &Uri<'_>) -> bool {
        let _ = other;
        false
    }
}

impl std::fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `host [":" port]` (a Via `sent-by`, or the host part of a SIP URI).
pub fn parse_hostport(s: &str) -> Result<(Host<'_>, Option<u16>)> {
    let _ = s;
    Err(ParseError::uri("host parsing not implemented"))
}

/// Resolves `%HH` escapes (RFC 3261 §19.1.2); invalid escapes are kept as written.
pub fn unescape(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s)
}
