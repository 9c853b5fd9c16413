//! `xcap-caps` (RFC 4825 §12): the server's capabilities, one global
//! document (`global/index`, §12.7) that the server writes and clients read.
//!
//! Schema (§12.2): `<xcap-caps>` holding `<auids>`, `<extensions>?`,
//! `<namespaces>`, then `##other` elements; each list holds only its
//! string items. No further constraints (§12.5).

use std::fmt::Write as _;

use simple_pidf::Element;

use super::{
    NS_RESOURCE_LISTS, NS_RLS_SERVICES, NS_XCAP_CAPS as NS, UsageError, all, attributes,
    element_only, is_other, qname, schema, text_only,
};

/// Node selector extensions we implement (RFC 4825 §12: tokens naming
/// extensions, usually new selectors). None so far; `<extensions>` is
/// then left out (it is optional).
const EXTENSIONS: &[&str] = &[];

/// Every namespace whose elements we can validate (RFC 4825 §12: to
/// "support" a namespace the server has the schemas for all its elements).
/// §12 requires the xcap-caps namespace to be listed.
const NAMESPACES: &[&str] = &[
    NS,
    NS_RESOURCE_LISTS,
    NS_RLS_SERVICES,
    simple_policy::NS_CP,
    simple_policy::NS_PR,
    simple_pidf::NS_PIDF,
    simple_pidf::NS_DM,
    simple_pidf::NS_RPID,
    simple_pidf::NS_CIPID,
    simple_pidf::NS_CAPS,
    simple_pidf::NS_TIMED,
];

pub(super) fn document() -> String {
    // AUIDs, tokens and namespace URIs are fixed ASCII without markup
    // characters, so nothing needs escaping.
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(s, "<xcap-caps xmlns=\"{NS}\">");
    s.push_str(" <auids>\n");
    for u in all() {
        let _ = writeln!(s, "  <auid>{}</auid>", u.auid);
    }
    s.push_str(" </auids>\n");
    if !EXTENSIONS.is_empty() {
        s.push_str(" <extensions>\n");
        for e in EXTENSIONS {
            let _ = writeln!(s, "  <extension>{e}</extension>");
        }
        s.push_str(" </extensions>\n");
    }
    s.push_str(" <namespaces>\n");
    for ns in NAMESPACES {
        let _ = writeln!(s, "  <namespace>{ns}</namespace>");
    }
    s.push_str(" </namespaces>\n</xcap-caps>\n");
    s
}

pub(super) fn validate(root: &Element) -> Result<(), UsageError> {
    if !root.is(NS, "xcap-caps") {
        return Err(schema(format!(
            "root element {} is not {{{NS}}}xcap-caps",
            qname(root)
        )));
    }
    attributes(root, &[], false)?;
    element_only(root)?;
    // The fixed sequence, then ##other.
    let sequence = [
        ("auids", "auid", true),
        ("extensions", "extension", false),
        ("namespaces", "namespace", true),
    ];
    let mut next = 0;
    for child in root.elements() {
        if is_other(child, NS) {
            missing(&sequence[next..])?;
            next = sequence.len();
            continue;
        }
        let at = sequence[next..]
            .iter()
            .position(|(name, _, _)| child.is(NS, name))
            .map(|i| i + next);
        let Some(at) = at else {
            return Err(schema(format!(
                "unexpected element {} in xcap-caps",
                qname(child)
            )));
        };
        missing(&sequence[next..at])?;
        item_list(child, sequence[at].1)?;
        next = at + 1;
    }
    missing(&sequence[next..])
}

/// An error naming the first required element among `skipped`.
fn missing(skipped: &[(&str, &str, bool)]) -> Result<(), UsageError> {
    match skipped.iter().find(|(_, _, needed)| *needed) {
        Some((name, _, _)) => Err(schema(format!("xcap-caps without {name}"))),
        None => Ok(()),
    }
}

/// `<auids>` / `<extensions>` / `<namespaces>`: only their string items.
fn item_list(list: &Element, item: &str) -> Result<(), UsageError> {
    attributes(list, &[], false)?;
    element_only(list)?;
    for child in list.elements() {
        if !child.is(NS, item) {
            return Err(schema(format!(
                "unexpected element {} in {}",
                qname(child),
                list.name
            )));
        }
        attributes(child, &[], false)?;
        text_only(child)?;
    }
    Ok(())
}
