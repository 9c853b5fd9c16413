//! Core request handling until the registrar, presence and IM arrive: a chain
//! of small processors (DESIGN.md rule 9), each one concern, each either
//! letting the request continue or deciding the response.
//!
//! Order (RFC 3261 §8.2 for a UAS, §16.3 checks a proxy makes):
//! 1. `max_forwards`: 483 when Max-Forwards is 0 (§16.3 step 3); OPTIONS
//!    addressed to us is still answered (§11, §16.3 allows it).
//! 2. `uri_scheme`: 416 for schemes we do not serve (§8.2.2.1).
//! 3. `domain`: 403 for a Request-URI host that is neither a served domain nor
//!    one of our addresses.
//! 4. `require`: 420 with Unsupported for unknown Require / Proxy-Require
//!    option tags (§8.2.2.3, §16.3 step 5).
//! 5. `method`: OPTIONS answered 200 with our capabilities (§11.2); methods we
//!    recognize but do not serve 405 with Allow; unrecognized methods 501
//!    (§8.2.1); CANCEL with no matching transaction 481 (§9.2).
//!
//! [`stateless_answer`] runs the checks that need no state before a
//! transaction exists; the router (`router.rs`) runs [`handle`] for requests
//! addressed to the server itself. Loop detection (§16.3 step 4) is the
//! router's, where forwarding happens.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;

use sip_msg::{HeaderName, Host, Method, SipMessage, Uri};
use sip_proto::{Tag, reason_phrase, response_builder_with_room};

/// What the core offers; the OPTIONS answer and 405s are built from it.
#[derive(Debug, Clone)]
pub(crate) struct Capabilities {
    /// Methods answered (ACK and CANCEL are handled by the transaction layer).
    pub(crate) allow: Vec<&'static str>,
    /// Body types accepted in requests. Empty: none yet (RFC 3261 §20.1: an
    /// empty Accept means no format is acceptable).
    pub(crate) accept: Vec<&'static str>,
    /// Event packages served (Allow-Events of the OPTIONS answer; RFC 6665
    /// §8.2.2 grammar needs at least one value, so none means no header).
    pub(crate) allow_events: Vec<&'static str>,
    /// Option tags supported.
    pub(crate) supported: Vec<&'static str>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            // What we answer ourselves plus what we route to users.
            allow: vec![
                "OPTIONS",
                "REGISTER",
                "INVITE",
                "ACK",
                "CANCEL",
                "BYE",
                "MESSAGE",
                "SUBSCRIBE",
                "NOTIFY",
                "PUBLISH",
                "REFER",
                "INFO",
                "UPDATE",
                "PRACK",
            ],
            // PUBLISH bodies (RFC 3903 with RFC 3863).
            accept: vec!["application/pidf+xml"],
            allow_events: vec!["presence"],
            // RFC 3327 Path and RFC 5626 outbound at the registrar.
            supported: vec!["path", "outbound"],
        }
    }
}

/// [`Capabilities`] as header values.
#[derive(Debug, Clone)]
pub(crate) struct CapLines {
    allow: String,
    accept: String,
    supported: String,
    allow_events: String,
}

impl CapLines {
    fn of(caps: &Capabilities) -> Self {
        CapLines {
            allow: caps.allow.join(", "),
            accept: caps.accept.join(", "),
            supported: caps.supported.join(", "),
            allow_events: caps.allow_events.join(", "),
        }
    }
}

/// Everything the chain needs to decide.
#[derive(Debug, Clone)]
pub(crate) struct CoreConfig {
    /// Domains we are authoritative for (compared case-insensitively).
    pub(crate) domains: Vec<String>,
    /// Addresses we listen on (for loop detection and IP-addressed requests).
    pub(crate) local_addrs: Vec<SocketAddr>,
    pub(crate) caps: Capabilities,
    /// The capability header values, joined once (every OPTIONS answer and
    /// 405/501 carries them).
    pub(crate) lines: CapLines,
    /// Keys the To-tags we add, so a retransmitted request gets the same tag.
    /// SipHash (keyed, not reversible from the tags it produces).
    pub(crate) tag_key: std::collections::hash_map::RandomState,
    /// Server header value.
    pub(crate) server: String,
    /// Timer C for proxied INVITEs (RFC 3261 §16.6 step 11).
    pub(crate) timer_c: std::time::Duration,
}

impl CoreConfig {
    pub(crate) fn new(domains: Vec<String>, local_addrs: Vec<SocketAddr>) -> Self {
        let caps = Capabilities::default();
        CoreConfig {
            domains,
            local_addrs,
            lines: CapLines::of(&caps),
            caps,
            tag_key: std::collections::hash_map::RandomState::new(),
            server: format!("Herald/{}", env!("CARGO_PKG_VERSION")),
            timer_c: crate::config::DEFAULT_TIMER_C,
        }
    }

