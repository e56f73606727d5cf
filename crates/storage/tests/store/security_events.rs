//! The security history of an account.

use storage::{EventRow, Store};

use crate::helpers::{Accounts, T0, race, two_accounts};

on_both_backends!(
    recent_events_come_newest_first_and_only_the_accounts_own,
    an_sms_refusal_is_recorded_once_per_account_and_rule_an_interval,
);

async fn recent_events_come_newest_first_and_only_the_accounts_own(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    for (kind, at) in [
        ("first", T0),
        ("third", T0 + 10),
        ("fourth", T0 + 10),
        ("second", T0 + 5),
    ] {
        store
            .record_event(ann, kind, &format!("{kind} thing"), at)
            .await
            .unwrap();
    }
    store
        .record_event(bob, "bob's", "not ann's", T0 + 20)
        .await
        .unwrap();

    let events = store.recent_events(ann, 10).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["fourth", "third", "second", "first"]);
    assert_eq!(
        events[0],
        EventRow {
            kind: "fourth".into(),
            summary: "fourth thing".into(),
            created_at: T0 + 10,
        }
    );
    let latest = store.recent_events(ann, 2).await.unwrap();
    assert_eq!(latest, events[..2]);
}

async fn an_sms_refusal_is_recorded_once_per_account_and_rule_an_interval(store: Store) {
    let Accounts { ann, bob } = two_accounts(&store).await;
    const HOUR: i64 = 3600;
    let record = |account, rule: &'static str, now: i64| {
        let store = store.clone();
        async move {
            store
                .record_sms_refusal_event(account, rule, "sms_refused", rule, now, now - HOUR)
                .await
                .unwrap()
        }
    };
    let recorded = race(&store, 100, |store| async move {
        store
            .record_sms_refusal_event(ann, "sms_per_number", "sms_refused", "x", T0, T0 - HOUR)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(recorded, 1, "a hundred at once record one event");
    assert!(!record(ann, "sms_per_number", T0 + HOUR - 1).await);
    assert!(record(ann, "sms_per_prefix", T0 + 1).await, "another rule");
    assert!(
        record(bob, "sms_per_number", T0 + 1).await,
        "another account"
    );
    assert!(record(ann, "sms_per_number", T0 + HOUR).await, "an hour on");
    assert!(!record(ann, "sms_per_number", T0 + HOUR + 1).await);
    let events = store.recent_events(ann, 100).await.unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events.iter().all(|event| event.kind == "sms_refused"));
    assert_eq!(store.recent_events(bob, 100).await.unwrap().len(), 1);
}
