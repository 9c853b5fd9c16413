//! The store-and-forward "silo" for page-mode MESSAGEs (RFC 3428 §4 leaves
//! offline delivery to the server; this is ours).
//!
//! # Policy
//! - Stored: a MESSAGE for a local user with no binding, or whose every branch
//!   answered 408 or 480 (or could not be reached), when it has a body that is
//!   more than an is-composing indication (RFC 3994 §3: those are transient and
//!   meaningless later). The sender gets 202 Accepted (RFC 3428 §7: the message
//!   was accepted, not yet delivered).
//! - Never stored: body-less requests, is-composing indications (direct or
//!   wrapped in CPIM), and anything the server itself generated — its delivery
//!   reports, room copies and the silo's own delivery attempts are sent as the
//!   server's client transactions and never pass through the silo again, so a
//!   message cannot loop through the store.
//! - Delivery: one recipient's messages go out one at a time, oldest first,
//!   each to every live binding; the next only after a 2xx for the previous
//!   (so order is kept even when a phone answers out of order). A message is
//!   deleted only after a 2xx; a failure stops the run and reschedules the
//!   head with exponential backoff. A run starts on the recipient's REGISTER
//!   (whatever the backoff says) and on the periodic sweep for recipients
//!   with a due message who are registered.
//! - Expiry: after [`SiloConfig::max_age_ms`] (default 7 days) the message is
//!   dropped and, for a CPIM message asking negative-delivery, the sender gets
//!   a "failed" delivery notification (RFC 5438 §9).
//! - Quota: per recipient, messages and body bytes ([`SiloConfig::quota`]);
//!   over it the sender gets 480 with a reason (the recipient is the one who
//!   must make room), or 413 when this one message alone exceeds the byte quota.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use simple_store::{Quota, StoredMessage};
use sip_msg::{HeaderName, MessageBuilder, SipMessage};

use crate::cpim;
use crate::imdn;

/// How the silo behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiloConfig {
    /// A stored message is dropped this long after it was received.
    pub max_age_ms: u64,
    /// What one recipient may have waiting.
    pub quota: Quota,
    /// The first retry after a failed delivery comes this long after it;
    /// each further failure doubles the wait, up to [`retry_max_ms`](Self::retry_max_ms).
    pub retry_base_ms: u64,
    /// The longest wait between two delivery attempts.
    pub retry_max_ms: u64,
    /// How many stored messages one load brings in for a delivery run.
    pub batch: usize,
    /// After this many failed attempts a message is given up (dropped
    /// with a failure report) even before it expires.
    pub max_attempts: u32,
}

impl Default for SiloConfig {
    fn default() -> Self {
        SiloConfig {
            max_age_ms: 7 * 24 * 3600 * 1000,
            quota: Quota {
                max_messages: 200,
                max_bytes: 4 << 20,
            },
            retry_base_ms: 30_000,
            retry_max_ms: 3600 * 1000,
            batch: 32,
            max_attempts: 20,
        }
    }
}

/// Why a MESSAGE is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotStored {
    /// No body: nothing to deliver later.
    NoBody,
    /// An is-composing indication (RFC 3994): stale by the time it would arrive.
    IsComposing,
}

impl NotStored {
    /// The reason, for the sender's 480.
    pub fn reason(self) -> &'static str {
        match self {
            NotStored::NoBody => {
                "Temporarily Unavailable: recipient offline (empty message not stored)"
            }
            NotStored::IsComposing => {
                "Temporarily Unavailable: recipient offline (is-composing indication not stored)"
            }
        }
    }
}

/// May this MESSAGE be kept for later (see the policy in the module doc)?
pub fn storable(msg: &SipMessage) -> Result<(), NotStored> {
    if msg.body().is_empty() {
        return Err(NotStored::NoBody);
    }
    let ct = msg.header(HeaderName::ContentType).unwrap_or("");
    if cpim::is_composing(ct, msg.body()) {
        return Err(NotStored::IsComposing);
    }
    Ok(())
}

