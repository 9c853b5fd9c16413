//! `resource-lists` (RFC 4826 §3): named lists of entries, references to
//! entries and references to external lists.
//!
//! Schema (§3.2), checked by hand over the element tree:
//!
//! - root `<resource-lists>` holding only `<list>`s, no attributes;
//! - `listType`: `display-name?`, then any of `list` / `external` / `entry` /
//!   `entry-ref`, then elements of other namespaces (`##other`); attribute
//!   `name`; attributes of other namespaces;
//! - `entry` (required `uri`), `entry-ref` (required `ref`), `external`
//!   (optional `anchor`): `display-name?` then `##other` elements;
//! - `display-name`: text, `xml:lang`.
//!
//! Uniqueness (§3.4.5), case-sensitive, among the children of one parent:
//! list `name`, entry `uri`, entry-ref `ref`, external `anchor`. Only a
//! duplicate list name gets `<alt-value>` suggestions; for the others a
//! different value would name a different resource.
//!
//! Other constraints (§3.4.5): an entry-ref `ref` is a relative path
//! reference, an external `anchor` an absolute HTTP URI.
//!
//! `listType` is also the content of an rls-services `<list>` (RFC 4826
//! §4.2), whose children are in this namespace; `rls_services` reuses the
//! `list_*` functions with the `rl:` prefix.

use simple_pidf::Element;

use super::{
    NS_RESOURCE_LISTS as NS, NS_RLS_SERVICES, UsageError, attributes, by_attr, element_only,
    is_other, qname, required, schema, text_only, unique,
};

pub(super) fn validate(root: &Element) -> Result<(), UsageError> {
    schema_root(root)?;
    // Parents before children, so that the names in a child's path are
    // unique by the time it is reported.
    let names: Vec<&str> = root.elements().filter_map(|l| l.attr("name")).collect();
    unique(&names, "resource-lists", "list", "name", true)?;
    for list in root.elements() {
        list_unique(
            list,
            &format!("resource-lists/{}", list_step(root, list, "")),
            "",
        )?;
    }
    for list in root.elements() {
        list_constraints(list)?;
    }
    Ok(())
}

fn schema_root(root: &Element) -> Result<(), UsageError> {
    if !root.is(NS, "resource-lists") {
        return Err(schema(format!(
            "root element {} is not {{{NS}}}resource-lists",
            qname(root)
        )));
    }
    attributes(root, &[], false)?;
    element_only(root)?;
    for child in root.elements() {
        if !child.is(NS, "list") {
            return Err(schema(format!(
                "unexpected element {} in resource-lists",
                qname(child)
            )));
        }
        list_schema(child)?;
    }
    Ok(())
}

/// Where a child of a listType element sits in its content model.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Start,
    Members,
    Extensions,
}

/// `listType` (RFC 4826 §3.2): attributes and content of `list`, which may
/// itself be in another namespace (rls-services); its children are in the
/// resource-lists namespace.
pub(super) fn list_schema(list: &Element) -> Result<(), UsageError> {
    attributes(list, &["name"], true)?;
    element_only(list)?;
    let mut part = Part::Start;
    for child in list.elements() {
        if extension(child) {
            part = Part::Extensions;
            continue;
        }
        if child.namespace.as_deref() != Some(NS) {
            return Err(schema(match &child.namespace {
                None => format!("element {} in no namespace not allowed in list", child.name),
                Some(_) => format!(
                    "unexpected element {} in list (list members are in the {NS} namespace)",
                    qname(child)
                ),
            }));
        }
        match child.name.as_str() {
            "display-name" => {
                if part != Part::Start {
                    return Err(schema("display-name must be the first child of list"));
                }
                display_name(child)?;
                part = Part::Members;
            }
            "list" | "entry" | "entry-ref" | "external" => {
                if part == Part::Extensions {
                    return Err(schema(format!(
                        "{} after extension elements in list",
                        child.name
                    )));
                }
                part = Part::Members;
                match child.name.as_str() {
                    "list" => list_schema(child)?,
                    "entry" => member_schema(child, "uri", true)?,
                    "entry-ref" => member_schema(child, "ref", true)?,
                    // RFC 4826 §3.2: `anchor` has no `use="required"`.
                    _ => member_schema(child, "anchor", false)?,
                }
            }
            _ => {
                return Err(schema(format!(
                    "unexpected element {} in list",
                    qname(child)
                )));
            }
        }
    }
    Ok(())
}

/// An element the `##other` wildcards of `listType` and its members admit.
///
/// Deliberately stricter than XML Schema: inside an rls-services `<list>`,
/// elements of the rls-services namespace are refused rather than taken as
/// lax extensions, because there they are nearly always members written
/// without the `rl:` prefix (RFC 4826 §4.3 shows `<rl:entry>`), which an RLS
/// would silently ignore.
fn extension(e: &Element) -> bool {
    is_other(e, NS) && e.namespace.as_deref() != Some(NS_RLS_SERVICES)
}

