//! Watcher information documents (RFC 3858): who watches a resource and in
//! what state (the `presence.winfo` event package, RFC 3857).
//!
//! [`parse_watcherinfo`] reads a document with the crate's XML reader (so
//! the same well-formedness rules as PIDF: UTF-8 only, no DOCTYPE, nesting
//! at most [`MAX_DEPTH`](crate::MAX_DEPTH)) and checks the RFC 3858 §3
//! rules; [`WatcherInfo::to_xml`] writes the canonical form, which parses
//! back to an equal value.
//!
//! Elements and attributes outside the watcherinfo namespace are ignored
//! (RFC 3858 §3: "elements or attributes from unknown namespaces MUST be
//! ignored") and not written back; so are unknown un-namespaced attributes
//! and text between elements. Rejected, each with a reason fit for a `400`
//! reason phrase ([`WatcherInfoError`]'s `Display`):
//!
//! - what [`parse`](crate::parse) rejects as not well-formed
//!   ([`WatcherInfoError::Xml`]);
//! - a root other than `{urn:ietf:params:xml:ns:watcherinfo}watcherinfo`;
//! - a missing mandatory attribute: `version`, `state` (§3), `resource`,
//!   `package` (watcher-list), `id`, `status`, `event` (watcher);
//! - a `version` that is not a decimal fitting 32 bits (§3: "Versions MUST
//!   be representable using a 32 bit integer"), a `state` other than
//!   `full`/`partial`, a `status` or `event` outside the RFC 3857 §5.2/§5.3
//!   tokens, an `expiration` or `duration-subscribed` that is not a decimal
//!   fitting 32 bits (the schema allows `unsignedLong`; more than 136 years
//!   of seconds is refused as nonsense), an empty `resource`, a `package`
//!   that is not an RFC 3261 token;
//! - a watcher `id` that is not an RFC 3261 token, or the same id twice in
//!   the document (§3: unique across all watchers of the subscription);
//! - a watcher with child elements or without a URI, and a watcherinfo
//!   namespace element where the schema has none (a `watcher` directly under
//!   `watcherinfo`, say).

use std::collections::HashSet;

use crate::error::PidfError;
use crate::xml::{Element, escape_attr, escape_text, parse_tree};

/// The media type of a watcherinfo body (RFC 3858 §8.1).
pub const WATCHERINFO_MEDIA_TYPE: &str = "application/watcherinfo+xml";

/// The watcherinfo namespace (RFC 3858 §8.2).
pub const NS_WATCHERINFO: &str = "urn:ietf:params:xml:ns:watcherinfo";

/// A watcher information document (RFC 3858 §3).
#[derive(Debug, Clone, PartialEq)]
pub struct WatcherInfo {
    /// Starts at 0, one more for each document sent on a watcherinfo
    /// subscription (RFC 3858 §3, §4).
    pub version: u32,
    /// Full state or only the watchers that changed.
    pub state: DocState,
    /// One list per watched resource (and event package).
    pub lists: Vec<WatcherList>,
}

/// The `state` attribute of a watcherinfo document (RFC 3858 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocState {
    /// `full`: the recipient flushes its tables and rebuilds them (§4).
    Full,
    /// `partial`: only watchers that changed since the previous document.
    Partial,
}

/// The watchers of one resource for one event package (`watcher-list`).
#[derive(Debug, Clone, PartialEq)]
pub struct WatcherList {
    /// URI of the watched resource; identifies the list (RFC 3858 §4).
    pub resource: String,
    /// The event package watched, e.g. `presence` (an RFC 3261 token).
    pub package: String,
    /// The watchers, in document order.
    pub watchers: Vec<Watcher>,
}

/// One subscription to the resource (`watcher`).
#[derive(Debug, Clone, PartialEq)]
pub struct Watcher {
    /// Identifies the subscription, unique across the watcherinfo
    /// subscription (an RFC 3261 token).
    pub id: String,
    /// The subscription's state (RFC 3857 §5.2).
    pub status: WatcherStatus,
    /// What caused the transition to `status` (RFC 3857 §5.3).
    pub event: WatcherEvent,
    /// The watcher's URI (the element's content), usually its
    /// authenticated address-of-record.
    pub uri: String,
    /// `display-name`: the subscriber's name as text.
    pub display_name: Option<String>,
    /// `expiration`: seconds from now until the subscription expires.
    pub expiration: Option<u32>,
    /// `duration-subscribed`: seconds since the creating SUBSCRIBE.
    pub duration_subscribed: Option<u32>,
    /// `xml:lang`: the language of `display_name`.
    pub lang: Option<String>,
}

