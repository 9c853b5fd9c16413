//! Stateless server nonces (RFC 7616 §3.3 `nonce`, §5.4, §5.5): the nonce
//! carries its own issue time and a MAC over it, so any node holding the key
//! checks it without shared state.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far in the future (seconds) an issue time may lie before the nonce is
/// [`NonceStatus::Invalid`]: room for the clocks of cluster nodes sharing a
/// key, no more.
pub const MAX_CLOCK_SKEW_SECS: u64 = 5;

/// Length of the MAC in the nonce: HMAC-SHA256 truncated to 128 bits.
const MAC_LEN: usize = 16;
/// `issued (8) || serial (4) || mac (16)`.
const RAW_LEN: usize = 8 + 4 + MAC_LEN;
/// base64url of [`RAW_LEN`] bytes, unpadded.
const NONCE_LEN: usize = (RAW_LEN * 4).div_ceil(3);

/// The secret behind stateless nonces.
///
/// A nonce is base64url (RFC 4648 §5, no padding; 38 characters, all token
/// characters) of
///
/// ```text
/// issued (u64, big-endian unix seconds) || serial (u32, big-endian)
///   || HMAC-SHA256(secret, issued || serial || realm)[..16]
/// ```
///
/// RFC 7616 §3.3 suggests `time-stamp H(time-stamp ":" ETag ":" secret)`;
/// an HMAC is the sound form of that. The realm is covered so that a nonce
/// from one realm is useless in another. The serial is a per-key counter
/// that only makes two nonces issued in the same second differ: without it
/// two clients challenged in one second would share a nonce, and the
/// nonce-count window ([`NonceCounts`](crate::NonceCounts)) would take the
/// second client's `nc=00000001` for a replay of the first's.
///
/// Every node of a cluster that shares the secret accepts the others'
/// nonces. The `Debug` output never shows the secret.
pub struct NonceKey {
    mac: Hmac<Sha256>,
    serial: AtomicU32,
}

impl NonceKey {
    /// A key from 32 secret bytes (from a CSPRNG, or the configuration a
    /// cluster shares). Rotating the secret invalidates outstanding nonces:
    /// clients then get a fresh challenge (not `stale=true`, since the old
    /// nonce no longer verifies).
    pub fn new(secret: [u8; 32]) -> Self {
        // RFC 2104 §2: a key shorter than the block (64 bytes for SHA-256) is
        // zero-padded to it, so this is HMAC with the 32-byte secret itself.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&secret);
        NonceKey {
            mac: Hmac::<Sha256>::new(&block.into()),
            serial: AtomicU32::new(0),
        }
    }

    fn tag(&self, issued_serial: &[u8], realm: &str) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(issued_serial);
        mac.update(realm.as_bytes());
        mac
    }

    /// A fresh nonce for `realm`, issued at `now` (unix seconds).
    pub fn issue(&self, realm: &str, now: u64) -> String {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let mut raw = [0u8; RAW_LEN];
        raw[..8].copy_from_slice(&now.to_be_bytes());
        raw[8..12].copy_from_slice(&serial.to_be_bytes());
        let tag = self.tag(&raw[..12], realm).finalize().into_bytes();
        raw[12..].copy_from_slice(&tag[..MAC_LEN]);
        base64url_encode(&raw)
    }

    /// Checks a nonce from credentials for `realm` at `now`.
    ///
    /// [`NonceStatus::Invalid`] for anything this key did not issue for this
    /// realm (wrong length or alphabet, MAC mismatch, compared in constant
    /// time) and for an issue time more than [`MAX_CLOCK_SKEW_SECS`] in the
    /// future. [`NonceStatus::Stale`] once more than `max_age_secs` have
    /// passed since issue: RFC 7616 §3.3 `stale=true` tells the client to
    /// retry with the new nonce without asking the user again, which a server
    /// does only when the response was right for the old nonce.
    pub fn check(&self, realm: &str, nonce: &str, now: u64, max_age_secs: u64) -> NonceStatus {
        let Some(raw) = decode(nonce) else {
            return NonceStatus::Invalid;
        };
        if self
            .tag(&raw[..12], realm)
            .verify_truncated_left(&raw[12..])
            .is_err()
        {
            return NonceStatus::Invalid;
        }
        let issued = issued_of(&raw);
        if issued > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
            return NonceStatus::Invalid;
        }
        if now.saturating_sub(issued) > max_age_secs {
            return NonceStatus::Stale;
        }
        NonceStatus::Fresh { issued }
    }
}

impl fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

/// What [`NonceKey::check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Ours, for this realm, and young enough; issued at `issued` (unix
    /// seconds).
    Fresh {
        /// The issue time.
        issued: u64,
    },
    /// Ours, but older than the allowed age: challenge again with
    /// `stale=true` if the response was right (RFC 7616 §3.3).
    Stale,
    /// Not ours, not for this realm, tampered with, or from the future:
    /// challenge again, without `stale`.
    Invalid,
}

/// The issue time written in a nonce of our format, unauthenticated (for
/// ordering in [`NonceCounts`](crate::NonceCounts), which only ever sees
/// nonces already checked).
pub(crate) fn issued_at(nonce: &str) -> Option<u64> {
    decode(nonce).map(|raw| issued_of(&raw))
}

fn issued_of(raw: &[u8; RAW_LEN]) -> u64 {
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&raw[..8]);
    u64::from_be_bytes(ts)
}

fn decode(nonce: &str) -> Option<[u8; RAW_LEN]> {
    if nonce.len() != NONCE_LEN {
        return None;
    }
    let v = base64url_decode(nonce)?;
    v.try_into().ok()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (RFC 4648 §5, §3.2).
fn base64url_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity((data.len() * 4).div_ceil(3));
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let idx = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[idx as usize]));
        }
    }
    out
}

fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Strict decoding: the base64url alphabet only, no padding, and unused
/// trailing bits zero (RFC 4648 §3.5), so each byte string has exactly one
/// encoding.
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() * 3 / 4);
    for chunk in b.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= sextet(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        let produced = chunk.len() - 1;
        // The bits below the last whole byte must be zero.
        if n & (0x00ff_ffff >> (8 * produced)) != 0 {
            return None;
        }
        out.extend_from_slice(&bytes[1..=produced]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_rfc4648_vectors() {
        // RFC 4648 §10, without padding.
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url_encode(raw.as_bytes()), enc);
            assert_eq!(base64url_decode(enc).unwrap(), raw.as_bytes());
        }
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        // Non-canonical trailing bits, padding, a lone sextet, the '+' alphabet.
        assert_eq!(base64url_decode("Zh"), None);
        assert_eq!(base64url_decode("Zm9"), None);
        assert_eq!(base64url_decode("Zg=="), None);
        assert_eq!(base64url_decode("Zm9vY"), None);
        assert_eq!(base64url_decode("+/8"), None);
    }

    #[test]
    fn nonce_shape() {
        let k = NonceKey::new([7; 32]);
        let n = k.issue("example.com", 1_700_000_000);
        assert_eq!(n.len(), NONCE_LEN);
        assert!(n.bytes().all(|c| ALPHABET.contains(&c)));
        assert_eq!(issued_at(&n), Some(1_700_000_000));
        assert_ne!(n, k.issue("example.com", 1_700_000_000));
        assert_eq!(format!("{k:?}"), "NonceKey(..)");
    }
}
