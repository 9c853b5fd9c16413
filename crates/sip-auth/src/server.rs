//! The server side: verifying credentials (RFC 7616 §3.4, §3.6; RFC 3261
//! §22.2–§22.4) and answering with Authentication-Info (RFC 7616 §3.5).

use std::borrow::Cow;

use sip_msg::auth::Credentials;

use crate::algorithm::Algorithm;
use crate::challenge::push_quoted;
use crate::compute::{DigestInput, Qop, QopInput, digest_eq, normalize_ha1, response};
use crate::error::AuthError;

/// Credentials that [`verify`] accepted: what the caller needs for the
/// nonce-count check, logging and [`authentication_info`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The algorithm used.
    pub algorithm: Algorithm,
    /// `qop`; `None` for the RFC 2069 form, which has no nonce count.
    pub qop: Option<Qop>,
    /// `nc`, with `qop`.
    pub nc: Option<u32>,
    /// `cnonce`, with `qop` or a `-sess` algorithm.
    pub cnonce: Option<String>,
    /// The user name as sent: with [`Verified::userhash`], the hash
    /// `H(username ":" realm)`.
    pub username: String,
    /// `userhash=true` (RFC 7616 §3.4.4): [`Verified::username`] is
    /// [`userhash`](crate::userhash)`(alg, name, realm)`, and the caller
    /// found the user (and so the HA1) by it.
    pub userhash: bool,
    /// `realm`.
    pub realm: String,
    /// `nonce`, for [`NonceCounts`](crate::NonceCounts).
    pub nonce: String,
    /// `uri`, equal to the Request-URI.
    pub uri: String,
    /// `opaque`, if sent.
    pub opaque: Option<String>,
    /// `nc` and `qop` exactly as sent: RFC 7616 §3.5 rspauth covers "the
    /// ones for the client request".
    nc_text: Option<String>,
    qop_text: Option<String>,
}

/// Checks that `creds` are for `realm` (compared exactly, as RFC 7616 §3.3
/// defines realm as an opaque quoted string).
///
/// RFC 3261 §22.2–§22.3: a request may carry one Authorization (or
/// Proxy-Authorization) per realm; a server picks the one for its realm,
/// and a proxy leaves the others alone.
pub fn check_realm(creds: &Credentials<'_>, realm: &str) -> Result<(), AuthError> {
    match creds.realm() {
        None => Err(AuthError::MissingParam("realm")),
        Some(r) if r == realm => Ok(()),
        Some(_) => Err(AuthError::WrongRealm),
    }
}

/// Verifies digest credentials (an Authorization or Proxy-Authorization
/// value parsed by `sip-msg`) against the stored HA1.
///
/// - `method`: the request method (`REGISTER`; RFC 3261 §22.4: for ACK and
///   CANCEL the INVITE's credentials are reused, with the method of the
///   request that carries them).
/// - `request_uri`: the Request-URI as it appears in the request line. RFC
///   7616 §3.4.6 requires the `uri` parameter to designate the same
///   resource (400 otherwise, [`AuthError::UriMismatch`]); RFC 3261 §22.4
///   hashes the digest-uri as the client wrote it. We accept only a `uri`
///   byte-for-byte equal to the Request-URI: an element that rewrote the
///   Request-URI on the way (a proxy retargeting before the authenticating
///   hop) would make even a "semantically equal" URI hash differently, and
///   URI-equivalence rules (RFC 3261 §19.1.4) would let a captured response
///   be used for another request-line.
/// - `body`: the message body, hashed for `qop=auth-int`.
/// - `ha1_hex`: the stored `H(user ":" realm ":" password)` for the
///   credentials' base algorithm ([`ha1`](crate::ha1)); with `userhash=true`
///   the caller finds the user by [`userhash`](crate::userhash).
///
/// Handles `qop=auth`, `qop=auth-int`, no qop (the RFC 2069 form RFC 3261
/// §22.4 keeps for backward compatibility: no `cnonce`/`nc`, so replay
/// protection rests on the nonce alone), and the `-sess` algorithms, whose
/// session key `H(HA1 ":" nonce ":" cnonce)` is computed from this request's
/// nonce and cnonce (what clients do; RFC 7616 §3.4.2 speaks of the first
/// request's cnonce, so a client that keeps the first cnonce's session key
/// while changing cnonce fails here). The response is compared in constant
/// time; upper-case hex is accepted.
///
/// Not checked here: the realm ([`check_realm`]), the nonce
/// ([`NonceKey::check`](crate::NonceKey::check)) and the nonce count
/// ([`NonceCounts::accept`](crate::NonceCounts::accept)).
pub fn verify(
    creds: &Credentials<'_>,
    method: &str,
    request_uri: &str,
    body: &[u8],
    ha1_hex: &str,
) -> Result<Verified, AuthError> {
    if !creds.is_digest() {
        return Err(AuthError::NotDigest);
    }
    // RFC 7616 §3.3: no algorithm means MD5.
    let algorithm = match (creds.algorithm(), creds.param("algorithm")) {
        (Some(a), _) => Algorithm::from_msg(a)
            .ok_or_else(|| AuthError::UnsupportedAlgorithm(a.as_str().to_owned()))?,
        (None, Some(v)) => return Err(AuthError::UnsupportedAlgorithm(v.into_owned())),
        (None, None) => Algorithm::Md5,
    };
    let required = |name: &'static str| creds.param(name).ok_or(AuthError::MissingParam(name));
    let username = creds
        .username()
        .ok_or(AuthError::MissingParam("username"))?;
    let realm = required("realm")?;
    let nonce = required("nonce")?;
    let uri = required("uri")?;
    let received = creds
        .response()
        .ok_or(AuthError::MissingParam("response"))?;
    let cnonce = creds.cnonce();

    let qop_text = creds.param("qop");
    let qop = match &qop_text {
        None => None,
        Some(t) => Some(Qop::parse(t).ok_or_else(|| AuthError::UnsupportedQop(t.to_string()))?),
    };
    let (nc, nc_text) = match (qop, creds.param("nc")) {
        (None, _) => (None, None),
        (Some(_), None) => return Err(AuthError::MissingParam("nc")),
        (Some(_), Some(t)) => (Some(parse_nc(&t)?), Some(t)),
    };
    if (qop.is_some() || algorithm.is_session()) && cnonce.is_none() {
        return Err(AuthError::MissingParam("cnonce"));
    }

    // RFC 7616 §3.4.6 (RFC 2617 §3.2.2.5): the uri must name the resource of
    // the request line; see the doc comment on exact comparison.
    if uri != request_uri {
        return Err(AuthError::UriMismatch);
    }

    let ha1 = normalize_ha1(algorithm, ha1_hex)
        .ok_or(AuthError::Ha1Mismatch(algorithm.base().token()))?;
    let qop_input = match (qop, &qop_text, &nc_text, &cnonce) {
        (Some(q), Some(qt), Some(nt), Some(c)) => Some(QopInput {
            qop: q,
            qop_text: qt,
            nc_text: nt,
            cnonce: c,
        }),
        _ => None,
    };
    let expected = response(&DigestInput {
        alg: algorithm,
        ha1: &ha1,
        nonce: &nonce,
        cnonce: cnonce.as_deref(),
        qop: qop_input,
        method,
        uri: &uri,
        body,
    });
    // RFC 7616 §3.6: perform the same digest operation and compare.
    if !digest_eq(&expected, received) {
        return Err(AuthError::BadResponse);
    }

    Ok(Verified {
        algorithm,
        qop,
        nc,
        cnonce: cnonce.map(Cow::into_owned),
        username: username.into_owned(),
        userhash: creds.userhash(),
        realm: realm.into_owned(),
        nonce: nonce.into_owned(),
        uri: uri.into_owned(),
        opaque: creds.opaque().map(Cow::into_owned),
        nc_text: nc_text.map(Cow::into_owned),
        qop_text: qop_text.map(Cow::into_owned),
    })
}

