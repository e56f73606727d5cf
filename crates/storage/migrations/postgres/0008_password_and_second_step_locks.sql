-- Wrong passwords per typed address and client IP, in the current window (see
-- domain::throttle): one IP waits, the owner on another does not. Replaces
-- failed_passwords, which this release no longer writes (dropped one release
-- later, once no older instance counts there).
CREATE TABLE failed_passwords_by_client (
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    count BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL,
    PRIMARY KEY (email, client)
);

-- Wrong passwords in a row per typed address from any client; at the limit the
-- password step stays locked until a password reset deletes the row. The owner
-- is e-mailed once, by whoever sets owner_notified_at.
CREATE TABLE password_step_locks (
    email TEXT PRIMARY KEY,
    consecutive BIGINT NOT NULL,
    owner_notified_at BIGINT
);

-- Wrong second-step codes in a row per account, across methods and entrances
-- (see domain::lockout); locked_until is set by the attempt that took the last place.
CREATE TABLE second_step_failures (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    consecutive BIGINT NOT NULL,
    locked_until BIGINT
);

-- When the owner was last told that someone has their password.
CREATE TABLE password_alerts (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    sent_at BIGINT NOT NULL
);
