//! The domain traits: [`Users`], [`Registrations`], [`Publications`],
//! [`Subscriptions`] and [`Documents`].

use std::future::Future;

use crate::error::Result;
use crate::model::{Binding, Document, Publication, RoomMember, StoredMessage, Subscription, User};

/// Provisioned users and their HA1s.
///
/// Usernames compared case-sensitively, domains case-insensitively (store domain lowercased).
pub trait Users: Send + Sync + 'static {
    /// Inserts `user`, or replaces the stored user with the same username and domain
    /// entirely: realm, `created_ms` and the whole HA1 set (HA1s not in `user.ha1` are
    /// dropped). Returns true if the user was created. The stored domain is lowercased.
    ///
    /// Refuses ([`StoreError::Invalid`](crate::StoreError::Invalid)) an empty username or
    /// domain, an HA1 that is not lowercase hex, and two HA1s for one algorithm.
    fn put_user(&self, user: &User) -> impl Future<Output = Result<bool>> + Send;

    /// [`put_user`](Self::put_user) for every user of `users`, all or none:
    /// one transaction, so an invalid user refuses the whole batch and
    /// nothing is written. A later entry for the same user wins. Returns how
    /// many users were created. For bulk imports (one commit per user is
    /// what made `herald user import` slow).
    fn put_users(&self, users: &[User]) -> impl Future<Output = Result<usize>> + Send;

    /// The user, if provisioned.
    fn get_user(
        &self,
        username: &str,
        domain: &str,
    ) -> impl Future<Output = Result<Option<User>>> + Send;

    /// Removes the user and its HA1s; true if it existed.
    fn remove_user(
        &self,
        username: &str,
        domain: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Every user (of `domain` if given), sorted by domain, then username (byte order).
    fn list_users(&self, domain: Option<&str>) -> impl Future<Output = Result<Vec<User>>> + Send;
}

/// The location service's bindings (RFC 3261 §10.3).
///
/// AORs are compared as exact strings: the registrar canonicalizes them.
pub trait Registrations: Send + Sync + 'static {
    /// Atomically, for every (aor, bindings) in `batch`: the AOR's binding set becomes
    /// exactly `bindings` (empty = none). The whole batch is one transaction (group commit):
    /// either all of it is durable when this returns Ok, or none.
    ///
    /// Entries apply in order, so if an AOR appears twice the later entry wins. Every
    /// binding's `aor` must equal the AOR it is listed under; a batch with any refused
    /// binding ([`StoreError::Invalid`](crate::StoreError::Invalid)) writes nothing.
    /// The batch is taken by value: the registrar builds it for this call,
    /// and a backend that hands it to another thread needs no copy.
    fn replace_bindings(
        &self,
        batch: Vec<(String, Vec<Binding>)>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The AOR's stored bindings, in the order they were written, including any past
    /// their expiry that [`remove_expired`](Self::remove_expired) has not removed yet.
    fn bindings(&self, aor: &str) -> impl Future<Output = Result<Vec<Binding>>> + Send;

    /// Every binding not expired at `now_ms` (startup load); expired ones are deleted.
    /// A binding is expired when `expires_at_ms <= now_ms`. Sorted by AOR (byte order),
    /// then write order.
    fn load_live_bindings(&self, now_ms: i64) -> impl Future<Output = Result<Vec<Binding>>> + Send;

    /// Deletes every binding expired at `now_ms` (`expires_at_ms <= now_ms`); returns how
    /// many.
    fn remove_expired(&self, now_ms: i64) -> impl Future<Output = Result<u64>> + Send;

    /// How many bindings are stored, expired or not.
    fn count_bindings(&self) -> impl Future<Output = Result<u64>> + Send;
}

