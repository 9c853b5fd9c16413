//! GET, PUT and DELETE of elements, attributes and namespace bindings in a
//! parsed document (RFC 4825 §7, §8).
//!
//! Every change is tentative until the request URI, evaluated again on the
//! changed document, gives the expected answer (RFC 4825 §8.2.3, §8.2.4,
//! §8.4): after a PUT it must select the new node, after a DELETE it must
//! select nothing. Otherwise the change is undone and the request fails
//! with `<cannot-insert>` / `<cannot-delete>`; the document is then left as
//! it was. Validation against the application usage comes after, in
//! [`crate::usage`].
//!
//! The tree keeps neither comments nor whitespace-only text, nor the
//! prefixes of the original document: an element fragment is written with
//! its own namespace declarations, and a fragment body is read with the
//! parent element's namespace as its default namespace.

use std::fmt::Write as _;

use simple_pidf::xml::{self, Attribute, Element, Node};
use simple_pidf::{MAX_DEPTH, PidfError};

use crate::error::{ATTRIBUTE_MEDIA_TYPE, ELEMENT_MEDIA_TYPE, NAMESPACE_MEDIA_TYPE, XcapError};
use crate::selector::{
    Located, NodeSelector, StepMatch, Target, element_at, element_at_mut, locate, parse_att_value,
    split_clark, unescape_att_content,
};

/// `true` when a PUT created the node (201), `false` when it replaced one
/// (200).
pub type Created = bool;

/// The answer to a GET of a node (RFC 4825 §7.6, §7.9, §7.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    /// An element as an `application/xcap-el+xml` fragment, with the
    /// namespace declarations it needs.
    Element(String),
    /// An attribute as an `application/xcap-att+xml` body: the XML 1.0
    /// `AttValue`, quotes included.
    Attribute(String),
    /// `application/xcap-ns+xml` (RFC 4825 §10): the selected element,
    /// empty, carrying a declaration for each namespace in scope.
    Namespaces(String),
}

impl Selected {
    /// The media type of the body.
    pub fn media_type(&self) -> &'static str {
        match self {
            Selected::Element(_) => ELEMENT_MEDIA_TYPE,
            Selected::Attribute(_) => ATTRIBUTE_MEDIA_TYPE,
            Selected::Namespaces(_) => NAMESPACE_MEDIA_TYPE,
        }
    }

    /// The body.
    pub fn body(&self) -> &str {
        match self {
            Selected::Element(s) | Selected::Attribute(s) | Selected::Namespaces(s) => s,
        }
    }

    /// The body, owned.
    pub fn into_body(self) -> String {
        match self {
            Selected::Element(s) | Selected::Attribute(s) | Selected::Namespaces(s) => s,
        }
    }
}

fn not_found(sel: &NodeSelector) -> XcapError {
    XcapError::NotFound(format!("'{sel}' selects no single node"))
}

fn lost(sel: &NodeSelector) -> XcapError {
    XcapError::CannotInsert(format!(
        "after the PUT, '{sel}' would not select the content of the request"
    ))
}

/// GET of a node (RFC 4825 §8.3): 404 when the selector selects nothing,
/// or more than one element at some step.
pub fn get(doc: &Element, sel: &NodeSelector, target: &Target) -> Result<Selected, XcapError> {
    let Located::Found(path) = locate(doc, sel.steps()) else {
        return Err(not_found(sel));
    };
    let el = element_at(doc, &path).ok_or_else(|| not_found(sel))?;
    match target {
        Target::Element => Ok(Selected::Element(fragment(el))),
        Target::Attribute(name) => {
            let (ns, local) = split_clark(name);
            let a = el
                .attributes
                .iter()
                .find(|a| a.namespace.as_deref() == ns && a.name == local)
                .ok_or_else(|| not_found(sel))?;
            let mut out = String::with_capacity(a.value.len() + 2);
            out.push('"');
            escape(&mut out, &a.value);
            out.push('"');
            Ok(Selected::Attribute(out))
        }
        Target::Namespaces => Ok(Selected::Namespaces(namespace_bindings(doc, &path))),
    }
}

/// An element as a fragment: its serialization without the XML
/// declaration.
fn fragment(el: &Element) -> String {
    let doc = xml::to_xml(el);
    match doc.find("?>") {
        Some(i) if doc.starts_with("<?xml") => doc[i + 2..].trim_start().to_owned(),
        _ => doc,
    }
}

