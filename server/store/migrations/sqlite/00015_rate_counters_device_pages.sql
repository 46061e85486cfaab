-- Rate limits counted in the database, so that they hold across server
-- instances behind a load balancer (package ratelimit, Shared): one row per
-- limit key and fixed window, counted with an upsert. The key is a hash of
-- the limit's name and what it limits (client IP, email and IP), so no
-- address or email is stored here. Rows past expires_at are deleted by the
-- server's sweep job (ratelimit.Shared.Sweep).

-- +goose Up
CREATE TABLE rate_counters (
  key          TEXT    NOT NULL,
  window_start INTEGER NOT NULL, -- Unix milliseconds
  count        INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL, -- Unix milliseconds: the end of the next window
  PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_counters_expires ON rate_counters (expires_at);
CREATE INDEX devices_license_active_page ON devices (license_id, activated_at, id) WHERE deactivated_at IS NULL;
CREATE INDEX devices_license_released_page ON devices (license_id, activated_at, id) WHERE deactivated_at IS NOT NULL;

-- +goose Down
DROP INDEX devices_license_released_page;
DROP INDEX devices_license_active_page;
DROP TABLE rate_counters;
