//! XCAP URIs (RFC 4825 §6): what the path after the XCAP root names.
//!
//! ```text
//! /<auid>/global/<document path>[/~~/<node selector>][?xmlns(p=uri)...]
//! /<auid>/users/<XUI>/<document path>[/~~/<node selector>][?xmlns(p=uri)...]
//! ```
//!
//! Each document-selector segment is percent-decoded on its own (so an XUI
//! can carry an encoded `/`); the node selector is decoded as a whole and
//! parsed by [`crate::selector`]. The query is an XPointer expression
//! (RFC 4825 §6.4) of which only the `xmlns()` parts count.

/// The node selector separator (RFC 4825 §6).
const SEPARATOR: &str = "~~";

/// A request URI that did not parse: answered with 400 and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad XCAP URI: {reason}")]
pub struct UriError {
    reason: String,
}

impl UriError {
    fn new(reason: impl Into<String>) -> UriError {
        UriError {
            reason: reason.into(),
        }
    }

    /// The HTTP status of the answer (always 400).
    pub fn status(&self) -> u16 {
        400
    }

    /// Why the URI was refused (the reason phrase of the 400).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl From<UriError> for crate::error::XcapError {
    fn from(e: UriError) -> Self {
        crate::error::XcapError::BadRequest(e.reason)
    }
}

/// The tree a document lives in (RFC 4825 §6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tree {
    /// `global`: documents shared by all users.
    Global,
    /// `users/<XUI>`: one user's documents; the XUI is percent-decoded.
    Users(String),
}

/// A parsed XCAP URI (RFC 4825 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XcapUri {
    /// Application unique ID, e.g. `pres-rules`.
    pub auid: String,
    /// Global or per-user tree.
    pub tree: Tree,
    /// Path of the document under the tree, segments percent-decoded and
    /// joined with `/`, e.g. `index` or `dir/doc`.
    pub document: String,
    /// The node selector after `~~`, percent-decoded; `None` for the
    /// document itself.
    pub node: Option<String>,
    /// Prefix → namespace URI from the `xmlns()` parts of the query, in
    /// order (a later binding of the same prefix wins).
    pub namespaces: Vec<(String, String)>,
}

impl XcapUri {
    /// The document selector back as a percent-encoded path (with a leading
    /// `/`), e.g. `/pres-rules/users/sip:alice@example.test/index`: the base
    /// to which a relative `ancestor` of a `<no-parent>` is appended as
    /// `<document>/~~/<ancestor>`.
    pub fn document_path(&self) -> String {
        let mut out = String::from("/");
        encode_into(&mut out, &self.auid, false);
        match &self.tree {
            Tree::Global => out.push_str("/global"),
            Tree::Users(xui) => {
                out.push_str("/users/");
                encode_into(&mut out, xui, false);
            }
        }
        for seg in self.document.split('/') {
            out.push('/');
            encode_into(&mut out, seg, false);
        }
        out
    }
}

/// Parses the path after the XCAP root (e.g.
/// `/pres-rules/users/sip:alice@example.test/index/~~/cr:ruleset`) and the
/// query without its `?` (RFC 4825 §6). A leading `/` is optional.
pub fn parse(path_after_root: &str, query: Option<&str>) -> Result<XcapUri, UriError> {
    let path = path_after_root.strip_prefix('/').unwrap_or(path_after_root);
    let mut segments = path.split('/');

    // RFC 4825 §6: the node selector separator is a whole path segment.
    let mut doc_segments: Vec<String> = Vec::new();
    let mut node: Option<String> = None;
    for raw in segments.by_ref() {
        let seg = decode(raw)?;
        if seg == SEPARATOR {
            let rest: Vec<&str> = segments.by_ref().collect();
            let raw_selector = rest.join("/");
            if raw_selector.is_empty() {
                return Err(UriError::new("empty node selector"));
            }
            node = Some(decode(&raw_selector)?);
            break;
        }
        doc_segments.push(seg);
    }

    let mut it = doc_segments.into_iter();
    let auid = it
        .next()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| UriError::new("no application unique ID"))?;
    if auid.contains('/') {
        return Err(UriError::new("'/' in the application unique ID"));
    }
    let tree = match it.next().as_deref() {
        Some("global") => Tree::Global,
        Some("users") => {
            let xui = it
                .next()
                .filter(|x| !x.is_empty())
                .ok_or_else(|| UriError::new("no XUI after 'users'"))?;
            Tree::Users(xui)
        }
        Some(other) => {
            return Err(UriError::new(format!(
                "unknown tree '{other}' (expected 'global' or 'users')"
            )));
        }
        None => return Err(UriError::new("no document tree")),
    };
    let rest: Vec<String> = it.collect();
    if rest.is_empty() || rest.iter().all(String::is_empty) {
        return Err(UriError::new("no document name"));
    }
    for seg in &rest {
        if seg.is_empty() || seg == "." || seg == ".." || seg.contains('/') {
            return Err(UriError::new(format!(
                "invalid document path segment '{seg}'"
            )));
        }
    }
    let namespaces = match query {
        Some(q) if !q.is_empty() => parse_xpointer(&decode(q)?)?,
        _ => Vec::new(),
    };
    Ok(XcapUri {
        auid,
        tree,
        document: rest.join("/"),
        node,
        namespaces,
    })
}

