//! Authentication headers (RFC 3261 §20.7, §20.27, §20.28, §20.44, RFC 7616,
//! RFC 8760): WWW-Authenticate / Proxy-Authenticate challenges, Authorization /
//! Proxy-Authorization credentials and Authentication-Info.
//!
//! RFC 3261 §25.1 grammar, as RFC 8760 §2.7 extends it:
//! ```text
//! challenge        =  ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
//! other-challenge  =  auth-scheme LWS auth-param *(COMMA auth-param)
//! credentials      =  ("Digest" LWS digest-response) / other-response
//! auth-param       =  auth-param-name EQUAL ( token / quoted-string )
//! request-digest   =  LDQUOT *LHEX RDQUOT                      ; RFC 8760 §2.7
//! algorithm        =  "algorithm" EQUAL ( "MD5" / "MD5-sess" / "SHA-256" /
//!                     "SHA-256-sess" / "SHA-512-256" / "SHA-512-256-sess" / token )
//! ```
//!
//! Every digest parameter is also a generic `auth-param`, so a value may be a
//! token or a quoted string whatever its name; the accessors unquote. RFC 7616
//! §3.3/§3.4 tell *senders* which form to use ("MUST NOT generate the quoted
//! string syntax" for `algorithm`, `qop`, `nc`, `stale`), so as a receiver we
//! accept both forms of those for interoperability; only `uri` must be quoted
//! (RFC 8760 §2.6 item 2) since a Request-URI is never a token.
//!
//! Non-Digest schemes are checked for the generic grammar only, and may carry a
//! `token68` instead of parameters (`Authorization: Bearer <token>`, RFC 8898,
//! RFC 7235 §2.1). Whether a scheme is acceptable (RFC 8760 §2.6: never Basic)
//! is policy for the authenticating element, not a syntax error.

use std::borrow::Cow;
use std::fmt;

use crate::error::{ParseError, Result};
use crate::message::SipMessage;
use crate::misc::header_context;
use crate::name::HeaderName;
use crate::scan::{is_token, is_token_char, is_wsp, quoted_len, trim, unquote};

// ----- auth-param lists ---------------------------------------------------------

/// A comma-separated `auth-param` list, kept as the raw text and walked on
/// demand. Validated when the owning header is parsed: every element is
/// `name = (token / quoted-string)`, no name appears twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AuthParams<'a> {
    raw: &'a str,
}

/// One `auth-param` of an [`AuthParams`] list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthParam<'a> {
    /// The name as written (compare case-insensitively).
    pub name: &'a str,
    /// The value as written: a token, or a quoted string with its quotes.
    pub raw: &'a str,
}

impl<'a> AuthParam<'a> {
    /// Was the value written as a quoted string?
    pub fn is_quoted(&self) -> bool {
        self.raw.starts_with('"')
    }

    /// The value with quotes and `\x` escapes resolved (RFC 7616 §3.3 `unq()`).
    pub fn value(&self) -> Cow<'a, str> {
        if self.is_quoted() {
            unquote(self.raw)
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// The value when it is a token, written bare or inside quotes without
    /// escapes; `None` otherwise. Borrowed from the header text.
    fn bare(&self) -> Option<&'a str> {
        let v = if self.is_quoted() {
            self.raw.get(1..self.raw.len().saturating_sub(1))?
        } else {
            self.raw
        };
        is_token(v).then_some(v)
    }

    /// The text between the quotes (or the token), escapes not resolved.
    fn inner(&self) -> &'a str {
        if self.is_quoted() {
            self.raw
                .get(1..self.raw.len().saturating_sub(1))
                .unwrap_or("")
        } else {
            self.raw
        }
    }
}

impl<'a> AuthParams<'a> {
    /// The raw text.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// No parameters at all?
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The parameters in order.
    pub fn iter(&self) -> AuthParamIter<'a> {
        AuthParamIter { rest: self.raw }
    }

    /// The parameter named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<AuthParam<'a>> {
        self.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The unquoted value of `name`.
    pub fn value(&self, name: &str) -> Option<Cow<'a, str>> {
        self.get(name).map(|p| p.value())
    }

    /// Is a parameter named `name` present?
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl fmt::Display for AuthParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

/// Iterator over a validated [`AuthParams`].
#[derive(Debug, Clone)]
pub struct AuthParamIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for AuthParamIter<'a> {
    type Item = AuthParam<'a>;

    fn next(&mut self) -> Option<AuthParam<'a>> {
        let s = self.rest;
        let b = s.as_bytes();
        let mut i = skip_wsp(b, 0);
        if i >= b.len() {
            return None;
        }
        let name_start = i;
        while i < b.len() && is_token_char(b[i]) {
            i += 1;
        }
        if i == name_start {
            // Not reachable on validated text; end rather than loop.
            self.rest = "";
            return None;
        }
        let name = &s[name_start..i];
        i = skip_wsp(b, i);
        if b.get(i) == Some(&b'=') {
            i = skip_wsp(b, i + 1);
        }
        let v = i;
        if b.get(i) == Some(&b'"') {
            i += quoted_len(&s[i..]).unwrap_or(b.len() - i);
        } else {
            while i < b.len() && is_token_char(b[i]) {
                i += 1;
            }
        }
        let raw = &s[v..i];
        i = skip_wsp(b, i);
        if b.get(i) == Some(&b',') {
            i += 1;
        }
        self.rest = &s[i..];
        Some(AuthParam { name, raw })
    }
}

fn skip_wsp(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_wsp(b[i]) {
        i += 1;
    }
    i
}

/// The first character of `s` at byte `i`, for error messages.
fn char_at(s: &str, i: usize) -> char {
    s.get(i..).and_then(|r| r.chars().next()).unwrap_or(' ')
}

