//! Session-mode chat rooms: the conference focus of RFC 7701 for the
//! page-mode rooms `sip:NAME@chat.DOMAIN` (see `im`).
//!
//! - Joining: a local user INVITEs the room with an SDP offer for MSRP
//!   (RFC 4975 §8). The focus is the UAS: it opens a local session in the
//!   server's MSRP relay (`msrp_relay::Relay::open_local`) and answers 200
//!   with that session's URI as its `a=path`, `a=accept-types:message/cpim
//!   text/plain` (RFC 7701 §5.2 wants CPIM; bare text is wrapped here) and a
//!   Contact with `isfocus` (RFC 4579 §3). No relay configured, no MSRP
//!   stream, a participant that cannot take CPIM: 488. The participant
//!   connects (RFC 4975 §8.5: the offerer does) and its first request
//!   binds its session; then it has joined and the others hear of it.
//! - Relaying: each complete message (chunks reassembled) goes to every
//!   other participant as a CPIM SEND `From` the authenticated sender
//!   (RFC 7701 §6.1: a client's own CPIM From is replaced, and one naming
//!   somebody else is refused 403, §6.3), `To` the room; a CPIM `To`
//!   naming one participant makes it private (§6.2: to that participant
//!   only, 404 when nobody has that URI, 403 for several To). Only types a
//!   participant takes (its accept-types / accept-wrapped-types, RFC 4975
//!   §8.6) are sent to it. Errors found on the whole message are failure
//!   REPORTs (RFC 4975 §7.1.4): the relay already answered the chunks.
//! - The page-mode side: room messages from MSRP participants are copied to
//!   the room's page-mode members as MESSAGEs (like any room copy), page-mode
//!   messages and notices go to the MSRP participants wrapped in CPIM, and a
//!   joined participant counts as a member (`/members`; no MESSAGE copy to
//!   an AOR that hears the room over MSRP).
//! - Leaving: BYE (200), the MSRP connection lost (RFC 4975 §5.4), no
//!   connection within [`JOIN_WITHIN`] or no ACK for the 2xx (RFC 3261
//!   §13.3.1.4). The others hear of it; the local session is closed.
//!
//! Participants live in memory only: a restart ends every chat session.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use msrp::{
    ByteRange, Chunker, Frame, MessageId, Method as MsrpMethod, MsrpUri, Reassembler, Reassembly,
    ReassemblyLimits, report,
};
use msrp_relay::LocalEvent;
use simple_im::cpim::{self, CPIM_NAMESPACE};
use simple_im::room;
use simple_store::RoomMember;
use sip_msg::{HeaderName, Method, SipMessage, Uri};
use sip_net::Ctx;
use sip_proto::{Peer, Tag, TransactionKey, Transport, response_builder};

use super::{Router, Store, hostport, now, plain, random_token};

mod sdp;

/// The server's MSRP relay as the focus uses it (implemented over
/// `msrp_relay::RelayHandle` in `msrp_serve`).
pub(crate) trait FocusRelay: Send {
    /// A new local session taking `accept`; `None` at the relay's limit.
    fn open(&self, accept: &[&str]) -> Option<String>;
    /// The session's URIs, one per relay listener.
    fn uris(&self, session: &str) -> Vec<MsrpUri>;
    /// A request to the session's participant; false when it was refused.
    fn send(&self, session: &str, frame: Frame) -> bool;
    /// Ends the session.
    fn close(&self, session: &str);
    /// The relay's own URIs, one per listener.
    fn listeners(&self) -> Vec<MsrpUri>;
}

/// A local session event from the relay (woken into the router).
pub(crate) struct FocusEvent(pub(crate) LocalEvent);

/// A room's page-mode members, read for copies of something said over MSRP.
pub(crate) struct FocusPageCopies {
    room: String,
    /// Who the copies name (the From display name).
    from_name: String,
    /// Gets no copy (the sender).
    skip: String,
    content_type: String,
    body: Bytes,
    members: Result<Vec<RoomMember>, String>,
}

