//! The transaction user of `herald serve`: the core checks, then the
//! registrar or the proxy (RFC 3261 §16) for each request.
//!
//! Flow of a request (DESIGN.md rule 9, each step one concern):
//! 1. `answer_statelessly` (on UDP the same decision in the receive loop,
//!    `stateless_hook`): header validation, the core refusals (483, 482,
//!    416, 420), OPTIONS addressed to the server, and a REGISTER without
//!    credentials (its challenge or To refusal) — decided from the request
//!    alone, no transaction state.
//! 2. CANCEL: §9.2 / §16.10 — 200 to the CANCEL, CANCEL on every pending
//!    branch.
//! 3. Route preprocessing (§16.4): Route values naming us are removed.
//! 4. REGISTER for a served domain (with credentials, or any with
//!    authentication off): the registrar, decided here (with digest on,
//!    after the user record is read in a task: `RegisterUser`);
//!    a changed binding set is answered when its commit lands
//!    (`CommittedRegisters`, one wake per commit).
//! 5. Authentication of local users (407) for the configured methods
//!    outside dialogs (async user lookup; resumes in `on_wake`).
//! 6. Routing: a remaining Route or an in-dialog Request-URI is forwarded
//!    to that hop; a local AOR is forked to every binding (parallel
//!    forking, §16.7 best response, CANCEL of the others after a 2xx to
//!    INVITE); 404 / 480 otherwise.

use std::any::Any;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use simple_registrar::proxy::{
    ANY_FLOW, BranchFinal, ResponseContext, Target, binding_target, branch, branch_loop_hash,
    branch_prefix, forward_copy, loop_hash, uri_addr,
};
use simple_registrar::{
    AuthOutcome, Authenticator, CommittedRegisters, RegisterStep, Registrar, Reply, now_ms,
};
use simple_store::{Registrations, Users};
use sip_msg::misc::hostport;
use sip_msg::{HeaderName, Host, Method, SipMessage, Uri};
use sip_net::{Ctx, ServerHandle, TransactionUser};
use sip_proto::{Peer, TransactionKey, Transport, cancel_request};

use crate::config::{ImSettings, PresenceSettings};
use crate::core::{self, CoreConfig};

mod focus;
mod im;
mod msrp_dialogs;
mod presence;

pub(crate) use focus::{FocusEvent, FocusRelay};
pub(crate) use msrp_dialogs::MsrpLink;

pub(crate) use im::ImWake;

pub(crate) use presence::{
    DocKind, DocsPoll, DocsSeen, PresenceTick, StoreJob, contacts, load_docs, store_writer,
};

/// Everything the router keeps state in.
pub(crate) trait Store:
    Users
    + Registrations
    + simple_store::Publications
    + simple_store::Subscriptions
    + simple_store::Documents
    + simple_store::Messages
    + simple_store::Rooms
    + Clone
{
}

impl<S> Store for S where
    S: Users
        + Registrations
        + simple_store::Publications
        + simple_store::Subscriptions
        + simple_store::Documents
        + simple_store::Messages
        + simple_store::Rooms
        + Clone
{
}

/// A REGISTER whose user record was read (`Router::register`).
struct RegisterUser {
    key: TransactionKey,
    msg: SipMessage,
    peer: Peer,
    domain: String,
    found: Result<Option<simple_store::User>, Reply>,
}

/// A request on its way through the chain after an async step.
struct Resume {
    key: TransactionKey,
    msg: SipMessage,
    peer: Peer,
    aor: (String, String),
    /// What the async step decided.
    step: Step,
}

enum Step {
    /// Authentication done: `Ok` to go on, or the answer.
    Authorized(Result<(), Reply>),
    /// No bindings: does the user exist (404 or 480)?
    Exists(bool),
    /// A new subscription to a local presentity: does she exist (404)?
    Presentity(bool),
}

/// One forwarded branch.
struct Branch {
    key: TransactionKey,
    peer: Peer,
    done: bool,
    provisional: bool,
    /// CANCEL waits for a provisional response (§9.1).
    cancel_pending: bool,
    /// Moved from UDP to TCP for its size (§18.1.1): a transport failure
    /// means the contact takes only UDP. A MESSAGE is then answered 513
    /// (RFC 3428 §4); other requests are sent again over UDP.
    large: bool,
    /// The copy for that UDP retry (its own branch) and the contact's UDP
    /// peer, kept while the TCP attempt is under way.
    udp_retry: Option<Box<(SipMessage, Peer)>>,
    /// INVITE: when Timer C fires (RFC 3261 §16.6 step 11, reset by each
    /// provisional above 100, §16.7 step 2).
    timer_c: Option<Instant>,
    /// When we sent this branch's CANCEL: with no final response 64·T1
    /// later, the branch is given up (§9.1).
    cancelled_at: Option<Instant>,
}

impl Branch {
    /// Sends the CANCEL for this branch (§9.1, §16.10) and notes when.
    fn cancel(&mut self, ctx: &mut Ctx<'_>) {
        self.cancel_pending = false;
        self.cancelled_at = Some(ctx.now());
        send_cancel(ctx, self.key, self.peer);
    }
}

/// What a request too large for UDP falls back to when its TCP attempt
/// fails (RFC 3261 §18.1.1, [`Router::send_sized`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LargeOverTcp {
    /// A MESSAGE: answered 513 (RFC 3428 §4).
    Or513,
    /// Anything else: sent again over UDP.
    OrUdp,
}

/// A request on its way ([`Router::send_sized`]).
struct Sent {
    key: TransactionKey,
    /// Where it went (TCP when moved for its size).
    peer: Peer,
    /// Moved from UDP to TCP for its size.
    large: bool,
    /// The UDP copy for a failed TCP attempt.
    udp_retry: Option<Box<(SipMessage, Peer)>>,
}

/// A proxied server transaction (§16: the response context).
struct Proxied {
    request: SipMessage,
    invite: bool,
    branches: Vec<Branch>,
    finals: ResponseContext,
    final_sent: bool,
    /// A MESSAGE for this local AOR: stored when every branch finds the
    /// recipient unavailable (RFC 3428 store-and-forward).
    store_for: Option<String>,
}

/// The TU.
pub(crate) struct Router<S> {
    core: Arc<CoreConfig>,
    registrar: Arc<Registrar<S>>,
    handle: ServerHandle,
    hash_key: RandomState,
    next_branch: u64,
    proxied: HashMap<TransactionKey, Proxied, foldhash::fast::RandomState>,
    /// Client transaction → its server transaction.
    branch_of: HashMap<TransactionKey, TransactionKey, foldhash::fast::RandomState>,
    /// The presence agent (RFC 3856, RFC 3903).
    presence: simple_presence::PresenceAgent,
    presence_settings: Arc<PresenceSettings>,
    /// To the presence store writer.
    store_tx: tokio::sync::mpsc::UnboundedSender<StoreJob>,
    /// The presence rules as last loaded: the store's revision counter and
    /// each owner's document etag.
    docs_seen: presence::DocsSeen,
    /// Page-mode messaging: the silo, reports, rooms.
    im: im::Im,
    /// MSRP relay sessions per SIP dialog (they end with it).
    msrp: msrp_dialogs::MsrpDialogs,
    /// Session-mode rooms: the RFC 7701 focus.
    focus: focus::Focus,
    /// Large NOTIFYs sent over TCP (§18.1.1): their UDP copies, by the TCP
    /// transaction, until it ends.
    notify_udp_retry: HashMap<TransactionKey, Box<(SipMessage, Peer)>, foldhash::fast::RandomState>,
    /// INVITE branches still without a final response whose server
    /// transaction has ended (a 2xx elsewhere, Timer L): destroyed at the
    /// time given unless they end first (§9.1).
    orphans: HashMap<TransactionKey, Instant, foldhash::fast::RandomState>,
}