/// Percent-decodes one URI component into UTF-8 text (RFC 3986 §2.1).
fn decode(s: &str) -> Result<String, UriError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| UriError::new("bad percent-encoding"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    let s =
        String::from_utf8(out).map_err(|_| UriError::new("percent-decoded URI is not UTF-8"))?;
    if s.contains('\0') {
        return Err(UriError::new("NUL in the URI"));
    }
    Ok(s)
}

/// Percent-encodes a node selector for use in an HTTP URI (RFC 4825 §6.3):
/// every octet outside `pchar` is encoded, `/` between steps is kept.
pub fn encode_selector(selector: &str) -> String {
    let mut out = String::with_capacity(selector.len());
    encode_into(&mut out, selector, true);
    out
}

fn encode_into(out: &mut String, s: &str, keep_slash: bool) {
    for b in s.bytes() {
        let pchar = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        if pchar || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Parses a decoded XPointer `SchemeBased` pointer and keeps the bindings
/// of its `xmlns()` parts (RFC 4825 §6.4: other schemes are ignored).
fn parse_xpointer(q: &str) -> Result<Vec<(String, String)>, UriError> {
    let mut bindings = Vec::new();
    let mut rest = q.trim_start_matches(is_xml_space);
    while !rest.is_empty() {
        let open = rest
            .find('(')
            .ok_or_else(|| UriError::new("query is not an XPointer expression"))?;
        let scheme = &rest[..open];
        if !is_qname(scheme) {
            return Err(UriError::new(format!(
                "bad XPointer scheme name '{scheme}'"
            )));
        }
        // XPointer framework §3.3: `^` escapes `^`, `(` and `)`;
        // unescaped parentheses must balance.
        let mut data = String::new();
        let mut depth = 0usize;
        let mut end = None;
        let mut chars = rest[open + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '^' => match chars.next() {
                    Some((_, e @ ('^' | '(' | ')'))) => data.push(e),
                    _ => return Err(UriError::new("bad '^' escape in the XPointer")),
                },
                '(' => {
                    depth += 1;
                    data.push(c);
                }
                ')' if depth == 0 => {
                    end = Some(open + 1 + i + 1);
                    break;
                }
                ')' => {
                    depth -= 1;
                    data.push(c);
                }
                c => data.push(c),
            }
        }
        let end = end.ok_or_else(|| UriError::new("unbalanced parentheses in the XPointer"))?;
        if scheme == "xmlns" {
            let (prefix, uri) = data
                .split_once('=')
                .ok_or_else(|| UriError::new("xmlns() without '='"))?;
            let prefix = prefix.trim_matches(is_xml_space);
            let uri = uri.trim_matches(is_xml_space);
            if !is_ncname(prefix) || prefix == "xmlns" {
                return Err(UriError::new(format!("bad namespace prefix '{prefix}'")));
            }
            if uri.is_empty() {
                return Err(UriError::new(format!(
                    "empty namespace for prefix '{prefix}'"
                )));
            }
            bindings.push((prefix.to_owned(), uri.to_owned()));
        }
        rest = rest[end..].trim_start_matches(is_xml_space);
    }
    Ok(bindings)
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Namespaces in XML `NCName` (approximated as in `simple_pidf::xml`:
/// ASCII letters, digits, `._-`, and any non-ASCII character; no colon; not
/// starting with a digit, `.` or `-`).
pub(crate) fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start = |c: char| {
        c.is_ascii_alphabetic()
            || c == '_'
            || (!c.is_ascii() && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    start(first) && chars.all(|c| start(c) || c.is_ascii_digit() || c == '.' || c == '-')
}

/// `QName`: `NCName` or `NCName:NCName`.
pub(crate) fn is_qname(s: &str) -> bool {
    match s.split_once(':') {
        Some((p, l)) => is_ncname(p) && is_ncname(l),
        None => is_ncname(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_rejects_truncated_escape() {
        assert!(decode("%4").is_err());
        assert!(decode("%zz").is_err());
        assert!(decode("%C3").is_err());
        assert_eq!(decode("%C3%80").ok().as_deref(), Some("\u{C0}"));
    }

    #[test]
    fn encode_keeps_pchar() {
        assert_eq!(
            encode_selector("a/b[@c=\"d e\"]"),
            "a/b%5B@c=%22d%20e%22%5D"
        );
    }

    #[test]
    fn xpointer_escapes_and_other_schemes() {
        let b = parse_xpointer("foo(bar(x)) xmlns(a=urn:x^)y)").ok();
        assert_eq!(b, Some(vec![("a".to_owned(), "urn:x)y".to_owned())]));
        assert!(parse_xpointer("xmlns(a=urn:x").is_err());
        assert!(parse_xpointer("name=value").is_err());
    }
}
