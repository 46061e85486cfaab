-- Operators who sign in to the web console (issue 12): a person whose
-- account is listed here sees the vendor's pages (every organization, the
-- plans catalog, recording the payment of an invoice). Granted and revoked
-- with `entitle-server operator grant|revoke EMAIL`; deleting the account
-- takes the grant with it.

-- +goose Up
CREATE TABLE operator_accounts (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE operator_accounts;
