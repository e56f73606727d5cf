//! Anti-Theft commands to a device and the device's answers. Each step is one
//! compare-and-set: a command of a kind is issued once while one waits, handed
//! to its device once (marked received as it is fetched), and answered once.

use domain::AccountId;
use domain::anti_theft::{CommandKind, CommandState, Location, expired_if_issued_by};

use crate::db::{Row, params};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRow {
    pub id: i64,
    pub connection_id: i64,
    pub kind: CommandKind,
    /// The lock screen's message.
    pub message: Option<String>,
    pub issued_at: i64,
    /// As stored: a waiting command past its day reads `Waiting` here; see
    /// `CommandState::at` for what it is now.
    pub state: CommandState,
    pub received_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub reason: Option<String>,
    pub location: Option<Location>,
}

macro_rules! command_columns {
    () => {
        "id, connection_id, kind, message, issued_at, state, received_at, answered_at, reason, latitude_micro, longitude_micro, accuracy_m"
    };
}

fn command(row: &Row<'_>) -> Result<CommandRow, StoreError> {
    let known = |column: &'static str, value: String| StoreError::UnknownValue { column, value };
    let kind: String = row.get("kind")?;
    let state: String = row.get("state")?;
    let latitude: Option<i64> = row.get("latitude_micro")?;
    let longitude: Option<i64> = row.get("longitude_micro")?;
    let accuracy: Option<i64> = row.get("accuracy_m")?;
    Ok(CommandRow {
        id: row.get("id")?,
        connection_id: row.get("connection_id")?,
        kind: CommandKind::parse(&kind).ok_or_else(|| known("kind", kind))?,
        message: row.get("message")?,
        issued_at: row.get("issued_at")?,
        state: CommandState::parse(&state).ok_or_else(|| known("state", state))?,
        received_at: row.get("received_at")?,
        answered_at: row.get("answered_at")?,
        reason: row.get("reason")?,
        location: match (latitude, longitude, accuracy) {
            (Some(lat), Some(lon), Some(acc)) => Some(Location::from_stored(lat, lon, acc)),
            _ => None,
        },
    })
}

/// How the device answered, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandAnswer<'a> {
    pub state: CommandState,
    pub reason: Option<&'a str>,
    pub location: Option<Location>,
}

impl Store {
    /// Issues a command to the account's own device; `None` when one of this
    /// kind still waits for it (or the device is not the account's). A waiting
    /// command past its day is first marked expired, in the same transaction,
    /// so that it no longer holds the place; the place itself is the unique
    /// index on waiting commands, so two issued at once give one command.
    pub async fn issue_command(
        &self,
        account_id: AccountId,
        connection_id: i64,
        kind: CommandKind,
        message: Option<&str>,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut transaction = self.db.begin().await?;
        transaction
            .execute(
                "UPDATE anti_theft_commands SET state = 'expired'
                 WHERE connection_id = $1 AND kind = $2 AND state = 'waiting' AND issued_at <= $3",
                params![connection_id, kind.as_str(), expired_if_issued_by(now)],
            )
            .await?;
        let id = transaction
            .fetch_optional(
                "INSERT INTO anti_theft_commands (account_id, connection_id, kind, message, issued_at)
                 SELECT account_id, id, $3, $4, $5 FROM app_connections WHERE id = $2 AND account_id = $1
                 ON CONFLICT DO NOTHING RETURNING id",
                params![account_id, connection_id, kind.as_str(), message, now],
                |row| row.get::<i64>("id"),
            )
            .await?;
        transaction.commit().await?;
        Ok(id)
    }

    /// The device's waiting commands, oldest first, marked received as they are
    /// taken: two fetches at once hand each command out once.
    pub async fn take_waiting_commands(
        &self,
        connection_id: i64,
        now: i64,
    ) -> Result<Vec<CommandRow>, StoreError> {
        let mut commands = self
            .db
            .fetch_all(
                concat!(
                    "UPDATE anti_theft_commands SET state = 'received', received_at = $2
                     WHERE connection_id = $1 AND state = 'waiting' AND issued_at > $3 RETURNING ",
                    command_columns!()
                ),
                params![connection_id, now, expired_if_issued_by(now)],
                command,
            )
            .await?;
        commands.sort_by_key(|c| (c.issued_at, c.id));
        Ok(commands)
    }

    /// One command of the device's own.
    pub async fn command_of_device(
        &self,
        connection_id: i64,
        id: i64,
    ) -> Result<Option<CommandRow>, StoreError> {
        self.db
            .read_optional(
                concat!(
                    "SELECT ",
                    command_columns!(),
                    " FROM anti_theft_commands WHERE id = $1 AND connection_id = $2"
                ),
                params![id, connection_id],
                command,
            )
            .await
    }

    /// Records the device's answer once: `None` when the command was already
    /// answered, has expired unfetched meanwhile, or is not the device's.
    pub async fn answer_command(
        &self,
        connection_id: i64,
        id: i64,
        answer: &CommandAnswer<'_>,
        now: i64,
    ) -> Result<Option<CommandRow>, StoreError> {
        let location = answer.location;
        self.db
            .fetch_optional(
                concat!(
                    "UPDATE anti_theft_commands SET state = $3, answered_at = $4, reason = $5,
                     latitude_micro = $6, longitude_micro = $7, accuracy_m = $8
                     WHERE id = $1 AND connection_id = $2
                       AND (state = 'received' OR (state = 'waiting' AND issued_at > $9))
                     RETURNING ",
                    command_columns!()
                ),
                params![
                    id,
                    connection_id,
                    answer.state.as_str(),
                    now,
                    answer.reason,
                    location.map(Location::latitude_micro),
                    location.map(Location::longitude_micro),
                    location.map(Location::accuracy_m),
                    domain::anti_theft::expired_if_issued_by(now)
                ],
                command,
            )
            .await
    }

    /// The account's latest commands, newest first.
    /// A device's latest commands, newest first: each device's history on its
    /// own, so that a busy device cannot push another's off the page.
    pub async fn commands_of_connection(
        &self,
        connection_id: i64,
        limit: i64,
    ) -> Result<Vec<CommandRow>, StoreError> {
        self.db
            .read_all(
                concat!(
                    "SELECT ",
                    command_columns!(),
                    " FROM anti_theft_commands WHERE connection_id = $1
                     ORDER BY issued_at DESC, id DESC LIMIT $2"
                ),
                params![connection_id, limit],
                command,
            )
            .await
    }

    pub async fn commands_of_account(
        &self,
        account_id: AccountId,
        limit: i64,
    ) -> Result<Vec<CommandRow>, StoreError> {
        self.db
            .read_all(
                concat!(
                    "SELECT ",
                    command_columns!(),
                    " FROM anti_theft_commands WHERE account_id = $1
                     ORDER BY issued_at DESC, id DESC LIMIT $2"
                ),
                params![account_id, limit],
                command,
            )
            .await
    }
}
