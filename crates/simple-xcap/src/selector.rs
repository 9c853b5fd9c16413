//! Node selectors (RFC 4825 §6.3) and their evaluation on a document tree.
//!
//! ```text
//! node-selector   = element-selector ["/" terminal-selector]
//! element-selector= step *( "/" step)
//! step            = NameorAny [ "[" position "]" ] [ "[" "@" att-name "=" AttValue "]" ]
//! terminal        = "@" att-name / "namespace::*"
//! ```
//!
//! Names are expanded when the selector is parsed: a prefix through the
//! `xmlns()` bindings of the query (§6.4), an unprefixed element name into
//! the application usage's default document namespace, an unprefixed
//! attribute name into no namespace. Extension selectors are not
//! understood and answered with 400.
//!
//! Evaluation (§6.3): each step must select exactly one element among the
//! children of the previous one; the position predicate counts among the
//! elements whose name matches, and is applied before the attribute test.

use std::fmt;

use simple_pidf::xml::{Element, Node};

use crate::error::XcapError;
use crate::uri::{encode_selector, is_qname};

/// The `xml:` namespace, bound to the `xml` prefix without declaration.
const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";

/// A parsed node selector: its element steps. The terminal selector is
/// returned beside it as a [`Target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSelector {
    steps: Vec<Step>,
    /// The steps as written (prefixes unexpanded), to name an ancestor.
    raw: Vec<String>,
}

/// One location step: a name test with optional predicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub(crate) name: NameTest,
    pub(crate) position: Option<usize>,
    pub(crate) attr: Option<AttrTest>,
}

/// `NameorAny`, expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameTest {
    Any,
    Name {
        namespace: Option<String>,
        local: String,
    },
}

/// `[@name="value"]`, expanded and with the value unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrTest {
    pub(crate) namespace: Option<String>,
    pub(crate) local: String,
    pub(crate) value: String,
}

/// What the selector names once its element steps are taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The element selected by the last step.
    Element,
    /// An attribute of that element, by expanded name in Clark notation:
    /// `{namespace}local`, or just `local` for an attribute in no
    /// namespace.
    Attribute(String),
    /// The namespace bindings in scope for that element (`namespace::*`).
    Namespaces,
}

impl NodeSelector {
    /// Number of element steps (at least one).
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Always `false`: a selector has at least one step.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub(crate) fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The first `n` steps as written, percent-encoded for a URI
    /// (RFC 4825 §11.1 `<ancestor>`); empty for `n == 0`.
    pub(crate) fn encoded_prefix(&self, n: usize) -> String {
        let n = n.min(self.raw.len());
        encode_selector(&self.raw[..n].join("/"))
    }
}

impl fmt::Display for NodeSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw.join("/"))
    }
}

/// Parses a percent-decoded node selector (RFC 4825 §6.3). `bindings` are
/// the `xmlns()` bindings of the request URI (a later one wins);
/// `default_ns` is the application usage's default document namespace
/// (empty for none). Errors are 400s.
pub fn parse_selector(
    raw: &str,
    bindings: &[(String, String)],
    default_ns: &str,
) -> Result<(NodeSelector, Target), XcapError> {
    let segments = split_steps(raw)?;
    let mut steps = Vec::with_capacity(segments.len());
    let mut raws = Vec::with_capacity(segments.len());
    let mut target = Target::Element;
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        if i == last && i > 0 {
            if seg == "namespace::*" {
                target = Target::Namespaces;
                break;
            }
            if let Some(name) = seg.strip_prefix('@') {
                let (namespace, local) = expand_attr(name, bindings)?;
                target = Target::Attribute(clark(namespace.as_deref(), &local));
                break;
            }
        }
        steps.push(parse_step(seg, bindings, default_ns)?);
        raws.push(seg.clone());
    }
    if steps.is_empty() {
        return Err(bad("a node selector needs an element step"));
    }
    Ok((NodeSelector { steps, raw: raws }, target))
}