/// The presence server's PUBLISH-ed event state (RFC 3903), keyed by
/// [`PublicationKey`] (aor, event, etag), each compared as an exact string.
///
/// A publication is expired when `expires_at_ms <= now_ms`.
pub trait Publications: Send + Sync + 'static {
    /// One transaction (group commit): insert-or-replace every publication in `puts`
    /// (keyed by aor + event + etag; a replaced publication is overwritten entirely), then
    /// delete every key in `removes` (a key not stored is no error). Applies in order, so
    /// a key put twice ends up with the later value and a key both put and removed is
    /// gone. All or nothing: either all of it is durable when this returns Ok, or none.
    ///
    /// Refuses ([`StoreError::Invalid`](crate::StoreError::Invalid), nothing written) an
    /// empty aor, event or etag (in `puts` or `removes`) and a time above `i64::MAX`.
    ///
    /// Taken by value: the presence server builds each batch for this call, and a
    /// backend that hands it to another thread needs no copy.
    fn write_publications(
        &self,
        puts: Vec<Publication>,
        removes: Vec<PublicationKey>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The AOR's publications of `event` (including expired ones not yet removed), sorted
    /// by `created_ms`, then etag (byte order).
    fn publications(
        &self,
        aor: &str,
        event: &str,
    ) -> impl Future<Output = Result<Vec<Publication>>> + Send;

    /// Every publication with `expires_at_ms > now_ms` (startup load), sorted by aor,
    /// event, `created_ms`, then etag; the expired ones are deleted.
    fn load_live_publications(
        &self,
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<Publication>>> + Send;

    /// Deletes every publication with `expires_at_ms <= now_ms`; returns how many.
    fn remove_expired_publications(&self, now_ms: u64) -> impl Future<Output = Result<u64>> + Send;
}

/// What identifies one [`Publication`]: its AOR, event package and entity-tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicationKey {
    /// The publication's `aor`.
    pub aor: String,
    /// The publication's `event`.
    pub event: String,
    /// The publication's `etag`.
    pub etag: String,
}

impl PublicationKey {
    /// The key of `p`.
    pub fn of(p: &Publication) -> Self {
        PublicationKey {
            aor: p.aor.clone(),
            event: p.event.clone(),
            etag: p.etag.clone(),
        }
    }
}

/// The presence server's notifier-side subscriptions (RFC 6665) with their dialogs, keyed
/// by [`Subscription::id`]; aor and event compared as exact strings.
///
/// A subscription is expired when `expires_at_ms <= now_ms`.
pub trait Subscriptions: Send + Sync + 'static {
    /// One transaction: upsert every subscription in `puts` (keyed by id; a replaced
    /// subscription is overwritten entirely), then delete every id in `removes` (an id not
    /// stored is no error). Applies in order; all or nothing.
    ///
    /// Refuses ([`StoreError::Invalid`](crate::StoreError::Invalid), nothing written) an
    /// empty id (in `puts` or `removes`), aor, event, watcher, state, Call-ID or local tag,
    /// a route with a line break, and a time above `i64::MAX`.
    fn write_subscriptions(
        &self,
        puts: &[Subscription],
        removes: &[String],
    ) -> impl Future<Output = Result<()>> + Send;

    /// The subscription, if stored (expired or not).
    fn subscription(&self, id: &str) -> impl Future<Output = Result<Option<Subscription>>> + Send;

    /// The subscriptions to one resource and event (including expired ones not yet
    /// removed), sorted by `created_ms`, then id (byte order).
    fn subscriptions_for(
        &self,
        aor: &str,
        event: &str,
    ) -> impl Future<Output = Result<Vec<Subscription>>> + Send;

    /// Every subscription with `expires_at_ms > now_ms` (startup load), sorted by aor,
    /// event, `created_ms`, then id; the expired ones are deleted.
    fn load_live_subscriptions(
        &self,
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<Subscription>>> + Send;
}

