//! Best-effort answers to requests that did not parse or failed
//! [`SipMessage::check_core`]: RFC 3261 §8.2.6 needs only the Via, From, To,
//! Call-ID and CSeq lines to build a response, so we lift those raw lines out
//! of the bytes even when another line, or the start line, is broken.

use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;

use bytes::Bytes;
use sip_msg::{FromTo, HeaderName, MessageBuilder, SipMessage};
use sip_proto::{ResponseTarget, response_route, stamp_received};

/// The header values a §8.2.6 response copies, as raw text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Salvaged {
    /// Every Via line, top first.
    pub(crate) vias: Vec<String>,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) call_id: Option<String>,
    pub(crate) cseq: String,
}

/// Extracts the Via, From, To, Call-ID and CSeq lines (full or compact names)
/// from the header section of `raw`.
///
/// A client matches a response to its transaction by the top Via's branch
/// and the CSeq method (RFC 3261 §17.1.3), so those two are required; From,
/// To and Call-ID are copied when present (a request missing its Call-ID
/// still learns why it failed). `None` also when the bytes start like a
/// response (responses are never answered) or the request is an ACK (ACKs
/// get no response, §17.2.1).
pub(crate) fn salvage(raw: &[u8]) -> Option<Salvaged> {
    let mut rest = raw;
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    while let [b'\r' | b'\n', tail @ ..] = rest {
        rest = tail;
    }
    let mut lines = rest
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start = lines.next()?;
    if start.len() >= 4 && start[..4].eq_ignore_ascii_case(b"SIP/") {
        return None;
    }
    // (name, value) with continuation lines (§7.3.1) folded in.
    let mut headers: Vec<(HeaderName, String)> = Vec::new();
    let mut last_kept = false;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            if last_kept && let (Some((_, v)), Some(more)) = (headers.last_mut(), clean(line)) {
                v.push(' ');
                v.push_str(more);
            }
            continue;
        }
        last_kept = false;
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        let name = HeaderName::from_bytes(line[..colon].trim_ascii());
        if !name.is_copied_into_responses() {
            continue;
        }
        let Some(value) = clean(&line[colon + 1..]) else {
            continue;
        };
        headers.push((name, value.to_owned()));
        last_kept = true;
    }
    let first = |n: HeaderName| {
        headers
            .iter()
            .find(|(h, _)| *h == n)
            .map(|(_, v)| v.clone())
    };
    let s = Salvaged {
        vias: headers
            .iter()
            .filter(|(h, _)| *h == HeaderName::Via)
            .map(|(_, v)| v.clone())
            .collect(),
        from: first(HeaderName::From),
        to: first(HeaderName::To),
        call_id: first(HeaderName::CallId),
        cseq: first(HeaderName::CSeq)?,
    };
    if s.vias.is_empty() {
        return None;
    }
    let method = s.cseq.split_ascii_whitespace().nth(1).unwrap_or("");
    if method.eq_ignore_ascii_case("ACK") {
        return None;
    }
    Some(s)
}

/// A header value worth copying: UTF-8, trimmed, not empty, no control
/// characters but HT.
fn clean(v: &[u8]) -> Option<&str> {
    let v = std::str::from_utf8(v.trim_ascii()).ok()?;
    if v.is_empty() || v.chars().any(|c| c.is_control() && c != '\t') {
        return None;
    }
    Some(v)
}

/// A stateless error response and where it goes.
#[derive(Debug, Clone)]
pub(crate) struct ErrorAnswer {
    /// The serialized response.
    pub(crate) bytes: Bytes,
    /// RFC 3261 §18.2.2 (with RFC 3581 `rport`) destination from the stamped
    /// top Via, when it is a literal address; `None`: answer the source.
    pub(crate) route: Option<SocketAddr>,
}

/// Builds `status reason` for the request in `raw` (RFC 3261 §8.2.6), copying
/// the salvaged lines, the top Via stamped with `received`/`rport` for
/// `source` (§18.2.1), and a To tag when the request had none (§8.2.6.2).
/// `None` when too little of the request survived.
pub(crate) fn answer(
    raw: &[u8],
    status: u16,
    reason: &str,
    source: SocketAddr,
) -> Option<ErrorAnswer> {
    let s = salvage(raw)?;
    let (vias, route) = stamped_vias(&s.vias, source).unwrap_or((s.vias.clone(), None));
    let to = s.to.map(|to| {
        if has_tag(&to) {
            to
        } else {
            format!(
                "{to};tag={}",
                stable_tag(s.call_id.as_deref(), s.from.as_deref(), &s.vias)
            )
        }
    });
    let mut b = MessageBuilder::response(status, &sanitize_reason(reason));
    for v in &vias {
        b = b.header(HeaderName::Via, v);
    }
    for (name, value) in [
        (HeaderName::From, &s.from),
        (HeaderName::To, &to),
        (HeaderName::CallId, &s.call_id),
    ] {
        if let Some(v) = value {
            b = b.header(name, v);
        }
    }
    let msg = b
        .header(HeaderName::CSeq, &s.cseq)
        .build()
        // What we send obeys the grammar we demand: a salvaged line that does
        // not survive the round trip means no answer.
        .ok()?;
    Some(ErrorAnswer {
        bytes: msg.to_bytes(),
        route,
    })
}

