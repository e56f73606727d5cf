//! Each security change is one transaction: with a fault injected at any point
//! between its statements (or just before its commit) nothing of it happens,
//! and without one all of it does. Bob's account, the bystander, never changes.

use domain::one_time_code::CodePolicy;
use domain::{CodePurpose, IssuedCode};
use storage::{AppIdentity, Store};

use crate::helpers::{Accounts, T0, two_accounts};

on_both_backends!(
    a_password_reset_happens_whole_or_not_at_all,
    confirming_a_phone_happens_whole_or_not_at_all,
    enabling_the_authenticator_happens_whole_or_not_at_all,
    turning_two_step_off_happens_whole_or_not_at_all,
);

/// Arms a fault at each point of `change` in turn, asserting after each failed
/// attempt that `unchanged` still holds; answers how many points there were.
async fn fail_at_every_point<C, CFut, U, UFut>(store: &Store, change: C, unchanged: U) -> u32
where
    C: Fn() -> CFut,
    CFut: Future<Output = bool>,
    U: Fn() -> UFut,
    UFut: Future<Output = ()>,
{
    let mut point = 1;
    loop {
        store.inject_fault_at(point);
        let failed = !change().await;
        store.inject_fault_at(0);
        if !failed {
            // The change got past every point: it has as many as were failed.
            return point - 1;
        }
        unchanged().await;
        point += 1;
        assert!(point < 20, "a change with this many points never ends");
    }
}

fn photon() -> AppIdentity {
    AppIdentity {
        app_id: "photon".into(),
        app_version: "2.0.0".into(),
        device_name: "laptop".into(),
    }
}

async fn a_password_reset_happens_whole_or_not_at_all(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    for (account, link, session, token) in [
        (
            ann,
            &b"ann's link"[..],
            &b"ann's session"[..],
            &b"ann's token"[..],
        ),
        (bob, b"bob's link", b"bob's session", b"bob's token"),
    ] {
        store
            .create_password_reset(link, account, T0, T0 + 3600)
            .await
            .unwrap();
        store
            .mark_password_reset_verified(link, T0 + 1)
            .await
            .unwrap();
        store.create_session(session, account, T0).await.unwrap();
        store
            .create_connection(account, token, &photon(), T0)
            .await
            .unwrap();
    }
    store
        .create_password_reset(b"ann's older link", ann, T0, T0 + 3600)
        .await
        .unwrap();
    let reset = || async {
        store
            .complete_password_reset(b"ann's link", "new hash", true, T0 + 10)
            .await
            .is_ok_and(|reset| reset.is_some())
    };
    let unchanged = || async {
        for link in [&b"ann's link"[..], b"ann's older link"] {
            assert!(!store.password_reset(link).await.unwrap().unwrap().used);
        }
        let account = store.account_by_id(ann).await.unwrap().unwrap();
        assert_eq!(account.password_hash, "hash");
        assert!(store.session(b"ann's session").await.unwrap().is_some());
        assert!(
            store
                .connection_by_token(b"ann's token")
                .await
                .unwrap()
                .is_some()
        );
    };
    let points = fail_at_every_point(&store, reset, unchanged).await;
    assert_eq!(
        points, 5,
        "four statements after the link's, then the commit"
    );

    for link in [&b"ann's link"[..], b"ann's older link"] {
        assert!(store.password_reset(link).await.unwrap().unwrap().used);
    }
    let account = store.account_by_id(ann).await.unwrap().unwrap();
    assert_eq!(account.password_hash, "new hash");
    assert!(store.session(b"ann's session").await.unwrap().is_none());
    assert!(
        store
            .connection_by_token(b"ann's token")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.session(b"bob's session").await.unwrap().is_some());
    assert!(
        store
            .connection_by_token(b"bob's token")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        !store
            .password_reset(b"bob's link")
            .await
            .unwrap()
            .unwrap()
            .used
    );
}