/// Validates `auth-param *(COMMA auth-param)`, LWS allowed around `=` and `,`
/// (RFC 3261 §25.1 EQUAL and COMMA). `kind` names the list in reasons
/// (`digest` / `auth`).
fn parse_auth_params<'a>(s: &'a str, kind: &str) -> Result<AuthParams<'a>> {
    let b = s.as_bytes();
    let mut names: Vec<&str> = Vec::new();
    let mut i = 0;
    loop {
        i = skip_wsp(b, i);
        let name_start = i;
        while i < b.len() && is_token_char(b[i]) {
            i += 1;
        }
        if i == name_start {
            return Err(ParseError::header(match b.get(i) {
                None if names.is_empty() => format!("Missing {kind} parameters"),
                None | Some(b',') => format!("Empty element in {kind} parameter list"),
                Some(_) => format!("Unexpected '{}' in {kind} parameters", char_at(s, i)),
            }));
        }
        let name = &s[name_start..i];
        i = skip_wsp(b, i);
        if b.get(i) != Some(&b'=') {
            return Err(ParseError::header(format!(
                "Missing '=' after {kind} parameter '{name}'"
            )));
        }
        i = skip_wsp(b, i + 1);
        if b.get(i) == Some(&b'"') {
            i += quoted_len(&s[i..])?;
        } else {
            let v = i;
            while i < b.len() && is_token_char(b[i]) {
                i += 1;
            }
            if i == v {
                return Err(ParseError::header(format!(
                    "Bad value for {kind} parameter '{name}'"
                )));
            }
        }
        // RFC 7235 §2.1 / RFC 7616 §3.3: each parameter name MUST only occur
        // once per challenge (or credentials).
        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Err(ParseError::header(format!(
                "Duplicate {kind} parameter '{name}'"
            )));
        }
        names.push(name);
        i = skip_wsp(b, i);
        match b.get(i) {
            None => break,
            Some(b',') => i += 1,
            Some(_) => {
                return Err(ParseError::header(format!(
                    "Unexpected '{}' after {kind} parameter '{name}'",
                    char_at(s, i)
                )));
            }
        }
    }
    Ok(AuthParams { raw: s })
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
/// (RFC 7235 §2.1).
fn is_token68(s: &str) -> bool {
    let t = s.trim_end_matches('=');
    !t.is_empty()
        && t.bytes().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// `auth-scheme LWS rest`: the scheme and either parameters or a token68.
fn parse_scheme(s: &str) -> Result<(&str, AuthParams<'_>, Option<&str>)> {
    let s = trim(s);
    let end = s.bytes().position(|c| !is_token_char(c)).unwrap_or(s.len());
    if end == 0 {
        return Err(ParseError::header("Missing auth scheme"));
    }
    let (scheme, rest) = s.split_at(end);
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return Err(ParseError::header(format!(
            "Unexpected '{}' after auth scheme",
            char_at(rest, 0)
        )));
    }
    let rest = trim(rest);
    let digest = scheme.eq_ignore_ascii_case("Digest");
    if rest.is_empty() {
        // Both grammars ask for at least one parameter after the scheme.
        return Err(ParseError::header(format!(
            "Auth scheme '{scheme}' without parameters"
        )));
    }
    if !digest && is_token68(rest) {
        return Ok((scheme, AuthParams::default(), Some(rest)));
    }
    let params = parse_auth_params(rest, if digest { "digest" } else { "auth" })?;
    Ok((scheme, params, None))
}

fn missing(name: &str) -> ParseError {
    ParseError::header(format!("Missing digest parameter '{name}'"))
}

fn bad(name: &str) -> ParseError {
    ParseError::header(format!("Bad digest parameter '{name}'"))
}

/// The parameter `name`, which must be a token (bare or quoted without escapes).
fn bare_param<'a>(params: &AuthParams<'a>, name: &str) -> Result<Option<&'a str>> {
    params
        .get(name)
        .map(|p| p.bare().ok_or_else(|| bad(name)))
        .transpose()
}

/// `nc-value = 8LHEX` (RFC 3261 §25.1; RFC 7616 §3.5 "exactly 8 hexadecimal digits").
fn check_nc(params: &AuthParams<'_>) -> Result<()> {
    if let Some(nc) = bare_param(params, "nc")?
        && (nc.len() != 8 || !nc.bytes().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(ParseError::header("Digest nc must be 8 hex digits"));
    }
    Ok(())
}

fn nc_value(params: &AuthParams<'_>) -> Option<u32> {
    let nc = params.get("nc")?.bare()?;
    u32::from_str_radix(nc, 16).ok()
}

/// `stale` and `userhash` flags: true when the value is `true` in any case
/// (RFC 7616 §3.3: anything other than true is false).
fn flag(params: &AuthParams<'_>, name: &str) -> bool {
    params
        .get(name)
        .and_then(|p| p.bare())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

// ----- algorithm and qop ----------------------------------------------------------

/// A digest algorithm (RFC 7616 §3.3, RFC 8760 §2.1 and the IANA "Hash
/// Algorithms for HTTP Digest Authentication" registry). Matched
/// case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm<'a> {
    /// `MD5` (the default when absent; NOT RECOMMENDED, RFC 8760 §3).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256` (SHA-512/256).
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
    /// Any other token, as written.
    Other(&'a str),
}

impl<'a> Algorithm<'a> {
    /// Classifies an algorithm token.
    pub fn parse(s: &'a str) -> Self {
        const KNOWN: [(&str, Algorithm<'static>); 6] = [
            ("MD5", Algorithm::Md5),
            ("MD5-sess", Algorithm::Md5Sess),
            ("SHA-256", Algorithm::Sha256),
            ("SHA-256-sess", Algorithm::Sha256Sess),
            ("SHA-512-256", Algorithm::Sha512_256),
            ("SHA-512-256-sess", Algorithm::Sha512_256Sess),
        ];
        KNOWN
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map_or(Algorithm::Other(s), |&(_, a)| a)
    }

    /// The canonical spelling (or the token as written for `Other`).
    pub fn as_str(&self) -> &'a str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
            Algorithm::Other(s) => s,
        }
    }

    /// Is this a `-sess` variant (RFC 7616 §3.4.2)?
    pub fn is_session(&self) -> bool {
        match self {
            Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess => true,
            Algorithm::Other(s) => {
                s.len() > 5
                    && s.get(s.len() - 5..)
                        .is_some_and(|t| t.eq_ignore_ascii_case("-sess"))
            }
            _ => false,
        }
    }

    /// Number of hex digits in a digest (RFC 7616 §3.2: 32 for MD5, 64 for
    /// SHA-256 and SHA-512/256); `None` for an unknown algorithm.
    pub fn hex_len(&self) -> Option<usize> {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => Some(32),
            Algorithm::Sha256
            | Algorithm::Sha256Sess
            | Algorithm::Sha512_256
            | Algorithm::Sha512_256Sess => Some(64),
            Algorithm::Other(_) => None,
        }
    }
}

