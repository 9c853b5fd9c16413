//! The transaction layer (RFC 3261 §17 as updated by RFC 6026): the four
//! transaction state machines, request and response matching, and the timers,
//! behind one sans-IO [`TransactionLayer`].

mod client;
mod kept;
mod matching;
mod server;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use sip_msg::{Method, SipMessage};

use crate::error::ProtoError;
use crate::ids::TransactionKey;
use crate::stateless::ResponseTarget;
use crate::stateless::response_route;
use crate::timers::{TimerName, Timers};
use crate::transport::{FlowId, Peer};

use matching::{ClientId, LegacyExtra, LegacyId, ServerId, is_ack};

/// Default cap on live transactions (DESIGN.md rule 11: servers are bounded).
pub const DEFAULT_MAX_TRANSACTIONS: usize = 65_536;

/// The four kinds of transaction (RFC 3261 §17.1.1, §17.1.2, §17.2.1, §17.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    /// We sent an INVITE.
    ClientInvite,
    /// We sent a request other than INVITE and ACK.
    ClientNonInvite,
    /// We received an INVITE.
    ServerInvite,
    /// We received a request other than INVITE and ACK.
    ServerNonInvite,
}

impl TransactionKind {
    /// A client transaction?
    pub fn is_client(self) -> bool {
        matches!(
            self,
            TransactionKind::ClientInvite | TransactionKind::ClientNonInvite
        )
    }

    /// An INVITE transaction?
    pub fn is_invite(self) -> bool {
        matches!(
            self,
            TransactionKind::ClientInvite | TransactionKind::ServerInvite
        )
    }
}

/// The state of a live transaction. "Terminated" is not a state one can
/// observe: a terminated transaction is destroyed at once (§17.1.1.2, RFC 6026
/// §8.4) and [`TransactionLayer::state`] returns `None` for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionState {
    /// INVITE client, request sent, no response yet.
    Calling,
    /// Non-INVITE client or server, no response yet.
    Trying,
    /// A provisional response was received (client) or the server has not sent
    /// a final response.
    Proceeding,
    /// A final response (non-2xx for INVITE) was received or sent; waiting for
    /// retransmissions (and, INVITE server, for the ACK).
    Completed,
    /// INVITE server: the ACK for the non-2xx arrived; absorbing ACK
    /// retransmissions.
    Confirmed,
    /// INVITE, after a 2xx (RFC 6026): the client passes further 2xx to the TU,
    /// the server absorbs INVITE retransmissions and passes ACKs to the TU.
    Accepted,
}

/// A message to put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The transaction it belongs to, `None` for a stateless send. The driver
    /// reports a failure to deliver it with [`Input::TransportError`].
    pub key: Option<TransactionKey>,
    /// Where it goes. For a server transaction on an unreliable transport the
    /// address follows §18.2.2 (`received`/`rport` of the request's top Via);
    /// on a reliable one it is the peer and flow the request came on, and the
    /// driver falls back to [`response_route`] when that connection is gone.
    pub to: Peer,
    /// The serialized message.
    pub bytes: Bytes,
}

/// What goes into a [`TransactionLayer`].
#[derive(Debug, Clone)]
pub enum Input {
    /// A message from the network, parsed (and, for a request, stamped by
    /// [`stamp_received`](crate::stamp_received)).
    Received {
        /// The message.
        msg: SipMessage,
        /// Where it came from.
        peer: Peer,
    },
    /// The TU sends a request: a new client transaction. The top Via must carry
    /// a branch with the magic cookie. Not for ACK (see `SendStateless`).
    SendRequest {
        /// The request.
        msg: SipMessage,
        /// Where it goes (and retransmissions with it).
        peer: Peer,
    },
    /// The TU answers on a server transaction.
    SendResponse {
        /// The server transaction.
        key: TransactionKey,
        /// The response.
        msg: SipMessage,
    },
    /// The TU sends a message outside any transaction: the ACK for a 2xx
    /// (§13.2.2.4), a stateless response, a stateless proxy's forward.
    SendStateless {
        /// The message.
        msg: SipMessage,
        /// Where it goes.
        peer: Peer,
    },
    /// The driver failed to deliver a [`Transmit`] of this transaction (ICMP
    /// unreachable, connection refused or reset: §18.4).
    TransportError {
        /// The transaction the failed transmit belonged to.
        key: TransactionKey,
    },
    /// The TU gives up on one of its client transactions: an INVITE still
    /// without a final response 64·T1 after its CANCEL (RFC 3261 §9.1: the
    /// client "SHOULD destroy the client transaction"), or one whose Timer C
    /// fired before any provisional response (§16.8). An INVITE client
    /// transaction in Proceeding has no timer of its own, so without this it
    /// would live as long as the server never answers. It is removed at
    /// once, nothing is sent, and [`Output::Terminated`] follows; responses
    /// that arrive later are stray. A server transaction is refused
    /// ([`ProtoError::NotAClientTransaction`]).
    Abandon {
        /// The client transaction.
        key: TransactionKey,
    },
}

/// What comes out of a [`TransactionLayer`].
#[derive(Debug, Clone)]
pub enum Output {
    /// Put bytes on the wire (first sends and retransmissions alike).
    Transmit(Transmit),
    /// A new server transaction: the TU answers it with
    /// [`Input::SendResponse`]. Retransmissions of the request never show up
    /// here; the transaction absorbs them.
    Request {
        /// The new server transaction.
        key: TransactionKey,
        /// The request.
        msg: SipMessage,
        /// Where it came from.
        peer: Peer,
    },
    /// A response for one of the TU's client transactions: every provisional,
    /// the final one, and (INVITE, RFC 6026) every 2xx retransmission and
    /// forked 2xx while the transaction is Accepted. Retransmitted non-2xx
    /// finals are absorbed.
    Response {
        /// The client transaction.
        key: TransactionKey,
        /// The response.
        msg: SipMessage,
    },
    /// A timer declared the transaction failed: B or F (client, no final
    /// response: the TU acts as on a 408, §8.1.3.1) or H (INVITE server, no
    /// ACK for the non-2xx final, §17.2.1). [`Output::Terminated`] follows.
    Timeout {
        /// The transaction.
        key: TransactionKey,
        /// Which timer fired.
        timer: TimerName,
    },
    /// The driver reported a transport failure for this transaction (§17.1.4,
    /// §17.2.4). Client and non-INVITE server transactions terminate
    /// ([`Output::Terminated`] follows); an INVITE server transaction stays
    /// to absorb retransmissions (RFC 6026 §7.1).
    TransportError {
        /// The transaction.
        key: TransactionKey,
    },
    /// The transaction is gone; its key matches nothing any more.
    Terminated {
        /// The transaction.
        key: TransactionKey,
    },
    /// An ACK that belongs to the TU, not to a transaction: the ACK for a 2xx
    /// (it has its own branch, §17.1.1.3), an ACK reaching an INVITE server
    /// transaction in Accepted (RFC 6026 §7.1), or an ACK matching nothing.
    Ack {
        /// The ACK.
        msg: SipMessage,
        /// Where it came from.
        peer: Peer,
    },
    /// A response matching no client transaction (§18.1.2). RFC 6026 §8.9:
    /// anything but a stateless proxy drops it.
    StrayResponse {
        /// The response.
        msg: SipMessage,
        /// Where it came from.
        peer: Peer,
    },
    /// A new request arrived while the transaction cap is reached: no
    /// transaction was made. The TU answers statelessly (503 with Retry-After,
    /// §21.5.4) or drops it.
    Overloaded {
        /// The request.
        msg: SipMessage,
        /// Where it came from.
        peer: Peer,
    },
}

