//! Event state publication (RFC 3903), the event state compositor (ESC)
//! side: classifying a received PUBLISH from the request alone. The stored
//! state and the entity-tag table live in the server, which answers 412 for
//! an unknown entity-tag (RFC 3903 §6 step 3) and 415 with
//! [`check_content_type`] (§6 step 5).

use rand::Rng;
use rand::distr::Alphanumeric;
use sip_msg::{HeaderName, SipMessage};

use crate::event::{EventRegistry, Refusal, clamp_expires};

/// Length of the entity-tags [`new_etag`] makes: 22 alphanumerics carry
/// about 131 bits.
const ETAG_LEN: usize = 22;

/// What a PUBLISH asks for (RFC 3903 §4 and §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOp {
    /// No SIP-If-Match, a body: new event state (RFC 3903 §4.1).
    Initial {
        /// The granted duration in seconds (nonzero).
        expires: u32,
    },
    /// SIP-If-Match, no body: extend the state's life (RFC 3903 §4.2).
    Refresh {
        /// The entity-tag to match.
        etag: String,
        /// The granted duration in seconds (nonzero).
        expires: u32,
    },
    /// SIP-If-Match and a body: replace the state (RFC 3903 §4.3).
    Modify {
        /// The entity-tag to match.
        etag: String,
        /// The granted duration in seconds (nonzero).
        expires: u32,
    },
    /// SIP-If-Match and Expires 0: remove the state (RFC 3903 §4.4).
    Remove {
        /// The entity-tag to match.
        etag: String,
    },
}

/// The ESC's expiration policy for one event package (RFC 3903 §6 step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishLimits {
    /// A nonzero Expires below this is refused with 423.
    pub min_expires: u32,
    /// A longer Expires is lowered to this.
    pub max_expires: u32,
    /// Used when the PUBLISH has no Expires.
    pub default_expires: u32,
}

/// RFC 3903 §6 steps 2 to 5, as far as the request alone decides them:
///
/// - Step 2: Event missing, or an event type not in `reg` → 489 with
///   Allow-Events.
/// - Step 3: SIP-If-Match is read (malformed → 400); whether it matches
///   stored state is the caller's 412.
/// - Step 4: Expires absent → `limits.default_expires`; nonzero below the
///   minimum → 423 with Min-Expires; above the maximum → the maximum.
/// - Step 5: no SIP-If-Match and no body → 400 (the ESC SHOULD reject an
///   initial publication without a body). Expires 0 removes the state named
///   by the entity-tag and stores none, body or not → [`PublishOp::Remove`].
///   Without an entity-tag there is nothing to remove and the ESC must store
///   nothing, so an initial PUBLISH with Expires 0 is refused with 400.
pub fn classify_publish(
    reg: &EventRegistry,
    limits: PublishLimits,
    req: &SipMessage,
) -> Result<PublishOp, Refusal> {
    if reg.package_of(req)?.is_none() {
        // RFC 3903 §6 step 2: a missing Event is a 489 too.
        return Err(reg.bad_event());
    }
    let etag = req.sip_if_match()?.map(str::to_owned);
    let expires = match req.expires()? {
        None => limits.default_expires.min(limits.max_expires),
        Some(e) => clamp_expires(e, limits.min_expires, limits.max_expires, false)?,
    };
    let has_body = !req.body().is_empty();
    match (etag, has_body) {
        (None, false) => Err(Refusal::new(400, "PUBLISH without body or SIP-If-Match")),
        (None, true) if expires == 0 => Err(Refusal::new(400, "Initial PUBLISH with Expires 0")),
        (None, true) => Ok(PublishOp::Initial { expires }),
        (Some(etag), _) if expires == 0 => Ok(PublishOp::Remove { etag }),
        (Some(etag), true) => Ok(PublishOp::Modify { etag, expires }),
        (Some(etag), false) => Ok(PublishOp::Refresh { etag, expires }),
    }
}

/// RFC 3903 §6 step 5: the body's Content-Type must be one the package
/// takes (compared by type and subtype, case-insensitively, parameters
/// ignored); 415 with an Accept listing `accepted` otherwise (RFC 3261
/// §21.4.13). A PUBLISH without a body passes; a body without Content-Type
/// is a 400 (RFC 3261 §20.15 requires it).
pub fn check_content_type(req: &SipMessage, accepted: &[&str]) -> Result<(), Refusal> {
    if req.body().is_empty() {
        return Ok(());
    }
    let ct = req
        .content_type()?
        .ok_or_else(|| Refusal::new(400, "Missing Content-Type"))?;
    let ok = accepted.iter().any(|a| {
        let (t, s) = a.split_once('/').unwrap_or((a, ""));
        ct.is(t, s.split(';').next().unwrap_or(s).trim())
    });
    if ok {
        Ok(())
    } else {
        Err(Refusal::new(415, "Unsupported Media Type")
            .with_header(HeaderName::Accept, accepted.join(", ")))
    }
}

/// A fresh, unguessable entity-tag (RFC 3903 §6 step 6: new for every
/// successful publication; §12: hard to guess): alphanumerics from the
/// thread's cryptographically secure generator.
pub fn new_etag() -> String {
    random_token("", ETAG_LEN)
}

/// `prefix` followed by `len` alphanumerics from the thread's
/// cryptographically secure generator (entity-tags, subscription tags), in
/// one allocation of the exact size.
pub fn random_token(prefix: &str, len: usize) -> String {
    let mut t = String::with_capacity(prefix.len() + len);
    t.push_str(prefix);
    t.extend(
        rand::rng()
            .sample_iter(&Alphanumeric)
            .take(len)
            .map(char::from),
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_long_alphanumeric_and_distinct() {
        let a = new_etag();
        let b = new_etag();
        assert!(a.len() >= 16);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
