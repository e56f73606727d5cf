//! Recovery codes and remembered devices: a code is used once however many
//! race for it, a new set voids the old, turning two-step verification on is
//! one transaction with its first set, and every change that must forget the
//! remembered devices does.

use domain::digests::{CodeDigest, DeviceDigest, SessionDigest};
use domain::one_time_code::CodePolicy;
use domain::secrets::KeyId;
use domain::{AccountId, CodePurpose, IssuedCode};
use storage::{Store, TurnOnTwoStep};

use crate::helpers::{
    Accounts, T0, binding, code_digest, race, two_accounts, two_accounts_with_sms,
};

on_both_backends!(
    one_recovery_code_used_by_a_hundred_at_once_is_used_once,
    a_code_is_the_accounts_own_and_a_new_set_voids_the_old,
    turning_two_step_on_stores_the_first_set_whole_or_not_at_all,
    turning_two_step_off_deletes_the_codes_and_the_devices,
    a_device_is_remembered_for_its_account_until_it_expires,
    a_new_password_and_a_used_code_forget_the_devices,
    a_key_is_needed_while_unused_codes_it_made_remain,
);

/// A server key's id, as the ring names it.
fn key(n: u8) -> KeyId {
    KeyId::parse(&format!("{n:02x}").repeat(8)).unwrap()
}

fn set(first: u8) -> Vec<CodeDigest> {
    (first..first + 10).map(code_digest).collect()
}

fn device(name: &str) -> DeviceDigest {
    DeviceDigest::of(name)
}

async fn remembered(store: &Store, name: &str, account: AccountId, now: i64) -> bool {
    store
        .device_is_remembered(&device(name), account, now)
        .await
        .unwrap()
}

async fn one_recovery_code_used_by_a_hundred_at_once_is_used_once(store: Store) {
    let Accounts { ann, .. } = two_accounts(&store).await;
    store
        .replace_recovery_codes(ann, key(1), &set(1), T0)
        .await
        .unwrap();

    let used = race(&store, 100, |store| async move {
        store
            .use_recovery_code(ann, &code_digest(5), T0 + 1)
            .await
            .unwrap()
            .is_some()
    })
    .await;

    assert_eq!(used, 1);
    assert_eq!(store.recovery_codes_left(ann).await.unwrap(), 9);
}

async fn a_code_is_the_accounts_own_and_a_new_set_voids_the_old(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    store
        .replace_recovery_codes(ann, key(1), &set(1), T0)
        .await
        .unwrap();
    store
        .replace_recovery_codes(bob, key(1), &set(1), T0)
        .await
        .unwrap();

    assert_eq!(
        store
            .use_recovery_code(ann, &code_digest(1), T0)
            .await
            .unwrap(),
        Some(9)
    );
    assert_eq!(
        store
            .use_recovery_code(ann, &code_digest(1), T0)
            .await
            .unwrap(),
        None,
        "used"
    );
    assert_eq!(
        store
            .use_recovery_code(ann, &code_digest(99), T0)
            .await
            .unwrap(),
        None,
        "not a code"
    );
    assert_eq!(
        store.recovery_codes_left(bob).await.unwrap(),
        10,
        "Bob's same digest is his own"
    );

    store
        .replace_recovery_codes(ann, key(1), &set(50), T0 + 1)
        .await
        .unwrap();
    assert_eq!(store.recovery_codes_left(ann).await.unwrap(), 10);
    assert_eq!(
        store
            .use_recovery_code(ann, &code_digest(2), T0 + 2)
            .await
            .unwrap(),
        None,
        "the old set is void"
    );
    assert_eq!(
        store
            .use_recovery_code(ann, &code_digest(50), T0 + 2)
            .await
            .unwrap(),
        Some(9)
    );
}

async fn turning_two_step_on_stores_the_first_set_whole_or_not_at_all(store: Store) {
    let Accounts { ann, .. } = two_accounts(&store).await;
    let code = IssuedCode::new(
        CodePurpose::SetUp,
        code_digest(200),
        binding(2),
        T0,
        CodePolicy::default(),
    );
    store.save_code(ann, &code, None).await.unwrap();
    store
        .remember_device(&device("old laptop"), ann, T0, T0 + 100)
        .await
        .unwrap();
    let turn_on = || async {
        store
            .turn_on_two_step(TurnOnTwoStep {
                account_id: ann,
                code: &code,
                phone_enc: b"phone".to_vec(),
                recovery_digests: &set(1),
                recovery_key_id: key(1),
                keep_session: &SessionDigest::of("the session that turns it on"),
                disconnect: &[],
                now: T0 + 1,
            })
            .await
            .is_ok_and(|on| on)
    };
    let state = || async {
        let account = store.account_by_id(ann).await.unwrap().unwrap();
        (
            account.phone_enc.is_some(),
            store.recovery_codes_left(ann).await.unwrap(),
            remembered(&store, "old laptop", ann, T0 + 1).await,
        )
    };
    let before = state().await;
    let mut points = 0;
    loop {
        store.inject_fault_at(points + 1);
        let done = turn_on().await;
        store.inject_fault_at(0);
        if done {
            break;
        }
        assert_eq!(
            state().await,
            before,
            "a fault at point {} left a trace",
            points + 1
        );
        points += 1;
        assert!(points < 30);
    }
    assert_eq!(
        points, 15,
        "before each statement after the code's claim (the number, the set's 11, the devices, the other sessions), then the commit"
    );
    assert_eq!(before, (false, 0, true));
    assert_eq!(state().await, (true, 10, false));
    assert!(!turn_on().await, "the proving code is used up");
}

