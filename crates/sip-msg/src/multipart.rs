//! Multipart bodies (RFC 2046 §5.1 multipart/mixed, RFC 2387 multipart/related):
//! parse and build. (Being written: see the helper task.)

use bytes::Bytes;

use crate::error::Result;

/// Validates a multipart body against its boundary.
pub(crate) fn check_multipart(body: &Bytes, boundary: &str) -> Result<()> {
    let _ = (body, boundary);
    Ok(())
}
