//! The `twostep` binary's subcommands, run as an operator would.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::helpers::*;

fn twostep(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    twostep_with(data_dir, args, stdin, &[])
}

/// `twostep --data-dir DIR ARGS…` with `stdin` typed in and `env` set on top
/// of fast Argon2.
pub fn twostep_with(
    data_dir: &std::path::Path,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twostep"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(env.iter().copied())
        .env("TWOSTEP_PASSWORD_HASH__MEMORY_KIB", "256")
        .env("TWOSTEP_PASSWORD_HASH__ITERATIONS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the twostep binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `twostep user create --email EMAIL`, typing `password` when asked.
fn create_user(data_dir: &Path, email: &str, password: &str) -> Output {
    twostep(
        data_dir,
        &["user", "create", "--email", email],
        &format!("{password}\n"),
    )
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn user_create_reads_the_password_from_stdin_and_refuses_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let created = create_user(dir.path(), "Ops@Example.com", PASSWORD);
    assert!(created.status.success(), "{}", text(&created));
    assert!(text(&created).contains("Created the account ops@example.com."));
    let again = create_user(dir.path(), "ops@example.com", PASSWORD);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"));
    let weak = create_user(dir.path(), "weak@example.com", "password");
    assert!(!weak.status.success());
    assert!(text(&weak).contains("most common"));
    assert!(
        !text(&weak).contains("password\n"),
        "the password is never echoed"
    );
}

#[tokio::test]
async fn an_account_created_on_the_command_line_is_confirmed_and_stored_with_an_argon2id_hash() {
    let dir = tempfile::tempdir().unwrap();
    let created = create_user(dir.path(), "ops@example.com", PASSWORD);
    assert!(created.status.success(), "{}", text(&created));
    let config = twostep::config::Config::load(
        None,
        [(
            "TWOSTEP_PASSWORD_HASH__MEMORY_KIB".to_owned(),
            "256".to_owned(),
        )],
        &twostep::config::Overrides {
            listen: None,
            data_dir: Some(dir.path().to_owned()),
        },
    )
    .unwrap();
    let store = twostep::app::open_store(&config).await.unwrap();
    let account = store
        .account_by_email("ops@example.com")
        .await
        .unwrap()
        .expect("the account is in the database");
    assert!(account.password_hash.starts_with("$argon2id$"));
    assert!(
        account.address().is_confirmed(),
        "the operator vouches for the address"
    );
}

#[test]
fn migrate_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = twostep(dir.path(), &["migrate"], "");
        assert!(output.status.success(), "{}", text(&output));
        assert!(text(&output).contains("up to date"));
    }
    assert!(dir.path().join("twostep.db").exists());
}

#[test]
fn check_config_names_an_unknown_key_and_validates_a_good_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[session]\nidle_timeout = 5\n").unwrap();
    let output = twostep(
        dir.path(),
        &["check-config", "--config", bad.to_str().unwrap()],
        "",
    );
    assert!(!output.status.success());
    assert!(text(&output).contains("idle_timeout"), "{}", text(&output));
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config.example.toml");
    let output = twostep(dir.path(), &["check-config", "--config", example], "");
    assert!(output.status.success(), "{}", text(&output));
}

#[test]
fn a_malformed_application_catalogue_stops_start_up_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = dir.path().join("apps.toml");
    std::fs::write(&catalogue, "[[apps]]\nid = \"photon\"\nname = \"Photon\"\nlatest_version = \"2.0.0\"\ndownload_url = \"https://example.com\"\ntwo_step_since = \"3.0.0\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_twostep"))
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "serve",
        ])
        .env("TWOSTEP_APPS_CATALOG", &catalogue)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = text(&output);
    assert!(
        said.contains("\"photon\"") && said.contains("two_step_since"),
        "{said}"
    );
}

#[test]
fn the_outbox_command_prints_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let empty = twostep(dir.path(), &["outbox"], "");
    assert!(text(&empty).contains("The outbox is empty."));
    let sent = twostep(
        dir.path(),
        &["send-test-email", "--to", "ops@example.com"],
        "",
    );
    assert!(sent.status.success(), "{}", text(&sent));
    let listed = twostep(dir.path(), &["outbox"], "");
    assert!(
        text(&listed).contains("E-mail to ops@example.com")
            && text(&listed).contains("Test e-mail from twostep"),
        "{}",
        text(&listed)
    );
}

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["check-config", "--help"],
        &["user", "create", "--help"],
        &["user", "show", "--help"],
        &["user", "reset-two-step", "--help"],
        &["user", "disable", "--help"],
        &["user", "enable", "--help"],
        &["outbox", "--help"],
        &["send-test-email", "--help"],
    ] {
        let output = twostep(dir.path(), args, "");
        assert!(
            output.status.success() && text(&output).contains("Usage"),
            "{args:?}"
        );
    }
}
