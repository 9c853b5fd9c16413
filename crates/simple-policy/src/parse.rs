//! Bytes to [`RuleSet`], with the schema checks of RFC 4745 §13 and
//! RFC 5025 §7.

use std::collections::HashSet;

use simple_pidf::xml::parse_tree;
use simple_pidf::{Element, Node};

use crate::error::PolicyError;
use crate::model::{
    Actions, Conditions, DeviceMember, Except, Identity, Many, One, PersonMember, ProvideSet,
    ProvideUserInput, Rule, RuleSet, ServiceMember, SubHandling, Transformations, UnknownAttribute,
};
use crate::time::datetime_ms;
use crate::{NS_CP, NS_PR};

/// Parses a policy document (`application/auth-policy+xml`).
///
/// # Errors
///
/// [`PolicyError`] with the first reason found; see the crate
/// documentation for what is checked.
pub fn parse(xml: &[u8]) -> Result<RuleSet, PolicyError> {
    let root = parse_tree(xml)?;
    if !root.is(NS_CP, "ruleset") {
        return Err(PolicyError::NotRuleset);
    }
    no_text(&root, "ruleset")?;
    let mut rules = Vec::new();
    let mut ids = HashSet::new();
    for el in root.elements() {
        if !el.is(NS_CP, "rule") {
            return Err(unexpected(el, "ruleset"));
        }
        let rule = parse_rule(el)?;
        if !ids.insert(rule.id.clone()) {
            return Err(PolicyError::DuplicateRuleId(rule.id));
        }
        rules.push(rule);
    }
    Ok(RuleSet { rules })
}

fn qname(el: &Element) -> String {
    match &el.namespace {
        Some(ns) => format!("{{{ns}}}{}", el.name),
        None => el.name.clone(),
    }
}

fn unexpected(el: &Element, parent: &'static str) -> PolicyError {
    PolicyError::UnexpectedElement {
        element: qname(el),
        parent,
    }
}

/// Refuses non-whitespace character data (the tree drops whitespace-only
/// text already).
fn no_text(el: &Element, what: &'static str) -> Result<(), PolicyError> {
    if el.children.iter().any(|n| matches!(n, Node::Text(_))) {
        return Err(PolicyError::UnexpectedText(what));
    }
    Ok(())
}

/// The text of a simple-content element, whitespace-collapsed (`xs:token`,
/// `xs:boolean`, `xs:dateTime`, `xs:anyURI` all collapse).
fn simple(el: &Element, what: &'static str) -> Result<String, PolicyError> {
    if el.children.iter().any(|n| matches!(n, Node::Element(_))) {
        return Err(PolicyError::ComplexContent(what));
    }
    Ok(el.text().split_whitespace().collect::<Vec<_>>().join(" "))
}

fn empty(el: &Element, what: &'static str) -> Result<(), PolicyError> {
    if el.children.is_empty() {
        Ok(())
    } else {
        Err(PolicyError::NotEmpty(what))
    }
}

fn is_foreign(el: &Element) -> bool {
    !matches!(el.namespace.as_deref(), Some(NS_CP | NS_PR))
}

/// XML Namespaces `NCName` (approximated as in simple-pidf).
fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start = |c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
    start(first) && chars.all(|c| start(c) || c.is_ascii_digit() || c == '.' || c == '-')
}

fn parse_rule(el: &Element) -> Result<Rule, PolicyError> {
    let id = el.attr("id").ok_or(PolicyError::RuleWithoutId)?;
    // xs:ID is whitespace-collapsed, then an NCName.
    let id = id.trim();
    if !is_ncname(id) {
        return Err(PolicyError::InvalidRuleId(id.to_owned()));
    }
    no_text(el, "rule")?;
    let mut rule = Rule {
        id: id.to_owned(),
        ..Rule::default()
    };
    // RFC 4745 §13: conditions?, actions?, transformations?, in this order.
    let mut stage = 0;
    for child in el.elements() {
        let (order, name) = match (child.namespace.as_deref(), child.name.as_str()) {
            (Some(NS_CP), "conditions") => (1, "conditions"),
            (Some(NS_CP), "actions") => (2, "actions"),
            (Some(NS_CP), "transformations") => (3, "transformations"),
            _ => return Err(unexpected(child, "rule")),
        };
        if order <= stage {
            return Err(PolicyError::Repeated {
                element: name,
                parent: format!("rule '{}'", rule.id),
            });
        }
        stage = order;
        match order {
            1 => rule.conditions = parse_conditions(child)?,
            2 => rule.actions = parse_actions(child)?,
            _ => rule.transformations = parse_transformations(child)?,
        }
    }
    Ok(rule)
}

