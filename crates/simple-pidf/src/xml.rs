//! A small namespace-resolved XML tree over quick-xml events, and its writer.
//!
//! Unknown elements are kept as [`Element`]s so that a presence agent can
//! pass on extensions it does not understand (RFC 3863 §4.2.5, RFC 4479 §6).
//! Whitespace-only text between elements is dropped; comments and
//! processing instructions are dropped; adjacent text and CDATA merge.

use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::error::PidfError;
use crate::{MAX_DEPTH, NS_CAPS, NS_CIPID, NS_DM, NS_RPID, NS_TIMED};

/// The `xml:` namespace (`xml:lang`).
pub(crate) const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";

/// A preserved XML element: an extension this crate does not model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Namespace URI; `None` for an element in no namespace.
    pub namespace: Option<String>,
    /// Local name (no prefix).
    pub name: String,
    /// Attributes in document order (namespace declarations excluded).
    pub attributes: Vec<Attribute>,
    /// Child elements and text, in document order.
    pub children: Vec<Node>,
}

/// An attribute of a preserved [`Element`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Namespace URI; `None` for an unprefixed attribute.
    pub namespace: Option<String>,
    /// Local name.
    pub name: String,
    /// Unescaped value.
    pub value: String,
}

/// A child of an [`Element`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data (never whitespace-only).
    Text(String),
}

impl Element {
    /// A new element with no attributes or children.
    pub fn new(namespace: Option<&str>, name: &str) -> Element {
        Element {
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Whether this element is `{namespace}name`.
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace.as_deref() == Some(namespace) && self.name == name
    }

    /// The value of the un-namespaced attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.namespace.is_none() && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// The value of `xml:lang`.
    pub fn lang(&self) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.namespace.as_deref() == Some(NS_XML) && a.name == "lang")
            .map(|a| a.value.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Concatenated direct text content.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }

    /// Whether any child is an element.
    pub(crate) fn has_element_children(&self) -> bool {
        self.children.iter().any(|n| matches!(n, Node::Element(_)))
    }
}

fn not_well_formed(position: u64, reason: impl std::fmt::Display) -> PidfError {
    PidfError::NotWellFormed {
        position,
        reason: reason.to_string(),
    }
}

/// XML 1.0 §2.2 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn check_chars(s: &str, position: u64) -> Result<(), PidfError> {
    // Fast path: printable ASCII and the three allowed controls.
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return Ok(());
    }
    match s.chars().find(|c| !is_xml_char(*c)) {
        Some(c) => Err(not_well_formed(
            position,
            format_args!("character U+{:04X} not allowed", u32::from(c)),
        )),
        None => Ok(()),
    }
}

/// Namespaces in XML §3 `NCName` (approximated: ASCII letters, digits and
/// `._-`, anything non-ASCII; no colon; not starting with a digit, `.` or `-`).
fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start = |c: char| c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && is_xml_char(c));
    start(first) && chars.all(|c| start(c) || c.is_ascii_digit() || c == '.' || c == '-')
}

struct Builder {
    stack: Vec<Element>,
    root: Option<Element>,
    text: String,
}

impl Builder {
    /// Flushes pending text into the current element.
    fn flush_text(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        if text.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
            return;
        }
        if let Some(top) = self.stack.last_mut() {
            top.children.push(Node::Text(text));
        }
    }

    fn push_text(&mut self, s: &str, position: u64) -> Result<(), PidfError> {
        check_chars(s, position)?;
        if self.stack.is_empty() {
            if s.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
                return Ok(());
            }
            return Err(not_well_formed(position, "text outside the root element"));
        }
        self.text.push_str(s);
        Ok(())
    }

    fn close(&mut self, el: Element) {
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(Node::Element(el)),
            None => self.root = Some(el),
        }
    }
}

fn open_element(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    position: u64,
    cache: &mut NsCache,
) -> Result<Element, PidfError> {
    let (ns, _) = reader.resolve_element(start.name());
    let namespace = cache.resolve(ns, position)?;
    if matches!(
        namespace.as_deref(),
        Some(NS_XML | "http://www.w3.org/2000/xmlns/")
    ) {
        return Err(not_well_formed(position, "element in a reserved namespace"));
    }
    let local = start.local_name();
    let name = std::str::from_utf8(local.as_ref()).map_err(|_| PidfError::NotUtf8)?;
    if !is_ncname(name) {
        return Err(not_well_formed(
            position,
            format_args!("invalid element name '{name}'"),
        ));
    }
    let mut el = Element {
        namespace,
        name: name.to_owned(),
        attributes: Vec::new(),
        children: Vec::new(),
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| not_well_formed(position, e))?;
        let key = attr.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let (ans, alocal) = reader.resolve_attribute(attr.key);
        let namespace = match ans {
            ResolveResult::Unbound => None,
            other => cache.resolve(other, position)?,
        };
        let name = std::str::from_utf8(alocal.as_ref()).map_err(|_| PidfError::NotUtf8)?;
        if !is_ncname(name) {
            return Err(not_well_formed(
                position,
                format_args!("invalid attribute name '{name}'"),
            ));
        }
        let value = attr
            .unescape_value()
            .map_err(|e| not_well_formed(position, e))?;
        check_chars(&value, position)?;
        // Namespaces in XML §6.3: no two attributes with the same expanded name.
        if el
            .attributes
            .iter()
            .any(|a| a.namespace == namespace && a.name == name)
        {
            return Err(not_well_formed(
                position,
                format_args!("duplicate attribute '{name}'"),
            ));
        }
        el.attributes.push(Attribute {
            namespace,
            name: name.to_owned(),
            value: value.into_owned(),
        });
    }
    Ok(el)
}

