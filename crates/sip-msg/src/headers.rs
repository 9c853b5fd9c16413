//! Typed headers, parsed on demand from the message's header text. Every type
//! borrows from the message; nothing is copied. Parsing validates the whole
//! value (parameters included), so accessors on a parsed value cannot fail.

use std::borrow::Cow;

use crate::error::{ErrorKind, ParseError, Result};
use crate::message::{Method, SipMessage};
use crate::name::HeaderName;
use crate::scan::{
    self, Params, is_token, is_token_char, is_word_char, parse_all_header_params,
    parse_all_header_params_visit, parse_u32, quoted_len, split_list, trim, trim_start,
};
use crate::scan::{find_any, find_byte};
use crate::uri::{Host, Uri};

// ----- name-addr --------------------------------------------------------------

/// `name-addr` or `addr-spec` (RFC 3261 §25.1): a URI with an optional display name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name as written: a quoted string (quotes kept) or tokens.
    pub display: Option<&'a str>,
    /// The URI.
    pub uri: Uri<'a>,
    /// Was the URI enclosed in `<>`?
    pub angle: bool,
}

impl<'a> NameAddr<'a> {
    /// The display name with quotes and escapes resolved.
    pub fn display_name(&self) -> Option<Cow<'a, str>> {
        self.display.map(|d| {
            if d.starts_with('"') {
                scan::unquote(d)
            } else {
                Cow::Borrowed(d)
            }
        })
    }

    /// Parses a name-addr or addr-spec with no trailing parameters.
    pub fn parse(s: &'a str) -> Result<Self> {
        let (na, params) = parse_addr_params(s)?;
        if !params.as_str().is_empty() {
            return Err(ParseError::header("Unexpected parameters after address"));
        }
        Ok(na)
    }
}

impl std::fmt::Display for NameAddr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.display, self.angle) {
            (Some(d), _) => write!(f, "{d} <{}>", self.uri),
            (None, true) => write!(f, "<{}>", self.uri),
            (None, false) => write!(f, "{}", self.uri),
        }
    }
}

/// Parses `(name-addr / addr-spec) *(SEMI generic-param)`: the shape of From,
/// To, Contact, Route, Record-Route, Path, Refer-To.
pub(crate) fn parse_addr_params(s: &str) -> Result<(NameAddr<'_>, Params<'_>)> {
    parse_addr_params_visit(s, |_, _| {})
}

/// [`parse_addr_params`], handing each header parameter to `visit` as the
/// validation reads it (see [`scan::parse_params_visit`]).
#[inline]
fn parse_addr_params_visit<'a>(
    s: &'a str,
    visit: impl FnMut(&'a str, Option<&'a str>),
) -> Result<(NameAddr<'a>, Params<'a>)> {
    let s = trim(s);
    if s.is_empty() {
        return Err(ParseError::header("Empty address"));
    }
    let b = s.as_bytes();
    let (display, uri_text, rest, angle) = if b[0] == b'"' {
        let q = quoted_len(s)?;
        let rest = trim_start(&s[q..]);
        let Some(inner) = rest.strip_prefix('<') else {
            return Err(ParseError::header(
                "Quoted display name not followed by <URI>",
            ));
        };
        let (uri, rest) = split_angle(inner)?;
        (Some(&s[..q]), uri, rest, true)
    } else if let Some(lt) = find_byte(s, b'<') {
        let display = trim(&s[..lt]);
        // display-name = *(token LWS) when unquoted (RFC 4475 §3.1.2.15).
        if !display
            .split([' ', '\t'])
            .all(|w| w.is_empty() || is_token(w))
        {
            return Err(ParseError::header(
                "Display name with non-token characters must be quoted",
            ));
        }
        let (uri, rest) = split_angle(&s[lt + 1..])?;
        ((!display.is_empty()).then_some(display), uri, rest, true)
    } else {
        // addr-spec: a URI with ';', '?' or ',' must be in <> (RFC 3261 §20.10),
        // so the first ';' starts the header parameters.
        let end = find_byte(s, b';').unwrap_or(s.len());
        let uri = trim(&s[..end]);
        if uri.contains('?') {
            return Err(ParseError::header(
                "A URI with headers must be enclosed in <>",
            ));
        }
        (None, uri, &s[end..], false)
    };
    if uri_text.is_empty() {
        return Err(ParseError::header("Empty URI"));
    }
    // A URI that parses has no SP or HTAB (see `Uri::parse`), so whitespace,
    // whose reason comes first, is only looked for when the parse fails.
    let uri = Uri::parse(uri_text).map_err(|e| {
        if uri_text.bytes().any(|c| c == b' ' || c == b'\t') {
            ParseError::header("Whitespace inside addr-spec")
        } else {
            e
        }
    })?;
    let params = parse_all_header_params_visit(rest, "header", visit)?;
    Ok((
        NameAddr {
            display,
            uri,
            angle,
        },
        params,
    ))
}

/// Splits `addr-spec> rest` at the closing `>`.
fn split_angle(s: &str) -> Result<(&str, &str)> {
    let gt = find_byte(s, b'>').ok_or_else(|| ParseError::header("Missing '>' after URI"))?;
    Ok((&s[..gt], &s[gt + 1..]))
}

// ----- From / To ------------------------------------------------------------------

