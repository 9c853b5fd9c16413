//! RFC 4745 §10.2 combining of transformations across matching rules:
//! booleans OR, sets union, provide-user-input maximum.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
mod common;
use common::rules;
use simple_policy::{ProvideUserInput, ServiceMember};

#[test]
fn sets_union_booleans_or_enums_max() {
    let rs = rules(
        r#"<rule id="a"><transformations>
             <pr:provide-services><pr:class>biz</pr:class></pr:provide-services>
             <pr:provide-mood>true</pr:provide-mood>
             <pr:provide-user-input>thresholds</pr:provide-user-input>
           </transformations></rule>
           <rule id="b"><transformations>
             <pr:provide-services><pr:class>biz</pr:class><pr:service-uri-scheme>sip</pr:service-uri-scheme></pr:provide-services>
             <pr:provide-mood>false</pr:provide-mood>
             <pr:provide-note>true</pr:provide-note>
             <pr:provide-user-input>bare</pr:provide-user-input>
           </transformations></rule>"#,
    );
    let t = rs
        .evaluate("sip:x@y.example", 0, None)
        .unwrap()
        .transformations;
    assert_eq!(
        t.provide_services.members,
        vec![
            ServiceMember::Class("biz".into()),
            ServiceMember::ServiceUriScheme("sip".into())
        ]
    );
    assert!(t.provide_mood && t.provide_note);
    assert!(!t.provide_activities);
    assert_eq!(t.provide_user_input, ProvideUserInput::Thresholds);
}

#[test]
fn all_subsumes_members() {
    let rs = rules(
        r#"<rule id="a"><transformations><pr:provide-persons><pr:class>biz</pr:class></pr:provide-persons></transformations></rule>
           <rule id="b"><transformations><pr:provide-persons><pr:all-persons/></pr:provide-persons></transformations></rule>"#,
    );
    let t = rs
        .evaluate("sip:x@y.example", 0, None)
        .unwrap()
        .transformations;
    assert!(t.provide_persons.all);
    assert!(t.provide_persons.members.is_empty());
}

#[test]
fn unknown_attributes_union() {
    let rs = rules(
        r#"<rule id="a"><transformations><pr:provide-unknown-attribute ns="urn:a" name="x">true</pr:provide-unknown-attribute></transformations></rule>
           <rule id="b"><transformations><pr:provide-unknown-attribute ns="urn:a" name="x">true</pr:provide-unknown-attribute>
             <pr:provide-unknown-attribute ns="urn:b" name="y">1</pr:provide-unknown-attribute></transformations></rule>"#,
    );
    let t = rs
        .evaluate("sip:x@y.example", 0, None)
        .unwrap()
        .transformations;
    let names: Vec<_> = t
        .provide_unknown_attributes
        .iter()
        .map(|u| (u.ns.as_str(), u.name.as_str()))
        .collect();
    assert_eq!(names, [("urn:a", "x"), ("urn:b", "y")]);
}
