-- Half-finished sign-ins live minutes, so the table stays small and needs no
-- index by account (SQLite's migration 4 drops it too, with its reasons).
DROP INDEX IF EXISTS pending_sign_ins_account_id;
