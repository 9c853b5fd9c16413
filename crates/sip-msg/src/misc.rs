//! Small typed headers: Date (RFC 3261 §20.17), Retry-After (§20.33),
//! Timestamp (§20.38), Warning (§20.43), User-Agent and Server (§20.41,
//! §20.35), with the `comment` production they share (§25.1).
//!
//! Everything borrows from the header text; only a Warning text with escapes
//! is copied when it is unquoted.

use std::borrow::Cow;
use std::fmt;

use crate::error::{ErrorKind, ParseError, Result};
use crate::message::SipMessage;
use crate::name::HeaderName;
use crate::scan::{
    Params, is_token, is_token_char, is_wsp, parse_all_header_params, parse_u32, quoted_len,
    split_list, trim, trim_start, unquote,
};

/// Puts `Bad <name>: ` in front of grammar errors, like the typed accessors in
/// `headers` do, so a reason names the header it is about.
pub(crate) fn header_context(name: &str) -> impl Fn(ParseError) -> ParseError + '_ {
    move |e| {
        if e.kind() == ErrorKind::Header || e.kind() == ErrorKind::Uri {
            e.context(&format!("Bad {name}"))
        } else {
            e
        }
    }
}

/// Parses the first line of a single-valued header, if present.
fn first<'m, T>(
    msg: &'m SipMessage,
    name: HeaderName,
    parse: impl Fn(&'m str) -> Result<T>,
) -> Result<Option<T>> {
    let label = name.as_str().unwrap_or("header");
    msg.header(name)
        .map(|v| parse(v).map_err(header_context(label)))
        .transpose()
}

// ----- Date -----------------------------------------------------------------------

const WKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years a
/// `4DIGIT` year can write.
const MIN_UNIX: i64 = -62_167_219_200;
const MAX_UNIX: i64 = 253_402_300_799;

/// Date: an RFC 1123 date in GMT, e.g. `Sat, 13 Nov 2010 23:29:00 GMT`.
///
/// RFC 3261 §20.17 / §25.1:
/// ```text
/// SIP-date      =  rfc1123-date
/// rfc1123-date  =  wkday "," SP date1 SP time SP "GMT"
/// date1         =  2DIGIT SP month SP 4DIGIT
/// time          =  2DIGIT ":" 2DIGIT ":" 2DIGIT   ; 00:00:00 - 23:59:59
/// ```
/// `Display` writes the same form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SipDate {
    /// Seconds since the Unix epoch.
    pub unix: i64,
}

impl SipDate {
    /// Parses a Date header value.
    ///
    /// Names (weekday, month, `GMT`) match case-insensitively, as every ABNF
    /// literal does (RFC 3261 §25); runs of SP/HTAB between fields are
    /// tolerated. The weekday must be the one the date falls on. Only `GMT` is
    /// a valid zone (RFC 3261 §20.17; RFC 4475 §3.1.2.12 `baddate` uses `EST`).
    pub fn parse(s: &str) -> Result<Self> {
        let s = trim(s);
        let (wkday, rest) = s
            .split_once(',')
            .ok_or_else(|| ParseError::header("Date without weekday"))?;
        let wkday = WKDAYS
            .iter()
            .position(|w| w.eq_ignore_ascii_case(wkday))
            .ok_or_else(|| ParseError::header("Bad weekday in Date"))?;
        let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
        let (Some(day), Some(month), Some(year), Some(time)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(ParseError::header("Date is not an RFC 1123 date"));
        };
        match (fields.next(), fields.next()) {
            (Some(zone), None) if zone.eq_ignore_ascii_case("GMT") => {}
            (None, _) | (Some(_), None) => {
                return Err(ParseError::header("Date must be in GMT"));
            }
            (Some(_), Some(_)) => {
                return Err(ParseError::header("Unexpected text after Date"));
            }
        }
        let day = digits(day, 2).ok_or_else(|| ParseError::header("Bad day in Date"))?;
        let month = MONTHS
            .iter()
            .position(|m| m.eq_ignore_ascii_case(month))
            .ok_or_else(|| ParseError::header("Bad month in Date"))?;
        let year = digits(year, 4).ok_or_else(|| ParseError::header("Bad year in Date"))?;
        let mut hms = time.split(':');
        let (Some(h), Some(m), Some(sec), None) = (hms.next(), hms.next(), hms.next(), hms.next())
        else {
            return Err(ParseError::header("Bad time in Date"));
        };
        let (Some(h), Some(m), Some(sec)) = (digits(h, 2), digits(m, 2), digits(sec, 2)) else {
            return Err(ParseError::header("Bad time in Date"));
        };
        if h > 23 || m > 59 || sec > 59 {
            return Err(ParseError::header("Time out of range in Date"));
        }
        let month = month as u32 + 1;
        if day == 0 || day > days_in_month(year as i64, month) {
            return Err(ParseError::header("Day out of range in Date"));
        }
        let days = days_from_civil(year as i64, month, day);
        if weekday(days) != wkday {
            return Err(ParseError::header("Date weekday does not match the date"));
        }
        Ok(SipDate {
            unix: days * 86_400 + i64::from(h) * 3_600 + i64::from(m) * 60 + i64::from(sec),
        })
    }

