-- The organization administrator's view of its computers (issue 11). An
-- organization's devices are those activated on a license whose
-- organization_id is the organization; devices.organization_id copies it at
-- activation (a license never changes organization), so the organization's
-- device list walks one index in the order it shows, whatever the page, and
-- never sorts more than a page for the indexed orders (last seen,
-- activated). There is deliberately no hostname index: every check-in
-- writes the hostname column, and maintaining one cost a third of SQLite's
-- check-in rate; the hostname and user sorts sort the organization's
-- computers. devices.name is the display name an administrator sets ('':
-- none, the hostname is shown).
--
-- A bulk command request (POST /v1/orgs/{org}/commands) is stored with its
-- idempotency key and its per-device results, in the transaction that queues
-- the commands, so a retry with the same key answers the same results
-- without queuing again.

-- +goose Up
ALTER TABLE devices ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN organization_id TEXT NOT NULL DEFAULT '';
UPDATE devices SET organization_id = COALESCE((SELECT l.organization_id FROM licenses l WHERE l.id = devices.license_id), '');
CREATE INDEX devices_org_last_seen ON devices (organization_id, last_seen_at, id);
CREATE INDEX devices_org_activated ON devices (organization_id, activated_at, id);

CREATE TABLE command_bulk_requests (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    results         TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX command_bulk_requests_key ON command_bulk_requests (organization_id, idempotency_key);

-- +goose Down
DROP TABLE command_bulk_requests;
DROP INDEX devices_org_activated;
DROP INDEX devices_org_last_seen;
ALTER TABLE devices DROP COLUMN organization_id;
ALTER TABLE devices DROP COLUMN name;
