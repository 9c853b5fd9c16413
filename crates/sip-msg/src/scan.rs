//! Byte-level grammar helpers shared by every parser in the crate: the RFC 3261
//! §25.1 character classes, LWS trimming, quoted strings, comma lists and the
//! `;name=value` parameter lists.
//!
//! Header values reach these helpers already unfolded (CRLF + WSP replaced by one
//! SP when the message was framed), so "LWS" here means SP or HTAB.

use crate::error::{ParseError, Result};

/// RFC 3261 §25.1 `token` characters.
const fn token_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
}

static TOKEN: [bool; 256] = token_table();

/// Is `c` a `token` character (RFC 3261 §25.1)?
#[inline]
pub(crate) fn is_token_char(c: u8) -> bool {
    TOKEN[c as usize]
}

/// Is `s` a non-empty `token`?
#[inline]
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// RFC 3261 `word` characters: token characters plus `( ) < > : \ " / [ ] ? { }`.
#[inline]
pub(crate) fn is_word_char(c: u8) -> bool {
    WORD[c as usize]
}

static WORD: [bool; 256] = word_table();

const fn word_table() -> [bool; 256] {
    let mut t = token_table();
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = t[i]
            || matches!(
                c,
                b'(' | b')'
                    | b'<'
                    | b'>'
                    | b':'
                    | b'\\'
                    | b'"'
                    | b'/'
                    | b'['
                    | b']'
                    | b'?'
                    | b'{'
                    | b'}'
            );
        i += 1;
    }
    t
}

/// Position of byte `b` in `s`. Header pieces are short: a plain loop beats
/// `str::find`'s memchr set-up (measured with callgrind on the SUBSCRIBE bench).
#[inline]
pub(crate) fn find_byte(s: &str, b: u8) -> Option<usize> {
    s.as_bytes().iter().position(|&c| c == b)
}

/// Position of the first byte of `s` that is in `set`.
#[inline]
pub(crate) fn find_any(s: &str, set: &[u8]) -> Option<usize> {
    s.as_bytes().iter().position(|c| set.contains(c))
}

/// SP or HTAB.
#[inline]
pub(crate) fn is_wsp(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// `s` without leading and trailing SP/HTAB (and stray CR/LF, which framing removed).
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let mut start = 0;
    while start < b.len() && ws(b[start]) {
        start += 1;
    }
    let mut end = b.len();
    while end > start && ws(b[end - 1]) {
        end -= 1;
    }
    // Only ASCII bytes were skipped, so both ends are char boundaries.
    &s[start..end]
}

/// `s` without leading SP/HTAB.
#[inline]
pub(crate) fn trim_start(s: &str) -> &str {
    s.trim_start_matches([' ', '\t'])
}

/// Length of the quoted string at the start of `s` (which must begin with `"`),
/// closing quote included. RFC 3261 §25.1 `quoted-string` with `quoted-pair`.
pub(crate) fn quoted_len(s: &str) -> Result<usize> {
    let b = s.as_bytes();
    debug_assert_eq!(b.first(), Some(&b'"'));
    let mut i = 1;
    // A CR before the closing quote is reported there (a bad escape or a LF
    // found first wins). CR and LF cannot occur in a header value any more
    // (framing rejected bare ones and unfolded the rest) but are still
    // refused for callers with other text.
    let mut cr = false;
    loop {
        // Jump to the next byte that matters, a word at a time.
        i = skip_to_any(b, i, [b'"', b'\\', b'\r', b'\n']);
        let Some(&c) = b.get(i) else {
            return Err(ParseError::header("Unterminated quoted string"));
        };
        match c {
            b'"' => {
                return if cr {
                    Err(ParseError::header("Line break in quoted string"))
                } else {
                    Ok(i + 1)
                };
            }
            // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
            b'\\' => {
                match b.get(i + 1) {
                    Some(&c) if c < 0x80 && c != b'\r' && c != b'\n' => {}
                    _ => return Err(ParseError::header("Bad escape in quoted string")),
                }
                i += 2;
            }
            b'\n' => return Err(ParseError::header("Line break in quoted string")),
            b'\r' => {
                cr = true;
                i += 1;
            }
            _ => i += 1,
        }
    }
}

