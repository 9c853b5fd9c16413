//! RFC 5438 §7.2.1.1 / §12.2: the delivery notification the store-and-forward
//! server sends for the recipient parses back as CPIM, and its XML (read with
//! quick-xml, namespaces resolved) carries the right elements.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use simple_im::cpim::{self, IMDN_NAMESPACE};
use simple_im::imdn::{self, DeliveryStatus, IMDN_XML_NAMESPACE, Notification};

const IM: &[u8] = include_bytes!("../testdata/rfc5438-7.1.1.3-im.cpim");
/// 2024-05-06T07:08:09.250Z
const NOW: u64 = 1_714_979_289_250;

/// A parsed IMDN document: (element path, text) for every element, in order,
/// where the path is `/`-joined local names; every element is checked to be in
/// the IMDN namespace.
fn read_imdn(xml: &str) -> Vec<(String, String)> {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut out: Vec<(String, String)> = Vec::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .unwrap_or_else(|e| panic!("not well-formed: {e}\n{xml}"));
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                match ns {
                    ResolveResult::Bound(n) => {
                        assert_eq!(n.as_ref(), IMDN_XML_NAMESPACE.as_bytes(), "namespace")
                    }
                    other => panic!("element outside the IMDN namespace: {other:?}"),
                }
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let path = match stack.last() {
                    Some((p, _)) => format!("{p}/{local}"),
                    None => local,
                };
                if is_empty {
                    out.push((path, String::new()));
                } else {
                    stack.push((path, String::new()));
                }
            }
            Event::End(_) => {
                let (path, text) = stack.pop().unwrap_or_else(|| panic!("unbalanced"));
                out.push((path, text.trim().to_owned()));
            }
            Event::Text(t) => {
                let s = t.decode().unwrap_or_else(|e| panic!("{e}"));
                if let Some((_, text)) = stack.last_mut() {
                    text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().unwrap_or_else(|e| panic!("{e}")) {
                    Some(c) => c,
                    None => match &*r.decode().unwrap_or_else(|e| panic!("{e}")) {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => panic!("undefined entity {other}"),
                    },
                };
                if let Some((_, text)) = stack.last_mut() {
                    text.push(c);
                }
            }
            Event::Eof => break,
            Event::Decl(_) => {}
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    assert!(stack.is_empty(), "unclosed elements");
    out
}

fn text<'a>(doc: &'a [(String, String)], path: &str) -> &'a str {
    let hits: Vec<_> = doc.iter().filter(|(p, _)| p == path).collect();
    assert_eq!(hits.len(), 1, "{path} in {doc:?}");
    &hits[0].1
}

fn build(original: &[u8], status: DeliveryStatus) -> Option<Notification> {
    let im = cpim::parse(original).unwrap_or_else(|e| panic!("{e}"));
    imdn::delivery_notification(
        &im,
        status,
        "im:bob@example.com",
        "sip:bob@example.com",
        NOW,
    )
}

/// The parsed CPIM of a notification and its XML document.
fn open(n: &Notification) -> (cpim::Cpim<'_>, Vec<(String, String)>) {
    let c = cpim::parse(&n.body).unwrap_or_else(|e| panic!("{e}"));
    let xml = std::str::from_utf8(c.content()).unwrap_or_else(|e| panic!("{e}"));
    let doc = read_imdn(xml);
    (c, doc)
}