impl<S> Router<S> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        core: CoreConfig,
        registrar: Arc<Registrar<S>>,
        handle: ServerHandle,
        presence: simple_presence::PresenceAgent,
        presence_settings: PresenceSettings,
        store_tx: tokio::sync::mpsc::UnboundedSender<StoreJob>,
        docs_seen: DocsSeen,
        im_settings: ImSettings,
        msrp: Option<MsrpLink>,
        focus: Option<(Box<dyn FocusRelay>, u64)>,
    ) -> Self {
        let max_copy = im_settings.max_message_bytes;
        let focus = match focus {
            Some((relay, max_message)) => focus::Focus::new(Some(relay), max_message, max_copy),
            None => focus::Focus::new(None, 0, max_copy),
        };
        Router {
            core: Arc::new(core),
            registrar,
            handle,
            hash_key: RandomState::new(),
            // RFC 3261 §8.1.1.7: branches unique across time, so a restarted
            // server's requests are not taken for retransmissions of the
            // previous run's: the counter starts at a random point.
            next_branch: u64::from(rand::random::<u32>()) << 32,
            proxied: HashMap::default(),
            branch_of: HashMap::default(),
            presence,
            presence_settings: Arc::new(presence_settings),
            store_tx,
            docs_seen,
            im: im::Im::new(im_settings),
            msrp: msrp_dialogs::MsrpDialogs::new(msrp),
            focus,
            notify_udp_retry: HashMap::default(),
            orphans: HashMap::default(),
        }
    }
}

fn reply_msg(core: &CoreConfig, req: &SipMessage, r: &Reply) -> Option<SipMessage> {
    core::build(core, req, r.status, &r.reason, &r.headers)
}

/// What is answered before any transaction exists (RFC 3261 §8.2.7):
/// the core's refusals and its OPTIONS answer, then a REGISTER without
/// credentials, which is only asked to authenticate
/// ([`Registrar::anonymous_answer`]). Pure functions of the request and
/// the clock: a retransmission gets the same answer (a fresh nonce aside).
fn answer_without_state<S: Store>(
    core: &CoreConfig,
    registrar: &Registrar<S>,
    msg: &SipMessage,
) -> Option<SipMessage> {
    if let Some(r) = core::stateless_answer(core, msg) {
        return Some(r);
    }
    if msg.method() != Some(Method::Register) || !registrar.may_be_anonymous(msg) {
        return None;
    }
    let domain = register_domain(core, msg)?;
    let reply = registrar.anonymous_answer(msg, &domain)?;
    reply_msg(core, msg, &reply)
}

/// The served domain a REGISTER's Request-URI names (RFC 3261 §10.3 step
/// 1), lowercased; an IP address of ours names the single served domain.
/// `None`: not ours (403).
fn register_domain(core: &CoreConfig, msg: &SipMessage) -> Option<String> {
    let Ok(Uri::Sip(s)) = Uri::parse(msg.request_uri_str().unwrap_or("")) else {
        return None;
    };
    if !core.is_local_host(&s.host) {
        return None;
    }
    match s.host {
        Host::Name(n) => Some(n.to_ascii_lowercase()),
        _ if core.domains.len() == 1 => Some(core.domains[0].to_ascii_lowercase()),
        _ => None,
    }
}

fn plain(status: u16, reason: &str) -> Reply {
    Reply {
        status,
        reason: reason.to_owned(),
        headers: Vec::new(),
    }
}

impl<S: Store> Router<S> {
    fn respond(&self, ctx: &mut Ctx<'_>, key: TransactionKey, req: &SipMessage, r: &Reply) {
        if let Some(m) = reply_msg(&self.core, req, r) {
            ctx.respond(key, m);
        }
    }

    /// A REGISTER for `domain` (RFC 3261 §10.3), in the driver: the
    /// registrar decides without waiting; only the user's record (with
    /// authentication on) is read in a task, and the answer to a changed
    /// binding set waits for its commit
    /// ([`register_committed`](Self::register_committed)).
    fn register(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: SipMessage,
        peer: Peer,
        domain: String,
        user: Option<Option<&simple_store::User>>,
    ) {
        match self.registrar.register(&msg, peer, &domain, user) {
            RegisterStep::NeedUser(claimed) => {
                let registrar = self.registrar.clone();
                let handle = self.handle.clone();
                tokio::spawn(async move {
                    let found = registrar.find_user(&claimed).await;
                    let _ = handle
                        .wake(RegisterUser {
                            key,
                            msg,
                            peer,
                            domain,
                            found,
                        })
                        .await;
                });
            }
            RegisterStep::Answer(reply, registered) => {
                self.respond(ctx, key, &msg, &reply);
                if let Some(aor) = registered {
                    self.registration_changed(ctx, &aor);
                }
            }
            RegisterStep::Commit(pending) => {
                if let Err(t) = self.registrar.commit_then(pending, key, msg) {
                    tracing::error!(aor = %t.aor, "binding committer stopped");
                    self.respond(ctx, t.key, &t.request, &not_saved());
                }
            }
        }
    }

    /// REGISTERs whose bindings were committed (or failed to be): answered
    /// in the order they came, then presence and stored messages follow.
    fn register_committed(&mut self, ctx: &mut Ctx<'_>, done: CommittedRegisters) {
        let ok = done.result.is_ok();
        for t in &done.tickets {
            if ok {
                self.respond(ctx, t.key, &t.request, &t.reply);
            } else {
                self.respond(ctx, t.key, &t.request, &not_saved());
            }
        }
        if ok {
            // Once per AOR, however many of its REGISTERs the commit held
            // (a commit holds up to 512 AORs: a set, not a scan).
            let mut seen: HashSet<&str, foldhash::fast::RandomState> =
                HashSet::with_capacity_and_hasher(done.tickets.len(), Default::default());
            for t in &done.tickets {
                if seen.insert(&t.aor) {
                    self.registration_changed(ctx, &t.aor);
                }
            }
        }
    }

    /// An AOR's bindings changed or were read: presence follows
    /// registration (RFC 3856 composition), and stored messages go out
    /// (RFC 3428 store-and-forward: she is back).
    fn registration_changed(&mut self, ctx: &mut Ctx<'_>, aor: &str) {
        self.presence_registration(ctx, aor);
        self.im_deliver_stored(ctx, aor);
    }

    /// Does this URI name us: one of our addresses, or a served domain
    /// without a user part (§16.4)?
    fn names_us(&self, uri: &Uri<'_>) -> bool {
        let Some(s) = uri.as_sip() else { return false };
        match s.host {
            Host::Name(_) => s.user.is_none() && self.core.is_local_host(&s.host),
            Host::V4(_) | Host::V6(_) => self.names_us_ignoring_user(s),
        }
    }

    /// Is this SIP URI's host and port one of our listening addresses?
    fn names_us_ignoring_user(&self, s: &sip_msg::SipUri<'_>) -> bool {
        let port = s.port.unwrap_or(if s.secure { 5061 } else { 5060 });
        self.core
            .local_addrs
            .iter()
            .any(|a| a.port() == port && host_is(&s.host, a.ip()))
    }

