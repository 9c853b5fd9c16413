//! The error conditions of an XCAP request (RFC 4825 §11) and the status
//! each one is answered with, plus the media types and entity tags the HTTP
//! side needs.
//!
//! Every 409 condition carries an `application/xcap-error+xml` body
//! ([`XcapError::body`]); the free text of a variant goes into the optional
//! `phrase` attribute of the error element (RFC 4825 §11.2).

// One escaper for attribute values and character data alike.
use simple_pidf::xml::escape_attr as escape;
use std::fmt::Write as _;

use sha2::{Digest as _, Sha256};

/// Media type of a detailed conflict report (RFC 4825 §15.2.4).
pub const ERROR_MEDIA_TYPE: &str = "application/xcap-error+xml";
/// Media type of an element resource (RFC 4825 §15.2.1).
pub const ELEMENT_MEDIA_TYPE: &str = "application/xcap-el+xml";
/// Media type of an attribute resource (RFC 4825 §15.2.2).
pub const ATTRIBUTE_MEDIA_TYPE: &str = "application/xcap-att+xml";
/// Media type of a set of namespace bindings (RFC 4825 §15.2.3).
pub const NAMESPACE_MEDIA_TYPE: &str = "application/xcap-ns+xml";
/// Namespace of the detailed conflict report (RFC 4825 §15.3.1).
pub const NS_XCAP_ERROR: &str = "urn:ietf:params:xml:ns:xcap-error";

/// Why an XCAP request fails, shaped like the answer: [`status`] gives the
/// HTTP status and [`body`] the conflict report of a 409.
///
/// [`status`]: XcapError::status
/// [`body`]: XcapError::body
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum XcapError {
    /// `<not-well-formed>`: the body is not a well-formed XML document.
    #[error("not well-formed: {0}")]
    NotWellFormed(String),
    /// `<not-xml-frag>`: an element PUT whose body is not a balanced XML
    /// fragment holding exactly one element (RFC 4825 §8.2.2).
    #[error("not an XML fragment body: {0}")]
    NotXmlFrag(String),
    /// `<not-xml-att-value>`: an attribute PUT whose body is not an
    /// `AttValue` (RFC 4825 §8.2.2).
    #[error("not an XML attribute value: {0}")]
    NotXmlAttValue(String),
    /// `<schema-validation-error>`: the resulting document does not match
    /// the application usage's schema (RFC 4825 §8.2.5).
    #[error("schema validation error: {0}")]
    SchemaValidation(String),
    /// `<not-utf-8>`: the body is not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// `<no-parent>`: the element (or document) into which the insertion
    /// would go does not exist (RFC 4825 §8.2.1). `ancestor` is the closest
    /// existing ancestor as a percent-encoded node selector, relative to the
    /// document (as the `field` of `<exists>` is, §11.1); empty when only
    /// the document itself exists. The HTTP side may replace it with an
    /// absolute URI before calling [`XcapError::body`].
    #[error("no parent (closest ancestor: '{ancestor}')")]
    NoParent {
        /// Closest existing ancestor (see above).
        ancestor: String,
    },
    /// `<cannot-insert>`: after the PUT, the request URI would not select
    /// the content of the request (RFC 4825 §8.2.3, §8.2.4).
    #[error("cannot insert: {0}")]
    CannotInsert(String),
    /// `<cannot-delete>`: after the DELETE, the request URI would still
    /// select something (RFC 4825 §8.4).
    #[error("cannot delete: {0}")]
    CannotDelete(String),
    /// `<uniqueness-failure>`: a value the application usage wants unique
    /// is not. `field` is the percent-encoded node selector of the field,
    /// relative to the document; `alt_values` are suggested free values.
    #[error("uniqueness failure: {field}")]
    UniquenessFailure {
        /// The non-unique element or attribute.
        field: String,
        /// Suggested alternatives that do not exist yet.
        alt_values: Vec<String>,
    },
    /// `<constraint-failure>`: a data constraint of the application usage
    /// that the schema does not express (RFC 4825 §8.2.5).
    #[error("constraint failure: {0}")]
    ConstraintFailure(String),
    /// 404: nothing (or more than one node) is selected, or the document
    /// does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// 400: the request URI or node selector cannot be understood.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 405: a namespace selector in a PUT or DELETE (RFC 4825 §8.2, §8.4);
    /// the answer carries `Allow: GET`.
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
}

impl XcapError {
    /// The HTTP status: 409 for the RFC 4825 §11 conditions, else 404, 400
    /// or 405.
    pub fn status(&self) -> u16 {
        match self {
            XcapError::NotFound(_) => 404,
            XcapError::BadRequest(_) => 400,
            XcapError::MethodNotAllowed(_) => 405,
            _ => 409,
        }
    }

    /// The `application/xcap-error+xml` document of a 409 (RFC 4825 §11.2);
    /// `None` for other statuses.
    pub fn body(&self) -> Option<String> {
        let (name, phrase) = match self {
            XcapError::NotWellFormed(p) => ("not-well-formed", Some(p)),
            XcapError::NotXmlFrag(p) => ("not-xml-frag", Some(p)),
            XcapError::NotXmlAttValue(p) => ("not-xml-att-value", Some(p)),
            XcapError::SchemaValidation(p) => ("schema-validation-error", Some(p)),
            XcapError::NotUtf8 => ("not-utf-8", None),
            XcapError::NoParent { .. } => ("no-parent", None),
            XcapError::CannotInsert(p) => ("cannot-insert", Some(p)),
            XcapError::CannotDelete(p) => ("cannot-delete", Some(p)),
            XcapError::UniquenessFailure { .. } => ("uniqueness-failure", None),
            XcapError::ConstraintFailure(p) => ("constraint-failure", Some(p)),
            XcapError::NotFound(_) | XcapError::BadRequest(_) | XcapError::MethodNotAllowed(_) => {
                return None;
            }
        };
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = write!(out, "<xcap-error xmlns=\"{NS_XCAP_ERROR}\">");
        out.push('<');
        out.push_str(name);
        if let Some(p) = phrase.filter(|p| !p.is_empty()) {
            out.push_str(" phrase=\"");
            escape(&mut out, p);
            out.push('"');
        }
        match self {
            XcapError::NoParent { ancestor } if !ancestor.is_empty() => {
                out.push_str("><ancestor>");
                escape(&mut out, ancestor);
                out.push_str("</ancestor></no-parent>");
            }
            XcapError::UniquenessFailure { field, alt_values } => {
                out.push_str("><exists field=\"");
                escape(&mut out, field);
                out.push('"');
                if alt_values.is_empty() {
                    out.push_str("/>");
                } else {
                    out.push('>');
                    for v in alt_values {
                        out.push_str("<alt-value>");
                        escape(&mut out, v);
                        out.push_str("</alt-value>");
                    }
                    out.push_str("</exists>");
                }
                out.push_str("</uniqueness-failure>");
            }
            _ => out.push_str("/>"),
        }
        out.push_str("</xcap-error>\n");
        Some(out)
    }
}

/// A strong entity tag for a document (RFC 4825 §8.5): the first 128 bits
/// of its SHA-256, in lower-case hex, without the surrounding quotes (the
/// `ETag` header is `"<value>"`). The same content gives the same tag
/// across restarts.
pub fn etag_of(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    let mut out = String::with_capacity(32);
    for b in digest.iter().take(16) {
        let _ = write!(out, "{b:02x}");
    }
    out
}
