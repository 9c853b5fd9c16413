//! [`MemoryStore`]: everything in a mutex-guarded map, gone when the last clone drops.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::Result;
use crate::model::{
    Binding, Document, Publication, RoomMember, StoredMessage, Subscription, User,
    canonical_domain, check_batch, check_document, check_document_filter, check_document_key,
    check_member, check_message, check_precondition, check_publications, check_subscriptions,
    check_user, precondition_holds,
};
use crate::traits::{
    Documents, Messages, Precondition, PublicationKey, Publications, Quota, Registrations, Rooms,
    StoreOutcome, Subscriptions, Users,
};

/// The in-memory backend, for tests and fast runs. Clones share one store.
///
/// Every operation takes one short `std::sync::Mutex` critical section and never awaits
/// inside it, so batches are atomic and readers see either all of a batch or none of it.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Keyed by (lowercased domain, username): iteration order is the list order.
    users: BTreeMap<(String, String), User>,
    /// Keyed by AOR; no entry for an AOR without bindings.
    bindings: BTreeMap<String, Vec<Binding>>,
    /// Keyed by (aor, event, etag).
    publications: BTreeMap<(String, String, String), Publication>,
    /// Keyed by id.
    subscriptions: BTreeMap<String, Subscription>,
    /// Keyed by (owner, auid, name): iteration order is the list order.
    documents: BTreeMap<(String, String, String), Document>,
    /// Writes per auid (see `Documents::documents_revision`).
    document_revisions: BTreeMap<String, u64>,
    /// Keyed by id (storing order).
    messages: BTreeMap<u64, StoredMessage>,
    /// The last id handed out (ids are never reused).
    last_message_id: u64,
    /// Keyed by (room, member).
    members: BTreeMap<(String, String), RoomMember>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied write (every write
        // is checked first, then applied with infallible map operations), so the data
        // behind a poisoned lock is still consistent.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn user_key(username: &str, domain: &str) -> (String, String) {
    (canonical_domain(domain), username.to_owned())
}

impl Users for MemoryStore {
    async fn put_user(&self, user: &User) -> Result<bool> {
        check_user(user)?;
        let mut stored = user.clone();
        stored.domain = canonical_domain(&user.domain);
        let key = (stored.domain.clone(), stored.username.clone());
        Ok(self.lock().users.insert(key, stored).is_none())
    }

    async fn put_users(&self, users: &[User]) -> Result<usize> {
        users.iter().try_for_each(check_user)?;
        let mut inner = self.lock();
        let mut created = 0;
        for user in users {
            let mut stored = user.clone();
            stored.domain = canonical_domain(&user.domain);
            let key = (stored.domain.clone(), stored.username.clone());
            created += usize::from(inner.users.insert(key, stored).is_none());
        }
        Ok(created)
    }

    async fn get_user(&self, username: &str, domain: &str) -> Result<Option<User>> {
        Ok(self.lock().users.get(&user_key(username, domain)).cloned())
    }

    async fn remove_user(&self, username: &str, domain: &str) -> Result<bool> {
        Ok(self
            .lock()
            .users
            .remove(&user_key(username, domain))
            .is_some())
    }

    async fn list_users(&self, domain: Option<&str>) -> Result<Vec<User>> {
        let inner = self.lock();
        Ok(match domain {
            None => inner.users.values().cloned().collect(),
            Some(d) => {
                let d = canonical_domain(d);
                inner
                    .users
                    .iter()
                    .filter(|((ud, _), _)| *ud == d)
                    .map(|(_, u)| u.clone())
                    .collect()
            }
        })
    }
}

impl Registrations for MemoryStore {
    async fn replace_bindings(&self, batch: Vec<(String, Vec<Binding>)>) -> Result<()> {
        check_batch(&batch)?;
        let mut inner = self.lock();
        for (aor, bindings) in batch {
            if bindings.is_empty() {
                inner.bindings.remove(&aor);
            } else {
                inner.bindings.insert(aor, bindings);
            }
        }
        Ok(())
    }

    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>> {
        Ok(self.lock().bindings.get(aor).cloned().unwrap_or_default())
    }

