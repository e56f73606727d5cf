-- Server keys that `twostep rotate-key` retired once nothing was sealed under
-- them any more: an instance configured with one as its current key refuses to
-- start, and the ring drops one named among the previous keys. Only the key's
-- id (an HMAC of it) is stored, never the key.
CREATE TABLE retired_server_keys (
    key_id TEXT PRIMARY KEY,
    retired_at BIGINT NOT NULL
);
