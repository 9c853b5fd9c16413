//! RFC 4745 §7.1 / RFC 5025 §3.1.1: `one`, `many`, `many domain` with
//! `except id`, `except domain`, and the unauthenticated watcher.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
mod common;
use common::rules;

fn matches(identity: &str, watcher: &str) -> bool {
    let rs = rules(&format!(
        r#"<rule id="r"><conditions><identity>{identity}</identity></conditions></rule>"#
    ));
    rs.evaluate(watcher, 0, None).is_some()
}

#[test]
fn one_exact_identity() {
    let id = r#"<one id="sip:alice@example.com"/><one id="tel:+1-212-555-1234"/>"#;
    assert!(matches(id, "sip:alice@example.com"));
    assert!(matches(id, "sip:alice@EXAMPLE.COM")); // host case-insensitive
    assert!(matches(id, "<sip:alice@example.com;transport=tcp>"));
    assert!(matches(id, "tel:+12125551234")); // visual separators
    assert!(!matches(id, "sip:Alice@example.com")); // user case-sensitive
    assert!(!matches(id, "sip:bob@example.com"));
    // RFC 5025 §3.1.1.2: schemes never equal.
    assert!(!matches(id, "sip:+1-212-555-1234@example.com"));
    assert!(!matches(id, "sips:alice@example.com"));
}

#[test]
fn many_matches_any_authenticated() {
    assert!(matches("<many/>", "sip:anyone@anywhere.example"));
    assert!(matches("<many/>", "tel:+4930123"));
    assert!(!matches("<many/>", ""));
}

#[test]
fn many_with_domain_and_except_id() {
    let id = r#"<many domain="example.com"><except id="sip:alice@example.com"/><except id="sip:bob@example.com"/></many>"#;
    assert!(matches(id, "sip:carol@example.com"));
    assert!(matches(id, "sip:carol@Example.Com"));
    assert!(!matches(id, "sip:alice@example.com"));
    assert!(!matches(id, "sip:bob@example.com"));
    assert!(!matches(id, "sip:carol@example.org"));
    assert!(!matches(id, "sip:carol@sub.example.com")); // label equality, no suffix match
    assert!(!matches(id, "tel:+123")); // no domain
}

#[test]
fn many_except_domain() {
    // RFC 4745 §7.1.3.2 example.
    let id = r#"<many><except domain="example.com"/><except domain="example.org"/>
      <except id="sip:alice@bad.example.net"/><except id="tel:+1-212-555-1234"/></many>"#;
    assert!(matches(id, "sip:carol@good.example.net"));
    assert!(!matches(id, "sip:carol@example.com"));
    assert!(!matches(id, "sip:dave@EXAMPLE.ORG"));
    assert!(!matches(id, "sip:alice@bad.example.net"));
    assert!(!matches(id, "tel:+12125551234"));
    assert!(matches(id, "tel:+12125550000"));
}

#[test]
fn identity_children_are_ored() {
    let id = r#"<one id="sip:x@a.example"/><many domain="b.example"/>"#;
    assert!(matches(id, "sip:x@a.example"));
    assert!(matches(id, "sip:y@b.example"));
    assert!(!matches(id, "sip:y@a.example"));
}

#[test]
fn unknown_identity_child_is_false() {
    let id = r#"<x:group xmlns:x="urn:example:groups" name="friends"/>"#;
    assert!(!matches(id, "sip:x@a.example"));
    let id = r#"<x:group xmlns:x="urn:example:groups" name="friends"/><one id="sip:x@a.example"/>"#;
    assert!(matches(id, "sip:x@a.example"));
}

#[test]
fn unauthenticated_matches_only_no_identity_or_empty_identity() {
    let rs = rules(
        r#"<rule id="all"/>
           <rule id="anon"><conditions><identity/></conditions><actions><pr:sub-handling>confirm</pr:sub-handling></actions></rule>
           <rule id="auth"><conditions><identity><many/></identity></conditions><actions><pr:sub-handling>allow</pr:sub-handling></actions></rule>"#,
    );
    let anon = rs.evaluate("", 0, None).unwrap();
    assert_eq!(anon.sub_handling, simple_policy::SubHandling::Confirm);
    let known = rs.evaluate("sip:bob@example.com", 0, None).unwrap();
    assert_eq!(known.sub_handling, simple_policy::SubHandling::Allow);
}