    async fn load_live_bindings(&self, now_ms: i64) -> Result<Vec<Binding>> {
        let mut inner = self.lock();
        remove_expired(&mut inner, now_ms);
        Ok(inner.bindings.values().flatten().cloned().collect())
    }

    async fn remove_expired(&self, now_ms: i64) -> Result<u64> {
        Ok(remove_expired(&mut self.lock(), now_ms))
    }

    async fn count_bindings(&self) -> Result<u64> {
        Ok(self.lock().bindings.values().map(|b| b.len() as u64).sum())
    }
}

fn remove_expired(inner: &mut Inner, now_ms: i64) -> u64 {
    let mut removed = 0;
    inner.bindings.retain(|_, bindings| {
        let before = bindings.len();
        bindings.retain(|b| b.expires_at_ms > now_ms);
        removed += (before - bindings.len()) as u64;
        !bindings.is_empty()
    });
    removed
}

fn publication_key(p: &Publication) -> (String, String, String) {
    (p.aor.clone(), p.event.clone(), p.etag.clone())
}

impl Publications for MemoryStore {
    async fn write_publications(
        &self,
        puts: Vec<Publication>,
        removes: Vec<PublicationKey>,
    ) -> Result<()> {
        check_publications(&puts, &removes)?;
        let mut inner = self.lock();
        for p in puts {
            inner.publications.insert(publication_key(&p), p);
        }
        for k in removes {
            inner
                .publications
                .remove(&(k.aor.clone(), k.event.clone(), k.etag.clone()));
        }
        Ok(())
    }

    async fn publications(&self, aor: &str, event: &str) -> Result<Vec<Publication>> {
        let inner = self.lock();
        // The key's prefix (aor, event) picks a contiguous range of the map.
        let from = (aor.to_owned(), event.to_owned(), String::new());
        let mut found: Vec<Publication> = inner
            .publications
            .range(from..)
            .take_while(|((a, e, _), _)| a == aor && e == event)
            .map(|(_, p)| p.clone())
            .collect();
        found.sort_by(|a, b| (a.created_ms, &a.etag).cmp(&(b.created_ms, &b.etag)));
        Ok(found)
    }

    async fn load_live_publications(&self, now_ms: u64) -> Result<Vec<Publication>> {
        let mut inner = self.lock();
        inner.publications.retain(|_, p| p.expires_at_ms > now_ms);
        let mut live: Vec<Publication> = inner.publications.values().cloned().collect();
        live.sort_by(|a, b| {
            (&a.aor, &a.event, a.created_ms, &a.etag).cmp(&(
                &b.aor,
                &b.event,
                b.created_ms,
                &b.etag,
            ))
        });
        Ok(live)
    }

    async fn remove_expired_publications(&self, now_ms: u64) -> Result<u64> {
        let mut inner = self.lock();
        let before = inner.publications.len();
        inner.publications.retain(|_, p| p.expires_at_ms > now_ms);
        Ok((before - inner.publications.len()) as u64)
    }
}

fn subscription_order(s: &Subscription) -> (&str, &str, u64, &str) {
    (&s.aor, &s.event, s.created_ms, &s.id)
}

impl Subscriptions for MemoryStore {
    async fn write_subscriptions(&self, puts: &[Subscription], removes: &[String]) -> Result<()> {
        check_subscriptions(puts, removes)?;
        let mut inner = self.lock();
        for s in puts {
            inner.subscriptions.insert(s.id.clone(), s.clone());
        }
        for id in removes {
            inner.subscriptions.remove(id);
        }
        Ok(())
    }

    async fn subscription(&self, id: &str) -> Result<Option<Subscription>> {
        Ok(self.lock().subscriptions.get(id).cloned())
    }

