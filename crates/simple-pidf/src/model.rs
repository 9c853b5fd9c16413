//! The typed presence document: PIDF (RFC 3863) with the data model
//! (RFC 4479), RPID (RFC 4480), timed status (RFC 4481) and CIPID (RFC 4482).

use crate::xml::Element;

/// A parsed PIDF document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Presence {
    /// The `entity` attribute: the presentity's URI (`pres:` or `sip:`).
    pub entity: String,
    /// Services (RFC 3863 §4.1.2, RFC 4479 §3.1).
    pub tuples: Vec<Tuple>,
    /// RFC 4479 `dm:person`.
    pub persons: Vec<Person>,
    /// RFC 4479 `dm:device`.
    pub devices: Vec<Device>,
    /// Presence-level notes (RFC 3863 §4.1.6).
    pub notes: Vec<Note>,
    /// Unknown top-level child elements, preserved.
    pub extensions: Vec<Element>,
}

/// A service (`<tuple>`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tuple {
    /// The mandatory `id`, unique in the document.
    pub id: String,
    /// The mandatory `<status>`.
    pub status: Status,
    /// `<contact>`.
    pub contact: Option<Contact>,
    /// `<note>`s, one per language typically.
    pub notes: Vec<Note>,
    /// `<timestamp>` (RFC 3339 text as received).
    pub timestamp: Option<String>,
    /// RFC 4479 `dm:deviceID`s: the devices this service runs on.
    pub device_ids: Vec<String>,
    /// RFC 4481 `ts:timed-status`: status in past or future intervals.
    pub timed_status: Vec<TimedStatus>,
    /// RPID elements of the service (class, relationship, service-class,
    /// status-icon, user-input, ...).
    pub rpid: Rpid,
    /// CIPID elements of the service.
    pub cipid: Cipid,
    /// Unknown children, preserved.
    pub extensions: Vec<Element>,
}

/// `<status>` (RFC 3863 §4.1.3).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    /// `<basic>`, at most one.
    pub basic: Option<Basic>,
    /// Status extensions (e.g. `im:im`), preserved.
    pub extensions: Vec<Element>,
}

/// `<basic>` (RFC 3863 §4.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basic {
    /// `open`: the service can be reached.
    Open,
    /// `closed`.
    Closed,
}

impl Basic {
    /// The wire token.
    pub fn as_str(self) -> &'static str {
        match self {
            Basic::Open => "open",
            Basic::Closed => "closed",
        }
    }
}

/// `<contact>` (RFC 3863 §4.1.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contact {
    /// The contact URI (surrounding whitespace removed).
    pub uri: String,
    /// The `priority` qvalue as written (`0` to `1`, at most 3 decimals).
    pub priority: Option<String>,
}

/// A `<note>` (any of the PIDF, data-model, RPID or timed-status notes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Note {
    /// `xml:lang`.
    pub lang: Option<String>,
    /// The text, as received.
    pub text: String,
}

impl Note {
    /// A note without language.
    pub fn new(text: &str) -> Note {
        Note {
            lang: None,
            text: text.to_owned(),
        }
    }
}

/// RFC 4481 `<ts:timed-status>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimedStatus {
    /// Mandatory start.
    pub from: String,
    /// End.
    pub until: Option<String>,
    /// `<ts:basic>`.
    pub basic: Option<Basic>,
    /// `<ts:note>`s.
    pub notes: Vec<Note>,
    /// Other children, preserved.
    pub extensions: Vec<Element>,
}

/// RFC 4479 `<dm:person>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Person {
    /// The mandatory `id`.
    pub id: String,
    /// RPID elements (activities, mood, place-is, place-type, privacy,
    /// sphere, status-icon, time-offset, user-input, class).
    pub rpid: Rpid,
    /// CIPID elements (card, display-name, homepage, icon, map, sound).
    pub cipid: Cipid,
    /// `<dm:note>`s.
    pub notes: Vec<Note>,
    /// `<dm:timestamp>`.
    pub timestamp: Option<String>,
    /// Unknown children, preserved.
    pub extensions: Vec<Element>,
}

/// RFC 4479 `<dm:device>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Device {
    /// The mandatory `id`.
    pub id: String,
    /// `<dm:deviceID>`.
    pub device_id: Option<String>,
    /// RPID elements (user-input, class, ...).
    pub rpid: Rpid,
    /// `<dm:note>`s.
    pub notes: Vec<Note>,
    /// `<dm:timestamp>`.
    pub timestamp: Option<String>,
    /// Unknown children, preserved.
    pub extensions: Vec<Element>,
}

