//! From the XML tree to the typed model, with the RFC 3863 / 4479 / 4480 /
//! 4481 / 4482 validity checks.

use std::collections::HashSet;

use crate::error::PidfError;
use crate::model::{
    Basic, Cipid, Contact, Device, Enumerated, InputState, Note, Person, Presence, Rpid, Status,
    StatusIcon, TimeOffset, TimedStatus, Tuple, UserInput, Value,
};
use crate::xml::{Element, parse_tree};
use crate::{NS_CIPID, NS_DM, NS_PIDF, NS_RPID, NS_TIMED};

/// Parses and validates a PIDF document (`application/pidf+xml`).
///
/// Namespaces are matched by URI, whatever the prefixes. Unknown elements
/// are kept in the `extensions` of their parent. Never panics.
pub fn parse(xml: &[u8]) -> Result<Presence, PidfError> {
    let root = parse_tree(xml)?;
    presence(root)
}

fn presence(root: Element) -> Result<Presence, PidfError> {
    if !root.is(NS_PIDF, "presence") {
        return Err(PidfError::NotPresence);
    }
    // RFC 3863 §4.1.1: entity is mandatory.
    let entity = match root.attr("entity") {
        Some(e) if !e.trim().is_empty() => e.trim().to_owned(),
        _ => return Err(PidfError::NoEntity),
    };
    let mut p = Presence {
        entity,
        ..Presence::default()
    };
    for child in owned_elements(root) {
        if child.namespace.as_deref() == Some(NS_PIDF) {
            match child.name.as_str() {
                "tuple" => p.tuples.push(tuple(child)?),
                "note" => p.notes.push(note(&child)?),
                _ => p.extensions.push(child),
            }
        } else if child.namespace.as_deref() == Some(NS_DM) {
            match child.name.as_str() {
                "person" => p.persons.push(person(child)?),
                "device" => p.devices.push(device(child)?),
                _ => p.extensions.push(child),
            }
        } else {
            p.extensions.push(child);
        }
    }
    // A parsed document is kept per publication: no spare slots (a Tuple is
    // ~900 bytes, and a Vec grown by one push holds four).
    p.tuples.shrink_to_fit();
    p.notes.shrink_to_fit();
    p.persons.shrink_to_fit();
    p.devices.shrink_to_fit();
    p.extensions.shrink_to_fit();
    // RFC 3863 §4.1.2: tuple ids unique; RFC 4479 §5: one id space for
    // tuple, person and device.
    let mut ids = HashSet::new();
    for t in &p.tuples {
        if !ids.insert(t.id.as_str()) {
            return Err(PidfError::DuplicateTupleId(t.id.clone()));
        }
    }
    for id in p
        .persons
        .iter()
        .map(|x| &x.id)
        .chain(p.devices.iter().map(|x| &x.id))
    {
        if !ids.insert(id.as_str()) {
            return Err(PidfError::DuplicateId(id.clone()));
        }
    }
    Ok(p)
}

fn owned_elements(el: Element) -> impl Iterator<Item = Element> {
    el.children.into_iter().filter_map(|n| match n {
        crate::Node::Element(e) => Some(e),
        crate::Node::Text(_) => None,
    })
}

