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

use futures_util::FutureExt;
use simple_store::{Binding, Registrations, User, Users};
use sip_msg::{HeaderName, SipMessage, Uri};
use sip_proto::{Peer, TransactionKey};
use std::panic::AssertUnwindSafe;
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
pub struct CommittedRegisters {
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
    committed: Mutex<Option<mpsc::UnboundedReceiver<CommittedRegisters>>>,
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
    /// one [`CommittedRegisters`] per commit. The first call takes the receiver;
    /// later calls get `None`. Whoever answers REGISTERs must take it and
    /// read it for as long as the registrar runs.
    pub fn committed(&self) -> Option<mpsc::UnboundedReceiver<CommittedRegisters>> {
        self.committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Queues a changed binding set for the committer; its REGISTER
    /// (`key`, `request`) comes back through [`committed`](Self::committed)
    /// once the set is durable. Nothing waits here: the REGISTERs of one
    /// commit come back together. `Err` gives the ticket back when the
    /// committer has stopped: the caller answers it (500).
    pub fn commit_then(
        &self,
        pending: PendingCommit,
        key: TransactionKey,
        request: SipMessage,
    ) -> Result<(), Box<Ticket>> {
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
        self.commits
            .send(Job {
                batch: vec![(aor, bindings)],
                ticket: Some(ticket),
            })
            .or_else(|mpsc::error::SendError(job)| job.ticket.map_or(Ok(()), |t| Err(Box::new(t))))
    }

    /// Reads the user a request's credentials name (a REGISTER's
    /// [`RegisterStep::NeedUser`], the proxy's authentication of local
    /// senders); a store failure is the 500 to answer.
    pub async fn find_user(&self, claimed: &Claimed) -> Result<Option<User>, Reply> {
        self.store
            .get_user(&claimed.username, &claimed.domain)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "user lookup failed");
                Reply::new(500, "Server Internal Error: store unavailable")
            })
    }

    /// The answer to a REGISTER for `domain` that carries no credentials
    /// for it while authentication is on: the challenge (RFC 3261 §22.1),
    /// or the refusal of its To (§10.3 step 5). It depends on the request
    /// and the clock only, so it can be sent statelessly (§8.2.7), as
    /// Kamailio's `www_challenge` does: no transaction is kept for a
    /// REGISTER that is only asked to authenticate. `None`: the REGISTER
    /// needs [`register`](Self::register) (an Authorization header, for
    /// this realm or not, or authentication off; `register` gives the same
    /// answer to what is left). [`may_be_anonymous`](Self::may_be_anonymous)
    /// is the cheap first half of the test, before the caller works out
    /// `domain`.
    pub fn anonymous_answer(&self, msg: &SipMessage, domain: &str) -> Option<Reply> {
        if !self.may_be_anonymous(msg) {
            return None;
        }
        Some(match to_aor(msg, domain) {
            Ok(_) => self
                .auth
                .challenge(domain, false, false, now_ms() as u64 / 1000),
            Err(reply) => reply,
        })
    }

    /// Could [`anonymous_answer`](Self::anonymous_answer) answer `msg`:
    /// authentication on and no Authorization header at all? One header
    /// lookup: the REGISTERs that carry credentials (and all of them with
    /// authentication off) pay nothing more on their way to `register`.
    pub fn may_be_anonymous(&self, msg: &SipMessage) -> bool {
        self.auth.config().enabled && msg.header(HeaderName::Authorization).is_none()
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
        let (user_part, to_domain) = match to_aor(msg, domain) {
            Ok(aor) => aor,
            Err(reply) => return RegisterStep::Answer(reply, None),
        };
        let refuse = |status, reason: &str| RegisterStep::Answer(Reply::new(status, reason), None);
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
                Err(e) => return RegisterStep::Answer(e, None),
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
        // The answer is written outside the location lock.
        let mut reply = Reply::new(200, "OK");
        reply.headers = ok_headers(&reg, now);
        reply.headers.extend(extra);
        if !reg.changed {
            return RegisterStep::Answer(reply, Some(aor));
        }
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

/// §10.3 step 5: the AOR is the To URI (user, lowercased domain), and it
/// must be in the Request-URI's `domain`; the refusal otherwise.
fn to_aor(msg: &SipMessage, domain: &str) -> Result<(String, String), Reply> {
    let to = msg
        .to()
        .map_err(|e| Reply::new(400, e.reason().to_owned()))?;
    let Some((user, to_domain)) = canonical_aor(&to.addr.uri) else {
        return Err(Reply::new(404, "Not Found: To is not an address-of-record"));
    };
    if !to_domain.eq_ignore_ascii_case(domain) {
        return Err(Reply::new(
            404,
            "Not Found: AOR not in the Request-URI's domain",
        ));
    }
    Ok((user, to_domain))
}

/// The AOR a Request-URI names, if it has a user part.
pub fn request_aor(uri: &Uri<'_>) -> Option<(String, String)> {
    canonical_aor(uri)
}

async fn commit_loop<S: Registrations>(
    store: S,
    mut rx: mpsc::UnboundedReceiver<Job>,
    done: mpsc::UnboundedSender<CommittedRegisters>,
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
        // A panicking store must not end the loop: its REGISTERs would wait
        // for ever (a server transaction in Trying has no timer).
        let result = match AssertUnwindSafe(store.replace_bindings(batch))
            .catch_unwind()
            .await
        {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("the store panicked".to_owned()),
        };
        if let Err(e) = &result {
            let first_aor = tickets.first().map_or("", |t| t.aor.as_str());
            tracing::error!(error = %e, aors = n, first_aor, "binding commit failed");
        }
        if !tickets.is_empty() {
            let _ = done.send(CommittedRegisters { tickets, result });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

    use std::sync::atomic::{AtomicU8, Ordering};

    use bytes::Bytes;
    use simple_store::{MemoryStore, StoreError};
    use sip_proto::{FlowId, Transport};

    use super::*;
    use crate::auth::AuthConfig;

    /// How the next commits end.
    const OK: u8 = 0;
    const FAIL: u8 = 1;
    const PANIC: u8 = 2;

    /// The memory store with commits that can be made to fail or panic (a
    /// full disk, a bug in a backend): what the registrar does with its
    /// REGISTERs then is what these tests look at.
    #[derive(Clone, Default)]
    struct Flaky {
        inner: MemoryStore,
        mode: Arc<AtomicU8>,
    }

    impl Users for Flaky {
        async fn put_user(&self, user: &User) -> simple_store::Result<bool> {
            self.inner.put_user(user).await
        }
        async fn put_users(&self, users: &[User]) -> simple_store::Result<usize> {
            self.inner.put_users(users).await
        }
        async fn get_user(&self, u: &str, d: &str) -> simple_store::Result<Option<User>> {
            self.inner.get_user(u, d).await
        }
        async fn remove_user(&self, u: &str, d: &str) -> simple_store::Result<bool> {
            self.inner.remove_user(u, d).await
        }
        async fn list_users(&self, d: Option<&str>) -> simple_store::Result<Vec<User>> {
            self.inner.list_users(d).await
        }
    }

    impl Registrations for Flaky {
        async fn replace_bindings(
            &self,
            batch: Vec<(String, Vec<Binding>)>,
        ) -> simple_store::Result<()> {
            match self.mode.load(Ordering::SeqCst) {
                FAIL => Err(StoreError::Busy("disk full (test)".into())),
                PANIC => panic!("backend bug (test)"),
                _ => self.inner.replace_bindings(batch).await,
            }
        }
        async fn bindings(&self, aor: &str) -> simple_store::Result<Vec<Binding>> {
            self.inner.bindings(aor).await
        }
        async fn load_live_bindings(&self, now: i64) -> simple_store::Result<Vec<Binding>> {
            self.inner.load_live_bindings(now).await
        }
        async fn remove_expired(&self, now: i64) -> simple_store::Result<u64> {
            self.inner.remove_expired(now).await
        }
        async fn count_bindings(&self) -> simple_store::Result<u64> {
            self.inner.count_bindings().await
        }
    }

    fn register(user: &str, call_id: &str, cseq: u32, port: u16) -> SipMessage {
        let raw = format!(
            "REGISTER sip:example.test SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{call_id}-{cseq}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{user}@example.test>;tag=f{cseq}\r\n\
             To: <sip:{user}@example.test>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n\
             Contact: <sip:{user}@127.0.0.1:{port}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
        );
        SipMessage::parse(Bytes::from(raw)).unwrap()
    }

    fn peer(port: u16) -> Peer {
        Peer::new(
            Transport::Udp,
            format!("127.0.0.1:{port}").parse().unwrap(),
            FlowId(1),
        )
    }

    async fn start(store: Flaky) -> Arc<Registrar<Flaky>> {
        let auth = Authenticator::new(
            AuthConfig {
                enabled: false,
                ..AuthConfig::default()
            },
            [7; 32],
        );
        Registrar::start(store, RegistrarConfig::default(), auth)
            .await
            .unwrap()
    }

    /// Decides `msg` and hands a changed set to the committer with key `n`.
    fn decide(r: &Registrar<Flaky>, msg: SipMessage, port: u16, n: u64) {
        match r.register(&msg, peer(port), "example.test", None) {
            RegisterStep::Commit(p) => {
                r.commit_then(p, TransactionKey::detached(n), msg).unwrap();
            }
            other => panic!("expected a commit, got {other:?}"),
        }
    }

    /// The REGISTERs of the next commit results, until `n` came back.
    async fn collect(
        rx: &mut mpsc::UnboundedReceiver<CommittedRegisters>,
        n: usize,
    ) -> Vec<(TransactionKey, Result<(), String>, Reply)> {
        let mut out = Vec::new();
        while out.len() < n {
            let c = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("a commit result in time")
                .expect("the committer runs");
            for t in c.tickets {
                out.push((t.key, c.result.clone(), t.reply));
            }
        }
        out
    }

    #[tokio::test]
    async fn registers_come_back_in_order_with_their_200_once_committed() {
        let store = Flaky::default();
        let r = start(store.clone()).await;
        let mut rx = r.committed().expect("first taker");
        assert!(r.committed().is_none(), "the receiver is taken once");
        // Three refreshes of one AOR and one other AOR, queued back to back:
        // they come back in the order they were decided.
        decide(&r, register("ann", "c1", 1, 5071), 5071, 1);
        decide(&r, register("ann", "c1", 2, 5071), 5071, 2);
        decide(&r, register("bob", "c2", 1, 5072), 5072, 3);
        decide(&r, register("ann", "c1", 3, 5071), 5071, 4);
        let got = collect(&mut rx, 4).await;
        let keys: Vec<TransactionKey> = got.iter().map(|g| g.0).collect();
        let want: Vec<TransactionKey> = (1..=4).map(TransactionKey::detached).collect();
        assert_eq!(keys, want);
        for (_, result, reply) in &got {
            assert_eq!(result, &Ok(()));
            assert_eq!(reply.status, 200);
            assert!(
                reply
                    .headers
                    .iter()
                    .any(|(h, v)| *h == HeaderName::Contact && v.contains("127.0.0.1:507")),
                "{reply:?}"
            );
        }
        // What was answered 200 is in the store.
        assert_eq!(
            store
                .inner
                .bindings("sip:ann@example.test")
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.inner.bindings("sip:bob@example.test").await.unwrap()[0].cseq,
            1
        );
        assert_eq!(
            store.inner.bindings("sip:ann@example.test").await.unwrap()[0].cseq,
            3
        );
    }

    #[tokio::test]
    async fn a_failed_or_panicking_commit_reports_every_register_and_the_loop_goes_on() {
        let store = Flaky::default();
        let r = start(store.clone()).await;
        let mut rx = r.committed().unwrap();
        store.mode.store(FAIL, Ordering::SeqCst);
        decide(&r, register("cy", "c3", 1, 5073), 5073, 10);
        let got = collect(&mut rx, 1).await;
        assert_eq!(got[0].0, TransactionKey::detached(10));
        assert!(
            got[0].1.as_ref().unwrap_err().contains("disk full"),
            "{got:?}"
        );
        // A panic in the store is a failed commit too, not a stopped loop.
        store.mode.store(PANIC, Ordering::SeqCst);
        decide(&r, register("dee", "c4", 1, 5074), 5074, 11);
        let got = collect(&mut rx, 1).await;
        assert_eq!(got[0].1, Err("the store panicked".to_owned()));
        store.mode.store(OK, Ordering::SeqCst);
        decide(&r, register("eve", "c5", 1, 5075), 5075, 12);
        let got = collect(&mut rx, 1).await;
        assert_eq!(got[0].1, Ok(()));
        assert_eq!(
            store
                .inner
                .bindings("sip:eve@example.test")
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .inner
                .bindings("sip:cy@example.test")
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn only_a_register_without_credentials_is_answered_without_state() {
        let auth = Authenticator::new(AuthConfig::default(), [9; 32]);
        assert!(auth.config().enabled, "authentication is on by default");
        let r = Registrar::start(Flaky::default(), RegistrarConfig::default(), auth)
            .await
            .unwrap();
        // No credentials: the challenge, the same the stateful path gives.
        let plain = register("gil", "g1", 1, 5077);
        let a = r
            .anonymous_answer(&plain, "example.test")
            .expect("challenged");
        assert_eq!(a.status, 401);
        assert!(
            a.headers
                .iter()
                .any(|(h, v)| *h == HeaderName::WwwAuthenticate && v.starts_with("Digest "))
        );
        match r.register(&plain, peer(5077), "example.test", None) {
            RegisterStep::Answer(b, None) => assert_eq!(b.status, 401),
            other => panic!("expected the challenge, got {other:?}"),
        }
        // Its To in another domain: the same 404 either way.
        let a = r.anonymous_answer(&plain, "other.test").expect("refused");
        assert_eq!(a.status, 404);
        // With credentials for the realm: the stateful path decides.
        let raw = String::from_utf8(plain.to_bytes().to_vec())
            .unwrap()
            .replace(
                "Expires: 600\r\n",
                "Expires: 600\r\nAuthorization: Digest username=\"gil\", realm=\"example.test\", \
             nonce=\"n\", uri=\"sip:example.test\", response=\"0123456789abcdef0123456789abcdef\"\r\n",
            );
        let with = SipMessage::parse(Bytes::from(raw)).unwrap();
        assert!(r.anonymous_answer(&with, "example.test").is_none());
        assert!(matches!(
            r.register(&with, peer(5077), "example.test", None),
            RegisterStep::NeedUser(_)
        ));
        // Authentication off: nothing is answered without state.
        let open = start(Flaky::default()).await;
        assert!(open.anonymous_answer(&plain, "example.test").is_none());
    }

    #[tokio::test]
    async fn a_fetch_is_answered_at_once_and_commits_nothing() {
        let r = start(Flaky::default()).await;
        let raw = "REGISTER sip:example.test SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5076;branch=z9hG4bK-f1\r\nMax-Forwards: 70\r\n\
             From: <sip:fay@example.test>;tag=f\r\nTo: <sip:fay@example.test>\r\n\
             Call-ID: f1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
        let msg = SipMessage::parse(Bytes::from_static(raw.as_bytes())).unwrap();
        match r.register(&msg, peer(5076), "example.test", None) {
            RegisterStep::Answer(reply, Some(aor)) => {
                assert_eq!(reply.status, 200);
                assert_eq!(aor, "sip:fay@example.test");
            }
            other => panic!("expected an immediate answer, got {other:?}"),
        }
        // Another domain's AOR: refused, nothing to commit.
        match r.register(&msg, peer(5076), "other.test", None) {
            RegisterStep::Answer(reply, None) => assert_eq!(reply.status, 404),
            other => panic!("expected 404, got {other:?}"),
        }
    }
}
