//! The typed rule set: common policy (RFC 4745) with the presence
//! authorization conditions, actions and transformations (RFC 5025).
//!
//! Permissions are stored as their values, with "absent" and the lowest
//! value being the same thing (RFC 4745 §10.2): `false`, an empty set,
//! [`ProvideUserInput::False`]. An explicit `<pr:provide-mood>false</..>`
//! therefore parses to the same model as no element and is not written
//! back.

use simple_pidf::Element;

/// A policy document: `<cp:ruleset>`. The order of rules is irrelevant
/// (RFC 4745 §6) but kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleSet {
    /// `<cp:rule>`s, ids unique.
    pub rules: Vec<Rule>,
}

/// `<cp:rule>`: if the conditions hold, grant the actions and
/// transformations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rule {
    /// The `id` attribute (an NCName, unique in the rule set).
    pub id: String,
    /// `<cp:conditions>`; all of them must hold (logical AND).
    pub conditions: Conditions,
    /// `<cp:actions>`.
    pub actions: Actions,
    /// `<cp:transformations>`.
    pub transformations: Transformations,
}

/// `<cp:conditions>` (RFC 4745 §7). Empty conditions always hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conditions {
    /// `<cp:identity>`; `None` matches everyone, authenticated or not.
    pub identity: Option<Identity>,
    /// The `value` attribute of `<cp:sphere>`: blank-separated tokens.
    pub sphere: Option<String>,
    /// The `<cp:from>`/`<cp:until>` pairs of `<cp:validity>` (RFC 3339 /
    /// `xs:dateTime` text as received). Empty: no validity condition.
    pub validity: Vec<(String, String)>,
    /// Conditions in other namespaces, preserved. RFC 4745 §7: a condition
    /// the server does not understand is FALSE, so a rule with any of them
    /// never matches.
    pub extensions: Vec<Element>,
}

/// `<cp:identity>` (RFC 4745 §7.1): true if any child is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Identity {
    /// `<cp:one>`s.
    pub ones: Vec<One>,
    /// `<cp:many>`s.
    pub manys: Vec<Many>,
    /// Children in other namespaces, preserved; each evaluates to FALSE.
    pub extensions: Vec<Element>,
}

/// `<cp:one id="..."/>`: exactly one authenticated identity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct One {
    /// The identity URI.
    pub id: String,
    /// The optional child in another namespace, preserved.
    pub extensions: Vec<Element>,
}

/// `<cp:many>`: every authenticated identity (in `domain`, if given)
/// except those excluded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Many {
    /// The `domain` attribute.
    pub domain: Option<String>,
    /// `<cp:except>`s.
    pub excepts: Vec<Except>,
    /// Children in other namespaces, preserved. Not understood, so a
    /// `many` with any of them does not match (privacy safe).
    pub extensions: Vec<Element>,
}

/// `<cp:except>`: either a whole domain or one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Except {
    /// `<cp:except domain="..."/>` (only in a `many` without domain).
    Domain(String),
    /// `<cp:except id="..."/>`.
    Id(String),
}

/// `<pr:sub-handling>` (RFC 5025 §3.2.1), ordered by its numeric value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum SubHandling {
    /// 0: reject (403 / terminated;reason=rejected). The default.
    #[default]
    Block,
    /// 10: pending, ask the presentity.
    Confirm,
    /// 20: active, but the watcher sees [`polite_block_document`](crate::polite_block_document).
    PoliteBlock,
    /// 30: active.
    Allow,
}

impl SubHandling {
    /// The wire token.
    pub fn as_str(self) -> &'static str {
        match self {
            SubHandling::Block => "block",
            SubHandling::Confirm => "confirm",
            SubHandling::PoliteBlock => "polite-block",
            SubHandling::Allow => "allow",
        }
    }

    /// The RFC 5025 §3.2.1 numeric value.
    pub fn value(self) -> u8 {
        match self {
            SubHandling::Block => 0,
            SubHandling::Confirm => 10,
            SubHandling::PoliteBlock => 20,
            SubHandling::Allow => 30,
        }
    }

    /// Parses a wire token.
    pub fn from_token(s: &str) -> Option<SubHandling> {
        match s {
            "block" => Some(SubHandling::Block),
            "confirm" => Some(SubHandling::Confirm),
            "polite-block" => Some(SubHandling::PoliteBlock),
            "allow" => Some(SubHandling::Allow),
            _ => None,
        }
    }
}

/// `<cp:actions>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Actions {
    /// `<pr:sub-handling>`; `None` counts as [`SubHandling::Block`].
    pub sub_handling: Option<SubHandling>,
    /// Actions in other namespaces, preserved (not acted upon).
    pub extensions: Vec<Element>,
}

/// A set permission (`provide-devices`, `provide-persons`,
/// `provide-services`, RFC 5025 §3.3.1).
#[derive(Debug, Clone, PartialEq)]
pub struct ProvideSet<M> {
    /// `<pr:all-devices/>` / `<pr:all-persons/>` / `<pr:all-services/>`.
    /// When set, `members` is empty (the schema makes it a choice).
    pub all: bool,
    /// The members, in document order, without duplicates.
    pub members: Vec<M>,
    /// Members in other namespaces, preserved; they grant nothing.
    pub extensions: Vec<Element>,
}