fn bad(reason: impl Into<String>) -> XcapError {
    XcapError::BadRequest(reason.into())
}

/// `{ns}local`, or `local` without a namespace.
fn clark(namespace: Option<&str>, local: &str) -> String {
    match namespace {
        Some(ns) => format!("{{{ns}}}{local}"),
        None => local.to_owned(),
    }
}

/// Splits a Clark-notation name back into namespace and local name.
pub(crate) fn split_clark(name: &str) -> (Option<&str>, &str) {
    match name.strip_prefix('{').and_then(|r| r.split_once('}')) {
        Some((ns, local)) => (Some(ns), local),
        None => (None, name),
    }
}

/// Splits on `/` outside quoted attribute values.
fn split_steps(raw: &str) -> Result<Vec<String>, XcapError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in raw.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '/') => out.push(std::mem::take(&mut cur)),
            (None, c) => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err(bad("unterminated attribute value in the node selector"));
    }
    out.push(cur);
    if out.iter().any(String::is_empty) {
        return Err(bad("empty step in the node selector"));
    }
    Ok(out)
}

fn lookup<'a>(prefix: &str, bindings: &'a [(String, String)]) -> Option<&'a str> {
    bindings
        .iter()
        .rev()
        .find(|(p, _)| p == prefix)
        .map(|(_, uri)| uri.as_str())
}

/// Expands an element QName (RFC 4825 §6.3: unprefixed means the default
/// document namespace).
fn expand_element(
    qname: &str,
    bindings: &[(String, String)],
    default_ns: &str,
) -> Result<NameTest, XcapError> {
    if qname == "*" {
        return Ok(NameTest::Any);
    }
    if !is_qname(qname) {
        return Err(bad(format!("'{qname}' is not an element name")));
    }
    let (namespace, local) = match qname.split_once(':') {
        Some((prefix, local)) => {
            let ns = lookup(prefix, bindings)
                .ok_or_else(|| bad(format!("namespace prefix '{prefix}' is not bound")))?;
            (Some(ns.to_owned()), local)
        }
        None => (
            (!default_ns.is_empty()).then(|| default_ns.to_owned()),
            qname,
        ),
    };
    Ok(NameTest::Name {
        namespace,
        local: local.to_owned(),
    })
}

/// Expands an attribute QName (unprefixed means no namespace; `xml:` is
/// predefined). Namespace declarations are not attributes (§6.3).
fn expand_attr(
    qname: &str,
    bindings: &[(String, String)],
) -> Result<(Option<String>, String), XcapError> {
    if !is_qname(qname) {
        return Err(bad(format!("'{qname}' is not an attribute name")));
    }
    match qname.split_once(':') {
        Some(("xmlns", _)) => Err(bad("namespace declarations are not attributes")),
        Some((prefix, local)) => {
            let ns = match lookup(prefix, bindings) {
                Some(ns) => ns,
                None if prefix == "xml" => NS_XML,
                None => return Err(bad(format!("namespace prefix '{prefix}' is not bound"))),
            };
            Ok((Some(ns.to_owned()), local.to_owned()))
        }
        None if qname == "xmlns" => Err(bad("namespace declarations are not attributes")),
        None => Ok((None, qname.to_owned())),
    }
}