impl fmt::Display for Algorithm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A quality of protection (RFC 7616 §3.3): `qop-value = "auth" / "auth-int" / token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop<'a> {
    /// `auth`: authentication only.
    Auth,
    /// `auth-int`: authentication with integrity protection of the body.
    AuthInt,
    /// Any other token (RFC 7616 §3.3: unrecognized options MUST be ignored).
    Other(&'a str),
}

impl<'a> Qop<'a> {
    /// Classifies a qop token (case-insensitive).
    pub fn parse(s: &'a str) -> Self {
        if s.eq_ignore_ascii_case("auth") {
            Qop::Auth
        } else if s.eq_ignore_ascii_case("auth-int") {
            Qop::AuthInt
        } else {
            Qop::Other(s)
        }
    }

    /// The canonical spelling.
    pub fn as_str(&self) -> &'a str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
            Qop::Other(s) => s,
        }
    }
}

impl fmt::Display for Qop<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Iterator over the options of a challenge's `qop="auth,auth-int"`.
#[derive(Debug, Clone)]
pub struct QopIter<'a> {
    rest: Option<std::str::Split<'a, char>>,
}

impl<'a> Iterator for QopIter<'a> {
    type Item = Qop<'a>;

    fn next(&mut self) -> Option<Qop<'a>> {
        self.rest.as_mut()?.next().map(|t| Qop::parse(trim(t)))
    }
}

/// `qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT`
/// (RFC 3261 §25.1); RFC 7616 §3.9.1 writes `"auth, auth-int"`, so LWS is
/// allowed around the commas.
fn check_qop_options(params: &AuthParams<'_>) -> Result<()> {
    if let Some(p) = params.get("qop")
        && !p.inner().split(',').all(|t| is_token(trim(t)))
    {
        return Err(ParseError::header("Bad digest qop options"));
    }
    Ok(())
}

fn check_algorithm(params: &AuthParams<'_>) -> Result<()> {
    bare_param(params, "algorithm").map(|_| ())
}

fn algorithm<'a>(params: &AuthParams<'a>) -> Option<Algorithm<'a>> {
    params
        .get("algorithm")
        .and_then(|p| p.bare())
        .map(Algorithm::parse)
}

// ----- Challenge ------------------------------------------------------------------

/// A challenge (WWW-Authenticate, RFC 3261 §20.44; Proxy-Authenticate,
/// §20.27): `Digest realm="...", nonce="...", ...` or another scheme.
///
/// For Digest, `realm` and `nonce` are required (RFC 2617 §3.2.1 grammar,
/// kept by RFC 7616 §3.3), `qop` must be a list of tokens, `algorithm`,
/// `stale` and `userhash` tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// The scheme as written, e.g. `Digest` (compare case-insensitively).
    pub scheme: &'a str,
    /// The auth-params (empty when the challenge is a `token68`).
    pub params: AuthParams<'a>,
    /// A `token68` in place of parameters (non-Digest schemes only).
    pub token68: Option<&'a str>,
}

impl<'a> Challenge<'a> {
    /// Parses one header value (one challenge: RFC 3261 §7.3.1 never combines
    /// these headers with commas).
    pub fn parse(s: &'a str) -> Result<Self> {
        let (scheme, params, token68) = parse_scheme(s)?;
        let c = Challenge {
            scheme,
            params,
            token68,
        };
        if c.is_digest() {
            for name in ["realm", "nonce"] {
                if !params.contains(name) {
                    return Err(missing(name));
                }
            }
            check_algorithm(&params)?;
            check_qop_options(&params)?;
            bare_param(&params, "stale")?;
            bare_param(&params, "userhash")?;
        }
        Ok(c)
    }

    /// Is the scheme `Digest` (case-insensitive, RFC 7235 §2.1)?
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// The unquoted value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params.value(name)
    }

    /// Every parameter as (name, unquoted value).
    pub fn params(&self) -> impl Iterator<Item = (&'a str, Cow<'a, str>)> + 'a {
        self.params.iter().map(|p| (p.name, p.value()))
    }

    /// `realm`.
    pub fn realm(&self) -> Option<Cow<'a, str>> {
        self.param("realm")
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<Cow<'a, str>> {
        self.param("nonce")
    }

    /// `opaque`, to be echoed unchanged in the credentials.
    pub fn opaque(&self) -> Option<Cow<'a, str>> {
        self.param("opaque")
    }

    /// `domain`: space-separated URIs of the protection space.
    pub fn domain(&self) -> Option<Cow<'a, str>> {
        self.param("domain")
    }

    /// `charset` (RFC 7616 §4: only `UTF-8` is allowed).
    pub fn charset(&self) -> Option<Cow<'a, str>> {
        self.param("charset")
    }

    /// `stale=true` (case-insensitive): the nonce was stale, the credentials
    /// were fine (RFC 7616 §3.3).
    pub fn stale(&self) -> bool {
        flag(&self.params, "stale")
    }

    /// `algorithm`; `None` when absent, which means MD5 (RFC 7616 §3.3).
    pub fn algorithm(&self) -> Option<Algorithm<'a>> {
        algorithm(&self.params)
    }

    /// The `qop` options offered, in order (empty when absent).
    pub fn qop_options(&self) -> QopIter<'a> {
        QopIter {
            rest: self.params.get("qop").map(|p| p.inner().split(',')),
        }
    }

    /// `userhash=true`: the server supports hashed usernames (RFC 7616 §3.4.4).
    pub fn userhash(&self) -> bool {
        flag(&self.params, "userhash")
    }
}

// ----- Credentials ----------------------------------------------------------------

/// Credentials (Authorization, RFC 3261 §20.7; Proxy-Authorization, §20.28):
/// `Digest username="...", realm="...", nonce="...", uri="...", response="..."`.
///
/// For Digest: `username` (or `username*`, not both: RFC 7616 §3.4), `realm`,
/// `nonce`, `uri` and `response` are required; `uri` must be quoted (RFC 8760
/// §2.6); `response` is hex with the algorithm's length, or empty before any
/// challenge (RFC 8760 §2.7); with `qop`, `cnonce` and `nc` are required and
/// `nc` is exactly 8 hex digits (RFC 7616 §3.4, §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The scheme as written, e.g. `Digest`.
    pub scheme: &'a str,
    /// The auth-params (empty when the credentials are a `token68`).
    pub params: AuthParams<'a>,
    /// A `token68` in place of parameters (`Bearer <token>`; non-Digest only).
    pub token68: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// Parses one header value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let (scheme, params, token68) = parse_scheme(s)?;
        let c = Credentials {
            scheme,
            params,
            token68,
        };
        if c.is_digest() {
            check_credentials(&params)?;
        }
        Ok(c)
    }

    /// Is the scheme `Digest`?
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// The unquoted value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params.value(name)
    }

    /// Every parameter as (name, unquoted value).
    pub fn params(&self) -> impl Iterator<Item = (&'a str, Cow<'a, str>)> + 'a {
        self.params.iter().map(|p| (p.name, p.value()))
    }

    /// The user name: `username` unquoted, or `username*` decoded (RFC 7616
    /// §3.4, RFC 5987 `ext-value`). With `userhash=true` this is the hash.
    pub fn username(&self) -> Option<Cow<'a, str>> {
        match self.params.get("username") {
            Some(p) => Some(p.value()),
            None => self
                .params
                .get("username*")
                .and_then(|p| decode_ext_value(p.raw)),
        }
    }

    /// `realm`.
    pub fn realm(&self) -> Option<Cow<'a, str>> {
        self.param("realm")
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<Cow<'a, str>> {
        self.param("nonce")
    }

    /// `uri`: the digest-uri (a Request-URI, RFC 8760 §2.6).
    pub fn uri(&self) -> Option<Cow<'a, str>> {
        self.param("uri")
    }

    /// `response`: the hex digest (possibly empty), without quotes.
    pub fn response(&self) -> Option<&'a str> {
        self.params.get("response").map(|p| p.inner())
    }

    /// `algorithm`; `None` when absent, which means MD5.
    pub fn algorithm(&self) -> Option<Algorithm<'a>> {
        algorithm(&self.params)
    }

    /// `cnonce`.
    pub fn cnonce(&self) -> Option<Cow<'a, str>> {
        self.param("cnonce")
    }

    /// `opaque`.
    pub fn opaque(&self) -> Option<Cow<'a, str>> {
        self.param("opaque")
    }

    /// `qop`: the one quality of protection applied.
    pub fn qop(&self) -> Option<Qop<'a>> {
        self.params
            .get("qop")
            .and_then(|p| p.bare())
            .map(Qop::parse)
    }

    /// `nc`: the nonce count (8 hex digits on the wire).
    pub fn nc(&self) -> Option<u32> {
        nc_value(&self.params)
    }

    /// `userhash=true`: `username` is `H(username ":" realm)` (RFC 7616 §3.4.4).
    pub fn userhash(&self) -> bool {
        flag(&self.params, "userhash")
    }
}

fn check_credentials(params: &AuthParams<'_>) -> Result<()> {
    match (params.get("username"), params.get("username*")) {
        // RFC 7616 §3.4: "Sending both username and username* in the same
        // header option MUST be treated as an error."
        (Some(_), Some(_)) => {
            return Err(ParseError::header(
                "Both 'username' and 'username*' in digest credentials",
            ));
        }
        (None, None) => return Err(missing("username")),
        (None, Some(p)) => {
            if decode_ext_value(p.raw).is_none() {
                return Err(bad("username*"));
            }
        }
        (Some(_), None) => {}
    }
    for name in ["realm", "nonce", "uri", "response"] {
        if !params.contains(name) {
            return Err(missing(name));
        }
    }
    // RFC 8760 §2.6 item 2: the uri parameter MUST be enclosed in quotation marks.
    if params.get("uri").is_some_and(|p| !p.is_quoted()) {
        return Err(ParseError::header("Digest uri must be quoted"));
    }
    check_algorithm(params)?;
    if let Some(p) = params.get("response") {
        check_digest_hex(p.inner(), algorithm(params), "response")?;
    }
    let qop = bare_param(params, "qop")?;
    check_nc(params)?;
    bare_param(params, "userhash")?;
    // RFC 7616 §3.4: cnonce and nc go with qop (RFC 3261 §22.4 likewise).
    if qop.is_some() {
        for name in ["cnonce", "nc"] {
            if !params.contains(name) {
                return Err(missing(name));
            }
        }
    }
    Ok(())
}

/// `request-digest = LDQUOT *LHEX RDQUOT` (RFC 8760 §2.7): empty (a UAC that
/// has no challenge yet) or as many hex digits as the algorithm's digest has,
/// at least 32 for an unknown one. Upper-case hex is accepted (LHEX is lower
/// case, but comparison is the verifier's business).
fn check_digest_hex(v: &str, alg: Option<Algorithm<'_>>, what: &str) -> Result<()> {
    if v.is_empty() {
        return Ok(());
    }
    if !v.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(ParseError::header(format!("Digest {what} is not hex")));
    }
    let alg = alg.unwrap_or(Algorithm::Md5);
    match alg.hex_len() {
        Some(n) if v.len() != n => Err(ParseError::header(format!(
            "Digest {what} has {} hex digits, {alg} needs {n}",
            v.len()
        ))),
        None if v.len() < 32 => Err(ParseError::header(format!(
            "Digest {what} shorter than 32 hex digits"
        ))),
        _ => Ok(()),
    }
}

/// Decodes an RFC 5987 §3.2 `ext-value` (`UTF-8''J%C3%A4s%C3%B8n%20Doe`):
/// `charset "'" [ language ] "'" value-chars`, charset UTF-8 or ISO-8859-1.
fn decode_ext_value(s: &str) -> Option<Cow<'_, str>> {
    let (charset, rest) = s.split_once('\'')?;
    let (_language, value) = rest.split_once('\'')?;
    let utf8 = charset.eq_ignore_ascii_case("UTF-8");
    if !utf8 && !charset.eq_ignore_ascii_case("ISO-8859-1") {
        return None;
    }
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            // attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" /
            // "." / "^" / "_" / "`" / "|" / "~"
            c if c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'!' | b'#'
                        | b'$'
                        | b'&'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                ) =>
            {
                out.push(c);
                i += 1;
            }
            _ => return None,
        }
    }
    if !value.contains('%') {
        return Some(Cow::Borrowed(value));
    }
    if utf8 {
        String::from_utf8(out).ok().map(Cow::Owned)
    } else {
        Some(Cow::Owned(out.iter().map(|&c| char::from(c)).collect()))
    }
}