/// The row to store for `msg`, addressed to `recipient` (canonical AOR) from
/// `sender_aor`, received at `now_ms`.
pub fn to_store(
    msg: &SipMessage,
    recipient: &str,
    sender_aor: &str,
    now_ms: u64,
    cfg: &SiloConfig,
) -> StoredMessage {
    StoredMessage {
        id: 0,
        recipient: recipient.to_owned(),
        sender: msg.header(HeaderName::From).unwrap_or("").to_owned(),
        sender_aor: sender_aor.to_owned(),
        // RFC 3261 §7.4.1: no Content-Type means application/sdp... not for a
        // MESSAGE with a body; RFC 3428 §4 requires one. Keep what came, and
        // text/plain as the conventional default when it is missing.
        content_type: msg
            .header(HeaderName::ContentType)
            .filter(|c| !c.is_empty())
            .unwrap_or("text/plain")
            .to_owned(),
        body: msg.body().to_vec(),
        received_ms: now_ms,
        expires_at_ms: now_ms.saturating_add(cfg.max_age_ms),
        attempts: 0,
        next_attempt_ms: now_ms,
    }
}

/// What the sender is told when the store refuses for the quota: 413 when
/// this message alone is larger than the whole byte quota, else 480.
pub fn over_quota_reply(body_len: usize, cfg: &SiloConfig) -> (u16, &'static str) {
    if body_len as u64 > cfg.quota.max_bytes {
        (
            413,
            "Request Entity Too Large: message larger than the recipient's offline store",
        )
    } else {
        (
            480,
            "Temporarily Unavailable: recipient offline and offline message store full",
        )
    }
}

/// The wait before the next attempt after `attempts` failed ones (1 = the
/// first failure): `retry_base_ms * 2^(attempts-1)`, at most `retry_max_ms`.
pub fn backoff_ms(attempts: u32, cfg: &SiloConfig) -> u64 {
    let shift = attempts.saturating_sub(1).min(32);
    cfg.retry_base_ms
        .saturating_mul(1u64 << shift)
        .min(cfg.retry_max_ms)
}

/// The headers of a MESSAGE that delivers `m` (the driver adds Via,
/// Route and the Request-URI target): the original From, To the recipient,
/// a fresh Call-ID, the original Content-Type and body, and a Date of the
/// original time (RFC 3261 §20.17) so the client shows when it was sent. A
/// CPIM body keeps its own DateTime untouched.
pub fn delivery_request(
    m: &StoredMessage,
    request_uri: &str,
    routes: &[String],
    call_id: &str,
) -> MessageBuilder {
    let mut b = MessageBuilder::request("MESSAGE", request_uri);
    for r in routes {
        b = b.header(HeaderName::Route, r);
    }
    b.header(HeaderName::MaxForwards, "70")
        .header(HeaderName::From, &m.sender)
        .header(HeaderName::To, &format!("<{}>", m.recipient))
        .header(HeaderName::CallId, call_id)
        .header(HeaderName::CSeq, "1 MESSAGE")
        .header(HeaderName::Date, &imdn::http_date(m.received_ms))
        .body(&m.content_type, Bytes::from(m.body.clone()))
}

/// Does a stored message ask for a delivery report of this kind? Its body
/// must be CPIM with an imdn.Message-ID (RFC 5438 §6).
pub fn report(
    m: &StoredMessage,
    status: imdn::DeliveryStatus,
    from_uri: &str,
    now_ms: u64,
) -> Option<imdn::Notification> {
    if !cpim::is_cpim(&m.content_type) {
        return None;
    }
    let parsed = cpim::parse(&m.body).ok()?;
    imdn::delivery_notification(&parsed, status, from_uri, &m.recipient, now_ms)
}

/// Is a final response to a delivery attempt a permanent refusal (the
/// message will never be taken as it is: 4xx other than 408 and 480, 6xx)
/// rather than "not now" (408, 480, 5xx, our own transport failures)?
pub fn permanent_failure(status: u16) -> bool {
    matches!(status, 400..=499 if status != 408 && status != 480) || status >= 600
}

/// What the driver does next for a recipient's delivery run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send this message (to every live binding).
    Send(StoredMessage),
    /// Load more from the store ([`Outbox::loaded`] with the result).
    Load,
    /// Nothing left: the run is over.
    Done,
}

/// One recipient's delivery run.
#[derive(Debug, Default)]
struct Run {
    queue: VecDeque<StoredMessage>,
    /// The message out now.
    in_flight: Option<u64>,
    /// The last load returned a full batch: there may be more.
    more: bool,
    /// Highest id handed out in this run: a reload skips up to it.
    last_id: u64,
}

/// The delivery runs in progress, one per recipient at most. Pure
/// bookkeeping: the driver loads, sends and writes.
#[derive(Debug, Default)]
pub struct Outbox {
    runs: HashMap<String, Run>,
}

