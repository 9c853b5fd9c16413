//! RFC 5438 §6.2, §7.1.1.3, §10: parsing imdn.Disposition-Notification.

use simple_im::cpim::{self, Dispositions};

fn dispositions(values: &[&str]) -> Dispositions {
    let mut body = String::from("NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: 1\r\n");
    for v in values {
        body.push_str("imdn.Disposition-Notification: ");
        body.push_str(v);
        body.push_str("\r\n");
    }
    body.push_str("\r\nContent-Type: text/plain\r\n\r\nx");
    cpim::parse(body.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
        .disposition_notification()
}

fn d(positive: bool, negative: bool, processing: bool, display: bool) -> Dispositions {
    Dispositions {
        positive_delivery: positive,
        negative_delivery: negative,
        processing,
        display,
    }
}

#[test]
fn table() {
    let cases: &[(&[&str], Dispositions)] = &[
        (&[], d(false, false, false, false)),
        (&[""], d(false, false, false, false)),
        (&["positive-delivery"], d(true, false, false, false)),
        (&["negative-delivery"], d(false, true, false, false)),
        (&["processing"], d(false, false, true, false)),
        (&["display"], d(false, false, false, true)),
        (
            &["positive-delivery, negative-delivery"],
            d(true, true, false, false),
        ),
        (
            &["positive-delivery,negative-delivery,display"],
            d(true, true, false, true),
        ),
        (&["  display  ,   processing "], d(false, false, true, true)),
        (&["Positive-Delivery, DISPLAY"], d(true, false, false, true)),
        (
            &["x-future, positive-delivery, bogus"],
            d(true, false, false, false),
        ),
        (
            &["negative-delivery;foo=bar, display ; x=1"],
            d(false, true, false, true),
        ),
        (
            &["positive-delivery", "display"],
            d(true, false, false, true),
        ),
        (&[",,,"], d(false, false, false, false)),
        (&["positive-deliveryx"], d(false, false, false, false)),
    ];
    for (values, want) in cases {
        assert_eq!(dispositions(values), *want, "{values:?}");
        assert_eq!(want.any(), *want != Dispositions::default());
    }
}

#[test]
fn unprefixed_or_undeclared_does_not_count() {
    let c = cpim::parse(
        b"Disposition-Notification: positive-delivery\r\n\
          imdn.Disposition-Notification: display\r\n\
          \r\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.disposition_notification(), Dispositions::default());
}