/// A scheduled timer: when, for whom, which, and which arming of it (an
/// entry whose `arming` is not the transaction's current one for `name` is
/// stale: the timer was disarmed or re-armed since).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerEntry {
    at: Instant,
    key: TransactionKey,
    name: TimerName,
    arming: u16,
}

/// What a transaction does after handling an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Stay,
    Terminate,
}

/// How the transaction is found again: the index entry to remove on
/// termination.
#[derive(Debug, Clone)]
pub(crate) enum Index {
    Client(ClientId),
    Server(ServerId),
    /// Boxed: RFC 2543 clients are rare, and the ids are large (the
    /// enum is part of every transaction).
    Legacy(Box<LegacyIndex>),
}

/// A transaction of an RFC 2543 client: its index entry, and what matching
/// its ACK needs (§17.2.3).
#[derive(Debug, Clone)]
pub(crate) struct LegacyIndex {
    id: LegacyId,
    extra: LegacyExtra,
    /// Server INVITE: the To tag of the final response, for RFC 2543 ACK
    /// matching (the ACK carries it).
    response_to_tag: Option<Box<str>>,
}

/// One transaction. The four state machines share the data and differ in the
/// handlers of `client.rs` and `server.rs`.
#[derive(Debug)]
pub(crate) struct Transaction {
    kind: TransactionKind,
    state: TransactionState,
    /// Client: where the request goes. Server: where responses go.
    peer: Peer,
    /// The request that created the transaction; dropped once a non-INVITE
    /// transaction is Completed (its retransmission timers need only the
    /// bytes, and at thousands of requests a second Timer J keeps a UDP
    /// transaction 32 s, so what it holds is what the server's memory is).
    /// Boxed: `None` for most of a UDP non-INVITE transaction's life, and an
    /// inline message would keep ~300 bytes per transaction for nothing.
    request: Option<Box<SipMessage>>,
    /// What may go on the wire again (one field: no transaction needs two
    /// at once, and a completed UDP transaction is held 32 s). Client: the
    /// request, for Timers A and E, until a final response; then, INVITE,
    /// the ACK for a non-2xx final (§17.1.1.2: re-sent on retransmitted
    /// finals). Server: the last response sent, re-sent on request
    /// retransmissions and by Timer G. Empty when there is none.
    wire: Bytes,
    /// `wire` holds a Completed non-INVITE server transaction's final
    /// response in the cut-down form of [`kept`], rebuilt per retransmission.
    wire_is_delta: bool,
    /// Current retransmission interval of Timer A, E or G, in microseconds
    /// (4 bytes, not a 16-byte `Duration`: see `wire`).
    interval_us: u32,
    /// Per timer, the arming its live heap entry carries; 0 when disarmed.
    /// (Numbers, not deadlines: 2 bytes a timer instead of 16, and at 2,000
    /// requests a second Timer J holds 64,000 transactions.)
    armed: [u16; TimerName::COUNT],
    /// The last arming number handed out (never 0).
    armings: u16,
    index: Index,
}

/// What a transaction handler needs from the layer.
pub(crate) struct Ctx<'a> {
    now: Instant,
    key: TransactionKey,
    timers: &'a Timers,
    heap: &'a mut BinaryHeap<Reverse<TimerEntry>>,
    out: &'a mut VecDeque<Output>,
    kept: &'a mut BytesMut,
    /// The layer's count of armed timers ([`TransactionLayer::live_timers`]).
    live: &'a mut usize,
}

impl Ctx<'_> {
    /// A copy of `parts`, back to back (a final response a Completed
    /// transaction keeps for retransmissions, whole or cut down by
    /// [`kept`]: Timers G, H and J, then I; up to 64·T1) in the layer's
    /// current chunk of kept responses. Kept responses are dropped in about
    /// the order they were kept, so a chunk is freed as a whole soon after
    /// its last one goes; allocated one by one instead, they would leave a
    /// burst's worth of holes among the long-lived allocations made
    /// meanwhile (subscriptions, registrations), memory the process then
    /// holds for good. The copy is also exactly the response's size (the
    /// message was built in a buffer sized by estimate). A clone held
    /// elsewhere (a send queued on a stalled flow) keeps its whole chunk;
    /// the layer lets go of its current chunk once it has no transaction.
    fn keep(&mut self, parts: &[&[u8]]) -> Bytes {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if self.kept.capacity() - self.kept.len() < len {
            *self.kept = BytesMut::with_capacity(KEPT_CHUNK.max(len));
        }
        for p in parts {
            self.kept.extend_from_slice(p);
        }
        self.kept.split().freeze()
    }

    fn emit(&mut self, o: Output) {
        self.out.push_back(o);
    }

    fn transmit(&mut self, to: Peer, bytes: Bytes) {
        self.out.push_back(Output::Transmit(Transmit {
            key: Some(self.key),
            to,
            bytes,
        }));
    }
}

impl Transaction {
    fn new(
        kind: TransactionKind,
        state: TransactionState,
        peer: Peer,
        request: SipMessage,
        index: Index,
    ) -> Self {
        Transaction {
            kind,
            state,
            peer,
            wire: if kind.is_client() {
                request.to_bytes()
            } else {
                Bytes::new()
            },
            wire_is_delta: false,
            request: Some(Box::new(request)),
            interval_us: 0,
            armed: [0; TimerName::COUNT],
            armings: 0,
            index,
        }
    }