#[test]
fn delivered_for_the_rfc_im() {
    let n = build(IM, DeliveryStatus::Delivered)
        .unwrap_or_else(|| panic!("positive-delivery was requested"));
    assert_eq!(n.content_type, "message/cpim");
    let (c, doc) = open(&n);

    // CPIM wrapper (§7.2.1, §7.2.1.1).
    assert_eq!(c.from(), Some("<im:bob@example.com>"));
    assert_eq!(c.to(), Some("Alice <im:alice@example.com>"));
    assert_eq!(c.message_id(), Some(n.message_id.as_str()));
    assert_ne!(n.message_id, "34jk324j", "the IMDN's Message-ID is its own");
    assert!(n.message_id.len() >= 16);
    assert_eq!(
        c.datetime().and_then(imdn::parse_rfc3339),
        Some(NOW / 1000 * 1000)
    );
    assert_eq!(c.datetime(), Some("2024-05-06T07:08:09Z"));
    assert_eq!(c.content_type(), Some("message/imdn+xml"));
    assert_eq!(
        c.content_header("Content-Disposition"),
        Some("notification")
    );
    assert_eq!(
        c.content_header("Content-Length"),
        Some(c.content().len().to_string().as_str())
    );
    // §7.2.1: no IMDN for an IMDN, so no Disposition-Notification in it.
    assert_eq!(
        c.ns_header(IMDN_NAMESPACE, "Disposition-Notification"),
        None
    );
    assert!(!c.disposition_notification().any());
    assert!(
        std::str::from_utf8(&n.body)
            .is_ok_and(|b| b.contains("\r\nNS: imdn <urn:ietf:params:imdn>\r\n"))
    );

    // XML (§11.1): <datetime> is the IM's, not the IMDN's.
    assert_eq!(text(&doc, "imdn/message-id"), "34jk324j");
    assert_eq!(text(&doc, "imdn/datetime"), "2006-04-04T12:16:49-05:00");
    assert_eq!(text(&doc, "imdn/recipient-uri"), "sip:bob@example.com");
    assert_eq!(
        text(&doc, "imdn/original-recipient-uri"),
        "im:bob@example.com"
    );
    assert_eq!(
        text(&doc, "imdn/delivery-notification/status/delivered"),
        ""
    );
    let order: Vec<&str> = doc.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        order,
        [
            "imdn/message-id",
            "imdn/datetime",
            "imdn/recipient-uri",
            "imdn/original-recipient-uri",
            "imdn/delivery-notification/status/delivered",
            "imdn/delivery-notification/status",
            "imdn/delivery-notification",
            "imdn",
        ]
    );
}

#[test]
fn negative_statuses() {
    for (status, element) in [
        (DeliveryStatus::Failed, "failed"),
        (DeliveryStatus::Forbidden, "forbidden"),
        (DeliveryStatus::Error, "error"),
    ] {
        let n = build(IM, status).unwrap_or_else(|| panic!("negative-delivery was requested"));
        let (_, doc) = open(&n);
        let status_children: Vec<&str> = doc
            .iter()
            .filter_map(|(p, _)| p.strip_prefix("imdn/delivery-notification/status/"))
            .collect();
        assert_eq!(status_children, [element]);
    }
}

#[test]
fn fresh_message_id_each_time() {
    let a = build(IM, DeliveryStatus::Delivered).unwrap_or_else(|| panic!());
    let b = build(IM, DeliveryStatus::Delivered).unwrap_or_else(|| panic!());
    assert_ne!(a.message_id, b.message_id);
}

#[test]
fn original_to_is_the_original_recipient() {
    let im = b"From: Alice <im:alice@example.com>\r\n\
        To: Bob <sip:bob@example.com>\r\n\
        NS: imdn <urn:ietf:params:imdn>\r\n\
        imdn.Message-ID: m1\r\n\
        DateTime: 2006-04-04T12:16:49-05:00\r\n\
        imdn.Original-To: Friends <sip:friends@lists.example.com>\r\n\
        imdn.Disposition-Notification: positive-delivery\r\n\
        \r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        hi";
    let n = build(im, DeliveryStatus::Delivered).unwrap_or_else(|| panic!());
    let (_, doc) = open(&n);
    assert_eq!(
        text(&doc, "imdn/original-recipient-uri"),
        "sip:friends@lists.example.com"
    );
    assert_eq!(text(&doc, "imdn/recipient-uri"), "sip:bob@example.com");
}

