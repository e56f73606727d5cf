//! Each security change is one transaction: with a fault injected at any point
//! between its statements (or just before its commit) nothing of it happens,
//! and without one all of it does. Bob's account, the bystander, never changes.

use domain::one_time_code::CodePolicy;
use domain::throttle::PasswordLimits;
use domain::{AccountId, CodePurpose, IssuedCode};
use storage::{AppIdentity, EventRecord, PasswordAttempt, Store, TurnOnTwoStep, TwoStepReset};

use crate::helpers::{
    Accounts, T0, binding, code_digest, digest, found, two_accounts, two_accounts_with_sms,
};

on_both_backends!(
    a_password_reset_happens_whole_or_not_at_all,
    confirming_a_phone_happens_whole_or_not_at_all,
    turning_two_step_on_happens_whole_or_not_at_all,
    enabling_the_authenticator_happens_whole_or_not_at_all,
    turning_two_step_off_happens_whole_or_not_at_all,
    an_operators_reset_of_two_step_happens_whole_or_not_at_all,
    disabling_an_account_happens_whole_or_not_at_all_and_once,
);

/// Arms a fault at each point of `change` in turn, asserting after each failed
/// attempt that `state` reads as it did before; then lets it run whole. Answers
/// how many points there were and the state before and after.
async fn fail_at_every_point<C, CFut, S, SFut, T>(store: &Store, change: C, state: S) -> (u32, T, T)
where
    C: Fn() -> CFut,
    CFut: Future<Output = bool>,
    S: Fn() -> SFut,
    SFut: Future<Output = T>,
    T: PartialEq + std::fmt::Debug,
{
    let before = state().await;
    let mut point = 1;
    loop {
        store.inject_fault_at(point);
        let done = change().await;
        store.inject_fault_at(0);
        if done {
            // The change got past every point: it has as many as were failed.
            return (point - 1, before, state().await);
        }
        assert_eq!(
            state().await,
            before,
            "a fault at point {point} left a trace"
        );
        point += 1;
        assert!(point < 20, "a change with this many points never ends");
    }
}

fn photon() -> AppIdentity {
    AppIdentity {
        app_id: "photon".into(),
        app_version: "2.0.0".into(),
        device_name: "laptop".into(),
        platform: None,
    }
}

/// What a password reset changes for one account: its links used, its password
/// hash, and whether its session works and its application is still connected.
async fn reset_state(
    store: &Store,
    who: &str,
    account: AccountId,
) -> (Vec<bool>, String, bool, bool, bool) {
    let mut links_used = Vec::new();
    for link in [format!("{who}'s link"), format!("{who}'s older link")] {
        let row = store
            .password_reset(&digest::reset_link(&link))
            .await
            .unwrap();
        links_used.extend(row.map(|row| row.used));
    }
    let hash = store
        .account_by_id(account)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    let session = format!("{who}'s session");
    let token = format!("{who}'s token");
    (
        links_used,
        hash,
        found(store.session(&digest::session(&session))).await,
        // Signed out, the token is kept only for Anti-Theft.
        store
            .connection_by_token(&digest::token(&token))
            .await
            .unwrap()
            .is_some_and(|connection| connection.signed_out_at.is_none()),
        // A locked password step, which only the reset ends.
        found(store.consecutive_failed_passwords(&format!("{who}@example.com"))).await,
    )
}

async fn a_password_reset_happens_whole_or_not_at_all(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    for (account, who) in [(ann, "ann"), (bob, "bob")] {
        let link = format!("{who}'s link");
        store
            .create_password_reset(&digest::reset_link(&link), account, T0, T0 + 3600)
            .await
            .unwrap();
        store
            .mark_password_reset_verified(&digest::reset_link(&link), T0 + 1)
            .await
            .unwrap();
        let session = format!("{who}'s session");
        store
            .create_session(&digest::session(&session), account, T0)
            .await
            .unwrap();
        let token = format!("{who}'s token");
        store
            .create_connection(account, &digest::token(&token), &photon(), T0)
            .await
            .unwrap();
    }
    store
        .create_password_reset(&digest::reset_link("ann's older link"), ann, T0, T0 + 3600)
        .await
        .unwrap();
    let lock = PasswordLimits {
        consecutive: 1,
        ..PasswordLimits::default()
    };
    for who in ["ann", "bob"] {
        let email = format!("{who}@example.com");
        let attempt = PasswordAttempt {
            email: &email,
            client: "192.0.2.1",
        };
        store
            .reserve_password_attempt(attempt, &lock, T0)
            .await
            .unwrap()
            .expect("the attempt that locks");
    }
    let bobs_before = reset_state(&store, "bob", bob).await;
    let reset = || async {
        store
            .complete_password_reset(&digest::reset_link("ann's link"), "new hash", true, T0 + 10)
            .await
            .is_ok_and(|reset| reset.is_some())
    };
    let (points, before, after) =
        fail_at_every_point(&store, reset, || reset_state(&store, "ann", ann)).await;
    assert_eq!(
        points, 9,
        "eight statements after the link's (other links, password, sessions, the password step's lock, applications signed out, half-finished sign-ins, challenges, remembered devices), then the commit"
    );
    assert_eq!(
        before,
        (vec![false, false], "hash".to_owned(), true, true, true)
    );
    assert_eq!(
        after,
        (vec![true, true], "new hash".to_owned(), false, false, false)
    );
    assert_eq!(reset_state(&store, "bob", bob).await, bobs_before);
}

