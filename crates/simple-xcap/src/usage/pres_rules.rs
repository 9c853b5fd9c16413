//! `pres-rules` (RFC 5025 §9): presence authorization rules, a common
//! policy rule set (RFC 4745) with the pres-rules extensions.
//!
//! RFC 5025 §9.6 adds no constraints beyond the schemas, so the whole check
//! is `simple_policy::parse`; its error text is the reason.

use super::UsageError;

pub(super) fn validate(doc: &[u8]) -> Result<(), UsageError> {
    simple_policy::parse(doc)
        .map(drop)
        .map_err(|e| UsageError::Schema(e.to_string()))
}