    pub(crate) fn is_local_host(&self, host: &Host<'_>) -> bool {
        match host {
            Host::Name(n) => {
                let n = n.strip_suffix('.').unwrap_or(n);
                self.domains.iter().any(|d| d.eq_ignore_ascii_case(n))
                    || n.eq_ignore_ascii_case("localhost")
                        && self.local_addrs.iter().any(|a| a.ip().is_loopback())
            }
            Host::V4(ip) => self.local_addrs.iter().any(|a| a.ip() == *ip),
            Host::V6(ip) => self.local_addrs.iter().any(|a| a.ip() == *ip),
        }
    }
}

/// A processor's decision.
#[derive(Debug)]
pub(crate) enum Flow<'c> {
    /// Let the next processor look.
    Continue,
    /// Answer with this status, reason and extra headers (borrowed from the
    /// configuration where they are fixed).
    Respond {
        status: u16,
        reason: Cow<'static, str>,
        headers: Vec<(HeaderName, Cow<'c, str>)>,
    },
}

fn respond(status: u16) -> Flow<'static> {
    Flow::Respond {
        status,
        reason: Cow::Borrowed(reason_phrase(status)),
        headers: Vec::new(),
    }
}

/// A request with what several processors need parsed once.
pub(crate) struct Request<'a> {
    pub(crate) msg: &'a SipMessage,
    /// The Request-URI (check_core validated it).
    pub(crate) uri: Option<Uri<'a>>,
}

type Processor = for<'c> fn(&'c CoreConfig, &Request<'_>) -> Flow<'c>;

/// The chain, in order.
const CHAIN: &[(&str, Processor)] = &[
    ("max_forwards", max_forwards),
    ("uri_scheme", uri_scheme),
    ("domain", domain),
    ("require", require),
    ("method", method),
];

/// Runs the chain on a request that passed `check_core()` and returns the
/// response to send, or `None` for ACK (which gets none).
pub(crate) fn handle(cfg: &CoreConfig, req: &SipMessage) -> Option<SipMessage> {
    if req.method() == Some(Method::Ack) {
        return None;
    }
    let request = Request {
        msg: req,
        uri: Uri::parse(req.request_uri_str().unwrap_or("")).ok(),
    };
    for (name, p) in CHAIN {
        if let Flow::Respond {
            status,
            reason,
            headers,
        } = p(cfg, &request)
        {
            tracing::debug!(processor = name, status, "request answered");
            return build(cfg, req, status, &reason, &headers);
        }
    }
    // `method` always decides; reaching here is a bug in the chain.
    build::<&str>(cfg, req, 500, "Server Internal Error", &[])
}

/// The processors that decide from the request alone, whoever it is for
/// (run statelessly, before any transaction exists).
const EARLY: &[(&str, Processor)] = &[
    ("max_forwards", max_forwards),
    ("uri_scheme", uri_scheme),
    ("require", require),
];

/// The answer given without transaction state (RFC 3261 §8.2.7): a header
/// that does not parse (400), the early refusals, and OPTIONS addressed to
/// the server itself. `None`: the request goes to the router.
pub(crate) fn stateless_answer(cfg: &CoreConfig, req: &SipMessage) -> Option<SipMessage> {
    if req.method() == Some(Method::Ack) {
        return None;
    }
    if let Err(e) = req.validate_beyond_core() {
        return build::<&str>(cfg, req, e.status(), e.reason(), &[]);
    }
    let request = Request {
        msg: req,
        uri: Uri::parse(req.request_uri_str().unwrap_or("")).ok(),
    };
    for (name, p) in EARLY {
        if let Flow::Respond {
            status,
            reason,
            headers,
        } = p(cfg, &request)
        {
            tracing::debug!(processor = name, status, "request answered statelessly");
            return build(cfg, req, status, &reason, &headers);
        }
    }
    // OPTIONS to the server (no user part, no Route to follow): answered here.
    // The host is ours, so of the rest of the chain only `method` can decide.
    let to_server = match &request.uri {
        Some(Uri::Sip(s)) => s.user.is_none() && cfg.is_local_host(&s.host),
        _ => false,
    };
    if req.method() == Some(Method::Options)
        && to_server
        && req.header(HeaderName::Route).is_none()
        && let Flow::Respond {
            status,
            reason,
            headers,
        } = method(cfg, &request)
    {
        return build(cfg, req, status, &reason, &headers);
    }
    None
}