/// The RPID (RFC 4480) elements of one tuple, person or device.
///
/// Elements with `from`/`until` may occur several times (RFC 4480 §5); the
/// others at most once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rpid {
    /// `<rpid:activities>` (§3.2).
    pub activities: Vec<Enumerated>,
    /// `<rpid:class>` (§3.3).
    pub class: Option<String>,
    /// `<rpid:mood>` (§3.5).
    pub mood: Vec<Enumerated>,
    /// `<rpid:place-is>` (§3.6).
    pub place_is: Vec<Enumerated>,
    /// `<rpid:place-type>` (§3.7).
    pub place_type: Vec<Enumerated>,
    /// `<rpid:privacy>` (§3.8).
    pub privacy: Vec<Enumerated>,
    /// `<rpid:relationship>` (§3.9), tuples only.
    pub relationship: Option<Enumerated>,
    /// `<rpid:service-class>` (§3.10), tuples only.
    pub service_class: Option<Enumerated>,
    /// `<rpid:sphere>` (§3.11).
    pub sphere: Vec<Enumerated>,
    /// `<rpid:status-icon>` (§3.12).
    pub status_icon: Vec<StatusIcon>,
    /// `<rpid:time-offset>` (§3.13).
    pub time_offset: Vec<TimeOffset>,
    /// `<rpid:user-input>` (§3.14).
    pub user_input: Option<UserInput>,
}

impl Rpid {
    /// Whether no RPID element is present.
    pub fn is_empty(&self) -> bool {
        *self == Rpid::default()
    }
}

/// An RPID element whose content is notes plus an enumeration of empty
/// elements (`<rpid:meeting/>`), `<rpid:other>` text, foreign elements, or
/// free text (`<rpid:sphere>bowling league</rpid:sphere>`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Enumerated {
    /// `id` attribute.
    pub id: Option<String>,
    /// `from` attribute (RFC 4480 §3.1).
    pub from: Option<String>,
    /// `until` attribute (RFC 4480 §3.1).
    pub until: Option<String>,
    /// `<rpid:note>`s.
    pub notes: Vec<Note>,
    /// The values, in document order.
    pub values: Vec<Value>,
    /// Free text content (trimmed), if any.
    pub text: Option<String>,
}

/// One value of an [`Enumerated`] element.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An empty RPID element, by local name: `meeting`, `away`, `unknown`,
    /// `work`, `self`, `electronic`, ...
    Token(String),
    /// `<rpid:other xml:lang="..">text</rpid:other>`.
    Other(Note),
    /// Anything else (a foreign token such as `<lt:residence/>`, or
    /// structured content such as place-is `<rpid:audio>`), preserved.
    Element(Element),
}

/// `<rpid:status-icon>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusIcon {
    /// `id` attribute.
    pub id: Option<String>,
    /// `from` attribute.
    pub from: Option<String>,
    /// `until` attribute.
    pub until: Option<String>,
    /// The icon URI.
    pub uri: String,
}

/// `<rpid:time-offset>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeOffset {
    /// `id` attribute.
    pub id: Option<String>,
    /// `from` attribute.
    pub from: Option<String>,
    /// `until` attribute.
    pub until: Option<String>,
    /// `description` attribute (e.g. a time zone name).
    pub description: Option<String>,
    /// Minutes east of UTC.
    pub minutes: i32,
}

/// `<rpid:user-input>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInput {
    /// `id` attribute.
    pub id: Option<String>,
    /// `idle-threshold` attribute, in seconds.
    pub idle_threshold: Option<u32>,
    /// `last-input` attribute.
    pub last_input: Option<String>,
    /// `active` or `idle`.
    pub state: InputState,
}

/// The value of `<rpid:user-input>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputState {
    /// `active`.
    Active,
    /// `idle`.
    Idle,
}

/// The CIPID (RFC 4482) elements of a person or tuple.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cipid {
    /// `<c:card>` URI.
    pub card: Option<String>,
    /// `<c:display-name>`s, one per `xml:lang`.
    pub display_name: Vec<Note>,
    /// `<c:homepage>` URI.
    pub homepage: Option<String>,
    /// `<c:icon>` URI.
    pub icon: Option<String>,
    /// `<c:map>` URI.
    pub map: Option<String>,
    /// `<c:sound>` URI.
    pub sound: Option<String>,
}

impl Cipid {
    /// Whether no CIPID element is present.
    pub fn is_empty(&self) -> bool {
        *self == Cipid::default()
    }
}

impl Presence {
    /// A document with one closed tuple (id `closed`): what a watcher is
    /// told about a presentity nobody publishes for.
    pub fn closed(entity: &str) -> Presence {
        Presence {
            entity: entity.to_owned(),
            tuples: vec![Tuple {
                id: "closed".to_owned(),
                status: Status {
                    basic: Some(Basic::Closed),
                    extensions: Vec::new(),
                },
                ..Tuple::default()
            }],
            ..Presence::default()
        }
    }

    /// `Open` if any tuple is open, `Closed` if some tuple has a basic
    /// status and none is open, `None` when no tuple has a basic status.
    pub fn basic(&self) -> Option<Basic> {
        let mut seen = None;
        for t in &self.tuples {
            match t.status.basic {
                Some(Basic::Open) => return Some(Basic::Open),
                Some(Basic::Closed) => seen = Some(Basic::Closed),
                None => {}
            }
        }
        seen
    }
}
