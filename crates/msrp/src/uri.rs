//! MSRP URIs (RFC 4975 §6, §9):
//!
//! ```text
//! MSRP-URI    = msrp-scheme "://" authority ["/" session-id] ";" transport *( ";" URI-parameter)
//! msrp-scheme = "msrp" / "msrps"
//! session-id  = 1*( unreserved / "+" / "=" / "/" )
//! transport   = "tcp" / 1*ALPHANUM
//! URI-parameter = token ["=" token]
//! ```
//!
//! `authority` is RFC 3986's: `[ userinfo "@" ] host [ ":" port ]`, host a
//! name, an IPv4 address or a bracketed IPv6 reference. A parsed URI keeps its
//! text, so `Display` gives back exactly what was parsed; equality and hashing
//! follow the comparison rules of §6.1.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use crate::error::{ParseError, Result};
use crate::headers::is_token_char;

/// The IANA port for MSRP (RFC 4975 §15.4). Not a default for comparison
/// (§6.1 rule 3); relays use it when an AUTH To-Path names no port (RFC 4976 §8).
pub const DEFAULT_PORT: u16 = 2855;

/// The host part of an MSRP URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A registered name, as written (case preserved).
    Name(&'a str),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 reference (written in brackets).
    V6(Ipv6Addr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostKind {
    Name,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

/// An `msrp:` or `msrps:` URI.
///
/// Equality is RFC 4975 §6.1 equivalence: scheme and host compared without
/// case (after decoding percent-encoded unreserved characters), IP addresses
/// by value, ports exactly (an explicit port never equals an absent one),
/// session-ids with case, transports without case; userinfo and other
/// parameters are ignored. `Hash` agrees with it.
#[derive(Debug, Clone)]
pub struct MsrpUri {
    raw: String,
    secure: bool,
    userinfo: Option<Range<usize>>,
    /// The host as written, IPv6 brackets included.
    host: Range<usize>,
    host_kind: HostKind,
    port: Option<u16>,
    session: Option<Range<usize>>,
    transport: Range<usize>,
    /// `*( ";" URI-parameter)`, each with its leading `;`.
    params: Range<usize>,
}

/// RFC 3986 `unreserved`.
fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `sub-delims` without `;`, which ends the authority of an MSRP URI.
fn is_sub_delim(c: u8) -> bool {
    matches!(
        c,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'='
    )
}

/// Checks `unreserved / pct-encoded / sub-delims` (plus `:` when `colon`).
fn check_authority_text(s: &[u8], colon: bool) -> bool {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'%' {
            if !(s.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
            continue;
        }
        if !(is_unreserved(c) || is_sub_delim(c) || (colon && c == b':')) {
            return false;
        }
        i += 1;
    }
    true
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// The bytes of a host name as §6.1 compares them: percent-encoded unreserved
/// characters decoded, everything lowercased.
fn normalized_host(s: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut i = 0;
    let mut pending: [u8; 2] = [0; 2];
    let mut npending = 0usize;
    std::iter::from_fn(move || {
        if npending > 0 {
            let c = pending[2 - npending];
            npending -= 1;
            return Some(c);
        }
        let c = *s.get(i)?;
        if c == b'%' && i + 2 < s.len() {
            let (h, l) = (s[i + 1], s[i + 2]);
            if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() {
                let d = hex_val(h) * 16 + hex_val(l);
                i += 3;
                if is_unreserved(d) {
                    return Some(d.to_ascii_lowercase());
                }
                pending = [h.to_ascii_lowercase(), l.to_ascii_lowercase()];
                npending = 2;
                return Some(b'%');
            }
        }
        i += 1;
        Some(c.to_ascii_lowercase())
    })
}

/// Everything [`MsrpUri`] holds but its text.
struct Parts {
    secure: bool,
    userinfo: Option<Range<usize>>,
    host: Range<usize>,
    host_kind: HostKind,
    port: Option<u16>,
    session: Option<Range<usize>>,
    transport: Range<usize>,
    params: Range<usize>,
}

impl MsrpUri {
    /// Parses an MSRP URI (RFC 4975 §9).
    pub fn parse(s: &str) -> Result<MsrpUri> {
        let p = scan(s)?;
        Ok(MsrpUri {
            raw: s.to_owned(),
            secure: p.secure,
            userinfo: p.userinfo,
            host: p.host,
            host_kind: p.host_kind,
            port: p.port,
            session: p.session,
            transport: p.transport,
            params: p.params,
        })
    }

    /// Builds a URI from parts: `msrp[s]://host[:port][/session-id];transport`.
    /// An IPv6 `host` may be given with or without brackets.
    pub fn new(
        secure: bool,
        host: &str,
        port: Option<u16>,
        session_id: Option<&str>,
        transport: &str,
    ) -> Result<MsrpUri> {
        let mut s = String::with_capacity(64);
        s.push_str(if secure { "msrps://" } else { "msrp://" });
        if host.contains(':') && !host.starts_with('[') {
            s.push('[');
            s.push_str(host);
            s.push(']');
        } else {
            s.push_str(host);
        }
        if let Some(p) = port {
            s.push(':');
            s.push_str(&p.to_string());
        }
        if let Some(id) = session_id {
            s.push('/');
            s.push_str(id);
        }
        s.push(';');
        s.push_str(transport);
        MsrpUri::parse(&s)
    }

    /// The same URI with another session-id (or none); userinfo and parameters kept.
    pub fn with_session_id(&self, session_id: Option<&str>) -> Result<MsrpUri> {
        let mut s = String::with_capacity(self.raw.len() + 24);
        s.push_str(&self.raw[..self.host.end]);
        if let Some(p) = self.port {
            s.push(':');
            s.push_str(&p.to_string());
        }
        if let Some(id) = session_id {
            s.push('/');
            s.push_str(id);
        }
        s.push(';');
        s.push_str(self.transport());
        s.push_str(&self.raw[self.params.clone()]);
        MsrpUri::parse(&s)
    }

    /// A fresh session-id with 95 bits from the thread's cryptographically
    /// secure generator (RFC 4975 §14.1 wants it unguessable; RFC 4976 §6.3
    /// asks relays for at least 64 bits).
    pub fn random_session_id() -> String {
        crate::ident::MessageId::random().as_str().to_owned()
    }

    /// The URI as text, exactly as parsed.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// `true` for `msrps` (TLS, RFC 4975 §6).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The scheme as written.
    pub fn scheme(&self) -> &str {
        let end = if self.secure { 5 } else { 4 };
        &self.raw[..end]
    }

    /// The userinfo, when present (RFC 4975 §6: a user account, never a password).
    pub fn userinfo(&self) -> Option<&str> {
        self.userinfo.clone().map(|r| &self.raw[r])
    }

    /// The host as written (IPv6 references with their brackets).
    pub fn host_str(&self) -> &str {
        &self.raw[self.host.clone()]
    }

    /// The host, typed.
    pub fn host(&self) -> Host<'_> {
        match self.host_kind {
            HostKind::Name => Host::Name(self.host_str()),
            HostKind::V4(a) => Host::V4(a),
            HostKind::V6(a) => Host::V6(a),
        }
    }

    /// The host as an address, when it is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.host_kind {
            HostKind::Name => None,
            HostKind::V4(a) => Some(IpAddr::V4(a)),
            HostKind::V6(a) => Some(IpAddr::V6(a)),
        }
    }

    /// The explicit port, if any (RFC 4975 §6.1: no default applies).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The session-id, if any (case-sensitive).
    pub fn session_id(&self) -> Option<&str> {
        self.session.clone().map(|r| &self.raw[r])
    }

    /// The transport parameter as written (`tcp`, `ws`, ...).
    pub fn transport(&self) -> &str {
        &self.raw[self.transport.clone()]
    }

    /// The other URI parameters, in order: name and optional value.
    pub fn params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.raw[self.params.clone()]
            .split(';')
            .skip(1)
            .map(|p| match p.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            })
    }

    /// A parameter by name (case-insensitive): `Some(None)` when present without a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The authority (host and port) as §5.4 picks connections by: the same
    /// host, port and scheme reuse a connection.
    pub fn same_authority(&self, other: &MsrpUri) -> bool {
        self.secure == other.secure && self.port == other.port && self.same_host(other)
    }

    fn same_host(&self, other: &MsrpUri) -> bool {
        match (self.host_kind, other.host_kind) {
            (HostKind::V4(a), HostKind::V4(b)) => a == b,
            (HostKind::V6(a), HostKind::V6(b)) => a == b,
            (HostKind::Name, HostKind::Name) => {
                let (a, b) = (self.host_str().as_bytes(), other.host_str().as_bytes());
                if memchr::memchr(b'%', a).is_none() && memchr::memchr(b'%', b).is_none() {
                    a.eq_ignore_ascii_case(b)
                } else {
                    normalized_host(a).eq(normalized_host(b))
                }
            }
            _ => false,
        }
    }
}

