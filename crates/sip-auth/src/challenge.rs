//! Writing challenges (RFC 7616 §3.3, RFC 8760 §2.3, RFC 3261 §22.1) and the
//! quoted-string helper the writers share.

use crate::algorithm::Algorithm;

/// One WWW-Authenticate (RFC 3261 §20.44) or Proxy-Authenticate (§20.27)
/// header value.
///
/// RFC 8760 §2.3: a server supporting several algorithms sends one challenge
/// per algorithm, most preferred first (SHA-512-256, SHA-256, then MD5 for
/// old clients), all with the same nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeSpec<'a> {
    /// The protection domain, e.g. the SIP domain (RFC 3261 §22.1: "should
    /// be a globally unique string").
    pub realm: &'a str,
    /// From [`NonceKey::issue`](crate::NonceKey::issue).
    pub nonce: &'a str,
    /// Echoed by the client unchanged (RFC 7616 §3.3).
    pub opaque: Option<&'a str>,
    /// The algorithm this challenge asks for.
    pub algorithm: Algorithm,
    /// Offer `qop="auth,auth-int"` instead of `qop="auth"`.
    pub qop_auth_int: bool,
    /// The previous credentials were right but their nonce was stale
    /// (RFC 7616 §3.3): the client retries without asking the user.
    pub stale: bool,
}

impl ChallengeSpec<'_> {
    /// `Digest realm="...", qop="auth", algorithm=SHA-256, nonce="...",
    /// opaque="...", stale=true`.
    ///
    /// RFC 7616 §3.3: realm, nonce and opaque are quoted strings; algorithm
    /// and stale are tokens (a sender "MUST NOT generate the quoted string
    /// syntax" for them); qop is a quoted list (RFC 3261 §25.1
    /// `qop-options`). `stale` is written only when true. Control
    /// characters in realm or opaque, which are configuration, are dropped
    /// (a header value cannot carry CR or LF).
    pub fn header_value(&self) -> String {
        let mut s = String::with_capacity(96 + self.realm.len() + self.nonce.len());
        s.push_str("Digest realm=");
        push_quoted(&mut s, self.realm);
        s.push_str(if self.qop_auth_int {
            ", qop=\"auth,auth-int\""
        } else {
            ", qop=\"auth\""
        });
        s.push_str(", algorithm=");
        s.push_str(self.algorithm.token());
        s.push_str(", nonce=");
        push_quoted(&mut s, self.nonce);
        if let Some(o) = self.opaque {
            s.push_str(", opaque=");
            push_quoted(&mut s, o);
        }
        if self.stale {
            s.push_str(", stale=true");
        }
        s
    }
}

/// Appends `v` as a quoted-string (RFC 3261 §25.1): `"` and `\` escaped as
/// quoted-pairs; control characters other than HTAB dropped, since CR and LF
/// cannot appear even as quoted-pairs. Callers that must not alter a value
/// check it with [`has_ctl`] first.
pub(crate) fn push_quoted(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push(c),
            c if c.is_ascii_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Does `v` hold a control character that [`push_quoted`] would drop?
pub(crate) fn has_ctl(v: &str) -> bool {
    v.bytes().any(|c| c != b'\t' && c.is_ascii_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut s = String::new();
        push_quoted(&mut s, "a\"b\\c\td\r\ne\u{e4}");
        assert_eq!(s, "\"a\\\"b\\\\c\tde\u{e4}\"");
        assert!(has_ctl("a\rb"));
        assert!(has_ctl("\u{7f}"));
        assert!(!has_ctl("a\tb \u{e4}"));
    }
}