    /// The address we write in a Via or Record-Route for `transport`,
    /// matching the family of `toward`.
    fn local_for(ctx: &Ctx<'_>, transport: Transport, toward: SocketAddr) -> Option<SocketAddr> {
        let mut fallback = None;
        for &(t, a) in ctx.local_addrs() {
            if t == transport {
                if a.is_ipv4() == toward.is_ipv4() {
                    return Some(a);
                }
                fallback.get_or_insert(a);
            }
        }
        fallback
    }

    /// §16.4: removes the Route values that name us (one, two with double
    /// record-routing, or none: clients differ).
    fn strip_our_routes(&self, msg: &mut SipMessage) {
        while let Some(top) = msg.header(HeaderName::Route).map(first_value)
            && sip_msg::RouteEntry::parse(&top).is_ok_and(|r| self.names_us(&r.addr.uri))
        {
            msg.pop_first_value(HeaderName::Route);
        }
    }

    /// Our Via for a forwarded request, with a fresh branch carrying the
    /// loop hash (§16.6 step 8).
    fn our_via(&mut self, transport: Transport, local: SocketAddr, hash: u64) -> String {
        self.next_branch += 1;
        let mut v = String::with_capacity(96);
        for part in [
            "SIP/2.0/",
            transport.via_token(),
            " ",
            &hostport(local),
            ";branch=",
            &branch(hash, self.next_branch),
            ";rport",
        ] {
            v.push_str(part);
        }
        v
    }

    fn handle_cancel(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey, msg: &SipMessage) {
        let Some(target) = ctx.layer().find_cancel_target(msg) else {
            // §9.2: no matching transaction.
            self.respond(
                ctx,
                key,
                msg,
                &plain(481, "Call/Transaction Does Not Exist"),
            );
            return;
        };
        self.respond(ctx, key, msg, &plain(200, "OK"));
        // §16.10: cancel every pending branch; their 487s make the answer.
        let Some(p) = self.proxied.get_mut(&target) else {
            return;
        };
        if p.final_sent {
            return;
        }
        cancel_pending(ctx, p);
    }

    /// Step 3–6 for everything but REGISTER and CANCEL.
    fn route(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey, mut msg: SipMessage, peer: Peer) {
        // §16.4: remove the Route values that name us (one, two with
        // double record-routing, or none: clients differ).
        self.strip_our_routes(&mut msg);
        if self.came_from_us(&msg) {
            // One of the server's own requests (a stored message delivered,
            // a report, a room copy, a NOTIFY) came back: never again.
            self.respond(
                ctx,
                key,
                &msg,
                &plain(482, "Loop Detected: the server's own request came back"),
            );
            return;
        }
        self.msrp_request(&msg);
        // In a dialog with a chat room's focus (we are its UAS).
        if self.focus_in_dialog(ctx, key, &msg) {
            return;
        }
        if msg.method() == Some(Method::Message)
            && let Some(r) = self.im_too_large(&msg)
        {
            self.respond(ctx, key, &msg, &r);
            return;
        }
        let in_dialog = msg.to_tag().is_ok_and(|t| t.is_some());
        if in_dialog && msg.method() == Some(Method::Subscribe) && self.presence.owns_dialog(&msg) {
            // A refresh or unsubscribe of one of our subscriptions.
            self.presence_subscribe(ctx, key, &msg, peer, None);
            return;
        }
        let uri_s = msg.request_uri_str().unwrap_or("").to_owned();
        let Ok(uri) = Uri::parse(&uri_s) else {
            self.respond(ctx, key, &msg, &plain(416, "Unsupported URI Scheme"));
            return;
        };
        // A Route left: forward to it (an in-dialog request, or a preloaded
        // route from one of our users).
        if let Some(top) = msg.header(HeaderName::Route).map(first_value) {
            if !in_dialog {
                self.respond(
                    ctx,
                    key,
                    &msg,
                    &plain(403, "Forbidden: preloaded Route not allowed"),
                );
                return;
            }
            let Some(target) = route_target(&top, &uri_s) else {
                self.respond(
                    ctx,
                    key,
                    &msg,
                    &plain(476, "Unresolvable Destination: Route"),
                );
                return;
            };
            self.fork(ctx, key, msg, peer, vec![target], None);
            return;
        }
        // A page-mode room (sip:NAME@chat.DOMAIN): the sender is
        // authenticated like for any local user, then the room relays.
        if !in_dialog && let Some(room) = self.room_of(&uri) {
            let aor = (String::new(), room);
            self.local_user(ctx, key, msg, peer, aor);
            return;
        }
        // Ours: a served domain, or one of our own addresses (IP and port:
        // a contact on this host is someone else).
        let local_domain = match &uri {
            Uri::Sip(s) => match s.host {
                Host::Name(_) => self.core.is_local_host(&s.host),
                _ => self.names_us_ignoring_user(s),
            },
            Uri::Pres(u) | Uri::Im(u) => {
                Host::parse(u.domain).is_ok_and(|h| self.core.is_local_host(&h))
            }
            _ => false,
        };
        if local_domain
            && let Some((user, mut domain)) = simple_registrar::service::request_aor(&uri)
        {
            // `sip:bob@<our address>` with a single served domain means that
            // domain's bob.
            if Host::parse(&domain).is_ok_and(|h| h.is_ip()) && self.core.domains.len() == 1 {
                domain = self.core.domains[0].to_ascii_lowercase();
            }
            self.local_user(ctx, key, msg, peer, (user, domain));
            return;
        }
        if local_domain && in_dialog && msg.method() == Some(Method::Subscribe) {
            // Addressed to us in a dialog we do not have (RFC 6665 §4.1.2.2).
            self.respond(
                ctx,
                key,
                &msg,
                &plain(481, "Call/Transaction Does Not Exist: no such subscription"),
            );
            return;
        }
        if local_domain {
            // Addressed to the server itself: the core answers (405, 501...).
            if let Some(r) = core::handle(&self.core, &msg) {
                ctx.respond(key, r);
            }
            return;
        }
        // An in-dialog request to a contact (after our Record-Route was
        // removed): forward to it, over its registration flow when it has one.
        if in_dialog {
            let target = self.contact_target(ctx, &uri_s, &uri);
            match target {
                Some(t) => self.fork(ctx, key, msg, peer, vec![t], None),
                None => self.respond(
                    ctx,
                    key,
                    &msg,
                    &plain(480, "Temporarily Unavailable: contact not reachable"),
                ),
            }
            return;
        }
        self.respond(
            ctx,
            key,
            &msg,
            &plain(403, "Forbidden: domain not served here"),
        );
    }

    fn contact_target(&self, ctx: &Ctx<'_>, uri_s: &str, uri: &Uri<'_>) -> Option<Target> {
        let loc = self.registrar.location();
        if let Some(lb) = loc.by_contact(uri_s) {
            let mut t = binding_target(lb, |f| ctx.flow_alive(f))?;
            // The route set governs an in-dialog request, not the Path.
            t.routes.clear();
            return Some(t);
        }
        drop(loc);
        let (t, remote) = uri_addr(uri)?;
        Some(Target {
            request_uri: uri_s.to_owned(),
            routes: Vec::new(),
            peer: Peer::new(t, remote, ANY_FLOW),
        })
    }

