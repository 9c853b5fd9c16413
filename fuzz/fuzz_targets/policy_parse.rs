//! Policy documents on arbitrary bytes: parsing must never panic, and
//! whatever parses must serialize to a document that parses back to an
//! equal model.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rs) = simple_policy::parse(data) else {
        return;
    };
    let xml = rs.to_xml();
    match simple_policy::parse(xml.as_bytes()) {
        Ok(again) => assert_eq!(again, rs, "round trip changed the model\n{xml}"),
        Err(e) => panic!("own output refused: {e}\n{xml}"),
    }
});