/// What the focus takes at top level (RFC 7701 §5.2: CPIM; plain text too).
const ACCEPT: &[&str] = &["message/cpim", "text/plain"];
/// MSRP participants in one room.
const MAX_PER_ROOM: usize = 256;
/// A participant that has not connected by then is dropped.
const JOIN_WITHIN: Duration = Duration::from_secs(60);
/// RFC 3261 §17.1.1.1 / §13.3.1.4: 2xx retransmission, T1 doubling to T2
/// for 64*T1 (driven by the router's 1 s tick, so never faster than that).
const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
/// A dialog whose participant left without BYE is forgotten after this.
const FORGET_DIALOG: Duration = Duration::from_secs(3600);
/// Body bytes per SEND the focus writes (RFC 4975 §7.1.1).
const CHUNK: usize = 16 * 1024;
/// What the 2xx and 405s to in-dialog requests allow.
const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS";
/// Notices (join, leave, page-mode notices) inside CPIM.
const NOTICE_TYPE: &str = "text/plain;charset=UTF-8";

/// (Call-ID, our To-tag): a focus dialog.
type DialogKey = (String, String);

#[derive(Debug)]
struct Participant {
    room: String,
    /// The authenticated user (canonical AOR).
    aor: String,
    dialog: DialogKey,
    /// Its path (RFC 4975 §8.2) and our URI for it: placeholders for the
    /// chunker, the relay addresses what it sends.
    path: Vec<MsrpUri>,
    me: MsrpUri,
    /// What it takes inside CPIM (RFC 4975 §8.6).
    takes: Vec<String>,
    /// Its first MSRP request came: it is in the room.
    joined: bool,
    opened: Instant,
    reassembler: Reassembler,
}

#[derive(Debug)]
struct Dialog {
    /// The participant's MSRP session.
    session: String,
    /// Our SDP answer and Contact: a re-INVITE gets the same (RFC 4975 §8.4).
    answer: Bytes,
    contact: String,
    /// What the INVITE came over (2xx retransmission for UDP only).
    transport: Transport,
    /// A 2xx retransmitted until its ACK (unreliable transports).
    resend: Option<Resend>,
    /// When the participant left without BYE (connection lost, ...).
    orphaned: Option<Instant>,
}

#[derive(Debug)]
struct Resend {
    key: TransactionKey,
    msg: SipMessage,
    next: Instant,
    interval: Duration,
    until: Instant,
}

/// The focus's state: participants by MSRP session-id, dialogs.
pub(crate) struct Focus {
    relay: Option<Box<dyn FocusRelay>>,
    parts: HashMap<String, Participant>,
    dialogs: HashMap<DialogKey, Dialog>,
    limits: ReassemblyLimits,
    /// Largest page-mode copy of an MSRP message.
    max_page_copy: usize,
}

impl std::fmt::Debug for Focus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Focus")
            .field("participants", &self.parts.len())
            .field("dialogs", &self.dialogs.len())
            .finish_non_exhaustive()
    }
}

impl Focus {
    pub(crate) fn new(
        relay: Option<Box<dyn FocusRelay>>,
        max_message: u64,
        max_page_copy: usize,
    ) -> Self {
        Focus {
            relay,
            parts: HashMap::new(),
            dialogs: HashMap::new(),
            limits: ReassemblyLimits {
                max_message_size: max_message,
                max_partial_messages: 4,
                remember_completed: 64,
            },
            max_page_copy,
        }
    }

    /// Is there a focus at all (an MSRP relay to run it on)?
    pub(crate) fn enabled(&self) -> bool {
        self.relay.is_some()
    }

