//! Property tests: typed headers built from random parts, put into a message by
//! `MessageBuilder`, come back with the same parts; edits keep the message
//! parseable; and no input string makes a typed parser panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use bytes::Bytes;
use proptest::prelude::*;
use sip_msg::{
    CSeq, Contact, Event, FromTo, HeaderName, MessageBuilder, SipMessage, SubscriptionState, Via,
};

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,15}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        any::<[u16; 8]>().prop_map(|s| format!("[{}]", std::net::Ipv6Addr::from(s))),
    ]
}

fn user() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.!~*'()&=+$-]{1,12}(%[0-9A-F]{2}[a-z]{0,3}){0,2}"
}

fn display() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "[A-Za-z]{1,8}( [A-Za-z]{1,8}){0,2}",
        "\"[ -!#-\\[\\]-~]{0,16}\"",
        "\"[a-z]{0,4}\\\\\"[a-z]{0,4}\"",
    ])
}

fn base(method: &str, uri: &str) -> MessageBuilder {
    MessageBuilder::request(method, uri)
        .header(
            HeaderName::Via,
            "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbase",
        )
        .header(HeaderName::From, "<sip:a@example.test>;tag=f")
        .header(HeaderName::To, "<sip:b@example.test>")
        .header(HeaderName::CallId, "call@127.0.0.1")
        .header(HeaderName::CSeq, &format!("1 {method}"))
        .header(HeaderName::MaxForwards, "70")
}

proptest! {
    /// The Contact accessors (read from what the parse recorded) agree with a
    /// walk over the parameters: the first parameter of each name counts,
    /// and a bad value anywhere refuses the whole value.
    #[test]
    fn contact_accessors_agree_with_the_parameters(
        params in prop::collection::vec(
            (
                prop_oneof![
                    Just("expires"), Just("EXPIRES"), Just("q"), Just("reg-id"),
                    Just("+sip.instance"), Just("ob"), Just("x-q"),
                ],
                prop::option::of(prop_oneof![
                    "[0-9]{1,11}",
                    "(0|1)\\.[0-9]{0,3}",
                    "\"<urn:uuid:[a-f0-9-]{1,12}>\"",
                    "[a-z]{1,5}",
                ]),
            ),
            0..6,
        ),
    ) {
        let mut text = String::from("<sip:alice@127.0.0.1:5070>");
        for (n, v) in &params {
            text.push(';');
            text.push_str(n);
            if let Some(v) = v {
                text.push('=');
                text.push_str(v);
            }
        }
        let first = |name: &str| -> Option<Option<&str>> {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_deref())
        };
        let all_ok = params.iter().all(|(n, v)| {
            let v = v.as_deref().unwrap_or("");
            match n.to_ascii_lowercase().as_str() {
                "expires" => v.parse::<u32>().is_ok() && v.bytes().all(|c| c.is_ascii_digit()),
                "q" => sip_msg::parse_qvalue(v).is_ok(),
                "reg-id" => v.bytes().all(|c| c.is_ascii_digit())
                    && v.parse::<u32>().is_ok_and(|n| n > 0),
                _ => true,
            }
        });
        match Contact::parse(&text) {
            Ok(c) => {
                prop_assert!(all_ok, "{text} accepted");
                prop_assert_eq!(c.expires(), first("expires").flatten().map(|v| v.parse().unwrap()));
                prop_assert_eq!(c.q(), first("q").flatten().map(|v| sip_msg::parse_qvalue(v).unwrap()));
                prop_assert_eq!(c.reg_id(), first("reg-id").flatten().map(|v| v.parse().unwrap()));
                let inst = first("+sip.instance").flatten().map(|v| {
                    v.trim_start_matches("\"<").trim_end_matches(">\"")
                });
                prop_assert_eq!(c.instance(), inst);
                prop_assert_eq!(c.params().as_str().len() + 26, text.len());
            }
            Err(e) => prop_assert!(!all_ok, "{text} refused: {e}"),
        }
    }
}

