//! REGISTER processing (RFC 3261 §10.3) as a pure function: the request, the
//! AOR's current bindings and the time in; the new binding set (or the
//! refusal) out. No store, no clock, no socket: the caller persists the
//! result and answers.

use simple_store::Binding;
use sip_msg::misc::{SipDate, push_decimal};
use sip_msg::{Contact, HeaderName, Host, SipMessage, Uri};
use sip_proto::{Peer, Transport};

/// Registrar limits (RFC 3261 §10.3 steps 7 and 8).
#[derive(Debug, Clone)]
pub struct RegistrarConfig {
    /// Shortest nonzero registration accepted; shorter ones get 423 with
    /// Min-Expires (§10.3 step 7, §21.4.17).
    pub min_expires: u32,
    /// Longer requests are shortened to this (§10.3 step 7 allows it).
    pub max_expires: u32,
    /// When neither the contact nor the request says (§10.2.1.1 suggests
    /// 3600).
    pub default_expires: u32,
    /// Bindings kept per AOR. Past it, the binding closest to expiry is
    /// replaced: a phone that reboots and registers with a new Call-ID must
    /// not lock itself out until its old bindings expire.
    pub max_contacts: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            min_expires: 60,
            max_expires: 7200,
            default_expires: 3600,
            max_contacts: 16,
        }
    }
}

/// A refusal: status, reason phrase, extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The reason phrase, saying what was wrong.
    pub reason: String,
    /// Headers the status needs (Min-Expires for 423, ...).
    pub headers: Vec<(HeaderName, String)>,
}

impl Reply {
    pub(crate) fn new(status: u16, reason: impl Into<String>) -> Self {
        Reply {
            status,
            reason: reason.into(),
            headers: Vec::new(),
        }
    }
}

/// The outcome of an accepted REGISTER.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The canonical AOR.
    pub aor: String,
    /// Its complete binding set after the request (what the 200 lists).
    pub bindings: Vec<Binding>,
    /// Did the set change (a pure query — no Contact — changes nothing)?
    pub changed: bool,
    /// RFC 5626 §6: a binding with +sip.instance and reg-id was registered
    /// over the flow it arrived on; the 200 carries `Require: outbound`.
    pub outbound: bool,
    /// Path values of the request, echoed in the 200 (RFC 3327 §5.3).
    pub path: Vec<String>,
}

/// How a transport and address are written in [`Binding::received`]:
/// `udp:127.0.0.1:5070`.
pub fn received_string(peer: &Peer) -> String {
    let mut s = String::with_capacity(32);
    for c in peer.transport.via_token().chars() {
        s.push(c.to_ascii_lowercase());
    }
    s.push(':');
    match peer.remote {
        // A link-local peer's scope id (`[fe80::1%3]:5060`) must survive
        // the round trip through `parse_received`.
        std::net::SocketAddr::V6(a) if a.scope_id() != 0 => s.push_str(&a.to_string()),
        a => {
            sip_msg::misc::push_ip(&mut s, a.ip(), true);
            s.push(':');
            push_decimal(&mut s, u32::from(a.port()));
        }
    }
    s
}

/// Parses what [`received_string`] wrote.
pub fn parse_received(s: &str) -> Option<(Transport, std::net::SocketAddr)> {
    let (t, addr) = s.split_once(':')?;
    Some((Transport::from_via_token(t)?, addr.parse().ok()?))
}

/// The canonical AOR of a URI: `sip:user@domain` with the domain lowercased
/// and the user unescaped (RFC 3261 §10.3 step 5; `sips` and `pres`/`im`
/// name the same AOR, RFC 3859/3860). `None` for a URI without a user or of
/// another scheme.
pub fn canonical_aor(uri: &Uri<'_>) -> Option<(String, String)> {
    match uri {
        Uri::Sip(s) => {
            let user = s.user_unescaped()?;
            let domain = match s.host {
                Host::Name(n) => n.to_ascii_lowercase(),
                other => other.to_string(),
            };
            Some((user.into_owned(), domain))
        }
        Uri::Pres(u) | Uri::Im(u) => {
            let user = sip_msg::unescape(u.user?);
            Some((user.into_owned(), u.domain.to_ascii_lowercase()))
        }
        _ => None,
    }
}