    /// Writes `unix` as a Date header value: `Sat, 13 Nov 2010 23:29:00 GMT`.
    ///
    /// Times outside the years 0000–9999 (which `4DIGIT` cannot write) are
    /// clamped to that range, so the result always parses.
    pub fn format(unix: i64) -> String {
        let unix = unix.clamp(MIN_UNIX, MAX_UNIX);
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        // Written by hand: a REGISTER's 200 carries one, and `format!`
        // costs several allocations.
        let mut out = String::with_capacity(29);
        out.push_str(WKDAYS[weekday(days)]);
        out.push_str(", ");
        push_padded(&mut out, d, 2);
        out.push(' ');
        out.push_str(MONTHS[m as usize - 1]);
        out.push(' ');
        push_padded(&mut out, y as u32, 4);
        out.push(' ');
        push_padded(&mut out, (secs / 3_600) as u32, 2);
        out.push(':');
        push_padded(&mut out, (secs / 60 % 60) as u32, 2);
        out.push(':');
        push_padded(&mut out, (secs % 60) as u32, 2);
        out.push_str(" GMT");
        out
    }
}

impl fmt::Display for SipDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&SipDate::format(self.unix))
    }
}

/// Exactly `n` ASCII digits as a number.
fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|c| c.is_ascii_digit()))
        .then(|| s.bytes().fold(0, |acc, c| acc * 10 + u32::from(c - b'0')))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` (1–12) of year `y` (proleptic Gregorian).
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month 1–12, day 1–31).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Index into [`WKDAYS`] (Sunday = 0) of a day counted from 1970-01-01, a Thursday.
fn weekday(days: i64) -> usize {
    (days + 4).rem_euclid(7) as usize
}

// ----- comment --------------------------------------------------------------------

/// Length of the comment at the start of `s` (which must begin with `(`),
/// closing parenthesis included. RFC 3261 §25.1:
/// ```text
/// comment  =  LPAREN *(ctext / quoted-pair / comment) RPAREN
/// ctext    =  %x21-27 / %x2A-5B / %x5D-7E / UTF8-NONASCII / LWS
/// ```
/// Nesting is counted, not recursed, so depth costs nothing.
pub(crate) fn comment_len(s: &str) -> Result<usize> {
    let b = s.as_bytes();
    debug_assert_eq!(b.first(), Some(&b'('));
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
            b'\\' => match b.get(i + 1) {
                Some(&c) if c < 0x80 && c != b'\r' && c != b'\n' => i += 1,
                _ => return Err(ParseError::header("Bad escape in comment")),
            },
            c if is_wsp(c) => {}
            c if c < 0x20 || c == 0x7f => {
                return Err(ParseError::header("Control character in comment"));
            }
            _ => {}
        }
        i += 1;
    }
    Err(ParseError::header("Unterminated comment"))
}

// ----- Retry-After ----------------------------------------------------------------

/// Retry-After (RFC 3261 §20.33):
/// ```text
/// Retry-After  =  "Retry-After" HCOLON delta-seconds [ comment ] *( SEMI retry-param )
/// retry-param  =  ("duration" EQUAL delta-seconds) / generic-param
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter<'a> {
    /// When to retry, in seconds from now.
    pub seconds: u32,
    /// The comment's text as written, without the outer parentheses
    /// (`I'm in a meeting`).
    pub comment: Option<&'a str>,
    /// The `duration` parameter: how long the callee will be reachable.
    pub duration: Option<u32>,
    /// Every parameter, `duration` included.
    pub params: Params<'a>,
}

