//! RFC 5025 §3.3.2: each presence attribute permission applied to a
//! composed document.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
mod common;
use common::{FOO_NS, filter, transformations};
use simple_pidf::{Presence, Value};

const ALL: &str = "<pr:provide-services><pr:all-services/></pr:provide-services>\
    <pr:provide-persons><pr:all-persons/></pr:provide-persons>\
    <pr:provide-devices><pr:all-devices/></pr:provide-devices>";

fn with(perm: &str) -> Presence {
    filter(&transformations(&format!("{ALL}{perm}")))
}

fn person(d: &Presence) -> &simple_pidf::Person {
    &d.persons[0]
}

#[test]
fn baseline_reveals_no_attribute() {
    let d = with("");
    let p = person(&d);
    assert!(p.rpid.is_empty());
    assert!(p.cipid.is_empty());
    assert!(p.notes.is_empty() && p.extensions.is_empty());
    assert!(d.notes.is_empty() && d.extensions.is_empty());
}

#[test]
fn provide_activities_with_its_notes() {
    let d = with("<pr:provide-activities>true</pr:provide-activities>");
    let a = &person(&d).rpid.activities[0];
    assert_eq!(a.values, vec![Value::Token("meeting".into())]);
    // RFC 5025 §3.3.2.13: notes inside activities go with it.
    assert_eq!(a.notes[0].text, "lunch with Bob");
    assert!(person(&d).notes.is_empty());
    assert!(person(&d).rpid.mood.is_empty());
}

#[test]
fn provide_class_everywhere() {
    let d = with("<pr:provide-class>true</pr:provide-class>");
    assert_eq!(person(&d).rpid.class.as_deref(), Some("biz"));
    assert_eq!(d.tuples[1].rpid.class.as_deref(), Some("home"));
    assert_eq!(d.devices[1].rpid.class.as_deref(), Some("home"));
}

#[test]
fn provide_device_id_of_tuples() {
    let d = with("<pr:provide-deviceID>true</pr:provide-deviceID>");
    assert_eq!(d.tuples[0].device_ids.len(), 1);
    assert_eq!(d.tuples[1].device_ids.len(), 1);
    let d = with("");
    assert!(d.tuples[0].device_ids.is_empty());
}

#[test]
fn provide_mood_place_is_place_type_privacy_sphere_time_offset() {
    let d = with("<pr:provide-mood>true</pr:provide-mood>");
    assert_eq!(
        person(&d).rpid.mood[0].values,
        vec![Value::Token("happy".into())]
    );
    assert!(person(&d).rpid.place_is.is_empty());

    let d = with("<pr:provide-place-is>true</pr:provide-place-is>");
    assert_eq!(person(&d).rpid.place_is.len(), 1);
    assert!(
        matches!(&person(&d).rpid.place_is[0].values[0], Value::Element(e) if e.name == "audio")
    );

    let d = with("<pr:provide-place-type>true</pr:provide-place-type>");
    assert_eq!(person(&d).rpid.place_type.len(), 1);
    assert!(person(&d).rpid.privacy.is_empty());

    let d = with("<pr:provide-privacy>true</pr:provide-privacy>");
    assert_eq!(person(&d).rpid.privacy.len(), 1);

    let d = with("<pr:provide-sphere>true</pr:provide-sphere>");
    assert_eq!(person(&d).rpid.sphere[0].text.as_deref(), Some("work"));

    let d = with("<pr:provide-time-offset>true</pr:provide-time-offset>");
    assert_eq!(person(&d).rpid.time_offset[0].minutes, 60);
    assert!(person(&d).rpid.sphere.is_empty());
}

#[test]
fn provide_relationship_and_status_icon() {
    let d = with("<pr:provide-relationship>true</pr:provide-relationship>");
    assert!(d.tuples[0].rpid.relationship.is_some());
    assert!(d.tuples[0].rpid.status_icon.is_empty());
    let d = with("<pr:provide-status-icon>true</pr:provide-status-icon>");
    assert_eq!(
        d.tuples[0].rpid.status_icon[0].uri,
        "http://example.com/desk.png"
    );
    assert_eq!(
        person(&d).rpid.status_icon[0].uri,
        "http://example.com/alice.png"
    );
    assert!(d.tuples[0].rpid.relationship.is_none());
}

#[test]
fn provide_user_input_levels() {
    let level = |v: &str| {
        let d = with(&format!(
            "<pr:provide-user-input>{v}</pr:provide-user-input>"
        ));
        person(&d).rpid.user_input.clone()
    };
    assert_eq!(level("false"), None);
    let bare = level("bare").unwrap();
    assert_eq!(bare.state, simple_pidf::InputState::Active);
    assert_eq!(
        (bare.idle_threshold, bare.last_input.as_deref()),
        (None, None)
    );
    let th = level("thresholds").unwrap();
    assert_eq!(
        (th.idle_threshold, th.last_input.as_deref()),
        (Some(300), None)
    );
    let full = level("full").unwrap();
    assert_eq!(
        (full.idle_threshold, full.last_input.as_deref()),
        (Some(300), Some("2024-01-01T09:30:00Z"))
    );
}

#[test]
fn provide_note_both_languages_everywhere() {
    let d = with("<pr:provide-note>true</pr:provide-note>");
    let langs: Vec<_> = person(&d).notes.iter().map(|n| n.lang.as_deref()).collect();
    assert_eq!(langs, [Some("en"), Some("fr")]);
    assert_eq!(d.tuples[0].notes.len(), 2);
    assert_eq!(d.devices[0].notes[0].text, "desk PC");
    assert_eq!(d.notes[0].text, "back soon");
}

#[test]
fn provide_unknown_attribute_by_namespace_and_name() {
    let d = with(&format!(
        r#"<pr:provide-unknown-attribute ns="{FOO_NS}" name="foo">true</pr:provide-unknown-attribute>"#
    ));
    let names: Vec<_> = person(&d)
        .extensions
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["foo"]); // not foo:bar
    assert_eq!(d.tuples[0].extensions[0].text(), "tuple-foo");
    assert!(d.extensions.is_empty()); // foo:top is another name
    // Explicit false grants nothing.
    let d = with(&format!(
        r#"<pr:provide-unknown-attribute ns="{FOO_NS}" name="foo">false</pr:provide-unknown-attribute>"#
    ));
    assert!(person(&d).extensions.is_empty());
}

#[test]
fn cipid_is_an_unknown_attribute() {
    let d = with(
        r#"<pr:provide-unknown-attribute ns="urn:ietf:params:xml:ns:pidf:cipid" name="display-name">true</pr:provide-unknown-attribute>"#,
    );
    assert_eq!(person(&d).cipid.display_name[0].text, "Alice");
    assert_eq!(person(&d).cipid.homepage, None);
}

#[test]
fn provide_all_attributes_reveals_everything_of_provided_components() {
    let d = with("<pr:provide-all-attributes/>");
    let src = common::composed();
    assert_eq!(d, src);
    // But it does not provide components by itself.
    let d = filter(&transformations("<pr:provide-all-attributes/>"));
    assert!(d.tuples.is_empty() && d.persons.is_empty() && d.devices.is_empty());
}
