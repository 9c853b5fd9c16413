//! Composition: one document for a presentity out of all its publications
//! (RFC 3903 soft state plus configured hard state), for NOTIFY bodies.
//!
//! The policy is written in the crate documentation, section
//! *Composition policy*.

use std::collections::HashMap;

use crate::model::{Basic, Enumerated, Note, Person, Presence, Rpid, Status, Tuple};
use crate::xml::Element;

/// The `id` a caller gives the hard-state source: it loses every tie.
pub const HARD_STATE_ID: &str = "hard-state";

/// One publication's document, as stored by the presence server.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The publication's entity-tag (or [`HARD_STATE_ID`]).
    pub id: &'a str,
    /// Its current document.
    pub doc: &'a Presence,
    /// When it was last published or modified, in ms since the Unix epoch.
    pub updated_ms: u64,
}

/// Whether the presentity has registered contacts (from the registrar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// At least one live binding.
    Registered,
    /// No binding.
    Unregistered,
    /// The registrar was not asked or does not know.
    Unknown,
}

/// Recency of a source: newer wins; at equal time soft state beats hard
/// state, then the later source in the slice wins.
type Rank = (u64, bool, usize);

fn rank(s: &Source<'_>, index: usize) -> Rank {
    (s.updated_ms, s.id != HARD_STATE_ID, index)
}

/// Composes one document for `entity` from `sources` (see the crate doc).
pub fn compose(entity: &str, sources: &[Source<'_>], registration: Registration) -> Presence {
    if sources.is_empty() {
        return match registration {
            Registration::Registered => Presence {
                entity: entity.to_owned(),
                tuples: vec![Tuple {
                    id: "reg".to_owned(),
                    status: Status {
                        basic: Some(Basic::Open),
                        extensions: Vec::new(),
                    },
                    ..Tuple::default()
                }],
                ..Presence::default()
            },
            Registration::Unregistered | Registration::Unknown => Presence::closed(entity),
        };
    }
    let ranked: Vec<(Rank, &Source<'_>)> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (rank(s, i), s))
        .collect();

    let mut out = Presence {
        entity: entity.to_owned(),
        tuples: union_by_id(&ranked, |d| &d.tuples, |t| &t.id),
        devices: union_by_id(&ranked, |d| &d.devices, |d| &d.id),
        ..Presence::default()
    };
    out.notes = notes_per_lang(ranked.iter().map(|(r, s)| (*r, s.doc.notes.as_slice())));
    out.extensions = extensions_by_name(
        ranked
            .iter()
            .map(|(r, s)| (*r, s.doc.extensions.as_slice())),
    );
    out.persons = merge_persons(&ranked).into_iter().collect();

    if registration == Registration::Unregistered {
        // No registered device: nothing can be reached, whatever was published.
        for t in &mut out.tuples {
            t.status.basic = Some(Basic::Closed);
        }
    }
    out
}

/// Union of tuples (or devices); for an id present in several sources the
/// one from the best-ranked source, in order of first appearance.
fn union_by_id<T: Clone>(
    ranked: &[(Rank, &Source<'_>)],
    items: impl Fn(&Presence) -> &Vec<T>,
    id: impl Fn(&T) -> &String,
) -> Vec<T> {
    let mut order: Vec<&String> = Vec::new();
    let mut best: HashMap<&String, (Rank, &T)> = HashMap::new();
    for (r, s) in ranked {
        for item in items(s.doc) {
            let key = id(item);
            match best.get(key) {
                Some((old, _)) if old >= r => {}
                Some(_) => {
                    best.insert(key, (*r, item));
                }
                None => {
                    order.push(key);
                    best.insert(key, (*r, item));
                }
            }
        }
    }
    // Exact capacity: a composed document is kept per presentity, and its
    // elements are large (a Tuple is ~900 bytes), so a grown Vec's spare
    // slots would cost kilobytes each.
    let mut out = Vec::with_capacity(order.len());
    out.extend(
        order
            .into_iter()
            .filter_map(|k| best.get(k).map(|(_, t)| (*t).clone())),
    );
    out
}

/// For each `xml:lang` (no language counts as one), the note of the
/// best-ranked input that has one in that language (all of that input's
/// notes in that language).
fn notes_per_lang<'a>(inputs: impl Iterator<Item = (Rank, &'a [Note])>) -> Vec<Note> {
    let mut best: HashMap<Option<&str>, Rank> = HashMap::new();
    let inputs: Vec<(Rank, &[Note])> = inputs.collect();
    for (r, notes) in &inputs {
        for n in *notes {
            let e = best.entry(n.lang.as_deref()).or_insert(*r);
            if *r > *e {
                *e = *r;
            }
        }
    }
    let mut out = Vec::new();
    let mut ordered = inputs.clone();
    ordered.sort_by_key(|x| std::cmp::Reverse(x.0));
    for (r, notes) in ordered {
        for n in notes {
            if best.get(&n.lang.as_deref()) == Some(&r) {
                out.push(n.clone());
            }
        }
    }
    out
}

/// For each (namespace, local name), the elements of the best-ranked input
/// that has any.
fn extensions_by_name<'a>(inputs: impl Iterator<Item = (Rank, &'a [Element])>) -> Vec<Element> {
    let inputs: Vec<(Rank, &[Element])> = inputs.collect();
    let mut best: HashMap<(Option<&str>, &str), Rank> = HashMap::new();
    for (r, els) in &inputs {
        for e in *els {
            let entry = best
                .entry((e.namespace.as_deref(), e.name.as_str()))
                .or_insert(*r);
            if *r > *entry {
                *entry = *r;
            }
        }
    }
    let mut out = Vec::new();
    let mut ordered = inputs.clone();
    ordered.sort_by_key(|x| std::cmp::Reverse(x.0));
    for (r, els) in ordered {
        for e in els {
            if best.get(&(e.namespace.as_deref(), e.name.as_str())) == Some(&r) {
                out.push(e.clone());
            }
        }
    }
    out
}