    fn arm(&mut self, cx: &mut Ctx<'_>, name: TimerName, after: Duration) {
        let at = cx.now + after;
        if self.armed[name as usize] == 0 {
            *cx.live += 1;
        }
        self.armings = next_arming(self.armings);
        self.armed[name as usize] = self.armings;
        cx.heap.push(Reverse(TimerEntry {
            at,
            key: cx.key,
            name,
            arming: self.armings,
        }));
    }

    fn disarm(&mut self, cx: &mut Ctx<'_>, name: TimerName) {
        if self.armed[name as usize] != 0 {
            *cx.live -= 1;
        }
        self.armed[name as usize] = 0;
    }

    /// How many of its timers are armed (each has one live heap entry).
    fn armed_count(&self) -> usize {
        self.armed.iter().filter(|a| **a != 0).count()
    }

    /// Arms a "wait for stray retransmissions" timer (D, I, J, K); one of zero
    /// length (reliable transports) fires at once, i.e. terminates now.
    fn arm_or_terminate(&mut self, cx: &mut Ctx<'_>, name: TimerName, after: Duration) -> Step {
        if after.is_zero() {
            Step::Terminate
        } else {
            self.arm(cx, name, after);
            Step::Stay
        }
    }

    fn is_armed(&self, name: TimerName) -> bool {
        self.armed[name as usize] != 0
    }

    /// Is `entry` this transaction's live entry for its timer?
    fn is_live(&self, entry: &TimerEntry) -> bool {
        self.armed[entry.name as usize] == entry.arming
    }

    fn interval(&self) -> Duration {
        Duration::from_micros(u64::from(self.interval_us))
    }

    fn set_interval(&mut self, d: Duration) {
        self.interval_us = u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
    }

    /// Server INVITE: remembers the To tag of the final response `msg`
    /// where RFC 2543 ACK matching needs it (an RFC 3261 ACK matches by
    /// branch).
    fn note_response_to_tag(&mut self, msg: &SipMessage) {
        if let Index::Legacy(l) = &mut self.index {
            l.response_to_tag = msg.to_tag().ok().flatten().map(Into::into);
        }
    }

    /// The bytes kept for re-sending ([`wire`](Self::wire)), if any.
    fn resend(&self) -> Option<Bytes> {
        (!self.wire.is_empty()).then(|| self.wire.clone())
    }

    fn reliable(&self) -> bool {
        self.peer.transport.is_reliable()
    }
}

/// The layer's hash tables: a seeded fast hasher (keys include
/// network-chosen branches, so it stays randomly seeded per process).
type Table<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The arming number after `n`: never 0, the disarmed mark. A transaction
/// is armed a handful of times (Timer A or E at most ~11), so the wrap past
/// 65,535 is there for correctness, not for use.
fn next_arming(n: u16) -> u16 {
    n.wrapping_add(1).max(1)
}

/// Size of a chunk of kept responses ([`Ctx::keep`]): some 200 responses.
const KEPT_CHUNK: usize = 64 * 1024;

/// Room for this many transactions before the first rehash.
const INITIAL_CAPACITY: usize = 4096;

/// The sans-IO transaction layer.
///
/// Feed it with [`handle_input`](Self::handle_input) and
/// [`handle_timeout`](Self::handle_timeout), drain
/// [`poll_output`](Self::poll_output) after each, and wake it at
/// [`poll_timeout`](Self::poll_timeout). It never reads a clock: every call
/// takes `now`.
#[derive(Debug)]
pub struct TransactionLayer {
    timers: Timers,
    max_transactions: usize,
    trying_delay: Option<Duration>,
    next_key: u64,
    /// Boxed: a table growing under load moves pointers, not transactions
    /// (rehashing inline entries showed as 4 % of a MESSAGE relay profile).
    txns: Table<TransactionKey, Box<Transaction>>,
    client_index: Table<ClientId, TransactionKey>,
    server_index: Table<ServerId, TransactionKey>,
    legacy_index: Table<LegacyId, Vec<TransactionKey>>,
    heap: BinaryHeap<Reverse<TimerEntry>>,
    /// Armed timers, i.e. live heap entries; the rest of the heap is stale
    /// (disarmed, re-armed or of a terminated transaction) and is dropped
    /// when it reaches the top or, in bulk, by [`compact_heap`](Self::compact_heap).
    live_timers: usize,
    out: VecDeque<Output>,
    /// The chunk kept responses are copied into ([`Ctx::keep`]).
    kept: BytesMut,
}

impl TransactionLayer {
    /// A layer running on `timers`, with at most
    /// [`DEFAULT_MAX_TRANSACTIONS`] live transactions, sending 100 Trying for
    /// an INVITE the TU leaves unanswered for 200 ms.
    pub fn new(timers: Timers) -> Self {
        TransactionLayer {
            timers,
            max_transactions: DEFAULT_MAX_TRANSACTIONS,
            trying_delay: Some(Duration::from_millis(200)),
            next_key: 0,
            txns: Table::with_capacity_and_hasher(INITIAL_CAPACITY, Default::default()),
            client_index: Table::with_capacity_and_hasher(INITIAL_CAPACITY, Default::default()),
            server_index: Table::with_capacity_and_hasher(INITIAL_CAPACITY, Default::default()),
            legacy_index: Table::default(),
            heap: BinaryHeap::new(),
            live_timers: 0,
            out: VecDeque::new(),
            kept: BytesMut::new(),
        }
    }

    /// Caps the number of live transactions at `max`. A request arriving
    /// beyond it comes out as [`Output::Overloaded`]; a request the TU sends
    /// beyond it is refused with [`ProtoError::TooManyTransactions`].
    pub fn with_max_transactions(mut self, max: usize) -> Self {
        self.max_transactions = max;
        self
    }

    /// When an INVITE server transaction sends 100 Trying on its own (§17.2.1:
    /// it MUST unless the TU answers within 200 ms): `Some(d)` after `d`
    /// without a TU response (`Duration::ZERO`: at once), `None` never (the TU
    /// takes that duty).
    pub fn with_trying_delay(mut self, delay: Option<Duration>) -> Self {
        self.trying_delay = delay;
        self
    }

    /// The timer values in use.
    pub fn timers(&self) -> &Timers {
        &self.timers
    }