    /// The joined participants of `room`: (session-id, participant).
    fn joined<'a>(&'a self, room: &'a str) -> impl Iterator<Item = (&'a String, &'a Participant)> {
        self.parts
            .iter()
            .filter(move |(_, p)| p.joined && p.room == room)
    }

    /// The AORs in `room` over MSRP (each once).
    pub(crate) fn aors(&self, room: &str) -> Vec<String> {
        let mut v: Vec<String> = self.joined(room).map(|(_, p)| p.aor.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Sends `body` (message/cpim) to participant `session`, chunked.
    fn send(&self, session: &str, body: Bytes) -> bool {
        let (Some(relay), Some(p)) = (&self.relay, self.parts.get(session)) else {
            return false;
        };
        // RFC 7701 §6.3: any report model for the copies; the focus asks
        // for none (recipients' reports never go back to the sender).
        let chunker = Chunker::new(
            &p.path,
            std::slice::from_ref(&p.me),
            &MessageId::random(),
            "message/cpim",
            body,
            CHUNK,
        )
        .and_then(|c| c.with_header(msrp::names::FAILURE_REPORT, "no"));
        let mut chunker = match chunker {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "focus SEND not built");
                return false;
            }
        };
        while let Some(chunk) = chunker.next_chunk() {
            if !relay.send(session, chunk) {
                return false;
            }
        }
        true
    }

    /// A REPORT about `request` (covering `range`) to its sender (RFC 4975
    /// §7.1.3, §7.1.4), if it asked for one of this kind.
    fn report(&self, session: &str, request: &Frame, code: u16, range: ByteRange) {
        let owed = if code == msrp::status::OK {
            report::success_report_owed(request)
        } else {
            report::failure_report_owed(request, code)
        };
        if !owed {
            return;
        }
        let r = if code == msrp::status::OK {
            report::success(request, range)
        } else {
            report::failure(request, code, range)
        };
        match (r, &self.relay) {
            (Ok(f), Some(relay)) => {
                relay.send(session, f);
            }
            (Err(e), _) => tracing::debug!(error = %e, "focus REPORT not built"),
            _ => {}
        }
    }
}

/// The canonical AOR (`sip:user@domain`) of a URI in a CPIM header value.
fn canonical(value: &str) -> Option<String> {
    let uri = Uri::parse(cpim::address_uri(value)?).ok()?;
    let (u, d) = simple_registrar::register::canonical_aor(&uri)?;
    Some(simple_registrar::register::aor_string(&u, &d))
}

/// How clients show a user: `alice@example.test`.
fn short(aor: &str) -> &str {
    aor.strip_prefix("sip:").unwrap_or(aor)
}

/// Who gets a message said in a room.
#[derive(Debug, PartialEq, Eq)]
enum Audience {
    Room,
    /// RFC 7701 §6.2: one participant (canonical AOR).
    Private(String),
}

