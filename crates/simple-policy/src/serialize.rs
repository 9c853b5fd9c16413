//! [`RuleSet::to_xml`]: the canonical output.
//!
//! Common-policy elements use the default namespace, pres-rules elements
//! the `pr` prefix; preserved extensions declare their own namespace as a
//! default on themselves. Permissions at their lowest value are omitted
//! (they mean the same as absence, RFC 4745 §10.2).

use std::fmt::Write as _;

use simple_pidf::Element;
use simple_pidf::xml::{escape_attr, escape_text};

use crate::model::{
    DeviceMember, Except, PersonMember, ProvideSet, ProvideUserInput, Rule, RuleSet, ServiceMember,
    Transformations,
};
use crate::{NS_CP, NS_PR};

/// A preserved element; pres-rules elements keep the `pr` prefix declared
/// on the root, anything else declares its own namespace.
fn write_element(out: &mut String, el: &Element, default_ns: Option<&str>) {
    simple_pidf::xml::write_element_with(out, el, default_ns, &|ns| (ns == NS_PR).then_some("pr"));
}

fn extensions(out: &mut String, exts: &[Element]) {
    for e in exts {
        write_element(out, e, Some(NS_CP));
    }
}

fn simple(out: &mut String, qname: &str, value: &str) {
    let _ = write!(out, "<{qname}>");
    escape_text(out, value);
    let _ = write!(out, "</{qname}>");
}

fn attr(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, " {name}=\"");
    escape_attr(out, value);
    out.push('"');
}

impl RuleSet {
    /// Serializes the rule set as an `application/auth-policy+xml`
    /// document that [`parse`](crate::parse) reads back to an equal model.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = write!(out, "<ruleset xmlns=\"{NS_CP}\" xmlns:pr=\"{NS_PR}\">");
        for rule in &self.rules {
            write_rule(&mut out, rule);
        }
        out.push_str("</ruleset>\n");
        out
    }
}

fn write_rule(out: &mut String, rule: &Rule) {
    out.push_str("<rule");
    attr(out, "id", &rule.id);
    out.push('>');
    let c = &rule.conditions;
    out.push_str("<conditions>");
    if let Some(id) = &c.identity {
        out.push_str("<identity>");
        for one in &id.ones {
            out.push_str("<one");
            attr(out, "id", &one.id);
            if one.extensions.is_empty() {
                out.push_str("/>");
            } else {
                out.push('>');
                extensions(out, &one.extensions);
                out.push_str("</one>");
            }
        }
        for many in &id.manys {
            out.push_str("<many");
            if let Some(d) = &many.domain {
                attr(out, "domain", d);
            }
            out.push('>');
            for e in &many.excepts {
                out.push_str("<except");
                match e {
                    Except::Domain(d) => attr(out, "domain", d),
                    Except::Id(i) => attr(out, "id", i),
                }
                out.push_str("/>");
            }
            extensions(out, &many.extensions);
            out.push_str("</many>");
        }
        extensions(out, &id.extensions);
        out.push_str("</identity>");
    }
    if let Some(s) = &c.sphere {
        out.push_str("<sphere");
        attr(out, "value", s);
        out.push_str("/>");
    }
    if !c.validity.is_empty() {
        out.push_str("<validity>");
        for (from, until) in &c.validity {
            simple(out, "from", from);
            simple(out, "until", until);
        }
        out.push_str("</validity>");
    }
    extensions(out, &c.extensions);
    out.push_str("</conditions><actions>");
    if let Some(sh) = rule.actions.sub_handling {
        simple(out, "pr:sub-handling", sh.as_str());
    }
    extensions(out, &rule.actions.extensions);
    out.push_str("</actions><transformations>");
    write_transformations(out, &rule.transformations);
    out.push_str("</transformations></rule>");
}

fn write_set<M>(
    out: &mut String,
    set: &ProvideSet<M>,
    name: &str,
    all_name: &str,
    member: impl Fn(&M) -> (&'static str, &str),
) {
    if set.is_empty() {
        return;
    }
    let _ = write!(out, "<pr:{name}>");
    if set.all {
        // The schema makes all-* a choice: members are subsumed.
        let _ = write!(out, "<pr:{all_name}/>");
    } else {
        for m in &set.members {
            let (el, v) = member(m);
            simple(out, &format!("pr:{el}"), v);
        }
        extensions(out, &set.extensions);
    }
    let _ = write!(out, "</pr:{name}>");
}

fn write_transformations(out: &mut String, t: &Transformations) {
    write_set(
        out,
        &t.provide_services,
        "provide-services",
        "all-services",
        |m| match m {
            ServiceMember::Class(v) => ("class", v),
            ServiceMember::OccurrenceId(v) => ("occurrence-id", v),
            ServiceMember::ServiceUri(v) => ("service-uri", v),
            ServiceMember::ServiceUriScheme(v) => ("service-uri-scheme", v),
        },
    );
    write_set(
        out,
        &t.provide_persons,
        "provide-persons",
        "all-persons",
        |m| match m {
            PersonMember::Class(v) => ("class", v),
            PersonMember::OccurrenceId(v) => ("occurrence-id", v),
        },
    );
    write_set(
        out,
        &t.provide_devices,
        "provide-devices",
        "all-devices",
        |m| match m {
            DeviceMember::Class(v) => ("class", v),
            DeviceMember::DeviceId(v) => ("deviceID", v),
            DeviceMember::OccurrenceId(v) => ("occurrence-id", v),
        },
    );
    for (on, name) in [
        (t.provide_activities, "provide-activities"),
        (t.provide_class, "provide-class"),
        (t.provide_device_id, "provide-deviceID"),
        (t.provide_mood, "provide-mood"),
        (t.provide_place_is, "provide-place-is"),
        (t.provide_place_type, "provide-place-type"),
        (t.provide_privacy, "provide-privacy"),
        (t.provide_relationship, "provide-relationship"),
        (t.provide_sphere, "provide-sphere"),
        (t.provide_status_icon, "provide-status-icon"),
        (t.provide_time_offset, "provide-time-offset"),
    ] {
        if on {
            let _ = write!(out, "<pr:{name}>true</pr:{name}>");
        }
    }
    if t.provide_user_input != ProvideUserInput::False {
        simple(out, "pr:provide-user-input", t.provide_user_input.as_str());
    }
    if t.provide_note {
        out.push_str("<pr:provide-note>true</pr:provide-note>");
    }
    for ua in &t.provide_unknown_attributes {
        out.push_str("<pr:provide-unknown-attribute");
        attr(out, "ns", &ua.ns);
        attr(out, "name", &ua.name);
        out.push_str(">true</pr:provide-unknown-attribute>");
    }
    if t.provide_all_attributes {
        out.push_str("<pr:provide-all-attributes/>");
    }
    extensions(out, &t.extensions);
}