// ----- Authentication-Info ----------------------------------------------------------

/// Authentication-Info (RFC 3261 §20.6, RFC 7616 §3.5):
/// `nextnonce="...", qop=auth, rspauth="...", cnonce="...", nc=00000001`.
///
/// `rspauth` is hex like a response digest; with `qop`, `rspauth`, `cnonce`
/// and `nc` MUST be present (RFC 7616 §3.5). Other parameters are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticationInfo<'a> {
    /// The comma-separated params.
    pub params: AuthParams<'a>,
}

impl<'a> AuthenticationInfo<'a> {
    /// Parses one header value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let s = trim(s);
        if s.is_empty() {
            return Err(ParseError::header("Empty Authentication-Info"));
        }
        let params = parse_auth_params(s, "digest")?;
        let qop = bare_param(&params, "qop")?;
        check_nc(&params)?;
        if let Some(p) = params.get("rspauth")
            && !p.inner().bytes().all(|c| c.is_ascii_hexdigit())
        {
            // response-digest = LDQUOT *LHEX RDQUOT
            return Err(ParseError::header("Digest rspauth is not hex"));
        }
        if qop.is_some() {
            for name in ["rspauth", "cnonce", "nc"] {
                if !params.contains(name) {
                    return Err(missing(name));
                }
            }
        }
        Ok(AuthenticationInfo { params })
    }

    /// The unquoted value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params.value(name)
    }

    /// `nextnonce`: the nonce to use next (RFC 7616 §3.5).
    pub fn nextnonce(&self) -> Option<Cow<'a, str>> {
        self.param("nextnonce")
    }

    /// `qop`.
    pub fn qop(&self) -> Option<Qop<'a>> {
        self.params
            .get("qop")
            .and_then(|p| p.bare())
            .map(Qop::parse)
    }

    /// `rspauth`: the server's digest, without quotes.
    pub fn rspauth(&self) -> Option<&'a str> {
        self.params.get("rspauth").map(|p| p.inner())
    }

    /// `cnonce`.
    pub fn cnonce(&self) -> Option<Cow<'a, str>> {
        self.param("cnonce")
    }

    /// `nc`.
    pub fn nc(&self) -> Option<u32> {
        nc_value(&self.params)
    }
}

