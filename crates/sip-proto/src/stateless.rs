//! What a SIP element does with a message without keeping state: building a
//! response to any request (RFC 3261 §8.2.6), stamping `received`/`rport` on a
//! received request (§18.2.1, RFC 3581 §4), and deciding where a response goes
//! (§18.2.2, RFC 3581 §4).

use std::net::{IpAddr, SocketAddr};

use sip_msg::misc::{push_decimal, push_ip};
use sip_msg::{HeaderName, Host, MessageBuilder, SipMessage, Via};

use crate::error::ProtoError;
use crate::ids::Tag;
use crate::transport::Transport;

/// The RFC 3261 §21 reason phrase for `status` (and the common extensions
/// SIMPLE needs); a class-generic phrase for codes we do not list.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        204 => "No Notification",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        412 => "Conditional Request Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match status / 100 {
            1 => "Session Progress",
            2 => "OK",
            3 => "Redirected",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

/// Starts a response to `req` per RFC 3261 §8.2.6: every Via (in order), From,
/// To, Call-ID and CSeq copied; the caller appends what else it needs (Contact,
/// Record-Route, ...) and calls `build()`.
///
/// When the request's To has no tag, `to_tag` is added to the response's To
/// (§8.2.6.2); it is required then, except for 100 (Trying), which gets no tag
/// (§17.2.1 downgrades the tag in a 100 to SHOULD NOT). A 100 copies the
/// request's Timestamp (§8.2.6.1).
pub fn response_builder(
    req: &SipMessage,
    status: u16,
    reason: &str,
    to_tag: Option<&Tag>,
) -> Result<MessageBuilder, ProtoError> {
    response_builder_with_room(req, status, reason, to_tag, 320)
}

/// [`response_builder`] with `room` bytes reserved for what the caller
/// adds after the copied header fields (its header lines, the body), so
/// that writing them does not regrow the buffer.
pub fn response_builder_with_room(
    req: &SipMessage,
    status: u16,
    reason: &str,
    to_tag: Option<&Tag>,
    room: usize,
) -> Result<MessageBuilder, ProtoError> {
    if !req.is_request() {
        return Err(ProtoError::NotARequest);
    }
    // Typed access validates what we copy, unless the transport's check did.
    let has_tag = req.to_tag()?.is_some();
    if !req.core_checked() {
        req.from()?;
        req.call_id()?;
        req.cseq()?;
    }
    // Sized for the copied headers plus `room` for what callers add
    // (Contact, Server, Date, Content-Length...), so that writing it does not
    // regrow the buffer. (What a Completed transaction keeps is a copy of
    // its exact size: `Ctx::keep` in the transaction layer.)
    let copied: usize = HeaderName::COPIED_INTO_RESPONSES
        .into_iter()
        .flat_map(|h| req.header_lines(h))
        .map(|v| v.len() + 12)
        .sum();
    let mut b = MessageBuilder::response_sized(status, reason, copied + reason.len() + room);
    for via in req.header_lines(HeaderName::Via) {
        b = b.header(HeaderName::Via, via);
    }
    let from = req.header(HeaderName::From).unwrap_or_default();
    let to = req.header(HeaderName::To).unwrap_or_default();
    b = b.header(HeaderName::From, from);
    b = if has_tag || status == 100 {
        b.header(HeaderName::To, to)
    } else {
        let tag = to_tag.ok_or(ProtoError::ToTagRequired)?;
        b.header_joined(HeaderName::To, &[to, ";tag=", tag.as_str()])
    };
    b = b
        .header(
            HeaderName::CallId,
            req.header(HeaderName::CallId).unwrap_or_default(),
        )
        .header(
            HeaderName::CSeq,
            req.header(HeaderName::CSeq).unwrap_or_default(),
        );
    if status == 100
        && let Some(ts) = req.header(HeaderName::Timestamp)
    {
        b = b.header(HeaderName::Timestamp, ts);
    }
    Ok(b)
}

/// A complete response to `req` with the standard reason phrase and nothing
/// beyond the §8.2.6 headers: what a stateless server sends (a 503 when the
/// transaction cap is reached, a 400 for a bad request, ...).
pub fn stateless_response(
    req: &SipMessage,
    status: u16,
    to_tag: Option<&Tag>,
) -> Result<SipMessage, ProtoError> {
    response_builder(req, status, reason_phrase(status), to_tag)?
        .build()
        .map_err(ProtoError::Build)
}