impl<S: Store> Router<S> {
    /// An INVITE to room `room` (canonical URI) from a local user, after
    /// authentication.
    pub(super) fn focus_invite(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: SipMessage,
        peer: Peer,
        room: String,
    ) {
        let refuse = |me: &mut Self, ctx: &mut Ctx<'_>, status: u16, why: &str| {
            if let Ok(c) = msg.call_id() {
                // The participant's relay sessions noted for this call end.
                me.msrp.ended(c);
            }
            me.respond(ctx, key, &msg, &plain(status, why));
        };
        let local = |d: &str| self.core.domains.iter().any(|x| x.eq_ignore_ascii_case(d));
        let Some(sender) =
            Self::from_aor(&msg).filter(|a| a.rsplit_once('@').is_some_and(|(_, d)| local(d)))
        else {
            refuse(self, ctx, 403, "Forbidden: rooms are for local users");
            return;
        };
        let Some(relay) = &self.focus.relay else {
            refuse(
                self,
                ctx,
                488,
                "Not Acceptable Here: no MSRP relay for chat sessions (listen on msrp:)",
            );
            return;
        };
        let sdp_body = msg
            .header(HeaderName::ContentType)
            .is_some_and(|c| c.trim().to_ascii_lowercase().starts_with("application/sdp"));
        let media = sdp_body
            .then(|| std::str::from_utf8(msg.body()).ok())
            .flatten()
            .and_then(sdp::parse);
        let Some(media) = media else {
            // RFC 3261 §13.3.1: an INVITE without an offer wants one in the
            // 2xx; the focus only answers offers.
            refuse(
                self,
                ctx,
                488,
                "Not Acceptable Here: an SDP offer with an MSRP stream is required",
            );
            return;
        };
        let tls = relay.listeners().iter().any(MsrpUri::is_secure);
        let offer = match sdp::msrp_offer(&media, tls) {
            Ok(o) => o,
            Err(why) => {
                refuse(self, ctx, 488, why);
                return;
            }
        };
        if self.focus.parts.values().filter(|p| p.room == room).count() >= MAX_PER_ROOM {
            refuse(self, ctx, 486, "Busy Here: the chat room is full");
            return;
        }
        let Some(session) = relay.open(ACCEPT) else {
            refuse(self, ctx, 503, "Service Unavailable: no MSRP sessions left");
            return;
        };
        let Some(me) = relay
            .uris(&session)
            .into_iter()
            .find(|u| u.is_secure() == offer.secure)
        else {
            relay.close(&session);
            refuse(
                self,
                ctx,
                488,
                "Not Acceptable Here: no MSRP over TLS here (no msrps listener)",
            );
            return;
        };
        let answer = Bytes::from(sdp::answer(
            &media,
            &offer,
            &me,
            u64::from(rand::random::<u32>()),
        ));
        let user = Uri::parse(msg.request_uri_str().unwrap_or(""))
            .ok()
            .and_then(|u| u.as_sip().and_then(|s| s.user.map(str::to_owned)))
            .unwrap_or_else(|| "chat".to_owned());
        let Some(contact) = Self::local_for(ctx, peer.transport, peer.remote)
            .map(|a| focus_contact(&user, peer.transport, a))
        else {
            relay.close(&session);
            refuse(self, ctx, 500, "Server Internal Error: no local address");
            return;
        };
        let tag = random_token();
        let Some(ok) = focus_ok(&self.core.server, &msg, Some(&tag), &contact, &answer) else {
            relay.close(&session);
            refuse(self, ctx, 500, "Server Internal Error: answer not built");
            return;
        };
        if let Err(e) = ctx.try_respond(key, ok.clone()) {
            tracing::debug!(error = %e, "focus 2xx not sent");
            relay.close(&session);
            return;
        }
        let call_id = msg.call_id().unwrap_or("").to_owned();
        let dialog = (call_id, tag);
        let now = ctx.now();
        tracing::info!(%room, participant = %sender, "chat room INVITE accepted");
        self.focus.dialogs.insert(
            dialog.clone(),
            Dialog {
                session: session.clone(),
                answer,
                contact,
                transport: peer.transport,
                resend: resend(key, ok, peer.transport, now),
                orphaned: None,
            },
        );
        let limits = self.focus.limits;
        self.focus.parts.insert(
            session,
            Participant {
                room,
                aor: sender,
                dialog,
                path: offer.path,
                me,
                takes: offer.takes,
                joined: false,
                opened: now,
                reassembler: Reassembler::new(limits),
            },
        );
    }

    /// An in-dialog request (not ACK) of a focus dialog: answered here
    /// (true), or not ours (false).
    pub(super) fn focus_in_dialog(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TransactionKey,
        msg: &SipMessage,
    ) -> bool {
        let Some(dkey) = dialog_key(msg) else {
            return false;
        };
        let Some(d) = self.focus.dialogs.get_mut(&dkey) else {
            return false;
        };
        let server = self.core.server.clone();
        match msg.method() {
            Some(Method::Bye) => {
                if let Some(r) = focus_reply(&server, msg, 200, "OK", &[]) {
                    ctx.respond(key, r);
                }
                if let Some(d) = self.focus.dialogs.remove(&dkey) {
                    self.focus_leave(ctx, &d.session, false);
                }
            }
            Some(Method::Invite) => {
                // A refresh or re-offer: the same answer (RFC 4975 §8.4: an
                // unchanged answer keeps its o-line); the session stays.
                match focus_ok(&server, msg, None, &d.contact, &d.answer) {
                    Some(ok) => {
                        d.resend = resend(key, ok.clone(), d.transport, ctx.now());
                        ctx.respond(key, ok);
                    }
                    None => {
                        if let Some(r) =
                            focus_reply(&server, msg, 500, "Server Internal Error", &[])
                        {
                            ctx.respond(key, r);
                        }
                    }
                }
            }
            Some(Method::Options) => {
                if let Some(r) = focus_reply(&server, msg, 200, "OK", &[(HeaderName::Allow, ALLOW)])
                {
                    ctx.respond(key, r);
                }
            }
            _ => {
                if let Some(r) = focus_reply(
                    &server,
                    msg,
                    405,
                    "Method Not Allowed",
                    &[(HeaderName::Allow, ALLOW)],
                ) {
                    ctx.respond(key, r);
                }
            }
        }
        true
    }

    /// An ACK of a focus dialog: the 2xx is no longer retransmitted
    /// (RFC 3261 §13.3.1.4). True when it was ours (absorbed).
    pub(super) fn focus_ack(&mut self, msg: &SipMessage) -> bool {
        let Some(dkey) = dialog_key(msg) else {
            return false;
        };
        match self.focus.dialogs.get_mut(&dkey) {
            Some(d) => {
                d.resend = None;
                true
            }
            None => false,
        }
    }

    /// Something happened to a participant's MSRP session.
    pub(super) fn focus_event(&mut self, ctx: &mut Ctx<'_>, ev: LocalEvent) {
        match ev {
            LocalEvent::Request { session, frame, .. } => {
                let Some(p) = self.focus.parts.get_mut(&session) else {
                    // Not ours any more (left meanwhile).
                    if let Some(r) = &self.focus.relay {
                        r.close(&session);
                    }
                    return;
                };
                if !p.joined {
                    p.joined = true;
                    let (room, aor) = (p.room.clone(), p.aor.clone());
                    tracing::info!(%room, participant = %aor, "joined the chat room over MSRP");
                    self.focus_announce(&room, &aor, &format!("{} joined {room}", short(&aor)));
                }
                if frame.method() != Some(&MsrpMethod::Send) {
                    return;
                }
                let Some(p) = self.focus.parts.get_mut(&session) else {
                    return;
                };
                match p.reassembler.handle_chunk(&frame) {
                    // An empty SEND only binds the connection (RFC 4975
                    // §5.4, §7.1.1).
                    Ok(Reassembly::Complete(m)) if !m.body.is_empty() => {
                        self.focus_message(&session, m, &frame);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let range = report::received_range(&frame);
                        self.focus.report(&session, &frame, e.status(), range);
                    }
                }
            }
            LocalEvent::Closed { session } => self.focus_leave(ctx, &session, true),
        }
    }

    /// A whole message from participant `session`; `last` is its last chunk.
    fn focus_message(&mut self, session: &str, m: msrp::Message, last: &Frame) {
        let Some(p) = self.focus.parts.get(session) else {
            return;
        };
        let (room, sender) = (p.room.clone(), p.aor.clone());
        let len = m.body.len() as u64;
        // REPORTs on the whole message (RFC 4975 §7.1.3, §7.1.4).
        let whole = ByteRange::new(1, Some(len), Some(len));
        let ct = m.content_type.as_deref().unwrap_or("text/plain");
        let datetime = simple_im::imdn::rfc3339(now());
        let (audience, inner_type, inner, wrapped) = if cpim::is_cpim(ct) {
            let c = match cpim::parse(&m.body) {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(error = %e, "bad CPIM from a participant");
                    self.focus.report(session, last, 400, whole);
                    return;
                }
            };
            let tos: Vec<&str> = c.ns_headers(CPIM_NAMESPACE, "To").collect();
            if tos.len() > 1 {
                // RFC 7701 §6.1, §6.2: one To only.
                self.focus.report(session, last, 403, whole);
                return;
            }
            if c.from()
                .is_some_and(|f| canonical(f).as_deref() != Some(&sender))
            {
                // RFC 7701 §6.3: a From that is not the sender's.
                self.focus.report(session, last, 403, whole);
                return;
            }
            let audience = match tos.first() {
                None => Audience::Room,
                Some(to) => match canonical(to) {
                    Some(u) if u == room => Audience::Room,
                    Some(u) => Audience::Private(u),
                    None => {
                        // RFC 7701 §6.2: a To that resolves to nobody.
                        self.focus.report(session, last, 404, whole);
                        return;
                    }
                },
            };
            let inner_type = c.content_type().unwrap_or("text/plain").to_owned();
            let inner = m.body.slice_ref(c.content());
            let wrapped = room::cpim_with_from(&m.body, &sender, &room, &datetime);
            (audience, inner_type, inner, wrapped)
        } else {
            let wrapped = room::cpim_wrap(&sender, &room, &datetime, ct, &m.body);
            (Audience::Room, ct.to_owned(), m.body.clone(), wrapped)
        };
        let targets: Vec<String> = self
            .focus
            .joined(&room)
            .filter(|(s, p)| match &audience {
                Audience::Room => s.as_str() != session,
                Audience::Private(to) => p.aor == *to,
            })
            .filter(|(_, p)| takes_type(&inner_type, &p.takes))
            .map(|(s, _)| s.clone())
            .collect();
        if let Audience::Private(to) = &audience
            && !self.focus.joined(&room).any(|(_, p)| p.aor == *to)
        {
            // RFC 7701 §6.2: 404 for a To that is no participant.
            tracing::debug!(%room, %to, "private message to nobody in the room");
            self.focus.report(session, last, 404, whole);
            return;
        }
        for t in &targets {
            if !self.focus.send(t, wrapped.clone()) {
                tracing::debug!(%room, "chat room copy not sent");
            }
        }
        // RFC 7701 §6.3: the focus is the sender's MSRP endpoint.
        self.focus.report(session, last, msrp::status::OK, whole);
        if audience == Audience::Room && !cpim::is_composing(&inner_type, &inner) {
            self.focus_page_copies(&room, short(&sender), &sender, &inner_type, inner);
        }
    }

    /// Tells the room that `aor` joined or left: the other MSRP
    /// participants (CPIM From the room) and the page-mode members.
    fn focus_announce(&mut self, room: &str, aor: &str, text: &str) {
        let body = Bytes::from(text.to_owned());
        self.focus_notice(room, Some(aor), &body);
        self.focus_page_copies(room, "room", aor, NOTICE_TYPE, body);
    }

    /// A notice (text/plain) to the room's MSRP participants but `except`.
    pub(super) fn focus_notice(&mut self, room: &str, except: Option<&str>, text: &Bytes) {
        let datetime = simple_im::imdn::rfc3339(now());
        let wrapped = room::cpim_wrap(room, room, &datetime, NOTICE_TYPE, text);
        let targets: Vec<String> = self
            .focus
            .joined(room)
            .filter(|(_, p)| Some(p.aor.as_str()) != except)
            .filter(|(_, p)| takes_type(NOTICE_TYPE, &p.takes))
            .map(|(s, _)| s.clone())
            .collect();
        for t in targets {
            self.focus.send(&t, wrapped.clone());
        }
    }

    /// A page-mode MESSAGE said in `room` by `sender`: to the MSRP
    /// participants (not the sender's own sessions), wrapped in CPIM From
    /// the sender; a CPIM body keeps its content, its From vouched for,
    /// and goes only to the participant its To names, if it names one.
    pub(super) fn focus_from_page(&mut self, room: &str, sender: &str, ct: &str, body: &Bytes) {
        if self.focus.parts.is_empty() {
            return;
        }
        let datetime = simple_im::imdn::rfc3339(now());
        let (to, inner_type, wrapped) = if cpim::is_cpim(ct) {
            let Ok(c) = cpim::parse(body) else {
                return;
            };
            let to = c.to().and_then(canonical).filter(|t| t != room);
            let inner = c.content_type().unwrap_or("text/plain").to_owned();
            (
                to,
                inner,
                room::cpim_with_from(body, sender, room, &datetime),
            )
        } else {
            (
                None,
                ct.to_owned(),
                room::cpim_wrap(sender, room, &datetime, ct, body),
            )
        };
        let private = to
            .as_ref()
            .is_some_and(|t| self.focus.joined(room).any(|(_, p)| p.aor == *t));
        let targets: Vec<String> = self
            .focus
            .joined(room)
            .filter(|(_, p)| p.aor != sender)
            .filter(|(_, p)| !private || Some(&p.aor) == to.as_ref())
            .filter(|(_, p)| takes_type(&inner_type, &p.takes))
            .map(|(s, _)| s.clone())
            .collect();
        for t in targets {
            self.focus.send(&t, wrapped.clone());
        }
    }

    /// Copies of something said over MSRP for the room's page-mode members
    /// (read from the store first).
    fn focus_page_copies(
        &mut self,
        room: &str,
        from_name: &str,
        skip: &str,
        content_type: &str,
        body: Bytes,
    ) {
        if body.len() > self.focus.max_page_copy {
            tracing::debug!(%room, len = body.len(), "too large for page-mode copies");
            return;
        }
        let store = self.registrar.store().clone();
        let handle = self.handle.clone();
        let (room, from_name, skip, content_type) = (
            room.to_owned(),
            from_name.to_owned(),
            skip.to_owned(),
            content_type.to_owned(),
        );
        tokio::spawn(async move {
            let members = store.room_members(&room).await.map_err(|e| e.to_string());
            let _ = handle
                .wake(FocusPageCopies {
                    room,
                    from_name,
                    skip,
                    content_type,
                    body,
                    members,
                })
                .await;
        });
    }

    /// The page-mode members are read: the copies go out (not to the
    /// sender, nor to an AOR that is in the room over MSRP).
    pub(super) fn focus_page_members(&mut self, ctx: &mut Ctx<'_>, w: FocusPageCopies) {
        let members = match w.members {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "room members not read for page-mode copies");
                return;
            }
        };
        let msrp = self.focus.aors(&w.room);
        for m in members {
            if m.member == w.skip || msrp.contains(&m.member) {
                continue;
            }
            self.room_copy(
                ctx,
                &w.room,
                &w.from_name,
                &m.member,
                &w.content_type,
                w.body.clone(),
            );
        }
    }

    /// Participant `session` leaves: its MSRP session ends (unless the
    /// relay ended it: `closed`), the others hear of it if it had joined.
    fn focus_leave(&mut self, ctx: &mut Ctx<'_>, session: &str, closed: bool) {
        let Some(p) = self.focus.parts.remove(session) else {
            return;
        };
        if !closed && let Some(r) = &self.focus.relay {
            r.close(session);
        }
        if let Some(d) = self.focus.dialogs.get_mut(&p.dialog) {
            d.orphaned = Some(ctx.now());
            d.resend = None;
        }
        tracing::info!(room = %p.room, participant = %p.aor, "left the chat room");
        if p.joined {
            let text = format!("{} left {}", short(&p.aor), p.room);
            self.focus_announce(&p.room, &p.aor, &text);
        }
    }

    /// The router's 1 s tick: 2xx retransmissions (RFC 3261 §13.3.1.4),
    /// participants that never connected, forgotten dialogs.
    pub(super) fn focus_tick(&mut self, ctx: &mut Ctx<'_>) {
        if self.focus.dialogs.is_empty() {
            return;
        }
        let now = ctx.now();
        let mut gone = Vec::new();
        for d in self.focus.dialogs.values_mut() {
            let Some(r) = &mut d.resend else {
                continue;
            };
            if now >= r.until {
                // §13.3.1.4: no ACK in 64*T1: the session ends.
                tracing::debug!("no ACK for the chat room's 2xx");
                d.resend = None;
                gone.push(d.session.clone());
            } else if now >= r.next {
                if ctx.try_respond(r.key, r.msg.clone()).is_err() {
                    d.resend = None;
                    continue;
                }
                r.interval = (r.interval * 2).min(T2);
                r.next = now + r.interval;
            }
        }
        gone.extend(
            self.focus
                .parts
                .iter()
                .filter(|(_, p)| !p.joined && now.duration_since(p.opened) > JOIN_WITHIN)
                .map(|(s, _)| s.clone()),
        );
        for s in gone {
            self.focus_leave(ctx, &s, false);
        }
        self.focus.dialogs.retain(|_, d| {
            d.orphaned
                .is_none_or(|at| now.duration_since(at) < FORGET_DIALOG)
        });
    }
}

