//! Test databases' URLs: the storage suite and the portal's suites each make a
//! database of their own on one PostgreSQL server. Included by both with
//! `#[path]`, so it stays one file.

/// The same server URL with another database name in its path.
pub fn with_database(url: &str, name: &str) -> String {
    let (address, query) = match url.split_once('?') {
        Some((address, query)) => (address, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = address.find("://").map_or(0, |i| i + 3);
    let server = match address[authority_start..].find('/') {
        Some(slash) => &address[..authority_start + slash],
        None => address,
    };
    format!("{server}/{name}{query}")
}

#[test]
fn the_test_database_name_replaces_the_one_in_the_url() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@host/test?sslmode=disable", "x"),
        "postgres://u:p@host/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://host", "x"), "postgres://host/x");
}
