//! The presence agent's state machine (see the crate doc for how it is
//! driven).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use simple_pidf::Presence;
use simple_pidf::compose::{Registration, Source, compose};
use simple_store::{Publication, PublicationKey, Subscription};
use sip_msg::{HeaderName, MessageBuilder, SipMessage};
use sip_proto::{
    EventPackage, EventRegistry, FlowId, Peer, PublishLimits, PublishOp, Refusal,
    ServerSubscription, SubState, Tag, TerminationReason, TransactionKey, Transport,
    check_content_type, classify_publish, new_etag, response_builder,
};

use crate::authz::{self, Access};
use crate::config::PresenceConfig;
use crate::persist;
use simple_pidf::{DocState, Watcher, WatcherEvent, WatcherInfo, WatcherList, WatcherStatus};
use simple_policy::{RuleSet, SubHandling};

/// How far ahead of the NOTIFY CSeqs actually used the stored high-water
/// mark is kept: one store write per this many NOTIFYs of a subscription.
pub const CSEQ_BLOCK: u32 = 100;

/// The event package this agent serves (RFC 3856 §6.2).
pub const PRESENCE: &str = "presence";

/// Watcher information for presence (RFC 3857 §4, template package).
pub const PRESENCE_WINFO: &str = "presence.winfo";

/// A response to send in the request's server transaction.
#[derive(Debug)]
pub struct Response {
    /// The server transaction.
    pub key: TransactionKey,
    /// The response.
    pub msg: SipMessage,
    /// Send only once [`Effects::store`] is durable.
    pub after_commit: bool,
}

/// A NOTIFY to send in a new client transaction.
#[derive(Debug)]
pub struct OutNotify {
    /// The subscription it belongs to (report the transaction key with
    /// [`PresenceAgent::notify_sent`]).
    pub sub: Arc<str>,
    /// The NOTIFY without its Via (the driver adds it with the branch of the
    /// client transaction).
    pub msg: MessageBuilder,
    /// Where the SUBSCRIBE came from (transport, address, flow): the NOTIFY
    /// goes back over that flow while it is open (RFC 5626, WebSocket).
    pub peer: Peer,
    /// The Request-URI (the watcher's remote target).
    pub request_uri: String,
    /// The route set, first hop first.
    pub routes: Vec<String>,
}

/// Store writes one step asks for.
#[derive(Debug, Default)]
pub struct StoreOps {
    /// Publications to insert or replace.
    pub pub_puts: Vec<Publication>,
    /// Publications to delete.
    pub pub_removes: Vec<PublicationKey>,
    /// Subscriptions to insert or replace.
    pub sub_puts: Vec<Subscription>,
    /// Subscription ids to delete.
    pub sub_removes: Vec<String>,
}

impl StoreOps {
    /// Nothing to write?
    pub fn is_empty(&self) -> bool {
        self.pub_puts.is_empty()
            && self.pub_removes.is_empty()
            && self.sub_puts.is_empty()
            && self.sub_removes.is_empty()
    }

    /// Appends `other`'s writes after ours.
    pub fn append(&mut self, other: &mut StoreOps) {
        self.pub_puts.append(&mut other.pub_puts);
        self.pub_removes.append(&mut other.pub_removes);
        self.sub_puts.append(&mut other.sub_puts);
        self.sub_removes.append(&mut other.sub_removes);
    }
}

/// What one step of the agent asks its driver to do, in this order:
/// responses, then NOTIFYs; store writes alongside.
#[derive(Debug, Default)]
pub struct Effects {
    /// Responses to requests.
    pub responses: Vec<Response>,
    /// NOTIFYs to send.
    pub notifies: Vec<OutNotify>,
    /// Store writes.
    pub store: StoreOps,
}

/// How a new watcher is treated (the authorization decision; RFC 5025
/// rules come with the policy issue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeAuth {
    /// Active at once, with the document.
    Allow,
    /// Pending (202, NOTIFY without a document) until approved.
    Pending,
    /// Refused (403).
    Block,
    /// Decided by the presentity's rules (RFC 5025), or the default policy
    /// when she has none.
    Rules,
}

/// A subscription's id (its To tag), shared by every table that names it.
pub(crate) type SubId = Arc<str>;

/// One publication held in memory.
#[derive(Debug, Clone)]
pub(crate) struct Pub {
    pub(crate) etag: String,
    pub(crate) doc: Presence,
    pub(crate) content_type: String,
    pub(crate) body: Vec<u8>,
    pub(crate) expires_at_ms: u64,
    pub(crate) updated_ms: u64,
    pub(crate) created_ms: u64,
    pub(crate) publisher: String,
}

/// Everything about one presentity.
#[derive(Debug, Default)]
struct Presentity {
    pubs: Vec<Pub>,
    /// Subscription ids watching this presentity (presence package).
    watchers: Vec<SubId>,
    /// Subscription ids watching her watchers (presence.winfo).
    winfo_watchers: Vec<SubId>,
    /// Registration state, when known (fed by the driver).
    registered: Option<bool>,
    /// The composed document last computed (what active watchers were last
    /// told), and when it was composed.
    doc: Option<Bytes>,
    doc_ms: u64,
    /// The same document as a model, built only when asked for (watchers
    /// with transformations, rules about spheres): [`composed_model`].
    model: Option<Presence>,
    /// Hard state (RFC 4827 pidf-manipulation), set over XCAP.
    hard: Option<Presence>,
    /// The presentity's AOR, shared by her watchers' entries.
    shared_aor: Option<Arc<str>>,
}

/// One watcher's subscription.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    pub(crate) sub: ServerSubscription,
    /// The presentity, shared with her other watchers' entries.
    pub(crate) aor: Arc<str>,
    /// Where NOTIFYs go (the SUBSCRIBE's source, flow and transport: a
    /// [`Peer`] in parts, see [`peer`](Self::peer); the transport byte
    /// packs with the small fields below instead of padding a `Peer` to 48
    /// bytes, and 100,000 subscriptions fit the 256-byte class).
    pub(crate) remote: SocketAddr,
    pub(crate) flow: FlowId,
    pub(crate) transport: Transport,
    /// The NOTIFY client transaction outstanding, if any: one at a time per
    /// watcher, so a slow watcher holds back only itself.
    pub(crate) in_flight: Option<TransactionKey>,
    /// State changed while a NOTIFY was outstanding: send the latest when
    /// it completes.
    pub(crate) dirty: bool,
    pub(crate) retries_left: u8,
    /// What the presentity lets this watcher see (presence package).
    pub(crate) access: Access,
    /// Watcher-information state (presence.winfo package).
    /// Boxed: few subscriptions are for watcher information.
    pub(crate) winfo: Option<Box<WinfoState>>,
    /// Queued for a slot of its destination's window.
    pub(crate) waiting: bool,
    /// The stored CSeq high-water mark.
    pub(crate) cseq_reserved: u32,
    pub(crate) created_ms: u64,
    pub(crate) updated_ms: u64,
}

/// A winfo subscription's document state (RFC 3858 §4).
#[derive(Debug, Clone, Default)]
pub(crate) struct WinfoState {
    /// The version of the last document sent (+1 per NOTIFY).
    pub(crate) version: u32,
    /// The next NOTIFY carries the full state.
    pub(crate) full: bool,
    /// Watcher changes not yet sent (partial state).
    pub(crate) pending: Vec<Watcher>,
}

impl WinfoState {
    /// A winfo subscription's state whose next document is full and
    /// numbered after `version`.
    fn fresh(version: u32) -> Box<WinfoState> {
        Box::new(WinfoState {
            version,
            full: true,
            pending: Vec::new(),
        })
    }
}

/// One destination's NOTIFY window.
#[derive(Debug, Default)]
struct Dest {
    in_flight: usize,
    /// Subscriptions with a NOTIFY to send once a slot frees, in order.
    waiting: VecDeque<SubId>,
}

