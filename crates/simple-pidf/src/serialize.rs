//! Canonical output: XML declaration, default namespace PIDF, fixed
//! prefixes `dm`, `rpid`, `c` (CIPID), `caps`, `ts` (timed status) declared
//! on the root, other namespaces declared where used.

use crate::model::{
    Basic, Cipid, Enumerated, InputState, Note, Presence, Rpid, Status, TimedStatus, Tuple, Value,
};
use crate::xml::{Element, escape_attr, escape_text, write_element};
use crate::{NS_CAPS, NS_CIPID, NS_DM, NS_PIDF, NS_RPID, NS_TIMED};

struct W {
    out: String,
    depth: usize,
}

impl W {
    fn line(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// `<name attrs>`, attributes given as (name, value) pairs.
    fn open(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) {
        self.line();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            if let Some(v) = v {
                self.out.push(' ');
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_attr(&mut self.out, v);
                self.out.push('"');
            }
        }
        self.out.push('>');
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.line();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name attrs>text</name>` on one line.
    fn leaf(&mut self, name: &str, attrs: &[(&str, Option<&str>)], text: &str) {
        self.open(name, attrs);
        self.depth -= 1;
        escape_text(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    fn note(&mut self, name: &str, n: &Note) {
        self.leaf(name, &[("xml:lang", n.lang.as_deref())], &n.text);
    }

    fn extension(&mut self, el: &Element) {
        self.line();
        write_element(&mut self.out, el, Some(NS_PIDF));
    }
}

impl Presence {
    /// The canonical XML form of the document; [`parse`](crate::parse)
    /// gives back an equal `Presence`.
    pub fn to_xml(&self) -> String {
        let mut w = W {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<presence"),
            depth: 0,
        };
        for (attr, ns) in [
            ("xmlns", NS_PIDF),
            ("xmlns:dm", NS_DM),
            ("xmlns:rpid", NS_RPID),
            ("xmlns:c", NS_CIPID),
            ("xmlns:caps", NS_CAPS),
            ("xmlns:ts", NS_TIMED),
        ] {
            w.out.push_str(&format!("\n    {attr}=\"{ns}\""));
        }
        w.out.push_str("\n    entity=\"");
        escape_attr(&mut w.out, &self.entity);
        w.out.push_str("\">");
        w.depth = 1;
        for t in &self.tuples {
            tuple(&mut w, t);
        }
        for n in &self.notes {
            w.note("note", n);
        }
        for d in &self.devices {
            w.open("dm:device", &[("id", Some(&d.id))]);
            rpid(&mut w, &d.rpid);
            if let Some(id) = &d.device_id {
                w.leaf("dm:deviceID", &[], id);
            }
            for e in &d.extensions {
                w.extension(e);
            }
            for n in &d.notes {
                w.note("dm:note", n);
            }
            if let Some(ts) = &d.timestamp {
                w.leaf("dm:timestamp", &[], ts);
            }
            w.close("dm:device");
        }
        for p in &self.persons {
            w.open("dm:person", &[("id", Some(&p.id))]);
            rpid(&mut w, &p.rpid);
            cipid(&mut w, &p.cipid);
            for e in &p.extensions {
                w.extension(e);
            }
            for n in &p.notes {
                w.note("dm:note", n);
            }
            if let Some(ts) = &p.timestamp {
                w.leaf("dm:timestamp", &[], ts);
            }
            w.close("dm:person");
        }
        for e in &self.extensions {
            w.extension(e);
        }
        w.out.push_str("\n</presence>\n");
        w.out
    }
}

fn basic_str(b: Basic) -> &'static str {
    b.as_str()
}

fn tuple(w: &mut W, t: &Tuple) {
    w.open("tuple", &[("id", Some(&t.id))]);
    status(w, &t.status);
    for ts in &t.timed_status {
        timed(w, ts);
    }
    for id in &t.device_ids {
        w.leaf("dm:deviceID", &[], id);
    }
    rpid(w, &t.rpid);
    cipid(w, &t.cipid);
    for e in &t.extensions {
        w.extension(e);
    }
    if let Some(c) = &t.contact {
        w.leaf("contact", &[("priority", c.priority.as_deref())], &c.uri);
    }
    for n in &t.notes {
        w.note("note", n);
    }
    if let Some(ts) = &t.timestamp {
        w.leaf("timestamp", &[], ts);
    }
    w.close("tuple");
}

fn status(w: &mut W, s: &Status) {
    w.open("status", &[]);
    if let Some(b) = s.basic {
        w.leaf("basic", &[], basic_str(b));
    }
    for e in &s.extensions {
        w.extension(e);
    }
    w.close("status");
}

fn timed(w: &mut W, ts: &TimedStatus) {
    w.open(
        "ts:timed-status",
        &[("from", Some(&ts.from)), ("until", ts.until.as_deref())],
    );
    if let Some(b) = ts.basic {
        w.leaf("ts:basic", &[], basic_str(b));
    }
    for n in &ts.notes {
        w.note("ts:note", n);
    }
    for e in &ts.extensions {
        w.extension(e);
    }
    w.close("ts:timed-status");
}

fn enumerated(w: &mut W, name: &str, e: &Enumerated) {
    let attrs = [
        ("id", e.id.as_deref()),
        ("from", e.from.as_deref()),
        ("until", e.until.as_deref()),
    ];
    if e.notes.is_empty() && e.values.is_empty() {
        w.leaf(name, &attrs, e.text.as_deref().unwrap_or(""));
        return;
    }
    w.open(name, &attrs);
    if let Some(t) = &e.text {
        escape_text(&mut w.out, t);
    }
    for n in &e.notes {
        w.note("rpid:note", n);
    }
    for v in &e.values {
        match v {
            Value::Token(t) => {
                w.line();
                w.out.push_str("<rpid:");
                w.out.push_str(t);
                w.out.push_str("/>");
            }
            Value::Other(n) => w.note("rpid:other", n),
            Value::Element(el) => w.extension(el),
        }
    }
    w.close(name);
}

fn rpid(w: &mut W, r: &Rpid) {
    for e in &r.activities {
        enumerated(w, "rpid:activities", e);
    }
    if let Some(c) = &r.class {
        w.leaf("rpid:class", &[], c);
    }
    for e in &r.mood {
        enumerated(w, "rpid:mood", e);
    }
    for e in &r.place_is {
        enumerated(w, "rpid:place-is", e);
    }
    for e in &r.place_type {
        enumerated(w, "rpid:place-type", e);
    }
    for e in &r.privacy {
        enumerated(w, "rpid:privacy", e);
    }
    if let Some(e) = &r.relationship {
        enumerated(w, "rpid:relationship", e);
    }
    if let Some(e) = &r.service_class {
        enumerated(w, "rpid:service-class", e);
    }
    for e in &r.sphere {
        enumerated(w, "rpid:sphere", e);
    }
    for s in &r.status_icon {
        w.leaf(
            "rpid:status-icon",
            &[
                ("id", s.id.as_deref()),
                ("from", s.from.as_deref()),
                ("until", s.until.as_deref()),
            ],
            &s.uri,
        );
    }
    for t in &r.time_offset {
        w.leaf(
            "rpid:time-offset",
            &[
                ("id", t.id.as_deref()),
                ("from", t.from.as_deref()),
                ("until", t.until.as_deref()),
                ("description", t.description.as_deref()),
            ],
            &t.minutes.to_string(),
        );
    }
    if let Some(u) = &r.user_input {
        let threshold = u.idle_threshold.map(|t| t.to_string());
        w.leaf(
            "rpid:user-input",
            &[
                ("id", u.id.as_deref()),
                ("idle-threshold", threshold.as_deref()),
                ("last-input", u.last_input.as_deref()),
            ],
            match u.state {
                InputState::Active => "active",
                InputState::Idle => "idle",
            },
        );
    }
}

fn cipid(w: &mut W, c: &Cipid) {
    if let Some(v) = &c.card {
        w.leaf("c:card", &[], v);
    }
    for n in &c.display_name {
        w.note("c:display-name", n);
    }
    for (name, v) in [
        ("c:homepage", &c.homepage),
        ("c:icon", &c.icon),
        ("c:map", &c.map),
        ("c:sound", &c.sound),
    ] {
        if let Some(v) = v {
            w.leaf(name, &[], v);
        }
    }
}