fn parse_conditions(el: &Element) -> Result<Conditions, PolicyError> {
    no_text(el, "conditions")?;
    let mut c = Conditions::default();
    let mut seen_validity = false;
    for child in el.elements() {
        if is_foreign(child) {
            c.extensions.push(child.clone());
            continue;
        }
        match (child.namespace.as_deref(), child.name.as_str()) {
            (Some(NS_CP), "identity") => {
                // The schema allows several (ANDed); one is all a rule
                // maker needs and all the model holds.
                if c.identity.is_some() {
                    return Err(repeated("identity", "conditions"));
                }
                c.identity = Some(parse_identity(child)?);
            }
            (Some(NS_CP), "sphere") => {
                if c.sphere.is_some() {
                    return Err(repeated("sphere", "conditions"));
                }
                empty(child, "sphere")?;
                let value = child.attr("value").ok_or(PolicyError::MissingAttribute {
                    element: "sphere",
                    attribute: "value",
                })?;
                c.sphere = Some(value.to_owned());
            }
            (Some(NS_CP), "validity") => {
                // RFC 4745 §7.4: several validity elements are "not useful".
                if seen_validity {
                    return Err(repeated("validity", "conditions"));
                }
                seen_validity = true;
                c.validity = parse_validity(child)?;
            }
            _ => return Err(unexpected(child, "conditions")),
        }
    }
    Ok(c)
}

fn repeated(element: &'static str, parent: &str) -> PolicyError {
    PolicyError::Repeated {
        element,
        parent: parent.to_owned(),
    }
}

fn parse_identity(el: &Element) -> Result<Identity, PolicyError> {
    no_text(el, "identity")?;
    let mut id = Identity::default();
    for child in el.elements() {
        if is_foreign(child) {
            id.extensions.push(child.clone());
            continue;
        }
        match (child.namespace.as_deref(), child.name.as_str()) {
            (Some(NS_CP), "one") => {
                no_text(child, "one")?;
                // RFC 4745 §7.2: a single-user entity has no domain.
                if child.attr("domain").is_some() {
                    return Err(PolicyError::InvalidValue {
                        element: "one",
                        value: "domain attribute".to_owned(),
                    });
                }
                let uri = required_uri(child, "one", "id")?;
                let mut one = One {
                    id: uri,
                    extensions: Vec::new(),
                };
                for ext in child.elements() {
                    if !is_foreign(ext) || !one.extensions.is_empty() {
                        return Err(unexpected(ext, "one"));
                    }
                    one.extensions.push(ext.clone());
                }
                id.ones.push(one);
            }
            (Some(NS_CP), "many") => id.manys.push(parse_many(child)?),
            _ => return Err(unexpected(child, "identity")),
        }
    }
    Ok(id)
}

fn required_uri(
    el: &Element,
    element: &'static str,
    attribute: &'static str,
) -> Result<String, PolicyError> {
    let v = el
        .attr(attribute)
        .ok_or(PolicyError::MissingAttribute { element, attribute })?;
    let v = v.trim();
    if v.is_empty() {
        return Err(PolicyError::InvalidValue {
            element,
            value: String::new(),
        });
    }
    Ok(v.to_owned())
}