async fn turning_two_step_off_deletes_the_codes_and_the_devices(store: Store) {
    let Accounts { ann, bob } = two_accounts_with_sms(&store).await;
    for account in [ann, bob] {
        store
            .replace_recovery_codes(account, key(1), &set(1), T0)
            .await
            .unwrap();
    }
    store
        .remember_device(&device("ann's laptop"), ann, T0, T0 + 100)
        .await
        .unwrap();
    store
        .remember_device(&device("bob's laptop"), bob, T0, T0 + 100)
        .await
        .unwrap();

    store.turn_off_two_step(ann).await.unwrap();

    assert_eq!(store.recovery_codes_left(ann).await.unwrap(), 0);
    assert!(!remembered(&store, "ann's laptop", ann, T0).await);
    assert_eq!(store.recovery_codes_left(bob).await.unwrap(), 10);
    assert!(remembered(&store, "bob's laptop", bob, T0).await);
}

async fn a_device_is_remembered_for_its_account_until_it_expires(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    store
        .remember_device(&device("laptop"), ann, T0, T0 + 100)
        .await
        .unwrap();

    assert!(remembered(&store, "laptop", ann, T0 + 99).await);
    assert!(
        !remembered(&store, "laptop", ann, T0 + 100).await,
        "expired"
    );
    assert!(!remembered(&store, "laptop", bob, T0).await, "bound to Ann");
    assert!(
        !remembered(&store, "phone", ann, T0).await,
        "never remembered"
    );

    assert!(store.delete_expired(T0 + 100, 60, 60).await.unwrap() >= 1);
    assert!(
        !remembered(&store, "laptop", ann, T0).await,
        "deleted once expired"
    );

    store
        .remember_device(&device("laptop"), ann, T0, T0 + 100)
        .await
        .unwrap();
    store
        .remember_device(&device("desktop"), ann, T0, T0 + 100)
        .await
        .unwrap();
    assert_eq!(store.forget_remembered_devices(ann).await.unwrap(), 2);
    assert!(!remembered(&store, "desktop", ann, T0).await);
}

async fn a_new_password_and_a_used_code_forget_the_devices(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    let remember_both = || async {
        for (name, account) in [("ann's", ann), ("bob's", bob)] {
            store
                .remember_device(&device(name), account, T0, T0 + 100)
                .await
                .unwrap();
        }
    };

    remember_both().await;
    store.set_password(ann, "new hash", T0).await.unwrap();
    assert!(!remembered(&store, "ann's", ann, T0).await);
    assert!(remembered(&store, "bob's", bob, T0).await);

    store.forget_remembered_devices(bob).await.unwrap();
    remember_both().await;
    store
        .replace_recovery_codes(ann, key(1), &set(1), T0)
        .await
        .unwrap();
    store
        .use_recovery_code(ann, &code_digest(99), T0)
        .await
        .unwrap();
    assert!(
        remembered(&store, "ann's", ann, T0).await,
        "a wrong code forgets nothing"
    );
    store
        .use_recovery_code(ann, &code_digest(1), T0)
        .await
        .unwrap();
    assert!(!remembered(&store, "ann's", ann, T0).await);
    assert!(remembered(&store, "bob's", bob, T0).await);
}

async fn a_key_is_needed_while_unused_codes_it_made_remain(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    store
        .replace_recovery_codes(ann, key(1), &set(1), T0)
        .await
        .unwrap();
    store
        .replace_recovery_codes(bob, key(2), &set(1), T0)
        .await
        .unwrap();
    let needing = |id| {
        let store = store.clone();
        async move { store.recovery_code_accounts_under(id).await.unwrap() }
    };
    assert_eq!(
        (
            needing(key(1)).await,
            needing(key(2)).await,
            needing(key(3)).await
        ),
        (1, 1, 0)
    );
    // Stamping names only codes made before codes named their key: none here.
    store
        .stamp_recovery_codes_made_by(&key(3).to_string())
        .await
        .unwrap();
    assert_eq!(needing(key(3)).await, 0);
    for digest in &set(1)[..9] {
        assert!(
            store
                .use_recovery_code(ann, digest, T0 + 1)
                .await
                .unwrap()
                .is_some()
        );
    }
    assert_eq!(needing(key(1)).await, 1, "one unused code still needs it");
    store
        .use_recovery_code(ann, &set(1)[9], T0 + 1)
        .await
        .unwrap();
    assert_eq!(needing(key(1)).await, 0, "a used set needs no key");
    store
        .replace_recovery_codes(bob, key(3), &set(1), T0 + 2)
        .await
        .unwrap();
    assert_eq!(
        (needing(key(2)).await, needing(key(3)).await),
        (0, 1),
        "a new set made under the current key frees the old one"
    );
}