/// The high bit of each byte of `w` (little-endian) that is one of `set`;
/// the lowest set bit is exactly the first such byte (a byte above a match
/// may show a false one).
#[inline]
fn word_has_any(w: u64, set: [u8; 4]) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    zero(w ^ (LO * u64::from(set[0])))
        | zero(w ^ (LO * u64::from(set[1])))
        | zero(w ^ (LO * u64::from(set[2])))
        | zero(w ^ (LO * u64::from(set[3])))
}

/// The position of the first byte of `b[i..]` in `set`, or `b.len()`; a word
/// at a time.
#[inline]
pub(crate) fn skip_to_any(b: &[u8], mut i: usize, set: [u8; 4]) -> usize {
    while let Some(w) = b.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let m = word_has_any(u64::from_le_bytes(a), set);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !set.contains(&b[i]) {
        i += 1;
    }
    i
}

/// The content of a quoted string (without quotes) with `\x` pairs resolved.
pub fn unquote(s: &str) -> std::borrow::Cow<'_, str> {
    let inner = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s);
    if !inner.contains('\\') {
        return std::borrow::Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Splits a header value at the commas that separate list elements (RFC 3261
/// §7.3.1), ignoring commas inside quoted strings and `<...>`. Elements are
/// trimmed; an empty element is yielded as `""` so the caller can reject it.
pub(crate) fn split_list(s: &str) -> ListIter<'_> {
    ListIter {
        rest: s,
        done: false,
    }
}

/// Iterator returned by [`split_list`]; yields `Err` for an unterminated quote.
#[derive(Debug, Clone)]
pub(crate) struct ListIter<'a> {
    rest: &'a str,
    done: bool,
}

impl<'a> Iterator for ListIter<'a> {
    type Item = Result<&'a str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Jump between the bytes that could hide or make a comma.
        let b = self.rest.as_bytes();
        let mut i = 0;
        let mut angle = false;
        loop {
            i = skip_to_any(b, i, [b'"', b'<', b'>', b',']);
            if i >= b.len() {
                break;
            }
            match b[i] {
                b'"' if !angle => match quoted_len(&self.rest[i..]) {
                    Ok(n) => {
                        i += n;
                        continue;
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
                b'<' => angle = true,
                b'>' => angle = false,
                b',' if !angle => {
                    let item = trim(&self.rest[..i]);
                    self.rest = &self.rest[i + 1..];
                    return Some(Ok(item));
                }
                _ => {}
            }
            i += 1;
        }
        self.done = true;
        Some(Ok(trim(self.rest)))
    }
}

/// Which grammar parameter values follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamGrammar {
    /// Header parameters: `generic-param = token [ EQUAL gen-value ]`,
    /// `gen-value = token / host / quoted-string` (RFC 3261 §25.1).
    Header,
    /// URI parameters: `paramchar` (unreserved / param-unreserved / escaped),
    /// no quoting, no whitespace (RFC 3261 §19.1.1).
    Uri,
}

/// A `;name[=value]` parameter list, kept as the raw text and walked on demand.
///
/// The text is validated once when the owning header or URI is parsed, so
/// iteration never fails. Names compare case-insensitively; values are returned
/// raw (a quoted value keeps its quotes; see [`unquote`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Params<'a> {
    raw: &'a str,
}

/// One parameter of a [`Params`] list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter name as written.
    pub name: &'a str,
    /// The value as written (quotes kept), or `None` for a bare flag like `lr`.
    pub value: Option<&'a str>,
}

impl<'a> Params<'a> {
    /// Wraps text that [`parse_params`] has validated.
    pub(crate) fn from_validated(raw: &'a str) -> Self {
        Params { raw }
    }

