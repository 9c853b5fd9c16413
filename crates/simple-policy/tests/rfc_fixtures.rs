//! RFC example documents from `testdata/`: every `*.xml` parses, writes
//! and reparses to an equal model; every `*.xml.bad` is refused with the
//! expected reason.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::{Path, PathBuf};

use simple_policy::{
    DeviceMember, Except, ProvideUserInput, ServiceMember, SubHandling, UnknownAttribute,
};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn load(name: &str) -> simple_policy::RuleSet {
    let bytes = std::fs::read(testdata().join(name)).unwrap();
    simple_policy::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_round_trips() {
    let mut count = 0;
    for entry in std::fs::read_dir(testdata()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".xml") {
            continue;
        }
        let rs = load(&name);
        assert!(!rs.rules.is_empty(), "{name}: no rules");
        let xml = rs.to_xml();
        let again = simple_policy::parse(xml.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: own output refused: {e}\n{xml}"));
        assert_eq!(again, rs, "{name}: round trip changed the model\n{xml}");
        // Writing is stable.
        assert_eq!(again.to_xml(), xml, "{name}");
        count += 1;
    }
    assert!(count >= 9, "only {count} fixtures");
}

#[test]
fn every_bad_fixture_is_refused() {
    let expected = [
        ("bad_all_mixed.xml.bad", "all-services mixed"),
        ("bad_duplicate_id.xml.bad", "duplicate rule id 'r'"),
        ("bad_except_both.xml.bad", "except with both"),
        (
            "bad_except_domain_in_domain_many.xml.bad",
            "except domain 'example.org'",
        ),
        ("bad_no_id.xml.bad", "rule without id"),
        ("bad_root.xml.bad", "root element is not"),
        ("bad_sub_handling.xml.bad", "invalid sub-handling 'maybe'"),
        ("bad_unknown_attribute_prefixed.xml.bad", "x:foo"),
        (
            "bad_user_input.xml.bad",
            "invalid provide-user-input 'some'",
        ),
        ("bad_validity_time.xml.bad", "invalid validity time"),
        ("bad_validity_unpaired.xml.bad", "from/until pairs"),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(testdata()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".bad") {
            continue;
        }
        let (_, reason) = expected
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name}: no expected reason listed"));
        let err = simple_policy::parse(&std::fs::read(&path).unwrap())
            .expect_err(&name)
            .to_string();
        assert!(err.contains(reason), "{name}: got '{err}', want '{reason}'");
        seen += 1;
    }
    assert_eq!(seen, expected.len());
}

#[test]
fn rfc5025_s6_example_model() {
    let rs = load("rfc5025_s6.xml");
    let rule = &rs.rules[0];
    assert_eq!(rule.id, "a");
    let identity = rule.conditions.identity.as_ref().unwrap();
    assert_eq!(identity.ones[0].id, "sip:user@example.com");
    assert_eq!(rule.actions.sub_handling, Some(SubHandling::Allow));
    let t = &rule.transformations;
    assert_eq!(
        t.provide_services.members,
        vec![
            ServiceMember::ServiceUriScheme("sip".into()),
            ServiceMember::ServiceUriScheme("mailto".into())
        ]
    );
    assert!(t.provide_persons.all);
    assert!(!t.provide_devices.all && t.provide_devices.members.is_empty());
    assert!(t.provide_activities);
    assert!(!t.provide_mood);
    assert_eq!(t.provide_user_input, ProvideUserInput::Bare);
    assert_eq!(
        t.provide_unknown_attributes,
        vec![UnknownAttribute {
            ns: "urn:vendor-specific:foo-namespace".into(),
            name: "foo".into()
        }]
    );
}

#[test]
fn rfc4745_s7_1_3_2_example_model() {
    let rs = load("rfc4745_s7_1_3_2.xml");
    let c = &rs.rules[0].conditions;
    assert_eq!(c.sphere.as_deref(), Some("work"));
    let many = &c.identity.as_ref().unwrap().manys[0];
    assert_eq!(many.domain, None);
    assert_eq!(many.excepts.len(), 6);
    assert_eq!(many.excepts[0], Except::Domain("example.com".into()));
    assert_eq!(many.excepts[4], Except::Id("tel:+1-212-555-1234".into()));
    assert_eq!(
        c.validity,
        vec![(
            "2003-12-24T17:00:00+01:00".to_owned(),
            "2003-12-24T19:00:00+01:00".to_owned()
        )]
    );
}

#[test]
fn rfc5025_s3_3_1_1_device_sets_combine_to_three_members() {
    // RFC 5025 §3.3.1.1: {deviceID, biz} ∪ {home, biz} has three members.
    let rs = load("rfc5025_s3_3_1_1_a.xml");
    let d = rs.evaluate("sip:anyone@example.com", 0, None).unwrap();
    let mut members = d.transformations.provide_devices.members.clone();
    members.sort_by_key(|m| format!("{m:?}"));
    assert_eq!(
        members,
        vec![
            DeviceMember::Class("biz".into()),
            DeviceMember::Class("home".into()),
            DeviceMember::DeviceId("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6".into()),
        ]
    );
}