/// From or To (RFC 3261 §20.20, §20.39).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FromTo<'a> {
    /// The address.
    pub addr: NameAddr<'a>,
    /// The header parameters (`tag` among them).
    pub params: Params<'a>,
    /// The first `tag` parameter, found by the parse's walk over `params`.
    tag: Option<&'a str>,
}

impl<'a> FromTo<'a> {
    /// Parses a From or To value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let mut tag = None;
        let (addr, params) = parse_addr_params_visit(s, |name, value| {
            if tag.is_none() && name.eq_ignore_ascii_case("tag") {
                tag = Some(value);
            }
        })?;
        if let Some(tag) = tag {
            match tag {
                Some(t) if is_token(t) => {}
                _ => return Err(ParseError::header("tag must be a token")),
            }
        }
        Ok(FromTo {
            addr,
            params,
            tag: tag.flatten(),
        })
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&'a str> {
        self.tag
    }
}

// ----- Contact ------------------------------------------------------------------

/// One Contact value (RFC 3261 §20.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `Contact: *` (only with Expires: 0 in a REGISTER, RFC 3261 §10.2.2).
    Wildcard,
    /// An address with its parameters.
    Addr {
        /// The address.
        addr: NameAddr<'a>,
        /// The parameters (`expires`, `q`, `+sip.instance`, `reg-id`, ...).
        params: Params<'a>,
        /// The parameters the accessors read, found by the parse's one walk
        /// over `params` (match with `..`).
        known: ContactKnown<'a>,
    },
}

/// The Contact parameters the accessors read: the first of each name, as in
/// [`Params::get`], already checked and converted by the parse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactKnown<'a> {
    expires: Option<u32>,
    q: Option<u16>,
    reg_id: Option<u32>,
    /// `Some(None)`: the first `+sip.instance` has no value.
    instance: Option<Option<&'a str>>,
}

impl<'a> Contact<'a> {
    /// Parses one Contact value (already split at commas).
    pub fn parse(s: &'a str) -> Result<Self> {
        if trim(s) == "*" {
            return Ok(Contact::Wildcard);
        }
        // Check the typed parameters as the validation walks them, so the
        // accessors cannot fail; the first failure is reported once the whole
        // value has been found well-formed.
        let mut first_err: Option<ParseError> = None;
        let mut known = ContactKnown::default();
        let (addr, params) = parse_addr_params_visit(s, |name, value| {
            if let Err(e) = known.note(name, value)
                && first_err.is_none()
            {
                first_err = Some(e);
            }
        })?;
        if let Some(e) = first_err {
            return Err(e);
        }
        Ok(Contact::Addr {
            addr,
            params,
            known,
        })
    }

    /// The address, unless this is the wildcard.
    pub fn addr(&self) -> Option<&NameAddr<'a>> {
        match self {
            Contact::Wildcard => None,
            Contact::Addr { addr, .. } => Some(addr),
        }
    }

    /// The parameters (empty for the wildcard).
    pub fn params(&self) -> Params<'a> {
        match self {
            Contact::Wildcard => Params::default(),
            Contact::Addr { params, .. } => *params,
        }
    }

    fn known(&self) -> ContactKnown<'a> {
        match self {
            Contact::Wildcard => ContactKnown::default(),
            Contact::Addr { known, .. } => *known,
        }
    }

    /// The `expires` parameter in seconds.
    pub fn expires(&self) -> Option<u32> {
        self.known().expires
    }

    /// The `q` parameter in thousandths (1000 = 1.0).
    pub fn q(&self) -> Option<u16> {
        self.known().q
    }

    /// The `+sip.instance` parameter without its quotes and angle brackets
    /// (RFC 5626 §4.1), e.g. `urn:uuid:...`.
    pub fn instance(&self) -> Option<&'a str> {
        let v = self.known().instance.flatten()?;
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        Some(
            v.strip_prefix('<')
                .and_then(|v| v.strip_suffix('>'))
                .unwrap_or(v),
        )
    }

    /// The `reg-id` parameter (RFC 5626 §4.2).
    pub fn reg_id(&self) -> Option<u32> {
        self.known().reg_id
    }
}

impl<'a> ContactKnown<'a> {
    /// Checks the value rules of the parameters the accessors read (every
    /// occurrence) and keeps the first of each name.
    fn note(&mut self, name: &'a str, value: Option<&'a str>) -> Result<()> {
        let v = value.unwrap_or("");
        if name.eq_ignore_ascii_case("expires") {
            let n = parse_u32(v, "Contact expires")?;
            self.expires = self.expires.or(Some(n));
        } else if name.eq_ignore_ascii_case("q") {
            let q = parse_qvalue(v)?;
            self.q = self.q.or(Some(q));
        } else if name.eq_ignore_ascii_case("reg-id") {
            let n = parse_u32(v, "reg-id")?;
            if n == 0 {
                return Err(ParseError::header("reg-id must be positive"));
            }
            self.reg_id = self.reg_id.or(Some(n));
        } else if name.eq_ignore_ascii_case("+sip.instance") {
            self.instance = self.instance.or(Some(value));
        }
        Ok(())
    }
}

