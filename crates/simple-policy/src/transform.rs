//! The privacy filter (RFC 5025 §3.3 and §4): a composed PIDF document
//! reduced to what one watcher may see.

use simple_pidf::{
    Cipid, Device, Element, NS_CIPID, NS_TIMED, Note, Person, Presence, Rpid, Status, Tuple,
    UserInput,
};

use crate::model::{
    DeviceMember, PersonMember, ProvideSet, ProvideUserInput, ServiceMember, Transformations,
};
use crate::uri::{scheme, uri_eq};

/// Why a component is provided: `stable` members (all, occurrence-id,
/// service-uri, scheme, deviceID) match data that is always kept; a
/// `class` member matches `<rpid:class>`, which is kept whenever it was
/// the only reason (otherwise the filtered document would lose the
/// component when filtered again, against RFC 5025 §4).
#[derive(Clone, Copy)]
struct Selected {
    stable: bool,
    by_class: bool,
}

impl Selected {
    fn included(self) -> bool {
        self.stable || self.by_class
    }
}

impl Transformations {
    /// Everything visible: for the presentity herself, or a default allow.
    pub fn all() -> Transformations {
        Transformations {
            provide_devices: ProvideSet::everything(),
            provide_persons: ProvideSet::everything(),
            provide_services: ProvideSet::everything(),
            provide_activities: true,
            provide_class: true,
            provide_device_id: true,
            provide_mood: true,
            provide_place_is: true,
            provide_place_type: true,
            provide_privacy: true,
            provide_relationship: true,
            provide_sphere: true,
            provide_status_icon: true,
            provide_time_offset: true,
            provide_user_input: ProvideUserInput::Full,
            provide_note: true,
            provide_unknown_attributes: Vec::new(),
            provide_all_attributes: true,
            extensions: Vec::new(),
        }
    }

    /// RFC 5025 §3.3: reduces a composed PIDF document to what this
    /// watcher may see. The filter is idempotent (RFC 5025 §4:
    /// `F(F(D)) = F(D)`); see the crate documentation for exactly what is
    /// kept. With empty transformations only the `entity` remains.
    pub fn apply(&self, doc: &Presence) -> Presence {
        Presence {
            entity: doc.entity.clone(),
            tuples: doc.tuples.iter().filter_map(|t| self.tuple(t)).collect(),
            persons: doc.persons.iter().filter_map(|p| self.person(p)).collect(),
            devices: doc.devices.iter().filter_map(|d| self.device(d)).collect(),
            notes: self.notes(&doc.notes),
            extensions: self.unknown(&doc.extensions),
        }
    }

    fn note_ok(&self) -> bool {
        self.provide_note || self.provide_all_attributes
    }

    fn notes(&self, notes: &[Note]) -> Vec<Note> {
        if self.note_ok() {
            notes.to_vec()
        } else {
            Vec::new()
        }
    }

    /// RFC 5025 §3.3.2.14/15: an element this server has no permission for.
    fn unknown_ok(&self, ns: Option<&str>, name: &str) -> bool {
        self.provide_all_attributes
            || ns.is_some_and(|ns| {
                self.provide_unknown_attributes
                    .iter()
                    .any(|u| u.ns == ns && u.name == name)
            })
    }

    fn unknown(&self, elements: &[Element]) -> Vec<Element> {
        elements
            .iter()
            .filter(|e| self.unknown_ok(e.namespace.as_deref(), &e.name))
            .cloned()
            .collect()
    }

    fn pick<T: Clone>(&self, ok: bool, v: &[T]) -> Vec<T> {
        if ok || self.provide_all_attributes {
            v.to_vec()
        } else {
            Vec::new()
        }
    }

    fn rpid(&self, r: &Rpid, sel: Selected) -> Rpid {
        let all = self.provide_all_attributes;
        let keep_class = self.provide_class || all || (sel.by_class && !sel.stable);
        let user_input = if all {
            ProvideUserInput::Full
        } else {
            self.provide_user_input
        };
        Rpid {
            activities: self.pick(self.provide_activities, &r.activities),
            class: r.class.clone().filter(|_| keep_class),
            mood: self.pick(self.provide_mood, &r.mood),
            place_is: self.pick(self.provide_place_is, &r.place_is),
            place_type: self.pick(self.provide_place_type, &r.place_type),
            privacy: self.pick(self.provide_privacy, &r.privacy),
            relationship: r
                .relationship
                .clone()
                .filter(|_| self.provide_relationship || all),
            // RFC 5025 §3.3.2: service-class is always reported.
            service_class: r.service_class.clone(),
            sphere: self.pick(self.provide_sphere, &r.sphere),
            status_icon: self.pick(self.provide_status_icon, &r.status_icon),
            time_offset: self.pick(self.provide_time_offset, &r.time_offset),
            user_input: r
                .user_input
                .as_ref()
                .and_then(|u| user_input_at(u, user_input)),
        }
    }