fn parse_many(el: &Element) -> Result<Many, PolicyError> {
    no_text(el, "many")?;
    let mut many = Many {
        domain: el.attr("domain").map(str::to_owned),
        ..Many::default()
    };
    for child in el.elements() {
        if is_foreign(child) {
            many.extensions.push(child.clone());
            continue;
        }
        if !child.is(NS_CP, "except") {
            return Err(unexpected(child, "many"));
        }
        empty(child, "except")?;
        let except = match (child.attr("domain"), child.attr("id")) {
            (Some(_), Some(_)) => return Err(PolicyError::ExceptBoth),
            (None, None) => return Err(PolicyError::ExceptEmpty),
            (Some(d), None) => {
                // RFC 4745 §7.1.3.3: within a domain, only identities can
                // be excepted.
                if many.domain.is_some() {
                    return Err(PolicyError::ExceptDomainInDomainMany(d.to_owned()));
                }
                Except::Domain(d.to_owned())
            }
            (None, Some(_)) => Except::Id(required_uri(child, "except", "id")?),
        };
        many.excepts.push(except);
    }
    Ok(many)
}

fn parse_validity(el: &Element) -> Result<Vec<(String, String)>, PolicyError> {
    no_text(el, "validity")?;
    let mut pairs = Vec::new();
    let mut from: Option<String> = None;
    for child in el.elements() {
        let value = |c: &Element, what: &'static str| -> Result<String, PolicyError> {
            let t = simple(c, what)?;
            if datetime_ms(&t).is_none() {
                return Err(PolicyError::InvalidTime(t));
            }
            Ok(t)
        };
        match (child.namespace.as_deref(), child.name.as_str(), from.take()) {
            (Some(NS_CP), "from", None) => from = Some(value(child, "from")?),
            (Some(NS_CP), "until", Some(f)) => pairs.push((f, value(child, "until")?)),
            (Some(NS_CP), "from" | "until", _) => return Err(PolicyError::ValidityPairs),
            _ => return Err(unexpected(child, "validity")),
        }
    }
    if from.is_some() || pairs.is_empty() {
        return Err(PolicyError::ValidityPairs);
    }
    Ok(pairs)
}

fn parse_actions(el: &Element) -> Result<Actions, PolicyError> {
    no_text(el, "actions")?;
    let mut a = Actions::default();
    for child in el.elements() {
        if is_foreign(child) {
            a.extensions.push(child.clone());
            continue;
        }
        if !child.is(NS_PR, "sub-handling") {
            return Err(unexpected(child, "actions"));
        }
        let t = simple(child, "sub-handling")?;
        let v = SubHandling::from_token(&t).ok_or(PolicyError::InvalidValue {
            element: "sub-handling",
            value: t,
        })?;
        // Repeated permissions in one rule combine like across rules.
        a.sub_handling = a.sub_handling.max(Some(v));
    }
    Ok(a)
}

fn boolean(el: &Element, what: &'static str) -> Result<bool, PolicyError> {
    let t = simple(el, what)?;
    match t.as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(PolicyError::InvalidValue {
            element: what,
            value: t,
        }),
    }
}

fn token(el: &Element, what: &'static str) -> Result<String, PolicyError> {
    let t = simple(el, what)?;
    if t.is_empty() {
        return Err(PolicyError::InvalidValue {
            element: what,
            value: t,
        });
    }
    Ok(t)
}

/// Parses a `provide-*` set; `member` maps a `pr:` child to a member, or
/// `None` if that element is not allowed here.
fn parse_set<M: PartialEq>(
    el: &Element,
    set: &mut ProvideSet<M>,
    what: &'static str,
    all_name: &'static str,
    member: impl Fn(&str, String) -> Option<M>,
) -> Result<(), PolicyError> {
    no_text(el, what)?;
    let mut all = false;
    let mut others = false;
    for child in el.elements() {
        if is_foreign(child) {
            others = true;
            if !set.extensions.contains(child) {
                set.extensions.push(child.clone());
            }
            continue;
        }
        if child.namespace.as_deref() != Some(NS_PR) {
            return Err(unexpected(child, what));
        }
        if child.name == all_name {
            empty(child, all_name)?;
            all = true;
            continue;
        }
        let name: &'static str = match child.name.as_str() {
            "class" => "class",
            "deviceID" => "deviceID",
            "occurrence-id" => "occurrence-id",
            "service-uri" => "service-uri",
            "service-uri-scheme" => "service-uri-scheme",
            _ => return Err(unexpected(child, what)),
        };
        let value = token(child, name)?;
        let m = member(name, value).ok_or_else(|| unexpected(child, what))?;
        others = true;
        if !set.members.contains(&m) {
            set.members.push(m);
        }
    }
    // RFC 5025 §7: all-* is a choice against the member sequence.
    if all && others {
        return Err(PolicyError::MixedAll(all_name));
    }
    if all || set.all {
        set.all = true;
        set.members.clear();
    }
    Ok(())
}

