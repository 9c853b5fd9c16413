//! RFC 5025 §3.2.1 sub-handling and RFC 4745 §10 combining of several
//! matching rules: the maximum wins, block is the floor.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
mod common;
use common::rules;
use simple_policy::SubHandling;

fn one_rule(value: &str) -> Option<SubHandling> {
    let rs = rules(&format!(
        r#"<rule id="r"><actions><pr:sub-handling>{value}</pr:sub-handling></actions></rule>"#
    ));
    rs.evaluate("sip:bob@example.com", 0, None)
        .map(|d| d.sub_handling)
}

#[test]
fn each_value() {
    assert_eq!(one_rule("block"), Some(SubHandling::Block));
    assert_eq!(one_rule("confirm"), Some(SubHandling::Confirm));
    assert_eq!(one_rule("polite-block"), Some(SubHandling::PoliteBlock));
    assert_eq!(one_rule(" allow "), Some(SubHandling::Allow));
}

#[test]
fn ordered_by_rfc_values() {
    let all = [
        SubHandling::Block,
        SubHandling::Confirm,
        SubHandling::PoliteBlock,
        SubHandling::Allow,
    ];
    assert_eq!(all.map(SubHandling::value), [0, 10, 20, 30]);
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        all.map(SubHandling::as_str),
        ["block", "confirm", "polite-block", "allow"]
    );
}

#[test]
fn maximum_of_matching_rules() {
    // RFC 5025 §3.2.1 NOTE WELL: a block does not guarantee denial.
    let rs = rules(
        r#"<rule id="a"><actions><pr:sub-handling>block</pr:sub-handling></actions></rule>
           <rule id="b"><actions><pr:sub-handling>polite-block</pr:sub-handling></actions></rule>
           <rule id="c"><actions><pr:sub-handling>confirm</pr:sub-handling></actions></rule>"#,
    );
    let d = rs.evaluate("sip:bob@example.com", 0, None).unwrap();
    assert_eq!(d.sub_handling, SubHandling::PoliteBlock);
}

#[test]
fn non_matching_rules_do_not_count() {
    let rs = rules(
        r#"<rule id="a"><conditions><identity><one id="sip:carol@example.com"/></identity></conditions>
             <actions><pr:sub-handling>allow</pr:sub-handling></actions></rule>
           <rule id="b"><actions><pr:sub-handling>confirm</pr:sub-handling></actions></rule>"#,
    );
    assert_eq!(
        rs.evaluate("sip:bob@example.com", 0, None)
            .unwrap()
            .sub_handling,
        SubHandling::Confirm
    );
    assert_eq!(
        rs.evaluate("sip:carol@example.com", 0, None)
            .unwrap()
            .sub_handling,
        SubHandling::Allow
    );
}

#[test]
fn rule_without_sub_handling_counts_as_block() {
    let rs = rules(
        r#"<rule id="a"><transformations><pr:provide-note>true</pr:provide-note></transformations></rule>"#,
    );
    let d = rs.evaluate("sip:bob@example.com", 0, None).unwrap();
    assert_eq!(d.sub_handling, SubHandling::Block);
    assert!(d.transformations.provide_note);
}

#[test]
fn no_matching_rule_is_none() {
    let rs = rules(
        r#"<rule id="a"><conditions><identity><one id="sip:carol@example.com"/></identity></conditions>
             <actions><pr:sub-handling>allow</pr:sub-handling></actions></rule>"#,
    );
    assert_eq!(rs.evaluate("sip:bob@example.com", 0, None), None);
    assert_eq!(rules("").evaluate("sip:bob@example.com", 0, None), None);
}