/// `entryType`, `entry-refType`, `externalType`: one attribute of their
/// own, `display-name?`, then `##other` elements.
fn member_schema(e: &Element, attr: &str, needed: bool) -> Result<(), UsageError> {
    attributes(e, &[attr], true)?;
    if needed {
        required(e, attr)?;
    }
    element_only(e)?;
    let mut part = Part::Start;
    for child in e.elements() {
        if extension(child) {
            part = Part::Extensions;
        } else if child.is(NS, "display-name") && part == Part::Start {
            display_name(child)?;
            part = Part::Members;
        } else {
            return Err(schema(format!(
                "unexpected element {} in {}",
                qname(child),
                e.name
            )));
        }
    }
    Ok(())
}

/// `display-nameType`: a string with `xml:lang`.
fn display_name(e: &Element) -> Result<(), UsageError> {
    // `xml:lang` is in the XML namespace; no other attribute is declared.
    for a in &e.attributes {
        let xml_lang = a.name == "lang"
            && a.namespace.as_deref() == Some("http://www.w3.org/XML/1998/namespace");
        let xsi = a.namespace.as_deref() == Some(super::NS_XSI);
        if !xml_lang && !xsi {
            return Err(schema(format!(
                "attribute {} not allowed on display-name",
                a.name
            )));
        }
    }
    text_only(e)
}

/// The node selector step of `list` among the children of `parent`:
/// `list[@name="..."]`, or `list[n]` when it has no name.
fn list_step(parent: &Element, list: &Element, prefix: &str) -> String {
    match list.attr("name") {
        Some(name) => format!("{prefix}list{}", by_attr("name", name)),
        None => {
            let ns = list.namespace.as_deref();
            let pos = parent
                .elements()
                .filter(|e| e.name == "list" && e.namespace.as_deref() == ns)
                .position(|e| std::ptr::eq(e, list))
                .map_or(1, |p| p + 1);
            format!("{prefix}list[{pos}]")
        }
    }
}

/// RFC 4826 §3.4.5 uniqueness among the children of `list` (at node
/// selector `path`), then within each child list. `prefix` is the prefix
/// bound to the resource-lists namespace in `path` (`""` when it is the
/// default namespace).
pub(super) fn list_unique(list: &Element, path: &str, prefix: &str) -> Result<(), UsageError> {
    let values = |name: &str, attr: &str| -> Vec<&str> {
        list.elements()
            .filter(|e| e.is(NS, name))
            .filter_map(|e| e.attr(attr))
            .collect()
    };
    unique(
        &values("list", "name"),
        path,
        &format!("{prefix}list"),
        "name",
        true,
    )?;
    unique(
        &values("entry", "uri"),
        path,
        &format!("{prefix}entry"),
        "uri",
        false,
    )?;
    unique(
        &values("entry-ref", "ref"),
        path,
        &format!("{prefix}entry-ref"),
        "ref",
        false,
    )?;
    unique(
        &values("external", "anchor"),
        path,
        &format!("{prefix}external"),
        "anchor",
        false,
    )?;
    for child in list.elements().filter(|e| e.is(NS, "list")) {
        let child_path = format!("{path}/{}", list_step(list, child, prefix));
        list_unique(child, &child_path, prefix)?;
    }
    Ok(())
}

/// RFC 4826 §3.4.5 value constraints on the members of `list`, recursively.
pub(super) fn list_constraints(list: &Element) -> Result<(), UsageError> {
    for child in list.elements() {
        if child.is(NS, "list") {
            list_constraints(child)?;
        } else if child.is(NS, "entry-ref") {
            let r = child.attr("ref").unwrap_or_default();
            if !is_relative_path_reference(r) {
                return Err(UsageError::Constraint(format!(
                    "entry-ref ref '{r}' is not a relative path reference"
                )));
            }
        } else if child.is(NS, "external") {
            // An external without anchor is schema-valid (§3.2) and names
            // nothing; only a present anchor is constrained.
            let anchor = child.attr("anchor");
            if let Some(a) = anchor.filter(|a| super::http_path(a).is_none()) {
                return Err(UsageError::Constraint(format!(
                    "external anchor '{a}' is not an absolute HTTP URI"
                )));
            }
        }
    }
    Ok(())
}

/// RFC 3986 §4.2 `path-noscheme`: a non-empty path not starting with `/`
/// whose first segment has no `:` (so it is neither absolute nor a
/// network-path or absolute-path reference).
fn is_relative_path_reference(r: &str) -> bool {
    let first = r.split(['/', '?', '#']).next().unwrap_or("");
    !first.is_empty() && !first.contains(':') && !r.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_references() {
        assert!(is_relative_path_reference(
            "resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list"
        ));
        assert!(!is_relative_path_reference("/resource-lists/users/x/index"));
        assert!(!is_relative_path_reference("http://h/resource-lists"));
        assert!(!is_relative_path_reference("//h/resource-lists"));
        assert!(!is_relative_path_reference(""));
        assert!(!is_relative_path_reference("a b"));
    }
}