/// RFC 3261 §25.1: `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`,
/// returned in thousandths.
pub fn parse_qvalue(s: &str) -> Result<u16> {
    let bad = || ParseError::header(format!("Bad q-value '{s}'"));
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let mut thousandths: u16 = 0;
    for (i, c) in frac.bytes().enumerate() {
        thousandths += u16::from(c - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Ok(thousandths),
        "1" if thousandths == 0 => Ok(1000),
        _ => Err(bad()),
    }
}

// ----- Route / Record-Route / Path -----------------------------------------------

/// One Route, Record-Route or Path value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteEntry<'a> {
    /// The address (always `<>`-enclosed on the wire).
    pub addr: NameAddr<'a>,
    /// Header parameters after the `>`.
    pub params: Params<'a>,
}

impl<'a> RouteEntry<'a> {
    /// Parses one value (already split at commas). RFC 3261 §20.34: `route-param
    /// = name-addr *( SEMI rr-param )` — the URI must be in `<>`.
    pub fn parse(s: &'a str) -> Result<Self> {
        let (addr, params) = parse_addr_params(s)?;
        if !addr.angle {
            return Err(ParseError::header("Route URI must be enclosed in <>"));
        }
        Ok(RouteEntry { addr, params })
    }
}

// ----- Via ------------------------------------------------------------------------

/// One Via value (RFC 3261 §20.42).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    /// Protocol name, `SIP`.
    pub protocol: &'a str,
    /// Protocol version, `2.0`.
    pub version: &'a str,
    /// Transport: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS`, or another token.
    pub transport: &'a str,
    /// sent-by host.
    pub host: Host<'a>,
    /// sent-by port, when written.
    pub port: Option<u16>,
    /// Parameters (`branch`, `received`, `rport`, `maddr`, `ttl`, ...).
    pub params: Params<'a>,
    /// The parameters the core reads, found by the parse's one walk over
    /// `params` so that reading them walks nothing.
    known: ViaKnown<'a>,
}

/// The well-known Via parameters: the first of each name, as in
/// [`Params::get`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ViaKnown<'a> {
    pub(crate) branch: Option<&'a str>,
    pub(crate) received: Option<&'a str>,
    pub(crate) rport: Option<Option<&'a str>>,
    pub(crate) maddr: Option<&'a str>,
    pub(crate) ttl: Option<&'a str>,
}

impl<'a> Via<'a> {
    /// Parses one Via value (already split at commas).
    pub fn parse(s: &'a str) -> Result<Self> {
        let s = trim(s);
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport,
        // with SWS allowed around each slash (RFC 4475 §3.1.1.1).
        let (protocol, rest) =
            take_token(s).ok_or_else(|| ParseError::header("Bad protocol name"))?;
        let rest = expect_slash(rest)?;
        let (version, rest) =
            take_token(rest).ok_or_else(|| ParseError::header("Bad protocol version"))?;
        let rest = expect_slash(rest)?;
        let (transport, rest) =
            take_token(rest).ok_or_else(|| ParseError::header("Bad transport"))?;
        if !rest.starts_with([' ', '\t']) {
            return Err(ParseError::header("Missing whitespace before sent-by"));
        }
        let rest = trim_start(rest);
        let end = find_byte(rest, b';').unwrap_or(rest.len());
        let (host, port) = parse_sent_by(trim(&rest[..end]))?;
        let mut known = ViaKnown::default();
        // The value rules are checked as the validation walks the list; the
        // first failure is reported once the whole list is well-formed.
        let mut bad_param: Option<&str> = None;
        let params = parse_all_header_params_visit(&rest[end..], "Via", |name, v| {
            let ok = if name.eq_ignore_ascii_case("ttl") {
                known.ttl = known.ttl.or(v);
                v.and_then(|v| v.parse::<u8>().ok()).is_some()
                    && v.is_some_and(|v| v.bytes().all(|c| c.is_ascii_digit()))
            } else if name.eq_ignore_ascii_case("rport") {
                known.rport = known.rport.or(Some(v));
                v.is_none_or(|v| v.parse::<u16>().is_ok() && v.bytes().all(|c| c.is_ascii_digit()))
            } else if name.eq_ignore_ascii_case("received") {
                known.received = known.received.or(v);
                // RFC 3261 §20.42: IPv4address / IPv6address; RFC 5118 §4.5:
                // accept it with or without brackets.
                v.is_some_and(|v| Host::parse_received(v).is_ok())
            } else if name.eq_ignore_ascii_case("maddr") {
                known.maddr = known.maddr.or(v);
                v.is_some_and(|v| Host::parse(v).is_ok())
            } else if name.eq_ignore_ascii_case("branch") {
                known.branch = known.branch.or(v);
                v.is_some_and(is_token)
            } else {
                true
            };
            if !ok && bad_param.is_none() {
                bad_param = Some(name);
            }
        })?;
        if let Some(name) = bad_param {
            return Err(ParseError::header(format!("Bad Via parameter '{name}'")));
        }
        Ok(Via {
            protocol,
            version,
            transport,
            host,
            port,
            params,
            known,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.known.branch
    }

    /// Does the branch carry the RFC 3261 magic cookie `z9hG4bK` (§8.1.1.7)?
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&'a str> {
        self.known.received
    }

    /// `rport` (RFC 3581): `None` when absent, `Some(None)` when present without
    /// a value (a request to fill it in), `Some(Some(port))` when filled.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.known.rport.map(|v| v.and_then(|v| v.parse().ok()))
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.known.maddr
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.known.ttl.and_then(|v| v.parse().ok())
    }
}

