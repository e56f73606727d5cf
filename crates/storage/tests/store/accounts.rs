//! Accounts, the security question, and turning SMS on and off.

use domain::AccountId;
use storage::{Store, StoreError};

use crate::helpers::{T0, binding, code_digest, two_accounts};

on_both_backends!(
    a_new_account_is_found_by_email_and_by_id,
    a_second_account_with_the_same_email_is_refused_as_taken,
    a_new_password_records_when_it_was_changed,
    turning_on_sms_deletes_the_security_question_and_disables_it_for_good,
    changing_the_phone_number_keeps_two_step_on,
);

/// Ann's account alone, with the password hash "hash-1".
async fn create_ann(store: &Store) -> AccountId {
    store
        .create_account("ann@example.com", "hash-1", T0)
        .await
        .unwrap()
}

async fn a_new_account_is_found_by_email_and_by_id(store: Store) {
    let id = create_ann(&store).await;
    let by_email = store
        .account_by_email("ann@example.com")
        .await
        .unwrap()
        .expect("found by e-mail");
    let by_id = store.account_by_id(id).await.unwrap().expect("found by id");
    assert_eq!(by_email, by_id);
    assert_eq!(by_id.id, id);
    assert_eq!(by_id.email, "ann@example.com");
    assert_eq!(by_id.password_hash, "hash-1");
    assert_eq!((by_id.created_at, by_id.password_changed_at), (T0, T0));
    assert_eq!(by_id.phone_enc, None);
    assert_eq!(by_id.phone_confirmed_at, None);
    assert_eq!(by_id.security_question, None);
    assert_eq!(by_id.security_answer_hash, None);
    assert!(!by_id.security_question_disabled);
    assert!(!by_id.has_authenticator());

    assert!(
        store
            .account_by_email("bob@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .account_by_id(AccountId::new(id.get() + 1))
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_second_account_with_the_same_email_is_refused_as_taken(store: Store) {
    let first = create_ann(&store).await;
    let second = store
        .create_account("ann@example.com", "hash-2", T0 + 1)
        .await;
    assert!(matches!(second, Err(StoreError::EmailTaken)), "{second:?}");
    let account = store.account_by_id(first).await.unwrap().unwrap();
    assert_eq!(account.password_hash, "hash-1", "the first account is kept");
    let other = store
        .create_account("bob@example.com", "hash-3", T0 + 2)
        .await
        .unwrap();
    assert_ne!(other, first);
}

async fn a_new_password_records_when_it_was_changed(store: Store) {
    let id = create_ann(&store).await;
    store.set_password(id, "hash-2", T0 + 100).await.unwrap();
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(account.password_hash, "hash-2");
    assert_eq!(account.password_changed_at, T0 + 100);
    assert_eq!(account.created_at, T0);
}

async fn turning_on_sms_deletes_the_security_question_and_disables_it_for_good(store: Store) {
    let id = two_accounts(&store).await.ann;
    assert!(
        store
            .set_security_question(id, "First pet?", "answer-hash")
            .await
            .unwrap()
    );
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(account.security_question.as_deref(), Some("First pet?"));
    assert_eq!(account.security_answer_hash.as_deref(), Some("answer-hash"));

    store
        .turn_on_sms(id, b"sealed phone".to_vec(), T0 + 10)
        .await
        .unwrap();
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(account.phone_enc.as_deref(), Some(&b"sealed phone"[..]));
    assert_eq!(account.phone_confirmed_at, Some(T0 + 10));
    assert_eq!(account.security_question, None);
    assert_eq!(account.security_answer_hash, None);
    assert!(account.security_question_disabled);
    assert!(
        !store
            .set_security_question(id, "Street?", "other-hash")
            .await
            .unwrap()
    );

    assert!(!store.turn_off_two_step(id).await.unwrap());
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(account.phone_enc, None);
    assert_eq!(account.phone_confirmed_at, None);
    assert!(account.security_question_disabled, "disabled for good");
    assert!(
        !store
            .set_security_question(id, "Street?", "other-hash")
            .await
            .unwrap()
    );
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(account.security_question, None);
}

async fn changing_the_phone_number_keeps_two_step_on(store: Store) {
    let id = two_accounts(&store).await.ann;
    store
        .turn_on_sms(id, b"old phone".to_vec(), T0)
        .await
        .unwrap();
    let code = domain::IssuedCode::new(
        domain::CodePurpose::ChangeNumber,
        code_digest(1),
        binding(2),
        T0 + 40,
        domain::one_time_code::CodePolicy::default(),
    );
    store.save_code(id, &code, None).await.unwrap();
    assert!(
        store
            .confirm_phone(id, &code, b"new phone".to_vec(), T0 + 50)
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirm_phone(id, &code, b"other phone".to_vec(), T0 + 51)
            .await
            .unwrap(),
        "the code confirms one number once"
    );
    let account = store.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(account.phone_enc.as_deref(), Some(&b"new phone"[..]));
    assert_eq!(account.phone_confirmed_at, Some(T0 + 50));
    assert!(account.security_question_disabled);
}