/// Does a participant that takes `takes` take `ct` inside CPIM?
fn takes_type(ct: &str, takes: &[String]) -> bool {
    let media = ct.split(';').next().unwrap_or("").trim();
    let (ty, _) = media.split_once('/').unwrap_or((media, ""));
    takes.iter().any(|a| {
        let a = a.split(';').next().unwrap_or("").trim();
        a == "*"
            || a.eq_ignore_ascii_case(media)
            || a.strip_suffix("/*")
                .is_some_and(|t| t.eq_ignore_ascii_case(ty))
    })
}

/// (Call-ID, To-tag) of an in-dialog request.
fn dialog_key(msg: &SipMessage) -> Option<DialogKey> {
    let to = msg.to().ok()?;
    let tag = to.tag()?.to_owned();
    Some((msg.call_id().ok()?.to_owned(), tag))
}

/// Retransmission state for a 2xx sent over `transport` (only unreliable
/// ones, RFC 3261 §13.3.1.4).
fn resend(
    key: TransactionKey,
    msg: SipMessage,
    transport: Transport,
    now: Instant,
) -> Option<Resend> {
    (transport == Transport::Udp).then(|| Resend {
        key,
        msg,
        next: now + T1,
        interval: T1,
        until: now + 64 * T1,
    })
}

