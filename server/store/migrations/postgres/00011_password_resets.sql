-- Password resets: a reset token is random and sent by mail once; only its
-- hash is stored. A token is single use (used_at) and expires an hour after it
-- was asked for (expires_at). Resetting revokes every session of the account.

-- +goose Up
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_account ON password_resets (account_id);

-- +goose Down
DROP TABLE password_resets;