    /// The raw text, starting with `;` (or empty).
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// No parameters at all?
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The parameters in order.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter { rest: self.raw }
    }

    /// `Some(value)` when a parameter named `name` (case-insensitive) is present;
    /// the inner option is `None` for a flag without `=value`.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value)
    }

    /// The value of `name`, if present with a value.
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.get(name).flatten()
    }

    /// Is a parameter named `name` present (with or without value)?
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl std::fmt::Display for Params<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.raw)
    }
}

/// Iterator over a validated [`Params`].
#[derive(Debug, Clone)]
pub struct ParamIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            // One pass: the segment ends at the next ';' outside quotes, and
            // the first '=' (always before any quote) splits name and value.
            let b = self.rest.as_bytes();
            let mut i = 0;
            let mut eq = None;
            loop {
                i = skip_to_any(b, i, [b';', b'=', b'"', b';']);
                if i >= b.len() {
                    break;
                }
                match b[i] {
                    b';' => break,
                    b'=' if eq.is_none() => {
                        eq = Some(i);
                        i += 1;
                    }
                    b'"' => i += quoted_len(&self.rest[i..]).unwrap_or(b.len() - i),
                    _ => i += 1,
                }
            }
            let end = i.min(b.len());
            let seg = &self.rest[..end];
            self.rest = self.rest.get(end + 1..).unwrap_or("");
            let param = match eq {
                Some(e) => Param {
                    name: trim(&seg[..e]),
                    value: Some(trim(&seg[e + 1..])),
                },
                None => Param {
                    name: trim(seg),
                    value: None,
                },
            };
            if param.name.is_empty() && param.value.is_none() {
                continue;
            }
            return Some(param);
        }
    }
}

/// Is `c` allowed unescaped in a URI parameter name or value (`paramchar`
/// minus `escaped`, RFC 3261 §25.1)?
#[inline]
pub(crate) fn is_uri_param_char(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'_'
                | b'.'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')'
                | b'['
                | b']'
                | b'/'
                | b':'
                | b'&'
                | b'+'
                | b'$'
        )
}

