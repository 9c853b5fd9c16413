//! The conformance suite: what every backend of [`Users`] and [`Registrations`] must do,
//! written once as generic async functions (DESIGN.md, house style 10).
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
use crate::model::{Binding, Ha1, User};
use crate::traits::{Registrations, Users};

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

/// replace sets an AOR's binding set exactly, in order.
pub async fn bindings_replace_and_get<S: Registrations>(s: &S) -> Result<()> {
    let two = vec![
        binding(ALICE, "sip:alice@192.0.2.1:5060", 10_000),
        binding(ALICE, "sip:alice@192.0.2.2:5060", 20_000),
    ];
    s.replace_bindings(&[(ALICE.to_owned(), two.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, two);
    // Reversed order comes back reversed.
    let reversed: Vec<Binding> = two.iter().rev().cloned().collect();
    s.replace_bindings(&[(ALICE.to_owned(), reversed.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, reversed);
    let one = vec![binding(ALICE, "sip:alice@192.0.2.3:5060", 30_000)];
    s.replace_bindings(&[(ALICE.to_owned(), one.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, one);
    // Two bindings may share a contact URI (RFC 5626: one per flow, told apart by reg-id).
    let mut flow1 = binding(ALICE, "sip:alice@192.0.2.9;ob", 40_000);
    flow1.reg_id = Some(1);
    let mut flow2 = flow1.clone();
    flow2.reg_id = Some(2);
    let flows = vec![flow1, flow2];
    s.replace_bindings(&[(ALICE.to_owned(), flows.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, flows);
    assert_eq!(s.count_bindings().await?, 2);
    Ok(())
}

/// An empty set removes the AOR's bindings and no one else's; an empty batch is a no-op.
pub async fn bindings_clear<S: Registrations>(s: &S) -> Result<()> {
    s.replace_bindings(&[
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
    s.replace_bindings(&[(ALICE.to_owned(), Vec::new())])
        .await?;
    assert!(s.bindings(ALICE).await?.is_empty());
    assert_eq!(s.bindings(BOB).await?.len(), 1);
    s.replace_bindings(&[]).await?;
    s.replace_bindings(&[(CAROL.to_owned(), Vec::new())])
        .await?;
    assert_eq!(s.count_bindings().await?, 1);
    Ok(())
}

/// One batch sets, replaces and clears several AORs at once.
pub async fn bindings_multi_aor_batch<S: Registrations>(s: &S) -> Result<()> {
    s.replace_bindings(&[(
        CAROL.to_owned(),
        vec![binding(CAROL, "sip:c1@192.0.2.1", 10_000)],
    )])
    .await?;
    let alice = vec![
        binding(ALICE, "sip:a1@192.0.2.1", 10_000),
        binding(ALICE, "sip:a2@192.0.2.1", 10_000),
    ];
    let bob = vec![binding(BOB, "sip:b1@192.0.2.1", 10_000)];
    s.replace_bindings(&[
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
    s.replace_bindings(&batch).await?;
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
    s.replace_bindings(&[
        (ALICE.to_owned(), first.clone()),
        (ALICE.to_owned(), second.clone()),
    ])
    .await?;
    assert_eq!(s.bindings(ALICE).await?, second);
    s.replace_bindings(&[
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
    s.replace_bindings(&[(ALICE.to_owned(), before.clone())])
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
        assert!(is_invalid(&s.replace_bindings(&batch).await));
    }
    assert!(is_invalid(
        &s.replace_bindings(&[(String::new(), Vec::new())]).await
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
    s.replace_bindings(&[(ALICE.to_owned(), set.clone())])
        .await?;
    assert_eq!(s.bindings(ALICE).await?, set);
    assert_eq!(s.load_live_bindings(i64::MIN).await?, set);
    Ok(())
}

/// AORs are exact strings: the registrar canonicalizes, the store does not.
pub async fn bindings_aor_exact_match<S: Registrations>(s: &S) -> Result<()> {
    let upper = "sip:Alice@example.test";
    s.replace_bindings(&[(
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
    s.replace_bindings(&[
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
    s.replace_bindings(&[
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
    s.replace_bindings(&[
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
    s.replace_bindings(&[(BOB.to_owned(), Vec::new())]).await?;
    assert_eq!(s.count_bindings().await?, 2);
    Ok(())
}
