//! Conditional requests on XCAP resources: `If-Match` and `If-None-Match`
//! (RFC 4825 §7.11, §8.2.6, over RFC 7232).
//!
//! Every resource of a document — the document, each element, attribute and
//! set of namespace bindings — shares the document's entity tag (RFC 4825
//! §7.11), so a listed tag is compared with the document's, and so is `*`:
//! RFC 4825 §8.2.6 has the server "instantiate the etag for the resource
//! referenced by the request" — the document's — before judging the
//! conditions, so `If-None-Match: *` on an element or attribute PUT fails
//! whenever the document exists, and `If-Match: *` holds whenever it does.
//! (RFC 7232 alone would judge `*` on the selected node; XCAP clients and
//! servers such as OpenXCAP follow RFC 4825, and so do we.)
//!
//! The caller evaluates the preconditions once it knows the answer the
//! request would get without them: RFC 7232 §5 — a request that would fail
//! anyway (404, 409, 415...) gets that failure, not 412 or 304.

/// One entity tag of a conditional header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    /// `W/"..."`.
    pub weak: bool,
    /// The opaque tag, quotes off.
    pub opaque: String,
}

/// The value of an `If-Match` or `If-None-Match` header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagList {
    /// `*`.
    Any,
    /// A list of entity tags (possibly empty when none could be read, which
    /// matches nothing).
    Tags(Vec<EntityTag>),
}

impl TagList {
    /// Reads the field lines of one header (RFC 7232 §3.1:
    /// `"*" / 1#entity-tag`; lines are joined as a list). Lenient: an
    /// unquoted tag is taken as its text.
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> TagList {
        let mut tags = Vec::new();
        for line in lines {
            for item in split_list(line) {
                if item == "*" {
                    return TagList::Any;
                }
                let (weak, rest) = match item.strip_prefix("W/") {
                    Some(rest) => (true, rest),
                    None => (false, item),
                };
                let opaque = rest
                    .strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
                    .unwrap_or(rest);
                tags.push(EntityTag {
                    weak,
                    opaque: opaque.to_owned(),
                });
            }
        }
        TagList::Tags(tags)
    }
}

/// The comma-separated items of a list, commas inside quotes kept (an
/// opaque tag may hold one).
fn split_list(line: &str) -> impl Iterator<Item = &str> {
    let mut items = Vec::new();
    let mut quoted = false;
    let mut from = 0;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                items.push(&line[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    items.push(&line[from..]);
    items.into_iter().map(str::trim).filter(|s| !s.is_empty())
}

/// What the preconditions allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on with the request.
    Proceed,
    /// 304: a GET or HEAD whose `If-None-Match` matched.
    NotModified,
    /// 412.
    PreconditionFailed,
}

/// The preconditions of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// `If-Match`, when present.
    pub if_match: Option<TagList>,
    /// `If-None-Match`, when present.
    pub if_none_match: Option<TagList>,
}

impl Preconditions {
    /// Evaluates them in RFC 7232 §6 order — `If-Match` first, then
    /// `If-None-Match` — for the current document (`etag`, `None` when it
    /// does not exist): `*` is judged on the document too (RFC 4825 §8.2.6,
    /// see the module doc). `safe`: GET or HEAD, where a matching
    /// `If-None-Match` gives 304 instead of 412.
    pub fn evaluate(&self, etag: Option<&str>, safe: bool) -> Verdict {
        // RFC 7232 §3.1: strong comparison (§2.3.2), a weak tag never
        // matches.
        if let Some(list) = &self.if_match {
            let ok = match list {
                TagList::Any => etag.is_some(),
                TagList::Tags(tags) => {
                    etag.is_some_and(|e| tags.iter().any(|t| !t.weak && t.opaque == e))
                }
            };
            if !ok {
                return Verdict::PreconditionFailed;
            }
        }
        // RFC 7232 §3.2: weak comparison, `W/` ignored.
        if let Some(list) = &self.if_none_match {
            let matched = match list {
                TagList::Any => etag.is_some(),
                TagList::Tags(tags) => etag.is_some_and(|e| tags.iter().any(|t| t.opaque == e)),
            };
            if matched {
                return if safe {
                    Verdict::NotModified
                } else {
                    Verdict::PreconditionFailed
                };
            }
        }
        Verdict::Proceed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> TagList {
        TagList::parse([s])
    }

    fn pre(if_match: Option<&str>, if_none_match: Option<&str>) -> Preconditions {
        Preconditions {
            if_match: if_match.map(tags),
            if_none_match: if_none_match.map(tags),
        }
    }

    #[test]
    fn parses_lists_weak_tags_and_star() {
        assert_eq!(tags(" * "), TagList::Any);
        assert_eq!(
            tags("\"a\", W/\"b,c\" ,d"),
            TagList::Tags(vec![
                EntityTag {
                    weak: false,
                    opaque: "a".into()
                },
                EntityTag {
                    weak: true,
                    opaque: "b,c".into()
                },
                EntityTag {
                    weak: false,
                    opaque: "d".into()
                },
            ])
        );
        assert_eq!(
            TagList::parse(["\"a\"", "\"b\""]),
            TagList::parse(["\"a\", \"b\""])
        );
    }

    #[test]
    fn star_is_about_the_document() {
        // RFC 4825 §8.2.6: the document's existence, whatever node the
        // request selects.
        let p = pre(Some("*"), None);
        assert_eq!(p.evaluate(Some("e1"), false), Verdict::Proceed);
        assert_eq!(p.evaluate(None, false), Verdict::PreconditionFailed);
        let p = pre(None, Some("*"));
        assert_eq!(p.evaluate(Some("e1"), false), Verdict::PreconditionFailed);
        assert_eq!(p.evaluate(Some("e1"), true), Verdict::NotModified);
        assert_eq!(p.evaluate(None, false), Verdict::Proceed);
    }

    #[test]
    fn listed_tags_are_the_documents() {
        let p = pre(Some("\"e1\""), None);
        // An insertion conditioned on the document's tag (RFC 4825 §8.2.6).
        assert_eq!(p.evaluate(Some("e1"), false), Verdict::Proceed);
        assert_eq!(p.evaluate(Some("e2"), false), Verdict::PreconditionFailed);
        assert_eq!(p.evaluate(None, false), Verdict::PreconditionFailed);
        let p = pre(None, Some("\"e1\""));
        assert_eq!(p.evaluate(Some("e1"), true), Verdict::NotModified);
        assert_eq!(p.evaluate(Some("e2"), true), Verdict::Proceed);
    }

    #[test]
    fn if_match_first_strong_then_if_none_match_weak() {
        // RFC 7232 §6: a failing If-Match is 412 even where If-None-Match
        // alone would give 304.
        let p = pre(Some("\"other\""), Some("\"e1\""));
        assert_eq!(p.evaluate(Some("e1"), true), Verdict::PreconditionFailed);
        assert_eq!(
            pre(Some("W/\"e1\""), None).evaluate(Some("e1"), true),
            Verdict::PreconditionFailed
        );
        assert_eq!(
            pre(None, Some("W/\"e1\"")).evaluate(Some("e1"), true),
            Verdict::NotModified
        );
        assert_eq!(
            pre(Some("\"e1\""), Some("\"e1\"")).evaluate(Some("e1"), false),
            Verdict::PreconditionFailed
        );
    }
}
