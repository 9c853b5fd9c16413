//! Watcher information (RFC 3858) on arbitrary bytes: parsing must never
//! panic, and whatever parses must serialize to a document that parses back
//! to an equal model.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = simple_pidf::parse_watcherinfo(data) else {
        return;
    };
    let xml = doc.to_xml();
    match simple_pidf::parse_watcherinfo(xml.as_bytes()) {
        Ok(again) => assert_eq!(again, doc, "round trip changed the model\n{xml}"),
        Err(e) => panic!("own output refused: {e}\n{xml}"),
    }
});
