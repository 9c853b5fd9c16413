//! Watcherinfo fixtures from `testdata/` (`watcherinfo-*.wif`, the RFC 3858
//! §8.1 file extension, so that the PIDF fixture test does not pick them up):
//! each parses, re-serializes, re-parses to an equal value, and the output is
//! a fixed point.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::{Path, PathBuf};

use simple_pidf::{DocState, WatcherEvent, WatcherInfo, WatcherStatus, parse_watcherinfo};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn load(name: &str) -> WatcherInfo {
    let bytes = std::fs::read(testdata().join(name)).unwrap();
    parse_watcherinfo(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_watcherinfo_fixture_round_trips() {
    let mut n = 0;
    for entry in std::fs::read_dir(testdata()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !(name.starts_with("watcherinfo-") && name.ends_with(".wif")) {
            continue;
        }
        let doc = load(&name);
        let xml = doc.to_xml();
        let again = parse_watcherinfo(xml.as_bytes())
            .unwrap_or_else(|e| panic!("{name} re-parse: {e}\n{xml}"));
        assert_eq!(again, doc, "{name}\n{xml}");
        assert_eq!(again.to_xml(), xml, "{name}: output is not a fixed point");
        n += 1;
    }
    assert!(n >= 2, "only {n} fixtures");
}

#[test]
fn rfc3858_s5_example() {
    let doc = load("watcherinfo-rfc3858_s5.wif");
    assert_eq!(doc.version, 0);
    assert_eq!(doc.state, DocState::Full);
    assert_eq!(doc.lists.len(), 1);
    let list = &doc.lists[0];
    assert_eq!(list.resource, "sip:professor@example.net");
    assert_eq!(list.package, "presence");
    let [a, b] = &list.watchers[..] else {
        panic!("two watchers: {:?}", list.watchers);
    };
    assert_eq!(a.id, "8ajksjda7s");
    assert_eq!(a.status, WatcherStatus::Active);
    assert_eq!(a.event, WatcherEvent::Approved);
    assert_eq!(a.uri, "sip:userA@example.net");
    assert_eq!(a.duration_subscribed, Some(509));
    assert_eq!(
        (a.expiration, &a.display_name, &a.lang),
        (None, &None, &None)
    );
    assert_eq!(b.id, "hh8juja87s997-ass7");
    assert_eq!(b.status, WatcherStatus::Pending);
    assert_eq!(b.event, WatcherEvent::Subscribe);
    assert_eq!(b.uri, "sip:userB@example.org");
    assert_eq!(b.display_name.as_deref(), Some("Mr. Subscriber"));
    assert_eq!(b.duration_subscribed, None);
}

#[test]
fn prefixes_and_foreign_extensions_are_ignored() {
    let doc = load("watcherinfo-prefixed_extensions.wif");
    assert_eq!(doc.version, 7);
    assert_eq!(doc.state, DocState::Partial);
    assert_eq!(doc.lists.len(), 2);
    // The watcher wrapped in a foreign element is inside an ignored element.
    let ids: Vec<&str> = doc.lists[0]
        .watchers
        .iter()
        .map(|w| w.id.as_str())
        .collect();
    assert_eq!(ids, ["8ajksjda7s", "hh8juja87s997-ass7"]);
    let a = &doc.lists[0].watchers[0];
    assert_eq!(a.status, WatcherStatus::Terminated);
    assert_eq!(a.event, WatcherEvent::Timeout);
    assert_eq!((a.expiration, a.duration_subscribed), (Some(0), Some(3600)));
    let b = &doc.lists[0].watchers[1];
    assert_eq!(b.uri, "sip:userB@example.org", "whitespace around the URI");
    assert_eq!(b.display_name.as_deref(), Some("Monsieur l'Abonné & co"));
    assert_eq!(b.lang.as_deref(), Some("fr"));
    assert_eq!(doc.lists[1].package, "dialog");
    assert!(doc.lists[1].watchers.is_empty());
    // Nothing of the foreign namespace is written back.
    assert!(!doc.to_xml().contains("example:winfo-ext"));
}