/// `sip:user@domain`.
pub fn aor_string(user: &str, domain: &str) -> String {
    let mut s = String::with_capacity(5 + user.len() + domain.len());
    s.push_str("sip:");
    s.push_str(user);
    s.push('@');
    s.push_str(domain);
    s
}

/// One Contact of the request, read once.
struct Wanted {
    uri: String,
    params: String,
    q: Option<u16>,
    expires: u32,
    instance: Option<String>,
    reg_id: Option<u32>,
}

/// Applies a REGISTER (already authenticated and authorized for `aor`) to
/// the AOR's `current` bindings at `now_ms` (§10.3 steps 6–8). `source` is
/// where it came from (kept as [`Binding::received`]).
pub fn apply_register<'b>(
    msg: &SipMessage,
    aor: &str,
    current: impl IntoIterator<Item = &'b Binding>,
    now_ms: i64,
    cfg: &RegistrarConfig,
    source: &Peer,
) -> Result<Registration, Reply> {
    let call_id = msg
        .call_id()
        .map_err(|e| Reply::new(400, e.reason().to_owned()))?
        .to_owned();
    let cseq = msg
        .cseq()
        .map_err(|e| Reply::new(400, e.reason().to_owned()))?
        .seq;
    let header_expires = msg
        .expires()
        .map_err(|_| Reply::new(400, "Bad Expires header"))?;
    let path: Vec<String> = msg
        .header_lines(HeaderName::Path)
        .flat_map(split_commas)
        .collect();
    for p in &path {
        sip_msg::RouteEntry::parse(p).map_err(|_| Reply::new(400, "Bad Path header"))?;
    }
    let mut contacts = Vec::new();
    let mut wildcard = false;
    for c in msg.contacts() {
        match c.map_err(|e| Reply::new(400, format!("Bad Contact: {}", e.reason())))? {
            Contact::Wildcard => wildcard = true,
            c @ Contact::Addr { addr, params, .. } => {
                if !matches!(addr.uri, Uri::Sip(_)) && !addr.uri.as_str().contains(':') {
                    return Err(Reply::new(400, "Bad Contact URI"));
                }
                let expires = c
                    .expires()
                    .or(header_expires)
                    .unwrap_or(cfg.default_expires);
                let mut kept = String::new();
                for p in params.iter() {
                    if p.name.eq_ignore_ascii_case("expires") || p.name.eq_ignore_ascii_case("q") {
                        continue;
                    }
                    kept.push(';');
                    kept.push_str(p.name);
                    if let Some(v) = p.value {
                        kept.push('=');
                        kept.push_str(v);
                    }
                }
                contacts.push(Wanted {
                    uri: addr.uri.as_str().to_owned(),
                    params: kept,
                    q: c.q(),
                    expires,
                    instance: c.instance().map(str::to_owned),
                    reg_id: c.reg_id(),
                });
            }
        }
    }
    let mut bindings: Vec<Binding> = current
        .into_iter()
        .filter(|b| b.expires_at_ms > now_ms)
        .cloned()
        .collect();
    // Did the (unexpired) set change? Kept as the set is edited below
    // rather than by comparing with a copy.
    let mut changed = false;

    // §10.3 step 6: `*` only alone and only with Expires: 0.
    if wildcard {
        if !contacts.is_empty() {
            return Err(Reply::new(
                400,
                "Contact '*' must be the only Contact (RFC 3261 §10.2.2)",
            ));
        }
        if header_expires != Some(0) {
            return Err(Reply::new(
                400,
                "Contact '*' requires Expires: 0 (RFC 3261 §10.2.2)",
            ));
        }
        for b in &bindings {
            if b.call_id == call_id && cseq <= b.cseq {
                return Err(out_of_order());
            }
        }
        changed = !bindings.is_empty();
        bindings.clear();
        return Ok(Registration {
            aor: aor.to_owned(),
            changed,
            bindings,
            outbound: false,
            path,
        });
    }

    // §10.3 step 7: 423 before anything changes.
    if contacts
        .iter()
        .any(|w| w.expires != 0 && w.expires < cfg.min_expires)
    {
        let mut r = Reply::new(423, "Interval Too Brief");
        r.headers
            .push((HeaderName::MinExpires, cfg.min_expires.to_string()));
        return Err(r);
    }

    // RFC 5626 §6: outbound applies when we are the first hop (one Via) or
    // the edge proxy said so with `ob` in its Path.
    let mut vias = 0;
    for line in msg.header_lines(HeaderName::Via) {
        for_each_value(line, |_| vias += 1);
    }
    let first_hop = vias == 1;
    let edge_ob = path.first().is_some_and(|p| {
        sip_msg::RouteEntry::parse(p)
            .ok()
            .and_then(|r| r.addr.uri.as_sip().map(|s| s.params.contains("ob")))
            .unwrap_or(false)
    });
    let mut outbound = false;
    let received = received_string(source);
    let user_agent = msg.header(HeaderName::UserAgent).map(str::to_owned);

    for w in contacts {
        let is_outbound = w.instance.is_some() && w.reg_id.is_some();
        if is_outbound && !first_hop && !edge_ob {
            // RFC 5626 §6 item 4: outbound asked for through a first hop
            // that does not do it.
            return Err(Reply::new(439, "First Hop Lacks Outbound Support"));
        }
        let pos = bindings.iter().position(|b| same_binding(b, &w));
        if let Some(i) = pos {
            let b = &bindings[i];
            // §10.3 step 7: same Call-ID needs a higher CSeq.
            if b.call_id == call_id && cseq <= b.cseq {
                return Err(out_of_order());
            }
        }
        if w.expires == 0 {
            if let Some(i) = pos {
                bindings.remove(i);
                changed = true;
            }
            continue;
        }
        outbound |= is_outbound;
        let expires = w.expires.min(cfg.max_expires);
        let binding = Binding {
            aor: aor.to_owned(),
            contact: w.uri,
            params: w.params,
            q: w.q,
            expires_at_ms: now_ms + i64::from(expires) * 1000,
            call_id: call_id.clone(),
            cseq,
            instance: w.instance,
            reg_id: w.reg_id,
            path: path.clone(),
            received: Some(received.clone()),
            user_agent: user_agent.clone(),
            updated_ms: now_ms,
        };
        match pos {
            Some(i) => {
                changed |= bindings[i] != binding;
                bindings[i] = binding;
            }
            None => {
                changed = true;
                if bindings.len() >= cfg.max_contacts.max(1) {
                    // The one closest to expiry makes room (see max_contacts).
                    if let Some((i, _)) = bindings
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, b)| b.expires_at_ms)
                    {
                        tracing::info!(aor, contact = %bindings[i].contact, "binding replaced: max_contacts reached");
                        bindings.remove(i);
                    }
                }
                bindings.push(binding);
            }
        }
    }
    Ok(Registration {
        aor: aor.to_owned(),
        changed,
        bindings,
        outbound: outbound && (first_hop || edge_ob),
        path,
    })
}

