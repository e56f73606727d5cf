-- Which server key made each recovery code's digest, so that a code made before
-- a key change is checked under its own key and `twostep rotate-key` keeps a key
-- that unused codes still need. NULL: made before this column, by the key that
-- was current then; an instance running on one key alone stamps them with it.
ALTER TABLE recovery_codes ADD COLUMN key_id TEXT;