    async fn subscriptions_for(&self, aor: &str, event: &str) -> Result<Vec<Subscription>> {
        let inner = self.lock();
        let mut found: Vec<Subscription> = inner
            .subscriptions
            .values()
            .filter(|s| s.aor == aor && s.event == event)
            .cloned()
            .collect();
        found.sort_by(|a, b| subscription_order(a).cmp(&subscription_order(b)));
        Ok(found)
    }

    async fn load_live_subscriptions(&self, now_ms: u64) -> Result<Vec<Subscription>> {
        let mut inner = self.lock();
        inner.subscriptions.retain(|_, s| s.expires_at_ms > now_ms);
        let mut live: Vec<Subscription> = inner.subscriptions.values().cloned().collect();
        live.sort_by(|a, b| subscription_order(a).cmp(&subscription_order(b)));
        Ok(live)
    }
}

fn document_key(auid: &str, owner: &str, name: &str) -> (String, String, String) {
    (owner.to_owned(), auid.to_owned(), name.to_owned())
}

impl Documents for MemoryStore {
    async fn get_document(&self, auid: &str, owner: &str, name: &str) -> Result<Option<Document>> {
        check_document_key(auid, owner, name)?;
        Ok(self
            .lock()
            .documents
            .get(&document_key(auid, owner, name))
            .cloned())
    }

    async fn put_document(&self, doc: &Document, pre: Precondition) -> Result<bool> {
        check_document(doc, &pre)?;
        let key = document_key(&doc.auid, &doc.owner, &doc.name);
        // Check and write under one lock: the compare-and-set is atomic.
        let mut inner = self.lock();
        let stored = inner.documents.get(&key).map(|d| d.etag.as_str());
        if !precondition_holds(&pre, stored) {
            return Ok(false);
        }
        inner.documents.insert(key, doc.clone());
        *inner
            .document_revisions
            .entry(doc.auid.clone())
            .or_default() += 1;
        Ok(true)
    }

    async fn remove_document(
        &self,
        auid: &str,
        owner: &str,
        name: &str,
        pre: Precondition,
    ) -> Result<bool> {
        check_document_key(auid, owner, name)?;
        check_precondition(&pre)?;
        let key = document_key(auid, owner, name);
        let mut inner = self.lock();
        let Some(stored) = inner.documents.get(&key) else {
            return Ok(false);
        };
        if !precondition_holds(&pre, Some(&stored.etag)) {
            return Ok(false);
        }
        inner.documents.remove(&key);
        *inner.document_revisions.entry(auid.to_owned()).or_default() += 1;
        Ok(true)
    }

    async fn list_documents(&self, owner: &str, auid: Option<&str>) -> Result<Vec<Document>> {
        check_document_filter(owner, auid)?;
        let inner = self.lock();
        // The key's prefix (owner) picks a contiguous range of the map, already sorted
        // by auid, then name.
        let from = (
            owner.to_owned(),
            auid.unwrap_or("").to_owned(),
            String::new(),
        );
        Ok(inner
            .documents
            .range(from..)
            .take_while(|((o, a, _), _)| o == owner && auid.is_none_or(|want| a == want))
            .map(|(_, d)| d.clone())
            .collect())
    }

    async fn documents_revision(&self, auid: &str) -> Result<u64> {
        Ok(self
            .lock()
            .document_revisions
            .get(auid)
            .copied()
            .unwrap_or(0))
    }

    async fn documents_of_auid(&self, auid: &str) -> Result<Vec<Document>> {
        if auid.is_empty() {
            return Err(crate::StoreError::Invalid {
                what: "document",
                reason: "empty auid".into(),
            });
        }
        Ok(self
            .lock()
            .documents
            .values()
            .filter(|d| d.auid == auid)
            .cloned()
            .collect())
    }
}

impl Messages for MemoryStore {
    async fn store_message(&self, msg: &StoredMessage, quota: Quota) -> Result<StoreOutcome> {
        check_message(msg)?;
        let mut g = self.lock();
        let (messages, bytes) = usage(&g, &msg.recipient);
        if messages + 1 > quota.max_messages
            || bytes.saturating_add(msg.body.len() as u64) > quota.max_bytes
        {
            return Ok(StoreOutcome::OverQuota { messages, bytes });
        }
        g.last_message_id += 1;
        let id = g.last_message_id;
        g.messages.insert(id, StoredMessage { id, ..msg.clone() });
        Ok(StoreOutcome::Stored(id))
    }

