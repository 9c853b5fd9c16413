//! Literal requests and a small harness for driving the agent on a virtual
//! clock (time is an argument; nothing here sleeps).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use bytes::Bytes;
use simple_presence::{Effects, OutNotify, PresenceAgent, PresenceConfig, SubscribeAuth};
use sip_msg::{HeaderName, SipMessage};
use sip_proto::{FlowId, Peer, TransactionKey, Transport};

pub const ALICE: &str = "sip:alice@example.test";
pub const T0: u64 = 1_800_000_000_000;

pub fn pidf(entity: &str, tuple: &str, basic: &str, note: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"{entity}\">\r\n\
<tuple id=\"{tuple}\"><status><basic>{basic}</basic></status><note>{note}</note></tuple>\r\n\
</presence>\r\n"
    )
}

pub fn parse(text: String) -> SipMessage {
    SipMessage::parse(Bytes::from(text)).expect("test message parses")
}

pub fn publish(
    cseq: u32,
    if_match: Option<&str>,
    expires: Option<u32>,
    body: Option<(&str, &str)>,
) -> SipMessage {
    let mut h = String::new();
    if let Some(t) = if_match {
        h.push_str(&format!("SIP-If-Match: {t}\r\n"));
    }
    if let Some(e) = expires {
        h.push_str(&format!("Expires: {e}\r\n"));
    }
    let (ct, b) = match body {
        Some((ct, b)) => (format!("Content-Type: {ct}\r\n"), b.to_owned()),
        None => (String::new(), String::new()),
    };
    parse(format!(
        "PUBLISH sip:alice@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-pub{cseq}\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.test>;tag=pubtag\r\n\
To: <sip:alice@example.test>\r\n\
Call-ID: pub-call@127.0.0.1\r\n\
CSeq: {cseq} PUBLISH\r\n\
Event: presence\r\n\
{h}{ct}Content-Length: {}\r\n\r\n{b}",
        b.len()
    ))
}

pub struct Sub<'a> {
    pub call_id: &'a str,
    pub from: &'a str,
    pub to_tag: Option<&'a str>,
    pub cseq: u32,
    pub expires: Option<u32>,
    pub event: Option<&'a str>,
    pub accept: Option<&'a str>,
}

impl Default for Sub<'_> {
    fn default() -> Self {
        Sub {
            call_id: "sub-call-1@127.0.0.1",
            from: "sip:bob@example.test",
            to_tag: None,
            cseq: 1,
            expires: Some(600),
            event: Some("presence"),
            accept: Some("application/pidf+xml"),
        }
    }
}

pub fn subscribe(s: &Sub<'_>) -> SipMessage {
    let mut h = String::new();
    if let Some(e) = s.event {
        h.push_str(&format!("Event: {e}\r\n"));
    }
    if let Some(a) = s.accept {
        h.push_str(&format!("Accept: {a}\r\n"));
    }
    if let Some(e) = s.expires {
        h.push_str(&format!("Expires: {e}\r\n"));
    }
    let to = match s.to_tag {
        Some(t) => format!("<sip:alice@example.test>;tag={t}"),
        None => "<sip:alice@example.test>".to_owned(),
    };
    parse(format!(
        "SUBSCRIBE sip:alice@example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-sub{cseq}-{cid}\r\n\
Max-Forwards: 70\r\n\
From: <{from}>;tag=watcher-{tag}\r\n\
To: {to}\r\n\
Call-ID: {cid}\r\n\
CSeq: {cseq} SUBSCRIBE\r\n\
Contact: <sip:bob@127.0.0.1:5072>\r\n\
{h}Content-Length: 0\r\n\r\n",
        cseq = s.cseq,
        cid = s.call_id,
        tag = s.call_id.replace('@', "-"),
        from = s.from,
    ))
}

pub fn watcher_peer() -> Peer {
    let a: SocketAddr = "127.0.0.1:5072".parse().unwrap();
    Peer::new(Transport::Udp, a, FlowId(1))
}

pub fn agent() -> PresenceAgent {
    agent_with(PresenceConfig::default())
}

pub fn agent_with(cfg: PresenceConfig) -> PresenceAgent {
    PresenceAgent::new(cfg, vec![(Transport::Udp, "sip:127.0.0.1:5060".to_owned())])
}

/// Key numbers for server transactions start at 1, for NOTIFY client
/// transactions at 1_000_000.
pub fn key(n: u64) -> TransactionKey {
    TransactionKey::detached(n)
}

