//! The conformance suite: what every backend of [`Users`], [`Registrations`],
//! [`Publications`], [`Subscriptions`] and [`Documents`] must do, written once as generic
//! async functions (DESIGN.md, house style 10).
//!
//! Each function takes a fresh, empty store, returns `Err` if the store fails an
//! operation that should succeed, and panics (`assert!`) on a wrong answer. A backend's
//! test file instantiates all of them with [`conformance_tests!`](crate::conformance_tests):
//!
//! ```ignore
//! async fn fresh() -> (MemoryStore, ()) { (MemoryStore::default(), ()) }
//! simple_store::conformance_tests!(fresh);
//! ```
//!
//! The factory returns the store and a guard kept alive for the test (a temp dir).

use crate::error::{Result, StoreError};
use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use crate::model::{
    Binding, Document, Ha1, Publication, RoomMember, StoredMessage, Subscription, User,
};
use crate::traits::{
    Documents, Messages, Precondition, PublicationKey, Publications, Quota, Registrations, Rooms,
    StoreOutcome, Subscriptions, Users,
};

/// Instantiates every conformance test as a `#[tokio::test]` against stores made by
/// `$factory`, an `async fn() -> (Store, Guard)`. Keep this list in step with the
/// functions of [`conformance`](crate::conformance).
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::conformance_tests!(@each $factory;
            users_put_get_round_trip,
            users_put_replaces_user_and_ha1_set,
            users_domain_case_insensitive,
            users_username_case_sensitive,
            users_remove,
            users_list_sorted_and_filtered,
            users_refuse_invalid,
            users_put_many_all_or_none,
            bindings_replace_and_get,
            bindings_clear,
            bindings_multi_aor_batch,
            bindings_later_batch_entry_wins,
            bindings_refused_batch_writes_nothing,
            bindings_all_fields_round_trip,
            bindings_aor_exact_match,
            bindings_load_live_drops_expired,
            bindings_remove_expired_count,
            bindings_count,
            publications_all_fields_round_trip,
            publications_replace_by_key,
            publications_remove,
            publications_refused_batch_writes_nothing,
            publications_load_live_drops_expired,
            publications_remove_expired_count,
            publications_sorted,
            publications_aor_exact_and_events_separate,
            publications_large_batch,
            subscriptions_all_fields_round_trip,
            subscriptions_replace_by_id,
            subscriptions_remove,
            subscriptions_refused_batch_writes_nothing,
            subscriptions_load_live_drops_expired,
            subscriptions_sorted,
            subscriptions_aor_exact_and_events_separate,
            subscriptions_large_batch,
            documents_put_get_round_trip,
            documents_put_any_replaces,
            documents_failed_preconditions_write_nothing,
            documents_remove_under_preconditions,
            documents_concurrent_compare_and_set,
            documents_list_sorted_and_filtered,
            documents_keys_exact,
            documents_refuse_invalid,
            documents_revision_and_auid_listing,
            messages_round_trip_in_storing_order,
            messages_quota_counts_messages_and_bytes,
            messages_concurrent_stores_respect_quota,
            messages_remove_and_reschedule,
            messages_due_and_expired,
            messages_ids_never_reused,
            messages_refuse_invalid,
            rooms_members_join_touch_leave,
            rooms_idle_members_removed,
        );
    };
    (@each $factory:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (store, _guard) = $factory().await;
                if let Err(e) = $crate::conformance::$name(&store).await {
                    panic!("store error: {e}");
                }
            }
        )*
    };
}

/// A user with one HA1 per algorithm in `algorithms` (the digest is a fixed fake).
pub fn user(username: &str, domain: &str, algorithms: &[&str]) -> User {
    User {
        username: username.to_owned(),
        domain: domain.to_owned(),
        realm: domain.to_owned(),
        ha1: algorithms
            .iter()
            .enumerate()
            .map(|(i, a)| Ha1 {
                algorithm: (*a).to_owned(),
                ha1: format!("{i:x}0123456789abcdef"),
            })
            .collect(),
        created_ms: 1_700_000_000_000,
    }
}

/// A binding with the optional fields empty.
pub fn binding(aor: &str, contact: &str, expires_at_ms: i64) -> Binding {
    Binding {
        aor: aor.to_owned(),
        contact: contact.to_owned(),
        params: String::new(),
        q: None,
        expires_at_ms,
        call_id: "call-1@test".to_owned(),
        cseq: 1,
        instance: None,
        reg_id: None,
        path: Vec::new(),
        received: None,
        user_agent: None,
        updated_ms: 1_000,
    }
}

const ALICE: &str = "sip:alice@example.test";
const BOB: &str = "sip:bob@example.test";
const CAROL: &str = "sip:carol@example.test";

fn is_invalid<T>(r: &Result<T>) -> bool {
    matches!(r, Err(StoreError::Invalid { .. }))
}

/// put on an empty store creates; get returns exactly what was put.
pub async fn users_put_get_round_trip<S: Users>(s: &S) -> Result<()> {
    let alice = user("alice", "example.test", &["MD5", "SHA-256", "SHA-512-256"]);
    assert!(s.put_user(&alice).await?, "first put creates");
    assert_eq!(s.get_user("alice", "example.test").await?, Some(alice));
    let nobody = user("nobody", "example.test", &[]);
    assert!(s.put_user(&nobody).await?, "a user may have no HA1 yet");
    assert_eq!(s.get_user("nobody", "example.test").await?, Some(nobody));
    assert_eq!(s.get_user("carol", "example.test").await?, None);
    Ok(())
}

/// A second put replaces everything, the HA1 set included.
pub async fn users_put_replaces_user_and_ha1_set<S: Users>(s: &S) -> Result<()> {
    assert!(
        s.put_user(&user("alice", "example.test", &["MD5", "SHA-256"]))
            .await?
    );
    let mut changed = user("alice", "example.test", &["SHA-512-256"]);
    changed.realm = "other realm".to_owned();
    changed.ha1[0].ha1 = "ffff".to_owned();
    changed.created_ms = 5;
    assert!(!s.put_user(&changed).await?, "second put replaces");
    assert_eq!(s.get_user("alice", "example.test").await?, Some(changed));
    let emptied = user("alice", "example.test", &[]);
    assert!(!s.put_user(&emptied).await?);
    assert_eq!(s.get_user("alice", "example.test").await?, Some(emptied));
    assert_eq!(s.list_users(None).await?.len(), 1);
    Ok(())
}

/// Domains compare case-insensitively and are stored lowercased.
pub async fn users_domain_case_insensitive<S: Users>(s: &S) -> Result<()> {
    let mixed = user("alice", "Example.TEST", &["MD5"]);
    assert!(s.put_user(&mixed).await?);
    let mut lowered = mixed.clone();
    lowered.domain = "example.test".to_owned();
    for d in ["example.test", "EXAMPLE.TEST", "eXample.Test"] {
        assert_eq!(s.get_user("alice", d).await?, Some(lowered.clone()), "{d}");
    }
    assert!(
        !s.put_user(&user("alice", "EXAMPLE.test", &["MD5"])).await?,
        "same user in another case"
    );
    assert_eq!(s.list_users(Some("EXAMPLE.TEST")).await?.len(), 1);
    assert!(s.remove_user("alice", "ExAmPlE.tEsT").await?);
    assert_eq!(s.get_user("alice", "example.test").await?, None);
    Ok(())
}

/// Usernames compare case-sensitively.
pub async fn users_username_case_sensitive<S: Users>(s: &S) -> Result<()> {
    let lower = user("alice", "example.test", &["MD5"]);
    let upper = user("Alice", "example.test", &["SHA-256"]);
    assert!(s.put_user(&lower).await?);
    assert!(s.put_user(&upper).await?, "Alice is not alice");
    assert_eq!(s.get_user("alice", "example.test").await?, Some(lower));
    assert_eq!(s.get_user("Alice", "example.test").await?, Some(upper));
    assert_eq!(s.get_user("ALICE", "example.test").await?, None);
    assert!(!s.remove_user("ALICE", "example.test").await?);
    assert_eq!(s.list_users(None).await?.len(), 2);
    Ok(())
}

/// remove is true once, then false; others stay.
pub async fn users_remove<S: Users>(s: &S) -> Result<()> {
    let bob = user("bob", "example.test", &["MD5"]);
    s.put_user(&user("alice", "example.test", &["MD5", "SHA-256"]))
        .await?;
    s.put_user(&bob).await?;
    assert!(s.remove_user("alice", "example.test").await?);
    assert!(!s.remove_user("alice", "example.test").await?);
    assert_eq!(s.get_user("alice", "example.test").await?, None);
    assert_eq!(s.list_users(None).await?, vec![bob]);
    // Re-creating after removal starts from a clean HA1 set.
    let again = user("alice", "example.test", &["SHA-512-256"]);
    assert!(s.put_user(&again).await?);
    assert_eq!(s.get_user("alice", "example.test").await?, Some(again));
    Ok(())
}