/// The presence agent. See the crate doc.
#[derive(Debug)]
pub struct PresenceAgent {
    cfg: PresenceConfig,
    registry: EventRegistry,
    limits: PublishLimits,
    /// Our Contact URI per transport (for the 2xx to SUBSCRIBE and NOTIFYs).
    contacts: Vec<(Transport, String)>,
    presentities: HashMap<String, Presentity>,
    /// Presence rules per presentity (absent: the default policy).
    rules: HashMap<String, RuleSet>,
    /// Boxed: a map bucket stays small, and 100,000 subscriptions do not
    /// carry a map's growth slack of full-size entries.
    subs: HashMap<SubId, Box<Watch>>,
    in_flight: HashMap<TransactionKey, SubId>,
    /// NOTIFY flow control per destination (the address the SUBSCRIBE came
    /// from): at most `notify_window` NOTIFYs unanswered, the rest wait.
    dests: HashMap<SocketAddr, Dest>,
    /// The destination whose NOTIFY window a subscription holds a slot of,
    /// from its NOTIFY's creation to its final outcome (beside the
    /// subscriptions, not in them: few hold one at a time).
    slots: HashMap<SubId, SocketAddr>,
    /// What judging the restored subscriptions asked for, until the
    /// driver takes it ([`take_restored`](Self::take_restored)).
    restored: Effects,
    /// Tags of responses outside dialogs: a random prefix per run and a
    /// counter.
    tag_prefix: u32,
    tag_counter: std::cell::Cell<u64>,
}

/// The entity URI of a presentity's documents: the AOR itself when it is
/// a URI (Herald's registrar writes `sip:user@domain`), else `sip:` + it.
pub fn presentity_uri(aor: &str) -> String {
    if aor.contains(':') {
        aor.to_owned()
    } else {
        format!("sip:{aor}")
    }
}

/// Random characters in a subscription's tag: 14 alphanumerics are 83
/// bits (RFC 3261 §19.3 asks for at least 32), and with the "hp" prefix
/// the tag is 16 bytes, so the shared id fits the allocator's 32-byte class
/// (each held subscription has one; it is also in the dialog, the stored
/// row and every NOTIFY).
const TAG_RANDOM: usize = 14;

fn new_tag() -> String {
    // Unguessable and unique: the tag names the subscription.
    sip_proto::random_token("hp", TAG_RANDOM)
}

impl Watch {
    /// Where its NOTIFYs go.
    pub(crate) fn peer(&self) -> Peer {
        Peer {
            transport: self.transport,
            remote: self.remote,
            flow: self.flow,
        }
    }

    /// A refresh came from `peer`: NOTIFYs go there from now on.
    pub(crate) fn set_peer(&mut self, peer: Peer) {
        self.transport = peer.transport;
        self.remote = peer.remote;
        self.flow = peer.flow;
    }

    /// The watcher's URI: the dialog's remote URI, the From of the
    /// SUBSCRIBE (RFC 3261 §12.1.1).
    pub(crate) fn watcher(&self) -> &str {
        self.sub.dialog.remote_uri()
    }
}

impl PresenceAgent {
    /// An agent with nothing published and nobody watching. `contacts` is
    /// our Contact URI for each transport we listen on (the first is used
    /// for transports not listed).
    pub fn new(cfg: PresenceConfig, contacts: Vec<(Transport, String)>) -> PresenceAgent {
        let mut registry = EventRegistry::new();
        registry.register(EventPackage {
            name: PRESENCE.into(),
            produces: vec![simple_pidf::MEDIA_TYPE.into()],
            min_expires: cfg.subscribe_min_expires,
            max_expires: cfg.subscribe_max_expires,
            default_expires: cfg.subscribe_default_expires,
        });
        registry.register(EventPackage {
            name: PRESENCE_WINFO.into(),
            produces: vec![simple_pidf::WATCHERINFO_MEDIA_TYPE.into()],
            min_expires: cfg.subscribe_min_expires,
            max_expires: cfg.subscribe_max_expires,
            default_expires: cfg.subscribe_default_expires,
        });
        let limits = PublishLimits {
            min_expires: cfg.publish_min_expires,
            max_expires: cfg.publish_max_expires,
            default_expires: cfg.publish_default_expires,
        };
        PresenceAgent {
            cfg,
            registry,
            limits,
            contacts,
            presentities: HashMap::new(),
            rules: HashMap::new(),
            subs: HashMap::new(),
            in_flight: HashMap::new(),
            dests: HashMap::new(),
            slots: HashMap::new(),
            restored: Effects::default(),
            tag_prefix: rand::random(),
            tag_counter: std::cell::Cell::new(0),
        }
    }

    /// The event packages served, for Allow-Events.
    pub fn allow_events(&self) -> String {
        self.registry.allow_events()
    }

    /// Does this agent serve the event package of `req` (its Event header)?
    pub fn serves_event(&self, req: &SipMessage) -> bool {
        matches!(req.event(), Ok(Some(e)) if self.registry.get(e.event_type).is_some())
    }

    /// Is `req` (an in-dialog SUBSCRIBE) for one of our subscriptions?
    pub fn owns_dialog(&self, req: &SipMessage) -> bool {
        self.find_dialog(req).is_some()
    }

    /// Number of live subscriptions.
    pub fn subscription_count(&self) -> usize {
        self.subs.len()
    }

    /// Number of live publications.
    pub fn publication_count(&self) -> usize {
        self.presentities.values().map(|p| p.pubs.len()).sum()
    }

    /// The presentities with at least one watcher (the driver checks their
    /// registration state).
    pub fn watched(&self) -> impl Iterator<Item = &str> {
        self.presentities
            .iter()
            .filter(|(_, p)| !p.watchers.is_empty())
            .map(|(a, _)| a.as_str())
    }

    /// The composed document of `aor` now (what an active watcher is sent).
    pub fn document(&mut self, aor: &str, now_ms: u64) -> Bytes {
        let p = self.presentities.entry(aor.to_owned()).or_default();
        compose_doc(&self.cfg, aor, p, now_ms)
    }

    fn plain_tag(&self) -> Tag {
        let n = self.tag_counter.get().wrapping_add(1);
        self.tag_counter.set(n);
        // `hr<prefix>-<n>` in hex, written without `format!` (every
        // PUBLISH answer carries one).
        let mut t = String::with_capacity(2 + 8 + 1 + 16);
        t.push_str("hr");
        sip_msg::misc::push_hex(&mut t, u64::from(self.tag_prefix), 1);
        t.push('-');
        sip_msg::misc::push_hex(&mut t, n, 1);
        Tag::new(t)
    }

    fn contact_for(&self, t: Transport) -> String {
        self.contacts
            .iter()
            .find(|(x, _)| *x == t)
            .or_else(|| self.contacts.first())
            .map(|(_, c)| c.clone())
            .unwrap_or_default()
    }

    fn find_dialog(&self, req: &SipMessage) -> Option<&SubId> {
        let to = req.to().ok()?;
        let (id, w) = self.subs.get_key_value(to.tag()?)?;
        let call_id = req.call_id().ok()?;
        (w.sub.dialog.call_id() == call_id).then_some(id)
    }

    /// `aor`'s entry's shared AOR (the entry made if need be).
    fn shared_aor(&mut self, aor: &str) -> Arc<str> {
        let p = self.presentities.entry(aor.to_owned()).or_default();
        p.shared_aor.get_or_insert_with(|| aor.into()).clone()
    }

    /// A restored subscription names its package and media type with the
    /// registry's shared strings.
    fn share_event_names(&self, sub: &mut ServerSubscription) {
        if let Some(pkg) = self.registry.get(&sub.package) {
            sub.package = pkg.name.clone();
            if let Some(ct) = pkg.produces.iter().find(|c| **c == sub.content_type) {
                sub.content_type = ct.clone();
            }
        }
    }

    /// The shared id of subscription `id` (the table's key).
    fn shared_id(&self, id: &str) -> Option<SubId> {
        self.subs.get_key_value(id).map(|(k, _)| k.clone())
    }

    // ----- responses -------------------------------------------------------