impl<M> Default for ProvideSet<M> {
    fn default() -> ProvideSet<M> {
        ProvideSet {
            all: false,
            members: Vec::new(),
            extensions: Vec::new(),
        }
    }
}

impl<M> ProvideSet<M> {
    /// The set with `all` granted.
    pub fn everything() -> ProvideSet<M> {
        ProvideSet {
            all: true,
            members: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// Whether nothing is granted or preserved.
    pub fn is_empty(&self) -> bool {
        !self.all && self.members.is_empty() && self.extensions.is_empty()
    }
}

/// A member of `<pr:provide-devices>` (RFC 5025 §3.3.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceMember {
    /// `<pr:class>`: the device's RPID class, case-sensitive.
    Class(String),
    /// `<pr:deviceID>`: the device's `dm:deviceID`, URI equivalence.
    DeviceId(String),
    /// `<pr:occurrence-id>`: the device's `id`, case-sensitive.
    OccurrenceId(String),
}

/// A member of `<pr:provide-persons>` (RFC 5025 §3.3.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonMember {
    /// `<pr:class>`.
    Class(String),
    /// `<pr:occurrence-id>`.
    OccurrenceId(String),
}

/// A member of `<pr:provide-services>` (RFC 5025 §3.3.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceMember {
    /// `<pr:class>`.
    Class(String),
    /// `<pr:occurrence-id>`: the tuple id.
    OccurrenceId(String),
    /// `<pr:service-uri>`: the tuple's contact URI, URI equivalence.
    ServiceUri(String),
    /// `<pr:service-uri-scheme>`: the contact URI's scheme, case-sensitive.
    ServiceUriScheme(String),
}

/// `<pr:provide-user-input>` (RFC 5025 §3.3.2.12), ordered by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ProvideUserInput {
    /// 0: `<rpid:user-input>` removed. The default.
    #[default]
    False,
    /// 10: kept without `idle-threshold` and `last-input`.
    Bare,
    /// 20: kept with `idle-threshold` only.
    Thresholds,
    /// 30: kept whole.
    Full,
}

impl ProvideUserInput {
    /// The wire token.
    pub fn as_str(self) -> &'static str {
        match self {
            ProvideUserInput::False => "false",
            ProvideUserInput::Bare => "bare",
            ProvideUserInput::Thresholds => "thresholds",
            ProvideUserInput::Full => "full",
        }
    }

    /// Parses a wire token.
    pub fn from_token(s: &str) -> Option<ProvideUserInput> {
        match s {
            "false" => Some(ProvideUserInput::False),
            "bare" => Some(ProvideUserInput::Bare),
            "thresholds" => Some(ProvideUserInput::Thresholds),
            "full" => Some(ProvideUserInput::Full),
            _ => None,
        }
    }
}

/// `<pr:provide-unknown-attribute ns=".." name="..">true</..>`
/// (RFC 5025 §3.3.2.14): the element `{ns}name` is shown where it is a
/// child of a provided tuple, person or device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownAttribute {
    /// The namespace URI.
    pub ns: String,
    /// The local name.
    pub name: String,
}

/// `<cp:transformations>` with every RFC 5025 §3.3 permission.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transformations {
    /// `<pr:provide-devices>`.
    pub provide_devices: ProvideSet<DeviceMember>,
    /// `<pr:provide-persons>`.
    pub provide_persons: ProvideSet<PersonMember>,
    /// `<pr:provide-services>`.
    pub provide_services: ProvideSet<ServiceMember>,
    /// `<pr:provide-activities>`.
    pub provide_activities: bool,
    /// `<pr:provide-class>`.
    pub provide_class: bool,
    /// `<pr:provide-deviceID>` (the `dm:deviceID`s of tuples).
    pub provide_device_id: bool,
    /// `<pr:provide-mood>`.
    pub provide_mood: bool,
    /// `<pr:provide-place-is>`.
    pub provide_place_is: bool,
    /// `<pr:provide-place-type>`.
    pub provide_place_type: bool,
    /// `<pr:provide-privacy>`.
    pub provide_privacy: bool,
    /// `<pr:provide-relationship>`.
    pub provide_relationship: bool,
    /// `<pr:provide-sphere>`.
    pub provide_sphere: bool,
    /// `<pr:provide-status-icon>`.
    pub provide_status_icon: bool,
    /// `<pr:provide-time-offset>`.
    pub provide_time_offset: bool,
    /// `<pr:provide-user-input>`.
    pub provide_user_input: ProvideUserInput,
    /// `<pr:provide-note>`.
    pub provide_note: bool,
    /// The `<pr:provide-unknown-attribute>`s whose value is true.
    pub provide_unknown_attributes: Vec<UnknownAttribute>,
    /// `<pr:provide-all-attributes/>`.
    pub provide_all_attributes: bool,
    /// Transformations in other namespaces, preserved (grant nothing).
    pub extensions: Vec<Element>,
}

/// The combined outcome of the matching rules (RFC 4745 §10).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The maximum sub-handling of the matching rules.
    pub sub_handling: SubHandling,
    /// The combined transformations: what the watcher may see.
    pub transformations: Transformations,
}