    /// A request for a local AOR: authentication, then delivery.
    fn local_user(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: SipMessage,
        peer: Peer,
        aor: (String, String),
    ) {
        let method = msg.method_str().unwrap_or("").to_owned();
        let in_dialog = msg.to_tag().is_ok_and(|t| t.is_some());
        let auth = self.registrar.authenticator();
        // Who is sending: a local user is authenticated (407, §22.3).
        let from_local = msg
            .from()
            .ok()
            .and_then(|f| simple_registrar::register::canonical_aor(&f.addr.uri))
            .filter(|(_, d)| self.core.domains.iter().any(|x| x.eq_ignore_ascii_case(d)));
        if !in_dialog
            && auth.config().covers(&method)
            && let Some((from_user, from_domain)) = from_local
        {
            let registrar = self.registrar.clone();
            let handle = self.handle.clone();
            tokio::spawn(async move {
                let step = authorize(&registrar, &msg, &from_user, &from_domain).await;
                let _ = handle
                    .wake(Resume {
                        key,
                        msg,
                        peer,
                        aor,
                        step: Step::Authorized(step),
                    })
                    .await;
            });
            return;
        }
        self.deliver(ctx, key, msg, peer, aor);
    }

    fn deliver(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: SipMessage,
        peer: Peer,
        aor: (String, String),
    ) {
        if aor.0.is_empty() {
            // A room (see `route`): page-mode MESSAGE, or an INVITE to its
            // focus (RFC 7701, `focus`).
            match msg.method() {
                Some(Method::Message) => self.im_room(ctx, key, msg, aor.1),
                Some(Method::Invite) => self.focus_invite(ctx, key, msg, peer, aor.1),
                _ => {
                    // Without an MSRP relay an INVITE only gets 488.
                    let allow = if self.focus.enabled() {
                        "INVITE, MESSAGE"
                    } else {
                        "MESSAGE"
                    };
                    self.respond(
                        ctx,
                        key,
                        &msg,
                        &Reply {
                            status: 405,
                            reason: "Method Not Allowed: rooms take MESSAGE and INVITE".to_owned(),
                            headers: vec![(HeaderName::Allow, allow.to_owned())],
                        },
                    );
                }
            }
            return;
        }
        if msg.method() == Some(Method::Publish) {
            self.presence_publish(ctx, key, &msg, &aor);
            return;
        }
        if self.presence_local(&msg, &aor) {
            if self.registrar.authenticator().config().enabled {
                // RFC 3856 §6.4 (and RFC 3261 §21.4.5): a subscription to
                // nobody is 404, not a pending watcher of no one. With
                // authentication off every user exists (no lookup).
                self.resume_after_user_lookup(key, msg, peer, aor, Step::Presentity);
                return;
            }
            self.presence_subscribe(ctx, key, &msg, peer, Some(&aor));
            return;
        }
        let aor_s = simple_registrar::register::aor_string(&aor.0, &aor.1);
        let now = now_ms();
        let targets: Vec<Target> = {
            let loc = self.registrar.location();
            let mut live: Vec<_> = loc.live(&aor_s, now).collect();
            // Highest q first (§16.6: order only; all are tried in parallel).
            live.sort_by_key(|b| std::cmp::Reverse(b.binding.q.unwrap_or(1000)));
            live.iter()
                .filter_map(|b| binding_target(b, |f| ctx.flow_alive(f)))
                .collect()
        };
        if targets.is_empty() {
            self.resume_after_user_lookup(key, msg, peer, aor, Step::Exists);
            return;
        }
        let message = msg.method() == Some(Method::Message);
        if message && self.im_has_backlog(&aor_s) && simple_im::silo::storable(&msg).is_ok() {
            // Stored messages are waiting for her: this one goes behind
            // them, so she reads them in the order they were sent.
            self.im_store(ctx, key, msg, aor_s.clone());
            self.im_deliver_stored(ctx, &aor_s);
            return;
        }
        let store_for = message.then_some(aor_s);
        self.fork(ctx, key, msg, peer, targets, store_for);
    }

