//! Accounts into a PostgreSQL database through `COPY … FROM STDIN` in text
//! format, 10,000 rows a message, both tables in one transaction.

use std::fmt::Write;

use sqlx::{Connection, PgConnection};

use super::Rows;
use crate::accounts;
use crate::error::Result;

const ROWS_PER_MESSAGE: i64 = 10_000;

/// Accounts `1..=count` into the migrated database at `url`.
pub async fn accounts(url: &str, count: i64, rows: &Rows<'_>) -> Result<()> {
    let mut connection = PgConnection::connect(url).await?;
    let mut transaction = connection.begin().await?;
    // COPY writes the given ids into the identity column, as INSERT … OVERRIDING
    // SYSTEM VALUE would.
    copy(
        &mut transaction,
        "COPY accounts (id, email, password_hash, created_at, password_changed_at,
             phone_enc, phone_confirmed_at, security_question_disabled) FROM STDIN",
        count,
        |line, id| {
            let _ = writeln!(
                line,
                "{id}\t{}\t{}\t{now}\t{now}\t{}\t{now}\t1",
                accounts::email(id),
                rows.password_hash,
                bytea(&rows.phone(id)),
                now = rows.now,
            );
        },
    )
    .await?;
    copy(
        &mut transaction,
        "COPY authenticators (account_id, secret_enc, last_used_step, failed_step,
             failed_count, created_at) FROM STDIN",
        count,
        |line, id| {
            let _ = writeln!(
                line,
                "{id}\t{}\t\\N\t0\t0\t{}",
                bytea(&rows.secret(id)),
                rows.now
            );
        },
    )
    .await?;
    // Accounts created later (none in a run) must not collide with the seeded ids.
    sqlx::query("SELECT setval(pg_get_serial_sequence('accounts', 'id'), $1)")
        .bind(count.max(1))
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    // The planner's statistics, which autovacuum would gather only some time later.
    sqlx::query("ANALYZE accounts, authenticators")
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    Ok(())
}

/// Streams the lines `line(id)` writes for ids `1..=count` into `statement`.
async fn copy(
    connection: &mut PgConnection,
    statement: &str,
    count: i64,
    line: impl Fn(&mut String, i64),
) -> Result<()> {
    let mut copy = connection.copy_in_raw(statement).await?;
    let mut buffer = String::new();
    let mut first = 1;
    while first <= count {
        let last = (first + ROWS_PER_MESSAGE - 1).min(count);
        buffer.clear();
        for id in first..=last {
            line(&mut buffer, id);
        }
        if let Err(error) = copy.send(buffer.as_bytes()).await {
            copy.abort("the benchmark could not send its rows").await?;
            return Err(error.into());
        }
        first = last + 1;
    }
    copy.finish().await?;
    Ok(())
}

/// A bytea in COPY's text format: `\x` and hex digits, the backslash escaped.
fn bytea(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(3 + 2 * bytes.len());
    out.push_str("\\\\x");
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_written_as_escaped_hex_for_copy() {
        assert_eq!(bytea(&[0x00, 0xab, 0x10]), "\\\\x00ab10");
    }
}
