-- When a password change or reset signed the connection out of the account.
-- NULL: connected. A signed-out connection reaches no account endpoint, but an
-- Anti-Theft device among them still fetches and answers its commands, so a
-- stolen phone stays findable after its owner changes the password. Nullable,
-- so the previous release, which does not know it, keeps inserting rows.
ALTER TABLE app_connections ADD COLUMN signed_out_at BIGINT;
