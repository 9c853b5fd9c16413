//! The example documents of the RFCs defining our application usages are
//! valid for their usage (table-driven over `testdata/usage/`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_xcap::usage::{usage, validate, validate_for_user};

/// (AUID, fixture, RFC section).
const EXAMPLES: &[(&str, &str, &str)] = &[
    ("resource-lists", "rfc4826_s3_3.xml", "RFC 4826 §3.3"),
    (
        "resource-lists",
        "rfc4825_s13_resource_lists.xml",
        "RFC 4825 §13 fig. 24",
    ),
    ("rls-services", "rfc4826_s4_3.xml", "RFC 4826 §4.3"),
    (
        "rls-services",
        "rfc4825_s13_rls_services.xml",
        "RFC 4825 §13 fig. 25",
    ),
    ("pidf-manipulation", "rfc4827_s11.xml", "RFC 4827 §11"),
    ("pres-rules", "rfc5025_s6.xml", "RFC 5025 §6"),
];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/usage/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn rfc_examples_are_valid() {
    for (auid, file, rfc) in EXAMPLES {
        let u = usage(auid).unwrap();
        assert_eq!(validate(u, &fixture(file)), Ok(()), "{rfc} ({file})");
    }
}

#[test]
fn rfc_examples_are_not_valid_for_other_usages() {
    for (auid, file, rfc) in EXAMPLES {
        for other in [
            "resource-lists",
            "rls-services",
            "pidf-manipulation",
            "pres-rules",
            "xcap-caps",
        ] {
            if other != *auid {
                let u = usage(other).unwrap();
                assert!(validate(u, &fixture(file)).is_err(), "{rfc} as {other}");
            }
        }
    }
}

#[test]
fn rls_examples_point_under_their_owner() {
    // RFC 4826 §4.3 references joe's lists, RFC 4825 §13 bill's.
    let rls = usage("rls-services").unwrap();
    let s4_3 = fixture("rfc4826_s4_3.xml");
    assert_eq!(validate_for_user(rls, &s4_3, "sip:joe@example.com"), Ok(()));
    assert!(validate_for_user(rls, &s4_3, "sip:bill@example.com").is_err());
    let s13 = fixture("rfc4825_s13_rls_services.xml");
    assert_eq!(validate_for_user(rls, &s13, "sip:bill@example.com"), Ok(()));
}

#[test]
fn extensions_in_other_namespaces_are_allowed() {
    let rl = usage("resource-lists").unwrap();
    let doc = br#"<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"
        xmlns:x="urn:example:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:schemaLocation="urn:ietf:params:xml:ns:resource-lists rl.xsd">
      <list name="a" x:color="red">
        <display-name xml:lang="en">A</display-name>
        <entry uri="sip:a@example.com" x:tag="1"><display-name>A</display-name><x:note>n</x:note></entry>
        <external/>
        <x:after><x:deep>any</x:deep></x:after>
        <x:more/>
      </list>
      <list/>
    </resource-lists>"#;
    assert_eq!(validate(rl, doc), Ok(()));

    let rls = usage("rls-services").unwrap();
    let doc = br#"<rls-services xmlns="urn:ietf:params:xml:ns:rls-services"
        xmlns:rl="urn:ietf:params:xml:ns:resource-lists" xmlns:x="urn:example:x">
      <service uri="sip:s@example.com" x:a="b">
        <list><rl:display-name>Mine</rl:display-name><rl:entry uri="sip:a@example.com"/></list>
        <packages><package>presence</package><x:p/><package>reg</package></packages>
        <x:ext/>
      </service>
      <service uri="sip:t@example.com"><list/></service>
    </rls-services>"#;
    assert_eq!(validate(rls, doc), Ok(()));
}
