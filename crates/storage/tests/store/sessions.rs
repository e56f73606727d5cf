//! Sessions, half-finished sign-ins, and the housekeeping that ends them.

use domain::digests::{PendingSignInDigest, SessionDigest};
use domain::one_time_code::CodePolicy;
use domain::{AccountId, CodePurpose, IssuedCode, Method};
use storage::{
    FinishSignIn, PendingSignInRow, SessionListRow, SessionOrigin, SessionRow, SignInFinish, Store,
};

use crate::helpers::{Accounts, T0, binding, code_digest, digest, race, two_accounts};

on_both_backends!(
    a_session_is_created_touched_confirmed_and_deleted,
    signing_out_everywhere_can_keep_the_current_session,
    a_half_finished_sign_in_is_deleted_only_once,
    a_half_finished_sign_in_comes_with_its_account_in_one_query,
    racing_completions_of_one_sign_in_never_both_win,
    housekeeping_deletes_only_what_has_expired,
    finishing_a_sign_in_claims_the_step_consumes_it_and_starts_the_session,
    a_finish_that_loses_either_claim_changes_nothing,
    racing_finishes_of_one_sign_in_start_one_session,
    a_session_is_listed_with_where_it_was_started,
    one_session_is_ended_only_by_its_own_account,
);

/// Ann's account, with her half-finished sign-in "pending" by `method`.
async fn ann_signing_in(store: &Store, method: Method) -> AccountId {
    let id = two_accounts(store).await.ann;
    store
        .create_pending_sign_in(&digest::pending("pending"), id, method, T0)
        .await
        .unwrap();
    id
}

fn finish<'a>(
    pending: &'a PendingSignInDigest,
    account_id: AccountId,
    step: Option<i64>,
    session: &'a SessionDigest,
) -> FinishSignIn<'a> {
    FinishSignIn {
        pending_digest: pending,
        account_id,
        authenticator_step: step,
        session_digest: session,
        remember_device: None,
        replaced_session_digest: None,
        origin: SessionOrigin {
            user_agent: Some("Firefox/133.0"),
            ip_address: Some("192.0.2.7"),
        },
        now: T0 + 5,
    }
}

async fn finishing_a_sign_in_claims_the_step_consumes_it_and_starts_the_session(store: Store) {
    let old = digest::session("old");
    let pending = digest::pending("pending");
    let new = digest::session("new");
    let id = ann_signing_in(&store, Method::Authenticator).await;
    store
        .add_authenticator(id, b"sealed".to_vec(), T0)
        .await
        .unwrap();
    store.create_session(&old, id, T0).await.unwrap();

    let outcome = store
        .finish_sign_in(&FinishSignIn {
            replaced_session_digest: Some(&old),
            ..finish(&pending, id, Some(100), &new)
        })
        .await
        .unwrap();

    assert_eq!(outcome, SignInFinish::SignedIn);
    assert_eq!(store.pending_sign_in(&pending).await.unwrap(), None);
    assert_eq!(
        store.session(&old).await.unwrap(),
        None,
        "the old session is replaced"
    );
    let session = store.session(&new).await.unwrap().unwrap();
    assert_eq!((session.account_id, session.created_at), (id, T0 + 5));
    let authenticator = store.authenticator(id).await.unwrap().unwrap();
    assert_eq!(authenticator.last_used_step, Some(100));
    assert_eq!(store.count_sessions().await.unwrap(), 1);
}

async fn a_finish_that_loses_either_claim_changes_nothing(store: Store) {
    let [pending, no_such] = ["pending", "no such"].map(digest::pending);
    let [s1, s2, s3] = ["s1", "s2", "s3"].map(digest::session);
    let Accounts {
        ann: id,
        bob: other,
    } = two_accounts(&store).await;
    pending_authenticator_sign_in(&store, id, 100).await;

    // Step 100 is used: the sign-in stays pending and no session starts.
    let replayed = store
        .finish_sign_in(&finish(&pending, id, Some(100), &s1))
        .await
        .unwrap();
    assert_eq!(replayed, SignInFinish::CodeAlreadyUsed);
    assert!(store.pending_sign_in(&pending).await.unwrap().is_some());
    assert_eq!(store.count_sessions().await.unwrap(), 0);

    // A sign-in that is gone (or another account's) leaves the step unclaimed.
    let gone = store
        .finish_sign_in(&finish(&pending, other, None, &s2))
        .await
        .unwrap();
    assert_eq!(gone, SignInFinish::SignInGone);
    let missing = store
        .finish_sign_in(&finish(&no_such, id, Some(101), &s3))
        .await
        .unwrap();
    assert_eq!(missing, SignInFinish::SignInGone);
    let authenticator = store.authenticator(id).await.unwrap().unwrap();
    assert_eq!(
        authenticator.last_used_step,
        Some(100),
        "rolled back with the rest"
    );
    assert_eq!(store.count_sessions().await.unwrap(), 0);
    assert!(store.pending_sign_in(&pending).await.unwrap().is_some());
}