// ----- message accessors ----------------------------------------------------------

impl SipMessage {
    /// Every WWW-Authenticate challenge, one per header line, in order
    /// (RFC 8760 §2.3: the order is the server's preference).
    pub fn www_authenticate(&self) -> impl Iterator<Item = Result<Challenge<'_>>> + '_ {
        self.header_lines(HeaderName::WwwAuthenticate)
            .map(|v| Challenge::parse(v).map_err(header_context("WWW-Authenticate")))
    }

    /// Every Proxy-Authenticate challenge, one per header line, in order.
    pub fn proxy_authenticate(&self) -> impl Iterator<Item = Result<Challenge<'_>>> + '_ {
        self.header_lines(HeaderName::ProxyAuthenticate)
            .map(|v| Challenge::parse(v).map_err(header_context("Proxy-Authenticate")))
    }

    /// Every Authorization, one per header line (one per realm, RFC 3261 §22.2).
    pub fn authorization(&self) -> impl Iterator<Item = Result<Credentials<'_>>> + '_ {
        self.header_lines(HeaderName::Authorization)
            .map(|v| Credentials::parse(v).map_err(header_context("Authorization")))
    }

    /// Every Proxy-Authorization, one per header line.
    pub fn proxy_authorization(&self) -> impl Iterator<Item = Result<Credentials<'_>>> + '_ {
        self.header_lines(HeaderName::ProxyAuthorization)
            .map(|v| Credentials::parse(v).map_err(header_context("Proxy-Authorization")))
    }

