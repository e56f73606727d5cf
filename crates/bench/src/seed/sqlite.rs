//! Accounts into a SQLite file through batched multi-row INSERTs: 1,000 rows a
//! statement, 50,000 a transaction, a million in about 5 seconds.

use std::path::Path;

use rusqlite::Connection;

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
            insert_accounts(&transaction, batch..=end, rows)?;
            insert_authenticators(&transaction, batch..=end, rows)?;
            batch = end + 1;
        }
        transaction.commit()?;
        first = last + 1;
    }
    connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    connection.close().map_err(|(_, error)| error)?;
    Ok(())
}

fn insert_accounts(
    connection: &Connection,
    ids: std::ops::RangeInclusive<i64>,
    rows: &Rows<'_>,
) -> Result<()> {
    // ?1 and ?2 are shared by every row; each row brings id, e-mail and phone.
    let mut sql = String::from(
        "INSERT INTO accounts (id, email, password_hash, created_at, password_changed_at,
             phone_enc, phone_confirmed_at, security_question_disabled) VALUES ",
    );
    for (row, _) in ids.clone().enumerate() {
        let p = 3 + 3 * row;
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "(?{p}, ?{}, ?1, ?2, ?2, ?{}, ?2, 1)",
            p + 1,
            p + 2
        ));
    }
    // Built from row numbers only: nothing from outside reaches the SQL text.
    let mut statement = connection.prepare(&sql)?;
    statement.raw_bind_parameter(1, rows.password_hash)?;
    statement.raw_bind_parameter(2, rows.now)?;
    for (row, id) in ids.enumerate() {
        let p = 3 + 3 * row;
        let phone = rows.phone(id);
        statement.raw_bind_parameter(p, id)?;
        statement.raw_bind_parameter(p + 1, accounts::email(id))?;
        statement.raw_bind_parameter(p + 2, phone)?;
    }
    statement.raw_execute()?;
    Ok(())
}

fn insert_authenticators(
    connection: &Connection,
    ids: std::ops::RangeInclusive<i64>,
    rows: &Rows<'_>,
) -> Result<()> {
    let mut sql = String::from(
        "INSERT INTO authenticators (account_id, secret_enc, last_used_step, failed_step,
             failed_count, created_at) VALUES ",
    );
    for (row, _) in ids.clone().enumerate() {
        let p = 2 + 2 * row;
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(&format!("(?{p}, ?{}, NULL, 0, 0, ?1)", p + 1));
    }
    let mut statement = connection.prepare(&sql)?;
    statement.raw_bind_parameter(1, rows.now)?;
    for (row, id) in ids.enumerate() {
        let p = 2 + 2 * row;
        let secret = rows.secret(id);
        statement.raw_bind_parameter(p, id)?;
        statement.raw_bind_parameter(p + 1, secret)?;
    }
    statement.raw_execute()?;
    Ok(())
}
