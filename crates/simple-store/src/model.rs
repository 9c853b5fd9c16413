//! The stored values ([`User`], [`Ha1`], [`Binding`], [`Publication`], [`Subscription`],
//! [`Document`]) and the checks every backend runs before writing them, so that all backends accept and
//! refuse the same things.

use crate::error::{Result, StoreError};
use crate::traits::{Precondition, PublicationKey};

/// One HA1 (RFC 7616 §3.4.2: `H(username ":" realm ":" password)`) per algorithm.
///
/// `algorithm` is the token "MD5", "SHA-256", "SHA-512-256"; `ha1` lowercase hex.
/// Never a password: a store refuses an `ha1` that is not lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ha1 {
    /// The RFC 7616 / RFC 8760 algorithm token.
    pub algorithm: String,
    /// The HA1 digest, lowercase hex.
    pub ha1: String,
}

/// A provisioned user: who may register and authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Compared case-sensitively.
    pub username: String,
    /// Compared case-insensitively; stores keep it ASCII-lowercased.
    pub domain: String,
    /// The digest realm the HA1s were computed for.
    pub realm: String,
    /// One entry per algorithm, in the order given (the order is kept).
    pub ha1: Vec<Ha1>,
    /// When the user was provisioned, unix ms.
    pub created_ms: i64,
}

/// One registered contact (RFC 3261 §10, RFC 5626, RFC 3327).
///
/// The store keeps bindings as values: it does not match contacts or flows (that is the
/// registrar's job, RFC 3261 §10.3 step 7, RFC 5626 §6); an AOR's bindings come back in
/// the order they were written.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// Canonical "sip:user@domain" (the registrar canonicalizes; the store compares the
    /// string exactly).
    pub aor: String,
    /// The contact's URI exactly as registered (addr-spec, no `< >`).
    pub contact: String,
    /// The contact's header params other than expires/q, as written
    /// (e.g. `;+sip.instance="<urn:..>";reg-id=1`), "" if none.
    pub params: String,
    /// 0..=1000 (q * 1000).
    pub q: Option<u16>,
    /// Unix ms.
    pub expires_at_ms: i64,
    /// Call-ID of the REGISTER that wrote it (RFC 3261 §10.3 step 7).
    pub call_id: String,
    /// CSeq of the REGISTER that wrote it.
    pub cseq: u32,
    /// `+sip.instance` (RFC 5626 §4.1).
    pub instance: Option<String>,
    /// `reg-id` (RFC 5626 §4.2).
    pub reg_id: Option<u32>,
    /// Path header values, in order (RFC 3327 §5.3). No value may contain a line feed.
    pub path: Vec<String>,
    /// Where the REGISTER came from: "udp:127.0.0.1:5070" style.
    pub received: Option<String>,
    /// The REGISTER's User-Agent.
    pub user_agent: Option<String>,
    /// When the binding was last written, unix ms.
    pub updated_ms: i64,
}

/// One PUBLISH-ed event state (RFC 3903), keyed by (aor, event, etag).
///
/// Times are unix ms and must fit an `i64` (stores refuse larger ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// "user@domain", canonical (the presence server canonicalizes; the store compares
    /// the string exactly).
    pub aor: String,
    /// The event package: "presence".
    pub event: String,
    /// The entity-tag the server assigned (RFC 3903 §4.1).
    pub etag: String,
    /// The body's media type, e.g. "application/pidf+xml".
    pub content_type: String,
    /// The published body, bytes as received.
    pub body: Vec<u8>,
    /// When the publication expires, unix ms.
    pub expires_at_ms: u64,
    /// Last PUBLISH that set or modified the body, unix ms.
    pub updated_ms: u64,
    /// The initial PUBLISH, unix ms.
    pub created_ms: u64,
    /// Who published (authenticated user or From URI), for audit.
    pub publisher: String,
}

