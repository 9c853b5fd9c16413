//! AUTH (RFC 4976 §5.1, §6.3, §9.1): what the relay core asks of the
//! credential check, what it gets back, and the trait an application
//! implements to check HTTP Digest credentials against its users.
//!
//! The core never looks users up itself: a lookup is a store access, which
//! is async, so the core emits [`Output::Authenticate`](crate::Output) and
//! takes the [`AuthVerdict`] back through
//! [`Relay::handle_auth_verdict`](crate::Relay::handle_auth_verdict).

use std::future::Future;

/// One AUTH request to check: RFC 4976 §9.1 HTTP Digest with method `AUTH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// Every Authorization header value of the request, in order (empty for
    /// a first AUTH: RFC 4976 §5.1, answered with a challenge).
    pub authorization: Vec<String>,
    /// The request-URI for H(A2): the rightmost To-Path URI as written
    /// (RFC 4976 §9.1).
    pub digest_uri: String,
}

impl AuthRequest {
    /// The digest method of an MSRP AUTH (RFC 4976 §9.1: the method of the
    /// request, as HTTP uses it).
    pub const METHOD: &'static str = "AUTH";
}

/// What the credential check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthVerdict {
    /// The credentials are good for this user.
    Authenticated {
        /// Who authenticated (for logs).
        user: String,
        /// The Authentication-Info value for the 200 (RFC 4976 §9.1: rspauth,
        /// cnonce, nc and qop), when digest was used.
        authentication_info: Option<String>,
    },
    /// 401 with these WWW-Authenticate values (one per offered algorithm,
    /// each with `qop="auth"`, RFC 4976 §9.1): no credentials, wrong ones, or
    /// a stale nonce (then the values carry `stale=true`).
    Challenge {
        /// WWW-Authenticate header values, strongest algorithm first.
        www_authenticate: Vec<String>,
    },
    /// Answer with this status (400 for malformed credentials, 403 for a
    /// user who may not use the relay, RFC 4976 §6.3).
    Refused {
        /// The status code.
        status: u16,
        /// Says what was wrong.
        reason: String,
    },
}

/// Checks AUTH credentials: implemented by the application over its user
/// store (Herald: the registrar's digest authenticator and the store's users).
pub trait AuthBackend: Send + Sync + 'static {
    /// The verdict for `request`.
    fn verify(&self, request: AuthRequest) -> impl Future<Output = AuthVerdict> + Send;
}
