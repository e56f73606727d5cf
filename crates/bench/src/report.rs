//! The figures of one run: a table for people and, as the last line, one JSON
//! object for scripts. Every figure that has a target is shown against it, by
//! wall-clock rates as the targets are defined and by CPU time, which other
//! processes on a shared machine do not skew.

use std::fmt;

use domain::Argon2Params;
use serde_json::json;

use crate::load::Measured;
use crate::pair::Pair;
use crate::table::{Column, Label, Table};
use Goal::{AtLeast, AtMost};

// The columns the measurement table and the two-instance table share.
const PER_SECOND: Column = Column::new("per second", 10, 1, Measured::per_second);
const P50: Column = Column::new("p50 ms", 8, 2, |m| m.latencies.ms(50.0));
const P99: Column = Column::new("p99 ms", 8, 2, |m| m.latencies.ms(99.0));
const COUNT: Column = Column::new("count", 7, 0, |m| m.ops as f64);
const BENCH_CPU: Column = Column::new("bench", 8, 3, Measured::bench_cpu_ms);
const DATABASE_CPU: Column = Column::new("database", 9, 3, Measured::database_cpu_ms);

/// Operation latencies, sorted, in microseconds.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<u32>);

impl Latencies {
    pub fn from_micros(mut samples: Vec<u32>) -> Self {
        samples.sort_unstable();
        Self(samples)
    }

    pub fn merge(&self, other: &Latencies) -> Self {
        Self::from_micros(self.0.iter().chain(&other.0).copied().collect())
    }

    /// Nearest-rank percentile in milliseconds.
    pub fn ms(&self, percentile: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let rank = ((percentile / 100.0) * self.0.len() as f64).ceil() as usize;
        f64::from(self.0[rank.clamp(1, self.0.len()) - 1]) / 1000.0
    }
}

pub struct Scale {
    pub small_accounts: i64,
    pub large_accounts: i64,
    pub small: Measured,
    pub large: Measured,
}

impl Scale {
    /// Time per code check at the large size ÷ at the small size.
    pub fn ratio(&self) -> f64 {
        self.large.micros_per_op() / self.small.micros_per_op()
    }

    /// The same by the server's CPU time per check.
    pub fn cpu_ratio(&self) -> f64 {
        self.large.server_cpu_ms() / self.small.server_cpu_ms()
    }
}

pub struct Results {
    /// "sqlite" or "postgres".
    pub backend: &'static str,
    /// 2 when the pair behind nginx was measured too.
    pub instances: usize,
    pub pair: Option<Pair>,
    pub cores: usize,
    pub params: Argon2Params,
    pub accounts: i64,
    pub concurrency: usize,
    pub quick: bool,
    pub load_before: String,
    pub load_after: String,
    pub rss_idle_mb: f64,
    pub rss_after_sign_ins_mb: f64,
    pub hash: Measured,
    pub healthz: Measured,
    pub sign_ins: Measured,
    pub sweep: Vec<(usize, Measured)>,
    pub code_checks: Measured,
    pub sessions_used: usize,
    pub live_sessions: i64,
    pub rss_sessions_mb: f64,
    pub scale: Scale,
}

const P1_TARGET: f64 = 0.90;
const P2_TARGET: f64 = 0.33;
const RSS_IDLE_TARGET_MB: f64 = 30.0;
const RSS_SESSIONS_TARGET_MB: f64 = 100.0;
const SCALE_TARGET: f64 = 1.20;

/// Which side of a target ratio meets it.
#[derive(Clone, Copy)]
enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

impl Goal {
    fn is_met_by(self, value: f64) -> bool {
        match self {
            AtLeast(goal) => value >= goal,
            AtMost(goal) => value <= goal,
        }
    }
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AtLeast(goal) => write!(f, "≥ {goal:.2}"),
            AtMost(goal) => write!(f, "≤ {goal:.2}"),
        }
    }
}
/// Keycloak's published sizing at m=7168,t=5,p=1.
const KEYCLOAK_SIGN_INS_PER_CORE: f64 = 15.0;

impl Results {
    pub fn p1(&self) -> f64 {
        self.sign_ins.per_second() / self.hash.per_second()
    }

    pub fn p2(&self) -> f64 {
        self.code_checks.per_second() / self.healthz.per_second()
    }

