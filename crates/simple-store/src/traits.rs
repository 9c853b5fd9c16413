//! The domain traits: [`Users`] and [`Registrations`].

use std::future::Future;

use crate::error::Result;
use crate::model::{Binding, User};

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
    fn replace_bindings(
        &self,
        batch: &[(String, Vec<Binding>)],
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