/// Parses the parts of an MSRP URI without copying its text.
fn scan(s: &str) -> Result<Parts> {
    let b = s.as_bytes();
    let sep = memchr::memmem::find(b, b"://").ok_or_else(|| ParseError::uri("Not an MSRP URI"))?;
    let scheme = &s[..sep];
    let secure = if scheme.eq_ignore_ascii_case("msrp") {
        false
    } else if scheme.eq_ignore_ascii_case("msrps") {
        true
    } else {
        return Err(ParseError::uri("Not an msrp or msrps URI"));
    };
    let auth_start = sep + 3;
    let auth_end = b[auth_start..]
        .iter()
        .position(|&c| c == b'/' || c == b';')
        .map(|p| auth_start + p)
        .ok_or_else(|| ParseError::uri("MSRP URI without transport"))?;

    // authority = [ userinfo "@" ] host [ ":" port ]
    let mut host_start = auth_start;
    let mut userinfo = None;
    if let Some(at) = memchr::memchr(b'@', &b[auth_start..auth_end]) {
        let at = auth_start + at;
        if !check_authority_text(&b[auth_start..at], true) {
            return Err(ParseError::uri("Bad userinfo in MSRP URI"));
        }
        userinfo = Some(auth_start..at);
        host_start = at + 1;
    }
    let hostport = &b[host_start..auth_end];
    let (host_len, port_text) = if hostport.first() == Some(&b'[') {
        let close = memchr::memchr(b']', hostport)
            .ok_or_else(|| ParseError::uri("Unterminated IPv6 reference in MSRP URI"))?;
        match &hostport[close + 1..] {
            [] => (close + 1, None),
            [b':', port @ ..] => (close + 1, Some(port)),
            _ => return Err(ParseError::uri("Bad host in MSRP URI")),
        }
    } else {
        match memchr::memrchr(b':', hostport) {
            Some(colon) => (colon, Some(&hostport[colon + 1..])),
            None => (hostport.len(), None),
        }
    };
    let host = host_start..host_start + host_len;
    let host_text = &s[host.clone()];
    let host_kind = if let Some(inner) = host_text.strip_prefix('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        HostKind::V6(
            inner
                .parse::<Ipv6Addr>()
                .map_err(|_| ParseError::uri("Bad IPv6 reference in MSRP URI"))?,
        )
    } else if host_text.is_empty() {
        return Err(ParseError::uri("MSRP URI without host"));
    } else if let Ok(a) = host_text.parse::<Ipv4Addr>() {
        HostKind::V4(a)
    } else if check_authority_text(host_text.as_bytes(), false) {
        HostKind::Name
    } else {
        return Err(ParseError::uri("Bad host in MSRP URI"));
    };
    let port = match port_text {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.iter().all(u8::is_ascii_digit) {
                return Err(ParseError::uri("Bad port in MSRP URI"));
            }
            let n: u32 = p.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
            Some(u16::try_from(n).map_err(|_| ParseError::uri("Bad port in MSRP URI"))?)
        }
    };

    // ["/" session-id]
    let mut pos = auth_end;
    let mut session = None;
    if b[pos] == b'/' {
        let start = pos + 1;
        let end = memchr::memchr(b';', &b[start..])
            .map(|p| start + p)
            .ok_or_else(|| ParseError::uri("MSRP URI without transport"))?;
        let id = &b[start..end];
        if id.is_empty()
            || !id
                .iter()
                .all(|&c| is_unreserved(c) || matches!(c, b'+' | b'=' | b'/'))
        {
            return Err(ParseError::uri("Bad session-id in MSRP URI"));
        }
        session = Some(start..end);
        pos = end;
    }

    // ";" transport
    debug_assert_eq!(b.get(pos), Some(&b';'));
    let t_start = pos + 1;
    let t_end = memchr::memchr(b';', &b[t_start..]).map_or(b.len(), |p| t_start + p);
    let transport = &b[t_start..t_end];
    if transport.is_empty() || !transport.iter().all(u8::is_ascii_alphanumeric) {
        return Err(ParseError::uri("Bad transport in MSRP URI"));
    }

    // *( ";" URI-parameter ), URI-parameter = token ["=" token]
    let params = t_end..b.len();
    for p in s[params.clone()].split(';').skip(1) {
        let (name, value) = match p.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (p, None),
        };
        let token = |t: &str| !t.is_empty() && t.bytes().all(is_token_char);
        if !token(name) || value.is_some_and(|v| !token(v)) {
            return Err(ParseError::uri("Bad parameter in MSRP URI"));
        }
    }

    Ok(Parts {
        secure,
        userinfo,
        host,
        host_kind,
        port,
        session,
        transport: t_start..t_end,
        params,
    })
}