fn id_of(el: &Element, missing: PidfError) -> Result<String, PidfError> {
    match el.attr("id") {
        Some(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        _ => Err(missing),
    }
}

/// Trimmed text of an element that must not have element children.
fn simple_text(el: &Element, what: &'static str) -> Result<String, PidfError> {
    if el.has_element_children() {
        return Err(PidfError::ComplexContent(what));
    }
    Ok(el.text().trim().to_owned())
}

fn note(el: &Element) -> Result<Note, PidfError> {
    if el.has_element_children() {
        return Err(PidfError::ComplexContent("note"));
    }
    Ok(Note {
        lang: el.lang().map(str::to_owned),
        text: el.text(),
    })
}

fn basic(el: &Element) -> Result<Basic, PidfError> {
    let v = simple_text(el, "basic")?;
    match v.as_str() {
        "open" => Ok(Basic::Open),
        "closed" => Ok(Basic::Closed),
        _ => Err(PidfError::InvalidBasic(v)),
    }
}

fn once<T>(
    slot: &mut Option<T>,
    v: T,
    element: &'static str,
    parent: &str,
) -> Result<(), PidfError> {
    if slot.is_some() {
        return Err(PidfError::Repeated {
            element,
            parent: parent.to_owned(),
        });
    }
    *slot = Some(v);
    Ok(())
}

fn timestamp(el: &Element) -> Result<String, PidfError> {
    let v = simple_text(el, "timestamp")?;
    check_time(&v)?;
    Ok(v)
}

fn time_attr(el: &Element, name: &str) -> Result<Option<String>, PidfError> {
    match el.attr(name) {
        None => Ok(None),
        Some(v) => {
            let v = v.trim();
            check_time(v)?;
            Ok(Some(v.to_owned()))
        }
    }
}

/// RFC 3339 §5.6 `date-time`, checked for shape and field ranges.
pub(crate) fn check_time(s: &str) -> Result<(), PidfError> {
    if is_date_time(s) {
        Ok(())
    } else {
        Err(PidfError::InvalidTimestamp(s.to_owned()))
    }
}

fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
        } else {
            None
        }
    };
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    let ok = (|| {
        let _year = num(0..4)?;
        let month = num(5..7)?;
        let day = num(8..10)?;
        let hour = num(11..13)?;
        let min = num(14..16)?;
        let sec = num(17..19)?;
        let shape =
            sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":");
        let ranges = (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && hour <= 23
            && min <= 59
            && sec <= 60;
        let mut i = 19;
        if sep(i, b".") {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        let zone = match b.get(i) {
            Some(b'Z' | b'z') => i + 1 == b.len(),
            Some(b'+' | b'-') => {
                i + 6 == b.len()
                    && sep(i + 3, b":")
                    && num(i + 1..i + 3).is_some_and(|h| h <= 23)
                    && num(i + 4..i + 6).is_some_and(|m| m <= 59)
            }
            _ => false,
        };
        Some(shape && ranges && zone)
    })();
    ok == Some(true)
}

/// RFC 3863 §4.4 `qvalue`: `0(.d{0,3})? | 1(.0{0,3})?`.
fn is_qvalue(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    frac.len() <= 3
        && frac.bytes().all(|c| c.is_ascii_digit())
        && match int {
            "0" => true,
            "1" => frac.bytes().all(|c| c == b'0'),
            _ => false,
        }
}

fn tuple(el: Element) -> Result<Tuple, PidfError> {
    let id = id_of(&el, PidfError::TupleWithoutId)?;
    let mut status = None;
    let mut t = Tuple {
        id: id.clone(),
        ..Tuple::default()
    };
    let parent = format!("tuple '{id}'");
    for child in owned_elements(el) {
        match child.namespace.as_deref() {
            Some(NS_PIDF) => match child.name.as_str() {
                "status" => once(&mut status, status_of(child)?, "status", &parent)?,
                "contact" => once(&mut t.contact, contact(&child)?, "contact", &parent)?,
                "note" => t.notes.push(note(&child)?),
                "timestamp" => once(&mut t.timestamp, timestamp(&child)?, "timestamp", &parent)?,
                _ => t.extensions.push(child),
            },
            Some(NS_DM) if child.name == "deviceID" => {
                t.device_ids.push(simple_text(&child, "deviceID")?);
            }
            Some(NS_TIMED) if child.name == "timed-status" => {
                t.timed_status.push(timed_status(child)?);
            }
            _ => {
                if let Some(rest) = rpid_or_cipid(child, &mut t.rpid, &mut t.cipid, &parent)? {
                    t.extensions.push(rest);
                }
            }
        }
    }
    // RFC 3863 §4.1.3: status is mandatory.
    t.status = status.ok_or(PidfError::TupleWithoutStatus(id))?;
    Ok(t)
}