fn parse_step(
    seg: &str,
    bindings: &[(String, String)],
    default_ns: &str,
) -> Result<Step, XcapError> {
    let (name, mut rest) = match seg.find('[') {
        Some(i) => (&seg[..i], &seg[i..]),
        None => (seg, ""),
    };
    let name = expand_element(name, bindings, default_ns)?;
    let mut predicates = Vec::new();
    while !rest.is_empty() {
        let inner = rest
            .strip_prefix('[')
            .ok_or_else(|| bad(format!("unexpected text in step '{seg}'")))?;
        let close = predicate_end(inner)
            .ok_or_else(|| bad(format!("unterminated predicate in step '{seg}'")))?;
        predicates.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    let (position, attr) = match predicates.as_slice() {
        [] => (None, None),
        [p] if p.starts_with('@') => (None, Some(parse_attr_test(p, bindings)?)),
        [p] => (Some(parse_position(p)?), None),
        [p, a] if a.starts_with('@') => (
            Some(parse_position(p)?),
            Some(parse_attr_test(a, bindings)?),
        ),
        _ => return Err(bad(format!("unsupported predicates in step '{seg}'"))),
    };
    Ok(Step {
        name,
        position,
        attr,
    })
}

/// Index of the `]` closing a predicate, skipping quoted values.
fn predicate_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, ']') => return Some(i),
            (None, _) => {}
        }
    }
    None
}

fn parse_position(p: &str) -> Result<usize, XcapError> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("unsupported predicate '[{p}]'")));
    }
    // A position beyond any document never matches; saturate rather than fail.
    Ok(p.parse::<usize>().unwrap_or(usize::MAX))
}

fn parse_attr_test(p: &str, bindings: &[(String, String)]) -> Result<AttrTest, XcapError> {
    let body = p.strip_prefix('@').unwrap_or(p);
    let (name, value) = body
        .split_once('=')
        .ok_or_else(|| bad(format!("attribute test '[{p}]' without '='")))?;
    let (namespace, local) = expand_attr(name, bindings)?;
    let value = parse_att_value(value)
        .map_err(|reason| bad(format!("attribute test '[{p}]': {reason}")))?;
    Ok(AttrTest {
        namespace,
        local,
        value,
    })
}

/// XML 1.0 `AttValue` (quotes included), unescaped.
pub(crate) fn parse_att_value(s: &str) -> Result<String, String> {
    let mut chars = s.chars();
    let q = match chars.next() {
        Some(q @ ('"' | '\'')) => q,
        _ => return Err("the value is not quoted".to_owned()),
    };
    let inner = chars.as_str();
    let inner = inner
        .strip_suffix(q)
        .ok_or_else(|| "unterminated value".to_owned())?;
    if inner.contains(q) {
        return Err("quote inside the value".to_owned());
    }
    unescape_att_content(inner)
}

/// The content of an `AttValue` between its quotes: no `<`, `&` only in a
/// reference; references are resolved.
pub(crate) fn unescape_att_content(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['&', '<']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with('<') {
            return Err("'<' in the value".to_owned());
        }
        let end = tail
            .find(';')
            .ok_or_else(|| "'&' not starting a reference".to_owned())?;
        let name = &tail[1..end];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    None
                };
                code.filter(|_| !name.contains(['+', '-']))
                    .and_then(char::from_u32)
                    .filter(|c| is_xml_char(*c))
                    .ok_or_else(|| format!("bad reference '&{name};'"))?
            }
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    if let Some(c) = out.chars().find(|c| !is_xml_char(*c)) {
        return Err(format!("character U+{:04X} not allowed", u32::from(c)));
    }
    Ok(out)
}

/// XML 1.0 §2.2 `Char`.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The outcome of one step among candidate siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepMatch {
    /// Nothing matches.
    None,
    /// Exactly one element, by index into the parent's `children`.
    One(usize),
    /// More than one element: the selector is invalid (§6.3).
    Many,
}

impl NameTest {
    pub(crate) fn matches(&self, el: &Element) -> bool {
        match self {
            NameTest::Any => true,
            NameTest::Name { namespace, local } => {
                el.namespace.as_deref() == namespace.as_deref() && el.name == *local
            }
        }
    }
}

impl AttrTest {
    pub(crate) fn matches(&self, el: &Element) -> bool {
        el.attributes.iter().any(|a| {
            a.namespace.as_deref() == self.namespace.as_deref()
                && a.name == self.local
                && a.value == self.value
        })
    }
}

