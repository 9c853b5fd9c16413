//! Server settings: built-in defaults, overridden by a TOML file
//! (`--config FILE`), overridden by command-line flags.
//!
//! ```toml
//! data_dir = "./herald-data"          # the global --data-dir flag wins
//! log_level = "info"                  # error, warn, info, debug, trace
//! domains = ["example.test"]
//! listen = ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060", "ws:127.0.0.1:8080",
//!           "msrp:127.0.0.1:2855"]     # msrp:/msrps: run the MSRP relay (RFC 4976)
//!
//! [tls]                               # needed by tls:, wss: and msrps: listeners
//! cert = "cert.pem"
//! key = "key.pem"
//!
//! [timers]                            # RFC 3261 §17 (milliseconds)
//! t1_ms = 500
//! t2_ms = 4000
//! t4_ms = 5000
//! c_secs = 185                        # Timer C for proxied INVITEs (§16.6: over 3 minutes)
//!
//! [limits]
//! max_message_size = 65535
//! idle_timeout_secs = 600
//! max_connections = 10000
//! max_transactions = 600000            # completed UDP non-INVITE ones live 32 s (Timer J)
//!
//! [auth]                              # digest, RFC 7616 / RFC 8760
//! enabled = true                      # --auth off: no challenges at all
//! methods = ["REGISTER", "PUBLISH", "SUBSCRIBE", "MESSAGE", "INVITE"]
//! algorithms = ["SHA-256", "MD5"]     # challenges offered, in this order
//! nonce_max_age_secs = 300
//!
//! [registrar]                         # RFC 3261 §10.3
//! min_expires = 60
//! max_expires = 7200
//! default_expires = 3600
//! max_contacts = 16
//!
//! [im]                                # page-mode MESSAGE (RFC 3428)
//! max_message_bytes = 65536           # larger MESSAGE bodies: 413
//! offline_max_age_secs = 604800       # stored messages expire after 7 days
//! offline_quota_messages = 200        # per recipient
//! offline_quota_bytes = 4194304
//! retry_base_secs = 30                # first retry after a failed delivery; doubles
//! retry_max_secs = 3600
//! sweep_interval_secs = 5             # retries, expiry, idle room members
//! room_subdomain = "chat"             # rooms are sip:NAME@chat.DOMAIN
//! room_idle_secs = 86400              # a silent member leaves
//!
//! [msrp]                              # the MSRP relay (RFC 4976), on msrp:/msrps: listeners
//! host = "relay.example.test"         # in Use-Path URIs (default: the listen address)
//! min_expires = 60                    # AUTH Expires bounds (423 outside them)
//! max_expires = 3600
//! default_expires = 1800
//! max_message_size = 67108864         # whole messages, by Byte-Range (413 past it)
//! max_chunk_size = 16777216           # one SEND body (413 past it)
//! max_connections = 10000
//! max_connections_per_ip = 1000
//! queue_bytes = 4194304               # per connection, before senders wait
//!
//! store = "sqlite"                    # or "memory" (nothing kept on disk)
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sip_proto::Transport;

/// The file form; every field optional, unknown fields refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    data_dir: Option<PathBuf>,
    log_level: Option<String>,
    domains: Option<Vec<String>>,
    listen: Option<Vec<String>>,
    tls: Option<TlsConfig>,
    timers: Option<TimersConfig>,
    limits: Option<LimitsConfig>,
    auth: Option<AuthFileConfig>,
    registrar: Option<RegistrarFileConfig>,
    presence: Option<PresenceFileConfig>,
    im: Option<ImFileConfig>,
    msrp: Option<MsrpFileConfig>,
    store: Option<String>,
}

/// `[msrp]`: the MSRP relay (RFC 4976).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MsrpFileConfig {
    host: Option<String>,
    min_expires: Option<u64>,
    max_expires: Option<u64>,
    default_expires: Option<u64>,
    max_message_size: Option<u64>,
    max_chunk_size: Option<usize>,
    max_connections: Option<usize>,
    max_connections_per_ip: Option<usize>,
    queue_bytes: Option<usize>,
}

/// An MSRP relay listener: `msrp:` (TCP) or `msrps:` (TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MsrpListen {
    pub(crate) secure: bool,
    pub(crate) addr: SocketAddr,
}

