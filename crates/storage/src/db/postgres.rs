//! PostgreSQL through sqlx: the network is the hand-off there, so an async
//! driver with a pool is the right shape.

use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;

use super::{Param, Row};
use crate::StoreError;

fn query<'q>(sql: &'static str, params: &[Param<'q>]) -> Query<'q, Postgres, PgArguments> {
    let mut query = sqlx::query(sql);
    for param in params {
        query = match *param {
            Param::Int(value) => query.bind(value),
            Param::Text(value) => query.bind(value),
            Param::Bytes(value) => query.bind(value),
        };
    }
    query
}

pub(super) async fn execute<'c, E>(
    executor: E,
    sql: &'static str,
    params: &[Param<'_>],
) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    Ok(query(sql, params).execute(executor).await?.rows_affected())
}

pub(super) async fn fetch<'c, E, T>(
    executor: E,
    sql: &'static str,
    params: &[Param<'_>],
    limit: usize,
    mut map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    let rows = query(sql, params).fetch_all(executor).await?;
    rows.iter()
        .take(limit)
        .map(|row| map(&Row::Postgres(row)))
        .collect()
}
