//! Property tests for URIs: structured `sip`/`sips` URIs built from random
//! parts (users with escapes, host names, IPv4 and IPv6 hosts, ports,
//! parameters, headers) parse back into the same parts; RFC 3261 §19.1.4
//! equivalence is reflexive and survives re-spellings the RFC calls
//! insignificant; and no input string makes the URI parsers panic.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use sip_msg::{Host, Uri, parse_hostport, unescape};

/// The host as generated: its text and what it must parse into.
#[derive(Debug, Clone)]
enum HostSpec {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl HostSpec {
    fn text(&self) -> String {
        match self {
            HostSpec::Name(n) => n.clone(),
            HostSpec::V4(a) => a.to_string(),
            HostSpec::V6(a) => format!("[{a}]"),
        }
    }

    fn matches(&self, h: &Host<'_>) -> bool {
        match (self, h) {
            (HostSpec::Name(a), Host::Name(b)) => a == b,
            (HostSpec::V4(a), Host::V4(b)) => a == b,
            (HostSpec::V6(a), Host::V6(b)) => a == b,
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
struct SipSpec {
    scheme: String,
    user: Option<(String, Option<String>)>,
    host: HostSpec,
    port: Option<u16>,
    params: Vec<(String, Option<String>)>,
    headers: Vec<(String, String)>,
}

impl SipSpec {
    fn secure(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("sips")
    }

    fn format(&self) -> String {
        let mut s = format!("{}:", self.scheme);
        if let Some((u, pw)) = &self.user {
            s.push_str(u);
            if let Some(pw) = pw {
                s.push(':');
                s.push_str(pw);
            }
            s.push('@');
        }
        s.push_str(&self.host.text());
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        for (n, v) in &self.params {
            s.push(';');
            s.push_str(n);
            if let Some(v) = v {
                s.push('=');
                s.push_str(v);
            }
        }
        for (i, (n, v)) in self.headers.iter().enumerate() {
            s.push(if i == 0 { '?' } else { '&' });
            s.push_str(&format!("{n}={v}"));
        }
        s
    }
}

/// `%HH` for any byte.
fn escape() -> impl Strategy<Value = String> {
    any::<u8>().prop_map(|b| format!("%{b:02X}"))
}

/// Characters (or escapes) matching `class`, `range` of them.
fn escaped_text(
    class: &'static str,
    range: std::ops::Range<usize>,
) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![4 => class.prop_map(|s: String| s), 1 => escape()],
        range,
    )
    .prop_map(|v| v.concat())
}

fn user() -> impl Strategy<Value = String> {
    // RFC 3261 §25.1: unreserved / escaped / user-unreserved.
    escaped_text("[a-zA-Z0-9_.!~*'()&=+$,;?/-]", 1..12)
}

fn password() -> impl Strategy<Value = String> {
    escaped_text("[a-zA-Z0-9_.!~*'()&=+$,-]", 0..8)
}

fn host() -> impl Strategy<Value = HostSpec> {
    prop_oneof![
        (
            "[a-z][a-z0-9_-]{0,10}(\\.[a-z0-9][a-z0-9_-]{0,10}){0,3}",
            any::<bool>()
        )
            .prop_map(|(mut n, dot)| {
                // The top label must start with a letter.
                let top = n.rsplit('.').next().unwrap_or("");
                if !top.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    n.push_str(".x");
                }
                if dot {
                    n.push('.');
                }
                HostSpec::Name(n)
            }),
        any::<[u8; 4]>().prop_map(|o| HostSpec::V4(Ipv4Addr::from(o))),
        any::<[u16; 8]>().prop_map(|s| HostSpec::V6(Ipv6Addr::from(s))),
    ]
}

/// Parameters with distinct names: a few the RFC defines, and extensions.
fn params() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    let known = (
        prop::option::of(prop_oneof![
            Just("udp"),
            Just("tcp"),
            Just("TLS"),
            Just("sctp"),
            Just("ws")
        ]),
        any::<bool>(),
        prop::option::of(any::<u8>()),
        prop::option::of(host()),
        prop::option::of(prop_oneof![Just("phone"), Just("ip")]),
    );
    let ext = prop::collection::btree_map(
        "x-[a-z0-9]{1,6}",
        prop::option::of(escaped_text("[a-zA-Z0-9_.!~*'()/:&+$\\[\\]-]", 1..8)),
        0..4,
    );
    (known, ext).prop_map(|((transport, lr, ttl, maddr, user), ext)| {
        let mut v = Vec::new();
        if let Some(t) = transport {
            v.push(("transport".to_owned(), Some(t.to_owned())));
        }
        if lr {
            v.push(("lr".to_owned(), None));
        }
        if let Some(t) = ttl {
            v.push(("ttl".to_owned(), Some(t.to_string())));
        }
        if let Some(h) = maddr {
            v.push(("maddr".to_owned(), Some(h.text())));
        }
        if let Some(u) = user {
            v.push(("user".to_owned(), Some(u.to_owned())));
        }
        v.extend(ext);
        v
    })
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    // hname = 1*( hnv-unreserved / unreserved / escaped ), hvalue = *( ... ).
    prop::collection::vec(
        (
            escaped_text("[a-zA-Z0-9_.!~*'()/?:+$\\[\\]-]", 1..8),
            escaped_text("[a-zA-Z0-9_.!~*'()/?:+$\\[\\]-]", 0..8),
        ),
        0..4,
    )
}

