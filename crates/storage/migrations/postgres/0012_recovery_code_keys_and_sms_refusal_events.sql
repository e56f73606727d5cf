-- Which server key made each recovery code's digest, so that a code made before
-- a key change is checked under its own key and `twostep rotate-key` keeps a key
-- that unused codes still need. NULL: made before this column, by the key that
-- was current then; an instance running on one key alone stamps them with it.
ALTER TABLE recovery_codes ADD COLUMN key_id TEXT;

-- When an SMS refusal was last recorded as a security event of the account,
-- per rule: a claim on this row (insert, or replace one older than the
-- interval) comes before the event, so that a flood of refused requests adds
-- at most one event per account and rule per interval.
CREATE TABLE sms_refusal_events (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, rule)
);
