//! The authentication processor: digest challenges and checks (RFC 3261
//! §22, RFC 7616, RFC 8760) over `sip-auth`, for users in the store.
//!
//! The caller looks the user up (async, in the store) between
//! [`Authenticator::credentials`] and [`Authenticator::check`]; everything
//! here is synchronous.

use std::sync::Mutex;

use simple_store::User;
use sip_auth::{Algorithm, AuthError, ChallengeSpec, NonceCounts, NonceKey, NonceStatus};
use sip_msg::auth::Credentials;
use sip_msg::{HeaderName, SipMessage};

use crate::register::Reply;

/// What to authenticate and how.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Off: no challenges, every user of a served domain exists (trusted
    /// networks, benchmarks).
    pub enabled: bool,
    /// Methods challenged when they come from a local user outside a dialog.
    pub methods: Vec<String>,
    /// Challenges offered, in order (RFC 8760 §2.4: strongest first).
    pub algorithms: Vec<Algorithm>,
    /// Nonce lifetime; older nonces get `stale=true`.
    pub nonce_max_age_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            enabled: true,
            methods: ["REGISTER", "PUBLISH", "SUBSCRIBE", "MESSAGE", "INVITE"]
                .map(str::to_owned)
                .to_vec(),
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            nonce_max_age_secs: 300,
        }
    }
}

impl AuthConfig {
    /// Is this method challenged?
    pub fn covers(&self, method: &str) -> bool {
        self.enabled && self.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
    }
}

/// What the digest response covers (RFC 7616 §3.4.3): method, the request
/// URI as sent, and the body (for auth-int).
#[derive(Debug, Clone, Copy)]
pub struct DigestRequest<'a> {
    /// SIP or HTTP method.
    pub method: &'a str,
    /// Request-URI (SIP) or request-target (HTTP).
    pub uri: &'a str,
    /// The body.
    pub body: &'a [u8],
}

/// The result of checking a request.
#[derive(Debug)]
pub enum AuthOutcome {
    /// Authenticated as this user; the header to add to a 2xx
    /// (Authentication-Info, RFC 7616 §3.5).
    Authenticated {
        /// The user name.
        username: String,
        /// `Authentication-Info` value.
        info: Option<String>,
    },
    /// Answer with this: 401/407 with fresh challenges, or 400 for
    /// malformed credentials.
    Challenge(Reply),
}

/// Which user the credentials name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// User part.
    pub username: String,
    /// Domain (the realm unless the username carries `@domain`).
    pub domain: String,
}

/// Digest state: the nonce key and the nonce-count window.
#[derive(Debug)]
pub struct Authenticator {
    cfg: AuthConfig,
    key: NonceKey,
    counts: Mutex<NonceCounts>,
}

impl Authenticator {
    /// `secret` keys the stateless nonces (random per process: a restart
    /// makes old nonces stale, which clients handle).
    pub fn new(cfg: AuthConfig, secret: [u8; 32]) -> Self {
        Authenticator {
            cfg,
            key: NonceKey::new(secret),
            counts: Mutex::new(NonceCounts::new(100_000)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.cfg
    }

    fn header(proxy: bool) -> HeaderName {
        if proxy {
            HeaderName::ProxyAuthorization
        } else {
            HeaderName::Authorization
        }
    }

    /// The Digest credentials for `realm` in the request, if any (RFC 3261
    /// §22.4: a request may carry several, one per realm).
    fn find<'m>(msg: &'m SipMessage, realm: &str, proxy: bool) -> Option<Credentials<'m>> {
        msg.header_lines(Self::header(proxy))
            .filter_map(|v| Credentials::parse(v).ok())
            .find(|c| c.is_digest() && c.realm().is_some_and(|r| r.eq_ignore_ascii_case(realm)))
    }

    /// The user the request's credentials for `realm` name, for the store
    /// lookup. `None`: no credentials (challenge at once).
    pub fn credentials(msg: &SipMessage, realm: &str, proxy: bool) -> Option<Claimed> {
        let c = Self::find(msg, realm, proxy)?;
        let name = c.username()?;
        let (user, domain) = match name.split_once('@') {
            Some((u, d)) => (u.to_owned(), d.to_ascii_lowercase()),
            None => (name.into_owned(), realm.to_ascii_lowercase()),
        };
        Some(Claimed {
            username: user,
            domain,
        })
    }

    /// 401 (or 407 for a proxy) with one challenge per configured algorithm.
    pub fn challenge(&self, realm: &str, proxy: bool, stale: bool, now_secs: u64) -> Reply {
        let nonce = self.key.issue(realm, now_secs);
        let (status, reason, header) = if proxy {
            (
                407,
                "Proxy Authentication Required",
                HeaderName::ProxyAuthenticate,
            )
        } else {
            (401, "Unauthorized", HeaderName::WwwAuthenticate)
        };
        let headers = self
            .cfg
            .algorithms
            .iter()
            .map(|&algorithm| {
                let v = ChallengeSpec {
                    realm,
                    nonce: &nonce,
                    opaque: None,
                    algorithm,
                    qop_auth_int: false,
                    stale,
                }
                .header_value();
                (header, v)
            })
            .collect();
        Reply {
            status,
            reason: reason.to_owned(),
            headers,
        }
    }

