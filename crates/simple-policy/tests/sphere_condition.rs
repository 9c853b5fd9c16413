//! RFC 4745 §7.3 sphere condition against the presentity's current sphere.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
mod common;
use simple_policy::parse;

fn rs() -> simple_policy::RuleSet {
    parse(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/rfc4745_s7_3.xml"
        ))
        .unwrap(),
    )
    .unwrap()
}

#[test]
fn rfc4745_s7_3_example() {
    let rs = rs();
    assert!(
        rs.evaluate("sip:andrew@example.com", 0, Some("work"))
            .is_some()
    );
    assert!(
        rs.evaluate("sip:andrew@example.com", 0, Some("home"))
            .is_none()
    );
    assert!(
        rs.evaluate("sip:allison@example.com", 0, Some("home"))
            .is_some()
    );
    assert!(
        rs.evaluate("sip:allison@example.com", 0, Some("work"))
            .is_none()
    );
    // "home work": either token.
    assert!(
        rs.evaluate("sip:john@doe.example.com", 0, Some("home"))
            .is_some()
    );
    assert!(
        rs.evaluate("sip:john@doe.example.com", 0, Some("work"))
            .is_some()
    );
    assert!(
        rs.evaluate("sip:john@doe.example.com", 0, Some("travel"))
            .is_none()
    );
}

#[test]
fn case_insensitive_and_undefined() {
    let rs = rs();
    assert!(
        rs.evaluate("sip:andrew@example.com", 0, Some("WORK"))
            .is_some()
    );
    // RFC 5025 §3.1.2: an undefined sphere matches no sphere condition.
    assert!(rs.evaluate("sip:andrew@example.com", 0, None).is_none());
}
