-- The journal: one row per change and per sign-in, written in the
-- transaction of the change (package journal). Rows are hash-chained per
-- organization: seq counts 1, 2, 3... within organization_id ('' is the
-- chain of personal accounts and server-wide changes), prev_hash is the hash
-- of the row before (empty for seq 1) and hash is SHA-256 over a
-- length-prefixed encoding of every column but id (journal.Hash).
-- journal_heads holds each chain's last seq and hash: Record takes the next
-- seq with one upsert on it, which on PostgreSQL locks the head row until
-- commit, so concurrent writers of one organization queue there and the
-- chain has neither gaps nor forks; it also lets verify see deleted tail
-- rows. The table keeps its name audit_events (no data shipped before it).

-- +goose Up
DROP TABLE audit_events;
CREATE TABLE audit_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    action          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    ip              TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    detail          TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_events_chain ON audit_events (organization_id, seq);
CREATE INDEX audit_events_org_at ON audit_events (organization_id, at, id);
CREATE INDEX audit_events_account_at ON audit_events (account_id, at, id);
CREATE INDEX audit_events_at ON audit_events (at, id);

CREATE TABLE journal_heads (
    organization_id TEXT PRIMARY KEY,
    seq             BIGINT NOT NULL,
    hash            TEXT NOT NULL
);

-- +goose Down
DROP TABLE journal_heads;
DROP TABLE audit_events;
CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
