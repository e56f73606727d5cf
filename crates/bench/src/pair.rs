//! Two instances on one PostgreSQL database behind nginx, against one instance on
//! the same cores (`--instances 2`). Full sign-ins from the same clients, in
//! alternating slices: straight to the main instance (the baseline), through
//! nginx to it alone (nginx's share), and through nginx to both, round robin.
//! Round robin sends the three requests of a sign-in to both instances, so every
//! counted sign-in also shows one instance finishing what the other began.

use crate::Plan;
use crate::cpu::Meter;
use crate::error::{BenchError, Result};
use crate::flows::Http;
use crate::load::Measured;
use crate::nginx::Nginx;
use crate::run::{accounts_for, progress, report_line, sign_ins, wait_for_free_accounts, with_cpu};
use crate::server::Server;
use crate::target::Target;

pub struct Pair {
    pub direct: Measured,
    pub one_behind_nginx: Measured,
    pub pair: Measured,
}

impl Pair {
    /// Sign-ins per second of the pair ÷ of one instance on its own.
    pub fn ratio(&self) -> f64 {
        self.pair.per_second() / self.direct.per_second()
    }

    /// The same by CPU time: one instance's sign-in ÷ the pair's, everyone's CPU
    /// counted (servers, nginx, database, clients).
    pub fn cpu_ratio(&self) -> f64 {
        self.direct.total_cpu_ms() / self.pair.total_cpu_ms()
    }
}

/// Starts a second instance on `main`'s database and two nginx, measures, and
/// stops what it started; `main` keeps running. `sign_ins_per_second` (the main
/// measurement's) tells how many accounts a slice may use.
pub async fn measure(
    plan: &Plan,
    main: &Target,
    key_hex: &str,
    slices: u32,
    sign_ins_per_second: f64,
) -> Result<Pair> {
    let nginx = plan
        .nginx
        .as_deref()
        .ok_or_else(|| BenchError::new("two instances need nginx"))?;
    let data_dir = tempfile::Builder::new()
        .prefix("twostep-bench-second-")
        .tempdir()?;
    let mut second = Server::start(
        &plan.server,
        data_dir.path(),
        &main.database,
        key_hex,
        plan.params,
    )
    .await?;
    let first_address = address(&main.server.base);
    let second_address = address(&second.base);
    // The same configuration with the main instance named twice: one instance
    // behind nginx.
    let one = Nginx::start(nginx, [first_address, first_address]).await?;
    let both = Nginx::start(nginx, [first_address, second_address]).await?;
    let through_one = Http::new(&one.base, plan.concurrency)?;
    let through_both = Http::new(&both.base, plan.concurrency)?;
    let one_meter = Meter {
        proxy: Some(one.pid()),
        ..main.meter.clone()
    };
    let both_meter = Meter {
        servers: vec![main.server.pid(), second.pid()],
        proxy: Some(both.pid()),
        database: main.meter.database.clone(),
    };
    progress(format!(
        "sign-ins from {} clients: one instance, one behind nginx, two behind nginx (pids {} and {}), in {slices} alternating slices",
        plan.concurrency,
        main.server.pid(),
        second.pid()
    ));
    let time = plan.sign_in_time / slices;
    // Each round of three slices may use this many accounts, and none is handed
    // out twice in one authenticator step: the code checks before may have left
    // few in this one.
    let per_round = accounts_for(sign_ins_per_second, time * 3);
    wait_for_free_accounts(&main.pool, per_round).await;
    // One sign-in first, so that a flow broken across instances fails at once.
    through_both.sign_in(&main.pool).await?;
    let mut pair = Pair {
        direct: Measured::default(),
        one_behind_nginx: Measured::default(),
        pair: Measured::default(),
    };
    for round in 0..slices {
        if round > 0 {
            wait_for_free_accounts(&main.pool, per_round).await;
        }
        let ways = [
            ("one instance", &main.meter, &main.http, &mut pair.direct),
            (
                "one instance behind nginx",
                &one_meter,
                &through_one,
                &mut pair.one_behind_nginx,
            ),
            (
                "two instances behind nginx",
                &both_meter,
                &through_both,
                &mut pair.pair,
            ),
        ];
        for (way, meter, http, total) in ways {
            let slice = with_cpu(meter, sign_ins(http, &main.pool, plan.concurrency, time)).await?;
            report_line(&format!("sign-ins, {way}"), &slice);
            *total = total.add(&slice);
        }
    }
    both.stop().await?;
    one.stop().await?;
    second.check_running()?;
    second.stop().await?;
    Ok(pair)
}

/// `127.0.0.1:PORT` from `http://127.0.0.1:PORT`.
fn address(base: &str) -> &str {
    base.trim_start_matches("http://")
}
