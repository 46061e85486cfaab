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
  tokens     DOUBLE PRECISION NOT NULL, -- left in the bucket at updated_at
  updated_at BIGINT NOT NULL, -- Unix milliseconds
  expires_at BIGINT NOT NULL  -- Unix milliseconds: the bucket is full again by then
);
CREATE INDEX rate_counters_expires ON rate_counters (expires_at);
CREATE INDEX devices_license_active_page ON devices (license_id, activated_at, id) WHERE deactivated_at IS NULL;
CREATE INDEX devices_license_released_page ON devices (license_id, activated_at, id) WHERE deactivated_at IS NOT NULL;

ALTER TABLE licenses ADD COLUMN device_count BIGINT NOT NULL DEFAULT 0;
UPDATE licenses SET device_count = (SELECT COUNT(*) FROM devices WHERE devices.license_id = licenses.id);
-- Inserts and deletes are counted per statement from their transition
-- tables (a statement adding a million rows updates each license once, not a
-- million times); a move between licenses, which names license_id, per row.
-- +goose StatementBegin
CREATE FUNCTION devices_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE licenses l SET device_count = l.device_count + n.c
    FROM (SELECT license_id, COUNT(*) AS c FROM added GROUP BY license_id) n WHERE l.id = n.license_id;
  RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION devices_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE licenses l SET device_count = l.device_count - n.c
    FROM (SELECT license_id, COUNT(*) AS c FROM removed GROUP BY license_id) n WHERE l.id = n.license_id;
  RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION devices_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE licenses SET device_count = device_count - 1 WHERE id = OLD.license_id;
  UPDATE licenses SET device_count = device_count + 1 WHERE id = NEW.license_id;
  RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER devices_count_insert AFTER INSERT ON devices REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION devices_count_added();
CREATE TRIGGER devices_count_delete AFTER DELETE ON devices REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION devices_count_removed();
CREATE TRIGGER devices_count_move AFTER UPDATE OF license_id ON devices FOR EACH ROW
  WHEN (OLD.license_id IS DISTINCT FROM NEW.license_id) EXECUTE FUNCTION devices_count_moved();

-- +goose Down
DROP TRIGGER devices_count_move ON devices;
DROP TRIGGER devices_count_delete ON devices;
DROP TRIGGER devices_count_insert ON devices;
DROP FUNCTION devices_count_moved();
DROP FUNCTION devices_count_removed();
DROP FUNCTION devices_count_added();
ALTER TABLE licenses DROP COLUMN device_count;
DROP INDEX devices_license_released_page;
DROP INDEX devices_license_active_page;
DROP TABLE rate_counters;