impl Outbox {
    /// An outbox with no runs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a run for `recipient`; false when one is already going (its
    /// next load will see new messages anyway). After true, load and call
    /// [`loaded`](Self::loaded).
    pub fn start(&mut self, recipient: &str) -> bool {
        if self.runs.contains_key(recipient) {
            return false;
        }
        self.runs.insert(recipient.to_owned(), Run::default());
        true
    }

    /// Is the message in flight the last one this run knows of (nothing
    /// queued, no further batch)?
    pub fn in_flight_is_last(&self, recipient: &str) -> bool {
        self.runs
            .get(recipient)
            .is_some_and(|r| r.in_flight.is_some() && r.queue.is_empty() && !r.more)
    }

    /// Is a run going for `recipient`?
    pub fn running(&self, recipient: &str) -> bool {
        self.runs.contains_key(recipient)
    }

    /// The store's answer to a load (oldest first, at most `batch`); expired
    /// messages are skipped (the sweep reports them).
    pub fn loaded(
        &mut self,
        recipient: &str,
        msgs: Vec<StoredMessage>,
        batch: usize,
        now_ms: u64,
    ) -> Next {
        let Some(run) = self.runs.get_mut(recipient) else {
            return Next::Done;
        };
        let full = msgs.len() >= batch;
        let floor = run.last_id;
        let before = run.queue.len();
        run.queue.extend(
            msgs.into_iter()
                .filter(|m| m.id > floor && m.expires_at_ms > now_ms),
        );
        // A full batch that brought nothing new (all expired, or all sent
        // already because deletes failed) would be loaded again at once:
        // end the run instead; the sweep retries.
        run.more = full && run.queue.len() > before;
        self.advance(recipient)
    }

    /// The store failed to load: the run ends (the sweep retries).
    pub fn load_failed(&mut self, recipient: &str) {
        self.runs.remove(recipient);
    }

    fn advance(&mut self, recipient: &str) -> Next {
        let Some(run) = self.runs.get_mut(recipient) else {
            return Next::Done;
        };
        match run.queue.pop_front() {
            Some(m) => {
                run.in_flight = Some(m.id);
                run.last_id = run.last_id.max(m.id);
                Next::Send(m)
            }
            None if run.more => {
                run.more = false;
                Next::Load
            }
            None => {
                self.runs.remove(recipient);
                Next::Done
            }
        }
    }

    /// The message in flight got a 2xx: the driver deletes it; what next.
    pub fn delivered(&mut self, recipient: &str, id: u64) -> Next {
        match self.runs.get_mut(recipient) {
            Some(run) if run.in_flight == Some(id) => {
                run.in_flight = None;
                self.advance(recipient)
            }
            _ => Next::Done,
        }
    }

    /// The message in flight was refused for good (a permanent failure on
    /// every branch, or too many attempts): the driver deletes it and
    /// reports the failure; the run goes on with the next one, so one
    /// undeliverable message never holds up those behind it.
    pub fn given_up(&mut self, recipient: &str, id: u64) -> Next {
        self.delivered(recipient, id)
    }

    /// The message in flight failed on every branch: the run ends; the
    /// driver stores the returned (attempts, next_attempt_ms).
    pub fn failed(
        &mut self,
        recipient: &str,
        m: &StoredMessage,
        now_ms: u64,
        cfg: &SiloConfig,
    ) -> (u32, u64) {
        self.runs.remove(recipient);
        let attempts = m.attempts.saturating_add(1);
        (attempts, now_ms.saturating_add(backoff_ms(attempts, cfg)))
    }

