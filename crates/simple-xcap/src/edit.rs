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
//!
//! [`XmlDocument`] carries an edit over to the document's text: it
//! rewrites only the bytes of the node the request names (the body's own
//! bytes go in as sent) and keeps every other byte — whitespace between
//! elements, comments, prefixes — as stored (RFC 4825 §8.2.3, §8.4).
//! The functions on a bare [`Element`] edit the tree alone.

// One escaper for attribute values and character data alike.
use simple_pidf::xml::escape_attr as escape;
use std::fmt::Write as _;

use simple_pidf::xml::{self, Attribute, Element, Node};
use simple_pidf::{MAX_DEPTH, PidfError};

use crate::error::{ATTRIBUTE_MEDIA_TYPE, ELEMENT_MEDIA_TYPE, NAMESPACE_MEDIA_TYPE, XcapError};
use crate::selector::{
    Located, NodeSelector, StepMatch, Target, element_at, element_at_mut, locate, parse_att_value,
    split_clark, unescape_att_content,
};
use crate::source::{self, ElementSpan, Spans};

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
    let text = fragment_text(body)?;
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

/// The text of an `application/xcap-el+xml` body, without a byte order
/// mark or XML declaration.
fn fragment_text(body: &[u8]) -> Result<&str, XcapError> {
    let text = std::str::from_utf8(body).map_err(|_| XcapError::NotUtf8)?;
    let mut text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // An XML declaration is tolerated at the very start only.
    if text.starts_with("<?xml")
        && text[5..].starts_with([' ', '\t', '\r', '\n'])
        && let Some(end) = text.find("?>")
    {
        text = &text[end + 2..];
    }
    Ok(text)
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
    put_element_in(doc, sel, body).map(|(created, _)| created)
}

