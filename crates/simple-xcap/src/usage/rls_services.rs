//! `rls-services` (RFC 4826 §4): the services of a resource list server,
//! each a URI with the list it fans out to.
//!
//! Schema (§4.2), checked by hand over the element tree:
//!
//! - root `<rls-services>` holding only `<service>`s, no attributes;
//! - `serviceType`: exactly one of `<resource-list>` (an `anyURI`) or
//!   `<list>` (a resource-lists `listType`, its children in the
//!   resource-lists namespace), then `<packages>?`, then `##other`
//!   elements; required attribute `uri`, attributes of other namespaces;
//! - `packagesType`: `<package>` (a string) and `##other` elements.
//!
//! Uniqueness (§4.4.5): a service `uri` is unique in the document (with
//! `<alt-value>` suggestions); across documents it is the caller's check
//! (see [`super::rls_service_uris`]). Inside a `<list>`, the resource-lists
//! rules (§3.4.5); those fields use the `rl:` prefix and end with its
//! `?xmlns(rl=..)` binding.
//!
//! Other constraints (§4.4.5): a `<resource-list>` is an absolute HTTP URI
//! whose path goes through `resource-lists/users/<XUI>` (the document's own
//! XUI when known) to a node selector (`~~`); a `<list>` meets the
//! resource-lists value constraints.

use simple_pidf::Element;

use super::resource_lists::{list_constraints, list_schema, list_unique};
use super::{
    NS_RESOURCE_LISTS, NS_RLS_SERVICES as NS, UsageError, attributes, by_attr, element_only,
    http_path, is_other, percent_decode, qname, required, schema, text_only, unique,
};

pub(super) fn validate(root: &Element, xui: Option<&str>) -> Result<(), UsageError> {
    schema_root(root)?;

    let uris = service_uris(root);
    let uris: Vec<&str> = uris.iter().map(String::as_str).collect();
    unique(&uris, "rls-services", "service", "uri", true)?;
    for service in services(root) {
        if let (Some(uri), Some(list)) = (service.attr("uri"), own_list(service)) {
            let path = format!("rls-services/service{}/list", by_attr("uri", uri));
            list_unique(list, &path, "rl:").map_err(bind_rl_prefix)?;
        }
    }

    for service in services(root) {
        if let Some(list) = own_list(service) {
            list_constraints(list)?;
        }
        if let Some(rl) = service.elements().find(|e| e.is(NS, "resource-list")) {
            resource_list_constraints(rl.text().trim(), xui)?;
        }
    }
    Ok(())
}

/// The `uri` of every `<service>`, in document order.
pub(super) fn service_uris(root: &Element) -> Vec<String> {
    services(root)
        .filter_map(|s| s.attr("uri"))
        .map(str::to_owned)
        .collect()
}

fn services(root: &Element) -> impl Iterator<Item = &Element> {
    root.elements().filter(|e| e.is(NS, "service"))
}

fn own_list(service: &Element) -> Option<&Element> {
    service.elements().find(|e| e.is(NS, "list"))
}

/// RFC 4825 §11.1: a field using a prefix carries the `xmlns()` query that
/// binds it.
fn bind_rl_prefix(e: UsageError) -> UsageError {
    match e {
        UsageError::Uniqueness { field, alt_values } if field.contains("rl:") => {
            UsageError::Uniqueness {
                field: format!("{field}?xmlns(rl={NS_RESOURCE_LISTS})"),
                alt_values,
            }
        }
        other => other,
    }
}

fn schema_root(root: &Element) -> Result<(), UsageError> {
    if !root.is(NS, "rls-services") {
        return Err(schema(format!(
            "root element {} is not {{{NS}}}rls-services",
            qname(root)
        )));
    }
    attributes(root, &[], false)?;
    element_only(root)?;
    for child in root.elements() {
        if !child.is(NS, "service") {
            return Err(schema(format!(
                "unexpected element {} in rls-services",
                qname(child)
            )));
        }
        service_schema(child)?;
    }
    Ok(())
}

/// Where a child of `<service>` sits in `serviceType`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Before the resource-list / list choice.
    Start,
    /// After the choice.
    Listed,
    /// After `<packages>`.
    Packages,
    /// Among the `##other` elements.
    Extensions,
}

