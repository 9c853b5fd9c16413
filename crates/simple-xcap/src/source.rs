//! Where each element of a document's text is: byte spans found by a light
//! scan of text the tree parser has already accepted as well-formed, so
//! that an edit rewrites the bytes of the one node it touches and leaves
//! every other byte as it was — whitespace between elements, comments,
//! processing instructions, namespace prefixes, attribute quoting
//! (RFC 4825 §8.2.3, §8.4: surrounding whitespace is preserved).
//!
//! The scan trusts the tree parser for well-formedness; it only has to
//! find tags. Anything it does not expect makes it give up (`None`), and
//! the caller then serializes the whole tree instead.

use std::ops::Range;

use crate::selector::unescape_att_content;

/// The spans of every element of a document (or of a fragment holding one
/// element), in document order: `elements[0]` is the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spans {
    pub(crate) elements: Vec<ElementSpan>,
}

/// One element's place in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ElementSpan {
    /// The `<` of the start tag.
    pub(crate) start: usize,
    /// Just after the qualified name in the start tag.
    pub(crate) name_end: usize,
    /// Just after the last attribute or namespace declaration of the
    /// start tag (`name_end` when there is none): where a new attribute
    /// goes.
    pub(crate) attrs_end: usize,
    /// For an element with content, the `<` of its end tag; for an empty
    /// element tag, the `/` of its `/>`.
    pub(crate) content_end: usize,
    /// Just after the element's last `>`.
    pub(crate) end: usize,
    /// Written as an empty-element tag (`<a/>`).
    pub(crate) empty: bool,
    /// Namespace declarations of the start tag: (prefix, `None` for the
    /// default namespace; the URI, unescaped, empty to undeclare).
    pub(crate) declarations: Vec<(Option<String>, String)>,
    /// The attributes other than namespace declarations, in order (the
    /// order of the tree's [`simple_pidf::xml::Element::attributes`]).
    pub(crate) attributes: Vec<AttributeSpan>,
    /// Indexes into [`Spans::elements`] of the child elements, in order.
    pub(crate) children: Vec<usize>,
}

/// One attribute's place in a start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttributeSpan {
    /// From the whitespace before the name: removing `start..value.end`
    /// removes the attribute and leaves the tag well-formed.
    pub(crate) start: usize,
    /// The value, quotes included.
    pub(crate) value: Range<usize>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn find(text: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    text.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| from + i)
}

fn find_byte(text: &[u8], from: usize, b: u8) -> Option<usize> {
    text.get(from..)?
        .iter()
        .position(|&c| c == b)
        .map(|i| from + i)
}

/// Scans `text`, a well-formed document or a fragment holding one element
/// (with only whitespace, comments and processing instructions around it).
/// `None` when it is not of that shape.
pub(crate) fn scan(text: &str) -> Option<Spans> {
    let b = text.as_bytes();
    let mut elements: Vec<ElementSpan> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while let Some(lt) = find_byte(b, i, b'<') {
        let rest = b.get(lt..)?;
        if rest.starts_with(b"<?") {
            i = find(b, lt + 2, b"?>")? + 2;
        } else if rest.starts_with(b"<!--") {
            i = find(b, lt + 4, b"-->")? + 3;
        } else if rest.starts_with(b"<![CDATA[") {
            i = find(b, lt + 9, b"]]>")? + 3;
        } else if rest.starts_with(b"<!") {
            // A document type declaration: refused by the tree parser.
            return None;
        } else if rest.starts_with(b"</") {
            let gt = find_byte(b, lt + 2, b'>')?;
            let el = elements.get_mut(open.pop()?)?;
            el.content_end = lt;
            el.end = gt + 1;
            i = gt + 1;
        } else {
            let (span, next) = start_tag(text, lt)?;
            let index = elements.len();
            match open.last() {
                Some(&parent) => elements.get_mut(parent)?.children.push(index),
                // A second top-level element.
                None if index > 0 => return None,
                None => {}
            }
            if !span.empty {
                open.push(index);
            }
            elements.push(span);
            i = next;
        }
    }
    (open.is_empty() && !elements.is_empty()).then_some(Spans { elements })
}