    fn reply(
        &self,
        req: &SipMessage,
        status: u16,
        reason: &str,
        headers: &[(HeaderName, String)],
        tag: Option<&Tag>,
    ) -> Option<SipMessage> {
        let fresh;
        let tag = match tag {
            Some(t) => t,
            None => {
                // Not a dialog: a tag unique to this process run is enough
                // (RFC 3261 §19.3 asks for global uniqueness, which the
                // random prefix gives across runs).
                fresh = self.plain_tag();
                &fresh
            }
        };
        let mut b = response_builder(req, status, reason, Some(tag)).ok()?;
        for (h, v) in headers {
            b = b.header(*h, v);
        }
        b.header(HeaderName::Server, &self.cfg.server).build().ok()
    }

    /// A response sent at once.
    fn respond(
        &self,
        fx: &mut Effects,
        key: TransactionKey,
        req: &SipMessage,
        status: u16,
        reason: &str,
        headers: &[(HeaderName, String)],
    ) {
        if let Some(msg) = self.reply(req, status, reason, headers, None) {
            fx.responses.push(Response {
                key,
                msg,
                after_commit: false,
            });
        }
    }

    /// A 200 sent once the store writes of this step are durable.
    fn respond_durable(
        &self,
        fx: &mut Effects,
        key: TransactionKey,
        req: &SipMessage,
        headers: &[(HeaderName, String)],
    ) {
        if let Some(msg) = self.reply(req, 200, "OK", headers, None) {
            fx.responses.push(Response {
                key,
                msg,
                after_commit: true,
            });
        }
    }

    fn refuse(&self, fx: &mut Effects, key: TransactionKey, req: &SipMessage, r: &Refusal) {
        self.respond(fx, key, req, r.status, &r.reason, &r.headers);
    }

    // ----- PUBLISH (RFC 3903) ------------------------------------------------

    /// A PUBLISH for the presentity `aor` ("user@domain") whose sender the
    /// driver has already authorised to publish for it (RFC 3903 §6 step 2).
    pub fn handle_publish(
        &mut self,
        now_ms: u64,
        key: TransactionKey,
        req: &SipMessage,
        aor: &str,
        publisher: &str,
    ) -> Effects {
        let mut fx = Effects::default();
        if req.body().len() > self.cfg.max_document_bytes {
            let reason = format!(
                "Request Entity Too Large: documents are limited to {} bytes",
                self.cfg.max_document_bytes
            );
            self.respond(&mut fx, key, req, 413, &reason, &[]);
            return fx;
        }
        let op = match classify_publish(&self.registry, self.limits, req) {
            Ok(op) => op,
            Err(r) => {
                self.refuse(&mut fx, key, req, &r);
                return fx;
            }
        };
        let (etag, expires) = match op {
            PublishOp::Initial { expires } => {
                let doc = match self.new_document(req) {
                    Ok(d) => d,
                    Err(r) => {
                        self.refuse(&mut fx, key, req, &r);
                        return fx;
                    }
                };
                let p = self.presentities.entry(aor.to_owned()).or_default();
                if p.pubs.len() >= self.cfg.max_publications_per_presentity {
                    self.respond(
                        &mut fx,
                        key,
                        req,
                        403,
                        "Forbidden: too many publications for this presentity",
                        &[],
                    );
                    return fx;
                }
                let etag = new_etag();
                let pb = Pub {
                    etag: etag.clone(),
                    doc,
                    content_type: content_type_of(req),
                    body: req.body().to_vec(),
                    expires_at_ms: now_ms + u64::from(expires) * 1000,
                    updated_ms: now_ms,
                    created_ms: now_ms,
                    publisher: publisher.to_owned(),
                };
                fx.store.pub_puts.push(persist::pub_row(aor, &pb));
                p.pubs.push(pb);
                self.changed(aor, now_ms, &mut fx);
                (etag, expires)
            }
            PublishOp::Refresh { etag, expires } | PublishOp::Modify { etag, expires } => {
                let modify = !req.body().is_empty();
                let doc = if modify {
                    match self.new_document(req) {
                        Ok(d) => Some(d),
                        Err(r) => {
                            self.refuse(&mut fx, key, req, &r);
                            return fx;
                        }
                    }
                } else {
                    None
                };
                let Some(pb) = self.find_pub(aor, &etag, now_ms) else {
                    // RFC 3903 §6 step 3: unknown or expired entity tag.
                    self.respond(
                        &mut fx,
                        key,
                        req,
                        412,
                        "Conditional Request Failed: unknown or expired entity tag",
                        &[],
                    );
                    return fx;
                };
                fx.store.pub_removes.push(PublicationKey {
                    aor: aor.to_owned(),
                    event: PRESENCE.to_owned(),
                    etag: pb.etag.clone(),
                });
                // §6 step 5 / 7: every successful PUBLISH gets a new tag.
                pb.etag = new_etag();
                pb.expires_at_ms = now_ms + u64::from(expires) * 1000;
                if let Some(doc) = doc {
                    pb.doc = doc;
                    pb.body = req.body().to_vec();
                    pb.content_type = content_type_of(req);
                    pb.updated_ms = now_ms;
                }
                let etag = pb.etag.clone();
                fx.store.pub_puts.push(persist::pub_row(aor, pb));
                if modify {
                    self.changed(aor, now_ms, &mut fx);
                }
                (etag, expires)
            }
            PublishOp::Remove { etag } => {
                let Some(p) = self.presentities.get_mut(aor) else {
                    self.respond(
                        &mut fx,
                        key,
                        req,
                        412,
                        "Conditional Request Failed: unknown or expired entity tag",
                        &[],
                    );
                    return fx;
                };
                let Some(i) = p
                    .pubs
                    .iter()
                    .position(|x| x.etag == etag && x.expires_at_ms > now_ms)
                else {
                    self.respond(
                        &mut fx,
                        key,
                        req,
                        412,
                        "Conditional Request Failed: unknown or expired entity tag",
                        &[],
                    );
                    return fx;
                };
                let gone = p.pubs.remove(i);
                fx.store.pub_removes.push(PublicationKey {
                    aor: aor.to_owned(),
                    event: PRESENCE.to_owned(),
                    etag: gone.etag,
                });
                self.changed(aor, now_ms, &mut fx);
                // §6 step 6 (removal): 200 with Expires 0.
                self.respond_durable(&mut fx, key, req, &[(HeaderName::Expires, "0".to_owned())]);
                return fx;
            }
        };
        self.respond_durable(
            &mut fx,
            key,
            req,
            &[
                (HeaderName::SipETag, etag),
                (HeaderName::Expires, expires.to_string()),
            ],
        );
        fx
    }

    /// The PIDF of a PUBLISH body, or the refusal: 415 for another type,
    /// 400 with the parser's reason for a malformed document (RFC 3903 §6
    /// steps 4–5; the stored state is untouched either way).
    fn new_document(&self, req: &SipMessage) -> Result<Presence, Refusal> {
        check_content_type(req, &[simple_pidf::MEDIA_TYPE])?;
        simple_pidf::parse(req.body()).map_err(|e| {
            let mut reason = format!("Bad Request: invalid PIDF: {e}");
            reason.retain(|c| c != '\r' && c != '\n');
            Refusal::new(400, &reason)
        })
    }

    fn find_pub(&mut self, aor: &str, etag: &str, now_ms: u64) -> Option<&mut Pub> {
        self.presentities
            .get_mut(aor)?
            .pubs
            .iter_mut()
            .find(|p| p.etag == etag && p.expires_at_ms > now_ms)
    }

    // ----- SUBSCRIBE (RFC 6665, RFC 3856) ------------------------------------

