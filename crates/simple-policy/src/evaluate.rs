//! Rule matching (RFC 4745 §7, RFC 5025 §3.1) and the combining of the
//! matching rules' permissions (RFC 4745 §10).

use crate::model::{
    Conditions, Decision, Except, Identity, Many, ProvideSet, RuleSet, Transformations,
};
use crate::time::datetime_ms;
use crate::uri::{canonical, normalize_domain};

/// A watcher identity reduced for comparison; `None` when unauthenticated.
struct Watcher {
    uri: String,
    domain: Option<String>,
}

fn watcher(s: &str) -> Option<Watcher> {
    let (uri, domain) = canonical(s)?;
    Some(Watcher { uri, domain })
}

fn same(a: &str, w: &Watcher) -> bool {
    canonical(a).is_some_and(|(c, _)| c == w.uri)
}

fn in_domain(domain: &str, w: &Watcher) -> bool {
    w.domain
        .as_deref()
        .is_some_and(|d| d == normalize_domain(domain))
}

fn many_matches(many: &Many, w: &Watcher) -> bool {
    // Unknown children of `many` are not understood: privacy safe FALSE.
    if !many.extensions.is_empty() {
        return false;
    }
    if let Some(d) = &many.domain
        && !in_domain(d, w)
    {
        return false;
    }
    !many.excepts.iter().any(|e| match e {
        Except::Domain(d) => in_domain(d, w),
        Except::Id(id) => same(id, w),
    })
}

fn identity_matches(identity: &Identity, w: Option<&Watcher>) -> bool {
    match w {
        // RFC 5025 §3.1.1.2: an unauthenticated request matches only an
        // empty <identity>.
        None => {
            identity.ones.is_empty() && identity.manys.is_empty() && identity.extensions.is_empty()
        }
        // RFC 4745 §7.1.1: OR over the children; unknown ones are FALSE.
        Some(w) => {
            identity.ones.iter().any(|o| same(&o.id, w))
                || identity.manys.iter().any(|m| many_matches(m, w))
        }
    }
}

fn sphere_matches(value: &str, current: Option<&str>) -> bool {
    // RFC 4745 §7.3: any blank-separated token, case-insensitively. An
    // undefined sphere (RFC 5025 §3.1.2) matches nothing.
    let Some(current) = current else {
        return false;
    };
    let current = current.trim();
    value
        .split_whitespace()
        .any(|t| t.to_lowercase() == current.to_lowercase())
}

fn validity_matches(pairs: &[(String, String)], now_ms: u64) -> bool {
    let now = i128::from(now_ms);
    // RFC 4745 §7.4: from <= now < until for some pair.
    pairs.iter().any(
        |(from, until)| match (datetime_ms(from), datetime_ms(until)) {
            (Some(f), Some(u)) => i128::from(f) <= now && now < i128::from(u),
            _ => false,
        },
    )
}

impl Conditions {
    /// Whether every condition holds (RFC 4745 §10.1: logical AND).
    ///
    /// `watcher` is the authenticated identity URI; an empty string means
    /// unauthenticated. `now_ms` is Unix time in milliseconds;
    /// `current_sphere` is the presentity's sphere, `None` if undefined.
    pub fn matches(&self, watcher_uri: &str, now_ms: u64, current_sphere: Option<&str>) -> bool {
        // RFC 4745 §7: a condition not understood evaluates to FALSE.
        if !self.extensions.is_empty() {
            return false;
        }
        if let Some(identity) = &self.identity {
            let w = watcher(watcher_uri);
            if !identity_matches(identity, w.as_ref()) {
                return false;
            }
        }
        if let Some(s) = &self.sphere
            && !sphere_matches(s, current_sphere)
        {
            return false;
        }
        self.validity.is_empty() || validity_matches(&self.validity, now_ms)
    }
}

fn union_set<M: Clone + PartialEq>(into: &mut ProvideSet<M>, from: &ProvideSet<M>) {
    if from.all || into.all {
        into.all = true;
        into.members.clear();
    } else {
        for m in &from.members {
            if !into.members.contains(m) {
                into.members.push(m.clone());
            }
        }
    }
    for e in &from.extensions {
        if !into.extensions.contains(e) {
            into.extensions.push(e.clone());
        }
    }
}