/// The only response of `fx`: (status, the message).
pub fn only_response(fx: &Effects) -> &SipMessage {
    assert_eq!(fx.responses.len(), 1, "one response: {fx:?}");
    &fx.responses[0].msg
}

pub fn status(fx: &Effects) -> u16 {
    only_response(fx).status().unwrap()
}

/// Builds a NOTIFY of `fx` as the driver would (with a Via) to inspect it.
pub fn built(n: &OutNotify) -> SipMessage {
    n.msg
        .clone()
        .header(
            HeaderName::Via,
            "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-test-notify",
        )
        .build()
        .expect("NOTIFY builds")
}

pub fn body_str(m: &SipMessage) -> String {
    String::from_utf8_lossy(m.body()).into_owned()
}

pub fn cseq(m: &SipMessage) -> u32 {
    m.cseq().unwrap().seq
}

/// Subscribes bob (allowed; alice registered), acknowledges the first NOTIFY with 200, and
/// returns the subscription's To tag.
pub fn subscribe_bob(a: &mut PresenceAgent, now: u64, next_key: &mut u64) -> String {
    let req = subscribe(&Sub::default());
    *next_key += 1;
    let fx = a.handle_subscribe(
        now,
        key(*next_key),
        &req,
        watcher_peer(),
        ALICE,
        SubscribeAuth::Allow,
        true,
    );
    assert_eq!(status(&fx), 200);
    let tag = only_response(&fx).to().unwrap().tag().unwrap().to_owned();
    assert_eq!(fx.notifies.len(), 1);
    ack_notifies(a, now, &fx, next_key);
    tag
}

/// The SIP-ETag of the (only) response in `fx`.
pub fn etag_of(fx: &Effects) -> String {
    only_response(fx)
        .header(HeaderName::SipETag)
        .unwrap()
        .to_owned()
}

/// Alice's phone publishes `note` (open), as request `n`, refreshing
/// `etag` if given; asserts the 200 and returns the effects and the new
/// entity-tag.
pub fn publish_note(
    a: &mut simple_presence::PresenceAgent,
    now: u64,
    n: u32,
    etag: Option<&str>,
    note: &str,
) -> (simple_presence::Effects, String) {
    let doc = pidf(ALICE, "phone", "open", note);
    let fx = a.handle_publish(
        now,
        key(500 + u64::from(n)),
        &publish(n, etag, None, Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    let etag = etag_of(&fx);
    (fx, etag)
}

/// Reports every NOTIFY of `fx` as sent and answered 200; returns the
/// NOTIFYs built.
pub fn ack_notifies(
    a: &mut PresenceAgent,
    now: u64,
    fx: &Effects,
    next_key: &mut u64,
) -> Vec<SipMessage> {
    let mut out = Vec::new();
    for n in &fx.notifies {
        *next_key += 1;
        let k = key(1_000_000 + *next_key);
        a.notify_sent(&n.sub, k);
        out.push(built(n));
        let more = a.handle_notify_result(now, k, 200);
        assert!(more.notifies.is_empty(), "no NOTIFY pending behind a 200");
    }
    out
}

/// A pres-rules document: one rule per (id, watcher URI or "" for anyone,
/// sub-handling, transformations XML in the pr: namespace).
pub fn rules_xml(rules: &[(&str, &str, &str, &str)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<cr:ruleset xmlns=\"urn:ietf:params:xml:ns:pres-rules\" xmlns:cr=\"urn:ietf:params:xml:ns:common-policy\">\n",
    );
    for (id, who, handling, transforms) in rules {
        let cond = if who.is_empty() {
            String::new()
        } else {
            format!("<cr:identity><cr:one id=\"{who}\"/></cr:identity>")
        };
        s.push_str(&format!(
            "<cr:rule id=\"{id}\"><cr:conditions>{cond}</cr:conditions><cr:actions><sub-handling>{handling}</sub-handling></cr:actions><cr:transformations>{transforms}</cr:transformations></cr:rule>\n"
        ));
    }
    s.push_str("</cr:ruleset>\n");
    s
}

pub fn rules(rules: &[(&str, &str, &str, &str)]) -> simple_policy::RuleSet {
    simple_policy::parse(rules_xml(rules).as_bytes()).expect("test rules parse")
}

/// Everything a watcher may see of tuples and notes.
pub const SEE_ALL: &str = "<provide-services><all-services/></provide-services><provide-persons><all-persons/></provide-persons><provide-devices><all-devices/></provide-devices><provide-note>true</provide-note><provide-all-attributes/>";
