//! RFC 4975 §7.1.3 success REPORTs, rebuilt from the SENDs that asked for
//! them: RFC 4975 §11.6 and the end-to-end REPORT of RFC 4976 §3.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use msrp::{ByteRange, StatusHeader, TransactionId, report};

#[test]
fn rfc4975_11_6_positive_report() {
    let send = common::frame("rfc4975-11.6-send.msrp");
    assert!(report::success_report_owed(&send));
    // The RFC reports the range its Byte-Range states (1-106/106).
    let mut r = report::success(&send, send.byte_range().unwrap().unwrap()).unwrap();
    r.set_transaction_id(TransactionId::new("dkei38sd").unwrap());
    assert_eq!(r.to_bytes(), common::raw("rfc4975-11.6-report.msrp"));
    // What was actually received is the body as printed.
    assert_eq!(
        report::received_range(&send),
        ByteRange::new(1, Some(121), Some(106))
    );
}

#[test]
fn rfc4976_3_report_from_bob() {
    // Byte-Range 1-*/* with `$`: the range received is the body, 39 bytes.
    let send = common::frame("rfc4976-3-send-b.msrp");
    assert!(report::success_report_owed(&send));
    let range = report::received_range(&send);
    assert_eq!(range.to_string(), "1-39/39");
    let mut r = report::success(&send, range).unwrap();
    r.set_transaction_id(TransactionId::new("yh67").unwrap());
    assert_eq!(r.to_bytes(), common::raw("rfc4976-3-report-bob.msrp"));
}

#[test]
fn no_success_report_unless_asked() {
    for name in [
        "rfc4975-4-fig2-send.msrp", // absent means no
        "rfc4975-11.5-system.msrp", // explicit no
        "rfc4975-11.6-report.msrp", // never for REPORT
    ] {
        assert!(!report::success_report_owed(&common::frame(name)), "{name}");
    }
}

#[test]
fn failure_reports() {
    let plain = common::frame("rfc4975-11.1-send-alice.msrp");
    assert!(report::failure_report_owed(&plain, 408));
    assert!(!report::failure_report_owed(
        &common::frame("rfc4975-11.5-system.msrp"),
        408
    ));
    let r = report::failure(&plain, 408, report::received_range(&plain)).unwrap();
    assert_eq!(
        r.status_header().unwrap(),
        Some(StatusHeader::parse("000 408 Request Timeout").unwrap())
    );
    assert_eq!(r.header("To-Path"), plain.header("From-Path"));
    assert_eq!(r.header("Byte-Range"), Some("1-14/16"));
    assert_eq!(r.header("Failure-Report"), None);
    r.validate().unwrap();
}
