//! Transaction responses and REPORTs: who is owed what (RFC 4975 §7.1.2–§7.1.4,
//! §7.2, §7.3; RFC 4976 §6.4), and building the REPORTs.
//!
//! | Failure-Report | 200 response | error response | failure REPORT |
//! |----------------|--------------|----------------|----------------|
//! | `yes` / absent | yes          | yes            | yes            |
//! | `partial`      | no           | yes            | yes            |
//! | `no`           | no           | no             | no             |
//!
//! Success REPORTs only for SENDs with `Success-Report: yes` (absent is `no`).
//! REPORT requests get neither responses nor REPORTs.

use crate::error::{ErrorKind, ParseError, Result};
use crate::frame::{Continuation, Frame, Method};
use crate::headers::{ByteRange, FailureReport, StatusHeader, SuccessReport, names};
use crate::ident::TransactionId;

/// Whether `request` is owed a transaction response with `status`
/// (RFC 4975 §7.2, §7.1.4; §7.1.2: never for REPORT). A malformed
/// Failure-Report counts as absent (`yes`).
pub fn response_owed(request: &Frame, status: u16) -> bool {
    match request.method() {
        None | Some(Method::Report) => false,
        Some(_) => match request.failure_report().unwrap_or_default() {
            FailureReport::Yes => true,
            FailureReport::Partial => status != crate::status::OK,
            FailureReport::No => false,
        },
    }
}

/// Whether the sender of `request` asked for success REPORTs (RFC 4975
/// §7.1.3: SEND with `Success-Report: yes`).
pub fn success_report_owed(request: &Frame) -> bool {
    request.method() == Some(&Method::Send)
        && request.success_report().unwrap_or_default() == SuccessReport::Yes
}

/// Whether a failure with `status` discovered after the response (or instead
/// of it, at a relay: RFC 4976 §6.4.1) is owed a failure REPORT: a SEND whose
/// Failure-Report is not `no` (RFC 4975 §7.1.4).
pub fn failure_report_owed(request: &Frame, status: u16) -> bool {
    status != crate::status::OK
        && request.method() == Some(&Method::Send)
        && request.failure_report().unwrap_or_default() != FailureReport::No
}

/// The byte range a SEND's body covers, as a REPORT states it (RFC 4975
/// §7.1.4): range-start and total from its Byte-Range (1 and none without
/// one), range-end computed from the body actually received. A `$` chunk
/// with an unknown total gets its own end as the total (§7.3.1).
pub fn received_range(request: &Frame) -> ByteRange {
    let br = request.byte_range().ok().flatten();
    let start = br.map_or(1, |r| r.start);
    let len = request.body().map_or(0, |b| b.len() as u64);
    let mut r = ByteRange::covering(start, len, br.and_then(|r| r.total));
    if r.total.is_none() && request.continuation() == Continuation::Done {
        r.total = r.end;
    }
    r
}

fn report(request: &Frame, status: StatusHeader, range: ByteRange) -> Result<Frame> {
    if request.method() != Some(&Method::Send) {
        return Err(ParseError::new(
            ErrorKind::StartLine,
            "Only SEND requests are reported on",
        ));
    }
    let message_id = request
        .message_id()?
        .ok_or_else(|| ParseError::new(ErrorKind::MissingHeader, "Missing Message-ID"))?;
    let to = request
        .header(names::FROM_PATH)
        .ok_or_else(|| ParseError::new(ErrorKind::MissingHeader, "Missing From-Path"))?;
    let me = request
        .header(names::TO_PATH)
        .and_then(|t| t.split_ascii_whitespace().next())
        .ok_or_else(|| ParseError::new(ErrorKind::MissingHeader, "Missing To-Path"))?;
    // §7.1.2: no Success-Report or Failure-Report in a REPORT.
    Frame::builder(Method::Report)
        .transaction_id(TransactionId::random())
        .header(names::TO_PATH, to)
        .header(names::FROM_PATH, me)
        .message_id(&message_id)
        .byte_range(range)
        .status(&status)
        .build()
}