    /// A SUBSCRIBE: initial (no To tag) for the local presentity `aor`, or
    /// in one of our dialogs (refresh, or Expires 0 to end it). `auth` is
    /// the authorization decision for a new watcher; `registered` whether
    /// the presentity has registered contacts now.
    #[allow(clippy::too_many_arguments)]
    pub fn handle_subscribe(
        &mut self,
        now_ms: u64,
        key: TransactionKey,
        req: &SipMessage,
        peer: Peer,
        aor: &str,
        auth: SubscribeAuth,
        registered: bool,
    ) -> Effects {
        let mut fx = Effects::default();
        if req.to_tag().is_ok_and(|t| t.is_some()) {
            self.refresh(now_ms, key, req, peer, &mut fx);
            return fx;
        }
        let params = match self.registry.check_subscribe(req) {
            Ok(p) => p,
            Err(r) => {
                self.refuse(&mut fx, key, req, &r);
                return fx;
            }
        };
        let watcher = req
            .from()
            .map(|f| f.addr.uri.as_str().to_owned())
            .unwrap_or_default();
        let winfo = &*params.package == PRESENCE_WINFO;
        let access = if winfo {
            // RFC 3857 §5.1 leaves it to policy; ours: only the presentity
            // herself sees who watches her.
            let me = authz::user_at_domain(aor);
            if me.is_none() || me != authz::user_at_domain(&watcher) {
                self.respond(
                    &mut fx,
                    key,
                    req,
                    403,
                    "Forbidden: only the presentity may watch her watchers",
                    &[],
                );
                return fx;
            }
            Access::everything()
        } else {
            match auth {
                SubscribeAuth::Allow => Access::everything(),
                SubscribeAuth::Pending => Access::of(SubHandling::Confirm),
                SubscribeAuth::Block => Access::of(SubHandling::Block),
                SubscribeAuth::Rules => self.decide(aor, &watcher, now_ms),
            }
        };
        if access.handling == SubHandling::Block {
            // RFC 5025 §3.2.1: block — the subscription is rejected.
            self.respond(
                &mut fx,
                key,
                req,
                403,
                "Forbidden: not authorized to watch this presentity",
                &[],
            );
            return fx;
        }
        if params.expires > 0 && self.subs.len() >= self.cfg.max_subscriptions {
            self.respond(
                &mut fx,
                key,
                req,
                503,
                "Service Unavailable: subscription limit reached",
                &[(HeaderName::RetryAfter, "60".to_owned())],
            );
            return fx;
        }
        let tag = Tag::new(new_tag());
        // RFC 5025 §3.2.1: allow and polite-block are active (the latter
        // with a document that reveals nothing), confirm is pending until the
        // presentity decides.
        let (status, reason, state) = match access.handling {
            SubHandling::Confirm => (202, "Accepted", SubState::Pending),
            _ => (200, "OK", SubState::Active),
        };
        let contact = self.contact_for(peer.transport);
        let headers = [
            (HeaderName::Expires, params.expires.to_string()),
            (HeaderName::Contact, format!("<{contact}>")),
        ];
        let Some(resp) = self.reply(req, status, reason, &headers, Some(&tag)) else {
            return fx;
        };
        let sub = match ServerSubscription::new(req, &resp, &params, state.clone(), now_ms) {
            Ok(s) => s,
            Err(e) => {
                let mut reason = format!("Bad Request: {e}");
                reason.retain(|c| c != '\r' && c != '\n');
                self.respond(&mut fx, key, req, 400, &reason, &[]);
                return fx;
            }
        };
        fx.responses.push(Response {
            key,
            msg: resp,
            after_commit: false,
        });
        let p = self.presentities.entry(aor.to_owned()).or_default();
        let reg_changed = self.cfg.registration_feeds_presence && p.registered != Some(registered);
        p.registered = Some(registered);
        if reg_changed {
            // Everyone already watching hears of it too.
            self.changed(aor, now_ms, &mut fx);
        }
        let mut w = Watch {
            sub,
            aor: self.shared_aor(aor),
            remote: peer.remote,
            flow: peer.flow,
            transport: peer.transport,
            in_flight: None,
            dirty: false,
            retries_left: self.cfg.notify_retries_u8(),
            access,
            winfo: winfo.then(|| WinfoState::fresh(0)),
            waiting: false,
            cseq_reserved: 0,
            created_ms: now_ms,
            updated_ms: now_ms,
        };
        if params.expires == 0 {
            // RFC 6665 §4.4.3 (fetch): one NOTIFY with the state, then the
            // subscription is over; nothing is kept.
            w.sub.terminate(TerminationReason::Timeout, None);
            let id: SubId = tag.as_str().into();
            self.send_final(id, Box::new(w), now_ms, &mut fx);
            return fx;
        }
        let id: SubId = tag.as_str().into();
        w.cseq_reserved = CSEQ_BLOCK;
        fx.store.sub_puts.push(persist::sub_row(&id, &w));
        let entry = (!winfo).then(|| {
            let status = if state == SubState::Active {
                WatcherStatus::Active
            } else {
                WatcherStatus::Pending
            };
            winfo_entry(&id, &w, status, WatcherEvent::Subscribe, now_ms)
        });
        let p = self.presentities.entry(aor.to_owned()).or_default();
        if winfo {
            p.winfo_watchers.push(id.clone());
        } else {
            p.watchers.push(id.clone());
        }
        self.subs.insert(id.clone(), Box::new(w));
        self.queue_notify(&id, now_ms, &mut fx);
        if let Some(e) = entry {
            // RFC 3857 §3.2: the presentity's winfo watchers hear of it.
            self.winfo_event(aor, e, now_ms, &mut fx);
        }
        fx
    }

    fn refresh(
        &mut self,
        now_ms: u64,
        key: TransactionKey,
        req: &SipMessage,
        peer: Peer,
        fx: &mut Effects,
    ) {
        let Some(id) = self.find_dialog(req).cloned() else {
            // RFC 6665 §4.2.1.2 / RFC 3261 §12.2.2: no such subscription.
            self.respond(
                fx,
                key,
                req,
                481,
                "Call/Transaction Does Not Exist: no such subscription",
                &[],
            );
            return;
        };
        let contact = self.contact_for(peer.transport);
        let Some(w) = self.subs.get_mut(&id) else {
            return;
        };
        let params = match w.sub.handle_refresh(&self.registry, req, now_ms) {
            Ok(p) => p,
            Err(r) => {
                self.refuse(fx, key, req, &r);
                return;
            }
        };
        // The refresh's flow is the freshest way back to the watcher.
        w.set_peer(peer);
        if let Some(st) = &mut w.winfo {
            // RFC 3858 §4.4: a refresh brings the full state again.
            st.full = true;
        }
        w.updated_ms = now_ms;
        let tag = Tag::new(w.sub.dialog.local_tag());
        let headers = [
            (HeaderName::Expires, params.expires.to_string()),
            (HeaderName::Contact, format!("<{contact}>")),
        ];
        if let Some(msg) = self.reply(req, 200, "OK", &headers, Some(&tag)) {
            fx.responses.push(Response {
                key,
                msg,
                after_commit: false,
            });
        }
        if params.expires == 0 {
            // RFC 6665 §4.2.1.4 (unsubscribe): a final NOTIFY, then gone.
            self.end(&id, now_ms, fx);
            return;
        }
        let Some(w) = self.subs.get(&id) else { return };
        fx.store.sub_puts.push(persist::sub_row(&id, w));
        // RFC 6665 §4.2.1.2: a NOTIFY follows every accepted refresh.
        self.queue_notify(&id, now_ms, fx);
    }

    // ----- authorization (RFC 5025) and watcher info (RFC 3857) ----------------

    fn decide(&self, aor: &str, watcher: &str, now_ms: u64) -> Access {
        let rules = self.rules.get(aor);
        // The sphere is read only for rules that ask about it.
        let sphere = rules
            .filter(|r| authz::uses_sphere(r))
            .and_then(|_| self.presentities.get(aor))
            .and_then(|p| match &p.model {
                Some(m) => authz::current_sphere(m),
                None => authz::current_sphere(&compose_model(&self.cfg, aor, p, now_ms)),
            });
        authz::decide(
            self.cfg.default_policy,
            rules,
            aor,
            watcher,
            now_ms,
            sphere.as_deref(),
        )
    }