    /// Live transactions.
    pub fn len(&self) -> usize {
        self.txns.len()
    }

    /// No live transaction?
    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }

    /// The cap on live transactions.
    pub fn max_transactions(&self) -> usize {
        self.max_transactions
    }

    /// The state of a live transaction; `None` once it terminated.
    pub fn state(&self, key: TransactionKey) -> Option<TransactionState> {
        self.txns.get(&key).map(|t| t.state)
    }

    /// The kind of a live transaction.
    pub fn kind(&self, key: TransactionKey) -> Option<TransactionKind> {
        self.txns.get(&key).map(|t| t.kind)
    }

    /// The live client transactions whose request went over `flow` (a
    /// connection): when the connection closes, the driver fails them with
    /// [`Input::TransportError`] (§17.1.4) rather than leave them to Timer B
    /// or F. Linear in the number of live transactions; flows close rarely.
    pub fn clients_on_flow(&self, flow: FlowId) -> Vec<TransactionKey> {
        self.txns
            .iter()
            .filter(|(_, t)| {
                t.kind.is_client() && t.peer.flow == flow && t.peer.transport.is_reliable()
            })
            .map(|(k, _)| *k)
            .collect()
    }

    /// The request that created a live transaction (`None` for a non-INVITE
    /// transaction past its final response).
    pub fn request(&self, key: TransactionKey) -> Option<&SipMessage> {
        self.txns.get(&key).and_then(|t| t.request.as_deref())
    }

    /// Pushes one input. Returns the transaction it created or reached: the new
    /// client transaction for `SendRequest`, the server transaction for
    /// `SendResponse`, the matched or new server or client transaction for
    /// `Received` (`None` for an ACK, a stray response or an overload), `None`
    /// for `SendStateless`.
    ///
    /// Errors leave the layer unchanged and produce no output.
    pub fn handle_input(
        &mut self,
        now: Instant,
        input: Input,
    ) -> Result<Option<TransactionKey>, ProtoError> {
        let r = self.dispatch(now, input);
        // A response or a retransmission may have disarmed timers.
        self.compact_heap();
        r
    }

    fn dispatch(
        &mut self,
        now: Instant,
        input: Input,
    ) -> Result<Option<TransactionKey>, ProtoError> {
        match input {
            Input::Received { msg, peer } => {
                if msg.is_request() {
                    self.receive_request(now, msg, peer)
                } else {
                    self.receive_response(now, msg, peer)
                }
            }
            Input::SendRequest { msg, peer } => self.send_request(now, msg, peer).map(Some),
            Input::SendResponse { key, msg } => {
                self.send_response(now, key, msg).map(|()| Some(key))
            }
            Input::SendStateless { msg, peer } => {
                self.out.push_back(Output::Transmit(Transmit {
                    key: None,
                    to: peer,
                    bytes: msg.to_bytes(),
                }));
                Ok(None)
            }
            Input::TransportError { key } => self.transport_error(key).map(|()| Some(key)),
            Input::Abandon { key } => {
                let txn = self
                    .txns
                    .get(&key)
                    .ok_or(ProtoError::UnknownTransaction(key))?;
                if !txn.kind.is_client() {
                    return Err(ProtoError::NotAClientTransaction(key));
                }
                self.remove(key);
                Ok(Some(key))
            }
        }
    }

    /// Shorthand for `handle_input(now, Input::SendRequest { msg, peer })`
    /// returning the new client transaction's key.
    pub fn send_request(
        &mut self,
        now: Instant,
        msg: SipMessage,
        peer: Peer,
    ) -> Result<TransactionKey, ProtoError> {
        let method = msg.method().ok_or(ProtoError::NotARequest)?;
        if method == Method::Ack {
            return Err(ProtoError::AckIsNotATransaction);
        }
        let via = msg.via()?;
        if !via.is_rfc3261_branch() {
            return Err(ProtoError::MissingBranch);
        }
        msg.cseq()?;
        let id = ClientId::new(
            via.branch().unwrap_or_default(),
            msg.method_str().unwrap_or_default(),
        );
        if let Some(&existing) = self.client_index.get(&id) {
            return Err(ProtoError::DuplicateTransaction(existing));
        }
        if self.txns.len() >= self.max_transactions {
            return Err(ProtoError::TooManyTransactions(self.max_transactions));
        }
        let key = self.next_key();
        let kind = if method == Method::Invite {
            TransactionKind::ClientInvite
        } else {
            TransactionKind::ClientNonInvite
        };
        let mut txn = Transaction::new(
            kind,
            TransactionState::Trying,
            peer,
            msg,
            Index::Client(id.clone()),
        );
        let (_, mut cx) = self.split(now, key);
        txn.client_start(&mut cx);
        self.client_index.insert(id, key);
        self.txns.insert(key, Box::new(txn));
        Ok(key)
    }

    fn send_response(
        &mut self,
        now: Instant,
        key: TransactionKey,
        msg: SipMessage,
    ) -> Result<(), ProtoError> {
        if msg.is_request() {
            return Err(ProtoError::NotAResponse);
        }
        let (txns, mut cx) = self.split(now, key);
        let txn = txns
            .get_mut(&key)
            .ok_or(ProtoError::UnknownTransaction(key))?;
        if txn.kind.is_client() {
            return Err(ProtoError::NotAServerTransaction(key));
        }
        if txn.server_send_response(&mut cx, &msg)? == Step::Terminate {
            self.remove(key);
        }
        Ok(())
    }

    fn receive_response(
        &mut self,
        now: Instant,
        msg: SipMessage,
        peer: Peer,
    ) -> Result<Option<TransactionKey>, ProtoError> {
        let id = ClientId::of_response(&msg)?;
        let Some(&key) = self.client_index.get(&id) else {
            self.out.push_back(Output::StrayResponse { msg, peer });
            return Ok(None);
        };
        let (txns, mut cx) = self.split(now, key);
        let Some(txn) = txns.get_mut(&key) else {
            return Ok(None);
        };
        if txn.client_on_response(&mut cx, msg) == Step::Terminate {
            self.remove(key);
        }
        Ok(Some(key))
    }

    fn receive_request(
        &mut self,
        now: Instant,
        msg: SipMessage,
        peer: Peer,
    ) -> Result<Option<TransactionKey>, ProtoError> {
        let ack = is_ack(&msg);
        let (existing, index) = {
            let via = msg.via()?;
            match ServerId::of_request(&via, msg.method_str().unwrap_or_default()) {
                Some(id) => (self.server_index.get(&id).copied(), Index::Server(id)),
                None => {
                    let (id, extra) = LegacyId::of_request(&msg, &via)?;
                    let found = self.find_legacy(&id, &extra, ack);
                    (
                        found,
                        Index::Legacy(Box::new(LegacyIndex {
                            id,
                            extra,
                            response_to_tag: None,
                        })),
                    )
                }
            }
        };
        let response_peer = server_response_peer(&msg, peer);
        if let Some(key) = existing {
            let (txns, mut cx) = self.split(now, key);
            if let Some(txn) = txns.get_mut(&key)
                && txn.server_on_request(&mut cx, msg, peer) == Step::Terminate
            {
                self.remove(key);
            }
            return Ok(Some(key));
        }
        if ack {
            // §17.2.3 / RFC 6026 §7.1: an ACK matching no transaction is the
            // ACK for a 2xx; it belongs to the TU.
            self.out.push_back(Output::Ack { msg, peer });
            return Ok(None);
        }
        if self.txns.len() >= self.max_transactions {
            self.out.push_back(Output::Overloaded { msg, peer });
            return Ok(None);
        }
        let key = self.next_key();
        let kind = if msg.method() == Some(Method::Invite) {
            TransactionKind::ServerInvite
        } else {
            TransactionKind::ServerNonInvite
        };
        let mut txn = Transaction::new(
            kind,
            TransactionState::Proceeding,
            response_peer,
            msg.clone(),
            index.clone(),
        );
        let trying_delay = self.trying_delay;
        let (_, mut cx) = self.split(now, key);
        cx.emit(Output::Request { key, msg, peer });
        txn.server_start(&mut cx, trying_delay);
        match index {
            Index::Server(id) => {
                self.server_index.insert(id, key);
            }
            Index::Legacy(l) => self.legacy_index.entry(l.id).or_default().push(key),
            Index::Client(_) => {}
        }
        self.txns.insert(key, Box::new(txn));
        Ok(Some(key))
    }

    /// §17.2.3, RFC 2543 rules: among the transactions sharing Request-URI,
    /// From tag, Call-ID, CSeq number and top Via, the one whose method and To
    /// tag match — for an ACK, an INVITE transaction that sent a final
    /// response carrying the ACK's To tag.
    fn find_legacy(&self, id: &LegacyId, extra: &LegacyExtra, ack: bool) -> Option<TransactionKey> {
        self.legacy_index.get(id)?.iter().copied().find(|k| {
            let Some(t) = self.txns.get(k) else {
                return false;
            };
            let Index::Legacy(l) = &t.index else {
                return false;
            };
            let own = &l.extra;
            if ack {
                t.kind == TransactionKind::ServerInvite
                    && matches!(
                        t.state,
                        TransactionState::Completed
                            | TransactionState::Confirmed
                            | TransactionState::Accepted
                    )
                    && l.response_to_tag == extra.to_tag
            } else {
                own.method == extra.method && own.to_tag == extra.to_tag
            }
        })
    }

    /// The server INVITE transaction a received CANCEL cancels (§9.2): the
    /// §17.2.3 match with the method ignored — same branch and sent-by (magic
    /// cookie), or the RFC 2543 fields with the CSeq number and the To tag of
    /// the INVITE. `None` when there is none: the TU answers the CANCEL 481.
    ///
    /// Only INVITE transactions are found: CANCEL has no effect on others
    /// (§9.2) and UACs do not send it for them (§9.1).
    pub fn find_cancel_target(&self, cancel: &SipMessage) -> Option<TransactionKey> {
        let via = cancel.via().ok()?;
        let key = if via.is_rfc3261_branch() {
            *self
                .server_index
                .get(&ServerId::with_method(&via, "INVITE"))?
        } else {
            let (id, extra) = LegacyId::of_request(cancel, &via).ok()?;
            let invite = LegacyExtra {
                method: "INVITE".into(),
                to_tag: extra.to_tag,
            };
            self.find_legacy(&id, &invite, false)?
        };
        (self.kind(key) == Some(TransactionKind::ServerInvite)).then_some(key)
    }

    fn transport_error(&mut self, key: TransactionKey) -> Result<(), ProtoError> {
        let txn = self
            .txns
            .get_mut(&key)
            .ok_or(ProtoError::UnknownTransaction(key))?;
        self.out.push_back(Output::TransportError { key });
        // §17.1.4 and §17.2.4: inform the TU and terminate — except the INVITE
        // server transaction, which stays to absorb retransmissions of the
        // INVITE until its timers end it (RFC 6026 §7.1).
        if txn.kind != TransactionKind::ServerInvite {
            self.remove(key);
        }
        Ok(())
    }

    /// The transaction table and, beside it, what a handler of transaction
    /// `key` works with at `now` (borrowed apart, so a handler can run on a
    /// transaction of the table).
    fn split(
        &mut self,
        now: Instant,
        key: TransactionKey,
    ) -> (&mut Table<TransactionKey, Box<Transaction>>, Ctx<'_>) {
        let cx = Ctx {
            now,
            key,
            timers: &self.timers,
            heap: &mut self.heap,
            out: &mut self.out,
            kept: &mut self.kept,
            live: &mut self.live_timers,
        };
        (&mut self.txns, cx)
    }

    /// Fires every timer due by `now`. Safe to call early or spuriously.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse(entry)) = self.heap.peek().copied() {
            if entry.at > now {
                break;
            }
            self.heap.pop();
            let (txns, mut cx) = self.split(now, entry.key);
            let Some(txn) = txns.get_mut(&entry.key) else {
                continue;
            };
            if !txn.is_live(&entry) {
                continue;
            }
            txn.disarm(&mut cx, entry.name);
            let step = if txn.kind.is_client() {
                txn.client_on_timer(&mut cx, entry.name)
            } else {
                txn.server_on_timer(&mut cx, entry.name)
            };
            if step == Step::Terminate {
                self.remove(entry.key);
            }
        }
        self.compact_heap();
    }

    /// Gives back the tables' room once load has fallen: a burst (Timer J
    /// keeps 64·T1 of requests, 64,000 at 2,000 a second) grows them, and
    /// a table never shrinks by itself. A table below half its capacity is
    /// shrunk to 1.25 times its live count (the next power-of-two bucket
    /// count above that): it then grows again only after a quarter more
    /// load, and shrinks again only below half, so rehashes stay rare.
    fn shrink_after_load(&mut self) {
        if self.txns.is_empty() {
            self.kept = BytesMut::new();
        }
        let cap = self.txns.capacity();
        if cap <= 4 * INITIAL_CAPACITY || self.txns.len() * 2 >= cap {
            return;
        }
        let len = self.txns.len();
        let room = (len + len / 4).max(INITIAL_CAPACITY);
        self.txns.shrink_to(room);
        self.server_index.shrink_to(room);
        self.client_index.shrink_to(room);
        self.legacy_index.shrink_to(0);
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has work; `None` with
    /// no timer armed.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        // Drop entries of disarmed timers and terminated transactions so the
        // answer is exact.
        while let Some(Reverse(entry)) = self.heap.peek() {
            let live = self.txns.get(&entry.key).is_some_and(|t| t.is_live(entry));
            if live {
                return Some(entry.at);
            }
            self.heap.pop();
        }
        None
    }

    /// The next output, in the order produced.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    fn next_key(&mut self) -> TransactionKey {
        self.next_key += 1;
        TransactionKey::new(self.next_key)
    }

    /// Destroys a transaction (it entered Terminated) and tells the TU.
    fn remove(&mut self, key: TransactionKey) {
        let Some(txn) = self.txns.remove(&key) else {
            return;
        };
        self.live_timers -= txn.armed_count();
        match txn.index {
            Index::Client(id) => {
                self.client_index.remove(&id);
            }
            Index::Server(id) => {
                self.server_index.remove(&id);
            }
            Index::Legacy(l) => {
                let id = &l.id;
                if let Some(keys) = self.legacy_index.get_mut(id) {
                    keys.retain(|k| *k != key);
                    if keys.is_empty() {
                        self.legacy_index.remove(id);
                    }
                }
            }
        }
        self.out.push_back(Output::Terminated { key });
        self.compact_heap();
        self.shrink_after_load();
    }

    /// Drops the stale timer entries in bulk once they outnumber a quarter
    /// of the live ones by a chunk's worth (`INITIAL_CAPACITY`), and gives back the
    /// heap's room. Entries go stale long before their time: a UDP NOTIFY
    /// answered at once leaves its Timer F entry (64·T1) behind, so at
    /// thousands of requests a second the stale entries would otherwise be
    /// most of the heap for 32 s (and its capacity, doubled at the peak,
    /// held after). A compaction is one pass over the heap and comes after
    /// at least a fifth of it went stale: a few lookups per stale entry.
    /// Capacity over twice the entries (or a chunk) is given back whether
    /// or not this call compacted.
    fn compact_heap(&mut self) {
        let stale = self.heap.len().saturating_sub(self.live_timers);
        if stale > self.live_timers / 4 + INITIAL_CAPACITY {
            let txns = &self.txns;
            self.heap
                .retain(|Reverse(e)| txns.get(&e.key).is_some_and(|t| t.is_live(e)));
            debug_assert_eq!(self.heap.len(), self.live_timers);
            // What is left is exactly the armed timers (and repairs the
            // count, were it ever off).
            self.live_timers = self.heap.len();
        }
        // The heap's room, given back here only (entries also leave by
        // firing, without any compaction).
        let len = self.heap.len().max(INITIAL_CAPACITY);
        if self.heap.capacity() > 2 * len {
            self.heap.shrink_to(len + len / 2);
        }
    }
}