/// Whether the set-up code is used, and the phone and question of the account.
async fn phone_state(
    store: &Store,
    account: AccountId,
) -> (Option<bool>, Option<Vec<u8>>, Option<String>, bool) {
    let code = store.code(account, CodePurpose::SetUp).await.unwrap();
    let account = store.account_by_id(account).await.unwrap().unwrap();
    (
        code.map(|stored| stored.code.used),
        account.phone_enc,
        account.security_question,
        account.security_question_disabled,
    )
}

/// The code of a phone set-up, sent to `account` at T0.
async fn set_up_code_sent(store: &Store, account: AccountId) -> IssuedCode {
    let code = IssuedCode::new(
        CodePurpose::SetUp,
        code_digest(1),
        binding(2),
        T0,
        CodePolicy::default(),
    );
    store.save_code(account, &code, None).await.unwrap();
    code
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
    let code = set_up_code_sent(&store, ann).await;
    let confirm = || async {
        store
            .confirm_phone(ann, &code, b"sealed phone".to_vec(), T0 + 10)
            .await
            .is_ok_and(|confirmed| confirmed)
    };
    let (points, before, after) =
        fail_at_every_point(&store, confirm, || phone_state(&store, ann)).await;
    assert_eq!(points, 2, "the account's statement, then the commit");
    let question = Some("First pet?".to_owned());
    assert_eq!(before, (Some(false), None, question.clone(), false));
    assert_eq!(
        after,
        (Some(true), Some(b"sealed phone".to_vec()), None, true)
    );
    assert_eq!(
        phone_state(&store, bob).await,
        (None, None, question, false)
    );
}

/// Whether `account`'s sessions "here" and "there" live, and which of its
/// connections are left, by device.
async fn sessions_and_connections(store: &Store, account: AccountId) -> (bool, bool, Vec<String>) {
    let live = |name: &'static str| async move {
        store
            .session(&digest::session(name))
            .await
            .unwrap()
            .is_some_and(|row| row.account_id == account)
    };
    let mut devices: Vec<String> = store
        .connections_of_account(account)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.device_name)
        .collect();
    devices.sort();
    (live("here").await, live("there").await, devices)
}

async fn turning_two_step_on_happens_whole_or_not_at_all(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    for (account, who) in [(ann, "ann"), (bob, "bob")] {
        for device in ["old", "new"] {
            let app = AppIdentity {
                device_name: device.into(),
                ..photon()
            };
            let token = digest::token(&format!("{who}'s {device}"));
            store
                .create_connection(account, &token, &app, T0)
                .await
                .unwrap();
        }
    }
    for (session, account) in [("here", ann), ("there", ann), ("bob's", bob)] {
        store
            .create_session(&digest::session(session), account, T0)
            .await
            .unwrap();
    }
    let old = store.connections_of_account(ann).await.unwrap();
    let old: Vec<i64> = old
        .iter()
        .filter(|row| row.device_name == "old")
        .map(|row| row.id)
        .collect();
    let code = set_up_code_sent(&store, ann).await;
    let here = digest::session("here");
    let turn_on = || async {
        store
            .turn_on_two_step(TurnOnTwoStep {
                account_id: ann,
                code: &code,
                phone_enc: b"sealed phone".to_vec(),
                recovery_digests: &[],
                recovery_key_id: domain::secrets::KeyId::parse(&"11".repeat(8)).unwrap(),
                keep_session: &here,
                disconnect: &old,
                now: T0 + 10,
            })
            .await
            .is_ok_and(|confirmed| confirmed)
    };
    let state = || async {
        (
            phone_state(&store, ann).await,
            sessions_and_connections(&store, ann).await,
        )
    };
    let (points, before, after) = fail_at_every_point(&store, turn_on, state).await;
    assert_eq!(
        points, 6,
        "the account, the recovery codes, remembered devices, the other sessions, the one old connection, then the commit"
    );
    assert_eq!(before.1, (true, true, vec!["new".into(), "old".into()]));
    assert_eq!(after.0.1, Some(b"sealed phone".to_vec()));
    assert_eq!(after.1, (true, false, vec!["new".into()]));
    assert!(found(store.session(&digest::session("bob's"))).await);
    assert_eq!(store.connections_of_account(bob).await.unwrap().len(), 2);
}

