//! Delivery notifications (RFC 5438) that Herald sends as an intermediary, and
//! the date formats they and the silo use.
//!
//! A store-and-forward server is an intermediary (RFC 5438 §8, §12.2). It may
//! report `negative-delivery` when delivery failed (§8.2) and, once it has
//! itself handed the IM to the recipient's device, it reports on the
//! recipient's behalf the way the IM Recipient would (§12.2: "the procedure
//! for generating such an IMDN is the same as that of an IM Recipient
//! (Section 7.2.1.1)"). [`delivery_notification`] builds that IMDN's
//! `message/cpim` body; the caller puts it in a SIP MESSAGE to the IM Sender.
//!
//! Dates are computed here with days-from-civil arithmetic: the crate reads no
//! clock and has no date dependency; time comes in as Unix milliseconds.

use sip_msg::misc::{SipDate, civil_from_days, days_from_civil, days_in_month};
use std::fmt::Write as _;

use rand::Rng as _;
use rand::distr::Alphanumeric;

use crate::cpim::{Cpim, IMDN_NAMESPACE, address_uri, media_type_is};

/// The XML namespace of an IMDN document (RFC 5438 §11.1).
pub const IMDN_XML_NAMESPACE: &str = "urn:ietf:params:xml:ns:imdn";

/// The content type of an IMDN document (RFC 5438 §11.1.8).
pub const IMDN_CONTENT_TYPE: &str = "message/imdn+xml";

/// The outcome reported in a `<delivery-notification>` (RFC 5438 §11.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// `<delivered/>`: a positive-delivery report.
    Delivered,
    /// `<failed/>`: the IM could not be delivered.
    Failed,
    /// `<forbidden/>`: the disposition was denied.
    Forbidden,
    /// `<error/>`: internal server error.
    Error,
}

impl DeliveryStatus {
    /// The `<status>` child element's name.
    fn element(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Forbidden => "forbidden",
            DeliveryStatus::Error => "error",
        }
    }
}

/// An IMDN ready to send: the body of a SIP MESSAGE whose Content-Type is
/// `content_type` (RFC 5438 §12.1.1: `message/cpim` for IMs and IMDNs alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Always `"message/cpim"`.
    pub content_type: &'static str,
    /// The CPIM body: message headers, `message/imdn+xml` content.
    pub body: Vec<u8>,
    /// This IMDN's own fresh `imdn.Message-ID` (RFC 5438 §7.2.1: "different
    /// and unrelated to the one in the IM").
    pub message_id: String,
}

