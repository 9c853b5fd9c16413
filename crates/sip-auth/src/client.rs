//! The client side: answering a challenge (RFC 7616 §3.4, RFC 3261 §22.2,
//! §22.3).

use sip_msg::auth::Challenge;

use crate::algorithm::{Algorithm, ha1, userhash};
use crate::challenge::{has_ctl, push_quoted};
use crate::compute::{DigestInput, Qop, QopInput, response};
use crate::error::AuthError;

/// What a user agent answers challenges with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ClientCredentials<'a> {
    /// The user name (RFC 3261 §22.4: often the user part of the AOR, but
    /// whatever the account was provisioned with).
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
}

impl std::fmt::Debug for ClientCredentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("username", &self.username)
            .field("password", &"..")
            .finish()
    }
}

/// The Authorization (or Proxy-Authorization, RFC 7616 §3.8) header value
/// answering `challenge` for a request `method uri` with `body`.
///
/// - qop: `auth` when offered, else `auth-int` when that alone is offered
///   (hashing `body`), else none (the RFC 2069 form, for a challenge
///   without qop). A challenge offering only unknown qop values is
///   [`AuthError::UnsupportedQop`].
/// - `cnonce` (client-chosen, RFC 7616 §5.12: random, fresh per challenge)
///   and `nc` (1 for the first request with this nonce, then 2, ...) are
///   sent with qop, and `cnonce` also with a `-sess` algorithm.
/// - `opaque` is echoed and `algorithm` always named (MD5 when the
///   challenge names none, RFC 7616 §3.3).
/// - With `userhash=true` in the challenge the username is sent hashed
///   (RFC 7616 §3.4.4) with `userhash=true`.
///
/// `uri` is the Request-URI of the request (RFC 3261 §22.4 digest-uri).
/// Values that a header cannot carry (control characters) are
/// [`AuthError::InvalidParam`]; `nc = 0` with qop is too.
pub fn authorize(
    challenge: &Challenge<'_>,
    creds: &ClientCredentials<'_>,
    method: &str,
    uri: &str,
    body: &[u8],
    cnonce: &str,
    nc: u32,
) -> Result<String, AuthError> {
    if !challenge.is_digest() {
        return Err(AuthError::NotDigest);
    }
    let algorithm = match (challenge.algorithm(), challenge.param("algorithm")) {
        (Some(a), _) => Algorithm::from_msg(a)
            .ok_or_else(|| AuthError::UnsupportedAlgorithm(a.as_str().to_owned()))?,
        (None, Some(v)) => return Err(AuthError::UnsupportedAlgorithm(v.into_owned())),
        (None, None) => Algorithm::Md5,
    };
    let realm = challenge.realm().ok_or(AuthError::MissingParam("realm"))?;
    let nonce = challenge.nonce().ok_or(AuthError::MissingParam("nonce"))?;
    let opaque = challenge.opaque();

    // RFC 7616 §3.3: the client picks one of the offered qop values;
    // unrecognized ones MUST be ignored.
    let offered: Vec<Qop> = challenge
        .qop_options()
        .filter_map(|q| Qop::parse(q.as_str()))
        .collect();
    let qop = if offered.contains(&Qop::Auth) {
        Some(Qop::Auth)
    } else if offered.contains(&Qop::AuthInt) {
        Some(Qop::AuthInt)
    } else if let Some(q) = challenge.param("qop") {
        return Err(AuthError::UnsupportedQop(q.into_owned()));
    } else {
        None
    };

    for (name, v) in [
        ("username", creds.username),
        ("uri", uri),
        ("cnonce", cnonce),
        ("realm", &realm),
        ("nonce", &nonce),
        ("opaque", opaque.as_deref().unwrap_or("")),
    ] {
        if has_ctl(v) {
            return Err(AuthError::InvalidParam(name));
        }
    }
    if qop.is_some() && nc == 0 {
        return Err(AuthError::InvalidParam("nc"));
    }

    let nc_text = format!("{nc:08x}");
    let qop_input = qop.map(|q| QopInput {
        qop: q,
        qop_text: q.token(),
        nc_text: &nc_text,
        cnonce,
    });
    let send_cnonce = qop.is_some() || algorithm.is_session();
    let ha1 = ha1(algorithm, creds.username, &realm, creds.password);
    let digest = response(&DigestInput {
        alg: algorithm,
        ha1: &ha1,
        nonce: &nonce,
        cnonce: send_cnonce.then_some(cnonce),
        qop: qop_input,
        method,
        uri,
        body,
    });

    // RFC 7616 §3.4.4: the username is hashed after every other hash.
    let hashed = challenge.userhash();
    let username = if hashed {
        userhash(algorithm, creds.username, &realm)
    } else {
        creds.username.to_owned()
    };

    // RFC 7616 §3.4: username, realm, nonce, uri, response, cnonce and opaque
    // quoted; algorithm, qop and nc never.
    let mut s = String::with_capacity(256);
    s.push_str("Digest username=");
    push_quoted(&mut s, &username);
    s.push_str(", realm=");
    push_quoted(&mut s, &realm);
    s.push_str(", nonce=");
    push_quoted(&mut s, &nonce);
    s.push_str(", uri=");
    push_quoted(&mut s, uri);
    s.push_str(", response=\"");
    s.push_str(&digest);
    s.push_str("\", algorithm=");
    s.push_str(algorithm.token());
    if send_cnonce {
        s.push_str(", cnonce=");
        push_quoted(&mut s, cnonce);
    }
    if let Some(o) = &opaque {
        s.push_str(", opaque=");
        push_quoted(&mut s, o);
    }
    if let Some(q) = qop {
        s.push_str(", qop=");
        s.push_str(q.token());
        s.push_str(", nc=");
        s.push_str(&nc_text);
    }
    if hashed {
        s.push_str(", userhash=true");
    }
    Ok(s)
}