fn out_of_order() -> Reply {
    // §10.3 step 7 says the update "fails" without naming a status; 500 is
    // what the RFC uses for out-of-order requests elsewhere (§12.2.2).
    Reply::new(
        500,
        "Request Out Of Order: CSeq not higher than the binding's",
    )
}

/// Binding identity: RFC 5626 §6 (instance and reg-id), RFC 5627 (instance
/// alone), else RFC 3261 §10.3 step 7 (URI equivalence, §19.1.4).
fn same_binding(b: &Binding, w: &Wanted) -> bool {
    match (&w.instance, w.reg_id) {
        (Some(inst), Some(reg)) => b.instance.as_deref() == Some(inst) && b.reg_id == Some(reg),
        (Some(inst), None) => b.instance.as_deref() == Some(inst) && b.reg_id.is_none(),
        (None, _) => {
            b.instance.is_none()
                && match (Uri::parse(&b.contact), Uri::parse(&w.uri)) {
                    (Ok(a), Ok(c)) => a.equivalent(&c),
                    _ => b.contact == w.uri,
                }
        }
    }
}

fn split_commas(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_value(line, |v| out.push(v.to_owned()));
    out
}

/// Calls `f` with each comma-separated value of a header line, trimmed.
/// Path values are name-addrs in <>; commas inside <> or quotes do not split.
fn for_each_value(line: &str, mut f: impl FnMut(&str)) {
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'<' if !quoted => depth += 1,
            b'>' if !quoted => depth -= 1,
            b',' if !quoted && depth <= 0 => {
                f(line[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let last = line[start.min(line.len())..].trim();
    if !last.is_empty() {
        f(last);
    }
}

/// The headers of the 200 (§10.3 step 8): every current binding with its
/// remaining expires, the Path echoed, Date, and Require: outbound when it
/// applied.
pub fn ok_headers(reg: &Registration, now_ms: i64) -> Vec<(HeaderName, String)> {
    let mut h = Vec::with_capacity(reg.bindings.len() + 3);
    for b in &reg.bindings {
        let left = ((b.expires_at_ms - now_ms).max(0) + 999) / 1000;
        let mut v = String::with_capacity(b.contact.len() + b.params.len() + 32);
        v.push('<');
        v.push_str(&b.contact);
        v.push('>');
        v.push_str(&b.params);
        v.push_str(";expires=");
        push_decimal(&mut v, u32::try_from(left).unwrap_or(u32::MAX));
        if let Some(q) = b.q {
            v.push_str(";q=");
            v.push_str(&format_q(q));
        }
        h.push((HeaderName::Contact, v));
    }
    for p in &reg.path {
        h.push((HeaderName::Path, p.clone()));
    }
    if reg.outbound {
        h.push((HeaderName::Require, "outbound".to_owned()));
    }
    h.push((HeaderName::Date, SipDate::format(now_ms.div_euclid(1000))));
    h
}

/// Thousandths as a qvalue: 500 → `0.5`, 1000 → `1`.
pub fn format_q(q: u16) -> String {
    if q >= 1000 {
        return "1".to_owned();
    }
    let s = format!("0.{q:03}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bytes::Bytes;
    use sip_proto::FlowId;

    fn peer() -> Peer {
        Peer::new(Transport::Udp, "127.0.0.1:5099".parse().unwrap(), FlowId(1))
    }

    /// What `received_string` writes, `parse_received` reads back, IPv6
    /// scope ids included.
    #[test]
    fn received_round_trips() {
        for (t, a) in [
            (Transport::Udp, "127.0.0.1:5099"),
            (Transport::Tcp, "[::1]:5060"),
            (Transport::Wss, "[fe80::1%3]:443"),
        ] {
            let p = Peer::new(t, a.parse().unwrap(), FlowId(1));
            let s = received_string(&p);
            assert_eq!(parse_received(&s), Some((t, p.remote)), "{s}");
        }
        assert_eq!(received_string(&peer()), "udp:127.0.0.1:5099");
    }

    fn reg(call_id: &str, cseq: u32, extra: &str) -> SipMessage {
        let raw = format!(
            "REGISTER sip:example.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK{cseq}\r\n\
From: <sip:alice@example.test>;tag=a\r\nTo: <sip:alice@example.test>\r\nCall-ID: {call_id}\r\n\
CSeq: {cseq} REGISTER\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        SipMessage::parse(Bytes::from(raw)).unwrap()
    }

    const AOR: &str = "sip:alice@example.test";

    fn apply(m: &SipMessage, cur: &[Binding], now: i64) -> Result<Registration, Reply> {
        apply_register(m, AOR, cur, now, &RegistrarConfig::default(), &peer())
    }

    #[test]
    fn add_refresh_remove() {
        let r = apply(
            &reg(
                "c1",
                1,
                "Contact: <sip:a@127.0.0.1:5099>;q=0.5\r\nExpires: 300\r\n",
            ),
            &[],
            1_000,
        )
        .unwrap();
        assert!(r.changed);
        assert_eq!(r.bindings.len(), 1);
        let b = &r.bindings[0];
        assert_eq!(b.expires_at_ms, 301_000);
        assert_eq!(b.q, Some(500));
        assert_eq!(b.received.as_deref(), Some("udp:127.0.0.1:5099"));
        let h = ok_headers(&r, 1_000);
        assert_eq!(h[0].1, "<sip:a@127.0.0.1:5099>;expires=300;q=0.5");
        // Refresh, same URI written differently (§19.1.4: host case-insensitive).
        let r2 = apply(
            &reg("c1", 2, "Contact: <sip:a@127.0.0.1:5099>;expires=600\r\n"),
            &r.bindings,
            2_000,
        )
        .unwrap();
        assert_eq!(r2.bindings.len(), 1);
        assert_eq!(r2.bindings[0].expires_at_ms, 602_000);
        // A stale CSeq with the same Call-ID fails.
        let e = apply(
            &reg("c1", 2, "Contact: <sip:a@127.0.0.1:5099>\r\n"),
            &r2.bindings,
            3_000,
        )
        .unwrap_err();
        assert_eq!(e.status, 500);
        // Query (no Contact) changes nothing.
        let q = apply(&reg("c9", 1, ""), &r2.bindings, 3_000).unwrap();
        assert!(!q.changed);
        assert_eq!(q.bindings.len(), 1);
        // Remove with expires=0.
        let r3 = apply(
            &reg("c1", 3, "Contact: <sip:a@127.0.0.1:5099>;expires=0\r\n"),
            &r2.bindings,
            4_000,
        )
        .unwrap();
        assert!(r3.bindings.is_empty());
        assert!(r3.changed);
    }

    #[test]
    fn expiry_rules() {
        let e = apply(
            &reg("c", 1, "Contact: <sip:a@127.0.0.1>\r\nExpires: 10\r\n"),
            &[],
            0,
        )
        .unwrap_err();
        assert_eq!(e.status, 423);
        assert_eq!(e.headers, vec![(HeaderName::MinExpires, "60".to_owned())]);
        let r = apply(
            &reg("c", 1, "Contact: <sip:a@127.0.0.1>;expires=999999\r\n"),
            &[],
            0,
        )
        .unwrap();
        assert_eq!(r.bindings[0].expires_at_ms, 7_200_000);
        let r = apply(&reg("c", 1, "Contact: <sip:a@127.0.0.1>\r\n"), &[], 0).unwrap();
        assert_eq!(r.bindings[0].expires_at_ms, 3_600_000);
        // Expired bindings are dropped from the set.
        let r2 = apply(&reg("d", 1, ""), &r.bindings, 3_600_000).unwrap();
        assert!(r2.bindings.is_empty());
    }

    #[test]
    fn wildcard() {
        let r = apply(
            &reg("c", 1, "Contact: <sip:a@127.0.0.1>, <sip:b@127.0.0.1>\r\n"),
            &[],
            0,
        )
        .unwrap();
        assert_eq!(r.bindings.len(), 2);
        let e = apply(&reg("x", 1, "Contact: *\r\n"), &r.bindings, 0).unwrap_err();
        assert_eq!(e.status, 400);
        let e = apply(
            &reg("x", 1, "Contact: *, <sip:c@127.0.0.1>\r\nExpires: 0\r\n"),
            &r.bindings,
            0,
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        let e = apply(&reg("c", 1, "Contact: *\r\nExpires: 0\r\n"), &r.bindings, 0).unwrap_err();
        assert_eq!(e.status, 500, "same Call-ID, CSeq not higher");
        let ok = apply(&reg("x", 1, "Contact: *\r\nExpires: 0\r\n"), &r.bindings, 0).unwrap();
        assert!(ok.bindings.is_empty());
    }

    #[test]
    fn outbound_instance_replaces_by_reg_id() {
        let c = "Contact: <sip:a@127.0.0.1:1111;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\";reg-id=1\r\n";
        let r = apply(&reg("c", 1, c), &[], 0).unwrap();
        assert!(r.outbound);
        assert_eq!(
            r.bindings[0].instance.as_deref(),
            Some("urn:uuid:00000000-0000-0000-0000-000000000001")
        );
        assert!(
            ok_headers(&r, 0)
                .iter()
                .any(|(h, v)| *h == HeaderName::Require && v == "outbound")
        );
        // Same instance and reg-id from another address and Call-ID: replaces.
        let c2 = c.replace("1111", "2222");
        let r2 = apply(&reg("d", 1, &c2), &r.bindings, 1).unwrap();
        assert_eq!(r2.bindings.len(), 1);
        assert!(r2.bindings[0].contact.contains("2222"));
        // Through a proxy that added no `ob` Path: 439.
        let via2 = format!("Via: SIP/2.0/UDP 127.0.0.1:7;branch=z9hG4bKx\r\n{c}");
        let e = apply(&reg("e", 1, &via2), &[], 0).unwrap_err();
        assert_eq!(e.status, 439);
    }

    #[test]
    fn max_contacts_replaces_closest_to_expiry() {
        let cfg = RegistrarConfig {
            max_contacts: 2,
            ..RegistrarConfig::default()
        };
        let mut cur = Vec::new();
        for (i, exp) in [(1, 100), (2, 200), (3, 300)] {
            let m = reg(
                &format!("c{i}"),
                1,
                &format!("Contact: <sip:a@127.0.0.{i}>;expires={exp}\r\n"),
            );
            cur = apply_register(&m, AOR, &cur, 0, &cfg, &peer())
                .unwrap()
                .bindings;
        }
        let hosts: Vec<&str> = cur.iter().map(|b| b.contact.as_str()).collect();
        assert_eq!(hosts, ["sip:a@127.0.0.2", "sip:a@127.0.0.3"]);
    }

    #[test]
    fn path_is_kept_and_echoed() {
        let r = apply(
            &reg(
                "c",
                1,
                "Path: <sip:edge.example.test;lr>, <sip:p2.example.test;lr>\r\nContact: <sip:a@127.0.0.1>\r\n",
            ),
            &[],
            0,
        )
        .unwrap();
        assert_eq!(
            r.bindings[0].path,
            ["<sip:edge.example.test;lr>", "<sip:p2.example.test;lr>"]
        );
        assert_eq!(
            ok_headers(&r, 0)
                .iter()
                .filter(|(h, _)| *h == HeaderName::Path)
                .count(),
            2
        );
    }

    #[test]
    fn aor_canonical_forms() {
        for (u, want) in [
            ("sip:Alice@EXAMPLE.test", ("Alice", "example.test")),
            ("sips:al%69ce@example.test:5061", ("alice", "example.test")),
            ("pres:alice@example.test", ("alice", "example.test")),
        ] {
            let uri = Uri::parse(u).unwrap();
            let (user, dom) = canonical_aor(&uri).unwrap();
            assert_eq!((user.as_str(), dom.as_str()), want, "{u}");
        }
        assert!(canonical_aor(&Uri::parse("sip:example.test").unwrap()).is_none());
        assert_eq!(format_q(500), "0.5");
        assert_eq!(format_q(1000), "1");
        assert_eq!(format_q(5), "0.005");
        assert_eq!(format_q(0), "0");
    }
}