/// Checks that `s` is made of `allowed` characters and `%HH` escapes.
pub(crate) fn check_escaped(s: &str, allowed: fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
        } else if allowed(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Validates a parameter list at the start of `s` and returns it with the rest.
///
/// `s` is either empty or starts (after optional LWS) with `;`. Parsing stops at
/// the end of `s`, or — for header parameters — at a top-level character that
/// cannot continue a parameter (the caller decides whether that is an error).
#[cfg(test)]
pub(crate) fn parse_params(s: &str, grammar: ParamGrammar) -> Result<(Params<'_>, &str)> {
    parse_params_visit(s, grammar, |_, _| {})
}

/// [`parse_params`], handing each parameter to `visit` as it is read (as
/// [`ParamIter`] would yield it), so that a caller needing the values walks
/// the list once. `visit` may see parameters before a later syntax error.
#[inline]
pub(crate) fn parse_params_visit<'a>(
    s: &'a str,
    grammar: ParamGrammar,
    mut visit: impl FnMut(&'a str, Option<&'a str>),
) -> Result<(Params<'a>, &'a str)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut end = 0;
    loop {
        // Optional LWS, then ';' or stop.
        let mut j = i;
        if grammar == ParamGrammar::Header {
            while j < b.len() && is_wsp(b[j]) {
                j += 1;
            }
        }
        if j >= b.len() || b[j] != b';' {
            break;
        }
        j += 1;
        if grammar == ParamGrammar::Header {
            while j < b.len() && is_wsp(b[j]) {
                j += 1;
            }
        }
        // Name.
        let name_start = j;
        match grammar {
            ParamGrammar::Header => {
                while j < b.len() && is_token_char(b[j]) {
                    j += 1;
                }
            }
            ParamGrammar::Uri => {
                while j < b.len() && (is_uri_param_char(b[j]) || b[j] == b'%') {
                    j += 1;
                }
            }
        }
        if j == name_start {
            return Err(ParseError::header("Empty parameter name"));
        }
        if grammar == ParamGrammar::Uri && !check_escaped(&s[name_start..j], is_uri_param_char) {
            return Err(ParseError::uri("Bad escape in URI parameter"));
        }
        let name = &s[name_start..j];
        let mut value = None;
        // Optional value.
        let mut k = j;
        if grammar == ParamGrammar::Header {
            while k < b.len() && is_wsp(b[k]) {
                k += 1;
            }
        }
        if k < b.len() && b[k] == b'=' {
            k += 1;
            match grammar {
                ParamGrammar::Header => {
                    while k < b.len() && is_wsp(b[k]) {
                        k += 1;
                    }
                    if k < b.len() && b[k] == b'"' {
                        let v = k;
                        k += quoted_len(&s[k..])?;
                        value = Some(&s[v..k]);
                    } else {
                        let v = k;
                        // gen-value = token / host (host adds IPv6 references).
                        while k < b.len()
                            && (is_token_char(b[k]) || matches!(b[k], b'[' | b']' | b':'))
                        {
                            k += 1;
                        }
                        if k == v {
                            return Err(ParseError::header(format!(
                                "Empty value for parameter '{}'",
                                &s[name_start..j]
                            )));
                        }
                        value = Some(&s[v..k]);
                    }
                }
                ParamGrammar::Uri => {
                    let v = k;
                    while k < b.len() && (is_uri_param_char(b[k]) || b[k] == b'%') {
                        k += 1;
                    }
                    if k == v {
                        return Err(ParseError::uri(format!(
                            "Empty value for URI parameter '{}'",
                            &s[name_start..j]
                        )));
                    }
                    if !check_escaped(&s[v..k], is_uri_param_char) {
                        return Err(ParseError::uri("Bad escape in URI parameter"));
                    }
                    value = Some(&s[v..k]);
                }
            }
            j = k;
        }
        visit(name, value);
        end = j;
        i = j;
    }
    Ok((Params::from_validated(&s[..end]), &s[end..]))
}

/// Parses a complete header-parameter list: all of `s` must be parameters.
pub(crate) fn parse_all_header_params<'a>(s: &'a str, what: &str) -> Result<Params<'a>> {
    parse_all_header_params_visit(s, what, |_, _| {})
}

/// [`parse_all_header_params`] with a visitor (see [`parse_params_visit`]).
#[inline]
pub(crate) fn parse_all_header_params_visit<'a>(
    s: &'a str,
    what: &str,
    visit: impl FnMut(&'a str, Option<&'a str>),
) -> Result<Params<'a>> {
    let (params, rest) = parse_params_visit(s, ParamGrammar::Header, visit)?;
    if !trim(rest).is_empty() {
        return Err(ParseError::header(format!(
            "Unexpected '{}' in {what} parameters",
            trim(rest).chars().next().unwrap_or(' ')
        )));
    }
    Ok(params)
}