/// [`put_element`], with what changed.
fn put_element_in(
    doc: &mut Element,
    sel: &NodeSelector,
    body: &[u8],
) -> Result<(Created, Change), XcapError> {
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
        return Ok((false, Change::Root));
    };

    let parent = element_at(doc, &parent_path).ok_or_else(|| not_found(sel))?;
    let new = parse_fragment(body, parent.namespace.as_deref())?;
    if parent_path.len() + 1 + depth(&new) > MAX_DEPTH {
        return Err(too_deep());
    }
    let decision = last.select(&parent.children);
    let (index, anchor) = match decision {
        StepMatch::Many => {
            return Err(XcapError::CannotInsert(format!(
                "'{sel}' matches more than one element"
            )));
        }
        StepMatch::One(i) => (i, None),
        StepMatch::None => {
            let (i, anchor) = insertion_index(last, &parent.children).ok_or_else(|| {
                XcapError::CannotInsert(format!(
                    "'{sel}': not enough sibling elements for the position"
                ))
            })?;
            (i, Some(anchor))
        }
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
    if locate(doc, steps) == Located::Found(expected.clone()) {
        let change = match anchor {
            Some(at) => Change::Insert {
                parent: parent_path,
                at,
            },
            None => Change::Replace(expected),
        };
        return Ok((created, change));
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
/// request URI is checked against the result: its index, and its place
/// relative to the existing children (for the text). `None` when the
/// position cannot be reached.
fn insertion_index(step: &crate::selector::Step, children: &[Node]) -> Option<(usize, Anchor)> {
    let named: Vec<usize> = children
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n {
            Node::Element(e) if step.name.matches(e) => Some(i),
            _ => None,
        })
        .collect();
    let wildcard = matches!(step.name, crate::selector::NameTest::Any);
    let last = (children.len(), Anchor::End);
    match step.position {
        // Unconstrained: "earliest last", right after the last element of
        // the same name (the comments, text and whitespace after it stay
        // after it); with none (or a wildcard), after everything, past any
        // trailing comment or text.
        None => match named.last() {
            Some(&i) if !wildcard => Some((i + 1, Anchor::After(i))),
            _ => Some(last),
        },
        Some(0) => None,
        // n = 1: just before the first matching element, or last when there
        // is none.
        Some(1) => Some(named.first().map_or(last, |&i| (i, Anchor::Before(i)))),
        // n > 1: just after the (n-1)th matching element.
        Some(n) => named.get(n - 2).map(|&i| (i + 1, Anchor::After(i))),
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
    put_attribute_in(doc, sel, name, value).map(|(created, _)| created)
}

/// [`put_attribute`], with what changed.
fn put_attribute_in(
    doc: &mut Element,
    sel: &NodeSelector,
    name: &str,
    value: &[u8],
) -> Result<(Created, Change), XcapError> {
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
        let change = match &old {
            Some((index, _)) => Change::SetAttribute {
                element: path,
                index: *index,
            },
            None => Change::AddAttribute { element: path },
        };
        return Ok((old.is_none(), change));
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
    delete_in(doc, sel, target).map(|_| ())
}

/// [`delete`], with what changed.
fn delete_in(doc: &mut Element, sel: &NodeSelector, target: &Target) -> Result<Change, XcapError> {
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
                return Ok(Change::Remove(path));
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
                return Ok(Change::RemoveAttribute {
                    element: path,
                    index: i,
                });
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

/// What an edit changed, in terms of the tree before it: what
/// [`XmlDocument`] rewrites in the text. Paths are child indices below the
/// root, as [`locate`] gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// The root element was replaced by the body.
    Root,
    /// The element at this path was replaced by the body.
    Replace(Vec<usize>),
    /// The body was inserted among the children of the element at `parent`.
    Insert { parent: Vec<usize>, at: Anchor },
    /// The element at this path was removed.
    Remove(Vec<usize>),
    /// Attribute `index` of the element at `element` has a new value.
    SetAttribute { element: Vec<usize>, index: usize },
    /// A new attribute follows the others of the element at `element`.
    AddAttribute { element: Vec<usize> },
    /// Attribute `index` of the element at `element` was removed.
    RemoveAttribute { element: Vec<usize>, index: usize },
}

/// Where a new element goes in its parent's text (RFC 4825 §8.2.3), by the
/// index of an existing child element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// Right before the start tag of that child.
    Before(usize),
    /// Right after the end of that child: the whitespace, comments and text
    /// that followed it now follow the new element.
    After(usize),
    /// Last: right before the parent's end tag.
    End,
}

/// A stored document: its text, its tree, and where each element sits in
/// the text. An edit gives a new `XmlDocument` whose text differs from this
/// one only in the bytes of the node the request names — RFC 4825 §8.4
/// ("the XCAP server MUST preserve surrounding whitespace") and §8.2.3
/// (the body's namespace declarations are kept as sent): whitespace between
/// untouched elements, comments, processing instructions, namespace
/// prefixes and attribute quoting survive byte for byte.
///
/// Should the spliced text not read back as the edited tree (it always
/// should; this is a guard), the edit falls back to serializing the whole
/// tree, which is equivalent XML without the original formatting.
#[derive(Debug, Clone)]
pub struct XmlDocument {
    text: String,
    tree: Element,
    /// `None` when the text could not be scanned (edits then serialize the
    /// whole tree).
    spans: Option<Spans>,
}

impl XmlDocument {
    /// Parses a stored document (UTF-8, well-formed).
    pub fn parse(bytes: &[u8]) -> Result<XmlDocument, PidfError> {
        let tree = xml::parse_tree(bytes)?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| PidfError::NotUtf8)?;
        let spans = source::scan(&text);
        Ok(XmlDocument { text, tree, spans })
    }

    /// The document's root element.
    pub fn tree(&self) -> &Element {
        &self.tree
    }

    /// The document's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The document's text, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.text.into_bytes()
    }

    /// [`get`] on this document. An element comes back as the document's
    /// own bytes "starting with the opening bracket for the begin tag for
    /// that element, and ending with the closing bracket for the end tag"
    /// (RFC 4825 §7.6): its whitespace, comments and prefixes as stored, and
    /// no namespace declarations added from its ancestors. Attributes and
    /// namespace bindings as [`get`] gives them.
    pub fn get(&self, sel: &NodeSelector, target: &Target) -> Result<Selected, XcapError> {
        if matches!(target, Target::Element)
            && let Some(spans) = &self.spans
            && let Located::Found(path) = locate(&self.tree, sel.steps())
            && let Some(chain) = span_chain(&self.tree, spans, &path)
            && let Some(el) = chain.last()
            && let Some(bytes) = self.text.get(el.start..el.end)
        {
            return Ok(Selected::Element(bytes.to_owned()));
        }
        get(&self.tree, sel, target)
    }

    /// [`put_element`] on this document: the new document and whether the
    /// element was created. The body's element goes into the text as sent.
    pub fn put_element(
        &self,
        sel: &NodeSelector,
        body: &[u8],
    ) -> Result<(XmlDocument, Created), XcapError> {
        let mut tree = self.tree.clone();
        let (created, change) = put_element_in(&mut tree, sel, body)?;
        Ok((self.changed(tree, &change, body), created))
    }

    /// [`put_attribute`] on this document: the new document and whether the
    /// attribute was created.
    pub fn put_attribute(
        &self,
        sel: &NodeSelector,
        name: &str,
        value: &[u8],
    ) -> Result<(XmlDocument, Created), XcapError> {
        let mut tree = self.tree.clone();
        let (created, change) = put_attribute_in(&mut tree, sel, name, value)?;
        Ok((self.changed(tree, &change, b""), created))
    }

    /// [`delete`] on this document: the new document.
    pub fn delete(&self, sel: &NodeSelector, target: &Target) -> Result<XmlDocument, XcapError> {
        let mut tree = self.tree.clone();
        let change = delete_in(&mut tree, sel, target)?;
        Ok(self.changed(tree, &change, b""))
    }

    /// The document after `change`, which made `tree` from `self.tree`.
    fn changed(&self, tree: Element, change: &Change, body: &[u8]) -> XmlDocument {
        if let Some(spliced) = self.splice(&tree, change, body)
            && let Ok(again) = xml::parse_tree(spliced.as_bytes())
            && same_but_whitespace(&again, &tree)
        {
            // `again`, not `tree`: in mixed content the kept whitespace can
            // join a run of text the tree had without it.
            let spans = source::scan(&spliced);
            return XmlDocument {
                text: spliced,
                tree: again,
                spans,
            };
        }
        let text = xml::to_xml(&tree);
        let spans = source::scan(&text);
        XmlDocument { text, tree, spans }
    }

    /// The text with `change` applied to the bytes of the one node it
    /// touches; `new` is the edited tree. `None` when the spans do not fit.
    fn splice(&self, new: &Element, change: &Change, body: &[u8]) -> Option<String> {
        let spans = self.spans.as_ref()?;
        let chain = |path: &[usize]| span_chain(&self.tree, spans, path);
        let (range, replacement) = match change {
            Change::Root => {
                let root = spans.elements.first()?;
                (root.start..root.end, body_element(body, None, None)?)
            }
            Change::Replace(path) => {
                let (_, parent_path) = path.split_last()?;
                let parent = element_at(&self.tree, parent_path)?;
                let mut chain = chain(path)?;
                let el = chain.pop()?;
                let text = body_element(
                    body,
                    parent.namespace.as_deref(),
                    default_in_scope(&chain).as_deref(),
                )?;
                (el.start..el.end, text)
            }
            Change::Insert { parent: path, at } => {
                let parent = element_at(&self.tree, path)?;
                let chain = chain(path)?;
                let p = *chain.last()?;
                let text = body_element(
                    body,
                    parent.namespace.as_deref(),
                    default_in_scope(&chain).as_deref(),
                )?;
                let child = |i: usize| {
                    let mut full = path.clone();
                    full.push(i);
                    span_chain(&self.tree, spans, &full).and_then(|c| c.last().copied())
                };
                match at {
                    Anchor::Before(i) => {
                        let c = child(*i)?;
                        (c.start..c.start, text)
                    }
                    Anchor::After(i) => {
                        let c = child(*i)?;
                        (c.end..c.end, text)
                    }
                    Anchor::End if p.empty => {
                        // `<p .../>` becomes `<p ...>BODY</p>`.
                        let qname = self.text.get(p.start + 1..p.name_end)?;
                        (p.content_end..p.end, format!(">{text}</{qname}>"))
                    }
                    Anchor::End => (p.content_end..p.content_end, text),
                }
            }
            Change::Remove(path) => {
                let el = *chain(path)?.last()?;
                (el.start..el.end, String::new())
            }
            Change::SetAttribute { element, index } => {
                let el = *chain(element)?.last()?;
                let span = el.attributes.get(*index)?;
                let a = element_at(new, element)?.attributes.get(*index)?;
                let mut value = String::with_capacity(a.value.len() + 2);
                value.push('"');
                escape(&mut value, &a.value);
                value.push('"');
                (span.value.clone(), value)
            }
            Change::AddAttribute { element } => {
                let chain = chain(element)?;
                let el = *chain.last()?;
                let a = element_at(new, element)?.attributes.last()?;
                (el.attrs_end..el.attrs_end, new_attribute(&chain, a))
            }
            Change::RemoveAttribute { element, index } => {
                let el = *chain(element)?.last()?;
                let span = el.attributes.get(*index)?;
                (span.start..span.value.end, String::new())
            }
        };
        let mut out = String::with_capacity(self.text.len() + replacement.len());
        out.push_str(self.text.get(..range.start)?);
        out.push_str(&replacement);
        out.push_str(self.text.get(range.end..)?);
        Some(out)
    }
}

