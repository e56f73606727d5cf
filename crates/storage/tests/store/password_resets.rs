//! Password reset links: each used once, and using one uses up the others.

use domain::digests::ResetLinkDigest;
use storage::{PasswordResetRow, Store};

use crate::helpers::{Accounts, T0, digest, race, two_accounts};

on_both_backends!(
    a_reset_link_is_used_once_and_takes_the_older_links_with_it,
    racing_uses_of_one_reset_link_never_both_win,
);

async fn a_reset_link_is_used_once_and_takes_the_older_links_with_it(store: Store) {
    let [older, newer, bobs, unknown] =
        ["older", "newer", "bob's", "unknown"].map(digest::reset_link);
    let Accounts { ann, bob } = two_accounts(&store).await;
    store
        .create_password_reset(&older, ann, T0, T0 + 3600)
        .await
        .unwrap();
    store
        .create_password_reset(&newer, ann, T0 + 10, T0 + 3610)
        .await
        .unwrap();
    store
        .create_password_reset(&bobs, bob, T0, T0 + 3600)
        .await
        .unwrap();
    assert_eq!(
        store.password_reset(&older).await.unwrap(),
        Some(PasswordResetRow {
            account_id: ann,
            created_at: T0,
            expires_at: T0 + 3600,
            verified_at: None,
            used: false,
            wrong_answers: 0,
        })
    );
    for expected in 1..=2 {
        assert_eq!(
            store.reserve_reset_answer(&older, T0 + 1).await.unwrap(),
            Some(expected)
        );
    }
    assert_eq!(link(&store, &older).await.wrong_answers, 2);
    assert_eq!(link(&store, &newer).await.wrong_answers, 0);

    store
        .mark_password_reset_verified(&newer, T0 + 20)
        .await
        .unwrap();
    assert_eq!(link(&store, &newer).await.verified_at, Some(T0 + 20));

    assert!(store.consume_password_reset(&newer).await.unwrap());
    assert!(!store.consume_password_reset(&newer).await.unwrap());
    assert!(
        !store.consume_password_reset(&older).await.unwrap(),
        "used up with the newer one"
    );
    assert!(store.password_reset(&older).await.unwrap().unwrap().used);
    assert!(!store.password_reset(&bobs).await.unwrap().unwrap().used);
    assert!(!store.consume_password_reset(&unknown).await.unwrap());
    assert_eq!(store.password_reset(&unknown).await.unwrap(), None);
}

async fn racing_uses_of_one_reset_link_never_both_win(store: Store) {
    let link = digest::reset_link("link");
    let id = two_accounts(&store).await.ann;
    store
        .create_password_reset(&link, id, T0, T0 + 3600)
        .await
        .unwrap();
    let won = race(&store, 6, |store| async move {
        let link = digest::reset_link("link");
        store.consume_password_reset(&link).await.unwrap()
    })
    .await;
    assert_eq!(won, 1);
}

async fn link(store: &Store, token_digest: &ResetLinkDigest) -> PasswordResetRow {
    store.password_reset(token_digest).await.unwrap().unwrap()
}