    /// How many runs are going.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// No runs going.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn msg(id: u64, expires: u64) -> StoredMessage {
        StoredMessage {
            id,
            recipient: "sip:bob@example.test".into(),
            sender: "<sip:alice@example.test>;tag=1".into(),
            sender_aor: "sip:alice@example.test".into(),
            content_type: "text/plain".into(),
            body: format!("m{id}").into_bytes(),
            received_ms: 1000,
            expires_at_ms: expires,
            attempts: 0,
            next_attempt_ms: 0,
        }
    }

    const BOB: &str = "sip:bob@example.test";

    #[test]
    fn a_run_sends_in_order_one_at_a_time_and_reloads() {
        let mut o = Outbox::new();
        assert!(o.start(BOB));
        assert!(!o.start(BOB));
        let n = o.loaded(BOB, vec![msg(1, 9e9 as u64), msg(2, 9e9 as u64)], 2, 5);
        assert_eq!(n, Next::Send(msg(1, 9e9 as u64)));
        // A 2xx for something else does not advance.
        assert_eq!(o.delivered(BOB, 2), Next::Done);
        assert!(o.running(BOB));
        assert_eq!(o.delivered(BOB, 1), Next::Send(msg(2, 9e9 as u64)));
        // A full batch: load again; the reload may repeat ids already sent.
        assert_eq!(o.delivered(BOB, 2), Next::Load);
        let n = o.loaded(BOB, vec![msg(2, 9e9 as u64), msg(3, 9e9 as u64)], 32, 5);
        assert_eq!(n, Next::Send(msg(3, 9e9 as u64)));
        assert_eq!(o.delivered(BOB, 3), Next::Done);
        assert!(o.is_empty());
    }

    #[test]
    fn expired_messages_are_skipped_and_failure_ends_the_run_with_backoff() {
        let cfg = SiloConfig::default();
        let mut o = Outbox::new();
        o.start(BOB);
        let n = o.loaded(BOB, vec![msg(1, 10), msg(2, 100)], 32, 10);
        let Next::Send(m) = n else { panic!("{n:?}") };
        assert_eq!(m.id, 2);
        assert_eq!(o.failed(BOB, &m, 50, &cfg), (1, 50 + cfg.retry_base_ms));
        assert!(!o.running(BOB));
        assert!(o.start(BOB));
    }

    #[test]
    fn a_full_batch_of_nothing_new_ends_the_run() {
        let mut o = Outbox::new();
        o.start(BOB);
        // 2 loaded with batch 2, both expired: no reload loop.
        assert_eq!(o.loaded(BOB, vec![msg(1, 5), msg(2, 5)], 2, 10), Next::Done);
        assert!(!o.running(BOB));
    }

    #[test]
    fn a_given_up_message_lets_the_next_go() {
        let mut o = Outbox::new();
        o.start(BOB);
        let far = 9e9 as u64;
        assert_eq!(
            o.loaded(BOB, vec![msg(1, far), msg(2, far)], 32, 5),
            Next::Send(msg(1, far))
        );
        assert_eq!(o.given_up(BOB, 1), Next::Send(msg(2, far)));
        assert!(permanent_failure(415) && permanent_failure(603) && permanent_failure(404));
        assert!(!permanent_failure(408) && !permanent_failure(480) && !permanent_failure(503));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cfg = SiloConfig {
            retry_base_ms: 1000,
            retry_max_ms: 5000,
            ..SiloConfig::default()
        };
        let waits: Vec<u64> = (1..=5).map(|a| backoff_ms(a, &cfg)).collect();
        assert_eq!(waits, vec![1000, 2000, 4000, 5000, 5000]);
        assert_eq!(backoff_ms(u32::MAX, &cfg), 5000);
    }

    #[test]
    fn over_quota_is_480_unless_the_message_alone_is_too_big() {
        let cfg = SiloConfig::default();
        assert_eq!(over_quota_reply(10, &cfg).0, 480);
        assert_eq!(over_quota_reply(5 << 20, &cfg).0, 413);
    }

    #[test]
    fn delivery_request_keeps_from_type_and_body_and_dates_the_original() {
        let mut m = msg(7, 9);
        m.body = "grüße ✓".as_bytes().to_vec();
        m.content_type = "text/plain;charset=UTF-8".into();
        m.received_ms = 0;
        let req = delivery_request(
            &m,
            "sip:bob@127.0.0.1:5099",
            &["<sip:127.0.0.1:5070;lr>".to_owned()],
            "c1",
        )
        .header(
            HeaderName::Via,
            "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx",
        )
        .build()
        .unwrap();
        assert_eq!(
            req.header(HeaderName::From),
            Some("<sip:alice@example.test>;tag=1")
        );
        assert_eq!(req.header(HeaderName::To), Some("<sip:bob@example.test>"));
        assert_eq!(
            req.header(HeaderName::ContentType),
            Some("text/plain;charset=UTF-8")
        );
        assert_eq!(&req.body()[..], "grüße ✓".as_bytes());
        assert_eq!(
            req.header(HeaderName::Date),
            Some("Thu, 01 Jan 1970 00:00:00 GMT")
        );
        assert_eq!(
            req.header(HeaderName::Route),
            Some("<sip:127.0.0.1:5070;lr>")
        );
    }
}
