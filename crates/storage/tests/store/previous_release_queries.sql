-- The SQL of the storage crate at e8cead7, one statement a line; made by
-- previous_release_queries.py e8cead7 (see there). Each is prepared against
-- the current schema: an instance of that release must keep working on it.
-- accounts.rs
INSERT INTO accounts (email, password_hash, created_at, password_changed_at) VALUES ($1, $2, $3, $3) RETURNING id
-- accounts.rs
SELECT a.id, a.email, a.password_hash, a.created_at, a.password_changed_at, a.phone_enc, a.phone_confirmed_at, a.security_question, a.security_answer_hash, a.security_question_disabled, au.secret_enc AS au_secret_enc, au.last_used_step AS au_last_used_step, au.failed_step AS au_failed_step, au.failed_count AS au_failed_count, au.created_at AS au_created_at FROM accounts a LEFT JOIN authenticators au ON au.account_id = a.id WHERE a.email = $1
-- accounts.rs
SELECT a.id, a.email, a.password_hash, a.created_at, a.password_changed_at, a.phone_enc, a.phone_confirmed_at, a.security_question, a.security_answer_hash, a.security_question_disabled, au.secret_enc AS au_secret_enc, au.last_used_step AS au_last_used_step, au.failed_step AS au_failed_step, au.failed_count AS au_failed_count, au.created_at AS au_created_at, p.method AS pending_method, p.created_at AS pending_created_at FROM pending_sign_ins p JOIN accounts a ON a.id = p.account_id LEFT JOIN authenticators au ON au.account_id = a.id WHERE p.id_digest = $1
-- accounts.rs
SELECT a.id, a.email, a.password_hash, a.created_at, a.password_changed_at, a.phone_enc, a.phone_confirmed_at, a.security_question, a.security_answer_hash, a.security_question_disabled, au.secret_enc AS au_secret_enc, au.last_used_step AS au_last_used_step, au.failed_step AS au_failed_step, au.failed_count AS au_failed_count, au.created_at AS au_created_at FROM accounts a LEFT JOIN authenticators au ON au.account_id = a.id WHERE a.id = $1
-- accounts.rs
UPDATE accounts SET password_hash = $2, password_changed_at = $3 WHERE id = $1
-- accounts.rs
DELETE FROM app_connections WHERE account_id = $1
-- accounts.rs
UPDATE accounts SET security_question = $2, security_answer_hash = $3 WHERE id = $1 AND security_question_disabled = 0
-- accounts.rs
UPDATE accounts SET phone_enc = $2, phone_confirmed_at = $3, security_question = NULL, security_answer_hash = NULL, security_question_disabled = $4 WHERE id = $1
-- accounts.rs
UPDATE accounts SET phone_enc = $2, phone_confirmed_at = $3 WHERE id = $1
-- accounts.rs
UPDATE accounts SET phone_enc = NULL, phone_confirmed_at = NULL WHERE id = $1
-- accounts.rs
DELETE FROM authenticators WHERE account_id = $1
-- accounts.rs
DELETE FROM authenticator_enrolments WHERE account_id = $1
-- apps.rs
INSERT INTO app_connections (account_id, token_digest, app_id, app_version, device_name, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id
-- apps.rs
SELECT id, account_id, app_id, app_version, device_name, created_at, last_used_at FROM app_connections WHERE token_digest = $1
-- apps.rs
UPDATE app_connections SET last_used_at = $2 WHERE id = $1
-- apps.rs
SELECT id, account_id, app_id, app_version, device_name, created_at, last_used_at FROM app_connections WHERE account_id = $1 ORDER BY created_at DESC, id DESC
-- apps.rs
DELETE FROM app_connections WHERE account_id = $1 AND id = $2 RETURNING id, account_id, app_id, app_version, device_name, created_at, last_used_at
-- apps.rs
INSERT INTO app_challenges (challenge_digest, account_id, app_id, app_version, device_name, created_at) VALUES ($1, $2, $3, $4, $5, $6)
-- apps.rs
SELECT account_id, app_id, app_version, device_name, created_at FROM app_challenges WHERE challenge_digest = $1
-- apps.rs
DELETE FROM app_challenges WHERE challenge_digest = $1
-- apps.rs
INSERT INTO refusal_notices (account_id, app_id, device_name, sent_at) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, app_id, device_name) DO UPDATE SET sent_at = $4 WHERE refusal_notices.sent_at <= $5
-- authenticator.rs
UPDATE authenticators SET last_used_step = $2, failed_step = 0, failed_count = 0 WHERE account_id = $1 AND (last_used_step IS NULL OR last_used_step < $2)
-- authenticator.rs
SELECT secret_enc, last_used_step, failed_step, failed_count, created_at FROM authenticators WHERE account_id = $1
-- authenticator.rs
INSERT INTO authenticators (account_id, secret_enc, last_used_step, failed_step, failed_count, created_at) VALUES ($1, $2, NULL, 0, 0, $3) ON CONFLICT (account_id) DO UPDATE SET secret_enc = excluded.secret_enc, last_used_step = NULL, failed_step = 0, failed_count = 0, created_at = excluded.created_at
-- authenticator.rs
UPDATE authenticators SET failed_count = CASE WHEN failed_step = $2 THEN failed_count + 1 ELSE 1 END, failed_step = $2 WHERE account_id = $1
-- authenticator.rs
INSERT INTO authenticator_enrolments (account_id, session_digest, secret_enc, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO UPDATE SET session_digest = excluded.session_digest, secret_enc = excluded.secret_enc, created_at = excluded.created_at
-- authenticator.rs
SELECT secret_enc, created_at FROM authenticator_enrolments WHERE account_id = $1 AND session_digest = $2
-- codes.rs
INSERT INTO one_time_codes (account_id, purpose, digest, bound_to, destination_enc, issued_at, expires_at, wrong_entries, used) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (account_id, purpose) DO UPDATE SET digest = excluded.digest, bound_to = excluded.bound_to, destination_enc = excluded.destination_enc, issued_at = excluded.issued_at, expires_at = excluded.expires_at, wrong_entries = excluded.wrong_entries, used = excluded.used
-- codes.rs
SELECT digest, bound_to, destination_enc, issued_at, expires_at, wrong_entries, used FROM one_time_codes WHERE account_id = $1 AND purpose = $2
-- codes.rs
UPDATE one_time_codes SET wrong_entries = $6, used = $7 WHERE account_id = $1 AND purpose = $2 AND digest = $3 AND issued_at = $4 AND bound_to = $5 AND wrong_entries = $8 AND used = 0
-- codes.rs
DELETE FROM one_time_codes WHERE account_id = $1 AND purpose = $2
-- database.rs
SELECT CAST(1 AS BIGINT) AS one
-- database.rs
SELECT pg_advisory_lock($1)
-- database.rs
SELECT pg_advisory_unlock($1)
-- database.rs
INSERT INTO schema_migrations (version) VALUES ($1) ON CONFLICT (version) DO NOTHING
-- failed_passwords.rs
SELECT count, window_started_at FROM failed_passwords WHERE email = $1
-- failed_passwords.rs
INSERT INTO failed_passwords (email, count, window_started_at) VALUES ($1, 1, $2) ON CONFLICT (email) DO UPDATE SET count = CASE WHEN failed_passwords.window_started_at <= $3 THEN 1 ELSE failed_passwords.count + 1 END, window_started_at = CASE WHEN failed_passwords.window_started_at <= $3 THEN $2 ELSE failed_passwords.window_started_at END
-- failed_passwords.rs
DELETE FROM failed_passwords WHERE email = $1
-- password_resets.rs
INSERT INTO password_resets (token_digest, account_id, created_at, expires_at, used) VALUES ($1, $2, $3, $4, $5)
-- password_resets.rs
SELECT account_id, created_at, expires_at, verified_at, used, wrong_answers FROM password_resets WHERE token_digest = $1
-- password_resets.rs
UPDATE password_resets SET wrong_answers = wrong_answers + 1 WHERE token_digest = $1 RETURNING wrong_answers
-- password_resets.rs
UPDATE password_resets SET verified_at = $2 WHERE token_digest = $1
-- password_resets.rs
UPDATE password_resets SET used = $2 WHERE token_digest = $1 AND used = $3 RETURNING account_id
-- password_resets.rs
UPDATE password_resets SET used = $2 WHERE account_id = $1 AND used = $3
-- security_events.rs
INSERT INTO security_events (account_id, kind, summary, created_at) VALUES ($1, $2, $3, $4)
-- security_events.rs
SELECT kind, summary, created_at FROM security_events WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2
-- sessions.rs
DELETE FROM pending_sign_ins WHERE id_digest = $1 AND account_id = $2
-- sessions.rs
DELETE FROM sessions WHERE id_digest = $1
-- sessions.rs
INSERT INTO sessions (id_digest, account_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)
-- sessions.rs
SELECT account_id, created_at, last_seen_at, password_confirmed_at FROM sessions WHERE id_digest = $1
-- sessions.rs
UPDATE sessions SET last_seen_at = $2 WHERE id_digest = $1
-- sessions.rs
UPDATE sessions SET password_confirmed_at = $2 WHERE id_digest = $1
-- sessions.rs
DELETE FROM sessions WHERE account_id = $1 AND id_digest <> $2
-- sessions.rs
DELETE FROM sessions WHERE account_id = $1
-- sessions.rs
SELECT COUNT(*) AS n FROM sessions
-- sessions.rs
INSERT INTO pending_sign_ins (id_digest, account_id, method, created_at) VALUES ($1, $2, $3, $4)
-- sessions.rs
SELECT account_id, method, created_at FROM pending_sign_ins WHERE id_digest = $1
-- sessions.rs
UPDATE pending_sign_ins SET method = $2 WHERE id_digest = $1
-- sessions.rs
DELETE FROM pending_sign_ins WHERE id_digest = $1
-- sessions.rs
DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2
-- sessions.rs
DELETE FROM pending_sign_ins WHERE created_at <= $1
-- sessions.rs
DELETE FROM one_time_codes WHERE expires_at <= $1
-- sessions.rs
DELETE FROM password_resets WHERE expires_at <= $1 OR used = $2
-- sessions.rs
DELETE FROM authenticator_enrolments WHERE created_at <= $1
-- sessions.rs
DELETE FROM failed_passwords WHERE window_started_at <= $1
-- sessions.rs
DELETE FROM app_challenges WHERE created_at <= $1