fn take_token(s: &str) -> Option<(&str, &str)> {
    let s = trim_start(s);
    let end = s.bytes().position(|c| !is_token_char(c)).unwrap_or(s.len());
    (end > 0).then(|| (&s[..end], &s[end..]))
}

fn expect_slash(s: &str) -> Result<&str> {
    trim_start(s)
        .strip_prefix('/')
        .ok_or_else(|| ParseError::header("Malformed sent-protocol"))
}

/// `sent-by = host [ COLON port ]`, COLON allowing SWS around it.
fn parse_sent_by(s: &str) -> Result<(Host<'_>, Option<u16>)> {
    let (host, port) = if s.starts_with('[') {
        let close =
            find_byte(s, b']').ok_or_else(|| ParseError::header("Unterminated IPv6 reference"))?;
        (&s[..=close], trim(&s[close + 1..]))
    } else {
        match find_any(s, b": \t") {
            Some(i) => (&s[..i], trim(&s[i..])),
            None => (s, ""),
        }
    };
    let port = if port.is_empty() {
        None
    } else {
        let p = trim(
            port.strip_prefix(':')
                .ok_or_else(|| ParseError::header("Junk after sent-by host"))?,
        );
        Some(parse_port(p)?)
    };
    Ok((
        Host::parse(host).map_err(|e| e.context("Bad sent-by"))?,
        port,
    ))
}

/// A port: 1 to 5 digits that fit `u16`.
pub(crate) fn parse_port(s: &str) -> Result<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ParseError::header(format!("Bad port '{s}'")));
    }
    s.parse()
        .map_err(|_| ParseError::header(format!("Port out of range '{s}'")))
}

// ----- CSeq, Call-ID, scalars ----------------------------------------------------

/// CSeq (RFC 3261 §20.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number (less than 2**31 when we generate it; up to 2**32-1 accepted).
    pub seq: u32,
    /// The method token as written.
    pub method_str: &'a str,
}

impl<'a> CSeq<'a> {
    /// Parses `1*DIGIT LWS Method`.
    pub fn parse(s: &'a str) -> Result<Self> {
        let s = trim(s);
        let split = find_any(s, b" \t").ok_or_else(|| ParseError::header("CSeq without method"))?;
        let seq = parse_u32(&s[..split], "CSeq number")?;
        let method_str = trim(&s[split..]);
        if !is_token(method_str) {
            return Err(ParseError::header("Bad CSeq method"));
        }
        Ok(CSeq { seq, method_str })
    }

    /// The method.
    pub fn method(&self) -> Method {
        Method::from_token(self.method_str)
    }
}

/// RFC 3261 §25.1: `callid = word [ "@" word ]`.
pub fn check_call_id(s: &str) -> Result<()> {
    // One pass: word characters around at most one '@' (not a word
    // character), which needs a word on each side.
    let b = s.as_bytes();
    let others = b.iter().filter(|&&c| !is_word_char(c)).count();
    let ok = !b.is_empty()
        && match others {
            0 => true,
            1 => find_byte(s, b'@').is_some_and(|i| i > 0 && i + 1 < b.len()),
            _ => false,
        };
    if ok {
        Ok(())
    } else {
        Err(ParseError::header("Bad Call-ID"))
    }
}

// ----- media types --------------------------------------------------------------

/// A media type or media range with parameters: Content-Type (RFC 3261 §20.15)
/// and each Accept element (§20.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// Type, e.g. `application` (or `*` in Accept).
    pub mtype: &'a str,
    /// Subtype, e.g. `pidf+xml` (or `*` in Accept).
    pub subtype: &'a str,
    /// Parameters (`charset`, `boundary`, `type`, `q`, ...).
    pub params: Params<'a>,
}

impl<'a> MediaType<'a> {
    /// Parses `type SLASH subtype *(SEMI m-parameter)`.
    pub fn parse(s: &'a str) -> Result<Self> {
        let (mtype, rest) = take_token(s).ok_or_else(|| ParseError::header("Bad media type"))?;
        let rest = trim_start(rest)
            .strip_prefix('/')
            .ok_or_else(|| ParseError::header("Media type without '/'"))?;
        let (subtype, rest) =
            take_token(rest).ok_or_else(|| ParseError::header("Bad media subtype"))?;
        let params = parse_all_header_params(rest, "media type")?;
        Ok(MediaType {
            mtype,
            subtype,
            params,
        })
    }

    /// Is this `type/subtype` (case-insensitive)?
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// Does this media range (which may use `*`) accept `mtype/subtype`?
    pub fn matches(&self, mtype: &str, subtype: &str) -> bool {
        (self.mtype == "*" || self.mtype.eq_ignore_ascii_case(mtype))
            && (self.subtype == "*" || self.subtype.eq_ignore_ascii_case(subtype))
    }

    /// A parameter's value without quotes (`charset`, `boundary`).
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params.value(name).map(scan::unquote)
    }
}

// ----- Event, Allow-Events, Subscription-State -------------------------------------