/// RFC 4479 §3.2: one person per presentity. Each kind of person data is
/// taken from the most recent person that has it.
fn merge_persons(ranked: &[(Rank, &Source<'_>)]) -> Option<Person> {
    // (rank, person, activities allowed)
    let mut persons: Vec<(Rank, &Person, bool)> = Vec::new();
    for ((ms, soft, i), s) in ranked {
        // A source all of whose tuples are closed (it has some basic, none
        // open) does not say what the person is doing now.
        let closed_source = s.doc.basic() == Some(Basic::Closed);
        for p in &s.doc.persons {
            let t = p.timestamp.as_deref().and_then(rfc3339_ms).unwrap_or(*ms);
            persons.push(((t, *soft, *i), p, !closed_source));
        }
    }
    // Most recent first; a stable sort keeps document order within a source.
    persons.sort_by_key(|x| std::cmp::Reverse(x.0));
    let (_, newest, _) = persons.first()?;
    let mut out = Person {
        id: newest.id.clone(),
        timestamp: newest.timestamp.clone(),
        ..Person::default()
    };

    fn pick<'p, T: Clone + 'p>(
        persons: &[(Rank, &'p Person, bool)],
        get: impl Fn(&'p Person) -> Option<&'p T>,
    ) -> Option<T> {
        persons.iter().find_map(|(_, p, _)| get(p)).cloned()
    }
    fn pick_vec<T: Clone>(
        persons: &[(Rank, &Person, bool)],
        get: impl Fn(&Person) -> &Vec<T>,
    ) -> Vec<T> {
        persons
            .iter()
            .map(|(_, p, _)| get(p))
            .find(|v| !v.is_empty())
            .cloned()
            .unwrap_or_default()
    }

    let open: Vec<(Rank, &Person, bool)> = persons.iter().copied().filter(|p| p.2).collect();
    let r = &mut out.rpid;
    r.activities = pick_vec(&open, |p| &p.rpid.activities);
    r.class = pick(&persons, |p| p.rpid.class.as_ref());
    r.mood = pick_vec(&persons, |p| &p.rpid.mood);
    r.place_is = pick_vec(&persons, |p| &p.rpid.place_is);
    r.place_type = pick_vec(&persons, |p| &p.rpid.place_type);
    r.privacy = pick_vec(&persons, |p| &p.rpid.privacy);
    r.relationship = pick::<Enumerated>(&persons, |p| p.rpid.relationship.as_ref());
    r.service_class = pick::<Enumerated>(&persons, |p| p.rpid.service_class.as_ref());
    r.sphere = pick_vec(&persons, |p| &p.rpid.sphere);
    r.status_icon = pick_vec(&persons, |p| &p.rpid.status_icon);
    r.time_offset = pick_vec(&persons, |p| &p.rpid.time_offset);
    r.user_input = pick(&persons, |p| p.rpid.user_input.as_ref());
    let _: &Rpid = r;

    let c = &mut out.cipid;
    c.card = pick(&persons, |p| p.cipid.card.as_ref());
    c.homepage = pick(&persons, |p| p.cipid.homepage.as_ref());
    c.icon = pick(&persons, |p| p.cipid.icon.as_ref());
    c.map = pick(&persons, |p| p.cipid.map.as_ref());
    c.sound = pick(&persons, |p| p.cipid.sound.as_ref());
    c.display_name = notes_per_lang(
        persons
            .iter()
            .map(|(r, p, _)| (*r, p.cipid.display_name.as_slice())),
    );

    out.notes = notes_per_lang(persons.iter().map(|(r, p, _)| (*r, p.notes.as_slice())));
    out.extensions = extensions_by_name(
        persons
            .iter()
            .map(|(r, p, _)| (*r, p.extensions.as_slice())),
    );
    Some(out)
}

/// RFC 3339 date-time to ms since the Unix epoch (leap seconds folded).
pub(crate) fn rfc3339_ms(s: &str) -> Option<u64> {
    crate::parse::check_time(s).ok()?;
    let b = s.as_bytes();
    let n = |a: usize, z: usize| -> i64 {
        b[a..z]
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
    };
    let (y, mo, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (h, mi, sec) = (n(11, 13), n(14, 16), n(17, 19));
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            ms += i64::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let offset_min = match b.get(i) {
        Some(b'+') => n(i + 1, i + 3) * 60 + n(i + 4, i + 6),
        Some(b'-') => -(n(i + 1, i + 3) * 60 + n(i + 4, i + 6)),
        _ => 0,
    };
    // Days from civil (proleptic Gregorian).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    u64::try_from(secs * 1000 + ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Value, parse};

    const ENTITY: &str = "sip:bob@example.com";

    fn doc(body: &str) -> Presence {
        let xml = format!(
            r#"<presence xmlns="urn:ietf:params:xml:ns:pidf"
               xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
               xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
               xmlns:c="urn:ietf:params:xml:ns:pidf:cipid"
               entity="sip:bob@example.com">{body}</presence>"#
        );
        match parse(xml.as_bytes()) {
            Ok(d) => d,
            Err(e) => panic!("{e}: {xml}"),
        }
    }

    fn tuple(id: &str, basic: &str) -> String {
        format!(r#"<tuple id="{id}"><status><basic>{basic}</basic></status></tuple>"#)
    }

    fn tokens(e: &[Enumerated]) -> Vec<String> {
        e.iter()
            .flat_map(|e| e.values.iter())
            .filter_map(|v| match v {
                Value::Token(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    fn src<'a>(id: &'a str, doc: &'a Presence, updated_ms: u64) -> Source<'a> {
        Source {
            id,
            doc,
            updated_ms,
        }
    }

    #[test]
    fn desk_phone_laptop_mobile() {
        let desk = doc(&tuple("desk", "open"));
        let laptop = doc(&format!(
            r#"{}<dm:person id="p-laptop"><rpid:activities><rpid:meeting/></rpid:activities>
               <rpid:mood><rpid:bored/></rpid:mood></dm:person>"#,
            tuple("laptop", "closed")
        ));
        let mobile = doc(&format!(
            r#"{}<dm:person id="p-mobile"><rpid:activities><rpid:on-the-phone/></rpid:activities>
               <rpid:place-type><rpid:other>car</rpid:other></rpid:place-type></dm:person>"#,
            tuple("mobile", "open")
        ));
        let sources = [
            src("e1", &desk, 10),
            src("e2", &laptop, 30),
            src("e3", &mobile, 20),
        ];
        let out = compose(ENTITY, &sources, Registration::Registered);
        assert_eq!(out.entity, ENTITY);
        let ids: Vec<&str> = out.tuples.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["desk", "laptop", "mobile"]);
        assert_eq!(out.basic(), Some(Basic::Open));
        assert_eq!(out.persons.len(), 1);
        let p = &out.persons[0];
        assert_eq!(p.id, "p-laptop");
        assert_eq!(tokens(&p.rpid.activities), ["on-the-phone"]);
        // Other kinds are not subject to the closed-source rule.
        assert_eq!(tokens(&p.rpid.mood), ["bored"]);
        assert_eq!(p.rpid.place_type.len(), 1);
        assert_eq!(parse(out.to_xml().as_bytes()).ok(), Some(out));
    }

    #[test]
    fn closed_source_activities_are_ignored_even_if_alone() {
        let laptop = doc(&format!(
            r#"{}<dm:person id="p"><rpid:activities><rpid:meeting/></rpid:activities></dm:person>"#,
            tuple("laptop", "closed")
        ));
        let out = compose(ENTITY, &[src("e1", &laptop, 30)], Registration::Unknown);
        assert!(out.persons[0].rpid.activities.is_empty());
        // A person-only source (a calendar) is not closed.
        let calendar = doc(
            r#"<dm:person id="cal"><rpid:activities><rpid:meeting/></rpid:activities></dm:person>"#,
        );
        let out = compose(
            ENTITY,
            &[src("e1", &laptop, 30), src("e2", &calendar, 5)],
            Registration::Unknown,
        );
        assert_eq!(tokens(&out.persons[0].rpid.activities), ["meeting"]);
        assert_eq!(out.persons[0].id, "p");
    }

    #[test]
    fn person_timestamp_beats_updated_ms() {
        let a = doc(
            r#"<dm:person id="a"><rpid:class>old</rpid:class><dm:timestamp>2030-01-01T00:00:00Z</dm:timestamp></dm:person>"#,
        );
        let b = doc(r#"<dm:person id="b"><rpid:class>new</rpid:class></dm:person>"#);
        // b was published later by updated_ms, but a's own timestamp is later still.
        let out = compose(
            ENTITY,
            &[src("e1", &a, 1_000), src("e2", &b, 2_000)],
            Registration::Unknown,
        );
        assert_eq!(out.persons[0].rpid.class.as_deref(), Some("old"));
        assert_eq!(out.persons[0].id, "a");
    }

    #[test]
    fn notes_per_language() {
        let a = doc(
            r#"<note>a-none</note><note xml:lang="en">a-en</note><note xml:lang="fr">a-fr</note>
            <dm:person id="pa"><dm:note xml:lang="de">pa-de</dm:note><dm:note>pa-none</dm:note></dm:person>"#,
        );
        let b = doc(
            r#"<note xml:lang="en">b-en</note><dm:person id="pb"><dm:note>pb-none</dm:note></dm:person>"#,
        );
        let out = compose(
            ENTITY,
            &[src("e1", &a, 1), src("e2", &b, 2)],
            Registration::Unknown,
        );
        let mut texts: Vec<&str> = out.notes.iter().map(|n| n.text.as_str()).collect();
        texts.sort_unstable();
        assert_eq!(texts, ["a-fr", "a-none", "b-en"]);
        let mut pn: Vec<&str> = out.persons[0]
            .notes
            .iter()
            .map(|n| n.text.as_str())
            .collect();
        pn.sort_unstable();
        assert_eq!(pn, ["pa-de", "pb-none"]);
    }

    #[test]
    fn tuple_and_device_dedup_by_id() {
        let a = doc(&format!(
            r#"{}<dm:device id="d"><dm:note>old</dm:note></dm:device>"#,
            tuple("t", "open")
        ));
        let b = doc(&format!(
            r#"{}<dm:device id="d"><dm:note>new</dm:note></dm:device>"#,
            tuple("t", "closed")
        ));
        let out = compose(
            ENTITY,
            &[src("e1", &a, 5), src("e2", &b, 4)],
            Registration::Unknown,
        );
        assert_eq!(out.tuples.len(), 1);
        assert_eq!(out.tuples[0].status.basic, Some(Basic::Open));
        assert_eq!(out.devices[0].notes[0].text, "old");
        // Tie: the later source in the slice wins.
        let out = compose(
            ENTITY,
            &[src("e1", &a, 5), src("e2", &b, 5)],
            Registration::Unknown,
        );
        assert_eq!(out.tuples[0].status.basic, Some(Basic::Closed));
        assert_eq!(out.devices[0].notes[0].text, "new");
    }

    #[test]
    fn registration_cases() {
        let reg = compose(ENTITY, &[], Registration::Registered);
        assert_eq!(reg.tuples[0].id, "reg");
        assert_eq!(reg.basic(), Some(Basic::Open));
        assert_eq!(reg.entity, ENTITY);
        assert_eq!(
            compose(ENTITY, &[], Registration::Unregistered),
            Presence::closed(ENTITY)
        );
        assert_eq!(
            compose(ENTITY, &[], Registration::Unknown),
            Presence::closed(ENTITY)
        );

        let open = doc(&format!(
            "{}{}",
            tuple("a", "open"),
            r#"<tuple id="b"><status/></tuple>"#
        ));
        let out = compose(ENTITY, &[src("e1", &open, 1)], Registration::Unregistered);
        assert!(
            out.tuples
                .iter()
                .all(|t| t.status.basic == Some(Basic::Closed))
        );
        for r in [Registration::Registered, Registration::Unknown] {
            let out = compose(ENTITY, &[src("e1", &open, 1)], r);
            assert_eq!(out.tuples[0].status.basic, Some(Basic::Open));
            assert_eq!(out.tuples[1].status.basic, None);
        }
    }

    #[test]
    fn hard_state_loses_ties_but_fills_gaps() {
        let hard = doc(&format!(
            r#"{}<note>default note</note><dm:person id="hp"><rpid:class>hard</rpid:class>
               <c:display-name>Bob</c:display-name></dm:person>"#,
            tuple("t", "closed")
        ));
        let soft = doc(&format!(
            r#"{}<dm:person id="sp"><rpid:class>soft</rpid:class></dm:person>"#,
            tuple("t", "open")
        ));
        // Same updated_ms (0), hard state even placed last: soft still wins.
        let out = compose(
            ENTITY,
            &[src("etag1", &soft, 0), src(HARD_STATE_ID, &hard, 0)],
            Registration::Unknown,
        );
        assert_eq!(out.tuples[0].status.basic, Some(Basic::Open));
        assert_eq!(out.persons[0].id, "sp");
        assert_eq!(out.persons[0].rpid.class.as_deref(), Some("soft"));
        assert_eq!(out.persons[0].cipid.display_name[0].text, "Bob");
        assert_eq!(out.notes[0].text, "default note");
    }

    #[test]
    fn extensions_from_most_recent_source_per_name() {
        let a = doc(r#"<x:a xmlns:x="urn:x">1</x:a><x:b xmlns:x="urn:x">1</x:b>"#);
        let b = doc(r#"<x:a xmlns:x="urn:x">2</x:a>"#);
        let out = compose(
            ENTITY,
            &[src("e1", &a, 1), src("e2", &b, 2)],
            Registration::Unknown,
        );
        let got: Vec<(String, String)> = out
            .extensions
            .iter()
            .map(|e| (e.name.clone(), e.text()))
            .collect();
        assert_eq!(got, [("a".into(), "2".into()), ("b".into(), "1".into())]);
    }

    #[test]
    fn rfc3339_to_ms() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            rfc3339_ms("2000-03-01T00:00:00.250Z"),
            Some(951_868_800_250)
        );
        assert_eq!(rfc3339_ms("1969-12-31T23:59:59Z"), None);
    }
}
