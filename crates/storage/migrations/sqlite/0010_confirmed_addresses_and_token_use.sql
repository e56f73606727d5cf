-- Confirmed e-mail addresses. Kept in step with postgres/0010.
-- NULL means confirmed: accounts from before this migration, those an operator
-- creates, and those an instance of the previous release signs up (which signs
-- them in at once) all count as confirmed without a rewrite of the table.
ALTER TABLE accounts ADD COLUMN email_unconfirmed_since BIGINT;
-- The cleanup of unconfirmed accounts reads only the few that wait.
CREATE INDEX accounts_email_unconfirmed_since ON accounts (email_unconfirmed_since)
    WHERE email_unconfirmed_since IS NOT NULL;

-- The one live confirmation link of an account: a new link replaces the last,
-- so a link is used up by deleting its row.
CREATE TABLE email_confirmations (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    token_digest BLOB NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
