-- Client applications connected to an account (issue: older applications that
-- cannot do two-step verification are refused). Kept in step with sqlite/0002.

CREATE TABLE app_connections (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_digest BYTEA NOT NULL UNIQUE,
    app_id TEXT NOT NULL,
    app_version TEXT NOT NULL,
    device_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX app_connections_account ON app_connections (account_id);

-- An application that passed the password and must pass the second step.
CREATE TABLE app_challenges (
    challenge_digest BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    app_id TEXT NOT NULL,
    app_version TEXT NOT NULL,
    device_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- When the owner was last told that this application on this device is too old.
CREATE TABLE refusal_notices (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    app_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, app_id, device_name)
);

-- Wrong security answers given through one reset link (limited like codes).
ALTER TABLE password_resets ADD COLUMN wrong_answers BIGINT NOT NULL DEFAULT 0;
