//! Identity and URI comparison (RFC 4745 §7.1, RFC 5025 §3.1.1.2).
//!
//! Watcher identities and `one`/`except` ids are reduced to a canonical
//! form and compared for equality:
//!
//! - the scheme is lowercased; URIs of different schemes never match
//!   (RFC 5025 §3.1.1.2: a `sip:` URI never equals a `tel:` URI);
//! - `sip:`, `sips:`, `pres:`, `im:`, `mailto:`: `user@host`, the user
//!   part case-sensitive after percent-decoding, the host lowercased;
//!   port, URI parameters and headers are ignored (an identity is an
//!   address of record);
//! - `tel:`: visual separators `-.()` removed (RFC 3966 §5.1.1), lowercased;
//! - `urn:`: the namespace id lowercased, and a `urn:uuid:` lowercased
//!   whole (RFC 4122 §3);
//! - anything else: compared as written after the scheme.
//!
//! Domains (`many domain=`, `except domain=`) are compared after
//! percent-decoding and lowercasing. RFC 4745 §7.1.3 asks for IDNA
//! ToASCII; non-ASCII domains are lowercased by Unicode rules instead
//! (equal for the cases ToASCII also equates by case folding).

/// Percent-decodes `s` (invalid escapes are kept as written).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// A lowercased, percent-decoded domain.
pub(crate) fn normalize_domain(d: &str) -> String {
    let d = percent_decode(d.trim());
    let d = d.strip_suffix('.').unwrap_or(&d);
    d.to_lowercase()
}

/// The canonical form of an identity URI, and its domain if it has one.
pub(crate) fn canonical(uri: &str) -> Option<(String, Option<String>)> {
    let uri = uri.trim();
    let uri = uri
        .strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .unwrap_or(uri);
    let (scheme, rest) = uri.split_once(':')?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "sip" | "sips" | "pres" | "im" | "mailto" => {
            let rest = rest.split(['?', ';']).next().unwrap_or("");
            let (user, hostport) = match rest.rsplit_once('@') {
                Some((u, h)) => (Some(u), h),
                None => (None, rest),
            };
            let host = strip_port(hostport);
            if host.is_empty() {
                return None;
            }
            let host = normalize_domain(host);
            let form = match user {
                Some(u) => format!("{scheme}:{}@{host}", percent_decode(u)),
                None => format!("{scheme}:{host}"),
            };
            Some((form, Some(host)))
        }
        "tel" => {
            let number: String = rest
                .chars()
                .filter(|c| !matches!(c, '-' | '.' | '(' | ')'))
                .collect();
            Some((format!("tel:{}", number.to_ascii_lowercase()), None))
        }
        "urn" => {
            let lowered = match rest.split_once(':') {
                Some((nid, nss)) if nid.eq_ignore_ascii_case("uuid") => {
                    format!("uuid:{}", nss.to_ascii_lowercase())
                }
                Some((nid, nss)) => format!("{}:{nss}", nid.to_ascii_lowercase()),
                None => rest.to_ascii_lowercase(),
            };
            Some((format!("urn:{lowered}"), None))
        }
        _ => Some((format!("{scheme}:{rest}"), None)),
    }
}

fn strip_port(hostport: &str) -> &str {
    if hostport.starts_with('[') {
        // IPv6 reference: keep up to the closing bracket.
        return match hostport.find(']') {
            Some(i) => &hostport[..=i],
            None => hostport,
        };
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => hostport,
    }
}

/// URI equivalence as used for identities, `service-uri` and `deviceID`.
pub(crate) fn uri_eq(a: &str, b: &str) -> bool {
    match (canonical(a), canonical(b)) {
        (Some((a, _)), Some((b, _))) => a == b,
        _ => a == b,
    }
}

/// The scheme of a URI, as written.
pub(crate) fn scheme(uri: &str) -> Option<&str> {
    let (s, _) = uri.trim().split_once(':')?;
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_forms() {
        assert!(uri_eq("sip:bob@EXAMPLE.com", "sip:bob@example.com"));
        assert!(uri_eq(
            "sip:bob@example.com:5060;transport=tcp",
            "sip:bob@example.com"
        ));
        assert!(uri_eq("<sip:bob@example.com>", "SIP:bob@example.com"));
        assert!(uri_eq("sip:%62ob@example.com", "sip:bob@example.com"));
        assert!(!uri_eq("sip:Bob@example.com", "sip:bob@example.com"));
        assert!(!uri_eq("sips:bob@example.com", "sip:bob@example.com"));
        assert!(!uri_eq("tel:+12125551234", "sip:+12125551234@example.com"));
    }

    #[test]
    fn tel_and_urn() {
        assert!(uri_eq("tel:+1-212-555-1234", "tel:+12125551234"));
        assert!(uri_eq(
            "urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6",
            "URN:UUID:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
        ));
        assert!(!uri_eq("urn:x:abc", "urn:x:ABC"));
    }

    #[test]
    fn domains() {
        assert_eq!(
            canonical("sip:bob@Example.COM")
                .and_then(|c| c.1)
                .as_deref(),
            Some("example.com")
        );
        assert_eq!(canonical("tel:+1234").and_then(|c| c.1), None);
        assert_eq!(normalize_domain("Example.com."), "example.com");
        assert_eq!(canonical("nonsense"), None);
    }
}
