//! What an operator can set about presence.

/// Presence settings (the `[presence]` section of Herald's config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceConfig {
    /// PUBLISH expiry bounds and default, seconds (RFC 3903 §6 step 4).
    pub publish_min_expires: u32,
    /// Longest PUBLISH expiry granted; longer requests are lowered.
    pub publish_max_expires: u32,
    /// PUBLISH expiry when the request names none.
    pub publish_default_expires: u32,
    /// SUBSCRIBE expiry bounds and default, seconds (RFC 6665 §4.2.1.1).
    pub subscribe_min_expires: u32,
    /// Longest subscription granted.
    pub subscribe_max_expires: u32,
    /// Subscription length when the SUBSCRIBE names none (RFC 3856 §6.4
    /// suggests 3600).
    pub subscribe_default_expires: u32,
    /// A registered user with no publication shows open, an unregistered
    /// one closed.
    pub registration_feeds_presence: bool,
    /// How often a NOTIFY that timed out is sent again before the
    /// subscription is ended.
    pub notify_retries: u32,
    /// Who may watch a presentity that has no rules of her own.
    pub default_policy: crate::authz::DefaultPolicy,
    /// NOTIFYs awaiting their response per destination address before
    /// further ones wait (flow control for fan-out to many watchers behind
    /// one address).
    pub notify_window: usize,
    /// Publications one presentity may hold at once.
    pub max_publications_per_presentity: usize,
    /// Largest PUBLISH body accepted, bytes.
    pub max_document_bytes: usize,
    /// Subscriptions the server holds in all.
    pub max_subscriptions: usize,
    /// The Server header of our responses.
    pub server: String,
}

impl PresenceConfig {
    /// `notify_retries` as a subscription counts it down (more than 255
    /// retries of one NOTIFY count as 255).
    pub(crate) fn notify_retries_u8(&self) -> u8 {
        u8::try_from(self.notify_retries).unwrap_or(u8::MAX)
    }
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig {
            publish_min_expires: 60,
            publish_max_expires: 7200,
            publish_default_expires: 3600,
            subscribe_min_expires: 60,
            subscribe_max_expires: 7200,
            subscribe_default_expires: 3600,
            registration_feeds_presence: true,
            notify_retries: 1,
            notify_window: 128,
            default_policy: crate::authz::DefaultPolicy::AllowSameDomain,
            max_publications_per_presentity: 32,
            max_document_bytes: 64 * 1024,
            max_subscriptions: 1_000_000,
            server: "Herald".to_owned(),
        }
    }
}
