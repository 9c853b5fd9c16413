//! Page-mode messaging glue (RFC 3428): the store-and-forward silo, delivery
//! reports (RFC 5438 §9) and page-mode rooms, driven from the router.
//! `simple_im` decides; this module does the store calls (spawned tasks that
//! wake the router with their result) and sends the server's own MESSAGEs.
//!
//! Every MESSAGE the server originates (a stored message delivered, a
//! delivery report, a room copy) is a client transaction of ours tracked in
//! [`Im::sends`]; its outcome comes back here, never through the proxy's
//! response context, so a server-generated message is never stored or
//! relayed again (no loops).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use simple_im::imdn::DeliveryStatus;
use simple_im::room::{self, Command};
use simple_im::silo::{self, Next, Outbox};
use simple_registrar::Reply;
use simple_registrar::proxy::{Target, binding_target};
use simple_store::{RoomMember, StoreOutcome, StoredMessage};
use sip_msg::{HeaderName, MessageBuilder, SipMessage};
use sip_net::Ctx;
use sip_proto::TransactionKey;

use super::{Router, Store, now, plain, random_token};
use crate::config::ImSettings;

/// Why the server sent a MESSAGE.
#[derive(Debug)]
enum Purpose {
    /// Delivering a stored message to its recipient.
    Silo(StoredMessage),
    /// A delivery report or a room copy: best effort, nothing follows.
    Notice,
}

/// One logical MESSAGE of ours, forked to every binding of its recipient.
#[derive(Debug)]
struct Group {
    purpose: Purpose,
    /// Branches still without a final response.
    pending: usize,
    /// A 2xx came.
    done: bool,
    /// A branch failed in a way that may pass (408, 480, 5xx, transport):
    /// the message is retried later rather than given up.
    transient: bool,
}

/// The router's page-mode state.
#[derive(Debug)]
pub(crate) struct Im {
    pub(crate) settings: Arc<ImSettings>,
    outbox: Outbox,
    groups: HashMap<u64, Group>,
    /// Our client transaction → its group.
    sends: HashMap<TransactionKey, u64>,
    next_group: u64,
    /// Recipients with stored messages: a new MESSAGE for them is stored
    /// behind those instead of overtaking them live, and only their
    /// REGISTERs start a delivery run (a REGISTER of anyone else costs no
    /// store query). Loaded from the store at startup
    /// ([`Router::im_preload_backlog`]) and kept by every store, load and
    /// delete since; a message whose store races with a REGISTER is picked up
    /// by the periodic sweep.
    backlog: std::collections::HashSet<String>,
    /// Recipients for whom a message was stored after their delivery run
    /// last loaded: the run must look again before it ends.
    stored_during_run: std::collections::HashSet<String>,
    /// `store_message` calls under way per recipient: until they answer, a
    /// live MESSAGE queues behind them and the backlog is not cleared.
    storing: HashMap<String, usize>,
    /// Forked MESSAGEs' deadlines, oldest first.
    deadlines: std::collections::VecDeque<(std::time::Instant, TransactionKey)>,
    /// MESSAGEs stored while proxied (server transaction → the stored id,
    /// `None` until the store answers). A device may still answer 2xx after
    /// the deadline stored the message: it then has it, and the stored copy
    /// is deleted so it is not delivered twice. Ends with the transaction.
    stored_live: HashMap<TransactionKey, Option<u64>>,
    /// Of those, the ones a device took before the store answered.
    taken_before_stored: std::collections::HashSet<TransactionKey>,
}

impl Im {
    pub(crate) fn new(settings: ImSettings) -> Self {
        Im {
            settings: Arc::new(settings),
            outbox: Outbox::new(),
            groups: HashMap::new(),
            sends: HashMap::new(),
            next_group: 0,
            backlog: std::collections::HashSet::new(),
            stored_during_run: std::collections::HashSet::new(),
            storing: HashMap::new(),
            deadlines: std::collections::VecDeque::new(),
            stored_live: HashMap::new(),
            taken_before_stored: std::collections::HashSet::new(),
        }
    }
}