/// The namespaces of one document, resolved once each: a PIDF document
/// names the same few URIs on every element.
#[derive(Default)]
struct NsCache {
    seen: Vec<(Vec<u8>, Option<String>)>,
}

impl NsCache {
    fn resolve(
        &mut self,
        ns: ResolveResult<'_>,
        position: u64,
    ) -> Result<Option<String>, PidfError> {
        let ResolveResult::Bound(raw) = &ns else {
            return resolved(ns, position);
        };
        if let Some((_, done)) = self.seen.iter().find(|(r, _)| r[..] == *raw.as_ref()) {
            return Ok(done.clone());
        }
        let key = raw.as_ref().to_vec();
        let done = resolved(ns, position)?;
        if self.seen.len() < 16 {
            self.seen.push((key, done.clone()));
        }
        Ok(done)
    }
}

fn resolved(ns: ResolveResult<'_>, position: u64) -> Result<Option<String>, PidfError> {
    match ns {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(ns) => {
            let uri = std::str::from_utf8(ns.as_ref()).map_err(|_| PidfError::NotUtf8)?;
            let uri = quick_xml::escape::unescape(uri).map_err(|e| not_well_formed(position, e))?;
            check_chars(&uri, position)?;
            if uri.is_empty() {
                Ok(None)
            } else {
                Ok(Some(uri.into_owned()))
            }
        }
        ResolveResult::Unknown(prefix) => Err(not_well_formed(
            position,
            format_args!(
                "unbound namespace prefix '{}'",
                String::from_utf8_lossy(&prefix)
            ),
        )),
    }
}

