-- Workspaces: a named group of computers holding exactly one license, with
-- the management mode its computers obey (written through to the license's
-- management_mode, which every lease carries) and a seat-reclaim policy.
-- Owned by an account (personal) or an organization; names are unique per
-- owner, compared case-insensitively (name_key). Enrollment tokens let
-- installers activate computers into a workspace without a person.

-- +goose Up
CREATE TABLE workspaces (
    id                 TEXT PRIMARY KEY,
    owner_key          TEXT NOT NULL, -- 'account:<id>' or 'org:<id>'
    organization_id    TEXT NOT NULL DEFAULT '',
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL,
    license_id         TEXT NOT NULL UNIQUE REFERENCES licenses (id),
    management_mode    TEXT NOT NULL CHECK (management_mode IN ('local_remote', 'local', 'remote')),
    previous_mode      TEXT NOT NULL DEFAULT '',
    reclaim_after_days INTEGER NOT NULL DEFAULT 0 CHECK (reclaim_after_days >= 0 AND reclaim_after_days <= 3650),
    created_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX workspaces_name ON workspaces (owner_key, name_key);
CREATE INDEX workspaces_owner ON workspaces (owner_key, created_at, id);

CREATE TABLE enrollment_tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    label        TEXT NOT NULL DEFAULT '',
    max_uses     INTEGER CHECK (max_uses IS NULL OR max_uses > 0),
    uses         INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    expires_at   BIGINT,
    revoked_at   BIGINT,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX enrollment_tokens_workspace ON enrollment_tokens (workspace_id, created_at, id);
CREATE INDEX devices_last_seen ON devices (license_id, last_seen_at) WHERE deactivated_at IS NULL;

-- +goose Down
DROP INDEX devices_last_seen;
DROP TABLE enrollment_tokens;
DROP TABLE workspaces;