/// Where a server transaction sends its responses: back over the same flow on
/// a reliable transport (§18.2.2 first bullet); on UDP to the §18.2.2 address
/// when it is a literal one, else to the request's source.
fn server_response_peer(msg: &SipMessage, peer: Peer) -> Peer {
    if peer.transport.is_reliable() {
        return peer;
    }
    match msg.via().map(|v| response_route(&v).target) {
        Ok(ResponseTarget::Addr(remote)) => Peer { remote, ..peer },
        _ => peer,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::transport::Transport;

    fn parse(s: String) -> SipMessage {
        SipMessage::parse(Bytes::from(s)).unwrap()
    }

    fn req(method: &str, branch: &str) -> SipMessage {
        parse(format!(
            "{method} sip:b@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch={branch}\r\n\
From: <sip:a@example.test>;tag=f\r\nTo: <sip:b@example.test>\r\n\
Call-ID: x\r\nCSeq: 3 {method}\r\nContent-Length: 0\r\n\r\n"
        ))
    }

    fn resp(status: u16, branch: &str, method: &str) -> SipMessage {
        parse(format!(
            "SIP/2.0 {status} X\r\nVia: SIP/2.0/UDP 192.0.2.1;branch={branch}\r\n\
From: <sip:a@example.test>;tag=f\r\nTo: <sip:b@example.test>;tag=t\r\n\
Call-ID: x\r\nCSeq: 3 {method}\r\nContent-Length: 0\r\n\r\n"
        ))
    }

    fn peer() -> Peer {
        Peer::new(Transport::Udp, "192.0.2.2:5060".parse().unwrap(), FlowId(1))
    }

    #[test]
    fn send_request_refuses_what_is_not_a_new_client_transaction() {
        let now = Instant::now();
        let mut l = TransactionLayer::new(Timers::default());
        let e = |l: &mut TransactionLayer, m| l.send_request(now, m, peer()).unwrap_err();
        assert_eq!(
            e(&mut l, resp(200, "z9hG4bK1", "INVITE")),
            ProtoError::NotARequest
        );
        assert_eq!(
            e(&mut l, req("ACK", "z9hG4bK1")),
            ProtoError::AckIsNotATransaction
        );
        assert_eq!(e(&mut l, req("INVITE", "1234")), ProtoError::MissingBranch);
        let k = l
            .send_request(now, req("INVITE", "z9hG4bK1"), peer())
            .unwrap();
        assert_eq!(
            e(&mut l, req("INVITE", "z9hG4bK1")),
            ProtoError::DuplicateTransaction(k)
        );
        // The CANCEL shares the branch but is another transaction.
        assert!(
            l.send_request(now, req("CANCEL", "z9hG4bK1"), peer())
                .is_ok()
        );
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn send_response_needs_a_live_server_transaction() {
        let now = Instant::now();
        let mut l = TransactionLayer::new(Timers::default());
        let ck = l
            .send_request(now, req("OPTIONS", "z9hG4bK1"), peer())
            .unwrap();
        let r = resp(200, "z9hG4bK1", "OPTIONS");
        let send = |l: &mut TransactionLayer, key, msg| {
            l.handle_input(now, Input::SendResponse { key, msg })
        };
        assert_eq!(
            send(&mut l, ck, r.clone()).unwrap_err(),
            ProtoError::NotAServerTransaction(ck)
        );
        assert_eq!(
            send(&mut l, ck, req("OPTIONS", "z9hG4bK1")).unwrap_err(),
            ProtoError::NotAResponse
        );
        let sk = l
            .handle_input(
                now,
                Input::Received {
                    msg: req("OPTIONS", "z9hG4bK2"),
                    peer: peer(),
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(l.kind(sk), Some(TransactionKind::ServerNonInvite));
        assert_eq!(send(&mut l, sk, r.clone()).unwrap(), Some(sk));
        // UDP: Timer J keeps it; a second final is refused.
        assert!(matches!(
            send(&mut l, sk, r).unwrap_err(),
            ProtoError::ResponseRefused {
                status: 200,
                state: TransactionState::Completed,
                ..
            }
        ));
    }

    #[test]
    fn poll_timeout_is_exact_after_timers_are_disarmed() {
        let t0 = Instant::now();
        let mut l = TransactionLayer::new(Timers::default());
        assert_eq!(l.poll_timeout(), None);
        let k = l
            .send_request(t0, req("INVITE", "z9hG4bK1"), peer())
            .unwrap();
        assert_eq!(l.poll_timeout(), Some(t0 + Duration::from_millis(500)));
        // A provisional disarms A and B: nothing left to wait for.
        l.handle_input(
            t0,
            Input::Received {
                msg: resp(180, "z9hG4bK1", "INVITE"),
                peer: peer(),
            },
        )
        .unwrap();
        assert_eq!(l.state(k), Some(TransactionState::Proceeding));
        assert_eq!(l.poll_timeout(), None);
        // A spurious handle_timeout is harmless.
        l.handle_timeout(t0 + Duration::from_secs(100));
        assert_eq!(l.state(k), Some(TransactionState::Proceeding));
        let outputs: Vec<Output> = std::iter::from_fn(|| l.poll_output()).collect();
        assert!(matches!(outputs[0], Output::Transmit(Transmit { key: Some(x), .. }) if x == k));
        assert!(matches!(outputs[1], Output::Response { key: x, .. } if x == k));
        assert_eq!(outputs.len(), 2);
    }

    #[test]
    fn received_messages_without_what_matching_needs_are_errors() {
        let now = Instant::now();
        let mut l = TransactionLayer::new(Timers::default());
        let no_via = parse(
            "OPTIONS sip:b@example.test SIP/2.0\r\nFrom: <sip:a@example.test>;tag=f\r\n\
To: <sip:b@example.test>\r\nCall-ID: x\r\nCSeq: 3 OPTIONS\r\nContent-Length: 0\r\n\r\n"
                .into(),
        );
        let e = l
            .handle_input(
                now,
                Input::Received {
                    msg: no_via,
                    peer: peer(),
                },
            )
            .unwrap_err();
        assert!(
            matches!(e, ProtoError::Message(ref p) if p.status() == 400),
            "{e}"
        );
        // A response matching nothing is stray.
        let r = l
            .handle_input(
                now,
                Input::Received {
                    msg: resp(200, "z9hG4bK7", "BYE"),
                    peer: peer(),
                },
            )
            .unwrap();
        assert_eq!(r, None);
        assert!(matches!(
            l.poll_output(),
            Some(Output::StrayResponse { .. })
        ));
        assert!(l.is_empty());
    }

    /// Half of a burst's transactions waited out Timer J, half are still
    /// there: the tables already give back the room of the gone half
    /// (a load falling from its peak, as 10 s after a 2,000/s run).
    #[test]
    fn tables_shrink_while_load_falls() {
        let t0 = Instant::now();
        let n = 10 * INITIAL_CAPACITY;
        let mut l = TransactionLayer::new(Timers::default()).with_max_transactions(n);
        for i in 0..n {
            // The first half at t0, the second 10 s later.
            let at = if i < n / 2 {
                t0
            } else {
                t0 + Duration::from_secs(10)
            };
            let branch = format!("z9hG4bK{i}");
            let key = l
                .handle_input(
                    at,
                    Input::Received {
                        msg: req("MESSAGE", &branch),
                        peer: peer(),
                    },
                )
                .unwrap()
                .unwrap();
            l.handle_input(
                at,
                Input::SendResponse {
                    key,
                    msg: resp(200, &branch, "MESSAGE"),
                },
            )
            .unwrap();
            while l.poll_output().is_some() {}
        }
        let peak = l.txns.capacity();
        l.handle_timeout(t0 + Duration::from_secs(33));
        assert_eq!(l.len(), n / 2);
        // Half the buckets (a table's capacity() also drops a little with
        // the tombstones of removals, without giving anything back).
        assert!(
            l.txns.capacity() <= peak / 2,
            "{} of {peak}",
            l.txns.capacity()
        );
        assert!(l.server_index.capacity() <= peak / 2);
        assert!(l.txns.capacity() >= n / 2);
    }

    #[test]
    fn tables_give_back_their_room_once_a_burst_is_over() {
        let t0 = Instant::now();
        let n = 20 * INITIAL_CAPACITY;
        let mut l = TransactionLayer::new(Timers::default()).with_max_transactions(n);
        for i in 0..n {
            let key = l
                .handle_input(
                    t0,
                    Input::Received {
                        msg: req("MESSAGE", &format!("z9hG4bK{i}")),
                        peer: peer(),
                    },
                )
                .unwrap()
                .unwrap();
            let r = resp(200, &format!("z9hG4bK{i}"), "MESSAGE");
            l.handle_input(t0, Input::SendResponse { key, msg: r })
                .unwrap();
            while l.poll_output().is_some() {}
        }
        assert_eq!(l.len(), n, "every one waits out Timer J");
        let grown = l.txns.capacity();
        assert!(grown >= n, "{grown}");
        // Timer J (64·T1) over: all gone, and the room with them.
        l.handle_timeout(t0 + Duration::from_secs(33));
        assert!(l.is_empty());
        assert!(l.txns.capacity() < grown / 4, "{}", l.txns.capacity());
        assert!(l.server_index.capacity() < grown / 4);
        assert!(l.heap.capacity() < n / 4, "{}", l.heap.capacity());
    }

    /// NOTIFYs over UDP answered at once, one a millisecond for 20 s: each
    /// leaves its Timer E and F entries stale (F is 64·T1) while Timer K
    /// (5 s) keeps the transaction. The heap stays within 1.25 times the
    /// armed timers (plus a chunk) instead of holding every F entry for 32 s.
    #[test]
    fn stale_timer_entries_do_not_pile_up() {
        let t0 = Instant::now();
        let mut l = TransactionLayer::new(Timers::default());
        let n = 20_000;
        let mut most = 0;
        for i in 0..n {
            let now = t0 + Duration::from_millis(i);
            l.handle_timeout(now);
            let branch = format!("z9hG4bK{i}");
            l.send_request(now, req("NOTIFY", &branch), peer()).unwrap();
            l.handle_input(
                now,
                Input::Received {
                    msg: resp(200, &branch, "NOTIFY"),
                    peer: peer(),
                },
            )
            .unwrap();
            while l.poll_output().is_some() {}
            if i % 500 == 0 {
                let armed: usize = l.txns.values().map(|t| t.armed_count()).sum();
                assert_eq!(l.live_timers, armed, "after NOTIFY {i}");
            }
            assert!(
                l.heap.len() <= l.live_timers + l.live_timers / 4 + INITIAL_CAPACITY,
                "NOTIFY {i}: {} entries for {} armed timers",
                l.heap.len(),
                l.live_timers
            );
            most = most.max(l.heap.len());
        }
        // Only the last 5 s of transactions wait out Timer K.
        assert!(l.len() <= 5_001, "{}", l.len());
        // Uncompacted, every Timer F entry (32 s) of the 20 s would be there.
        assert!(most < n as usize, "{most}");
        l.handle_timeout(t0 + Duration::from_secs(60));
        assert!(l.is_empty());
        assert_eq!(l.live_timers, 0);
        assert_eq!(l.poll_timeout(), None);
    }

    #[test]
    fn arming_numbers_never_reach_the_disarmed_mark() {
        assert_eq!(next_arming(0), 1);
        assert_eq!(next_arming(41), 42);
        assert_eq!(next_arming(u16::MAX), 1);
    }

    /// The final responses Completed transactions keep live in shared chunks
    /// ([`Ctx::keep`]): across a chunk's end each one is still re-sent byte
    /// for byte on a retransmitted request — those kept whole (here: a
    /// response with a header line of its own before Via) and those kept
    /// cut down to what the request does not repeat ([`kept`]).
    #[test]
    fn kept_responses_are_resent_intact_across_chunks() {
        let t0 = Instant::now();
        let mut l = TransactionLayer::new(Timers::default());
        let n = 6 * KEPT_CHUNK / 150;
        let mut sent = Vec::new();
        for i in 0..n {
            let branch = format!("z9hG4bK{i}");
            let key = l
                .handle_input(
                    t0,
                    Input::Received {
                        msg: req("MESSAGE", &branch),
                        peer: peer(),
                    },
                )
                .unwrap()
                .unwrap();
            let r = resp(200, &branch, "MESSAGE");
            let r = if i % 2 == 0 {
                r
            } else {
                let own = format!("SIP/2.0 200 X\r\nServer: own-{i}\r\n");
                let text = String::from_utf8(r.to_bytes().to_vec()).unwrap();
                parse(text.replacen("SIP/2.0 200 X\r\n", &own, 1))
            };
            sent.push((branch, r.to_bytes()));
            l.handle_input(t0, Input::SendResponse { key, msg: r })
                .unwrap();
            while l.poll_output().is_some() {}
        }
        let cut = l.txns.values().filter(|t| t.wire_is_delta).count();
        assert_eq!(
            cut,
            n.div_ceil(2),
            "responses built from the request are cut down"
        );
        let whole: usize = sent.iter().skip(1).step_by(2).map(|s| s.1.len()).sum();
        assert!(whole > 2 * KEPT_CHUNK, "the whole ones span chunks");
        for (branch, bytes) in sent.iter().step_by(7).chain(sent.last()) {
            l.handle_input(
                t0,
                Input::Received {
                    msg: req("MESSAGE", branch),
                    peer: peer(),
                },
            )
            .unwrap();
            match l.poll_output() {
                Some(Output::Transmit(t)) => assert_eq!(&t.bytes, bytes, "{branch}"),
                other => panic!("{branch}: {other:?}"),
            }
            assert!(l.poll_output().is_none());
        }
    }

    /// An in-dialog request (its To has a tag already) answered with a
    /// built response: kept cut down, re-sent byte for byte to its
    /// retransmission, and nothing to a request reusing its branch with
    /// another CSeq.
    #[test]
    fn an_in_dialog_retransmission_gets_the_same_response() {
        let t0 = Instant::now();
        let mut l = TransactionLayer::new(Timers::default());
        let text = "SUBSCRIBE sip:b@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKdlg\r\n\
From: <sip:a@example.test>;tag=f\r\nTo: <sip:b@example.test>;tag=hp1\r\n\
Call-ID: x\r\nCSeq: 4 SUBSCRIBE\r\nContent-Length: 0\r\n\r\n";
        let received = |t: &str| Input::Received {
            msg: parse(t.to_owned()),
            peer: peer(),
        };
        let key = l.handle_input(t0, received(text)).unwrap().unwrap();
        let req = l.request(key).unwrap().clone();
        let r = crate::response_builder(&req, 200, "OK", None)
            .unwrap()
            .header(sip_msg::HeaderName::Expires, "600")
            .build()
            .unwrap();
        let sent = r.to_bytes();
        l.handle_input(t0, Input::SendResponse { key, msg: r })
            .unwrap();
        while l.poll_output().is_some() {}
        assert!(l.txns[&key].wire_is_delta);
        assert!(l.txns[&key].wire.len() * 2 < sent.len());
        l.handle_input(t0, received(text)).unwrap();
        match l.poll_output() {
            Some(Output::Transmit(t)) => assert_eq!(t.bytes, sent),
            other => panic!("{other:?}"),
        }
        l.handle_input(t0, received(&text.replace("CSeq: 4", "CSeq: 5")))
            .unwrap();
        assert!(
            l.poll_output().is_none(),
            "not a retransmission: nothing sent"
        );
    }

    /// What a transaction weighs is what 64·T1 of traffic holds (Timer J):
    /// keep it within its allocator size class (mimalloc's 160-byte one).
    #[test]
    fn a_transaction_stays_small() {
        assert!(std::mem::size_of::<Transaction>() <= 160);
    }
}
