//! MSRP URIs (RFC 4975 §6, §9): §6.1 comparison as a table, Display giving
//! back what was parsed, and generated URIs parsing into their parts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::HashSet;
use std::net::Ipv6Addr;

use msrp::{Host, MsrpUri};
use proptest::prelude::*;

fn u(s: &str) -> MsrpUri {
    MsrpUri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (a, b, equivalent?, which rule of §6.1)
const CASES: &[(&str, &str, bool, &str)] = &[
    (
        "msrp://h.example.com:1/abc;tcp",
        "msrp://h.example.com:1/abc;tcp",
        true,
        "identical",
    ),
    (
        "MSRP://h.example.com:1/abc;tcp",
        "msrp://h.example.com:1/abc;tcp",
        true,
        "1: scheme without case",
    ),
    (
        "msrps://h.example.com:1/abc;tcp",
        "msrp://h.example.com:1/abc;tcp",
        false,
        "1: scheme must match",
    ),
    (
        "msrp://H.EXAMPLE.com:1/abc;tcp",
        "msrp://h.example.com:1/abc;tcp",
        true,
        "2: host without case",
    ),
    (
        "msrp://%48.example.com:1/abc;tcp",
        "msrp://h.example.com:1/abc;tcp",
        true,
        "2: percent-decoding",
    ),
    (
        "msrp://bob@h.example.com:1/abc;tcp",
        "msrp://h.example.com:1/abc;tcp",
        true,
        "2: userinfo ignored",
    ),
    (
        "msrp://192.0.2.1:1/abc;tcp",
        "msrp://192.0.2.1:1/abc;tcp",
        true,
        "2: IPv4",
    ),
    (
        "msrp://192.0.2.1:1/abc;tcp",
        "msrp://192.0.2.2:1/abc;tcp",
        false,
        "2: IPv4",
    ),
    (
        "msrp://[2001:db8::1]:1/abc;tcp",
        "msrp://[2001:0db8:0:0::1]:1/abc;tcp",
        true,
        "2: IPv6 by value",
    ),
    (
        "msrp://h.example.com:1/abc;tcp",
        "msrp://h.example.com:2/abc;tcp",
        false,
        "3: port",
    ),
    (
        "msrp://h.example.com/abc;tcp",
        "msrp://h.example.com:2855/abc;tcp",
        false,
        "3: explicit vs absent port",
    ),
    (
        "msrp://h.example.com:1/abc;tcp",
        "msrp://h.example.com:1/ABC;tcp",
        false,
        "4: session-id with case",
    ),
    (
        "msrp://h.example.com:1;tcp",
        "msrp://h.example.com:1/abc;tcp",
        false,
        "4: absent session-id",
    ),
    (
        "msrp://h.example.com:1/abc;TCP",
        "msrp://h.example.com:1/abc;tcp",
        true,
        "5: transport without case",
    ),
    (
        "msrp://h.example.com:1/abc;ws",
        "msrp://h.example.com:1/abc;tcp",
        false,
        "5: transport must match",
    ),
    (
        "msrp://h.example.com:1/abc;tcp;x=1",
        "msrp://h.example.com:1/abc;tcp",
        true,
        "other params ignored",
    ),
];

#[test]
fn section_6_1_table() {
    for (a, b, eq, rule) in CASES {
        let (x, y) = (u(a), u(b));
        assert_eq!(x == y, *eq, "{rule}: {a} vs {b}");
        assert_eq!(y == x, *eq, "{rule}: symmetric");
        if *eq {
            let set: HashSet<MsrpUri> = [x.clone()].into_iter().collect();
            assert!(set.contains(&y), "{rule}: hash agrees");
        }
    }
}

#[test]
fn rfc_uris_round_trip() {
    for s in [
        "msrp://atlanta.example.com:7654/jshA7weztas;tcp",
        "msrp://host.example.com:8493/asfd34;tcp",
        "msrps://alice@intra.example.com;tcp",
        "msrps://intra.example.com:9000/jui787s2f;tcp",
        "msrps://relay.example.com:9000/hjdhfha;tcp",
        "msrp://a.example.com:1234/agic456;tcp",
    ] {
        assert_eq!(u(s).to_string(), s);
        assert_eq!(s.parse::<MsrpUri>().unwrap(), u(s));
    }
}

#[derive(Debug, Clone)]
enum H {
    Name(String),
    V4([u8; 4]),
    V6(Ipv6Addr),
}

fn host() -> impl Strategy<Value = H> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9-]{0,10}(\\.[a-zA-Z][a-zA-Z0-9-]{0,10}){0,3}".prop_map(H::Name),
        any::<[u8; 4]>().prop_map(H::V4),
        any::<u128>().prop_map(|n| H::V6(Ipv6Addr::from(n))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_uris_parse_into_their_parts(
        secure in any::<bool>(),
        user in proptest::option::of("[a-z][a-z0-9._~-]{0,8}"),
        h in host(),
        port in proptest::option::of(any::<u16>()),
        session in proptest::option::of("[A-Za-z0-9._~+=/-]{1,24}"),
        transport in "[a-zA-Z0-9]{1,5}",
        params in proptest::collection::vec(("[a-z][a-z0-9]{0,5}", proptest::option::of("[a-z0-9]{1,5}")), 0..3),
    ) {
        let host_text = match &h {
            H::Name(n) => n.clone(),
            H::V4(a) => format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
            H::V6(a) => format!("[{a}]"),
        };
        let mut s = format!("{}://", if secure { "msrps" } else { "msrp" });
        if let Some(u) = &user { s.push_str(u); s.push('@'); }
        s.push_str(&host_text);
        if let Some(p) = port { s.push_str(&format!(":{p}")); }
        if let Some(id) = &session { s.push('/'); s.push_str(id); }
        s.push(';');
        s.push_str(&transport);
        for (n, v) in &params {
            s.push(';');
            s.push_str(n);
            if let Some(v) = v { s.push('='); s.push_str(v); }
        }
        let uri = MsrpUri::parse(&s).unwrap();
        prop_assert_eq!(uri.to_string(), s.clone());
        prop_assert_eq!(uri.is_secure(), secure);
        prop_assert_eq!(uri.userinfo(), user.as_deref());
        match (&h, uri.host()) {
            (H::Name(n), Host::Name(m)) => prop_assert_eq!(n.as_str(), m),
            (H::V4(a), Host::V4(b)) => prop_assert_eq!(*a, b.octets()),
            (H::V6(a), Host::V6(b)) => prop_assert_eq!(*a, b),
            (_, other) => prop_assert!(false, "host {:?} parsed as {:?}", h, other),
        }
        prop_assert_eq!(uri.port(), port);
        prop_assert_eq!(uri.session_id(), session.as_deref());
        prop_assert_eq!(uri.transport(), transport.as_str());
        prop_assert_eq!(uri.params().count(), params.len());
        // Equivalent to its re-spellings that §6.1 calls insignificant.
        let loud = s.replacen("msrp", "MSRP", 1);
        let loud = if let H::Name(n) = &h { loud.replacen(n.as_str(), &n.to_uppercase(), 1) } else { loud };
        prop_assert_eq!(MsrpUri::parse(&loud).unwrap(), uri.clone());
        // Rebuilt from parts, equal again.
        let rebuilt = MsrpUri::new(secure, &host_text, port, session.as_deref(), &transport).unwrap();
        prop_assert_eq!(rebuilt, uri);
    }

    #[test]
    fn no_input_makes_the_parser_panic(s in "\\PC{0,60}") {
        let _ = MsrpUri::parse(&s);
        let _ = msrp::parse_path(&s);
    }
}
