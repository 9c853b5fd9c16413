//! The router's side of the presence agent (`simple_presence`): which
//! requests go to it, carrying out its [`Effects`] (responses, NOTIFYs in
//! client transactions, store writes through the writer task), and its
//! clock and registration feeds.

use std::collections::HashMap;
use std::net::SocketAddr;

use simple_presence::{Effects, OutNotify, StoreOps, SubscribeAuth};
use simple_registrar::now_ms;
use simple_registrar::proxy::{ANY_FLOW, behind_nat, uri_addr};
use simple_store::{Publications, Subscriptions};
use sip_msg::{HeaderName, SipMessage, Uri};
use sip_net::{Ctx, ServerHandle};
use sip_proto::{Peer, TransactionKey, Transport};
use tokio::sync::mpsc;

use super::{Router, hostport, now, plain, route_target};

/// Store writes on their way to the writer task, with the responses that
/// wait for them to be durable.
pub(crate) struct StoreJob {
    ops: StoreOps,
    responses: Vec<(TransactionKey, SipMessage)>,
}

/// The once-a-second wake-up of the presence agent.
pub(crate) struct PresenceTick;

/// The per-user XML documents that feed presence: rules (RFC 5025) and
/// hard state (RFC 4827 pidf-manipulation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocKind {
    Rules,
    HardState,
}

impl DocKind {
    pub(crate) const ALL: [DocKind; 2] = [DocKind::Rules, DocKind::HardState];

    pub(crate) fn auid(self) -> &'static str {
        match self {
            DocKind::Rules => crate::rules::AUID,
            DocKind::HardState => "pidf-manipulation",
        }
    }
}

/// What the router knows of one kind of stored document.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// The store's revision counter for the auid when last loaded.
    revision: Option<u64>,
    /// Owner → etag of the document applied.
    etags: HashMap<String, String>,
    /// A reload is under way.
    loading: bool,
}

/// Both kinds.
#[derive(Debug, Default)]
pub(crate) struct DocsSeen {
    rules: Seen,
    hard: Seen,
}

impl DocsSeen {
    fn of(&mut self, kind: DocKind) -> &mut Seen {
        match kind {
            DocKind::Rules => &mut self.rules,
            DocKind::HardState => &mut self.hard,
        }
    }

    /// Applies every stored document to a fresh agent (before its
    /// subscriptions are restored, so they are judged by them) and
    /// remembers what was applied.
    pub(crate) fn preload(
        loaded: Vec<DocsLoaded>,
        agent: &mut simple_presence::PresenceAgent,
    ) -> DocsSeen {
        let mut seen = DocsSeen::default();
        for l in loaded {
            let s = seen.of(l.kind);
            s.revision = Some(l.revision);
            for doc in l.docs {
                if apply_document(agent, l.kind, &doc, now()).is_some() {
                    s.etags.insert(doc.owner, doc.etag);
                }
            }
        }
        seen
    }
}

/// Parses one stored document and hands it to the agent; `None` (logged)
/// when it does not parse — XCAP and `herald rules set` refuse such
/// documents, so only a hand-edited database gets here.
fn apply_document(
    agent: &mut simple_presence::PresenceAgent,
    kind: DocKind,
    doc: &simple_store::Document,
    t: u64,
) -> Option<Effects> {
    let parsed = match kind {
        DocKind::Rules => simple_policy::parse(&doc.content)
            .map(|r| agent.set_rules(&doc.owner, Some(r), t))
            .map_err(|e| e.to_string()),
        DocKind::HardState => simple_pidf::parse(&doc.content)
            .map(|d| agent.set_hard_state(&doc.owner, Some(d), t))
            .map_err(|e| e.to_string()),
    };
    match parsed {
        Ok(fx) => {
            tracing::info!(owner = %doc.owner, auid = kind.auid(), "document applied");
            Some(fx)
        }
        Err(e) => {
            tracing::warn!(owner = %doc.owner, auid = kind.auid(), error = %e, "stored document does not parse; previous state kept");
            None
        }
    }
}

/// Every document of one kind, read after its revision moved.
pub(crate) struct DocsLoaded {
    kind: DocKind,
    revision: u64,
    docs: Vec<simple_store::Document>,
}