/// MSRP relay settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MsrpSettings {
    /// Host name in the relay's URIs; the listen address when `None`.
    pub(crate) host: Option<String>,
    pub(crate) expires: msrp_relay::ExpiryBounds,
    pub(crate) max_message_size: u64,
    pub(crate) max_chunk_size: usize,
    pub(crate) max_connections: usize,
    pub(crate) max_connections_per_ip: usize,
    pub(crate) queue_bytes: usize,
}

impl MsrpFileConfig {
    fn resolve(self) -> Result<MsrpSettings, String> {
        let d = msrp_relay::RelayConfig::default();
        let expires = msrp_relay::ExpiryBounds {
            min: self.min_expires.unwrap_or(d.expires.min),
            max: self.max_expires.unwrap_or(d.expires.max),
            default: self.default_expires.unwrap_or(d.expires.default),
        };
        if expires.max < expires.min || !(expires.min..=expires.max).contains(&expires.default) {
            return Err(
                "msrp: default_expires must lie between min_expires and max_expires".to_owned(),
            );
        }
        let s = MsrpSettings {
            host: self.host,
            expires,
            max_message_size: self.max_message_size.unwrap_or(d.max_message_size),
            max_chunk_size: self.max_chunk_size.unwrap_or(16 * 1024 * 1024),
            max_connections: self.max_connections.unwrap_or(d.max_connections),
            max_connections_per_ip: self
                .max_connections_per_ip
                .unwrap_or(d.max_connections_per_ip),
            queue_bytes: self.queue_bytes.unwrap_or(4 * 1024 * 1024),
        };
        if s.max_chunk_size == 0 || s.max_connections == 0 || s.queue_bytes == 0 {
            return Err("msrp: sizes and limits must be positive".to_owned());
        }
        Ok(s)
    }
}

/// `[im]`: page-mode messaging (RFC 3428): size limit, the offline store,
/// rooms.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImFileConfig {
    max_message_bytes: Option<usize>,
    offline_max_age_secs: Option<u64>,
    offline_quota_messages: Option<u64>,
    offline_quota_bytes: Option<u64>,
    retry_base_secs: Option<u64>,
    retry_max_secs: Option<u64>,
    sweep_interval_secs: Option<u64>,
    room_subdomain: Option<String>,
    room_idle_secs: Option<u64>,
}

/// Page-mode messaging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImSettings {
    /// A MESSAGE body larger than this is refused with 413.
    pub(crate) max_message_bytes: usize,
    pub(crate) silo: simple_im::silo::SiloConfig,
    pub(crate) rooms: simple_im::room::RoomConfig,
    /// How often retries, expiry and idle members are swept.
    pub(crate) sweep_interval: Duration,
}

impl Default for ImSettings {
    fn default() -> Self {
        ImSettings {
            max_message_bytes: 65536,
            silo: simple_im::silo::SiloConfig::default(),
            rooms: simple_im::room::RoomConfig::default(),
            sweep_interval: Duration::from_secs(5),
        }
    }
}

impl ImFileConfig {
    fn resolve(self) -> Result<ImSettings, String> {
        let d = ImSettings::default();
        let secs =
            |v: Option<u64>, default_ms: u64| v.map_or(default_ms, |s| s.saturating_mul(1000));
        let silo = simple_im::silo::SiloConfig {
            max_age_ms: secs(self.offline_max_age_secs, d.silo.max_age_ms),
            quota: simple_store::Quota {
                max_messages: self
                    .offline_quota_messages
                    .unwrap_or(d.silo.quota.max_messages),
                max_bytes: self.offline_quota_bytes.unwrap_or(d.silo.quota.max_bytes),
            },
            retry_base_ms: secs(self.retry_base_secs, d.silo.retry_base_ms),
            retry_max_ms: secs(self.retry_max_secs, d.silo.retry_max_ms),
            batch: d.silo.batch,
            max_attempts: d.silo.max_attempts,
        };
        if silo.retry_base_ms == 0 || silo.retry_max_ms < silo.retry_base_ms {
            return Err(
                "im: retry_base_secs must be positive and at most retry_max_secs".to_owned(),
            );
        }
        let subdomain = self.room_subdomain.unwrap_or(d.rooms.subdomain);
        if subdomain.is_empty()
            || !subdomain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(format!(
                "im.room_subdomain '{subdomain}': expected a host name label"
            ));
        }
        let sweep = self
            .sweep_interval_secs
            .unwrap_or(d.sweep_interval.as_secs());
        if sweep == 0 {
            return Err("im.sweep_interval_secs must be positive".to_owned());
        }
        Ok(ImSettings {
            max_message_bytes: self.max_message_bytes.unwrap_or(d.max_message_bytes),
            silo,
            rooms: simple_im::room::RoomConfig {
                subdomain,
                idle_ms: secs(self.room_idle_secs, d.rooms.idle_ms),
            },
            sweep_interval: Duration::from_secs(sweep),
        })
    }
}

