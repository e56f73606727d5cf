-- Budgets (see domain::budgets): uses of a rule per subject in the current
-- window, taken by one insert-or-increment before anything is sent. The
-- subject is a keyed digest (an address, a number, an IP) or a plain id (an
-- account, a calling code), never a number or an address in the clear.
CREATE TABLE rate_budgets (
    rule TEXT NOT NULL,
    subject BLOB NOT NULL,
    count BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL,
    PRIMARY KEY (rule, subject)
);

-- Every SMS code sent, by calling code, and whether it was entered: the
-- figures of the conversion guard.
CREATE TABLE sms_sent (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    calling_code TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    entered BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sms_sent_by_calling_code ON sms_sent (calling_code, id);
CREATE INDEX sms_sent_by_code ON sms_sent (account_id, purpose, issued_at);

-- Calling codes the conversion guard holds, until when, and the figures that
-- caused it.
CREATE TABLE sms_holds (
    calling_code TEXT PRIMARY KEY,
    held_until BIGINT NOT NULL,
    sent BIGINT NOT NULL,
    entered BIGINT NOT NULL
);
