//! Watcherinfo documents `parse_watcherinfo` refuses, each with the reason a
//! `400` would carry (RFC 3858 §3, RFC 3857 §5).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_pidf::{PidfError, WatcherInfoError, parse_watcherinfo};

const NS: &str = "urn:ietf:params:xml:ns:watcherinfo";

/// A document with one list holding `watcher`.
fn with_watcher(watcher: &str) -> String {
    format!(
        r#"<watcherinfo xmlns="{NS}" version="0" state="full"><watcher-list resource="sip:a@example.test" package="presence">{watcher}</watcher-list></watcherinfo>"#
    )
}

fn reason(xml: &str) -> String {
    match parse_watcherinfo(xml.as_bytes()) {
        Ok(doc) => panic!("accepted: {xml}\n{doc:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn refused_documents_say_why() {
    let ok = r#"id="w1" status="active" event="approved""#;
    let cases: Vec<(String, &str)> = vec![
        (
            r#"<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="x"/>"#.to_owned(),
            "root element is not {urn:ietf:params:xml:ns:watcherinfo}watcherinfo",
        ),
        (
            r#"<watcherinfo version="0" state="full"/>"#.to_owned(),
            "root element is not {urn:ietf:params:xml:ns:watcherinfo}watcherinfo",
        ),
        (
            format!(r#"<watcherinfo xmlns="{NS}" state="full"/>"#),
            "watcherinfo without version attribute",
        ),
        (
            format!(r#"<watcherinfo xmlns="{NS}" version="0"/>"#),
            "watcherinfo without state attribute",
        ),
        (
            format!(r#"<watcherinfo xmlns="{NS}" version="-1" state="full"/>"#),
            "invalid watcherinfo version '-1'",
        ),
        (
            format!(r#"<watcherinfo xmlns="{NS}" version="4294967296" state="full"/>"#),
            "invalid watcherinfo version '4294967296'",
        ),
        (
            format!(r#"<watcherinfo xmlns="{NS}" version="0" state="Full"/>"#),
            "invalid watcherinfo state 'Full'",
        ),
        (
            format!(
                r#"<watcherinfo xmlns="{NS}" version="0" state="full"><watcher-list package="presence"/></watcherinfo>"#
            ),
            "watcher-list without resource attribute",
        ),
        (
            format!(
                r#"<watcherinfo xmlns="{NS}" version="0" state="full"><watcher-list resource="sip:a@example.test"/></watcherinfo>"#
            ),
            "watcher-list without package attribute",
        ),
        (
            format!(
                r#"<watcherinfo xmlns="{NS}" version="0" state="full"><watcher-list resource=" " package="presence"/></watcherinfo>"#
            ),
            "invalid watcher-list resource ' '",
        ),
        (
            format!(
                r#"<watcherinfo xmlns="{NS}" version="0" state="full"><watcher-list resource="sip:a@example.test" package="pre sence"/></watcherinfo>"#
            ),
            "invalid watcher-list package 'pre sence'",
        ),
        (
            format!(
                r#"<watcherinfo xmlns="{NS}" version="0" state="full"><watcher {ok}>sip:b@example.test</watcher></watcherinfo>"#
            ),
            "unexpected watcher in watcherinfo",
        ),
        (
            with_watcher(
                r#"<watcher status="active" event="approved">sip:b@example.test</watcher>"#,
            ),
            "watcher without id attribute",
        ),
        (
            with_watcher(r#"<watcher id="w1" event="approved">sip:b@example.test</watcher>"#),
            "watcher without status attribute",
        ),
        (
            with_watcher(r#"<watcher id="w1" status="active">sip:b@example.test</watcher>"#),
            "watcher without event attribute",
        ),
        (
            with_watcher(
                r#"<watcher id="w 1" status="active" event="approved">sip:b@example.test</watcher>"#,
            ),
            "invalid watcher id 'w 1'",
        ),
        (
            with_watcher(
                r#"<watcher id="w1" status="approved" event="approved">sip:b@example.test</watcher>"#,
            ),
            "invalid watcher status 'approved'",
        ),
        (
            with_watcher(
                r#"<watcher id="w1" status="active" event="expired">sip:b@example.test</watcher>"#,
            ),
            "invalid watcher event 'expired'",
        ),
        (
            with_watcher(&format!(
                r#"<watcher {ok} expiration="soon">sip:b@example.test</watcher>"#
            )),
            "invalid watcher expiration 'soon'",
        ),
        (
            with_watcher(&format!(
                r#"<watcher {ok} duration-subscribed="99999999999">sip:b@example.test</watcher>"#
            )),
            "invalid watcher duration-subscribed '99999999999'",
        ),
        (
            with_watcher(&format!(r#"<watcher {ok}> </watcher>"#)),
            "watcher 'w1' without URI",
        ),
        (
            with_watcher(&format!(
                r#"<watcher {ok}><uri>sip:b@example.test</uri></watcher>"#
            )),
            "watcher 'w1' has child elements",
        ),
        (
            with_watcher(r#"<watcher-list resource="x" package="y"/>"#),
            "unexpected watcher-list in watcher-list",
        ),
        (
            format!(
                r#"<watcherinfo xmlns="{NS}" version="0" state="full"><watcher-list resource="sip:a@example.test" package="presence"><watcher {ok}>sip:b@example.test</watcher></watcher-list><watcher-list resource="sip:c@example.test" package="presence"><watcher {ok}>sip:d@example.test</watcher></watcher-list></watcherinfo>"#
            ),
            "duplicate watcher id 'w1'",
        ),
    ];
    for (xml, expected) in &cases {
        assert_eq!(reason(xml), *expected, "{xml}");
    }
}

#[test]
fn xml_errors_come_from_the_shared_reader() {
    assert_eq!(
        parse_watcherinfo(b"\xff\xfe"),
        Err(WatcherInfoError::Xml(PidfError::NotUtf8))
    );
    let doctype = format!(
        r#"<!DOCTYPE watcherinfo [<!ENTITY x "y">]><watcherinfo xmlns="{NS}" version="0" state="full"/>"#
    );
    assert_eq!(
        parse_watcherinfo(doctype.as_bytes()),
        Err(WatcherInfoError::Xml(PidfError::Doctype))
    );
    let unclosed = format!(r#"<watcherinfo xmlns="{NS}" version="0" state="full">"#);
    assert!(matches!(
        parse_watcherinfo(unclosed.as_bytes()),
        Err(WatcherInfoError::Xml(PidfError::NotWellFormed { .. }))
    ));
    let deep = format!(
        r#"<watcherinfo xmlns="{NS}" version="0" state="full">{}{}</watcherinfo>"#,
        "<x:e xmlns:x=\"urn:x\">".repeat(80),
        "</x:e>".repeat(80)
    );
    assert_eq!(
        parse_watcherinfo(deep.as_bytes()),
        Err(WatcherInfoError::Xml(PidfError::TooDeep))
    );
}
