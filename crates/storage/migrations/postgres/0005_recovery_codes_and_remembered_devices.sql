-- Recovery codes: the keyed digest of each code of the account's one set, and
-- when it was used (NULL while it may still be). Using one is a compare-and-set
-- on `used_at`, so a code is accepted once.
CREATE TABLE recovery_codes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_digest BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (account_id, code_digest)
);

-- "Don't ask again on this device": the digest of the device cookie, bound to
-- the account it was given for.
CREATE TABLE remembered_devices (
    token_digest BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX remembered_devices_account_id ON remembered_devices (account_id);