    /// The presentity's rules changed (or were removed: `None`): every
    /// subscription to her is evaluated again at once — pending ones the
    /// rules now allow become active and get her presence, blocked ones are
    /// terminated (reason rejected), polite-blocked ones see "offline", and
    /// changed transformations apply to the NOTIFY sent now. Her winfo
    /// watchers are told of every status change.
    pub fn set_rules(&mut self, aor: &str, rules: Option<RuleSet>, now_ms: u64) -> Effects {
        let mut fx = Effects::default();
        match rules {
            Some(r) => {
                self.rules.insert(aor.to_owned(), r);
            }
            None => {
                self.rules.remove(aor);
            }
        }
        self.reevaluate(aor, now_ms, &mut fx);
        fx
    }

    /// Judges every presence subscription to `aor` again by her current
    /// rules (see [`set_rules`](Self::set_rules)).
    fn reevaluate(&mut self, aor: &str, now_ms: u64, fx: &mut Effects) {
        if self.rules.get(aor).is_some_and(authz::uses_sphere)
            && let Some(p) = self.presentities.get_mut(aor)
        {
            // `decide` reads the sphere from the model: composed once here,
            // not once per watcher.
            composed_model(&self.cfg, aor, p, now_ms);
        }
        let ids = self
            .presentities
            .get(aor)
            .map(|p| p.watchers.clone())
            .unwrap_or_default();
        for id in ids {
            let Some(w) = self.subs.get(&id) else {
                continue;
            };
            let new = self.decide(aor, w.watcher(), now_ms);
            let was_pending = w.sub.state == SubState::Pending;
            match new.handling {
                SubHandling::Block => {
                    let Some((_, mut w)) = self.take_sub(&id, now_ms, fx) else {
                        continue;
                    };
                    // RFC 6665 §4.2.2 / RFC 5025: rejected by policy.
                    w.sub.terminate(TerminationReason::Rejected, None);
                    w.access = new;
                    let e = winfo_entry(
                        &id,
                        &w,
                        WatcherStatus::Terminated,
                        WatcherEvent::Rejected,
                        now_ms,
                    );
                    self.send_final(id, w, now_ms, fx);
                    self.winfo_event(aor, e, now_ms, fx);
                }
                SubHandling::Confirm if !was_pending => {
                    let (state, status, event) = (
                        SubState::Pending,
                        WatcherStatus::Pending,
                        WatcherEvent::Subscribe,
                    );
                    self.move_to(aor, &id, new, state, status, event, now_ms, fx);
                }
                SubHandling::Confirm => {
                    if let Some(w) = self.subs.get_mut(&id) {
                        w.access = new;
                    }
                }
                SubHandling::Allow | SubHandling::PoliteBlock if was_pending => {
                    let (state, status, event) = (
                        SubState::Active,
                        WatcherStatus::Active,
                        WatcherEvent::Approved,
                    );
                    self.move_to(aor, &id, new, state, status, event, now_ms, fx);
                }
                SubHandling::Allow | SubHandling::PoliteBlock => {
                    let Some(w) = self.subs.get_mut(&id) else {
                        continue;
                    };
                    if w.access != new {
                        w.access = new;
                        self.queue_notify(&id, now_ms, fx);
                    }
                }
            }
        }
    }

    /// A subscription's rules changed its state (pending ↔ active): stored,
    /// the watcher told with a NOTIFY, the presentity's winfo watchers with
    /// `status` / `event`.
    #[allow(clippy::too_many_arguments)]
    fn move_to(
        &mut self,
        aor: &str,
        id: &str,
        access: Access,
        state: SubState,
        status: WatcherStatus,
        event: WatcherEvent,
        now_ms: u64,
        fx: &mut Effects,
    ) {
        let Some(w) = self.subs.get_mut(id) else {
            return;
        };
        w.access = access;
        w.sub.state = state;
        let e = winfo_entry(id, w, status, event, now_ms);
        fx.store.sub_puts.push(persist::sub_row(id, w));
        self.queue_notify(id, now_ms, fx);
        self.winfo_event(aor, e, now_ms, fx);
    }

    /// The NOTIFYs and store writes that judging restored subscriptions by
    /// the current rules produced (see [`restore`](Self::restore)); the
    /// driver carries them out once it runs.
    pub fn take_restored(&mut self) -> Effects {
        std::mem::take(&mut self.restored)
    }

    /// The presentity's hard state (her pidf-manipulation document, RFC
    /// 4827) changed or was removed: composed in at once, watchers told.
    pub fn set_hard_state(&mut self, aor: &str, doc: Option<Presence>, now_ms: u64) -> Effects {
        let mut fx = Effects::default();
        let p = self.presentities.entry(aor.to_owned()).or_default();
        p.hard = doc;
        self.changed(aor, now_ms, &mut fx);
        fx
    }

    /// Does the presentity have rules of her own?
    pub fn has_rules(&self, aor: &str) -> bool {
        self.rules.contains_key(aor)
    }

    /// Tells every winfo subscriber of `aor` about one watcher's change
    /// (partial state, RFC 3858 §4.2).
    fn winfo_event(&mut self, aor: &str, entry: Watcher, now_ms: u64, fx: &mut Effects) {
        let ids = self
            .presentities
            .get(aor)
            .map(|p| p.winfo_watchers.clone())
            .unwrap_or_default();
        for id in ids {
            if let Some(w) = self.subs.get_mut(&id)
                && let Some(st) = &mut w.winfo
            {
                st.pending.retain(|e| e.id != entry.id);
                st.pending.push(entry.clone());
                self.queue_notify(&id, now_ms, fx);
            }
        }
    }

    /// Every current watcher of `aor`'s presence, for a full watcherinfo
    /// document.
    fn winfo_full_list(&self, aor: &str, now_ms: u64) -> Vec<Watcher> {
        let Some(p) = self.presentities.get(aor) else {
            return Vec::new();
        };
        p.watchers
            .iter()
            .filter_map(|wid| {
                let x = self.subs.get(wid)?;
                let status = match x.sub.state {
                    SubState::Active => WatcherStatus::Active,
                    SubState::Pending => WatcherStatus::Pending,
                    SubState::Terminated { .. } => WatcherStatus::Terminated,
                };
                let event = if status == WatcherStatus::Active && x.access.transform.is_some() {
                    WatcherEvent::Approved
                } else {
                    WatcherEvent::Subscribe
                };
                Some(winfo_entry(wid, x, status, event, now_ms))
            })
            .collect()
    }

    /// The next watcherinfo document of a winfo subscription: full state
    /// first (and after a refresh), then the changes since the last one;
    /// the version moves by one per document.
    fn winfo_document(&mut self, id: &str, now_ms: u64) -> Option<Bytes> {
        let w = self.subs.get(id)?;
        let aor = w.aor.clone();
        let full = w.winfo.as_ref().is_some_and(|st| st.full);
        let watchers: Vec<Watcher> = if full {
            self.winfo_full_list(&aor, now_ms)
        } else {
            Vec::new()
        };
        let w = self.subs.get_mut(id)?;
        let st = w.winfo.as_mut()?;
        // RFC 3858 §4.3: the first document is version 0, then one more
        // per document.
        let version = st.version;
        st.version = st.version.wrapping_add(1);
        let (state, list) = if st.full {
            st.full = false;
            st.pending.clear();
            (DocState::Full, watchers)
        } else {
            (DocState::Partial, std::mem::take(&mut st.pending))
        };
        let doc = WatcherInfo {
            version,
            state,
            lists: vec![WatcherList {
                resource: presentity_uri(&aor),
                package: PRESENCE.to_owned(),
                watchers: list,
            }],
        };
        Some(Bytes::from(doc.to_xml()))
    }

    /// What an active presence watcher is sent now: the composed document,
    /// filtered by her rules' transformations, or the polite-block one.
    fn presence_body(&mut self, aor: &str, access: &Access, now_ms: u64) -> Bytes {
        match access.handling {
            // Never a document for a watcher the rules hold back.
            SubHandling::Block | SubHandling::Confirm => Bytes::new(),
            SubHandling::PoliteBlock => {
                Bytes::from(simple_policy::polite_block_document(&presentity_uri(aor)).to_xml())
            }
            _ => match &access.transform {
                None => self.document(aor, now_ms),
                Some(t) => {
                    let p = self.presentities.entry(aor.to_owned()).or_default();
                    let m = composed_model(&self.cfg, aor, p, now_ms);
                    Bytes::from(t.apply(m).to_xml())
                }
            },
        }
    }