    /// P1 by CPU time: a hash's CPU ÷ a whole sign-in's (server and client). On an
    /// otherwise idle, CPU-bound machine this equals P1.
    pub fn p1_cpu(&self) -> f64 {
        self.hash.total_cpu_ms() / self.sign_ins.total_cpu_ms()
    }

    /// P2 by CPU time: a health check's CPU ÷ a code check's (server and client).
    pub fn p2_cpu(&self) -> f64 {
        self.healthz.total_cpu_ms() / self.code_checks.total_cpu_ms()
    }

    pub fn sign_ins_per_core(&self) -> f64 {
        self.sign_ins.per_second() / self.cores as f64
    }

    pub fn print(&self) {
        let p = self.params;
        let scale = &self.scale;
        println!();
        println!(
            "twostep benchmark{} on {}: {} cores, Argon2id m={} t={} p={}, {} accounts, {} clients",
            if self.quick { " (quick)" } else { "" },
            if self.backend == "postgres" {
                "PostgreSQL"
            } else {
                "SQLite"
            },
            self.cores,
            p.memory_kib,
            p.iterations,
            p.parallelism,
            thousands(self.accounts),
            self.concurrency
        );
        println!(
            "load average before {}, after {}",
            self.load_before, self.load_after
        );
        println!();
        // SQLite works inside the server process; PostgreSQL's processes get a column.
        let postgres = self.backend == "postgres";
        println!(
            "{:<40} {:>10} {:>8} {:>8} {:>8} {:>7} {:>17}",
            "", "", "", "", "", "", "CPU ms per op"
        );
        let server = Column::new("server", 8, 3, Measured::server_cpu_ms);
        let p95 = Column::new("p95 ms", 8, 2, |m| m.latencies.ms(95.0));
        let mut columns = vec![PER_SECOND, P50, p95, P99, COUNT, server, BENCH_CPU];
        if postgres {
            columns.push(DATABASE_CPU);
        }
        let table = Table {
            label: Label::Left(40),
            columns,
        };
        table.print_heading("measurement");
        let row = |name: String, m: &Measured| table.print_row(&name, m);
        row(format!("1 hash limit ({} threads)", self.cores), &self.hash);
        row("2 GET /healthz".into(), &self.healthz);
        row(
            "3 full sign-ins (page, password, code)".into(),
            &self.sign_ins,
        );
        row("4 second step only (code checks)".into(), &self.code_checks);
        for (accounts, m) in [
            (scale.small_accounts, &scale.small),
            (scale.large_accounts, &scale.large),
        ] {
            row(
                format!("7 code checks, {} accounts", thousands(accounts)),
                m,
            );
        }
        println!();
        println!("9 sign-ins by concurrency");
        let sweep = Table {
            label: Label::Right(8),
            columns: vec![
                Column::new("sign-ins/s", 12, 1, Measured::per_second),
                Column::new("p50 ms", 9, 1, |m| m.latencies.ms(50.0)),
                Column::new("p99 ms", 9, 1, |m| m.latencies.ms(99.0)),
                Column::new("count", 8, 0, |m| m.ops as f64),
                Column::new("server CPU ms", 16, 2, Measured::server_cpu_ms),
            ],
        };
        sweep.print_heading("clients");
        for (clients, m) in &self.sweep {
            sweep.print_row(&clients.to_string(), m);
        }
        if let Some(pair) = &self.pair {
            pair.print(self.concurrency);
        }
        println!();
        println!(
            "{:<40} {:>10} {:>10}  {:<7} {:>11}",
            "against the targets", "value", "target", "result", "by CPU time"
        );
        let target = |name: &str, value: String, goal: String, met: bool, cpu: String| {
            let result = if met { "met" } else { "MISSED" };
            println!("{name:<40} {value:>10} {goal:>10}  {result:<7} {cpu:>11}");
        };
        // A ratio is shown with the same ratio by CPU time.
        let ratio = |name: &str, value: f64, goal: Goal, cpu: f64| {
            let shown = (format!("{value:.3}"), goal.to_string(), format!("{cpu:.3}"));
            target(name, shown.0, shown.1, goal.is_met_by(value), shown.2);
        };
        let memory = |name: &str, mb: f64, most: f64| {
            let (value, goal) = (format!("{mb:.1} MB"), format!("≤ {most:.0} MB"));
            target(name, value, goal, mb <= most, String::new());
        };
        ratio(
            "P1 = sign-ins/s ÷ hash limit",
            self.p1(),
            AtLeast(P1_TARGET),
            self.p1_cpu(),
        );
        ratio(
            "P2 = code checks/s ÷ healthz/s",
            self.p2(),
            AtLeast(P2_TARGET),
            self.p2_cpu(),
        );
        memory("6 RSS idle", self.rss_idle_mb, RSS_IDLE_TARGET_MB);
        let sessions = thousands(self.sessions_used as i64);
        let name = format!("6 RSS, {sessions} sessions used");
        memory(&name, self.rss_sessions_mb, RSS_SESSIONS_TARGET_MB);
        let (large, small) = (short(scale.large_accounts), short(scale.small_accounts));
        let name = format!("7 scale: cost at {large} ÷ at {small}");
        ratio(
            &name,
            scale.ratio(),
            AtMost(SCALE_TARGET),
            scale.cpu_ratio(),
        );
        println!();
        println!(
            "8 sign-ins/s per core: {:.1} (Keycloak's sizing assumes {KEYCLOAK_SIGN_INS_PER_CORE:.0} at m=7168,t=5,p=1)",
            self.sign_ins_per_core()
        );
        println!(
            "  RSS after the sign-ins {:.1} MB; live sessions at the second memory reading: {}",
            self.rss_after_sign_ins_mb,
            thousands(self.live_sessions)
        );
        println!(
            "  scale, time per code check: {:.0} µs at {}, {:.0} µs at {} ({} clients)",
            scale.small.micros_per_op(),
            short(scale.small_accounts),
            scale.large.micros_per_op(),
            short(scale.large_accounts),
            self.concurrency
        );
    }