/// Event (RFC 6665 §8.2.1): `event-type *( SEMI event-param )`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event type, package and templates: `presence`, `presence.winfo`.
    pub event_type: &'a str,
    /// Parameters (`id` among them).
    pub params: Params<'a>,
}

impl<'a> Event<'a> {
    /// Parses an Event value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let s = trim(s);
        let end = find_any(s, b"; \t").unwrap_or(s.len());
        let event_type = &s[..end];
        check_event_type(event_type)?;
        let params = parse_all_header_params(&s[end..], "Event")?;
        Ok(Event { event_type, params })
    }

    /// The package: the event type before the first `.`.
    pub fn package(&self) -> &'a str {
        self.event_type.split('.').next().unwrap_or(self.event_type)
    }

    /// The `id` parameter.
    pub fn id(&self) -> Option<&'a str> {
        self.params.value("id")
    }
}

/// `event-type = event-package *( "." event-template )`, each a token without dots.
fn check_event_type(s: &str) -> Result<()> {
    // One pass: token characters ('.' among them) with no empty part: no
    // '.' first, last or twice in a row.
    let b = s.as_bytes();
    let mut ok = b.first().is_some_and(|&c| c != b'.') && b.last().is_some_and(|&c| c != b'.');
    let mut prev = 0u8;
    for &c in b {
        ok &= is_token_char(c) & !(c == b'.' && prev == b'.');
        prev = c;
    }
    if ok {
        Ok(())
    } else {
        Err(ParseError::header(format!("Bad event type '{s}'")))
    }
}

/// Subscription-State (RFC 6665 §8.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionState<'a> {
    /// `active`, `pending`, `terminated`, or an extension.
    pub state: &'a str,
    /// Parameters (`expires`, `reason`, `retry-after`).
    pub params: Params<'a>,
}

impl<'a> SubscriptionState<'a> {
    /// Parses a Subscription-State value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let s = trim(s);
        let end = find_any(s, b"; \t").unwrap_or(s.len());
        let state = &s[..end];
        if !is_token(state) {
            return Err(ParseError::header("Bad subscription state"));
        }
        let params = parse_all_header_params(&s[end..], "Subscription-State")?;
        for name in ["expires", "retry-after"] {
            if let Some(v) = params.get(name) {
                parse_u32(v.unwrap_or(""), name)?;
            }
        }
        if let Some(r) = params.get("reason")
            && !r.is_some_and(is_token)
        {
            return Err(ParseError::header("Bad Subscription-State reason"));
        }
        Ok(SubscriptionState { state, params })
    }

    /// The `expires` parameter.
    pub fn expires(&self) -> Option<u32> {
        self.params.value("expires").and_then(|v| v.parse().ok())
    }

    /// The `reason` parameter (`deactivated`, `probation`, `rejected`, `timeout`,
    /// `giveup`, `noresource`, `invariant`).
    pub fn reason(&self) -> Option<&'a str> {
        self.params.value("reason")
    }

    /// The `retry-after` parameter.
    pub fn retry_after(&self) -> Option<u32> {
        self.params
            .value("retry-after")
            .and_then(|v| v.parse().ok())
    }
}

// ----- message accessors ---------------------------------------------------------

fn missing(name: &'static str) -> ParseError {
    ParseError::new(ErrorKind::MissingHeader, format!("Missing {name}"))
}

fn bad(name: &str) -> impl Fn(ParseError) -> ParseError + '_ {
    move |e| {
        if e.kind() == ErrorKind::Header || e.kind() == ErrorKind::Uri {
            e.context(&format!("Bad {name}"))
        } else {
            e
        }
    }
}

/// Iterator over the comma-separated elements of every line of one header.
fn list_items(msg: &SipMessage, name: HeaderName) -> impl Iterator<Item = Result<&str>> + '_ {
    msg.header_lines(name)
        .filter(|v| !trim(v).is_empty())
        .flat_map(split_list)
        .map(move |r| match r {
            Ok("") => Err(ParseError::header(format!(
                "Empty element in {} list",
                name.as_str().unwrap_or("header")
            ))),
            other => other,
        })
}

fn single<'m, T>(
    msg: &'m SipMessage,
    name: HeaderName,
    parse: impl Fn(&'m str) -> Result<T>,
) -> Result<Option<T>> {
    let label = name.as_str().unwrap_or("header");
    msg.header(name)
        .map(|v| parse(v).map_err(bad(label)))
        .transpose()
}

/// A part of a header value, as byte offsets into it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rel(u32, u32);

impl Rel {
    /// Where `part` (a slice of `base`) lies in `base`; `None` if it is not
    /// a slice of it.
    fn of(base: &str, part: &str) -> Option<Rel> {
        let start = (part.as_ptr() as usize).checked_sub(base.as_ptr() as usize)?;
        let end = start.checked_add(part.len())?;
        (end <= base.len()).then_some(Rel(start as u32, end as u32))
    }

    fn get(self, base: &str) -> Option<&str> {
        base.get(self.0 as usize..self.1 as usize)
    }
}

#[derive(Debug, Clone, Copy)]
enum RelHost {
    Name(Rel),
    V4(std::net::Ipv4Addr),
    V6(std::net::Ipv6Addr),
}