    // ----- NOTIFY --------------------------------------------------------------

    /// Sends the current state to one watcher, or marks it to be sent when
    /// its outstanding NOTIFY completes.
    fn queue_notify(&mut self, id: &str, now_ms: u64, fx: &mut Effects) {
        let Some(sid) = self.shared_id(id) else {
            return;
        };
        let Some(w) = self.subs.get_mut(id) else {
            return;
        };
        if w.in_flight.is_some() || self.slots.contains_key(id) {
            w.dirty = true;
            return;
        }
        // A burst to one destination (10,000 watchers behind one proxy or
        // client) goes out as fast as that destination answers, not faster
        // than it can take: what it cannot take is lost and costs a
        // retransmission 500 ms later.
        let dest = self.dests.entry(w.remote).or_default();
        if dest.in_flight >= self.cfg.notify_window {
            w.dirty = true;
            if !w.waiting {
                w.waiting = true;
                dest.waiting.push_back(sid);
            }
            return;
        }
        dest.in_flight += 1;
        self.slots.insert(sid.clone(), w.remote);
        let (active, aor, transport, access, winfo) = (
            w.sub.state == SubState::Active,
            w.aor.clone(),
            w.transport,
            w.access.clone(),
            w.winfo.is_some(),
        );
        let body = if winfo {
            self.winfo_document(id, now_ms)
        } else if active {
            Some(self.presence_body(&aor, &access, now_ms))
        } else {
            None
        };
        let contact = self.contact_for(transport);
        let Some(w) = self.subs.get_mut(id) else {
            return;
        };
        w.dirty = false;
        let ct = w.sub.content_type.clone();
        let built = w
            .sub
            .notify(now_ms, &contact, body.as_ref().map(|b| (&*ct, &b[..])));
        let msg = match built {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(sub = id, error = %e, "NOTIFY not built; subscription ended");
                self.drop_sub(id, now_ms, fx);
                return;
            }
        };
        // Keep the stored CSeq mark ahead of what we use (crate doc).
        let seq = w.sub.dialog.local_seq.unwrap_or(0);
        if seq.saturating_add(CSEQ_BLOCK / 2) > w.cseq_reserved {
            w.cseq_reserved = seq.saturating_add(CSEQ_BLOCK);
            fx.store.sub_puts.push(persist::sub_row(id, w));
        }
        let (request_uri, routes) = w
            .sub
            .dialog
            .request_uri_and_routes()
            .unwrap_or_else(|_| (w.sub.dialog.remote_target().to_owned(), Vec::new()));
        fx.notifies.push(OutNotify {
            sub: sid,
            msg,
            peer: w.peer(),
            request_uri,
            routes,
        });
    }

    /// Sends the terminated NOTIFY of a subscription taken out of the table
    /// (not tracked: its outcome changes nothing).
    fn send_final(&mut self, id: SubId, mut w: Box<Watch>, now_ms: u64, fx: &mut Effects) {
        let rejected = matches!(
            w.sub.state,
            SubState::Terminated {
                reason: Some(TerminationReason::Rejected),
                ..
            }
        );
        // No document for a pending or rejected watcher. A winfo fetch
        // (RFC 6665 §4.4.3: no NOTIFY sent before this one) gets the full
        // state; a winfo subscription's last NOTIFY after others, none.
        let body = if w.sub.content_type.is_empty() || !w.authorized() || rejected {
            None
        } else if let Some(st) = &w.winfo {
            (st.full && st.version == 0).then(|| {
                let doc = WatcherInfo {
                    version: 0,
                    state: DocState::Full,
                    lists: vec![WatcherList {
                        resource: presentity_uri(&w.aor),
                        package: PRESENCE.to_owned(),
                        watchers: self.winfo_full_list(&w.aor, now_ms),
                    }],
                };
                Bytes::from(doc.to_xml())
            })
        } else {
            let aor = w.aor.clone();
            Some(self.presence_body(&aor, &w.access, now_ms))
        };
        let contact = self.contact_for(w.transport);
        let ct = w.sub.content_type.clone();
        match w
            .sub
            .notify(now_ms, &contact, body.as_ref().map(|b| (&*ct, &b[..])))
        {
            Ok(msg) => {
                let (request_uri, routes) = w
                    .sub
                    .dialog
                    .request_uri_and_routes()
                    .unwrap_or_else(|_| (w.sub.dialog.remote_target().to_owned(), Vec::new()));
                fx.notifies.push(OutNotify {
                    sub: id,
                    msg,
                    peer: w.peer(),
                    request_uri,
                    routes,
                });
            }
            Err(e) => tracing::debug!(error = %e, "final NOTIFY not built"),
        }
    }

    /// Ends a subscription: terminated NOTIFY (reason timeout), then it is
    /// removed everywhere.
    fn end(&mut self, id: &str, now_ms: u64, fx: &mut Effects) {
        let Some((sid, mut w)) = self.take_sub(id, now_ms, fx) else {
            return;
        };
        if !matches!(w.sub.state, SubState::Terminated { .. }) {
            w.sub.terminate(TerminationReason::Timeout, None);
        }
        let entry = w.winfo.is_none().then(|| {
            winfo_entry(
                id,
                &w,
                WatcherStatus::Terminated,
                WatcherEvent::Timeout,
                now_ms,
            )
        });
        let aor = w.aor.clone();
        self.send_final(sid, w, now_ms, fx);
        if let Some(e) = entry {
            self.winfo_event(&aor, e, now_ms, fx);
        }
    }

    /// Removes a subscription without telling the watcher (it cannot be
    /// reached, or told us it is gone).
    fn drop_sub(&mut self, id: &str, now_ms: u64, fx: &mut Effects) {
        if let Some((_, w)) = self.take_sub(id, now_ms, fx)
            && w.winfo.is_none()
        {
            // RFC 3857 §3.4 "deactivated": the watcher may subscribe again.
            let e = winfo_entry(
                id,
                &w,
                WatcherStatus::Terminated,
                WatcherEvent::Deactivated,
                now_ms,
            );
            self.winfo_event(&w.aor, e, now_ms, fx);
        }
    }

    /// Takes a subscription out of every table. Its window slot goes to
    /// the next waiting subscription; the presentity's entry stays until
    /// the next tick (a final NOTIFY may still need her document).
    fn take_sub(&mut self, id: &str, now_ms: u64, fx: &mut Effects) -> Option<(SubId, Box<Watch>)> {
        let (sid, w) = self.subs.remove_entry(id)?;
        if let Some(k) = w.in_flight {
            self.in_flight.remove(&k);
        }
        if let Some(p) = self.presentities.get_mut(&*w.aor) {
            p.watchers.retain(|x| &**x != id);
            p.winfo_watchers.retain(|x| &**x != id);
        }
        fx.store.sub_removes.push(id.to_owned());
        let slot = self.slots.remove(id);
        self.release(slot, now_ms, fx);
        Some((sid, w))
    }

    /// The driver sent the NOTIFY of subscription `sub` in client
    /// transaction `key`.
    pub fn notify_sent(&mut self, sub: &str, key: TransactionKey) {
        let Some(sid) = self.shared_id(sub) else {
            return;
        };
        if let Some(w) = self.subs.get_mut(sub) {
            w.in_flight = Some(key);
            self.in_flight.insert(key, sid);
        }
    }

    /// The NOTIFY in flight as transaction `old` was sent again as `new`
    /// (RFC 3261 §18.1.1: a large NOTIFY whose TCP attempt failed goes over
    /// UDP); its outcome now comes from `new`. False if `old` was not ours.
    pub fn notify_resent(&mut self, old: TransactionKey, new: TransactionKey) -> bool {
        let Some(id) = self.in_flight.get(&old).cloned() else {
            return false;
        };
        let Some(w) = self.subs.get_mut(&id).filter(|w| w.in_flight == Some(old)) else {
            return false;
        };
        w.in_flight = Some(new);
        self.in_flight.remove(&old);
        self.in_flight.insert(new, id);
        true
    }

    /// The driver could not send the NOTIFY of `sub` at all (no route, no
    /// connection): treated like a transport error.
    pub fn notify_send_failed(&mut self, now_ms: u64, sub: &str) -> Effects {
        let mut fx = Effects::default();
        self.failed(sub, 503, now_ms, &mut fx);
        fx
    }

    /// Is `key` one of our NOTIFY transactions?
    pub fn is_notify(&self, key: TransactionKey) -> bool {
        self.in_flight.contains_key(&key)
    }

    /// The final outcome of a NOTIFY transaction: the status of the
    /// response, 408 for a timeout, 503 for a transport error.
    pub fn handle_notify_result(
        &mut self,
        now_ms: u64,
        key: TransactionKey,
        status: u16,
    ) -> Effects {
        let mut fx = Effects::default();
        let Some(id) = self.in_flight.remove(&key) else {
            return fx;
        };
        let Some(w) = self.subs.get_mut(&id) else {
            return fx;
        };
        w.in_flight = None;
        let slot = self.slots.remove(&id);
        if (200..300).contains(&status) {
            w.retries_left = self.cfg.notify_retries_u8();
            if w.dirty {
                self.queue_notify(&id, now_ms, &mut fx);
            }
            self.release(slot, now_ms, &mut fx);
            return fx;
        }
        self.release(slot, now_ms, &mut fx);
        self.failed(&id, status, now_ms, &mut fx);
        fx
    }

    /// Frees a slot of a destination's window and lets waiting
    /// subscriptions use it.
    fn release(&mut self, slot: Option<SocketAddr>, now_ms: u64, fx: &mut Effects) {
        let Some(addr) = slot else { return };
        let Some(d) = self.dests.get_mut(&addr) else {
            return;
        };
        d.in_flight = d.in_flight.saturating_sub(1);
        while let Some(d) = self.dests.get_mut(&addr)
            && d.in_flight < self.cfg.notify_window
            && let Some(next) = d.waiting.pop_front()
        {
            if let Some(w) = self.subs.get_mut(&next) {
                w.waiting = false;
                if w.dirty {
                    self.queue_notify(&next, now_ms, fx);
                }
            }
        }
        if self
            .dests
            .get(&addr)
            .is_some_and(|d| d.in_flight == 0 && d.waiting.is_empty())
        {
            self.dests.remove(&addr);
        }
    }

    fn failed(&mut self, id: &str, status: u16, now_ms: u64, fx: &mut Effects) {
        let Some(w) = self.subs.get_mut(id) else {
            return;
        };
        w.in_flight = None;
        if let Some(st) = &mut w.winfo {
            // The lost document's changes are not resent one by one: the
            // next one carries the full state (RFC 3858 §4.4).
            st.full = true;
        }
        let slot = self.slots.remove(id);
        self.release(slot, now_ms, fx);
        let Some(w) = self.subs.get_mut(id) else {
            return;
        };
        // RFC 6665 §4.2.2: a 481 (and any other final error but a
        // transient one) ends the subscription; a timeout or transport
        // error is retried first.
        let transient = matches!(status, 408 | 500 | 503);
        if transient && w.retries_left > 0 {
            w.retries_left -= 1;
            self.queue_notify(id, now_ms, fx);
            return;
        }
        tracing::debug!(sub = id, status, "NOTIFY failed; subscription removed");
        self.drop_sub(id, now_ms, fx);
    }

    // ----- time and registration ------------------------------------------------

    /// Periodic work (about once a second): publications and subscriptions
    /// that expired, and registration changes of watched presentities
    /// (`registered` answers for one AOR).
    pub fn tick(&mut self, now_ms: u64, registered: impl Fn(&str) -> bool) -> Effects {
        let mut fx = Effects::default();
        let mut changed = Vec::new();
        for (aor, p) in &mut self.presentities {
            let before = p.pubs.len();
            p.pubs.retain(|pb| {
                let live = pb.expires_at_ms > now_ms;
                if !live {
                    fx.store.pub_removes.push(PublicationKey {
                        aor: aor.clone(),
                        event: PRESENCE.to_owned(),
                        etag: pb.etag.clone(),
                    });
                }
                live
            });
            let mut dirty = p.pubs.len() != before;
            if self.cfg.registration_feeds_presence && !p.watchers.is_empty() {
                let r = registered(aor);
                if p.registered != Some(r) {
                    p.registered = Some(r);
                    dirty = true;
                }
            }
            if dirty {
                changed.push(aor.clone());
            }
        }
        for aor in changed {
            self.changed(&aor, now_ms, &mut fx);
        }
        // Rules with validity windows (RFC 4745 §7.3) may start or stop
        // matching as time passes: their subscriptions are judged again.
        let timed: Vec<String> = self
            .rules
            .iter()
            .filter(|(_, r)| r.rules.iter().any(|x| !x.conditions.validity.is_empty()))
            .map(|(a, _)| a.clone())
            .collect();
        for aor in timed {
            self.reevaluate(&aor, now_ms, &mut fx);
        }
        let expired: Vec<SubId> = self
            .subs
            .iter()
            .filter(|(_, w)| w.sub.is_expired(now_ms))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            // RFC 6665 §4.2.2: terminated;reason=timeout.
            self.end(&id, now_ms, &mut fx);
        }
        self.presentities.retain(|_, p| {
            !p.pubs.is_empty()
                || !p.watchers.is_empty()
                || !p.winfo_watchers.is_empty()
                || p.hard.is_some()
        });
        fx
    }

    /// The presentity's registration state changed (a REGISTER was
    /// answered): watchers hear at once instead of at the next tick.
    pub fn registration_changed(&mut self, aor: &str, registered: bool, now_ms: u64) -> Effects {
        let mut fx = Effects::default();
        if !self.cfg.registration_feeds_presence {
            return fx;
        }
        let Some(p) = self.presentities.get_mut(aor) else {
            return fx;
        };
        if p.registered != Some(registered) {
            p.registered = Some(registered);
            self.changed(aor, now_ms, &mut fx);
        }
        fx
    }

    /// Recomposes `aor`'s document and tells every active watcher when it
    /// differs from what they were last told.
    fn changed(&mut self, aor: &str, now_ms: u64, fx: &mut Effects) {
        let Some(p) = self.presentities.get_mut(aor) else {
            return;
        };
        let before = p.doc.take();
        p.model = None;
        if p.watchers.is_empty() {
            // Nobody to tell: compose when someone asks.
            return;
        }
        let now = compose_doc(&self.cfg, aor, p, now_ms);
        if before.as_ref() == Some(&now) {
            return;
        }
        let watchers = p.watchers.clone();
        if self.rules.get(aor).is_some_and(authz::uses_sphere) {
            // Her sphere may have changed with the document (RFC 5025
            // §3.1.2): judge her watchers again first.
            self.reevaluate(aor, now_ms, fx);
        }
        for id in watchers {
            // A polite-blocked watcher's document never changes; a NOTIFY
            // at each change would tell her when the presentity is active
            // (RFC 5025 §3.2.1).
            let active = self.subs.get(&id).is_some_and(|w| {
                w.sub.state == SubState::Active && w.access.handling != SubHandling::PoliteBlock
            });
            if active {
                self.queue_notify(&id, now_ms, fx);
            }
        }
    }

    // ----- restart ---------------------------------------------------------------

    /// The store refused a batch of publication writes, so what this agent
    /// holds (and may have told watchers) for `aor` is ahead of the disk.
    /// Replaces her presence publications with `stored` — what
    /// `Publications::publications(aor, "presence")` returns now — and
    /// NOTIFYs her watchers if the composed document changes back. A client
    /// whose PUBLISH was answered 500 then finds its old entity-tag still
    /// valid (or none, for an initial PUBLISH), as after a restart.
    pub fn reload_publications(
        &mut self,
        aor: &str,
        stored: Vec<Publication>,
        now_ms: u64,
    ) -> Effects {
        let pubs: Vec<Pub> = stored
            .into_iter()
            .filter(|r| r.aor == aor && r.event == PRESENCE && r.expires_at_ms > now_ms)
            .filter_map(|r| persist::pub_from_row(&r))
            .collect();
        let mut fx = Effects::default();
        self.presentities.entry(aor.to_owned()).or_default().pubs = pubs;
        self.changed(aor, now_ms, &mut fx);
        fx
    }

    /// Loads what the store kept (its `load_live_*` results). Rows that do
    /// not convert (a document that no longer parses) are skipped and
    /// logged. Returns (publications, subscriptions) restored.
    pub fn restore(
        &mut self,
        now_ms: u64,
        pubs: Vec<Publication>,
        subs: Vec<Subscription>,
        registered: impl Fn(&str) -> bool,
    ) -> (usize, usize) {
        let mut np = 0;
        for row in pubs {
            if row.event != PRESENCE || row.expires_at_ms <= now_ms {
                continue;
            }
            match persist::pub_from_row(&row) {
                Some(pb) => {
                    self.presentities
                        .entry(row.aor.clone())
                        .or_default()
                        .pubs
                        .push(pb);
                    np += 1;
                }
                None => {
                    tracing::warn!(aor = %row.aor, etag = %row.etag, "stored publication skipped: document does not parse")
                }
            }
        }
        let mut ns = 0;
        for row in subs {
            if (row.event != PRESENCE && row.event != PRESENCE_WINFO) || row.expires_at_ms <= now_ms
            {
                continue;
            }
            match persist::watch_from_row(&row, self.cfg.notify_retries_u8()) {
                Some(mut w) => {
                    let id: SubId = row.id.as_str().into();
                    w.aor = self.shared_aor(&w.aor);
                    self.share_event_names(&mut w.sub);
                    let p = self.presentities.entry(w.aor.to_string()).or_default();
                    if row.event == PRESENCE_WINFO {
                        // Versions go on above any sent before (the CSeq mark
                        // does), with the full state first.
                        w.winfo = Some(WinfoState::fresh(row.local_cseq));
                        p.winfo_watchers.push(id.clone());
                    } else {
                        p.watchers.push(id.clone());
                        // The rules loaded before the subscriptions decide
                        // (spheres: judged again by `reevaluate` below).
                        w.access = authz::decide(
                            self.cfg.default_policy,
                            self.rules.get(&*w.aor),
                            &w.aor,
                            w.watcher(),
                            now_ms,
                            None,
                        );
                    }
                    self.subs.insert(id, Box::new(w));
                    ns += 1;
                }
                None => tracing::warn!(id = %row.id, "stored subscription skipped: unreadable"),
            }
        }
        // What watchers were last told is not stored: take it to be the
        // document now, with the registrations the registrar restored, so a
        // restart sends no NOTIFY unless something changed meanwhile.
        for (aor, p) in &mut self.presentities {
            if !p.watchers.is_empty() {
                p.registered = Some(registered(aor));
            }
            p.doc = Some(compose_doc(&self.cfg, aor, p, now_ms));
        }
        // The rules may have changed while we were down: judge every
        // restored subscription by them now (pending ones the rules allow
        // become active, blocked ones end).
        let mut fx = Effects::default();
        let aors: Vec<String> = self
            .presentities
            .iter()
            .filter(|(_, p)| !p.watchers.is_empty())
            .map(|(a, _)| a.clone())
            .collect();
        for aor in &aors {
            self.reevaluate(aor, now_ms, &mut fx);
        }
        self.restored = fx;

        (np, ns)
    }
}

