-- The first schema. Kept column for column in step with postgres/0001_initial.sql,
-- because both backends run the same queries: booleans are INTEGER 0/1 and times
-- are seconds since the Unix epoch, the types the `Any` driver carries unchanged.

CREATE TABLE accounts (
    -- AUTOINCREMENT so that an id is never handed out twice, even after a deletion.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL,
    phone_enc BLOB,
    phone_confirmed_at INTEGER,
    security_question TEXT,
    security_answer_hash TEXT,
    security_question_disabled INTEGER NOT NULL DEFAULT 0 CHECK (security_question_disabled IN (0, 1)),
    CONSTRAINT accounts_email_key UNIQUE (email)
);

CREATE TABLE authenticators (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    secret_enc BLOB NOT NULL,
    last_used_step INTEGER,
    failed_step INTEGER NOT NULL DEFAULT 0,
    failed_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- A secret shown to a person but not yet confirmed with a code from their app.
CREATE TABLE authenticator_enrolments (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    session_digest BLOB NOT NULL,
    secret_enc BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_digest BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    password_confirmed_at INTEGER
);
CREATE INDEX sessions_account_id ON sessions (account_id);

CREATE TABLE pending_sign_ins (
    id_digest BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX pending_sign_ins_account_id ON pending_sign_ins (account_id);

-- One code per account and purpose: sending a new one replaces the last.
CREATE TABLE one_time_codes (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    digest BLOB NOT NULL,
    bound_to BLOB NOT NULL,
    destination_enc BLOB,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    wrong_entries INTEGER NOT NULL DEFAULT 0,
    used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    PRIMARY KEY (account_id, purpose)
);

CREATE TABLE password_resets (
    token_digest BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    verified_at INTEGER,
    used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
CREATE INDEX password_resets_account_id ON password_resets (account_id);

CREATE TABLE security_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX security_events_account_id_created_at ON security_events (account_id, created_at);