    pub fn json(&self) -> serde_json::Value {
        let figures = |m: &Measured| figures(m, json!({"p95_ms": round(m.latencies.ms(95.0), 3)}));
        let sweep: Vec<_> = self
            .sweep
            .iter()
            .map(|(clients, m)| {
                json!({
                    "clients": clients,
                    "signins_per_s": round(m.per_second(), 2),
                    "p50_ms": round(m.latencies.ms(50.0), 3),
                    "p99_ms": round(m.latencies.ms(99.0), 3),
                    "server_cpu_ms": round(m.server_cpu_ms(), 3),
                })
            })
            .collect();
        let scale = &self.scale;
        let mut out = json!({
            "backend": self.backend,
            "instances": self.instances,
            "hash_per_s": round(self.hash.per_second(), 2),
            "healthz_per_s": round(self.healthz.per_second(), 1),
            "signins_per_s": round(self.sign_ins.per_second(), 2),
            "code_checks_per_s": round(self.code_checks.per_second(), 1),
            "p1": round(self.p1(), 3),
            "p2": round(self.p2(), 3),
            "rss_idle_mb": round(self.rss_idle_mb, 1),
            "rss_10k_sessions_mb": round(self.rss_sessions_mb, 1),
            "scale_ratio": round(scale.ratio(), 3),
            "cores": self.cores,
            "signins_per_s_per_core": round(self.sign_ins_per_core(), 2),
            "p1_cpu": round(self.p1_cpu(), 3),
            "p2_cpu": round(self.p2_cpu(), 3),
            "scale_ratio_cpu": round(scale.cpu_ratio(), 3),
            "rss_after_signins_mb": round(self.rss_after_sign_ins_mb, 1),
            "argon2": {
                "memory_kib": self.params.memory_kib,
                "iterations": self.params.iterations,
                "parallelism": self.params.parallelism,
            },
            "accounts": self.accounts,
            "clients": self.concurrency,
            "quick": self.quick,
            "load_average": { "before": self.load_before, "after": self.load_after },
            "measurements": {
                "hash": figures(&self.hash),
                "healthz": figures(&self.healthz),
                "signin": figures(&self.sign_ins),
                "code_check": figures(&self.code_checks),
                "scale_small": figures(&scale.small),
                "scale_large": figures(&scale.large),
            },
            "clients_sweep": sweep,
            "sessions_used": self.sessions_used,
            "live_sessions": self.live_sessions,
            "scale": {
                "small_accounts": scale.small_accounts,
                "large_accounts": scale.large_accounts,
                "small_us_per_check": round(scale.small.micros_per_op(), 1),
                "large_us_per_check": round(scale.large.micros_per_op(), 1),
            },
            "targets_met": {
                "p1": self.p1() >= P1_TARGET,
                "p2": self.p2() >= P2_TARGET,
                "rss_idle": self.rss_idle_mb <= RSS_IDLE_TARGET_MB,
                "rss_10k_sessions": self.rss_sessions_mb <= RSS_SESSIONS_TARGET_MB,
                "scale": scale.ratio() <= SCALE_TARGET,
            },
        });
        if let Some(pair) = &self.pair {
            out["pair"] = pair.json(self.instances);
        }
        out
    }
}

