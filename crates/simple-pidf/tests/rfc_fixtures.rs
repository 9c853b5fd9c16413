//! RFC example documents from `testdata/`: every `*.xml` parses,
//! re-serializes and re-parses to an equal model; every `*.xml.bad` (an RFC
//! example as printed, with its erratum) is rejected with the given reason.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::Path;

use simple_pidf::{Basic, PidfError, Presence, parse};

fn testdata() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn load(name: &str) -> Presence {
    let bytes = std::fs::read(testdata().join(name)).unwrap();
    parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_round_trips() {
    let mut n = 0;
    for entry in std::fs::read_dir(testdata()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".xml") {
            continue;
        }
        let doc = load(&name);
        let xml = doc.to_xml();
        let again = parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{name} re-parse: {e}\n{xml}"));
        assert_eq!(again, doc, "{name}\n{xml}");
        assert_eq!(again.to_xml(), xml, "{name}: output is not a fixed point");
        n += 1;
    }
    assert!(n >= 8, "only {n} fixtures");
}

#[test]
fn rfc3863_default_namespace_example() {
    let doc = load("rfc3863_s4_3_1.xml");
    assert_eq!(doc.entity, "pres:someone@example.com");
    assert_eq!(doc.tuples.len(), 2);
    let t = &doc.tuples[0];
    assert_eq!(t.id, "bs35r9");
    assert_eq!(t.status.basic, Some(Basic::Open));
    assert_eq!(t.status.extensions.len(), 2);
    assert_eq!(t.status.extensions[0].name, "im");
    assert_eq!(t.contact.as_ref().unwrap().priority.as_deref(), Some("0.8"));
    assert_eq!(t.notes[1].lang.as_deref(), Some("fr"));
    assert_eq!(t.timestamp.as_deref(), Some("2001-10-27T16:49:29Z"));
    assert_eq!(doc.notes[0].text, "I'll be in Tokyo next week");
}

#[test]
fn rfc3863_prefixed_examples() {
    let doc = load("rfc3863_s4_3_2.xml");
    assert_eq!(
        doc.tuples[1].contact.as_ref().unwrap().uri,
        "im:someone@mobilecarrier.net"
    );
    assert_eq!(doc.tuples[0].extensions[0].name, "mytupletag");
    assert_eq!(
        doc.extensions[0].namespace.as_deref(),
        Some("http://id.example.com/presence/")
    );
    let doc = load("rfc3863_s4_3_3.xml");
    let ex1 = doc.tuples[0].extensions[0].elements().next().unwrap();
    assert_eq!(
        ex1.attributes[0].namespace.as_deref(),
        Some("urn:ietf:params:xml:ns:pidf")
    );
    assert_eq!(ex1.attributes[0].name, "mustUnderstand");
}

#[test]
fn rfc4480_rpid_example() {
    let doc = load("rfc4480_s4.xml");
    assert_eq!(doc.tuples[0].device_ids, ["urn:device:0003ba4811e3"]);
    assert_eq!(doc.tuples[2].rpid.class.as_deref(), Some("email"));
    let d = &doc.devices[0];
    assert_eq!(d.device_id.as_deref(), Some("urn:device:0003ba4811e3"));
    assert_eq!(
        d.rpid.user_input.as_ref().unwrap().idle_threshold,
        Some(600)
    );
    let p = &doc.persons[0];
    assert_eq!(p.rpid.activities[0].notes[0].text, "Far away");
    assert_eq!(p.rpid.sphere[0].text.as_deref(), Some("bowling league"));
    assert_eq!(p.rpid.time_offset[0].minutes, -240);
    assert!(
        matches!(&p.rpid.mood[0].values[1], simple_pidf::Value::Other(n) if n.text == "brooding")
    );
}

#[test]
fn rfc4481_timed_status_example() {
    let doc = load("rfc4481_s4.xml");
    let ts = &doc.tuples[0].timed_status[0];
    assert_eq!(ts.from, "2005-08-15T10:20:00.000-05:00");
    assert_eq!(ts.basic, Some(Basic::Closed));
}

#[test]
fn rfc4482_cipid_examples() {
    let doc = load("rfc4482_s4_cipid.xml");
    assert_eq!(doc.persons[0].cipid.display_name[0].text, "Alice Lewis");
    let doc = load("rfc4482_s4_rpid_cipid.xml");
    assert_eq!(
        doc.tuples[1].cipid.card.as_deref(),
        Some("http://example.com/~assistant/card.vcd")
    );
    assert_eq!(
        doc.persons[0].cipid.sound.as_deref(),
        Some("http://example.com/~someone/whoosh.wav")
    );
}

#[test]
fn rfc4479_example_keeps_caps() {
    let doc = load("rfc4479_s7_1.xml");
    assert_eq!(doc.tuples[0].extensions[0].name, "servcaps");
    assert!(doc.to_xml().contains("<caps:servcaps>"));
}

#[test]
fn printed_errata_are_rejected() {
    let read = |n: &str| std::fs::read(testdata().join(n)).unwrap();
    // RFC 4482 §4 closes <c:display-name> with </c:card>.
    assert!(matches!(
        parse(&read("rfc4482_s4_cipid_erratum.xml.bad")),
        Err(PidfError::NotWellFormed { .. })
    ));
    // RFC 4479 §7.1 omits the mandatory entity attribute.
    assert_eq!(
        parse(&read("rfc4479_s7_1_no_entity.xml.bad")),
        Err(PidfError::NoEntity)
    );
}