/// Wakes: results of the spawned store calls, and the sweep clock.
pub(crate) enum ImWake {
    /// `store_message` answered for a MESSAGE we hold the transaction of.
    Stored {
        key: TransactionKey,
        msg: Box<SipMessage>,
        recipient: String,
        outcome: Result<StoreOutcome, String>,
    },
    /// A delivery run's messages.
    Loaded {
        recipient: String,
        msgs: Result<Vec<StoredMessage>, String>,
    },
    /// The message is deleted (or failed to be): go on. `delivered`: a 2xx
    /// took it; otherwise it was given up.
    Removed { msg: StoredMessage, delivered: bool },
    /// The periodic sweep's findings.
    Swept {
        due: Vec<String>,
        expired: Vec<StoredMessage>,
    },
    /// A room message with the room's members after the sender's join.
    Room {
        key: TransactionKey,
        msg: Box<SipMessage>,
        room: String,
        sender: String,
        command: Command,
        joined: bool,
        members: Result<Vec<RoomMember>, String>,
    },
    /// Time to sweep.
    Tick,
}

/// How long a forked MESSAGE waits for its devices before what is still
/// silent counts as unavailable (stored, 202): well inside the sender's own
/// Timer F (32 s), so the 202 reaches a sender still waiting for it.
const MESSAGE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(16);

impl<S: Store> Router<S> {
    /// The canonical AOR of a request's From, when it parses.
    pub(super) fn from_aor(msg: &SipMessage) -> Option<String> {
        let f = msg.from().ok()?;
        let (u, d) = simple_registrar::register::canonical_aor(&f.addr.uri)?;
        Some(simple_registrar::register::aor_string(&u, &d))
    }