/// Reads the documents of `kind` when their revision differs from `seen`
/// (None: always).
pub(crate) async fn load_docs<S: simple_store::Documents>(
    store: &S,
    kind: DocKind,
    seen: Option<u64>,
) -> Option<DocsLoaded> {
    let revision = match store.documents_revision(kind.auid()).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, auid = kind.auid(), "document revision not read");
            return None;
        }
    };
    if seen == Some(revision) {
        return None;
    }
    match store.documents_of_auid(kind.auid()).await {
        // One rules document and one hard-state document per user: the one
        // named `index` (RFC 5025 §9.6 / RFC 4827 §9 name it so); others a
        // client may store are not presence state.
        Ok(docs) => Some(DocsLoaded {
            kind,
            revision,
            docs: docs
                .into_iter()
                .filter(|d| d.name == crate::rules::DOCUMENT)
                .collect(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, auid = kind.auid(), "documents not read");
            None
        }
    }
}

/// The revision of `.0` has not moved (or could not be read).
pub(crate) struct DocsUnchanged(pub(crate) DocKind);

/// Poll now rather than at the next tick (an XCAP write just happened).
pub(crate) struct DocsPoll;

/// Our Contact URI on each listener (the 2xx to SUBSCRIBE and NOTIFYs name
/// it, so in-dialog requests come back to the listener they belong to).
pub(crate) fn contacts(addrs: &[(Transport, SocketAddr)]) -> Vec<(Transport, String)> {
    addrs
        .iter()
        .map(|&(t, a)| {
            let uri = match t {
                Transport::Udp => format!("sip:{}", hostport(a)),
                Transport::Tls => format!("sips:{}", hostport(a)),
                other => format!(
                    "sip:{};transport={}",
                    hostport(a),
                    other.via_token().to_ascii_lowercase()
                ),
            };
            (t, uri)
        })
        .collect()
}

/// Writes the agent's store operations in batches (group commit: whatever
/// queued while the previous batch was written goes in one transaction),
/// then sends the responses that waited for them.
pub(crate) async fn store_writer<S: Publications + Subscriptions>(
    store: S,
    mut rx: mpsc::UnboundedReceiver<StoreJob>,
    handle: ServerHandle,
) {
    let mut carry = StoreOps::default();
    while let Some(first) = rx.recv().await {
        let mut ops = std::mem::take(&mut carry);
        let mut first_ops = first.ops;
        ops.append(&mut first_ops);
        let mut responses = first.responses;
        while responses.len() < 2000 {
            match rx.try_recv() {
                Ok(mut j) => {
                    ops.append(&mut j.ops);
                    responses.append(&mut j.responses);
                }
                Err(_) => break,
            }
        }
        let mut ops = coalesce(ops);
        let mut ok = true;
        // Whose publications this batch writes: on failure they are read
        // back (the agent already holds, and may have told, the new state).
        let mut touched: Vec<String> = ops
            .pub_puts
            .iter()
            .map(|p| p.aor.clone())
            .chain(ops.pub_removes.iter().map(|k| k.aor.clone()))
            .collect();
        if (!ops.pub_puts.is_empty() || !ops.pub_removes.is_empty())
            && let Err(e) = store
                .write_publications(
                    std::mem::take(&mut ops.pub_puts),
                    std::mem::take(&mut ops.pub_removes),
                )
                .await
        {
            tracing::error!(error = %e, "publications not written; presentities rolled back to the store");
            ok = false;
            touched.sort_unstable();
            touched.dedup();
            let mut stored = Vec::with_capacity(touched.len());
            for aor in touched {
                match store.publications(&aor, "presence").await {
                    Ok(p) => stored.push((aor, p)),
                    Err(e) => {
                        tracing::error!(error = %e, %aor, "publications not read back; memory stays ahead of the store");
                    }
                }
            }
            if !stored.is_empty() {
                // Before the answers below (one wake-up channel, in order):
                // the 500s go out with the state already rolled back.
                let _ = handle.wake(Reloaded(stored)).await;
            }
        }
        if (!ops.sub_puts.is_empty() || !ops.sub_removes.is_empty())
            && let Err(e) = store
                .write_subscriptions(&ops.sub_puts, &ops.sub_removes)
                .await
        {
            // Kept for the next batch: the NOTIFY CSeq marks in them must
            // reach the disk before a restart could reuse a CSeq.
            tracing::error!(error = %e, "subscriptions not written; retried with the next batch");
            carry.sub_puts = ops.sub_puts;
            carry.sub_removes = ops.sub_removes;
        }
        if responses.is_empty() {
            continue;
        }
        if !ok {
            // The 200 would promise an entity tag a restart forgets.
            responses = responses
                .into_iter()
                .filter_map(|(k, m)| error_like(&m).map(|e| (k, e)))
                .collect();
        }
        // One wake-up of the driver for the whole batch. When the driver
        // is gone (shutdown) the writes above still went to disk: keep
        // draining.
        let _ = handle.wake(Committed(responses)).await;
    }
}