/// The Via lines with the top one stamped (§18.2.1, RFC 3581 §4) and the
/// response destination (§18.2.2). `None` when the top Via does not parse.
fn stamped_vias(vias: &[String], source: SocketAddr) -> Option<(Vec<String>, Option<SocketAddr>)> {
    let mut text = String::from("OPTIONS sip:invalid SIP/2.0\r\n");
    for v in vias {
        text.push_str("Via: ");
        text.push_str(v);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    let mut m = SipMessage::parse(Bytes::from(text)).ok()?;
    stamp_received(&mut m, source).ok()?;
    let route = match response_route(&m.via().ok()?).target {
        ResponseTarget::Addr(a) => Some(a),
        ResponseTarget::Resolve { .. } => None,
    };
    Some((
        m.header_lines(HeaderName::Via).map(str::to_owned).collect(),
        route,
    ))
}

fn has_tag(to: &str) -> bool {
    match FromTo::parse(to) {
        Ok(t) => t.tag().is_some(),
        Err(_) => to.to_ascii_lowercase().contains("tag="),
    }
}

/// A reason phrase is `*(reserved / unreserved / escaped / UTF8-NONASCII /
/// UTF8-CONT / SP / HTAB)` (RFC 3261 §25.1): no control characters; keep it
/// short.
fn sanitize_reason(reason: &str) -> String {
    let r: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(120)
        .collect();
    if r.trim().is_empty() {
        "Bad Request".to_owned()
    } else {
        r
    }
}

/// A fresh token for To tags (RFC 3261 §19.3: globally unique, at least 32
/// bits of randomness): 64 bits from std's randomly keyed SipHash over a
/// process-wide counter.
/// A To-tag derived from the request (RFC 3261 §8.2.7: a stateless UAS gives
/// a retransmission the same tag), keyed per process so it is not guessable.
fn stable_tag(call_id: Option<&str>, from: Option<&str>, vias: &[String]) -> String {
    static KEY: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut h = KEY
        .get_or_init(std::collections::hash_map::RandomState::new)
        .build_hasher();
    h.write(call_id.unwrap_or("").as_bytes());
    h.write(from.unwrap_or("").as_bytes());
    h.write(vias.first().map_or("", String::as_str).as_bytes());
    format!("{:016x}", h.finish())
}

/// A fresh To tag (16 random alphanumerics, [`sip_proto::random_token`]).
pub(crate) fn random_token() -> String {
    sip_proto::random_token("", 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 7], 40000))
    }

    #[test]
    fn salvages_through_a_broken_start_line_and_header() {
        let raw = b"OPTIONS sip:bob@example.test SIP/7.0 extra\r\n\
v: SIP/2.0/UDP 192.0.2.7:5060;rport;branch=z9hG4bK1\r\n\
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK0\r\n\
f: <sip:alice@example.test>;tag=a\r\nBroken Header Without Colon\r\n\
t: <sip:bob@example.test>\r\ni: c1\r\nCSeq: 1\r\n OPTIONS\r\n\r\nbody";
        let s = salvage(raw).unwrap();
        assert_eq!(s.vias.len(), 2);
        assert_eq!(s.cseq, "1 OPTIONS");
        assert_eq!(s.call_id.as_deref(), Some("c1"));
        let a = answer(raw, 505, "Version Not Supported", src()).unwrap();
        let m = SipMessage::parse(a.bytes).unwrap();
        assert_eq!(m.status(), Some(505));
        assert_eq!(m.reason(), Some("Version Not Supported"));
        let via = m.via().unwrap();
        assert_eq!(via.received(), Some("192.0.2.7"));
        assert_eq!(via.rport(), Some(Some(40000)));
        assert_eq!(m.header_lines(HeaderName::Via).count(), 2);
        assert!(m.to().unwrap().tag().is_some());
        assert_eq!(a.route, Some(src()));
    }

    #[test]
    fn refuses_responses_acks_and_fragments() {
        assert!(salvage(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n").is_none());
        let ack =
            b"ACK sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a>;tag=1\r\n\
To: <sip:b>\r\nCall-ID: x\r\nCSeq: 1 ACK\r\n\r\n";
        assert!(salvage(ack).is_none());
        let no_cseq = b"OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
From: <sip:a>;tag=1\r\nTo: <sip:b>\r\nCall-ID: x\r\n\r\n";
        assert!(salvage(no_cseq).is_none());
        let no_via = b"OPTIONS sip:b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n";
        assert!(salvage(no_via).is_none());
        assert!(salvage(b"\x00\x01garbage").is_none());
        assert!(salvage(b"").is_none());
    }

    #[test]
    fn answers_without_call_id() {
        let raw = b"OPTIONS sip:b SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n\
From: <sip:a>;tag=1\r\nTo: <sip:b>\r\nCSeq: 1 OPTIONS\r\n\r\n";
        let a = answer(raw, 400, "Missing Call-ID", src()).unwrap();
        let m = SipMessage::parse(a.bytes).unwrap();
        assert_eq!(m.status(), Some(400));
        assert_eq!(m.reason(), Some("Missing Call-ID"));
        assert_eq!(m.header(HeaderName::CallId), None);
        assert_eq!(m.cseq().unwrap().seq, 1);
    }

    #[test]
    fn keeps_an_existing_to_tag_and_cleans_the_reason() {
        let raw = b"BYE sip:b SIP/2.0\r\nVia: SIP/2.0/TCP h.example;branch=z9hG4bK1\r\n\
From: <sip:a>;tag=1\r\nTo: <sip:b>;tag=xyz\r\nCall-ID: x\r\nCSeq: 2 BYE\r\n\r\n";
        let a = answer(raw, 400, "Bad\r\nThing", src()).unwrap();
        let m = SipMessage::parse(a.bytes).unwrap();
        assert_eq!(m.to().unwrap().tag(), Some("xyz"));
        assert_eq!(m.reason(), Some("Bad  Thing"));
        // Reliable transport: the fallback target is received + sent-by port.
        assert_eq!(a.route, Some(SocketAddr::from(([192, 0, 2, 7], 5060))));
        assert_ne!(random_token(), random_token());
    }
}
