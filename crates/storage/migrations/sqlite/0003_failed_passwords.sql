-- Wrong passwords per typed e-mail address, in the current window (see
-- domain::throttle). Keyed by the normalised address, not the account, so that
-- unknown addresses are counted the same way.
CREATE TABLE failed_passwords (
    email TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL
);
