//! Status codes of RFC 4975 §10 and RFC 4976 §10.3, with the reason phrases we
//! send.
//!
//! The RFCs give phrases only for 200 ("OK", §11 examples), 401
//! ("Unauthorized", RFC 4976 §10.3) and 423 ("Interval Out-of-Bounds", RFC 4976
//! §4.6); the others are the usual HTTP/SIP phrases for the meaning §10 gives.
//! A comment is informational only: a receiver acts on the code.

/// 200: the transaction succeeded (RFC 4975 §10.1).
pub const OK: u16 = 200;
/// 400: the request was unintelligible (RFC 4975 §10.2).
pub const BAD_REQUEST: u16 = 400;
/// 401: an AUTH request without (valid) credentials (RFC 4976 §10.3).
pub const UNAUTHORIZED: u16 = 401;
/// 403: the action is not allowed; do not retry (RFC 4975 §10.3).
pub const FORBIDDEN: u16 = 403;
/// 408: a downstream transaction timed out (RFC 4975 §10.4, sent by relays).
pub const REQUEST_TIMEOUT: u16 = 408;
/// 413: stop sending this message (RFC 4975 §10.5).
pub const MESSAGE_TOO_LARGE: u16 = 413;
/// 415: media type not understood (RFC 4975 §10.6).
pub const UNSUPPORTED_MEDIA_TYPE: u16 = 415;
/// 423: a parameter (Expires) is out of bounds (RFC 4975 §10.7, RFC 4976 §4.6).
pub const INTERVAL_OUT_OF_BOUNDS: u16 = 423;
/// 481: the session does not exist (RFC 4975 §10.8).
pub const NO_SUCH_SESSION: u16 = 481;
/// 501: the method is not understood (RFC 4975 §10.9, §12).
pub const NOT_IMPLEMENTED: u16 = 501;
/// 506: the session is bound to another connection (RFC 4975 §10.10).
pub const SESSION_ALREADY_BOUND: u16 = 506;

/// The reason phrase for a status code of RFC 4975 §10 or RFC 4976 §10.3;
/// `None` for a code neither defines.
pub fn reason_phrase(code: u16) -> Option<&'static str> {
    Some(match code {
        OK => "OK",
        BAD_REQUEST => "Bad Request",
        UNAUTHORIZED => "Unauthorized",
        FORBIDDEN => "Forbidden",
        REQUEST_TIMEOUT => "Request Timeout",
        MESSAGE_TOO_LARGE => "Message Too Large",
        UNSUPPORTED_MEDIA_TYPE => "Unsupported Media Type",
        INTERVAL_OUT_OF_BOUNDS => "Interval Out-of-Bounds",
        NO_SUCH_SESSION => "Session Does Not Exist",
        NOT_IMPLEMENTED => "Not Implemented",
        SESSION_ALREADY_BOUND => "Session Already Bound",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defined_code_has_a_phrase() {
        for code in [200, 400, 401, 403, 408, 413, 415, 423, 481, 501, 506] {
            assert!(reason_phrase(code).is_some(), "{code}");
        }
        assert_eq!(reason_phrase(200), Some("OK"));
        assert_eq!(reason_phrase(423), Some("Interval Out-of-Bounds"));
        assert_eq!(reason_phrase(404), None);
    }
}