/// The `status` of a watcher (RFC 3857 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatcherStatus {
    /// Awaiting an authorization decision.
    Pending,
    /// Authorized; the watcher gets notifications.
    Active,
    /// Was pending and timed out; remembered so a later approval can be
    /// applied when the watcher subscribes again.
    Waiting,
    /// Over.
    Terminated,
}

/// The `event` that moved a watcher into its status (RFC 3857 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatcherEvent {
    /// A new subscription.
    Subscribe,
    /// The subscription was approved.
    Approved,
    /// Terminated; the watcher should retry at once.
    Deactivated,
    /// Terminated; the watcher should retry later.
    Probation,
    /// Authorization was refused.
    Rejected,
    /// The subscription was not refreshed in time.
    Timeout,
    /// Pending for too long; the server gave up waiting for a decision.
    Giveup,
    /// The resource no longer exists.
    Noresource,
}

impl DocState {
    /// The attribute token.
    pub fn as_str(self) -> &'static str {
        match self {
            DocState::Full => "full",
            DocState::Partial => "partial",
        }
    }

    fn from_token(s: &str) -> Option<Self> {
        match s {
            "full" => Some(DocState::Full),
            "partial" => Some(DocState::Partial),
            _ => None,
        }
    }
}

impl WatcherStatus {
    /// Every status, in RFC order.
    pub const ALL: [WatcherStatus; 4] = [
        WatcherStatus::Pending,
        WatcherStatus::Active,
        WatcherStatus::Waiting,
        WatcherStatus::Terminated,
    ];

