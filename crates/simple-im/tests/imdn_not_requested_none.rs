//! RFC 5438 §7.2.1, §8.2, §12.2: no delivery notification unless the IM asked
//! for that kind and can be answered.

use simple_im::cpim;
use simple_im::imdn::{self, DeliveryStatus};

fn im(headers: &str) -> String {
    format!(
        "From: Alice <im:alice@example.com>\r\nTo: Bob <im:bob@example.com>\r\n\
         NS: imdn <urn:ietf:params:imdn>\r\nDateTime: 2006-04-04T12:16:49-05:00\r\n\
         {headers}\r\nContent-Type: text/plain\r\n\r\nhi"
    )
}

fn notify(body: &str, status: DeliveryStatus) -> bool {
    let c = cpim::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    imdn::delivery_notification(&c, status, "im:bob@example.com", "im:bob@example.com", 0).is_some()
}

const ALL: [DeliveryStatus; 4] = [
    DeliveryStatus::Delivered,
    DeliveryStatus::Failed,
    DeliveryStatus::Forbidden,
    DeliveryStatus::Error,
];

#[test]
fn needs_the_matching_request() {
    let positive = im("imdn.Message-ID: m\r\nimdn.Disposition-Notification: positive-delivery\r\n");
    let negative = im("imdn.Message-ID: m\r\nimdn.Disposition-Notification: negative-delivery\r\n");
    let display =
        im("imdn.Message-ID: m\r\nimdn.Disposition-Notification: display, processing\r\n");
    let none = im("imdn.Message-ID: m\r\n");
    let empty = im("imdn.Message-ID: m\r\nimdn.Disposition-Notification: \r\n");
    for status in ALL {
        let is_positive = status == DeliveryStatus::Delivered;
        assert_eq!(notify(&positive, status), is_positive, "{status:?}");
        assert_eq!(notify(&negative, status), !is_positive, "{status:?}");
        assert!(!notify(&display, status), "{status:?}");
        assert!(!notify(&none, status), "{status:?}");
        assert!(!notify(&empty, status), "{status:?}");
    }
}

#[test]
fn needs_a_message_id() {
    let body = im("imdn.Disposition-Notification: positive-delivery, negative-delivery\r\n");
    let empty_id = im("imdn.Message-ID: \r\nimdn.Disposition-Notification: positive-delivery\r\n");
    for status in ALL {
        assert!(!notify(&body, status));
        assert!(!notify(&empty_id, status));
    }
}

#[test]
fn needs_a_from() {
    let body = "To: Bob <im:bob@example.com>\r\nNS: imdn <urn:ietf:params:imdn>\r\n\
        imdn.Message-ID: m\r\nimdn.Disposition-Notification: positive-delivery\r\n\
        \r\nContent-Type: text/plain\r\n\r\nhi";
    assert!(!notify(body, DeliveryStatus::Delivered));
}

#[test]
fn never_for_an_imdn() {
    let body = "From: Bob <im:bob@example.com>\r\nTo: Alice <im:alice@example.com>\r\n\
        NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: m\r\n\
        imdn.Disposition-Notification: positive-delivery, negative-delivery\r\n\
        \r\nContent-type: message/imdn+xml\r\nContent-Disposition: notification\r\n\r\n<imdn/>";
    for status in ALL {
        assert!(!notify(body, status));
    }
}
