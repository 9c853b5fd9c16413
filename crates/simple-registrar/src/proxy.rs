//! Proxy routing pieces (RFC 3261 §16), pure: where a binding is reached,
//! how a forwarded copy of a request is built (§16.6), loop detection
//! (§16.3 step 4), and best-response selection over the branches (§16.7).

use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};

use sip_msg::{HeaderName, Host, SipMessage, Uri};
use sip_proto::{FlowId, Peer, Transport};

use crate::location::LiveBinding;
use crate::register::parse_received;

/// Where one branch goes: the Request-URI of the copy, the Route set to
/// push in front (a registration's Path, RFC 3327 §5), and the next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The new Request-URI (§16.5: the contact).
    pub request_uri: String,
    /// Route values to put before any the request has (RFC 3327 §5).
    pub routes: Vec<String>,
    /// The next hop.
    pub peer: Peer,
}

/// The flow id that lets the transport layer pick (reuse or open a
/// connection). Same value as `sip_net::NO_FLOW`; this crate does no I/O.
pub const ANY_FLOW: FlowId = FlowId(0);

/// The transport and address a SIP URI names, without DNS: the host must be
/// an IP address (RFC 3263 lookups are not done yet). `transport=` picks the
/// transport (UDP by default, TLS for sips; §18.2, RFC 3263 §4.1).
pub fn uri_addr(uri: &Uri<'_>) -> Option<(Transport, SocketAddr)> {
    let s = uri.as_sip()?;
    let host = match s.maddr() {
        Some(m) => m,
        None => s.host,
    };
    let ip: IpAddr = match host {
        Host::V4(ip) => ip.into(),
        Host::V6(ip) => ip.into(),
        Host::Name(n) if n.eq_ignore_ascii_case("localhost") => IpAddr::from([127, 0, 0, 1]),
        Host::Name(_) => return None,
    };
    let transport = match s.transport() {
        Some(t) => Transport::from_via_token(t)?,
        None if s.secure => Transport::Tls,
        None => Transport::Udp,
    };
    let port = s.port.unwrap_or(transport.default_port());
    Some((transport, SocketAddr::new(ip, port)))
}

/// How to reach one binding (RFC 3261 §16.5, RFC 3327, RFC 5626 §5.3):
/// 1. with a Path, toward the first Path entry;
/// 2. over the flow it registered on while that is open;
/// 3. at the contact's own address when it is one;
/// 4. at the address the REGISTER came from (a NATed client's contact names
///    its private address).
///
/// `None`: unreachable (a flow-only binding whose flow closed).
pub fn binding_target(lb: &LiveBinding, flow_alive: impl Fn(FlowId) -> bool) -> Option<Target> {
    let b = &lb.binding;
    let contact = Uri::parse(&b.contact).ok()?;
    if let Some(first) = b.path.first() {
        let entry = sip_msg::RouteEntry::parse(first).ok()?;
        let (transport, remote) = uri_addr(&entry.addr.uri)?;
        return Some(Target {
            request_uri: b.contact.clone(),
            routes: b.path.clone(),
            peer: Peer::new(transport, remote, ANY_FLOW),
        });
    }
    if let Some(p) = lb.peer
        && p.transport.is_reliable()
        && flow_alive(p.flow)
    {
        return Some(Target {
            request_uri: b.contact.clone(),
            routes: Vec::new(),
            peer: p,
        });
    }
    if lb.needs_flow() {
        return None;
    }
    let peer = match uri_addr(&contact) {
        Some((transport, remote)) if !is_private_behind_nat(lb, remote) => {
            Peer::new(transport, remote, ANY_FLOW)
        }
        _ => {
            let (transport, remote) = lb
                .peer
                .map(|p| (p.transport, p.remote))
                .or_else(|| b.received.as_deref().and_then(parse_received))?;
            Peer::new(transport, remote, ANY_FLOW)
        }
    };
    Some(Target {
        request_uri: b.contact.clone(),
        routes: Vec::new(),
        peer,
    })
}

/// A contact naming a private address while the REGISTER came from a
/// different public one: the client is behind NAT, so the source address is
/// the way in.
fn is_private_behind_nat(lb: &LiveBinding, contact: SocketAddr) -> bool {
    lb.peer
        .map(|p| p.remote)
        .or_else(|| {
            lb.binding
                .received
                .as_deref()
                .and_then(parse_received)
                .map(|(_, a)| a)
        })
        .is_some_and(|src| behind_nat(src, contact))
}