impl Step {
    /// Evaluates the step among `children` (RFC 4825 §6.3).
    pub(crate) fn select(&self, children: &[Node]) -> StepMatch {
        let mut named = children.iter().enumerate().filter_map(|(i, n)| match n {
            Node::Element(e) if self.name.matches(e) => Some((i, e)),
            _ => None,
        });
        let mut found: Option<usize> = None;
        if let Some(p) = self.position {
            // The position counts among the elements whose name matches.
            let Some((i, e)) = p.checked_sub(1).and_then(|k| named.nth(k)) else {
                return StepMatch::None;
            };
            return match &self.attr {
                Some(a) if !a.matches(e) => StepMatch::None,
                _ => StepMatch::One(i),
            };
        }
        for (i, e) in named {
            if self.attr.as_ref().is_none_or(|a| a.matches(e)) {
                if found.is_some() {
                    return StepMatch::Many;
                }
                found = Some(i);
            }
        }
        found.map_or(StepMatch::None, StepMatch::One)
    }

    /// Evaluates the first step against the document node, whose only
    /// child is the root element.
    pub(crate) fn select_root(&self, root: &Element) -> bool {
        self.name.matches(root)
            && self.position.is_none_or(|p| p == 1)
            && self.attr.as_ref().is_none_or(|a| a.matches(root))
    }
}

/// Where a selector leads in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Located {
    /// Every step selected one element; the path of child indices below
    /// the root (empty for the root itself).
    Found(Vec<usize>),
    /// Only the first `n` steps selected one element each.
    Missing(usize),
}

/// Takes `steps` from the document node.
pub(crate) fn locate(doc: &Element, steps: &[Step]) -> Located {
    let Some((first, rest)) = steps.split_first() else {
        return Located::Missing(0);
    };
    if !first.select_root(doc) {
        return Located::Missing(0);
    }
    let mut path = Vec::with_capacity(rest.len());
    let mut el = doc;
    for (k, step) in rest.iter().enumerate() {
        match step.select(&el.children) {
            StepMatch::One(i) => {
                path.push(i);
                match el.children.get(i) {
                    Some(Node::Element(child)) => el = child,
                    _ => return Located::Missing(k + 1),
                }
            }
            StepMatch::None | StepMatch::Many => return Located::Missing(k + 1),
        }
    }
    Located::Found(path)
}

/// The element at `path` below `root`.
pub(crate) fn element_at<'a>(root: &'a Element, path: &[usize]) -> Option<&'a Element> {
    let mut el = root;
    for &i in path {
        match el.children.get(i) {
            Some(Node::Element(child)) => el = child,
            _ => return None,
        }
    }
    Some(el)
}

/// The element at `path` below `root`, mutably.
pub(crate) fn element_at_mut<'a>(root: &'a mut Element, path: &[usize]) -> Option<&'a mut Element> {
    let mut el = root;
    for &i in path {
        match el.children.get_mut(i) {
            Some(Node::Element(child)) => el = child,
            _ => return None,
        }
    }
    Some(el)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_respecting_quotes() {
        let s = split_steps("a/b[@c=\"x/y\"]/@d").ok();
        assert_eq!(
            s,
            Some(vec!["a".into(), "b[@c=\"x/y\"]".into(), "@d".into()])
        );
        assert!(split_steps("a//b").is_err());
        assert!(split_steps("a/b[@c=\"x]").is_err());
    }

    #[test]
    fn att_value_references() {
        assert_eq!(
            parse_att_value("'a&amp;b&#x41;&#66;&quot;'")
                .ok()
                .as_deref(),
            Some("a&bAB\"")
        );
        assert!(parse_att_value("\"a&b\"").is_err());
        assert!(parse_att_value("\"a<b\"").is_err());
        assert!(parse_att_value("\"&#0;\"").is_err());
        assert!(parse_att_value("abc").is_err());
    }

    #[test]
    fn clark_round_trip() {
        assert_eq!(split_clark("{urn:x}a"), (Some("urn:x"), "a"));
        assert_eq!(split_clark("a"), (None, "a"));
    }
}