/// The namespaces in scope at the element at `path` (RFC 4825 §10). The
/// tree does not keep the document's prefixes: the element's own namespace
/// is the default one, the others of its ancestors (and their attributes)
/// get generated prefixes `ns1`, `ns2`, ...
fn namespace_bindings(doc: &Element, path: &[usize]) -> String {
    let mut chain: Vec<&Element> = vec![doc];
    for k in 1..=path.len() {
        if let Some(e) = element_at(doc, &path[..k]) {
            chain.push(e);
        }
    }
    let Some(target) = chain.last().copied() else {
        return String::new();
    };
    let mut others: Vec<&str> = Vec::new();
    for el in &chain {
        let names = el
            .namespace
            .iter()
            .chain(el.attributes.iter().filter_map(|a| a.namespace.as_ref()));
        for ns in names {
            if Some(ns) != target.namespace.as_ref()
                && ns != NS_XML
                && !others.contains(&ns.as_str())
            {
                others.push(ns);
            }
        }
    }
    let mut out = String::from("<");
    out.push_str(&target.name);
    if let Some(ns) = &target.namespace {
        out.push_str(" xmlns=\"");
        escape(&mut out, ns);
        out.push('"');
    }
    for (i, ns) in others.iter().enumerate() {
        let _ = write!(out, " xmlns:ns{}=\"", i + 1);
        escape(&mut out, ns);
        out.push('"');
    }
    out.push_str("/>");
    out
}

const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";

/// The namespace of the synthetic element a fragment body is parsed in.
const NS_FRAGMENT: &str = "urn:x-herald:xcap:fragment";

/// Reads an `application/xcap-el+xml` body: a balanced fragment holding
/// exactly one element (RFC 4825 §8.2.2), parsed with `context_ns` as the
/// default namespace in scope.
fn parse_fragment(body: &[u8], context_ns: Option<&str>) -> Result<Element, XcapError> {
    let text = std::str::from_utf8(body).map_err(|_| XcapError::NotUtf8)?;
    let mut text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // An XML declaration is tolerated at the very start only.
    if text.starts_with("<?xml")
        && text[5..].starts_with([' ', '\t', '\r', '\n'])
        && let Some(end) = text.find("?>")
    {
        text = &text[end + 2..];
    }
    let mut wrapped = String::with_capacity(text.len() + 128);
    wrapped.push_str("<hxf:f xmlns:hxf=\"");
    wrapped.push_str(NS_FRAGMENT);
    wrapped.push('"');
    if let Some(ns) = context_ns {
        wrapped.push_str(" xmlns=\"");
        escape(&mut wrapped, ns);
        wrapped.push('"');
    }
    wrapped.push('>');
    wrapped.push_str(text);
    wrapped.push_str("</hxf:f>");
    let wrapper = xml::parse_tree(wrapped.as_bytes()).map_err(|e| match e {
        PidfError::NotUtf8 => XcapError::NotUtf8,
        other => XcapError::NotXmlFrag(other.to_string()),
    })?;
    if !wrapper.is(NS_FRAGMENT, "f") {
        return Err(XcapError::NotXmlFrag("not a balanced fragment".to_owned()));
    }
    let mut children = wrapper.children.into_iter();
    match (children.next(), children.next()) {
        (Some(Node::Element(el)), None) => Ok(el),
        (Some(Node::Text(_)), _) | (_, Some(Node::Text(_))) => {
            Err(XcapError::NotXmlFrag("text outside the element".to_owned()))
        }
        (None, _) => Err(XcapError::NotXmlFrag("no element".to_owned())),
        _ => Err(XcapError::NotXmlFrag("more than one element".to_owned())),
    }
}

/// Nesting depth of `el` (1 for a leaf).
fn depth(el: &Element) -> usize {
    1 + el.elements().map(depth).max().unwrap_or(0)
}

