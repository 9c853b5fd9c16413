//! Small typed headers: Date (RFC 3261 §20.17), Retry-After (§20.33),
//! Timestamp (§20.38), Warning (§20.43), User-Agent and Server (§20.41, §20.35).
//! (Being written: see the helper task.)

use crate::error::{ParseError, Result};

/// Date: an RFC 1123 date in GMT, e.g. `Sat, 13 Nov 2010 23:29:00 GMT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipDate {
    /// Seconds since the Unix epoch.
    pub unix: i64,
}

impl SipDate {
    /// Parses a Date header value.
    pub fn parse(s: &str) -> Result<Self> {
        let _ = s;
        Err(ParseError::header("not implemented"))
    }
}

/// Validates a Retry-After value.
pub(crate) fn check_retry_after(s: &str) -> Result<()> {
    let _ = s;
    Ok(())
}

/// Validates a Timestamp value.
pub(crate) fn check_timestamp(s: &str) -> Result<()> {
    let _ = s;
    Ok(())
}

/// Validates a Warning value (one line, possibly several comma-separated warnings).
pub(crate) fn check_warning(s: &str) -> Result<()> {
    let _ = s;
    Ok(())
}

/// Validates a User-Agent or Server value (products and comments).
pub(crate) fn check_products(s: &str) -> Result<()> {
    let _ = s;
    Ok(())
}
