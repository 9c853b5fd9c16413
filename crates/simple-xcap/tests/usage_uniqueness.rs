//! Uniqueness constraints of resource-lists (RFC 4826 §3.4.5) and
//! rls-services (§4.4.5) are refused with `UsageError::Uniqueness`, naming
//! the field by node selector and suggesting free values where that makes
//! sense (RFC 4825 §11.1 `<uniqueness-failure>`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_xcap::usage::{UsageError, alternatives, rls_service_uris, usage, validate};

const RL: &str = r#"xmlns="urn:ietf:params:xml:ns:resource-lists""#;
const RLS: &str = r#"xmlns="urn:ietf:params:xml:ns:rls-services" xmlns:rl="urn:ietf:params:xml:ns:resource-lists""#;

fn check(auid: &str, doc: &str) -> Result<(), UsageError> {
    validate(usage(auid).unwrap(), doc.as_bytes())
}

fn uniqueness(auid: &str, doc: &str) -> (String, Vec<String>) {
    match check(auid, doc) {
        Err(UsageError::Uniqueness { field, alt_values }) => (field, alt_values),
        other => panic!("{doc}: {other:?}"),
    }
}

#[test]
fn list_names_unique_among_siblings_with_suggestions() {
    let doc = format!(
        r#"<resource-lists {RL}><list name="friends"/><list name="friends2"/><list name="friends"/></resource-lists>"#
    );
    let (field, alt) = uniqueness("resource-lists", &doc);
    assert_eq!(field, "resource-lists/list/@name");
    assert_eq!(alt, ["friends3", "friends4", "friends5"]);

    // Nested: the parent is named by position when it has no name.
    let doc = format!(
        r#"<resource-lists {RL}><list name="x"/><list><list name="a"/><list name="a"/></list></resource-lists>"#
    );
    let (field, alt) = uniqueness("resource-lists", &doc);
    assert_eq!(field, "resource-lists/list[2]/list/@name");
    assert_eq!(alt[0], "a2");
}

#[test]
fn same_name_in_different_parents_is_fine() {
    let doc = format!(
        r#"<resource-lists {RL}><list name="a"><list name="a"/></list><list name="b"><list name="a"/><entry uri="sip:a@x"/></list></resource-lists>"#
    );
    assert_eq!(check("resource-lists", &doc), Ok(()));
    // Case-sensitive comparison.
    let doc = format!(r#"<resource-lists {RL}><list name="a"/><list name="A"/></resource-lists>"#);
    assert_eq!(check("resource-lists", &doc), Ok(()));
}

#[test]
fn entry_uri_unique_within_a_list() {
    let doc = format!(
        r#"<resource-lists {RL}><list name="friends"><entry uri="sip:bill@example.com"/><entry uri="sip:bill@example.com"/></list></resource-lists>"#
    );
    let (field, alt) = uniqueness("resource-lists", &doc);
    assert_eq!(field, r#"resource-lists/list[@name="friends"]/entry/@uri"#);
    // Another URI would be another member: no suggestion.
    assert!(alt.is_empty());
}

#[test]
fn entry_ref_and_external_unique_within_a_list() {
    let doc = format!(
        r#"<resource-lists {RL}><list name="f"><list name="g"><entry-ref ref="a/b"/><entry-ref ref="a/b"/></list></list></resource-lists>"#
    );
    let (field, _) = uniqueness("resource-lists", &doc);
    assert_eq!(
        field,
        r#"resource-lists/list[@name="f"]/list[@name="g"]/entry-ref/@ref"#
    );

    let doc = format!(
        r#"<resource-lists {RL}><list name="f"><external anchor="http://x/a"/><external anchor="http://x/a"/></list></resource-lists>"#
    );
    let (field, _) = uniqueness("resource-lists", &doc);
    assert_eq!(field, r#"resource-lists/list[@name="f"]/external/@anchor"#);
}

#[test]
fn names_in_fields_are_escaped() {
    let doc = format!(
        r#"<resource-lists {RL}><list name="a&quot;b"><entry uri="sip:a@x"/><entry uri="sip:a@x"/></list></resource-lists>"#
    );
    let (field, _) = uniqueness("resource-lists", &doc);
    assert_eq!(field, r#"resource-lists/list[@name="a&quot;b"]/entry/@uri"#);
}

#[test]
fn service_uri_unique_in_the_document() {
    let doc = format!(
        r#"<rls-services {RLS}><service uri="sip:friends@example.com"><list/></service><service uri="sip:friends@example.com"><list/></service></rls-services>"#
    );
    let (field, alt) = uniqueness("rls-services", &doc);
    // As in RFC 4825 §11.1's example.
    assert_eq!(field, "rls-services/service/@uri");
    assert_eq!(alt[0], "sip:friends2@example.com");
    assert_eq!(
        rls_service_uris(doc.as_bytes()).unwrap(),
        ["sip:friends@example.com", "sip:friends@example.com"]
    );
}

#[test]
fn entries_of_an_rls_list_use_the_rl_prefix() {
    let doc = format!(
        r#"<rls-services {RLS}><service uri="sip:marketing@example.com"><list name="marketing"><rl:entry uri="sip:joe@example.com"/><rl:entry uri="sip:joe@example.com"/></list></service></rls-services>"#
    );
    let (field, _) = uniqueness("rls-services", &doc);
    assert_eq!(
        field,
        r#"rls-services/service[@uri="sip:marketing@example.com"]/list/rl:entry/@uri?xmlns(rl=urn:ietf:params:xml:ns:resource-lists)"#
    );
}

#[test]
fn alternatives_skip_taken_values() {
    let taken = ["sip:friends2@example.com", "sip:friends3@example.com"];
    let alt = alternatives("sip:friends@example.com", &|v| taken.contains(&v));
    assert_eq!(
        alt,
        [
            "sip:friends4@example.com",
            "sip:friends5@example.com",
            "sip:friends6@example.com"
        ]
    );
}
