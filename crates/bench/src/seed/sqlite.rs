//! Accounts into a SQLite file through batched multi-row INSERTs: 1,000 rows a
//! statement, 50,000 a transaction, a million in about 5 seconds.

use std::ops::RangeInclusive;
use std::path::Path;

use rusqlite::Connection;
use rusqlite::types::Value;

use super::Rows;
use crate::accounts;
use crate::error::Result;

/// SQLite allows 32,766 bound values per statement; 3 per row leaves ample room.
const ROWS_PER_INSERT: i64 = 1_000;
const ROWS_PER_TRANSACTION: i64 = 50_000;

/// Accounts `1..=count` into the migrated database at `path`.
pub fn accounts(path: &Path, count: i64, rows: &Rows<'_>) -> Result<()> {
    let mut connection = Connection::open(path)?;
    // Only for the bulk load: a crash here just means starting the benchmark again.
    connection.execute_batch("PRAGMA synchronous = OFF")?;
    let mut first = 1;
    while first <= count {
        let last = (first + ROWS_PER_TRANSACTION - 1).min(count);
        let transaction = connection.transaction()?;
        let mut batch = first;
        while batch <= last {
            let end = (batch + ROWS_PER_INSERT - 1).min(last);
            insert_batch(&transaction, batch..=end, rows)?;
            batch = end + 1;
        }
        transaction.commit()?;
        first = last + 1;
    }
    connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    connection.close().map_err(|(_, error)| error)?;
    Ok(())
}

/// Accounts `ids`, each with its authenticator: two INSERTs of many rows.
fn insert_batch(connection: &Connection, ids: RangeInclusive<i64>, rows: &Rows<'_>) -> Result<()> {
    insert_rows(
        connection,
        "INSERT INTO accounts (id, email, password_hash, created_at, password_changed_at,
             phone_enc, phone_confirmed_at, security_question_disabled) VALUES ",
        &[rows.password_hash.to_owned().into(), rows.now.into()],
        |p| format!("(?{p}, ?{}, ?1, ?2, ?2, ?{}, ?2, 1)", p + 1, p + 2),
        ids.clone()
            .map(|id| vec![id.into(), accounts::email(id).into(), rows.phone(id).into()]),
    )?;
    insert_rows(
        connection,
        "INSERT INTO authenticators (account_id, secret_enc, last_used_step, failed_step,
             failed_count, created_at) VALUES ",
        &[rows.now.into()],
        |p| format!("(?{p}, ?{}, NULL, 0, 0, ?1)", p + 1),
        ids.map(|id| vec![id.into(), rows.secret(id).into()]),
    )
}

/// One INSERT of many rows: `head` (`INSERT … VALUES `), then a tuple to a row,
/// written by `tuple` from the number of the row's first parameter. The `shared`
/// values, which every row uses, are bound first (?1, ?2, …), then each row's
/// own. The SQL text is built from parameter numbers only: nothing from outside
/// reaches it.
fn insert_rows(
    connection: &Connection,
    head: &str,
    shared: &[Value],
    tuple: impl Fn(usize) -> String,
    rows: impl Iterator<Item = Vec<Value>>,
) -> Result<()> {
    let rows: Vec<Vec<Value>> = rows.collect();
    let mut first = shared.len() + 1;
    let mut tuples = Vec::with_capacity(rows.len());
    for row in &rows {
        tuples.push(tuple(first));
        first += row.len();
    }
    let mut statement = connection.prepare(&format!("{head}{}", tuples.join(",")))?;
    for (i, value) in shared.iter().chain(rows.iter().flatten()).enumerate() {
        statement.raw_bind_parameter(i + 1, value)?;
    }
    statement.raw_execute()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use domain::ServerKey;

    use super::*;
    use crate::database::Database;

    /// 1,500 accounts: more than one INSERT's worth, so that the second statement's
    /// parameter numbers are checked too.
    #[tokio::test]
    async fn every_account_goes_in_with_its_phone_and_authenticator_sealed_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.db");
        let key = ServerKey::from_hex(&ServerKey::generate_hex()).unwrap();
        let database = Database::Sqlite { path: path.clone() };
        super::super::accounts(&database, 1_500, "$argon2id$hash", &key, 1_000)
            .await
            .unwrap();

        let connection = Connection::open(&path).unwrap();
        for id in [1, 1_000, 1_001, 1_500] {
            let (email, hash, created, phone): (String, String, i64, Vec<u8>) = connection
                .query_row(
                    "SELECT email, password_hash, created_at, phone_enc FROM accounts WHERE id = ?1",
                    [id],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                )
                .unwrap();
            assert_eq!(
                (email, hash.as_str(), created),
                (accounts::email(id), "$argon2id$hash", 1_000)
            );
            let phone = key.open(&phone, &format!("phone:{id}")).unwrap();
            assert_eq!(phone, accounts::phone_e164(id).as_bytes());
            let secret: Vec<u8> = connection
                .query_row(
                    "SELECT secret_enc FROM authenticators WHERE account_id = ?1",
                    [id],
                    |row| row.get(0),
                )
                .unwrap();
            let secret = key.open(&secret, &format!("authenticator:{id}")).unwrap();
            assert_eq!(secret, accounts::secret(id).as_bytes());
        }
        let count = |table: &str| -> i64 {
            connection
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get(0)
                })
                .unwrap()
        };
        assert_eq!((count("accounts"), count("authenticators")), (1_500, 1_500));
    }
}