    /// A MESSAGE for a local user who cannot take it now: store it (202) or
    /// say why not (480, 413).
    pub(super) fn im_store(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: SipMessage,
        recipient: String,
    ) {
        if let Err(why) = silo::storable(&msg) {
            self.respond(ctx, key, &msg, &plain(480, why.reason()));
            return;
        }
        let Some(sender_aor) = Self::from_aor(&msg) else {
            self.respond(
                ctx,
                key,
                &msg,
                &plain(480, "Temporarily Unavailable: recipient offline"),
            );
            return;
        };
        let cfg = self.im.settings.silo.clone();
        let row = silo::to_store(&msg, &recipient, &sender_aor, now(), &cfg);
        if self.proxied.contains_key(&key) {
            self.im.stored_live.insert(key, None);
        }
        *self.im.storing.entry(recipient.clone()).or_default() += 1;
        let store = self.registrar.store().clone();
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let outcome = store
                .store_message(&row, cfg.quota)
                .await
                .map_err(|e| e.to_string());
            let _ = handle
                .wake(ImWake::Stored {
                    key,
                    msg: Box::new(msg),
                    recipient,
                    outcome,
                })
                .await;
        });
    }

    /// A device answered 2xx to a MESSAGE after it was stored (its
    /// deadline passed first): it has the message, so the stored copy goes.
    pub(super) fn im_taken_live(&mut self, key: TransactionKey) {
        match self.im.stored_live.remove(&key) {
            Some(Some(id)) => self.im_unstore(id),
            Some(None) => {
                self.im.taken_before_stored.insert(key);
                self.im.stored_live.insert(key, None);
            }
            None => {}
        }
    }

    /// The proxied MESSAGE `key` is over: forget its stored copy's id.
    pub(super) fn im_transaction_ended(&mut self, key: TransactionKey) {
        if !self.im.stored_live.is_empty() {
            self.im.stored_live.remove(&key);
            self.im.taken_before_stored.remove(&key);
        }
    }

    /// Deletes stored message `id`, delivered live after all.
    fn im_unstore(&mut self, id: u64) {
        tracing::debug!(
            id,
            "stored MESSAGE delivered live after its deadline: deleted"
        );
        let store = self.registrar.store().clone();
        tokio::spawn(async move {
            if let Err(e) = store.remove_message(id).await {
                tracing::warn!(id, error = %e, "deleting a stored MESSAGE taken live failed");
            }
        });
    }

    pub(super) fn im_wake(&mut self, ctx: &mut Ctx<'_>, w: ImWake) {
        match w {
            ImWake::Stored {
                key,
                msg,
                recipient,
                outcome,
            } => {
                if let Some(n) = self.im.storing.get_mut(&recipient) {
                    *n -= 1;
                    if *n == 0 {
                        self.im.storing.remove(&recipient);
                    }
                }
                let r = match outcome {
                    // RFC 3428 §7: 202 — accepted, delivery later.
                    Ok(StoreOutcome::Stored(id)) => {
                        tracing::debug!(id, "MESSAGE stored for later delivery");
                        if self.im.taken_before_stored.remove(&key) {
                            self.im.stored_live.remove(&key);
                            self.im_unstore(id);
                        } else if let Some(slot) = self.im.stored_live.get_mut(&key) {
                            *slot = Some(id);
                        }
                        if self.im.outbox.running(&recipient) {
                            self.im.stored_during_run.insert(recipient.clone());
                        }
                        self.im.backlog.insert(recipient);
                        plain(
                            202,
                            "Accepted: stored for delivery when the recipient is online",
                        )
                    }
                    Ok(StoreOutcome::OverQuota { messages, bytes }) => {
                        tracing::info!(messages, bytes, "offline store full");
                        let (s, reason) =
                            silo::over_quota_reply(msg.body().len(), &self.im.settings.silo);
                        plain(s, reason)
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "storing a MESSAGE failed");
                        plain(500, "Server Internal Error: message store unavailable")
                    }
                };
                self.respond(ctx, key, &msg, &r);
            }
            ImWake::Loaded { recipient, msgs } => match msgs {
                Ok(msgs) => {
                    if msgs.is_empty() {
                        self.im_backlog_done(&recipient);
                    } else {
                        self.im.backlog.insert(recipient.clone());
                    }
                    let batch = self.im.settings.silo.batch;
                    let next = self.im.outbox.loaded(&recipient, msgs, batch, now());
                    self.im_next(ctx, &recipient, next);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "loading stored messages failed");
                    self.im.outbox.load_failed(&recipient);
                }
            },
            ImWake::Removed { msg, delivered } => {
                let next = if delivered {
                    self.im_report(ctx, &msg, DeliveryStatus::Delivered);
                    self.im.outbox.delivered(&msg.recipient, msg.id)
                } else {
                    tracing::info!(
                        id = msg.id,
                        attempts = msg.attempts,
                        "stored message given up"
                    );
                    self.im_report(ctx, &msg, DeliveryStatus::Failed);
                    self.im.outbox.given_up(&msg.recipient, msg.id)
                };
                self.im_next(ctx, &msg.recipient, next);
            }
            ImWake::Swept { due, expired } => {
                for m in &expired {
                    tracing::info!(id = m.id, recipient = %m.recipient, "stored message expired");
                    self.im_report(ctx, m, DeliveryStatus::Failed);
                }
                for r in due {
                    self.im.backlog.insert(r.clone());
                    self.im_deliver_stored(ctx, &r);
                }
            }
            ImWake::Room {
                key,
                msg,
                room,
                sender,
                command,
                joined,
                members,
            } => self.im_room_members(ctx, key, &msg, &room, &sender, command, joined, members),
            ImWake::Tick => self.im_sweep(),
        }
    }

    /// The periodic sweep: due retries, expiry, idle room members.
    fn im_sweep(&mut self) {
        let store = self.registrar.store().clone();
        let handle = self.handle.clone();
        let idle_ms = self.im.settings.rooms.idle_ms;
        tokio::spawn(async move {
            let now = now();
            let due = store.due_recipients(now).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "due recipients not read");
                Vec::new()
            });
            let expired = store.take_expired_messages(now).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "expired messages not swept");
                Vec::new()
            });
            match store.remove_idle_members(now.saturating_sub(idle_ms)).await {
                Ok(gone) => {
                    for m in gone {
                        tracing::info!(room = %m.room, member = %m.member, "idle member left");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "idle members not swept"),
            }
            if !due.is_empty() || !expired.is_empty() {
                let _ = handle.wake(ImWake::Swept { due, expired }).await;
            }
        });
    }

    /// Nothing stored is known to wait for `recipient` any more: she leaves
    /// the backlog, unless a message was stored since her run last loaded
    /// or a store is still under way (then the backlog must keep holding
    /// live messages back).
    fn im_backlog_done(&mut self, recipient: &str) {
        if !self.im.stored_during_run.contains(recipient)
            && !self.im.storing.contains_key(recipient)
        {
            self.im.backlog.remove(recipient);
        }
    }

    /// Recipients with stored messages, read from the store at startup:
    /// their next REGISTER delivers, and live messages queue behind.
    pub(crate) fn im_preload_backlog(&mut self, recipients: Vec<String>) {
        self.im.backlog.extend(recipients);
    }

    /// The recipient registered (or a retry is due): start a delivery run
    /// if she has stored messages, a live binding, and no run going.
    pub(super) fn im_deliver_stored(&mut self, _ctx: &mut Ctx<'_>, recipient: &str) {
        if !self.im.backlog.contains(recipient)
            || !self.has_live_binding(recipient)
            || !self.im.outbox.start(recipient)
        {
            return;
        }
        self.im_load(recipient);
    }

    /// The next batch of the recipient's stored messages, oldest first
    /// (answered with [`ImWake::Loaded`]).
    fn im_load(&mut self, recipient: &str) {
        // What is stored from now on may be missed by this load.
        self.im.stored_during_run.remove(recipient);
        let store = self.registrar.store().clone();
        let handle = self.handle.clone();
        let batch = self.im.settings.silo.batch;
        let recipient = recipient.to_owned();
        tokio::spawn(async move {
            let msgs = store
                .messages_for(&recipient, batch)
                .await
                .map_err(|e| e.to_string());
            let _ = handle.wake(ImWake::Loaded { recipient, msgs }).await;
        });
    }

    fn has_live_binding(&self, aor: &str) -> bool {
        let now = simple_registrar::now_ms();
        self.registrar.location().live(aor, now).next().is_some()
    }

    fn im_next(&mut self, ctx: &mut Ctx<'_>, recipient: &str, next: Next) {
        match next {
            // Messages stored while the run went on come after it: look
            // again; otherwise everything stored has been delivered.
            Next::Done if self.im.stored_during_run.contains(recipient) => {
                self.im.backlog.insert(recipient.to_owned());
                self.im_deliver_stored(ctx, recipient);
            }
            Next::Done => self.im_backlog_done(recipient),
            // The run goes on with the next batch.
            Next::Load => self.im_load(recipient),
            Next::Send(m) => {
                let call_id = format!("{}@silo", random_token());
                let sent = self.send_to_aor(ctx, recipient, Purpose::Silo(m.clone()), |t| {
                    silo::delivery_request(&m, &t.request_uri, &t.routes, &call_id)
                });
                if !sent {
                    // Gone offline between the load and now.
                    self.im_failed(&m);
                }
            }
        }
    }

    /// A delivery attempt failed on every branch: reschedule, end the run.
    fn im_failed(&mut self, m: &StoredMessage) {
        let (attempts, next) =
            self.im
                .outbox
                .failed(&m.recipient, m, now(), &self.im.settings.silo);
        tracing::debug!(
            id = m.id,
            attempts,
            "stored message not delivered, retry later"
        );
        let store = self.registrar.store().clone();
        let id = m.id;
        tokio::spawn(async move {
            if let Err(e) = store.reschedule_message(id, attempts, next).await {
                tracing::warn!(error = %e, "stored message not rescheduled");
            }
        });
    }

    /// A delivery report (RFC 5438 §9) to the sender of `m`, if it asked for
    /// one of this kind and is a local user with a binding. Never stored.
    fn im_report(&mut self, ctx: &mut Ctx<'_>, m: &StoredMessage, status: DeliveryStatus) {
        let Some(n) = silo::report(m, status, &m.recipient, now()) else {
            return;
        };
        let call_id = format!("{}@imdn", random_token());
        let from = format!("<{}>;tag={}", m.recipient, random_token());
        let to = m.sender_aor.clone();
        let body = Bytes::from(n.body);
        let sent = self.send_to_aor(ctx, &to, Purpose::Notice, |t| {
            room::copy_request(
                &from,
                &to,
                &t.request_uri,
                &t.routes,
                &call_id,
                n.content_type,
                body.clone(),
            )
        });
        if !sent {
            tracing::debug!(sender = %to, "delivery report dropped: sender not reachable");
        }
    }

    /// Sends one MESSAGE of ours to every live binding of `aor`; false when
    /// none could be sent.
    fn send_to_aor(
        &mut self,
        ctx: &mut Ctx<'_>,
        aor: &str,
        purpose: Purpose,
        build: impl Fn(&Target) -> MessageBuilder,
    ) -> bool {
        let now_i = simple_registrar::now_ms();
        let targets: Vec<Target> = {
            let loc = self.registrar.location();
            loc.live(aor, now_i)
                .filter_map(|b| binding_target(b, |f| ctx.flow_alive(f)))
                .collect()
        };
        let group = self.im.next_group;
        self.im.next_group += 1;
        let mut pending = 0;
        for t in &targets {
            let Some(local) = Self::local_for(ctx, t.peer.transport, t.peer.remote) else {
                continue;
            };
            let via = self.our_via(t.peer.transport, local, 0);
            let msg = match build(t).header(HeaderName::Via, &via).build() {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "server MESSAGE not built");
                    continue;
                }
            };
            let (msg, peer) = super::large_over_tcp(msg, t.peer);
            match ctx.send_request(msg, peer) {
                Ok(k) => {
                    self.im.sends.insert(k, group);
                    pending += 1;
                }
                Err(e) => tracing::debug!(error = %e, "server MESSAGE not sent"),
            }
        }
        if pending == 0 {
            return false;
        }
        self.im.groups.insert(
            group,
            Group {
                purpose,
                pending,
                done: false,
                transient: false,
            },
        );
        true
    }

    /// The outcome of one of our MESSAGE branches; false when the key is
    /// not ours.
    pub(super) fn im_result(&mut self, ckey: TransactionKey, status: u16) -> bool {
        let Some(&gid) = self.im.sends.get(&ckey) else {
            return false;
        };
        if status < 200 {
            return true;
        }
        self.im.sends.remove(&ckey);
        let Some(g) = self.im.groups.get_mut(&gid) else {
            return true;
        };
        g.pending = g.pending.saturating_sub(1);
        let first_success = status < 300 && !g.done;
        if first_success {
            g.done = true;
        }
        if status >= 300 && !silo::permanent_failure(status) {
            g.transient = true;
        }
        let transient = g.transient;
        let delivered = match &g.purpose {
            Purpose::Silo(m) if first_success => Some(m.clone()),
            _ => None,
        };
        let failed = if g.pending == 0 {
            match self.im.groups.remove(&gid) {
                Some(Group {
                    purpose: Purpose::Silo(m),
                    done: false,
                    ..
                }) => Some(m),
                _ => None,
            }
        } else {
            None
        };
        if let Some(m) = delivered {
            // The last stored message is taken: from now on live messages
            // no longer overtake anything (the delete below may still be
            // under way).
            if self.im.outbox.in_flight_is_last(&m.recipient) {
                self.im_backlog_done(&m.recipient);
            }
            // Delete first, then the next: a crash in between re-sends at
            // most this one, never skips one.
            self.im_remove(m, true);
        }
        if let Some(m) = failed {
            let cfg = &self.im.settings.silo;
            if !transient || m.attempts.saturating_add(1) >= cfg.max_attempts {
                // Refused for good by every device (415, 488, 603...), or
                // tried too often: give it up so it does not hold back the
                // messages behind it.
                self.im_remove(m, false);
            } else {
                self.im_failed(&m);
            }
        }
        true
    }

    /// Deletes a stored message, then goes on with the run
    /// ([`ImWake::Removed`]).
    fn im_remove(&self, m: StoredMessage, delivered: bool) {
        let store = self.registrar.store().clone();
        let handle = self.handle.clone();
        tokio::spawn(async move {
            if let Err(e) = store.remove_message(m.id).await {
                tracing::warn!(error = %e, "stored message not deleted");
            }
            let _ = handle.wake(ImWake::Removed { msg: m, delivered }).await;
        });
    }

    /// Arms the deadline of a forked MESSAGE (see `fork`): a FIFO (every
    /// deadline is the same length), checked on the router's 1 s tick — no
    /// task or timer per MESSAGE.
    pub(super) fn im_deadline(&mut self, key: TransactionKey) {
        self.im
            .deadlines
            .push_back((std::time::Instant::now() + MESSAGE_DEADLINE, key));
    }

    /// The MESSAGE deadlines that have passed (called every second).
    pub(super) fn im_deadlines_due(&mut self, ctx: &mut Ctx<'_>) {
        let now = std::time::Instant::now();
        while let Some(&(at, key)) = self.im.deadlines.front() {
            if at > now {
                break;
            }
            self.im.deadlines.pop_front();
            self.message_deadline(ctx, key);
        }
    }

    /// Does this local recipient have stored messages a live MESSAGE must
    /// not overtake? (See [`Im::backlog`].)
    pub(super) fn im_has_backlog(&self, recipient: &str) -> bool {
        self.im.backlog.contains(recipient) || self.im.storing.contains_key(recipient)
    }

    /// A MESSAGE to a room `room` (canonical URI) from a local user.
    pub(super) fn im_room(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: SipMessage,
        room: String,
    ) {
        let Some(sender) = Self::from_aor(&msg).filter(|a| {
            a.rsplit_once('@')
                .is_some_and(|(_, d)| self.core.domains.iter().any(|x| x.eq_ignore_ascii_case(d)))
        }) else {
            self.respond(
                ctx,
                key,
                &msg,
                &plain(403, "Forbidden: rooms are for local users"),
            );
            return;
        };
        let ct = msg.header(HeaderName::ContentType).unwrap_or("");
        let command = room::command(ct, msg.body());
        if command == Command::Say && msg.body().is_empty() {
            self.respond(
                ctx,
                key,
                &msg,
                &plain(400, "Bad Request: empty room message"),
            );
            return;
        }
        let store = self.registrar.store().clone();
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let now = now();
            // `joined` means "membership changed": a new member for Say, a
            // member gone for Leave. Members only reads: asking who is
            // there does not make one a (silent) member.
            let joined = if command == Command::Leave {
                store
                    .remove_member(&room, &sender)
                    .await
                    .map_err(|e| e.to_string())
            } else if command == Command::Members {
                Ok(false)
            } else {
                store
                    .put_member(&RoomMember {
                        room: room.clone(),
                        member: sender.clone(),
                        joined_ms: now,
                        last_active_ms: now,
                    })
                    .await
                    .map_err(|e| e.to_string())
            };
            let members = match &joined {
                Ok(_) => store.room_members(&room).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.clone()),
            };
            let _ = handle
                .wake(ImWake::Room {
                    key,
                    msg: Box::new(msg),
                    room,
                    sender,
                    command,
                    joined: joined.unwrap_or(false),
                    members,
                })
                .await;
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn im_room_members(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: &SipMessage,
        room_uri: &str,
        sender: &str,
        command: Command,
        joined: bool,
        members: Result<Vec<RoomMember>, String>,
    ) {
        let members = match members {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "room membership not read");
                self.respond(
                    ctx,
                    key,
                    msg,
                    &plain(500, "Server Internal Error: room store unavailable"),
                );
                return;
            }
        };
        self.respond(ctx, key, msg, &plain(200, "OK"));
        // How clients show the sender: "alice@example.test".
        let short = sender.strip_prefix("sip:").unwrap_or(sender);
        // Who is in the room over MSRP (RFC 7701 focus) hears it there.
        let over_msrp = self.focus.aors(room_uri);
        let others: Vec<String> = members
            .iter()
            .map(|m| m.member.clone())
            .filter(|m| m != sender && !over_msrp.contains(m))
            .collect();
        let notice = |text: String| ("text/plain;charset=UTF-8", Bytes::from(text));
        let (ct, body) = match command {
            Command::Members => {
                let mut all: Vec<String> = members.iter().map(|m| m.member.clone()).collect();
                for a in over_msrp {
                    if !all.contains(&a) {
                        all.push(a);
                    }
                }
                let (ct, body) = notice(room::members_text(room_uri, &all));
                self.room_copy(ctx, room_uri, "room", sender, ct, body);
                return;
            }
            // Not a member: nothing to announce.
            Command::Leave if !joined => return,
            Command::Leave => notice(format!("{short} left {room_uri}")),
            Command::Say => {
                if joined {
                    let (ct, body) = notice(format!("{short} joined {room_uri}"));
                    for m in &others {
                        self.room_copy(ctx, room_uri, "room", m, ct, body.clone());
                    }
                    self.focus_notice(room_uri, Some(sender), &body);
                }
                let ct = msg.header(HeaderName::ContentType).unwrap_or("text/plain");
                // A CPIM body names its sender in its own From, which CPIM
                // clients show: the authenticated sender replaces whatever
                // the client wrote (RFC 7701 §6.3's rule, as the MSRP focus
                // applies it); the content stays byte for byte.
                let body =
                    if simple_im::cpim::is_cpim(ct) && simple_im::cpim::parse(msg.body()).is_ok() {
                        simple_im::room::cpim_with_from(
                            msg.body(),
                            sender,
                            room_uri,
                            &simple_im::imdn::rfc3339(now()),
                        )
                    } else {
                        msg.body().clone()
                    };
                (ct, body)
            }
        };
        let ct = ct.to_owned();
        let from_name = if command == Command::Say {
            short
        } else {
            "room"
        };
        for m in &others {
            self.room_copy(ctx, room_uri, from_name, m, &ct, body.clone());
        }
        if command == Command::Say {
            self.focus_from_page(room_uri, sender, &ct, &body);
        } else {
            self.focus_notice(room_uri, Some(sender), &body);
        }
    }

    /// One copy to one member (every binding); offline members miss it.
    pub(super) fn room_copy(
        &mut self,
        ctx: &mut Ctx<'_>,
        room_uri: &str,
        from_name: &str,
        member: &str,
        content_type: &str,
        body: Bytes,
    ) {
        let from = room::from_room(room_uri, from_name, &random_token());
        let call_id = format!("{}@room", random_token());
        let member_s = member.to_owned();
        self.send_to_aor(ctx, member, Purpose::Notice, |t| {
            room::copy_request(
                &from,
                &member_s,
                &t.request_uri,
                &t.routes,
                &call_id,
                content_type,
                body.clone(),
            )
        });
    }

    /// The room a Request-URI names, canonical, if it is one of ours.
    pub(super) fn room_of(&self, uri: &sip_msg::Uri<'_>) -> Option<String> {
        let s = uri.as_sip()?;
        let user = s.user_unescaped()?;
        let host = s.host.to_string();
        let domain = self
            .im
            .settings
            .rooms
            .room_domain(&host, &self.core.domains)?;
        Some(self.im.settings.rooms.room_uri(&user, domain))
    }

    /// The answer for a MESSAGE whose body is over the limit.
    pub(super) fn im_too_large(&self, msg: &SipMessage) -> Option<Reply> {
        let max = self.im.settings.max_message_bytes;
        (msg.body().len() > max).then(|| {
            plain(
                413,
                &format!("Request Entity Too Large: MESSAGE body over {max} bytes"),
            )
        })
    }
}