/// Is a UA whose Contact names `contact` behind NAT, seen from `source`
/// (where its request came from)? Yes when the Contact is a private or
/// link-local address (RFC 1918, RFC 3927, RFC 4193) other than the
/// source's: such a UA is reached at the source instead. A loopback source
/// (a local client, the tests) is taken at its word.
pub fn behind_nat(source: SocketAddr, contact: SocketAddr) -> bool {
    let private = match contact.ip() {
        IpAddr::V4(ip) => ip.is_private() || ip.is_link_local(),
        IpAddr::V6(ip) => (ip.segments()[0] & 0xfe00) == 0xfc00,
    };
    private && source.ip() != contact.ip() && !source.ip().is_loopback()
}

/// RFC 3261 §16.6 step 8 (optional loop detection): a hash of what a
/// looping request keeps unchanged — Request-URI, From tag, To tag, Call-ID,
/// CSeq number, Proxy-Require and Route values. Carried in our branch
/// (`z9hG4bK-hd-<hash>-<n>`), so that §16.3 step 4 can tell a loop (same
/// hash in our own Via) from a spiral (the Request-URI changed).
pub fn loop_hash(msg: &SipMessage, key: &impl BuildHasher) -> u64 {
    let mut h = key.build_hasher();
    h.write(msg.request_uri_str().unwrap_or("").as_bytes());
    h.write_u8(0);
    h.write(msg.from_tag().ok().flatten().unwrap_or("").as_bytes());
    h.write_u8(0);
    h.write(msg.to_tag().ok().flatten().unwrap_or("").as_bytes());
    h.write_u8(0);
    h.write(msg.call_id().unwrap_or("").as_bytes());
    h.write_u8(0);
    h.write_u32(msg.cseq().map(|c| c.seq).unwrap_or(0));
    for name in [HeaderName::ProxyRequire, HeaderName::Route] {
        for line in msg.header_lines(name) {
            h.write(line.as_bytes());
            h.write_u8(0);
        }
    }
    h.finish()
}

/// Our branch parameter: the magic cookie, our marker, the loop hash, and a
/// per-branch counter.
pub fn branch(loop_hash: u64, n: u64) -> String {
    let mut s = branch_prefix(loop_hash);
    sip_msg::misc::push_hex(&mut s, n, 1);
    s
}

/// `z9hG4bK-hd-<hash>-`: what every branch [`branch`] makes for this loop
/// hash starts with.
pub fn branch_prefix(loop_hash: u64) -> String {
    let mut s = String::with_capacity(48);
    s.push_str("z9hG4bK-hd-");
    sip_msg::misc::push_hex(&mut s, loop_hash, 16);
    s.push('-');
    s
}

/// The loop hash in one of our branch values.
pub fn branch_loop_hash(branch: &str) -> Option<u64> {
    let rest = branch.strip_prefix("z9hG4bK-hd-")?;
    let (hash, _) = rest.split_once('-')?;
    u64::from_str_radix(hash, 16).ok()
}

/// Builds the copy of `req` for one branch (§16.6 steps 1–8): new
/// Request-URI, Max-Forwards decremented (or 70 when absent), the target's
/// routes pushed in front, `record_route` values (first = topmost) added,
/// and our Via on top.
pub fn forward_copy(
    req: &SipMessage,
    target: &Target,
    record_route: &[String],
    via: &str,
) -> SipMessage {
    let mut m = req.clone();
    if m.request_uri_str() != Some(target.request_uri.as_str()) {
        m.set_request_uri(&target.request_uri);
    }
    let mf = match req.max_forwards() {
        Ok(Some(n)) => n.saturating_sub(1),
        _ => 70,
    };
    m.set_header(HeaderName::MaxForwards, &mf.to_string());
    for r in target.routes.iter().rev() {
        m.push_front(HeaderName::Route, r);
    }
    for rr in record_route.iter().rev() {
        m.push_front(HeaderName::RecordRoute, rr);
    }
    m.push_front(HeaderName::Via, via);
    m
}

/// What one branch ended with.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per branch, short-lived
pub enum BranchFinal {
    /// A final response from downstream (our Via already removed).
    Response(SipMessage),
    /// No response: a status we stand in with (408 after Timer B/F, 503
    /// after a transport failure, §16.7 step 1 and §16.9).
    Local(u16),
}

impl BranchFinal {
    /// The status code.
    pub fn status(&self) -> u16 {
        match self {
            BranchFinal::Response(m) => m.status().unwrap_or(500),
            BranchFinal::Local(s) => *s,
        }
    }
}

/// The final responses collected on a request's branches, for §16.7 step 6.
#[derive(Debug, Default)]
pub struct ResponseContext {
    finals: Vec<BranchFinal>,
}

impl ResponseContext {
    /// Records a branch's final non-2xx outcome.
    pub fn add(&mut self, f: BranchFinal) {
        self.finals.push(f);
    }

    /// Did every branch end as "not reachable now" — 408, 480, or our own
    /// 408/503 (timeout, dead flow, transport error)? A page-mode MESSAGE
    /// is then stored for later (RFC 3428 store-and-forward). False with no
    /// branch.
    pub fn all_unavailable(&self) -> bool {
        !self.finals.is_empty()
            && self.finals.iter().all(|f| match f {
                BranchFinal::Local(s) => matches!(s, 408 | 480 | 503),
                BranchFinal::Response(_) => matches!(f.status(), 408 | 480),
            })
    }