    /// The attribute token.
    pub fn as_str(self) -> &'static str {
        match self {
            WatcherStatus::Pending => "pending",
            WatcherStatus::Active => "active",
            WatcherStatus::Waiting => "waiting",
            WatcherStatus::Terminated => "terminated",
        }
    }

    fn from_token(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl WatcherEvent {
    /// Every event, in RFC order.
    pub const ALL: [WatcherEvent; 8] = [
        WatcherEvent::Subscribe,
        WatcherEvent::Approved,
        WatcherEvent::Deactivated,
        WatcherEvent::Probation,
        WatcherEvent::Rejected,
        WatcherEvent::Timeout,
        WatcherEvent::Giveup,
        WatcherEvent::Noresource,
    ];

    /// The attribute token.
    pub fn as_str(self) -> &'static str {
        match self {
            WatcherEvent::Subscribe => "subscribe",
            WatcherEvent::Approved => "approved",
            WatcherEvent::Deactivated => "deactivated",
            WatcherEvent::Probation => "probation",
            WatcherEvent::Rejected => "rejected",
            WatcherEvent::Timeout => "timeout",
            WatcherEvent::Giveup => "giveup",
            WatcherEvent::Noresource => "noresource",
        }
    }

    fn from_token(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Why a watcherinfo document was rejected.
///
/// `Display` is a short reason, fit for the reason phrase of a `400`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WatcherInfoError {
    /// Not UTF-8, not well-formed, a DOCTYPE, too deep.
    #[error(transparent)]
    Xml(#[from] PidfError),
    /// The root is not `{urn:ietf:params:xml:ns:watcherinfo}watcherinfo`.
    #[error("root element is not {{urn:ietf:params:xml:ns:watcherinfo}}watcherinfo")]
    NotWatcherInfo,
    /// A mandatory attribute is missing (RFC 3858 §3).
    #[error("{element} without {attribute} attribute")]
    MissingAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// An attribute value outside its type or enumeration.
    #[error("invalid {element} {attribute} '{value}'")]
    InvalidAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
        /// The offending value.
        value: String,
    },
    /// RFC 3858 §3: watcher ids are unique across the watcherinfo
    /// subscription.
    #[error("duplicate watcher id '{0}'")]
    DuplicateWatcherId(String),
    /// A watcher element without a URI.
    #[error("watcher '{0}' without URI")]
    WatcherWithoutUri(String),
    /// A watcher element with child elements (its content is a URI).
    #[error("watcher '{0}' has child elements")]
    WatcherWithChildren(String),
    /// A watcherinfo-namespace element where the schema has none.
    #[error("unexpected {element} in {parent}")]
    UnexpectedElement {
        /// The element's local name.
        element: String,
        /// Where it was.
        parent: &'static str,
    },
}

/// Parses a watcher information document (RFC 3858), checking the rules
/// listed in the [module docs](self).
pub fn parse_watcherinfo(xml: &[u8]) -> Result<WatcherInfo, WatcherInfoError> {
    let root = parse_tree(xml)?;
    if !root.is(NS_WATCHERINFO, "watcherinfo") {
        return Err(WatcherInfoError::NotWatcherInfo);
    }
    const WI: &str = "watcherinfo";
    let version = required(&root, WI, "version")?;
    let version = decimal_u32(version).ok_or_else(|| invalid(WI, "version", version))?;
    let state = required(&root, WI, "state")?;
    let state = DocState::from_token(state).ok_or_else(|| invalid(WI, "state", state))?;
    let mut ids = HashSet::new();
    let mut lists = Vec::new();
    for child in ours(&root) {
        if child.name != "watcher-list" {
            return Err(unexpected(child, WI));
        }
        lists.push(watcher_list(child, &mut ids)?);
    }
    Ok(WatcherInfo {
        version,
        state,
        lists,
    })
}

/// Child elements in the watcherinfo namespace; the rest is ignored
/// (RFC 3858 §3).
fn ours(el: &Element) -> impl Iterator<Item = &Element> {
    el.elements()
        .filter(|c| c.namespace.as_deref() == Some(NS_WATCHERINFO))
}

fn watcher_list(el: &Element, ids: &mut HashSet<String>) -> Result<WatcherList, WatcherInfoError> {
    const WL: &str = "watcher-list";
    let resource = required(el, WL, "resource")?;
    if resource.trim().is_empty() {
        return Err(invalid(WL, "resource", resource));
    }
    let package = required(el, WL, "package")?;
    if !is_token(package) {
        return Err(invalid(WL, "package", package));
    }
    let mut watchers = Vec::new();
    for child in ours(el) {
        if child.name != "watcher" {
            return Err(unexpected(child, WL));
        }
        let w = watcher(child)?;
        // RFC 3858 §3: an id "MUST be unique across all other watchers".
        if !ids.insert(w.id.clone()) {
            return Err(WatcherInfoError::DuplicateWatcherId(w.id));
        }
        watchers.push(w);
    }
    Ok(WatcherList {
        resource: resource.to_owned(),
        package: package.to_owned(),
        watchers,
    })
}

fn watcher(el: &Element) -> Result<Watcher, WatcherInfoError> {
    const W: &str = "watcher";
    let id = required(el, W, "id")?;
    // RFC 3858 §3: the id "MUST be representable using the grammar for token".
    if !is_token(id) {
        return Err(invalid(W, "id", id));
    }
    let status = required(el, W, "status")?;
    let status = WatcherStatus::from_token(status).ok_or_else(|| invalid(W, "status", status))?;
    let event = required(el, W, "event")?;
    let event = WatcherEvent::from_token(event).ok_or_else(|| invalid(W, "event", event))?;
    let seconds = |attribute: &'static str| -> Result<Option<u32>, WatcherInfoError> {
        match el.attr(attribute) {
            None => Ok(None),
            Some(v) => decimal_u32(v)
                .map(Some)
                .ok_or_else(|| invalid(W, attribute, v)),
        }
    };
    let expiration = seconds("expiration")?;
    let duration_subscribed = seconds("duration-subscribed")?;
    if el.has_element_children() {
        return Err(WatcherInfoError::WatcherWithChildren(id.to_owned()));
    }
    // xs:anyURI content: whitespace around it is not part of the URI.
    let text = el.text();
    let uri = text.trim();
    if uri.is_empty() {
        return Err(WatcherInfoError::WatcherWithoutUri(id.to_owned()));
    }
    Ok(Watcher {
        id: id.to_owned(),
        status,
        event,
        uri: uri.to_owned(),
        display_name: el.attr("display-name").map(str::to_owned),
        expiration,
        duration_subscribed,
        lang: el.lang().map(str::to_owned),
    })
}