    /// Authentication-Info, from its first header line (a second line would
    /// only continue the comma list; [`SipMessage::validate`] checks each).
    pub fn authentication_info(&self) -> Result<Option<AuthenticationInfo<'_>>> {
        self.header(HeaderName::AuthenticationInfo)
            .map(|v| AuthenticationInfo::parse(v).map_err(header_context("Authentication-Info")))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7616 §3.9.1, unfolded.
    const CH_SHA256: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    const CH_MD5: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    const CR_MD5: &str = r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    const CR_SHA256: &str = r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    // RFC 7616 §3.9.2, unfolded.
    const CH_USERHASH: &str = r#"Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true"#;
    const CR_USERHASH: &str = r#"Digest username="488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec", realm="api@example.org", uri="/doe.json", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", nc=00000001, cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", qop=auth, response="ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", userhash=true"#;
    const CR_USERNAME_STAR: &str = r#"Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="api@example.org", uri="/doe.json", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", nc=00000001, cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", qop=auth, response="ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", userhash=false"#;

    fn creds_err(s: &str) -> String {
        Credentials::parse(s).unwrap_err().reason().to_owned()
    }

    fn chal_err(s: &str) -> String {
        Challenge::parse(s).unwrap_err().reason().to_owned()
    }

    #[test]
    fn rfc7616_challenges() {
        let c = Challenge::parse(CH_SHA256).unwrap();
        assert!(c.is_digest());
        assert_eq!(c.realm().unwrap(), "http-auth@example.org");
        assert_eq!(
            c.nonce().unwrap(),
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
        );
        assert_eq!(
            c.opaque().unwrap(),
            "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
        );
        assert_eq!(c.algorithm(), Some(Algorithm::Sha256));
        assert_eq!(
            c.qop_options().collect::<Vec<_>>(),
            vec![Qop::Auth, Qop::AuthInt]
        );
        assert!(!c.stale());
        assert!(!c.userhash());
        assert_eq!(c.params().count(), 5);
        let c = Challenge::parse(CH_MD5).unwrap();
        assert_eq!(c.algorithm(), Some(Algorithm::Md5));

        let c = Challenge::parse(CH_USERHASH).unwrap();
        assert_eq!(c.algorithm(), Some(Algorithm::Sha512_256));
        assert_eq!(c.algorithm().unwrap().hex_len(), Some(64));
        assert_eq!(c.charset().unwrap(), "UTF-8");
        assert!(c.userhash());
        assert_eq!(c.qop_options().collect::<Vec<_>>(), vec![Qop::Auth]);
    }

