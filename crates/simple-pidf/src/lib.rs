//! PIDF presence documents (RFC 3863) with the presence data model
//! (RFC 4479), RPID (RFC 4480), timed presence (RFC 4481) and CIPID
//! (RFC 4482), and the composition of several publications into the one
//! document a presence agent notifies.
//!
//! # Layout
//!
//! - [`model`]: the typed document ([`Presence`], [`Tuple`], [`Person`],
//!   [`Device`], RPID and CIPID elements).
//! - `xml`: a namespace-resolved element tree over quick-xml, used for
//!   unknown extensions ([`Element`]) and to write them back.
//! - `parse`: [`parse`], from bytes to the model with the RFC checks.
//! - `serialize`: [`Presence::to_xml`], the canonical output.
//! - [`compose`]: one document out of several publications.
//! - `error`: [`PidfError`].
//! - [`watcherinfo`]: watcher information documents (RFC 3858),
//!   [`parse_watcherinfo`] and [`WatcherInfo::to_xml`].
//!
//! # Parsing
//!
//! Namespaces are matched by URI whatever the prefix, so
//! `<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" ...>` parses like the
//! default-namespace form. Unknown elements anywhere (presence, tuple,
//! status, timed-status, person, device, inside RPID values) are preserved
//! as [`Element`]s and written back by [`Presence::to_xml`]; unknown
//! attributes of known elements are dropped. Comments, processing
//! instructions and whitespace-only text between elements are dropped.
//!
//! Rejected, each with a reason fit for a SIP `400` reason phrase
//! ([`PidfError`]'s `Display`):
//!
//! - bytes that are not UTF-8, XML that is not well-formed (including
//!   unbound prefixes, duplicate attributes, characters outside XML `Char`,
//!   undefined entities), a DOCTYPE, nesting deeper than [`MAX_DEPTH`];
//! - a root other than `{urn:ietf:params:xml:ns:pidf}presence`, a missing
//!   `entity` (RFC 3863 §4.1.1);
//! - a tuple without `id` or `status`, more than one `status`, `contact` or
//!   `timestamp` in a tuple, more than one `basic` in a status, a basic
//!   other than `open`/`closed` (RFC 3863 §4.1);
//! - a contact priority that is not a qvalue `0`..`1` with at most three
//!   decimals (RFC 3863 §4.1.5);
//! - a timestamp, `from`, `until` or `last-input` that is not an RFC 3339
//!   date-time;
//! - duplicate tuple ids, and any id shared by a tuple, person or device
//!   (RFC 4479 §5); a person or device without id;
//! - an RPID element without from/until repeated (RFC 4480 §5), a
//!   `user-input` other than `active`/`idle`, a non-integer `time-offset`
//!   or `idle-threshold`; a `timed-status` without `from` (RFC 4481 §3);
//! - notes and other simple-content elements with child elements.
//!
//! Size is the caller's business (the transport caps message size); the
//! parser is linear and never panics (fuzz target `pidf_parse`).
//!
//! ```
//! let doc = simple_pidf::parse(br#"<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf"
//!     entity="pres:alice@example.com">
//!   <p:tuple id="t1"><p:status><p:basic>open</p:basic></p:status></p:tuple>
//! </p:presence>"#).unwrap();
//! assert_eq!(doc.basic(), Some(simple_pidf::Basic::Open));
//! assert_eq!(simple_pidf::parse(doc.to_xml().as_bytes()).unwrap(), doc);
//! ```
//!
//! # Composition policy
//!
//! [`compose::compose`] builds the document for `entity` from the stored
//! publications ([`compose::Source`]: ETag, document, last modification
//! time) and what the registrar knows ([`compose::Registration`]).
//! "More recent" means a larger `updated_ms`; at equal times soft state
//! beats the hard-state source, and otherwise the later source in the slice
//! wins.
//!
//! - **Tuples**: the union of all sources' tuples. A tuple id published by
//!   several sources is taken whole from the most recent of them.
//! - **Devices**: the same, by device id.
//! - **Person**: RFC 4479 §3.2 has one person per presentity, so all
//!   persons merge into one, with the id (and timestamp) of the most recent
//!   one. Here a person's recency is its own `dm:timestamp` when present,
//!   else its source's `updated_ms`. Each kind of data (activities, class,
//!   mood, place-is, place-type, privacy, relationship, service-class,
//!   sphere, status-icon, time-offset, user-input; card, homepage, icon,
//!   map, sound) comes whole from the most recent person that has it.
//!   Notes and display names are kept per language: for each `xml:lang`
//!   (no language counts as one language) those of the most recent person
//!   that has one. Unknown person extensions: per namespace and local name,
//!   those of the most recent person that has any.
//! - **Activities of closed sources are ignored**: activities are taken
//!   only from sources that are not closed, where closed means the
//!   source's tuples have a basic status and none is open
//!   ([`Presence::basic`] is `Closed`). A closed laptop's "meeting" does not
//!   override what the mobile says. Sources without tuples (a calendar
//!   publishing only a person) are not closed.
//! - **Presence-level notes**: per language, those of the most recent
//!   source that has one. **Top-level extensions**: per namespace and local
//!   name, those of the most recent source that has any.
//! - **Hard state**: the caller passes the presentity's configured hard
//!   state as one more source, `id` [`compose::HARD_STATE_ID`]
//!   (`"hard-state"`), `updated_ms` 0. It is then the oldest source and
//!   loses every tie, so it only contributes what no publication says (a
//!   default note, a display name, a card) and any tuple ids of its own.
//! - **Registration**: with no source at all, `Registered` gives one open
//!   tuple with id `reg`, `Unregistered` and `Unknown` give
//!   [`Presence::closed`]. With sources, `Unregistered` forces every tuple's
//!   basic to closed (no registered device can be reached); `Registered`
//!   and `Unknown` leave the composition as is.
//! - The output `entity` is the `entity` argument, whatever the sources say.
//!
//! Example: a desk phone (open, updated at t=10), a laptop (closed, t=30,
//! person activity "meeting", note "in a meeting") and a mobile (open,
//! t=20, person activity "on-the-phone", note "call me"):
//!
//! ```
//! use simple_pidf::compose::{compose, Registration, Source};
//! let doc = |xml: &str| simple_pidf::parse(xml.as_bytes()).unwrap();
//! let head = r#"<presence xmlns="urn:ietf:params:xml:ns:pidf"
//!   xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
//!   xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:bob@example.com">"#;
//! let desk = doc(&format!(r#"{head}<tuple id="desk"><status><basic>open</basic></status></tuple></presence>"#));
//! let laptop = doc(&format!(r#"{head}<tuple id="laptop"><status><basic>closed</basic></status></tuple>
//!   <dm:person id="p-laptop"><rpid:activities><rpid:meeting/></rpid:activities>
//!   <dm:note>in a meeting</dm:note></dm:person></presence>"#));
//! let mobile = doc(&format!(r#"{head}<tuple id="mobile"><status><basic>open</basic></status></tuple>
//!   <dm:person id="p-mobile"><rpid:activities><rpid:on-the-phone/></rpid:activities>
//!   <dm:note>call me</dm:note></dm:person></presence>"#));
//! let sources = [
//!     Source { id: "e1", doc: &desk, updated_ms: 10 },
//!     Source { id: "e2", doc: &laptop, updated_ms: 30 },
//!     Source { id: "e3", doc: &mobile, updated_ms: 20 },
//! ];
//! let out = compose("sip:bob@example.com", &sources, Registration::Registered);
//! assert_eq!(out.tuples.len(), 3);
//! let person = &out.persons[0];
//! assert_eq!(person.id, "p-laptop"); // the most recent person
//! assert_eq!(person.notes[0].text, "in a meeting"); // notes: most recent
//! // activities: the closed laptop is ignored, the mobile wins
//! assert_eq!(person.rpid.activities[0].values,
//!            vec![simple_pidf::Value::Token("on-the-phone".into())]);
//! ```

