//! RFC 5025 §3.3.1: which services, persons and devices a watcher sees.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
mod common;
use common::{DEVICE_UUID, filter, transformations};

fn tuple_ids(d: &simple_pidf::Presence) -> Vec<&str> {
    d.tuples.iter().map(|t| t.id.as_str()).collect()
}

#[test]
fn all_services_keeps_every_tuple_with_its_always_reported_data() {
    let out = filter(&transformations(
        "<pr:provide-services><pr:all-services/></pr:provide-services>",
    ));
    assert_eq!(tuple_ids(&out), ["t-sip", "t-mail"]);
    let t = &out.tuples[0];
    // RFC 5025 §3.3.2: basic, contact, service-class, timestamp always.
    assert_eq!(t.status.basic, Some(simple_pidf::Basic::Open));
    assert_eq!(
        t.contact.as_ref().unwrap().uri,
        "sip:alice@desk.example.com"
    );
    assert!(t.rpid.service_class.is_some());
    assert_eq!(t.timestamp.as_deref(), Some("2024-01-01T10:00:00Z"));
    // Nothing else was granted.
    assert!(t.notes.is_empty());
    assert!(t.device_ids.is_empty());
    assert_eq!(t.rpid.class, None);
    assert_eq!(t.rpid.relationship, None);
    assert!(t.rpid.status_icon.is_empty());
    assert_eq!(t.rpid.user_input, None);
    assert!(t.extensions.is_empty());
    assert!(t.status.extensions.is_empty());
    assert!(out.persons.is_empty() && out.devices.is_empty());
}

#[test]
fn services_by_scheme_uri_occurrence_and_class() {
    let only = |body: &str| {
        let out = filter(&transformations(&format!(
            "<pr:provide-services>{body}</pr:provide-services>"
        )));
        tuple_ids(&out)
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        only("<pr:service-uri-scheme>mailto</pr:service-uri-scheme>"),
        ["t-mail"]
    );
    assert_eq!(
        only("<pr:service-uri-scheme>sip</pr:service-uri-scheme>"),
        ["t-sip"]
    );
    // Case-sensitive per RFC 5025 §3.3.1.3.
    assert!(only("<pr:service-uri-scheme>SIP</pr:service-uri-scheme>").is_empty());
    // URI equivalence: host case-insensitive.
    assert_eq!(
        only("<pr:service-uri>sip:alice@DESK.example.com</pr:service-uri>"),
        ["t-sip"]
    );
    assert_eq!(
        only("<pr:occurrence-id>t-mail</pr:occurrence-id>"),
        ["t-mail"]
    );
    assert!(only("<pr:occurrence-id>T-MAIL</pr:occurrence-id>").is_empty());
    assert_eq!(only("<pr:class>home</pr:class>"), ["t-mail"]);
    assert_eq!(
        only("<pr:class>biz</pr:class><pr:occurrence-id>t-mail</pr:occurrence-id>"),
        ["t-sip", "t-mail"]
    );
}

#[test]
fn class_selected_component_keeps_its_class_for_idempotence() {
    // RFC 5025 §4: without the class the second pass would drop the tuple.
    let out = filter(&transformations(
        "<pr:provide-services><pr:class>biz</pr:class></pr:provide-services>",
    ));
    assert_eq!(out.tuples[0].rpid.class.as_deref(), Some("biz"));
    // Selected by a stable member as well: class is withheld.
    let out = filter(&transformations(
        "<pr:provide-services><pr:class>biz</pr:class><pr:occurrence-id>t-sip</pr:occurrence-id></pr:provide-services>",
    ));
    assert_eq!(out.tuples[0].rpid.class, None);
}

#[test]
fn persons_by_all_occurrence_and_class() {
    let out = filter(&transformations(
        "<pr:provide-persons><pr:all-persons/></pr:provide-persons>",
    ));
    assert_eq!(out.persons.len(), 1);
    let p = &out.persons[0];
    assert_eq!(p.id, "p1");
    assert_eq!(p.timestamp.as_deref(), Some("2024-01-01T10:00:00Z"));
    assert!(p.rpid.activities.is_empty() && p.rpid.mood.is_empty() && p.notes.is_empty());
    assert!(out.tuples.is_empty());

    let out = filter(&transformations(
        "<pr:provide-persons><pr:occurrence-id>p1</pr:occurrence-id></pr:provide-persons>",
    ));
    assert_eq!(out.persons.len(), 1);
    let out = filter(&transformations(
        "<pr:provide-persons><pr:class>home</pr:class></pr:provide-persons>",
    ));
    assert!(out.persons.is_empty());
    let out = filter(&transformations(
        "<pr:provide-persons><pr:class>biz</pr:class></pr:provide-persons>",
    ));
    assert_eq!(out.persons.len(), 1);
}

#[test]
fn devices_by_all_device_id_occurrence_and_class() {
    let ids = |body: &str| {
        let out = filter(&transformations(&format!(
            "<pr:provide-devices>{body}</pr:provide-devices>"
        )));
        out.devices.iter().map(|d| d.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids("<pr:all-devices/>"), ["d1", "d2"]);
    // URI equivalence of urn:uuid is case-insensitive.
    assert_eq!(
        ids(&format!(
            "<pr:deviceID>{}</pr:deviceID>",
            DEVICE_UUID.to_uppercase().replace("URN:UUID", "urn:uuid")
        )),
        ["d1"]
    );
    assert_eq!(ids("<pr:occurrence-id>d2</pr:occurrence-id>"), ["d2"]);
    assert_eq!(ids("<pr:class>home</pr:class>"), ["d2"]);
    let out = filter(&transformations(
        "<pr:provide-devices><pr:all-devices/></pr:provide-devices>",
    ));
    let d1 = &out.devices[0];
    // deviceID and timestamp always; the note and user-input are not.
    assert_eq!(d1.device_id.as_deref(), Some(DEVICE_UUID));
    assert!(d1.timestamp.is_some());
    assert!(d1.notes.is_empty());
    assert_eq!(d1.rpid.user_input, None);
}
