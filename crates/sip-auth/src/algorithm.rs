//! Digest algorithms and the hash `H()` (RFC 7616 §3.2, §3.3; RFC 8760 §2.1),
//! the stored HA1 and the hashed username.

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};

/// A digest algorithm Herald implements (RFC 7616 §3.3 and the IANA "Hash
/// Algorithms for HTTP Digest Authentication" registry, which RFC 8760 §2.1
/// brings to SIP).
///
/// MD5 is there for the many SIP clients that know nothing else; RFC 8760 §3
/// makes it NOT RECOMMENDED, so a server offers it last (RFC 8760 §2.3: one
/// challenge per algorithm, most preferred first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5`, the default when a challenge names none (RFC 7616 §3.3).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256`: SHA-512/256 (FIPS 180-4), not SHA-512 truncated.
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
}

impl Algorithm {
    /// Every algorithm, the non-session ones in RFC 8760 §2.3 preference
    /// order (strongest first) followed by their `-sess` variants.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Sha512_256,
        Algorithm::Sha256,
        Algorithm::Md5,
        Algorithm::Sha512_256Sess,
        Algorithm::Sha256Sess,
        Algorithm::Md5Sess,
    ];

    /// The token as registered, e.g. `SHA-256-sess`.
    pub fn token(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// Parses a token, case-insensitively (RFC 7616 §3.3); `None` for an
    /// algorithm we do not implement.
    pub fn parse(s: &str) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.token().eq_ignore_ascii_case(s))
    }

    /// Maps the algorithm `sip-msg` parsed from a header; `None` for
    /// [`sip_msg::auth::Algorithm::Other`].
    pub fn from_msg(a: sip_msg::auth::Algorithm<'_>) -> Option<Algorithm> {
        use sip_msg::auth::Algorithm as M;
        match a {
            M::Md5 => Some(Algorithm::Md5),
            M::Md5Sess => Some(Algorithm::Md5Sess),
            M::Sha256 => Some(Algorithm::Sha256),
            M::Sha256Sess => Some(Algorithm::Sha256Sess),
            M::Sha512_256 => Some(Algorithm::Sha512_256),
            M::Sha512_256Sess => Some(Algorithm::Sha512_256Sess),
            M::Other(_) => None,
        }
    }

    /// Is this a `-sess` variant, whose A1 mixes in the nonce and cnonce
    /// (RFC 7616 §3.4.2)?
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess
        )
    }

    /// The algorithm without `-sess`: the one whose HA1 is stored
    /// (`Sha256Sess` → `Sha256`).
    pub fn base(self) -> Algorithm {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => Algorithm::Md5,
            Algorithm::Sha256 | Algorithm::Sha256Sess => Algorithm::Sha256,
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => Algorithm::Sha512_256,
        }
    }

    /// Length of a digest in hex digits (RFC 7616 §3.2: 32 for MD5, 64 for
    /// the SHA-2 ones).
    pub fn hex_len(self) -> usize {
        match self.base() {
            Algorithm::Md5 => 32,
            _ => 64,
        }
    }

    /// `H(data)` as lowercase hex (RFC 7616 §3.2).
    pub fn hash_hex(self, data: &[u8]) -> String {
        self.hash_parts(&[data])
    }

    /// `H(p0 p1 ...)`: the hash of the concatenation, without building it.
    pub(crate) fn hash_parts(self, parts: &[&[u8]]) -> String {
        fn run<D: Digest>(parts: &[&[u8]]) -> String {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            hex(&d.finalize())
        }
        match self.base() {
            Algorithm::Md5 => run::<Md5>(parts),
            Algorithm::Sha256 => run::<Sha256>(parts),
            _ => run::<Sha512_256>(parts),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// `HA1 = H(username ":" realm ":" password)` as lowercase hex (RFC 7616
/// §3.4.2), with the hash of `alg`'s base algorithm: the form a user is
/// stored in, one per algorithm (RFC 7616 §5.2: the password itself is never
/// needed again).
///
/// The strings are hashed as given; RFC 7616 §4 asks for UTF-8 in NFC, which
/// is the provisioning side's business.
pub fn ha1(alg: Algorithm, username: &str, realm: &str, password: &str) -> String {
    alg.base().hash_parts(&[
        username.as_bytes(),
        b":",
        realm.as_bytes(),
        b":",
        password.as_bytes(),
    ])
}

/// The hashed username `H(username ":" realm)` (RFC 7616 §3.4.4), with the
/// hash of `alg`'s base algorithm.
///
/// A client sends it in place of the username when the challenge says
/// `userhash=true`; a server stores it beside the HA1 to find the user such
/// credentials belong to ([`Verified::userhash`](crate::Verified::userhash)).
pub fn userhash(alg: Algorithm, username: &str, realm: &str) -> String {
    alg.base()
        .hash_parts(&[username.as_bytes(), b":", realm.as_bytes()])
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::parse(a.token()), Some(a));
            assert_eq!(Algorithm::parse(&a.token().to_ascii_lowercase()), Some(a));
            assert_eq!(Algorithm::parse(&a.token().to_ascii_uppercase()), Some(a));
            assert!(!a.base().is_session());
            assert_eq!(a.is_session(), a != a.base());
            assert_eq!(a.hash_hex(b"").len(), a.hex_len());
        }
        assert_eq!(Algorithm::parse("SHA-512"), None);
        assert_eq!(Algorithm::parse("AKAv1-MD5"), None);
        assert_eq!(Algorithm::Sha256Sess.base(), Algorithm::Sha256);
        assert_eq!(Algorithm::Sha512_256Sess.to_string(), "SHA-512-256-sess");
    }

    #[test]
    fn known_hashes() {
        // RFC 1321 §A.5, FIPS 180-4 test vectors ("abc").
        assert_eq!(
            Algorithm::Md5.hash_hex(b"abc"),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            Algorithm::Sha256.hash_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Algorithm::Sha512_256.hash_hex(b"abc"),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        );
        assert_eq!(
            Algorithm::Sha256Sess.hash_parts(&[b"a", b"", b"bc"]),
            Algorithm::Sha256.hash_hex(b"abc")
        );
    }

    #[test]
    fn sip_msg_mapping() {
        use sip_msg::auth::Algorithm as M;
        assert_eq!(
            Algorithm::from_msg(M::Sha512_256Sess),
            Some(Algorithm::Sha512_256Sess)
        );
        assert_eq!(Algorithm::from_msg(M::Other("AKAv1-MD5")), None);
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_msg(M::parse(a.token())), Some(a));
        }
    }
}
