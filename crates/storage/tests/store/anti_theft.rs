//! Anti-Theft commands: issued once while one of a kind waits, handed to their
//! device once, answered once, and a waiting one past its day gives way.

use domain::anti_theft::{COMMAND_EXPIRY_SECONDS, CommandKind, CommandState, Location};
use storage::{AppIdentity, CommandAnswer, Store};

use crate::helpers::{Accounts, T0, digest, two_accounts};

on_both_backends!(
    a_command_of_a_kind_is_issued_once_while_it_waits_even_when_a_hundred_race,
    a_command_is_handed_to_its_own_device_once_oldest_first,
    a_command_is_answered_once_with_what_the_device_said,
    a_waiting_command_past_its_day_is_not_handed_out_and_gives_way,
);

fn phone() -> AppIdentity {
    AppIdentity {
        app_id: "photon-mobile".into(),
        app_version: "5.1.4".into(),
        device_name: "phone".into(),
        platform: Some("Android".into()),
    }
}

/// Ann's phone and Bob's phone.
async fn two_phones(store: &Store) -> (Accounts, i64, i64) {
    let accounts = two_accounts(store).await;
    let anns = store
        .create_connection(accounts.ann, &digest::token("ann"), &phone(), T0)
        .await
        .unwrap();
    let bobs = store
        .create_connection(accounts.bob, &digest::token("bob"), &phone(), T0)
        .await
        .unwrap();
    let stored = store
        .connection_by_token(&digest::token("ann"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.platform.as_deref(), Some("Android"));
    (accounts, anns, bobs)
}

async fn a_command_of_a_kind_is_issued_once_while_it_waits_even_when_a_hundred_race(store: Store) {
    let (Accounts { ann, bob }, anns, _) = two_phones(&store).await;
    let attempts: Vec<_> = (0..100)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .issue_command(ann, anns, CommandKind::Alarm, None, T0)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut issued = 0;
    for attempt in attempts {
        issued += usize::from(attempt.await.unwrap().is_some());
    }
    assert_eq!(issued, 1);
    assert!(
        store
            .issue_command(ann, anns, CommandKind::Lock, Some("Call me"), T0)
            .await
            .unwrap()
            .is_some(),
        "another kind is not held back"
    );
    assert_eq!(
        store
            .issue_command(bob, anns, CommandKind::Locate, None, T0)
            .await
            .unwrap(),
        None,
        "not to another account's device"
    );
    store.take_waiting_commands(anns, T0 + 1).await.unwrap();
    assert!(
        store
            .issue_command(ann, anns, CommandKind::Alarm, None, T0 + 2)
            .await
            .unwrap()
            .is_some(),
        "once received, another may be sent"
    );
}

async fn a_command_is_handed_to_its_own_device_once_oldest_first(store: Store) {
    let (Accounts { ann, bob }, anns, bobs) = two_phones(&store).await;
    store
        .issue_command(ann, anns, CommandKind::Lock, Some("Call me"), T0 + 2)
        .await
        .unwrap();
    store
        .issue_command(ann, anns, CommandKind::Locate, None, T0 + 1)
        .await
        .unwrap();
    store
        .issue_command(bob, bobs, CommandKind::Wipe, None, T0)
        .await
        .unwrap();
    let polls: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take_waiting_commands(anns, T0 + 10).await.unwrap() })
        })
        .collect();
    let mut handed_out = Vec::new();
    for poll in polls {
        handed_out.extend(poll.await.unwrap());
    }
    let kinds: Vec<_> = handed_out.iter().map(|c| c.kind).collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(
        handed_out
            .iter()
            .all(|c| c.state == CommandState::Received && c.received_at == Some(T0 + 10))
    );
    let again = store.take_waiting_commands(anns, T0 + 11).await.unwrap();
    assert!(again.is_empty());
    let first_poll_of_bob = store.take_waiting_commands(bobs, T0 + 10).await.unwrap();
    assert_eq!(first_poll_of_bob.len(), 1);
    assert_eq!(first_poll_of_bob[0].kind, CommandKind::Wipe);
    // Oldest first, in one poll.
    store
        .issue_command(ann, anns, CommandKind::Alarm, None, T0 + 30)
        .await
        .unwrap();
    store
        .issue_command(ann, anns, CommandKind::Locate, None, T0 + 20)
        .await
        .unwrap();
    let ordered: Vec<_> = store
        .take_waiting_commands(anns, T0 + 40)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(ordered, [CommandKind::Locate, CommandKind::Alarm]);
    let listed: Vec<_> = store
        .commands_of_account(ann, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.kind, c.message))
        .collect();
    assert_eq!(
        listed,
        [
            (CommandKind::Alarm, None),
            (CommandKind::Locate, None),
            (CommandKind::Lock, Some("Call me".to_owned())),
            (CommandKind::Locate, None)
        ],
        "newest first, the account's own"
    );
}

