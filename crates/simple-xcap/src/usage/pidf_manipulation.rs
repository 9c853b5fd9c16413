//! `pidf-manipulation` (RFC 4827): the one presence document of a user
//! (`users/<XUI>/index`, §9), a PIDF document with its extensions.
//!
//! RFC 4827 §7 adds no constraints beyond PIDF and its extensions, so the
//! whole check is `simple_pidf::parse`; its error text is the reason.

use super::UsageError;

pub(super) fn validate(doc: &[u8]) -> Result<(), UsageError> {
    simple_pidf::parse(doc)
        .map(drop)
        .map_err(|e| UsageError::Schema(e.to_string()))
}
