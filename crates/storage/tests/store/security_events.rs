//! The security history of an account.

use storage::{EventRow, Store};

use crate::helpers::{Accounts, T0, two_accounts};

on_both_backends!(recent_events_come_newest_first_and_only_the_accounts_own);

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