pub mod compose;
mod error;
pub mod model;
mod parse;
mod serialize;
pub mod watcherinfo;
pub mod xml;

pub use error::PidfError;
pub use model::{
    Basic, Cipid, Contact, Device, Enumerated, InputState, Note, Person, Presence, Rpid, Status,
    StatusIcon, TimeOffset, TimedStatus, Tuple, UserInput, Value,
};
pub use parse::parse;
pub use watcherinfo::{
    DocState, WATCHERINFO_MEDIA_TYPE, Watcher, WatcherEvent, WatcherInfo, WatcherInfoError,
    WatcherList, WatcherStatus, parse_watcherinfo,
};
pub use xml::{Attribute, Element, Node};

/// The media type of a PIDF body (RFC 3863 §7).
pub const MEDIA_TYPE: &str = "application/pidf+xml";

/// Deepest element nesting accepted by [`parse`].
pub const MAX_DEPTH: usize = 64;

/// PIDF namespace (RFC 3863).
pub const NS_PIDF: &str = "urn:ietf:params:xml:ns:pidf";
/// Data model namespace (RFC 4479).
pub const NS_DM: &str = "urn:ietf:params:xml:ns:pidf:data-model";
/// RPID namespace (RFC 4480).
pub const NS_RPID: &str = "urn:ietf:params:xml:ns:pidf:rpid";
/// CIPID namespace (RFC 4482).
pub const NS_CIPID: &str = "urn:ietf:params:xml:ns:pidf:cipid";
/// Capabilities namespace (RFC 5196).
pub const NS_CAPS: &str = "urn:ietf:params:xml:ns:pidf:caps";
/// Timed status namespace (RFC 4481).
pub const NS_TIMED: &str = "urn:ietf:params:xml:ns:pidf:timed-status";