/// `nc-value = 8LHEX` (RFC 7616 §3.5: "exactly 8 hexadecimal digits"),
/// counting from 1.
fn parse_nc(t: &str) -> Result<u32, AuthError> {
    if t.len() != 8 || !t.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(AuthError::InvalidParam("nc"));
    }
    match u32::from_str_radix(t, 16) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(AuthError::InvalidParam("nc")),
    }
}

/// The Authentication-Info header value (RFC 3261 §20.6, RFC 7616 §3.5) for
/// the response to a request whose credentials [`verify`] accepted:
/// `nextnonce="...", qop=auth, rspauth="...", cnonce="...", nc=00000001`.
///
/// `rspauth` proves the server knows the HA1: the response digest computed
/// with an empty method, A2 = `":" uri` (plus `":" H(body)` for auth-int,
/// where `body_for_auth_int` is the body of the *response*), and the
/// request's qop, cnonce and nc, echoed as sent. Without qop (RFC 2069
/// form) rspauth is `KD(HA1, nonce ":" H(A2))` and qop/cnonce/nc are left
/// out. `nextnonce` (RFC 7616 §3.5) asks the client to use a new nonce next.
pub fn authentication_info(
    v: &Verified,
    ha1_hex: &str,
    nonce: &str,
    digest_uri: &str,
    body_for_auth_int: &[u8],
    nextnonce: Option<&str>,
) -> String {
    let ha1 = ha1_hex.to_ascii_lowercase();
    let qop = match (v.qop, &v.qop_text, &v.nc_text, &v.cnonce) {
        (Some(q), Some(qt), Some(nt), Some(c)) => Some(QopInput {
            qop: q,
            qop_text: qt,
            nc_text: nt,
            cnonce: c,
        }),
        _ => None,
    };
    let rspauth = response(&DigestInput {
        alg: v.algorithm,
        ha1: &ha1,
        nonce,
        cnonce: v.cnonce.as_deref(),
        qop,
        // RFC 7616 §3.5: A2 = ":" request-uri [ ":" H(entity-body) ].
        method: "",
        uri: digest_uri,
        body: body_for_auth_int,
    });
    let mut s = String::with_capacity(160);
    if let Some(n) = nextnonce {
        s.push_str("nextnonce=");
        push_quoted(&mut s, n);
        s.push_str(", ");
    }
    // RFC 7616 §3.5: qop and nc are tokens; rspauth, cnonce and nextnonce
    // quoted strings.
    if let Some(q) = qop {
        s.push_str("qop=");
        s.push_str(q.qop_text);
        s.push_str(", ");
    }
    s.push_str("rspauth=\"");
    s.push_str(&rspauth);
    s.push('"');
    if let Some(q) = qop {
        s.push_str(", cnonce=");
        push_quoted(&mut s, q.cnonce);
        s.push_str(", nc=");
        s.push_str(q.nc_text);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nc_values() {
        assert_eq!(parse_nc("00000001"), Ok(1));
        assert_eq!(parse_nc("0000000A"), Ok(10));
        assert_eq!(parse_nc("ffffffff"), Ok(u32::MAX));
        assert_eq!(parse_nc("00000000"), Err(AuthError::InvalidParam("nc")));
        assert_eq!(parse_nc("0000001"), Err(AuthError::InvalidParam("nc")));
        assert_eq!(parse_nc("+0000001"), Err(AuthError::InvalidParam("nc")));
    }
}
