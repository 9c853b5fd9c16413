//! The registrar as a service: authentication, the location service in
//! memory, and group-committed persistence to the store.
//!
//! Durability: a REGISTER is answered 200 only after its new binding set is
//! committed (SQLite WAL, `synchronous=NORMAL`: it survives `kill -9` of the
//! server, not a power cut). Writes queued while a commit runs go out
//! together in the next one, so the commit rate, not the request rate, is
//! what the disk sees.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use simple_store::{Binding, Registrations, User, Users};
use sip_msg::{HeaderName, SipMessage, Uri};
use sip_proto::{Peer, TransactionKey};
use tokio::sync::mpsc;

use crate::auth::{AuthOutcome, Authenticator, Claimed};
use crate::location::{LiveBinding, Location};
use crate::register::{
    RegistrarConfig, Reply, aor_string, apply_register, canonical_aor, ok_headers,
};

/// Wall-clock unix milliseconds (binding expiry is wall time: it must hold
/// across restarts).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One write for the committer.
struct Job {
    batch: Vec<(String, Vec<Binding>)>,
    /// A REGISTER to answer once the batch is durable.
    ticket: Option<Ticket>,
}

/// Where a REGISTER stands after [`Registrar::register`].
#[derive(Debug)]
pub enum RegisterStep {
    /// Authentication needs the claimed user's record: read it
    /// ([`Registrar::find_user`], which may wait on the store) and call
    /// [`Registrar::register`] again with what was found.
    NeedUser(Claimed),
    /// Answer now: a refusal, a challenge, or a fetch that changed nothing
    /// (then with the AOR whose bindings it listed).
    Answer(Reply, Option<String>),
    /// The AOR's binding set changed (the location service has it already):
    /// hand it to [`Registrar::commit_then`], which answers once it is
    /// durable.
    Commit(PendingCommit),
}

/// A changed binding set waiting for its commit, with the 200 that
/// answers it.
#[derive(Debug)]
pub struct PendingCommit {
    reply: Reply,
    aor: String,
    bindings: Vec<Binding>,
}

/// A REGISTER whose answer waits for the commit of its bindings.
#[derive(Debug)]
pub struct Ticket {
    /// Its server transaction.
    pub key: TransactionKey,
    /// The request (the answer is built from it).
    pub request: SipMessage,
    /// The answer once committed (a failed commit answers 500 instead).
    pub reply: Reply,
    /// The AOR registered.
    pub aor: String,
}

/// One commit's REGISTERs, for whoever took [`Registrar::committed`].
#[derive(Debug)]
pub struct Committed {
    /// In the order they were handed to [`Registrar::commit_then`].
    pub tickets: Vec<Ticket>,
    /// Did the commit succeed (the error otherwise)?
    pub result: Result<(), String>,
}

/// The registrar: store, location, authenticator, committer.
#[derive(Debug)]
pub struct Registrar<S> {
    store: S,
    location: Mutex<Location>,
    auth: Authenticator,
    cfg: RegistrarConfig,
    commits: mpsc::UnboundedSender<Job>,
    committed: Mutex<Option<mpsc::UnboundedReceiver<Committed>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("aors", &self.batch.len())
            .finish()
    }
}

/// Most AORs committed in one transaction.
const MAX_BATCH: usize = 512;