/// Per-user XML documents (presence rules now, XCAP documents, RFC 4825, next), keyed by
/// (auid, owner, name), each compared as an exact string; writes are conditional on the
/// stored etag, as XCAP's are (RFC 4825 §7.11).
///
/// Every call refuses ([`StoreError::Invalid`](crate::StoreError::Invalid), nothing
/// written) an empty auid, owner or name, and an empty etag in
/// [`Precondition::IfMatch`].
pub trait Documents: Send + Sync + 'static {
    /// The document, if stored.
    fn get_document(
        &self,
        auid: &str,
        owner: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<Document>>> + Send;

    /// Inserts `doc`, or replaces the stored document with its key entirely, if `pre`
    /// holds for what is stored; Ok(false), nothing written, when it does not. An atomic
    /// compare-and-set: of two writers with the same `IfMatch` etag (each writing a new
    /// etag), exactly one succeeds.
    ///
    /// Also refuses an empty etag and an `updated_ms` above `i64::MAX`.
    fn put_document(
        &self,
        doc: &Document,
        pre: Precondition,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Deletes the document if `pre` holds; Ok(false) when it is absent or `pre` fails
    /// (so [`Precondition::IfNoneMatch`] never deletes anything).
    fn remove_document(
        &self,
        auid: &str,
        owner: &str,
        name: &str,
        pre: Precondition,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Every document of `owner` (of `auid` only, if given), sorted by auid, then name
    /// (byte order).
    fn list_documents(
        &self,
        owner: &str,
        auid: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Document>>> + Send;

    /// A number that changes whenever a document of `auid` is written or removed, by
    /// anyone (this process or another on the same store); 0 before the first write. A
    /// server polls it to notice edits made behind its back.
    fn documents_revision(&self, auid: &str) -> impl Future<Output = Result<u64>> + Send;

    /// Every document of `auid`, of every owner, sorted by owner, then name.
    fn documents_of_auid(&self, auid: &str) -> impl Future<Output = Result<Vec<Document>>> + Send;
}

/// The condition a [`Documents`] write is made under (HTTP's conditional requests, which
/// XCAP uses: RFC 9110 §13.1.1, §13.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Unconditional.
    Any,
    /// Only if a document is stored and its etag is exactly this one (`If-Match: "e"`).
    IfMatch(String),
    /// Only if no document is stored under the key (`If-None-Match: *`).
    IfNoneMatch,
}

/// How much a recipient may have waiting in the message store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Messages waiting, at most.
    pub max_messages: u64,
    /// Bytes of bodies waiting, at most.
    pub max_bytes: u64,
}

/// What [`Messages::store_message`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored under this id.
    Stored(u64),
    /// Not stored: the recipient already has this many messages and body bytes waiting,
    /// and one more would exceed the quota.
    OverQuota {
        /// Messages waiting.
        messages: u64,
        /// Body bytes waiting.
        bytes: u64,
    },
}

/// Page-mode messages waiting for their recipient (RFC 3428 store-and-forward), in
/// storing order per recipient.
pub trait Messages: Send + Sync + 'static {
    /// Stores `msg` (its `id` ignored) unless the recipient's waiting messages plus this
    /// one would exceed `quota`; the check and the insert are one transaction, so two
    /// concurrent stores cannot both slip under the quota.
    fn store_message(
        &self,
        msg: &StoredMessage,
        quota: Quota,
    ) -> impl Future<Output = Result<StoreOutcome>> + Send;

    /// Up to `limit` of the recipient's waiting messages, oldest (lowest id) first,
    /// expired ones included until [`take_expired_messages`](Self::take_expired_messages)
    /// removes them.
    fn messages_for(
        &self,
        recipient: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredMessage>>> + Send;

    /// Deletes the message (delivered); true if it was stored.
    fn remove_message(&self, id: u64) -> impl Future<Output = Result<bool>> + Send;

    /// Records a failed delivery attempt: sets `attempts` and `next_attempt_ms`; true if
    /// the message is stored.
    fn reschedule_message(
        &self,
        id: u64,
        attempts: u32,
        next_attempt_ms: u64,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// The recipients with a message due (`next_attempt_ms <= now_ms`) and not expired,
    /// sorted, each once.
    fn due_recipients(&self, now_ms: u64) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// Every recipient with a stored message, due or not, expired or not, sorted, each
    /// once: what a server loads at startup to know whose live messages must queue
    /// behind stored ones.
    fn message_recipients(&self) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// Deletes every message expired at `now_ms` (`expires_at_ms <= now_ms`) and returns
    /// them, lowest id first.
    fn take_expired_messages(
        &self,
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<StoredMessage>>> + Send;

    /// How many messages and body bytes the recipient has waiting.
    fn message_usage(&self, recipient: &str) -> impl Future<Output = Result<(u64, u64)>> + Send;
}

/// Page-mode chat room membership.
pub trait Rooms: Send + Sync + 'static {
    /// Inserts the member, or updates `last_active_ms` of an existing one (keeping its
    /// `joined_ms`); true if the member is new.
    fn put_member(&self, member: &RoomMember) -> impl Future<Output = Result<bool>> + Send;

    /// Removes the member; true if it was one.
    fn remove_member(&self, room: &str, member: &str) -> impl Future<Output = Result<bool>> + Send;

    /// The room's members, by `joined_ms`, then member.
    fn room_members(&self, room: &str) -> impl Future<Output = Result<Vec<RoomMember>>> + Send;

    /// Removes and returns every member of every room whose `last_active_ms` is before
    /// `idle_before_ms`, sorted by room, then member.
    fn remove_idle_members(
        &self,
        idle_before_ms: u64,
    ) -> impl Future<Output = Result<Vec<RoomMember>>> + Send;
}
