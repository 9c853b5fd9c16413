//! RFC 5025 presence rules applied per watcher: block → 403; polite-block →
//! a plausible offline document; confirm → pending (202, NOTIFY without
//! presence) until the rules change; allow → active with the transformed
//! document; a rules change re-evaluates live subscriptions at once
//! (pending → active, active → rejected); rules that exist but match
//! nobody block; validity windows by the clock; the presentity herself
//! always sees everything.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use simple_presence::SubscribeAuth;
use sip_msg::HeaderName;

const BOB: &str = "sip:bob@example.test";

fn published(a: &mut simple_presence::PresenceAgent) {
    let doc = pidf(ALICE, "phone", "open", "secret note");
    let fx = a.handle_publish(
        T0,
        key(900),
        &publish(1, None, None, Some(("application/pidf+xml", &doc))),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
}

fn bob_subscribes(a: &mut simple_presence::PresenceAgent) -> simple_presence::Effects {
    a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    )
}

#[test]
fn block_is_403() {
    let mut a = agent();
    published(&mut a);
    a.set_rules(ALICE, Some(rules(&[("r1", BOB, "block", "")])), T0);
    let fx = bob_subscribes(&mut a);
    assert_eq!(status(&fx), 403);
    assert_eq!(a.subscription_count(), 0);
}

#[test]
fn polite_block_looks_offline() {
    let mut a = agent();
    published(&mut a);
    a.set_rules(ALICE, Some(rules(&[("r1", BOB, "polite-block", "")])), T0);
    let fx = bob_subscribes(&mut a);
    assert_eq!(
        status(&fx),
        200,
        "indistinguishable from allow at the SIP level"
    );
    let n = built(&fx.notifies[0]);
    assert!(
        n.header(HeaderName::SubscriptionState)
            .unwrap()
            .starts_with("active")
    );
    let body = body_str(&n);
    assert!(body.contains("<basic>closed</basic>"), "{body}");
    assert!(
        !body.contains("secret note") && !body.contains("phone"),
        "{body}"
    );
}

#[test]
fn allow_with_transformations_filters_the_document() {
    let mut a = agent();
    published(&mut a);
    // Services visible, notes not.
    let t = "<provide-services><all-services/></provide-services>";
    a.set_rules(ALICE, Some(rules(&[("r1", BOB, "allow", t)])), T0);
    let fx = bob_subscribes(&mut a);
    assert_eq!(status(&fx), 200);
    let body = body_str(&built(&fx.notifies[0]));
    assert!(body.contains("<basic>open</basic>"), "{body}");
    assert!(!body.contains("secret note"), "provide-note absent: {body}");
    // With provide-note the note shows.
    let mut a = agent();
    published(&mut a);
    a.set_rules(ALICE, Some(rules(&[("r1", BOB, "allow", SEE_ALL)])), T0);
    let fx = bob_subscribes(&mut a);
    assert!(body_str(&built(&fx.notifies[0])).contains("secret note"));
}

#[test]
fn confirm_then_allow_activates_at_once() {
    let mut a = agent();
    let mut k = 100;
    published(&mut a);
    a.set_rules(ALICE, Some(rules(&[("r1", BOB, "confirm", "")])), T0);
    let fx = bob_subscribes(&mut a);
    assert_eq!(status(&fx), 202);
    let n = built(&fx.notifies[0]);
    assert!(
        n.header(HeaderName::SubscriptionState)
            .unwrap()
            .starts_with("pending")
    );
    assert!(n.body().is_empty());
    ack_notifies(&mut a, T0, &fx, &mut k);
    // Alice now allows bob: he is told at once, with her presence.
    let fx = a.set_rules(
        ALICE,
        Some(rules(&[("r1", BOB, "allow", SEE_ALL)])),
        T0 + 5000,
    );
    assert_eq!(fx.notifies.len(), 1);
    let n = built(&fx.notifies[0]);
    assert!(
        n.header(HeaderName::SubscriptionState)
            .unwrap()
            .starts_with("active")
    );
    assert!(body_str(&n).contains("secret note"));
    assert!(!fx.store.sub_puts.is_empty(), "the new state is stored");
    ack_notifies(&mut a, T0 + 5000, &fx, &mut k);
    // And blocked later: terminated with reason rejected, no presence.
    let fx = a.set_rules(ALICE, Some(rules(&[("r1", BOB, "block", "")])), T0 + 9000);
    assert_eq!(fx.notifies.len(), 1);
    let n = built(&fx.notifies[0]);
    assert_eq!(
        n.header(HeaderName::SubscriptionState),
        Some("terminated;reason=rejected")
    );
    assert!(n.body().is_empty());
    assert_eq!(a.subscription_count(), 0);
}

#[test]
fn rules_matching_nobody_block_and_removing_rules_restores_the_default() {
    let mut a = agent();
    a.set_rules(
        ALICE,
        Some(rules(&[("r1", "sip:carol@example.test", "allow", SEE_ALL)])),
        T0,
    );
    assert_eq!(
        status(&bob_subscribes(&mut a)),
        403,
        "RFC 4745 §10: no match, no permission"
    );
    a.set_rules(ALICE, None, T0);
    assert!(!a.has_rules(ALICE));
    assert_eq!(
        status(&bob_subscribes(&mut a)),
        200,
        "same domain: the built-in default allows"
    );
}