/// A parsed top Via kept by its message (see `SipMessage::via`): offsets into
/// the text of the first Via line.
#[derive(Debug, Clone)]
pub(crate) struct TopVia {
    protocol: Rel,
    version: Rel,
    transport: Rel,
    host: RelHost,
    port: Option<u16>,
    params: Rel,
    branch: Option<Rel>,
    received: Option<Rel>,
    rport: Option<Option<Rel>>,
    maddr: Option<Rel>,
    ttl: Option<Rel>,
}

impl TopVia {
    fn record(base: &str, v: &Via<'_>) -> Option<TopVia> {
        let opt = |p: Option<&str>| -> Option<Option<Rel>> {
            match p {
                Some(p) => Rel::of(base, p).map(Some),
                None => Some(None),
            }
        };
        Some(TopVia {
            protocol: Rel::of(base, v.protocol)?,
            version: Rel::of(base, v.version)?,
            transport: Rel::of(base, v.transport)?,
            host: match v.host {
                Host::Name(n) => RelHost::Name(Rel::of(base, n)?),
                Host::V4(a) => RelHost::V4(a),
                Host::V6(a) => RelHost::V6(a),
            },
            port: v.port,
            params: Rel::of(base, v.params.as_str())?,
            branch: opt(v.known.branch)?,
            received: opt(v.known.received)?,
            rport: match v.known.rport {
                Some(r) => Some(opt(r)?),
                None => None,
            },
            maddr: opt(v.known.maddr)?,
            ttl: opt(v.known.ttl)?,
        })
    }

    fn rebuild<'a>(&self, base: &'a str) -> Option<Via<'a>> {
        let opt = |r: Option<Rel>| -> Option<Option<&'a str>> {
            match r {
                Some(r) => r.get(base).map(Some),
                None => Some(None),
            }
        };
        Some(Via {
            protocol: self.protocol.get(base)?,
            version: self.version.get(base)?,
            transport: self.transport.get(base)?,
            host: match self.host {
                RelHost::Name(r) => Host::Name(r.get(base)?),
                RelHost::V4(a) => Host::V4(a),
                RelHost::V6(a) => Host::V6(a),
            },
            port: self.port,
            params: Params::from_validated(self.params.get(base)?),
            known: ViaKnown {
                branch: opt(self.branch)?,
                received: opt(self.received)?,
                rport: match self.rport {
                    Some(r) => Some(opt(r)?),
                    None => None,
                },
                maddr: opt(self.maddr)?,
                ttl: opt(self.ttl)?,
            },
        })
    }
}