/// The focus's Contact: the server's address with the room's user part and
/// `isfocus` (RFC 4579 §3), so in-dialog requests come back to us.
fn focus_contact(user: &str, transport: Transport, local: std::net::SocketAddr) -> String {
    let host = hostport(local);
    match transport {
        Transport::Udp => format!("<sip:{user}@{host}>;isfocus"),
        Transport::Tls => format!("<sips:{user}@{host}>;isfocus"),
        other => format!(
            "<sip:{user}@{host};transport={}>;isfocus",
            other.via_token().to_ascii_lowercase()
        ),
    }
}

/// A response of the focus (as UAS) with `extra` headers.
fn focus_reply(
    server: &str,
    req: &SipMessage,
    status: u16,
    reason: &str,
    extra: &[(HeaderName, &str)],
) -> Option<SipMessage> {
    let mut b = response_builder(req, status, reason, None).ok()?;
    for (h, v) in extra {
        b = b.header(*h, v);
    }
    b.header(HeaderName::Server, server).build().ok()
}

/// The 2xx to an INVITE: our To-tag (a new dialog), Contact, the SDP answer.
fn focus_ok(
    server: &str,
    req: &SipMessage,
    tag: Option<&str>,
    contact: &str,
    answer: &Bytes,
) -> Option<SipMessage> {
    let tag = tag.map(Tag::from);
    response_builder(req, 200, "OK", tag.as_ref())
        .ok()?
        .header(HeaderName::Contact, contact)
        .header(HeaderName::Allow, ALLOW)
        .header(HeaderName::Server, server)
        .body("application/sdp", answer.clone())
        .build()
        .ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_types_a_participant_takes() {
        let takes = vec!["message/cpim".to_owned(), "text/*".to_owned()];
        assert!(takes_type("text/plain;charset=UTF-8", &takes));
        assert!(!takes_type("image/png", &takes));
        assert!(takes_type("image/png", &["*".to_owned()]));
    }

    #[test]
    fn cpim_addresses_compare_as_aors() {
        assert_eq!(
            canonical("Alice <im:alice@Example.Test>").as_deref(),
            Some("sip:alice@example.test")
        );
        assert_eq!(
            canonical("<sip:lobby@chat.example.test>").as_deref(),
            Some("sip:lobby@chat.example.test")
        );
        assert_eq!(canonical("nobody"), None);
    }

    #[test]
    fn the_contact_says_isfocus_and_names_the_transport() {
        let a: std::net::SocketAddr = "127.0.0.1:5060".parse().unwrap();
        assert_eq!(
            focus_contact("lobby", Transport::Udp, a),
            "<sip:lobby@127.0.0.1:5060>;isfocus"
        );
        assert_eq!(
            focus_contact("lobby", Transport::Tcp, a),
            "<sip:lobby@127.0.0.1:5060;transport=tcp>;isfocus"
        );
    }
}