impl<S: Users + Registrations + Clone> Registrar<S> {
    /// Loads the live bindings from the store and starts the committer and
    /// the expiry sweep (on the current tokio runtime).
    pub async fn start(
        store: S,
        cfg: RegistrarConfig,
        auth: Authenticator,
    ) -> Result<Arc<Self>, simple_store::StoreError> {
        let live = store.load_live_bindings(now_ms()).await?;
        tracing::info!(bindings = live.len(), "location service loaded");
        let (tx, rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        tokio::spawn(commit_loop(store.clone(), rx, done_tx));
        let r = Arc::new(Registrar {
            store,
            location: Mutex::new(Location::load(live)),
            auth,
            cfg,
            commits: tx,
            committed: Mutex::new(Some(done_rx)),
        });
        let weak = Arc::downgrade(&r);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut n = 0u64;
            loop {
                tick.tick().await;
                let Some(r) = weak.upgrade() else { break };
                let now = now_ms();
                let gone = r.location().expire(now);
                if gone > 0 {
                    tracing::debug!(gone, "bindings expired");
                }
                n += 1;
                if n.is_multiple_of(60)
                    && let Err(e) = r.store.remove_expired(now).await
                {
                    tracing::warn!(error = %e, "removing expired bindings from the store");
                }
            }
        });
        Ok(r)
    }

    /// The location service (a short, never-awaited critical section).
    pub fn location(&self) -> MutexGuard<'_, Location> {
        self.location.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Queues binding sets for the committer without waiting (flow loss).
    pub fn persist_later(&self, batch: Vec<(String, Vec<Binding>)>) {
        if batch.is_empty() {
            return;
        }
        let _ = self.commits.send(Job {
            batch,
            ticket: None,
        });
    }

    /// The answers of committed REGISTERs ([`commit_then`](Self::commit_then)),
    /// one [`Committed`] per commit. The first call takes the receiver;
    /// later calls get `None`. Whoever answers REGISTERs must take it and
    /// read it for as long as the registrar runs.
    pub fn committed(&self) -> Option<mpsc::UnboundedReceiver<Committed>> {
        self.committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Queues a changed binding set for the committer; its REGISTER
    /// (`key`, `request`) comes back through [`committed`](Self::committed)
    /// once the set is durable. Nothing waits here: the REGISTERs of one
    /// commit come back together.
    pub fn commit_then(&self, pending: PendingCommit, key: TransactionKey, request: SipMessage) {
        let PendingCommit {
            reply,
            aor,
            bindings,
        } = pending;
        let ticket = Ticket {
            key,
            request,
            reply,
            aor: aor.clone(),
        };
        // A stopped committer drops the job; the transaction then times
        // out unanswered rather than reporting a binding as saved.
        let _ = self.commits.send(Job {
            batch: vec![(aor, bindings)],
            ticket: Some(ticket),
        });
    }

    /// Reads the user a REGISTER's credentials name (for
    /// [`RegisterStep::NeedUser`]); a store failure is the 500 to answer.
    pub async fn find_user(&self, claimed: &Claimed) -> Result<Option<User>, Reply> {
        self.store
            .get_user(&claimed.username, &claimed.domain)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "user lookup failed");
                Reply::new(500, "Server Internal Error: store unavailable")
            })
    }

    /// RFC 3261 §10.3 for a REGISTER whose Request-URI names `domain` (a
    /// served domain, checked by the caller), without waiting: with
    /// authentication on, the first call asks for the user's record
    /// ([`RegisterStep::NeedUser`]) and the second passes it as
    /// `user: Some(found)`. An accepted change is applied to the location
    /// service at once and answered after its commit
    /// ([`RegisterStep::Commit`]).
    pub fn register(
        &self,
        msg: &SipMessage,
        peer: Peer,
        domain: &str,
        user: Option<Option<&User>>,
    ) -> RegisterStep {
        // §10.3 step 5: the AOR is the To URI; it must be in this domain.
        let to = match msg.to() {
            Ok(t) => t,
            Err(e) => return RegisterStep::Answer(Reply::new(400, e.reason().to_owned()), None),
        };
        let refuse = |status, reason: &str| RegisterStep::Answer(Reply::new(status, reason), None);
        let Some((user_part, to_domain)) = canonical_aor(&to.addr.uri) else {
            return refuse(404, "Not Found: To is not an address-of-record");
        };
        if !to_domain.eq_ignore_ascii_case(domain) {
            return refuse(404, "Not Found: AOR not in the Request-URI's domain");
        }
        let mut extra = Vec::new();
        if self.auth.config().enabled {
            let now_s = now_ms() as u64 / 1000;
            let Some(claimed) = Authenticator::credentials(msg, domain, false) else {
                return RegisterStep::Answer(
                    self.auth.challenge(domain, false, false, now_s),
                    None,
                );
            };
            let Some(found) = user else {
                return RegisterStep::NeedUser(claimed);
            };
            match self.auth.check(msg, domain, false, found, now_s) {
                AuthOutcome::Challenge(c) => return RegisterStep::Answer(c, None),
                AuthOutcome::Authenticated { username, info } => {
                    // §10.3 step 3 / issue: only the owner registers an AOR.
                    if username != user_part || !claimed.domain.eq_ignore_ascii_case(&to_domain) {
                        return refuse(403, "Forbidden: not the owner of this address-of-record");
                    }
                    if let Some(i) = info {
                        extra.push((HeaderName::AuthenticationInfo, i));
                    }
                }
            }
        }
        let aor = aor_string(&user_part, &to_domain);
        let now = now_ms();
        let mut loc = self.location();
        let old = loc.get(&aor);
        let reg = match apply_register(
            msg,
            &aor,
            old.iter().map(|b| &b.binding),
            now,
            &self.cfg,
            &peer,
        ) {
            Ok(r) => r,
            Err(e) => return RegisterStep::Answer(e, None),
        };
        let mut reply = Reply::new(200, "OK");
        reply.headers = ok_headers(&reg, now);
        reply.headers.extend(extra);
        if !reg.changed {
            return RegisterStep::Answer(reply, Some(aor));
        }
        let call_id = msg.call_id().unwrap_or_default();
        let cseq = msg.cseq().map(|c| c.seq).unwrap_or(0);
        let live = reg
            .bindings
            .iter()
            .map(|b| {
                let fresh = b.call_id == call_id && b.cseq == cseq && b.updated_ms == now;
                let peer = if fresh {
                    Some(peer)
                } else {
                    old.iter()
                        .find(|o| o.binding.contact == b.contact)
                        .and_then(|o| o.peer)
                };
                LiveBinding {
                    binding: b.clone(),
                    peer,
                }
            })
            .collect();
        loc.set(&aor, live);
        RegisterStep::Commit(PendingCommit {
            reply,
            aor: reg.aor,
            bindings: reg.bindings,
        })
    }

    /// A flow closed: drop the bindings only it reached (RFC 5626 §5.2)
    /// and queue their removal.
    pub fn flow_closed(&self, flow: sip_proto::FlowId) {
        let changed = self.location().flow_closed(flow);
        if !changed.is_empty() {
            tracing::debug!(aors = changed.len(), "bindings dropped with their flow");
        }
        self.persist_later(changed);
    }

    /// Does the user exist (for 404 versus 480)? With authentication off
    /// every user of a served domain does.
    pub async fn user_exists(&self, user: &str, domain: &str) -> bool {
        if !self.auth.config().enabled {
            return true;
        }
        matches!(self.store.get_user(user, domain).await, Ok(Some(_)))
    }
}

/// The AOR a Request-URI names, if it has a user part.
pub fn request_aor(uri: &Uri<'_>) -> Option<(String, String)> {
    canonical_aor(uri)
}

async fn commit_loop<S: Registrations>(
    store: S,
    mut rx: mpsc::UnboundedReceiver<Job>,
    done: mpsc::UnboundedSender<Committed>,
) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut aors = jobs[0].batch.len();
        while aors < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => {
                    aors += j.batch.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let mut batch = Vec::with_capacity(aors);
        let mut tickets = Vec::new();
        for j in jobs {
            batch.extend(j.batch);
            tickets.extend(j.ticket);
        }
        let n = batch.len();
        let result = store
            .replace_bindings(batch)
            .await
            .map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, aors = n, "binding commit failed");
        }
        if !tickets.is_empty() {
            let _ = done.send(Committed { tickets, result });
        }
    }
}
