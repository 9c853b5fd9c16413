//! The RFC 3862 and RFC 5438 example bodies (testdata/) parse, table-driven.

use simple_im::cpim::{self, Dispositions, IMDN_NAMESPACE};

struct Case {
    name: &'static str,
    body: &'static [u8],
    from: &'static str,
    to: &'static str,
    datetime: Option<&'static str>,
    message_id: Option<&'static str>,
    content_type: &'static str,
    content_disposition: Option<&'static str>,
    content_starts: &'static str,
    content_ends: &'static str,
    dispositions: Dispositions,
}

const NONE: Dispositions = Dispositions {
    positive_delivery: false,
    negative_delivery: false,
    processing: false,
    display: false,
};

const CASES: &[Case] = &[
    Case {
        name: "RFC 3862 §5.1",
        body: include_bytes!("../testdata/rfc3862-5.1.cpim"),
        from: "MR SANDERS <im:piglet@100akerwood.com>",
        to: "Depressed Donkey <im:eeyore@100akerwood.com>",
        datetime: Some("2000-12-13T13:40:00-08:00"),
        message_id: None,
        content_type: "text/xml; charset=utf-8",
        content_disposition: None,
        content_starts: "<body>\r\n",
        content_ends: "</body>\r\n",
        dispositions: NONE,
    },
    Case {
        name: "RFC 5438 §7.1.1.3 IM",
        body: include_bytes!("../testdata/rfc5438-7.1.1.3-im.cpim"),
        from: "Alice <im:alice@example.com>",
        to: "Bob <im:bob@example.com>",
        datetime: Some("2006-04-04T12:16:49-05:00"),
        message_id: Some("34jk324j"),
        content_type: "text/plain",
        content_disposition: None,
        content_starts: "Hello World\r\n",
        content_ends: "Hello World\r\n",
        dispositions: Dispositions {
            positive_delivery: true,
            negative_delivery: true,
            processing: false,
            display: false,
        },
    },
    Case {
        name: "RFC 5438 §7.2.1.1 delivery notification",
        body: include_bytes!("../testdata/rfc5438-7.2.1.1-delivery.cpim"),
        from: "Bob <im:bob@example.com>",
        to: "Alice <im:alice@example.com>",
        datetime: None,
        message_id: Some("d834jied93rf"),
        content_type: "message/imdn+xml",
        content_disposition: Some("notification"),
        content_starts: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n",
        content_ends: "</imdn>\r\n",
        dispositions: NONE,
    },
    Case {
        name: "RFC 5438 §7.2.1.2 display notification",
        body: include_bytes!("../testdata/rfc5438-7.2.1.2-display.cpim"),
        from: "Bob <im:bob@example.com>",
        to: "Alice <im:alice@example.com>",
        datetime: None,
        message_id: Some("dfjkleriou432333"),
        content_type: "message/imdn+xml",
        content_disposition: Some("notification"),
        content_starts: "<?xml",
        content_ends: "</imdn>\r\n",
        dispositions: NONE,
    },
    Case {
        name: "RFC 5438 §8.1 processing notification",
        body: include_bytes!("../testdata/rfc5438-8.1-processing.cpim"),
        from: "Bob <im:bob@example.com>",
        to: "Alice <im:alice@example.com>",
        datetime: None,
        message_id: None,
        content_type: "message/imdn+xml",
        content_disposition: Some("notification"),
        content_starts: "<?xml",
        content_ends: "</imdn>\r\n",
        dispositions: NONE,
    },
    Case {
        name: "RFC 5438 §8.3 aggregated IMDNs",
        body: include_bytes!("../testdata/rfc5438-8.3-aggregated.cpim"),
        from: "Bob <im:bob@example.com>",
        to: "Alice <im:alice@example.com>",
        datetime: None,
        message_id: Some("d834jied93rf"),
        content_type: "multipart/mixed;\r\n                   boundary=\"imdn-boundary\"",
        content_disposition: Some("notification"),
        content_starts: "--imdn-boundary\r\nContent-type: message/imdn+xml\r\n\r\n<?xml",
        content_ends: "\r\n--imdn-boundary\r\n",
        dispositions: NONE,
    },
];