fn sip_spec() -> impl Strategy<Value = SipSpec> {
    (
        prop_oneof![Just("sip"), Just("sips"), Just("SIP"), Just("Sips")],
        prop::option::of((user(), prop::option::of(password()))),
        host(),
        prop::option::of(any::<u16>()),
        params(),
        headers(),
    )
        .prop_map(|(scheme, user, host, port, params, headers)| SipSpec {
            scheme: scheme.to_owned(),
            user,
            host,
            port,
            params,
            headers,
        })
}

/// Percent-encodes every alphanumeric character (all unreserved, so the
/// result is equivalent, RFC 3261 §19.1.4) and lower-cases existing escapes.
fn respell_user(u: &str) -> String {
    let mut out = String::new();
    let mut chars = u.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            out.push('%');
            out.extend(chars.next().map(|h| h.to_ascii_lowercase()));
            out.extend(chars.next().map(|l| l.to_ascii_lowercase()));
        } else if c.is_ascii_alphanumeric() {
            out.push_str(&format!("%{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sip_parts_come_back(spec in sip_spec()) {
        let text = spec.format();
        let uri = Uri::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(uri.as_str(), text.as_str());
        prop_assert!(uri.equivalent(&uri), "not reflexive: {}", text);
        let sip = uri.as_sip().ok_or_else(|| TestCaseError::fail("not sip"))?;
        prop_assert_eq!(sip.secure, spec.secure());
        prop_assert_eq!(sip.user, spec.user.as_ref().map(|(u, _)| u.as_str()));
        prop_assert_eq!(
            sip.password,
            spec.user.as_ref().and_then(|(_, p)| p.as_deref())
        );
        prop_assert!(spec.host.matches(&sip.host), "{:?} vs {:?}", spec.host, sip.host);
        prop_assert_eq!(sip.port, spec.port);
        let params: Vec<(String, Option<String>)> = sip
            .params
            .iter()
            .map(|p| (p.name.to_owned(), p.value.map(str::to_owned)))
            .collect();
        prop_assert_eq!(&params, &spec.params);
        let headers: Vec<(String, String)> = sip
            .header_pairs()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        prop_assert_eq!(&headers, &spec.headers);
        prop_assert_eq!(sip.is_loose_router(), spec.params.iter().any(|(n, _)| n == "lr"));
        if let Some((_, Some(t))) = spec.params.iter().find(|(n, _)| n == "transport") {
            prop_assert_eq!(sip.transport(), Some(t.as_str()));
        }
        // The host displays as it was written (IPv6 in brackets).
        if !matches!(spec.host, HostSpec::Name(_)) {
            prop_assert_eq!(sip.host.to_string(), spec.host.text());
        }
    }

    #[test]
    fn equivalence_survives_insignificant_respelling(spec in sip_spec()) {
        let a = spec.format();
        let mut b = spec.clone();
        // Scheme and host name case, escapes of unreserved characters,
        // parameter order and name/value case, header order (§19.1.4).
        b.scheme = b.scheme.to_ascii_uppercase();
        if let HostSpec::Name(n) = &mut b.host {
            *n = n.to_ascii_uppercase();
        }
        if let Some((u, pw)) = &mut b.user {
            *u = respell_user(u);
            if let Some(pw) = pw {
                *pw = respell_user(pw);
            }
        }
        b.params.reverse();
        for (n, v) in &mut b.params {
            *n = n.to_ascii_uppercase();
            if let Some(v) = v {
                *v = v.to_ascii_uppercase();
            }
        }
        b.headers.reverse();
        let b = b.format();
        let (x, y) = (Uri::parse(&a), Uri::parse(&b));
        let (x, y) = match (x, y) {
            (Ok(x), Ok(y)) => (x, y),
            (x, y) => return Err(TestCaseError::fail(format!("{a}: {x:?}\n{b}: {y:?}"))),
        };
        prop_assert!(x.equivalent(&y), "{} / {}", a, b);
        prop_assert!(y.equivalent(&x), "{} / {}", b, a);
    }

    #[test]
    fn significant_changes_break_equivalence(spec in sip_spec(), other_port in any::<u16>()) {
        let a = spec.format();
        let x = Uri::parse(&a).map_err(|e| TestCaseError::fail(format!("{a}: {e}")))?;
        // sip vs sips.
        let mut b = spec.clone();
        b.scheme = if spec.secure() { "sip".into() } else { "sips".into() };
        let bt = b.format();
        let y = Uri::parse(&bt).map_err(|e| TestCaseError::fail(format!("{bt}: {e}")))?;
        prop_assert!(!x.equivalent(&y), "{} / {}", a, bt);
        // A different (or added, or removed) port.
        let mut b = spec.clone();
        b.port = if spec.port == Some(other_port) { None } else { Some(other_port) };
        let bt = b.format();
        let y = Uri::parse(&bt).map_err(|e| TestCaseError::fail(format!("{bt}: {e}")))?;
        prop_assert!(!x.equivalent(&y), "{} / {}", a, bt);
        // A header only one of them has.
        let mut b = spec.clone();
        b.headers.push(("X-Extra".into(), "1".into()));
        let bt = b.format();
        let y = Uri::parse(&bt).map_err(|e| TestCaseError::fail(format!("{bt}: {e}")))?;
        prop_assert!(!x.equivalent(&y), "{} / {}", a, bt);
    }

    #[test]
    fn parse_never_panics(s in "\\PC*") {
        if let Ok(u) = Uri::parse(&s) {
            prop_assert_eq!(u.as_str(), s.as_str());
            prop_assert!(u.equivalent(&u), "not reflexive: {}", s);
        }
        let _ = Host::parse(&s);
        let _ = Host::parse_received(&s);
        let _ = parse_hostport(&s);
        let _ = unescape(&s);
    }

    #[test]
    fn parse_never_panics_on_uri_like_text(
        s in "(sip|sips|SIP|tel|pres|im|urn|x):[ -~]{0,40}",
    ) {
        if let Ok(u) = Uri::parse(&s) {
            prop_assert_eq!(u.as_str(), s.as_str());
            prop_assert!(u.equivalent(&u), "not reflexive: {}", s);
        }
    }

    #[test]
    fn unescape_inverts_percent_encoding(s in "\\PC{0,20}") {
        let encoded: String = s.bytes().map(|b| format!("%{b:02x}")).collect();
        prop_assert_eq!(unescape(&encoded), s.as_str());
    }
}
