//! `WatcherInfo::to_xml` for a full and a partial document that between them
//! use every status and event token (RFC 3857 §5.2, §5.3): the exact
//! canonical output, and a round trip through `parse_watcherinfo`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use simple_pidf::{
    DocState, WATCHERINFO_MEDIA_TYPE, Watcher, WatcherEvent, WatcherInfo, WatcherList,
    WatcherStatus, parse_watcherinfo,
};

fn watcher(id: &str, status: WatcherStatus, event: WatcherEvent) -> Watcher {
    Watcher {
        id: id.to_owned(),
        status,
        event,
        uri: format!("sip:{id}@example.test"),
        display_name: None,
        expiration: None,
        duration_subscribed: None,
        lang: None,
    }
}

/// Every (status, event) pair, 32 watchers with distinct ids.
fn every_pair() -> Vec<Watcher> {
    let mut out = Vec::new();
    for status in WatcherStatus::ALL {
        for event in WatcherEvent::ALL {
            out.push(watcher(
                &format!("{}-{}", status.as_str(), event.as_str()),
                status,
                event,
            ));
        }
    }
    out
}

#[test]
fn full_document_with_every_status_and_event_round_trips() {
    let doc = WatcherInfo {
        version: u32::MAX,
        state: DocState::Full,
        lists: vec![
            WatcherList {
                resource: "sip:alice@example.test".to_owned(),
                package: "presence".to_owned(),
                watchers: every_pair(),
            },
            WatcherList {
                resource: "sip:alice@example.test;x=\"<&>\"".to_owned(),
                package: "dialog".to_owned(),
                watchers: Vec::new(),
            },
        ],
    };
    let xml = doc.to_xml();
    for token in WatcherStatus::ALL.map(|s| s.as_str()) {
        assert!(xml.contains(&format!("status=\"{token}\"")), "{token}");
    }
    for token in WatcherEvent::ALL.map(|e| e.as_str()) {
        assert!(xml.contains(&format!("event=\"{token}\"")), "{token}");
    }
    assert!(xml.contains("version=\"4294967295\" state=\"full\""));
    assert_eq!(parse_watcherinfo(xml.as_bytes()).unwrap(), doc, "{xml}");
}

#[test]
fn partial_document_exact_output() {
    let mut w = watcher("a1", WatcherStatus::Waiting, WatcherEvent::Giveup);
    w.display_name = Some("Zoë \"Z\" <&>".to_owned());
    w.expiration = Some(0);
    w.duration_subscribed = Some(3600);
    w.lang = Some("de-CH".to_owned());
    w.uri = "sip:z@example.test;a=<&>".to_owned();
    let doc = WatcherInfo {
        version: 3,
        state: DocState::Partial,
        lists: vec![WatcherList {
            resource: "sip:bob@example.test".to_owned(),
            package: "presence".to_owned(),
            watchers: vec![
                w,
                watcher("b2", WatcherStatus::Terminated, WatcherEvent::Noresource),
            ],
        }],
    };
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" version="3" state="partial">
  <watcher-list resource="sip:bob@example.test" package="presence">
    <watcher id="a1" status="waiting" event="giveup" display-name="Zoë &quot;Z&quot; &lt;&amp;&gt;" expiration="0" duration-subscribed="3600" xml:lang="de-CH">sip:z@example.test;a=&lt;&amp;&gt;</watcher>
    <watcher id="b2" status="terminated" event="noresource">sip:b2@example.test</watcher>
  </watcher-list>
</watcherinfo>
"#;
    assert_eq!(doc.to_xml(), expected);
    assert_eq!(parse_watcherinfo(expected.as_bytes()).unwrap(), doc);
}

#[test]
fn partial_document_with_every_token_round_trips() {
    let doc = WatcherInfo {
        version: 1,
        state: DocState::Partial,
        lists: vec![WatcherList {
            resource: "sips:carol@example.test".to_owned(),
            package: "presence".to_owned(),
            watchers: every_pair(),
        }],
    };
    let again = parse_watcherinfo(doc.to_xml().as_bytes()).unwrap();
    assert_eq!(again, doc);
}

#[test]
fn empty_document_and_media_type() {
    let doc = WatcherInfo {
        version: 0,
        state: DocState::Full,
        lists: Vec::new(),
    };
    assert_eq!(
        doc.to_xml(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <watcherinfo xmlns=\"urn:ietf:params:xml:ns:watcherinfo\" version=\"0\" state=\"full\"/>\n"
    );
    assert_eq!(parse_watcherinfo(doc.to_xml().as_bytes()).unwrap(), doc);
    assert_eq!(WATCHERINFO_MEDIA_TYPE, "application/watcherinfo+xml");
}