    #[test]
    fn rfc3261_challenge_example() {
        // RFC 3261 §20.44 (and §20.27 with another domain).
        let c = Challenge::parse(
            r#"Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5"#,
        )
        .unwrap();
        assert_eq!(c.realm().unwrap(), "atlanta.com");
        assert_eq!(c.domain().unwrap(), "sip:boxesbybob.com");
        assert_eq!(c.opaque().unwrap(), "");
        assert!(!c.stale());
        assert_eq!(c.algorithm(), Some(Algorithm::Md5));
        assert_eq!(c.param("NONCE").unwrap(), "f84f1cec41e6cbe5aea9c8e88d359");
        // stale is case-insensitive, and so is the scheme.
        let c = Challenge::parse(r#"digest realm="r", nonce="n", stale=TRUE"#).unwrap();
        assert!(c.is_digest() && c.stale());
    }

    #[test]
    fn lws_around_equal_and_comma() {
        let c = Challenge::parse("Digest  realm = \"a\\\"b\" ,nonce\t=\tabc ,  qop=auth").unwrap();
        assert_eq!(c.realm().unwrap(), "a\"b");
        assert_eq!(c.nonce().unwrap(), "abc");
        let names: Vec<_> = c.params.iter().map(|p| p.name).collect();
        assert_eq!(names, vec!["realm", "nonce", "qop"]);
        assert_eq!(c.qop_options().collect::<Vec<_>>(), vec![Qop::Auth]);
    }

    #[test]
    fn rfc7616_credentials() {
        let c = Credentials::parse(CR_MD5).unwrap();
        assert_eq!(c.username().unwrap(), "Mufasa");
        assert_eq!(c.realm().unwrap(), "http-auth@example.org");
        assert_eq!(c.uri().unwrap(), "/dir/index.html");
        assert_eq!(c.algorithm(), Some(Algorithm::Md5));
        assert_eq!(c.nc(), Some(1));
        assert_eq!(
            c.cnonce().unwrap(),
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
        );
        assert_eq!(c.qop(), Some(Qop::Auth));
        assert_eq!(c.response(), Some("8ca523f5e9506fed4657c9700eebdbec"));
        assert!(!c.userhash());

        let c = Credentials::parse(CR_SHA256).unwrap();
        assert_eq!(c.algorithm(), Some(Algorithm::Sha256));
        assert_eq!(c.response().unwrap().len(), 64);

        let c = Credentials::parse(CR_USERHASH).unwrap();
        assert!(c.userhash());
        assert_eq!(c.username().unwrap().len(), 64);

        let c = Credentials::parse(CR_USERNAME_STAR).unwrap();
        assert_eq!(c.username().unwrap(), "J\u{e4}s\u{f8}n Doe");
        assert!(!c.userhash());
    }

    #[test]
    fn sip_credentials() {
        // A REGISTER answer to the RFC 3261 §20.44 challenge, SIP style.
        let c = Credentials::parse(
            r#"Digest username="alice", realm="atlanta.com", nonce="f84f1cec41e6cbe5aea9c8e88d359", uri="sip:atlanta.com", response="dfe56131d1958046689d83306477ecc1", algorithm=MD5, opaque="""#,
        )
        .unwrap();
        assert_eq!(c.uri().unwrap(), "sip:atlanta.com");
        assert_eq!(c.qop(), None);
        assert_eq!(c.nc(), None);
        // RFC 8760 §2.7: an empty response before any challenge (and qop quoted
        // or nc upper-case from lenient peers).
        let c = Credentials::parse(
            r#"Digest username="alice@ims.example.com", realm="ims.example.com", nonce="", uri="sip:ims.example.com", response="", qop="auth", cnonce="x", nc=0000000A"#,
        )
        .unwrap();
        assert_eq!(c.response(), Some(""));
        assert_eq!(c.qop(), Some(Qop::Auth));
        assert_eq!(c.nc(), Some(10));
    }

    #[test]
    fn rfc3261_credential_examples_lack_uri() {
        // RFC 3261 §20.7 and §20.28 abbreviate their examples: no uri, and a
        // response of 35 / 27 hex digits. RFC 7616 §3.4 requires uri.
        assert_eq!(
            creds_err(
                r#"Digest username="Alice", realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", response="7587245234b3434cc3412213e5f113a5432""#
            ),
            "Missing digest parameter 'uri'"
        );
        assert_eq!(
            creds_err(
                r#"Digest username="Alice", realm="atlanta.com", nonce="c60f3082ee1212b402a21831ae", uri="sip:bob@biloxi.com", response="245f23415f11432b3434341c022""#
            ),
            "Digest response has 27 hex digits, MD5 needs 32"
        );
    }

    #[test]
    fn other_schemes() {
        // RFC 4475 §3.3.7 regaut01: an unknown scheme is well formed.
        let c = Credentials::parse("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert!(!c.is_digest());
        assert_eq!(c.param("opaque-data").unwrap(), "here");
        // RFC 8898: Bearer with a token68.
        let c = Credentials::parse(
            "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo=",
        )
        .unwrap();
        assert_eq!(
            c.token68,
            Some("eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo=")
        );
        assert!(c.params.is_empty());
        let c = Challenge::parse(r#"Bearer realm="example.com", scope="sip""#).unwrap();
        assert_eq!(c.param("scope").unwrap(), "sip");
        assert_eq!(c.token68, None);
    }

    #[test]
    fn challenge_rejections() {
        assert_eq!(
            chal_err(r#"Digest realm="a", nonce="1", nonce="2""#),
            "Duplicate digest parameter 'nonce'"
        );
        assert_eq!(
            chal_err(r#"Digest realm="a", NONCE="1", nonce="2""#),
            "Duplicate digest parameter 'nonce'"
        );
        assert_eq!(chal_err(r#"Foo a=1, A=2"#), "Duplicate auth parameter 'A'");
        assert_eq!(
            chal_err(r#"Digest realm="a" nonce="1""#),
            "Unexpected 'n' after digest parameter 'realm'"
        );
        assert_eq!(
            chal_err(r#"Digest realm, nonce="1""#),
            "Missing '=' after digest parameter 'realm'"
        );
        assert_eq!(
            chal_err(r#"Digest nonce="1", realm="a"#),
            "Unterminated quoted string"
        );
        assert_eq!(
            chal_err(r#"Digest realm=, nonce="1""#),
            "Bad value for digest parameter 'realm'"
        );
        assert_eq!(
            chal_err(r#"Digest realm="a",, nonce="1""#),
            "Empty element in digest parameter list"
        );
        assert_eq!(
            chal_err(r#"Digest realm="a", nonce="1","#),
            "Empty element in digest parameter list"
        );
        assert_eq!(
            chal_err(r#"Digest realm="a""#),
            "Missing digest parameter 'nonce'"
        );
        assert_eq!(
            chal_err("Digest"),
            "Auth scheme 'Digest' without parameters"
        );
        assert_eq!(
            chal_err("Digest abc"),
            "Missing '=' after digest parameter 'abc'"
        );
        assert_eq!(chal_err(""), "Missing auth scheme");
        assert_eq!(
            chal_err(r#"Digest,realm="a""#),
            "Unexpected ',' after auth scheme"
        );
        assert_eq!(
            chal_err(r#"Digest realm="a", nonce="1", qop="auth, <x>""#),
            "Bad digest qop options"
        );
        assert_eq!(
            chal_err(r#"Digest realm="a", nonce="1", qop="""#),
            "Bad digest qop options"
        );
        assert_eq!(
            chal_err(r#"Digest realm="a", nonce="1", algorithm="SHA 256""#),
            "Bad digest parameter 'algorithm'"
        );
        assert_eq!(
            chal_err(r#"Digest realm="a", nonce="1", x=a/b"#),
            "Unexpected '/' after digest parameter 'x'"
        );
        // Quoted algorithm is accepted for interop (RFC 7616 only forbids
        // generating it).
        let c = Challenge::parse(r#"Digest realm="a", nonce="1", algorithm="sha-256""#).unwrap();
        assert_eq!(c.algorithm(), Some(Algorithm::Sha256));
    }

    #[test]
    fn credential_rejections() {
        let base =
            r#"realm="a", nonce="n", uri="sip:a", response="0123456789abcdef0123456789abcdef""#;
        assert_eq!(
            creds_err(&format!("Digest {base}")),
            "Missing digest parameter 'username'"
        );
        assert_eq!(
            creds_err(r#"Digest username="u", realm="a", nonce="n", uri="sip:a""#),
            "Missing digest parameter 'response'"
        );
        assert_eq!(
            creds_err(&format!(
                r#"Digest username="u", username*=UTF-8''u, {base}"#
            )),
            "Both 'username' and 'username*' in digest credentials"
        );
        assert_eq!(
            creds_err(&format!("Digest username*=KOI8-R''u, {base}")),
            "Bad digest parameter 'username*'"
        );
        assert_eq!(
            creds_err(&format!(r#"Digest username="u", {base}, qop=auth"#)),
            "Missing digest parameter 'cnonce'"
        );
        assert_eq!(
            creds_err(&format!(
                r#"Digest username="u", {base}, qop=auth, cnonce="c""#
            )),
            "Missing digest parameter 'nc'"
        );
        assert_eq!(
            creds_err(&format!(
                r#"Digest username="u", {base}, qop=auth, cnonce="c", nc=0000001"#
            )),
            "Digest nc must be 8 hex digits"
        );
        assert_eq!(
            creds_err(&format!(
                r#"Digest username="u", {base}, qop=auth, cnonce="c", nc=0000000g"#
            )),
            "Digest nc must be 8 hex digits"
        );
        assert_eq!(
            creds_err(&format!(
                r#"Digest username="u", {base}, qop="auth,auth-int", cnonce="c", nc=00000001"#
            )),
            "Bad digest parameter 'qop'"
        );
        assert_eq!(
            creds_err(&format!(
                r#"Digest username="u", {base}, algorithm=SHA-256"#
            )),
            "Digest response has 32 hex digits, SHA-256 needs 64"
        );
        assert_eq!(
            creds_err(r#"Digest username="u", realm="a", nonce="n", uri="sip:a", response="xyz""#),
            "Digest response is not hex"
        );
        assert_eq!(
            creds_err(
                r#"Digest username="u", realm="a", nonce="n", uri="sip:a", response="abcd", algorithm=NEW"#
            ),
            "Digest response shorter than 32 hex digits"
        );
        assert_eq!(
            creds_err(r#"Digest username="u", realm="a", nonce="n", uri=abc, response="""#),
            "Digest uri must be quoted"
        );
        assert_eq!(
            creds_err(&format!(r#"Digest username="u", {base}, response="""#)),
            "Duplicate digest parameter 'response'"
        );
    }

    #[test]
    fn authentication_info() {
        // RFC 3261 §20.6.
        let a = AuthenticationInfo::parse(r#"nextnonce="47364c23432d2e131a5fb210812c""#).unwrap();
        assert_eq!(a.nextnonce().unwrap(), "47364c23432d2e131a5fb210812c");
        assert_eq!(a.qop(), None);
        let a = AuthenticationInfo::parse(
            r#"qop=auth, rspauth="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", nc=00000001, nextnonce="abc""#,
        )
        .unwrap();
        assert_eq!(a.qop(), Some(Qop::Auth));
        assert_eq!(a.rspauth(), Some("6629fae49393a05397450978507c4ef1"));
        assert_eq!(a.cnonce().unwrap(), "0a4f113b");
        assert_eq!(a.nc(), Some(1));

        let err = |s| {
            AuthenticationInfo::parse(s)
                .unwrap_err()
                .reason()
                .to_owned()
        };
        assert_eq!(err(""), "Empty Authentication-Info");
        assert_eq!(
            err(r#"qop=auth, cnonce="c", nc=00000001"#),
            "Missing digest parameter 'rspauth'"
        );
        assert_eq!(err(r#"rspauth="zz""#), "Digest rspauth is not hex");
        assert_eq!(err("nc=1"), "Digest nc must be 8 hex digits");
        assert_eq!(
            err(r#"nextnonce="a", nextnonce="b""#),
            "Duplicate digest parameter 'nextnonce'"
        );
    }

    #[test]
    fn algorithm_classification() {
        for (s, a) in [
            ("md5", Algorithm::Md5),
            ("MD5-SESS", Algorithm::Md5Sess),
            ("SHA-256-sess", Algorithm::Sha256Sess),
            ("sha-512-256-Sess", Algorithm::Sha512_256Sess),
        ] {
            assert_eq!(Algorithm::parse(s), a);
        }
        assert_eq!(Algorithm::parse("AKAv1-MD5"), Algorithm::Other("AKAv1-MD5"));
        assert!(Algorithm::Sha256Sess.is_session());
        assert!(!Algorithm::Sha256.is_session());
        assert!(Algorithm::Other("X-sess").is_session());
        assert_eq!(Algorithm::Sha512_256.to_string(), "SHA-512-256");
        assert_eq!(Qop::parse("AUTH-INT"), Qop::AuthInt);
        assert_eq!(Qop::parse("x").as_str(), "x");
    }

    #[test]
    fn message_accessors() {
        let raw = format!(
            "SIP/2.0 401 Unauthorized\r\n\
             Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
             WWW-Authenticate: {CH_SHA256}\r\n\
             WWW-Authenticate: {CH_MD5}\r\n\
             Proxy-Authenticate: Digest realm=\"p\", nonce=\"n\"\r\n\
             Authentication-Info: nextnonce=\"47364c23432d2e131a5fb210812c\"\r\n\
             Content-Length: 0\r\n\r\n"
        );
        let m = SipMessage::parse(bytes::Bytes::from(raw)).unwrap();
        let algs: Vec<_> = m
            .www_authenticate()
            .map(|c| c.unwrap().algorithm().unwrap())
            .collect();
        assert_eq!(algs, vec![Algorithm::Sha256, Algorithm::Md5]);
        assert_eq!(
            m.proxy_authenticate()
                .next()
                .unwrap()
                .unwrap()
                .realm()
                .unwrap(),
            "p"
        );
        assert_eq!(m.authorization().count(), 0);
        assert_eq!(
            m.authentication_info()
                .unwrap()
                .unwrap()
                .nextnonce()
                .unwrap(),
            "47364c23432d2e131a5fb210812c"
        );

        let raw = format!(
            "REGISTER sip:example.com SIP/2.0\r\n\
             Authorization: {CR_MD5}\r\n\
             Proxy-Authorization: Digest username=\"u\"\r\n\
             Content-Length: 0\r\n\r\n"
        );
        let m = SipMessage::parse(bytes::Bytes::from(raw)).unwrap();
        assert_eq!(
            m.authorization()
                .next()
                .unwrap()
                .unwrap()
                .username()
                .unwrap(),
            "Mufasa"
        );
        assert_eq!(
            m.proxy_authorization()
                .next()
                .unwrap()
                .unwrap_err()
                .to_string(),
            "400 Bad Proxy-Authorization: Missing digest parameter 'realm'"
        );
    }
}