/// The message/cpim body of a delivery notification (RFC 5438 §7.2.1.1) that an
/// intermediary (§8.2, §12.2: the store-and-forward server) sends to the IM
/// Sender for `original`.
///
/// `None` when `original` has no `imdn.Message-ID` (§7.1.1.1), did not ask for
/// this kind of report (`Delivered` needs `positive-delivery`;
/// `Failed`/`Forbidden`/`Error` need `negative-delivery`, §7.2.1), has no CPIM
/// `From` to send it to (§7.2.1: "MUST send the IMDN to the URI in the From
/// header field"), or is itself an IMDN (§7.2.1: never an IMDN for an IMDN).
///
/// The CPIM headers are:
/// - `From: <from_uri>` — who the report is from. RFC 5438 never spells this
///   out for intermediaries; its examples (§7.2.1.1 and the intermediary's own
///   §8.1) all show the IM Recipient (`From: Bob`), so pass the recipient's
///   address, not the server's. `from_uri` may be a bare URI or a full
///   `Name <uri>` value.
/// - `To:` the original CPIM `From`, verbatim (§7.2.1).
/// - `imdn.Message-ID:` fresh, random, 20 alphanumerics (> 64 bits, §6.3).
/// - `DateTime:` `now_ms`, for this IMDN itself.
/// - `imdn.IMDN-Route:` one per `imdn.IMDN-Record-Route` of the original, in
///   order (§7.2.1); when there are any, the SIP MESSAGE goes to the first.
///
/// The XML (§11.1) carries `<message-id>` of the original; `<datetime>` of the
/// original IM (§11.1.2: when the IM was sent, not the IMDN — `now_ms` only if
/// the IM had no `DateTime`, since the element is mandatory);
/// `<recipient-uri>` = `recipient_uri` as given (§12.2: "the URI of the IM
/// Recipient");
/// `<original-recipient-uri>` from `imdn.Original-To` if present (§11.1.4:
/// MUST), else the original CPIM `To`, else `recipient_uri`.
pub fn delivery_notification(
    original: &Cpim<'_>,
    status: DeliveryStatus,
    from_uri: &str,
    recipient_uri: &str,
    now_ms: u64,
) -> Option<Notification> {
    let original_id = original.message_id()?;
    let asked = original.disposition_notification();
    let wanted = match status {
        DeliveryStatus::Delivered => asked.positive_delivery,
        DeliveryStatus::Failed | DeliveryStatus::Forbidden | DeliveryStatus::Error => {
            asked.negative_delivery
        }
    };
    if !wanted || is_imdn(original) {
        return None;
    }
    let sender = original.from()?;

    let recipient = recipient_uri.trim();
    let original_recipient = original
        .ns_header(IMDN_NAMESPACE, "Original-To")
        .or_else(|| original.to())
        .map(uri_of)
        .filter(|u| !u.is_empty())
        .unwrap_or(recipient);
    let sent_at = match original.datetime() {
        Some(dt) if !dt.is_empty() => dt.to_owned(),
        _ => rfc3339(now_ms),
    };

    let mut xml = String::with_capacity(512);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n");
    let _ = write!(xml, "<imdn xmlns=\"{IMDN_XML_NAMESPACE}\">\r\n");
    let _ = write!(
        xml,
        "  <message-id>{}</message-id>\r\n",
        XmlText(original_id)
    );
    let _ = write!(xml, "  <datetime>{}</datetime>\r\n", XmlText(&sent_at));
    let _ = write!(
        xml,
        "  <recipient-uri>{}</recipient-uri>\r\n",
        XmlText(recipient)
    );
    let _ = write!(
        xml,
        "  <original-recipient-uri>{}</original-recipient-uri>\r\n",
        XmlText(original_recipient)
    );
    let _ = write!(
        xml,
        "  <delivery-notification>\r\n    <status>\r\n      <{}/>\r\n    </status>\r\n  </delivery-notification>\r\n",
        status.element()
    );
    xml.push_str("</imdn>\r\n");

    let message_id = new_message_id();
    let from = if from_uri.contains('<') {
        escape_header(from_uri)
    } else {
        format!("<{}>", escape_header(from_uri.trim()))
    };
    let mut body = String::with_capacity(xml.len() + 256);
    let _ = write!(body, "From: {from}\r\n");
    let _ = write!(body, "To: {}\r\n", escape_controls(sender));
    let _ = write!(body, "NS: imdn <{IMDN_NAMESPACE}>\r\n");
    let _ = write!(body, "imdn.Message-ID: {message_id}\r\n");
    let _ = write!(body, "DateTime: {}\r\n", rfc3339(now_ms));
    for route in original.ns_headers(IMDN_NAMESPACE, "IMDN-Record-Route") {
        let _ = write!(body, "imdn.IMDN-Route: {}\r\n", escape_controls(route));
    }
    body.push_str("\r\n");
    let _ = write!(body, "Content-type: {IMDN_CONTENT_TYPE}\r\n");
    body.push_str("Content-Disposition: notification\r\n");
    let _ = write!(body, "Content-length: {}\r\n", xml.len());
    body.push_str("\r\n");
    body.push_str(&xml);

    Some(Notification {
        content_type: "message/cpim",
        body: body.into_bytes(),
        message_id,
    })
}

/// RFC 3339 / ISO 8601 date-time in UTC ("2006-04-04T17:16:49Z", with
/// milliseconds dropped) — CPIM DateTime (RFC 3862 §4.4).
pub fn rfc3339(ms: u64) -> String {
    let (days, secs) = split_ms(ms);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// RFC 1123 date (RFC 3261 §20.17 SIP Date header): "Sat, 13 Nov 2010 23:29:00 GMT".
pub fn http_date(ms: u64) -> String {
    SipDate::format(i64::try_from(ms / 1000).unwrap_or(i64::MAX))
}

/// Parses a CPIM DateTime (RFC 3339 §5.6 `date-time`: `Z` or a numeric offset,
/// optional fraction, `T`/`t`/space separator) to Unix ms; `None` when
/// malformed or before 1970. A leap second (`:60`) counts as the next second.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > i64::from(days_in_month(year, month as u32))
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - frac_start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - frac_start;
        if n == 0 {
            return None;
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let offset_secs = match *b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && sep(i + 3, b":") => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u32, day as u32);
    let local_secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    // Local time = UTC + offset, so UTC = local - offset (RFC 3339 §4.2).
    let utc_ms = (local_secs - offset_secs) * 1000 + millis;
    u64::try_from(utc_ms).ok()
}