fn status_of(el: Element) -> Result<Status, PidfError> {
    let mut s = Status::default();
    for child in owned_elements(el) {
        if child.is(NS_PIDF, "basic") {
            // RFC 3863 §4.1.4: at most one basic.
            once(&mut s.basic, basic(&child)?, "basic", "status")?;
        } else {
            s.extensions.push(child);
        }
    }
    Ok(s)
}

fn contact(el: &Element) -> Result<Contact, PidfError> {
    let uri = simple_text(el, "contact")?;
    let priority = match el.attr("priority") {
        None => None,
        Some(p) => {
            let p = p.trim();
            if !is_qvalue(p) {
                return Err(PidfError::InvalidPriority(p.to_owned()));
            }
            Some(p.to_owned())
        }
    };
    Ok(Contact { uri, priority })
}

fn timed_status(el: Element) -> Result<TimedStatus, PidfError> {
    // RFC 4481 §3: 'from' is mandatory.
    let from = time_attr(&el, "from")?.ok_or(PidfError::TimedStatusWithoutFrom)?;
    let until = time_attr(&el, "until")?;
    let mut ts = TimedStatus {
        from,
        until,
        ..TimedStatus::default()
    };
    for child in owned_elements(el) {
        if child.is(NS_TIMED, "basic") || child.is(NS_PIDF, "basic") {
            once(&mut ts.basic, basic(&child)?, "basic", "timed-status")?;
        } else if child.is(NS_TIMED, "note") || child.is(NS_PIDF, "note") {
            ts.notes.push(note(&child)?);
        } else {
            ts.extensions.push(child);
        }
    }
    Ok(ts)
}

fn person(el: Element) -> Result<Person, PidfError> {
    let id = id_of(&el, PidfError::PersonWithoutId)?;
    let parent = format!("person '{id}'");
    let mut p = Person {
        id,
        ..Person::default()
    };
    for child in owned_elements(el) {
        if child.is(NS_DM, "note") {
            p.notes.push(note(&child)?);
        } else if child.is(NS_DM, "timestamp") {
            once(&mut p.timestamp, timestamp(&child)?, "timestamp", &parent)?;
        } else if let Some(rest) = rpid_or_cipid(child, &mut p.rpid, &mut p.cipid, &parent)? {
            p.extensions.push(rest);
        }
    }
    Ok(p)
}

fn device(el: Element) -> Result<Device, PidfError> {
    let id = id_of(&el, PidfError::DeviceWithoutId)?;
    let parent = format!("device '{id}'");
    let mut d = Device {
        id,
        ..Device::default()
    };
    // Devices carry no CIPID; CIPID elements there stay extensions.
    let mut cipid = Cipid::default();
    for child in owned_elements(el) {
        if child.is(NS_DM, "note") {
            d.notes.push(note(&child)?);
        } else if child.is(NS_DM, "timestamp") {
            once(&mut d.timestamp, timestamp(&child)?, "timestamp", &parent)?;
        } else if child.is(NS_DM, "deviceID") {
            let v = simple_text(&child, "deviceID")?;
            once(&mut d.device_id, v, "deviceID", &parent)?;
        } else if child.namespace.as_deref() == Some(NS_CIPID) {
            d.extensions.push(child);
        } else if let Some(rest) = rpid_or_cipid(child, &mut d.rpid, &mut cipid, &parent)? {
            d.extensions.push(rest);
        }
    }
    Ok(d)
}