/// One notifier-side subscription (RFC 6665) with its dialog, as the presence server keeps
/// it.
///
/// Times are unix ms and must fit an `i64` (stores refuse larger ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The server's key (unique), e.g. Call-ID + local tag.
    pub id: String,
    /// The presentity / resource, "user@domain" (compared exactly).
    pub aor: String,
    /// The event package: "presence", "presence.winfo", ...
    pub event: String,
    /// The Event header's `id` parameter (RFC 6665 §8.2.1), if any.
    pub event_id: Option<String>,
    /// The watcher's URI (From).
    pub watcher: String,
    /// "pending" | "active" | "terminated" (free text, must not be empty).
    pub state: String,
    /// When the subscription expires, unix ms.
    pub expires_at_ms: u64,
    /// The negotiated body type of NOTIFYs.
    pub content_type: String,
    /// Dialog (RFC 3261 §12): the Call-ID.
    pub call_id: String,
    /// Dialog: the server's tag.
    pub local_tag: String,
    /// Dialog: the subscriber's tag (RFC 3261 requires one; kept optional for RFC 2543
    /// peers).
    pub remote_tag: Option<String>,
    /// Dialog: the server's URI (the SUBSCRIBE's To).
    pub local_uri: String,
    /// Dialog: the subscriber's URI (the SUBSCRIBE's From).
    pub remote_uri: String,
    /// Dialog: where in-dialog requests go (the subscriber's Contact).
    pub remote_target: String,
    /// Dialog: the route set, in order. No value may contain a line break.
    pub route_set: Vec<String>,
    /// Dialog: SIPS (RFC 3261 §12.1.1).
    pub secure: bool,
    /// High-water mark of NOTIFY CSeqs the server may have used.
    pub local_cseq: u32,
    /// The last CSeq received from the subscriber.
    pub remote_cseq: u32,
    /// "udp" | "tcp" | "tls" | "ws" | "wss": what the SUBSCRIBE came over.
    pub transport: String,
    /// "ip:port" the SUBSCRIBE came from.
    pub remote_addr: String,
    /// When the subscription was created, unix ms.
    pub created_ms: u64,
    /// When it was last written, unix ms.
    pub updated_ms: u64,
}

/// One per-user XML document (presence rules, RFC 5025; an XCAP document, RFC 4825),
/// keyed by (auid, owner, name), each compared as an exact string.
///
/// The store keeps the content as bytes and never parses it; the etag is the caller's
/// (XCAP's entity tag, RFC 4825 §7.11), compared exactly by
/// [`Precondition::IfMatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The application usage: "pres-rules", "resource-lists", ...
    pub auid: String,
    /// Whose document: "sip:alice@example.test", or "global" (XCAP's global tree).
    pub owner: String,
    /// The document's name within the auid and owner: "index".
    pub name: String,
    /// The entity tag of this version.
    pub etag: String,
    /// The media type, e.g. "application/auth-policy+xml".
    pub content_type: String,
    /// The document, bytes as given.
    pub content: Vec<u8>,
    /// When this version was written, unix ms (must fit an `i64`).
    pub updated_ms: u64,
}

/// The largest time a store accepts: SQLite integers are `i64`.
pub(crate) const MAX_MS: u64 = i64::MAX as u64;

fn check_ms(what: &'static str, field: &str, ms: u64) -> Result<()> {
    if ms > MAX_MS {
        return Err(StoreError::invalid(
            what,
            format!("{field} {ms} above i64::MAX"),
        ));
    }
    Ok(())
}

fn check_non_empty(what: &'static str, fields: &[(&str, &str)]) -> Result<()> {
    match fields.iter().find(|(_, v)| v.is_empty()) {
        Some((field, _)) => Err(StoreError::invalid(what, format!("empty {field}"))),
        None => Ok(()),
    }
}

/// The checks a `write_publications` batch passes before any backend writes any of it.
pub(crate) fn check_publications(puts: &[Publication], removes: &[PublicationKey]) -> Result<()> {
    const WHAT: &str = "publication";
    for p in puts {
        check_non_empty(
            WHAT,
            &[("AOR", &p.aor), ("event", &p.event), ("etag", &p.etag)],
        )?;
        check_ms(WHAT, "expires_at_ms", p.expires_at_ms)?;
        check_ms(WHAT, "updated_ms", p.updated_ms)?;
        check_ms(WHAT, "created_ms", p.created_ms)?;
    }
    for k in removes {
        check_non_empty(
            WHAT,
            &[("AOR", &k.aor), ("event", &k.event), ("etag", &k.etag)],
        )?;
    }
    Ok(())
}

