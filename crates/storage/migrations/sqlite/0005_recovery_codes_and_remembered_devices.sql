-- Recovery codes: the keyed digest of each code of the account's one set, and
-- when it was used (NULL while it may still be). Using one is a compare-and-set
-- on `used_at`, so a code is accepted once.
CREATE TABLE recovery_codes (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_digest BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (account_id, code_digest)
) WITHOUT ROWID;

-- "Don't ask again on this device": the digest of the device cookie, bound to
-- the account it was given for.
CREATE TABLE remembered_devices (
    token_digest BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX remembered_devices_account_id ON remembered_devices (account_id);
