//! RFC 4745 §7.4 validity windows at different `now` (Unix ms), and the
//! RFC 4745 §10.3 combining example.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
mod common;
use common::{XMAS_1715, rules};

const MIN: u64 = 60_000;

#[test]
fn window_is_half_open() {
    // 2003-12-24T17:00:00+01:00 .. 19:00:00+01:00 = 16:00Z .. 18:00Z
    let rs = rules(
        r#"<rule id="r"><conditions><validity><from>2003-12-24T17:00:00+01:00</from>
           <until>2003-12-24T18:00:00Z</until></validity></conditions></rule>"#,
    );
    let start = XMAS_1715 - 15 * MIN;
    assert!(rs.evaluate("sip:a@b.example", start - 1, None).is_none());
    assert!(rs.evaluate("sip:a@b.example", start, None).is_some());
    assert!(rs.evaluate("sip:a@b.example", XMAS_1715, None).is_some());
    assert!(
        rs.evaluate("sip:a@b.example", start + 120 * MIN - 1, None)
            .is_some()
    );
    assert!(
        rs.evaluate("sip:a@b.example", start + 120 * MIN, None)
            .is_none()
    );
}

#[test]
fn several_pairs_are_ored() {
    let rs = rules(
        r#"<rule id="r"><conditions><validity>
             <from>1970-01-01T00:00:01Z</from><until>1970-01-01T00:00:02Z</until>
             <from>1970-01-01T00:00:05.5Z</from><until>1970-01-01T00:00:06Z</until>
           </validity></conditions></rule>"#,
    );
    let at = |ms| rs.evaluate("sip:a@b.example", ms, None).is_some();
    assert!(!at(500));
    assert!(at(1500));
    assert!(!at(3000));
    assert!(!at(5499));
    assert!(at(5500));
    assert!(!at(6000));
}

#[test]
fn rfc4745_s10_3_combining_example() {
    // Rules 1-6 of the table with X = provide-note (boolean),
    // Y = sub-handling (integer-like) and Z = provide-user-input (ordered).
    let rule = |id: &str, who: &str, sphere: &str, from: &str, until: &str, body: &str| {
        format!(
            r#"<rule id="r{id}"><conditions><identity><one id="sip:{who}@example.com"/></identity>
               <sphere value="{sphere}"/><validity><from>{from}</from><until>{until}</until></validity>
               </conditions>{body}</rule>"#
        )
    };
    let (a1, a2, a3) = (
        "2003-12-24T17:00:00+01:00",
        "2003-12-24T21:00:00+01:00",
        "2003-12-24T23:30:00+01:00",
    );
    let (b1, b2) = ("2003-12-22T17:00:00+01:00", "2003-12-23T17:00:00+01:00");
    let perms = |x: bool, y: &str, z: &str| {
        format!(
            r#"<actions><pr:sub-handling>{y}</pr:sub-handling></actions><transformations>
               <pr:provide-note>{x}</pr:provide-note><pr:provide-user-input>{z}</pr:provide-user-input></transformations>"#
        )
    };
    let body = [
        rule("1", "bob", "home", a1, a2, &perms(true, "allow", "thresholds")),
        rule("2", "alice", "work", a1, a2, &perms(false, "confirm", "full")),
        rule("3", "bob", "work", a1, a2, &perms(true, "confirm", "bare")),
        rule("4", "tom", "work", a1, a2, &perms(true, "confirm", "full")),
        rule("5", "bob", "work", a1, a3, r#"<actions><pr:sub-handling>polite-block</pr:sub-handling></actions><transformations><pr:provide-user-input>thresholds</pr:provide-user-input></transformations>"#),
        rule("6", "bob", "work", b1, b2, &perms(false, "allow", "bare")),
    ]
    .concat();
    let rs = rules(&body);
    let d = rs
        .evaluate("sip:bob@example.com", XMAS_1715, Some("work"))
        .unwrap();
    // Only rules 3 and 5 fire.
    assert!(d.transformations.provide_note); // TRUE or NULL
    assert_eq!(d.sub_handling, simple_policy::SubHandling::PoliteBlock);
    assert_eq!(
        d.transformations.provide_user_input,
        simple_policy::ProvideUserInput::Thresholds
    );
    // Out of every window: nothing matches.
    assert!(
        rs.evaluate("sip:bob@example.com", 0, Some("work"))
            .is_none()
    );
}