async fn racing_finishes_of_one_sign_in_start_one_session(store: Store) {
    let id = ann_signing_in(&store, Method::Sms).await;
    let sessions: Vec<SessionDigest> = (0..8)
        .map(|i| digest::session(&format!("session {i}")))
        .collect();
    let outcomes = finish_in_parallel_tasks(&store, &sessions, id).await;
    let signed_in = outcomes
        .iter()
        .filter(|o| **o == SignInFinish::SignedIn)
        .count();
    assert_eq!(signed_in, 1, "{outcomes:?}");
    assert_eq!(store.count_sessions().await.unwrap(), 1);
}

async fn finish_in_parallel_tasks(
    store: &Store,
    sessions: &[SessionDigest],
    id: AccountId,
) -> Vec<SignInFinish> {
    let pending = digest::pending("pending");
    let mut tasks = Vec::new();
    for session in sessions {
        let store = store.clone();
        let (session, pending) = (session.clone(), pending.clone());
        tasks.push(tokio::spawn(async move {
            store
                .finish_sign_in(&finish(&pending, id, None, &session))
                .await
                .unwrap()
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

async fn a_session_is_created_touched_confirmed_and_deleted(store: Store) {
    let session = digest::session("session");
    let other = digest::session("other");
    let id = two_accounts(&store).await.ann;
    store.create_session(&session, id, T0).await.unwrap();
    assert_eq!(
        store.session(&session).await.unwrap(),
        Some(SessionRow {
            account_id: id,
            created_at: T0,
            last_seen_at: T0,
            password_confirmed_at: None,
        })
    );
    assert_eq!(store.session(&other).await.unwrap(), None);

    store.touch_session(&session, T0 + 60).await.unwrap();
    store
        .confirm_password_in_session(&session, T0 + 70)
        .await
        .unwrap();
    let row = store.session(&session).await.unwrap().unwrap();
    assert_eq!(row.created_at, T0);
    assert_eq!(row.last_seen_at, T0 + 60);
    assert_eq!(row.password_confirmed_at, Some(T0 + 70));
    assert_eq!(store.count_sessions().await.unwrap(), 1);

    store.delete_session(&session).await.unwrap();
    assert_eq!(store.session(&session).await.unwrap(), None);
    assert_eq!(store.count_sessions().await.unwrap(), 0);
}

async fn signing_out_everywhere_can_keep_the_current_session(store: Store) {
    let [ann_1, ann_2, ann_3] = ["ann 1", "ann 2", "ann 3"].map(digest::session);
    let bob_1 = digest::session("bob 1");
    let Accounts { ann, bob } = two_accounts(&store).await;
    for session in [&ann_1, &ann_2, &ann_3] {
        store.create_session(session, ann, T0).await.unwrap();
    }
    store.create_session(&bob_1, bob, T0).await.unwrap();

    assert_eq!(
        store
            .delete_sessions_of_account(ann, Some(&ann_1))
            .await
            .unwrap(),
        2
    );
    assert!(store.session(&ann_1).await.unwrap().is_some());
    assert!(store.session(&ann_2).await.unwrap().is_none());
    assert!(store.session(&ann_3).await.unwrap().is_none());
    assert!(store.session(&bob_1).await.unwrap().is_some());

    assert_eq!(
        store.delete_sessions_of_account(ann, None).await.unwrap(),
        1
    );
    assert_eq!(store.count_sessions().await.unwrap(), 1, "bob's remains");
}

async fn a_half_finished_sign_in_is_deleted_only_once(store: Store) {
    let pending = digest::pending("pending");
    let id = ann_signing_in(&store, Method::Authenticator).await;
    assert_eq!(
        store.pending_sign_in(&pending).await.unwrap(),
        Some(PendingSignInRow {
            account_id: id,
            method: Method::Authenticator,
            created_at: T0,
        })
    );
    store
        .set_pending_method(&pending, Method::Sms)
        .await
        .unwrap();
    assert_eq!(
        store
            .pending_sign_in(&pending)
            .await
            .unwrap()
            .unwrap()
            .method,
        Method::Sms
    );

    assert!(store.delete_pending_sign_in(&pending).await.unwrap());
    assert!(!store.delete_pending_sign_in(&pending).await.unwrap());
    assert_eq!(store.pending_sign_in(&pending).await.unwrap(), None);
}

async fn a_half_finished_sign_in_comes_with_its_account_in_one_query(store: Store) {
    let pending = digest::pending("pending");
    let id = two_accounts(&store).await.ann;
    // What the account's own query reads, to compare with the joined one.
    let account_authenticator = || async {
        store
            .account_by_id(id)
            .await
            .unwrap()
            .unwrap()
            .authenticator
    };
    assert_eq!(account_authenticator().await, None);
    pending_authenticator_sign_in(&store, id, 7).await;
    let (row, account) = store
        .pending_sign_in_with_account(&pending)
        .await
        .unwrap()
        .expect("the sign-in and its account");
    assert_eq!(Some(row), store.pending_sign_in(&pending).await.unwrap());
    assert_eq!(
        account.authenticator,
        store.authenticator(id).await.unwrap()
    );
    assert_eq!(account.authenticator.unwrap().last_used_step, Some(7));
    assert_eq!(
        account_authenticator().await,
        store.authenticator(id).await.unwrap()
    );

    store.delete_pending_sign_in(&pending).await.unwrap();
    assert!(
        store
            .pending_sign_in_with_account(&pending)
            .await
            .unwrap()
            .is_none()
    );
}

async fn racing_completions_of_one_sign_in_never_both_win(store: Store) {
    ann_signing_in(&store, Method::Sms).await;
    let won = race(&store, 6, |store| async move {
        let pending = digest::pending("pending");
        store.delete_pending_sign_in(&pending).await.unwrap()
    })
    .await;
    assert_eq!(won, 1);
}

async fn housekeeping_deletes_only_what_has_expired(store: Store) {
    let [idle, live, old, enrolling] = ["idle", "live", "old", "enrolling"].map(digest::session);
    let [pending_old, pending_live] = ["pending old", "pending live"].map(digest::pending);
    let [reset_expired, reset_live, reset_used] =
        ["reset expired", "reset live", "reset used"].map(digest::reset_link);
    const IDLE: i64 = 30 * 60;
    const ABSOLUTE: i64 = 12 * 3600;
    let now = T0 + 100_000;
    let Accounts { ann, bob } = two_accounts(&store).await;

    // Sessions: idle for exactly the timeout; live; old though recently used.
    store.create_session(&idle, ann, now - IDLE).await.unwrap();
    store.create_session(&live, ann, now - IDLE).await.unwrap();
    store.touch_session(&live, now - IDLE + 1).await.unwrap();
    store
        .create_session(&old, ann, now - ABSOLUTE)
        .await
        .unwrap();
    store.touch_session(&old, now).await.unwrap();

    store
        .create_pending_sign_in(&pending_old, ann, Method::Sms, now - 600)
        .await
        .unwrap();
    store
        .create_pending_sign_in(&pending_live, ann, Method::Sms, now - 599)
        .await
        .unwrap();

    let policy = CodePolicy::default();
    let expired_code = IssuedCode::new(
        CodePurpose::SignIn,
        code_digest(1),
        binding(2),
        now - 600,
        policy,
    );
    let live_code = IssuedCode::new(
        CodePurpose::SetUp,
        code_digest(1),
        binding(2),
        now - 599,
        policy,
    );
    store.save_code(ann, &expired_code, None).await.unwrap();
    store.save_code(ann, &live_code, None).await.unwrap();

    store
        .create_password_reset(&reset_expired, ann, now - 3600, now)
        .await
        .unwrap();
    store
        .create_password_reset(&reset_live, ann, now - 10, now + 3590)
        .await
        .unwrap();
    store
        .create_password_reset(&reset_used, bob, now - 10, now + 3590)
        .await
        .unwrap();
    assert!(store.consume_password_reset(&reset_used).await.unwrap());

    store
        .save_authenticator_enrolment(ann, &enrolling, b"secret".to_vec(), now - 600)
        .await
        .unwrap();
    store
        .save_authenticator_enrolment(bob, &enrolling, b"secret".to_vec(), now - 599)
        .await
        .unwrap();

    let deleted = store.delete_expired(now, IDLE, ABSOLUTE).await.unwrap();
    assert_eq!(deleted, 2 + 1 + 1 + 2 + 1);

    assert!(store.session(&idle).await.unwrap().is_none());
    assert!(store.session(&old).await.unwrap().is_none());
    assert!(store.session(&live).await.unwrap().is_some());
    assert_eq!(store.count_sessions().await.unwrap(), 1);
    assert!(store.pending_sign_in(&pending_old).await.unwrap().is_none());
    assert!(
        store
            .pending_sign_in(&pending_live)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .code(ann, CodePurpose::SignIn)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.code(ann, CodePurpose::SetUp).await.unwrap().is_some());
    assert!(
        store
            .password_reset(&reset_expired)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.password_reset(&reset_used).await.unwrap().is_none());
    assert!(store.password_reset(&reset_live).await.unwrap().is_some());
    assert!(
        store
            .authenticator_enrolment(ann, &enrolling)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .authenticator_enrolment(bob, &enrolling)
            .await
            .unwrap()
            .is_some()
    );

    assert_eq!(store.delete_expired(now, IDLE, ABSOLUTE).await.unwrap(), 0);
}

/// Ann's half-finished sign-in "pending" by authenticator, whose app last
/// had `used_step` accepted.
async fn pending_authenticator_sign_in(store: &Store, id: AccountId, used_step: i64) {
    let pending = digest::pending("pending");
    store
        .add_authenticator(id, b"sealed secret".to_vec(), T0)
        .await
        .unwrap();
    assert!(store.record_authenticator_use(id, used_step).await.unwrap());
    store
        .create_pending_sign_in(&pending, id, Method::Authenticator, T0)
        .await
        .unwrap();
}

async fn a_session_is_listed_with_where_it_was_started(store: Store) {
    let pending = digest::pending("pending");
    let [signed_in, started, seeded] = ["signed in", "started", "seeded"].map(digest::session);
    let id = ann_signing_in(&store, Method::Sms).await;
    let bob = store
        .account_by_email("bob@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    store
        .finish_sign_in(&finish(&pending, id, None, &signed_in))
        .await
        .unwrap();
    store
        .start_session(
            &started,
            id,
            T0 + 1,
            Some("Chrome/131"),
            Some("2001:db8::1"),
        )
        .await
        .unwrap();
    store.create_session(&seeded, id, T0 + 2).await.unwrap();
    store
        .start_session(&digest::session("bob's"), bob, T0, None, None)
        .await
        .unwrap();
    store.touch_session(&started, T0 + 120).await.unwrap();

    let listed = store.sessions_of_account(id).await.unwrap();
    assert_eq!(
        listed,
        vec![
            SessionListRow {
                id_digest: started,
                created_at: T0 + 1,
                last_seen_at: T0 + 120,
                user_agent: Some("Chrome/131".into()),
                ip_address: Some("2001:db8::1".into()),
            },
            SessionListRow {
                id_digest: signed_in,
                created_at: T0 + 5,
                last_seen_at: T0 + 5,
                user_agent: Some("Firefox/133.0".into()),
                ip_address: Some("192.0.2.7".into()),
            },
            SessionListRow {
                id_digest: seeded,
                created_at: T0 + 2,
                last_seen_at: T0 + 2,
                user_agent: None,
                ip_address: None,
            },
        ],
        "the most recently active first; bob's is not among them"
    );
}

async fn one_session_is_ended_only_by_its_own_account(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    let [ann_1, ann_2] = ["ann 1", "ann 2"].map(digest::session);
    for session in [&ann_1, &ann_2] {
        store.create_session(session, ann, T0).await.unwrap();
    }
    assert!(
        !store.end_session_of_account(bob, &ann_2).await.unwrap(),
        "bob cannot end ann's session"
    );
    assert!(store.session(&ann_2).await.unwrap().is_some());
    assert!(store.end_session_of_account(ann, &ann_2).await.unwrap());
    assert!(
        !store.end_session_of_account(ann, &ann_2).await.unwrap(),
        "an ended session ends once"
    );
    assert!(store.session(&ann_2).await.unwrap().is_none());
    assert!(store.session(&ann_1).await.unwrap().is_some());
}
