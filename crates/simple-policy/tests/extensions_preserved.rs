//! Unknown extension elements in conditions, actions and transformations
//! survive a round trip under any prefix; an unknown condition is FALSE.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
mod common;
use simple_policy::parse;

const DOC: &str = r#"<?xml version="1.0"?>
<c:ruleset xmlns:c="urn:ietf:params:xml:ns:common-policy"
  xmlns:p="urn:ietf:params:xml:ns:pres-rules" xmlns:x="urn:example:ext">
 <c:rule id="ext">
  <c:conditions>
   <c:identity><c:one id="sip:bob@example.com"><x:note lang="en">friend</x:note></c:one>
     <c:many domain="example.org"><c:except id="sip:eve@example.org"/></c:many></c:identity>
   <x:location-condition x:radius="10"><x:inner>near &amp; far</x:inner></x:location-condition>
  </c:conditions>
  <c:actions><p:sub-handling>allow</p:sub-handling><x:forward to="sip:x@y"/><plain xmlns="">no ns</plain></c:actions>
  <c:transformations>
   <p:provide-services><x:service-kind>voice</x:service-kind></p:provide-services>
   <x:blur level="3"/>
  </c:transformations>
 </c:rule>
</c:ruleset>"#;

#[test]
fn round_trip_keeps_extensions() {
    let rs = parse(DOC.as_bytes()).unwrap();
    let rule = &rs.rules[0];
    assert_eq!(rule.conditions.extensions[0].name, "location-condition");
    assert_eq!(
        rule.conditions.identity.as_ref().unwrap().ones[0].extensions[0].name,
        "note"
    );
    assert_eq!(rule.actions.extensions.len(), 2);
    assert_eq!(rule.actions.extensions[1].namespace, None);
    assert_eq!(rule.transformations.extensions[0].name, "blur");
    assert_eq!(
        rule.transformations.provide_services.extensions[0].name,
        "service-kind"
    );
    let xml = rs.to_xml();
    let again = parse(xml.as_bytes()).unwrap();
    assert_eq!(again, rs, "{xml}");
}

#[test]
fn unknown_condition_never_matches() {
    let rs = parse(DOC.as_bytes()).unwrap();
    assert!(rs.evaluate("sip:bob@example.com", 0, None).is_none());
}

#[test]
fn cp_or_pr_element_outside_schema_is_refused() {
    let bad = DOC.replace("<x:blur level=\"3\"/>", "<c:blur/>");
    let e = parse(bad.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("common-policy}blur"), "{e}");
}