fn service_schema(service: &Element) -> Result<(), UsageError> {
    attributes(service, &["uri"], true)?;
    let uri = required(service, "uri")?;
    element_only(service)?;
    let mut part = Part::Start;
    for child in service.elements() {
        if is_other(child, NS) {
            if part == Part::Start {
                return Err(schema(format!(
                    "service '{uri}': {} before resource-list or list",
                    qname(child)
                )));
            }
            part = Part::Extensions;
            continue;
        }
        match (child.namespace.as_deref(), child.name.as_str()) {
            (Some(_), "resource-list" | "list") => {
                if part != Part::Start {
                    return Err(schema(format!(
                        "service '{uri}' has more than one resource-list or list"
                    )));
                }
                if child.name == "list" {
                    list_schema(child)?;
                } else {
                    resource_list_schema(child)?;
                }
                part = Part::Listed;
            }
            (Some(_), "packages") => {
                match part {
                    Part::Start => {
                        return Err(schema(format!(
                            "service '{uri}': packages before resource-list or list"
                        )));
                    }
                    Part::Listed => {}
                    Part::Packages | Part::Extensions => {
                        return Err(schema(format!(
                            "service '{uri}': packages repeated or after extension elements"
                        )));
                    }
                }
                packages_schema(child)?;
                part = Part::Packages;
            }
            _ => {
                return Err(schema(format!(
                    "unexpected element {} in service '{uri}'",
                    qname(child)
                )));
            }
        }
    }
    if part == Part::Start {
        return Err(schema(format!(
            "service '{uri}' has neither resource-list nor list"
        )));
    }
    Ok(())
}

fn resource_list_schema(e: &Element) -> Result<(), UsageError> {
    attributes(e, &[], false)?;
    text_only(e)
}

fn packages_schema(e: &Element) -> Result<(), UsageError> {
    attributes(e, &[], false)?;
    element_only(e)?;
    for child in e.elements() {
        if child.is(NS, "package") {
            attributes(child, &[], false)?;
            text_only(child)?;
        } else if !is_other(child, NS) {
            return Err(schema(format!(
                "unexpected element {} in packages",
                qname(child)
            )));
        }
    }
    Ok(())
}

/// RFC 4826 §4.4.5 (and §4.1): absolute HTTP URI of an element in a
/// resource-lists document under `users/<xui>`. Checked on the value, never
/// dereferenced.
fn resource_list_constraints(uri: &str, xui: Option<&str>) -> Result<(), UsageError> {
    let fail = |why: &str| {
        Err(UsageError::Constraint(format!(
            "resource-list '{uri}' {why}"
        )))
    };
    if uri.chars().any(char::is_whitespace) {
        return fail("is not a URI");
    }
    let Some(path) = http_path(uri) else {
        return fail("is not an absolute HTTP URI");
    };
    // The document part ends at the node selector separator.
    let segments: Vec<&str> = path.split('/').collect();
    let Some(sep) = segments.iter().position(|s| *s == "~~") else {
        return fail("does not select an element (no '~~')");
    };
    let document = &segments[..sep];
    let Some(at) = document
        .windows(2)
        .position(|w| w[0] == "resource-lists" && w[1] == "users")
    else {
        return fail("is not under resource-lists/users");
    };
    // users/<XUI>/<document>: at least the XUI and a document name.
    if document.len() < at + 4 {
        return fail("names no resource-lists document");
    }
    if let Some(xui) = xui {
        let in_path = document[at + 2];
        if percent_decode(in_path).as_deref() != Some(xui) && in_path != xui {
            return fail(&format!("is not under the user's own tree ('{xui}')"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "http://xcap.example.com/resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list%5b@name=%22l1%22%5d";

    #[test]
    fn resource_list_values() {
        assert_eq!(resource_list_constraints(OK, None), Ok(()));
        assert_eq!(
            resource_list_constraints(OK, Some("sip:joe@example.com")),
            Ok(())
        );
        let encoded = "http://x/root/resource-lists/users/sip%3Ajoe%40example.com/index/~~/resource-lists/list";
        assert_eq!(
            resource_list_constraints(encoded, Some("sip:joe@example.com")),
            Ok(())
        );
        for bad in [
            "resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list",
            "sip:joe@example.com",
            "http://x/rls-services/users/sip:joe@example.com/index/~~/rls-services",
            "http://x/resource-lists/users/sip:joe@example.com/index",
            "http://x/resource-lists/global/index/~~/resource-lists/list",
            "http://x/resource-lists/users/~~/resource-lists/list",
        ] {
            assert!(
                matches!(
                    resource_list_constraints(bad, None),
                    Err(UsageError::Constraint(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            resource_list_constraints(OK, Some("sip:bob@example.com")),
            Err(UsageError::Constraint(_))
        ));
    }
}
