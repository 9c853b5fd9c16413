//! Presence authorization rules: common policy (RFC 4745) with the
//! presence conditions, actions and transformations of RFC 5025. Parsing
//! and writing `application/auth-policy+xml`, deciding a subscription
//! ([`RuleSet::evaluate`]), and filtering a composed PIDF document for one
//! watcher ([`Transformations::apply`]).
//!
//! # Layout
//!
//! - [`model`]: the typed rule set ([`RuleSet`], [`Rule`], [`Conditions`],
//!   [`Actions`], [`Transformations`], [`Decision`]).
//! - `parse`: [`parse`], bytes to the model with the schema checks, over
//!   the namespace-resolved tree of `simple_pidf::xml`.
//! - `serialize`: [`RuleSet::to_xml`], the canonical output.
//! - `evaluate`: [`RuleSet::evaluate`], condition matching and the
//!   combining of permissions.
//! - `transform`: [`Transformations::apply`], [`Transformations::all`] and
//!   [`polite_block_document`].
//! - `uri`: identity, domain and URI comparison.
//! - `time`: `xs:dateTime` to Unix milliseconds.
//! - `error`: [`PolicyError`].
//!
//! # Parsing
//!
//! Namespaces are matched by URI whatever the prefix:
//! `urn:ietf:params:xml:ns:common-policy` ([`NS_CP`]) and
//! `urn:ietf:params:xml:ns:pres-rules` ([`NS_PR`]). Elements in other
//! namespaces inside `conditions`, `identity`, `one`, `many`, `actions`,
//! `transformations` and the `provide-devices/persons/services` sets are
//! preserved as [`simple_pidf::Element`]s and written back; they grant
//! nothing, and an unknown condition (or identity child) is FALSE (RFC
//! 4745 §7, §7.1.1) so its rule never matches that way.
//!
//! Permissions are stored by value; absent and lowest value are the same
//! (RFC 4745 §10.2), so `<pr:provide-mood>false</pr:provide-mood>` is not
//! written back. A permission repeated inside one rule is combined as
//! across rules (booleans OR, sets union, sub-handling and user-input
//! maximum). An `all-*` member subsumes the others after combining.
//!
//! Rejected with a reason ([`PolicyError`]'s `Display`, fit for a `400` or
//! an XCAP schema-validation error):
//!
//! - not UTF-8, not well-formed, a DOCTYPE, nesting deeper than
//!   [`simple_pidf::MAX_DEPTH`];
//! - a root other than `{cp}ruleset`, anything but `rule`s in it;
//! - a rule without `id`, an id that is not an NCName (`xs:ID`), duplicate
//!   ids (RFC 4745 §6.1);
//! - rule children other than `conditions`, `actions`, `transformations`,
//!   repeated or out of order (RFC 4745 §13);
//! - an unknown element in the `cp` or `pr` namespace anywhere (`##other`
//!   wildcards exclude the target namespace), e.g. `pr:service-uri` inside
//!   `provide-persons`;
//! - non-whitespace text where the schema has only elements;
//! - more than one `identity`, `sphere` or `validity` in a rule (the schema
//!   allows them ANDed; the model holds one of each);
//! - `one` or `except` without a non-empty `id` where one is needed, a
//!   `one` with a `domain` (RFC 4745 §7.2), an `except` with both or
//!   neither of `domain` and `id`, an `except domain` inside a `many` that
//!   has a `domain` (RFC 4745 §7.1.3.3), a `sphere` without `value`;
//! - `validity` that is not one or more `from`/`until` pairs, or a time
//!   that is not an `xs:dateTime` (four-digit year; no zone means UTC);
//! - a `sub-handling` other than `block`, `confirm`, `polite-block`,
//!   `allow`; a `provide-user-input` other than `false`, `bare`,
//!   `thresholds`, `full`; a boolean permission other than
//!   `true`/`false`/`1`/`0`; an empty `class`, `occurrence-id`,
//!   `deviceID`, `service-uri` or `service-uri-scheme`;
//! - `all-devices`/`all-persons`/`all-services` together with other
//!   members (RFC 5025 §7 makes it a choice);
//! - `provide-unknown-attribute` without `ns` or `name`, or a `name` that is
//!   not an unprefixed NCName (RFC 5025 §3.3.2.14);
//! - content in `provide-all-attributes`, `all-*`, `except`, `sphere`.
//!
//! ```
//! let rs = simple_policy::parse(br#"<cr:ruleset
//!     xmlns:cr="urn:ietf:params:xml:ns:common-policy"
//!     xmlns:pr="urn:ietf:params:xml:ns:pres-rules">
//!   <cr:rule id="friends">
//!     <cr:conditions><cr:identity><cr:one id="sip:bob@example.com"/></cr:identity></cr:conditions>
//!     <cr:actions><pr:sub-handling>allow</pr:sub-handling></cr:actions>
//!   </cr:rule>
//! </cr:ruleset>"#).unwrap();
//! let d = rs.evaluate("sip:bob@EXAMPLE.com", 0, None).unwrap();
//! assert_eq!(d.sub_handling, simple_policy::SubHandling::Allow);
//! assert!(rs.evaluate("sip:eve@example.com", 0, None).is_none());
//! assert_eq!(simple_policy::parse(rs.to_xml().as_bytes()).unwrap(), rs);
//! ```
//!
//! # Evaluation
//!
//! [`RuleSet::evaluate`] takes the watcher's authenticated URI (`""` when
//! unauthenticated), the time as **Unix milliseconds**, and the
//! presentity's current sphere (`None` when undefined, RFC 5025 §3.1.2).
//! A rule matches when all its conditions hold:
//!
//! - **identity** (RFC 4745 §7.1, RFC 5025 §3.1.1): absent matches
//!   everyone; otherwise any `one` or `many` child. URIs are compared in a
//!   canonical form: scheme lowercased and never equal across schemes;
//!   `sip`/`sips`/`pres`/`im`/`mailto` as `user@host` (user case-sensitive
//!   after percent-decoding, host case-insensitive, port, parameters and
//!   headers ignored); `tel` without visual separators. A `many` matches
//!   every authenticated watcher in its `domain` (if any) not excluded by
//!   an `except`. An unauthenticated watcher matches only an empty
//!   `<identity/>` (RFC 5025 §3.1.1.2).
//! - **sphere** (RFC 4745 §7.3): any blank-separated token of `value`
//!   equals the current sphere, case-insensitively.
//! - **validity** (RFC 4745 §7.4): `from <= now < until` for some pair.
//! - any unknown condition: false.
//!
//! The matching rules combine per RFC 4745 §10.2: sub-handling is the
//! maximum (block 0 < confirm 10 < polite-block 20 < allow 30, a rule
//! without it counting as block), booleans OR, `provide-user-input` the
//! maximum, sets the union. No matching rule: `None`, and the caller
//! applies its default.
//!
//! # Filtering
//!
//! [`Transformations::apply`] implements RFC 5025 §3.3 default-deny:
//!
//! - **Components** (§3.3.1): a tuple is kept if `provide-services` has
//!   `all-services`, its id as `occurrence-id`, its contact URI as
//!   `service-uri` (URI equivalence), that URI's scheme as
//!   `service-uri-scheme` (case-sensitive), or its `rpid:class` as `class`
//!   (case-sensitive). Persons by `all-persons`, id or class; devices by
//!   `all-devices`, id, `dm:deviceID` (URI equivalence) or class. Nothing
//!   granted, nothing kept: **empty transformations leave only the
//!   `entity`**, no tuple at all.
//! - **Always kept** in a kept component (§3.3.2): tuple id, basic status,
//!   contact, timestamp and `rpid:service-class`; person id and timestamp;
//!   device id, `dm:deviceID` and timestamp.
//! - **By permission**, wherever the element occurs: activities, class,
//!   mood, place-is, place-type, privacy, relationship, sphere,
//!   status-icon, time-offset, user-input (`bare` drops `idle-threshold`
//!   and `last-input`, `thresholds` drops `last-input`), notes of tuples,
//!   persons and devices (`provide-note`), a tuple's `dm:deviceID`s
//!   (`provide-deviceID`). Notes inside RPID elements go with their
//!   element (§3.3.2.13).
//! - **Unknown attributes** (§3.3.2.14): unknown children of tuples,
//!   persons, devices and tuple status, CIPID elements (no RFC 5025
//!   permission exists for them) and RFC 4481 `timed-status` are kept
//!   when a `provide-unknown-attribute` names their namespace and local
//!   name, or with `provide-all-attributes`, which grants every attribute
//!   of the kept components (§3.3.2.15).
//! - **Presence level** (not covered by RFC 5025, decided here):
//!   presence-level notes follow `provide-note`; top-level extensions
//!   follow the unknown-attribute rule.
//! - **Idempotence** (§4, `F(F(D)) = F(D)`): a component kept only
//!   because of a `class` member keeps its `rpid:class` even without
//!   `provide-class`; otherwise filtering the output again would drop it.
//!
//! [`polite_block_document`] is what a politely blocked watcher sees.

mod error;
mod evaluate;
pub mod model;
mod parse;
mod serialize;
mod time;
mod transform;
mod uri;

pub use error::PolicyError;
pub use model::{
    Actions, Conditions, Decision, DeviceMember, Except, Identity, Many, One, PersonMember,
    ProvideSet, ProvideUserInput, Rule, RuleSet, ServiceMember, SubHandling, Transformations,
    UnknownAttribute,
};
pub use parse::parse;
pub use transform::polite_block_document;

/// The media type of a policy document (RFC 4745 §15.2), also used for
/// presence authorization rules (RFC 5025 §9.4).
pub const MEDIA_TYPE: &str = "application/auth-policy+xml";

/// Common policy namespace (RFC 4745).
pub const NS_CP: &str = "urn:ietf:params:xml:ns:common-policy";
/// Presence authorization rules namespace (RFC 5025).
pub const NS_PR: &str = "urn:ietf:params:xml:ns:pres-rules";