proptest! {
    #[test]
    fn via_round_trip(
        transport in prop_oneof![Just("UDP"), Just("TCP"), Just("TLS"), Just("WS"), Just("WSS")],
        h in host(),
        port in prop::option::of(1u16..),
        branch in token(),
        rport in prop::option::of(prop::option::of(1u16..)),
        ttl in prop::option::of(any::<u8>()),
    ) {
        let mut v = format!("SIP/2.0/{transport} {h}");
        if let Some(p) = port { v.push_str(&format!(":{p}")); }
        v.push_str(&format!(";branch=z9hG4bK{branch}"));
        match rport {
            Some(Some(p)) => v.push_str(&format!(";rport={p}")),
            Some(None) => v.push_str(";rport"),
            None => {}
        }
        if let Some(t) = ttl { v.push_str(&format!(";ttl={t}")); }
        let m = base("OPTIONS", "sip:b@example.test").build().unwrap();
        let mut m = m;
        m.push_front(HeaderName::Via, &v);
        let m = SipMessage::parse(m.to_bytes()).unwrap();
        let via = m.via().unwrap();
        prop_assert_eq!(via.transport, transport);
        prop_assert_eq!(via.port, port);
        let bs = format!("z9hG4bK{branch}");
        prop_assert_eq!(via.branch(), Some(bs.as_str()));
        prop_assert!(via.is_rfc3261_branch());
        prop_assert_eq!(via.rport(), rport);
        prop_assert_eq!(via.ttl(), ttl);
        prop_assert_eq!(m.vias().count(), 2);
        prop_assert!(m.validate().is_ok(), "{:?}", m.validate());
        // The second call comes from the message's cache: same value as a
        // fresh parse of the text, every field and parameter included.
        let again = m.via().unwrap();
        prop_assert_eq!(again, Via::parse(&v).unwrap());
        prop_assert_eq!(again.received(), None);
        prop_assert_eq!(again.maddr(), None);
        // An edit of the Via replaces what the cache held.
        let mut m = m;
        let stamped = format!("{v};received=192.0.2.7");
        m.replace_first_value(HeaderName::Via, &stamped);
        prop_assert_eq!(m.via().unwrap().received(), Some("192.0.2.7"));
        prop_assert_eq!(m.via().unwrap(), Via::parse(&stamped).unwrap());
        m.pop_first_value(HeaderName::Via);
        prop_assert_eq!(m.via().unwrap().branch(), Some("z9hG4bKbase"));
    }

    #[test]
    fn from_to_contact_round_trip(
        d in display(),
        u in user(),
        h in host(),
        tag in token(),
        expires in any::<u32>(),
        q in 0u16..=1000,
    ) {
        let addr = match &d {
            Some(d) => format!("{d} <sip:{u}@{h}>"),
            None => format!("<sip:{u}@{h}>"),
        };
        let qs = format!("{}.{:03}", q / 1000, q % 1000);
        let m = base("REGISTER", "sip:example.test")
            .header(HeaderName::Contact, &format!("{addr};expires={expires};q={qs}, *"))
            .build()
            .unwrap();
        let mut m = m;
        m.set_header(HeaderName::From, &format!("{addr};tag={tag}"));
        let m = SipMessage::parse(m.to_bytes()).unwrap();
        let from: FromTo = m.from().unwrap();
        prop_assert_eq!(from.tag(), Some(tag.as_str()));
        prop_assert_eq!(from.addr.display, d.as_deref());
        let sip = from.addr.uri.as_sip().unwrap();
        prop_assert_eq!(sip.user, Some(u.as_str()));
        let contacts: Vec<Contact> = m.contacts().map(|c| c.unwrap()).collect();
        prop_assert_eq!(contacts.len(), 2);
        prop_assert_eq!(contacts[0].expires(), Some(expires));
        prop_assert_eq!(contacts[0].q(), Some(q));
        prop_assert_eq!(contacts[1], Contact::Wildcard);
        // The tag accessors agree with the typed headers, before and after
        // their cache is filled, and follow edits.
        for _ in 0..2 {
            prop_assert_eq!(m.from_tag().unwrap(), Some(tag.as_str()));
            prop_assert_eq!(m.to_tag().unwrap(), None);
        }
        let mut m = m;
        m.set_header(HeaderName::To, &format!("{addr};tag=x{tag}"));
        let want = format!("x{tag}");
        prop_assert_eq!(m.to_tag().unwrap(), Some(want.as_str()));
        m.set_header(HeaderName::From, &addr);
        prop_assert_eq!(m.from_tag().unwrap(), None);
        m.set_header(HeaderName::From, "<sip:a@b>;tag=");
        prop_assert!(m.from_tag().is_err());
    }

    #[test]
    fn cseq_event_state_round_trip(
        seq in any::<u32>(),
        pkg in "[a-z][a-z0-9-]{0,8}(\\.[a-z]{1,6})?",
        id in prop::option::of(token()),
        state in prop_oneof![Just("active"), Just("pending"), Just("terminated")],
        exp in any::<u32>(),
    ) {
        let ev = match &id { Some(i) => format!("{pkg};id={i}"), None => pkg.clone() };
        let m = MessageBuilder::request("NOTIFY", "sip:b@127.0.0.1")
            .header(HeaderName::Via, "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1")
            .header(HeaderName::From, "<sip:a@example.test>;tag=1")
            .header(HeaderName::To, "<sip:b@example.test>;tag=2")
            .header(HeaderName::CallId, "x")
            .header(HeaderName::CSeq, &format!("{seq} NOTIFY"))
            .header(HeaderName::Event, &ev)
            .header(HeaderName::SubscriptionState, &format!("{state};expires={exp}"))
            .build()
            .unwrap();
        let cseq: CSeq = m.cseq().unwrap();
        prop_assert_eq!(cseq.seq, seq);
        let e: Event = m.event().unwrap().unwrap();
        prop_assert_eq!(e.event_type, pkg.as_str());
        prop_assert_eq!(e.id(), id.as_deref());
        let s: SubscriptionState = m.subscription_state().unwrap().unwrap();
        prop_assert_eq!(s.state, state);
        prop_assert_eq!(s.expires(), Some(exp));
        prop_assert!(m.validate().is_ok());
    }

    #[test]
    fn typed_parsers_never_panic(s in "\\PC{0,60}") {
        let _ = Via::parse(&s);
        let _ = FromTo::parse(&s);
        let _ = Contact::parse(&s);
        let _ = CSeq::parse(&s);
        let _ = Event::parse(&s);
        let _ = SubscriptionState::parse(&s);
        let _ = sip_msg::MediaType::parse(&s);
    }

    #[test]
    fn parse_never_panics_and_round_trips(body in prop::collection::vec(any::<u8>(), 0..64), junk in "[ -~]{0,40}") {
        let raw = format!(
            "MESSAGE sip:b@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nX-Junk: {junk}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut bytes = raw.into_bytes();
        bytes.extend_from_slice(&body);
        let bytes = Bytes::from(bytes);
        let m = SipMessage::parse(bytes.clone()).unwrap();
        prop_assert_eq!(m.to_bytes(), bytes);
        prop_assert_eq!(&m.body()[..], &body[..]);
    }
}