/// A response carrying the §8.2.6 headers, a stable To-tag, Server and `extra`.
pub(crate) fn build<V: AsRef<str>>(
    cfg: &CoreConfig,
    req: &SipMessage,
    status: u16,
    reason: &str,
    extra: &[(HeaderName, V)],
) -> Option<SipMessage> {
    let tag = to_tag(cfg, req);
    // Each extra line, Server and Content-Length, with room for their names.
    let room = extra
        .iter()
        .map(|(_, v)| v.as_ref().len() + 24)
        .sum::<usize>()
        + cfg.server.len()
        + 64;
    let mut b = response_builder_with_room(req, status, reason, Some(&tag), room).ok()?;
    for (h, v) in extra {
        b = b.header(*h, v.as_ref());
    }
    b.header(HeaderName::Server, &cfg.server).build().ok()
}

/// A To-tag derived from the request's identifiers (RFC 3261 §8.2.6.2 asks for
/// a tag; deriving it makes retransmissions that reach us statelessly get the
/// same one).
fn to_tag(cfg: &CoreConfig, req: &SipMessage) -> Tag {
    // Raw header text: already validated, and hashing it needs no parse.
    let mut h = cfg.tag_key.build_hasher();
    for name in [
        HeaderName::CallId,
        HeaderName::From,
        HeaderName::CSeq,
        HeaderName::Via,
    ] {
        h.write(req.header(name).unwrap_or("").as_bytes());
        h.write_u8(0);
    }
    // 16 hex digits, written without `format!` (one allocation, exact).
    let mut t = String::with_capacity(16);
    sip_msg::misc::push_hex(&mut t, h.finish(), 16);
    Tag::new(t)
}

fn max_forwards<'c>(_: &'c CoreConfig, r: &Request<'_>) -> Flow<'c> {
    let req = r.msg;
    match req.max_forwards() {
        Ok(Some(0)) if req.method() != Some(Method::Options) => respond(483),
        _ => Flow::Continue,
    }
}

fn uri_scheme<'c>(_: &'c CoreConfig, r: &Request<'_>) -> Flow<'c> {
    match &r.uri {
        Some(Uri::Sip(_) | Uri::Pres(_) | Uri::Im(_)) => Flow::Continue,
        Some(other) => Flow::Respond {
            status: 416,
            reason: Cow::Owned(format!("Unsupported URI Scheme '{}'", other.scheme())),
            headers: Vec::new(),
        },
        // check_core parsed it already; treat a failure as unsupported.
        None => respond(416),
    }
}

fn domain<'c>(cfg: &'c CoreConfig, r: &Request<'_>) -> Flow<'c> {
    let Some(uri) = &r.uri else {
        return Flow::Continue;
    };
    let local = match uri {
        Uri::Sip(s) => cfg.is_local_host(&s.host),
        Uri::Pres(u) | Uri::Im(u) => Host::parse(u.domain).is_ok_and(|h| cfg.is_local_host(&h)),
        _ => true,
    };
    if local {
        Flow::Continue
    } else {
        Flow::Respond {
            status: 403,
            reason: Cow::Borrowed("Forbidden: domain not served here"),
            headers: Vec::new(),
        }
    }
}

fn require<'c>(cfg: &'c CoreConfig, r: &Request<'_>) -> Flow<'c> {
    let req = r.msg;
    let unknown: Vec<&str> = [HeaderName::Require, HeaderName::ProxyRequire]
        .into_iter()
        .flat_map(|h| req.tokens(h).flatten())
        .filter(|t| !cfg.caps.supported.iter().any(|s| s.eq_ignore_ascii_case(t)))
        .collect();
    if unknown.is_empty() || req.method() == Some(Method::Cancel) {
        // §8.2.2.3: CANCEL is never refused for Require.
        return Flow::Continue;
    }
    Flow::Respond {
        status: 420,
        reason: Cow::Borrowed(reason_phrase(420)),
        headers: vec![(HeaderName::Unsupported, Cow::Owned(unknown.join(", ")))],
    }
}

