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

use simple_store::{Binding, Registrations, Users};
use sip_msg::{HeaderName, SipMessage, Uri};
use sip_proto::Peer;
use tokio::sync::{mpsc, oneshot};

use crate::auth::{AuthOutcome, Authenticator};
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
    done: Option<oneshot::Sender<Result<(), String>>>,
}

/// The registrar: store, location, authenticator, committer.
#[derive(Debug)]
pub struct Registrar<S> {
    store: S,
    location: Mutex<Location>,
    auth: Authenticator,
    cfg: RegistrarConfig,
    commits: mpsc::UnboundedSender<Job>,
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
        tokio::spawn(commit_loop(store.clone(), rx));
        let r = Arc::new(Registrar {
            store,
            location: Mutex::new(Location::load(live)),
            auth,
            cfg,
            commits: tx,
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
        let _ = self.commits.send(Job { batch, done: None });
    }

    /// Commits binding sets and waits for the commit.
    async fn persist(&self, batch: Vec<(String, Vec<Binding>)>) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.commits
            .send(Job {
                batch,
                done: Some(tx),
            })
            .map_err(|_| "committer stopped".to_owned())?;
        rx.await.map_err(|_| "committer stopped".to_owned())?
    }

    /// RFC 3261 §10.3 for a REGISTER whose Request-URI names `domain` (a
    /// served domain, checked by the caller). Returns the status, reason and
    /// headers to answer with, and with a 200 the AOR registered.
    pub async fn register(
        &self,
        msg: &SipMessage,
        peer: Peer,
        domain: &str,
    ) -> (Reply, Option<String>) {
        let mut aor = None;
        let r = self.register_inner(msg, peer, domain, &mut aor).await;
        (r, aor)
    }

    async fn register_inner(
        &self,
        msg: &SipMessage,
        peer: Peer,
        domain: &str,
        registered: &mut Option<String>,
    ) -> Reply {
        // §10.3 step 5: the AOR is the To URI; it must be in this domain.
        let to = match msg.to() {
            Ok(t) => t,
            Err(e) => return Reply::new(400, e.reason().to_owned()),
        };
        let Some((user, to_domain)) = canonical_aor(&to.addr.uri) else {
            return Reply::new(404, "Not Found: To is not an address-of-record");
        };
        if !to_domain.eq_ignore_ascii_case(domain) {
            return Reply::new(404, "Not Found: AOR not in the Request-URI's domain");
        }
        let mut extra = Vec::new();
        if self.auth.config().enabled {
            let Some(claimed) = Authenticator::credentials(msg, domain, false) else {
                return self
                    .auth
                    .challenge(domain, false, false, now_ms() as u64 / 1000);
            };
            let found = match self
                .store
                .get_user(&claimed.username, &claimed.domain)
                .await
            {
                Ok(u) => u,
                Err(e) => {
                    tracing::error!(error = %e, "user lookup failed");
                    return Reply::new(500, "Server Internal Error: store unavailable");
                }
            };
            match self
                .auth
                .check(msg, domain, false, found.as_ref(), now_ms() as u64 / 1000)
            {
                AuthOutcome::Challenge(c) => return c,
                AuthOutcome::Authenticated { username, info } => {
                    // §10.3 step 3 / issue: only the owner registers an AOR.
                    if username != user || !claimed.domain.eq_ignore_ascii_case(&to_domain) {
                        return Reply::new(
                            403,
                            "Forbidden: not the owner of this address-of-record",
                        );
                    }
                    if let Some(i) = info {
                        extra.push((HeaderName::AuthenticationInfo, i));
                    }
                }
            }
        }
        let aor = aor_string(&user, &to_domain);
        let now = now_ms();
        let reg = {
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
                Err(e) => return e,
            };
            if reg.changed {
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
            }
            reg
        };
        // The answer is written before the commit so that the bindings can
        // move into it.
        let mut r = Reply::new(200, "OK");
        r.headers = ok_headers(&reg, now);
        r.headers.extend(extra);
        if reg.changed
            && let Err(e) = self.persist(vec![(reg.aor, reg.bindings)]).await
        {
            tracing::error!(error = %e, %aor, "binding commit failed");
            return Reply::new(500, "Server Internal Error: bindings not saved");
        }
        *registered = Some(aor);
        r
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

async fn commit_loop<S: Registrations>(store: S, mut rx: mpsc::UnboundedReceiver<Job>) {
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
        let batch: Vec<(String, Vec<Binding>)> =
            jobs.iter_mut().flat_map(|j| j.batch.drain(..)).collect();
        let n = batch.len();
        let result = store
            .replace_bindings(batch)
            .await
            .map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, aors = n, "binding commit failed");
        }
        for j in jobs {
            if let Some(done) = j.done {
                let _ = done.send(result.clone());
            }
        }
    }
}
