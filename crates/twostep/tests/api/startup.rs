//! Start-up with a database that cannot be used: the binary stops with one line
//! that says why, and never repeats a password from the URL.

use std::path::Path;
use std::process::{Command, Output};

/// The local PostgreSQL of `tests/api/postgres.rs`; its cases are skipped when
/// nothing listens there.
const POSTGRES: &str = "127.0.0.1:5432";

pub(crate) fn run(data_dir: &Path, command: &str, database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twostep"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0", command])
        .env("TWOSTEP_DATABASE_URL", database_url)
        .output()
        .expect("the twostep binary runs")
}

/// Asserts that the command failed and returns the one line it printed.
pub(crate) fn the_one_line(output: &Output) -> String {
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, not: {stderr}");
    lines[0].to_owned()
}

/// A port nothing listens on: bound, then let go.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn postgres_is_reachable() -> bool {
    let reachable = std::net::TcpStream::connect_timeout(
        &POSTGRES.parse().unwrap(),
        std::time::Duration::from_secs(1),
    )
    .is_ok();
    if !reachable {
        eprintln!("skipped: no PostgreSQL at {POSTGRES}");
    }
    reachable
}

/// The one line `serve` prints on the local PostgreSQL as `role` with the
/// password hunter2, on `database`; `None` (the case skipped) when nothing
/// listens there.
fn serve_on_local_postgres(role: &str, database: &str) -> Option<String> {
    if !postgres_is_reachable() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://{role}:hunter2@{POSTGRES}/{database}");
    Some(the_one_line(&run(dir.path(), "serve", &url)))
}

#[test]
fn serve_and_migrate_with_a_refused_database_say_so_in_one_line_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let url = format!("postgres://ann:hunter2@127.0.0.1:{port}/twostep");
    for command in ["serve", "migrate"] {
        let line = the_one_line(&run(dir.path(), command, &url));
        assert_eq!(
            line,
            format!("twostep: cannot open the database: connection refused (127.0.0.1:{port})"),
            "{command}"
        );
        assert!(!line.contains("hunter2"), "{line}");
    }
}

#[test]
fn serve_with_a_database_that_does_not_exist_names_it() {
    let Some(line) = serve_on_local_postgres("postgres", "twostep_no_such_database") else {
        return;
    };
    assert_eq!(
        line,
        format!(
            "twostep: cannot open the database: database \"twostep_no_such_database\" does not exist ({POSTGRES})"
        )
    );
}

#[test]
fn serve_as_a_role_the_server_does_not_know_says_what_the_server_said() {
    let Some(line) = serve_on_local_postgres("twostep_no_such_role", "test") else {
        return;
    };
    // Trust authentication answers an unknown role; a server that asks for
    // passwords answers "password authentication failed for user …" instead.
    assert!(
        line.starts_with("twostep: cannot open the database: ")
            && line.contains("twostep_no_such_role")
            && line.ends_with(&format!("({POSTGRES})")),
        "{line}"
    );
    assert!(!line.contains("hunter2"), "{line}");
}

#[test]
fn serve_with_an_sqlite_file_that_cannot_be_created_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the database's directory should be: no one can create it.
    let not_a_directory = dir.path().join("not-a-directory");
    std::fs::write(&not_a_directory, "").unwrap();
    let database = not_a_directory.join("twostep.db");
    let url = format!("sqlite://{}?mode=rwc", database.display());
    let line = the_one_line(&run(dir.path(), "serve", &url));
    assert!(
        line.starts_with(&format!(
            "twostep: cannot open the database: cannot open the SQLite file {}: unable to open database file",
            database.display()
        )),
        "{line}"
    );
}
