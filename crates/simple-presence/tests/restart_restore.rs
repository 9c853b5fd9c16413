//! A restart: the agent rebuilt from the rows its effects wrote keeps its
//! publications (same entity tags) and subscriptions (same dialogs), and
//! its NOTIFY CSeqs stay strictly above every CSeq used before.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
use common::*;
use simple_store::{Publication, Subscription};
use sip_msg::HeaderName;

/// Applies store ops the way a store would (upsert by key, then removals).
#[derive(Default)]
struct Rows {
    pubs: Vec<Publication>,
    subs: Vec<Subscription>,
}

impl Rows {
    fn apply(&mut self, fx: &simple_presence::Effects) {
        for p in &fx.store.pub_puts {
            self.pubs.retain(|x| x.etag != p.etag);
            self.pubs.push(p.clone());
        }
        for r in &fx.store.pub_removes {
            self.pubs.retain(|x| x.etag != r.etag);
        }
        for s in &fx.store.sub_puts {
            self.subs.retain(|x| x.id != s.id);
            self.subs.push(s.clone());
        }
        for id in &fx.store.sub_removes {
            self.subs.retain(|x| &x.id != id);
        }
    }
}

#[test]
fn state_and_cseq_survive_a_restart() {
    let mut rows = Rows::default();
    let mut a = agent();
    let mut k = 0;
    let req = subscribe(&Sub::default());
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &req,
        watcher_peer(),
        ALICE,
        simple_presence::SubscribeAuth::Allow,
        true,
    );
    rows.apply(&fx);
    let tag = only_response(&fx).to().unwrap().tag().unwrap().to_owned();
    let mut last_cseq = 0;
    for n in ack_notifies(&mut a, T0, &fx, &mut k) {
        last_cseq = cseq(&n);
    }
    // Many changes: CSeqs well past the first reserved block.
    let mut etag: Option<String> = None;
    for i in 0..250u32 {
        let doc = pidf(ALICE, "phone", "open", &format!("note {i}"));
        let fx = a.handle_publish(
            T0 + u64::from(i),
            key(100 + u64::from(i)),
            &publish(
                i + 1,
                etag.as_deref(),
                None,
                Some(("application/pidf+xml", &doc)),
            ),
            ALICE,
            ALICE,
        );
        rows.apply(&fx);
        etag = Some(etag_of(&fx));
        for n in ack_notifies(&mut a, T0, &fx, &mut k) {
            assert!(cseq(&n) > last_cseq);
            last_cseq = cseq(&n);
        }
    }
    assert!(last_cseq > 200);
    assert_eq!(rows.pubs.len(), 1);
    assert_eq!(rows.subs.len(), 1);

    // "Restart".
    let t1 = T0 + 10_000;
    let mut b = agent();
    assert_eq!(
        b.restore(t1, rows.pubs.clone(), rows.subs.clone(), |_| true),
        (1, 1)
    );
    // The publication's tag still works.
    let fx = b.handle_publish(
        t1,
        key(900),
        &publish(900, etag.as_deref(), None, None),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    // The watcher's dialog is known, and the next NOTIFY's CSeq is above all used.
    let refresh = subscribe(&Sub {
        to_tag: Some(&tag),
        cseq: 2,
        ..Sub::default()
    });
    assert!(b.owns_dialog(&refresh));
    let fx = b.handle_subscribe(
        t1,
        key(901),
        &refresh,
        watcher_peer(),
        "",
        simple_presence::SubscribeAuth::Allow,
        true,
    );
    assert_eq!(status(&fx), 200);
    let n = built(&fx.notifies[0]);
    assert!(
        cseq(&n) > last_cseq,
        "CSeq {} after restart must exceed {last_cseq}",
        cseq(&n)
    );
    assert!(body_str(&n).contains("note 249"), "the restored document");
}

#[test]
fn rules_changed_while_down_are_applied_to_restored_subscriptions() {
    let mut rows = Rows::default();
    let mut a = agent();
    let mut k = 0;
    let fx = a.handle_subscribe(
        T0,
        key(1),
        &subscribe(&Sub::default()),
        watcher_peer(),
        ALICE,
        simple_presence::SubscribeAuth::Rules,
        true,
    );
    assert_eq!(status(&fx), 200, "same domain, no rules: allowed");
    rows.apply(&fx);
    ack_notifies(&mut a, T0, &fx, &mut k);
    // Down; alice's rules now block bob.
    let mut b = agent();
    let block = rules(&[("r1", "sip:bob@example.test", "block", "")]);
    b.set_rules(ALICE, Some(block), T0 + 1000);
    assert_eq!(
        b.restore(T0 + 1000, rows.pubs.clone(), rows.subs.clone(), |_| true),
        (0, 1)
    );
    let fx = b.take_restored();
    assert_eq!(fx.notifies.len(), 1, "the blocked watcher is told at once");
    let n = built(&fx.notifies[0]);
    assert_eq!(
        n.header(HeaderName::SubscriptionState),
        Some("terminated;reason=rejected")
    );
    assert!(n.body().is_empty(), "and gets no presence");
    assert_eq!(b.subscription_count(), 0);
}

/// A batch of publication writes the store refused: the agent goes back to
/// what is stored, tells the watcher the document it had before, and the
/// entity-tag the failed PUBLISH replaced is valid again.
#[test]
fn a_refused_publication_write_is_rolled_back_to_the_stored_state() {
    let mut rows = Rows::default();
    let mut a = agent();
    let mut k = 0;
    subscribe_bob(&mut a, T0, &mut k);
    let (fx, stored_etag) = publish_note(&mut a, T0, 1, None, "stored note");
    rows.apply(&fx);
    ack_notifies(&mut a, T0, &fx, &mut k);
    // A modify whose write fails: its ops never reach `rows`.
    let (fx, _) = publish_note(&mut a, T0 + 1, 2, Some(&stored_etag), "lost note");
    let told = ack_notifies(&mut a, T0 + 1, &fx, &mut k);
    assert!(body_str(&told[0]).contains("lost note"));
    // The rollback: the watcher hears the stored state again.
    let fx = a.reload_publications(ALICE, rows.pubs.clone(), T0 + 2);
    let back = ack_notifies(&mut a, T0 + 2, &fx, &mut k);
    assert_eq!(back.len(), 1, "one NOTIFY with the stored document");
    let body = body_str(&back[0]);
    assert!(
        body.contains("stored note") && !body.contains("lost note"),
        "{body}"
    );
    // The entity-tag the failed modify replaced works again.
    let fx = a.handle_publish(
        T0 + 3,
        key(12),
        &publish(3, Some(&stored_etag), None, None),
        ALICE,
        ALICE,
    );
    assert_eq!(status(&fx), 200);
    // Nothing changed by a reload to the same state: no NOTIFY.
    let fx = a.reload_publications(ALICE, rows.pubs.clone(), T0 + 4);
    assert!(fx.notifies.is_empty());
}
