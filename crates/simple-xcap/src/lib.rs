//! XCAP (RFC 4825) without I/O: what a request names, how a document
//! changes, and what each application usage accepts. The HTTP side (axum)
//! drives it.
//!
//! # Layout
//! - `uri`: XCAP URIs — xcap-root, AUID, `global` / `users/<XUI>` trees,
//!   document path, `~~` node selector, `xmlns()` namespace bindings.
//! - `selector`: node selectors (RFC 4825 §6.3) and their evaluation.
//! - `edit`: GET / PUT / DELETE of documents, elements, attributes and
//!   namespace bindings, with the creation rules of §7.4 / §8.2.3;
//!   `XmlDocument` carries an edit over to the stored text, byte for byte
//!   outside the node edited.
//! - `source` (private): the byte span of each element in a document's
//!   text, for those edits.
//! - `conditional`: If-Match / If-None-Match on XCAP resources (§7.11,
//!   §8.2.6 over RFC 7232).
//! - `error`: the §11 error conditions and their
//!   `application/xcap-error+xml` bodies.
//! - `usage`: the application usages and their validation.

pub mod conditional;
pub mod edit;
pub mod error;
pub mod selector;
mod source;
pub mod uri;
pub mod usage;
