//! A budget's fixed window: `Store::reserve_budget` against `Window::reserve`,
//! for an SMS budget and the reset e-mail's one-per-window budget. Budgets
//! give nothing back (a refused SMS's rollback is tested in `budgets.rs`).

use domain::budgets::{Budget, Limits, Rule, Window};
use domain::digests::SubjectDigest;
use storage::{Claim, Store};

use super::{Run, STEPS, runs};

on_both_backends!(a_budget_follows_window_reserve);

async fn a_budget_follows_window_reserve(store: Store) {
    let account_hour = |limit, window_seconds| Budget {
        rule: Rule::SmsPerAccountHour,
        limit,
        window_seconds,
    };
    let reset_email = |window_seconds| Budget {
        rule: Rule::ResetEmailPerAddress,
        limit: 1,
        window_seconds,
    };
    let defaults = Limits::default();
    let mut all = runs(
        &[account_hour(3, 60), account_hour(4, 90)],
        defaults.budget(Rule::SmsPerAccountHour),
    );
    all.extend(runs(
        &[reset_email(300), reset_email(120)],
        defaults.budget(Rule::ResetEmailPerAddress),
    ));
    for (number, (mut budget, configs, seed)) in all.into_iter().enumerate() {
        let subject = SubjectDigest::from_bytes(vec![number as u8; 32]);
        let mut run = Run::new(format!("budget, {budget:?}"), seed);
        let mut model: Option<Window> = None;
        for _ in 0..STEPS {
            if run.restart(&configs, &mut budget) {
                // Nothing else this step: the checks below read the state anew.
            } else if run.rng.percent(40) {
                let edge = model.map(|window| window.started_at + budget.window_seconds);
                run.move_clock(&[budget.window_seconds], edge);
            } else {
                run.event("a use");
                let expected = Window::reserve(model, &budget, run.now);
                run.note(expected);
                run.got_place(expected.is_ok());
                let claim = Claim {
                    budget,
                    subject: &subject,
                };
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
