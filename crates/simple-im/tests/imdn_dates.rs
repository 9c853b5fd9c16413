//! CPIM DateTime (RFC 3339) and SIP Date (RFC 1123) formatting from Unix ms,
//! and RFC 3339 parsing with offsets.

use simple_im::imdn::{http_date, parse_rfc3339, rfc3339};

#[test]
fn known_values() {
    let cases: &[(u64, &str, &str)] = &[
        (0, "1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT"),
        (999, "1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT"),
        (
            951_782_400_000,
            "2000-02-29T00:00:00Z",
            "Tue, 29 Feb 2000 00:00:00 GMT",
        ),
        (
            951_868_799_000,
            "2000-02-29T23:59:59Z",
            "Tue, 29 Feb 2000 23:59:59 GMT",
        ),
        (
            951_868_800_000,
            "2000-03-01T00:00:00Z",
            "Wed, 01 Mar 2000 00:00:00 GMT",
        ),
        (
            1_289_690_940_000,
            "2010-11-13T23:29:00Z",
            "Sat, 13 Nov 2010 23:29:00 GMT",
        ),
        (
            1_144_171_009_000,
            "2006-04-04T17:16:49Z",
            "Tue, 04 Apr 2006 17:16:49 GMT",
        ),
        // Past the 32-bit time_t rollover (2038-01-19T03:14:07Z = 2^31 - 1 s).
        (
            2_147_483_647_000,
            "2038-01-19T03:14:07Z",
            "Tue, 19 Jan 2038 03:14:07 GMT",
        ),
        (
            2_147_483_648_000,
            "2038-01-19T03:14:08Z",
            "Tue, 19 Jan 2038 03:14:08 GMT",
        ),
        (
            4_107_542_400_000,
            "2100-03-01T00:00:00Z",
            "Mon, 01 Mar 2100 00:00:00 GMT",
        ),
        (
            4_102_444_800_000,
            "2100-01-01T00:00:00Z",
            "Fri, 01 Jan 2100 00:00:00 GMT",
        ),
        (
            253_402_300_799_000,
            "9999-12-31T23:59:59Z",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ),
    ];
    for &(ms, iso, http) in cases {
        assert_eq!(rfc3339(ms), iso, "{ms}");
        assert_eq!(http_date(ms), http, "{ms}");
        assert_eq!(parse_rfc3339(iso), Some(ms / 1000 * 1000), "{iso}");
    }
}

#[test]
fn offsets() {
    // RFC 5438 §7.1.1.3's DateTime is 17:16:49 UTC.
    assert_eq!(
        parse_rfc3339("2006-04-04T12:16:49-05:00"),
        Some(1_144_171_009_000)
    );
    assert_eq!(
        parse_rfc3339("2006-04-04T22:46:49+05:30"),
        Some(1_144_171_009_000)
    );
    assert_eq!(
        parse_rfc3339("2006-04-04T17:16:49+00:00"),
        Some(1_144_171_009_000)
    );
    assert_eq!(
        parse_rfc3339("2006-04-04T17:16:49-00:00"),
        Some(1_144_171_009_000)
    );
    // RFC 3862 §5.1: crosses midnight backwards.
    assert_eq!(
        parse_rfc3339("2000-12-13T13:40:00-08:00"),
        parse_rfc3339("2000-12-13T21:40:00Z")
    );
    // An offset that crosses into the previous year.
    assert_eq!(
        parse_rfc3339("2000-01-01T01:00:00+02:00"),
        parse_rfc3339("1999-12-31T23:00:00Z")
    );
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00+00:01"), None);
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00-00:01"), Some(60_000));
}

#[test]
fn round_trip() {
    let mut ms = 0u64;
    while ms < 300_000_000_000_000 {
        let s = rfc3339(ms);
        assert_eq!(parse_rfc3339(&s), Some(ms / 1000 * 1000), "{s}");
        ms = ms * 3 + 86_399_999;
    }
    for ms in (0..4_200_000_000_000u64).step_by(7_777_777_777) {
        let s = rfc3339(ms);
        assert_eq!(parse_rfc3339(&s), Some(ms / 1000 * 1000), "{s}");
        // The same instant written with an offset.
        let with_offset = format!("{}-05:00", &s[..s.len() - 1]);
        assert_eq!(
            parse_rfc3339(&with_offset),
            Some(ms / 1000 * 1000 + 5 * 3_600_000),
            "{with_offset}"
        );
    }
}

#[test]
fn fractions_keep_milliseconds() {
    assert_eq!(
        parse_rfc3339("2006-04-04T17:16:49.250Z"),
        Some(1_144_171_009_250)
    );
    assert_eq!(
        parse_rfc3339("2006-04-04T12:16:49.25-05:00"),
        Some(1_144_171_009_250)
    );
}
