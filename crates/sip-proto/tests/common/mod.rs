//! Shared harness for the behaviour tests: transaction layers joined by a
//! simulated link, all on one virtual clock. No sockets, no sleeps.
//!
//! `Net` owns the clock, the link and the nodes. Each node is a
//! `TransactionLayer` at an address; whatever a layer outputs is logged with
//! the virtual time, and its `Transmit`s go onto the link. Packets to an
//! address with no node vanish (a black hole to watch one side alone).

// A test harness: panicking on the unexpected is its job.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use simple_testkit::{LinkConfig, SimLink, VirtualClock};
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{
    FlowId, Input, Output, Peer, ProtoError, Tag, TimerName, Timers, TransactionKey,
    TransactionLayer, Transport, reason_phrase, response_builder, stamp_received,
};

pub const A: usize = 0;
pub const B: usize = 1;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[derive(Debug, Clone)]
pub struct Event {
    pub at: Duration,
    pub output: Output,
}

#[derive(Debug)]
pub struct Node {
    pub addr: SocketAddr,
    pub layer: TransactionLayer,
    pub log: Vec<Event>,
    pub errors: Vec<ProtoError>,
}

impl Node {
    /// (time, start line) of every Transmit.
    pub fn transmits(&self) -> Vec<(Duration, String)> {
        self.log
            .iter()
            .filter_map(|e| match &e.output {
                Output::Transmit(t) => Some((e.at, start_line(&t.bytes))),
                _ => None,
            })
            .collect()
    }

    /// Times at which a message whose start line begins with `prefix` was sent.
    pub fn sent_at(&self, prefix: &str) -> Vec<Duration> {
        self.transmits()
            .into_iter()
            .filter(|(_, l)| l.starts_with(prefix))
            .map(|(t, _)| t)
            .collect()
    }

    /// The `Output::Request`s (new server transactions).
    pub fn requests(&self) -> Vec<(TransactionKey, SipMessage)> {
        self.log
            .iter()
            .filter_map(|e| match &e.output {
                Output::Request { key, msg, .. } => Some((*key, msg.clone())),
                _ => None,
            })
            .collect()
    }

    /// Status codes of the `Output::Response`s for `key`, in order.
    pub fn responses(&self, key: TransactionKey) -> Vec<u16> {
        self.log
            .iter()
            .filter_map(|e| match &e.output {
                Output::Response { key: k, msg } if *k == key => msg.status(),
                _ => None,
            })
            .collect()
    }

    pub fn timeouts(&self) -> Vec<(Duration, TransactionKey, TimerName)> {
        self.log
            .iter()
            .filter_map(|e| match &e.output {
                Output::Timeout { key, timer } => Some((e.at, *key, *timer)),
                _ => None,
            })
            .collect()
    }

    /// When `key` terminated.
    pub fn terminated_at(&self, key: TransactionKey) -> Option<Duration> {
        self.log.iter().find_map(|e| match &e.output {
            Output::Terminated { key: k } if *k == key => Some(e.at),
            _ => None,
        })
    }

