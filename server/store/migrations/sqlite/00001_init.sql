-- Times are BIGINT Unix milliseconds on both dialects: SQLite has no
-- timestamp type, and one representation keeps the queries portable.

-- +goose Up
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_email_ci ON accounts (lower(email));

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE licenses (
    id               TEXT PRIMARY KEY,
    license_key      TEXT NOT NULL UNIQUE,
    owner_account_id TEXT NOT NULL REFERENCES accounts (id),
    plan             TEXT NOT NULL,
    features         TEXT NOT NULL,
    max_profiles     INTEGER NOT NULL CHECK (max_profiles >= 0),
    seats            INTEGER NOT NULL CHECK (seats >= 1),
    seats_used       INTEGER NOT NULL DEFAULT 0 CHECK (seats_used >= 0 AND seats_used <= seats),
    term_start       BIGINT NOT NULL,
    term_end         BIGINT,
    subscription     INTEGER NOT NULL DEFAULT 0,
    suspended        INTEGER NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);
CREATE INDEX licenses_owner ON licenses (owner_account_id, created_at);

CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    license_id      TEXT NOT NULL REFERENCES licenses (id),
    account_id      TEXT REFERENCES accounts (id),
    fingerprint     TEXT NOT NULL,
    product         TEXT NOT NULL,
    hostname        TEXT NOT NULL DEFAULT '',
    os              TEXT NOT NULL DEFAULT '',
    arch            TEXT NOT NULL DEFAULT '',
    agent_version   TEXT NOT NULL DEFAULT '',
    credential_hash TEXT NOT NULL,
    activated_at    BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    deactivated_at  BIGINT,
    profiles        TEXT
);
-- One seat per computer and license: only active devices count.
CREATE UNIQUE INDEX devices_active_fingerprint ON devices (license_id, fingerprint) WHERE deactivated_at IS NULL;
CREATE UNIQUE INDEX devices_credential ON devices (credential_hash);
CREATE INDEX devices_license ON devices (license_id);

CREATE TABLE device_authorizations (
    id               TEXT PRIMARY KEY,
    device_code_hash TEXT NOT NULL UNIQUE,
    user_code        TEXT NOT NULL UNIQUE,
    fingerprint      TEXT NOT NULL,
    product          TEXT NOT NULL,
    facts            TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    last_polled_at   BIGINT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'consumed')),
    account_id       TEXT REFERENCES accounts (id),
    result_device_id TEXT REFERENCES devices (id)
);
CREATE INDEX device_authorizations_expires ON device_authorizations (expires_at);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    public_key  TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    active      INTEGER NOT NULL
);

CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);

-- Small server-wide values, such as the demo account's password.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE device_authorizations;
DROP TABLE devices;
DROP TABLE licenses;
DROP TABLE sessions;
DROP TABLE accounts;
