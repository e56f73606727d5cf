//! "A new code after 60 s" held by the store: the check and the replacement are
//! one statement, so requests sent at once — to one instance or several — send
//! one code between them.

use domain::digests::{CodeBinding, CodeDigest};
use domain::one_time_code::CodePolicy;
use domain::{CodePurpose, IssuedCode};
use storage::Store;

use crate::helpers::{T0, race, two_accounts};

on_both_backends!(
    of_twenty_requests_at_once_one_replaces_a_fresh_code,
    a_code_a_minute_old_or_used_may_be_replaced,
);

fn issued(digest: u8, now: i64) -> IssuedCode {
    IssuedCode::new(
        CodePurpose::SignIn,
        CodeDigest::from_bytes(vec![digest; 32]),
        CodeBinding::from_bytes(vec![9; 32]),
        now,
        CodePolicy::default(),
    )
}

async fn of_twenty_requests_at_once_one_replaces_a_fresh_code(store: Store) {
    let ann = two_accounts(&store).await.ann;
    let now = T0 + 100;
    let digest = std::sync::atomic::AtomicU8::new(1);
    let digest = std::sync::Arc::new(digest);
    let saved = race(&store, 20, |store| {
        let digest = digest.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async move {
            store
                .replace_code_sent_by(
                    ann,
                    &issued(digest, now),
                    None,
                    IssuedCode::replaceable_if_issued_by(now),
                )
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(saved, 1, "the first request sends a code, the others wait");
    let fresh = store.code(ann, CodePurpose::SignIn).await.unwrap().unwrap();
    let again = store
        .replace_code_sent_by(
            ann,
            &issued(99, now + 59),
            None,
            IssuedCode::replaceable_if_issued_by(now + 59),
        )
        .await
        .unwrap();
    assert!(!again, "59 s later is too soon");
    assert_eq!(
        store.code(ann, CodePurpose::SignIn).await.unwrap().unwrap(),
        fresh,
        "a refused replacement leaves the code in place"
    );
}

async fn a_code_a_minute_old_or_used_may_be_replaced(store: Store) {
    let ann = two_accounts(&store).await.ann;
    store.save_code(ann, &issued(1, T0), None).await.unwrap();
    let later = T0 + 60;
    assert!(
        store
            .replace_code_sent_by(
                ann,
                &issued(2, later),
                None,
                IssuedCode::replaceable_if_issued_by(later)
            )
            .await
            .unwrap()
    );
    let mut used = issued(3, later + 1);
    used.used = true;
    store.save_code(ann, &used, None).await.unwrap();
    let soon = later + 2;
    assert!(
        store
            .replace_code_sent_by(
                ann,
                &issued(4, soon),
                None,
                IssuedCode::replaceable_if_issued_by(soon)
            )
            .await
            .unwrap(),
        "a used code is no reason to wait"
    );
    let stored = store.code(ann, CodePurpose::SignIn).await.unwrap().unwrap();
    assert_eq!(stored.code.digest, CodeDigest::from_bytes(vec![4; 32]));
}