    /// Checks the request's credentials for `realm` against `user` (what
    /// the store returned for [`credentials`](Self::credentials); `None`
    /// when unknown — answered like a wrong password, so user names cannot
    /// be probed).
    pub fn check(
        &self,
        msg: &SipMessage,
        realm: &str,
        proxy: bool,
        user: Option<&User>,
        now_secs: u64,
    ) -> AuthOutcome {
        let creds = Self::find(msg, realm, proxy);
        let request = DigestRequest {
            method: msg.method_str().unwrap_or(""),
            uri: msg.request_uri_str().unwrap_or(""),
            body: msg.body(),
        };
        self.check_credentials(creds, &request, realm, proxy, user, now_secs)
    }

    /// The Digest credentials of an HTTP `Authorization` value for `realm`
    /// (XCAP, RFC 4825 §9: the same digest as SIP, RFC 7616), or `None`.
    pub fn http_credentials<'a>(authorization: &'a str, realm: &str) -> Option<Credentials<'a>> {
        Credentials::parse(authorization)
            .ok()
            .filter(|c| c.is_digest() && c.realm().is_some_and(|r| r.eq_ignore_ascii_case(realm)))
    }

    /// [`check`](Self::check) for an HTTP request (401 / WWW-Authenticate
    /// form): `creds` from [`http_credentials`](Self::http_credentials).
    pub fn check_http(
        &self,
        creds: Option<Credentials<'_>>,
        request: &DigestRequest<'_>,
        realm: &str,
        user: Option<&User>,
        now_secs: u64,
    ) -> AuthOutcome {
        self.check_credentials(creds, request, realm, false, user, now_secs)
    }

    fn check_credentials(
        &self,
        creds: Option<Credentials<'_>>,
        request: &DigestRequest<'_>,
        realm: &str,
        proxy: bool,
        user: Option<&User>,
        now_secs: u64,
    ) -> AuthOutcome {
        let fail = |stale: bool, why: &str| {
            tracing::debug!(realm, why, "digest authentication failed");
            AuthOutcome::Challenge(self.challenge(realm, proxy, stale, now_secs))
        };
        let Some(creds) = creds else {
            return fail(false, "no credentials");
        };
        let Some(nonce) = creds.nonce() else {
            return fail(false, "no nonce");
        };
        let status = self
            .key
            .check(realm, &nonce, now_secs, self.cfg.nonce_max_age_secs);
        if matches!(status, NonceStatus::Invalid) {
            return fail(false, "nonce not ours");
        }
        let Some(user) = user else {
            return fail(false, "unknown user");
        };
        let alg = match creds.algorithm() {
            None => Algorithm::Md5,
            Some(a) => match Algorithm::parse(a.as_str()) {
                Some(a) => a,
                None => return fail(false, "unsupported algorithm"),
            },
        };
        if !self.cfg.algorithms.contains(&alg.base()) {
            return fail(false, "algorithm not offered");
        }
        let Some(ha1) = user
            .ha1
            .iter()
            .find(|h| h.algorithm.eq_ignore_ascii_case(alg.base().token()))
        else {
            return fail(false, "no HA1 for the algorithm");
        };
        let verified =
            match sip_auth::verify(&creds, request.method, request.uri, request.body, &ha1.ha1) {
                Ok(v) => v,
                Err(AuthError::BadResponse) => return fail(false, "wrong response"),
                // RFC 7616 §3.4.6: malformed credentials (a digest uri other than
                // the Request-URI, a missing parameter) are a 400; a new
                // challenge would only make the client repeat them.
                Err(e) if e.is_bad_request() => {
                    return AuthOutcome::Challenge(Reply::new(400, format!("Bad Request: {e}")));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "credentials refused");
                    return fail(false, "bad credentials");
                }
            };
        // RFC 7616 §3.3: a correct answer to an expired nonce gets stale=true
        // so the client retries at once with the new one.
        if matches!(status, NonceStatus::Stale) {
            return fail(true, "stale nonce");
        }
        {
            // Without qop there is no nonce-count: such a nonce is good for
            // one request (RFC 7616 §5.5 replay protection), as nc=1.
            let nc = verified.nc.unwrap_or(1);
            let fresh = self
                .counts
                .lock()
                .map(|mut c| c.accept(&nonce, nc))
                .unwrap_or(false);
            if !fresh {
                return fail(false, "nonce-count replayed");
            }
        }
        let digest_uri = creds.uri().map(|u| u.into_owned()).unwrap_or_default();
        let info = sip_auth::authentication_info(
            &verified,
            &ha1.ha1,
            &nonce,
            &digest_uri,
            // Only for auth-int, which we do not offer (RFC 7616 §3.5).
            b"",
            None,
        );
        AuthOutcome::Authenticated {
            username: user.username.clone(),
            info: Some(info),
        }
    }
}