    /// Looks the AOR's user up (async) and resumes the request with
    /// `step(exists)`.
    fn resume_after_user_lookup(
        &self,
        key: TransactionKey,
        msg: SipMessage,
        peer: Peer,
        aor: (String, String),
        step: fn(bool) -> Step,
    ) {
        let registrar = self.registrar.clone();
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let exists = registrar.user_exists(&aor.0, &aor.1).await;
            let _ = handle
                .wake(Resume {
                    key,
                    msg,
                    peer,
                    aor,
                    step: step(exists),
                })
                .await;
        });
    }

    /// A forked MESSAGE's deadline passed (`im_deadline`): branches still
    /// without a final answer count as 408, so the MESSAGE is stored and
    /// answered 202 while the sender still waits. A device answering 2xx
    /// later still gets it (and then again from the store: the one case of
    /// a duplicate left).
    fn message_deadline(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey) {
        let silent: Vec<TransactionKey> = match self.proxied.get(&key) {
            Some(p) if !p.final_sent => p
                .branches
                .iter()
                .filter(|b| !b.done)
                .map(|b| b.key)
                .collect(),
            _ => return,
        };
        for ck in silent {
            self.branch_final(ctx, ck, BranchFinal::Local(408));
        }
    }

    /// RFC 3261 §22.3: credentials for our realms were used up by our own
    /// authentication; they are not passed on to the user's devices (other
    /// realms' credentials stay for the proxies they are meant for).
    fn consume_our_credentials(&self, msg: &mut SipMessage) {
        let lines: Vec<String> = msg
            .header_lines(HeaderName::ProxyAuthorization)
            .map(str::to_owned)
            .collect();
        let ours = |l: &str| {
            sip_msg::auth::Credentials::parse(l)
                .ok()
                .and_then(|c| c.realm().map(|r| r.into_owned()))
                .is_some_and(|r| self.core.domains.iter().any(|d| d.eq_ignore_ascii_case(&r)))
        };
        if !lines.iter().any(|l| ours(l)) {
            return;
        }
        msg.remove_all(HeaderName::ProxyAuthorization);
        for l in lines.iter().rev().filter(|l| !ours(l)) {
            msg.push_front(HeaderName::ProxyAuthorization, l);
        }
    }

    /// Was this request sent by this server itself (one of our Vias with
    /// the branch of a request we originated, loop hash 0) and is it coming
    /// back for the very user it was sent to (a loop, not a spiral to
    /// someone else, §16.3)?
    fn came_from_us(&self, msg: &SipMessage) -> bool {
        // Cheap test first: no Via line holds a branch of ours with loop
        // hash 0 (almost every request), so nothing is parsed.
        if !has_branch_with_hash(msg, 0) {
            return false;
        }
        let aor_of = |u: &Uri<'_>| simple_registrar::register::canonical_aor(u);
        let same_user = match (
            msg.request_uri_str().and_then(|r| Uri::parse(r).ok()),
            msg.to(),
        ) {
            (Some(r), Ok(t)) => match (aor_of(&r), aor_of(&t.addr.uri)) {
                // A contact on one of our addresses names the user as the
                // single served domain's.
                (Some((ru, _)), Some((tu, _))) => ru == tu,
                _ => false,
            },
            _ => false,
        };
        same_user
            && msg.vias().flatten().any(|v| {
                v.branch().and_then(branch_loop_hash) == Some(0)
                    && self
                        .core
                        .local_addrs
                        .iter()
                        .any(|a| a.port() == v.port.unwrap_or(5060) && host_is(&v.host, a.ip()))
            })
    }

    /// Sends one copy per target (§16.6) and keeps the response context.
    fn fork(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: SipMessage,
        peer: Peer,
        targets: Vec<Target>,
        store_for: Option<String>,
    ) {
        let hash = loop_hash(&msg, &self.hash_key);
        // §16.3 step 4: our own Via with this very hash means a loop (the
        // Vias are parsed only when a line holds that branch at all).
        let looped = has_branch_with_hash(&msg, hash)
            && msg.vias().flatten().any(|v| {
                v.branch().and_then(branch_loop_hash) == Some(hash)
                    && self
                        .core
                        .local_addrs
                        .iter()
                        .any(|a| a.port() == v.port.unwrap_or(5060) && host_is(&v.host, a.ip()))
            });
        if looped {
            self.respond(ctx, key, &msg, &plain(482, "Loop Detected"));
            return;
        }
        if matches!(msg.max_forwards(), Ok(Some(0))) {
            self.respond(ctx, key, &msg, &plain(483, "Too Many Hops"));
            return;
        }
        let invite = msg.method() == Some(Method::Invite);
        if invite {
            // Authenticated and routed: its MSRP offer (if any) is noted
            // now, so refused INVITEs never fill the table.
            self.msrp.note(&msg);
        }
        let dialog_creating = !msg.to_tag().is_ok_and(|t| t.is_some())
            && matches!(
                msg.method(),
                Some(Method::Invite | Method::Subscribe | Method::Refer)
            );
        let mut branches = Vec::new();
        let mut finals = ResponseContext::default();
        for target in targets {
            let out_t = target.peer.transport;
            let Some(out_local) = Self::local_for(ctx, out_t, target.peer.remote) else {
                finals.add(BranchFinal::Local(503));
                continue;
            };
            // §16.6 step 4: Record-Route so in-dialog requests come back
            // through us; two values when the transport changes.
            let mut rr = Vec::new();
            if dialog_creating {
                rr.push(record_route(out_t, out_local));
                if peer.transport != out_t
                    && let Some(in_local) = Self::local_for(ctx, peer.transport, peer.remote)
                {
                    rr.push(record_route(peer.transport, in_local));
                }
            }
            let via = self.our_via(out_t, out_local, hash);
            let copy = forward_copy(&msg, &target, &rr, &via);
            // RFC 3261 §18.1.1 (see `send_sized`): a MESSAGE that cannot
            // go over TCP is answered 513 (RFC 3428 §4); other requests are
            // retried over UDP. TCP is tried toward a proxy (Path or Route)
            // or a contact reached at the address its URI names; one behind
            // NAT takes no inbound connection.
            let message = store_for.is_some() || msg.method() == Some(Method::Message);
            let tcp = if message {
                LargeOverTcp::Or513
            } else {
                LargeOverTcp::OrUdp
            };
            let sent = self.send_sized(ctx, copy, target.peer, out_local, hash, tcp, || {
                message
                    || !target.routes.is_empty()
                    || msg.header(HeaderName::Route).is_some()
                    || tcp_worth_trying(&target.request_uri, target.peer)
            });
            match sent {
                Ok(Sent {
                    key: ck,
                    peer: out_peer,
                    large,
                    udp_retry,
                }) => {
                    self.branch_of.insert(ck, key);
                    branches.push(Branch {
                        key: ck,
                        peer: out_peer,
                        done: false,
                        provisional: false,
                        cancel_pending: false,
                        large,
                        udp_retry,
                        timer_c: invite.then(|| ctx.now() + self.core.timer_c),
                        cancelled_at: None,
                    });
                }
                Err(e) => {
                    tracing::debug!(error = %e, remote = %target.peer.remote, "branch not sent");
                    finals.add(BranchFinal::Local(503));
                }
            }
        }
        if branches.is_empty() {
            if let Some(recipient) = store_for
                && finals.all_unavailable()
            {
                // RFC 3428 store-and-forward: no branch could even be sent.
                self.im_store(ctx, key, msg, recipient);
                return;
            }
            let status = finals.best().map_or(480, |f| f.status());
            let r = if status == 500 || status == 503 {
                plain(480, "Temporarily Unavailable: no contact reachable")
            } else {
                plain(status, sip_proto::reason_phrase(status))
            };
            self.respond(ctx, key, &msg, &r);
            return;
        }
        self.proxied.insert(
            key,
            Proxied {
                request: msg,
                invite,
                branches,
                finals,
                final_sent: false,
                store_for: store_for.clone(),
            },
        );
        if store_for.is_some() {
            // A device that does not answer would keep the sender waiting
            // the whole Timer F (32 s), after which the sender has given up
            // and our 202 comes too late: decide earlier.
            self.im_deadline(key);
        }
    }

    /// Sends `msg` (our Via on top, for `peer` from `local`) as RFC 3261
    /// §18.1.1 wants: a request over 1300 bytes bound for UDP goes over TCP
    /// to the same address when `tcp_ok()` says the next hop may take it
    /// (asked only for such a request). With [`LargeOverTcp::OrUdp`] a UDP
    /// copy with its own branch is kept for a failed TCP attempt ("SHOULD
    /// retry the request, using UDP") and sent at once when no connection
    /// can even be started; with [`LargeOverTcp::Or513`] the caller answers
    /// 513 on failure.
    #[allow(clippy::too_many_arguments)]
    fn send_sized(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: SipMessage,
        peer: Peer,
        local: SocketAddr,
        hash: u64,
        tcp: LargeOverTcp,
        tcp_ok: impl FnOnce() -> bool,
    ) -> Result<Sent, sip_net::NetError> {
        let plain = |key| Sent {
            key,
            peer,
            large: false,
            udp_retry: None,
        };
        if !sip_net::needs_congestion_control(peer.transport, msg.wire_len()) || !tcp_ok() {
            return ctx.send_request(msg, peer).map(plain);
        }
        let mut udp_retry = (tcp == LargeOverTcp::OrUdp).then(|| {
            let mut copy = msg.clone();
            copy.pop_first_value(HeaderName::Via);
            copy.push_front(HeaderName::Via, &self.our_via(peer.transport, local, hash));
            Box::new((copy, peer))
        });
        let mut msg = msg;
        let Some(out_peer) = sip_net::switch_large_request_to_tcp(&mut msg, peer) else {
            // Not moved (its top Via does not say UDP): as it is.
            return ctx.send_request(msg, peer).map(plain);
        };
        match ctx.send_request(msg, out_peer) {
            Ok(key) => Ok(Sent {
                key,
                peer: out_peer,
                large: true,
                udp_retry,
            }),
            // No connection could even be started: UDP at once.
            Err(e) => match udp_retry.take() {
                Some(r) => {
                    let (copy, peer) = *r;
                    ctx.send_request(copy, peer).map(|key| Sent {
                        key,
                        peer,
                        large: false,
                        udp_retry: None,
                    })
                }
                None => Err(e),
            },
        }
    }

    /// RFC 3261 §18.1.1: the TCP attempt of a branch moved off UDP for its
    /// size failed; send its UDP copy instead, as a new client transaction
    /// that takes the branch's place. False when the branch has no such
    /// copy (not moved, a MESSAGE, or already retried) or it cannot be sent.
    fn retry_over_udp(&mut self, ctx: &mut Ctx<'_>, ckey: TransactionKey) -> bool {
        let Some(&skey) = self.branch_of.get(&ckey) else {
            return false;
        };
        let Some(p) = self.proxied.get_mut(&skey) else {
            return false;
        };
        // Only a request nobody has answered yet is sent again: once the
        // contact answered over TCP, or the branch is being cancelled, or
        // the outcome upstream is decided, a copy over UDP would be a new
        // request the contact could take for a merged one (§8.2.2.2), or
        // one nobody cancels.
        if p.final_sent {
            return false;
        }
        let Some(b) = p.branches.iter_mut().find(|b| b.key == ckey && !b.done) else {
            return false;
        };
        if b.provisional
            || b.cancel_pending
            || b.cancelled_at.is_some()
            || ctx.request_may_have_arrived(ckey)
        {
            return false;
        }
        let Some(retry) = b.udp_retry.take() else {
            return false;
        };
        let (copy, peer) = *retry;
        match ctx.send_request(copy, peer) {
            Ok(new_key) => {
                tracing::debug!(remote = %peer.remote, "large request retried over UDP");
                b.key = new_key;
                b.peer = peer;
                b.large = false;
                self.branch_of.remove(&ckey);
                self.branch_of.insert(new_key, skey);
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "UDP retry not sent");
                // Not a size problem any more: the branch ends 503.
                b.large = false;
                false
            }
        }
    }

    /// The INVITE branches whose time is up (called every second):
    ///
    /// - Timer C fired (RFC 3261 §16.8): a branch that had a provisional
    ///   response is CANCELled; one that had none ends as if it had
    ///   received 408 (Timer B, 64·T1, normally ends it long before).
    /// - A CANCELled branch still without a final response 64·T1 later is
    ///   considered cancelled (§9.1): it ends as a 487, and its client
    ///   transaction, which in Proceeding has no timer of its own, is
    ///   destroyed. Without this a callee that rings and then vanishes
    ///   would keep the caller's INVITE unanswered forever.
    /// - Branches left over from an ended server transaction (`orphans`)
    ///   are destroyed when their time comes.
    fn invite_timers_due(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        let give_up = ctx.layer().timers().t1 * 64;
        let mut ended = Vec::new();
        for p in self.proxied.values_mut().filter(|p| p.invite) {
            for b in p.branches.iter_mut().filter(|b| !b.done) {
                if let Some(at) = b.cancelled_at {
                    if now >= at + give_up {
                        ended.push((b.key, 487));
                    }
                } else if b.timer_c.is_some_and(|t| now >= t) {
                    b.timer_c = None;
                    if b.provisional {
                        tracing::debug!(remote = %b.peer.remote, "Timer C: branch cancelled");
                        b.cancel(ctx);
                    } else {
                        ended.push((b.key, 408));
                    }
                }
            }
        }
        for (ckey, status) in ended {
            tracing::debug!(status, "INVITE branch given up");
            self.branch_final(ctx, ckey, BranchFinal::Local(status));
            if let Err(e) = ctx.abandon(ckey) {
                tracing::debug!(error = %e, "client transaction already gone");
            }
        }
        if !self.orphans.is_empty() {
            let due: Vec<TransactionKey> = self
                .orphans
                .iter()
                .filter(|&(_, &at)| now >= at)
                .map(|(&k, _)| k)
                .collect();
            for ckey in due {
                self.orphans.remove(&ckey);
                tracing::debug!("orphaned INVITE branch given up");
                if let Err(e) = ctx.abandon(ckey) {
                    tracing::debug!(error = %e, "client transaction already gone");
                }
            }
        }
    }

    /// A branch ended without a 2xx; answer upstream when all have.
    fn branch_final(&mut self, ctx: &mut Ctx<'_>, ckey: TransactionKey, f: BranchFinal) {
        let Some(&skey) = self.branch_of.get(&ckey) else {
            return;
        };
        let Some(p) = self.proxied.get_mut(&skey) else {
            return;
        };
        let Some(b) = p.branches.iter_mut().find(|b| b.key == ckey) else {
            return;
        };
        if b.done {
            return;
        }
        b.done = true;
        let six = f.status() >= 600;
        p.finals.add(f);
        if six && p.invite {
            // §16.7 step 5: a 6xx ends the search.
            cancel_pending(ctx, p);
        }
        if p.final_sent || p.branches.iter().any(|b| !b.done) {
            return;
        }
        p.final_sent = true;
        if let Some(recipient) = p.store_for.take()
            && p.finals.all_unavailable()
        {
            // RFC 3428: nobody took it now; keep it for later (202).
            let request = p.request.clone();
            self.im_store(ctx, skey, request, recipient);
            return;
        }
        let finals = std::mem::take(&mut p.finals);
        let request = p.request.clone();
        if p.invite && !request.to_tag().is_ok_and(|t| t.is_some()) {
            // The initial INVITE failed (CANCEL's 487 included): its MSRP
            // offer ends. A failed re-INVITE leaves the dialog up.
            self.msrp_invite_final(&request, 487);
        }
        match finals.best() {
            Some(BranchFinal::Response(m)) => ctx.respond(skey, m),
            Some(BranchFinal::Local(s)) => {
                let r = plain(s, sip_proto::reason_phrase(s));
                self.respond(ctx, skey, &request, &r);
            }
            None => self.respond(ctx, skey, &request, &plain(480, "Temporarily Unavailable")),
        }
    }

    /// ACK for a 2xx (and any ACK outside a transaction): forwarded
    /// statelessly along its Route / Request-URI (§16.11 does not apply: it
    /// has its own branch; we add a Via like any forward).
    fn forward_ack(&mut self, ctx: &mut Ctx<'_>, mut msg: SipMessage) {
        self.strip_our_routes(&mut msg);
        let uri_s = msg.request_uri_str().unwrap_or("").to_owned();
        let target = if let Some(top) = msg.header(HeaderName::Route).map(first_value) {
            route_target(&top, &uri_s)
        } else {
            match Uri::parse(&uri_s) {
                Ok(uri) if !self.names_us(&uri) => self.contact_target(ctx, &uri_s, &uri),
                _ => None,
            }
        };
        let Some(target) = target else {
            tracing::debug!("ACK with nowhere to go dropped");
            return;
        };
        if matches!(msg.max_forwards(), Ok(Some(0))) {
            return;
        }
        let Some(local) = Self::local_for(ctx, target.peer.transport, target.peer.remote) else {
            return;
        };
        let hash = loop_hash(&msg, &self.hash_key);
        let via = self.our_via(target.peer.transport, local, hash);
        let copy = forward_copy(&msg, &target, &[], &via);
        ctx.send_stateless(copy, target.peer);
    }
}