/// Responses whose store writes are durable, for the router to send.
pub(crate) struct Committed(pub(crate) Vec<(TransactionKey, SipMessage)>);

/// A publication write failed: each presentity's publications as the store
/// still has them, for the agent to go back to.
pub(crate) struct Reloaded(pub(crate) Vec<(String, Vec<simple_store::Publication>)>);

/// One batch's writes reduced to their effect (group commit): entity tags
/// and subscription ids are never reused once removed, so a key removed
/// anywhere in the batch ends absent (its puts are skipped), and of several
/// puts of one key the last wins. A PUBLISH refreshed within the batch that
/// created it then costs one row written instead of two.
fn coalesce(ops: StoreOps) -> StoreOps {
    use std::collections::{HashMap, HashSet};
    // Keys borrowed, not copied: (aor, event, etag).
    let removed: HashSet<(&str, &str, &str)> = ops
        .pub_removes
        .iter()
        .map(|k| (k.aor.as_str(), k.event.as_str(), k.etag.as_str()))
        .collect();
    let mut last: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for (i, p) in ops.pub_puts.iter().enumerate() {
        let k = (p.aor.as_str(), p.event.as_str(), p.etag.as_str());
        if !removed.contains(&k) {
            last.insert(k, i);
        }
    }
    let keep: HashSet<usize> = last.into_values().collect();
    let sub_removed: HashSet<&String> = ops.sub_removes.iter().collect();
    let mut sub_last: HashMap<&str, usize> = HashMap::new();
    for (i, s) in ops.sub_puts.iter().enumerate() {
        if !sub_removed.contains(&s.id) {
            sub_last.insert(s.id.as_str(), i);
        }
    }
    let sub_keep: HashSet<usize> = sub_last.into_values().collect();
    let StoreOps {
        pub_puts,
        pub_removes,
        sub_puts,
        sub_removes,
    } = ops;
    StoreOps {
        pub_puts: pub_puts
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, p)| p)
            .collect(),
        pub_removes,
        sub_puts: sub_puts
            .into_iter()
            .enumerate()
            .filter(|(i, _)| sub_keep.contains(i))
            .map(|(_, s)| s)
            .collect(),
        sub_removes,
    }
}

/// A 500 in place of the response `ok`, for the same request (same Via,
/// From, To, Call-ID, CSeq).
fn error_like(ok: &SipMessage) -> Option<SipMessage> {
    let mut b = sip_msg::MessageBuilder::response(500, "Server Internal Error: store unavailable");
    for name in [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        for line in ok.header_lines(name) {
            b = b.header(name, line);
        }
    }
    b.build().ok()
}