impl PartialEq for MsrpUri {
    /// RFC 4975 §6.1.
    fn eq(&self, other: &Self) -> bool {
        // 1. scheme, without case; 2. authority (userinfo ignored); 3. port,
        // exactly; 4. session-id, with case; 5. transport, without case.
        self.secure == other.secure
            && self.port == other.port
            && self.session_id() == other.session_id()
            && self.transport().eq_ignore_ascii_case(other.transport())
            && self.same_host(other)
    }
}

impl Eq for MsrpUri {}

impl Hash for MsrpUri {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.secure.hash(state);
        match self.host_kind {
            HostKind::Name => {
                0u8.hash(state);
                for c in normalized_host(self.host_str().as_bytes()) {
                    state.write_u8(c);
                }
                state.write_u8(0xff);
            }
            HostKind::V4(a) => (1u8, a).hash(state),
            HostKind::V6(a) => (2u8, a).hash(state),
        }
        self.port.hash(state);
        self.session_id().hash(state);
        for c in self.transport().bytes() {
            state.write_u8(c.to_ascii_lowercase());
        }
    }
}

impl fmt::Display for MsrpUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl std::str::FromStr for MsrpUri {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self> {
        MsrpUri::parse(s)
    }
}

/// Parses a path: `MSRP-URI *( SP MSRP-URI )` (To-Path, From-Path, Use-Path,
/// RFC 4975 §9 and RFC 4976 §7). Runs of spaces are tolerated.
pub fn parse_path(s: &str) -> Result<Vec<MsrpUri>> {
    let path = s
        .split_ascii_whitespace()
        .map(MsrpUri::parse)
        .collect::<Result<Vec<_>>>()?;
    if path.is_empty() {
        return Err(ParseError::uri("Empty path"));
    }
    Ok(path)
}

