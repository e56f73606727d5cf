//! The twostep benchmark: sign-ins per second against the machine's hashing
//! limit, the framework's ceiling, memory, and scale, as ratios taken in one run
//! on one machine (absolute times on shared machines are noise). BENCHMARKS.md
//! says what each figure means; `scripts/bench` builds and runs this.

mod accounts;
mod cpu;
mod database;
mod error;
mod flows;
mod hashing;
mod load;
mod nginx;
mod pair;
mod report;
mod run;
mod seed;
mod server;
mod table;
mod target;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use domain::Argon2Params;

use crate::database::Backend;

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Sign-ins per second against the hashing limit, memory and scale of twostep"
)]
struct Args {
    /// A few seconds per measurement and 20,000 accounts (scale: 1k vs 20k), for CI.
    #[arg(long)]
    quick: bool,
    /// Argon2id parameters for the server and the hash limit, e.g. m=19456,t=2,p=1
    /// (default: twostep's own, OWASP's).
    #[arg(long, value_name = "m=KIB,t=N,p=N", value_parser = parse_hash)]
    hash: Option<Argon2Params>,
    /// Short for --hash m=7168,t=5,p=1, what Keycloak's published sizing assumes.
    #[arg(long, conflicts_with = "hash")]
    keycloak_params: bool,
    /// Concurrencies for the sign-in sweep (default 1,4,16,64; 1,16 with --quick).
    #[arg(long, value_name = "N,N,…", value_delimiter = ',')]
    clients: Option<Vec<usize>>,
    /// Concurrent clients for the main measurements.
    #[arg(long, value_name = "N", default_value_t = 16)]
    concurrency: usize,
    /// Accounts in the main database (default 1,000,000; 20,000 with --quick).
    #[arg(long, value_name = "N")]
    accounts: Option<i64>,
    /// The twostep binary (default: the one next to this program).
    #[arg(long, value_name = "FILE")]
    server: Option<PathBuf>,
    /// Run the server on PostgreSQL: a server and a database to start from, e.g.
    /// postgres://postgres@127.0.0.1:5432/test. Each run creates its own databases
    /// there (twostep_bench_PID_…) and drops them at the end. Default: SQLite.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// 2: also measure sign-ins through nginx to two instances on one PostgreSQL
    /// database, against one instance on the same cores.
    #[arg(long, value_name = "N", default_value_t = 1)]
    instances: usize,
    /// The nginx binary for --instances 2 (default: nginx on the PATH, or /usr/sbin/nginx).
    #[arg(long, value_name = "FILE")]
    nginx: Option<PathBuf>,
}

fn parse_hash(text: &str) -> Result<Argon2Params, String> {
    let mut params = Argon2Params::default();
    for part in text.split(',') {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("expected m=KIB,t=N,p=N, not {text:?}"))?;
        let value: u32 = value
            .trim()
            .parse()
            .map_err(|_| format!("{key} must be a whole number"))?;
        match key.trim() {
            "m" => params.memory_kib = value,
            "t" => params.iterations = value,
            "p" => params.parallelism = value,
            other => {
                return Err(format!(
                    "unknown Argon2 parameter {other:?}; use m, t and p"
                ));
            }
        }
    }
    domain::PasswordHasher::new(params).map_err(|e| e.to_string())?;
    Ok(params)
}

/// How long and how large each measurement is.
pub struct Plan {
    pub quick: bool,
    pub params: Argon2Params,
    pub cores: usize,
    pub accounts: i64,
    pub small_accounts: i64,
    pub concurrency: usize,
    pub sweep: Vec<usize>,
    pub hash_time: Duration,
    pub healthz_time: Duration,
    pub sign_in_time: Duration,
    pub sweep_time: Duration,
    pub code_time: Duration,
    pub sessions: usize,
    pub scale_rounds: usize,
    pub server: PathBuf,
    pub backend: Backend,
    /// 1, or 2 for the pair behind nginx (then `nginx` is set).
    pub instances: usize,
    pub nginx: Option<PathBuf>,
}

