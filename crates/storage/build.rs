//! Setting TWOSTEP_TEST_POSTGRES_URL turns the PostgreSQL variants of the store
//! tests from ignored into run, so that asking for them can never go unnoticed.
//! Without it they stay ignored and `-- --include-ignored` runs them against a
//! local server.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(twostep_test_postgres)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=TWOSTEP_TEST_POSTGRES_URL");
    if std::env::var_os("TWOSTEP_TEST_POSTGRES_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=twostep_test_postgres");
    }
}
