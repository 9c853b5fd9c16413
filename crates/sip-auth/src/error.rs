//! [`AuthError`]: why credentials were refused or a challenge could not be
//! answered.

/// Why [`verify`](crate::verify) refused credentials, or why
/// [`authorize`](crate::authorize) could not answer a challenge.
///
/// The `Display` text says what was wrong and is fit for a log line or a
/// reason phrase; it never contains a password or a digest.
/// [`AuthError::is_bad_request`] tells which answer a server gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The scheme is not `Digest` (RFC 8760 §2.6: a SIP server never
    /// accepts Basic; other schemes are not ours to check).
    #[error("Auth scheme is not Digest")]
    NotDigest,
    /// A required digest parameter is absent (RFC 7616 §3.4).
    #[error("Missing digest parameter '{0}'")]
    MissingParam(&'static str),
    /// A digest parameter is present but unusable: `nc` not 8 hex digits or
    /// zero, or (client side) a value with control characters that cannot be
    /// written into a header.
    #[error("Bad digest parameter '{0}'")]
    InvalidParam(&'static str),
    /// An algorithm outside RFC 7616 §3.3 / RFC 8760 §2.1 (e.g. `AKAv1-MD5`).
    #[error("Unsupported digest algorithm '{0}'")]
    UnsupportedAlgorithm(String),
    /// A qop other than `auth` / `auth-int` (or, client side, a challenge
    /// offering only unknown qop values).
    #[error("Unsupported digest qop '{0}'")]
    UnsupportedQop(String),
    /// The credentials are for another realm ([`check_realm`](crate::check_realm)).
    #[error("Credentials for another realm")]
    WrongRealm,
    /// The `uri` parameter differs from the Request-URI (RFC 7616 §3.4.6,
    /// RFC 2617 §3.2.2.5).
    #[error("Digest uri does not match the Request-URI")]
    UriMismatch,
    /// The stored HA1 is not a hex digest of the credentials' algorithm: the
    /// caller looked up the HA1 of another algorithm (a server-side bug or a
    /// user provisioned without that algorithm).
    #[error("Stored HA1 does not fit algorithm {0}")]
    Ha1Mismatch(&'static str),
    /// The response digest is wrong (wrong password, or a request altered in
    /// transit).
    #[error("Digest response mismatch")]
    BadResponse,
}

impl AuthError {
    /// Should a server answer `400 Bad Request` (malformed or inconsistent
    /// credentials) rather than challenge again with 401/407?
    ///
    /// RFC 7616 §3.4.6: a `uri` that is not the Request-URI gets 400; §3.4:
    /// improper or missing parameters get "a 4xx error code", for which we
    /// pick 400 as RFC 3261 §21.4.1 does for malformed requests. Everything
    /// else (wrong password, unknown algorithm or qop, another realm) gets a
    /// fresh challenge so the client can try again.
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self,
            AuthError::MissingParam(_) | AuthError::InvalidParam(_) | AuthError::UriMismatch
        )
    }
}
