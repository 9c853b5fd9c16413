//! Application usages (RFC 4825 §5): what each AUID stores and what a
//! document of it must satisfy after an edit.
//!
//! [`validate`] runs the checks of RFC 4825 §8.2.5 that belong to the usage,
//! in the order of that section: the schema first
//! ([`UsageError::Schema`]), then the uniqueness constraints
//! ([`UsageError::Uniqueness`]), then the other data constraints
//! ([`UsageError::Constraint`]). UTF-8 and well-formedness are the caller's
//! checks; a document that fails them here is reported as a schema error.
//!
//! | AUID | RFC | checked by |
//! |---|---|---|
//! | `pres-rules` | RFC 5025 §9 | `simple_policy::parse` |
//! | `resource-lists` | RFC 4826 §3.4 | this module (schema §3.2, constraints §3.4.5) |
//! | `rls-services` | RFC 4826 §4.4 | this module (schema §4.2, constraints §4.4.5) |
//! | `pidf-manipulation` | RFC 4827 | `simple_pidf::parse` |
//! | `xcap-caps` | RFC 4825 §12 | this module (schema §12.2); global, read-only |
//!
//! Constraints that need more than the one document — the server-wide
//! uniqueness of RLS service URIs (RFC 4826 §4.4.5) — are the caller's:
//! [`rls_service_uris`] lists a document's service URIs and
//! [`alternatives`] makes up suggestions the same way [`validate`] does.

use simple_pidf::xml::parse_tree;
use simple_pidf::{Element, Node};

mod pidf_manipulation;
mod pres_rules;
mod resource_lists;
mod rls_services;
mod xcap_caps;

/// `urn:ietf:params:xml:ns:resource-lists` (RFC 4826 §3.4.4).
pub const NS_RESOURCE_LISTS: &str = "urn:ietf:params:xml:ns:resource-lists";
/// `urn:ietf:params:xml:ns:rls-services` (RFC 4826 §4.4.4).
pub const NS_RLS_SERVICES: &str = "urn:ietf:params:xml:ns:rls-services";
/// `urn:ietf:params:xml:ns:xcap-caps` (RFC 4825 §12.3).
pub const NS_XCAP_CAPS: &str = "urn:ietf:params:xml:ns:xcap-caps";
/// XML Schema instance attributes (`xsi:schemaLocation`) are allowed on any
/// element whatever its declared attributes (XML Schema part 1 §3.4.4).
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One application usage (RFC 4825 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Application Unique ID, the first path segment under the XCAP root.
    pub auid: &'static str,
    /// MIME type of its documents.
    pub mime: &'static str,
    /// Default document namespace for unprefixed node selector steps.
    pub default_ns: &'static str,
    /// Documents live only in the `global` tree (RFC 4825 §12.7: xcap-caps).
    pub global_only: bool,
    /// Clients cannot write it; the server generates it (xcap-caps).
    pub read_only: bool,
}

static USAGES: [Usage; 5] = [
    // RFC 5025 §9.1 - §9.4.
    Usage {
        auid: "pres-rules",
        mime: simple_policy::MEDIA_TYPE,
        default_ns: simple_policy::NS_PR,
        global_only: false,
        read_only: false,
    },
    // RFC 4826 §3.4.1 - §3.4.4.
    Usage {
        auid: "resource-lists",
        mime: "application/resource-lists+xml",
        default_ns: NS_RESOURCE_LISTS,
        global_only: false,
        read_only: false,
    },
    // RFC 4826 §4.4.1 - §4.4.4.
    Usage {
        auid: "rls-services",
        mime: "application/rls-services+xml",
        default_ns: NS_RLS_SERVICES,
        global_only: false,
        read_only: false,
    },
    // RFC 4827 §4 - §6.
    Usage {
        auid: "pidf-manipulation",
        mime: simple_pidf::MEDIA_TYPE,
        default_ns: simple_pidf::NS_PIDF,
        global_only: false,
        read_only: false,
    },
    // RFC 4825 §12.1 - §12.4, §12.7.
    Usage {
        auid: "xcap-caps",
        mime: "application/xcap-caps+xml",
        default_ns: NS_XCAP_CAPS,
        global_only: true,
        read_only: true,
    },
];

/// The usage registered under `auid`, if we support it.
pub fn usage(auid: &str) -> Option<&'static Usage> {
    USAGES.iter().find(|u| u.auid == auid)
}

/// Every usage we support.
pub fn all() -> &'static [Usage] {
    &USAGES
}

/// Why a document is not acceptable to its usage; each variant is one of
/// the RFC 4825 §11.1 conflict elements of a `409`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// `<schema-validation-error>`: the document does not match the
    /// usage's schema. The string is the reason (fit for the `phrase`).
    #[error("{0}")]
    Schema(String),
    /// `<uniqueness-failure>`: a value that must be unique is not.
    #[error("{field} is not unique")]
    Uniqueness {
        /// Node selector of the offending field, relative to the document
        /// and not yet percent-encoded (RFC 4825 §11.1 `<exists field>`),
        /// e.g. `resource-lists/list[@name="friends"]/entry/@uri`. When it
        /// uses a prefix it ends with the `?xmlns(..)` query binding it.
        field: String,
        /// Suggested values that are free (`<alt-value>`); may be empty.
        alt_values: Vec<String>,
    },
    /// `<constraint-failure>`: a data constraint of the usage beyond the
    /// schema and uniqueness. The string is the reason.
    #[error("{0}")]
    Constraint(String),
}

