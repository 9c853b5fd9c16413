//! SIP-specific event notification (RFC 6665) as plain data and functions:
//! the event packages a notifier serves ([`EventRegistry`]), the checks of a
//! received SUBSCRIBE ([`EventRegistry::check_subscribe`]), and one
//! subscription seen from either side ([`ServerSubscription`] in `server.rs`,
//! [`ClientSubscription`] in `client.rs`).
//!
//! No clock: every call that needs the time takes `now_ms`, Unix milliseconds
//! read by the caller, so the states can be persisted and survive a restart.
//! Refusals come back as [`Refusal`]: the status, reason phrase and extra
//! headers of the response the caller sends.

mod client;
mod server;

pub use client::{ClientEvent, ClientSubscription, NotifyInfo};
pub use server::ServerSubscription;

use std::sync::Arc;

use sip_msg::{HeaderName, MessageBuilder, ParseError, SipMessage, parse_qvalue};

use crate::error::{DialogError, ProtoError};
use crate::ids::Tag;
use crate::stateless::response_builder;

/// RFC 6665 §4.2.1.1: a notifier may answer 423 only when the requested
/// interval is below this (one hour), whatever its configured minimum.
const ONE_HOUR: u32 = 3600;

/// A refusal shaped like the wire: status, reason phrase, extra headers (e.g.
/// Allow-Events, Min-Expires, Accept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status code to answer with.
    pub status: u16,
    /// The reason phrase, saying what was wrong.
    pub reason: String,
    /// Headers the response must carry (RFC 6665 §4.2.1.1: Allow-Events on a
    /// 489, RFC 3261 §21.4.17: Min-Expires on a 423, §21.4.7: Accept on a 415).
    pub headers: Vec<(HeaderName, String)>,
}

impl Refusal {
    /// A refusal with no extra headers.
    pub fn new(status: u16, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header the response must carry.
    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of the first extra header named `name`.
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Starts the response to `req` (RFC 3261 §8.2.6): Via, From, To (with
    /// `to_tag` when the request's To has none), Call-ID, CSeq, then the extra
    /// headers. The caller adds anything else and builds it.
    pub fn response(
        &self,
        req: &SipMessage,
        to_tag: Option<&Tag>,
    ) -> Result<MessageBuilder, ProtoError> {
        let mut b = response_builder(req, self.status, &self.reason, to_tag)?;
        for (name, value) in &self.headers {
            b = b.header(*name, value);
        }
        Ok(b)
    }
}

impl From<ParseError> for Refusal {
    /// A malformed header: the parse error's own status and reason.
    fn from(e: ParseError) -> Self {
        Refusal::new(e.status(), e.reason())
    }
}

impl From<DialogError> for Refusal {
    /// A dialog-level failure: 500 for an out-of-order CSeq (RFC 3261
    /// §12.2.2), the parse error's status for a malformed message, 400
    /// otherwise.
    fn from(e: DialogError) -> Self {
        match e {
            DialogError::Message(p) => p.into(),
            DialogError::CSeqOutOfOrder { .. } => Refusal::new(500, "CSeq Out of Order"),
            other => Refusal::new(other.status(), other.to_string()),
        }
    }
}

/// One event package (RFC 6665 §5) the notifier serves, with its policy.
#[derive(Debug, Clone)]
pub struct EventPackage {
    /// The event type as it appears in Event: `presence`, `presence.winfo`.
    /// Shared (`Arc`): every subscription of the package names it.
    pub name: Arc<str>,
    /// Media types of the bodies we produce, most preferred first; the first
    /// is the package default used when the SUBSCRIBE has no Accept
    /// (RFC 6665 §4.2.1.1 leaves the default to the package, e.g. RFC 3856 §6.7:
    /// `application/pidf+xml`).
    /// Shared, like the name: every subscription keeps the one it got.
    pub produces: Vec<Arc<str>>,
    /// Below this (and below one hour) a nonzero Expires is refused with 423.
    pub min_expires: u32,
    /// Above this an Expires is lowered (RFC 6665 §4.2.1.1: the notifier may
    /// shorten, never lengthen).
    pub max_expires: u32,
    /// Used when the SUBSCRIBE has no Expires (RFC 6665 §4.1.2.1: the package
    /// defines the default).
    pub default_expires: u32,
}

/// The event packages a notifier serves, in registration order.
#[derive(Debug, Clone, Default)]
pub struct EventRegistry {
    packages: Vec<EventPackage>,
}

/// What a SUBSCRIBE asked for, once accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeParams {
    /// The event type, as registered (`presence`, `presence.winfo`).
    pub package: Arc<str>,
    /// The Event `id` parameter (RFC 6665 §8.2.1).
    pub id: Option<String>,
    /// The granted duration in seconds; 0 for a fetch or an unsubscribe.
    pub expires: u32,
    /// The media type NOTIFY bodies will have.
    pub content_type: Arc<str>,
}

impl EventRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a package, replacing one of the same name (keeping its place).
    pub fn register(&mut self, pkg: EventPackage) {
        match self.packages.iter_mut().find(|p| p.name == pkg.name) {
            Some(slot) => *slot = pkg,
            None => self.packages.push(pkg),
        }
    }