async fn authorize<S: Users + Registrations + Clone>(
    registrar: &Registrar<S>,
    msg: &SipMessage,
    from_user: &str,
    realm: &str,
) -> Result<(), Reply> {
    let auth = registrar.authenticator();
    let now = now_ms() as u64 / 1000;
    let Some(claimed) = Authenticator::credentials(msg, realm, true) else {
        return Err(auth.challenge(realm, true, false, now));
    };
    let user = registrar.find_user(&claimed).await?;
    match auth.check(msg, realm, true, user.as_ref(), now) {
        AuthOutcome::Challenge(c) => Err(c),
        AuthOutcome::Authenticated { username, .. } => {
            // The From must be the authenticated user (no spoofing).
            if username == from_user && claimed.domain.eq_ignore_ascii_case(realm) {
                Ok(())
            } else {
                Err(plain(
                    403,
                    "Forbidden: From does not match the authenticated user",
                ))
            }
        }
    }
}

/// Does any Via line hold one of our branches (`proxy::branch`) with this
/// loop hash? A text search: the Vias are parsed only when it says yes.
fn has_branch_with_hash(msg: &SipMessage, hash: u64) -> bool {
    // Every branch made for this hash starts with the prefix.
    let prefix = branch_prefix(hash);
    msg.header_lines(HeaderName::Via)
        .any(|l| l.contains(prefix.as_str()))
}

/// Unix ms now, for the router's modules (the pure agents take time as an
/// argument).
fn now() -> u64 {
    u64::try_from(now_ms()).unwrap_or(0)
}