/// list is sorted by (domain, username) and filters by domain case-insensitively.
pub async fn users_list_sorted_and_filtered<S: Users>(s: &S) -> Result<()> {
    for (u, d) in [
        ("zed", "a.test"),
        ("bob", "b.test"),
        ("alice", "b.test"),
        ("Bob", "b.test"),
        ("carol", "A.test"),
    ] {
        s.put_user(&user(u, d, &["MD5"])).await?;
    }
    let all: Vec<(String, String)> = s
        .list_users(None)
        .await?
        .into_iter()
        .map(|u| (u.domain, u.username))
        .collect();
    let expected = [
        ("a.test", "carol"),
        ("a.test", "zed"),
        ("b.test", "Bob"),
        ("b.test", "alice"),
        ("b.test", "bob"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(d, u)| ((*d).to_owned(), (*u).to_owned()))
        .collect();
    assert_eq!(all, expected);
    let b: Vec<String> = s
        .list_users(Some("B.TEST"))
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(b, ["Bob", "alice", "bob"]);
    assert!(s.list_users(Some("c.test")).await?.is_empty());
    // Each listed user carries its HA1s.
    assert!(s.list_users(None).await?.iter().all(|u| u.ha1.len() == 1));
    Ok(())
}

/// Passwords, uppercase hex, duplicate algorithms and empty names are refused; nothing
/// is written and an existing user is left as it was.
pub async fn users_refuse_invalid<S: Users>(s: &S) -> Result<()> {
    let alice = user("alice", "example.test", &["MD5"]);
    s.put_user(&alice).await?;
    let mut password = alice.clone();
    password.ha1[0].ha1 = "hunter2".to_owned();
    assert!(is_invalid(&s.put_user(&password).await));
    let mut upper = alice.clone();
    upper.ha1[0].ha1 = "ABCDEF".to_owned();
    assert!(is_invalid(&s.put_user(&upper).await));
    let mut twice = user("alice", "example.test", &["MD5", "MD5"]);
    twice.realm = "changed".to_owned();
    assert!(is_invalid(&s.put_user(&twice).await));
    assert!(is_invalid(
        &s.put_user(&user("", "example.test", &[])).await
    ));
    assert!(is_invalid(&s.put_user(&user("bob", "", &[])).await));
    assert_eq!(s.get_user("alice", "example.test").await?, Some(alice));
    assert_eq!(s.list_users(None).await?.len(), 1);
    Ok(())
}

/// put_users writes a batch in one go (creations counted, replacements and
/// a repeated entry included, the later winning) and refuses a batch with one
/// invalid user whole, writing nothing.
pub async fn users_put_many_all_or_none<S: Users>(s: &S) -> Result<()> {
    s.put_user(&user("alice", "example.test", &["MD5"])).await?;
    let mut alice2 = user("alice", "example.test", &["SHA-256"]);
    alice2.realm = "changed".to_owned();
    let bob = user("bob", "Example.Test", &["MD5", "SHA-256"]);
    let carol_first = user("carol", "example.test", &["MD5"]);
    let carol = user("carol", "example.test", &["SHA-512-256"]);
    let created = s
        .put_users(&[alice2.clone(), bob.clone(), carol_first, carol.clone()])
        .await?;
    assert_eq!(created, 2, "bob and carol are new, alice replaced");
    assert_eq!(s.get_user("alice", "example.test").await?, Some(alice2));
    let mut bob_stored = bob;
    bob_stored.domain = "example.test".to_owned();
    assert_eq!(s.get_user("bob", "example.test").await?, Some(bob_stored));
    assert_eq!(s.get_user("carol", "example.test").await?, Some(carol));
    let mut bad = user("erin", "example.test", &["MD5"]);
    bad.ha1[0].ha1 = "password".to_owned();
    let dave = user("dave", "example.test", &["MD5"]);
    assert!(is_invalid(&s.put_users(&[dave, bad]).await));
    assert_eq!(
        s.get_user("dave", "example.test").await?,
        None,
        "nothing written"
    );
    assert_eq!(s.list_users(None).await?.len(), 3);
    assert_eq!(s.put_users(&[]).await?, 0);
    let many: Vec<User> = (0..2000)
        .map(|i| user(&format!("u{i}"), "bulk.test", &["MD5"]))
        .collect();
    assert_eq!(s.put_users(&many).await?, 2000);
    assert_eq!(s.list_users(Some("bulk.test")).await?.len(), 2000);
    Ok(())
}

/// replace sets an AOR's binding set exactly, in order.
pub async fn bindings_replace_and_get<S: Registrations>(s: &S) -> Result<()> {
    let two = vec![
        binding(ALICE, "sip:alice@192.0.2.1:5060", 10_000),
        binding(ALICE, "sip:alice@192.0.2.2:5060", 20_000),
    ];
    s.replace_bindings(vec![(ALICE.to_owned(), two.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, two);
    // Reversed order comes back reversed.
    let reversed: Vec<Binding> = two.iter().rev().cloned().collect();
    s.replace_bindings(vec![(ALICE.to_owned(), reversed.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, reversed);
    let one = vec![binding(ALICE, "sip:alice@192.0.2.3:5060", 30_000)];
    s.replace_bindings(vec![(ALICE.to_owned(), one.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, one);
    // Two bindings may share a contact URI (RFC 5626: one per flow, told apart by reg-id).
    let mut flow1 = binding(ALICE, "sip:alice@192.0.2.9;ob", 40_000);
    flow1.reg_id = Some(1);
    let mut flow2 = flow1.clone();
    flow2.reg_id = Some(2);
    let flows = vec![flow1, flow2];
    s.replace_bindings(vec![(ALICE.to_owned(), flows.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, flows);
    assert_eq!(s.count_bindings().await?, 2);
    Ok(())
}

/// An empty set removes the AOR's bindings and no one else's; an empty batch is a no-op.
pub async fn bindings_clear<S: Registrations>(s: &S) -> Result<()> {
    s.replace_bindings(vec![
        (
            ALICE.to_owned(),
            vec![binding(ALICE, "sip:a1@192.0.2.1", 10_000)],
        ),
        (
            BOB.to_owned(),
            vec![binding(BOB, "sip:b1@192.0.2.1", 10_000)],
        ),
    ])
    .await?;
    s.replace_bindings(vec![(ALICE.to_owned(), Vec::new())])
        .await?;
    assert!(s.bindings(ALICE).await?.is_empty());
    assert_eq!(s.bindings(BOB).await?.len(), 1);
    s.replace_bindings(vec![]).await?;
    s.replace_bindings(vec![(CAROL.to_owned(), Vec::new())])
        .await?;
    assert_eq!(s.count_bindings().await?, 1);
    Ok(())
}

/// One batch sets, replaces and clears several AORs at once.
pub async fn bindings_multi_aor_batch<S: Registrations>(s: &S) -> Result<()> {
    s.replace_bindings(vec![(
        CAROL.to_owned(),
        vec![binding(CAROL, "sip:c1@192.0.2.1", 10_000)],
    )])
    .await?;
    let alice = vec![
        binding(ALICE, "sip:a1@192.0.2.1", 10_000),
        binding(ALICE, "sip:a2@192.0.2.1", 10_000),
    ];
    let bob = vec![binding(BOB, "sip:b1@192.0.2.1", 10_000)];
    s.replace_bindings(vec![
        (ALICE.to_owned(), alice.clone()),
        (BOB.to_owned(), bob.clone()),
        (CAROL.to_owned(), Vec::new()),
    ])
    .await?;
    assert_eq!(s.bindings(ALICE).await?, alice);
    assert_eq!(s.bindings(BOB).await?, bob);
    assert!(s.bindings(CAROL).await?.is_empty());
    assert_eq!(s.count_bindings().await?, 3);
    // A large batch, as the registrar's group commit makes under load.
    let batch: Vec<(String, Vec<Binding>)> = (0..300)
        .map(|i| {
            let aor = format!("sip:user{i}@example.test");
            let b = binding(&aor, &format!("sip:u{i}@192.0.2.1"), 10_000);
            (aor, vec![b])
        })
        .collect();
    s.replace_bindings(batch.clone()).await?;
    assert_eq!(s.count_bindings().await?, 303);
    assert_eq!(s.bindings("sip:user299@example.test").await?, batch[299].1);
    Ok(())
}

/// An AOR listed twice in one batch ends up with the later entry's set.
pub async fn bindings_later_batch_entry_wins<S: Registrations>(s: &S) -> Result<()> {
    let first = vec![binding(ALICE, "sip:first@192.0.2.1", 10_000)];
    let second = vec![
        binding(ALICE, "sip:second@192.0.2.1", 10_000),
        binding(ALICE, "sip:third@192.0.2.1", 10_000),
    ];
    s.replace_bindings(vec![
        (ALICE.to_owned(), first.clone()),
        (ALICE.to_owned(), second.clone()),
    ])
    .await?;
    assert_eq!(s.bindings(ALICE).await?, second);
    s.replace_bindings(vec![
        (ALICE.to_owned(), first.clone()),
        (ALICE.to_owned(), Vec::new()),
    ])
    .await?;
    assert!(s.bindings(ALICE).await?.is_empty());
    Ok(())
}

/// A batch holding any refused binding writes nothing, not even its valid entries.
pub async fn bindings_refused_batch_writes_nothing<S: Registrations>(s: &S) -> Result<()> {
    let before = vec![binding(ALICE, "sip:a0@192.0.2.1", 10_000)];
    s.replace_bindings(vec![(ALICE.to_owned(), before.clone())])
        .await?;
    let good = vec![binding(ALICE, "sip:a1@192.0.2.1", 10_000)];
    let mut high_q = binding(BOB, "sip:b1@192.0.2.1", 10_000);
    high_q.q = Some(1001);
    let wrong_aor = binding(CAROL, "sip:c1@192.0.2.1", 10_000);
    let mut broken_path = binding(BOB, "sip:b1@192.0.2.1", 10_000);
    broken_path.path = vec!["<sip:p1.test;lr>\n<sip:p2.test;lr>".to_owned()];
    let empty_contact = binding(BOB, "", 10_000);
    for bad in [high_q, wrong_aor, broken_path, empty_contact] {
        let batch = [
            (ALICE.to_owned(), good.clone()),
            (BOB.to_owned(), vec![bad]),
        ];
        assert!(is_invalid(&s.replace_bindings(batch.to_vec()).await));
    }
    assert!(is_invalid(
        &s.replace_bindings(vec![(String::new(), Vec::new())]).await
    ));
    assert_eq!(s.bindings(ALICE).await?, before);
    assert!(s.bindings(BOB).await?.is_empty());
    assert_eq!(s.count_bindings().await?, 1);
    Ok(())
}

/// Every field comes back as written: path order, None vs Some, quotes and non-ASCII
/// text, extreme numbers.
pub async fn bindings_all_fields_round_trip<S: Registrations>(s: &S) -> Result<()> {
    let full = Binding {
        aor: ALICE.to_owned(),
        contact: "sips:alice@[2001:db8::1]:5061;transport=tcp;ob".to_owned(),
        params: ";+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\";reg-id=1;\
                 +sip.ice;description=\"Büro \\\"Ost\\\" 東京\""
            .to_owned(),
        q: Some(1000),
        expires_at_ms: i64::MAX,
        call_id: "a84b4c76e66710@pc33.atlanta.test".to_owned(),
        cseq: u32::MAX,
        instance: Some("<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>".to_owned()),
        reg_id: Some(u32::MAX),
        path: vec![
            "<sip:p3.example.test;lr;ob>".to_owned(),
            "<sip:p2.example.test;lr>".to_owned(),
            "<sip:p1.example.test;lr>".to_owned(),
        ],
        received: Some("tls:[2001:db8::1]:49152".to_owned()),
        user_agent: Some("Herald-Client/0.1 (Zürich ✓)".to_owned()),
        updated_ms: -1,
    };
    let mut minimal = binding(ALICE, "sip:alice@192.0.2.1", 0);
    minimal.q = Some(0);
    minimal.cseq = 0;
    minimal.reg_id = Some(0);
    minimal.instance = Some(String::new());
    minimal.received = Some(String::new());
    minimal.user_agent = Some(String::new());
    let mut empty_path_value = binding(ALICE, "sip:alice@192.0.2.2", 1);
    empty_path_value.path = vec![String::new()];
    let bare = binding(ALICE, "tel:+15551234567", -5);
    let set = vec![full, minimal, empty_path_value, bare];
    s.replace_bindings(vec![(ALICE.to_owned(), set.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, set);
    assert_eq!(s.load_live_bindings(i64::MIN).await?, set);
    Ok(())
}

/// AORs are exact strings: the registrar canonicalizes, the store does not.
pub async fn bindings_aor_exact_match<S: Registrations>(s: &S) -> Result<()> {
    let upper = "sip:Alice@example.test";
    s.replace_bindings(vec![(
        upper.to_owned(),
        vec![binding(upper, "sip:a@192.0.2.1", 10_000)],
    )])
    .await?;
    assert!(s.bindings(ALICE).await?.is_empty());
    assert_eq!(s.bindings(upper).await?.len(), 1);
    assert!(s.bindings("sip:nobody@example.test").await?.is_empty());
    Ok(())
}

/// Startup load returns only live bindings (`expires_at_ms > now`) and deletes the rest.
pub async fn bindings_load_live_drops_expired<S: Registrations>(s: &S) -> Result<()> {
    let now = 50_000;
    let alice_live = binding(ALICE, "sip:a-live@192.0.2.1", now + 1);
    let alice_dead = binding(ALICE, "sip:a-dead@192.0.2.1", now);
    let bob_dead = binding(BOB, "sip:b-dead@192.0.2.1", now - 10_000);
    let carol_live = binding(CAROL, "sip:c-live@192.0.2.1", now + 60_000);
    s.replace_bindings(vec![
        (ALICE.to_owned(), vec![alice_dead, alice_live.clone()]),
        (CAROL.to_owned(), vec![carol_live.clone()]),
        (BOB.to_owned(), vec![bob_dead]),
    ])
    .await?;
    assert_eq!(s.count_bindings().await?, 4);
    let live = s.load_live_bindings(now).await?;
    assert_eq!(live, vec![alice_live.clone(), carol_live]);
    assert_eq!(s.count_bindings().await?, 2);
    assert_eq!(s.bindings(ALICE).await?, vec![alice_live]);
    assert!(s.bindings(BOB).await?.is_empty());
    assert_eq!(s.remove_expired(now).await?, 0);
    Ok(())
}

/// remove_expired deletes `expires_at_ms <= now` and says how many.
pub async fn bindings_remove_expired_count<S: Registrations>(s: &S) -> Result<()> {
    assert_eq!(s.remove_expired(0).await?, 0);
    s.replace_bindings(vec![
        (
            ALICE.to_owned(),
            vec![
                binding(ALICE, "sip:a1@192.0.2.1", 100),
                binding(ALICE, "sip:a2@192.0.2.1", 200),
                binding(ALICE, "sip:a3@192.0.2.1", 300),
            ],
        ),
        (BOB.to_owned(), vec![binding(BOB, "sip:b1@192.0.2.1", 200)]),
    ])
    .await?;
    assert_eq!(s.remove_expired(99).await?, 0);
    assert_eq!(s.remove_expired(200).await?, 3);
    assert_eq!(s.remove_expired(200).await?, 0);
    assert_eq!(
        s.bindings(ALICE).await?,
        vec![binding(ALICE, "sip:a3@192.0.2.1", 300)]
    );
    assert!(s.bindings(BOB).await?.is_empty());
    assert_eq!(s.count_bindings().await?, 1);
    Ok(())
}

/// count covers every AOR and includes expired bindings not yet removed.
pub async fn bindings_count<S: Registrations>(s: &S) -> Result<()> {
    assert_eq!(s.count_bindings().await?, 0);
    s.replace_bindings(vec![
        (
            ALICE.to_owned(),
            vec![
                binding(ALICE, "sip:a1@192.0.2.1", 1),
                binding(ALICE, "sip:a2@192.0.2.1", i64::MAX),
            ],
        ),
        (BOB.to_owned(), vec![binding(BOB, "sip:b1@192.0.2.1", 1)]),
    ])
    .await?;
    assert_eq!(s.count_bindings().await?, 3);
    s.replace_bindings(vec![(BOB.to_owned(), Vec::new())])
        .await?;
    assert_eq!(s.count_bindings().await?, 2);
    Ok(())
}

/// A publication of `event` with a small PIDF-ish body; times 1 000 (created, updated).
pub fn publication(aor: &str, event: &str, etag: &str, expires_at_ms: u64) -> Publication {
    Publication {
        aor: aor.to_owned(),
        event: event.to_owned(),
        etag: etag.to_owned(),
        content_type: "application/pidf+xml".to_owned(),
        body: format!("<presence entity=\"pres:{aor}\"/>").into_bytes(),
        expires_at_ms,
        updated_ms: 1_000,
        created_ms: 1_000,
        publisher: format!("sip:{aor}"),
    }
}

/// An active subscription with the optional fields empty; times 1 000 (created, updated).
pub fn subscription(id: &str, aor: &str, event: &str, expires_at_ms: u64) -> Subscription {
    Subscription {
        id: id.to_owned(),
        aor: aor.to_owned(),
        event: event.to_owned(),
        event_id: None,
        watcher: "sip:watcher@example.test".to_owned(),
        state: "active".to_owned(),
        expires_at_ms,
        content_type: "application/pidf+xml".to_owned(),
        call_id: format!("{id}@192.0.2.1"),
        local_tag: format!("tag-{id}"),
        remote_tag: None,
        local_uri: format!("sip:{aor}"),
        remote_uri: "sip:watcher@example.test".to_owned(),
        remote_target: "sip:watcher@192.0.2.1:5060".to_owned(),
        route_set: Vec::new(),
        secure: false,
        local_cseq: 1,
        remote_cseq: 1,
        transport: "udp".to_owned(),
        remote_addr: "192.0.2.1:5060".to_owned(),
        created_ms: 1_000,
        updated_ms: 1_000,
    }
}

const P_ALICE: &str = "alice@example.test";
const P_BOB: &str = "bob@example.test";
const PRESENCE: &str = "presence";
const WINFO: &str = "presence.winfo";
/// Past every time the presence tests use: nothing expires.
const LATER: u64 = 1_000_000;

fn key(aor: &str, event: &str, etag: &str) -> PublicationKey {
    PublicationKey {
        aor: aor.to_owned(),
        event: event.to_owned(),
        etag: etag.to_owned(),
    }
}

/// Every field comes back as written: a binary body (NUL, invalid UTF-8), an empty body,
/// non-ASCII text, extreme times.
pub async fn publications_all_fields_round_trip<S: Publications>(s: &S) -> Result<()> {
    let full = Publication {
        aor: P_ALICE.to_owned(),
        event: PRESENCE.to_owned(),
        etag: "ea1b2c3d-\"quoted\"".to_owned(),
        content_type: "application/pidf+xml;charset=utf-8".to_owned(),
        body: vec![0, 0xff, 0xfe, b'<', 0, b'\n', 0x80],
        expires_at_ms: i64::MAX as u64,
        updated_ms: 0,
        created_ms: i64::MAX as u64,
        publisher: "sip:alice@example.test;note=Zürich ✓".to_owned(),
    };
    let mut empty = publication(P_ALICE, PRESENCE, "e2", 1);
    empty.body = Vec::new();
    empty.content_type = String::new();
    empty.publisher = String::new();
    s.write_publications(vec![full.clone(), empty.clone()], vec![])
        .await?;
    assert_eq!(s.publications(P_ALICE, PRESENCE).await?, vec![empty, full]);
    Ok(())
}

/// A put with a stored key replaces the stored publication entirely; a key put twice in
/// one batch ends up with the later value.
pub async fn publications_replace_by_key<S: Publications>(s: &S) -> Result<()> {
    let first = publication(P_ALICE, PRESENCE, "e1", LATER);
    let other = publication(P_ALICE, PRESENCE, "e2", LATER);
    s.write_publications(vec![first.clone(), other.clone()], vec![])
        .await?;
    let mut modified = first.clone();
    modified.body = b"<presence/>".to_vec();
    modified.content_type = "application/pidf+xml".to_owned();
    modified.expires_at_ms = LATER + 5;
    modified.updated_ms = 2_000;
    modified.publisher = "sip:other@example.test".to_owned();
    s.write_publications(vec![modified.clone()], vec![]).await?;
    assert_eq!(
        s.publications(P_ALICE, PRESENCE).await?,
        vec![modified, other.clone()]
    );
    let mut a = first.clone();
    a.body = b"a".to_vec();
    let mut b = first.clone();
    b.body = b"b".to_vec();
    s.write_publications(vec![a, b.clone()], vec![]).await?;
    assert_eq!(s.publications(P_ALICE, PRESENCE).await?, vec![b, other]);
    Ok(())
}

/// removes delete exactly their key, after the batch's puts; an unknown key is no error;
/// empty batches are no-ops.
pub async fn publications_remove<S: Publications>(s: &S) -> Result<()> {
    let e1 = publication(P_ALICE, PRESENCE, "e1", LATER);
    let e2 = publication(P_ALICE, PRESENCE, "e2", LATER);
    let bob = publication(P_BOB, PRESENCE, "e1", LATER);
    let winfo = publication(P_ALICE, WINFO, "e1", LATER);
    s.write_publications(vec![e1, e2.clone(), bob.clone(), winfo.clone()], vec![])
        .await?;
    s.write_publications(
        vec![],
        vec![key(P_ALICE, PRESENCE, "e1"), key(P_ALICE, PRESENCE, "nope")],
    )
    .await?;
    assert_eq!(s.publications(P_ALICE, PRESENCE).await?, vec![e2]);
    assert_eq!(s.publications(P_BOB, PRESENCE).await?, vec![bob]);
    assert_eq!(s.publications(P_ALICE, WINFO).await?, vec![winfo]);
    // Put and removed in one batch: the remove applies last.
    let e3 = publication(P_ALICE, PRESENCE, "e3", LATER);
    s.write_publications(
        vec![e3],
        vec![key(P_ALICE, PRESENCE, "e3"), key(P_ALICE, PRESENCE, "e2")],
    )
    .await?;
    assert!(s.publications(P_ALICE, PRESENCE).await?.is_empty());
    s.write_publications(vec![], vec![]).await?;
    assert_eq!(s.load_live_publications(0).await?.len(), 2);
    Ok(())
}

/// A batch with an empty aor, event or etag (put or removed), or a time above
/// `i64::MAX`, is refused whole: nothing of it is written.
pub async fn publications_refused_batch_writes_nothing<S: Publications>(s: &S) -> Result<()> {
    let before = publication(P_ALICE, PRESENCE, "e1", LATER);
    s.write_publications(vec![before.clone()], vec![]).await?;
    let mut changed = before.clone();
    changed.body = b"changed".to_vec();
    let good_new = publication(P_BOB, PRESENCE, "e1", LATER);
    let mut bad_puts = Vec::new();
    for field in 0..4 {
        let mut bad = publication(P_BOB, PRESENCE, "e2", LATER);
        match field {
            0 => bad.aor.clear(),
            1 => bad.event.clear(),
            2 => bad.etag.clear(),
            _ => bad.expires_at_ms = i64::MAX as u64 + 1,
        }
        bad_puts.push(bad);
    }
    for bad in bad_puts {
        let r = s
            .write_publications(vec![changed.clone(), good_new.clone(), bad], vec![])
            .await;
        assert!(is_invalid(&r), "{r:?}");
    }
    for bad_key in [
        key("", PRESENCE, "e1"),
        key(P_ALICE, "", "e1"),
        key(P_ALICE, PRESENCE, ""),
    ] {
        let r = s
            .write_publications(
                vec![changed.clone(), good_new.clone()],
                vec![key(P_ALICE, PRESENCE, "e1"), bad_key],
            )
            .await;
        assert!(is_invalid(&r), "{r:?}");
    }
    assert_eq!(s.publications(P_ALICE, PRESENCE).await?, vec![before]);
    assert!(s.publications(P_BOB, PRESENCE).await?.is_empty());
    Ok(())
}

/// Startup load returns only live publications (`expires_at_ms > now`), sorted by aor,
/// event, created_ms, etag, and deletes the rest.
pub async fn publications_load_live_drops_expired<S: Publications>(s: &S) -> Result<()> {
    let now = 50_000;
    let dead = publication(P_ALICE, PRESENCE, "dead", now);
    let live = publication(P_ALICE, PRESENCE, "live", now + 1);
    let bob_dead = publication(P_BOB, PRESENCE, "e1", 0);
    let mut winfo = publication(P_ALICE, WINFO, "e1", LATER);
    winfo.created_ms = 1;
    let mut bob = publication(P_BOB, WINFO, "e0", LATER);
    bob.created_ms = 0;
    s.write_publications(
        vec![bob.clone(), winfo.clone(), dead, live.clone(), bob_dead],
        vec![],
    )
    .await?;
    assert_eq!(
        s.load_live_publications(now).await?,
        vec![live.clone(), winfo.clone(), bob.clone()]
    );
    assert_eq!(s.publications(P_ALICE, PRESENCE).await?, vec![live]);
    assert!(s.publications(P_BOB, PRESENCE).await?.is_empty());
    assert_eq!(s.remove_expired_publications(now).await?, 0);
    // A `now` past i64::MAX expires everything.
    assert!(s.load_live_publications(u64::MAX).await?.is_empty());
    Ok(())
}

/// remove_expired_publications deletes `expires_at_ms <= now` and says how many.
pub async fn publications_remove_expired_count<S: Publications>(s: &S) -> Result<()> {
    assert_eq!(s.remove_expired_publications(0).await?, 0);
    s.write_publications(
        vec![
            publication(P_ALICE, PRESENCE, "e1", 100),
            publication(P_ALICE, PRESENCE, "e2", 200),
            publication(P_ALICE, PRESENCE, "e3", 300),
            publication(P_BOB, WINFO, "e1", 200),
        ],
        vec![],
    )
    .await?;
    assert_eq!(s.remove_expired_publications(99).await?, 0);
    assert_eq!(s.remove_expired_publications(200).await?, 3);
    assert_eq!(s.remove_expired_publications(200).await?, 0);
    assert_eq!(
        s.publications(P_ALICE, PRESENCE).await?,
        vec![publication(P_ALICE, PRESENCE, "e3", 300)]
    );
    assert!(s.publications(P_BOB, WINFO).await?.is_empty());
    assert_eq!(s.remove_expired_publications(u64::MAX).await?, 1);
    Ok(())
}

/// An AOR's publications come sorted by created_ms, then etag (byte order), whatever the
/// write order.
pub async fn publications_sorted<S: Publications>(s: &S) -> Result<()> {
    let at = |etag: &str, created_ms: u64| {
        let mut p = publication(P_ALICE, PRESENCE, etag, LATER);
        p.created_ms = created_ms;
        p
    };
    let written = [at("b", 5), at("a", 7), at("Z", 5), at("a", 5)];
    // "a" at 5 replaced by "a" at 7 (the later put wins): three publications.
    s.write_publications(written.to_vec(), vec![]).await?;
    let etags: Vec<(u64, String)> = s
        .publications(P_ALICE, PRESENCE)
        .await?
        .into_iter()
        .map(|p| (p.created_ms, p.etag))
        .collect();
    assert_eq!(
        etags,
        vec![
            (5, "Z".to_owned()),
            (5, "a".to_owned()),
            (5, "b".to_owned())
        ]
    );
    s.write_publications(vec![at("a", 4), at("c", 3)], vec![])
        .await?;
    let etags: Vec<String> = s
        .publications(P_ALICE, PRESENCE)
        .await?
        .into_iter()
        .map(|p| p.etag)
        .collect();
    assert_eq!(etags, ["c", "a", "Z", "b"]);
    Ok(())
}

/// AORs and events are exact strings; each (aor, event) has its own publications, and
/// one etag may be in use under several.
pub async fn publications_aor_exact_and_events_separate<S: Publications>(s: &S) -> Result<()> {
    let upper = publication("Alice@example.test", PRESENCE, "e1", LATER);
    let presence = publication(P_ALICE, PRESENCE, "e1", LATER);
    let mut winfo = publication(P_ALICE, WINFO, "e1", LATER);
    winfo.body = b"winfo".to_vec();
    s.write_publications(vec![upper.clone(), presence.clone(), winfo.clone()], vec![])
        .await?;
    assert_eq!(s.publications(P_ALICE, PRESENCE).await?, vec![presence]);
    assert_eq!(s.publications(P_ALICE, WINFO).await?, vec![winfo]);
    assert_eq!(
        s.publications("Alice@example.test", PRESENCE).await?,
        vec![upper]
    );
    assert!(s.publications(P_ALICE, "Presence").await?.is_empty());
    assert!(
        s.publications("alice@example.test ", PRESENCE)
            .await?
            .is_empty()
    );
    assert!(s.publications(P_ALICE, "dialog").await?.is_empty());
    s.write_publications(vec![], vec![key(P_ALICE, WINFO, "e1")])
        .await?;
    assert_eq!(s.load_live_publications(0).await?.len(), 2);
    Ok(())
}

/// A large batch, as group commit makes under load: every row is written and removed.
pub async fn publications_large_batch<S: Publications>(s: &S) -> Result<()> {
    let puts: Vec<Publication> = (0..300_u64)
        .map(|i| {
            let mut p = publication(&format!("user{i:03}@example.test"), PRESENCE, "e", LATER);
            p.created_ms = i;
            p
        })
        .collect();
    s.write_publications(puts.to_vec(), vec![]).await?;
    assert_eq!(s.load_live_publications(0).await?, puts);
    let removes: Vec<PublicationKey> = puts[..299].iter().map(PublicationKey::of).collect();
    s.write_publications(vec![], removes.to_vec()).await?;
    assert_eq!(s.load_live_publications(0).await?, puts[299..]);
    Ok(())
}

/// Every field comes back as written: Some vs None, route order, an empty route,
/// non-ASCII text, extreme numbers.
pub async fn subscriptions_all_fields_round_trip<S: Subscriptions>(s: &S) -> Result<()> {
    let full = Subscription {
        id: "a84b4c76e66710@pc33.atlanta.test;tag=9fxced76sl".to_owned(),
        aor: P_ALICE.to_owned(),
        event: WINFO.to_owned(),
        event_id: Some("id-\"1\" ✓".to_owned()),
        watcher: "sips:bob@example.test".to_owned(),
        state: "pending".to_owned(),
        expires_at_ms: i64::MAX as u64,
        content_type: "application/watcherinfo+xml".to_owned(),
        call_id: "a84b4c76e66710@pc33.atlanta.test".to_owned(),
        local_tag: "9fxced76sl".to_owned(),
        remote_tag: Some("1928301774".to_owned()),
        local_uri: "sips:alice@example.test".to_owned(),
        remote_uri: "sips:bob@example.test;x=Zürich".to_owned(),
        remote_target: "sips:bob@[2001:db8::1]:5061;transport=tcp;ob".to_owned(),
        route_set: vec![
            "<sips:p1.example.test;lr>".to_owned(),
            String::new(),
            "<sips:p2.example.test;lr>".to_owned(),
        ],
        secure: true,
        local_cseq: u32::MAX,
        remote_cseq: u32::MAX,
        transport: "wss".to_owned(),
        remote_addr: "[2001:db8::1]:49152".to_owned(),
        created_ms: 0,
        updated_ms: i64::MAX as u64,
    };
    let mut minimal = subscription("s2", P_ALICE, WINFO, 0);
    minimal.event_id = Some(String::new());
    minimal.remote_tag = Some(String::new());
    minimal.content_type = String::new();
    minimal.local_uri = String::new();
    minimal.remote_uri = String::new();
    minimal.remote_target = String::new();
    minimal.transport = String::new();
    minimal.remote_addr = String::new();
    minimal.local_cseq = 0;
    minimal.remote_cseq = 0;
    minimal.created_ms = 1;
    let mut one_empty_route = subscription("s3", P_ALICE, WINFO, 0);
    one_empty_route.route_set = vec![String::new()];
    one_empty_route.created_ms = 2;
    let bare = subscription("s4", P_ALICE, WINFO, 0);
    let all = vec![full, minimal, one_empty_route, bare];
    s.write_subscriptions(&all, &[]).await?;
    for sub in &all {
        assert_eq!(s.subscription(&sub.id).await?.as_ref(), Some(sub));
    }
    assert_eq!(s.subscriptions_for(P_ALICE, WINFO).await?, all);
    assert_eq!(s.subscription("nope").await?, None);
    Ok(())
}

/// A put with a stored id replaces the stored subscription entirely (aor and event
/// included); an id put twice in one batch ends up with the later value.
pub async fn subscriptions_replace_by_id<S: Subscriptions>(s: &S) -> Result<()> {
    let first = subscription("s1", P_ALICE, PRESENCE, LATER);
    s.write_subscriptions(std::slice::from_ref(&first), &[])
        .await?;
    let mut refreshed = first.clone();
    refreshed.state = "terminated".to_owned();
    refreshed.local_cseq = 7;
    refreshed.remote_cseq = 3;
    refreshed.remote_tag = Some("r".to_owned());
    refreshed.route_set = vec!["<sip:p.test;lr>".to_owned()];
    refreshed.expires_at_ms = LATER + 1;
    refreshed.updated_ms = 9_000;
    s.write_subscriptions(std::slice::from_ref(&refreshed), &[])
        .await?;
    assert_eq!(s.subscription("s1").await?, Some(refreshed.clone()));
    let mut moved = refreshed.clone();
    moved.aor = P_BOB.to_owned();
    moved.event = WINFO.to_owned();
    let mut last = moved.clone();
    last.local_cseq = 8;
    last.event_id = Some("x".to_owned());
    s.write_subscriptions(&[moved, last.clone()], &[]).await?;
    assert!(s.subscriptions_for(P_ALICE, PRESENCE).await?.is_empty());
    assert_eq!(s.subscriptions_for(P_BOB, WINFO).await?, vec![last.clone()]);
    assert_eq!(s.load_live_subscriptions(0).await?, vec![last]);
    Ok(())
}

/// removes delete exactly their id, after the batch's puts; an unknown id is no error.
pub async fn subscriptions_remove<S: Subscriptions>(s: &S) -> Result<()> {
    let s1 = subscription("s1", P_ALICE, PRESENCE, LATER);
    let s2 = subscription("s2", P_ALICE, PRESENCE, LATER);
    s.write_subscriptions(&[s1, s2.clone()], &[]).await?;
    s.write_subscriptions(&[], &["s1".to_owned(), "unknown".to_owned()])
        .await?;
    assert_eq!(s.subscription("s1").await?, None);
    assert_eq!(s.subscriptions_for(P_ALICE, PRESENCE).await?, vec![s2]);
    let s3 = subscription("s3", P_ALICE, PRESENCE, LATER);
    s.write_subscriptions(&[s3], &["s3".to_owned(), "s2".to_owned()])
        .await?;
    assert!(s.subscriptions_for(P_ALICE, PRESENCE).await?.is_empty());
    s.write_subscriptions(&[], &[]).await?;
    assert!(s.load_live_subscriptions(0).await?.is_empty());
    Ok(())
}

/// A batch with any refused subscription or an empty id to remove writes nothing.
pub async fn subscriptions_refused_batch_writes_nothing<S: Subscriptions>(s: &S) -> Result<()> {
    let before = subscription("s1", P_ALICE, PRESENCE, LATER);
    s.write_subscriptions(std::slice::from_ref(&before), &[])
        .await?;
    let mut changed = before.clone();
    changed.state = "terminated".to_owned();
    let good_new = subscription("s2", P_BOB, PRESENCE, LATER);
    let mut bads = Vec::new();
    for field in 0..11 {
        let mut bad = subscription("s3", P_BOB, PRESENCE, LATER);
        match field {
            0 => bad.id.clear(),
            1 => bad.aor.clear(),
            2 => bad.event.clear(),
            3 => bad.watcher.clear(),
            4 => bad.state.clear(),
            5 => bad.call_id.clear(),
            6 => bad.local_tag.clear(),
            7 => bad.route_set = vec!["<sip:a;lr>\n<sip:b;lr>".to_owned()],
            8 => bad.route_set = vec!["<sip:a;lr>\r".to_owned()],
            9 => bad.expires_at_ms = u64::MAX,
            _ => bad.created_ms = i64::MAX as u64 + 1,
        }
        bads.push(bad);
    }
    for bad in bads {
        let r = s
            .write_subscriptions(&[changed.clone(), good_new.clone(), bad], &[])
            .await;
        assert!(is_invalid(&r), "{r:?}");
    }
    let r = s
        .write_subscriptions(&[changed, good_new], &["s1".to_owned(), String::new()])
        .await;
    assert!(is_invalid(&r), "{r:?}");
    assert_eq!(s.subscription("s1").await?, Some(before.clone()));
    assert_eq!(s.subscription("s2").await?, None);
    assert_eq!(s.load_live_subscriptions(0).await?, vec![before]);
    Ok(())
}

/// Startup load returns only live subscriptions (`expires_at_ms > now`), sorted by aor,
/// event, created_ms, id, and deletes the rest.
pub async fn subscriptions_load_live_drops_expired<S: Subscriptions>(s: &S) -> Result<()> {
    let now = 50_000;
    let dead = subscription("dead", P_ALICE, PRESENCE, now);
    let live = subscription("live", P_ALICE, PRESENCE, now + 1);
    let mut winfo = subscription("w", P_ALICE, WINFO, LATER);
    winfo.created_ms = 0;
    let bob_dead = subscription("b0", P_BOB, PRESENCE, 1);
    let bob = subscription("b1", P_BOB, PRESENCE, LATER);
    s.write_subscriptions(
        &[bob.clone(), bob_dead, winfo.clone(), live.clone(), dead],
        &[],
    )
    .await?;
    assert_eq!(
        s.load_live_subscriptions(now).await?,
        vec![live.clone(), winfo, bob.clone()]
    );
    assert_eq!(s.subscription("dead").await?, None);
    assert_eq!(s.subscription("b0").await?, None);
    assert_eq!(s.subscriptions_for(P_ALICE, PRESENCE).await?, vec![live]);
    assert_eq!(s.subscriptions_for(P_BOB, PRESENCE).await?, vec![bob]);
    assert!(s.load_live_subscriptions(u64::MAX).await?.is_empty());
    Ok(())
}

/// A resource's subscriptions come sorted by created_ms, then id (byte order).
pub async fn subscriptions_sorted<S: Subscriptions>(s: &S) -> Result<()> {
    let at = |id: &str, created_ms: u64| {
        let mut sub = subscription(id, P_ALICE, PRESENCE, LATER);
        sub.created_ms = created_ms;
        sub
    };
    s.write_subscriptions(&[at("b", 5), at("a", 9), at("Z", 5), at("c", 1)], &[])
        .await?;
    let ids: Vec<String> = s
        .subscriptions_for(P_ALICE, PRESENCE)
        .await?
        .into_iter()
        .map(|sub| sub.id)
        .collect();
    assert_eq!(ids, ["c", "Z", "b", "a"]);
    let ids: Vec<String> = s
        .load_live_subscriptions(0)
        .await?
        .into_iter()
        .map(|sub| sub.id)
        .collect();
    assert_eq!(ids, ["c", "Z", "b", "a"]);
    Ok(())
}

/// AORs and events are exact strings; each (aor, event) has its own subscriptions.
pub async fn subscriptions_aor_exact_and_events_separate<S: Subscriptions>(s: &S) -> Result<()> {
    let presence = subscription("p", P_ALICE, PRESENCE, LATER);
    let winfo = subscription("w", P_ALICE, WINFO, LATER);
    let upper = subscription("u", "Alice@example.test", PRESENCE, LATER);
    let bob = subscription("b", P_BOB, PRESENCE, LATER);
    s.write_subscriptions(
        &[presence.clone(), winfo.clone(), upper.clone(), bob.clone()],
        &[],
    )
    .await?;
    assert_eq!(
        s.subscriptions_for(P_ALICE, PRESENCE).await?,
        vec![presence]
    );
    assert_eq!(s.subscriptions_for(P_ALICE, WINFO).await?, vec![winfo]);
    assert_eq!(
        s.subscriptions_for("Alice@example.test", PRESENCE).await?,
        vec![upper]
    );
    assert_eq!(s.subscriptions_for(P_BOB, PRESENCE).await?, vec![bob]);
    assert!(s.subscriptions_for(P_ALICE, "Presence").await?.is_empty());
    assert!(s.subscriptions_for(P_BOB, WINFO).await?.is_empty());
    assert!(
        s.subscriptions_for("example.test", PRESENCE)
            .await?
            .is_empty()
    );
    Ok(())
}

/// A large batch, as group commit makes under load: every row is written and removed.
pub async fn subscriptions_large_batch<S: Subscriptions>(s: &S) -> Result<()> {
    let puts: Vec<Subscription> = (0..300_u64)
        .map(|i| {
            let mut sub = subscription(&format!("s{i:03}"), P_ALICE, PRESENCE, LATER);
            sub.created_ms = i;
            sub.route_set = vec![format!("<sip:p{i}.test;lr>")];
            sub
        })
        .collect();
    s.write_subscriptions(&puts, &[]).await?;
    assert_eq!(s.subscriptions_for(P_ALICE, PRESENCE).await?, puts);
    let removes: Vec<String> = puts[1..].iter().map(|sub| sub.id.clone()).collect();
    s.write_subscriptions(&[], &removes).await?;
    assert_eq!(s.load_live_subscriptions(0).await?, puts[..1]);
    Ok(())
}

/// A document with a small XML body, written at 1000 ms.
pub fn document(auid: &str, owner: &str, name: &str, etag: &str) -> Document {
    Document {
        auid: auid.to_owned(),
        owner: owner.to_owned(),
        name: name.to_owned(),
        etag: etag.to_owned(),
        content_type: "application/auth-policy+xml".to_owned(),
        content: format!("<ruleset etag=\"{etag}\"/>").into_bytes(),
        updated_ms: 1_000,
    }
}

const PRES_RULES: &str = "pres-rules";
const RESOURCE_LISTS: &str = "resource-lists";
const INDEX: &str = "index";

fn if_match(etag: &str) -> Precondition {
    Precondition::IfMatch(etag.to_owned())
}

/// Polls both futures in turn until both are done, so their awaits interleave (no
/// runtime needed here: the suite stays runtime-agnostic).
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        match (ra.take(), rb.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (ra, rb) = (x, y);
                Poll::Pending
            }
        }
    })
    .await
}

/// Every field comes back as written: binary content (NUL, invalid UTF-8), empty
/// content, non-ASCII keys, extreme times; the global owner is an owner like any other.
pub async fn documents_put_get_round_trip<S: Documents>(s: &S) -> Result<()> {
    let full = Document {
        auid: PRES_RULES.to_owned(),
        owner: ALICE.to_owned(),
        name: "index".to_owned(),
        etag: "\"xcap-1\" ✓".to_owned(),
        content_type: "application/auth-policy+xml;charset=utf-8".to_owned(),
        content: vec![0, 0xff, 0xfe, b'<', 0, b'\n', 0x80],
        updated_ms: i64::MAX as u64,
    };
    let mut empty = document(RESOURCE_LISTS, ALICE, "Zürich/friends", "e2");
    empty.content = Vec::new();
    empty.content_type = String::new();
    empty.updated_ms = 0;
    let global = document("xcap-caps", "global", INDEX, "g1");
    assert_eq!(s.get_document(PRES_RULES, ALICE, INDEX).await?, None);
    for d in [&full, &empty, &global] {
        assert!(s.put_document(d, Precondition::Any).await?, "{}", d.name);
    }
    assert_eq!(
        s.get_document(PRES_RULES, ALICE, INDEX).await?,
        Some(full.clone())
    );
    assert_eq!(
        s.get_document(RESOURCE_LISTS, ALICE, "Zürich/friends")
            .await?,
        Some(empty)
    );
    assert_eq!(
        s.get_document("xcap-caps", "global", INDEX).await?,
        Some(global)
    );
    assert_eq!(s.get_document(PRES_RULES, BOB, INDEX).await?, None);
    Ok(())
}

/// An unconditional put replaces the stored document entirely.
pub async fn documents_put_any_replaces<S: Documents>(s: &S) -> Result<()> {
    let first = document(PRES_RULES, ALICE, INDEX, "e1");
    let other = document(PRES_RULES, BOB, INDEX, "e1");
    assert!(s.put_document(&first, Precondition::Any).await?);
    assert!(s.put_document(&other, Precondition::Any).await?);
    let mut second = document(PRES_RULES, ALICE, INDEX, "e2");
    second.content_type = "application/xml".to_owned();
    second.content = b"<changed/>".to_vec();
    second.updated_ms = 2_000;
    assert!(s.put_document(&second, Precondition::Any).await?);
    assert_eq!(
        s.get_document(PRES_RULES, ALICE, INDEX).await?,
        Some(second)
    );
    // Writing the same etag again is allowed: the etag is the caller's business.
    let mut same_etag = first.clone();
    same_etag.etag = "e2".to_owned();
    assert!(s.put_document(&same_etag, Precondition::Any).await?);
    assert_eq!(
        s.get_document(PRES_RULES, ALICE, INDEX).await?,
        Some(same_etag)
    );
    assert_eq!(s.get_document(PRES_RULES, BOB, INDEX).await?, Some(other));
    assert_eq!(s.list_documents(ALICE, None).await?.len(), 1);
    Ok(())
}

/// If-None-Match creates only what is absent, If-Match replaces only the etag it names;
/// a failed precondition answers false and leaves the store as it was.
pub async fn documents_failed_preconditions_write_nothing<S: Documents>(s: &S) -> Result<()> {
    let v1 = document(PRES_RULES, ALICE, INDEX, "v1");
    let v2 = document(PRES_RULES, ALICE, INDEX, "v2");
    let v3 = document(PRES_RULES, ALICE, INDEX, "v3");
    // Absent: If-Match fails, If-None-Match creates.
    assert!(!s.put_document(&v1, if_match("v0")).await?);
    assert_eq!(s.get_document(PRES_RULES, ALICE, INDEX).await?, None);
    assert!(s.put_document(&v1, Precondition::IfNoneMatch).await?);
    assert_eq!(
        s.get_document(PRES_RULES, ALICE, INDEX).await?,
        Some(v1.clone())
    );
    // Present: If-None-Match fails, a stale or differently-cased If-Match fails.
    assert!(!s.put_document(&v2, Precondition::IfNoneMatch).await?);
    assert!(!s.put_document(&v2, if_match("v0")).await?);
    assert!(!s.put_document(&v2, if_match("V1")).await?);
    assert!(!s.put_document(&v2, if_match("v1 ")).await?);
    assert_eq!(s.get_document(PRES_RULES, ALICE, INDEX).await?, Some(v1));
    // The current etag succeeds, once: afterwards it is stale.
    assert!(s.put_document(&v2, if_match("v1")).await?);
    assert!(!s.put_document(&v3, if_match("v1")).await?);
    assert_eq!(
        s.get_document(PRES_RULES, ALICE, INDEX).await?,
        Some(v2.clone())
    );
    // A precondition is about this key only: Bob's document with etag v2 is not Alice's.
    assert!(
        !s.put_document(&document(PRES_RULES, BOB, INDEX, "b"), if_match("v2"))
            .await?
    );
    assert_eq!(s.get_document(PRES_RULES, BOB, INDEX).await?, None);
    assert_eq!(s.list_documents(ALICE, None).await?, vec![v2]);
    Ok(())
}

/// remove answers true only when it deleted: absent, a failed If-Match and
/// If-None-Match (which can only hold for an absent document) all leave it in place.
pub async fn documents_remove_under_preconditions<S: Documents>(s: &S) -> Result<()> {
    let d = document(PRES_RULES, ALICE, INDEX, "e1");
    let other = document(PRES_RULES, ALICE, "other", "e1");
    assert!(
        !s.remove_document(PRES_RULES, ALICE, INDEX, Precondition::Any)
            .await?
    );
    assert!(
        !s.remove_document(PRES_RULES, ALICE, INDEX, if_match("e1"))
            .await?
    );
    assert!(
        !s.remove_document(PRES_RULES, ALICE, INDEX, Precondition::IfNoneMatch)
            .await?
    );
    s.put_document(&d, Precondition::Any).await?;
    s.put_document(&other, Precondition::Any).await?;
    assert!(
        !s.remove_document(PRES_RULES, ALICE, INDEX, if_match("e0"))
            .await?
    );
    assert!(
        !s.remove_document(PRES_RULES, ALICE, INDEX, Precondition::IfNoneMatch)
            .await?
    );
    assert_eq!(
        s.get_document(PRES_RULES, ALICE, INDEX).await?,
        Some(d.clone())
    );
    assert!(
        s.remove_document(PRES_RULES, ALICE, INDEX, if_match("e1"))
            .await?
    );
    assert_eq!(s.get_document(PRES_RULES, ALICE, INDEX).await?, None);
    assert!(
        !s.remove_document(PRES_RULES, ALICE, INDEX, if_match("e1"))
            .await?
    );
    assert_eq!(s.list_documents(ALICE, None).await?, vec![other]);
    assert!(
        s.remove_document(PRES_RULES, ALICE, "other", Precondition::Any)
            .await?
    );
    assert!(s.list_documents(ALICE, None).await?.is_empty());
    Ok(())
}

/// Two writers holding the same etag race: exactly one wins, and the stored document is
/// the winner's. Likewise two creators with If-None-Match, and two conditional removes.
pub async fn documents_concurrent_compare_and_set<S: Documents>(s: &S) -> Result<()> {
    let base = document(PRES_RULES, ALICE, INDEX, "v0");
    assert!(s.put_document(&base, Precondition::IfNoneMatch).await?);
    let mut current = base;
    for round in 0..20 {
        let a = document(PRES_RULES, ALICE, INDEX, &format!("a{round}"));
        let b = document(PRES_RULES, ALICE, INDEX, &format!("b{round}"));
        let (ra, rb) = join2(
            s.put_document(&a, if_match(&current.etag)),
            s.put_document(&b, if_match(&current.etag)),
        )
        .await;
        let (ra, rb) = (ra?, rb?);
        assert!(ra ^ rb, "round {round}: exactly one wins ({ra}, {rb})");
        current = if ra { a } else { b };
        assert_eq!(
            s.get_document(PRES_RULES, ALICE, INDEX).await?,
            Some(current.clone())
        );
    }
    let a = document(PRES_RULES, BOB, INDEX, "a");
    let b = document(PRES_RULES, BOB, INDEX, "b");
    let (ra, rb) = join2(
        s.put_document(&a, Precondition::IfNoneMatch),
        s.put_document(&b, Precondition::IfNoneMatch),
    )
    .await;
    let (ra, rb) = (ra?, rb?);
    assert!(ra ^ rb, "one creator wins ({ra}, {rb})");
    let winner = if ra { a } else { b };
    assert_eq!(
        s.get_document(PRES_RULES, BOB, INDEX).await?,
        Some(winner.clone())
    );
    let (ra, rb) = join2(
        s.remove_document(PRES_RULES, BOB, INDEX, if_match(&winner.etag)),
        s.remove_document(PRES_RULES, BOB, INDEX, if_match(&winner.etag)),
    )
    .await;
    let (ra, rb) = (ra?, rb?);
    assert!(ra ^ rb, "one remover wins ({ra}, {rb})");
    assert_eq!(s.get_document(PRES_RULES, BOB, INDEX).await?, None);
    Ok(())
}

/// list gives one owner's documents sorted by auid, then name (byte order), optionally
/// of one auid; other owners (even one whose name extends this one) are not included.
pub async fn documents_list_sorted_and_filtered<S: Documents>(s: &S) -> Result<()> {
    let written = [
        (RESOURCE_LISTS, ALICE, "index"),
        (PRES_RULES, ALICE, "index"),
        (RESOURCE_LISTS, ALICE, "Work"),
        (RESOURCE_LISTS, ALICE, "friends"),
        ("pidf-manipulation", ALICE, "index"),
        (PRES_RULES, BOB, "index"),
        (PRES_RULES, "sip:alice@example.test.evil", "index"),
        (PRES_RULES, "global", "index"),
    ];
    for (i, (auid, owner, name)) in written.iter().enumerate() {
        let d = document(auid, owner, name, &format!("e{i}"));
        assert!(s.put_document(&d, Precondition::IfNoneMatch).await?);
    }
    let keys = |docs: Vec<Document>| -> Vec<(String, String)> {
        docs.into_iter().map(|d| (d.auid, d.name)).collect()
    };
    let expected: Vec<(String, String)> = [
        ("pidf-manipulation", "index"),
        (PRES_RULES, "index"),
        (RESOURCE_LISTS, "Work"),
        (RESOURCE_LISTS, "friends"),
        (RESOURCE_LISTS, "index"),
    ]
    .iter()
    .map(|(a, n)| ((*a).to_owned(), (*n).to_owned()))
    .collect();
    assert_eq!(keys(s.list_documents(ALICE, None).await?), expected);
    assert_eq!(
        keys(s.list_documents(ALICE, Some(RESOURCE_LISTS)).await?),
        expected[2..]
    );
    let rules = s.list_documents(ALICE, Some(PRES_RULES)).await?;
    assert_eq!(rules, vec![document(PRES_RULES, ALICE, INDEX, "e1")]);
    assert!(s.list_documents(ALICE, Some("pres-rule")).await?.is_empty());
    assert!(s.list_documents(CAROL, None).await?.is_empty());
    assert_eq!(s.list_documents(BOB, None).await?.len(), 1);
    assert_eq!(s.list_documents("global", Some(PRES_RULES)).await?.len(), 1);
    Ok(())
}

/// auid, owner and name are exact strings: case and trailing space make other keys.
pub async fn documents_keys_exact<S: Documents>(s: &S) -> Result<()> {
    let d = document(PRES_RULES, ALICE, INDEX, "e1");
    s.put_document(&d, Precondition::Any).await?;
    assert_eq!(s.get_document("Pres-Rules", ALICE, INDEX).await?, None);
    assert_eq!(
        s.get_document(PRES_RULES, "sip:Alice@example.test", INDEX)
            .await?,
        None
    );
    assert_eq!(s.get_document(PRES_RULES, ALICE, "Index").await?, None);
    assert_eq!(s.get_document(PRES_RULES, ALICE, "index ").await?, None);
    let upper = document(PRES_RULES, ALICE, "Index", "e2");
    assert!(s.put_document(&upper, Precondition::IfNoneMatch).await?);
    assert_eq!(s.get_document(PRES_RULES, ALICE, INDEX).await?, Some(d));
    assert_eq!(
        s.get_document(PRES_RULES, ALICE, "Index").await?,
        Some(upper)
    );
    assert!(
        s.list_documents("sip:ALICE@example.test", None)
            .await?
            .is_empty()
    );
    Ok(())
}

/// Empty keys, an empty etag, an empty If-Match etag and a time above i64::MAX are
/// refused on every call; nothing is written and the stored document is untouched.
pub async fn documents_refuse_invalid<S: Documents>(s: &S) -> Result<()> {
    let stored = document(PRES_RULES, ALICE, INDEX, "e1");
    s.put_document(&stored, Precondition::Any).await?;
    let mut bads = Vec::new();
    for field in 0..5 {
        let mut bad = document(PRES_RULES, ALICE, INDEX, "e2");
        match field {
            0 => bad.auid.clear(),
            1 => bad.owner.clear(),
            2 => bad.name.clear(),
            3 => bad.etag.clear(),
            _ => bad.updated_ms = i64::MAX as u64 + 1,
        }
        bads.push(bad);
    }
    for bad in &bads {
        for pre in [Precondition::Any, Precondition::IfNoneMatch, if_match("e1")] {
            let r = s.put_document(bad, pre).await;
            assert!(is_invalid(&r), "{bad:?}: {r:?}");
        }
    }
    let good = document(PRES_RULES, ALICE, INDEX, "e2");
    let r = s.put_document(&good, if_match("")).await;
    assert!(is_invalid(&r), "{r:?}");
    for (auid, owner, name) in [
        ("", ALICE, INDEX),
        (PRES_RULES, "", INDEX),
        (PRES_RULES, ALICE, ""),
    ] {
        assert!(is_invalid(&s.get_document(auid, owner, name).await));
        let r = s
            .remove_document(auid, owner, name, Precondition::Any)
            .await;
        assert!(is_invalid(&r), "{r:?}");
    }
    let r = s
        .remove_document(PRES_RULES, ALICE, INDEX, if_match(""))
        .await;
    assert!(is_invalid(&r), "{r:?}");
    assert!(is_invalid(&s.list_documents("", None).await));
    assert!(is_invalid(&s.list_documents(ALICE, Some("")).await));
    assert_eq!(s.list_documents(ALICE, None).await?, vec![stored]);
    Ok(())
}

/// `documents_revision` moves with every write and removal of that auid only, and
/// `documents_of_auid` lists every owner's documents of it, sorted by owner then name.
pub async fn documents_revision_and_auid_listing<S: Documents>(s: &S) -> Result<()> {
    assert_eq!(s.documents_revision("pres-rules").await?, 0);
    let a = document("pres-rules", "sip:b@x.test", "index", "e1");
    let b = document("pres-rules", "sip:a@x.test", "index", "e2");
    let other = document("resource-lists", "sip:a@x.test", "index", "e3");
    assert!(s.put_document(&a, Precondition::Any).await?);
    let r1 = s.documents_revision("pres-rules").await?;
    assert!(r1 > 0);
    assert!(s.put_document(&b, Precondition::Any).await?);
    let r2 = s.documents_revision("pres-rules").await?;
    assert!(r2 > r1);
    assert!(s.put_document(&other, Precondition::Any).await?);
    assert_eq!(
        s.documents_revision("pres-rules").await?,
        r2,
        "another auid"
    );
    // A refused write moves nothing.
    assert!(!s.put_document(&a, Precondition::IfNoneMatch).await?);
    assert_eq!(s.documents_revision("pres-rules").await?, r2);
    let listed = s.documents_of_auid("pres-rules").await?;
    let owners: Vec<&str> = listed.iter().map(|d| d.owner.as_str()).collect();
    assert_eq!(owners, vec!["sip:a@x.test", "sip:b@x.test"]);
    assert!(
        s.remove_document("pres-rules", "sip:a@x.test", "index", Precondition::Any)
            .await?
    );
    assert!(
        s.documents_revision("pres-rules").await? > r2,
        "a removal moves it"
    );
    assert_eq!(s.documents_of_auid("pres-rules").await?.len(), 1);
    Ok(())
}

const BIG: Quota = Quota {
    max_messages: 1000,
    max_bytes: 1 << 30,
};

fn message(recipient: &str, body: &[u8], received_ms: u64) -> StoredMessage {
    StoredMessage {
        id: 0,
        recipient: recipient.to_owned(),
        sender: "\"Alice\" <sip:alice@example.test>;tag=a1".to_owned(),
        sender_aor: ALICE.to_owned(),
        content_type: "text/plain;charset=UTF-8".to_owned(),
        body: body.to_vec(),
        received_ms,
        expires_at_ms: received_ms + 1000,
        attempts: 0,
        next_attempt_ms: received_ms,
    }
}

fn stored(o: StoreOutcome) -> u64 {
    match o {
        StoreOutcome::Stored(id) => id,
        other => panic!("not stored: {other:?}"),
    }
}

/// Every field comes back as stored, bytes exact, oldest first, per recipient.
pub async fn messages_round_trip_in_storing_order<S: Messages>(s: &S) -> Result<()> {
    let mut first = message(BOB, "héllo ✓".as_bytes(), 10);
    first.body.extend_from_slice(&[0, 0xff, b'\r', b'\n']);
    first.id = 777; // ignored
    let a = stored(s.store_message(&first, BIG).await?);
    let b = stored(s.store_message(&message(BOB, b"two", 5), BIG).await?);
    let c = stored(s.store_message(&message(ALICE, b"other", 1), BIG).await?);
    assert!(a < b && b < c, "ids increase: {a} {b} {c}");
    let got = s.messages_for(BOB, 10).await?;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], StoredMessage { id: a, ..first });
    assert_eq!(got[1].body, b"two");
    assert_eq!(s.messages_for(BOB, 1).await?.len(), 1);
    assert_eq!(s.messages_for("sip:BOB@example.test", 10).await?, vec![]);
    assert_eq!(
        s.message_usage(BOB).await?,
        (2, got[0].body.len() as u64 + 3)
    );
    assert_eq!(s.message_usage("sip:nobody@example.test").await?, (0, 0));
    Ok(())
}

/// A message that would exceed either limit is refused and nothing is written.
pub async fn messages_quota_counts_messages_and_bytes<S: Messages>(s: &S) -> Result<()> {
    let q = Quota {
        max_messages: 2,
        max_bytes: 10,
    };
    stored(s.store_message(&message(BOB, b"12345", 1), q).await?);
    assert_eq!(
        s.store_message(&message(BOB, b"123456", 2), q).await?,
        StoreOutcome::OverQuota {
            messages: 1,
            bytes: 5
        }
    );
    stored(s.store_message(&message(BOB, b"12345", 3), q).await?);
    assert_eq!(
        s.store_message(&message(BOB, b"", 4), q).await?,
        StoreOutcome::OverQuota {
            messages: 2,
            bytes: 10
        }
    );
    // Another recipient has its own quota.
    stored(
        s.store_message(&message(ALICE, b"1234567890", 5), q)
            .await?,
    );
    assert_eq!(s.message_usage(BOB).await?, (2, 10));
    Ok(())
}

/// Two stores racing for the last place in a quota: exactly one wins.
pub async fn messages_concurrent_stores_respect_quota<S: Messages>(s: &S) -> Result<()> {
    let q = Quota {
        max_messages: 3,
        max_bytes: 1 << 20,
    };
    for round in 0..10u64 {
        let to = format!("sip:r{round}@example.test");
        stored(s.store_message(&message(&to, b"x", 1), q).await?);
        stored(s.store_message(&message(&to, b"y", 2), q).await?);
        let (a, b) = join2(
            s.store_message(&message(&to, b"a", 3), q),
            s.store_message(&message(&to, b"b", 3), q),
        )
        .await;
        let (a, b) = (a?, b?);
        let won = |o: StoreOutcome| matches!(o, StoreOutcome::Stored(_));
        assert!(
            won(a) ^ won(b),
            "round {round}: exactly one fits ({a:?}, {b:?})"
        );
        assert_eq!(s.message_usage(&to).await?.0, 3);
    }
    Ok(())
}

pub async fn messages_remove_and_reschedule<S: Messages>(s: &S) -> Result<()> {
    let a = stored(s.store_message(&message(BOB, b"a", 1), BIG).await?);
    let b = stored(s.store_message(&message(BOB, b"b", 2), BIG).await?);
    assert!(s.reschedule_message(a, 3, 500).await?);
    assert!(!s.reschedule_message(b + 100, 1, 1).await?);
    let got = s.messages_for(BOB, 10).await?;
    assert_eq!((got[0].attempts, got[0].next_attempt_ms), (3, 500));
    assert!(s.remove_message(a).await?);
    assert!(!s.remove_message(a).await?);
    let got = s.messages_for(BOB, 10).await?;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, b);
    Ok(())
}

/// Due: next attempt reached and not expired. Expired: taken (deleted) in id order.
pub async fn messages_due_and_expired<S: Messages>(s: &S) -> Result<()> {
    let mut m = message(BOB, b"a", 100);
    m.next_attempt_ms = 200;
    m.expires_at_ms = 1000;
    stored(s.store_message(&m, BIG).await?);
    let mut m2 = message(ALICE, b"b", 100);
    m2.next_attempt_ms = 100;
    m2.expires_at_ms = 300;
    let a2 = stored(s.store_message(&m2, BIG).await?);
    let mut m3 = message(ALICE, b"c", 100);
    m3.expires_at_ms = 300;
    let a3 = stored(s.store_message(&m3, BIG).await?);
    assert_eq!(s.due_recipients(99).await?, Vec::<String>::new());
    // Stored at all, whether due or not.
    assert_eq!(
        s.message_recipients().await?,
        vec![ALICE.to_owned(), BOB.to_owned()]
    );
    assert_eq!(s.due_recipients(150).await?, vec![ALICE.to_owned()]);
    assert_eq!(
        s.due_recipients(250).await?,
        vec![ALICE.to_owned(), BOB.to_owned()]
    );
    // At 300 Alice's messages have expired: not due.
    assert_eq!(s.due_recipients(300).await?, vec![BOB.to_owned()]);
    assert_eq!(s.take_expired_messages(299).await?, vec![]);
    let gone = s.take_expired_messages(300).await?;
    assert_eq!(gone.iter().map(|m| m.id).collect::<Vec<_>>(), vec![a2, a3]);
    assert_eq!(gone[1].body, b"c");
    assert_eq!(s.take_expired_messages(300).await?, vec![]);
    assert_eq!(s.message_recipients().await?, vec![BOB.to_owned()]);
    assert_eq!(s.messages_for(ALICE, 10).await?, vec![]);
    assert_eq!(s.messages_for(BOB, 10).await?.len(), 1);
    Ok(())
}

/// A message stored after the newest was delivered still sorts after it.
pub async fn messages_ids_never_reused<S: Messages>(s: &S) -> Result<()> {
    let a = stored(s.store_message(&message(BOB, b"a", 1), BIG).await?);
    assert!(s.remove_message(a).await?);
    let b = stored(s.store_message(&message(BOB, b"b", 2), BIG).await?);
    assert!(b > a);
    Ok(())
}

pub async fn messages_refuse_invalid<S: Messages>(s: &S) -> Result<()> {
    for i in 0..5 {
        let mut bad = message(BOB, b"x", 1);
        match i {
            0 => bad.recipient.clear(),
            1 => bad.sender.clear(),
            2 => bad.sender_aor.clear(),
            3 => bad.content_type.clear(),
            _ => bad.expires_at_ms = i64::MAX as u64 + 1,
        }
        assert!(
            matches!(
                s.store_message(&bad, BIG).await,
                Err(StoreError::Invalid { .. })
            ),
            "case {i}"
        );
    }
    assert_eq!(s.message_usage(BOB).await?, (0, 0));
    Ok(())
}

fn member(room: &str, who: &str, ms: u64) -> RoomMember {
    RoomMember {
        room: room.to_owned(),
        member: who.to_owned(),
        joined_ms: ms,
        last_active_ms: ms,
    }
}

const LOBBY: &str = "sip:lobby@chat.example.test";

pub async fn rooms_members_join_touch_leave<S: Rooms>(s: &S) -> Result<()> {
    assert!(s.put_member(&member(LOBBY, BOB, 20)).await?);
    assert!(s.put_member(&member(LOBBY, ALICE, 10)).await?);
    assert!(
        s.put_member(&member("sip:other@chat.example.test", BOB, 5))
            .await?
    );
    // A second put only moves last activity.
    assert!(!s.put_member(&member(LOBBY, BOB, 99)).await?);
    let got = s.room_members(LOBBY).await?;
    assert_eq!(
        got,
        vec![
            member(LOBBY, ALICE, 10),
            RoomMember {
                last_active_ms: 99,
                ..member(LOBBY, BOB, 20)
            }
        ]
    );
    assert!(s.remove_member(LOBBY, ALICE).await?);
    assert!(!s.remove_member(LOBBY, ALICE).await?);
    assert_eq!(s.room_members(LOBBY).await?.len(), 1);
    assert_eq!(
        s.room_members("sip:other@chat.example.test").await?.len(),
        1
    );
    Ok(())
}

pub async fn rooms_idle_members_removed<S: Rooms>(s: &S) -> Result<()> {
    s.put_member(&member(LOBBY, BOB, 100)).await?;
    s.put_member(&member(LOBBY, ALICE, 50)).await?;
    s.put_member(&member("sip:a@chat.example.test", ALICE, 10))
        .await?;
    let gone = s.remove_idle_members(100).await?;
    assert_eq!(
        gone,
        vec![
            member("sip:a@chat.example.test", ALICE, 10),
            member(LOBBY, ALICE, 50)
        ]
    );
    assert_eq!(s.room_members(LOBBY).await?, vec![member(LOBBY, BOB, 100)]);
    Ok(())
}