/// Takes an RPID or CIPID element into `rpid`/`cipid`; gives back anything
/// else (including a repeated CIPID URI element, kept as an extension).
fn rpid_or_cipid(
    el: Element,
    rpid: &mut Rpid,
    cipid: &mut Cipid,
    parent: &str,
) -> Result<Option<Element>, PidfError> {
    match el.namespace.as_deref() {
        Some(NS_RPID) => {
            match el.name.as_str() {
                "activities" => rpid.activities.push(enumerated(&el)?),
                "mood" => rpid.mood.push(enumerated(&el)?),
                "place-is" => rpid.place_is.push(enumerated(&el)?),
                "place-type" => rpid.place_type.push(enumerated(&el)?),
                "privacy" => rpid.privacy.push(enumerated(&el)?),
                "sphere" => rpid.sphere.push(enumerated(&el)?),
                // RFC 4480 §5: elements without from/until at most once.
                "relationship" => {
                    once(
                        &mut rpid.relationship,
                        enumerated(&el)?,
                        "relationship",
                        parent,
                    )?;
                }
                "service-class" => {
                    once(
                        &mut rpid.service_class,
                        enumerated(&el)?,
                        "service-class",
                        parent,
                    )?;
                }
                "class" => once(&mut rpid.class, simple_text(&el, "class")?, "class", parent)?,
                "user-input" => once(&mut rpid.user_input, user_input(&el)?, "user-input", parent)?,
                "status-icon" => rpid.status_icon.push(StatusIcon {
                    id: opt_attr(&el, "id"),
                    from: time_attr(&el, "from")?,
                    until: time_attr(&el, "until")?,
                    uri: simple_text(&el, "status-icon")?,
                }),
                "time-offset" => rpid.time_offset.push(time_offset(&el)?),
                _ => return Ok(Some(el)),
            }
            Ok(None)
        }
        Some(NS_CIPID) => {
            let slot = match el.name.as_str() {
                "display-name" => {
                    if el.has_element_children() {
                        return Err(PidfError::ComplexContent("display-name"));
                    }
                    cipid.display_name.push(note(&el)?);
                    return Ok(None);
                }
                "card" => &mut cipid.card,
                "homepage" => &mut cipid.homepage,
                "icon" => &mut cipid.icon,
                "map" => &mut cipid.map,
                "sound" => &mut cipid.sound,
                _ => return Ok(Some(el)),
            };
            if slot.is_some() {
                return Ok(Some(el));
            }
            *slot = Some(simple_text(&el, "CIPID element")?);
            Ok(None)
        }
        _ => Ok(Some(el)),
    }
}

fn opt_attr(el: &Element, name: &str) -> Option<String> {
    el.attr(name).map(str::to_owned)
}

fn enumerated(el: &Element) -> Result<Enumerated, PidfError> {
    let mut e = Enumerated {
        id: opt_attr(el, "id"),
        from: time_attr(el, "from")?,
        until: time_attr(el, "until")?,
        ..Enumerated::default()
    };
    let text = el.text();
    let text = text.trim();
    if !text.is_empty() {
        e.text = Some(text.to_owned());
    }
    for child in el.elements() {
        if child.namespace.as_deref() == Some(NS_RPID) {
            let plain_attrs = child
                .attributes
                .iter()
                .all(|a| a.namespace.as_deref() == Some(crate::xml::NS_XML) && a.name == "lang");
            if child.name == "note" {
                e.notes.push(note(child)?);
                continue;
            }
            if child.name == "other" && plain_attrs && !child.has_element_children() {
                e.values.push(Value::Other(note(child)?));
                continue;
            }
            if child.attributes.is_empty() && child.children.is_empty() {
                e.values.push(Value::Token(child.name.clone()));
                continue;
            }
        }
        e.values.push(Value::Element(child.clone()));
    }
    Ok(e)
}

fn time_offset(el: &Element) -> Result<TimeOffset, PidfError> {
    let v = simple_text(el, "time-offset")?;
    let minutes =
        v.parse::<i32>()
            .ok()
            .filter(|m| m.abs() <= 24 * 60)
            .ok_or(PidfError::InvalidValue {
                element: "time-offset",
                value: v.clone(),
            })?;
    Ok(TimeOffset {
        id: opt_attr(el, "id"),
        from: time_attr(el, "from")?,
        until: time_attr(el, "until")?,
        description: opt_attr(el, "description"),
        minutes,
    })
}