impl<'a> RetryAfter<'a> {
    /// Parses a Retry-After value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let s = trim(s);
        let end = s
            .bytes()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(s.len());
        // delta-seconds = 1*DIGIT; overlarge values are errors like every
        // other scalar here (RFC 4475 §3.1.2.5 `scalarlg`).
        let seconds = parse_u32(&s[..end], "Retry-After")?;
        let mut rest = trim_start(&s[end..]);
        let mut comment = None;
        if rest.starts_with('(') {
            let n = comment_len(rest)?;
            comment = Some(&rest[1..n - 1]);
            rest = &rest[n..];
        }
        let params = parse_all_header_params(rest, "Retry-After")?;
        let duration = match params.get("duration") {
            None => None,
            Some(Some(v)) => Some(parse_u32(v, "Retry-After duration")?),
            Some(None) => return Err(ParseError::header("Retry-After duration without value")),
        };
        Ok(RetryAfter {
            seconds,
            comment,
            duration,
            params,
        })
    }
}

/// Validates a Retry-After value.
pub(crate) fn check_retry_after(s: &str) -> Result<()> {
    RetryAfter::parse(s).map(|_| ())
}

// ----- Timestamp ------------------------------------------------------------------

/// Timestamp (RFC 3261 §20.38):
/// ```text
/// Timestamp  =  "Timestamp" HCOLON 1*(DIGIT) [ "." *(DIGIT) ] [ LWS delay ]
/// delay      =  *(DIGIT) [ "." *(DIGIT) ]
/// ```
/// Both numbers are kept as written: a UAS echoes the value verbatim
/// (RFC 3261 §8.2.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp<'a> {
    /// The timestamp as written, e.g. `54` or `54.123`.
    pub value: &'a str,
    /// The delay as written, if any.
    pub delay: Option<&'a str>,
}

impl<'a> Timestamp<'a> {
    /// Parses a Timestamp value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let s = trim(s);
        let (value, delay) = match s.find([' ', '\t']) {
            Some(i) => (&s[..i], Some(trim_start(&s[i..]))),
            None => (s, None),
        };
        if !decimal(value) || !value.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(ParseError::header("Timestamp is not a number"));
        }
        // The grammar lets `delay` be just "." or nothing; a delay with no
        // digit carries no information, so we ask for one.
        if let Some(d) = delay
            && (!decimal(d) || !d.bytes().any(|c| c.is_ascii_digit()))
        {
            return Err(ParseError::header("Timestamp delay is not a number"));
        }
        Ok(Timestamp { value, delay })
    }

    /// The timestamp in seconds.
    pub fn value_secs(&self) -> f64 {
        self.value.parse().unwrap_or(0.0)
    }

    /// The delay in seconds (0 when absent).
    pub fn delay_secs(&self) -> f64 {
        self.delay.and_then(|d| d.parse().ok()).unwrap_or(0.0)
    }
}

/// `*DIGIT [ "." *DIGIT ]`.
fn decimal(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    int.bytes().all(|c| c.is_ascii_digit()) && frac.bytes().all(|c| c.is_ascii_digit())
}

/// Validates a Timestamp value.
pub(crate) fn check_timestamp(s: &str) -> Result<()> {
    Timestamp::parse(s).map(|_| ())
}

// ----- Warning --------------------------------------------------------------------

/// One warning-value (RFC 3261 §20.43):
/// ```text
/// warning-value  =  warn-code SP warn-agent SP warn-text
/// warn-code      =  3DIGIT
/// warn-agent     =  hostport / pseudonym      ; pseudonym = token
/// warn-text      =  quoted-string
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning<'a> {
    /// The three-digit code (RFC 3261 §20.43 defines 300–399).
    pub code: u16,
    /// The host (and port) or pseudonym of the element that added it.
    pub agent: &'a str,
    /// The text, unquoted.
    pub text: Cow<'a, str>,
}

