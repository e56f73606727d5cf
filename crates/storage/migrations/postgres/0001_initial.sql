-- The first schema. Kept column for column in step with sqlite/0001_initial.sql,
-- because both backends run the same queries: booleans are BIGINT 0/1 and times
-- are seconds since the Unix epoch, the types the `Any` driver carries unchanged
-- (every integer is BIGINT so that it decodes as i64).

CREATE TABLE accounts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    phone_enc BYTEA,
    phone_confirmed_at BIGINT,
    security_question TEXT,
    security_answer_hash TEXT,
    security_question_disabled BIGINT NOT NULL DEFAULT 0 CHECK (security_question_disabled IN (0, 1)),
    CONSTRAINT accounts_email_key UNIQUE (email)
);

CREATE TABLE authenticators (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    secret_enc BYTEA NOT NULL,
    last_used_step BIGINT,
    failed_step BIGINT NOT NULL DEFAULT 0,
    failed_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- A secret shown to a person but not yet confirmed with a code from their app.
CREATE TABLE authenticator_enrolments (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    session_digest BYTEA NOT NULL,
    secret_enc BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_digest BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    password_confirmed_at BIGINT
);
CREATE INDEX sessions_account_id ON sessions (account_id);

CREATE TABLE pending_sign_ins (
    id_digest BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX pending_sign_ins_account_id ON pending_sign_ins (account_id);

-- One code per account and purpose: sending a new one replaces the last.
CREATE TABLE one_time_codes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    digest BYTEA NOT NULL,
    bound_to BYTEA NOT NULL,
    destination_enc BYTEA,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    wrong_entries BIGINT NOT NULL DEFAULT 0,
    used BIGINT NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    PRIMARY KEY (account_id, purpose)
);

CREATE TABLE password_resets (
    token_digest BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    verified_at BIGINT,
    used BIGINT NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
CREATE INDEX password_resets_account_id ON password_resets (account_id);

CREATE TABLE security_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX security_events_account_id_created_at ON security_events (account_id, created_at);