/// Parses a decimal number that must fit `u32` (RFC 3261 scalars; RFC 4475 §3.1.2.4).
pub(crate) fn parse_u32(s: &str, what: &str) -> Result<u32> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ParseError::header(format!("{what} is not a number")));
    }
    s.parse::<u32>()
        .map_err(|_| ParseError::header(format!("{what} too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_split_respects_quotes_and_angles() {
        let v: Vec<_> = split_list(r#""a,b" <sip:x@y;p=1,2>, c ,d"#)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(v, vec![r#""a,b" <sip:x@y;p=1,2>"#, "c", "d"]);
        let e: Vec<_> = split_list("a,,b").map(|r| r.unwrap()).collect();
        assert_eq!(e, vec!["a", "", "b"]);
        assert!(split_list(r#""open"#).any(|r| r.is_err()));
    }

    #[test]
    fn header_params() {
        let (p, rest) = parse_params(
            r#" ; branch=z9hG4bK1 ;rport; received=[::1] ;x="a;b" ,next"#,
            ParamGrammar::Header,
        )
        .unwrap();
        assert_eq!(rest, " ,next");
        assert_eq!(p.value("BRANCH"), Some("z9hG4bK1"));
        assert_eq!(p.get("rport"), Some(None));
        assert_eq!(p.value("received"), Some("[::1]"));
        assert_eq!(p.value("x"), Some(r#""a;b""#));
        assert_eq!(p.iter().count(), 4);
        assert!(parse_params(";;a", ParamGrammar::Header).is_err());
        assert!(parse_params(";a=", ParamGrammar::Header).is_err());
        assert!(parse_params(";a=\"x", ParamGrammar::Header).is_err());
    }

    #[test]
    fn uri_params() {
        let (p, rest) = parse_params(";transport=tcp;lr;x=%41b?h=1", ParamGrammar::Uri).unwrap();
        assert_eq!(rest, "?h=1");
        assert_eq!(p.value("transport"), Some("tcp"));
        assert!(p.contains("lr"));
        assert!(parse_params(";x=%4", ParamGrammar::Uri).is_err());
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote(r#""a\"b\\c""#), "a\"b\\c");
        assert_eq!(unquote(r#""plain""#), "plain");
    }

    #[test]
    fn scalars() {
        assert_eq!(parse_u32("4294967295", "x").unwrap(), u32::MAX);
        assert!(parse_u32("4294967296", "x").is_err());
        assert!(parse_u32("-1", "x").is_err());
        assert!(parse_u32("", "x").is_err());
    }

    /// The `quoted_len` before the word-wise scan, to compare against.
    fn quoted_len_reference(s: &str) -> Result<usize> {
        let b = s.as_bytes();
        let mut i = 1;
        while let Some(rel) = memchr::memchr3(b'"', b'\\', b'\n', &b[i..]) {
            i += rel;
            match b[i] {
                b'"' => {
                    return if b[1..i].contains(&b'\r') {
                        Err(ParseError::header("Line break in quoted string"))
                    } else {
                        Ok(i + 1)
                    };
                }
                b'\\' => {
                    match b.get(i + 1) {
                        Some(&c) if c < 0x80 && c != b'\r' && c != b'\n' => {}
                        _ => return Err(ParseError::header("Bad escape in quoted string")),
                    }
                    i += 2;
                }
                _ => return Err(ParseError::header("Line break in quoted string")),
            }
        }
        Err(ParseError::header("Unterminated quoted string"))
    }

    proptest::proptest! {
        #[test]
        fn quoted_len_agrees_with_the_reference(
            body in proptest::collection::vec(
                proptest::sample::select(vec!['a', ' ', '"', '\\', '\r', '\n', 'é', '\u{7f}', ';']),
                0..40,
            )
        ) {
            let s: String = std::iter::once('"').chain(body).collect();
            let (a, b) = (quoted_len(&s), quoted_len_reference(&s));
            proptest::prop_assert_eq!(
                a.as_ref().map_err(|e| e.to_string()),
                b.as_ref().map_err(|e| e.to_string()),
                "{:?}", s
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn visited_params_are_the_iterated_ones(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    ";", " ", "\t", "=", "a", "Tag", "x-y", "\"q;=\"", "\"", "\\", "[::1]", ":", ",", "%41", "%4", "?",
                ]),
                0..14,
            ),
            uri in proptest::bool::ANY,
        ) {
            let s: String = parts.concat();
            let grammar = if uri { ParamGrammar::Uri } else { ParamGrammar::Header };
            let mut seen = Vec::new();
            let visited = parse_params_visit(&s, grammar, |n, v| seen.push(Param { name: n, value: v }));
            let plain = parse_params(&s, grammar);
            proptest::prop_assert_eq!(
                visited.as_ref().map_err(|e| e.to_string()),
                plain.as_ref().map_err(|e| e.to_string())
            );
            if let Ok((p, _)) = visited {
                proptest::prop_assert_eq!(seen, p.iter().collect::<Vec<_>>(), "{:?}", s);
            }
        }
    }
}