fn user_input(el: &Element) -> Result<UserInput, PidfError> {
    let v = simple_text(el, "user-input")?;
    let state = match v.as_str() {
        "active" => InputState::Active,
        "idle" => InputState::Idle,
        _ => {
            return Err(PidfError::InvalidValue {
                element: "user-input",
                value: v,
            });
        }
    };
    let idle_threshold = match el.attr("idle-threshold") {
        None => None,
        Some(t) => Some(
            t.trim()
                .parse::<u32>()
                .map_err(|_| PidfError::InvalidValue {
                    element: "idle-threshold",
                    value: t.to_owned(),
                })?,
        ),
    };
    Ok(UserInput {
        id: opt_attr(el, "id"),
        idle_threshold,
        last_input: time_attr(el, "last-input")?,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(body: &str) -> Result<Presence, PidfError> {
        parse(
            format!(
                r#"<presence xmlns="urn:ietf:params:xml:ns:pidf"
                 xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
                 xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
                 xmlns:ts="urn:ietf:params:xml:ns:pidf:timed-status"
                 entity="pres:a@example.com">{body}</presence>"#
            )
            .as_bytes(),
        )
    }

    fn tuple_with(status: &str, rest: &str) -> String {
        format!(r#"<tuple id="t"><status>{status}</status>{rest}</tuple>"#)
    }

    fn reason(r: Result<Presence, PidfError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn rejections_have_reasons() {
        let open = "<basic>open</basic>";
        let cases: Vec<(Result<Presence, PidfError>, &str)> = vec![
            (parse(b"\xff\xfe"), "not UTF-8"),
            (parse(b"<presence"), "not well-formed XML at byte"),
            (
                parse(br#"<presence xmlns="urn:x" entity="a"/>"#),
                "root element is not {urn:ietf:params:xml:ns:pidf}presence",
            ),
            (
                parse(br#"<presence xmlns="urn:ietf:params:xml:ns:pidf"/>"#),
                "presence without entity attribute",
            ),
            (doc("<tuple><status/></tuple>"), "tuple without id"),
            (doc(r#"<tuple id="t"/>"#), "tuple 't' without status"),
            (
                doc(&format!("{}{}", tuple_with(open, ""), tuple_with(open, ""))),
                "duplicate tuple id 't'",
            ),
            (
                doc(&format!(r#"{}<dm:person id="t"/>"#, tuple_with(open, ""))),
                "duplicate id 't'",
            ),
            (
                doc(&tuple_with("<basic>maybe</basic>", "")),
                "invalid basic status 'maybe'",
            ),
            (
                doc(&tuple_with("<basic>open</basic><basic>open</basic>", "")),
                "more than one basic",
            ),
            (
                doc(&tuple_with(
                    open,
                    r#"<contact priority="1.5">sip:a@b</contact>"#,
                )),
                "invalid contact priority '1.5'",
            ),
            (
                doc(&tuple_with(
                    open,
                    r#"<contact priority="0.1234">sip:a@b</contact>"#,
                )),
                "invalid contact priority '0.1234'",
            ),
            (
                doc(&tuple_with(open, "<timestamp>yesterday</timestamp>")),
                "invalid timestamp 'yesterday'",
            ),
            (
                doc(&tuple_with(
                    open,
                    "<timestamp>2024-13-01T00:00:00Z</timestamp>",
                )),
                "invalid timestamp",
            ),
            (doc("<dm:person/>"), "person without id"),
            (doc("<dm:device/>"), "device without id"),
            (
                doc(
                    r#"<dm:person id="p"><rpid:class>a</rpid:class><rpid:class>b</rpid:class></dm:person>"#,
                ),
                "more than one class in person 'p'",
            ),
            (
                doc(r#"<dm:device id="d"><rpid:user-input>asleep</rpid:user-input></dm:device>"#),
                "invalid user-input 'asleep'",
            ),
            (
                doc(&tuple_with(
                    open,
                    "<ts:timed-status><ts:basic>open</ts:basic></ts:timed-status>",
                )),
                "timed-status without from",
            ),
            (doc("<note>a<b/></note>"), "note has child elements"),
            (parse(b"<!DOCTYPE x><x/>"), "DOCTYPE not allowed"),
            (doc("<x:y/>"), "unbound namespace prefix 'x'"),
            (doc("&bogus;"), "undefined entity"),
            (doc("<note>&#1;</note>"), "not allowed"),
        ];
        for (result, want) in cases {
            let got = reason(result);
            assert!(got.contains(want), "want {want:?}, got {got:?}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!(
            "{}{}",
            "<x:a xmlns:x=\"urn:x\">".repeat(100),
            "</x:a>".repeat(100)
        );
        assert_eq!(doc(&deep), Err(PidfError::TooDeep));
        let ok = format!(
            "{}{}",
            "<x:a xmlns:x=\"urn:x\">".repeat(40),
            "</x:a>".repeat(40)
        );
        assert!(doc(&ok).is_ok());
    }

    #[test]
    fn prefixes_do_not_matter() {
        let a = doc(&tuple_with("<basic>open</basic>", "<note>hi</note>")).unwrap();
        let b = parse(
            br#"<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" entity="pres:a@example.com">
                 <p:tuple id="t"><p:status><p:basic>open</p:basic></p:status>
                 <p:note>hi</p:note></p:tuple></p:presence>"#,
        )
        .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn unknown_elements_are_preserved_everywhere() {
        let d = doc(r#"<x:top xmlns:x="urn:x" x:a="1">t<x:in/></x:top>
            <tuple id="t"><status><basic>open</basic><x:s xmlns:x="urn:x"/></status>
              <x:t xmlns:x="urn:x"/></tuple>
            <dm:person id="p"><x:p xmlns:x="urn:x"/></dm:person>
            <dm:device id="d"><nons xmlns="">text &amp; more</nons></dm:device>"#)
        .unwrap();
        assert_eq!(
            d.extensions[0].attributes[0].namespace.as_deref(),
            Some("urn:x")
        );
        assert_eq!(d.tuples[0].status.extensions[0].name, "s");
        assert_eq!(d.tuples[0].extensions[0].name, "t");
        assert_eq!(d.persons[0].extensions[0].name, "p");
        assert_eq!(d.devices[0].extensions[0].namespace, None);
        assert_eq!(d.devices[0].extensions[0].text(), "text & more");
        assert_eq!(parse(d.to_xml().as_bytes()).unwrap(), d);
    }

    #[test]
    fn escaping_round_trips() {
        let d = doc(&tuple_with(
            "<basic>open</basic>",
            "<note xml:lang=\"e&quot;n\">a &lt;b&gt; &amp; ]]&gt; &#13;&#10; \u{e9}</note>",
        ))
        .unwrap();
        assert_eq!(d.tuples[0].notes[0].text, "a <b> & ]]> \r\n \u{e9}");
        assert_eq!(parse(d.to_xml().as_bytes()).unwrap(), d);
    }

    #[test]
    fn qvalues_and_times() {
        for q in ["0", "0.", "0.5", "0.125", "1", "1.0", "1.000"] {
            assert!(is_qvalue(q), "{q}");
        }
        for q in ["", "1.001", "2", "0.1234", "-0", ".5", "0.a"] {
            assert!(!is_qvalue(q), "{q}");
        }
        for t in [
            "2005-08-15T10:20:00.000-05:00",
            "2001-10-27T16:49:29Z",
            "2001-10-27t16:49:29z",
        ] {
            assert!(is_date_time(t), "{t}");
        }
        for t in [
            "2001-10-27",
            "2001-10-27T16:49:29",
            "2001-10-27T24:00:00Z",
            "2001-10-27T16:49:29.Z",
        ] {
            assert!(!is_date_time(t), "{t}");
        }
    }

    #[test]
    fn basic_summary() {
        let open = doc(&format!(
            "{}{}",
            tuple_with("<basic>closed</basic>", ""),
            r#"<tuple id="u"><status><basic>open</basic></status></tuple>"#
        ))
        .unwrap();
        assert_eq!(open.basic(), Some(Basic::Open));
        assert_eq!(Presence::closed("sip:a@b").basic(), Some(Basic::Closed));
        assert_eq!(doc(&tuple_with("", "")).unwrap().basic(), None);
        assert_eq!(doc("").unwrap().basic(), None);
    }
}