/// Parses a whole document into its root element.
pub fn parse_tree(xml: &[u8]) -> Result<Element, PidfError> {
    let text = std::str::from_utf8(xml).map_err(|_| PidfError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_comments = true;
    let mut b = Builder {
        stack: Vec::new(),
        root: None,
        text: String::new(),
    };
    let mut ns_cache = NsCache::default();
    loop {
        let position = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => return Err(not_well_formed(reader.error_position(), e)),
        };
        match event {
            Event::Start(_) | Event::Empty(_) if b.root.is_some() => {
                return Err(not_well_formed(position, "more than one root element"));
            }
            Event::Start(start) => {
                b.flush_text();
                if b.stack.len() >= MAX_DEPTH {
                    return Err(PidfError::TooDeep);
                }
                let el = open_element(&reader, &start, position, &mut ns_cache)?;
                b.stack.push(el);
            }
            Event::Empty(start) => {
                b.flush_text();
                if b.stack.len() >= MAX_DEPTH {
                    return Err(PidfError::TooDeep);
                }
                let el = open_element(&reader, &start, position, &mut ns_cache)?;
                b.close(el);
            }
            Event::End(_) => {
                b.flush_text();
                match b.stack.pop() {
                    Some(el) => b.close(el),
                    None => return Err(not_well_formed(position, "unmatched end tag")),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| not_well_formed(position, e))?;
                b.push_text(&s, position)?;
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| not_well_formed(position, e))?;
                if b.stack.is_empty() {
                    return Err(not_well_formed(position, "CDATA outside the root element"));
                }
                b.push_text(&s, position)?;
            }
            Event::GeneralRef(r) => {
                let c = match r
                    .resolve_char_ref()
                    .map_err(|e| not_well_formed(position, e))?
                {
                    Some(c) => c,
                    None => {
                        let name = r.decode().map_err(|e| not_well_formed(position, e))?;
                        match &*name {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "apos" => '\'',
                            "quot" => '"',
                            other => {
                                return Err(not_well_formed(
                                    position,
                                    format_args!("undefined entity '{other}'"),
                                ));
                            }
                        }
                    }
                };
                if b.stack.is_empty() {
                    return Err(not_well_formed(
                        position,
                        "reference outside the root element",
                    ));
                }
                b.push_text(c.encode_utf8(&mut [0; 4]), position)?;
            }
            Event::DocType(_) => return Err(PidfError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !b.stack.is_empty() {
        return Err(not_well_formed(
            text.len() as u64,
            "unexpected end of document",
        ));
    }
    b.root
        .ok_or_else(|| not_well_formed(text.len() as u64, "no root element"))
}

/// The fixed prefix of a namespace this crate declares on the root.
pub(crate) fn fixed_prefix(ns: &str) -> Option<&'static str> {
    match ns {
        NS_DM => Some("dm"),
        NS_RPID => Some("rpid"),
        NS_CIPID => Some("c"),
        NS_CAPS => Some("caps"),
        NS_TIMED => Some("ts"),
        _ => None,
    }
}

/// Escapes character data.
pub fn escape_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Escapes an attribute value (double-quoted); whitespace characters are
/// written as references so that they survive attribute-value normalization.
pub fn escape_attr(out: &mut String, s: &str) {
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

/// Serializes `el` as a whole document: the XML declaration, then `el` as
/// the root element, with the fixed prefixes used anywhere below it
/// declared on it.
pub fn to_xml(el: &Element) -> String {
    let mut body = String::new();
    write_element(&mut body, el, None);
    let mut used: Vec<&str> = Vec::new();
    collect_fixed(el, &mut used);
    let mut decls = String::new();
    for ns in used {
        let p = fixed_prefix(ns).unwrap_or_default();
        let _ = write!(decls, " xmlns:{p}=\"");
        escape_attr(&mut decls, ns);
        decls.push('"');
    }
    // The root start tag is `<`, its qname, then ' ', '/' or '>'.
    let split = body
        .get(1..)
        .and_then(|rest| rest.find([' ', '/', '>']))
        .map_or(body.len(), |i| i + 1);
    let (head, tail) = body.split_at(split);
    let mut out = String::with_capacity(body.len() + decls.len() + 40);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(head);
    out.push_str(&decls);
    out.push_str(tail);
    out
}

/// The namespaces with a fixed prefix used by `el` or below, once each.
fn collect_fixed<'a>(el: &'a Element, used: &mut Vec<&'a str>) {
    let names = el
        .namespace
        .iter()
        .chain(el.attributes.iter().filter_map(|a| a.namespace.as_ref()));
    for ns in names {
        if fixed_prefix(ns).is_some() && !used.contains(&ns.as_str()) {
            used.push(ns);
        }
    }
    for child in &el.children {
        if let Node::Element(c) = child {
            collect_fixed(c, used);
        }
    }
}

/// Writes a preserved element. `default_ns` is the default namespace in
/// scope; the fixed prefixes must be declared by the caller on the root
/// (as [`to_xml`] does).
pub fn write_element(out: &mut String, el: &Element, default_ns: Option<&str>) {
    write_element_with(out, el, default_ns, &fixed_prefix);
}

/// [`write_element`] with the caller's prefix table: a namespace `prefix`
/// maps to a prefix is written with it (the caller declares it on its
/// root); any other namespace becomes a default-namespace declaration on
/// the element (attributes: generated `n0`, `n1`... prefixes).
pub fn write_element_with(
    out: &mut String,
    el: &Element,
    default_ns: Option<&str>,
    prefix: &dyn Fn(&str) -> Option<&'static str>,
) {
    let mut decls = String::new();
    let (qname, child_default) = match el.namespace.as_deref() {
        Some(ns) if prefix(ns).is_some() => {
            let p = prefix(ns).unwrap_or_default();
            (format!("{p}:{}", el.name), default_ns)
        }
        ns if ns == default_ns => (el.name.clone(), default_ns),
        ns => {
            decls.push_str(" xmlns=\"");
            escape_attr(&mut decls, ns.unwrap_or(""));
            decls.push('"');
            (el.name.clone(), ns)
        }
    };
    out.push('<');
    out.push_str(&qname);
    out.push_str(&decls);
    let mut generated: Vec<&str> = Vec::new();
    for a in &el.attributes {
        out.push(' ');
        match a.namespace.as_deref() {
            None => {}
            Some(NS_XML) => out.push_str("xml:"),
            Some(ns) => match prefix(ns) {
                Some(p) => {
                    out.push_str(p);
                    out.push(':');
                }
                None => {
                    let i = match generated.iter().position(|g| *g == ns) {
                        Some(i) => i,
                        None => {
                            generated.push(ns);
                            let i = generated.len() - 1;
                            let _ = write!(out, "xmlns:n{i}=\"");
                            escape_attr(out, ns);
                            out.push_str("\" ");
                            i
                        }
                    };
                    let _ = write!(out, "n{i}:");
                }
            },
        }
        out.push_str(&a.name);
        out.push_str("=\"");
        escape_attr(out, &a.value);
        out.push('"');
    }
    if el.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in &el.children {
        match child {
            Node::Element(c) => write_element_with(out, c, child_default, prefix),
            Node::Text(t) => escape_text(out, t),
        }
    }
    out.push_str("</");
    out.push_str(&qname);
    out.push('>');
}