/// The start tag at `lt`, and the offset just after it.
fn start_tag(text: &str, lt: usize) -> Option<(ElementSpan, usize)> {
    let b = text.as_bytes();
    let mut i = lt + 1;
    while b
        .get(i)
        .is_some_and(|&c| !is_space(c) && c != b'/' && c != b'>')
    {
        i += 1;
    }
    let mut span = ElementSpan {
        start: lt,
        name_end: i,
        attrs_end: i,
        content_end: 0,
        end: 0,
        empty: false,
        declarations: Vec::new(),
        attributes: Vec::new(),
        children: Vec::new(),
    };
    loop {
        let before = i;
        while b.get(i).copied().is_some_and(is_space) {
            i += 1;
        }
        match *b.get(i)? {
            b'/' => {
                if b.get(i + 1) != Some(&b'>') {
                    return None;
                }
                span.empty = true;
                span.content_end = i;
                span.end = i + 2;
                return Some((span, i + 2));
            }
            b'>' => return Some((span, i + 1)),
            _ => {}
        }
        if i == before {
            // Attributes are separated by whitespace.
            return None;
        }
        let name_start = i;
        while b.get(i).is_some_and(|&c| !is_space(c) && c != b'=') {
            i += 1;
        }
        let name = text.get(name_start..i)?;
        while b.get(i).copied().is_some_and(is_space) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while b.get(i).copied().is_some_and(is_space) {
            i += 1;
        }
        let quote = *b.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let close = find_byte(b, i + 1, quote)?;
        let value = i..close + 1;
        i = close + 1;
        span.attrs_end = i;
        let declared = |prefix: Option<&str>| -> Option<(Option<String>, String)> {
            let raw = text.get(value.start + 1..value.end - 1)?;
            let uri = unescape_att_content(raw).ok()?;
            Some((prefix.map(str::to_owned), uri))
        };
        if name == "xmlns" {
            span.declarations.push(declared(None)?);
        } else if let Some(prefix) = name.strip_prefix("xmlns:") {
            span.declarations.push(declared(Some(prefix))?);
        } else {
            span.attributes.push(AttributeSpan {
                start: before,
                value,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_a_document() {
        let text = "<?xml version=\"1.0\"?>\n<!-- c <x/> -->\n<r xmlns=\"urn:a\" \
                    xmlns:p='urn:p&amp;q'>\n <a x=\"1>\" p:y='2'/>\n <p:b><![CDATA[<no/>]]>t</p:b>\n</r>\n";
        let s = scan(text).unwrap();
        assert_eq!(s.elements.len(), 3);
        let r = &s.elements[0];
        assert_eq!(
            &text[r.start..r.end],
            &text[text.find("<r").unwrap()..text.len() - 1]
        );
        assert_eq!(
            r.declarations,
            vec![
                (None, "urn:a".to_owned()),
                (Some("p".to_owned()), "urn:p&q".to_owned())
            ]
        );
        assert_eq!(r.children, vec![1, 2]);
        let a = &s.elements[1];
        assert!(a.empty);
        assert_eq!(&text[a.start..a.end], "<a x=\"1>\" p:y='2'/>");
        assert_eq!(a.attributes.len(), 2);
        assert_eq!(
            &text[a.attributes[1].start..a.attributes[1].value.end],
            " p:y='2'"
        );
        assert_eq!(&text[a.content_end..a.end], "/>");
        let b = &s.elements[2];
        assert_eq!(&text[b.start..b.name_end], "<p:b");
        assert_eq!(&text[b.content_end..b.end], "</p:b>");
    }

    #[test]
    fn refuses_what_it_does_not_expect() {
        assert!(scan("<!DOCTYPE r><r/>").is_none());
        assert!(scan("<a/><b/>").is_none());
        assert!(scan("<a>").is_none());
        assert!(scan("no element").is_none());
        assert!(scan("<a x=\"1\"y=\"2\"/>").is_none());
    }
}
