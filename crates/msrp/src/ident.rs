//! Identifiers: transaction ids and Message-IDs, both `ident` in RFC 4975 §9
//! (`ALPHANUM 3*31ident-char`), and the random ones we generate.

use std::fmt;

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::error::{ErrorKind, ParseError, Result};

/// Length of the transaction ids we generate: 12 alphanumerics are 71 bits
/// (RFC 4975 §7.1: "at least 64 bits of randomness").
const TID_LEN: usize = 12;
/// Length of the Message-IDs we generate: 16 alphanumerics are 95 bits
/// (RFC 4975 §7.1.1: "highly unlikely to be repeated"; a 64-bit random number suffices).
const MESSAGE_ID_LEN: usize = 16;

/// `ident-char` of RFC 4975 §9.
pub(crate) fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+' | b'%' | b'=')
}

/// `ident = ALPHANUM 3*31ident-char` (RFC 4975 §9): 4 to 32 characters.
pub(crate) fn is_ident(s: &[u8]) -> bool {
    (4..=32).contains(&s.len())
        && s[0].is_ascii_alphanumeric()
        && s[1..].iter().all(|&c| is_ident_char(c))
}

fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

macro_rules! ident_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $len:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks `s` against `ident` (RFC 4975 §9).
            pub fn new(s: impl Into<String>) -> Result<Self> {
                let s = s.into();
                if is_ident(s.as_bytes()) {
                    Ok($name(s))
                } else {
                    Err(ParseError::new(
                        ErrorKind::HeaderValue,
                        concat!("Bad ", $what),
                    ))
                }
            }

            /// A fresh random value from the thread's cryptographically secure generator.
            pub fn random() -> Self {
                $name(random_alphanumeric($len))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self> {
                $name::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

ident_type!(
    /// A transaction id (`transact-id`, RFC 4975 §9): names the transaction in
    /// the start line and frames the request with its end-line. Case-sensitive.
    TransactionId,
    "transaction id",
    TID_LEN
);

ident_type!(
    /// A Message-ID (RFC 4975 §7.1.1): names one message across all of its
    /// chunks and its reports. Case-sensitive.
    MessageId,
    "Message-ID",
    MESSAGE_ID_LEN
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ident_grammar() {
        assert!(TransactionId::new("a786hjs2").is_ok());
        assert!(TransactionId::new("6aef").is_ok()); // 4 is the minimum
        assert!(TransactionId::new("abc").is_err());
        assert!(TransactionId::new("-abc").is_err()); // must start ALPHANUM
        assert!(TransactionId::new("ab.c-d+e%f=g").is_ok());
        assert!(TransactionId::new("a".repeat(32)).is_ok());
        assert!(TransactionId::new("a".repeat(33)).is_err());
        assert!(MessageId::new("12339sdqwer").is_ok());
        assert!(MessageId::new("bad id").is_err());
    }

    #[test]
    fn random_ids_are_idents_and_differ() {
        let a = TransactionId::random();
        let b = TransactionId::random();
        assert!(is_ident(a.as_str().as_bytes()));
        assert_eq!(a.as_str().len(), TID_LEN);
        assert_ne!(a, b);
        let m = MessageId::random();
        assert_eq!(m.as_str().len(), MESSAGE_ID_LEN);
        assert!(is_ident(m.as_str().as_bytes()));
    }
}