/// The enrolment of session "session" and the authenticator's secret and used step.
async fn authenticator_state(
    store: &Store,
    account: AccountId,
) -> (bool, Option<(Vec<u8>, Option<i64>)>) {
    let enrolment = store
        .authenticator_enrolment(account, &digest::session("session"))
        .await
        .unwrap();
    let row = store.authenticator(account).await.unwrap();
    (
        enrolment.is_some(),
        row.map(|row| (row.secret_enc, row.last_used_step)),
    )
}

async fn enabling_the_authenticator_happens_whole_or_not_at_all(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    for account in [ann, bob] {
        store
            .save_authenticator_enrolment(
                account,
                &digest::session("session"),
                b"enrolment".to_vec(),
                T0,
            )
            .await
            .unwrap();
    }
    let enable = || async {
        store
            .enable_authenticator(
                ann,
                &digest::session("session"),
                b"sealed secret".to_vec(),
                500,
                T0 + 10,
            )
            .await
            .is_ok_and(|enabled| enabled)
    };
    let (points, before, after) =
        fail_at_every_point(&store, enable, || authenticator_state(&store, ann)).await;
    assert_eq!(points, 2, "the authenticator's statement, then the commit");
    assert_eq!(before, (true, None));
    assert_eq!(
        after,
        (false, Some((b"sealed secret".to_vec(), Some(500)))),
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
    assert_eq!(authenticator_state(&store, bob).await, (true, None));
}

/// Whether the account has a phone, its enrolment and authenticator, whether
/// its security question is off for good, and how many recovery codes it has.
async fn two_step_state(store: &Store, account: AccountId) -> (bool, (bool, bool), bool, i64) {
    let row = store.account_by_id(account).await.unwrap().unwrap();
    let (enrolment, authenticator) = authenticator_state(store, account).await;
    (
        row.phone_enc.is_some(),
        (enrolment, authenticator.is_some()),
        row.security_question_disabled,
        store.recovery_codes_left(account).await.unwrap(),
    )
}

async fn turning_two_step_off_happens_whole_or_not_at_all(store: Store) {
    let Accounts { ann, bob } = two_accounts_with_sms(&store).await;
    for account in [ann, bob] {
        store
            .add_authenticator(account, b"secret".to_vec(), T0 + 1)
            .await
            .unwrap();
        store
            .save_authenticator_enrolment(
                account,
                &digest::session("session"),
                b"enrolment".to_vec(),
                T0 + 2,
            )
            .await
            .unwrap();
        store
            .replace_recovery_codes(
                account,
                domain::secrets::KeyId::parse("0102030405060708").unwrap(),
                &[code_digest(1), code_digest(2)],
                T0 + 3,
            )
            .await
            .unwrap();
    }
    let turn_off = || async {
        let was_on = store.turn_off_two_step(ann).await;
        assert!(was_on.as_ref().is_err() || was_on.as_ref().is_ok_and(|on| *on));
        was_on.is_ok()
    };
    let (points, before, after) =
        fail_at_every_point(&store, turn_off, || two_step_state(&store, ann)).await;
    assert_eq!(
        points, 5,
        "four statements after the first (the enrolment, the recovery codes, the remembered devices), then the commit"
    );
    assert_eq!(before, (true, (true, true), true, 2));
    assert_eq!(
        after,
        (false, (false, false), true, 0),
        "the question stays off, the recovery codes are gone"
    );
    assert_eq!(two_step_state(&store, bob).await, before);
    assert!(
        !store.turn_off_two_step(ann).await.unwrap(),
        "turning it off again finds no authenticator"
    );
}

/// Everything by which an account is in: its two-step state, whether its
/// session, token, half-finished sign-in and application challenge are still
/// there, its security events and whether it is disabled.
async fn access_state(
    store: &Store,
    who: &str,
    account: AccountId,
) -> ((bool, bool), [bool; 4], usize, bool) {
    let row = store.account_by_id(account).await.unwrap().unwrap();
    let access = [
        found(store.session(&digest::session(&format!("{who}'s session")))).await,
        found(store.connection_by_token(&digest::token(&format!("{who}'s token")))).await,
        found(store.pending_sign_in(&digest::pending(&format!("{who}'s sign-in")))).await,
        found(store.app_challenge(&digest::challenge(&format!("{who}'s challenge")))).await,
    ];
    let events = store.recent_events(account, 100).await.unwrap().len();
    (
        (row.phone_enc.is_some(), row.authenticator.is_some()),
        access,
        events,
        row.disabled_at.is_some(),
    )
}

/// Ann and Bob, each with two-step (SMS and authenticator), a session, an
/// application token, a half-finished sign-in and an application challenge.
async fn two_accounts_signed_in_everywhere(store: &Store) -> Accounts {
    let accounts = two_accounts_with_sms(store).await;
    for (account, who) in [(accounts.ann, "ann"), (accounts.bob, "bob")] {
        store
            .add_authenticator(account, b"secret".to_vec(), T0 + 1)
            .await
            .unwrap();
        store
            .create_session(&digest::session(&format!("{who}'s session")), account, T0)
            .await
            .unwrap();
        store
            .create_connection(
                account,
                &digest::token(&format!("{who}'s token")),
                &photon(),
                T0,
            )
            .await
            .unwrap();
        store
            .create_pending_sign_in(
                &digest::pending(&format!("{who}'s sign-in")),
                account,
                domain::Method::Sms,
                T0,
            )
            .await
            .unwrap();
        store
            .create_app_challenge(
                &digest::challenge(&format!("{who}'s challenge")),
                account,
                &photon(),
                T0,
            )
            .await
            .unwrap();
    }
    accounts
}

const REASON: EventRecord<'static> = EventRecord {
    kind: "two_step_reset_by_operator",
    summary: "Reset by support: lost phone",
    now: T0 + 10,
};