    /// The package with this event type. RFC 6665 §8.2.1: event types are
    /// compared byte by byte.
    pub fn get(&self, name: &str) -> Option<&EventPackage> {
        self.packages.iter().find(|p| &*p.name == name)
    }

    /// The Allow-Events value: every registered event type, in registration
    /// order, comma separated.
    pub fn allow_events(&self) -> String {
        self.packages
            .iter()
            .map(|p| &*p.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The 489 for an event type we do not serve (RFC 6665 §4.2.1.1 and
    /// §8.3.2, RFC 3903 §6 step 2), with Allow-Events listing what we do
    /// serve (RFC 6665 §4.4.4).
    pub fn bad_event(&self) -> Refusal {
        Refusal::new(489, "Bad Event").with_header(HeaderName::AllowEvents, self.allow_events())
    }

    /// The package named by `req`'s Event header; 489 when it names none we
    /// serve. A missing Event is `Ok(None)`: what that means depends on the
    /// method.
    pub(crate) fn package_of(
        &self,
        req: &SipMessage,
    ) -> Result<Option<(&EventPackage, Option<String>)>, Refusal> {
        let Some(event) = req.event()? else {
            return Ok(None);
        };
        let pkg = self.get(event.event_type).ok_or_else(|| self.bad_event())?;
        Ok(Some((pkg, event.id().map(str::to_owned))))
    }

    /// The RFC 6665 §4.2.1.1 checks of a received SUBSCRIBE, initial or
    /// refresh:
    ///
    /// - Event: missing → 400. RFC 6665 §8.2.1 defines Event for SUBSCRIBE
    ///   and NOTIFY and, unlike RFC 3265, no default package: without one
    ///   there is no package to check (§4.2.1.1), so the request is
    ///   malformed. An event type we do not serve → 489 with Allow-Events.
    ///   Event types compare byte by byte (§8.2.1: `Foo` is not `foo`).
    /// - Accept (RFC 3261 §20.1, RFC 6665 §4.2.1.1): no Accept → the
    ///   package's first media type; otherwise the produced type with the
    ///   highest q (`*/*`, `application/*`
    ///   included; q=0 excludes), ties by the package's order. Nothing
    ///   acceptable (an empty Accept included) → 406 with an Accept listing
    ///   what we produce.
    ///   The q of a produced type is that of the most specific range matching it.
    /// - Expires (RFC 6665 §4.2.1.1): absent → the package default; 0 stays
    ///   0 (a fetch, §4.4.3, or an unsubscribe, §4.2.1.4); nonzero, below one
    ///   hour and below the package minimum → 423 with Min-Expires; above the
    ///   package maximum → lowered to it.
    pub fn check_subscribe(&self, req: &SipMessage) -> Result<SubscribeParams, Refusal> {
        let (pkg, id) = self
            .package_of(req)?
            .ok_or_else(|| Refusal::new(400, "Missing Event header"))?;
        let content_type = negotiate(req, pkg)?;
        let expires = match req.expires()? {
            None => pkg.default_expires.min(pkg.max_expires),
            Some(e) => clamp_expires(e, pkg.min_expires, pkg.max_expires, true)?,
        };
        Ok(SubscribeParams {
            package: pkg.name.clone(),
            id,
            expires,
            content_type,
        })
    }
}

/// RFC 6665 §4.2.1.1 / RFC 3903 §6 step 4: 0 stays 0; a nonzero value below
/// `min` → 423 with Min-Expires (for SUBSCRIBE only when also below one hour:
/// `hour_rule`); above `max` → `max`.
pub(crate) fn clamp_expires(
    requested: u32,
    min: u32,
    max: u32,
    hour_rule: bool,
) -> Result<u32, Refusal> {
    if requested == 0 {
        return Ok(0);
    }
    if requested < min && (!hour_rule || requested < ONE_HOUR) {
        return Err(Refusal::new(423, "Interval Too Brief")
            .with_header(HeaderName::MinExpires, min.to_string()));
    }
    Ok(requested.min(max))
}

/// Accept negotiation (RFC 3261 §20.1 and §21.4.7): see
/// [`EventRegistry::check_subscribe`].
fn negotiate(req: &SipMessage, pkg: &EventPackage) -> Result<Arc<str>, Refusal> {
    let not_acceptable = || {
        Refusal::new(406, "Not Acceptable").with_header(HeaderName::Accept, pkg.produces.join(", "))
    };
    if req.header(HeaderName::Accept).is_none() {
        return pkg.produces.first().cloned().ok_or_else(not_acceptable);
    }
    let ranges = req.accept().collect::<Result<Vec<_>, _>>()?;
    let mut best: Option<(u16, &Arc<str>)> = None;
    for produced in &pkg.produces {
        let (mtype, subtype) = produced.split_once('/').unwrap_or((&**produced, ""));
        // The most specific matching range decides the q (RFC 3261 §20.1
        // defers to HTTP: `type/subtype` over `type/*` over `*/*`).
        let mut q_best: Option<(u8, u16)> = None;
        for r in ranges.iter().filter(|r| r.matches(mtype, subtype)) {
            let q = match r.params.value("q") {
                Some(v) => parse_qvalue(v)?,
                None => 1000,
            };
            let specificity = u8::from(r.mtype != "*") + u8::from(r.subtype != "*");
            q_best = Some(q_best.map_or((specificity, q), |b| b.max((specificity, q))));
        }
        if let Some(q) = q_best.map(|(_, q)| q).filter(|q| *q > 0)
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, produced));
        }
    }
    best.map(|(_, t)| t.clone()).ok_or_else(not_acceptable)
}