/// 64 random bits in hex: tags, Call-IDs and tokens of the server's own
/// requests.
/// A fresh token for Call-IDs and tags we generate (16 random
/// alphanumerics, [`sip_proto::random_token`]).
fn random_token() -> String {
    sip_proto::random_token("", 16)
}

fn host_is(host: &Host<'_>, ip: std::net::IpAddr) -> bool {
    match (host, ip) {
        (Host::V4(h), std::net::IpAddr::V4(i)) => *h == i,
        (Host::V6(h), std::net::IpAddr::V6(i)) => *h == i,
        _ => false,
    }
}

/// The next hop a Route value names, keeping the Request-URI.
fn route_target(route: &str, request_uri: &str) -> Option<Target> {
    let entry = sip_msg::RouteEntry::parse(route).ok()?;
    let (t, remote) = uri_addr(&entry.addr.uri)?;
    Some(Target {
        request_uri: request_uri.to_owned(),
        routes: Vec::new(),
        peer: Peer::new(t, remote, ANY_FLOW),
    })
}

fn record_route(t: Transport, local: SocketAddr) -> String {
    let host = hostport(local);
    match t {
        Transport::Udp => format!("<sip:{host};lr>"),
        Transport::Tls => format!("<sips:{host};lr>"),
        other => format!(
            "<sip:{host};transport={};lr>",
            other.via_token().to_ascii_lowercase()
        ),
    }
}

/// The first comma-separated value of a header line (Route values are
/// `<...>`-enclosed, so a comma outside `<>` ends one).
fn first_value(line: &str) -> String {
    let mut depth = 0i32;
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => return line[..i].trim().to_owned(),
            _ => {}
        }
    }
    line.trim().to_owned()
}

/// RFC 3261 §18.1.1 for a MESSAGE the server sends itself (stored ones,
/// room copies, reports): over 1300 bytes and bound for UDP, it goes over
/// TCP to the same address; if the recipient takes no TCP, the send fails
/// with a transport error (no UDP retry, RFC 3428 §4). Proxied requests and
/// NOTIFYs go through [`Router::send_sized`].
fn large_over_tcp(mut msg: SipMessage, peer: Peer) -> (SipMessage, Peer) {
    match sip_net::switch_large_request_to_tcp(&mut msg, peer) {
        Some(p) => (msg, p),
        None => (msg, peer),
    }
}

/// The answer to a REGISTER whose bindings could not be committed.
fn not_saved() -> Reply {
    plain(500, "Server Internal Error: bindings not saved")
}

/// Is a contact reached at the very address its URI names (so it may take
/// a TCP connection there, RFC 3261 §18.1.1)? A contact behind NAT is
/// reached at its registration's source address instead, where nothing
/// accepts connections: trying TCP there only delays the request. (A next
/// hop named by a Path or Route is a proxy, which takes TCP: callers try
/// it regardless.)
pub(crate) fn tcp_worth_trying(contact_uri: &str, peer: Peer) -> bool {
    Uri::parse(contact_uri)
        .ok()
        .and_then(|u| uri_addr(&u))
        .is_some_and(|(_, addr)| addr == peer.remote)
}

fn send_cancel(ctx: &mut Ctx<'_>, branch: TransactionKey, peer: Peer) {
    let Some(invite) = ctx.layer().request(branch).cloned() else {
        return;
    };
    match cancel_request(&invite) {
        Ok(c) => {
            if let Err(e) = ctx.send_request(c, peer) {
                tracing::debug!(error = %e, "CANCEL not sent");
            }
        }
        Err(e) => tracing::debug!(error = %e, "CANCEL not built"),
    }
}

/// CANCELs every branch still without a final response: at once when it
/// has had a provisional response, else when it gets one (§9.1).
fn cancel_pending(ctx: &mut Ctx<'_>, p: &mut Proxied) {
    for b in p
        .branches
        .iter_mut()
        .filter(|b| !b.done && b.cancelled_at.is_none())
    {
        if b.provisional {
            b.cancel(ctx);
        } else {
            b.cancel_pending = true;
        }
    }
}

impl<S: Store> TransactionUser for Router<S> {
    fn answer_statelessly(&mut self, msg: &SipMessage, _peer: &Peer) -> Option<SipMessage> {
        answer_without_state(&self.core, &self.registrar, msg)
    }

    fn stateless_hook(&self) -> Option<sip_net::StatelessHook> {
        // The same decision, made in the UDP receive loops.
        let cfg = Arc::clone(&self.core);
        let registrar = Arc::clone(&self.registrar);
        Some(Arc::new(move |m: &SipMessage| {
            answer_without_state(&cfg, &registrar, m)
        }))
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey, msg: SipMessage, peer: Peer) {
        let _span = tracing::debug_span!(
            "request",
            method = msg.method_str().unwrap_or(""),
            call_id = msg.header(HeaderName::CallId).unwrap_or(""),
            remote = %peer.remote,
        )
        .entered();
        match msg.method() {
            Some(Method::Cancel) => self.handle_cancel(ctx, key, &msg),
            Some(Method::Register) => {
                let Some(domain) = register_domain(&self.core, &msg) else {
                    self.respond(
                        ctx,
                        key,
                        &msg,
                        &plain(403, "Forbidden: domain not served here"),
                    );
                    return;
                };
                self.register(ctx, key, msg, peer, domain, None);
            }
            _ => self.route(ctx, key, msg, peer),
        }
    }

    fn on_response(&mut self, ctx: &mut Ctx<'_>, ckey: TransactionKey, mut msg: SipMessage) {
        if !self.notify_udp_retry.is_empty() {
            // Answered over TCP: no UDP copy will be needed.
            self.notify_udp_retry.remove(&ckey);
        }
        if self.presence_notify_result(ctx, ckey, msg.status().unwrap_or(500)) {
            return;
        }
        if self.im_result(ckey, msg.status().unwrap_or(500)) {
            return;
        }
        let Some(&skey) = self.branch_of.get(&ckey) else {
            return;
        };
        // §16.7 step 3: our Via off.
        msg.pop_first_value(HeaderName::Via);
        let status = msg.status().unwrap_or(500);
        if status < 200 {
            if let Some(p) = self.proxied.get_mut(&skey) {
                if let Some(b) = p.branches.iter_mut().find(|b| b.key == ckey) {
                    b.provisional = true;
                    // It answered over the transport it was sent on.
                    b.udp_retry = None;
                    b.large = false;
                    // §16.7 step 2: a provisional above 100 resets Timer C.
                    if status > 100 && b.timer_c.is_some() {
                        b.timer_c = Some(ctx.now() + self.core.timer_c);
                    }
                    if b.cancel_pending && !b.done {
                        b.cancel(ctx);
                    }
                }
                // §16.7 step 5: provisionals other than 100 go upstream.
                if status > 100 && !p.final_sent {
                    ctx.respond(skey, msg);
                }
            }
            return;
        }
        if status < 300 {
            if self.proxied.get(&skey).is_some_and(|p| p.invite) {
                self.msrp_invite_final(&msg, status);
            }
            let Some(p) = self.proxied.get_mut(&skey) else {
                return;
            };
            if let Some(b) = p.branches.iter_mut().find(|b| b.key == ckey) {
                b.done = true;
                b.udp_retry = None;
            }
            if p.final_sent && !p.invite {
                // A MESSAGE stored at its deadline reached a device after
                // all: the stored copy must not be delivered again.
                self.im_taken_live(skey);
                return;
            }
            // §16.7 step 5: every 2xx goes upstream (for INVITE even after
            // the first, RFC 6026).
            if !p.final_sent || p.invite {
                p.final_sent = true;
                if let Err(e) = ctx.try_respond(skey, msg) {
                    tracing::debug!(error = %e, "2xx not forwarded");
                }
            }
            if p.invite {
                // §16.7 step 10: CANCEL the others after a 2xx to INVITE.
                cancel_pending(ctx, p);
            }
            return;
        }
        self.branch_final(ctx, ckey, BranchFinal::Response(msg));
    }