    /// Has any branch answered 6xx (§16.7 step 5: stop the others)?
    pub fn has_6xx(&self) -> bool {
        self.finals.iter().any(|f| f.status() >= 600)
    }

    /// The response to send upstream when every branch has ended without a
    /// 2xx (§16.7 step 6): any 6xx, else the lowest class; 503 becomes 500
    /// (a 503 from downstream says nothing about us); 401/407 carry every
    /// branch's challenges (§16.7 step 7). `None` when no branch was tried:
    /// the caller answers itself (480, 408...).
    pub fn best(self) -> Option<BranchFinal> {
        let pick = if let Some(i) = self.finals.iter().position(|f| f.status() >= 600) {
            i
        } else {
            let mut best: Option<usize> = None;
            for (i, f) in self.finals.iter().enumerate() {
                let s = f.status();
                let better = match best {
                    None => true,
                    Some(b) => {
                        let bs = self.finals[b].status();
                        (s / 100) < (bs / 100)
                            // within a class prefer a real response and
                            // anything but 408/503 (they say the least)
                            || ((s / 100) == (bs / 100)
                                && matches!(bs, 408 | 503)
                                && !matches!(s, 408 | 503))
                    }
                };
                if better {
                    best = Some(i);
                }
            }
            best?
        };
        let mut finals = self.finals;
        let chosen = finals.swap_remove(pick);
        let status = chosen.status();
        match chosen {
            BranchFinal::Local(503) => Some(BranchFinal::Local(500)),
            BranchFinal::Local(s) => Some(BranchFinal::Local(s)),
            BranchFinal::Response(mut m) => {
                if status == 503 {
                    return Some(BranchFinal::Local(500));
                }
                if matches!(status, 401 | 407) {
                    for other in &finals {
                        if let BranchFinal::Response(o) = other {
                            for h in [HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate] {
                                for v in o.header_lines(h) {
                                    m.push_back(h, v);
                                }
                            }
                        }
                    }
                }
                Some(BranchFinal::Response(m))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bytes::Bytes;
    use simple_store::Binding;

    #[test]
    fn behind_nat_only_for_a_private_contact_seen_from_elsewhere() {
        let a = |s: &str| -> SocketAddr { s.parse().unwrap() };
        // A home phone: private Contact, public source.
        assert!(behind_nat(a("203.0.113.9:40001"), a("192.168.1.5:5060")));
        assert!(behind_nat(a("203.0.113.9:40001"), a("10.0.0.7:5060")));
        assert!(behind_nat(a("203.0.113.9:40001"), a("169.254.3.4:5060")));
        assert!(behind_nat(a("[2001:db8::9]:40001"), a("[fd00::5]:5060")));
        // A public Contact, or the private source itself (same LAN).
        assert!(!behind_nat(a("203.0.113.9:40001"), a("198.51.100.4:5060")));
        assert!(!behind_nat(a("192.168.1.5:5062"), a("192.168.1.5:5060")));
        // A loopback source is taken at its word.
        assert!(!behind_nat(a("127.0.0.1:40001"), a("10.0.0.7:5060")));
    }

    fn resp(status: u16, extra: &str) -> SipMessage {
        let raw = format!(
            "SIP/2.0 {status} X\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n\
To: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        SipMessage::parse(Bytes::from(raw)).unwrap()
    }

    fn best(list: Vec<BranchFinal>) -> u16 {
        let mut c = ResponseContext::default();
        for f in list {
            c.add(f);
        }
        c.best().unwrap().status()
    }

    #[test]
    fn best_response_rules() {
        use BranchFinal::{Local, Response};
        assert_eq!(
            best(vec![Response(resp(486, "")), Response(resp(603, ""))]),
            603
        );
        assert_eq!(
            best(vec![Response(resp(486, "")), Response(resp(302, ""))]),
            302
        );
        assert_eq!(best(vec![Local(408), Response(resp(486, ""))]), 486);
        assert_eq!(best(vec![Local(408), Local(408)]), 408);
        assert_eq!(best(vec![Response(resp(503, ""))]), 500);
        assert_eq!(best(vec![Local(503)]), 500);
        assert!(ResponseContext::default().best().is_none());
        let mut c = ResponseContext::default();
        c.add(Response(resp(
            401,
            "WWW-Authenticate: Digest realm=\"a\", nonce=\"1\"\r\n",
        )));
        c.add(Response(resp(
            407,
            "Proxy-Authenticate: Digest realm=\"b\", nonce=\"2\"\r\n",
        )));
        let BranchFinal::Response(m) = c.best().unwrap() else {
            panic!()
        };
        assert_eq!(m.header_lines(HeaderName::WwwAuthenticate).count(), 1);
        assert_eq!(m.header_lines(HeaderName::ProxyAuthenticate).count(), 1);
    }

    #[test]
    fn branch_text_matches_the_format_macro() {
        for (h, n) in [
            (0u64, 0u64),
            (1, 1),
            (0xdead_beef, 0x10),
            (u64::MAX, u64::MAX),
            (0x8000_0000_0000_0000, 255),
        ] {
            assert_eq!(branch(h, n), format!("z9hG4bK-hd-{h:016x}-{n:x}"));
            assert!(branch(h, n).starts_with(&branch_prefix(h)));
        }
    }

    #[test]
    fn branch_carries_loop_hash() {
        let b = branch(0xdead_beef, 7);
        assert!(b.starts_with("z9hG4bK"));
        assert_eq!(branch_loop_hash(&b), Some(0xdead_beef));
        assert_eq!(branch_loop_hash("z9hG4bKabc"), None);
    }

    fn lb(contact: &str, peer: Option<Peer>, received: Option<&str>) -> LiveBinding {
        LiveBinding {
            binding: Binding {
                aor: "sip:a@x".into(),
                contact: contact.into(),
                params: String::new(),
                q: None,
                expires_at_ms: 1,
                call_id: "c".into(),
                cseq: 1,
                instance: None,
                reg_id: None,
                path: vec![],
                received: received.map(str::to_owned),
                user_agent: None,
                updated_ms: 0,
            },
            peer,
        }
    }

    #[test]
    fn targets() {
        let t = binding_target(
            &lb("sip:a@127.0.0.1:5099;transport=tcp", None, None),
            |_| true,
        )
        .unwrap();
        assert_eq!(t.peer.transport, Transport::Tcp);
        assert_eq!(t.peer.remote, "127.0.0.1:5099".parse().unwrap());
        // A WebSocket contact is reached over its flow, or not at all.
        let ws = Peer::new(Transport::Ws, "127.0.0.1:40000".parse().unwrap(), FlowId(9));
        let b = lb("sip:a@x7.invalid;transport=ws", Some(ws), None);
        assert_eq!(binding_target(&b, |_| true).unwrap().peer, ws);
        assert!(binding_target(&b, |_| false).is_none());
        // A private contact registered from elsewhere: the source address.
        let b = lb("sip:a@10.0.0.5:5060", None, Some("udp:203.0.113.9:40001"));
        assert_eq!(
            binding_target(&b, |_| true).unwrap().peer.remote,
            "203.0.113.9:40001".parse().unwrap()
        );
        // A contact with a name we cannot resolve, registered over UDP: the
        // source address; over a closed TCP connection: unreachable.
        let b = lb("sip:a@phone.example.test", None, Some("udp:127.0.0.1:7777"));
        assert_eq!(
            binding_target(&b, |_| true).unwrap().peer.remote,
            "127.0.0.1:7777".parse().unwrap()
        );
        let b = lb("sip:a@phone.example.test", None, Some("tcp:127.0.0.1:7777"));
        assert!(binding_target(&b, |_| true).is_none(), "needs its flow");
    }

    #[test]
    fn forward_copy_edits() {
        let raw = "MESSAGE sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bK1\r\n\
From: <sip:a@example.test>;tag=1\r\nTo: <sip:bob@example.test>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\
Max-Forwards: 10\r\nContent-Length: 2\r\n\r\nhi";
        let req = SipMessage::parse(Bytes::from_static(raw.as_bytes())).unwrap();
        let target = Target {
            request_uri: "sip:bob@127.0.0.1:5099".into(),
            routes: vec!["<sip:127.0.0.1:6000;lr>".into()],
            peer: Peer::new(Transport::Udp, "127.0.0.1:6000".parse().unwrap(), ANY_FLOW),
        };
        let m = forward_copy(
            &req,
            &target,
            &["<sip:127.0.0.1:5060;lr>".into()],
            "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-hd-1-1",
        );
        let m = SipMessage::parse(m.to_bytes()).unwrap();
        m.validate().unwrap();
        assert_eq!(m.request_uri_str(), Some("sip:bob@127.0.0.1:5099"));
        assert_eq!(m.max_forwards().unwrap(), Some(9));
        assert_eq!(m.header_lines(HeaderName::Via).count(), 2);
        assert_eq!(m.via().unwrap().branch(), Some("z9hG4bK-hd-1-1"));
        assert_eq!(m.header(HeaderName::Route), Some("<sip:127.0.0.1:6000;lr>"));
        assert_eq!(
            m.header(HeaderName::RecordRoute),
            Some("<sip:127.0.0.1:5060;lr>")
        );
        assert_eq!(&m.body()[..], b"hi");
    }
}
