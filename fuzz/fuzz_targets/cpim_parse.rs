//! CPIM (RFC 3862) bodies on arbitrary bytes, as a MESSAGE brings them to
//! the offline store: parsing must never panic, every accessor must answer,
//! and a delivery report built from what parsed (RFC 5438) must itself
//! parse as CPIM with the original message id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use simple_im::{cpim, imdn};

fuzz_target!(|data: &[u8]| {
    let _ = cpim::is_composing("message/cpim", data);
    let Ok(c) = cpim::parse(data) else {
        return;
    };
    let _ = (
        c.from(),
        c.to(),
        c.datetime(),
        c.content_type(),
        c.content(),
    );
    let _ = c.disposition_notification();
    if let Some(v) = c.from() {
        let _ = cpim::address_uri(v);
    }
    if let Some(dt) = c.datetime() {
        let _ = imdn::parse_rfc3339(dt);
    }
    for status in [
        imdn::DeliveryStatus::Delivered,
        imdn::DeliveryStatus::Failed,
    ] {
        if let Some(n) = imdn::delivery_notification(
            &c,
            status,
            "sip:bob@example.test",
            "sip:bob@example.test",
            1_700_000_000_000,
        ) {
            let back = cpim::parse(&n.body).expect("own report parses");
            assert!(
                back.content_type().is_some_and(|t| t.contains("imdn")),
                "{back:?}"
            );
        }
    }
});
