//! The one error type of the crate.

/// Why a PIDF document was rejected.
///
/// Every variant's `Display` is a short human reason, suitable as the reason
/// phrase of the `400 Bad Request` a presence agent answers a PUBLISH with
/// (RFC 3903 §6: a body the ESC cannot process is a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PidfError {
    /// The body is not UTF-8 (the only encoding accepted, RFC 3863 §4).
    #[error("not UTF-8")]
    NotUtf8,
    /// The XML parser refused the body.
    #[error("not well-formed XML at byte {position}: {reason}")]
    NotWellFormed {
        /// Byte offset of the problem in the body.
        position: u64,
        /// What the parser said.
        reason: String,
    },
    /// Element nesting exceeds [`MAX_DEPTH`](crate::MAX_DEPTH).
    #[error("document too deep")]
    TooDeep,
    /// A DOCTYPE declaration (entity definitions are not accepted).
    #[error("DOCTYPE not allowed")]
    Doctype,
    /// The root element is not `{urn:ietf:params:xml:ns:pidf}presence`.
    #[error("root element is not {{urn:ietf:params:xml:ns:pidf}}presence")]
    NotPresence,
    /// RFC 3863 §4.1.1: the `entity` attribute is mandatory.
    #[error("presence without entity attribute")]
    NoEntity,
    /// RFC 3863 §4.1.2: a tuple has a mandatory `id`.
    #[error("tuple without id")]
    TupleWithoutId,
    /// RFC 4479 §5: a person element has a mandatory `id`.
    #[error("person without id")]
    PersonWithoutId,
    /// RFC 4479 §5: a device element has a mandatory `id`.
    #[error("device without id")]
    DeviceWithoutId,
    /// RFC 3863 §4.1.2: tuple ids are unique within the document.
    #[error("duplicate tuple id '{0}'")]
    DuplicateTupleId(String),
    /// RFC 4479 §5: ids of tuple, person and device share one space.
    #[error("duplicate id '{0}'")]
    DuplicateId(String),
    /// RFC 3863 §4.1.3: every tuple has exactly one status.
    #[error("tuple '{0}' without status")]
    TupleWithoutStatus(String),
    /// An element that may occur once occurs more often.
    #[error("more than one {element} in {parent}")]
    Repeated {
        /// The repeated element.
        element: &'static str,
        /// Where it was repeated.
        parent: String,
    },
    /// RFC 3863 §4.1.4: basic is `open` or `closed`.
    #[error("invalid basic status '{0}'")]
    InvalidBasic(String),
    /// RFC 3863 §4.1.5: priority is a qvalue between 0 and 1, at most 3 decimals.
    #[error("invalid contact priority '{0}'")]
    InvalidPriority(String),
    /// A timestamp or from/until/last-input is not an RFC 3339 date-time.
    #[error("invalid timestamp '{0}'")]
    InvalidTimestamp(String),
    /// A simple-content element carries child elements.
    #[error("{0} has child elements")]
    ComplexContent(&'static str),
    /// An element value outside its range or enumeration.
    #[error("invalid {element} '{value}'")]
    InvalidValue {
        /// The element or attribute.
        element: &'static str,
        /// The offending value.
        value: String,
    },
    /// RFC 4481 §3: timed-status requires `from`.
    #[error("timed-status without from")]
    TimedStatusWithoutFrom,
}