impl<'a> Warning<'a> {
    /// Parses one warning-value (not a comma list; see [`check_warning`]).
    pub fn parse(s: &'a str) -> Result<Self> {
        let s = trim(s);
        let (code, rest) = s
            .split_once([' ', '\t'])
            .ok_or_else(|| ParseError::header("Warning without agent and text"))?;
        if code.len() != 3 || !code.bytes().all(|c| c.is_ascii_digit()) {
            return Err(ParseError::header("Warn-code is not three digits"));
        }
        let code = code
            .parse::<u16>()
            .map_err(|_| ParseError::header("Warn-code is not three digits"))?;
        let (agent, text) = trim_start(rest)
            .split_once([' ', '\t'])
            .ok_or_else(|| ParseError::header("Warning without text"))?;
        if !is_warn_agent(agent) {
            return Err(ParseError::header("Bad warn-agent"));
        }
        let text = trim_start(text);
        if !text.starts_with('"') || quoted_len(text)? != text.len() {
            return Err(ParseError::header("Warn-text must be a quoted string"));
        }
        Ok(Warning {
            code,
            agent,
            text: unquote(text),
        })
    }
}

/// `warn-agent = hostport / pseudonym`. A pseudonym is a token, which covers
/// host names and IPv4 addresses; what remains is `host ":" port` and IPv6
/// references.
fn is_warn_agent(s: &str) -> bool {
    if is_token(s) {
        return true;
    }
    let (host_ok, port) = if let Some(v6) = s.strip_prefix('[') {
        match v6.split_once(']') {
            Some((addr, rest)) => (
                addr.contains(':')
                    && addr
                        .bytes()
                        .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.'),
                rest,
            ),
            None => return false,
        }
    } else {
        match s.split_once(':') {
            Some((host, _)) => (is_token(host), &s[host.len()..]),
            None => return false,
        }
    };
    let port_ok = match port.strip_prefix(':') {
        Some(p) => !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok(),
        None => port.is_empty(),
    };
    host_ok && port_ok
}

/// Parses a Warning line: `warning-value *(COMMA warning-value)`.
pub fn parse_warnings(s: &str) -> Result<Vec<Warning<'_>>> {
    split_list(s)
        .map(|r| {
            r.and_then(|v| {
                if v.is_empty() {
                    Err(ParseError::header("Empty element in Warning list"))
                } else {
                    Warning::parse(v)
                }
            })
        })
        .collect()
}

/// Validates a Warning value (one line, possibly several comma-separated warnings).
pub(crate) fn check_warning(s: &str) -> Result<()> {
    parse_warnings(s).map(|_| ())
}

// ----- User-Agent / Server --------------------------------------------------------

/// One element of a User-Agent or Server value (RFC 3261 §20.41, §20.35):
/// ```text
/// server-val       =  product / comment
/// product          =  token [SLASH product-version]
/// product-version  =  token
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerVal<'a> {
    /// `name/version`, e.g. `SIPimp.org/0.2.5`.
    Product {
        /// The product token.
        name: &'a str,
        /// The version token after `/`.
        version: Option<&'a str>,
    },
    /// A comment's text as written, without the outer parentheses.
    Comment(&'a str),
}

/// Parses a User-Agent or Server value: `server-val *(LWS server-val)`.
pub fn parse_products(s: &str) -> Result<Vec<ServerVal<'_>>> {
    let mut rest = trim(s);
    if rest.is_empty() {
        return Err(ParseError::header("Empty product list"));
    }
    let mut out = Vec::new();
    while !rest.is_empty() {
        if rest.starts_with('(') {
            let n = comment_len(rest)?;
            out.push(ServerVal::Comment(&rest[1..n - 1]));
            rest = trim_start(&rest[n..]);
            continue;
        }
        let (name, after) = take_token(rest).ok_or_else(|| unexpected(rest))?;
        let after = trim_start(after);
        // SLASH = SWS "/" SWS
        let (version, after) = match after.strip_prefix('/') {
            Some(v) => {
                let (v, a) = take_token(trim_start(v)).ok_or_else(|| {
                    ParseError::header(format!("Product '{name}' without version after '/'"))
                })?;
                (Some(v), a)
            }
            None => (None, after),
        };
        out.push(ServerVal::Product { name, version });
        rest = trim_start(after);
    }
    Ok(out)
}

fn take_token(s: &str) -> Option<(&str, &str)> {
    let end = s.bytes().position(|c| !is_token_char(c)).unwrap_or(s.len());
    (end > 0).then(|| (&s[..end], &s[end..]))
}

fn unexpected(s: &str) -> ParseError {
    ParseError::header(format!(
        "Unexpected '{}' in product list",
        s.chars().next().unwrap_or(' ')
    ))
}

