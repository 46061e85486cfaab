-- Organizations (issue 10): an organization has members with a role (owner,
-- admin, member) and a billing-contact flag; admins invite people by email
-- when the email's domain is approved for the organization, which they prove
-- with a DNS TXT record (or the vendor's operator approves by hand). Operator
-- tokens are the bearer secrets of the vendor's operator, who is above all
-- organizations. Every secret is stored as its hash only.

-- +goose Up
CREATE TABLE organizations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    default_locale TEXT NOT NULL DEFAULT 'en',
    created_at     BIGINT NOT NULL
);
CREATE INDEX organizations_created ON organizations (created_at, id);

CREATE TABLE memberships (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    billing         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    UNIQUE (organization_id, account_id)
);
CREATE INDEX memberships_org_created ON memberships (organization_id, created_at, id);
CREATE INDEX memberships_account ON memberships (account_id);

CREATE TABLE invitations (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email               TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    token_hash          TEXT NOT NULL UNIQUE,
    invited_by          TEXT NOT NULL DEFAULT '',
    locale              TEXT NOT NULL DEFAULT 'en',
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    accepted_at         BIGINT,
    accepted_account_id TEXT,
    revoked_at          BIGINT
);
CREATE INDEX invitations_org_created ON invitations (organization_id, created_at, id);

-- status: pending (token issued, not yet seen in DNS), verified (seen, or
-- approved by the operator). failing_since is set while a verified domain's
-- record is missing; past the grace period the domain becomes pending again.
CREATE TABLE domains (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    domain          TEXT NOT NULL,
    challenge       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'verified')),
    method          TEXT NOT NULL DEFAULT '' CHECK (method IN ('', 'dns', 'operator')),
    created_at      BIGINT NOT NULL,
    verified_at     BIGINT,
    checked_at      BIGINT,
    failing_since   BIGINT,
    UNIQUE (organization_id, domain)
);
CREATE INDEX domains_org_created ON domains (organization_id, created_at, id);
CREATE INDEX domains_checked ON domains (status, checked_at);

CREATE TABLE operator_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX operator_tokens_created ON operator_tokens (created_at, id);

-- +goose Down
DROP TABLE operator_tokens;
DROP TABLE domains;
DROP TABLE invitations;
DROP TABLE memberships;
DROP TABLE organizations;