fn required<'a>(
    el: &'a Element,
    element: &'static str,
    attribute: &'static str,
) -> Result<&'a str, WatcherInfoError> {
    el.attr(attribute)
        .ok_or(WatcherInfoError::MissingAttribute { element, attribute })
}

fn invalid(element: &'static str, attribute: &'static str, value: &str) -> WatcherInfoError {
    WatcherInfoError::InvalidAttribute {
        element,
        attribute,
        value: value.to_owned(),
    }
}

fn unexpected(el: &Element, parent: &'static str) -> WatcherInfoError {
    WatcherInfoError::UnexpectedElement {
        element: el.name.clone(),
        parent,
    }
}

/// An `xs:nonNegativeInteger` / `xs:unsignedLong` lexical form (surrounding
/// whitespace, an optional `+`, digits) whose value fits a `u32`.
fn decimal_u32(s: &str) -> Option<u32> {
    let s = s.trim_matches([' ', '\t', '\n', '\r']);
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // `parse` would also take a sign; the digits were checked above.
    digits.parse().ok()
}

/// RFC 3261 §25.1 `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
                )
        })
}

impl WatcherInfo {
    /// The canonical document: XML declaration, default namespace
    /// watcherinfo, two-space indentation, a watcher's attributes in the
    /// order id, status, event, display-name, expiration,
    /// duration-subscribed, xml:lang (absent ones left out).
    ///
    /// Written as given: [`parse_watcherinfo`] gives back an equal value
    /// when the fields obey its rules (tokens, non-empty URIs, unique ids,
    /// a URI without surrounding whitespace).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256 + 160 * self.watcher_count());
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<watcherinfo xmlns=\"");
        out.push_str(NS_WATCHERINFO);
        out.push('"');
        attr(&mut out, "version", &self.version.to_string());
        attr(&mut out, "state", self.state.as_str());
        if self.lists.is_empty() {
            out.push_str("/>\n");
            return out;
        }
        out.push('>');
        for list in &self.lists {
            out.push_str("\n  <watcher-list");
            attr(&mut out, "resource", &list.resource);
            attr(&mut out, "package", &list.package);
            if list.watchers.is_empty() {
                out.push_str("/>");
                continue;
            }
            out.push('>');
            for w in &list.watchers {
                out.push_str("\n    <watcher");
                attr(&mut out, "id", &w.id);
                attr(&mut out, "status", w.status.as_str());
                attr(&mut out, "event", w.event.as_str());
                if let Some(name) = &w.display_name {
                    attr(&mut out, "display-name", name);
                }
                if let Some(s) = w.expiration {
                    attr(&mut out, "expiration", &s.to_string());
                }
                if let Some(s) = w.duration_subscribed {
                    attr(&mut out, "duration-subscribed", &s.to_string());
                }
                if let Some(lang) = &w.lang {
                    attr(&mut out, "xml:lang", lang);
                }
                out.push('>');
                escape_text(&mut out, &w.uri);
                out.push_str("</watcher>");
            }
            out.push_str("\n  </watcher-list>");
        }
        out.push_str("\n</watcherinfo>\n");
        out
    }

    fn watcher_count(&self) -> usize {
        self.lists.iter().map(|l| l.watchers.len()).sum()
    }
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_attr(out, value);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_u32_takes_the_schema_lexical_forms_that_fit() {
        assert_eq!(decimal_u32("0"), Some(0));
        assert_eq!(decimal_u32(" +0042\n"), Some(42));
        assert_eq!(decimal_u32("4294967295"), Some(u32::MAX));
        for bad in ["", "+", "-1", "4294967296", "1.0", "0x10", "１"] {
            assert_eq!(decimal_u32(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tokens_follow_rfc3261() {
        assert!(is_token("hh8juja87s997-ass7"));
        assert!(is_token("a.b!%*_+`'~"));
        for bad in ["", "a b", "a:b", "a\"b", "é", "a/b"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }
}