impl SipMessage {
    /// The top Via. Parsed on the first call and kept (until a Via edit):
    /// later calls rebuild it from offsets without parsing.
    pub fn via(&self) -> Result<Via<'_>> {
        let base = self.header(HeaderName::Via).unwrap_or("");
        if let Some(v) = self.top_via.get().and_then(|t| t.rebuild(base)) {
            return Ok(v);
        }
        let via = match list_items(self, HeaderName::Via).next() {
            Some(v) => v.and_then(Via::parse).map_err(bad("Via"))?,
            None => return Err(missing("Via")),
        };
        if let Some(t) = TopVia::record(base, &via) {
            let _ = self.top_via.set(Box::new(t));
        }
        Ok(via)
    }

    /// Every Via value, top first.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'_>>> + '_ {
        list_items(self, HeaderName::Via).map(|r| r.and_then(Via::parse).map_err(bad("Via")))
    }

    /// From.
    pub fn from(&self) -> Result<FromTo<'_>> {
        single(self, HeaderName::From, FromTo::parse)?.ok_or_else(|| missing("From"))
    }

    /// To.
    pub fn to(&self) -> Result<FromTo<'_>> {
        single(self, HeaderName::To, FromTo::parse)?.ok_or_else(|| missing("To"))
    }

    /// The From tag: [`from`](Self::from)`()?.tag()`, parsed once and kept.
    pub fn from_tag(&self) -> Result<Option<&str>> {
        self.cached_tag(0, HeaderName::From, Self::from)
    }

    /// The To tag: [`to`](Self::to)`()?.tag()`, parsed once and kept.
    pub fn to_tag(&self) -> Result<Option<&str>> {
        self.cached_tag(1, HeaderName::To, Self::to)
    }

    fn cached_tag<'s>(
        &'s self,
        slot: usize,
        name: HeaderName,
        parse: fn(&'s Self) -> Result<FromTo<'s>>,
    ) -> Result<Option<&'s str>> {
        let base = self.header(name).unwrap_or("");
        if let Some(cached) = self.tags[slot].get() {
            match cached {
                None => return Ok(None),
                Some(r) => {
                    if let Some(t) = r.get(base) {
                        return Ok(Some(t));
                    }
                }
            }
        }
        let tag = parse(self)?.tag();
        let rel = match tag {
            Some(t) => Rel::of(base, t).map(Some),
            None => Some(None),
        };
        if let Some(rel) = rel {
            let _ = self.tags[slot].set(rel);
        }
        Ok(tag)
    }

    /// Call-ID.
    pub fn call_id(&self) -> Result<&str> {
        let v = self
            .header(HeaderName::CallId)
            .ok_or_else(|| missing("Call-ID"))?;
        check_call_id(v)?;
        Ok(v)
    }

    /// CSeq.
    pub fn cseq(&self) -> Result<CSeq<'_>> {
        single(self, HeaderName::CSeq, CSeq::parse)?.ok_or_else(|| missing("CSeq"))
    }

    /// Max-Forwards, when present (RFC 3261 §20.22; at most 255 in practice, and
    /// RFC 4475 §3.1.2.4 treats 300 as overlarge).
    pub fn max_forwards(&self) -> Result<Option<u8>> {
        single(self, HeaderName::MaxForwards, |v| {
            let n = parse_u32(trim(v), "Max-Forwards")?;
            u8::try_from(n).map_err(|_| ParseError::header("Max-Forwards too large"))
        })
    }

    /// Every Contact value in order.
    pub fn contacts(&self) -> impl Iterator<Item = Result<Contact<'_>>> + '_ {
        list_items(self, HeaderName::Contact)
            .map(|r| r.and_then(Contact::parse).map_err(bad("Contact")))
    }

    /// The first Contact value, if any.
    pub fn contact(&self) -> Result<Option<Contact<'_>>> {
        self.contacts().next().transpose()
    }

    /// Expires (delta-seconds).
    pub fn expires(&self) -> Result<Option<u32>> {
        single(self, HeaderName::Expires, |v| parse_u32(trim(v), "Expires"))
    }

    /// Min-Expires (delta-seconds).
    pub fn min_expires(&self) -> Result<Option<u32>> {
        single(self, HeaderName::MinExpires, |v| {
            parse_u32(trim(v), "Min-Expires")
        })
    }

    /// Route values, top first.
    pub fn routes(&self) -> impl Iterator<Item = Result<RouteEntry<'_>>> + '_ {
        list_items(self, HeaderName::Route)
            .map(|r| r.and_then(RouteEntry::parse).map_err(bad("Route")))
    }

    /// Record-Route values, top first.
    pub fn record_routes(&self) -> impl Iterator<Item = Result<RouteEntry<'_>>> + '_ {
        list_items(self, HeaderName::RecordRoute)
            .map(|r| r.and_then(RouteEntry::parse).map_err(bad("Record-Route")))
    }

    /// Path values (RFC 3327), top first.
    pub fn paths(&self) -> impl Iterator<Item = Result<RouteEntry<'_>>> + '_ {
        list_items(self, HeaderName::Path)
            .map(|r| r.and_then(RouteEntry::parse).map_err(bad("Path")))
    }

    /// Content-Type.
    pub fn content_type(&self) -> Result<Option<MediaType<'_>>> {
        single(self, HeaderName::ContentType, MediaType::parse)
    }

    /// Accept elements (media ranges). An empty Accept header yields nothing.
    pub fn accept(&self) -> impl Iterator<Item = Result<MediaType<'_>>> + '_ {
        list_items(self, HeaderName::Accept)
            .map(|r| r.and_then(MediaType::parse).map_err(bad("Accept")))
    }

    /// Event.
    pub fn event(&self) -> Result<Option<Event<'_>>> {
        single(self, HeaderName::Event, Event::parse)
    }

    /// Allow-Events: event types.
    pub fn allow_events(&self) -> impl Iterator<Item = Result<&str>> + '_ {
        list_items(self, HeaderName::AllowEvents).map(|r| {
            r.and_then(|t| check_event_type(t).map(|()| t))
                .map_err(bad("Allow-Events"))
        })
    }

    /// Subscription-State.
    pub fn subscription_state(&self) -> Result<Option<SubscriptionState<'_>>> {
        single(
            self,
            HeaderName::SubscriptionState,
            SubscriptionState::parse,
        )
    }

    /// SIP-ETag (RFC 3903 §11.3.1): an entity-tag token.
    pub fn sip_etag(&self) -> Result<Option<&str>> {
        single(self, HeaderName::SipETag, entity_tag)
    }

    /// SIP-If-Match (RFC 3903 §11.3.2).
    pub fn sip_if_match(&self) -> Result<Option<&str>> {
        single(self, HeaderName::SipIfMatch, entity_tag)
    }

    /// Token-list headers: Allow, Supported, Require, Proxy-Require,
    /// Unsupported, Content-Encoding. Yields each token.
    pub fn tokens(&self, name: HeaderName) -> impl Iterator<Item = Result<&str>> + '_ {
        list_items(self, name).map(move |r| {
            r.and_then(|t| {
                if is_token(t) {
                    Ok(t)
                } else {
                    Err(ParseError::header(format!(
                        "Bad {} token '{t}'",
                        name.as_str().unwrap_or("header")
                    )))
                }
            })
        })
    }

    /// Does a token-list header (Supported, Require, ...) name `option`?
    pub fn has_token(&self, name: HeaderName, option: &str) -> bool {
        self.tokens(name)
            .any(|t| t.is_ok_and(|t| t.eq_ignore_ascii_case(option)))
    }

    /// Checks what every element needs before it can answer: Via, From, To,
    /// Call-ID, CSeq (RFC 3261 §8.1.1), CSeq method matching the request method
    /// (RFC 4475 §3.1.2.17), Max-Forwards and the Request-URI (§19.1.1: no
    /// headers in a SIP Request-URI). Returns the first problem.
    pub fn check_core(&self) -> Result<()> {
        // RFC 4475 §3.3.8: one value only in these single-valued fields.
        for name in [
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
            HeaderName::MaxForwards,
        ] {
            self.check_single(name)?;
        }
        // The top one through `via()`, which keeps it for later callers.
        self.via()?;
        for v in self.vias().skip(1) {
            v?;
        }
        // Through the tag accessors, which keep the tags for later callers.
        self.from_tag()?;
        self.to_tag()?;
        self.call_id()?;
        let cseq = self.cseq()?;
        if let Some(m) = self.method_str() {
            if cseq.method_str != m {
                return Err(ParseError::header(
                    "CSeq method does not match the request method",
                ));
            }
            self.max_forwards()?;
            let ruri = self.request_uri_str().unwrap_or("");
            let uri = Uri::parse(ruri).map_err(|e| e.context("Bad Request-URI"))?;
            if let Uri::Sip(s) = uri
                && s.headers.is_some()
            {
                return Err(ParseError::uri("Request-URI must not contain headers"));
            }
        }
        Ok(())
    }

    /// Checks every header this crate knows, and a multipart body against its
    /// boundary. `herald lint` reports what this returns.
    pub fn validate(&self) -> Result<()> {
        self.check_core()?;
        self.validate_beyond_core()
    }

    /// [`SipMessage::validate`] without the [`SipMessage::check_core`] part,
    /// for callers (the transport driver) that checked the core already.
    pub fn validate_beyond_core(&self) -> Result<()> {
        for name in [
            HeaderName::ContentType,
            HeaderName::Expires,
            HeaderName::MinExpires,
            HeaderName::Event,
            HeaderName::SubscriptionState,
            HeaderName::SipETag,
            HeaderName::SipIfMatch,
            HeaderName::Date,
            HeaderName::RetryAfter,
            HeaderName::Timestamp,
        ] {
            self.check_single(name)?;
        }
        // One pass: every Contact parses, and `*` stands alone.
        let (mut contacts, mut wildcard) = (0usize, false);
        for c in self.contacts() {
            wildcard |= matches!(c?, Contact::Wildcard);
            contacts += 1;
        }
        if wildcard && contacts > 1 {
            return Err(ParseError::header("Contact '*' must be the only Contact"));
        }
        self.expires()?;
        self.min_expires()?;
        for r in self
            .routes()
            .chain(self.record_routes())
            .chain(self.paths())
        {
            r?;
        }
        let ct = self.content_type()?;
        for a in self.accept() {
            a?;
        }
        self.event()?;
        for e in self.allow_events() {
            e?;
        }
        self.subscription_state()?;
        self.sip_etag()?;
        self.sip_if_match()?;
        for name in [
            HeaderName::Allow,
            HeaderName::Supported,
            HeaderName::Require,
            HeaderName::ProxyRequire,
            HeaderName::Unsupported,
            HeaderName::ContentEncoding,
        ] {
            for t in self.tokens(name) {
                t?;
            }
        }
        for v in self.header_lines(HeaderName::WwwAuthenticate) {
            crate::auth::Challenge::parse(v).map_err(bad("WWW-Authenticate"))?;
        }
        for v in self.header_lines(HeaderName::ProxyAuthenticate) {
            crate::auth::Challenge::parse(v).map_err(bad("Proxy-Authenticate"))?;
        }
        for v in self.header_lines(HeaderName::Authorization) {
            crate::auth::Credentials::parse(v).map_err(bad("Authorization"))?;
        }
        for v in self.header_lines(HeaderName::ProxyAuthorization) {
            crate::auth::Credentials::parse(v).map_err(bad("Proxy-Authorization"))?;
        }
        for v in self.header_lines(HeaderName::AuthenticationInfo) {
            crate::auth::AuthenticationInfo::parse(v).map_err(bad("Authentication-Info"))?;
        }
        single(self, HeaderName::Date, crate::misc::SipDate::parse)?;
        single(self, HeaderName::RetryAfter, crate::misc::check_retry_after)?;
        single(self, HeaderName::Timestamp, crate::misc::check_timestamp)?;
        for v in self.header_lines(HeaderName::Warning) {
            crate::misc::check_warning(v).map_err(bad("Warning"))?;
        }
        single(self, HeaderName::UserAgent, crate::misc::check_products)?;
        single(self, HeaderName::Server, crate::misc::check_products)?;
        if let Some(ct) = ct
            && ct.mtype.eq_ignore_ascii_case("multipart")
        {
            let boundary = ct.param("boundary").ok_or_else(|| {
                ParseError::new(ErrorKind::Body, "Multipart body without boundary")
            })?;
            crate::multipart::check_multipart(self.body(), &boundary)?;
        }
        Ok(())
    }
}

impl SipMessage {
    /// A header that may appear at most once.
    fn check_single(&self, name: HeaderName) -> Result<()> {
        if self.header_lines(name).nth(1).is_some() {
            return Err(ParseError::header(format!(
                "Multiple {} headers",
                name.as_str().unwrap_or("")
            )));
        }
        Ok(())
    }
}

/// `entity-tag = token` (RFC 3903 §11.3).
fn entity_tag(v: &str) -> Result<&str> {
    let v = trim(v);
    if is_token(v) {
        Ok(v)
    } else {
        Err(ParseError::header("Bad entity-tag"))
    }
}
