//! Documents that break a usage's schema are refused with
//! `UsageError::Schema` and a reason (RFC 4825 §8.2.5, §11.1
//! `<schema-validation-error>`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_xcap::usage::{UsageError, usage, validate};

const RL: &str = r#"xmlns="urn:ietf:params:xml:ns:resource-lists""#;
const RLS: &str = r#"xmlns="urn:ietf:params:xml:ns:rls-services" xmlns:rl="urn:ietf:params:xml:ns:resource-lists""#;

fn rl(body: &str) -> String {
    format!("<resource-lists {RL}>{body}</resource-lists>")
}

fn rls(body: &str) -> String {
    format!("<rls-services {RLS}>{body}</rls-services>")
}

const RESOURCE_LIST: &str = "<resource-list>http://x/resource-lists/users/sip:a@x/index/~~/resource-lists/list</resource-list>";

/// (AUID, document, what the reason mentions).
fn cases() -> Vec<(&'static str, String, &'static str)> {
    vec![
        // resource-lists (RFC 4826 §3.2)
        ("resource-lists", format!("<lists {RL}/>"), "root element"),
        ("resource-lists", "<resource-lists/>".into(), "root element"),
        ("resource-lists", rl(r#"<entry uri="sip:a@x"/>"#), "unexpected element"),
        ("resource-lists", rl(r#"<list><entry/></list>"#), "entry without uri attribute"),
        ("resource-lists", rl(r#"<list><entry-ref/></list>"#), "entry-ref without ref attribute"),
        ("resource-lists", rl(r#"<list><entry uri="sip:a@x"/><display-name>L</display-name></list>"#), "display-name must be the first"),
        ("resource-lists", rl(r#"<list><display-name>L</display-name><display-name>M</display-name></list>"#), "display-name must be the first"),
        ("resource-lists", rl(r#"<list><item/></list>"#), "unexpected element"),
        ("resource-lists", rl(r#"<list><item xmlns=""/></list>"#), "no namespace"),
        ("resource-lists", rl(r#"<list><x:e xmlns:x="urn:x"/><entry uri="sip:a@x"/></list>"#), "after extension elements"),
        ("resource-lists", rl(r#"<list name="a" color="red"/>"#), "attribute color not allowed"),
        ("resource-lists", rl(r#"<list>text</list>"#), "text not allowed in list"),
        ("resource-lists", rl(r#"<list><entry uri="sip:a@x"><display-name>A<b/></display-name></entry></list>"#), "display-name has child elements"),
        ("resource-lists", rl(r#"<list><entry uri="sip:a@x"><display-name/><display-name/></entry></list>"#), "unexpected element"),
        ("resource-lists", format!(r#"<resource-lists {RL} id="1"/>"#), "attribute id not allowed"),
        ("resource-lists", "<resource-lists".into(), "not well-formed"),
        // rls-services (RFC 4826 §4.2)
        ("rls-services", format!("<services {RLS}/>"), "root element"),
        ("rls-services", rls(&format!("<service>{RESOURCE_LIST}</service>")), "service without uri attribute"),
        ("rls-services", rls(&format!(r#"<service uri="sip:s@x">{RESOURCE_LIST}<list/></service>"#)), "more than one resource-list or list"),
        ("rls-services", rls(r#"<service uri="sip:s@x"><list/><list/></service>"#), "more than one resource-list or list"),
        ("rls-services", rls(r#"<service uri="sip:s@x"/>"#), "neither resource-list nor list"),
        ("rls-services", rls(r#"<service uri="sip:s@x"><packages/></service>"#), "packages before resource-list or list"),
        ("rls-services", rls(r#"<service uri="sip:s@x"><x:e xmlns:x="urn:x"/><list/></service>"#), "before resource-list or list"),
        ("rls-services", rls(r#"<service uri="sip:s@x"><list/><packages/><packages/></service>"#), "packages repeated"),
        ("rls-services", rls(r#"<service uri="sip:s@x"><list/><display-name>S</display-name></service>"#), "unexpected element"),
        // listType children are in the resource-lists namespace, not rls-services.
        ("rls-services", rls(r#"<service uri="sip:s@x"><list><entry uri="sip:a@x"/></list></service>"#), "{urn:ietf:params:xml:ns:rls-services}entry"),
        ("rls-services", rls(r#"<service uri="sip:s@x"><list><rl:entry/></list></service>"#), "entry without uri attribute"),
        ("rls-services", rls(r#"<service uri="sip:s@x"><resource-list><a/></resource-list></service>"#), "resource-list has child elements"),
        ("rls-services", rls(r#"<service uri="sip:s@x"><list/><packages><package><p/></package></packages></service>"#), "package has child elements"),
        ("rls-services", rls(r#"<service uri="sip:s@x"><list/><packages><pkg/></packages></service>"#), "unexpected element"),
        ("rls-services", rls(r#"<entry uri="sip:s@x"/>"#), "unexpected element"),
        // pidf-manipulation (RFC 4827 §6: PIDF)
        ("pidf-manipulation", r#"<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@x"><tuple id="t"/></presence>"#.into(), "without status"),
        ("pidf-manipulation", format!("<resource-lists {RL}/>"), "presence"),
        // pres-rules (RFC 5025 §9: common policy)
        ("pres-rules", r#"<ruleset xmlns="urn:ietf:params:xml:ns:common-policy"><rule/></ruleset>"#.into(), "rule without id"),
        ("pres-rules", format!("<resource-lists {RL}/>"), "ruleset"),
        // xcap-caps (RFC 4825 §12.2)
        ("xcap-caps", r#"<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps"><namespaces/></xcap-caps>"#.into(), "without auids"),
        ("xcap-caps", r#"<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps"><auids/></xcap-caps>"#.into(), "without namespaces"),
        ("xcap-caps", r#"<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps"><auids/><x:e xmlns:x="urn:x"/></xcap-caps>"#.into(), "without namespaces"),
        ("xcap-caps", r#"<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps"><namespaces/><auids/></xcap-caps>"#.into(), "without auids"),
        ("xcap-caps", r#"<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps"><auids><auid>a</auid><ns/></auids><namespaces/></xcap-caps>"#.into(), "unexpected element"),
    ]
}

#[test]
fn schema_violations_are_schema_errors_with_a_reason() {
    for (auid, doc, reason) in cases() {
        match validate(usage(auid).unwrap(), doc.as_bytes()) {
            Err(UsageError::Schema(r)) => assert!(
                r.contains(reason),
                "{auid} {doc}: reason '{r}' lacks '{reason}'"
            ),
            other => panic!("{auid} {doc}: {other:?}"),
        }
    }
}

#[test]
fn schema_is_checked_before_uniqueness_and_constraints() {
    // RFC 4825 §8.2.5: schema, then uniqueness, then constraints.
    let doc = rl(r#"<list name="a"/><list name="a"><entry-ref ref="/abs"/><bogus/></list>"#);
    assert!(matches!(
        validate(usage("resource-lists").unwrap(), doc.as_bytes()),
        Err(UsageError::Schema(_))
    ));
    let doc = rl(r#"<list name="a"/><list name="a"><entry-ref ref="/abs"/></list>"#);
    assert!(matches!(
        validate(usage("resource-lists").unwrap(), doc.as_bytes()),
        Err(UsageError::Uniqueness { .. })
    ));
}