/// The checks a `write_subscriptions` batch passes before any backend writes any of it.
pub(crate) fn check_subscriptions(puts: &[Subscription], removes: &[String]) -> Result<()> {
    const WHAT: &str = "subscription";
    for s in puts {
        check_non_empty(
            WHAT,
            &[
                ("id", &s.id),
                ("AOR", &s.aor),
                ("event", &s.event),
                ("watcher", &s.watcher),
                ("state", &s.state),
                ("Call-ID", &s.call_id),
                ("local tag", &s.local_tag),
            ],
        )?;
        check_ms(WHAT, "expires_at_ms", s.expires_at_ms)?;
        check_ms(WHAT, "created_ms", s.created_ms)?;
        check_ms(WHAT, "updated_ms", s.updated_ms)?;
        // Stored line-feed-joined, like a binding's Path (see the sqlite module).
        if s.route_set.iter().any(|r| r.contains(['\n', '\r'])) {
            return Err(StoreError::invalid(WHAT, "line break in a route"));
        }
    }
    if removes.iter().any(String::is_empty) {
        return Err(StoreError::invalid(WHAT, "empty id"));
    }
    Ok(())
}

/// The checks a document key passes before any backend reads or writes with it.
pub(crate) fn check_document_key(auid: &str, owner: &str, name: &str) -> Result<()> {
    check_non_empty(
        "document",
        &[("auid", auid), ("owner", owner), ("name", name)],
    )
}

/// The checks a `list_documents` filter passes.
pub(crate) fn check_document_filter(owner: &str, auid: Option<&str>) -> Result<()> {
    check_non_empty(
        "document",
        &[("owner", owner), ("auid", auid.unwrap_or("-"))],
    )
}

/// The checks a precondition passes: an `IfMatch` etag is never empty (no stored
/// document has one).
pub(crate) fn check_precondition(pre: &Precondition) -> Result<()> {
    match pre {
        Precondition::IfMatch(etag) if etag.is_empty() => {
            Err(StoreError::invalid("document", "empty If-Match etag"))
        }
        _ => Ok(()),
    }
}

/// The checks a document passes before any backend writes it.
pub(crate) fn check_document(doc: &Document, pre: &Precondition) -> Result<()> {
    check_document_key(&doc.auid, &doc.owner, &doc.name)?;
    check_non_empty("document", &[("etag", &doc.etag)])?;
    check_ms("document", "updated_ms", doc.updated_ms)?;
    check_precondition(pre)
}

/// Whether a document whose stored etag is `stored` (`None`: absent) may be written or
/// removed under `pre` (RFC 9110 §13.1.1, §13.1.2: `If-Match: "e"`, `If-None-Match: *`).
pub(crate) fn precondition_holds(pre: &Precondition, stored: Option<&str>) -> bool {
    match pre {
        Precondition::Any => true,
        Precondition::IfMatch(etag) => stored == Some(etag.as_str()),
        Precondition::IfNoneMatch => stored.is_none(),
    }
}

/// Domains compare case-insensitively (RFC 3261 §19.1.4: host names are
/// case-insensitive); stores key them lowercased. SIP host names are ASCII.
pub(crate) fn canonical_domain(domain: &str) -> String {
    domain.to_ascii_lowercase()
}

/// The checks a user passes before any backend stores it.
pub(crate) fn check_user(user: &User) -> Result<()> {
    if user.username.is_empty() {
        return Err(StoreError::invalid("user", "empty username"));
    }
    if user.domain.is_empty() {
        return Err(StoreError::invalid("user", "empty domain"));
    }
    for (i, h) in user.ha1.iter().enumerate() {
        if h.algorithm.is_empty() {
            return Err(StoreError::invalid("HA1", "empty algorithm"));
        }
        // Catches a password (or an uppercase digest) handed in by mistake.
        let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if h.ha1.is_empty() || !h.ha1.bytes().all(lower_hex) {
            return Err(StoreError::invalid(
                "HA1",
                format!("{} HA1 is not lowercase hex", h.algorithm),
            ));
        }
        if user.ha1[..i].iter().any(|o| o.algorithm == h.algorithm) {
            return Err(StoreError::invalid(
                "HA1",
                format!("two HA1s for algorithm {}", h.algorithm),
            ));
        }
    }
    Ok(())
}

/// The checks a `replace_bindings` batch passes before any backend writes any of it.
pub(crate) fn check_batch(batch: &[(String, Vec<Binding>)]) -> Result<()> {
    for (aor, bindings) in batch {
        if aor.is_empty() {
            return Err(StoreError::invalid("binding", "empty AOR"));
        }
        for b in bindings {
            check_binding(aor, b)?;
        }
    }
    Ok(())
}

