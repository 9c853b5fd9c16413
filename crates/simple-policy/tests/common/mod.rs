//! Shared fixtures for the behaviour tests.
#![allow(dead_code, unreachable_pub)]

use simple_policy::RuleSet;

pub const FOO_NS: &str = "urn:vendor-specific:foo-namespace";
pub const DEVICE_UUID: &str = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6";

/// A composed PIDF document: two services of different classes, device
/// ids and contact schemes; a person with activities, mood, place-is,
/// place-type, privacy, sphere, time-offset, user-input, CIPID, notes in
/// two languages and a vendor extension; a device; presence-level note
/// and extension.
pub fn composed() -> simple_pidf::Presence {
    let xml = r#"<presence xmlns="urn:ietf:params:xml:ns:pidf"
  xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
  xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
  xmlns:c="urn:ietf:params:xml:ns:pidf:cipid"
  xmlns:lt="urn:ietf:params:xml:ns:location-type"
  xmlns:foo="urn:vendor-specific:foo-namespace"
  entity="pres:alice@example.com">
 <tuple id="t-sip">
  <status><basic>open</basic><foo:mode>busy</foo:mode></status>
  <dm:deviceID>urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6</dm:deviceID>
  <rpid:class>biz</rpid:class>
  <rpid:relationship><rpid:self/></rpid:relationship>
  <rpid:service-class><rpid:electronic/></rpid:service-class>
  <rpid:status-icon>http://example.com/desk.png</rpid:status-icon>
  <rpid:user-input idle-threshold="600" last-input="2024-01-01T09:00:00Z">idle</rpid:user-input>
  <foo:foo>tuple-foo</foo:foo>
  <contact priority="0.8">sip:alice@desk.example.com</contact>
  <note xml:lang="en">desk phone</note>
  <note xml:lang="de">Tischtelefon</note>
  <timestamp>2024-01-01T10:00:00Z</timestamp>
 </tuple>
 <tuple id="t-mail">
  <status><basic>closed</basic></status>
  <dm:deviceID>urn:uuid:00000000-0000-0000-0000-000000000002</dm:deviceID>
  <rpid:class>home</rpid:class>
  <contact>mailto:alice@example.com</contact>
  <note>mail</note>
 </tuple>
 <note xml:lang="en">back soon</note>
 <dm:person id="p1">
  <rpid:activities><rpid:note>lunch with Bob</rpid:note><rpid:meeting/></rpid:activities>
  <rpid:class>biz</rpid:class>
  <rpid:mood><rpid:happy/></rpid:mood>
  <rpid:place-is><rpid:audio><rpid:noisy/></rpid:audio></rpid:place-is>
  <rpid:place-type><lt:office/></rpid:place-type>
  <rpid:privacy><rpid:quiet/></rpid:privacy>
  <rpid:sphere>work</rpid:sphere>
  <rpid:status-icon>http://example.com/alice.png</rpid:status-icon>
  <rpid:time-offset>60</rpid:time-offset>
  <rpid:user-input idle-threshold="300" last-input="2024-01-01T09:30:00Z">active</rpid:user-input>
  <c:display-name>Alice</c:display-name>
  <c:homepage>http://example.com/alice</c:homepage>
  <foo:foo>person-foo</foo:foo>
  <foo:bar>person-bar</foo:bar>
  <dm:note xml:lang="en">In a meeting</dm:note>
  <dm:note xml:lang="fr">En réunion</dm:note>
  <dm:timestamp>2024-01-01T10:00:00Z</dm:timestamp>
 </dm:person>
 <dm:device id="d1">
  <rpid:class>biz</rpid:class>
  <rpid:user-input idle-threshold="120">active</rpid:user-input>
  <dm:deviceID>urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6</dm:deviceID>
  <dm:note>desk PC</dm:note>
  <dm:timestamp>2024-01-01T10:00:00Z</dm:timestamp>
 </dm:device>
 <dm:device id="d2">
  <rpid:class>home</rpid:class>
  <dm:deviceID>urn:uuid:00000000-0000-0000-0000-000000000002</dm:deviceID>
 </dm:device>
 <foo:top>presence-level</foo:top>
</presence>"#;
    match simple_pidf::parse(xml.as_bytes()) {
        Ok(doc) => doc,
        Err(e) => panic!("fixture refused: {e}"),
    }
}

/// A rule set from rule bodies, with `cp` as default namespace and `pr`.
pub fn rules(body: &str) -> RuleSet {
    let xml = format!(
        r#"<ruleset xmlns="urn:ietf:params:xml:ns:common-policy" xmlns:pr="urn:ietf:params:xml:ns:pres-rules">{body}</ruleset>"#
    );
    match simple_policy::parse(xml.as_bytes()) {
        Ok(rs) => rs,
        Err(e) => panic!("rules refused: {e}\n{xml}"),
    }
}

/// The transformations of a single `<transformations>` body.
pub fn transformations(body: &str) -> simple_policy::Transformations {
    let rs = rules(&format!(
        r#"<rule id="t"><transformations>{body}</transformations></rule>"#
    ));
    rs.rules[0].transformations.clone()
}

/// Applies `t` and checks RFC 5025 §4 idempotence on the way.
pub fn filter(t: &simple_policy::Transformations) -> simple_pidf::Presence {
    let once = t.apply(&composed());
    let twice = t.apply(&once);
    assert_eq!(twice, once, "filter not idempotent (RFC 5025 §4)");
    // And the output is a valid PIDF document.
    let again = simple_pidf::parse(once.to_xml().as_bytes());
    assert_eq!(
        again.as_ref().ok(),
        Some(&once),
        "filtered output does not round-trip"
    );
    once
}

/// 2003-12-24T17:15:00+01:00 in Unix ms (RFC 4745 §10.3).
pub const XMAS_1715: u64 = 1_072_282_500_000;