/// Validates a whole document for `usage` after an edit (RFC 4825 §8.2.5):
/// schema, then uniqueness, then the usage's other constraints.
///
/// Checks that need the document's place (the XUI of an RLS
/// `<resource-list>`) are skipped; see [`validate_for_user`].
pub fn validate(usage: &Usage, doc: &[u8]) -> Result<(), UsageError> {
    validate_in(usage, doc, None)
}

/// [`validate`] for a document in the users tree of `xui` (decoded, e.g.
/// `sip:joe@example.com`): an rls-services `<resource-list>` must then point
/// under that user's resource-lists (RFC 4826 §4.4.5).
pub fn validate_for_user(usage: &Usage, doc: &[u8], xui: &str) -> Result<(), UsageError> {
    validate_in(usage, doc, Some(xui))
}

/// [`validate_for_user`] (or [`validate`] with `xui` None) for a document
/// the caller has already parsed: `tree` must be `doc` parsed, and the
/// usages that check the tree skip parsing it again (an XCAP element PUT
/// edits the tree, then validates).
pub fn validate_parsed(
    usage: &Usage,
    tree: &Element,
    doc: &[u8],
    xui: Option<&str>,
) -> Result<(), UsageError> {
    match usage.auid {
        "resource-lists" => resource_lists::validate(tree),
        "rls-services" => rls_services::validate(tree, xui),
        "xcap-caps" => xcap_caps::validate(tree),
        _ => validate_in(usage, doc, xui),
    }
}

fn validate_in(usage: &Usage, doc: &[u8], xui: Option<&str>) -> Result<(), UsageError> {
    match usage.auid {
        "pres-rules" => pres_rules::validate(doc),
        "pidf-manipulation" => pidf_manipulation::validate(doc),
        "resource-lists" => resource_lists::validate(&tree(doc)?),
        "rls-services" => rls_services::validate(&tree(doc)?, xui),
        "xcap-caps" => xcap_caps::validate(&tree(doc)?),
        other => Err(UsageError::Schema(format!(
            "no application usage '{other}'"
        ))),
    }
}

/// The xcap-caps document listing every usage, namespace and extension we
/// support (RFC 4825 §12.2).
pub fn xcap_caps_document() -> String {
    xcap_caps::document()
}

/// The service URIs of an rls-services document, in document order, for the
/// server-wide uniqueness check of RFC 4826 §4.4.5 (a service URI is unique
/// across every rls-services document on the server).
pub fn rls_service_uris(doc: &[u8]) -> Result<Vec<String>, UsageError> {
    Ok(rls_services::service_uris(&tree(doc)?))
}

/// Up to three values like `value` for which `taken` is false: a counter
/// before the `@` of a `sip:`-like URI (`sip:friends2@example.com`), else
/// appended (`friends2`). For `<alt-value>` (RFC 4825 §11.1).
pub fn alternatives(value: &str, taken: &dyn Fn(&str) -> bool) -> Vec<String> {
    let (head, tail) = split_for_counter(value);
    let mut out = Vec::new();
    let mut n: u32 = 2;
    while out.len() < 3 && n < 1000 {
        let candidate = format!("{head}{n}{tail}");
        if !taken(&candidate) && !out.contains(&candidate) {
            out.push(candidate);
        }
        n += 1;
    }
    out
}

/// Where a counter goes: before the `@` of a URI whose scheme names a user
/// at a host, else at the end.
fn split_for_counter(value: &str) -> (&str, &str) {
    let user_at_host = ["sip:", "sips:", "pres:", "im:", "mailto:"]
        .iter()
        .any(|s| {
            value
                .get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
        });
    match value.rfind('@') {
        Some(at) if user_at_host && at > value.find(':').unwrap_or(0) + 1 => {
            (&value[..at], &value[at..])
        }
        _ => (value, ""),
    }
}

fn tree(doc: &[u8]) -> Result<Element, UsageError> {
    parse_tree(doc).map_err(|e| UsageError::Schema(e.to_string()))
}

// ---- helpers shared by the usages validated here ----

fn schema(reason: impl Into<String>) -> UsageError {
    UsageError::Schema(reason.into())
}

/// `{namespace}name` for reasons.
fn qname(e: &Element) -> String {
    match &e.namespace {
        Some(ns) => format!("{{{ns}}}{}", e.name),
        None => e.name.clone(),
    }
}

/// Whether `e` is in a namespace other than `target` — what an XML Schema
/// `##other` wildcard admits (not the target, not "no namespace").
fn is_other(e: &Element, target: &str) -> bool {
    matches!(&e.namespace, Some(ns) if ns != target)
}