impl<S> Router<S>
where
    S: super::Store,
{
    /// Carries out what the agent asked for.
    pub(super) fn apply(&mut self, ctx: &mut Ctx<'_>, fx: Effects) {
        let Effects {
            responses,
            notifies,
            store,
        } = fx;
        let mut held = Vec::new();
        for r in responses {
            if r.after_commit && !store.is_empty() {
                held.push((r.key, r.msg));
            } else {
                ctx.respond(r.key, r.msg);
            }
        }
        if (!store.is_empty() || !held.is_empty())
            && let Err(e) = self.store_tx.send(StoreJob {
                ops: store,
                responses: held,
            })
        {
            // The writer is gone (shutting down): answer anyway.
            for (k, m) in e.0.responses {
                ctx.respond(k, m);
            }
        }
        for n in notifies {
            self.send_notify(ctx, n);
        }
    }

    /// Sends one NOTIFY: over the watcher's flow while it is open, else to
    /// the route set's first hop or the remote target, else back to where
    /// the SUBSCRIBE came from.
    fn send_notify(&mut self, ctx: &mut Ctx<'_>, n: OutNotify) {
        let peer = if n.peer.transport.is_reliable() && ctx.flow_alive(n.peer.flow) {
            n.peer
        } else if let Some(first) = n.routes.first() {
            route_target(&format!("<{first}>"), &n.request_uri)
                .map(|t| t.peer)
                .unwrap_or(n.peer)
        } else {
            // The remote target (RFC 3261 §12.2.1.1), unless it names a
            // private address the SUBSCRIBE did not come from: a watcher
            // behind NAT is reached where it subscribed from (as the
            // registrar reaches its NATed contacts).
            match Uri::parse(&n.request_uri).ok().and_then(|u| uri_addr(&u)) {
                Some((t, remote))
                    if (!n.peer.transport.is_reliable() || t != Transport::Udp)
                        && !behind_nat(n.peer.remote, remote) =>
                {
                    Peer::new(t, remote, ANY_FLOW)
                }
                _ => n.peer,
            }
        };
        let Some(local) = Self::local_for(ctx, peer.transport, peer.remote) else {
            let fx = self.presence.notify_send_failed(now(), &n.sub);
            self.apply(ctx, fx);
            return;
        };
        let via = self.our_via(peer.transport, local, 0);
        let msg = match n.msg.header(HeaderName::Via, &via).build() {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "NOTIFY not built");
                let fx = self.presence.notify_send_failed(now(), &n.sub);
                self.apply(ctx, fx);
                return;
            }
        };
        // RFC 3261 §18.1.1 (see `send_sized`): a NOTIFY over 1300 bytes
        // bound for UDP (a composed document of several devices) goes over
        // TCP when the next hop is a proxy (a route set) or the watcher
        // subscribed from the address its Contact names (not behind NAT);
        // if that fails, over UDP (`presence_retry_over_udp`).
        let sent = self.send_sized(ctx, msg, peer, local, 0, super::LargeOverTcp::OrUdp, || {
            !n.routes.is_empty() || super::tcp_worth_trying(&n.request_uri, n.peer)
        });
        match sent {
            Ok(s) => {
                self.presence.notify_sent(&n.sub, s.key);
                if let Some(copy) = s.udp_retry {
                    self.notify_udp_retry.insert(s.key, copy);
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, remote = %peer.remote, "NOTIFY not sent");
                let fx = self.presence.notify_send_failed(now(), &n.sub);
                self.apply(ctx, fx);
            }
        }
    }

    /// A large NOTIFY's TCP attempt failed (§18.1.1): send its UDP copy as
    /// a new transaction that takes its place. False when there is none or
    /// it cannot be sent (the transport error then counts as usual).
    pub(super) fn presence_retry_over_udp(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
    ) -> bool {
        let Some(retry) = self.notify_udp_retry.remove(&key) else {
            return false;
        };
        // Not again if it may have arrived (the connection closed while it
        // waited), nor for a NOTIFY no longer tracked.
        if ctx.request_may_have_arrived(key) || !self.presence.is_notify(key) {
            return false;
        }
        let (copy, peer) = *retry;
        match ctx.send_request(copy, peer) {
            Ok(new_key) => {
                tracing::debug!(remote = %peer.remote, "large NOTIFY retried over UDP");
                self.presence.notify_resent(key, new_key)
            }
            Err(e) => {
                tracing::debug!(error = %e, "NOTIFY UDP retry not sent");
                false
            }
        }
    }

    /// Is the server the presence agent for this user?
    pub(super) fn presence_local(&self, msg: &SipMessage, aor: &(String, String)) -> bool {
        // Other event packages (dialog, message-summary, ...) belong to the
        // user's phones: proxied like any request.
        self.presence_settings.server_handles(&aor.0, &aor.1)
            && msg.method_str() == Some("SUBSCRIBE")
            && self.presence.serves_event(msg)
    }

    /// A PUBLISH for a local user, its sender authenticated when it is one
    /// of ours: only the presentity herself may publish (RFC 3903 §6 step 2).
    pub(super) fn presence_publish(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: &SipMessage,
        aor: &(String, String),
    ) {
        let from = msg
            .from()
            .ok()
            .and_then(|f| simple_registrar::register::canonical_aor(&f.addr.uri));
        let own = from
            .as_ref()
            .is_some_and(|(u, d)| *u == aor.0 && d.eq_ignore_ascii_case(&aor.1));
        if !own {
            self.respond(
                ctx,
                key,
                msg,
                &plain(403, "Forbidden: only the presentity may publish its state"),
            );
            return;
        }
        let aor_s = simple_registrar::register::aor_string(&aor.0, &aor.1);
        let fx = self
            .presence
            .handle_publish(now(), key, msg, &aor_s, &aor_s);
        self.apply(ctx, fx);
    }

    /// A SUBSCRIBE to a local user's presence (initial), or in one of our
    /// subscription dialogs (`aor` None).
    pub(super) fn presence_subscribe(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: &SipMessage,
        peer: Peer,
        aor: Option<&(String, String)>,
    ) {
        let t = now();
        let (aor_s, auth, registered) = match aor {
            Some((user, domain)) => {
                let aor_s = simple_registrar::register::aor_string(user, domain);
                // The presentity's rules (RFC 5025) decide, else the default
                // policy. A local watcher's From is authenticated (407);
                // another domain's is taken as sent.
                let auth = SubscribeAuth::Rules;
                let registered = self
                    .registrar
                    .location()
                    .live(&aor_s, now_ms())
                    .next()
                    .is_some();
                (aor_s, auth, registered)
            }
            None => (String::new(), SubscribeAuth::Allow, false),
        };
        let fx = self
            .presence
            .handle_subscribe(t, key, msg, peer, &aor_s, auth, registered);
        self.apply(ctx, fx);
    }

    /// Applies reloaded documents: those whose etag changed are parsed and
    /// applied; owners whose document is gone fall back (no rules: the
    /// default policy; no hard state: soft state only).
    pub(super) fn presence_docs_loaded(&mut self, ctx: &mut Ctx<'_>, l: DocsLoaded) {
        let kind = l.kind;
        {
            let seen = self.docs_seen.of(kind);
            seen.loading = false;
            seen.revision = Some(l.revision);
        }
        let t = now();
        let mut present = std::collections::HashSet::new();
        for doc in l.docs {
            present.insert(doc.owner.clone());
            if self.docs_seen.of(kind).etags.get(&doc.owner) == Some(&doc.etag) {
                continue;
            }
            if let Some(fx) = apply_document(&mut self.presence, kind, &doc, t) {
                self.docs_seen
                    .of(kind)
                    .etags
                    .insert(doc.owner.clone(), doc.etag.clone());
                self.apply(ctx, fx);
            }
        }
        let gone: Vec<String> = self
            .docs_seen
            .of(kind)
            .etags
            .keys()
            .filter(|o| !present.contains(*o))
            .cloned()
            .collect();
        for owner in gone {
            self.docs_seen.of(kind).etags.remove(&owner);
            let fx = match kind {
                DocKind::Rules => self.presence.set_rules(&owner, None, t),
                DocKind::HardState => self.presence.set_hard_state(&owner, None, t),
            };
            self.apply(ctx, fx);
        }
    }

    pub(super) fn presence_docs_unchanged(&mut self, kind: DocKind) {
        self.docs_seen.of(kind).loading = false;
    }

    /// Starts a poll of the stored documents (one row read per kind) unless
    /// one is under way: edits made behind our back (`herald rules set`)
    /// or just now over XCAP.
    pub(super) fn presence_docs_poll(&mut self) {
        for kind in DocKind::ALL {
            let seen = self.docs_seen.of(kind);
            if seen.loading {
                continue;
            }
            seen.loading = true;
            let revision = seen.revision;
            let store = self.registrar.store().clone();
            let handle = self.handle.clone();
            tokio::spawn(async move {
                match load_docs(&store, kind, revision).await {
                    Some(l) => {
                        let _ = handle.wake(l).await;
                    }
                    None => {
                        let _ = handle.wake(DocsUnchanged(kind)).await;
                    }
                }
            });
        }
    }

    /// Periodic expiry and the registration feed.
    pub(super) fn presence_tick(&mut self, ctx: &mut Ctx<'_>) {
        // Restored subscriptions the current rules changed (first tick).
        let fx = self.presence.take_restored();
        self.apply(ctx, fx);
        self.presence_docs_poll();
        let t = now();
        let fx = {
            let loc = self.registrar.location();
            let now_i = now_ms();
            self.presence
                .tick(t, |aor| loc.live(aor, now_i).next().is_some())
        };
        self.apply(ctx, fx);
    }

    pub(super) fn presence_registration(&mut self, ctx: &mut Ctx<'_>, aor: &str) {
        let registered = self
            .registrar
            .location()
            .live(aor, now_ms())
            .next()
            .is_some();
        let fx = self.presence.registration_changed(aor, registered, now());
        self.apply(ctx, fx);
    }

    /// A final outcome of one of our NOTIFYs; false when `key` is not one.
    pub(super) fn presence_notify_result(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        status: u16,
    ) -> bool {
        if !self.presence.is_notify(key) {
            return false;
        }
        if status >= 200 {
            let fx = self.presence.handle_notify_result(now(), key, status);
            self.apply(ctx, fx);
        }
        true
    }
}