/// `[presence]`: the presence agent (RFC 3856 / RFC 3903).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresenceFileConfig {
    /// "server" (the centralized model: Herald answers SUBSCRIBE and PUBLISH
    /// for local users) or "end-to-end" (RFC 3856 §4: SUBSCRIBE is proxied to
    /// the user's registered UAs, which answer it themselves).
    mode: Option<String>,
    /// With mode "server": domains whose users are end-to-end all the same.
    end_to_end_domains: Option<Vec<String>>,
    /// With mode "server": users (user@domain) who are end-to-end.
    end_to_end_users: Option<Vec<String>>,
    registration_feeds_presence: Option<bool>,
    publish_min_expires: Option<u32>,
    publish_max_expires: Option<u32>,
    publish_default_expires: Option<u32>,
    subscribe_min_expires: Option<u32>,
    subscribe_max_expires: Option<u32>,
    subscribe_default_expires: Option<u32>,
    notify_retries: Option<u32>,
    max_subscriptions: Option<usize>,
    /// Who may watch a user without rules: "allow-same-domain" (default),
    /// "allow", "confirm" or "block".
    default_policy: Option<String>,
}

/// Where presence requests for a local user are handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PresenceSettings {
    pub(crate) agent: simple_presence::PresenceConfig,
    /// End-to-end (RFC 3856 §4) for everyone.
    pub(crate) end_to_end: bool,
    /// Domains whose users are end-to-end.
    pub(crate) end_to_end_domains: Vec<String>,
    /// "user@domain" AORs that are end-to-end.
    pub(crate) end_to_end_users: Vec<String>,
}