    fn on_timeout(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey) {
        if self.presence_notify_result(ctx, key, 408) || self.im_result(key, 408) {
            return;
        }
        self.branch_final(ctx, key, BranchFinal::Local(408));
    }

    fn on_transport_error(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey) {
        if self.presence_retry_over_udp(ctx, key) {
            return;
        }
        if self.presence_notify_result(ctx, key, 503) || self.im_result(key, 503) {
            return;
        }
        if self.retry_over_udp(ctx, key) {
            return;
        }
        // A MESSAGE moved to TCP for its size whose contact takes no TCP:
        // 513 (RFC 3261 §18.1.1, §21.5.14). A branch being cancelled ends
        // as cancelled.
        let status = match self
            .branch_of
            .get(&key)
            .and_then(|s| self.proxied.get(s))
            .and_then(|p| p.branches.iter().find(|b| b.key == key))
        {
            Some(b) if b.cancel_pending || b.cancelled_at.is_some() => 487,
            Some(b) if b.large => 513,
            _ => 503,
        };
        self.branch_final(ctx, key, BranchFinal::Local(status));
    }

    fn on_terminated(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey) {
        if !self.notify_udp_retry.is_empty() {
            self.notify_udp_retry.remove(&key);
        }
        if !self.orphans.is_empty() {
            self.orphans.remove(&key);
        }
        self.im_transaction_ended(key);
        if let Some(p) = self.proxied.remove(&key) {
            let give_up = ctx.layer().timers().t1 * 64;
            for mut b in p.branches {
                self.branch_of.remove(&b.key);
                if p.invite && !b.done {
                    // The caller has its answer and its transaction is gone
                    // (after a 2xx, Timer L), but this branch never ended:
                    // CANCEL it if it rings, and destroy its client
                    // transaction 64·T1 after the CANCEL (§9.1) unless it
                    // ends first — in Proceeding it has no timer of its own.
                    if b.provisional && b.cancelled_at.is_none() {
                        b.cancel(ctx);
                    }
                    let since = b.cancelled_at.unwrap_or_else(|| ctx.now());
                    self.orphans.insert(b.key, since + give_up);
                }
            }
        }
        self.branch_of.remove(&key);
        if self.im_result(key, 408) {
            tracing::debug!("server MESSAGE ended without a final response");
        }
    }

    fn on_ack(&mut self, ctx: &mut Ctx<'_>, msg: SipMessage, _peer: Peer) {
        // The ACK for a chat room focus's 2xx ends here (we are the UAS).
        if self.focus_ack(&msg) {
            return;
        }
        self.forward_ack(ctx, msg);
    }

    fn on_flow_closed(&mut self, _ctx: &mut Ctx<'_>, peer: Peer) {
        self.registrar.flow_closed(peer.flow);
    }

    fn on_wake(&mut self, ctx: &mut Ctx<'_>, msg: Box<dyn Any + Send>) {
        if msg.is::<PresenceTick>() {
            self.invite_timers_due(ctx);
            if ctx.is_draining() {
                // Stopping: only what lets live transactions end.
                return;
            }
            self.presence_tick(ctx);
            self.focus_tick(ctx);
            self.im_deadlines_due(ctx);
            return;
        }
        if msg.is::<DocsPoll>() {
            self.presence_docs_poll();
            return;
        }
        let msg = match msg.downcast::<presence::DocsUnchanged>() {
            Ok(u) => {
                self.presence_docs_unchanged(u.0);
                return;
            }
            Err(other) => other,
        };
        let msg = match msg.downcast::<presence::DocsLoaded>() {
            Ok(l) => {
                self.presence_docs_loaded(ctx, *l);
                return;
            }
            Err(other) => other,
        };
        let msg = match msg.downcast::<presence::Reloaded>() {
            Ok(r) => {
                for (aor, stored) in r.0 {
                    let fx = self.presence.reload_publications(&aor, stored, now());
                    self.apply(ctx, fx);
                }
                return;
            }
            Err(other) => other,
        };
        let msg = match msg.downcast::<presence::Committed>() {
            Ok(c) => {
                for (key, resp) in c.0 {
                    if let Err(e) = ctx.try_respond(key, resp) {
                        tracing::debug!(error = %e, "response after commit not sent");
                    }
                }
                return;
            }
            Err(other) => other,
        };
        let msg = match msg.downcast::<CommittedRegisters>() {
            Ok(done) => {
                self.register_committed(ctx, *done);
                return;
            }
            Err(other) => other,
        };
        let msg = match msg.downcast::<RegisterUser>() {
            Ok(r) => {
                let RegisterUser {
                    key,
                    msg,
                    peer,
                    domain,
                    found,
                } = *r;
                match found {
                    Ok(user) => self.register(ctx, key, msg, peer, domain, Some(user.as_ref())),
                    Err(reply) => self.respond(ctx, key, &msg, &reply),
                }
                return;
            }
            Err(other) => other,
        };
        let msg = match msg.downcast::<FocusEvent>() {
            Ok(e) => {
                self.focus_event(ctx, e.0);
                return;
            }
            Err(other) => other,
        };
        let msg = match msg.downcast::<focus::FocusPageCopies>() {
            Ok(w) => {
                self.focus_page_members(ctx, *w);
                return;
            }
            Err(other) => other,
        };
        let msg = match msg.downcast::<ImWake>() {
            Ok(w) => {
                self.im_wake(ctx, *w);
                return;
            }
            Err(other) => other,
        };
        let Ok(r) = msg.downcast::<Resume>() else {
            return;
        };
        let Resume {
            key,
            msg,
            peer,
            aor,
            step,
        } = *r;
        match step {
            Step::Authorized(Ok(())) => {
                let mut msg = msg;
                self.consume_our_credentials(&mut msg);
                self.deliver(ctx, key, msg, peer, aor)
            }
            Step::Authorized(Err(reply)) => self.respond(ctx, key, &msg, &reply),
            Step::Exists(true)
                if msg.method() == Some(Method::Subscribe) && !self.presence.serves_event(&msg) =>
            {
                // Nobody here serves that event package (RFC 6665 §8.3.2):
                // no phone to proxy it to, and not one of ours.
                self.respond(
                    ctx,
                    key,
                    &msg,
                    &Reply {
                        status: 489,
                        reason: "Bad Event".to_owned(),
                        headers: vec![(HeaderName::AllowEvents, self.presence.allow_events())],
                    },
                );
            }
            Step::Exists(true) if msg.method() == Some(Method::Message) => {
                // RFC 3428 store-and-forward: no binding now.
                let recipient = simple_registrar::register::aor_string(&aor.0, &aor.1);
                self.im_store(ctx, key, msg, recipient);
            }
            Step::Exists(true) => self.respond(
                ctx,
                key,
                &msg,
                &plain(480, "Temporarily Unavailable: no registered contact"),
            ),
            Step::Presentity(true) => self.presence_subscribe(ctx, key, &msg, peer, Some(&aor)),
            Step::Presentity(false) => {
                self.respond(ctx, key, &msg, &plain(404, "Not Found: no such presentity"))
            }
            Step::Exists(false) => {
                self.respond(ctx, key, &msg, &plain(404, "Not Found: no such user"))
            }
        }
    }
}
