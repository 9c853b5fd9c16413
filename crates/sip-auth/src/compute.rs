//! The digest computation shared by the client, the verifier and rspauth
//! (RFC 7616 §3.4.1–§3.4.3, §3.5; RFC 2617 §3.2.2.1 for the qop-less form
//! RFC 3261 §22.4 keeps for RFC 2069 clients).

use subtle::ConstantTimeEq;

use crate::algorithm::Algorithm;

/// A quality of protection Herald implements (RFC 7616 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: authentication only.
    Auth,
    /// `auth-int`: authentication plus integrity of the message body.
    AuthInt,
}

impl Qop {
    /// The token, `auth` or `auth-int`.
    pub fn token(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }

    /// Parses a token, case-insensitively; `None` for anything else.
    pub fn parse(s: &str) -> Option<Qop> {
        if s.eq_ignore_ascii_case("auth") {
            Some(Qop::Auth)
        } else if s.eq_ignore_ascii_case("auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Qop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.token())
    }
}

/// The qop-dependent inputs of the response, as written on the wire: RFC 7616
/// §3.4.1 hashes `nc` and `qop` as sent, so a lenient peer's `0000000A` or
/// `AUTH` must be hashed as such.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QopInput<'a> {
    pub qop: Qop,
    pub qop_text: &'a str,
    pub nc_text: &'a str,
    pub cnonce: &'a str,
}

/// Everything the response digest covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigestInput<'a> {
    pub alg: Algorithm,
    /// The stored HA1, lowercase hex of `alg.base()`.
    pub ha1: &'a str,
    pub nonce: &'a str,
    /// `cnonce`, also without qop (a `-sess` algorithm needs it).
    pub cnonce: Option<&'a str>,
    pub qop: Option<QopInput<'a>>,
    /// The request method; empty for rspauth (RFC 7616 §3.5).
    pub method: &'a str,
    pub uri: &'a str,
    pub body: &'a [u8],
}

/// The response digest (RFC 7616 §3.4.1), or rspauth when `method` is empty
/// (RFC 7616 §3.5: A2 = ":" request-uri).
pub(crate) fn response(d: &DigestInput<'_>) -> String {
    let alg = d.alg;
    // RFC 7616 §3.4.2: for -sess, A1 = H(user:realm:pass) ":" nonce ":" cnonce,
    // so H(A1) = H(HA1 ":" nonce ":" cnonce). The nonce and cnonce are the
    // ones of this request (see `verify` on what that means for clients
    // that keep the first cnonce's session key).
    let session;
    let ha1 = if alg.is_session() {
        session = alg.hash_parts(&[
            d.ha1.as_bytes(),
            b":",
            d.nonce.as_bytes(),
            b":",
            d.cnonce.unwrap_or("").as_bytes(),
        ]);
        session.as_str()
    } else {
        d.ha1
    };
    // RFC 7616 §3.4.3: A2 = Method ":" request-uri [ ":" H(entity-body) ].
    let ha2 = match d.qop {
        Some(QopInput {
            qop: Qop::AuthInt, ..
        }) => {
            let hbody = alg.hash_hex(d.body);
            alg.hash_parts(&[
                d.method.as_bytes(),
                b":",
                d.uri.as_bytes(),
                b":",
                hbody.as_bytes(),
            ])
        }
        _ => alg.hash_parts(&[d.method.as_bytes(), b":", d.uri.as_bytes()]),
    };
    match d.qop {
        // RFC 7616 §3.4.1: KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)),
        // KD(secret, data) = H(secret ":" data).
        Some(q) => alg.hash_parts(&[
            ha1.as_bytes(),
            b":",
            d.nonce.as_bytes(),
            b":",
            q.nc_text.as_bytes(),
            b":",
            q.cnonce.as_bytes(),
            b":",
            q.qop_text.as_bytes(),
            b":",
            ha2.as_bytes(),
        ]),
        // RFC 2617 §3.2.2.1 (RFC 2069 compatibility, kept by RFC 3261 §22.4):
        // KD(H(A1), nonce ":" H(A2)).
        None => alg.hash_parts(&[
            ha1.as_bytes(),
            b":",
            d.nonce.as_bytes(),
            b":",
            ha2.as_bytes(),
        ]),
    }
}

/// Constant-time comparison of two hex digests, ignoring ASCII case of the
/// received one (LHEX is lower case, but upper case carries the same bits).
pub(crate) fn digest_eq(expected_lower: &str, received: &str) -> bool {
    if expected_lower.len() != received.len() {
        // The lengths are public (fixed per algorithm); only the contents
        // must not leak through timing.
        return false;
    }
    let received: Vec<u8> = received.bytes().map(|c| c.to_ascii_lowercase()).collect();
    bool::from(expected_lower.as_bytes().ct_eq(&received))
}

/// The stored HA1 lowercased, if it is a hex digest of `alg`'s length.
pub(crate) fn normalize_ha1(alg: Algorithm, ha1_hex: &str) -> Option<String> {
    (ha1_hex.len() == alg.hex_len() && ha1_hex.bytes().all(|c| c.is_ascii_hexdigit()))
        .then(|| ha1_hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qop_tokens() {
        assert_eq!(Qop::parse("AUTH-int"), Some(Qop::AuthInt));
        assert_eq!(Qop::parse("auth"), Some(Qop::Auth));
        assert_eq!(Qop::parse("auth-conf"), None);
        assert_eq!(Qop::AuthInt.to_string(), "auth-int");
    }

    #[test]
    fn digest_comparison() {
        assert!(digest_eq("00ab", "00AB"));
        assert!(digest_eq("00ab", "00ab"));
        assert!(!digest_eq("00ab", "00ac"));
        assert!(!digest_eq("00ab", "00a"));
        assert!(!digest_eq("00ab", ""));
    }

    #[test]
    fn ha1_shape() {
        let md5 = "939e7578ED9e3c518a452acee763bce9";
        assert_eq!(
            normalize_ha1(Algorithm::Md5Sess, md5).as_deref(),
            Some("939e7578ed9e3c518a452acee763bce9")
        );
        assert_eq!(normalize_ha1(Algorithm::Sha256, md5), None);
        assert_eq!(
            normalize_ha1(Algorithm::Md5, "x39e7578ed9e3c518a452acee763bce9"),
            None
        );
    }
}
