//! `xs:dateTime` (the RFC 3339 profile) to Unix milliseconds.

use sip_msg::misc::{days_from_civil, days_in_month};

/// Parses `YYYY-MM-DDThh:mm:ss[.fff...][Z|±hh:mm]` into milliseconds since
/// the Unix epoch (negative before 1970). A time without zone offset is
/// taken as UTC (XML Schema leaves it "local", which a server cannot know).
/// Digits beyond milliseconds are truncated. Years are four digits,
/// `24:00:00` and leap seconds are refused.
pub(crate) fn datetime_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(
            part.iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')),
        )
    };
    let year = num(0, 4)?;
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    let hour = num(11, 2)?;
    let minute = num(14, 2)?;
    let second = num(17, 2)?;
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > i64::from(days_in_month(year, month as u32))
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..3 {
            millis *= 10;
        }
    }
    let offset_min = match &b[i..] {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            let h = num(i + 1, 2)?;
            let m = num(i + 4, 2)?;
            if h > 14 || m > 59 {
                return None;
            }
            let off = h * 60 + m;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u32, day as u32);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_offsets() {
        assert_eq!(datetime_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(datetime_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(datetime_ms("1969-12-31T19:00:00-05:00"), Some(0));
        assert_eq!(datetime_ms("1970-01-01T00:00:00.5Z"), Some(500));
        assert_eq!(datetime_ms("1970-01-01T00:00:00.123456"), Some(123));
        // 2003-12-24T16:00:00Z
        assert_eq!(
            datetime_ms("2003-12-24T17:00:00+01:00"),
            Some(1_072_281_600_000)
        );
        assert_eq!(datetime_ms("2000-03-01T00:00:00Z"), Some(951_868_800_000));
        assert_eq!(datetime_ms("1960-01-01T00:00:00Z"), Some(-315_619_200_000));
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "",
            "2003-12-24",
            "2003-12-24 17:00:00Z",
            "2003-13-01T00:00:00Z",
            "2003-02-29T00:00:00Z",
            "2003-12-24T24:00:00Z",
            "2003-12-24T17:00:60Z",
            "2003-12-24T17:00:00+1:00",
            "2003-12-24T17:00:00.Z",
            "2003-12-24T17:00:00ZZ",
            "20031-12-24T17:00:00Z",
            "2003-12-24T17:00:00+15:00",
        ] {
            assert_eq!(datetime_ms(bad), None, "{bad}");
        }
        assert!(datetime_ms("2004-02-29T00:00:00Z").is_some());
    }
}
