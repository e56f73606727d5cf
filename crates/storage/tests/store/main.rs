//! The store against real databases: every test is written once, as an async fn
//! taking a fresh, migrated `Store`, and runs on SQLite (in a temporary directory)
//! and on PostgreSQL (in a database of its own, dropped afterwards).
//!
//! The PostgreSQL variants run when TWOSTEP_TEST_POSTGRES_URL is set at build time
//! (see build.rs); otherwise they are ignored, and `-- --include-ignored` runs them
//! against postgres://postgres@127.0.0.1:5432/test.

/// Declares, for each test fn of the calling module, `sqlite::name` and
/// `postgres::name`; with `unmigrated:` the store they get is not migrated yet.
macro_rules! on_both_backends {
    (unmigrated: $($name:ident),* $(,)?) => {
        on_both_backends!(@with on_sqlite_unmigrated, on_postgres_unmigrated; $($name),*);
    };
    ($($name:ident),* $(,)?) => {
        on_both_backends!(@with on_sqlite, on_postgres; $($name),*);
    };
    (@with $on_sqlite:ident, $on_postgres:ident; $($name:ident),*) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    crate::helpers::$on_sqlite(super::$name).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(not(twostep_test_postgres), ignore = "needs PostgreSQL; run by .ci/run")]
                async fn $name() {
                    crate::helpers::$on_postgres(super::$name).await;
                }
            )*
        }
    };
}

mod accounts;
mod anti_theft;
mod apps_and_throttle;
mod authenticator;
mod budgets;
mod codes;
mod database;
mod email_confirmations;
mod helpers;
mod limits;
mod password_resets;
mod previous_release;
mod recovery;
mod resend;
mod rules_conformance;
mod schema;
mod sealed;
mod security_changes;
mod security_events;
mod sessions;
