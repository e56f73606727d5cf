-- Expand only: an instance of the previous release keeps working, its INSERT
-- into sessions leaving the new columns NULL ("Unknown" on the Security tab).
-- A session remembers where it was started, for the owner's list of where
-- they are signed in: the browser's User-Agent (cut to 512 characters) and
-- the client's address, both as sent, parsed only for display.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip_address TEXT;

-- Set by `twostep user disable`: such an account cannot sign in or connect
-- applications. NULL: the account is in use.
ALTER TABLE accounts ADD COLUMN disabled_at INTEGER;
