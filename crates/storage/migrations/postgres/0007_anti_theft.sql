-- Anti-Theft (issue 14): the platform a connected application runs on, which
-- with its version makes it a device, and the commands sent to devices. Only
-- expands the schema. Kept in step with sqlite/0007.

ALTER TABLE app_connections ADD COLUMN platform TEXT;
ALTER TABLE app_challenges ADD COLUMN platform TEXT;

-- A command to a device and the device's answer. A location is kept in
-- millionths of a degree and whole metres.
CREATE TABLE anti_theft_commands (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    connection_id BIGINT NOT NULL REFERENCES app_connections (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    message TEXT,
    issued_at BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting',
    received_at BIGINT,
    answered_at BIGINT,
    reason TEXT,
    latitude_micro BIGINT,
    longitude_micro BIGINT,
    accuracy_m BIGINT
);
CREATE INDEX anti_theft_commands_account ON anti_theft_commands (account_id, issued_at);
-- A device is not sent a second command of a kind while one waits for it.
CREATE UNIQUE INDEX anti_theft_commands_one_waiting
    ON anti_theft_commands (connection_id, kind) WHERE state = 'waiting';