/// Stamps the top Via of a received request as RFC 3261 §18.2.1 and RFC 3581
/// §4 require: adds `received=<source IP>` when the sent-by host is a name or
/// an address other than the source, and always when `rport` is present; fills
/// an empty `rport` with the source port. An existing `received` is replaced.
///
/// The transport driver calls this on every request it receives, before the
/// transaction layer sees it. Responses are left alone.
pub fn stamp_received(msg: &mut SipMessage, source: SocketAddr) -> Result<(), ProtoError> {
    if !msg.is_request() {
        return Ok(());
    }
    let new_top = {
        let via = msg.via()?;
        let source_ip = source.ip().to_canonical();
        let sent_by_is_source = match via.host {
            Host::V4(a) => IpAddr::V4(a) == source_ip,
            Host::V6(a) => IpAddr::V6(a).to_canonical() == source_ip,
            Host::Name(_) => false,
        };
        let rport = via.rport();
        let add_received = !sent_by_is_source || rport.is_some();
        let fill_rport = matches!(rport, Some(None));
        // A `received` the sender wrote itself is never trusted: it would let
        // any client send our responses to a third party (§18.2.2 routes on it).
        let stale_received = via.received().is_some();
        if !add_received && !fill_rport && !stale_received {
            return Ok(());
        }
        let mut s = String::with_capacity(via.params.as_str().len() + 96);
        for part in [via.protocol, "/", via.version, "/", via.transport, " "] {
            s.push_str(part);
        }
        push_sent_by(&mut s, &via);
        for p in via.params.iter() {
            if p.name.eq_ignore_ascii_case("received") {
                continue;
            }
            if fill_rport && p.name.eq_ignore_ascii_case("rport") {
                s.push(';');
                s.push_str(p.name);
                s.push('=');
                push_decimal(&mut s, u32::from(source.port()));
                continue;
            }
            s.push(';');
            s.push_str(p.name);
            if let Some(v) = p.value {
                s.push('=');
                s.push_str(v);
            }
        }
        if add_received {
            // RFC 3261 §25.1: via-received = "received" EQUAL (IPv4address /
            // IPv6address): no brackets around an IPv6 address.
            s.push_str(";received=");
            push_ip(&mut s, source_ip, false);
        }
        s
    };
    msg.replace_first_value(HeaderName::Via, &new_top);
    Ok(())
}

/// `host[:port]` of a Via's sent-by, IPv6 in brackets.
pub(crate) fn sent_by(via: &Via<'_>) -> String {
    let mut s = String::with_capacity(48);
    push_sent_by(&mut s, via);
    s
}

/// Appends [`sent_by`].
pub(crate) fn push_sent_by(s: &mut String, via: &Via<'_>) {
    push_host(s, &via.host);
    if let Some(p) = via.port {
        s.push(':');
        push_decimal(s, u32::from(p));
    }
}

/// Appends a host as it appears in a sent-by or URI: names lower-cased (they
/// compare case-insensitively), IPv6 in brackets.
fn push_host(s: &mut String, host: &Host<'_>) {
    match host {
        Host::Name(n) => s.extend(n.chars().map(|c| c.to_ascii_lowercase())),
        Host::V4(a) => push_ip(s, IpAddr::V4(*a), true),
        Host::V6(a) => push_ip(s, IpAddr::V6(*a), true),
    }
}

/// Where a response goes, per RFC 3261 §18.2.2 and RFC 3581 §4, computed from
/// the top Via of the request (as stamped by [`stamp_received`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseRoute {
    /// The Via's transport, when it is one we speak.
    pub transport: Option<Transport>,
    /// The sent-protocol is reliable (anything but UDP): the response MUST go
    /// back over the connection the request came on while it is open; `target`
    /// is where to open a new one when it is not (§18.2.2 first bullet).
    pub reuse_connection: bool,
    /// Where to send (or connect).
    pub target: ResponseTarget,
}

/// The destination part of a [`ResponseRoute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseTarget {
    /// A literal address: `received` (with `rport` or the sent-by port),
    /// `maddr` or the sent-by when they are IP addresses.
    Addr(SocketAddr),
    /// A name to resolve with the server procedures of RFC 3263 §5 (SRV when
    /// `port` is `None`).
    Resolve {
        /// The host name (lower case).
        host: String,
        /// The explicit port, if any.
        port: Option<u16>,
    },
}

