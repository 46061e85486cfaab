-- Rate limits counted in the database, so that they hold across server
-- instances behind a load balancer (package ratelimit, Shared): one token
-- bucket per limit key, taken from with one guarded upsert. The key is a hash
-- of the limit's name and what it limits (client IP, email and IP), so no
-- address or email is stored here. A row whose bucket has surely refilled
-- (past expires_at) means what no row means, and is deleted by the
-- server's sweep job (ratelimit.Sweep).

-- +goose Up
CREATE TABLE rate_counters (
  key        TEXT PRIMARY KEY,
  tokens     REAL NOT NULL, -- left in the bucket at updated_at
  updated_at INTEGER NOT NULL, -- Unix milliseconds
  expires_at INTEGER NOT NULL  -- Unix milliseconds: the bucket is full again by then
);
CREATE INDEX rate_counters_expires ON rate_counters (expires_at);
CREATE INDEX devices_license_active_page ON devices (license_id, activated_at, id) WHERE deactivated_at IS NULL;
CREATE INDEX devices_license_released_page ON devices (license_id, activated_at, id) WHERE deactivated_at IS NOT NULL;

ALTER TABLE licenses ADD COLUMN device_count INTEGER NOT NULL DEFAULT 0;
UPDATE licenses SET device_count = (SELECT COUNT(*) FROM devices WHERE devices.license_id = licenses.id);
-- +goose StatementBegin
CREATE TRIGGER devices_count_insert AFTER INSERT ON devices BEGIN
  UPDATE licenses SET device_count = device_count + 1 WHERE id = NEW.license_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER devices_count_delete AFTER DELETE ON devices BEGIN
  UPDATE licenses SET device_count = device_count - 1 WHERE id = OLD.license_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER devices_count_move AFTER UPDATE OF license_id ON devices WHEN OLD.license_id <> NEW.license_id BEGIN
  UPDATE licenses SET device_count = device_count - 1 WHERE id = OLD.license_id;
  UPDATE licenses SET device_count = device_count + 1 WHERE id = NEW.license_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER devices_count_move;
DROP TRIGGER devices_count_delete;
DROP TRIGGER devices_count_insert;
ALTER TABLE licenses DROP COLUMN device_count;
DROP INDEX devices_license_released_page;
DROP INDEX devices_license_active_page;
DROP TABLE rate_counters;
