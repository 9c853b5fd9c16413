//! Authentication headers (RFC 3261 §20.7, §20.27, §20.28, §20.44, RFC 7616,
//! RFC 8760): WWW-Authenticate / Proxy-Authenticate challenges, Authorization /
//! Proxy-Authorization credentials and Authentication-Info.
//! (Being written: see the helper task.)

use crate::error::{ParseError, Result};

/// A challenge: `Digest realm="...", nonce="...", ...` (or another scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// The scheme, e.g. `Digest`.
    pub scheme: &'a str,
    /// The raw comma-separated auth-params after the scheme.
    pub params: &'a str,
}

impl<'a> Challenge<'a> {
    /// Parses one header value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let _ = s;
        Err(ParseError::header("not implemented"))
    }
}

/// Credentials: `Digest username="...", response="...", ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The scheme, e.g. `Digest`.
    pub scheme: &'a str,
    /// The raw comma-separated auth-params after the scheme.
    pub params: &'a str,
}

impl<'a> Credentials<'a> {
    /// Parses one header value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let _ = s;
        Err(ParseError::header("not implemented"))
    }
}

/// Authentication-Info: `nextnonce="...", qop=auth, rspauth="...", cnonce="...", nc=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticationInfo<'a> {
    /// The raw comma-separated params.
    pub params: &'a str,
}

impl<'a> AuthenticationInfo<'a> {
    /// Parses one header value.
    pub fn parse(s: &'a str) -> Result<Self> {
        let _ = s;
        Err(ParseError::header("not implemented"))
    }
}