/// A success REPORT for `request` (RFC 4975 §7.1.3): To-Path is the request's
/// whole From-Path, From-Path the first URI of its To-Path (our own, as the
/// request arrived), the same Message-ID, Byte-Range `range` (the bytes
/// received: [`received_range`] for this chunk, or `1-N/N` for a whole
/// message), and `Status: 000 200 OK`.
pub fn success(request: &Frame, range: ByteRange) -> Result<Frame> {
    report(request, StatusHeader::new(crate::status::OK), range)
}

/// A failure REPORT for `request` (RFC 4975 §7.1.4, RFC 4976 §6.4.1): built
/// like [`success`] with `Status: 000 <status> <reason>`, the range normally
/// [`received_range`]. A relay passes the request as it arrived, before
/// [`Frame::forward_hop`], so the REPORT goes back to the original sender.
pub fn failure(request: &Frame, status: u16, range: ByteRange) -> Result<Frame> {
    report(request, StatusHeader::new(status), range)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::ident::MessageId;
    use crate::uri::MsrpUri;

    fn send(extra: &[(&str, &str)]) -> Frame {
        let mut b = Frame::builder(Method::Send)
            .to_path(&[MsrpUri::parse("msrp://bob.example.com:8888/9di4eae923wzd;tcp").unwrap()])
            .from_path(&[
                MsrpUri::parse("msrp://alicepc.example.com:7777/iau39soe2843z;tcp").unwrap(),
            ])
            .message_id(&MessageId::new("12339sdqwer").unwrap());
        for (n, v) in extra {
            b = b.header(n, v);
        }
        b.body("text/plain", Bytes::from_static(b"hello"))
            .build()
            .unwrap()
    }

    #[test]
    fn defaults_of_7_1_1() {
        let f = send(&[]);
        assert!(response_owed(&f, 200));
        assert!(!success_report_owed(&f));
        assert!(failure_report_owed(&f, 415));
        assert!(!failure_report_owed(&f, 200));
    }

    #[test]
    fn partial_and_no() {
        let p = send(&[("Failure-Report", "partial")]);
        assert!(!response_owed(&p, 200));
        assert!(response_owed(&p, 415));
        assert!(failure_report_owed(&p, 408));
        let n = send(&[("Failure-Report", "no"), ("Success-Report", "yes")]);
        assert!(!response_owed(&n, 200));
        assert!(!response_owed(&n, 481));
        assert!(!failure_report_owed(&n, 408));
        assert!(success_report_owed(&n));
    }

    #[test]
    fn reports_are_never_answered() {
        let f = send(&[]);
        let r = success(&f, received_range(&f)).unwrap();
        assert!(!response_owed(&r, 200));
        assert!(!response_owed(&r, 400));
        assert!(failure(&r, 400, ByteRange::new(1, None, None)).is_err());
    }

    #[test]
    fn builds_success_and_failure_reports() {
        let f = send(&[("Success-Report", "yes")]);
        let range = received_range(&f);
        assert_eq!(range.to_string(), "1-5/5");
        let r = success(&f, range).unwrap();
        assert_eq!(r.method(), Some(&Method::Report));
        assert_eq!(
            r.header("To-Path"),
            Some("msrp://alicepc.example.com:7777/iau39soe2843z;tcp")
        );
        assert_eq!(
            r.header("From-Path"),
            Some("msrp://bob.example.com:8888/9di4eae923wzd;tcp")
        );
        assert_eq!(r.header("Message-ID"), Some("12339sdqwer"));
        assert_eq!(r.header("Byte-Range"), Some("1-5/5"));
        assert_eq!(r.header("Status"), Some("000 200 OK"));
        assert_eq!(r.header("Success-Report"), None);
        assert_eq!(r.body(), None);
        r.validate().unwrap();
        let x = failure(&f, 413, range).unwrap();
        assert_eq!(x.status_header().unwrap().unwrap().code, 413);
    }

    #[test]
    fn received_range_uses_the_body() {
        let mut f = send(&[("Byte-Range", "138-148/148")]);
        assert_eq!(received_range(&f).to_string(), "138-142/148");
        f.set_header("Byte-Range", "6-*/*").unwrap();
        f.set_continuation(Continuation::More);
        assert_eq!(received_range(&f).to_string(), "6-10/*");
        f.set_continuation(Continuation::Done);
        assert_eq!(received_range(&f).to_string(), "6-10/10");
    }
}