impl PresenceSettings {
    /// Does the server act as presence agent for `user`@`domain`? If not,
    /// their SUBSCRIBEs are proxied to their UAs (RFC 3856 §4).
    pub(crate) fn server_handles(&self, user: &str, domain: &str) -> bool {
        let e2e = self.end_to_end
            || self
                .end_to_end_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
            || self.end_to_end_users.iter().any(|a| {
                a.rsplit_once('@')
                    .is_some_and(|(u, d)| u == user && d.eq_ignore_ascii_case(domain))
            });
        !e2e
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFileConfig {
    enabled: Option<bool>,
    methods: Option<Vec<String>>,
    algorithms: Option<Vec<String>>,
    nonce_max_age_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrarFileConfig {
    min_expires: Option<u32>,
    max_expires: Option<u32>,
    default_expires: Option<u32>,
    max_contacts: Option<usize>,
}

/// Which store backend holds the server's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreKind {
    /// SQLite in the data dir (the default; durable).
    Sqlite,
    /// In memory only (tests, benchmarks).
    Memory,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsConfig {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimersConfig {
    t1_ms: Option<u64>,
    t2_ms: Option<u64>,
    t4_ms: Option<u64>,
    c_secs: Option<u64>,
}

/// Timer C (RFC 3261 §16.6 step 11: "MUST be larger than 3 minutes"): how
/// long a proxied INVITE branch may go without a provisional response
/// before it is CANCELled.
pub(crate) const DEFAULT_TIMER_C: Duration = Duration::from_secs(185);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsConfig {
    max_message_size: Option<usize>,
    idle_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    max_transactions: Option<usize>,
    /// Removed (UDP read coalescing cost CPU wherever it was measured):
    /// still accepted so that an existing file loads, and ignored with a
    /// warning.
    udp_coalesce_ms: Option<u64>,
}

/// Flags of `herald serve` that override the file.
#[derive(Debug, Default, Clone)]
pub(crate) struct Overrides {
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) log_level: Option<String>,
    pub(crate) domains: Vec<String>,
    pub(crate) listen: Vec<String>,
    pub(crate) tls: Option<TlsConfig>,
    pub(crate) t1_ms: Option<u64>,
    pub(crate) auth: Option<bool>,
    pub(crate) store: Option<String>,
}

/// Everything `serve` needs, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) data_dir: PathBuf,
    pub(crate) log_level: tracing::Level,
    pub(crate) domains: Vec<String>,
    pub(crate) listen: Vec<(Transport, SocketAddr)>,
    pub(crate) tls: Option<TlsConfig>,
    pub(crate) timers: sip_proto::Timers,
    /// Timer C for proxied INVITEs.
    pub(crate) timer_c: Duration,
    pub(crate) max_message_size: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) max_transactions: usize,
    pub(crate) auth: simple_registrar::AuthConfig,
    pub(crate) registrar: simple_registrar::RegistrarConfig,
    pub(crate) presence: PresenceSettings,
    pub(crate) im: ImSettings,
    /// MSRP relay listeners (`msrp:` / `msrps:`); none: no relay.
    pub(crate) msrp_listen: Vec<MsrpListen>,
    pub(crate) msrp: MsrpSettings,
    pub(crate) store: StoreKind,
}

/// The listeners of a server started with no configuration (issue 3).
pub(crate) const DEFAULT_LISTEN: &[&str] = &[
    "udp:127.0.0.1:5060",
    "tcp:127.0.0.1:5060",
    "ws:127.0.0.1:8080",
];

/// Parses `udp:127.0.0.1:5070`, `tcp:[::1]:5060`, `tls:`, `ws:`, `wss:`, and
/// `http:` / `https:` (the same as `ws:` / `wss:`: one HTTP listener serves
/// XCAP and SIP over WebSocket).
pub(crate) fn parse_listen(spec: &str) -> Result<(Transport, SocketAddr), String> {
    let (scheme, addr) = spec
        .split_once(':')
        .ok_or_else(|| format!("listener '{spec}': expected TRANSPORT:ADDRESS:PORT"))?;
    let transport = match scheme.to_ascii_lowercase().as_str() {
        "udp" => Transport::Udp,
        "tcp" => Transport::Tcp,
        "tls" => Transport::Tls,
        // An HTTP listener is a WebSocket one: it serves XCAP under
        // /xcap-root and upgrades SIP-over-WebSocket on any other path.
        "ws" | "http" => Transport::Ws,
        "wss" | "https" => Transport::Wss,
        other => {
            return Err(format!(
                "listener '{spec}': unknown transport '{other}' (udp, tcp, tls, ws, wss, http, https, msrp, msrps)"
            ));
        }
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| format!("listener '{spec}': bad address '{addr}': {e}"))?;
    Ok((transport, addr))
}

/// Parses `msrp:127.0.0.1:2855` (MSRP over TCP) or `msrps:...` (over TLS);
/// `None` when `spec` names another transport.
pub(crate) fn parse_msrp_listen(spec: &str) -> Option<Result<MsrpListen, String>> {
    let (scheme, addr) = spec.split_once(':')?;
    let secure = match scheme.to_ascii_lowercase().as_str() {
        "msrp" => false,
        "msrps" => true,
        _ => return None,
    };
    Some(
        addr.parse()
            .map(|addr| MsrpListen { secure, addr })
            .map_err(|e| format!("listener '{spec}': bad address '{addr}': {e}")),
    )
}

impl Settings {
    /// Defaults, then `file` (if given), then `flags`.
    pub(crate) fn resolve(file: Option<&Path>, flags: Overrides) -> Result<Settings, String> {
        let fc: FileConfig = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("config {}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| format!("config {}: {e}", p.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = flags
            .data_dir
            .or(fc.data_dir)
            .unwrap_or_else(|| PathBuf::from("./herald-data"));
        let level_text = flags
            .log_level
            .or(fc.log_level)
            .unwrap_or_else(|| "info".to_owned());
        let log_level = level_text
            .parse::<tracing::Level>()
            .map_err(|_| format!("unknown log level '{level_text}'"))?;
        let domains = if !flags.domains.is_empty() {
            flags.domains
        } else {
            fc.domains.unwrap_or_else(|| vec!["localhost".to_owned()])
        };
        if domains.is_empty() {
            return Err("at least one domain is needed".to_owned());
        }
        let listen_specs: Vec<String> = if !flags.listen.is_empty() {
            flags.listen
        } else {
            fc.listen
                .unwrap_or_else(|| DEFAULT_LISTEN.iter().map(|s| s.to_string()).collect())
        };
        let mut listen = Vec::new();
        let mut msrp_listen = Vec::new();
        for spec in &listen_specs {
            match parse_msrp_listen(spec) {
                Some(m) => msrp_listen.push(m?),
                None => listen.push(parse_listen(spec)?),
            }
        }
        if listen.is_empty() && msrp_listen.is_empty() {
            return Err("at least one listener is needed".to_owned());
        }
        let tls = flags.tls.or(fc.tls);
        if tls.is_none()
            && (listen
                .iter()
                .any(|(t, _)| matches!(t, Transport::Tls | Transport::Wss))
                || msrp_listen.iter().any(|m| m.secure))
        {
            return Err(
                "tls:, wss: and msrps: listeners need a certificate: [tls] cert/key in the config or --tls-cert/--tls-key"
                    .to_owned(),
            );
        }
        let tc = fc.timers.unwrap_or_default();
        let d = sip_proto::Timers::default();
        let ms = Duration::from_millis;
        let timers = sip_proto::Timers {
            t1: flags.t1_ms.or(tc.t1_ms).map_or(d.t1, ms),
            t2: tc.t2_ms.map_or(d.t2, ms),
            t4: tc.t4_ms.map_or(d.t4, ms),
        };
        if timers.t1.is_zero() || timers.t2 < timers.t1 {
            return Err("timers: T1 must be positive and T2 at least T1".to_owned());
        }
        let timer_c = tc.c_secs.map_or(DEFAULT_TIMER_C, Duration::from_secs);
        if timer_c.is_zero() || timer_c > Duration::from_secs(86_400) {
            return Err("timers: c_secs must be from 1 to 86400".to_owned());
        }
        if timer_c <= Duration::from_secs(180) {
            eprintln!(
                "herald: warning: [timers] c_secs = {} is not over 3 minutes (RFC 3261 §16.6 step 11)",
                timer_c.as_secs()
            );
        }
        let lc = fc.limits.unwrap_or_default();
        if lc.udp_coalesce_ms.is_some() {
            eprintln!("herald: warning: [limits] udp_coalesce_ms is no longer supported; ignored");
        }
        let ac = fc.auth.unwrap_or_default();
        let mut auth = simple_registrar::AuthConfig::default();
        if let Some(e) = flags.auth.or(ac.enabled) {
            auth.enabled = e;
        }
        if let Some(m) = ac.methods {
            auth.methods = m;
        }
        if let Some(algs) = ac.algorithms {
            auth.algorithms = algs
                .iter()
                .map(|a| match sip_auth::Algorithm::parse(a) {
                    Some(alg) if !alg.is_session() => Ok(alg),
                    _ => Err(format!(
                        "auth.algorithms: '{a}' is not one of MD5, SHA-256, SHA-512-256"
                    )),
                })
                .collect::<Result<_, _>>()?;
            if auth.algorithms.is_empty() {
                return Err("auth.algorithms: at least one algorithm is needed".to_owned());
            }
        }
        if let Some(n) = ac.nonce_max_age_secs {
            auth.nonce_max_age_secs = n;
        }
        let rc = fc.registrar.unwrap_or_default();
        let d = simple_registrar::RegistrarConfig::default();
        let registrar = simple_registrar::RegistrarConfig {
            min_expires: rc.min_expires.unwrap_or(d.min_expires),
            max_expires: rc.max_expires.unwrap_or(d.max_expires),
            default_expires: rc.default_expires.unwrap_or(d.default_expires),
            max_contacts: rc.max_contacts.unwrap_or(d.max_contacts),
        };
        if registrar.max_expires < registrar.min_expires || registrar.max_contacts == 0 {
            return Err(
                "registrar: max_expires must be at least min_expires, max_contacts positive"
                    .to_owned(),
            );
        }
        let pc = fc.presence.unwrap_or_default();
        let d = simple_presence::PresenceConfig::default();
        let agent = simple_presence::PresenceConfig {
            publish_min_expires: pc.publish_min_expires.unwrap_or(d.publish_min_expires),
            publish_max_expires: pc.publish_max_expires.unwrap_or(d.publish_max_expires),
            publish_default_expires: pc
                .publish_default_expires
                .unwrap_or(d.publish_default_expires),
            subscribe_min_expires: pc.subscribe_min_expires.unwrap_or(d.subscribe_min_expires),
            subscribe_max_expires: pc.subscribe_max_expires.unwrap_or(d.subscribe_max_expires),
            subscribe_default_expires: pc
                .subscribe_default_expires
                .unwrap_or(d.subscribe_default_expires),
            registration_feeds_presence: pc
                .registration_feeds_presence
                .unwrap_or(d.registration_feeds_presence),
            notify_retries: pc.notify_retries.unwrap_or(d.notify_retries),
            max_subscriptions: pc.max_subscriptions.unwrap_or(d.max_subscriptions),
            default_policy: match pc.default_policy.as_deref() {
                None => d.default_policy,
                Some(t) => simple_presence::DefaultPolicy::from_token(t).ok_or_else(|| {
                    format!(
                        "presence.default_policy '{t}': expected allow-same-domain, allow, confirm or block"
                    )
                })?,
            },
            ..d
        };
        if agent.publish_max_expires < agent.publish_min_expires
            || agent.subscribe_max_expires < agent.subscribe_min_expires
            || !(agent.publish_min_expires..=agent.publish_max_expires)
                .contains(&agent.publish_default_expires)
            || !(agent.subscribe_min_expires..=agent.subscribe_max_expires)
                .contains(&agent.subscribe_default_expires)
        {
            return Err(
                "presence: each default expiry must lie between its min and max".to_owned(),
            );
        }
        let end_to_end = match pc.mode.as_deref() {
            None | Some("server") => false,
            Some("end-to-end") => true,
            Some(other) => {
                return Err(format!(
                    "presence.mode '{other}': expected server or end-to-end"
                ));
            }
        };
        let presence = PresenceSettings {
            agent,
            end_to_end,
            end_to_end_domains: pc.end_to_end_domains.unwrap_or_default(),
            end_to_end_users: pc.end_to_end_users.unwrap_or_default(),
        };
        let im = fc.im.unwrap_or_default().resolve()?;
        let msrp = fc.msrp.unwrap_or_default().resolve()?;
        let store = match flags.store.or(fc.store).as_deref() {
            None | Some("sqlite") => StoreKind::Sqlite,
            Some("memory") => StoreKind::Memory,
            Some(other) => return Err(format!("store '{other}': expected sqlite or memory")),
        };
        Ok(Settings {
            data_dir,
            log_level,
            domains,
            listen,
            tls,
            timers,
            timer_c,
            max_message_size: lc.max_message_size.unwrap_or(65535),
            idle_timeout: Duration::from_secs(lc.idle_timeout_secs.unwrap_or(600)),
            max_connections: lc.max_connections.unwrap_or(10_000),
            // RFC 3261 §17.2.2: a UDP non-INVITE server transaction absorbs
            // retransmissions for Timer J (64*T1 = 32 s) after its answer, so
            // at 8000 authenticated REGISTERs/s about 256,000 are alive at
            // once (the challenged first REGISTER keeps none: it is answered
            // statelessly), twice that at 16,000/s.
            max_transactions: lc.max_transactions.unwrap_or(600_000),
            auth,
            registrar,
            presence,
            im,
            msrp_listen,
            msrp,
            store,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = Settings::resolve(None, Overrides::default()).unwrap();
        assert_eq!(s.domains, vec!["localhost"]);
        assert_eq!(s.data_dir, PathBuf::from("./herald-data"));
        assert_eq!(
            s.listen,
            vec![
                (Transport::Udp, "127.0.0.1:5060".parse().unwrap()),
                (Transport::Tcp, "127.0.0.1:5060".parse().unwrap()),
                (Transport::Ws, "127.0.0.1:8080".parse().unwrap()),
            ]
        );
        assert_eq!(s.timers.t1, Duration::from_millis(500));
        assert_eq!(s.timer_c, DEFAULT_TIMER_C);
        assert!(s.auth.enabled, "auth is on unless turned off");
        assert_eq!(s.store, StoreKind::Sqlite);
    }

    #[test]
    fn auth_registrar_and_store_settings() {
        let dir = std::env::temp_dir().join(format!("herald-cfg2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("h.toml");
        std::fs::write(
            &f,
            "store = \"memory\"\n[auth]\nalgorithms = [\"MD5\"]\n[registrar]\nmin_expires = 30\n",
        )
        .unwrap();
        let s = Settings::resolve(Some(&f), Overrides::default()).unwrap();
        assert_eq!(s.store, StoreKind::Memory);
        assert_eq!(s.auth.algorithms, vec![sip_auth::Algorithm::Md5]);
        assert_eq!(s.registrar.min_expires, 30);
        let s = Settings::resolve(
            Some(&f),
            Overrides {
                auth: Some(false),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert!(!s.auth.enabled);
        std::fs::write(&f, "[auth]\nalgorithms = [\"SHA-1\"]\n").unwrap();
        let e = Settings::resolve(Some(&f), Overrides::default()).unwrap_err();
        assert!(e.contains("SHA-1"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_then_flags() {
        let dir = std::env::temp_dir().join(format!("herald-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("h.toml");
        std::fs::write(
            &f,
            "domains = [\"a.test\"]\nlisten = [\"udp:127.0.0.1:5099\"]\nlog_level = \"debug\"\n[timers]\nt1_ms = 100\nt2_ms = 400\nc_secs = 240\n[limits]\nudp_coalesce_ms = 2\n",
        )
        .unwrap();
        let s = Settings::resolve(Some(&f), Overrides::default()).unwrap();
        assert_eq!(s.domains, vec!["a.test"]);
        assert_eq!(s.listen.len(), 1);
        assert_eq!(s.log_level, tracing::Level::DEBUG);
        assert_eq!(s.timers.t2, Duration::from_millis(400));
        assert_eq!(s.timer_c, Duration::from_secs(240));
        let s = Settings::resolve(
            Some(&f),
            Overrides {
                domains: vec!["b.test".into()],
                listen: vec!["tcp:[::1]:5070".into(), "ws:127.0.0.1:8088".into()],
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(s.domains, vec!["b.test"]);
        assert_eq!(s.listen[0].0, Transport::Tcp);
        std::fs::write(&f, "bogus = 1\n").unwrap();
        let e = Settings::resolve(Some(&f), Overrides::default()).unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn msrp_listeners_and_settings() {
        let s = Settings::resolve(
            None,
            Overrides {
                listen: vec!["udp:127.0.0.1:5060".into(), "MSRP:127.0.0.1:2855".into()],
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(s.listen.len(), 1);
        assert_eq!(
            s.msrp_listen,
            vec![MsrpListen {
                secure: false,
                addr: "127.0.0.1:2855".parse().unwrap()
            }]
        );
        assert_eq!(s.msrp.expires.min, 60);
        let e = Settings::resolve(
            None,
            Overrides {
                listen: vec!["msrps:127.0.0.1:2856".into()],
                ..Overrides::default()
            },
        )
        .unwrap_err();
        assert!(e.contains("certificate"), "{e}");
        assert!(parse_msrp_listen("msrp:nowhere").unwrap().is_err());
        assert!(parse_msrp_listen("tcp:127.0.0.1:1").is_none());
        let dir = std::env::temp_dir().join(format!("herald-cfg3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("h.toml");
        std::fs::write(
            &f,
            "listen = [\"msrp:127.0.0.1:0\"]\n[msrp]\nmin_expires = 30\nmax_expires = 20\n",
        )
        .unwrap();
        let e = Settings::resolve(Some(&f), Overrides::default()).unwrap_err();
        assert!(e.contains("msrp"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_listeners_and_missing_tls_are_refused() {
        assert!(
            parse_listen("sctp:127.0.0.1:5060")
                .unwrap_err()
                .contains("unknown transport")
        );
        assert!(
            parse_listen("udp:localhost")
                .unwrap_err()
                .contains("bad address")
        );
        let e = Settings::resolve(
            None,
            Overrides {
                listen: vec!["tls:127.0.0.1:5061".into()],
                ..Overrides::default()
            },
        )
        .unwrap_err();
        assert!(e.contains("certificate"), "{e}");
    }
}