/// PUT of an element (RFC 4825 §7.4, §8.2): replaces the element the
/// selector selects, or inserts the body as a new child of the parent the
/// selector's other steps select, at the place §8.2.3 gives.
///
/// Errors: `<no-parent>` (with the closest existing ancestor) when the
/// parent is missing; `<not-utf-8>` / `<not-xml-frag>` for a bad body;
/// `<cannot-insert>` when the request URI would not select the body
/// afterwards (a name or attribute predicate the body does not satisfy, a
/// position beyond the siblings plus one, a second root element, a step
/// that matches several elements); `<constraint-failure>` when the result
/// would nest deeper than [`MAX_DEPTH`]. On error `doc` is unchanged.
pub fn put_element(
    doc: &mut Element,
    sel: &NodeSelector,
    body: &[u8],
) -> Result<Created, XcapError> {
    let steps = sel.steps();
    let Some((last, parent_steps)) = steps.split_last() else {
        return Err(XcapError::BadRequest("empty node selector".to_owned()));
    };

    // RFC 4825 §8.2.1: the parent must exist.
    let parent_path = if parent_steps.is_empty() {
        None
    } else {
        match locate(doc, parent_steps) {
            Located::Found(p) => Some(p),
            Located::Missing(n) => {
                return Err(XcapError::NoParent {
                    ancestor: sel.encoded_prefix(n),
                });
            }
        }
    };

    let Some(parent_path) = parent_path else {
        // The parent is the document node: only the root can be replaced.
        let new = parse_fragment(body, None)?;
        if !last.select_root(doc) {
            return Err(XcapError::CannotInsert(
                "a document has exactly one root element".to_owned(),
            ));
        }
        if !last.select_root(&new) {
            return Err(lost(sel));
        }
        if depth(&new) > MAX_DEPTH {
            return Err(too_deep());
        }
        *doc = new;
        return Ok(false);
    };

    let parent = element_at(doc, &parent_path).ok_or_else(|| not_found(sel))?;
    let new = parse_fragment(body, parent.namespace.as_deref())?;
    if parent_path.len() + 1 + depth(&new) > MAX_DEPTH {
        return Err(too_deep());
    }
    let decision = last.select(&parent.children);
    let index = match decision {
        StepMatch::Many => {
            return Err(XcapError::CannotInsert(format!(
                "'{sel}' matches more than one element"
            )));
        }
        StepMatch::One(i) => i,
        StepMatch::None => insertion_index(last, &parent.children).ok_or_else(|| {
            XcapError::CannotInsert(format!(
                "'{sel}': not enough sibling elements for the position"
            ))
        })?,
    };
    let parent = element_at_mut(doc, &parent_path).ok_or_else(|| not_found(sel))?;
    let created = decision == StepMatch::None;
    let old = if created {
        parent.children.insert(index, Node::Element(new));
        None
    } else {
        Some(std::mem::replace(
            &mut parent.children[index],
            Node::Element(new),
        ))
    };

    // RFC 4825 §8.2.3 / §8.2.4: the request URI must now select the body.
    let mut expected = parent_path.clone();
    expected.push(index);
    if locate(doc, steps) == Located::Found(expected) {
        return Ok(created);
    }
    if let Some(parent) = element_at_mut(doc, &parent_path) {
        match old {
            Some(old) => parent.children[index] = old,
            None => {
                parent.children.remove(index);
            }
        }
    }
    Err(lost(sel))
}

fn too_deep() -> XcapError {
    XcapError::ConstraintFailure(format!("elements nest deeper than {MAX_DEPTH}"))
}

/// Where a new element goes among `children` (RFC 4825 §8.2.3), before the
/// request URI is checked against the result. `None` when the position
/// cannot be reached.
fn insertion_index(step: &crate::selector::Step, children: &[Node]) -> Option<usize> {
    let named: Vec<usize> = children
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n {
            Node::Element(e) if step.name.matches(e) => Some(i),
            _ => None,
        })
        .collect();
    let wildcard = matches!(step.name, crate::selector::NameTest::Any);
    match step.position {
        // Unconstrained: "earliest last" after the last element of the same
        // name; with none (or a wildcard), after everything.
        None => match named.last() {
            Some(&i) if !wildcard => Some(i + 1),
            _ => Some(children.len()),
        },
        Some(0) => None,
        // n = 1: just before the first matching element, or last when there
        // is none.
        Some(1) => Some(named.first().copied().unwrap_or(children.len())),
        // n > 1: just after the (n-1)th matching element.
        Some(n) => named.get(n - 2).map(|&i| i + 1),
    }
}

/// Reads an `application/xcap-att+xml` body (RFC 4825 §8.2.2): an XML 1.0
/// `AttValue`. A body that does not start with a quote is taken as the
/// value's content (without the quotes), which some clients send.
fn parse_attribute_body(value: &[u8]) -> Result<String, XcapError> {
    let text = std::str::from_utf8(value).map_err(|_| XcapError::NotUtf8)?;
    let parsed = if text.starts_with(['"', '\'']) {
        parse_att_value(text)
    } else {
        unescape_att_content(text)
    };
    parsed.map_err(XcapError::NotXmlAttValue)
}