/// Whether two trees are the same but for whitespace in their text: same
/// names, attributes and child elements, and the same text once every
/// whitespace character is left out. The tree drops whitespace-only runs
/// of text; where an edit keeps the whitespace around a removed element
/// (RFC 4825 §8.4) in mixed content, it joins the text beside it.
fn same_but_whitespace(a: &Element, b: &Element) -> bool {
    fn text(e: &Element) -> String {
        e.text().chars().filter(|c| !c.is_whitespace()).collect()
    }
    a.namespace == b.namespace
        && a.name == b.name
        && a.attributes == b.attributes
        && text(a) == text(b)
        && a.elements().count() == b.elements().count()
        && a.elements()
            .zip(b.elements())
            .all(|(x, y)| same_but_whitespace(x, y))
}

/// The spans from the root down to the element at `path` (of `tree`, the
/// tree the spans were scanned with).
fn span_chain<'s>(
    tree: &Element,
    spans: &'s Spans,
    path: &[usize],
) -> Option<Vec<&'s ElementSpan>> {
    let mut chain = vec![spans.elements.first()?];
    let mut el = tree;
    for &i in path {
        // The tree's children hold text too; the spans only elements.
        let k = el
            .children
            .get(..i)?
            .iter()
            .filter(|n| matches!(n, Node::Element(_)))
            .count();
        let Some(Node::Element(child)) = el.children.get(i) else {
            return None;
        };
        let index = *chain.last()?.children.get(k)?;
        chain.push(spans.elements.get(index)?);
        el = child;
    }
    Some(chain)
}