/// Whether `cpim` is itself an IMDN (RFC 5438 §9: `message/imdn+xml` content,
/// `Content-Disposition: notification`).
fn is_imdn(cpim: &Cpim<'_>) -> bool {
    cpim.content_type()
        .is_some_and(|t| media_type_is(t, IMDN_CONTENT_TYPE))
        || cpim
            .content_header("Content-Disposition")
            .is_some_and(|d| media_type_is(d, "notification"))
}

/// The URI in an address value (`Name <uri>`), or the trimmed value itself.
fn uri_of(value: &str) -> &str {
    address_uri(value).unwrap_or(value.trim())
}

/// A fresh `imdn.Message-ID` (RFC 5438 §6.3: CSPRNG, at least 64 bits):
/// 20 alphanumerics ≈ 119 bits from the thread-local ChaCha generator. All
/// characters are CPIM `Token` characters (RFC 5438 §10).
fn new_message_id() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// A caller-supplied string as a CPIM header value: backslash and control
/// characters escaped (RFC 3862 §2.3.1) so the value stays on one line.
fn escape_header(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else {
            push_control_escaped(&mut out, c);
        }
    }
    out
}

/// A header value copied from a parsed CPIM message, already in escaped form:
/// only stray control characters are escaped (RFC 3862 §2.3.1).
fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_control_escaped(&mut out, c);
    }
    out
}

fn push_control_escaped(out: &mut String, c: char) {
    match c {
        '\u{8}' => out.push_str("\\b"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if c.is_ascii_control() => {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// Character data for an XML 1.0 element: markup characters escaped, and
/// characters XML 1.0 cannot carry at all (C0 controls other than tab/CR/LF,
/// U+FFFE, U+FFFF) replaced by U+FFFD.
struct XmlText<'a>(&'a str);

impl std::fmt::Display for XmlText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                '\r' => f.write_str("&#xD;")?,
                '\t' | '\n' => f.write_char(c)?,
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                    f.write_char('\u{FFFD}')?
                }
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Unix ms -> (days since 1970-01-01, seconds into that day).
fn split_ms(ms: u64) -> (i64, i64) {
    let secs = ms / 1000;
    // u64::MAX / 86_400_000 fits easily in i64.
    ((secs / 86_400) as i64, (secs % 86_400) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_garbage() {
        for s in [
            "",
            "2006-04-04",
            "2006-04-04T12:16:49",
            "2006-04-04T12:16:49+0500",
            "2006-13-04T12:16:49Z",
            "2006-02-29T12:16:49Z",
            "2006-04-04T24:00:00Z",
            "2006-04-04T12:16:49.Z",
            "2006-04-04T12:16:49Zjunk",
            "1969-12-31T23:59:59Z",
            "２006-04-04T12:16:49Z",
            "2006-04-04T12:16:49+24:00",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn parse_fraction_and_leap_second() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.123456Z"), Some(1123));
        assert_eq!(parse_rfc3339("1970-01-01t00:00:00z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01 00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("1998-12-31T23:59:60Z"),
            parse_rfc3339("1999-01-01T00:00:00Z")
        );
    }

    #[test]
    fn xml_text_escapes() {
        assert_eq!(
            XmlText("a<b>&\"'\u{1}\r").to_string(),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}&#xD;"
        );
    }

    #[test]
    fn header_escapes() {
        assert_eq!(
            escape_header("sip:a\\b\r\n\u{1}"),
            "sip:a\\\\b\\r\\n\\u0001"
        );
        assert_eq!(
            escape_controls("A \\\"B\\\" <sip:a@x>\r"),
            "A \\\"B\\\" <sip:a@x>\\r"
        );
    }

    #[test]
    fn message_ids_are_tokens_and_fresh() {
        let a = new_message_id();
        let b = new_message_id();
        assert_eq!(a.len(), 20);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
