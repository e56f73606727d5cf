//! Budgets held by the store: a hundred uses at once get the limit's places
//! and no more; an SMS takes its code and all its budgets together or none;
//! the conversion guard's figures and holds.

use domain::budgets::{Budget, BudgetFull, CONVERSION_FIGURES_KEPT_SECONDS, Conversion, Rule};
use domain::digests::{CodeBinding, CodeDigest, SubjectDigest};
use domain::one_time_code::CodePolicy;
use domain::{AccountId, CodePurpose, IssuedCode};
use storage::{Claim, SmsReservation, Store};

use crate::helpers::{T0, race, two_accounts};

on_both_backends!(
    a_hundred_uses_at_once_get_the_limits_places,
    a_full_budget_says_when_its_window_ends,
    an_sms_refused_by_one_budget_takes_nothing_from_the_others,
    a_hundred_sms_at_once_get_the_tight_budgets_places_and_take_nothing_else,
    the_conversion_figures_count_the_last_codes_since_a_hold,
    housekeeping_removes_ended_windows_and_old_figures_only,
);

const HOUR: i64 = 3600;

fn budget(rule: Rule, limit: i64) -> Budget {
    Budget {
        rule,
        limit,
        window_seconds: HOUR,
    }
}

fn subject(byte: u8) -> SubjectDigest {
    SubjectDigest::from_bytes(vec![byte; 32])
}

fn issued(purpose: CodePurpose, now: i64) -> IssuedCode {
    IssuedCode::new(
        purpose,
        CodeDigest::from_bytes(vec![1; 32]),
        CodeBinding::from_bytes(vec![9; 32]),
        now,
        CodePolicy::default(),
    )
}

async fn a_hundred_uses_at_once_get_the_limits_places(store: Store) {
    let placed = race(&store, 100, |store| async move {
        let subject = subject(1);
        let claim = Claim {
            budget: budget(Rule::SmsPerNumber, 5),
            subject: &subject,
        };
        store.reserve_budget(claim, T0).await.unwrap().is_ok()
    })
    .await;
    assert_eq!(placed, 5);
    let other = subject(2);
    let claim = Claim {
        budget: budget(Rule::SmsPerNumber, 5),
        subject: &other,
    };
    assert!(
        store.reserve_budget(claim, T0).await.unwrap().is_ok(),
        "another subject has its own budget"
    );
}

async fn a_full_budget_says_when_its_window_ends(store: Store) {
    let one = subject(1);
    let claim = Claim {
        budget: budget(Rule::SignUpPerClientIp, 2),
        subject: &one,
    };
    assert!(store.reserve_budget(claim, T0).await.unwrap().is_ok());
    assert!(store.reserve_budget(claim, T0 + 60).await.unwrap().is_ok());
    assert_eq!(
        store.reserve_budget(claim, T0 + 12 * 60).await.unwrap(),
        Err(BudgetFull {
            rule: Rule::SignUpPerClientIp,
            retry_after_seconds: 48 * 60
        })
    );
    assert_eq!(
        store.reserve_budget(claim, T0 + HOUR - 1).await.unwrap(),
        Err(BudgetFull {
            rule: Rule::SignUpPerClientIp,
            retry_after_seconds: 1
        })
    );
    assert!(
        store
            .reserve_budget(claim, T0 + HOUR)
            .await
            .unwrap()
            .is_ok(),
        "a new window"
    );
}