#[test]
fn validity_window_by_the_clock() {
    // 1_800_000_000 s = 2027-01-15T08:00:00Z.
    let xml = "<cr:ruleset xmlns=\"urn:ietf:params:xml:ns:pres-rules\" xmlns:cr=\"urn:ietf:params:xml:ns:common-policy\"><cr:rule id=\"w\"><cr:conditions><cr:validity><cr:from>2027-01-15T07:00:00Z</cr:from><cr:until>2027-01-15T09:00:00Z</cr:until></cr:validity></cr:conditions><cr:actions><sub-handling>allow</sub-handling></cr:actions><cr:transformations/></cr:rule></cr:ruleset>";
    let r = simple_policy::parse(xml.as_bytes()).unwrap();
    let mut a = agent();
    a.set_rules(ALICE, Some(r.clone()), T0);
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    assert_eq!(status(&fx), 200, "inside the window");
    let mut b = agent();
    b.set_rules(ALICE, Some(r), T0);
    let later = T0 + 2 * 3_600_000;
    let fx = b.handle_subscribe(
        later,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    assert_eq!(status(&fx), 403, "after the window no rule matches");
}

#[test]
fn the_presentity_herself_sees_everything() {
    let mut a = agent();
    published(&mut a);
    a.set_rules(ALICE, Some(rules(&[("r1", "", "block", "")])), T0);
    let req = subscribe(&Sub {
        from: ALICE,
        ..Sub::default()
    });
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &req,
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    assert_eq!(status(&fx), 200);
    assert!(body_str(&built(&fx.notifies[0])).contains("secret note"));
}

#[test]
fn a_closing_validity_window_ends_a_live_subscription() {
    // Allowed from 07:00 to 09:00 on 2027-01-15 (T0 is 08:00).
    let xml = "<cr:ruleset xmlns=\"urn:ietf:params:xml:ns:pres-rules\" xmlns:cr=\"urn:ietf:params:xml:ns:common-policy\"><cr:rule id=\"w\"><cr:conditions><cr:validity><cr:from>2027-01-15T07:00:00Z</cr:from><cr:until>2027-01-15T09:00:00Z</cr:until></cr:validity></cr:conditions><cr:actions><sub-handling>allow</sub-handling></cr:actions><cr:transformations/></cr:rule></cr:ruleset>";
    let mut a = agent();
    let mut k = 100;
    a.set_rules(
        ALICE,
        Some(simple_policy::parse(xml.as_bytes()).unwrap()),
        T0,
    );
    let req = subscribe(&Sub {
        expires: Some(7200),
        ..Sub::default()
    });
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &req,
        watcher_peer(),
        ALICE,
        SubscribeAuth::Rules,
        true,
    );
    assert_eq!(status(&fx), 200);
    ack_notifies(&mut a, T0, &fx, &mut k);
    let fx = a.tick(T0 + 3_599_000, |_| true);
    assert!(fx.notifies.is_empty(), "still inside the window");
    let fx = a.tick(T0 + 3_600_000, |_| true);
    assert_eq!(fx.notifies.len(), 1);
    let n = built(&fx.notifies[0]);
    assert_eq!(
        n.header(HeaderName::SubscriptionState),
        Some("terminated;reason=rejected")
    );
    assert_eq!(a.subscription_count(), 0);
}

#[test]
fn sphere_conditions_follow_the_published_sphere() {
    // Bob may watch while alice is at work (RFC 5025 §3.1.2, RFC 4480 sphere).
    let xml = "<cr:ruleset xmlns=\"urn:ietf:params:xml:ns:pres-rules\" xmlns:cr=\"urn:ietf:params:xml:ns:common-policy\"><cr:rule id=\"w\"><cr:conditions><cr:identity><cr:one id=\"sip:bob@example.test\"/></cr:identity><cr:sphere value=\"work\"/></cr:conditions><cr:actions><sub-handling>allow</sub-handling></cr:actions><cr:transformations><provide-services><all-services/></provide-services></cr:transformations></cr:rule></cr:ruleset>";
    let person = |sphere: &str| {
        format!(
            "<?xml version=\"1.0\"?><presence xmlns=\"urn:ietf:params:xml:ns:pidf\" xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"{ALICE}\"><tuple id=\"t\"><status><basic>open</basic></status></tuple><dm:person id=\"p\"><rpid:sphere><rpid:{sphere}/></rpid:sphere></dm:person></presence>"
        )
    };
    let mut a = agent();
    let mut k = 100;
    a.set_rules(
        ALICE,
        Some(simple_policy::parse(xml.as_bytes()).unwrap()),
        T0,
    );
    let fx = a.handle_publish(
        T0,
        key(900),
        &publish(
            1,
            None,
            None,
            Some(("application/pidf+xml", &person("work"))),
        ),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    let etag = etag_of(&fx);
    let fx = bob_subscribes(&mut a);
    assert_eq!(status(&fx), 200, "at work: allowed");
    ack_notifies(&mut a, T0, &fx, &mut k);
    // She goes home: the rule no longer matches, bob's subscription ends.
    let fx = a.handle_publish(
        T0 + 1000,
        key(901),
        &publish(
            2,
            Some(&etag),
            None,
            Some(("application/pidf+xml", &person("home"))),
        ),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    let ended = fx
        .notifies
        .iter()
        .map(built)
        .any(|n| n.header(HeaderName::SubscriptionState) == Some("terminated;reason=rejected"));
    assert!(ended, "{:?}", fx.notifies.len());
    assert_eq!(a.subscription_count(), 0);
}
