//! `twostep rotate-key`: re-seals every sealed value under the current server
//! key while the service keeps running, then retires the previous keys.
//!
//! Each value is replaced by compare-and-set (`Store::replace_sealed`): one the
//! service changed meanwhile is left as the service wrote it, and the next pass
//! finds it again if it is not under the current key. Only when no value is left
//! under another key are the previous keys retired; a value no key of the ring
//! opens stops the rotation before anything is retired.
//!
//! Recovery codes are kept as keyed digests, which cannot be made again without
//! the codes, and a set lasts until it is used or replaced. So a previous key
//! that made unused recovery codes is not retired: it stays in the ring (only
//! to check them, as nothing is sealed under it any more) and a later rotation
//! retires it once their owners have used or replaced them ("Get new codes").
//! Retiring it would lock those people out of the way back in they were given.

use domain::secrets::KeyId;
use domain::{AccountId, ServerKey};
use storage::{SealedColumn, SealedValue, Store, StoreError};

/// Values read and re-sealed per statement: small enough that a pass never holds
/// the database for long.
const BATCH: i64 = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Values re-sealed, per column, in `SealedColumn::ALL`'s order.
    pub resealed: Vec<(SealedColumn, u64)>,
    /// Previous keys retired: values under them are refused from now on.
    pub retired: Vec<KeyId>,
    /// Previous keys kept, with how many accounts' unused recovery codes need
    /// them: they stay in `previous_server_keys` until a later rotation.
    pub kept: Vec<(KeyId, i64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing is retired: the key that sealed these values must be added to
    /// `previous_server_keys` first.
    #[error(
        "{count} value(s) in {column} cannot be opened with server_key or previous_server_keys (first: account {account}); add the key that sealed them to previous_server_keys and run rotate-key again"
    )]
    Unopenable {
        column: &'static str,
        count: usize,
        account: AccountId,
    },
    /// Each pass found values again under another key: an instance still seals
    /// with the old key as its `server_key`.
    #[error(
        "values in {column} keep being sealed under another key than server_key: is an instance still running with the old server_key? Nothing was retired"
    )]
    StillSealedElsewhere { column: &'static str },
}

/// Passes in a row that replaced nothing before the rotation gives up.
const FRUITLESS_PASSES: u32 = 3;

fn context(value: &SealedValue) -> String {
    match value.column {
        SealedColumn::AccountPhone | SealedColumn::CodeDestination => {
            web::phone_context(value.account_id)
        }
        SealedColumn::AuthenticatorSecret | SealedColumn::EnrolmentSecret => {
            web::authenticator_context(value.account_id)
        }
    }
}

pub async fn rotate(store: &Store, ring: &ServerKey, now: i64) -> Result<Rotation, RotateError> {
    let header = ring.sealed_header();
    let mut rotation = Rotation::default();
    for column in SealedColumn::ALL {
        let mut resealed = 0;
        let mut fruitless = 0;
        loop {
            let batch = store
                .sealed_values_not_under(column, &header, BATCH)
                .await?;
            if batch.is_empty() {
                break;
            }
            let unopenable: Vec<&SealedValue> = batch
                .iter()
                .filter(|value| ring.open(&value.sealed, &context(value)).is_err())
                .collect();
            if let Some(first) = unopenable.first() {
                return Err(RotateError::Unopenable {
                    column: column.name(),
                    count: unopenable.len(),
                    account: first.account_id,
                });
            }
            let before = resealed;
            for value in &batch {
                let new = ring
                    .reseal(&value.sealed, &context(value))
                    .expect("every value of the batch opened above");
                if store.replace_sealed(value, &new).await? {
                    resealed += 1;
                }
            }
            fruitless = if resealed == before { fruitless + 1 } else { 0 };
            if fruitless >= FRUITLESS_PASSES {
                return Err(RotateError::StillSealedElsewhere {
                    column: column.name(),
                });
            }
        }
        rotation.resealed.push((column, resealed));
    }
    for id in ring.previous_ids() {
        let accounts = store.recovery_code_accounts_under(id).await?;
        if accounts > 0 {
            rotation.kept.push((id, accounts));
            continue;
        }
        store.retire_server_key(&id.to_string(), now).await?;
        rotation.retired.push(id);
    }
    Ok(rotation)
}