fn method<'c>(cfg: &'c CoreConfig, r: &Request<'_>) -> Flow<'c> {
    let req = r.msg;
    let lines = &cfg.lines;
    let allow = || vec![(HeaderName::Allow, Cow::Borrowed(lines.allow.as_str()))];
    match req.method() {
        Some(Method::Options) => {
            let mut headers = allow();
            headers.push((HeaderName::Accept, Cow::Borrowed(lines.accept.as_str())));
            headers.push((
                HeaderName::Supported,
                Cow::Borrowed(lines.supported.as_str()),
            ));
            if !lines.allow_events.is_empty() {
                headers.push((
                    HeaderName::AllowEvents,
                    Cow::Borrowed(lines.allow_events.as_str()),
                ));
            }
            Flow::Respond {
                status: 200,
                reason: Cow::Borrowed("OK"),
                headers,
            }
        }
        // The transaction layer matched no INVITE for this CANCEL (§9.2).
        Some(Method::Cancel) => respond(481),
        Some(Method::Other) | None => Flow::Respond {
            status: 501,
            reason: Cow::Borrowed(reason_phrase(501)),
            headers: allow(),
        },
        Some(_) => Flow::Respond {
            status: 405,
            reason: Cow::Borrowed(reason_phrase(405)),
            headers: allow(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn cfg() -> CoreConfig {
        CoreConfig::new(
            vec!["example.test".into()],
            vec!["127.0.0.1:5070".parse().unwrap()],
        )
    }

    fn req(method: &str, uri: &str, extra: &str) -> SipMessage {
        let raw = format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1;rport\r\n\
From: <sip:alice@example.test>;tag=a\r\nTo: <{uri}>\r\nCall-ID: c@127.0.0.1\r\n\
CSeq: 1 {method}\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        let m = SipMessage::parse(Bytes::from(raw)).unwrap();
        m.check_core().unwrap();
        m
    }

    fn status(m: &SipMessage) -> (u16, String) {
        (m.status().unwrap(), m.reason().unwrap().to_owned())
    }

    #[test]
    fn options_lists_capabilities_with_to_tag() {
        let r = handle(&cfg(), &req("OPTIONS", "sip:example.test", "")).unwrap();
        assert_eq!(status(&r), (200, "OK".into()));
        assert!(
            r.header(HeaderName::Allow)
                .unwrap()
                .starts_with("OPTIONS, REGISTER")
        );
        assert_eq!(r.header(HeaderName::Accept), Some("application/pidf+xml"));
        assert_eq!(r.header(HeaderName::AllowEvents), Some("presence"));
        assert!(r.header(HeaderName::Allow).unwrap().contains("PUBLISH"));
        assert!(r.to().unwrap().tag().is_some());
        assert!(r.validate().is_ok(), "{:?}", r.validate());
        // Same request again (a retransmission) → same To-tag.
        let c = cfg();
        assert_eq!(
            handle(&c, &req("OPTIONS", "sip:example.test", ""))
                .unwrap()
                .to()
                .unwrap()
                .tag(),
            handle(&c, &req("OPTIONS", "sip:example.test", ""))
                .unwrap()
                .to()
                .unwrap()
                .tag()
        );
    }

    #[test]
    fn chain_decisions() {
        let c = cfg();
        let cases = [
            (req("PUBLISH", "sip:example.test", ""), 405),
            (req("FOO", "sip:example.test", ""), 501),
            (req("OPTIONS", "tel:+15551234", ""), 416),
            (req("OPTIONS", "sip:other.example", ""), 403),
            (req("OPTIONS", "sip:127.0.0.1:5070", ""), 200),
            (
                req("OPTIONS", "sip:example.test", "Require: foo, bar\r\n"),
                420,
            ),
            (req("CANCEL", "sip:bob@example.test", ""), 481),
        ];
        for (m, want) in cases {
            let r = handle(&c, &m).unwrap();
            assert_eq!(r.status(), Some(want), "{m:?} → {:?}", r.reason());
        }
        let r = handle(
            &c,
            &req("OPTIONS", "sip:example.test", "Require: foo, bar\r\n"),
        )
        .unwrap();
        assert_eq!(r.header(HeaderName::Unsupported), Some("foo, bar"));
        let r = handle(&c, &req("PUBLISH", "sip:example.test", "")).unwrap();
        assert!(r.header(HeaderName::Allow).unwrap().contains("REGISTER"));
    }

    #[test]
    fn max_forwards_zero() {
        let c = cfg();
        let raw = "MESSAGE sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1\r\nFrom: <sip:a@example.test>;tag=a\r\nTo: <sip:bob@example.test>\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 0\r\nContent-Length: 0\r\n\r\n";
        let m = SipMessage::parse(Bytes::from_static(raw.as_bytes())).unwrap();
        assert_eq!(handle(&c, &m).unwrap().status(), Some(483));
        // OPTIONS at Max-Forwards 0 is still answered by us.
        let m = SipMessage::parse(Bytes::from(
            raw.replace("MESSAGE", "OPTIONS")
                .replace("sip:bob@", "sip:"),
        ))
        .unwrap();
        assert_eq!(handle(&c, &m).unwrap().status(), Some(200));
        // ACK gets nothing.
        assert!(handle(&c, &req("ACK", "sip:example.test", "")).is_none());
    }
}