/// The namespace bindings in scope inside the last element of `chain`
/// (prefix, `None` for the default; URI), a later declaration winning.
fn bindings_in_scope(chain: &[&ElementSpan]) -> Vec<(Option<String>, String)> {
    let mut out: Vec<(Option<String>, String)> = Vec::new();
    for (prefix, uri) in chain.iter().flat_map(|e| e.declarations.iter()) {
        out.retain(|(p, _)| p != prefix);
        out.push((prefix.clone(), uri.clone()));
    }
    out
}

/// The default namespace in scope inside the last element of `chain`.
fn default_in_scope(chain: &[&ElementSpan]) -> Option<String> {
    bindings_in_scope(chain)
        .into_iter()
        .find(|(p, _)| p.is_none())
        .map(|(_, uri)| uri)
        .filter(|uri| !uri.is_empty())
}

/// The element of an `application/xcap-el+xml` body as it goes into the
/// document: its bytes as sent, with every namespace declaration it has
/// (RFC 4825 §8.2.3: "MUST NOT remove redundant namespace declarations or
/// otherwise change" them). The body was read with the parent's namespace
/// (`context_ns`) as its default; where another default is in scope at
/// the insertion point (`scope_default`, e.g. under a prefixed parent) and
/// the body does not declare its own, one declaration for the parent's
/// namespace is added to the body's start tag so that it reads the same
/// in place.
fn body_element(
    body: &[u8],
    context_ns: Option<&str>,
    scope_default: Option<&str>,
) -> Option<String> {
    let text = fragment_text(body).ok()?;
    let spans = source::scan(text)?;
    let el = spans.elements.first()?;
    let raw = text.get(el.start..el.end)?;
    if context_ns == scope_default || !uses_outer_default(text, &spans, 0, false)? {
        return Some(raw.to_owned());
    }
    let name_end = el.name_end - el.start;
    let mut out = String::with_capacity(raw.len() + 32);
    out.push_str(raw.get(..name_end)?);
    out.push_str(" xmlns=\"");
    escape(&mut out, context_ns.unwrap_or(""));
    out.push('"');
    out.push_str(raw.get(name_end..)?);
    Some(out)
}

