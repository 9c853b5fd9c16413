//! The MSRP relay (RFC 4976) of `herald serve`: `msrp:` / `msrps:`
//! listeners run `msrp_relay`, whose AUTH requests are checked here with the
//! registrar's digest authenticator against the store's users — the same
//! digest (RFC 7616: SHA-256 and MD5, qop=auth) as SIP and XCAP, with method
//! `AUTH` and the relay's URI as digest-uri (RFC 4976 §9.1). The chat room
//! focus (RFC 7701) runs its MSRP endpoints as the relay's local sessions.
//!
//! MSRP over WebSocket (RFC 7977): with a relay configured, the `ws:` /
//! `wss:` listeners also accept upgrades offering subprotocol `msrp` (on
//! any path, like `sip`) and hand them to the relay — the same relay, so
//! AUTH, tokens, forwarding to and from TCP clients, limits and send queues
//! are those of the `msrp:` listeners. Without an `msrp:`/`msrps:`
//! listener there is no relay and `msrp` upgrades are refused: the relay's
//! Use-Path URIs are its TCP URIs (RFC 7977 §5.2.2, §8.1), what the far end
//! of a session connects to, so a WebSocket-only relay could hand out none.

use std::sync::Arc;

use msrp_relay::{
    AuthBackend, AuthRequest, AuthVerdict, DriverConfig, ListenSpec, RelayConfig, RelayError,
    RelayHandle, RelayServer,
};
use simple_registrar::{AuthOutcome, Authenticator, DigestRequest, Registrar};
use sip_msg::HeaderName;

use crate::config::Settings;
use crate::router::{FocusRelay, Store};

/// Digest against the users of `realm` (the server's first domain: the
/// realm their HA1s were made for).
pub(crate) struct HeraldAuth<S> {
    registrar: Arc<Registrar<S>>,
    realm: String,
    /// `--auth off`: every AUTH succeeds (trusted networks, benchmarks).
    enabled: bool,
}

impl<S> std::fmt::Debug for HeraldAuth<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeraldAuth")
            .field("realm", &self.realm)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl<S: Store> AuthBackend for HeraldAuth<S> {
    async fn verify(&self, request: AuthRequest) -> AuthVerdict {
        if !self.enabled {
            return AuthVerdict::Authenticated {
                user: "anonymous".to_owned(),
                authentication_info: None,
            };
        }
        let realm = self.realm.as_str();
        let auth = self.registrar.authenticator();
        let now_secs = u64::try_from(simple_registrar::now_ms()).unwrap_or(0) / 1000;
        // The credentials for our realm, among the Authorization fields
        // (one per realm when relays are chained, RFC 4976 §5.1).
        let creds = request
            .authorization
            .iter()
            .find_map(|v| Authenticator::http_credentials(v, realm));
        let claimed = creds
            .as_ref()
            .and_then(|c| c.username())
            .map(|name| crate::users::claimed(&name, realm));
        let user = match &claimed {
            Some((u, d)) => match self.registrar.store().get_user(u, d).await {
                Ok(user) => user,
                Err(e) => {
                    tracing::error!(error = %e, "user lookup failed");
                    // A store failure is no reason to hand out a token, nor
                    // to count a failure against the client: challenge again.
                    None
                }
            },
            None => None,
        };
        let digest = DigestRequest {
            method: AuthRequest::METHOD,
            uri: &request.digest_uri,
            body: b"",
        };
        match auth.check_http(creds, &digest, realm, user.as_ref(), now_secs) {
            AuthOutcome::Authenticated { username, info } => AuthVerdict::Authenticated {
                user: username,
                authentication_info: info,
            },
            AuthOutcome::Challenge(reply) if reply.status == 401 => AuthVerdict::Challenge {
                www_authenticate: reply
                    .headers
                    .into_iter()
                    .filter(|(n, _)| *n == HeaderName::WwwAuthenticate)
                    .map(|(_, v)| v)
                    .collect(),
            },
            AuthOutcome::Challenge(reply) => AuthVerdict::Refused {
                status: reply.status,
                reason: reply.reason,
            },
        }
    }
}

/// Binds the relay's listeners (none configured: `Ok(None)`).
pub(crate) async fn bind<S: Store>(
    settings: &Settings,
    registrar: Arc<Registrar<S>>,
) -> Result<Option<RelayServer<HeraldAuth<S>>>, RelayError> {
    if settings.msrp_listen.is_empty() {
        return Ok(None);
    }
    let tls = match (&settings.tls, settings.msrp_listen.iter().any(|l| l.secure)) {
        (Some(t), true) => Some(msrp_relay::server_config_from_pem_files(&t.cert, &t.key)?),
        _ => None,
    };
    let m = &settings.msrp;
    let mut aliases = settings.domains.clone();
    aliases.push("localhost".to_owned());
    let cfg = DriverConfig {
        listeners: settings
            .msrp_listen
            .iter()
            .map(|l| ListenSpec {
                addr: l.addr,
                tls: if l.secure { tls.clone() } else { None },
            })
            .collect(),
        host: m.host.clone(),
        relay: RelayConfig {
            aliases,
            expires: m.expires,
            max_message_size: m.max_message_size,
            max_connections: m.max_connections,
            max_connections_per_ip: m.max_connections_per_ip,
            ..RelayConfig::default()
        },
        decoder: msrp::Limits {
            max_body: m.max_chunk_size,
            ..msrp::Limits::default()
        },
        queue_bytes: m.queue_bytes,
        ..DriverConfig::default()
    };
    let realm = settings
        .domains
        .first()
        .cloned()
        .unwrap_or_else(|| "localhost".to_owned());
    let backend = HeraldAuth {
        registrar,
        realm,
        enabled: settings.auth.enabled,
    };
    RelayServer::bind(cfg, backend).await.map(Some)
}

/// The `msrp` WebSocket subprotocol (RFC 7977 §4.1) for the HTTP
/// listeners: each upgraded connection becomes a connection of `relay`.
pub(crate) fn websocket<S: Store>(relay: RelayHandle<HeraldAuth<S>>) -> sip_net::WsSubprotocol {
    sip_net::WsSubprotocol {
        name: "msrp".to_owned(),
        max_message_size: relay.max_websocket_message(),
        accept: Arc::new(move |c: sip_net::WsConnection| {
            let (remote, local, secure) = (c.remote, c.local, c.secure);
            if !relay.adopt_websocket(c.incoming, c.outgoing, remote, local, secure) {
                // Dropping the connection closes it.
                tracing::debug!(%remote, "MSRP WebSocket connection refused by the relay");
            }
        }),
    }
}

/// The focus's MSRP endpoints are the relay's local sessions.
impl<S: Store> FocusRelay for RelayHandle<HeraldAuth<S>> {
    fn open(&self, accept: &[&str]) -> Option<String> {
        self.open_local(accept)
    }

    fn uris(&self, session: &str) -> Vec<msrp::MsrpUri> {
        self.local_uris(session)
    }

    fn send(&self, session: &str, frame: msrp::Frame) -> bool {
        match self.send_local(session, frame) {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!(error = %e, "focus frame not sent");
                false
            }
        }
    }

    fn close(&self, session: &str) {
        self.close_local(session);
    }

    fn listeners(&self) -> Vec<msrp::MsrpUri> {
        self.uris()
    }
}
