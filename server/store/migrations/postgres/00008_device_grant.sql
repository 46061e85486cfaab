-- The device grant's slow_down raises one sign-in's polling interval by 5 s
-- (RFC 8628 section 3.5), so the interval is stored per sign-in; 0 means the
-- server's configured interval. Expired sign-ins are deleted by the server's
-- sweep job (deviceauth.Service.Sweep).

-- +goose Up
ALTER TABLE device_authorizations ADD COLUMN poll_interval_ms BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE device_authorizations DROP COLUMN poll_interval_ms;
