//! RFC 3862 §3.4 / RFC 5438 §6.1: IMDN headers are found through whatever
//! prefix the message binds to `urn:ietf:params:imdn`.

use simple_im::cpim::{self, IMDN_NAMESPACE};

fn parse(body: &str) -> cpim::Cpim<'_> {
    cpim::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{e}: {body:?}"))
}

#[test]
fn other_prefix_same_urn() {
    let c = parse(
        "From: Alice <im:alice@example.com>\r\n\
         To: Bob <im:bob@example.com>\r\n\
         NS: rcs <urn:ietf:params:imdn>\r\n\
         rcs.Message-ID: Xy12\r\n\
         rcs.Disposition-Notification: display\r\n\
         \r\n\
         Content-Type: text/plain\r\n\
         \r\n\
         hi",
    );
    assert_eq!(c.message_id(), Some("Xy12"));
    assert_eq!(c.ns_header(IMDN_NAMESPACE, "Message-ID"), Some("Xy12"));
    assert!(c.disposition_notification().display);
    assert_eq!(c.header("Message-ID"), None);
}

#[test]
fn imdn_prefix_bound_elsewhere_is_not_imdn() {
    let c = parse(
        "NS: imdn <urn:example:not-imdn>\r\n\
         NS: real <urn:ietf:params:imdn>\r\n\
         imdn.Message-ID: wrong\r\n\
         real.Message-ID: right\r\n\
         \r\n",
    );
    assert_eq!(c.message_id(), Some("right"));
    assert_eq!(
        c.ns_header("urn:example:not-imdn", "Message-ID"),
        Some("wrong")
    );
}

#[test]
fn rebinding_a_prefix_applies_to_later_headers() {
    let c = parse(
        "NS: p <urn:example:a>\r\n\
         p.X: one\r\n\
         NS: p <urn:ietf:params:imdn>\r\n\
         p.Message-ID: two\r\n\
         \r\n",
    );
    assert_eq!(c.ns_header("urn:example:a", "X"), Some("one"));
    assert_eq!(c.ns_header("urn:example:a", "Message-ID"), None);
    assert_eq!(c.message_id(), Some("two"));
}

#[test]
fn urn_and_names_case_insensitive() {
    let c = parse(
        "NS: Imdn <URN:IETF:PARAMS:IMDN>\r\n\
         IMDN.message-id: abc\r\n\
         \r\n",
    );
    assert_eq!(c.message_id(), Some("abc"));
}

#[test]
fn cpim_namespace_with_explicit_prefix() {
    let c = parse(
        "NS: cpim <urn:ietf:params:cpim-headers>\r\n\
         cpim.From: <im:a@x>\r\n\
         \r\n",
    );
    assert_eq!(c.ns_header(cpim::CPIM_NAMESPACE, "From"), Some("<im:a@x>"));
    // header() is for un-prefixed names only.
    assert_eq!(c.from(), None);
}