/// Whether the element `index` of a scanned fragment, or one below it, has
/// an unprefixed name outside any default-namespace declaration of the
/// fragment (`declared`: one is in scope already) — that is, whether its
/// meaning depends on the default namespace around it.
fn uses_outer_default(text: &str, spans: &Spans, index: usize, declared: bool) -> Option<bool> {
    let el = spans.elements.get(index)?;
    let declared = declared || el.declarations.iter().any(|(p, _)| p.is_none());
    if !declared && !text.get(el.start + 1..el.name_end)?.contains(':') {
        return Some(true);
    }
    for &child in &el.children {
        if uses_outer_default(text, spans, child, declared)? {
            return Some(true);
        }
    }
    Some(false)
}

/// ` name="value"` for a new attribute, with a prefix the element already
/// has in scope for its namespace, or a new declaration (`nsN`) beside it.
fn new_attribute(chain: &[&ElementSpan], a: &Attribute) -> String {
    let mut out = String::new();
    match a.namespace.as_deref() {
        None => out.push(' '),
        Some(NS_XML) => out.push_str(" xml:"),
        Some(ns) => {
            let scope = bindings_in_scope(chain);
            match scope
                .iter()
                .find_map(|(p, uri)| p.as_ref().filter(|_| uri == ns))
            {
                Some(p) => {
                    let _ = write!(out, " {p}:");
                }
                None => {
                    let taken = |n: &str| scope.iter().any(|(p, _)| p.as_deref() == Some(n));
                    let p = (1..)
                        .map(|i| format!("ns{i}"))
                        .find(|p| !taken(p))
                        .unwrap_or_default();
                    let _ = write!(out, " xmlns:{p}=\"");
                    escape(&mut out, ns);
                    let _ = write!(out, "\" {p}:");
                }
            }
        }
    }
    out.push_str(&a.name);
    out.push_str("=\"");
    escape(&mut out, &a.value);
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selector::parse_selector;

    const DOC: &str = "<?xml version=\"1.0\"?>\n<!-- c -->\n<r xmlns=\"urn:d\" xmlns:p='urn:p'>\n \
        <a id='1'>text<b/>more</a>\n <a id='2'/>\n <!-- between -->\n <p:c p:x='1' y=\"2\">\n  \
        <d/>\n </p:c>\n <e/>\n</r>\n";

    /// The edit goes through the splice (not the fallback) and reads back
    /// as the edited tree.
    fn check(doc: &XmlDocument, change: &Change, tree: &Element, body: &[u8]) -> String {
        let text = doc.splice(tree, change, body).expect("the splice applies");
        let again = xml::parse_tree(text.as_bytes()).expect("well-formed");
        assert!(same_but_whitespace(&again, tree), "{change:?}: {text}");
        text
    }

    #[test]
    fn every_element_deletion_and_insertion_splices() {
        let doc = XmlDocument::parse(DOC.as_bytes()).unwrap();
        let ns = [("p".to_owned(), "urn:p".to_owned())];
        let selectors = [
            "r/a[@id=\"1\"]",
            "r/a[@id=\"1\"]/b",
            "r/a[2]",
            "r/p:c",
            "r/p:c/d",
            "r/e",
            "r/*[4]",
        ];
        for raw in selectors {
            let (sel, target) = parse_selector(raw, &ns, "urn:d").unwrap();
            let mut tree = doc.tree().clone();
            let change = delete_in(&mut tree, &sel, &target).unwrap();
            let text = check(&doc, &change, &tree, b"");
            assert!(text.len() < DOC.len(), "{raw}");
        }
        let inserts: &[(&str, &str)] = &[
            ("r/a[@id=\"3\"]", "<a id=\"3\"/>"),
            ("r/a[1][@id=\"0\"]", "<a id=\"0\"/>"),
            ("r/*[1][@id=\"0\"]", "<f id=\"0\"/>"),
            ("r/*[3][@id=\"x\"]", "<g id=\"x\"/>"),
            ("r/z", "<z><y/></z>"),
            ("r/e/f", "<f/>"),
            ("r/a[@id=\"1\"]/q", "<q/>"),
            ("r/p:c/d2", "<d2 xmlns=\"urn:d\"/>"),
            ("r/p:c/p:k2", "<k2><k3/></k2>"),
            ("r/p:c/p:k", "<p:k xmlns:p=\"urn:p\"/>"),
            ("r/p:c", "<c xmlns=\"urn:p\">new</c>"),
            ("r", "<r xmlns=\"urn:d\"/>"),
        ];
        for (raw, body) in inserts {
            let (sel, _) = parse_selector(raw, &ns, "urn:d").unwrap();
            let mut tree = doc.tree().clone();
            let (_, change) = put_element_in(&mut tree, &sel, body.as_bytes()).unwrap();
            let text = check(&doc, &change, &tree, body.as_bytes());
            // An insertion adds one run of bytes and keeps every other (an
            // empty-element tag opening first).
            if matches!(change, Change::Insert { .. }) {
                let kept = |doc: &str| {
                    let extra = text.len().saturating_sub(doc.len());
                    (0..=doc.len()).any(|i| {
                        text.get(..i) == doc.get(..i) && text.get(i + extra..) == doc.get(i..)
                    })
                };
                assert!(
                    kept(DOC) || kept(&DOC.replace("<e/>", "<e></e>")),
                    "{raw}: {text}"
                );
            }
        }
        let attrs: &[(&str, &str)] = &[
            ("r/p:c/@p:x", "\"v\""),
            ("r/p:c/@y", "'w'"),
            ("r/p:c/@new", "\"n\""),
            ("r/e/@p:new", "\"n\""),
            ("r/e/@q:new", "\"n\""),
        ];
        let ns2 = [
            ("p".to_owned(), "urn:p".to_owned()),
            ("q".to_owned(), "urn:q".to_owned()),
        ];
        for (raw, value) in attrs {
            let (sel, target) = parse_selector(raw, &ns2, "urn:d").unwrap();
            let Target::Attribute(name) = &target else {
                panic!("{raw}")
            };
            let mut tree = doc.tree().clone();
            let (_, change) = put_attribute_in(&mut tree, &sel, name, value.as_bytes()).unwrap();
            check(&doc, &change, &tree, b"");
            let mut tree = doc.tree().clone();
            if let Ok(change) = delete_in(&mut tree, &sel, &target) {
                check(&doc, &change, &tree, b"");
            }
        }
    }

    #[test]
    fn removing_an_element_between_text_runs_keeps_the_text() {
        let doc = XmlDocument::parse(b"<r>\n <a>x<b/>y</a>\n</r>").unwrap();
        let (sel, target) = parse_selector("r/a/b", &[], "").unwrap();
        let new = doc.delete(&sel, &target).unwrap();
        assert_eq!(new.text(), "<r>\n <a>xy</a>\n</r>");
        assert_eq!(
            xml::parse_tree(new.text().as_bytes()).ok().as_ref(),
            Some(new.tree())
        );
    }
}