impl Watch {
    pub(crate) fn authorized(&self) -> bool {
        !matches!(self.sub.state, SubState::Pending)
    }
}

fn content_type_of(req: &SipMessage) -> String {
    req.header(HeaderName::ContentType)
        .unwrap_or(simple_pidf::MEDIA_TYPE)
        .trim()
        .to_owned()
}

fn registration(cfg: &PresenceConfig, p: &Presentity) -> Registration {
    if !cfg.registration_feeds_presence {
        return Registration::Unknown;
    }
    match p.registered {
        Some(true) => Registration::Registered,
        Some(false) => Registration::Unregistered,
        None => Registration::Unknown,
    }
}

fn compose_model(cfg: &PresenceConfig, aor: &str, p: &Presentity, now_ms: u64) -> Presence {
    let mut sources: Vec<Source<'_>> = p
        .pubs
        .iter()
        .filter(|pb| pb.expires_at_ms > now_ms)
        .map(|pb| Source {
            id: &pb.etag,
            doc: &pb.doc,
            updated_ms: pb.updated_ms,
        })
        .collect();
    // RFC 4827: the user's pidf-manipulation document is hard state; it
    // loses every tie to what her devices publish (simple_pidf::compose).
    if let Some(h) = &p.hard {
        sources.push(Source {
            id: simple_pidf::compose::HARD_STATE_ID,
            doc: h,
            updated_ms: 0,
        });
    }
    compose(&presentity_uri(aor), &sources, registration(cfg, p))
}