    /// CIPID (RFC 4482) has no RFC 5025 permission: its elements are
    /// unknown attributes, granted by name or by provide-all-attributes.
    fn cipid(&self, c: &Cipid) -> Cipid {
        let ok = |name: &str| self.unknown_ok(Some(NS_CIPID), name);
        Cipid {
            card: c.card.clone().filter(|_| ok("card")),
            display_name: if ok("display-name") {
                c.display_name.clone()
            } else {
                Vec::new()
            },
            homepage: c.homepage.clone().filter(|_| ok("homepage")),
            icon: c.icon.clone().filter(|_| ok("icon")),
            map: c.map.clone().filter(|_| ok("map")),
            sound: c.sound.clone().filter(|_| ok("sound")),
        }
    }

    fn tuple(&self, t: &Tuple) -> Option<Tuple> {
        let set = &self.provide_services;
        let contact = t.contact.as_ref().map(|c| c.uri.as_str());
        let stable = set.all
            || set.members.iter().any(|m| match m {
                ServiceMember::OccurrenceId(id) => *id == t.id,
                ServiceMember::ServiceUri(u) => contact.is_some_and(|c| uri_eq(u, c)),
                ServiceMember::ServiceUriScheme(s) => {
                    contact.and_then(scheme).is_some_and(|cs| cs == s)
                }
                ServiceMember::Class(_) => false,
            });
        let by_class = set.members.iter().any(
            |m| matches!(m, ServiceMember::Class(c) if t.rpid.class.as_deref() == Some(c.as_str())),
        );
        let sel = Selected { stable, by_class };
        if !sel.included() {
            return None;
        }
        Some(Tuple {
            id: t.id.clone(),
            // RFC 5025 §3.3.2: basic status, contact, timestamp always.
            status: Status {
                basic: t.status.basic,
                extensions: self.unknown(&t.status.extensions),
            },
            contact: t.contact.clone(),
            notes: self.notes(&t.notes),
            timestamp: t.timestamp.clone(),
            device_ids: if self.provide_device_id || self.provide_all_attributes {
                t.device_ids.clone()
            } else {
                Vec::new()
            },
            timed_status: if self.unknown_ok(Some(NS_TIMED), "timed-status") {
                t.timed_status.clone()
            } else {
                Vec::new()
            },
            rpid: self.rpid(&t.rpid, sel),
            cipid: self.cipid(&t.cipid),
            extensions: self.unknown(&t.extensions),
        })
    }

    fn person(&self, p: &Person) -> Option<Person> {
        let set = &self.provide_persons;
        let stable = set.all
            || set
                .members
                .iter()
                .any(|m| matches!(m, PersonMember::OccurrenceId(id) if *id == p.id));
        let by_class = set.members.iter().any(
            |m| matches!(m, PersonMember::Class(c) if p.rpid.class.as_deref() == Some(c.as_str())),
        );
        let sel = Selected { stable, by_class };
        if !sel.included() {
            return None;
        }
        Some(Person {
            id: p.id.clone(),
            rpid: self.rpid(&p.rpid, sel),
            cipid: self.cipid(&p.cipid),
            notes: self.notes(&p.notes),
            // RFC 5025 §3.3.2: a person's timestamp is always reported.
            timestamp: p.timestamp.clone(),
            extensions: self.unknown(&p.extensions),
        })
    }

    fn device(&self, d: &Device) -> Option<Device> {
        let set = &self.provide_devices;
        let stable = set.all
            || set.members.iter().any(|m| match m {
                DeviceMember::OccurrenceId(id) => *id == d.id,
                DeviceMember::DeviceId(u) => d.device_id.as_deref().is_some_and(|di| uri_eq(u, di)),
                DeviceMember::Class(_) => false,
            });
        let by_class = set.members.iter().any(
            |m| matches!(m, DeviceMember::Class(c) if d.rpid.class.as_deref() == Some(c.as_str())),
        );
        let sel = Selected { stable, by_class };
        if !sel.included() {
            return None;
        }
        Some(Device {
            id: d.id.clone(),
            // RFC 5025 §3.3.2: a device's deviceID and timestamp always.
            device_id: d.device_id.clone(),
            rpid: self.rpid(&d.rpid, sel),
            notes: self.notes(&d.notes),
            timestamp: d.timestamp.clone(),
            extensions: self.unknown(&d.extensions),
        })
    }
}

/// RFC 5025 §3.3.2.12 (the RPID draft's `since` is RFC 4480's
/// `last-input`).
fn user_input_at(u: &UserInput, level: ProvideUserInput) -> Option<UserInput> {
    match level {
        ProvideUserInput::False => None,
        ProvideUserInput::Bare => Some(UserInput {
            idle_threshold: None,
            last_input: None,
            ..u.clone()
        }),
        ProvideUserInput::Thresholds => Some(UserInput {
            last_input: None,
            ..u.clone()
        }),
        ProvideUserInput::Full => Some(u.clone()),
    }
}

/// What a politely blocked watcher sees (RFC 5025 §3.2.1): no person or
/// device, one service (`id="closed"`) whose basic status is closed, the
/// same document an unreachable presentity gives.
pub fn polite_block_document(entity: &str) -> Presence {
    Presence::closed(entity)
}