async fn save(
    store: &Store,
    account: AccountId,
    purpose: CodePurpose,
    claims: &[Claim<'_>],
    now: i64,
) -> SmsReservation {
    store
        .save_code_within_budgets(
            account,
            &issued(purpose, now),
            None,
            IssuedCode::replaceable_if_issued_by(now),
            claims,
            "44",
        )
        .await
        .unwrap()
}

async fn an_sms_refused_by_one_budget_takes_nothing_from_the_others(store: Store) {
    let ann = two_accounts(&store).await.ann;
    let (roomy, tight) = (subject(1), subject(2));
    let claims = [
        Claim {
            budget: budget(Rule::SmsPerAccountHour, 10),
            subject: &roomy,
        },
        Claim {
            budget: budget(Rule::SmsPerNumber, 1),
            subject: &tight,
        },
    ];
    assert_eq!(
        save(&store, ann, CodePurpose::SignIn, &claims, T0).await,
        SmsReservation::Saved
    );
    assert_eq!(
        save(&store, ann, CodePurpose::SignIn, &claims, T0 + 30).await,
        SmsReservation::TooSoon
    );
    for n in 0..5 {
        assert_eq!(
            save(
                &store,
                ann,
                CodePurpose::ConnectApp,
                &claims,
                T0 + 100 + n * 60
            )
            .await,
            SmsReservation::Full(BudgetFull {
                rule: Rule::SmsPerNumber,
                retry_after_seconds: HOUR - 100 - n * 60
            })
        );
    }
    let window = store
        .budget_window(Rule::SmsPerAccountHour, &roomy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(window.count, 1, "refused codes gave their places back");
    assert_eq!(
        store.code(ann, CodePurpose::ConnectApp).await.unwrap(),
        None,
        "and no code was saved"
    );
    let figures = store.sms_conversion("44", 0, 50).await.unwrap();
    assert_eq!(
        figures,
        Conversion {
            sent: 1,
            entered: 0
        }
    );
}

/// A hundred SMS at once under one tight budget (an account's hour, say, as
/// the budget's subject is all that ties them): its ten places go, the other
/// ninety save no code and give back what they took of the roomy budget.
async fn a_hundred_sms_at_once_get_the_tight_budgets_places_and_take_nothing_else(store: Store) {
    let mut accounts = Vec::new();
    for n in 0..100 {
        let email = format!("person-{n}@example.com");
        accounts.push(store.create_account(&email, "hash", T0).await.unwrap());
    }
    let tasks: Vec<_> = accounts
        .iter()
        .map(|&account| {
            let store = store.clone();
            tokio::spawn(async move {
                let (tight, roomy) = (subject(1), subject(2));
                let claims = [
                    Claim {
                        budget: budget(Rule::SmsPerAccountHour, 10),
                        subject: &tight,
                    },
                    Claim {
                        budget: budget(Rule::SmsPerPrefix, 1000),
                        subject: &roomy,
                    },
                ];
                save(&store, account, CodePurpose::SignIn, &claims, T0).await
            })
        })
        .collect();
    let mut saved = 0;
    for task in tasks {
        match task.await.unwrap() {
            SmsReservation::Saved => saved += 1,
            SmsReservation::Full(full) => assert_eq!(full.rule, Rule::SmsPerAccountHour),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(saved, 10);
    let roomy = store
        .budget_window(Rule::SmsPerPrefix, &subject(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(roomy.count, 10, "the refused gave their places back");
    let mut codes = 0;
    for &account in &accounts {
        codes += usize::from(
            store
                .code(account, CodePurpose::SignIn)
                .await
                .unwrap()
                .is_some(),
        );
    }
    assert_eq!(codes, 10, "a code saved for each SMS let through, no other");
}

async fn the_conversion_figures_count_the_last_codes_since_a_hold(store: Store) {
    let ann = two_accounts(&store).await.ann;
    let purposes = [CodePurpose::SignIn, CodePurpose::ConnectApp];
    for n in 0..6 {
        let now = T0 + n * 60;
        let purpose = purposes[(n % 2) as usize];
        assert_eq!(
            save(&store, ann, purpose, &[], now).await,
            SmsReservation::Saved
        );
        if n % 3 == 0 {
            store.mark_sms_entered(ann, purpose, now).await.unwrap();
        }
    }
    let figures = |since, sample| {
        let store = store.clone();
        async move { store.sms_conversion("44", since, sample).await.unwrap() }
    };
    assert_eq!(
        figures(0, 50).await,
        Conversion {
            sent: 6,
            entered: 2
        }
    );
    assert_eq!(
        figures(0, 2).await,
        Conversion {
            sent: 2,
            entered: 0
        },
        "the last two only"
    );
    assert_eq!(
        figures(T0 + 3 * 60, 50).await,
        Conversion {
            sent: 3,
            entered: 1
        },
        "since a hold ended"
    );
    assert_eq!(store.sms_conversion("49", 0, 50).await.unwrap().sent, 0);

    let held = Conversion {
        sent: 6,
        entered: 2,
    };
    assert!(store.hold_sms("44", T0 + HOUR, held, T0).await.unwrap());
    assert!(
        !store
            .hold_sms("44", T0 + 2 * HOUR, held, T0 + 60)
            .await
            .unwrap(),
        "a running hold is not placed again"
    );
    assert_eq!(store.sms_held_until("44").await.unwrap(), Some(T0 + HOUR));
    assert!(
        store
            .hold_sms("44", T0 + 3 * HOUR, held, T0 + HOUR)
            .await
            .unwrap()
    );
    assert_eq!(
        store.sms_held_until("44").await.unwrap(),
        Some(T0 + 3 * HOUR)
    );
    assert_eq!(store.sms_held_until("49").await.unwrap(), None);
}

async fn housekeeping_removes_ended_windows_and_old_figures_only(store: Store) {
    let ann = two_accounts(&store).await.ann;
    let (old, young) = (subject(1), subject(2));
    let claim = |subject| Claim {
        budget: budget(Rule::SmsPerNumber, 1),
        subject,
    };
    let day = 24 * HOUR;
    store
        .reserve_budget(claim(&old), T0)
        .await
        .unwrap()
        .unwrap();
    store
        .reserve_budget(claim(&young), T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        save(&store, ann, CodePurpose::SignIn, &[], T0).await,
        SmsReservation::Saved
    );
    let held = Conversion {
        sent: 1,
        entered: 0,
    };
    assert!(store.hold_sms("44", T0 + day, held, T0).await.unwrap());

    assert_eq!(store.delete_spent_budgets(T0 + day, day).await.unwrap(), 1);
    assert!(
        store
            .budget_window(Rule::SmsPerNumber, &old)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .budget_window(Rule::SmsPerNumber, &young)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.sms_held_until("44").await.unwrap(),
        Some(T0 + day),
        "an ended hold stays while the figures before it do"
    );

    let later = T0 + day + CONVERSION_FIGURES_KEPT_SECONDS;
    assert_eq!(store.delete_spent_budgets(later, day).await.unwrap(), 3);
    assert_eq!(store.sms_conversion("44", 0, 50).await.unwrap().sent, 0);
    assert_eq!(store.sms_held_until("44").await.unwrap(), None);
}