/// Element-only content: no character data (whitespace was dropped by the
/// tree reader).
fn element_only(e: &Element) -> Result<(), UsageError> {
    if e.children.iter().any(|n| matches!(n, Node::Text(_))) {
        return Err(schema(format!("text not allowed in {}", e.name)));
    }
    Ok(())
}

/// Simple content: text only.
fn text_only(e: &Element) -> Result<(), UsageError> {
    if e.elements().next().is_some() {
        return Err(schema(format!("{} has child elements", e.name)));
    }
    Ok(())
}

/// Unqualified attributes must be among `allowed`; qualified ones are
/// admitted only where the schema has `anyAttribute ##other`
/// (`any_other`), except `xsi:` which is always allowed.
fn attributes(e: &Element, allowed: &[&str], any_other: bool) -> Result<(), UsageError> {
    for a in &e.attributes {
        let ok = match &a.namespace {
            None => allowed.contains(&a.name.as_str()),
            Some(ns) => any_other || ns == NS_XSI,
        };
        if !ok {
            let name = match &a.namespace {
                Some(ns) => format!("{{{ns}}}{}", a.name),
                None => a.name.clone(),
            };
            return Err(schema(format!(
                "attribute {name} not allowed on {}",
                e.name
            )));
        }
    }
    Ok(())
}

/// A required unqualified attribute.
fn required<'a>(e: &'a Element, name: &str) -> Result<&'a str, UsageError> {
    e.attr(name)
        .ok_or_else(|| schema(format!("{} without {name} attribute", e.name)))
}

/// A node selector attribute predicate, `[@name="value"]`, with the value
/// escaped for an `AttValue` (RFC 4825 §6.3).
fn by_attr(name: &str, value: &str) -> String {
    let mut s = format!("[@{name}=\"");
    for c in value.chars() {
        match c {
            '"' => s.push_str("&quot;"),
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            c => s.push(c),
        }
    }
    s.push_str("\"]");
    s
}

/// The first value among `values` seen twice, in document order.
fn first_duplicate<'a>(values: &[&'a str]) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::new();
    values.iter().copied().find(|v| !seen.insert(*v))
}

/// Case-sensitive uniqueness (RFC 4826 §3.4.5) of `values` (the values of
/// `attr` on the `step` children of `parent`). `suggest` asks for
/// `<alt-value>`s.
fn unique(
    values: &[&str],
    parent: &str,
    step: &str,
    attr: &str,
    suggest: bool,
) -> Result<(), UsageError> {
    let Some(dup) = first_duplicate(values) else {
        return Ok(());
    };
    let alt_values = if suggest {
        alternatives(dup, &|c| values.contains(&c))
    } else {
        Vec::new()
    };
    Err(UsageError::Uniqueness {
        field: format!("{parent}/{step}/@{attr}"),
        alt_values,
    })
}

/// The path of an absolute `http:`/`https:` URI (without query or
/// fragment), or `None` if `uri` is not one.
fn http_path(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let rest = rest.strip_prefix("//")?;
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = &rest[..end];
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return None;
    }
    Some(path)
}

/// Percent-decodes `s` (RFC 3986 §2.1); `None` if an escape is malformed or
/// the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_auid() {
        assert_eq!(all().len(), 5);
        for u in all() {
            assert_eq!(usage(u.auid), Some(u));
        }
        assert!(usage("nope").is_none());
        let caps = usage("xcap-caps").unwrap();
        assert!(caps.global_only && caps.read_only);
        assert_eq!(
            usage("pres-rules").unwrap().mime,
            "application/auth-policy+xml"
        );
        assert_eq!(
            usage("pidf-manipulation").unwrap().mime,
            "application/pidf+xml"
        );
    }

    #[test]
    fn alternatives_insert_before_at_or_append() {
        let none = |_: &str| false;
        assert_eq!(
            alternatives("sip:friends@example.com", &none)[0],
            "sip:friends2@example.com"
        );
        assert_eq!(
            alternatives("friends", &none),
            ["friends2", "friends3", "friends4"]
        );
        let taken = |c: &str| c == "friends2";
        assert_eq!(alternatives("friends", &taken)[0], "friends3");
        // An http URI with '@' in its path gets the counter at the end.
        assert_eq!(alternatives("http://x/a@b", &none)[0], "http://x/a@b2");
    }

    #[test]
    fn attribute_predicate_is_escaped() {
        assert_eq!(by_attr("name", "a\"b&<"), "[@name=\"a&quot;b&amp;&lt;\"]");
    }

    #[test]
    fn http_paths() {
        assert_eq!(http_path("http://h/a/b?q#f"), Some("/a/b"));
        assert_eq!(http_path("HTTPS://h"), Some(""));
        assert_eq!(http_path("sip:a@b"), None);
        assert_eq!(http_path("http:/a"), None);
        assert_eq!(http_path("http:///a"), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("sip:a%40b").as_deref(), Some("sip:a@b"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }
}
