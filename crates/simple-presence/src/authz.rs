//! Who may see a presentity, and how much (RFC 5025 presence rules over
//! RFC 4745 common policy, `simple_policy`), with the server's default for
//! users who have no rules.

use std::sync::Arc;

use simple_policy::{RuleSet, SubHandling, Transformations};

/// The policy for a presentity with no rules document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultPolicy {
    /// Watchers of the presentity's own domain see everything; anyone else
    /// waits for her decision (confirm). The built-in default.
    AllowSameDomain,
    /// Everyone sees everything.
    Allow,
    /// Everyone waits for the presentity's decision.
    Confirm,
    /// Nobody but the presentity herself.
    Block,
}

impl DefaultPolicy {
    /// Parses the config token: `allow-same-domain`, `allow`, `confirm`,
    /// `block`.
    pub fn from_token(s: &str) -> Option<DefaultPolicy> {
        match s {
            "allow-same-domain" => Some(DefaultPolicy::AllowSameDomain),
            "allow" => Some(DefaultPolicy::Allow),
            "confirm" => Some(DefaultPolicy::Confirm),
            "block" => Some(DefaultPolicy::Block),
            _ => None,
        }
    }
}

/// What one watcher gets: the sub-handling and, when allowed, what of the
/// document (None: everything, no filtering pass).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Access {
    pub(crate) handling: SubHandling,
    pub(crate) transform: Option<Arc<Transformations>>,
}

impl Access {
    pub(crate) fn everything() -> Access {
        Access {
            handling: SubHandling::Allow,
            transform: None,
        }
    }

    pub(crate) fn of(handling: SubHandling) -> Access {
        Access {
            handling,
            transform: None,
        }
    }
}

/// `user@domain` of a sip/sips/pres URI (the domain lowercased), for
/// comparing a watcher with a presentity.
pub(crate) fn user_at_domain(uri: &str) -> Option<(String, String)> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))
        .or_else(|| uri.strip_prefix("pres:"))?;
    let rest = rest.split([';', '?', '>']).next()?;
    let (user, host) = rest.split_once('@')?;
    let host = host.split(':').next()?;
    Some((user.to_owned(), host.to_ascii_lowercase()))
}

/// The access a watcher gets to a presentity: the presentity herself sees
/// everything; then her rules (RFC 5025: combined over the matching rules;
/// rules that exist but none matches give block, RFC 4745 §10's empty
/// permission set); without rules, the default policy.
pub(crate) fn decide(
    default: DefaultPolicy,
    rules: Option<&RuleSet>,
    aor: &str,
    watcher: &str,
    now_ms: u64,
    sphere: Option<&str>,
) -> Access {
    let me = user_at_domain(aor);
    let them = user_at_domain(watcher);
    if me.is_some() && me == them {
        return Access::everything();
    }
    if let Some(rules) = rules {
        return match rules.evaluate(watcher, now_ms, sphere) {
            Some(d) => Access {
                handling: d.sub_handling,
                transform: Some(Arc::new(d.transformations)),
            },
            None => Access::of(SubHandling::Block),
        };
    }
    match default {
        DefaultPolicy::Allow => Access::everything(),
        DefaultPolicy::Confirm => Access::of(SubHandling::Confirm),
        DefaultPolicy::Block => Access::of(SubHandling::Block),
        DefaultPolicy::AllowSameDomain => {
            let same = matches!((&me, &them), (Some((_, a)), Some((_, b))) if a == b);
            if same {
                Access::everything()
            } else {
                Access::of(SubHandling::Confirm)
            }
        }
    }
}

/// The presentity's current sphere (RFC 4480 §3.2 `<rpid:sphere>` of her
/// person element), which RFC 5025 §3.1.2 sphere conditions compare with:
/// the first token (`work`, `home`) or text value.
pub(crate) fn current_sphere(doc: &simple_pidf::Presence) -> Option<String> {
    doc.persons.iter().find_map(|p| {
        p.rpid.sphere.iter().find_map(|e| {
            e.values
                .iter()
                .find_map(|v| match v {
                    simple_pidf::Value::Token(t) => Some(t.clone()),
                    _ => None,
                })
                .or_else(|| e.text.clone().filter(|t| !t.is_empty()))
        })
    })
}

/// Do any of these rules have a sphere condition?
pub(crate) fn uses_sphere(rules: &RuleSet) -> bool {
    rules.rules.iter().any(|r| r.conditions.sphere.is_some())
}