/// The `reason` of a terminated subscription (RFC 6665 §4.1.3, registry in
/// §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TerminationReason {
    /// The subscription was moved; resubscribe at once.
    Deactivated,
    /// Resubscribe later (retry-after).
    Probation,
    /// Authorization was refused.
    Rejected,
    /// Not refreshed in time, or ended by an unsubscribe / fetch (§4.1.3,
    /// §4.4.3).
    Timeout,
    /// The notifier could not obtain authorization in time.
    Giveup,
    /// The resource no longer exists.
    Noresource,
    /// The resource's state never changes (RFC 6665 §4.1.3, bug 774).
    Invariant,
}

impl TerminationReason {
    /// The token on the wire.
    pub fn token(self) -> &'static str {
        match self {
            TerminationReason::Deactivated => "deactivated",
            TerminationReason::Probation => "probation",
            TerminationReason::Rejected => "rejected",
            TerminationReason::Timeout => "timeout",
            TerminationReason::Giveup => "giveup",
            TerminationReason::Noresource => "noresource",
            TerminationReason::Invariant => "invariant",
        }
    }

    /// The reason for a token (case-insensitive); `None` for an extension
    /// value, which RFC 6665 §4.1.3 tells subscribers to treat like no reason.
    pub fn parse(token: &str) -> Option<Self> {
        [
            TerminationReason::Deactivated,
            TerminationReason::Probation,
            TerminationReason::Rejected,
            TerminationReason::Timeout,
            TerminationReason::Giveup,
            TerminationReason::Noresource,
            TerminationReason::Invariant,
        ]
        .into_iter()
        .find(|r| r.token().eq_ignore_ascii_case(token))
    }
}

/// The state of a subscription (RFC 6665 §4.1.2 and §4.2.2 state machines,
/// as carried in Subscription-State, §8.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubState {
    /// Accepted, authorization pending.
    Pending,
    /// Accepted and authorized.
    Active,
    /// Ended.
    Terminated {
        /// Why, when known.
        reason: Option<TerminationReason>,
        /// Seconds before a new subscription may be tried.
        retry_after: Option<u32>,
    },
}

impl SubState {
    /// Is this `Terminated`?
    pub fn is_terminated(&self) -> bool {
        matches!(self, SubState::Terminated { .. })
    }
}

/// Seconds left until `expires_at_ms`, rounded up, never negative.
pub(crate) fn remaining_secs(expires_at_ms: u64, now_ms: u64) -> u64 {
    expires_at_ms.saturating_sub(now_ms).div_ceil(1000)
}

/// `now + secs` seconds, in milliseconds.
pub(crate) fn deadline(now_ms: u64, secs: u32) -> u64 {
    now_ms.saturating_add(u64::from(secs) * 1000)
}

/// The Event value for a package and id (RFC 6665 §8.2.1).
pub(crate) fn event_value(package: &str, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{package};id={id}"),
        None => package.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termination_reasons_round_trip() {
        for r in [
            TerminationReason::Deactivated,
            TerminationReason::Probation,
            TerminationReason::Rejected,
            TerminationReason::Timeout,
            TerminationReason::Giveup,
            TerminationReason::Noresource,
            TerminationReason::Invariant,
        ] {
            assert_eq!(TerminationReason::parse(r.token()), Some(r));
        }
        assert_eq!(
            TerminationReason::parse("NoResource"),
            Some(TerminationReason::Noresource)
        );
        assert_eq!(TerminationReason::parse("moved"), None);
    }

    #[test]
    fn remaining_rounds_up_and_floors_at_zero() {
        assert_eq!(remaining_secs(10_000, 0), 10);
        assert_eq!(remaining_secs(10_000, 1), 10);
        assert_eq!(remaining_secs(10_000, 9_001), 1);
        assert_eq!(remaining_secs(10_000, 10_000), 0);
        assert_eq!(remaining_secs(10_000, 20_000), 0);
    }

    #[test]
    fn one_hour_rule_limits_423() {
        // RFC 6665 §4.2.1.1: 423 only when below one hour.
        assert!(clamp_expires(3000, 7200, 10_000, true).is_err());
        assert_eq!(clamp_expires(3600, 7200, 10_000, true), Ok(3600));
        // RFC 3903 §6 has no such rule.
        assert!(clamp_expires(3600, 7200, 10_000, false).is_err());
        assert_eq!(clamp_expires(0, 7200, 10_000, false), Ok(0));
    }
}