    async fn messages_for(&self, recipient: &str, limit: usize) -> Result<Vec<StoredMessage>> {
        let g = self.lock();
        Ok(g.messages
            .values()
            .filter(|m| m.recipient == recipient)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn remove_message(&self, id: u64) -> Result<bool> {
        Ok(self.lock().messages.remove(&id).is_some())
    }

    async fn reschedule_message(
        &self,
        id: u64,
        attempts: u32,
        next_attempt_ms: u64,
    ) -> Result<bool> {
        crate::model::check_next_attempt(next_attempt_ms)?;
        let mut g = self.lock();
        Ok(match g.messages.get_mut(&id) {
            Some(m) => {
                m.attempts = attempts;
                m.next_attempt_ms = next_attempt_ms;
                true
            }
            None => false,
        })
    }

    async fn due_recipients(&self, now_ms: u64) -> Result<Vec<String>> {
        let g = self.lock();
        let due: std::collections::BTreeSet<&String> = g
            .messages
            .values()
            .filter(|m| m.next_attempt_ms <= now_ms && m.expires_at_ms > now_ms)
            .map(|m| &m.recipient)
            .collect();
        Ok(due.into_iter().cloned().collect())
    }

    async fn message_recipients(&self) -> Result<Vec<String>> {
        let g = self.lock();
        let all: std::collections::BTreeSet<&String> =
            g.messages.values().map(|m| &m.recipient).collect();
        Ok(all.into_iter().cloned().collect())
    }

    async fn take_expired_messages(&self, now_ms: u64) -> Result<Vec<StoredMessage>> {
        let mut g = self.lock();
        let ids: Vec<u64> = g
            .messages
            .values()
            .filter(|m| m.expires_at_ms <= now_ms)
            .map(|m| m.id)
            .collect();
        Ok(ids.iter().filter_map(|id| g.messages.remove(id)).collect())
    }

    async fn message_usage(&self, recipient: &str) -> Result<(u64, u64)> {
        Ok(usage(&self.lock(), recipient))
    }
}

fn usage(g: &Inner, recipient: &str) -> (u64, u64) {
    g.messages
        .values()
        .filter(|m| m.recipient == recipient)
        .fold((0, 0), |(n, b), m| (n + 1, b + m.body.len() as u64))
}

impl Rooms for MemoryStore {
    async fn put_member(&self, member: &RoomMember) -> Result<bool> {
        check_member(member)?;
        let mut g = self.lock();
        let key = (member.room.clone(), member.member.clone());
        Ok(match g.members.get_mut(&key) {
            Some(m) => {
                m.last_active_ms = member.last_active_ms;
                false
            }
            None => {
                g.members.insert(key, member.clone());
                true
            }
        })
    }

    async fn remove_member(&self, room: &str, member: &str) -> Result<bool> {
        Ok(self
            .lock()
            .members
            .remove(&(room.to_owned(), member.to_owned()))
            .is_some())
    }

    async fn room_members(&self, room: &str) -> Result<Vec<RoomMember>> {
        let g = self.lock();
        let mut v: Vec<RoomMember> = g
            .members
            .values()
            .filter(|m| m.room == room)
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            a.joined_ms
                .cmp(&b.joined_ms)
                .then_with(|| a.member.cmp(&b.member))
        });
        Ok(v)
    }

    async fn remove_idle_members(&self, idle_before_ms: u64) -> Result<Vec<RoomMember>> {
        let mut g = self.lock();
        let keys: Vec<(String, String)> = g
            .members
            .iter()
            .filter(|(_, m)| m.last_active_ms < idle_before_ms)
            .map(|(k, _)| k.clone())
            .collect();
        Ok(keys.iter().filter_map(|k| g.members.remove(k)).collect())
    }
}