#[test]
fn fixtures_are_crlf() {
    for case in CASES {
        let lf = case.body.iter().filter(|&&b| b == b'\n').count();
        let crlf = case.body.windows(2).filter(|w| w == b"\r\n").count();
        assert_eq!(lf, crlf, "{}", case.name);
        assert!(case.body.ends_with(b"\r\n"), "{}", case.name);
    }
}

#[test]
fn rfc_examples_parse() {
    for case in CASES {
        let c = cpim::parse(case.body).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(c.from(), Some(case.from), "{}", case.name);
        assert_eq!(c.to(), Some(case.to), "{}", case.name);
        assert_eq!(c.datetime(), case.datetime, "{}", case.name);
        assert_eq!(c.message_id(), case.message_id, "{}", case.name);
        assert_eq!(c.content_type(), Some(case.content_type), "{}", case.name);
        assert_eq!(
            c.content_header("content-disposition"),
            case.content_disposition,
            "{}",
            case.name
        );
        let content = std::str::from_utf8(c.content()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            content.starts_with(case.content_starts),
            "{}: {content:?}",
            case.name
        );
        assert!(
            content.ends_with(case.content_ends),
            "{}: {content:?}",
            case.name
        );
        assert_eq!(
            c.disposition_notification(),
            case.dispositions,
            "{}",
            case.name
        );
    }
}

#[test]
fn rfc3862_example_details() {
    let c = cpim::parse(CASES[0].body).unwrap_or_else(|e| panic!("{e}"));
    // §4.5: the first Subject wins; the ;lang parameter is not part of the value.
    assert_eq!(c.header("Subject"), Some("the weather will be fine today"));
    let subjects: Vec<_> = c.ns_headers(cpim::CPIM_NAMESPACE, "Subject").collect();
    assert_eq!(
        subjects,
        [
            "the weather will be fine today",
            "beau temps prevu pour aujourd'hui"
        ]
    );
    assert_eq!(c.header("Require"), Some("MyFeatures.VitalMessageOption"));
    assert_eq!(
        c.header("NS"),
        Some("MyFeatures <mid:MessageFeatures@id.foo.com>")
    );
    // §3.4: prefixed headers resolve through NS and are not un-prefixed headers.
    assert_eq!(
        c.ns_header("mid:MessageFeatures@id.foo.com", "VitalMessageOption"),
        Some("Confirmation-requested")
    );
    assert_eq!(
        c.ns_header("mid:MessageFeatures@id.foo.com", "WackyMessageOption"),
        Some("Use-silly-font")
    );
    assert_eq!(c.header("VitalMessageOption"), None);
    assert_eq!(c.content_header("Content-ID"), Some("<1234567890@foo.com>"));
    assert_eq!(
        c.content(),
        b"<body>\r\nHere is the text of my message.\r\n</body>\r\n"
    );
    assert_eq!(
        cpim::address_uri(c.from().unwrap_or("")),
        Some("im:piglet@100akerwood.com")
    );
}

#[test]
fn rfc5438_im_details() {
    let c = cpim::parse(CASES[1].body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.content_header("Content-Length"), Some("12"));
    assert_eq!(c.ns_header(IMDN_NAMESPACE, "Original-To"), None);
    assert_eq!(
        cpim::address_uri(c.to().unwrap_or("")),
        Some("im:bob@example.com")
    );
}

#[test]
fn lf_only_variants_parse_the_same() {
    for case in CASES {
        let lf: Vec<u8> = case.body.iter().copied().filter(|&b| b != b'\r').collect();
        let crlf = cpim::parse(case.body).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let c = cpim::parse(&lf).unwrap_or_else(|e| panic!("{} (LF): {e}", case.name));
        assert_eq!(c.from(), crlf.from(), "{}", case.name);
        assert_eq!(c.to(), crlf.to(), "{}", case.name);
        assert_eq!(c.message_id(), crlf.message_id(), "{}", case.name);
        assert_eq!(
            c.disposition_notification(),
            crlf.disposition_notification(),
            "{}",
            case.name
        );
        let expect: Vec<u8> = crlf
            .content()
            .iter()
            .copied()
            .filter(|&b| b != b'\r')
            .collect();
        assert_eq!(c.content(), &expect[..], "{}", case.name);
    }
}