/// PUT of an attribute (RFC 4825 §7.7, §8.2): sets attribute `name`
/// (Clark notation, as in [`Target::Attribute`]) on the element the
/// selector selects. Returns whether the attribute was created.
///
/// Errors: `<no-parent>` when the element is missing; `<not-utf-8>` /
/// `<not-xml-att-value>` for a bad body; `<cannot-insert>` when the
/// request URI would no longer select the attribute (§7.7: changing the
/// value an attribute predicate of the selector relies on). On error `doc`
/// is unchanged.
pub fn put_attribute(
    doc: &mut Element,
    sel: &NodeSelector,
    name: &str,
    value: &[u8],
) -> Result<Created, XcapError> {
    let path = match locate(doc, sel.steps()) {
        Located::Found(p) => p,
        Located::Missing(n) => {
            return Err(XcapError::NoParent {
                ancestor: sel.encoded_prefix(n),
            });
        }
    };
    let value = parse_attribute_body(value)?;
    let (ns, local) = split_clark(name);
    if !crate::uri::is_ncname(local) {
        return Err(XcapError::BadRequest(format!(
            "'{local}' is not an attribute name"
        )));
    }
    let el = element_at_mut(doc, &path).ok_or_else(|| not_found(sel))?;
    let existing = el
        .attributes
        .iter()
        .position(|a| a.namespace.as_deref() == ns && a.name == local);
    let old = match existing {
        Some(i) => Some((
            i,
            std::mem::replace(&mut el.attributes[i].value, value.clone()),
        )),
        None => {
            el.attributes.push(Attribute {
                namespace: ns.map(str::to_owned),
                name: local.to_owned(),
                value: value.clone(),
            });
            None
        }
    };

    // RFC 4825 §8.2.4: the request URI must still select this attribute.
    if locate(doc, sel.steps()) == Located::Found(path.clone()) {
        return Ok(old.is_none());
    }
    if let Some(el) = element_at_mut(doc, &path) {
        match old {
            Some((i, v)) => el.attributes[i].value = v,
            None => {
                el.attributes.pop();
            }
        }
    }
    Err(lost(sel))
}

/// DELETE of an element or attribute (RFC 4825 §7.5, §7.8, §8.4): 404
/// when nothing is selected; `<cannot-delete>` when the request URI would
/// still select something afterwards (e.g. `*[1]` with a following
/// sibling); 405 for namespace bindings; deleting the root element is a
/// `<schema-validation-error>` (DELETE the document instead). On error
/// `doc` is unchanged.
pub fn delete(doc: &mut Element, sel: &NodeSelector, target: &Target) -> Result<(), XcapError> {
    if *target == Target::Namespaces {
        return Err(XcapError::MethodNotAllowed(
            "namespace bindings cannot be deleted".to_owned(),
        ));
    }
    let Located::Found(path) = locate(doc, sel.steps()) else {
        return Err(not_found(sel));
    };
    match target {
        Target::Element => {
            let Some((&index, parent_path)) = path.split_last() else {
                return Err(XcapError::SchemaValidation(
                    "a document needs a root element".to_owned(),
                ));
            };
            let parent = element_at_mut(doc, parent_path).ok_or_else(|| not_found(sel))?;
            if index >= parent.children.len() {
                return Err(not_found(sel));
            }
            let removed = parent.children.remove(index);
            // RFC 4825 §8.4: DELETE must be idempotent.
            if let Located::Missing(_) = locate(doc, sel.steps()) {
                return Ok(());
            }
            if let Some(parent) = element_at_mut(doc, parent_path) {
                parent.children.insert(index, removed);
            }
            Err(XcapError::CannotDelete(format!(
                "'{sel}' would select another element after the DELETE"
            )))
        }
        Target::Attribute(name) => {
            let (ns, local) = split_clark(name);
            let el = element_at_mut(doc, &path).ok_or_else(|| not_found(sel))?;
            let i = el
                .attributes
                .iter()
                .position(|a| a.namespace.as_deref() == ns && a.name == local)
                .ok_or_else(|| not_found(sel))?;
            let removed = el.attributes.remove(i);
            let still = match locate(doc, sel.steps()) {
                Located::Found(p) => element_at(doc, &p).is_some_and(|e| {
                    e.attributes
                        .iter()
                        .any(|a| a.namespace.as_deref() == ns && a.name == local)
                }),
                Located::Missing(_) => false,
            };
            if !still {
                return Ok(());
            }
            if let Some(el) = element_at_mut(doc, &path) {
                el.attributes.insert(i, removed);
            }
            Err(XcapError::CannotDelete(format!(
                "'{sel}' would select another attribute after the DELETE"
            )))
        }
        Target::Namespaces => Err(XcapError::MethodNotAllowed(
            "namespace bindings cannot be deleted".to_owned(),
        )),
    }
}

/// Escapes text for a double-quoted attribute value.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}