/// Computes where a response to a request with top Via `via` goes.
///
/// 1. Reliable sent-protocol: reuse the connection; fallback target is
///    `received` with the sent-by port (an `rport` of a TCP connection is an
///    ephemeral port nobody listens on), else the sent-by.
/// 2. `maddr` naming a multicast address: that address, sent-by port or
///    5060 (§18.2.2). A unicast or named `maddr` is ignored: Via `maddr`
///    exists for multicast (§18.1.1), and honouring any address a request
///    names would let anyone aim our responses at a third party
///    (reflection); the response goes to the source instead.
/// 3. `received`: that address, with the `rport` value if filled (RFC 3581
///    §4), else the sent-by port, else 5060.
/// 4. Otherwise the sent-by, resolved per RFC 3263 §5 when it is a name.
pub fn response_route(via: &Via<'_>) -> ResponseRoute {
    let transport = Transport::from_via_token(via.transport);
    let reliable = !via.transport.eq_ignore_ascii_case("UDP");
    let default_port = transport.map_or(5060, Transport::default_port);
    let received = via.received().and_then(parse_ip);
    let sent_by_target = || match via.host {
        Host::V4(a) => ResponseTarget::Addr(SocketAddr::new(
            IpAddr::V4(a),
            via.port.unwrap_or(default_port),
        )),
        Host::V6(a) => ResponseTarget::Addr(SocketAddr::new(
            IpAddr::V6(a),
            via.port.unwrap_or(default_port),
        )),
        Host::Name(n) => ResponseTarget::Resolve {
            host: n.to_ascii_lowercase(),
            port: via.port,
        },
    };
    let target = if reliable {
        match received {
            Some(ip) => ResponseTarget::Addr(SocketAddr::new(ip, via.port.unwrap_or(default_port))),
            None => sent_by_target(),
        }
    } else if let Some(group) = via.maddr().and_then(parse_ip).filter(IpAddr::is_multicast) {
        ResponseTarget::Addr(SocketAddr::new(group, via.port.unwrap_or(5060)))
    } else if let Some(ip) = received {
        let port = match via.rport() {
            Some(Some(p)) => p,
            _ => via.port.unwrap_or(5060),
        };
        ResponseTarget::Addr(SocketAddr::new(ip, port))
    } else {
        sent_by_target()
    };
    ResponseRoute {
        transport,
        reuse_connection: reliable,
        target,
    }
}

/// An IP address, IPv6 with or without brackets (RFC 5118 §4.5 shows both in
/// `received`).
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    s.parse().ok()
}