    pub fn acks(&self) -> Vec<SipMessage> {
        self.log
            .iter()
            .filter_map(|e| match &e.output {
                Output::Ack { msg, .. } => Some(msg.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn stray_responses(&self) -> Vec<SipMessage> {
        self.log
            .iter()
            .filter_map(|e| match &e.output {
                Output::StrayResponse { msg, .. } => Some(msg.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn clear_log(&mut self) {
        self.log.clear();
    }
}

#[derive(Debug)]
pub struct Net {
    pub clock: VirtualClock,
    pub link: SimLink<(Transport, Bytes)>,
    pub nodes: Vec<Node>,
    pub transport: Transport,
}

impl Net {
    /// Two nodes, A at 192.0.2.1:5060 and B at 192.0.2.2:5060, default
    /// timers, the given transport and link.
    pub fn new(transport: Transport, link: LinkConfig) -> Net {
        Self::with_layers(
            transport,
            link,
            vec![
                TransactionLayer::new(Timers::default()),
                TransactionLayer::new(Timers::default()),
            ],
        )
    }

    pub fn with_layers(
        transport: Transport,
        link: LinkConfig,
        layers: Vec<TransactionLayer>,
    ) -> Net {
        let nodes = layers
            .into_iter()
            .enumerate()
            .map(|(i, layer)| Node {
                addr: SocketAddr::from(([192, 0, 2, i as u8 + 1], 5060)),
                layer,
                log: Vec::new(),
                errors: Vec::new(),
            })
            .collect();
        Net {
            clock: VirtualClock::new(),
            link: SimLink::new(link),
            nodes,
            transport,
        }
    }

    pub fn udp() -> Net {
        Net::new(Transport::Udp, LinkConfig::default())
    }

    pub fn tcp() -> Net {
        Net::new(Transport::Tcp, LinkConfig::default())
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    pub fn elapsed(&self) -> Duration {
        self.clock.elapsed()
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    pub fn node_mut(&mut self, i: usize) -> &mut Node {
        &mut self.nodes[i]
    }

    /// The peer a message to node `i` is sent to.
    pub fn peer(&self, i: usize) -> Peer {
        Peer::new(self.transport, self.nodes[i].addr, FlowId(i as u64))
    }

    /// A peer at an address with no node: a black hole.
    pub fn nowhere(&self) -> Peer {
        Peer::new(
            self.transport,
            "198.51.100.99:5060".parse().unwrap(),
            FlowId(99),
        )
    }

    /// Feeds an input to node `i` now and drains its outputs into the log and
    /// onto the link.
    pub fn input(&mut self, i: usize, input: Input) -> Result<Option<TransactionKey>, ProtoError> {
        let now = self.now();
        let r = self.nodes[i].layer.handle_input(now, input);
        self.pump();
        r
    }

    /// Node `from` starts a client transaction for `msg` towards node `to`.
    pub fn send_request(&mut self, from: usize, to: usize, msg: SipMessage) -> TransactionKey {
        let peer = self.peer(to);
        self.input(from, Input::SendRequest { msg, peer })
            .unwrap()
            .unwrap()
    }

    /// Node `i` answers its server transaction `key`.
    pub fn respond(&mut self, i: usize, key: TransactionKey, msg: SipMessage) {
        self.input(i, Input::SendResponse { key, msg }).unwrap();
    }

    /// Drains every node's outputs at the current time.
    pub fn pump(&mut self) {
        let now = self.now();
        let at = self.elapsed();
        for n in &mut self.nodes {
            while let Some(o) = n.layer.poll_output() {
                if let Output::Transmit(t) = &o {
                    self.link
                        .send(now, n.addr, t.to.remote, (t.to.transport, t.bytes.clone()));
                }
                n.log.push(Event { at, output: o });
            }
        }
    }

    /// Delivers every packet due now.
    fn deliver(&mut self) {
        let now = self.now();
        while let Some(d) = self.link.poll_delivery(now) {
            let Some(i) = self.nodes.iter().position(|n| n.addr == d.to) else {
                continue;
            };
            let (transport, bytes) = d.payload;
            let Ok(mut msg) = SipMessage::parse(bytes) else {
                continue;
            };
            if msg.is_request() {
                stamp_received(&mut msg, d.from).unwrap();
            }
            let from_node = self
                .nodes
                .iter()
                .position(|n| n.addr == d.from)
                .unwrap_or(99);
            let peer = Peer::new(transport, d.from, FlowId(from_node as u64));
            if let Err(e) = self.nodes[i]
                .layer
                .handle_input(now, Input::Received { msg, peer })
            {
                self.nodes[i].errors.push(e);
            }
            self.pump();
        }
    }

    /// The next instant something happens: a timer or a delivery.
    pub fn next_event(&mut self) -> Option<Instant> {
        let timers = self.nodes.iter_mut().filter_map(|n| n.layer.poll_timeout());
        timers.chain(self.link.next_delivery()).min()
    }

    /// Runs the next event (advancing the clock to it). False when nothing is
    /// pending.
    pub fn step(&mut self) -> bool {
        let Some(at) = self.next_event() else {
            return false;
        };
        self.clock.advance_to(at);
        let now = self.now();
        for n in &mut self.nodes {
            n.layer.handle_timeout(now);
        }
        self.pump();
        self.deliver();
        true
    }

    /// Runs every event up to `offset` after the start, then sets the clock
    /// there.
    pub fn run_until(&mut self, offset: Duration) {
        let end = self.clock.at(offset);
        while self.next_event().is_some_and(|t| t <= end) {
            self.step();
        }
        self.clock.advance_to(end);
    }

    pub fn run_for(&mut self, d: Duration) {
        let target = self.elapsed() + d;
        self.run_until(target);
    }

    /// Runs until nothing is pending (every transaction ended).
    pub fn settle(&mut self) {
        let mut n = 0;
        while self.step() {
            n += 1;
            assert!(n < 100_000, "the network never settles");
        }
    }
}

pub fn start_line(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    s.lines().next().unwrap_or_default().to_owned()
}

/// A request from `via` (the sender's address) with the given branch. The To
/// has no tag unless `to_tag` is given.
pub fn request(
    method: &str,
    transport: Transport,
    via: SocketAddr,
    branch: &str,
    call_id: &str,
    cseq: u32,
    to_tag: Option<&str>,
) -> SipMessage {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let raw = format!(
        "{method} sip:bob@example.test SIP/2.0\r\n\
Via: SIP/2.0/{transport} {via};branch={branch}\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.test>;tag=alice1\r\n\
To: <sip:bob@example.test>{to_tag}\r\n\
Call-ID: {call_id}\r\n\
CSeq: {cseq} {method}\r\n\
Contact: <sip:alice@{via}>\r\n\
Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse(Bytes::from(raw)).unwrap()
}

/// A request from node `i` of `net`.
pub fn request_from(net: &Net, i: usize, method: &str, branch: &str) -> SipMessage {
    request(
        method,
        net.transport,
        net.node(i).addr,
        branch,
        &format!("call-{branch}"),
        1,
        None,
    )
}

/// A response to `req` with To tag `bob1` (when the request had none) and a
/// Contact.
pub fn response(req: &SipMessage, status: u16) -> SipMessage {
    response_builder(req, status, reason_phrase(status), Some(&Tag::from("bob1")))
        .unwrap()
        .header(HeaderName::Contact, "<sip:bob@192.0.2.2:5060>")
        .build()
        .unwrap()
}

/// The only `Output::Request` node `i` got, with its key.
pub fn only_request(net: &Net, i: usize) -> (TransactionKey, SipMessage) {
    let r = net.node(i).requests();
    assert_eq!(r.len(), 1, "requests: {r:?}");
    r.into_iter().next().unwrap()
}
