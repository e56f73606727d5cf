//! A budget's fixed window: `Store::reserve_budget` against `Window::reserve`,
//! for an SMS budget and the reset e-mail's one-per-window budget. Budgets
//! give nothing back (a refused SMS's rollback is tested in `budgets.rs`).

use domain::budgets::{Budget, Limits, Rule, Window};
use domain::digests::SubjectDigest;
use storage::{Claim, Store};

use super::{Run, SEEDS, STEPS};

on_both_backends!(a_budget_follows_window_reserve);

async fn a_budget_follows_window_reserve(store: Store) {
    let small = [
        Budget {
            rule: Rule::SmsPerAccountHour,
            limit: 3,
            window_seconds: 60,
        },
        Budget {
            rule: Rule::SmsPerNumber,
            limit: 4,
            window_seconds: 90,
        },
        Limits::default().budget(Rule::ResetEmailPerAddress),
    ];
    let mut runs: Vec<_> = small
        .iter()
        .flat_map(|budget| SEEDS.map(|seed| (*budget, seed)))
        .collect();
    runs.push((Limits::default().budget(Rule::SmsPerAccountHour), SEEDS[0]));
    for (number, (budget, seed)) in runs.into_iter().enumerate() {
        let subject = SubjectDigest::from_bytes(vec![number as u8; 32]);
        let claim = Claim {
            budget,
            subject: &subject,
        };
        let mut run = Run::new(format!("budget, {budget:?}"), seed);
        let mut model: Option<Window> = None;
        for _ in 0..STEPS {
            if run.rng.percent(40) {
                let edge = model.map(|window| window.started_at + budget.window_seconds);
                run.move_clock(&[budget.window_seconds], edge);
            } else {
                run.event("a use");
                let expected = Window::reserve(model, &budget, run.now);
                run.note(expected);
                run.got_place(expected.is_ok());
                let reserved = store.reserve_budget(claim, run.now).await.unwrap();
                run.agree("the reservation", &reserved, &expected.map(drop));
                if let Ok(window) = expected {
                    model = Some(window);
                }
            }
            let stored = store.budget_window(budget.rule, &subject).await.unwrap();
            run.agree("the stored window", &stored, &model);
        }
        run.finish();
    }
}
