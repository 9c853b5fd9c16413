//! Identifier newtypes: what a transaction, a dialog or a flow is called.

use std::fmt;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionKey(u64);

impl TransactionKey {
    pub(crate) fn new(n: u64) -> Self {
        TransactionKey(n)
    }

    /// A key made outside a transaction layer, for code that is driven
    /// without one: a transaction user's own tests on a virtual clock. Keys
    /// from a real layer never collide with each other, and they may with
    /// these, so never mix the two in one map.
    pub fn detached(n: u64) -> Self {
        TransactionKey(n)
    }
}

impl fmt::Display for TransactionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "txn#{}", self.0)
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
    }
}
