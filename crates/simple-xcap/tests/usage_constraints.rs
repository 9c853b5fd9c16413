//! Data constraints beyond schema and uniqueness (RFC 4826 §3.4.5,
//! §4.4.5) are refused with `UsageError::Constraint` and a reason
//! (RFC 4825 §11.1 `<constraint-failure>`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_xcap::usage::{UsageError, usage, validate, validate_for_user};

const RL: &str = r#"xmlns="urn:ietf:params:xml:ns:resource-lists""#;
const RLS: &str = r#"xmlns="urn:ietf:params:xml:ns:rls-services" xmlns:rl="urn:ietf:params:xml:ns:resource-lists""#;

fn constraint(result: Result<(), UsageError>, reason: &str) {
    match result {
        Err(UsageError::Constraint(r)) => assert!(r.contains(reason), "'{r}' lacks '{reason}'"),
        other => panic!("expected constraint failure '{reason}', got {other:?}"),
    }
}

fn rl(list_body: &str) -> Result<(), UsageError> {
    let doc = format!(r#"<resource-lists {RL}><list name="l">{list_body}</list></resource-lists>"#);
    validate(usage("resource-lists").unwrap(), doc.as_bytes())
}

fn rls_with(resource_list: &str, xui: Option<&str>) -> Result<(), UsageError> {
    let doc = format!(
        r#"<rls-services {RLS}><service uri="sip:s@x"><resource-list> {resource_list} </resource-list></service></rls-services>"#
    );
    let u = usage("rls-services").unwrap();
    match xui {
        Some(x) => validate_for_user(u, doc.as_bytes(), x),
        None => validate(u, doc.as_bytes()),
    }
}

#[test]
fn entry_ref_is_a_relative_path_reference() {
    assert_eq!(
        rl(r#"<entry-ref ref="resource-lists/users/sip:a@x/index/~~/resource-lists/list/entry"/>"#),
        Ok(())
    );
    constraint(
        rl(r#"<entry-ref ref="/resource-lists/users/sip:a@x/index"/>"#),
        "not a relative path reference",
    );
    constraint(
        rl(r#"<entry-ref ref="http://x/resource-lists/users/sip:a@x/index"/>"#),
        "not a relative path reference",
    );
    constraint(
        rl(r#"<list><entry-ref ref="sip:a@x"/></list>"#),
        "not a relative path reference",
    );
}

#[test]
fn external_anchor_is_an_absolute_http_uri() {
    assert_eq!(
        rl(
            r#"<external anchor="https://x/resource-lists/users/sip:a@x/index/~~/resource-lists/list"/>"#
        ),
        Ok(())
    );
    constraint(
        rl(r#"<external anchor="sip:a@x"/>"#),
        "not an absolute HTTP URI",
    );
    constraint(
        rl(r#"<external anchor="resource-lists/users/a/index"/>"#),
        "not an absolute HTTP URI",
    );
}

#[test]
fn rls_list_members_meet_the_resource_lists_constraints() {
    let doc = format!(
        r#"<rls-services {RLS}><service uri="sip:s@x"><list><rl:external anchor="ftp://x/l"/></list></service></rls-services>"#
    );
    constraint(
        validate(usage("rls-services").unwrap(), doc.as_bytes()),
        "not an absolute HTTP URI",
    );
}

#[test]
fn resource_list_points_into_resource_lists_users() {
    let good = "http://xcap.example.com/resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list%5b@name=%22l1%22%5d";
    assert_eq!(rls_with(good, None), Ok(()));
    constraint(
        rls_with(
            "resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list",
            None,
        ),
        "not an absolute HTTP URI",
    );
    constraint(
        rls_with(
            "http://x/pres-rules/users/sip:joe@example.com/index/~~/ruleset",
            None,
        ),
        "not under resource-lists/users",
    );
    constraint(
        rls_with(
            "http://x/resource-lists/global/index/~~/resource-lists/list",
            None,
        ),
        "not under resource-lists/users",
    );
    constraint(
        rls_with(
            "http://x/resource-lists/users/sip:joe@example.com/index",
            None,
        ),
        "no '~~'",
    );
}

#[test]
fn resource_list_of_a_user_document_stays_in_that_users_tree() {
    let joe = "http://xcap.example.com/resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list";
    assert_eq!(rls_with(joe, Some("sip:joe@example.com")), Ok(()));
    constraint(
        rls_with(joe, Some("sip:bob@example.com")),
        "user's own tree",
    );
}