/// The composed document, cached until the next change. The model it was
/// written from is not kept: only watchers with transformations need it
/// ([`composed_model`]), and a composed `Presence` is kilobytes per
/// presentity.
fn compose_doc(cfg: &PresenceConfig, aor: &str, p: &mut Presentity, now_ms: u64) -> Bytes {
    if let Some(d) = &p.doc {
        return d.clone();
    }
    let d = Bytes::from(compose_model(cfg, aor, p, now_ms).to_xml());
    p.doc = Some(d.clone());
    p.doc_ms = now_ms;
    d
}

/// The composed document as a model, cached until the next change (for
/// per-watcher transformations, RFC 5025 §3.3).
fn composed_model<'p>(
    cfg: &PresenceConfig,
    aor: &str,
    p: &'p mut Presentity,
    now_ms: u64,
) -> &'p Presence {
    // The model of the cached document: composed as of the same moment
    // (a publication may have expired since, until the next tick).
    let at = if p.doc.is_some() { p.doc_ms } else { now_ms };
    let m = match p.model.take() {
        Some(m) => m,
        None => compose_model(cfg, aor, p, at),
    };
    p.model.insert(m)
}

/// One watcher's entry in a watcherinfo document (RFC 3858 §4.3).
fn winfo_entry(
    id: &str,
    w: &Watch,
    status: WatcherStatus,
    event: WatcherEvent,
    now_ms: u64,
) -> Watcher {
    Watcher {
        id: id.to_owned(),
        status,
        event,
        uri: w.watcher().to_owned(),
        display_name: None,
        expiration: Some(
            u32::try_from(w.sub.expires_at_ms.saturating_sub(now_ms).div_ceil(1000))
                .unwrap_or(u32::MAX),
        ),
        duration_subscribed: Some(
            u32::try_from(now_ms.saturating_sub(w.created_ms) / 1000).unwrap_or(u32::MAX),
        ),
        lang: None,
    }
}

#[cfg(test)]
mod tests {
    /// A held subscription's entry is what 100,000 of them cost: keep it
    /// within its allocator size class (256 B).
    #[test]
    fn a_watch_stays_small() {
        assert!(std::mem::size_of::<super::Watch>() <= 256);
    }

    /// Subscription tags: 16 bytes (the shared id's allocator class), 14 of
    /// them random alphanumerics, never the same twice in a run of many.
    #[test]
    fn subscription_tags_are_short_random_and_distinct() {
        let tags: std::collections::HashSet<String> =
            (0..10_000).map(|_| super::new_tag()).collect();
        assert_eq!(tags.len(), 10_000);
        for t in &tags {
            assert_eq!(t.len(), 16, "{t}");
            assert!(t.starts_with("hp"), "{t}");
            assert!(t[2..].bytes().all(|b| b.is_ascii_alphanumeric()), "{t}");
        }
    }
}