impl Plan {
    fn from_args(args: Args) -> Result<Self, String> {
        let seconds =
            |full: u64, quick: u64| Duration::from_secs(if args.quick { quick } else { full });
        let params = if args.keycloak_params {
            Argon2Params {
                memory_kib: 7168,
                iterations: 5,
                parallelism: 1,
            }
        } else {
            args.hash.unwrap_or_default()
        };
        let default_sweep = if args.quick {
            vec![1, 16]
        } else {
            vec![1, 4, 16, 64]
        };
        let sweep = args.clients.unwrap_or(default_sweep);
        if sweep
            .iter()
            .chain([&args.concurrency])
            .any(|&c| c == 0 || c > 1024)
        {
            return Err("concurrencies must be between 1 and 1024".into());
        }
        let accounts = args
            .accounts
            .unwrap_or(if args.quick { 20_000 } else { 1_000_000 });
        if accounts < 2_000 {
            return Err("use at least 2,000 accounts".into());
        }
        let server = match args.server {
            Some(path) => path,
            None => std::env::current_exe()
                .map_err(|e| e.to_string())?
                .with_file_name("twostep"),
        };
        if !server.is_file() {
            return Err(format!(
                "no twostep binary at {}: build it with `cargo build --release -p twostep` or pass --server",
                server.display()
            ));
        }
        let backend = match args.database_url {
            None => Backend::Sqlite,
            Some(url) => Backend::postgres(url)?,
        };
        let nginx = match args.instances {
            1 => None,
            2 if matches!(backend, Backend::Postgres { .. }) => {
                Some(nginx::find(args.nginx).map_err(|e| e.to_string())?)
            }
            2 => {
                return Err(
                    "--instances 2 needs --database-url postgres://…: instances share one PostgreSQL database"
                        .into(),
                );
            }
            _ => return Err("--instances is 1 or 2".into()),
        };
        Ok(Self {
            quick: args.quick,
            params,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            accounts,
            small_accounts: 1_000,
            concurrency: args.concurrency,
            sweep,
            hash_time: seconds(10, 2),
            healthz_time: seconds(10, 2),
            sign_in_time: seconds(30, 4),
            sweep_time: seconds(15, 2),
            code_time: seconds(10, 2),
            sessions: 10_000,
            scale_rounds: 5,
            server,
            backend,
            instances: args.instances,
            nginx,
        })
    }
}

fn main() -> ExitCode {
    let plan = match Plan::from_args(Args::parse()) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("bench: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bench: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::run(&plan)) {
        Ok(results) => {
            results.print();
            println!("{}", results.json());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_valid() {
        Args::command().debug_assert();
    }

    fn plan(args: &[&str]) -> Result<Plan, String> {
        // Any existing file stands in for the twostep binary.
        let exe = std::env::current_exe().unwrap();
        let exe = exe.to_str().unwrap();
        let first = ["bench", "--server", exe];
        let args = first.iter().chain(args);
        Plan::from_args(Args::try_parse_from(args).map_err(|e| e.to_string())?)
    }

    #[test]
    fn two_instances_need_postgresql() {
        let refused = plan(&["--instances", "2"]).err().unwrap();
        assert!(refused.contains("--database-url postgres"), "{refused}");
        let pair = plan(&[
            "--instances",
            "2",
            "--nginx",
            "/bin/sh",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/test",
        ])
        .unwrap();
        assert_eq!(pair.instances, 2);
        assert_eq!(pair.backend.name(), "postgres");
        assert!(plan(&["--instances", "3"]).is_err());
    }

    #[test]
    fn a_database_url_that_is_not_postgresql_is_refused() {
        assert!(plan(&["--database-url", "sqlite://x.db"]).is_err());
        assert_eq!(plan(&[]).unwrap().backend.name(), "sqlite");
    }

    #[test]
    fn hash_parameters_are_read_in_any_order() {
        let params = parse_hash("t=5,p=1,m=7168").unwrap();
        assert_eq!(
            params,
            Argon2Params {
                memory_kib: 7168,
                iterations: 5,
                parallelism: 1
            }
        );
        assert!(parse_hash("m=7168,x=1").is_err());
        assert!(parse_hash("m=1,t=0,p=1").is_err());
    }
}