async fn an_operators_reset_of_two_step_happens_whole_or_not_at_all(store: Store) {
    let Accounts { ann, bob } = two_accounts_signed_in_everywhere(&store).await;
    let bobs_before = access_state(&store, "bob", bob).await;
    let reset = || async { store.reset_two_step(ann, REASON).await.is_ok() };
    let (points, before, after) =
        fail_at_every_point(&store, reset, || access_state(&store, "ann", ann)).await;
    assert_eq!(points, 10, "nine statements and the event, then the commit");
    assert_eq!(before, ((true, true), [true; 4], 0, false));
    assert_eq!(after, ((false, false), [false; 4], 1, false));
    assert_eq!(access_state(&store, "bob", bob).await, bobs_before);
    let events = store.recent_events(ann, 1).await.unwrap();
    assert_eq!(events[0].summary, "Reset by support: lost phone");
    assert_eq!(
        store.reset_two_step(ann, REASON).await.unwrap(),
        TwoStepReset {
            authenticator_was_on: false,
            sessions_ended: 0,
            tokens_revoked: 0,
        },
        "a second reset finds nothing left to end"
    );
}

async fn disabling_an_account_happens_whole_or_not_at_all_and_once(store: Store) {
    let Accounts { ann, bob } = two_accounts_signed_in_everywhere(&store).await;
    let bobs_before = access_state(&store, "bob", bob).await;
    let event = EventRecord {
        kind: "account_disabled",
        summary: "Account disabled",
        now: T0 + 10,
    };
    let disable = || async { store.disable_account(ann, event).await.is_ok() };
    let (points, before, after) =
        fail_at_every_point(&store, disable, || access_state(&store, "ann", ann)).await;
    assert_eq!(
        points, 6,
        "five statements after the claim, then the commit"
    );
    assert_eq!(before, ((true, true), [true; 4], 0, false));
    assert_eq!(
        after,
        ((true, true), [false; 4], 1, true),
        "two-step stays as it was"
    );
    assert_eq!(access_state(&store, "bob", bob).await, bobs_before);

    let disabled_at =
        |store: Store| async move { store.account_by_id(ann).await.unwrap().unwrap().disabled_at };
    assert_eq!(disabled_at(store.clone()).await, Some(T0 + 10));
    let again = EventRecord {
        now: T0 + 20,
        ..event
    };
    let won = crate::helpers::race(&store, 20, |store| async move {
        store.disable_account(ann, again).await.unwrap()
    })
    .await;
    assert_eq!(won, 0, "disabling a disabled account changes nothing");
    assert_eq!(disabled_at(store.clone()).await, Some(T0 + 10));

    let enabled = EventRecord {
        kind: "account_enabled",
        summary: "Account enabled",
        now: T0 + 30,
    };
    let won = crate::helpers::race(&store, 20, |store| async move {
        store.enable_account(ann, enabled).await.unwrap()
    })
    .await;
    assert_eq!(won, 1, "of enables racing, one changes the account");
    assert_eq!(disabled_at(store.clone()).await, None);
    assert_eq!(
        access_state(&store, "ann", ann).await.2,
        2,
        "one event each"
    );
}
