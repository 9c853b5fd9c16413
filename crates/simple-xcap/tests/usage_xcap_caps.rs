//! The xcap-caps document (RFC 4825 §12) lists every usage we support, is
//! well-formed, and is valid for its own usage.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_pidf::xml::parse_tree;
use simple_xcap::usage::{NS_XCAP_CAPS, all, usage, validate, xcap_caps_document};

#[test]
fn xcap_caps_lists_every_auid_and_namespace() {
    let doc = xcap_caps_document();
    let root = parse_tree(doc.as_bytes()).unwrap();
    assert!(root.is(NS_XCAP_CAPS, "xcap-caps"));

    let texts = |list: &str, item: &str| -> Vec<String> {
        root.elements()
            .find(|e| e.is(NS_XCAP_CAPS, list))
            .unwrap()
            .elements()
            .filter(|e| e.is(NS_XCAP_CAPS, item))
            .map(|e| e.text())
            .collect()
    };
    let auids = texts("auids", "auid");
    for auid in [
        "pres-rules",
        "resource-lists",
        "rls-services",
        "pidf-manipulation",
        "xcap-caps",
    ] {
        assert!(auids.iter().any(|a| a == auid), "{auid} missing");
    }
    assert_eq!(auids.len(), all().len());

    // §12: the xcap-caps namespace MUST be listed; and every usage's default.
    let namespaces = texts("namespaces", "namespace");
    for u in all() {
        assert!(
            namespaces.iter().any(|n| n == u.default_ns),
            "{} missing",
            u.default_ns
        );
    }
    assert!(
        namespaces
            .iter()
            .any(|n| n == "urn:ietf:params:xml:ns:common-policy")
    );
}

#[test]
fn xcap_caps_document_is_valid_for_its_usage() {
    let caps = usage("xcap-caps").unwrap();
    assert_eq!(validate(caps, xcap_caps_document().as_bytes()), Ok(()));
    assert_eq!(caps.mime, "application/xcap-caps+xml");
}

#[test]
fn xcap_caps_with_extensions_and_other_elements_is_valid() {
    let doc = br#"<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps" xmlns:x="urn:x">
      <auids><auid>xcap-caps</auid></auids>
      <extensions><extension>foo</extension></extensions>
      <namespaces><namespace>urn:ietf:params:xml:ns:xcap-caps</namespace></namespaces>
      <x:more/>
    </xcap-caps>"#;
    assert_eq!(validate(usage("xcap-caps").unwrap(), doc), Ok(()));
}