/// The raw text of the first value of header `name` (the top Via, the top
/// Route), even when a line carries several comma-separated values.
pub(crate) fn first_value(msg: &SipMessage, name: HeaderName) -> Option<String> {
    msg.clone().pop_first_value(name)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn req(via: &str) -> SipMessage {
        let raw = format!(
            "OPTIONS sip:bob@example.test SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKup\r\n\
From: <sip:alice@example.test>;tag=a1\r\nTo: <sip:bob@example.test>\r\n\
Call-ID: c1@example.test\r\nCSeq: 7 OPTIONS\r\nTimestamp: 54\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        );
        SipMessage::parse(Bytes::from(raw)).unwrap()
    }

    fn src(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn received_added_only_when_needed() {
        // §18.2.1: same IP as the source, no rport: untouched.
        let mut m = req("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK1");
        stamp_received(&mut m, src("192.0.2.4:5060")).unwrap();
        assert_eq!(
            m.header(HeaderName::Via),
            Some("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK1")
        );
        // A domain name in sent-by: received added (the §18.2.1 example).
        let mut m = req("SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bK1");
        stamp_received(&mut m, src("192.0.2.4:5060")).unwrap();
        assert_eq!(
            m.header(HeaderName::Via),
            Some("SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bK1;received=192.0.2.4")
        );
        // The second Via is untouched and still second.
        let vias: Vec<&str> = m.header_lines(HeaderName::Via).collect();
        assert_eq!(vias[1], "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKup");
    }

    #[test]
    fn rport_filled_and_received_forced() {
        // RFC 3581 §4: rport present: fill it and add received even when the
        // sent-by address equals the source.
        let mut m = req("SIP/2.0/UDP 192.0.2.4:5060;rport;branch=z9hG4bK1");
        stamp_received(&mut m, src("192.0.2.4:61000")).unwrap();
        assert_eq!(
            m.header(HeaderName::Via),
            Some("SIP/2.0/UDP 192.0.2.4:5060;rport=61000;branch=z9hG4bK1;received=192.0.2.4")
        );
        let via = m.via().unwrap();
        assert_eq!(via.rport(), Some(Some(61000)));
        let route = response_route(&via);
        assert_eq!(route.target, ResponseTarget::Addr(src("192.0.2.4:61000")));
        assert!(!route.reuse_connection);
    }

    #[test]
    fn ipv6_source_is_stamped_without_brackets_and_parses_back() {
        let mut m = req("SIP/2.0/UDP [2001:db8::9:1]:5060;rport;branch=z9hG4bK6");
        stamp_received(&mut m, src("[2001:db8::9:255]:5062")).unwrap();
        let m = SipMessage::parse(m.to_bytes()).unwrap();
        let via = m.via().unwrap();
        assert_eq!(via.received(), Some("2001:db8::9:255"));
        assert_eq!(
            response_route(&via).target,
            ResponseTarget::Addr(src("[2001:db8::9:255]:5062"))
        );
        // RFC 5118 §4.5 also shows the bracketed form; both route the same.
        let m = req("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bK7");
        assert_eq!(
            response_route(&m.via().unwrap()).target,
            ResponseTarget::Addr(src("[2001:db8::9:255]:5060"))
        );
    }

    #[test]
    fn response_routes() {
        let route = |v: &str| {
            let m = req(v);
            response_route(&m.via().unwrap())
        };
        // Reliable: reuse the connection; fallback received + sent-by port.
        let r =
            route("SIP/2.0/TCP client.example:5070;branch=z9hG4bK1;received=192.0.2.9;rport=40000");
        assert!(r.reuse_connection);
        assert_eq!(r.transport, Some(Transport::Tcp));
        assert_eq!(r.target, ResponseTarget::Addr(src("192.0.2.9:5070")));
        // maddr wins over received on UDP, with the sent-by port or 5060.
        let r =
            route("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;maddr=239.255.255.1;received=192.0.2.9");
        assert_eq!(r.target, ResponseTarget::Addr(src("239.255.255.1:5060")));
        // A unicast or named maddr is not followed (reflection): the source.
        let r = route(
            "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;maddr=198.51.100.7;received=192.0.2.9;rport=4000",
        );
        assert_eq!(r.target, ResponseTarget::Addr(src("192.0.2.9:4000")));
        let r = route("SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1;maddr=victim.example");
        assert_eq!(r.target, ResponseTarget::Addr(src("192.0.2.1:5070")));
        // received without rport: the sent-by port.
        let r = route("SIP/2.0/UDP client.example:5072;branch=z9hG4bK1;received=192.0.2.9");
        assert_eq!(r.target, ResponseTarget::Addr(src("192.0.2.9:5072")));
        // Nothing stamped, a name: resolve per RFC 3263 §5.
        let r = route("SIP/2.0/UDP Client.Example;branch=z9hG4bK1");
        assert_eq!(
            r.target,
            ResponseTarget::Resolve {
                host: "client.example".into(),
                port: None
            }
        );
        // TLS default port 5061.
        let r = route("SIP/2.0/TLS 192.0.2.3;branch=z9hG4bK1");
        assert_eq!(r.target, ResponseTarget::Addr(src("192.0.2.3:5061")));
    }

    #[test]
    fn stateless_response_copies_and_tags() {
        let m = req("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK1");
        let r = stateless_response(&m, 503, Some(&Tag::from("srv1"))).unwrap();
        assert_eq!(r.status(), Some(503));
        assert_eq!(r.reason(), Some("Service Unavailable"));
        let vias: Vec<&str> = r.header_lines(HeaderName::Via).collect();
        assert_eq!(vias.len(), 2);
        assert_eq!(r.to().unwrap().tag(), Some("srv1"));
        assert_eq!(r.from().unwrap().tag(), Some("a1"));
        assert_eq!(r.call_id().unwrap(), "c1@example.test");
        assert_eq!(r.cseq().unwrap().seq, 7);
        assert_eq!(r.header(HeaderName::Timestamp), None);
        // A tag is required for non-100 when the request had none.
        assert_eq!(
            stateless_response(&m, 404, None).unwrap_err(),
            ProtoError::ToTagRequired
        );
        // 100 Trying: no tag, Timestamp copied (§8.2.6.1).
        let t = stateless_response(&m, 100, Some(&Tag::from("x"))).unwrap();
        assert_eq!(t.to().unwrap().tag(), None);
        assert_eq!(t.header(HeaderName::Timestamp), Some("54"));
        assert_eq!(reason_phrase(487), "Request Terminated");
        assert_eq!(reason_phrase(299), "OK");
    }
}