/// Validates a User-Agent or Server value (products and comments).
pub(crate) fn check_products(s: &str) -> Result<()> {
    parse_products(s).map(|_| ())
}

// ----- message accessors ----------------------------------------------------------

impl SipMessage {
    /// Date (RFC 3261 §20.17).
    pub fn date(&self) -> Result<Option<SipDate>> {
        first(self, HeaderName::Date, SipDate::parse)
    }

    /// Retry-After (RFC 3261 §20.33).
    pub fn retry_after(&self) -> Result<Option<RetryAfter<'_>>> {
        first(self, HeaderName::RetryAfter, RetryAfter::parse)
    }

    /// Timestamp (RFC 3261 §20.38).
    pub fn timestamp(&self) -> Result<Option<Timestamp<'_>>> {
        first(self, HeaderName::Timestamp, Timestamp::parse)
    }

    /// Every warning-value of every Warning line, in order (RFC 3261 §20.43).
    pub fn warnings(&self) -> impl Iterator<Item = Result<Warning<'_>>> + '_ {
        self.header_lines(HeaderName::Warning)
            .flat_map(split_list)
            .map(|r| {
                r.and_then(|v| {
                    if v.is_empty() {
                        Err(ParseError::header("Empty element in Warning list"))
                    } else {
                        Warning::parse(v)
                    }
                })
                .map_err(header_context("Warning"))
            })
    }

    /// The User-Agent value as written (RFC 3261 §20.41); see [`parse_products`].
    pub fn user_agent(&self) -> Option<&str> {
        self.header(HeaderName::UserAgent).map(trim)
    }

    /// The Server value as written (RFC 3261 §20.35); see [`parse_products`].
    pub fn server(&self) -> Option<&str> {
        self.header(HeaderName::Server).map(trim)
    }
}

/// Appends `n` in decimal (what `write!(s, "{n}")` does, without the
/// formatting machinery: the hot paths format addresses for every message).
pub fn push_decimal(out: &mut String, n: u32) {
    let mut buf = [0u8; 20];
    for &d in decimal_digits(u64::from(n), &mut buf) {
        out.push(char::from(d));
    }
}

/// The ASCII decimal digits of `n`, written at the end of `buf`.
pub(crate) fn decimal_digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Appends `n` in lower-case hex, zero-padded to at least `width` digits
/// (what `{n:0width$x}` writes, without the formatting machinery: tags and
/// branch ids are written for every request).
pub fn push_hex(out: &mut String, n: u64, width: usize) {
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
    for i in (0..digits.max(width)).rev() {
        let nibble = if i < 16 { (n >> (i * 4)) & 0xf } else { 0 };
        out.push(char::from(b"0123456789abcdef"[nibble as usize]));
    }
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
pub fn push_padded(out: &mut String, n: u32, width: usize) {
    let mut digits = 1;
    let mut m = n / 10;
    while m > 0 {
        digits += 1;
        m /= 10;
    }
    for _ in digits..width {
        out.push('0');
    }
    push_decimal(out, n);
}

/// Appends an address as it goes into a Via sent-by, a URI host or a
/// `received` parameter: dotted IPv4, or IPv6 in brackets when `brackets`.
pub fn push_ip(out: &mut String, ip: std::net::IpAddr, brackets: bool) {
    match ip {
        std::net::IpAddr::V4(a) => {
            for (i, o) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(out, u32::from(o));
            }
        }
        std::net::IpAddr::V6(a) => {
            use std::fmt::Write as _;
            if brackets {
                out.push('[');
            }
            let _ = write!(out, "{a}");
            if brackets {
                out.push(']');
            }
        }
    }
}

/// `host:port` of a socket address, IPv6 in brackets.
pub fn hostport(a: std::net::SocketAddr) -> String {
    let mut s = String::with_capacity(48);
    push_ip(&mut s, a.ip(), true);
    s.push(':');
    push_decimal(&mut s, u32::from(a.port()));
    s
}

#[cfg(test)]
mod tests {

