//! Whose CPU time a measurement counts: the twostep processes, this benchmark,
//! nginx when it is in front, and on PostgreSQL the database's processes that
//! serve the run's database (SQLite works inside the server process, so there
//! the server's figure already holds it).

use std::collections::HashMap;
use std::time::Duration;

use sqlx::postgres::PgPool;

use crate::error::Result;
use crate::load::process_cpu;

/// The processes to read before and after a measurement.
#[derive(Clone, Default)]
pub struct Meter {
    pub servers: Vec<u32>,
    /// nginx's master process; its workers are found as its children.
    pub proxy: Option<u32>,
    /// The database connection that reads `pg_stat_activity`, and the run's database.
    pub database: Option<(PgPool, String)>,
}

/// CPU time used so far, per process; a difference of two is a measurement's.
pub struct Reading {
    server: Duration,
    bench: Duration,
    proxy: Duration,
    database: HashMap<u32, Duration>,
}

/// What a measurement cost, by whom.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spent {
    pub server: Duration,
    pub bench: Duration,
    pub proxy: Duration,
    pub database: Duration,
}

impl Meter {
    pub async fn read(&self) -> Result<Reading> {
        let mut server = Duration::ZERO;
        for pid in &self.servers {
            server += process_cpu(&pid.to_string())?;
        }
        let mut proxy = Duration::ZERO;
        if let Some(master) = self.proxy {
            for pid in std::iter::once(master).chain(children(master)) {
                // A worker may exit between the listing and the reading.
                proxy += process_cpu(&pid.to_string()).unwrap_or_default();
            }
        }
        let mut database = HashMap::new();
        if let Some((admin, name)) = &self.database {
            // The backends connected to the run's database: the servers' pools
            // (and this benchmark's store, idle while measuring). Postgres's shared
            // background processes also serve other databases and are left out.
            let pids: Vec<i32> =
                sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1")
                    .bind(name)
                    .fetch_all(admin)
                    .await?;
            for pid in pids {
                if let Ok(cpu) = process_cpu(&pid.to_string()) {
                    database.insert(pid as u32, cpu);
                }
            }
        }
        Ok(Reading {
            server,
            bench: process_cpu("self")?,
            proxy,
            database,
        })
    }
}

impl Reading {
    /// How many of the database's processes could be read: none when PostgreSQL
    /// runs on another machine.
    pub fn database_processes(&self) -> usize {
        self.database.len()
    }

    /// What was spent between `before` and this reading. A database process that
    /// connected meanwhile counts from its start; one that ended meanwhile is lost
    /// (the servers' pools keep their connections, so both are rare).
    pub fn since(&self, before: &Reading) -> Spent {
        let database = self
            .database
            .iter()
            .map(|(pid, after)| {
                after.saturating_sub(before.database.get(pid).copied().unwrap_or_default())
            })
            .sum();
        Spent {
            server: self.server.saturating_sub(before.server),
            bench: self.bench.saturating_sub(before.bench),
            proxy: self.proxy.saturating_sub(before.proxy),
            database,
        }
    }
}

/// The processes whose parent is `parent`, from /proc.
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields after its ')' are state, ppid…
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_found_among_its_parents_children() {
        let me = std::process::id();
        let parent = parent_of(me).expect("this process has a parent");
        assert!(children(parent).contains(&me));
    }
}
