//! Identifier newtypes: what a transaction, a dialog or a flow is called.

use std::fmt;
use std::num::NonZeroU64;

macro_rules! text_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Box<str>);

        impl $name {
            /// Wraps `text` as written on the wire.
            pub fn new(text: impl Into<Box<str>>) -> Self {
                $name(text.into())
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.into())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s.into())
            }
        }
    };
}

text_id!(
    /// A Call-ID (RFC 3261 §8.1.1.4), compared byte for byte.
    CallId
);
text_id!(
    /// A From or To tag (RFC 3261 §19.3).
    Tag
);
text_id!(
    /// A Via branch parameter (RFC 3261 §8.1.1.7).
    Branch
);

impl Branch {
    /// The prefix of every branch made by an RFC 3261 element (§8.1.1.7).
    pub const MAGIC_COOKIE: &'static str = "z9hG4bK";

    /// `z9hG4bK` followed by `unique`. The caller makes `unique` unique across
    /// time and space for its element (a counter plus a per-boot random part).
    pub fn with_cookie(unique: &str) -> Branch {
        Branch(format!("{}{unique}", Self::MAGIC_COOKIE).into())
    }

    /// Does the branch start with the magic cookie?
    pub fn is_rfc3261(&self) -> bool {
        self.0.starts_with(Self::MAGIC_COOKIE)
    }
}

/// The handle of one transaction in a [`TransactionLayer`](crate::TransactionLayer).
///
/// Opaque and never reused by the layer that issued it: once a transaction is
/// terminated its key matches nothing.
///
/// Never zero, so an `Option<TransactionKey>` is 8 bytes (a held
/// subscription carries one for its outstanding NOTIFY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionKey(NonZeroU64);

/// The bit that marks a [`TransactionKey::detached`] key.
const DETACHED: u64 = 1 << 63;

impl TransactionKey {
    /// The layer's `n`th key (`n` counts from 1; 0 is taken as 1).
    pub(crate) fn new(n: u64) -> Self {
        TransactionKey(NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN))
    }

    /// A key made outside a transaction layer, for code that is driven
    /// without one: a transaction user's own tests on a virtual clock.
    /// Distinct for distinct `n` below 2^63, and never equal to a key a
    /// layer issues (those count up from 1 and stay below 2^63).
    pub fn detached(n: u64) -> Self {
        TransactionKey(NonZeroU64::new(n | DETACHED).unwrap_or(NonZeroU64::MAX))
    }
}

impl fmt::Display for TransactionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.get();
        if n & DETACHED != 0 {
            write!(f, "txn#d{}", n & !DETACHED)
        } else {
            write!(f, "txn#{n}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_cookie() {
        let b = Branch::with_cookie("abc");
        assert_eq!(b.as_str(), "z9hG4bKabc");
        assert!(b.is_rfc3261());
        assert!(!Branch::from("1234").is_rfc3261());
        assert_eq!(Tag::from("x").to_string(), "x");
        assert_eq!(TransactionKey::new(7).to_string(), "txn#7");
        assert_eq!(TransactionKey::detached(7).to_string(), "txn#d7");
        assert_ne!(TransactionKey::detached(7), TransactionKey::new(7));
        assert_eq!(TransactionKey::detached(0), TransactionKey::detached(0));
        assert_eq!(std::mem::size_of::<Option<TransactionKey>>(), 8);
    }
}
