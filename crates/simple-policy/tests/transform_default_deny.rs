//! RFC 5025 §3.3 / §4 default deny, `Transformations::all`, and the
//! polite-block document.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
mod common;
use common::{composed, filter};
use simple_policy::{Transformations, polite_block_document};

#[test]
fn empty_transformations_keep_only_the_entity() {
    let out = filter(&Transformations::default());
    assert_eq!(out.entity, "pres:alice@example.com");
    assert!(out.tuples.is_empty());
    assert!(out.persons.is_empty());
    assert!(out.devices.is_empty());
    assert!(out.notes.is_empty());
    assert!(out.extensions.is_empty());
}

#[test]
fn all_is_the_identity() {
    let doc = composed();
    assert_eq!(Transformations::all().apply(&doc), doc);
}

#[test]
fn decision_of_a_matching_rule_filters() {
    let rs = common::rules(
        r#"<rule id="w"><conditions><identity><one id="sip:bob@example.com"/></identity></conditions>
           <actions><pr:sub-handling>allow</pr:sub-handling></actions>
           <transformations><pr:provide-services><pr:occurrence-id>t-sip</pr:occurrence-id></pr:provide-services>
           <pr:provide-note>true</pr:provide-note></transformations></rule>"#,
    );
    let d = rs.evaluate("sip:bob@example.com", 0, None).unwrap();
    let out = filter(&d.transformations);
    assert_eq!(out.tuples.len(), 1);
    assert_eq!(out.tuples[0].notes.len(), 2);
}

#[test]
fn polite_block_says_closed_and_nothing_else() {
    let d = polite_block_document("sip:alice@example.com");
    assert_eq!(d.entity, "sip:alice@example.com");
    assert_eq!(d.basic(), Some(simple_pidf::Basic::Closed));
    assert_eq!(d.tuples.len(), 1);
    assert!(d.tuples[0].contact.is_none() && d.tuples[0].notes.is_empty());
    assert!(d.persons.is_empty() && d.devices.is_empty() && d.notes.is_empty());
    assert!(simple_pidf::parse(d.to_xml().as_bytes()).is_ok());
}
