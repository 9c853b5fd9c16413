//! The one error type of the crate.

use simple_pidf::PidfError;

/// Why an authorization policy document was rejected.
///
/// Every variant's `Display` is a short human reason, fit for the reason
/// phrase of a `400` or the body of an XCAP `409` (RFC 4825 §11:
/// `<schema-validation-error>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not UTF-8, not well-formed, a DOCTYPE, too deep.
    #[error("{0}")]
    Xml(#[from] PidfError),
    /// The root is not `{urn:ietf:params:xml:ns:common-policy}ruleset`.
    #[error("root element is not {{urn:ietf:params:xml:ns:common-policy}}ruleset")]
    NotRuleset,
    /// RFC 4745 §13: `id` is a required attribute of `<rule>`.
    #[error("rule without id")]
    RuleWithoutId,
    /// RFC 4745 §13: the rule id is an `xs:ID`, an NCName.
    #[error("rule id '{0}' is not an NCName")]
    InvalidRuleId(String),
    /// RFC 4745 §6.1: rule ids are unique in a rule set.
    #[error("duplicate rule id '{0}'")]
    DuplicateRuleId(String),
    /// An element the schema does not allow where it appears.
    #[error("unexpected element {element} in {parent}")]
    UnexpectedElement {
        /// `{namespace}name` of the element.
        element: String,
        /// Where it appeared.
        parent: &'static str,
    },
    /// Character data where the schema allows only elements.
    #[error("unexpected text in {0}")]
    UnexpectedText(&'static str),
    /// An element that may occur once occurs more often (or out of the
    /// schema's order).
    #[error("{element} repeated or out of order in {parent}")]
    Repeated {
        /// The element.
        element: &'static str,
        /// Where.
        parent: String,
    },
    /// A required attribute is missing.
    #[error("{element} without {attribute} attribute")]
    MissingAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// A value outside its type or enumeration.
    #[error("invalid {element} '{value}'")]
    InvalidValue {
        /// The element or attribute.
        element: &'static str,
        /// The offending value.
        value: String,
    },
    /// RFC 4745 §7.4: `from`/`until` are `xs:dateTime`.
    #[error("invalid validity time '{0}'")]
    InvalidTime(String),
    /// RFC 4745 §7.4: `<validity>` holds `<from>`/`<until>` pairs.
    #[error("validity must hold from/until pairs")]
    ValidityPairs,
    /// RFC 4745 §7.2: an `<except>` names either a domain or one entity.
    #[error("except with both domain and id")]
    ExceptBoth,
    /// An `<except>` with neither `domain` nor `id` excludes nothing.
    #[error("except without domain or id")]
    ExceptEmpty,
    /// RFC 4745 §7.1.3.3: a `<many domain=..>` excepts only ids.
    #[error("except domain '{0}' inside a many with a domain")]
    ExceptDomainInDomainMany(String),
    /// RFC 5025 §7: `all-*` is a choice against the other members.
    #[error("{0} mixed with other members")]
    MixedAll(&'static str),
    /// An element whose type is empty has content.
    #[error("{0} must be empty")]
    NotEmpty(&'static str),
    /// A simple-content element has child elements.
    #[error("{0} has child elements")]
    ComplexContent(&'static str),
}