async fn confirming_a_phone_happens_whole_or_not_at_all(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    for account in [ann, bob] {
        assert!(
            store
                .set_security_question(account, "First pet?", "answer hash")
                .await
                .unwrap()
        );
    }
    let code = IssuedCode::new(
        CodePurpose::SetUp,
        vec![1; 32],
        vec![2; 32],
        T0,
        CodePolicy::default(),
    );
    store.save_code(ann, &code, None).await.unwrap();
    let confirm = || async {
        store
            .confirm_phone(ann, &code, b"sealed phone".to_vec(), T0 + 10)
            .await
            .is_ok_and(|confirmed| confirmed)
    };
    let unchanged = || async {
        let stored = store.code(ann, CodePurpose::SetUp).await.unwrap().unwrap();
        assert!(!stored.code.used);
        let account = store.account_by_id(ann).await.unwrap().unwrap();
        assert_eq!(account.phone_enc, None);
        assert_eq!(account.security_question.as_deref(), Some("First pet?"));
        assert!(!account.security_question_disabled);
    };
    let points = fail_at_every_point(&store, confirm, unchanged).await;
    assert_eq!(points, 2, "the account's statement, then the commit");

    let stored = store.code(ann, CodePurpose::SetUp).await.unwrap().unwrap();
    assert!(stored.code.used);
    let account = store.account_by_id(ann).await.unwrap().unwrap();
    assert_eq!(account.phone_enc.as_deref(), Some(&b"sealed phone"[..]));
    assert_eq!(account.phone_confirmed_at, Some(T0 + 10));
    assert_eq!(account.security_question, None);
    assert!(account.security_question_disabled);
    let bobs = store.account_by_id(bob).await.unwrap().unwrap();
    assert_eq!(bobs.security_question.as_deref(), Some("First pet?"));
}

async fn enabling_the_authenticator_happens_whole_or_not_at_all(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    for account in [ann, bob] {
        store
            .save_authenticator_enrolment(account, b"session", b"enrolment".to_vec(), T0)
            .await
            .unwrap();
    }
    let enable = || async {
        store
            .enable_authenticator(ann, b"session", b"sealed secret".to_vec(), 500, T0 + 10)
            .await
            .is_ok_and(|enabled| enabled)
    };
    let unchanged = || async {
        assert!(
            store
                .authenticator_enrolment(ann, b"session")
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(store.authenticator(ann).await.unwrap(), None);
    };
    let points = fail_at_every_point(&store, enable, unchanged).await;
    assert_eq!(points, 2, "the authenticator's statement, then the commit");

    assert_eq!(
        store
            .authenticator_enrolment(ann, b"session")
            .await
            .unwrap(),
        None
    );
    let row = store.authenticator(ann).await.unwrap().unwrap();
    assert_eq!(row.secret_enc, b"sealed secret");
    assert_eq!(
        row.last_used_step,
        Some(500),
        "the proving code's step is claimed"
    );
    assert!(
        !store.record_authenticator_use(ann, 500).await.unwrap(),
        "so that code cannot sign in"
    );
    assert!(
        !enable().await,
        "a second confirmation of the same enrolment changes nothing"
    );
    assert!(
        store
            .authenticator_enrolment(bob, b"session")
            .await
            .unwrap()
            .is_some()
    );
}

async fn turning_two_step_off_happens_whole_or_not_at_all(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    for account in [ann, bob] {
        store
            .turn_on_sms(account, b"phone".to_vec(), T0)
            .await
            .unwrap();
        store
            .add_authenticator(account, b"secret".to_vec(), T0 + 1)
            .await
            .unwrap();
        store
            .save_authenticator_enrolment(account, b"session", b"enrolment".to_vec(), T0 + 2)
            .await
            .unwrap();
    }
    let turn_off = || async { store.turn_off_two_step(ann).await.is_ok() };
    let unchanged = || async {
        let account = store.account_by_id(ann).await.unwrap().unwrap();
        assert!(account.phone_enc.is_some());
        assert!(account.has_authenticator());
        assert!(
            store
                .authenticator_enrolment(ann, b"session")
                .await
                .unwrap()
                .is_some()
        );
    };
    let points = fail_at_every_point(&store, turn_off, unchanged).await;
    assert_eq!(points, 3, "two statements after the first, then the commit");

    let account = store.account_by_id(ann).await.unwrap().unwrap();
    assert_eq!(account.phone_enc, None);
    assert!(!account.has_authenticator());
    assert!(account.security_question_disabled, "the question stays off");
    assert_eq!(
        store
            .authenticator_enrolment(ann, b"session")
            .await
            .unwrap(),
        None
    );
    let bobs = store.account_by_id(bob).await.unwrap().unwrap();
    assert!(bobs.phone_enc.is_some() && bobs.has_authenticator());
}