    #[test]
    fn decimal_and_address_formatting_match_display() {
        for n in [0u32, 7, 10, 99, 255, 65535, 1_000_000, u32::MAX] {
            let mut s = String::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for a in [
            "127.0.0.1:5060",
            "0.0.0.0:1",
            "255.255.255.255:65535",
            "[::1]:5060",
            "[2001:db8::7]:0",
        ] {
            let sa: std::net::SocketAddr = a.parse().unwrap();
            assert_eq!(hostport(sa), a);
            let mut s = String::new();
            push_ip(&mut s, sa.ip(), false);
            assert_eq!(s, sa.ip().to_string());
        }
    }
    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    use super::*;

    #[test]
    fn date_rfc3261_example() {
        // RFC 3261 §20.17.
        let d = SipDate::parse("Sat, 13 Nov 2010 23:29:00 GMT").unwrap();
        assert_eq!(d.unix, 1_289_690_940);
        assert_eq!(d.to_string(), "Sat, 13 Nov 2010 23:29:00 GMT");
        // RFC 4475 §3.1.1.11 mpart01.
        let d = SipDate::parse("Sat, 15 Oct 2005 04:44:56 GMT").unwrap();
        assert_eq!(d.unix, 1_129_351_496);
    }

    #[test]
    fn push_hex_writes_what_format_does() {
        for v in [0u64, 1, 15, 16, 255, 0xdead_beef, u64::MAX] {
            for width in [1, 16] {
                let mut s = String::new();
                push_hex(&mut s, v, width);
                assert_eq!(s, format!("{v:0width$x}"));
            }
        }
    }

    #[test]
    fn date_format_and_back() {
        assert_eq!(SipDate::format(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            SipDate::format(951_782_400),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(SipDate::format(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        for unix in [
            0,
            -1,
            68_169_600,
            951_782_400,
            1_700_000_000,
            4_102_444_799,
            MIN_UNIX,
            MAX_UNIX,
        ] {
            assert_eq!(
                SipDate::parse(&SipDate::format(unix)).unwrap().unix,
                unix,
                "{unix}"
            );
        }
        // The hand-written formatter writes what `format!` would, across
        // the whole range (a step that is not a whole number of days, so
        // every field moves).
        let mut unix = MIN_UNIX;
        while unix <= MAX_UNIX {
            let days = unix.div_euclid(86_400);
            let secs = unix.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            let expected = format!(
                "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
                WKDAYS[weekday(days)],
                d,
                MONTHS[m as usize - 1],
                y,
                secs / 3_600,
                secs / 60 % 60,
                secs % 60
            );
            assert_eq!(SipDate::format(unix), expected, "{unix}");
            unix += 31_557_607 + 3_661;
        }
        // Clamped to what 4DIGIT can write.
        assert_eq!(SipDate::format(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(SipDate::format(i64::MIN), "Sat, 01 Jan 0000 00:00:00 GMT");
    }

    #[test]
    fn date_lenient_case_and_spaces() {
        let d = SipDate::parse("  sat,  13 NOV 2010 23:29:00 gmt ").unwrap();
        assert_eq!(d.unix, 1_289_690_940);
    }

    #[test]
    fn date_rejections() {
        let reason = |s| SipDate::parse(s).unwrap_err().reason().to_owned();
        // RFC 4475 §3.1.2.12 baddate.
        assert_eq!(
            reason("Fri, 01 Jan 2010 16:00:00 EST"),
            "Date must be in GMT"
        );
        assert_eq!(
            reason("Fri, 01 Jan 2010 16:00:00 UTC"),
            "Date must be in GMT"
        );
        assert_eq!(reason("Fri, 01 Jan 2010 16:00:00"), "Date must be in GMT");
        assert_eq!(
            reason("Fri, 01 Jan 2010 16:00:00 GMT x"),
            "Unexpected text after Date"
        );
        assert_eq!(
            reason("Fry, 01 Jan 2010 16:00:00 GMT"),
            "Bad weekday in Date"
        );
        assert_eq!(reason("01 Jan 2010 16:00:00 GMT"), "Date without weekday");
        assert_eq!(reason("Fri, 01 Jam 2010 16:00:00 GMT"), "Bad month in Date");
        assert_eq!(reason("Fri, 1 Jan 2010 16:00:00 GMT"), "Bad day in Date");
        assert_eq!(reason("Fri, 01 Jan 10 16:00:00 GMT"), "Bad year in Date");
        assert_eq!(reason("Fri, 01 Jan 2010 16:00 GMT"), "Bad time in Date");
        assert_eq!(
            reason("Fri, 01 Jan 2010 24:00:00 GMT"),
            "Time out of range in Date"
        );
        assert_eq!(
            reason("Fri, 01 Jan 2010 23:59:60 GMT"),
            "Time out of range in Date"
        );
        assert_eq!(
            reason("Mon, 29 Feb 2010 00:00:00 GMT"),
            "Day out of range in Date"
        );
        assert_eq!(
            reason("Mon, 00 Feb 2010 00:00:00 GMT"),
            "Day out of range in Date"
        );
        assert_eq!(
            reason("Sat, 01 Jan 2010 16:00:00 GMT"),
            "Date weekday does not match the date"
        );
        assert!(SipDate::parse("Tue, 29 Feb 2000 00:00:00 GMT").is_ok());
        assert!(SipDate::parse("Fri, 01 Jan 2010 16:00:00 GMT").is_ok());
    }

    #[test]
    fn retry_after() {
        // RFC 3261 §20.33 examples.
        let r = RetryAfter::parse("18000;duration=3600").unwrap();
        assert_eq!(
            (r.seconds, r.duration, r.comment),
            (18000, Some(3600), None)
        );
        let r = RetryAfter::parse("120 (I'm in a meeting)").unwrap();
        assert_eq!(r.seconds, 120);
        assert_eq!(r.comment, Some("I'm in a meeting"));
        assert!(r.params.is_empty());
        let r = RetryAfter::parse("5 (a (nested) \\) comment) ; duration=10 ;x=y").unwrap();
        assert_eq!(r.comment, Some("a (nested) \\) comment"));
        assert_eq!(r.duration, Some(10));
        assert_eq!(r.params.value("x"), Some("y"));
    }

    #[test]
    fn retry_after_rejections() {
        let reason = |s| RetryAfter::parse(s).unwrap_err().reason().to_owned();
        // RFC 4475 §3.1.2.5 scalarlg.
        assert_eq!(
            reason("949302838503028349304023988"),
            "Retry-After too large"
        );
        assert_eq!(reason("(x)"), "Retry-After is not a number");
        assert_eq!(reason("-1"), "Retry-After is not a number");
        assert_eq!(reason("10 (open"), "Unterminated comment");
        assert_eq!(
            reason("10;duration=abc"),
            "Retry-After duration is not a number"
        );
        assert_eq!(reason("10;duration"), "Retry-After duration without value");
        assert_eq!(reason("10 x"), "Unexpected 'x' in Retry-After parameters");
    }

    #[test]
    fn timestamp() {
        let t = Timestamp::parse("54").unwrap();
        assert_eq!((t.value, t.delay), ("54", None));
        let t = Timestamp::parse("54.123  0.5").unwrap();
        assert_eq!((t.value, t.delay), ("54.123", Some("0.5")));
        assert_eq!(t.value_secs(), 54.123);
        assert_eq!(t.delay_secs(), 0.5);
        assert!(Timestamp::parse("54. .5").is_ok());
        for bad in ["", ".5", "5a", "5 x", "5 .", "1.2.3", "5 1 2"] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn warnings() {
        // RFC 3261 §20.43 examples.
        let w = parse_warnings(r#"307 isi.edu "Session parameter 'foo' not understood""#).unwrap();
        assert_eq!(
            w,
            vec![Warning {
                code: 307,
                agent: "isi.edu",
                text: Cow::Borrowed("Session parameter 'foo' not understood"),
            }]
        );
        let w = parse_warnings(
            r#"301 isi.edu "Incompatible network address type 'E.164'", 399 [2001:db8::1]:5060 "a, \"b\"", 370 proxy.example.com:5061 "c""#,
        )
        .unwrap();
        assert_eq!(w.len(), 3);
        assert_eq!(w[1].agent, "[2001:db8::1]:5060");
        assert_eq!(w[1].text, "a, \"b\"");
        assert_eq!(w[2].agent, "proxy.example.com:5061");
    }

    #[test]
    fn warning_rejections() {
        let reason = |s| parse_warnings(s).unwrap_err().reason().to_owned();
        // RFC 4475 §3.1.2.5 scalarlg: a four-digit code.
        assert_eq!(
            reason(r#"1812 overture "In Progress""#),
            "Warn-code is not three digits"
        );
        assert_eq!(reason(r#"30 a "b""#), "Warn-code is not three digits");
        assert_eq!(
            reason("307 isi.edu unquoted"),
            "Warn-text must be a quoted string"
        );
        assert_eq!(
            reason(r#"307 isi.edu "a" x"#),
            "Warn-text must be a quoted string"
        );
        assert_eq!(reason(r#"307 isi.edu "open"#), "Unterminated quoted string");
        assert_eq!(reason("307 isi.edu"), "Warning without text");
        assert_eq!(reason("307"), "Warning without agent and text");
        assert_eq!(reason(r#"307 a@b "x""#), "Bad warn-agent");
        assert_eq!(reason(r#"307 host:99999 "x""#), "Bad warn-agent");
        assert_eq!(reason(r#"307 [zz]:1 "x""#), "Bad warn-agent");
        assert_eq!(
            reason(r#"307 a "x",, 308 b "y""#),
            "Empty element in Warning list"
        );
    }

    #[test]
    fn products() {
        // RFC 4475 mpart01.
        assert_eq!(
            parse_products("SIPimp.org/0.2.5 (curses)").unwrap(),
            vec![
                ServerVal::Product {
                    name: "SIPimp.org",
                    version: Some("0.2.5")
                },
                ServerVal::Comment("curses"),
            ]
        );
        // RFC 3261 §20.35, §20.41.
        assert_eq!(
            parse_products("HomeServer v2").unwrap(),
            vec![
                ServerVal::Product {
                    name: "HomeServer",
                    version: None
                },
                ServerVal::Product {
                    name: "v2",
                    version: None
                },
            ]
        );
        assert_eq!(
            parse_products("Softphone Beta1.5").unwrap().len(),
            2,
            "RFC 3261 §20.41"
        );
        let v = parse_products("(leading) A / 1 (x (y) \"z\" é) B").unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[2], ServerVal::Comment("x (y) \"z\" é"));
    }

    #[test]
    fn product_rejections() {
        let reason = |s| parse_products(s).unwrap_err().reason().to_owned();
        assert_eq!(reason(""), "Empty product list");
        assert_eq!(reason("A/"), "Product 'A' without version after '/'");
        assert_eq!(reason("A/1/2"), "Unexpected '/' in product list");
        assert_eq!(reason("A (x (y)"), "Unterminated comment");
        assert_eq!(reason("A (x\u{1}y)"), "Control character in comment");
        assert_eq!(reason("A x)"), "Unexpected ')' in product list");
        assert_eq!(reason("A <b>"), "Unexpected '<' in product list");
    }

    #[test]
    fn message_accessors() {
        let raw = "SIP/2.0 503 Service Unavailable\r\n\
            Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
            From: <sip:a@example.com>;tag=1\r\n\
            To: <sip:b@example.com>;tag=2\r\n\
            Call-ID: c1\r\n\
            CSeq: 1 INVITE\r\n\
            Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n\
            Retry-After: 120 (I'm in a meeting);duration=60\r\n\
            Timestamp: 54 1.5\r\n\
            Warning: 370 a.example.com \"x\", 399 b \"y\"\r\n\
            Warning: 301 c \"z\"\r\n\
            Server: HomeServer v2\r\n\
            User-Agent: Softphone/Beta1.5\r\n\
            Content-Length: 0\r\n\r\n";
        let m = SipMessage::parse(bytes::Bytes::from(raw)).unwrap();
        assert_eq!(m.date().unwrap().unwrap().unix, 1_289_690_940);
        let r = m.retry_after().unwrap().unwrap();
        assert_eq!((r.seconds, r.duration), (120, Some(60)));
        assert_eq!(m.timestamp().unwrap().unwrap().delay, Some("1.5"));
        let w: Vec<_> = m.warnings().map(|w| w.unwrap().code).collect();
        assert_eq!(w, vec![370, 399, 301]);
        assert_eq!(m.server(), Some("HomeServer v2"));
        assert_eq!(m.user_agent(), Some("Softphone/Beta1.5"));
    }

    #[test]
    fn accessor_errors_name_the_header() {
        let raw = "SIP/2.0 503 Service Unavailable\r\n\
            Date: Fri, 01 Jan 2010 16:00:00 EST\r\n\
            Warning: 1812 overture \"In Progress\"\r\n\
            Content-Length: 0\r\n\r\n";
        let m = SipMessage::parse(bytes::Bytes::from(raw)).unwrap();
        assert_eq!(
            m.date().unwrap_err().to_string(),
            "400 Bad Date: Date must be in GMT"
        );
        assert_eq!(
            m.warnings().next().unwrap().unwrap_err().reason(),
            "Bad Warning: Warn-code is not three digits"
        );
    }
}