#[test]
fn values_are_xml_escaped() {
    let im = "From: <sip:alice@example.com>\r\n\
        To: <sip:bob@example.com;x=a&b>\r\n\
        NS: i <urn:ietf:params:imdn>\r\n\
        i.Message-ID: a<b>&'\"c\r\n\
        DateTime: <2006>&\r\n\
        i.Disposition-Notification: negative-delivery\r\n\
        \r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        hi";
    let parsed = cpim::parse(im.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let n = imdn::delivery_notification(
        &parsed,
        DeliveryStatus::Failed,
        "sip:bob@example.com",
        "sip:bob@example.com;gr=<&>",
        NOW,
    )
    .unwrap_or_else(|| panic!());
    let (_, doc) = open(&n);
    assert_eq!(text(&doc, "imdn/message-id"), "a<b>&'\"c");
    assert_eq!(text(&doc, "imdn/datetime"), "<2006>&");
    assert_eq!(
        text(&doc, "imdn/recipient-uri"),
        "sip:bob@example.com;gr=<&>"
    );
    assert_eq!(
        text(&doc, "imdn/original-recipient-uri"),
        "sip:bob@example.com;x=a&b"
    );
}

#[test]
fn header_injection_is_escaped() {
    let parsed = cpim::parse(IM).unwrap_or_else(|e| panic!("{e}"));
    let n = imdn::delivery_notification(
        &parsed,
        DeliveryStatus::Delivered,
        "sip:bob@example.com>\r\nimdn.Disposition-Notification: display\r\nX: <x",
        "sip:bob@example.com",
        NOW,
    )
    .unwrap_or_else(|| panic!());
    let (c, _) = open(&n);
    assert!(!c.disposition_notification().any());
    assert_eq!(c.header("X"), None);
    assert_eq!(c.to(), Some("Alice <im:alice@example.com>"));
}

#[test]
fn record_routes_become_routes_in_order() {
    let im = b"From: Alice <im:alice@example.com>\r\n\
        To: Bob <im:bob@example.com>\r\n\
        NS: imdn <urn:ietf:params:imdn>\r\n\
        imdn.Message-ID: m1\r\n\
        DateTime: 2006-04-04T12:16:49-05:00\r\n\
        imdn.IMDN-Record-Route: <sip:as2.example.com>\r\n\
        imdn.IMDN-Record-Route: <sip:as1.example.com>\r\n\
        imdn.Disposition-Notification: negative-delivery\r\n\
        \r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        hi";
    let n = build(im, DeliveryStatus::Failed).unwrap_or_else(|| panic!());
    let (c, _) = open(&n);
    let routes: Vec<&str> = c.ns_headers(IMDN_NAMESPACE, "IMDN-Route").collect();
    assert_eq!(routes, ["<sip:as2.example.com>", "<sip:as1.example.com>"]);
    assert_eq!(c.ns_header(IMDN_NAMESPACE, "IMDN-Record-Route"), None);
}

#[test]
fn missing_datetime_falls_back_to_now() {
    let im = b"From: <im:alice@example.com>\r\n\
        NS: imdn <urn:ietf:params:imdn>\r\n\
        imdn.Message-ID: m1\r\n\
        imdn.Disposition-Notification: positive-delivery\r\n\
        \r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        hi";
    let n = build(im, DeliveryStatus::Delivered).unwrap_or_else(|| panic!());
    let (c, doc) = open(&n);
    assert_eq!(text(&doc, "imdn/datetime"), "2024-05-06T07:08:09Z");
    // No CPIM To on the IM: the original recipient is the final recipient.
    assert_eq!(
        text(&doc, "imdn/original-recipient-uri"),
        "sip:bob@example.com"
    );
    assert_eq!(c.to(), Some("<im:alice@example.com>"));
}

#[test]
fn from_may_be_a_full_address() {
    let parsed = cpim::parse(IM).unwrap_or_else(|e| panic!("{e}"));
    let n = imdn::delivery_notification(
        &parsed,
        DeliveryStatus::Delivered,
        "Bob <im:bob@example.com>",
        "im:bob@example.com",
        NOW,
    )
    .unwrap_or_else(|| panic!());
    let (c, _) = open(&n);
    assert_eq!(c.from(), Some("Bob <im:bob@example.com>"));
}