impl Pair {
    fn print(&self, clients: usize) {
        println!();
        println!(
            "10 full sign-ins from {clients} clients, two instances on one database behind nginx"
        );
        println!(
            "{:<40} {:>10} {:>8} {:>8} {:>7} {:>26}",
            "", "", "", "", "", "CPU ms per sign-in"
        );
        let table = Table {
            label: Label::Left(40),
            columns: vec![
                PER_SECOND,
                P50,
                P99,
                COUNT,
                Column::new("servers", 8, 3, Measured::server_cpu_ms),
                Column::new("nginx", 8, 3, Measured::proxy_cpu_ms),
                DATABASE_CPU,
                BENCH_CPU,
            ],
        };
        table.print_heading("");
        for (name, m) in [
            ("one instance", &self.direct),
            ("one instance behind nginx", &self.one_behind_nginx),
            ("two instances behind nginx", &self.pair),
        ] {
            table.print_row(name, m);
        }
        println!(
            "pair ÷ one instance: {:.3} (by CPU time {:.3})",
            self.ratio(),
            self.cpu_ratio()
        );
    }

    fn json(&self, instances: usize) -> serde_json::Value {
        let figures =
            |m: &Measured| figures(m, json!({"nginx_cpu_ms": round(m.proxy_cpu_ms(), 4)}));
        json!({
            "instances": instances,
            "signins_per_s": round(self.pair.per_second(), 2),
            "one_instance_signins_per_s": round(self.direct.per_second(), 2),
            "one_behind_nginx_signins_per_s": round(self.one_behind_nginx.per_second(), 2),
            "ratio": round(self.ratio(), 3),
            "ratio_cpu": round(self.cpu_ratio(), 3),
            "measurements": {
                "one_instance": figures(&self.direct),
                "one_behind_nginx": figures(&self.one_behind_nginx),
                "pair": figures(&self.pair),
            },
        })
    }
}

/// The figures of a measurement that both JSON tables give, with `more`, those
/// only one of them gives.
fn figures(m: &Measured, more: serde_json::Value) -> serde_json::Value {
    let mut figures = json!({
        "per_s": round(m.per_second(), 2),
        "count": m.ops,
        "p50_ms": round(m.latencies.ms(50.0), 3),
        "p99_ms": round(m.latencies.ms(99.0), 3),
        "server_cpu_ms": round(m.server_cpu_ms(), 4),
        "bench_cpu_ms": round(m.bench_cpu_ms(), 4),
        // 0 on SQLite, which works inside the server process.
        "database_cpu_ms": round(m.database_cpu_ms(), 4),
    });
    if let (Some(all), serde_json::Value::Object(more)) = (figures.as_object_mut(), more) {
        all.extend(more);
    }
    figures
}

fn round(value: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (value * factor).round() / factor
}

/// 1000000 → "1,000,000".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// 1000 → "1k", 1000000 → "1M".
fn short(n: i64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n % 1_000 == 0 {
        format!("{}k", n / 1_000)
    } else {
        thousands(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_in_milliseconds() {
        let latencies = Latencies::from_micros((1..=100).rev().map(|ms| ms * 1000).collect());
        assert_eq!(latencies.ms(50.0), 50.0);
        assert_eq!(latencies.ms(99.0), 99.0);
        assert_eq!(latencies.ms(100.0), 100.0);
        assert_eq!(Latencies::default().ms(50.0), 0.0);
    }

    #[test]
    fn large_numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(short(1_000_000), "1M");
        assert_eq!(short(20_000), "20k");
    }
}