fn check_binding(aor: &str, b: &Binding) -> Result<()> {
    if b.aor != aor {
        return Err(StoreError::invalid(
            "binding",
            format!("binding for {} listed under {aor}", b.aor),
        ));
    }
    if b.contact.is_empty() {
        return Err(StoreError::invalid("binding", "empty contact"));
    }
    if let Some(q) = b.q
        && q > 1000
    {
        return Err(StoreError::invalid("binding", format!("q {q} above 1000")));
    }
    // Path values are stored line-feed-joined (see the sqlite module); a header value
    // never holds a line break once unfolded (RFC 3261 §7.3.1).
    if b.path.iter().any(|p| p.contains(['\n', '\r'])) {
        return Err(StoreError::invalid("binding", "line break in a Path value"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(ha1: &[(&str, &str)]) -> User {
        User {
            username: "alice".into(),
            domain: "example.test".into(),
            realm: "example.test".into(),
            ha1: ha1
                .iter()
                .map(|(a, h)| Ha1 {
                    algorithm: (*a).into(),
                    ha1: (*h).into(),
                })
                .collect(),
            created_ms: 0,
        }
    }

    #[test]
    fn ha1_must_be_lowercase_hex_and_one_per_algorithm() {
        assert!(check_user(&user(&[("MD5", "0a1b"), ("SHA-256", "ff")])).is_ok());
        assert!(check_user(&user(&[])).is_ok());
        assert!(check_user(&user(&[("MD5", "0A1B")])).is_err());
        assert!(check_user(&user(&[("MD5", "hunter2")])).is_err());
        assert!(check_user(&user(&[("MD5", "")])).is_err());
        assert!(check_user(&user(&[("MD5", "00"), ("MD5", "11")])).is_err());
    }

    #[test]
    fn domain_is_lowercased_ascii_only() {
        assert_eq!(canonical_domain("Example.TEST"), "example.test");
    }
}

/// A page-mode MESSAGE (RFC 3428) kept for a recipient who could not take it, until it
/// is delivered or expires.
///
/// The store keeps the body as bytes and never parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Assigned by the store when the message is stored (the value given to
    /// [`Messages::store_message`](crate::Messages::store_message) is ignored); strictly
    /// increasing in storing order and never reused, so it is the delivery order.
    pub id: u64,
    /// The recipient's canonical AOR, compared as an exact string.
    pub recipient: String,
    /// The From header field value as received (display name, URI, parameters).
    pub sender: String,
    /// The sender's canonical AOR.
    pub sender_aor: String,
    /// The Content-Type header field value as received, parameters included.
    pub content_type: String,
    /// The body, bytes as received.
    pub body: Vec<u8>,
    /// When the server took the message, unix ms.
    pub received_ms: u64,
    /// When it is given up, unix ms: expired when `expires_at_ms <= now_ms`.
    pub expires_at_ms: u64,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// Not retried before this time, unix ms.
    pub next_attempt_ms: u64,
}

/// A member of a page-mode chat room, keyed by (room, member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMember {
    /// The room's URI, "sip:lobby@chat.example.test".
    pub room: String,
    /// The member's canonical AOR.
    pub member: String,
    /// When the member joined, unix ms.
    pub joined_ms: u64,
    /// When the member last sent to the room, unix ms.
    pub last_active_ms: u64,
}

pub(crate) fn check_message(m: &StoredMessage) -> Result<()> {
    const WHAT: &str = "stored message";
    check_non_empty(
        WHAT,
        &[
            ("recipient", &m.recipient),
            ("sender", &m.sender),
            ("sender AOR", &m.sender_aor),
            ("content type", &m.content_type),
        ],
    )?;
    check_ms(WHAT, "received_ms", m.received_ms)?;
    check_ms(WHAT, "expires_at_ms", m.expires_at_ms)?;
    check_ms(WHAT, "next_attempt_ms", m.next_attempt_ms)
}

/// The check of [`Messages::reschedule_message`](crate::Messages::reschedule_message)'s time.
pub(crate) fn check_next_attempt(next_attempt_ms: u64) -> Result<()> {
    check_ms("stored message", "next_attempt_ms", next_attempt_ms)
}

pub(crate) fn check_member(m: &RoomMember) -> Result<()> {
    const WHAT: &str = "room member";
    check_non_empty(WHAT, &[("room", &m.room), ("member", &m.member)])?;
    check_ms(WHAT, "joined_ms", m.joined_ms)?;
    check_ms(WHAT, "last_active_ms", m.last_active_ms)
}
