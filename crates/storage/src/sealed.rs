//! Every column that holds a value sealed with the server key, for
//! `twostep rotate-key`: find the values not yet under the current key (by the
//! header every sealed value begins with) and replace each by compare-and-set,
//! so that a value the running service changed meanwhile is left to it. Also
//! the ids of the keys a finished rotation retired.

use domain::AccountId;
use domain::secrets::KeyId;
use domain::server_key::SEALED_HEADER_LEN;

use crate::db::{params, statements};
use crate::{Store, StoreError};

// The SQL below compares the first 12 bytes.
const _: () = assert!(SEALED_HEADER_LEN == 12);

/// A column holding sealed values. Adding one here is all a rotation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `accounts.phone_enc`: the confirmed phone number.
    AccountPhone,
    /// `authenticators.secret_enc`: the authenticator app's secret.
    AuthenticatorSecret,
    /// `authenticator_enrolments.secret_enc`: a secret shown, not yet confirmed.
    EnrolmentSecret,
    /// `one_time_codes.destination_enc`: the number a code was sent to.
    CodeDestination,
}

impl SealedColumn {
    pub const ALL: [Self; 4] = [
        Self::AccountPhone,
        Self::AuthenticatorSecret,
        Self::EnrolmentSecret,
        Self::CodeDestination,
    ];

    /// `table.column`, for the operator's report.
    pub fn name(self) -> &'static str {
        match self {
            Self::AccountPhone => "accounts.phone_enc",
            Self::AuthenticatorSecret => "authenticators.secret_enc",
            Self::EnrolmentSecret => "authenticator_enrolments.secret_enc",
            Self::CodeDestination => "one_time_codes.destination_enc",
        }
    }

    /// Rows whose value does not begin with `$1`, the current key's header (12
    /// bytes); `substr` of a blob is a blob on SQLite and of a bytea a bytea on
    /// PostgreSQL. `$2` is the batch size.
    fn select(self) -> &'static str {
        match self {
            Self::AccountPhone => {
                "SELECT id AS account_id, '' AS purpose, phone_enc AS sealed FROM accounts
                 WHERE phone_enc IS NOT NULL AND substr(phone_enc, 1, 12) <> $1
                 ORDER BY id LIMIT $2"
            }
            Self::AuthenticatorSecret => {
                "SELECT account_id, '' AS purpose, secret_enc AS sealed FROM authenticators
                 WHERE substr(secret_enc, 1, 12) <> $1 ORDER BY account_id LIMIT $2"
            }
            Self::EnrolmentSecret => {
                "SELECT account_id, '' AS purpose, secret_enc AS sealed FROM authenticator_enrolments
                 WHERE substr(secret_enc, 1, 12) <> $1 ORDER BY account_id LIMIT $2"
            }
            Self::CodeDestination => {
                "SELECT account_id, purpose, destination_enc AS sealed FROM one_time_codes
                 WHERE destination_enc IS NOT NULL AND substr(destination_enc, 1, 12) <> $1
                 ORDER BY account_id, purpose LIMIT $2"
            }
        }
    }

    /// Compare-and-set of one value: `$2` replaces it where the row (`$1`, the
    /// account; `$4`, the code's purpose) still holds exactly `$3`.
    fn replace(self) -> &'static str {
        match self {
            Self::AccountPhone => {
                "UPDATE accounts SET phone_enc = $2 WHERE id = $1 AND phone_enc = $3"
            }
            Self::AuthenticatorSecret => {
                "UPDATE authenticators SET secret_enc = $2
                 WHERE account_id = $1 AND secret_enc = $3"
            }
            Self::EnrolmentSecret => {
                "UPDATE authenticator_enrolments SET secret_enc = $2
                 WHERE account_id = $1 AND secret_enc = $3"
            }
            Self::CodeDestination => {
                "UPDATE one_time_codes SET destination_enc = $2
                 WHERE account_id = $1 AND purpose = $4 AND destination_enc = $3"
            }
        }
    }
}

/// One sealed value and the row it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub column: SealedColumn,
    pub account_id: AccountId,
    /// The code's purpose for `CodeDestination`; empty otherwise.
    pub purpose: String,
    pub sealed: Vec<u8>,
}

impl Store {
    /// Up to `limit` values of `column` that do not begin with `header` (the
    /// current key's): those a rotation still has to re-seal.
    pub async fn sealed_values_not_under(
        &self,
        column: SealedColumn,
        header: &[u8],
        limit: i64,
    ) -> Result<Vec<SealedValue>, StoreError> {
        self.db
            .read_all(column.select(), params![header, limit], |row| {
                Ok(SealedValue {
                    column,
                    account_id: row.account_id("account_id")?,
                    purpose: row.get("purpose")?,
                    sealed: row.get("sealed")?,
                })
            })
            .await
    }

    /// Replaces `value` by `resealed` if the row still holds exactly `value`;
    /// false when the service changed or removed it meanwhile.
    pub async fn replace_sealed(
        &self,
        value: &SealedValue,
        resealed: &[u8],
    ) -> Result<bool, StoreError> {
        let (id, old) = (value.account_id, value.sealed.as_slice());
        let params: &[crate::db::Param<'_>] = match value.column {
            SealedColumn::CodeDestination => {
                params![id, resealed, old, value.purpose.as_str()]
            }
            _ => params![id, resealed, old],
        };
        let changed = self.db.execute(value.column.replace(), params).await?;
        Ok(changed > 0)
    }

    /// The keys earlier rotations retired.
    pub async fn retired_server_keys(&self) -> Result<Vec<KeyId>, StoreError> {
        let ids: Vec<String> = self
            .db
            .read_all("SELECT key_id FROM retired_server_keys", &[], |row| {
                row.get("key_id")
            })
            .await?;
        // An id that does not read names no key this ring can hold.
        Ok(ids.iter().filter_map(|id| KeyId::parse(id)).collect())
    }
}

statements! {
    /// Records that nothing is sealed under `key_id` any more; again is a no-op.
    retire_server_key(key_id: &str, now: i64) =
        "INSERT INTO retired_server_keys (key_id, retired_at) VALUES ($1, $2)
         ON CONFLICT (key_id) DO NOTHING";
}