fn parse_transformations(el: &Element) -> Result<Transformations, PolicyError> {
    no_text(el, "transformations")?;
    let mut t = Transformations::default();
    for child in el.elements() {
        if is_foreign(child) {
            t.extensions.push(child.clone());
            continue;
        }
        if child.namespace.as_deref() != Some(NS_PR) {
            return Err(unexpected(child, "transformations"));
        }
        // Repeated permissions in one rule combine like across rules
        // (RFC 4745 §10.2): booleans OR, sets union, enumerations max.
        match child.name.as_str() {
            "provide-devices" => parse_set(
                child,
                &mut t.provide_devices,
                "provide-devices",
                "all-devices",
                |name, v| match name {
                    "class" => Some(DeviceMember::Class(v)),
                    "deviceID" => Some(DeviceMember::DeviceId(v)),
                    "occurrence-id" => Some(DeviceMember::OccurrenceId(v)),
                    _ => None,
                },
            )?,
            "provide-persons" => parse_set(
                child,
                &mut t.provide_persons,
                "provide-persons",
                "all-persons",
                |name, v| match name {
                    "class" => Some(PersonMember::Class(v)),
                    "occurrence-id" => Some(PersonMember::OccurrenceId(v)),
                    _ => None,
                },
            )?,
            "provide-services" => parse_set(
                child,
                &mut t.provide_services,
                "provide-services",
                "all-services",
                |name, v| match name {
                    "class" => Some(ServiceMember::Class(v)),
                    "occurrence-id" => Some(ServiceMember::OccurrenceId(v)),
                    "service-uri" => Some(ServiceMember::ServiceUri(v)),
                    "service-uri-scheme" => Some(ServiceMember::ServiceUriScheme(v)),
                    _ => None,
                },
            )?,
            "provide-activities" => t.provide_activities |= boolean(child, "provide-activities")?,
            "provide-class" => t.provide_class |= boolean(child, "provide-class")?,
            "provide-deviceID" => t.provide_device_id |= boolean(child, "provide-deviceID")?,
            "provide-mood" => t.provide_mood |= boolean(child, "provide-mood")?,
            "provide-place-is" => t.provide_place_is |= boolean(child, "provide-place-is")?,
            "provide-place-type" => t.provide_place_type |= boolean(child, "provide-place-type")?,
            "provide-privacy" => t.provide_privacy |= boolean(child, "provide-privacy")?,
            "provide-relationship" => {
                t.provide_relationship |= boolean(child, "provide-relationship")?;
            }
            "provide-sphere" => t.provide_sphere |= boolean(child, "provide-sphere")?,
            "provide-status-icon" => {
                t.provide_status_icon |= boolean(child, "provide-status-icon")?;
            }
            "provide-time-offset" => {
                t.provide_time_offset |= boolean(child, "provide-time-offset")?;
            }
            "provide-note" => t.provide_note |= boolean(child, "provide-note")?,
            "provide-user-input" => {
                let v = simple(child, "provide-user-input")?;
                let v = ProvideUserInput::from_token(&v).ok_or(PolicyError::InvalidValue {
                    element: "provide-user-input",
                    value: v,
                })?;
                t.provide_user_input = t.provide_user_input.max(v);
            }
            "provide-unknown-attribute" => {
                let name = child.attr("name").ok_or(PolicyError::MissingAttribute {
                    element: "provide-unknown-attribute",
                    attribute: "name",
                })?;
                let ns = child.attr("ns").ok_or(PolicyError::MissingAttribute {
                    element: "provide-unknown-attribute",
                    attribute: "ns",
                })?;
                // RFC 5025 §3.3.2.14: an unqualified name and a namespace URI.
                if !is_ncname(name) {
                    return Err(PolicyError::InvalidValue {
                        element: "provide-unknown-attribute name",
                        value: name.to_owned(),
                    });
                }
                if ns.trim().is_empty() {
                    return Err(PolicyError::InvalidValue {
                        element: "provide-unknown-attribute ns",
                        value: ns.to_owned(),
                    });
                }
                if boolean(child, "provide-unknown-attribute")? {
                    let ua = UnknownAttribute {
                        ns: ns.to_owned(),
                        name: name.to_owned(),
                    };
                    if !t.provide_unknown_attributes.contains(&ua) {
                        t.provide_unknown_attributes.push(ua);
                    }
                }
            }
            "provide-all-attributes" => {
                empty(child, "provide-all-attributes")?;
                t.provide_all_attributes = true;
            }
            _ => return Err(unexpected(child, "transformations")),
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"<ruleset xmlns="urn:ietf:params:xml:ns:common-policy" xmlns:pr="urn:ietf:params:xml:ns:pres-rules">"#;

    fn doc(body: &str) -> Result<RuleSet, PolicyError> {
        parse(format!("{HEAD}{body}</ruleset>").as_bytes())
    }

    #[test]
    fn empty_ruleset() {
        assert_eq!(doc(""), Ok(RuleSet::default()));
    }

    #[test]
    fn empty_rule_parts_are_optional() {
        let rs = doc(r#"<rule id="a"/>"#).unwrap();
        assert_eq!(rs.rules[0].id, "a");
        assert_eq!(rs.rules[0].conditions, Conditions::default());
    }

    #[test]
    fn rule_order_enforced() {
        let e = doc(r#"<rule id="a"><actions/><conditions/></rule>"#).unwrap_err();
        assert!(
            matches!(
                e,
                PolicyError::Repeated {
                    element: "conditions",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn sub_handling_repeated_takes_max() {
        let rs = doc(r#"<rule id="a"><actions><pr:sub-handling>allow</pr:sub-handling><pr:sub-handling> block </pr:sub-handling></actions></rule>"#).unwrap();
        assert_eq!(rs.rules[0].actions.sub_handling, Some(SubHandling::Allow));
    }

    #[test]
    fn false_booleans_equal_absent() {
        let rs = doc(r#"<rule id="a"><transformations><pr:provide-mood>false</pr:provide-mood><pr:provide-note>1</pr:provide-note></transformations></rule>"#).unwrap();
        assert!(!rs.rules[0].transformations.provide_mood);
        assert!(rs.rules[0].transformations.provide_note);
    }

    #[test]
    fn unknown_pr_element_refused() {
        let e = doc(r#"<rule id="a"><transformations><pr:provide-weather>true</pr:provide-weather></transformations></rule>"#).unwrap_err();
        assert!(e.to_string().contains("provide-weather"), "{e}");
    }

    #[test]
    fn pr_member_in_wrong_set_refused() {
        let e = doc(r#"<rule id="a"><transformations><pr:provide-persons><pr:service-uri>sip:x@y</pr:service-uri></pr:provide-persons></transformations></rule>"#).unwrap_err();
        assert!(
            matches!(
                e,
                PolicyError::UnexpectedElement {
                    parent: "provide-persons",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn text_in_structure_refused() {
        assert_eq!(
            doc(r#"<rule id="a">hello</rule>"#),
            Err(PolicyError::UnexpectedText("rule"))
        );
    }

    #[test]
    fn ncname_ids() {
        assert!(is_ncname("f3g44r1"));
        assert!(is_ncname("_a.b-c"));
        assert!(!is_ncname("1abc"));
        assert!(!is_ncname("a b"));
        assert!(!is_ncname("a:b"));
        assert!(!is_ncname(""));
    }
}