/// Checks a path without building it.
pub(crate) fn check_path(s: &str) -> Result<()> {
    let mut n = 0;
    for u in s.split_ascii_whitespace() {
        scan(u)?;
        n += 1;
    }
    if n == 0 {
        return Err(ParseError::uri("Empty path"));
    }
    Ok(())
}

/// Writes a path as header text: URIs separated by single spaces.
pub fn format_path(path: &[MsrpUri]) -> String {
    let mut s = String::with_capacity(path.iter().map(|u| u.raw.len() + 1).sum());
    for (i, u) in path.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&u.raw);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn h(u: &MsrpUri) -> u64 {
        let mut s = DefaultHasher::new();
        u.hash(&mut s);
        s.finish()
    }

    fn u(s: &str) -> MsrpUri {
        MsrpUri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_the_rfc_examples() {
        let a = u("msrp://host.example.com:8493/asfd34;tcp");
        assert!(!a.is_secure());
        assert_eq!(a.host(), Host::Name("host.example.com"));
        assert_eq!(a.port(), Some(8493));
        assert_eq!(a.session_id(), Some("asfd34"));
        assert_eq!(a.transport(), "tcp");
        assert_eq!(a.to_string(), "msrp://host.example.com:8493/asfd34;tcp");

        let b = u("msrps://alice@intra.example.com;tcp");
        assert!(b.is_secure());
        assert_eq!(b.userinfo(), Some("alice"));
        assert_eq!(b.port(), None);
        assert_eq!(b.session_id(), None);

        let c = u("msrp://[2001:db8::1]:2855/s/x+y=;tcp;foo=bar;baz");
        assert_eq!(c.host(), Host::V6("2001:db8::1".parse().unwrap()));
        assert_eq!(c.host_str(), "[2001:db8::1]");
        assert_eq!(c.session_id(), Some("s/x+y="));
        assert_eq!(
            c.params().collect::<Vec<_>>(),
            [("foo", Some("bar")), ("baz", None)]
        );
        assert_eq!(c.param("FOO"), Some(Some("bar")));
        let d = u("msrp://192.0.2.1:7777/abc;ws");
        assert_eq!(d.ip(), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(d.transport(), "ws");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "sip:alice@example.com",
            "msrp://host:2855/abc",        // no transport
            "msrp://host:2855/;tcp",       // empty session-id
            "msrp://:2855/abc;tcp",        // no host
            "msrp://host:99999/abc;tcp",   // port range
            "msrp://host:/abc;tcp",        // empty port
            "msrp://[::1/abc;tcp",         // unterminated
            "msrp://[nothex]:1/abc;tcp",   // bad IPv6
            "msrp://host:1/a b;tcp",       // space in session-id
            "msrp://host:1/abc;",          // empty transport
            "msrp://host:1/abc;t-cp",      // transport is ALPHANUM
            "msrp://host:1/abc;tcp;a=b=c", // param value is a token
            "msrp://ho st:1/abc;tcp",
            "msrp://host:1/abc;tcp;",
            "http://host:1/abc;tcp",
        ] {
            assert!(MsrpUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn comparison_follows_6_1() {
        let eq = |a: &str, b: &str| {
            let (a, b) = (u(a), u(b));
            let same = a == b;
            if same {
                assert_eq!(h(&a), h(&b), "hash must agree with eq");
            }
            same
        };
        // Scheme and host without case; transport without case.
        assert!(eq(
            "MSRP://Host.Example.COM:1/abc;TCP",
            "msrp://host.example.com:1/abc;tcp"
        ));
        // Session-id with case.
        assert!(!eq("msrp://h:1/abc;tcp", "msrp://h:1/ABC;tcp"));
        // Absent never equals present (session-id, port).
        assert!(!eq("msrp://h:1;tcp", "msrp://h:1/abc;tcp"));
        assert!(!eq("msrp://h/abc;tcp", "msrp://h:2855/abc;tcp"));
        // Different transports never match.
        assert!(!eq("msrp://h:1/abc;tcp", "msrp://h:1/abc;ws"));
        // msrp vs msrps.
        assert!(!eq("msrp://h:1/abc;tcp", "msrps://h:1/abc;tcp"));
        // Userinfo and other parameters are not compared.
        assert!(eq("msrp://alice@h:1/abc;tcp;x=1", "msrp://h:1/abc;tcp"));
        // Percent-encoded unreserved characters are decoded first.
        assert!(eq("msrp://%68ost:1/abc;tcp", "msrp://HOST:1/abc;tcp"));
        assert!(eq("msrp://a%2fb:1/abc;tcp", "msrp://a%2Fb:1/abc;tcp"));
        // IP addresses by value.
        assert!(eq(
            "msrp://[2001:db8::1]:1/a;tcp",
            "msrp://[2001:DB8:0::1]:1/a;tcp"
        ));
        assert!(!eq(
            "msrp://127.0.0.1:1/abc;tcp",
            "msrp://localhost:1/abc;tcp"
        ));
    }

    #[test]
    fn builds_and_rebuilds() {
        let a = MsrpUri::new(
            true,
            "relay.example.com",
            Some(9000),
            Some("jui787s2f"),
            "tcp",
        )
        .unwrap();
        assert_eq!(a.as_str(), "msrps://relay.example.com:9000/jui787s2f;tcp");
        let b = MsrpUri::new(false, "2001:db8::2", Some(1), None, "tcp").unwrap();
        assert_eq!(b.as_str(), "msrp://[2001:db8::2]:1;tcp");
        let c = u("msrps://alice@intra.example.com:12;tcp;x=y")
            .with_session_id(Some("new"))
            .unwrap();
        assert_eq!(c.as_str(), "msrps://alice@intra.example.com:12/new;tcp;x=y");
        let sid = MsrpUri::random_session_id();
        assert!(sid.len() >= 11);
        assert!(a.with_session_id(Some(&sid)).is_ok());
    }

    #[test]
    fn paths() {
        let p = parse_path(
            "msrps://a.example.org:9000/kjfjan;tcp msrps://b.example.net:9000/aeiug;tcp",
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            format_path(&p),
            "msrps://a.example.org:9000/kjfjan;tcp msrps://b.example.net:9000/aeiug;tcp"
        );
        assert!(parse_path("  ").is_err());
        assert!(check_path("msrp://h:1/a;tcp  msrp://h:2/b;tcp").is_ok());
    }
}