async fn a_command_is_answered_once_with_what_the_device_said(store: Store) {
    let (Accounts { ann, .. }, anns, bobs) = two_phones(&store).await;
    let id = store
        .issue_command(ann, anns, CommandKind::Locate, None, T0)
        .await
        .unwrap()
        .unwrap();
    let location = Location::new(52.520008, -13.404954, 25.0).unwrap();
    let done = CommandAnswer {
        state: CommandState::Done,
        reason: None,
        location: Some(location),
    };
    assert_eq!(
        store.answer_command(bobs, id, &done, T0 + 5).await.unwrap(),
        None,
        "not Bob's device"
    );
    assert_eq!(store.command_of_device(bobs, id).await.unwrap(), None);
    let answers: Vec<_> = (0..100)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let answer = CommandAnswer {
                    state: if i == 0 {
                        CommandState::Done
                    } else {
                        CommandState::Failed
                    },
                    reason: None,
                    location: (i == 0).then_some(location),
                };
                store
                    .answer_command(anns, id, &answer, T0 + 5)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut answered = Vec::new();
    for answer in answers {
        answered.extend(answer.await.unwrap());
    }
    assert_eq!(answered.len(), 1);
    let stored = store.command_of_device(anns, id).await.unwrap().unwrap();
    assert_eq!(stored, answered[0]);
    assert_eq!(stored.answered_at, Some(T0 + 5));
    if stored.state == CommandState::Done {
        assert_eq!(stored.location, Some(location));
    } else {
        assert_eq!(
            (stored.state, stored.location),
            (CommandState::Failed, None)
        );
    }
    let id = store
        .issue_command(ann, anns, CommandKind::Alarm, None, T0)
        .await
        .unwrap()
        .unwrap();
    let failed = CommandAnswer {
        state: CommandState::Failed,
        reason: Some("muted"),
        location: None,
    };
    let stored = store
        .answer_command(anns, id, &failed, T0 + 6)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.state, stored.reason.as_deref()),
        (CommandState::Failed, Some("muted"))
    );
}

async fn a_waiting_command_past_its_day_is_not_handed_out_and_gives_way(store: Store) {
    let (Accounts { ann, .. }, anns, _) = two_phones(&store).await;
    let old = store
        .issue_command(ann, anns, CommandKind::Wipe, None, T0)
        .await
        .unwrap()
        .unwrap();
    let day = T0 + COMMAND_EXPIRY_SECONDS;
    assert_eq!(
        store
            .issue_command(ann, anns, CommandKind::Wipe, None, day - 1)
            .await
            .unwrap(),
        None,
        "still waiting a second before its day is out"
    );
    assert!(
        store
            .take_waiting_commands(anns, day)
            .await
            .unwrap()
            .is_empty()
    );
    let new = store
        .issue_command(ann, anns, CommandKind::Wipe, None, day)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(new, old);
    let expired = store.command_of_device(anns, old).await.unwrap().unwrap();
    assert_eq!(expired.state, CommandState::Expired);
    let handed: Vec<_> = store
        .take_waiting_commands(anns, day + 1)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(handed, [new]);
}