impl Transformations {
    /// Combines `other` into `self` (RFC 4745 §10.2): booleans OR,
    /// enumerated integers maximum, sets union.
    pub fn combine(&mut self, other: &Transformations) {
        union_set(&mut self.provide_devices, &other.provide_devices);
        union_set(&mut self.provide_persons, &other.provide_persons);
        union_set(&mut self.provide_services, &other.provide_services);
        self.provide_activities |= other.provide_activities;
        self.provide_class |= other.provide_class;
        self.provide_device_id |= other.provide_device_id;
        self.provide_mood |= other.provide_mood;
        self.provide_place_is |= other.provide_place_is;
        self.provide_place_type |= other.provide_place_type;
        self.provide_privacy |= other.provide_privacy;
        self.provide_relationship |= other.provide_relationship;
        self.provide_sphere |= other.provide_sphere;
        self.provide_status_icon |= other.provide_status_icon;
        self.provide_time_offset |= other.provide_time_offset;
        self.provide_user_input = self.provide_user_input.max(other.provide_user_input);
        self.provide_note |= other.provide_note;
        for ua in &other.provide_unknown_attributes {
            if !self.provide_unknown_attributes.contains(ua) {
                self.provide_unknown_attributes.push(ua.clone());
            }
        }
        self.provide_all_attributes |= other.provide_all_attributes;
        for e in &other.extensions {
            if !self.extensions.contains(e) {
                self.extensions.push(e.clone());
            }
        }
    }
}

impl RuleSet {
    /// RFC 4745 §10: the rules whose conditions match, combined.
    ///
    /// - `watcher`: the authenticated watcher URI (`sip:bob@example.com`),
    ///   compared as described in the crate documentation; `""` for an
    ///   unauthenticated watcher, who matches only rules without identity
    ///   condition or with an empty `<identity/>`.
    /// - `now_ms`: the current time, Unix milliseconds (validity windows
    ///   are `from <= now < until`).
    /// - `current_sphere`: the presentity's sphere (RFC 5025 §3.1.2), or
    ///   `None` if undefined (every sphere condition is then false).
    ///
    /// Sub-handling is the maximum over the matching rules, a rule
    /// without one counting as `block`; transformations are combined by
    /// [`Transformations::combine`]. No matching rule gives `None`, and the
    /// caller applies its default.
    pub fn evaluate(
        &self,
        watcher: &str,
        now_ms: u64,
        current_sphere: Option<&str>,
    ) -> Option<Decision> {
        let mut decision: Option<Decision> = None;
        for rule in &self.rules {
            if !rule.conditions.matches(watcher, now_ms, current_sphere) {
                continue;
            }
            let sh = rule.actions.sub_handling.unwrap_or_default();
            match &mut decision {
                None => {
                    let mut transformations = Transformations::default();
                    transformations.combine(&rule.transformations);
                    decision = Some(Decision {
                        sub_handling: sh,
                        transformations,
                    });
                }
                Some(d) => {
                    d.sub_handling = d.sub_handling.max(sh);
                    d.transformations.combine(&rule.transformations);
                }
            }
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sphere_tokens() {
        assert!(sphere_matches("home work", Some("Work")));
        assert!(!sphere_matches("home work", Some("travel")));
        assert!(!sphere_matches("home", None));
    }

    #[test]
    fn validity_half_open() {
        let pairs = vec![(
            "1970-01-01T00:00:01Z".to_owned(),
            "1970-01-01T00:00:02Z".to_owned(),
        )];
        assert!(!validity_matches(&pairs, 999));
        assert!(validity_matches(&pairs, 1000));
        assert!(validity_matches(&pairs, 1999));
        assert!(!validity_matches(&pairs, 2000));
    }

    #[test]
    fn empty_identity_is_for_the_anonymous() {
        let id = Identity::default();
        assert!(identity_matches(&id, None));
        let w = watcher("sip:bob@example.com");
        assert!(!identity_matches(&id, w.as_ref()));
    }
}
